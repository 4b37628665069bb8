//! Read-side operations the privacy screens of the terminal UI need on top of the
//! consent, request, export and erasure operations: the consent page with its evidence
//! quick picks, request rows with a customer label, the tickets that carry an open
//! request (for the queue marker), the audited global search and the admin's window
//! on the audit log.
//!
//! What is searched for never reaches the audit log: a search is logged by how it
//! searched (ticket, address or name) and how many it found, and by the customer's
//! pseudonym when exactly one matched.

pub use sealdesk_api::{AuditFilter, AuditPage, ConsentPage, Found, RequestRow};

use crate::requests::{is_finished, urgency, Urgency};
use crate::{Actor, Desk, DeskError, QueueQuery, Result};
use sealdesk_model::{
    AuditEvent, Author, CustomerId, MessageKind, Personal, PrivacyRequest, Status, TicketNo,
    Timestamp,
};
use std::collections::{HashMap, VecDeque};

/// Most customers a name search lists; more means the agent should type more.
const MAX_MATCHES: usize = 50;

impl Desk {
    /// A customer's consent state per purpose, their ledger, and evidence quick picks:
    /// one audited view (`consent.view`, through [`Desk::consent_overview`]).
    pub fn consent_page(&self, actor: &Actor, id: CustomerId) -> Result<ConsentPage> {
        let customer = self.store.customer(&id)?.ok_or_else(|| {
            DeskError::NotFound(
                "this customer's data is gone (erased or never stored): nothing to show".into(),
            )
        })?;
        let (states, ledger) = self.consent_overview(actor, &customer)?;
        let mut evidence = Vec::new();
        for n in self.store.customer_tickets(&customer.id)?.into_iter().rev() {
            let messages = self.store.messages(n)?;
            for m in messages.into_iter().rev().flatten() {
                let (Author::Customer { address, .. }, Some(id)) = (&m.author, &m.message_id)
                else {
                    continue;
                };
                if m.kind == MessageKind::Inbound {
                    evidence.push(format!("{address}, Message-ID <{id}>"));
                }
            }
        }
        Ok(ConsentPage {
            customer,
            states,
            ledger,
            evidence,
        })
    }

    /// Every request with its customer's label, most urgent open one first (as
    /// [`Desk::requests`]). Like the queue, listing is not audited; opening is.
    pub fn request_rows(&self) -> Result<Vec<RequestRow>> {
        let mut labels: HashMap<CustomerId, Personal> = HashMap::new();
        let mut rows = Vec::new();
        for request in self.requests()? {
            let label = match labels.get(&request.customer) {
                Some(label) => label.clone(),
                None => {
                    let label = self.customer_label(&request)?;
                    labels.insert(request.customer, label.clone());
                    label
                }
            };
            rows.push(RequestRow {
                request,
                customer_label: label,
            });
        }
        Ok(rows)
    }

    /// One request with its customer's label.
    pub fn request_row(&self, id: &sealdesk_model::RequestId) -> Result<RequestRow> {
        let request = self.request(id)?;
        let customer_label = self.customer_label(&request)?;
        Ok(RequestRow {
            request,
            customer_label,
        })
    }

    /// The queue's label for the request's customer (no decryption when the queue index
    /// is built), `[erased]` once they are gone.
    fn customer_label(&self, request: &PrivacyRequest) -> Result<Personal> {
        let ticket = match request.ticket {
            Some(n) => Some(n),
            None => self
                .store
                .customer_tickets(&request.customer)?
                .first()
                .copied(),
        };
        if let Some(n) = ticket {
            if let Some(row) = self.queue_row(n)? {
                if row.ticket.customer == request.customer {
                    return Ok(row.customer_label.clone());
                }
            }
        }
        Ok(match self.store.customer(&request.customer) {
            Ok(Some(c)) => Personal::Text(c.primary_email().to_string()),
            _ => Personal::Erased,
        })
    }

    /// For every ticket that carries an open (not completed, not denied) request: the
    /// most urgent of its requests at `now`. One pass over the requests, for the queue
    /// marker; holds no personal data.
    pub fn open_request_tickets(&self, now: Timestamp) -> Result<HashMap<TicketNo, Urgency>> {
        let mut out: HashMap<TicketNo, Urgency> = HashMap::new();
        for r in self.store.requests()? {
            let Some(n) = r.ticket else { continue };
            if is_finished(&r) {
                continue;
            }
            let u = urgency(&r, now);
            let rank = |u: Urgency| match u {
                Urgency::Overdue => 0,
                Urgency::DueSoon => 1,
                Urgency::OnTime => 2,
                Urgency::Finished => 3,
            };
            out.entry(n)
                .and_modify(|was| {
                    if rank(u) < rank(*was) {
                        *was = u;
                    }
                })
                .or_insert(u);
        }
        Ok(out)
    }

    /// The global search: a ticket number (`12`, `#12`), an address, or a fragment of a
    /// name or address. Audited as `customer.search` without the text searched for.
    pub fn search(&self, actor: &Actor, text: &str) -> Result<Found> {
        let text = text.trim();
        if text.is_empty() {
            return Err(DeskError::Invalid(
                "type an address, part of a name, or a ticket number".into(),
            ));
        }
        let numeric = text.trim_start_matches('#');
        if !numeric.is_empty() && numeric.bytes().all(|b| b.is_ascii_digit()) {
            let found = match text.parse::<TicketNo>() {
                Ok(n) => self.store.ticket(n)?.map(|t| (n, t.customer)),
                Err(_) => None,
            };
            let targets = vec![
                "by=ticket".into(),
                format!("matches={}", usize::from(found.is_some())),
            ];
            let customer = found.map(|(_, c)| c);
            self.audit_only(actor, "customer.search", targets, customer.as_ref())?;
            return match found {
                Some((n, _)) => Ok(Found::Ticket(n)),
                None => Err(DeskError::NotFound(format!(
                    "there is no ticket {}: check the number",
                    sealdesk_model::sanitize::line(text)
                ))),
            };
        }
        let (by, matches) = match self.store.customer_by_email(text)? {
            Some(c) => {
                let label = match c.name.is_empty() {
                    true => c.primary_email().to_string(),
                    false => format!("{} <{}>", c.name, c.primary_email()),
                };
                ("address", vec![(c.id, label)])
            }
            None => ("name", self.customers_matching(text)?),
        };
        let one = match matches.as_slice() {
            [(id, _)] => Some(*id),
            _ => None,
        };
        self.audit_only(
            actor,
            "customer.search",
            vec![format!("by={by}"), format!("matches={}", matches.len())],
            one.as_ref(),
        )?;
        if matches.is_empty() {
            return Err(DeskError::NotFound(format!(
                "no customer matches {:?}: try an address, another part of the name, or a ticket number",
                sealdesk_model::sanitize::line(text)
            )));
        }
        Ok(Found::Customers(matches))
    }

    /// Customers whose queue label (name and address) contains `fragment`, from the
    /// in-memory queue index: no customer record is decrypted to search.
    fn customers_matching(&self, fragment: &str) -> Result<Vec<(CustomerId, String)>> {
        let needle = fragment.to_lowercase();
        let query = QueueQuery {
            statuses: Status::ALL.to_vec(),
            text: fragment.to_string(),
            ..QueueQuery::default()
        };
        let mut seen: HashMap<CustomerId, String> = HashMap::new();
        for row in self.queue(&query)? {
            let erased = row.customer_label.is_erased();
            if !erased && row.customer_label.as_str().to_lowercase().contains(&needle) {
                seen.entry(row.ticket.customer)
                    .or_insert_with(|| row.customer_label.to_string());
            }
        }
        let mut matches: Vec<(CustomerId, String)> = seen.into_iter().collect();
        matches.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        matches.truncate(MAX_MATCHES);
        Ok(matches)
    }

    /// The newest `limit` audit events matching `filter`, newest first; admins only.
    /// One pass over the log keeps only `limit` events in memory however long it is.
    /// The look is itself audited (`audit.view`).
    pub fn audit_page(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        limit: usize,
    ) -> Result<AuditPage> {
        self.require_admin(actor, "read the audit log")?;
        filter.check()?;
        let targets = match filter.is_empty() {
            true => vec![],
            false => vec!["filtered".into()],
        };
        self.audit_only(actor, "audit.view", targets, None)?;
        let mut newest: VecDeque<AuditEvent> = VecDeque::with_capacity(limit.min(4096));
        let (mut matched, mut total) = (0, 0);
        self.store.for_each_audit(|event| {
            total += 1;
            if filter.matches(&event) {
                matched += 1;
                if newest.len() == limit {
                    newest.pop_front();
                }
                if limit > 0 {
                    newest.push_back(event);
                }
            }
            Ok(())
        })?;
        Ok(AuditPage {
            events: newest.into_iter().rev().collect(),
            matched,
            total,
        })
    }
}

impl Desk {
    /// A free-text filter of the queue that the agent kept (Enter): audited as a search,
    /// with the number of matches and never the text itself.
    pub fn record_queue_search(&self, actor: &Actor, matches: usize) -> Result<()> {
        self.audit_only(
            actor,
            "queue.search",
            vec![format!("matches={matches}")],
            None,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::desk;
    use crate::NewTicket;
    use sealdesk_model::RequestKind;

    fn ticket(desk: &Desk, from: &str, name: &str, message_id: Option<&str>) -> TicketNo {
        let new = NewTicket {
            from,
            name,
            subject: "Help",
            body: "hi",
            message_id: message_id.map(String::from),
        };
        desk.create_ticket(&Actor::local_admin(), new)
            .unwrap()
            .0
            .number
    }

    fn audit_log(desk: &Desk) -> Vec<AuditEvent> {
        let mut events = Vec::new();
        desk.store()
            .for_each_audit(|e| {
                events.push(e);
                Ok(())
            })
            .unwrap();
        events
    }

    #[test]
    fn search_finds_tickets_addresses_and_names_and_logs_no_text() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let actor = Actor::local_admin();
        let n = ticket(&desk, "ann@example.com", "Ann Lee", None);
        ticket(&desk, "anna@example.org", "Anna Berg", None);
        ticket(&desk, "bo@example.com", "Bo Stone", None);
        assert_eq!(desk.search(&actor, "#1").unwrap(), Found::Ticket(n));
        assert!(desk.search(&actor, "99").is_err());
        let Found::Customers(one) = desk.search(&actor, "ANN@example.com").unwrap() else {
            panic!("an address finds a customer");
        };
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].1, "Ann Lee <ann@example.com>");
        let Found::Customers(two) = desk.search(&actor, "ann").unwrap() else {
            panic!("a fragment finds customers");
        };
        let labels: Vec<&str> = two.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["Ann Lee <ann@example.com>", "Anna Berg <anna@example.org>"]
        );
        assert!(desk.search(&actor, "nobody").is_err());
        assert!(desk.search(&actor, "  ").is_err());
        let searches: Vec<AuditEvent> = audit_log(&desk)
            .into_iter()
            .filter(|e| e.action == "customer.search")
            .collect();
        assert_eq!(searches.len(), 5);
        for e in &searches {
            let text = format!("{:?}", e);
            for secret in ["ann@", "Ann Lee", "nobody", "example."] {
                assert!(!text.contains(secret), "{secret} logged: {text}");
            }
        }
        assert!(searches[2].customer.is_some(), "one match: its pseudonym");
        assert!(searches[3].customer.is_none(), "two matches: no pseudonym");
    }

    #[test]
    fn open_request_tickets_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let actor = Actor::local_admin();
        let n = ticket(&desk, "ann@example.com", "Ann", None);
        let other = ticket(&desk, "bo@example.com", "", None);
        let ann = desk.find_customer(&actor, "ann@example.com").unwrap();
        let bo = desk.find_customer(&actor, "bo@example.com").unwrap();
        let r = desk
            .open_request(&actor, &ann, RequestKind::Access, Some(n))
            .unwrap();
        let mut late = desk
            .open_request(&actor, &bo, RequestKind::Erasure, Some(other))
            .unwrap();
        late.due = Timestamp(1000);
        let mut tx = desk.store().begin();
        tx.put_request(&late).unwrap();
        desk.store().commit(tx).unwrap();
        desk.open_request(&actor, &bo, RequestKind::Export, None)
            .unwrap();
        let now = Timestamp::now();
        let marked = desk.open_request_tickets(now).unwrap();
        assert_eq!(marked.len(), 2);
        assert_eq!(marked[&n], Urgency::OnTime);
        assert_eq!(marked[&other], Urgency::Overdue);
        desk.verify_request(&actor, &r.id, "call").unwrap();
        desk.complete_request(&actor, &r.id, "").unwrap();
        assert!(!desk.open_request_tickets(now).unwrap().contains_key(&n));
        let rows = desk.request_rows().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].request.id, late.id, "overdue first");
        assert_eq!(rows[0].customer_label, "bo@example.com");
        assert_eq!(rows[1].customer_label, "bo@example.com", "no ticket");
        assert_eq!(rows[2].customer_label, "Ann <ann@example.com>");
    }

    #[test]
    fn consent_page_offers_the_customers_message_ids() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let actor = Actor::local_admin();
        ticket(&desk, "ann@example.com", "Ann", Some("first@mail.example"));
        ticket(&desk, "ann@example.com", "Ann", None);
        ticket(&desk, "ann@example.com", "Ann", Some("third@mail.example"));
        let ann = desk.find_customer(&actor, "ann@example.com").unwrap();
        let page = desk.consent_page(&actor, ann.id).unwrap();
        assert_eq!(page.customer, ann);
        assert_eq!(
            page.evidence,
            [
                "ann@example.com, Message-ID <third@mail.example>",
                "ann@example.com, Message-ID <first@mail.example>"
            ]
        );
        assert!(page.ledger.is_empty());
        assert!(page.states.iter().all(|s| s.current.is_none()));
    }

    #[test]
    fn audit_page_is_for_admins_filters_and_caps() {
        let dir = tempfile::tempdir().unwrap();
        let desk = desk(dir.path());
        let actor = Actor::local_admin();
        for i in 0..5 {
            ticket(&desk, &format!("c{i}@example.com"), "", None);
        }
        let all = AuditFilter::default();
        // An agent without the admin role is refused; so is a name with no agent.
        desk.add_agent(
            &actor,
            "bob",
            sealdesk_model::AgentRole::Agent,
            &[crate::testing::public_key_line(7)],
        )
        .unwrap();
        let bob = Actor::agent("bob", None, "test");
        assert!(matches!(
            desk.audit_page(&bob, &all, 10),
            Err(DeskError::Forbidden(_))
        ));
        let ghost = Actor::agent("ghost", None, "test");
        assert!(desk.audit_page(&ghost, &all, 10).is_err());
        let page = desk.audit_page(&actor, &all, 3).unwrap();
        assert_eq!(page.events.len(), 3);
        assert_eq!(page.total, page.matched);
        let seqs: Vec<u64> = page.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [page.total, page.total - 1, page.total - 2]);
        let created = AuditFilter {
            action_prefix: "ticket.cre".into(),
            ..AuditFilter::default()
        };
        let page = desk.audit_page(&actor, &created, 100).unwrap();
        assert_eq!(page.matched, 5);
        assert!(page.events.iter().all(|e| e.action == "ticket.create"));
        let today = Timestamp::now().rfc3339()[..10].to_string();
        let dated = AuditFilter {
            date: today,
            agent: actor.name.to_uppercase(),
            ..AuditFilter::default()
        };
        let page = desk.audit_page(&actor, &dated, 100).unwrap();
        assert!(page.matched >= 5);
        let old = AuditFilter {
            date: "2001-01-01".into(),
            ..AuditFilter::default()
        };
        let page = desk.audit_page(&actor, &old, 100).unwrap();
        assert_eq!(page.matched, 0);
        let bad = AuditFilter {
            date: "yesterday".into(),
            ..AuditFilter::default()
        };
        assert!(desk.audit_page(&actor, &bad, 100).is_err());
    }
}
