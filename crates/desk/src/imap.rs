//! Part 11: the desk's side of IMAP fetching. `sealdesk_mail::imap::run` hands each
//! fetched message to [`DeskSink`] (the SMTP listener's sink) and flags it on the server
//! only after `deliver` said Stored; the UID progress per account and folder lives in
//! the store's `imap_state` tree.

use super::{Actor, Desk, DeskSink, Result};
use sealdesk_mail::imap::{ImapSink, Progress};
use sealdesk_mail::smtp::DeliveryOutcome;
use sealdesk_store::ImapProgress;

impl Desk {
    /// How far `account`'s `folder` is filed.
    pub fn imap_progress(&self, account: &str, folder: &str) -> Result<Option<Progress>> {
        Ok(self
            .store
            .imap_progress(account, folder)?
            .map(|p| Progress {
                uid_validity: p.uid_validity,
                last_uid: p.last_uid,
            }))
    }

    /// Records that everything up to `progress.last_uid` is stored. Not audited: it is
    /// the fetcher's bookmark, not a change anyone made.
    pub fn record_imap_progress(
        &self,
        account: &str,
        folder: &str,
        progress: Progress,
    ) -> Result<()> {
        let actor = Actor::system(&format!("imap {account}"));
        self.write(&actor, &[], |u| {
            u.tx.put_imap_progress(
                account,
                folder,
                &ImapProgress {
                    uid_validity: progress.uid_validity,
                    last_uid: progress.last_uid,
                },
            )?;
            Ok(())
        })
    }
}

impl ImapSink for DeskSink {
    fn deliver(&self, account: &str, raw: &[u8]) -> DeliveryOutcome {
        let source = format!("imap {account}");
        self.deliver_from(&source, raw, None, &[])
    }

    fn progress(&self, account: &str, folder: &str) -> anyhow::Result<Option<Progress>> {
        Ok(self.desk.imap_progress(account, folder)?)
    }

    fn set_progress(&self, account: &str, folder: &str, progress: Progress) -> anyhow::Result<()> {
        Ok(self.desk.record_imap_progress(account, folder, progress)?)
    }
}
