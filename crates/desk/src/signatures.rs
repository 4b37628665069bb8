//! Signatures under agents' replies: the agent's own, then the support address's, with
//! their placeholders filled (see docs/decisions.md, "Part 9: signatures").

use super::write::Hold;
use super::{Actor, Change, Desk, DeskError, Result};
use sealdesk_model::fill;
use sealdesk_model::Ticket;

/// The line that starts a signature (RFC 3676 §4.3: dash, dash, space).
pub(crate) const SIGNATURE_SEPARATOR: &str = "-- ";

impl Desk {
    /// `text` as it is sent by `agent` on `ticket`: with the agent's signature and the
    /// ticket's support address's signature under `-- `, placeholders filled; `text`
    /// itself when there is neither.
    pub(crate) fn signed_text(&self, text: &str, ticket: &Ticket, agent: &str) -> Result<String> {
        let config = self.config().mail;
        let agent_signature = self.store.agent_by_name(agent)?.and_then(|a| a.signature);
        let entry = ticket
            .address
            .as_deref()
            .and_then(|a| config.support_address(a));
        let address_signature = entry.as_ref().and_then(|(_, e)| e.signature.clone());
        let parts: Vec<String> = [agent_signature, address_signature]
            .into_iter()
            .flatten()
            .map(|s| s.trim_end().to_string())
            .filter(|s| !s.trim().is_empty())
            .collect();
        if parts.is_empty() {
            return Ok(text.to_string());
        }
        let placeholders = self.placeholders(ticket, agent)?;
        let signature = fill(&parts.join("\n"), &placeholders);
        Ok(format!(
            "{}\n\n{SIGNATURE_SEPARATOR}\n{signature}\n",
            text.trim_end()
        ))
    }
}

impl Desk {
    /// `signed` without the signatures [`Desk::signed_text`] puts under a reply by
    /// `agent` on `ticket` now: a reply taken back (`Desk::unsend`) becomes the text the
    /// agent wrote, which is signed again when it is sent again. Left as it is when it
    /// does not end with them (a signature changed meanwhile: the agent sees it).
    pub(crate) fn unsigned_text(
        &self,
        signed: &str,
        ticket: &Ticket,
        agent: &str,
    ) -> Result<String> {
        let signatures = self.signed_text("", ticket, agent)?;
        if signatures.is_empty() {
            return Ok(signed.to_string());
        }
        Ok(signed
            .strip_suffix(signatures.as_str())
            .unwrap_or(signed)
            .to_string())
    }
}

/// Longest signature kept, in bytes.
pub(crate) const SIGNATURE_MAX: usize = 4096;

impl Desk {
    /// Sets (or with `None` removes) the signature under `name`'s replies. Agents set
    /// their own; admins anyone's. Audited without the text.
    pub fn set_signature(
        &self,
        actor: &Actor,
        name: &str,
        signature: Option<&str>,
    ) -> Result<sealdesk_model::Agent> {
        if actor.name != name {
            self.require_admin(actor, "set another agent's signature")?;
        }
        let signature = signature
            .map(|s| {
                sealdesk_model::sanitize::multiline(s)
                    .trim_end()
                    .to_string()
            })
            .filter(|s| !s.trim().is_empty());
        if signature.as_ref().is_some_and(|s| s.len() > SIGNATURE_MAX) {
            return Err(DeskError::Invalid(format!(
                "the signature is over {} KiB: shorten it",
                SIGNATURE_MAX / 1024
            )));
        }
        self.write(actor, &[Hold::Settings], |u| {
            let mut agent = self.agent_named(name)?;
            agent.signature = signature.clone();
            u.tx.put_agent(&agent)?;
            let what = if agent.signature.is_some() {
                "set"
            } else {
                "removed"
            };
            u.audit(
                "agent.signature",
                vec![agent.id.to_string(), what.to_string()],
                None,
            );
            u.announce(Change::Agents);
            Ok(agent)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewTicket;

    #[test]
    fn replies_carry_the_agent_and_address_signatures_filled() {
        let dir = tempfile::tempdir().unwrap();
        let paths = sealdesk_store::Paths {
            data: dir.path().join("data"),
            keys: dir.path().join("keys"),
        };
        let mut config = crate::config::Config::default();
        config.mail.from = Some("Support <support@desk.example>".into());
        config.mail.addresses.insert(
            "billing@desk.example".into(),
            crate::config::SupportAddress {
                name: "Billing".into(),
                signature: Some("{address.name} · {address.email}".into()),
                ..Default::default()
            },
        );
        let desk = Desk::new(crate::testing::new_store(&paths), config);
        let admin = Actor::local_admin();
        desk.add_agent(
            &admin,
            "alice",
            sealdesk_model::AgentRole::Agent,
            &[crate::testing::public_key_line(1)],
        )
        .unwrap();
        let alice = Actor::agent("alice", None, "test");
        let (ticket, _) = desk
            .create_ticket(
                &admin,
                NewTicket {
                    from: "ann@example.com",
                    name: "Ann",
                    subject: "Invoice",
                    body: "Wrong sum.",
                    message_id: None,
                },
            )
            .unwrap();
        let plain = desk.add_reply(&alice, ticket.number, "Checking.").unwrap();
        assert_eq!(plain.text, "Checking.", "no signature yet");

        assert!(desk.set_signature(&alice, "bob", Some("x")).is_err());
        desk.set_signature(
            &alice,
            "alice",
            Some("{agent} for {customer.name}, {ticket}\n"),
        )
        .unwrap();
        let mut t = desk.store().ticket(ticket.number).unwrap().unwrap();
        let signed = desk.signed_text("Done.\n", &t, "alice").unwrap();
        assert_eq!(signed, "Done.\n\n-- \nalice for Ann, #1\n");
        t.address = Some("billing@desk.example".into());
        let signed = desk.signed_text("Done.", &t, "alice").unwrap();
        assert_eq!(
            signed,
            "Done.\n\n-- \nalice for Ann, #1\nBilling · billing@desk.example\n"
        );
        desk.set_signature(&admin, "alice", None).unwrap();
        assert!(desk
            .find_agent("alice")
            .unwrap()
            .unwrap()
            .signature
            .is_none());
    }
}
