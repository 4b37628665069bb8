//! Where the SMTP/LMTP listener delivers: the desk. A message is acknowledged (250) only
//! after `receive_mail` returned, which flushed it to disk.

use super::{Desk, DeskError, Incoming};
use sealdesk_mail::smtp::{DeliveryOutcome, Envelope, MailSink};
use sealdesk_store::StoreError;
use std::sync::Arc;

pub struct DeskSink {
    pub desk: Arc<Desk>,
}

impl MailSink for DeskSink {
    fn accepts_recipient(&self, address: &str) -> bool {
        self.desk.config().mail.accepts(address)
    }

    fn deliver(&self, envelope: Envelope) -> DeliveryOutcome {
        let source = format!("smtp {}", envelope.peer);
        let incoming = Incoming {
            raw: &envelope.data,
            envelope_from: Some(&envelope.mail_from),
            source: &source,
        };
        match self.desk.receive_mail_to(incoming, &envelope.rcpt_to) {
            Ok(filed) => {
                tracing::info!(peer = %envelope.peer, "mail {}", sealdesk_model::sanitize::line(&format!("{filed:?}")));
                DeliveryOutcome::Stored
            }
            // The store logged it once when it began failing; not again per mail.
            Err(DeskError::Store(failure))
                if matches!(
                    failure.downcast_ref::<StoreError>(),
                    Some(StoreError::Unavailable { .. })
                ) =>
            {
                DeliveryOutcome::TempFail(
                    "cannot store the message right now; try again later".into(),
                )
            }
            Err(e) => {
                tracing::error!(peer = %envelope.peer, "mail could not be stored: {e}");
                DeliveryOutcome::TempFail(
                    "cannot store the message right now; try again later".into(),
                )
            }
        }
    }
}
