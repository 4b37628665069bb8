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
        self.deliver_from(
            &source,
            &envelope.data,
            Some(&envelope.mail_from),
            &envelope.rcpt_to,
        )
    }
}

impl DeskSink {
    /// Files one message that arrived by SMTP/LMTP or IMAP (`source` says which).
    pub(crate) fn deliver_from(
        &self,
        source: &str,
        raw: &[u8],
        envelope_from: Option<&str>,
        rcpt_to: &[String],
    ) -> DeliveryOutcome {
        let incoming = Incoming {
            raw,
            envelope_from,
            source,
        };
        match self.desk.receive_mail_to(incoming, rcpt_to) {
            Ok(filed) => {
                tracing::info!(source = %source, "mail {}", sealdesk_model::sanitize::line(&format!("{filed:?}")));
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
                tracing::error!(source = %source, "mail could not be stored: {e}");
                DeliveryOutcome::TempFail(
                    "cannot store the message right now; try again later".into(),
                )
            }
        }
    }
}
