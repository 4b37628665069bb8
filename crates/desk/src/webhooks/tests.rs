//! Deliveries are queued with the change that causes them, and only then.

use crate::testing::{desk, new_ticket};
use crate::write::Hold;
use crate::{Actor, Desk, NewTicket};
use sealdesk_model::{RequestKind, Status, TicketNo, Timestamp, WebhookEvent};

fn queued(desk: &Desk, hook: u64) -> Vec<(WebhookEvent, Option<u64>)> {
    desk.store
        .webhook_queue(hook)
        .unwrap()
        .into_iter()
        .map(|d| (d.event, d.ticket.map(|t| t.number)))
        .collect()
}

fn hook(desk: &Desk, events: &str) -> u64 {
    let admin = Actor::local_admin();
    let events = super::parse_events(events).unwrap();
    desk.add_webhook(&admin, "http://127.0.0.1:9/h", events, false)
        .unwrap()
        .hook
        .id
}

#[test]
fn a_change_queues_its_events_in_its_own_unit_and_no_change_queues_none() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let admin = Actor::local_admin();
    let all = hook(&desk, "ticket.created,ticket.status,ticket.assigned");
    let status_only = hook(&desk, "ticket.status");
    let n = new_ticket(&desk, "a@example.net", "hello", "body");
    assert_eq!(
        queued(&desk, all),
        vec![(WebhookEvent::TicketCreated, Some(n.0))]
    );
    assert!(queued(&desk, status_only).is_empty());

    // The same status again changes nothing: nothing is queued.
    desk.set_status(&admin, n, Status::New).unwrap();
    assert_eq!(queued(&desk, all).len(), 1);
    desk.set_status(&admin, n, Status::Open).unwrap();
    assert_eq!(
        queued(&desk, status_only),
        vec![(WebhookEvent::TicketStatus, Some(n.0))]
    );
    // A change that fails queues nothing.
    assert!(desk.set_status(&admin, TicketNo(99), Status::Open).is_err());
    assert_eq!(queued(&desk, status_only).len(), 1);

    // A quiet unit (an import) queues nothing, even what it asks for.
    desk.write(&admin, &[Hold::Ticket(n)], |u| {
        u.set_quiet();
        let t = u.tx.store().ticket(n)?.unwrap();
        u.ticket_webhook(WebhookEvent::TicketStatus, &t)
    })
    .unwrap();
    assert_eq!(queued(&desk, status_only).len(), 1);

    // A disabled hook is queued nothing; removing a hook takes its queue.
    let mut h = desk.store.webhook(status_only).unwrap().unwrap();
    h.enabled = false;
    let mut tx = desk.store.begin();
    tx.put_webhook(&h).unwrap();
    desk.store.commit(tx).unwrap();
    desk.set_status(&admin, n, Status::Pending).unwrap();
    assert_eq!(queued(&desk, status_only).len(), 1);
    assert_eq!(queued(&desk, all).len(), 3);
    desk.remove_webhook(&admin, all).unwrap();
    assert!(queued(&desk, all).is_empty());

    // In order: ids rise in the order events were staged.
    let ids: Vec<u64> = desk
        .store
        .webhook_queue(status_only)
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_privacy_request_is_told_once_when_due_soon_and_once_when_overdue() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let admin = Actor::local_admin();
    let h = hook(&desk, "request.due");
    let (ticket, customer) = desk
        .create_ticket(
            &admin,
            NewTicket {
                from: "b@example.net",
                name: "",
                subject: "my data",
                body: "send it",
                message_id: None,
            },
        )
        .unwrap();
    let r = desk
        .open_request(&admin, &customer, RequestKind::Access, Some(ticket.number))
        .unwrap();
    let now = Timestamp::now();
    assert_eq!(desk.queue_due_requests(now).unwrap(), 0, "not due yet");
    let soon = Timestamp(r.due.0 - 86_400);
    assert_eq!(desk.queue_due_requests(soon).unwrap(), 1);
    assert_eq!(desk.queue_due_requests(soon).unwrap(), 0, "told once");
    let late = Timestamp(r.due.0 + 60);
    assert_eq!(desk.queue_due_requests(late).unwrap(), 1);
    let q = desk.store.webhook_queue(h).unwrap();
    let urgencies: Vec<String> = q
        .iter()
        .map(|d| d.request.as_ref().unwrap().urgency.clone())
        .collect();
    assert_eq!(urgencies, vec!["due_soon", "overdue"]);
    assert!(q.iter().all(|d| d.event == WebhookEvent::RequestDue));
    assert_eq!(q[0].ticket.as_ref().unwrap().number, ticket.number.0);
}

#[test]
fn urls_and_events_are_checked() {
    for bad in [
        "ftp://x/",
        "https://",
        "http://user:pw@host/",
        "http://host/a b",
        "hooks.example.com",
    ] {
        assert!(super::check_url(bad).is_err(), "{bad}");
    }
    for good in ["https://hooks.example.com/x?y=1", "http://127.0.0.1:8080/"] {
        super::check_url(good).unwrap();
    }
    assert!(super::parse_events("ticket.created,nope").is_err());
    assert!(
        super::parse_events("ping").is_err(),
        "pings are only sent by test"
    );
    assert!(super::parse_events("").is_err());
    assert_eq!(
        super::parse_events("ticket.status, ticket.status").unwrap(),
        vec![WebhookEvent::TicketStatus]
    );
}
