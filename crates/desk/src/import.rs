//! Imports of old mail (`sealdesk import mbox|maildir|eml`): each message is filed as
//! live mail is (the same parse, threading rules and quarantine for what cannot be
//! filed), but with its own Date: as its time, telling nobody (a quiet unit: no
//! acknowledgement, notification or webhook), and marked in the `imports` tree in the
//! same unit, so a second run skips it. Units do not wait for their flush: the importer
//! makes each batch durable ([`Desk::import_batch`]) before it reports it as stored.

use super::inbound::{message_time, quarantine_mail, DateFrom, Filing, Incoming};
use super::write::{Hold, Unit};
use super::{Actor, Desk, DeskError, Filed, Result};
use sealdesk_model::{Status, Ticket, TicketNo, Timestamp};

const SOURCE: &str = "import";

/// One message of a mailbox being imported.
pub struct ImportMessage<'a> {
    pub raw: &'a [u8],
    /// The mailbox's own date for it (an mbox `From ` line, a Maildir file name): used
    /// when its Date: header is missing or garbled.
    pub mailbox_date: Option<Timestamp>,
}

/// What became of one imported message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imported {
    /// A new ticket.
    Filed(TicketNo),
    /// Into an existing ticket (a reply, a report on one).
    Threaded(TicketNo),
    /// Imported before, or the same mail was filed live already.
    Skipped,
    /// Quarantined, with the reason.
    Quarantined(String),
}

/// One message's outcome and where its time came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOutcome {
    pub imported: Imported,
    pub date: DateFrom,
}

/// A message parsed and keyed, ready to file (the part of an import that needs no
/// lock, done for a batch on several threads).
struct Prepared<'a> {
    incoming: Incoming<'a>,
    checked: std::result::Result<sealdesk_mail::parse::ParsedMail, super::inbound::Unfileable>,
    key: [u8; 32],
    at: Timestamp,
    date: DateFrom,
}

impl Desk {
    /// Imports a batch of messages in their order (admin only) and makes it durable.
    /// `status` is what the tickets it creates become (`None`: new, as live mail).
    /// Parsing runs on every core; filing runs one message after another, so a reply
    /// finds the thread an earlier message of the mailbox started.
    pub fn import_batch(
        &self,
        actor: &Actor,
        messages: &[ImportMessage<'_>],
        status: Option<Status>,
    ) -> Result<Vec<ImportOutcome>> {
        self.require_admin(actor, "import mail")?;
        self.ensure_writable()?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let chunk = messages.len().div_ceil(threads).max(1);
        let prepared: Vec<Prepared<'_>> = std::thread::scope(|scope| {
            let parts: Vec<_> = messages
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || part.iter().map(|m| self.prepare(m)).collect::<Vec<_>>())
                })
                .collect();
            parts
                .into_iter()
                .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        // New senders' keys in one keyring fsync, not one each.
        let senders: Vec<&str> = prepared
            .iter()
            .filter_map(|p| p.checked.as_ref().ok().map(|m| m.from.as_str()))
            .collect();
        self.store.premake_customer_keys(&senders)?;
        let mut outcomes = Vec::with_capacity(prepared.len());
        let filed = prepared.iter().try_for_each(|p| {
            outcomes.push(self.file_prepared(actor, p, status)?);
            Ok::<(), DeskError>(())
        });
        self.store.forget_premade_keys();
        if filed.is_err() {
            // What was filed before the error is searchable all the same.
            self.refresh_deferred_bodies();
        }
        filed?;
        self.make_durable()?;
        Ok(outcomes)
    }

    fn prepare<'a>(&self, message: &ImportMessage<'a>) -> Prepared<'a> {
        let incoming = Incoming {
            raw: message.raw,
            envelope_from: None,
            source: SOURCE,
        };
        // Live mail's size, loop and rate rules are for live traffic: an archive holds
        // the desk's own mail and hundreds of messages from one sender.
        let checked = self.check_mail(&incoming, false);
        let (mail_date, message_id) = match &checked {
            Ok(mail) => (mail.date, mail.message_id.as_deref()),
            Err(_) => (None, None),
        };
        let (at, date) = message_time(mail_date, message.mailbox_date);
        let key = self.store.import_key(message_id, message.raw);
        Prepared {
            incoming,
            checked,
            key,
            at,
            date,
        }
    }

    fn file_prepared(
        &self,
        actor: &Actor,
        p: &Prepared<'_>,
        status: Option<Status>,
    ) -> Result<ImportOutcome> {
        let (key, incoming, date) = (p.key, &p.incoming, p.date);
        if self.store.imported(&key)?.is_some() {
            return Ok(ImportOutcome {
                imported: Imported::Skipped,
                date,
            });
        }
        let filing = Filing {
            at: Some(p.at),
            status,
            import: true,
            ..Filing::default()
        };
        let mut holds = vec![Hold::Address(key)];
        let filed = match &p.checked {
            Ok(mail) => {
                holds.extend(self.holds_for(mail)?);
                self.write(actor, &holds, |u| {
                    if !begin_import(u, &key)? {
                        return Ok(None);
                    }
                    let filed = self.file_checked(u, incoming, mail, &[], &filing)?;
                    u.tx.mark_imported(&key, filed_ticket(&filed))?;
                    Ok(Some(filed))
                })?
            }
            Err(reason) => {
                let sender = self.quarantine_owner(incoming);
                holds.extend(
                    sender
                        .iter()
                        .map(|(address, _)| Hold::Address(self.store.email_key(address))),
                );
                self.write(actor, &holds, |u| {
                    if !begin_import(u, &key)? {
                        return Ok(None);
                    }
                    let owner = match &sender {
                        Some((address, name)) => {
                            Some(super::tickets::find_or_create_customer(u, address, name)?.id)
                        }
                        None => None,
                    };
                    let filed = quarantine_mail(u, incoming, reason.to_string(), owner.as_ref())?;
                    u.tx.mark_imported(&key, None)?;
                    Ok(Some(filed))
                })?
            }
        };
        let imported = match filed {
            None => Imported::Skipped,
            Some(filed) => imported_as(filed),
        };
        Ok(ImportOutcome { imported, date })
    }

    /// Audits a finished (or interrupted) import run with its counts.
    pub fn note_import(&self, actor: &Actor, counts: Vec<String>) -> Result<()> {
        self.audit_only(actor, "import.run", counts, None)
    }
}

fn imported_as(filed: Filed) -> Imported {
    match filed {
        Filed::NewTicket(n) => Imported::Filed(n),
        Filed::Appended(n) | Filed::BounceNoted(n) => Imported::Threaded(n),
        Filed::Duplicate(_) => Imported::Skipped,
        Filed::Quarantined(_, reason) => {
            Imported::Quarantined(sealdesk_model::sanitize::line(&reason).into_owned())
        }
    }
}

/// Makes the unit quiet and deferred; false when another import filed the message
/// meanwhile (its key is held now, so the answer stands).
fn begin_import(u: &mut Unit<'_>, key: &[u8; 32]) -> Result<bool> {
    u.set_quiet();
    u.defer_durability();
    Ok(u.tx.store().imported(key)?.is_none())
}

fn filed_ticket(filed: &Filed) -> Option<TicketNo> {
    match filed {
        Filed::NewTicket(n) | Filed::Appended(n) | Filed::Duplicate(n) | Filed::BounceNoted(n) => {
            Some(*n)
        }
        Filed::Quarantined(..) => None,
    }
}

/// An imported ticket's SLA due time that passed before the import is marked as told:
/// old mail makes no breach notices.
pub(super) fn mark_old_due_told(u: &mut Unit<'_>, ticket: &Ticket) -> Result<()> {
    let Some(due) = ticket.due else {
        return Ok(());
    };
    if due.0 <= Timestamp::now().0 {
        let mark = sealdesk_store::DueMark {
            due,
            soon: true,
            breached: true,
        };
        u.tx.put_due_mark(ticket.number, &mark)?;
    }
    Ok(())
}
