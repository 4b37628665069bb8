//! Saved replies and macros: managing them (audited as `template.*` and `macro.*`),
//! the placeholders of a ticket, and applying a macro to tickets.
//!
//! Who may do what: everyone sees the shared ones and their own personal ones. Shared
//! ones are managed by admins (they speak for the whole desk); an agent manages their
//! own personal ones; an admin may also edit or remove anyone's (an agent who left).
//! Names are unique desk-wide (one sled key per name), so a name means one thing in
//! every picker and on the command line.

use super::write::Hold;
use super::{Actor, ActorKind, Desk, DeskError, Result};
use sealdesk_model::{
    is_valid_template_name, sanitize, AgentRole, AssigneeChange, Macro, Placeholders,
    ReplyTemplate, TagChange, TicketNo, Timestamp, Visibility,
};
use sealdesk_store::StoreError;

/// The longest text a saved reply or a macro's reply may have.
const TEXT_MAX: usize = 64 * 1024;

impl Desk {
    /// The saved replies `actor` may use: shared ones and their own, by name.
    pub fn reply_templates(&self, actor: &Actor) -> Result<Vec<ReplyTemplate>> {
        let mut all = self.store.reply_templates()?;
        all.retain(|t| visible(actor, t.visibility, &t.created_by));
        Ok(all)
    }

    /// One saved reply by name, or an error that says where to look.
    pub fn reply_template(&self, actor: &Actor, name: &str) -> Result<ReplyTemplate> {
        match self.store.reply_template(name)? {
            Some(t) if self.reachable(actor, t.visibility, &t.created_by)? => Ok(t),
            _ => Err(not_found("saved reply", "reply-template", name)),
        }
    }

    /// Saves a new reply template. Agents make personal ones; shared ones need an admin.
    pub fn add_reply_template(
        &self,
        actor: &Actor,
        name: &str,
        text: &str,
        visibility: Visibility,
    ) -> Result<ReplyTemplate> {
        check_name(name)?;
        check_text(text, "the saved reply")?;
        self.may_manage(actor, visibility, &actor.name)?;
        self.write(actor, &[Hold::Settings], |u| {
            if u.tx.store().reply_template(name)?.is_some() {
                return Err(taken("saved reply", "reply-template", name));
            }
            let now = Timestamp::now();
            let template = ReplyTemplate {
                name: name.to_string(),
                text: text.to_string(),
                visibility,
                created_by: actor.name.clone(),
                created: now,
                updated: now,
            };
            u.tx.put_reply_template(&template)?;
            u.audit("template.add", targets(name, visibility), None);
            Ok(template)
        })
    }

    /// Changes a saved reply's text and/or name (`None` keeps it).
    pub fn edit_reply_template(
        &self,
        actor: &Actor,
        name: &str,
        text: Option<&str>,
        rename: Option<&str>,
    ) -> Result<ReplyTemplate> {
        if let Some(text) = text {
            check_text(text, "the saved reply")?;
        }
        if let Some(new) = rename {
            check_name(new)?;
        }
        self.write(actor, &[Hold::Settings], |u| {
            let mut template = self.reply_template(actor, name)?;
            self.may_manage(actor, template.visibility, &template.created_by)?;
            if let Some(text) = text {
                template.text = text.to_string();
            }
            let mut detail = targets(name, template.visibility);
            if let Some(new) = rename.filter(|new| *new != name) {
                if u.tx.store().reply_template(new)?.is_some() {
                    return Err(taken("saved reply", "reply-template", new));
                }
                u.tx.remove_reply_template(name);
                template.name = new.to_string();
                detail.push(format!("renamed={new}"));
            }
            template.updated = Timestamp::now();
            u.tx.put_reply_template(&template)?;
            u.audit("template.edit", detail, None);
            Ok(template)
        })
    }

    pub fn remove_reply_template(&self, actor: &Actor, name: &str) -> Result<ReplyTemplate> {
        self.write(actor, &[Hold::Settings], |u| {
            let template = self.reply_template(actor, name)?;
            self.may_manage(actor, template.visibility, &template.created_by)?;
            u.tx.remove_reply_template(name);
            u.audit("template.remove", targets(name, template.visibility), None);
            Ok(template)
        })
    }

    /// The macros `actor` may apply: shared ones and their own, by name.
    pub fn macros(&self, actor: &Actor) -> Result<Vec<Macro>> {
        let mut all = self.store.macros()?;
        all.retain(|m| visible(actor, m.visibility, &m.created_by));
        Ok(all)
    }

    pub fn macro_named(&self, actor: &Actor, name: &str) -> Result<Macro> {
        match self.store.macro_named(name)? {
            Some(m) if self.reachable(actor, m.visibility, &m.created_by)? => Ok(m),
            _ => Err(not_found("macro", "macro", name)),
        }
    }

    /// Saves a new macro as `m` says (who made it and when are set here).
    pub fn add_macro(&self, actor: &Actor, m: &Macro) -> Result<Macro> {
        self.check_macro(m)?;
        self.may_manage(actor, m.visibility, &actor.name)?;
        self.write(actor, &[Hold::Settings], |u| {
            if u.tx.store().macro_named(&m.name)?.is_some() {
                return Err(taken("macro", "macro", &m.name));
            }
            let now = Timestamp::now();
            let stored = Macro {
                created_by: actor.name.clone(),
                created: now,
                updated: now,
                ..m.clone()
            };
            u.tx.put_macro(&stored)?;
            let mut detail = targets(&m.name, m.visibility);
            detail.push(stored.summary());
            u.audit("macro.add", detail, None);
            Ok(stored)
        })
    }

    /// Replaces the macro called `name` with `m` (its name may differ: a rename);
    /// who made it and when stay.
    pub fn edit_macro(&self, actor: &Actor, name: &str, m: &Macro) -> Result<Macro> {
        self.check_macro(m)?;
        self.write(actor, &[Hold::Settings], |u| {
            let old = self.macro_named(actor, name)?;
            self.may_manage(actor, old.visibility, &old.created_by)?;
            if m.visibility != old.visibility {
                self.may_manage(actor, m.visibility, &old.created_by)?;
            }
            let mut detail = targets(name, m.visibility);
            if m.name != name {
                if u.tx.store().macro_named(&m.name)?.is_some() {
                    return Err(taken("macro", "macro", &m.name));
                }
                u.tx.remove_macro(name);
                detail.push(format!("renamed={}", m.name));
            }
            let stored = Macro {
                created_by: old.created_by,
                created: old.created,
                updated: Timestamp::now(),
                ..m.clone()
            };
            u.tx.put_macro(&stored)?;
            detail.push(stored.summary());
            u.audit("macro.edit", detail, None);
            Ok(stored)
        })
    }

    pub fn remove_macro(&self, actor: &Actor, name: &str) -> Result<Macro> {
        self.write(actor, &[Hold::Settings], |u| {
            let m = self.macro_named(actor, name)?;
            self.may_manage(actor, m.visibility, &m.created_by)?;
            u.tx.remove_macro(name);
            u.audit("macro.remove", targets(name, m.visibility), None);
            Ok(m)
        })
    }

    /// What the placeholders stand for when `actor` writes on ticket `number`. An
    /// erased customer's name and address fill as empty, and so does `{agent}` for
    /// anyone but an agent.
    pub fn template_placeholders(&self, actor: &Actor, number: TicketNo) -> Result<Placeholders> {
        let ticket = self.store.ticket(number)?.ok_or_else(|| {
            DeskError::NotFound(format!("there is no ticket {number}: check the number"))
        })?;
        // The CLI's `cli:uid1000` is not a name to sign a customer's mail with.
        let agent = match actor.kind {
            ActorKind::Agent => actor.name.as_str(),
            _ => "",
        };
        self.placeholders(&ticket, agent)
    }

    /// The placeholders of `ticket` for `agent` (empty for no agent): what saved
    /// replies, macros and signatures are filled with.
    pub(crate) fn placeholders(
        &self,
        ticket: &sealdesk_model::Ticket,
        agent: &str,
    ) -> Result<Placeholders> {
        let (customer_name, customer_email) = match self.store.customer(&ticket.customer) {
            Ok(Some(c)) => (c.name.clone(), c.primary_email().to_string()),
            Ok(None) | Err(StoreError::Erased) => (String::new(), String::new()),
            Err(e) => return Err(e.into()),
        };
        let (address_name, address_email) = self.support_address(ticket.address.as_deref());
        Ok(Placeholders {
            customer_name,
            customer_email,
            ticket: ticket.number.to_string(),
            agent: agent.to_string(),
            address_name,
            address_email,
        })
    }

    /// Applies the macro `name` to each of `tickets`, in order: its reply first (filled
    /// for that ticket), then status, tags, assignee and priority, each through the
    /// ticket operation of its own (audited per ticket as usual). A ticket whose reply
    /// is refused (a restricted customer) is left as it was and reported; the others
    /// go on. Returns, per ticket, what was done or why not.
    pub fn apply_macro(
        &self,
        actor: &Actor,
        name: &str,
        tickets: &[TicketNo],
    ) -> Result<Vec<(TicketNo, Result<String>)>> {
        let m = self.macro_named(actor, name)?;
        if tickets.is_empty() {
            return Err(DeskError::Invalid(
                "no ticket given: name at least one ticket".into(),
            ));
        }
        // What would fail on every ticket fails before any is changed.
        match &m.assignee {
            Some(AssigneeChange::Me) if actor.kind != ActorKind::Agent => {
                return Err(DeskError::Invalid(format!(
                    "macro {:?} assigns to whoever applies it, and {} is not an agent: apply it from the TUI, or change it with `sealdesk macro edit NAME --assign AGENT`",
                    sanitize::line(&m.name),
                    sanitize::line(&actor.name)
                )))
            }
            Some(AssigneeChange::Agent(agent)) if self.store.agent_by_name(agent)?.is_none() => {
                return Err(DeskError::NotFound(format!(
                    "macro {:?} assigns to {}, who is no longer an agent: change it with `sealdesk macro edit NAME --assign AGENT`",
                    sanitize::line(&m.name),
                    sanitize::line(agent)
                )))
            }
            _ => {}
        }
        let mut seen = Vec::new();
        let mut done = Vec::new();
        for &n in tickets {
            if seen.contains(&n) {
                continue;
            }
            seen.push(n);
            done.push((n, self.apply_macro_to(actor, &m, n)));
        }
        Ok(done)
    }

    fn apply_macro_to(&self, actor: &Actor, m: &Macro, number: TicketNo) -> Result<String> {
        let mut did = Vec::new();
        match self.macro_steps(actor, m, number, &mut did) {
            Ok(()) if did.is_empty() => Ok("nothing to do".into()),
            Ok(()) => Ok(did.join(", ")),
            Err(e) if did.is_empty() => Err(e),
            // Part of it is done (the reply may be on its way): say what.
            Err(e) => Err(DeskError::Invalid(format!(
                "{} done, then: {e}",
                did.join(", ")
            ))),
        }
    }

    /// Applies the steps of `m` to one ticket in order, noting each done in `did`.
    fn macro_steps(
        &self,
        actor: &Actor,
        m: &Macro,
        number: TicketNo,
        did: &mut Vec<String>,
    ) -> Result<()> {
        if let Some(text) = &m.reply {
            let filled = sealdesk_model::fill(text, &self.template_placeholders(actor, number)?);
            self.add_reply(actor, number, &filled)
                .map_err(|e| match e {
                    DeskError::Forbidden(why) => DeskError::Forbidden(format!(
                        "the reply was refused, nothing changed: {why}"
                    )),
                    other => other,
                })?;
            did.push("reply".to_string());
        }
        if let Some(status) = m.status {
            self.set_status(actor, number, status)?;
            did.push(format!("status={status}"));
        }
        if !m.tags.is_empty() {
            let ticket = self.store.ticket(number)?.ok_or_else(|| {
                DeskError::NotFound(format!("there is no ticket {number}: check the number"))
            })?;
            let mut tags = ticket.tags.clone();
            for change in &m.tags {
                change.apply(&mut tags);
            }
            if tags != ticket.tags {
                self.set_tags(actor, number, &tags)?;
            }
            did.extend(m.tags.iter().map(ToString::to_string));
        }
        match &m.assignee {
            Some(AssigneeChange::Me) => {
                self.assign(actor, number, Some(&actor.name))?;
                did.push(format!("assignee={}", actor.name));
            }
            Some(AssigneeChange::Agent(agent)) => {
                self.assign(actor, number, Some(agent))?;
                did.push(format!("assignee={agent}"));
            }
            Some(AssigneeChange::Nobody) => {
                self.assign(actor, number, None)?;
                did.push("assignee=none".into());
            }
            None => {}
        }
        if let Some(priority) = m.priority {
            self.set_priority(actor, number, priority)?;
            did.push(format!("priority={priority}"));
        }
        Ok(())
    }

    /// The support address a reply on a ticket goes from: (display name, address).
    /// The ticket's own address if it has one, else `mail.from`.
    fn support_address(&self, ticket_address: Option<&str>) -> (String, String) {
        let config = self.config().mail;
        if let Some((address, entry)) = ticket_address.and_then(|a| config.support_address(a)) {
            return (entry.name.trim().to_string(), address);
        }
        let from = config.from.unwrap_or_default();
        let (name, addr) = match (from.rfind('<'), from.rfind('>')) {
            (Some(a), Some(b)) if a < b => (from[..a].trim().trim_matches('"'), &from[a + 1..b]),
            _ => ("", from.trim()),
        };
        (name.to_string(), addr.to_string())
    }

    /// Whether `actor` may reach a template by name: what they see, and for an admin
    /// anyone's (to edit or remove it).
    fn reachable(&self, actor: &Actor, visibility: Visibility, owner: &str) -> Result<bool> {
        Ok(
            visible(actor, visibility, owner)
                || self.current_role(actor)? == Some(AgentRole::Admin),
        )
    }

    /// Refuses unless `actor` may manage a template of `visibility` made by `owner`.
    fn may_manage(&self, actor: &Actor, visibility: Visibility, owner: &str) -> Result<()> {
        if self.current_role(actor)? == Some(AgentRole::Admin) {
            return Ok(());
        }
        match visibility {
            Visibility::Personal if owner == actor.name => Ok(()),
            Visibility::Personal => Err(DeskError::Forbidden(
                "only its owner or an admin can change a personal template: ask them".into(),
            )),
            Visibility::Shared => self.require_admin(
                actor,
                "manage shared templates and macros (make a personal one instead)",
            ),
        }
    }

    fn check_macro(&self, m: &Macro) -> Result<()> {
        check_name(&m.name)?;
        if let Some(text) = &m.reply {
            check_text(text, "the macro's reply")?;
        }
        for change in &m.tags {
            let (TagChange::Add(tag) | TagChange::Remove(tag)) = change;
            // The rule `set_tags` applies, checked now rather than on every ticket.
            if tag.chars().count() > 40 || tag.contains(char::is_whitespace) || tag.contains(',') {
                return Err(DeskError::Invalid(format!(
                    "tag {:?} is not allowed: use up to 40 characters without spaces or commas",
                    sanitize::line(tag)
                )));
            }
        }
        if let Some(AssigneeChange::Agent(agent)) = &m.assignee {
            if self.store.agent_by_name(agent)?.is_none() {
                return Err(DeskError::NotFound(format!(
                    "no agent named {}: see `sealdesk agent list`",
                    sanitize::line(agent)
                )));
            }
        }
        let nothing = m.reply.is_none()
            && m.status.is_none()
            && m.tags.is_empty()
            && m.assignee.is_none()
            && m.priority.is_none();
        if nothing {
            return Err(DeskError::Invalid(
                "the macro does nothing: give it a reply, a status, tags, an assignee or a priority".into(),
            ));
        }
        Ok(())
    }
}

/// Whether `actor`'s lists show a template: shared ones and their own; the CLI (which
/// manages them all) sees every one.
fn visible(actor: &Actor, visibility: Visibility, owner: &str) -> bool {
    visibility == Visibility::Shared || owner == actor.name || actor.kind != ActorKind::Agent
}

fn targets(name: &str, visibility: Visibility) -> Vec<String> {
    let scope = match visibility {
        Visibility::Shared => "shared",
        Visibility::Personal => "personal",
    };
    vec![format!("name={name}"), scope.into()]
}

fn check_name(name: &str) -> Result<()> {
    if is_valid_template_name(name) {
        return Ok(());
    }
    Err(DeskError::Invalid(format!(
        "invalid name {:?}: use 1-64 letters, digits, '-', '_', '.' or inner spaces",
        sanitize::line(name)
    )))
}

fn check_text(text: &str, what: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(DeskError::Invalid(format!(
            "{what} is empty: give it some text"
        )));
    }
    if text.len() > TEXT_MAX {
        return Err(DeskError::Invalid(format!(
            "{what} is longer than {} KiB: shorten it",
            TEXT_MAX / 1024
        )));
    }
    Ok(())
}

fn not_found(what: &str, command: &str, name: &str) -> DeskError {
    DeskError::NotFound(format!(
        "no {what} named {:?}: see `sealdesk {command} list`",
        sanitize::line(name)
    ))
}

fn taken(what: &str, command: &str, name: &str) -> DeskError {
    DeskError::Conflict(format!(
        "a {what} named {:?} exists already: pick another name, or `sealdesk {command} edit` it",
        sanitize::line(name)
    ))
}

#[cfg(test)]
mod tests {
    use crate::testing;
    use crate::{Actor, DeskError, NewTicket};
    use sealdesk_model::{
        AgentRole, AssigneeChange, Macro, MessageKind, Priority, Status, TagChange, Timestamp,
        Visibility,
    };

    fn new_macro(name: &str, reply: Option<&str>) -> Macro {
        let now = Timestamp::now();
        Macro {
            name: name.into(),
            reply: reply.map(String::from),
            status: Some(Status::Solved),
            tags: vec![
                TagChange::Add("refund".into()),
                TagChange::Remove("vip".into()),
            ],
            assignee: Some(AssigneeChange::Me),
            priority: Some(Priority::Low),
            visibility: Visibility::Shared,
            created_by: String::new(),
            created: now,
            updated: now,
        }
    }

    fn ticket(desk: &crate::Desk, from: &str, name: &str) -> sealdesk_model::TicketNo {
        let admin = Actor::local_admin();
        desk.create_ticket(
            &admin,
            NewTicket {
                from,
                name,
                subject: "Refund",
                body: "Where is my money?",
                message_id: None,
            },
        )
        .unwrap()
        .0
        .number
    }

    #[test]
    fn roles_decide_who_manages_shared_and_personal_templates() {
        let dir = tempfile::tempdir().unwrap();
        let desk = testing::desk(dir.path());
        let admin = Actor::local_admin();
        for (name, seed) in [("alice", 1), ("bob", 2)] {
            desk.add_agent(
                &admin,
                name,
                AgentRole::Agent,
                &[testing::public_key_line(seed)],
            )
            .unwrap();
        }
        let alice = Actor::agent("alice", None, "test");
        let bob = Actor::agent("bob", None, "test");
        let shared = desk
            .add_reply_template(&admin, "hello", "Hello {customer.name}", Visibility::Shared)
            .unwrap();
        assert_eq!(shared.created_by, admin.name);
        let refused = desk
            .add_reply_template(&alice, "mine", "x", Visibility::Shared)
            .unwrap_err();
        assert!(matches!(refused, DeskError::Forbidden(_)), "{refused}");
        desk.add_reply_template(&alice, "mine", "Alice's text", Visibility::Personal)
            .unwrap();
        assert!(matches!(
            desk.edit_reply_template(&alice, "hello", Some("changed"), None),
            Err(DeskError::Forbidden(_))
        ));
        let names = |a: &Actor| -> Vec<String> {
            desk.reply_templates(a)
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect()
        };
        assert_eq!(names(&alice), ["hello", "mine"]);
        assert_eq!(names(&bob), ["hello"], "a personal template is its owner's");
        assert!(matches!(
            desk.reply_template(&bob, "mine"),
            Err(DeskError::NotFound(_))
        ));
        let taken = desk
            .add_reply_template(&admin, "mine", "x", Visibility::Shared)
            .unwrap_err();
        assert!(matches!(taken, DeskError::Conflict(_)), "{taken}");
        let renamed = desk
            .edit_reply_template(&alice, "mine", Some("new text"), Some("mine 2"))
            .unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.text.as_str()),
            ("mine 2", "new text")
        );
        assert!(desk.reply_template(&alice, "mine").is_err());
        desk.remove_reply_template(&admin, "mine 2").unwrap();
        assert_eq!(names(&alice), ["hello"]);
        let actions: Vec<String> = testing::audit_events(&desk)
            .into_iter()
            .map(|e| e.action)
            .filter(|a| a.starts_with("template."))
            .collect();
        assert_eq!(
            actions,
            [
                "template.add",
                "template.add",
                "template.edit",
                "template.remove"
            ]
        );
        assert!(desk
            .add_reply_template(&admin, "bad/name", "x", Visibility::Shared)
            .is_err());
        assert!(desk
            .add_reply_template(&admin, "empty", "  ", Visibility::Shared)
            .is_err());
    }

    #[test]
    fn a_macro_replies_filled_and_changes_the_workflow_of_each_ticket_and_a_refusal_skips_one() {
        let dir = tempfile::tempdir().unwrap();
        let desk = testing::desk(dir.path());
        let admin = Actor::local_admin();
        desk.add_agent(
            &admin,
            "alice",
            AgentRole::Agent,
            &[testing::public_key_line(1)],
        )
        .unwrap();
        let alice = Actor::agent("alice", None, "test");
        let one = ticket(&desk, "ada@example.com", "Ada");
        let two = ticket(&desk, "bob@example.com", "Bob");
        let three = ticket(&desk, "eve@example.com", "Eve");
        desk.set_tags(&admin, one, &["vip".into()]).unwrap();
        let (eve, _) = desk.customer_by_email(&admin, "eve@example.com").unwrap();
        desk.set_restricted(&admin, &eve, true).unwrap();
        desk.add_macro(
            &admin,
            &new_macro(
                "refund done",
                Some("Dear {customer.name}, {ticket} is refunded. {agent}"),
            ),
        )
        .unwrap();
        let outcome = desk
            .apply_macro(&alice, "refund done", &[one, two, three, one])
            .unwrap();
        assert_eq!(outcome.len(), 3, "each ticket once");
        assert!(outcome[0].1.is_ok() && outcome[1].1.is_ok(), "{outcome:?}");
        assert!(
            matches!(&outcome[2].1, Err(DeskError::Forbidden(why)) if why.contains("nothing changed")),
            "{outcome:?}"
        );
        for (n, name) in [(one, "Ada"), (two, "Bob")] {
            let (t, thread) = desk.ticket_thread(&alice, n).unwrap();
            assert_eq!(t.status, Status::Solved);
            assert_eq!(t.tags, ["refund"]);
            assert_eq!(t.assignee.as_deref(), Some("alice"));
            assert_eq!(t.priority, Priority::Low);
            let last = thread.last().unwrap();
            let crate::ThreadEntry::Message(m) = last else {
                panic!("{last:?}")
            };
            assert_eq!(m.kind, MessageKind::Outbound);
            assert_eq!(m.text, format!("Dear {name}, {n} is refunded. alice"));
        }
        let (t, _) = desk.ticket_thread(&alice, three).unwrap();
        assert_eq!(t.status, Status::New, "the refused ticket is left alone");
        assert!(desk.apply_macro(&alice, "nope", &[one]).is_err());
        let mut nothing = new_macro("nothing", None);
        nothing.status = None;
        nothing.tags.clear();
        nothing.assignee = None;
        nothing.priority = None;
        assert!(matches!(
            desk.add_macro(&admin, &nothing),
            Err(DeskError::Invalid(_))
        ));
        let mut spaced = new_macro("spaced", None);
        spaced.tags = vec![TagChange::Add("two words".into())];
        assert!(matches!(
            desk.add_macro(&admin, &spaced),
            Err(DeskError::Invalid(_))
        ));
    }

    #[test]
    fn an_erased_customers_name_fills_as_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let desk = testing::desk(dir.path());
        let admin = Actor::local_admin();
        let n = ticket(&desk, "ada@example.com", "Ada Lovelace");
        desk.set_config_key(
            &admin,
            "mail.from",
            "\"Example Support\" <support@example.com>",
        )
        .unwrap();
        desk.add_agent(
            &admin,
            "alice",
            AgentRole::Agent,
            &[testing::public_key_line(1)],
        )
        .unwrap();
        let alice = Actor::agent("alice", None, "test");
        let before = desk.template_placeholders(&alice, n).unwrap();
        assert_eq!(before.customer_name, "Ada Lovelace");
        assert_eq!(before.customer_email, "ada@example.com");
        assert_eq!(before.ticket, n.to_string());
        assert_eq!(before.agent, "alice");
        assert_eq!(before.address_name, "Example Support");
        assert_eq!(before.address_email, "support@example.com");
        assert_eq!(desk.template_placeholders(&admin, n).unwrap().agent, "");
        desk.cancel_customer(
            &admin,
            "ada@example.com",
            "ada@example.com",
            &crate::Authority::Override("test".into()),
        )
        .unwrap();
        let after = desk.template_placeholders(&admin, n).unwrap();
        assert_eq!(after.customer_name, "");
        assert_eq!(after.customer_email, "");
    }
}
