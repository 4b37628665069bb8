//! Operations the agents' terminal UI needs beyond triage: a customer's page looked up
//! by id (the TUI follows links, it does not type addresses) and the agent's own theme.

pub(crate) mod privacy;

use super::{Actor, Change, Desk, DeskError, Result};
use sealdesk_model::{Customer, CustomerId, Ticket};

impl Desk {
    /// A customer's profile and tickets (newest first), by id; the view is audited.
    pub fn customer_view(&self, actor: &Actor, id: CustomerId) -> Result<(Customer, Vec<Ticket>)> {
        let customer = self.store.customer(&id)?.ok_or_else(|| {
            DeskError::NotFound(
                "this customer's data is gone (erased or never stored): nothing to show".into(),
            )
        })?;
        let mut tickets = Vec::new();
        for number in self.store.customer_tickets(&id)? {
            if let Some(ticket) = self.store.ticket(number)? {
                tickets.push(ticket);
            }
        }
        tickets.sort_by_key(|t| std::cmp::Reverse(t.number));
        self.audit_only(actor, "customer.view", vec![id.to_string()], Some(&id))?;
        Ok((customer, tickets))
    }

    /// Remembers the theme an agent picked, for their next session.
    ///
    /// The name is only checked for shape here; the TUI stores a theme after it loaded.
    pub fn set_agent_theme(&self, actor: &Actor, agent_name: &str, theme: &str) -> Result<()> {
        super::agents::check_theme_name(theme)?;
        if agent_name != actor.name {
            self.require_admin(actor, "change another agent's theme")?;
        }
        self.write(actor, &[super::write::Hold::Settings], |u| {
            let mut agent = self.agent_named(agent_name)?;
            if agent.theme.as_deref() == Some(theme) {
                return Ok(());
            }
            agent.theme = Some(theme.to_string());
            u.tx.put_agent(&agent)?;
            u.audit(
                "agent.theme",
                vec![agent.id.to_string(), format!("theme={theme}")],
                None,
            );
            u.announce(Change::Agents);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::desk;
    use crate::NewTicket;
    use sealdesk_model::AgentRole;
    use ssh_key::{private::Ed25519Keypair, PrivateKey};

    #[test]
    fn customer_view_lists_their_tickets_and_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let actor = Actor::local_admin();
        let new = |subject| NewTicket {
            from: "ann@example.com",
            name: "Ann",
            subject,
            body: "hi",
            message_id: None,
        };
        let (first, customer) = desk.create_ticket(&actor, new("one")).unwrap();
        let (second, _) = desk.create_ticket(&actor, new("two")).unwrap();
        let (found, tickets) = desk.customer_view(&actor, customer.id).unwrap();
        assert_eq!(found.name, "Ann");
        let numbers: Vec<_> = tickets.iter().map(|t| t.number).collect();
        assert_eq!(numbers, [second.number, first.number]);
        let mut actions = Vec::new();
        desk.store()
            .for_each_audit(|e| {
                actions.push(e.action);
                Ok(())
            })
            .unwrap();
        assert_eq!(actions.last().map(String::as_str), Some("customer.view"));
        assert!(desk.customer_view(&actor, CustomerId::random()).is_err());
    }

    #[test]
    fn agent_theme_is_stored_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let actor = Actor::local_admin();
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&[7; 32]));
        let line = key.public_key().to_openssh().unwrap();
        desk.add_agent(&actor, "alice", AgentRole::Agent, &[line])
            .unwrap();
        desk.set_agent_theme(&actor, "alice", "light").unwrap();
        let alice = desk.store().agent_by_name("alice").unwrap().unwrap();
        assert_eq!(alice.theme.as_deref(), Some("light"));
        assert!(desk.set_agent_theme(&actor, "alice", "../x").is_err());
        assert!(desk.set_agent_theme(&actor, "nobody", "light").is_err());
    }
}
