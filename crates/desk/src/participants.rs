//! Who takes part in a ticket besides its requester, which support address it was
//! written to, and who a reply goes to (see docs/decisions.md, "Part 9: participants").

use super::config::MailConfig;
use super::write::{Hold, Unit};
use super::{Desk, DeskError, Result};
use sealdesk_mail::parse::{self, Mailbox, ParsedMail};
use sealdesk_model::{
    is_plausible_email, normalize_email, sanitize, Author, Customer, Message, MessageKind, Parties,
    Ticket,
};

/// Most participants one ticket collects from mail (a mail Cc'd to hundreds does not
/// create hundreds of customer records); an agent's explicit Cc is not limited by it.
pub(crate) const PARTICIPANTS_MAX: usize = 20;

/// The address in a mailbox as written (`Ann <ann@example.com>` or the bare address),
/// normalised.
pub(crate) use sealdesk_model::mailbox_address as bare_address;

/// The To and Cc of an arriving mail as written, for its message's `parties`.
pub(crate) fn parties_of(mail: &ParsedMail) -> Parties {
    Parties {
        to: mail.to_mailboxes.iter().map(Mailbox::written).collect(),
        cc: mail.cc.iter().map(Mailbox::written).collect(),
        bcc: Vec::new(),
    }
}

/// The support address (one of `mail.addresses`) a new ticket belongs to: the first
/// found in the envelope recipients, else in To, else in Cc.
pub(crate) fn ticket_address(
    config: &MailConfig,
    mail: &ParsedMail,
    envelope_to: &[String],
) -> Option<String> {
    envelope_to
        .iter()
        .map(String::as_str)
        .chain(mail.to_mailboxes.iter().map(|m| m.address.as_str()))
        .chain(mail.cc.iter().map(|m| m.address.as_str()))
        .find_map(|a| config.support_address(a).map(|(a, _)| a))
}

/// Mail from one of `mail.addresses`, or marked with one in `X-Loop` (the outbox marks
/// replies from an address with it): the desk's own mail coming back.
pub(crate) fn is_our_own_mail(config: &MailConfig, mail: &ParsedMail) -> bool {
    config.support_address(&mail.from).is_some()
        || mail
            .noise
            .x_loop
            .iter()
            .any(|l| config.support_address(l).is_some())
}

/// Everyone who saw a message: its author and its To/Cc (inbound), or its To/Cc/Bcc
/// (a reply the desk sent). Normalised addresses.
pub(crate) fn saw(message: &Message) -> Vec<String> {
    let mut who: Vec<String> = message.parties.all().map(|p| bare_address(p)).collect();
    if let Author::Customer { address, .. } = &message.author {
        who.push(normalize_email(address));
    }
    who
}

/// An agent's recipient line entry, checked: a plausible address, kept as
/// `Name <address>` when the name is plain, else the bare address.
fn checked_mailbox(line: &str, written: &str) -> Result<String> {
    let address = bare_address(written);
    if !is_plausible_email(&address) {
        return Err(DeskError::Invalid(format!(
            "{:?} in {line} is not an email address: correct it or take it off",
            sanitize::line(written)
        )));
    }
    let name = match written.rfind('<') {
        Some(at) => written[..at].trim().trim_matches('"').trim(),
        None => "",
    };
    let plain = !name.is_empty()
        && name.chars().all(|c| {
            c.is_alphanumeric() || c == ' ' || c == '.' || c == '-' || c == '\'' || c == '_'
        });
    Ok(if plain {
        format!("{name} <{address}>")
    } else {
        address
    })
}

impl Desk {
    /// A new ticket written to one of `mail.addresses` belongs to it and starts with
    /// its tags and assignee (an assignee who is not an agent is left out).
    pub(crate) fn start_on_address(
        &self,
        ticket: &mut Ticket,
        address: Option<&str>,
    ) -> Result<()> {
        let config = self.config().mail;
        let Some((address, entry)) = address.and_then(|a| config.support_address(a)) else {
            return Ok(());
        };
        ticket.address = Some(address);
        for tag in &entry.tags {
            let tag = sanitize::line(tag).trim().to_lowercase();
            if !tag.is_empty() && !ticket.tags.contains(&tag) {
                ticket.tags.push(tag);
            }
        }
        if let Some(agent) = &entry.assignee {
            if self.store.agent_by_name(agent)?.is_some() {
                ticket.assignee = Some(agent.clone());
            }
        }
        Ok(())
    }

    /// The To/Cc addresses of `mail` that may become participants: not the desk's own,
    /// not the sender, each once, at most [`PARTICIPANTS_MAX`].
    fn candidates<'m>(&self, mail: &'m ParsedMail) -> Vec<&'m Mailbox> {
        let config = self.config().mail;
        let mut out: Vec<&Mailbox> = Vec::new();
        // A desk that knows none of its own addresses cannot tell itself from a
        // colleague in To: nobody is taken from the headers.
        if !config.knows_own_address() {
            return out;
        }
        for m in mail.to_mailboxes.iter().chain(&mail.cc) {
            if m.address != mail.from
                && !config.is_support_address(&m.address)
                && !out.iter().any(|o| o.address == m.address)
                && out.len() < PARTICIPANTS_MAX
            {
                out.push(m);
            }
        }
        out
    }

    /// The addresses filing `mail` will hold besides its sender.
    pub(crate) fn participant_holds(&self, mail: &ParsedMail) -> Vec<Hold> {
        self.candidates(mail)
            .into_iter()
            .map(|m| Hold::Address(self.store.email_key(&m.address)))
            .collect()
    }

    /// Makes the sender (if not the requester) and everyone else in To/Cc participants
    /// of `ticket`, each a customer record of their own (created with its own key if
    /// new). The ticket is stored by the caller.
    pub(crate) fn note_participants(
        &self,
        u: &mut Unit<'_>,
        ticket: &mut Ticket,
        sender: &Customer,
        mail: &ParsedMail,
    ) -> Result<()> {
        let addresses: Vec<(String, String)> = self
            .candidates(mail)
            .into_iter()
            .map(|m| (m.address.clone(), m.name.clone()))
            .collect();
        self.add_participants(u, ticket, &addresses, PARTICIPANTS_MAX)?;
        if sender.id != ticket.customer && !ticket.participants.contains(&sender.id) {
            ticket.participants.push(sender.id);
        }
        Ok(())
    }

    /// Adds the people at `addresses` (address, name) to `ticket`'s participants, up to
    /// `max` in all; the requester and the desk's own addresses are skipped.
    fn add_participants(
        &self,
        u: &mut Unit<'_>,
        ticket: &mut Ticket,
        addresses: &[(String, String)],
        max: usize,
    ) -> Result<()> {
        let config = self.config().mail;
        let wanted: Vec<&(String, String)> = addresses
            .iter()
            .filter(|(a, _)| !config.is_support_address(a))
            .collect();
        // Every address held at once: one rerun of the unit at most.
        let mut missing = false;
        for (a, _) in &wanted {
            missing |= u.hold(Hold::Address(self.store.email_key(a))).is_err();
        }
        if missing {
            return Err(DeskError::NeedsLocks);
        }
        for (address, name) in wanted {
            if ticket.participants.len() >= max {
                break;
            }
            if let Some(c) = self.store.customer_by_email(address)? {
                if c.id == ticket.customer || ticket.participants.contains(&c.id) {
                    continue;
                }
            }
            let c = super::tickets::find_or_create_customer(u, address, name)?;
            if c.id != ticket.customer && !ticket.participants.contains(&c.id) {
                ticket.participants.push(c.id);
            }
        }
        Ok(())
    }

    /// The primary addresses of `ticket`'s participants (erased ones left out).
    pub fn participant_addresses(&self, ticket: &Ticket) -> Result<Vec<String>> {
        Ok(ticket
            .participants
            .iter()
            .filter_map(|id| self.store.customer(id).ok().flatten())
            .map(|c| c.primary_email().to_string())
            .collect())
    }

    /// Where replies to `customer` on `ticket` go: the `Reply-To` of their latest mail
    /// on the ticket, if it had one that is not the desk's own; else their primary
    /// address.
    pub(crate) fn reply_address(&self, ticket: &Ticket, customer: &Customer) -> Result<String> {
        let config = self.config().mail;
        let latest = self
            .store
            .messages(ticket.number)?
            .into_iter()
            .flatten()
            .filter(|m| {
                m.kind == MessageKind::Inbound
                    && matches!(&m.author, Author::Customer { id, .. } if *id == customer.id)
            })
            .last();
        if let Some(m) = latest {
            if let Some(raw) = self.store.raw_mail(ticket.number, m.seq)? {
                if let Some(r) = parse::reply_to(&raw) {
                    if !config.is_support_address(&r.address) {
                        return Ok(r.address);
                    }
                }
            }
        }
        Ok(customer.primary_email().to_string())
    }

    /// Who a reply on `ticket` goes to by default: To the requester (or their
    /// Reply-To), Cc every other participant (primary address) whose processing is not
    /// restricted; never a support address.
    pub(crate) fn participant_parties(&self, ticket: &Ticket) -> Result<Parties> {
        let config = self.config().mail;
        let mut parties = Parties::default();
        if let Some(c) = self.store.customer(&ticket.customer)? {
            parties.to.push(self.reply_address(ticket, &c)?);
        }
        for id in &ticket.participants {
            let Ok(Some(c)) = self.store.customer(id) else {
                continue; // erased
            };
            let address = c.primary_email().to_string();
            let allowed = self.mail_allowed(&c, super::MailPurpose::Reply).is_ok();
            if allowed
                && !config.is_support_address(&address)
                && !parties.all().any(|p| bare_address(p) == address)
            {
                parties.cc.push(address);
            }
        }
        Ok(parties)
    }

    /// The recipients of a reply: the agent's (`given`), checked — each a plausible
    /// address, the desk's own addresses left out, each address once — with the
    /// ticket's default To when the agent gave none; the defaults when they gave
    /// nothing at all. People in the agent's To/Cc become participants.
    pub(crate) fn reply_recipients(
        &self,
        u: &mut Unit<'_>,
        ticket: &mut Ticket,
        given: &Parties,
    ) -> Result<Parties> {
        let defaults = self.participant_parties(ticket)?;
        if given.is_empty() {
            return Ok(defaults);
        }
        let config = self.config().mail;
        let mut seen: Vec<String> = Vec::new();
        let mut check = |line: &str, list: &[String]| -> Result<Vec<String>> {
            let mut out = Vec::new();
            for written in list.iter().filter(|w| !w.trim().is_empty()) {
                let mailbox = checked_mailbox(line, written.trim())?;
                let address = bare_address(&mailbox);
                if config.is_support_address(&address) || seen.contains(&address) {
                    continue;
                }
                seen.push(address);
                out.push(mailbox);
            }
            Ok(out)
        };
        let mut parties = Parties {
            to: check("To", &given.to)?,
            cc: check("Cc", &given.cc)?,
            bcc: check("Bcc", &given.bcc)?,
        };
        // The requester's reply address is theirs, not someone new.
        let requester: Vec<String> = defaults.to.iter().map(|a| bare_address(a)).collect();
        let people: Vec<(String, String)> = parties
            .to
            .iter()
            .chain(&parties.cc)
            .map(|p| bare_address(p))
            .filter(|a| !requester.contains(a))
            .map(|a| (a, String::new()))
            .collect();
        if parties.to.is_empty() {
            parties.to = defaults
                .to
                .into_iter()
                .filter(|a| !parties.all().any(|p| bare_address(p) == bare_address(a)))
                .collect();
        }
        if parties.to.is_empty() {
            return Err(DeskError::Invalid(
                "the reply has nobody to go to (the desk's own addresses are left out): put the customer in To".into(),
            ));
        }
        // Someone else whose processing is restricted gets no reply (the requester's
        // restriction is checked, and may be overridden, by the caller).
        for address in parties.all().map(|p| bare_address(p)) {
            if let Some(c) = self.store.customer_by_email(&address)? {
                let restricted = self.mail_allowed(&c, super::MailPurpose::Reply).is_err();
                if restricted && c.id != ticket.customer {
                    return Err(DeskError::Forbidden(format!(
                        "{address}: processing of their data is restricted, so they get no reply: take them off the recipients"
                    )));
                }
            }
        }
        self.add_participants(u, ticket, &people, usize::MAX)?;
        Ok(parties)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, Filed, Incoming};

    fn desk(dir: &std::path::Path) -> Desk {
        let paths = sealdesk_store::Paths {
            data: dir.join("data"),
            keys: dir.join("keys"),
        };
        let mut config = crate::config::Config::default();
        config.mail.ingest = vec!["support@desk.example".into()];
        Desk::new(crate::testing::new_store(&paths), config)
    }

    fn receive(desk: &Desk, raw: &str) -> Filed {
        let incoming = Incoming {
            raw: raw.as_bytes(),
            envelope_from: None,
            source: "test",
        };
        desk.receive_mail(incoming).unwrap()
    }

    #[test]
    fn cc_makes_participants_whose_mail_joins_and_who_get_the_reply() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let admin = Actor::local_admin();
        let first = concat!(
            "From: Ann <ann@example.com>\r\nTo: Support <support@desk.example>\r\n",
            "Cc: Bob <bob@example.com>, support@desk.example\r\n",
            "Reply-To: ann@home.example\r\nSubject: Printer\r\nMessage-ID: <a1@x>\r\n\r\nIt burns.\r\n"
        );
        let Filed::NewTicket(n) = receive(&desk, first) else {
            panic!("a new ticket")
        };
        let ticket = desk.store().ticket(n).unwrap().unwrap();
        let bob = desk
            .store()
            .customer_by_email("bob@example.com")
            .unwrap()
            .unwrap();
        assert_eq!(ticket.participants, vec![bob.id]);
        let bobs = concat!(
            "From: bob@example.com\r\nTo: support@desk.example\r\nSubject: Re: Printer\r\n",
            "Message-ID: <b1@x>\r\nIn-Reply-To: <a1@x>\r\n\r\nIt is mine, really.\r\n"
        );
        assert_eq!(receive(&desk, bobs), Filed::Appended(n));
        let thread: Vec<Message> = desk
            .store()
            .messages(n)
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        assert!(matches!(&thread[1].author, Author::Customer { id, .. } if *id == bob.id));
        assert_eq!(
            thread[0].parties.cc,
            vec!["Bob <bob@example.com>", "support@desk.example"]
        );
        let parties = desk.reply_parties(&admin, n).unwrap();
        assert_eq!(parties.to, vec!["ann@home.example"], "the Reply-To");
        assert_eq!(parties.cc, vec!["bob@example.com"]);
        assert!(parties.bcc.is_empty());

        // An agent's explicit Cc: checked, the desk's own left out, new people joining.
        let given = Parties {
            to: vec![],
            cc: vec![
                "Carol <carol@example.com>".into(),
                "SUPPORT@desk.example".into(),
            ],
            bcc: vec!["dan@example.com".into()],
        };
        let sent = desk
            .add_reply_addressed(&admin, n, "On it.", &given, None)
            .unwrap();
        assert_eq!(sent.parties.to, vec!["ann@home.example"]);
        assert_eq!(sent.parties.cc, vec!["Carol <carol@example.com>"]);
        assert_eq!(sent.parties.bcc, vec!["dan@example.com"]);
        let ticket = desk.store().ticket(n).unwrap().unwrap();
        assert_eq!(ticket.participants.len(), 2, "Carol joined; Bcc does not");
        let bad = Parties {
            to: vec!["not an address".into()],
            ..Parties::default()
        };
        let e = desk
            .add_reply_addressed(&admin, n, "x", &bad, None)
            .unwrap_err();
        assert!(
            e.to_string().contains("in To is not an email address"),
            "{e}"
        );

        // A restricted participant is left out of the defaults and refused when named.
        let carol = desk
            .store()
            .customer_by_email("carol@example.com")
            .unwrap()
            .unwrap();
        desk.set_restricted(&admin, &carol, true).unwrap();
        assert_eq!(
            desk.reply_parties(&admin, n).unwrap().cc,
            vec!["bob@example.com"]
        );
        let to_carol = Parties {
            cc: vec!["carol@example.com".into()],
            ..Parties::default()
        };
        let e = desk
            .add_reply_addressed(&admin, n, "x", &to_carol, None)
            .unwrap_err();
        assert!(e.to_string().contains("restricted"), "{e}");

        // Merged in, another ticket's requester and participants take part here.
        let other = concat!(
            "From: dan@example.com\r\nTo: support@desk.example\r\nCc: erin@example.com\r\n",
            "Subject: Also the printer\r\nMessage-ID: <d1@x>\r\n\r\nSame here.\r\n"
        );
        let Filed::NewTicket(m) = receive(&desk, other) else {
            panic!("a new ticket")
        };
        desk.merge(&admin, m, n).unwrap();
        let merged = desk
            .participant_addresses(&desk.store().ticket(n).unwrap().unwrap())
            .unwrap();
        assert_eq!(
            merged,
            vec![
                "bob@example.com",
                "carol@example.com",
                "dan@example.com",
                "erin@example.com"
            ]
        );
    }

    #[test]
    fn mail_from_or_marked_by_a_support_address_is_a_loop() {
        let dir = tempfile::tempdir().unwrap();
        let paths = sealdesk_store::Paths {
            data: dir.path().join("data"),
            keys: dir.path().join("keys"),
        };
        let mut config = crate::config::Config::default();
        config
            .mail
            .addresses
            .insert("billing@desk.example".into(), Default::default());
        let desk = Desk::new(crate::testing::new_store(&paths), config);
        let from =
            "From: Billing@Desk.Example\r\nTo: billing@desk.example\r\nSubject: x\r\n\r\nx\r\n";
        let marked =
            "From: ann@example.com\r\nX-Loop: billing@desk.example\r\nSubject: x\r\n\r\nx\r\n";
        for raw in [from, marked] {
            match receive(&desk, raw) {
                Filed::Quarantined(_, reason) => assert!(reason.contains("loop"), "{reason}"),
                other => panic!("not quarantined: {other:?}"),
            }
        }
    }

    #[test]
    fn addresses_and_mailboxes() {
        assert_eq!(bare_address("Ann <Ann@Example.com>"), "ann@example.com");
        assert_eq!(bare_address(" bob@example.com "), "bob@example.com");
        assert_eq!(
            checked_mailbox("Cc", "Ann Lee <ann@example.com>").unwrap(),
            "Ann Lee <ann@example.com>"
        );
        assert_eq!(
            checked_mailbox("Cc", "\"Lee, Ann\" <ann@example.com>").unwrap(),
            "ann@example.com"
        );
        let e = checked_mailbox("Cc", "ann at example")
            .unwrap_err()
            .to_string();
        assert!(e.contains("in Cc is not an email address"), "{e}");
    }
}
