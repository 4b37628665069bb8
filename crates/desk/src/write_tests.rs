//! The unit of work under pressure, at the desk API: many writers at once on one
//! ticket and one customer, erased customers' tickets, interrupted erasures, and roles
//! checked at the moment of each operation. (The same through the real binary and real
//! SMTP clients is in tests/concurrency.rs.)

use super::*;
use crate::testing::{audit_events, public_key_line};
use sealdesk_model::{AgentRole, Author, Priority, Status};
use std::sync::Arc;

/// A test desk that takes any amount of mail from one sender.
fn desk(dir: &std::path::Path) -> Desk {
    let desk = crate::testing::desk(dir);
    let mut config = desk.config();
    config.mail.rate_limit = 1_000_000;
    desk.replace_config(config);
    desk
}

fn admin() -> Actor {
    Actor::local_admin()
}

fn mail(from: &str, subject: &str, id: &str, in_reply_to: Option<&str>, body: &str) -> Vec<u8> {
    let mut m = format!(
        "From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n"
    );
    if let Some(parent) = in_reply_to {
        m.push_str(&format!(
            "In-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"
        ));
    }
    m.push_str(&format!("\r\n{body}\r\n"));
    m.into_bytes()
}

fn receive(desk: &Desk, raw: &[u8]) -> Filed {
    desk.receive_mail(Incoming {
        raw,
        envelope_from: None,
        source: "test",
    })
    .unwrap()
}

/// Files a mail that must open a new ticket; its number.
fn new_ticket(desk: &Desk, raw: &[u8]) -> TicketNo {
    match receive(desk, raw) {
        Filed::NewTicket(n) => n,
        other => panic!("not a new ticket: {other:?}"),
    }
}

/// Texts of a ticket's readable messages.
fn texts(desk: &Desk, n: TicketNo) -> Vec<String> {
    desk.store()
        .messages(n)
        .unwrap()
        .into_iter()
        .map(|m| m.unwrap().text)
        .collect()
}

fn count_actions(desk: &Desk, action: &str) -> usize {
    audit_events(desk)
        .iter()
        .filter(|e| e.action == action)
        .count()
}

#[test]
fn many_writers_replying_to_one_ticket_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(desk(dir.path()));
    let first = new_ticket(
        &desk,
        &mail("ann@example.com", "Help", "root@x", None, "start"),
    );
    let threads: Vec<_> = (0..8)
        .map(|w| {
            let desk = desk.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    // Two senders share each address, so replies race on the ticket
                    // and on the customer both.
                    let from = format!("colleague{}@example.com", w % 4);
                    let raw = mail(
                        &from,
                        "Re: Help",
                        &format!("r{w}.{i}@x"),
                        Some("root@x"),
                        &format!("marker-{w}-{i}"),
                    );
                    assert_eq!(receive(&desk, &raw), Filed::Appended(first));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let thread = texts(&desk, first);
    assert_eq!(
        thread.len(),
        1 + 8 * 40,
        "every acknowledged reply is stored"
    );
    for w in 0..8 {
        for i in 0..40 {
            let marker = format!("marker-{w}-{i}");
            assert_eq!(
                thread.iter().filter(|t| t.trim() == marker).count(),
                1,
                "{marker}"
            );
        }
    }
    assert_eq!(count_actions(&desk, "mail.reply"), 8 * 40);
    // One address, one customer: the ann and four colleagues.
    assert_eq!(desk.store().customer_ids().unwrap().len(), 5);
    assert!(matches!(
        desk.verify_audit().unwrap(),
        AuditReport::Intact { .. }
    ));
}

#[test]
fn new_senders_at_once_are_one_customer_each() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(desk(dir.path()));
    let threads: Vec<_> = (0..9)
        .map(|w| {
            let desk = desk.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let from = format!("new{}@example.com", (w + i) % 3);
                    let raw = mail(
                        &from,
                        &format!("Question {w}.{i}"),
                        &format!("n{w}.{i}@x"),
                        None,
                        "hello",
                    );
                    assert!(matches!(receive(&desk, &raw), Filed::NewTicket(_)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(desk.store().customer_ids().unwrap().len(), 3);
    let tickets = desk.store().tickets().unwrap();
    assert_eq!(tickets.len(), 90);
    for n in 0..3 {
        let c = desk
            .store()
            .customer_by_email(&format!("new{n}@example.com"))
            .unwrap()
            .unwrap();
        assert_eq!(desk.store().customer_tickets(&c.id).unwrap().len(), 30);
    }
    let mut numbers: Vec<u64> = tickets.iter().map(|t| t.number.0).collect();
    numbers.dedup();
    assert_eq!(
        numbers,
        (1..=90).collect::<Vec<_>>(),
        "no number twice, none skipped"
    );
}

#[test]
fn two_agents_and_arriving_mail_on_one_ticket_keep_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(desk(dir.path()));
    let n = new_ticket(
        &desk,
        &mail("ann@example.com", "Help", "root@x", None, "start"),
    );
    let alice = desk.clone();
    let a = std::thread::spawn(move || {
        for i in 0..60 {
            let p = if i % 2 == 0 {
                Priority::High
            } else {
                Priority::Urgent
            };
            alice.set_priority(&admin(), n, p).unwrap();
        }
    });
    let bob = desk.clone();
    let b = std::thread::spawn(move || {
        for i in 0..60 {
            bob.set_tags(&admin(), n, &[format!("t{i}")]).unwrap();
            bob.add_note(&admin(), n, &format!("note-{i}")).unwrap();
        }
    });
    let mailer = desk.clone();
    let m = std::thread::spawn(move || {
        for i in 0..60 {
            let raw = mail(
                "ann@example.com",
                "Re: Help",
                &format!("m{i}@x"),
                Some("root@x"),
                &format!("mail-{i}"),
            );
            mailer
                .receive_mail(Incoming {
                    raw: &raw,
                    envelope_from: None,
                    source: "test",
                })
                .unwrap();
        }
    });
    for t in [a, b, m] {
        t.join().unwrap();
    }
    let t = desk.store().ticket(n).unwrap().unwrap();
    assert_eq!(t.priority, Priority::Urgent, "alice's last change");
    assert_eq!(t.tags, vec!["t59".to_string()], "bob's last change");
    let thread = texts(&desk, n);
    assert_eq!(thread.len(), 1 + 60 + 60);
    for i in 0..60 {
        assert!(thread.iter().any(|t| t == &format!("note-{i}")));
        assert!(thread.iter().any(|t| t.trim() == format!("mail-{i}")));
    }
    assert_eq!(count_actions(&desk, "ticket.priority"), 60);
    assert_eq!(count_actions(&desk, "ticket.tags"), 60);
    assert_eq!(count_actions(&desk, "ticket.note"), 60);
    assert_eq!(count_actions(&desk, "mail.reply"), 60);
    // The queue index saw the last of each, too.
    let row = desk.queue_row(n).unwrap().unwrap();
    assert_eq!(row.ticket.priority, Priority::Urgent);
    assert_eq!(row.ticket.tags, vec!["t59".to_string()]);
}

#[test]
fn an_erased_customers_tickets_can_still_be_worked_and_merged() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    let gone = new_ticket(
        &desk,
        &mail(
            "gone@example.com",
            "Secret subject",
            "g1@x",
            None,
            "my words",
        ),
    );
    receive(
        &desk,
        &mail(
            "gone@example.com",
            "Re: x",
            "g2@x",
            Some("g1@x"),
            "more words",
        ),
    );
    desk.add_note(&admin(), gone, "agent note").unwrap();
    let kept = new_ticket(
        &desk,
        &mail("kept@example.com", "Other", "k1@x", None, "hello"),
    );
    let gone_id = desk
        .store()
        .customer_by_email("gone@example.com")
        .unwrap()
        .unwrap()
        .id;
    desk.cancel_customer(
        &admin(),
        "gone@example.com",
        "gone@example.com",
        &crate::Authority::Override("test".into()),
    )
    .unwrap();
    let before = audit_events(&desk).len();

    for status in [Status::Closed, Status::Open] {
        let t = desk.set_status(&admin(), gone, status).unwrap();
        assert_eq!(t.status, status);
        assert_eq!(desk.store().ticket(gone).unwrap().unwrap().status, status);
    }
    desk.set_priority(&admin(), gone, Priority::High).unwrap();
    desk.set_tags(&admin(), gone, &["after-erasure".into()])
        .unwrap();
    let t = desk.store().ticket(gone).unwrap().unwrap();
    assert_eq!(
        t.subject,
        sealdesk_model::Personal::Erased,
        "the erased subject stays erased"
    );
    assert_eq!(t.priority, Priority::High);
    assert!(
        desk.store().customer_tickets(&gone_id).unwrap().is_empty(),
        "no index entry comes back for the erased customer"
    );
    assert_eq!(
        audit_events(&desk).len(),
        before + 4,
        "each change audited once"
    );

    // Merge the erased ticket into another: its placeholders move as placeholders.
    let placeholders = desk.store().messages(gone).unwrap().len();
    assert_eq!(placeholders, 3);
    desk.merge(&admin(), gone, kept).unwrap();
    let thread = desk.store().messages(kept).unwrap();
    assert_eq!(
        thread.len(),
        1 + placeholders + 1,
        "first mail, moved entries, merge note"
    );
    let moved: Vec<_> = thread[1..=placeholders]
        .iter()
        .map(|m| m.as_ref().unwrap())
        .collect();
    assert!(moved
        .iter()
        .all(|m| m.text == sealdesk_model::ERASED && m.author == Author::Erased));
    assert_eq!(
        desk.store().ticket(gone).unwrap().unwrap().status,
        Status::Closed
    );
    assert_eq!(count_actions(&desk, "ticket.merge"), 1);

    // And the other way round: into the erased customer's ticket.
    let third = new_ticket(
        &desk,
        &mail("kept@example.com", "Third", "k2@x", None, "again"),
    );
    desk.merge(&admin(), third, gone).unwrap();
    let thread = texts(&desk, gone);
    assert!(
        thread.iter().any(|t| t.contains("again")),
        "kept's words, still readable"
    );
    assert!(matches!(
        desk.verify_audit().unwrap(),
        AuditReport::Intact { .. }
    ));
}

#[test]
fn an_interrupted_erasure_is_finished_when_the_desk_opens() {
    let dir = tempfile::tempdir().unwrap();
    let paths = sealdesk_store::Paths {
        data: dir.path().join("data"),
        keys: dir.path().join("keys"),
    };
    let id;
    {
        let desk = Desk::new(
            crate::testing::new_store(&paths),
            crate::config::Config::default(),
        );
        for i in 0..5 {
            receive(
                &desk,
                &mail(
                    "gone@example.com",
                    &format!("Subject {i}"),
                    &format!("g{i}@x"),
                    None,
                    "words",
                ),
            );
        }
        receive(
            &desk,
            &mail("kept@example.com", "Kept", "k@x", None, "kept words"),
        );
        let c = desk
            .store()
            .customer_by_email("gone@example.com")
            .unwrap()
            .unwrap();
        id = c.id;
        // The process decided, journalled, and died before the erasure's unit.
        desk.store().journal_erasure(&c.id, &c.emails).unwrap();
    }
    let desk = Desk::new(
        sealdesk_store::Store::open(&paths, None).unwrap(),
        crate::config::Config::default(),
    );
    assert!(
        desk.store().customer(&id).unwrap().is_some(),
        "not finished yet"
    );
    assert_eq!(desk.resume_erasures().unwrap(), 1);
    assert!(desk.store().customer(&id).unwrap().is_none());
    assert!(!desk.store().has_customer_key(&id));
    let tickets = desk.store().tickets().unwrap();
    assert_eq!(tickets.len(), 6, "workflow survives");
    assert_eq!(tickets.iter().filter(|t| t.subject.is_erased()).count(), 5);
    assert_eq!(count_actions(&desk, "customer.erase.resumed"), 1);
    assert_eq!(desk.resume_erasures().unwrap(), 0, "nothing left to finish");
    assert!(matches!(
        desk.verify_audit().unwrap(),
        AuditReport::Intact { .. }
    ));
}

#[test]
fn admin_work_is_refused_to_agents_at_the_desk_and_follows_role_changes() {
    let dir = tempfile::tempdir().unwrap();
    let desk = desk(dir.path());
    desk.add_agent(&admin(), "boss", AgentRole::Admin, &[public_key_line(1)])
        .unwrap();
    let boss = Actor::agent("boss", None, "ssh 192.0.2.1:1");
    let rate_limit = desk.config().mail.rate_limit;
    receive(&desk, &mail("ann@example.com", "Hi", "a@x", None, "hello"));
    let Filed::Quarantined(q, _) = receive(&desk, b"not a mail at all") else {
        panic!("garbage was filed")
    };
    // An admin agent may.
    assert!(desk.quarantine_item(&boss, &q).is_ok());
    assert!(desk.audit_page(&boss, &AuditFilter::default(), 10).is_ok());

    // Demoted while "logged in": the very next operation is refused.
    desk.set_agent(
        &admin(),
        "boss",
        &AgentChanges {
            role: Some(AgentRole::Agent),
            ..Default::default()
        },
    )
    .unwrap();
    let forbidden = |r: Result<()>| assert!(matches!(r, Err(DeskError::Forbidden(_))), "{r:?}");
    forbidden(
        desk.cancel_customer(
            &boss,
            "ann@example.com",
            "ann@example.com",
            &crate::Authority::Override("test".into()),
        )
        .map(drop),
    );
    forbidden(
        desk.audit_page(&boss, &AuditFilter::default(), 10)
            .map(drop),
    );
    forbidden(desk.export_audit(&boss).map(drop));
    forbidden(desk.quarantine_item(&boss, &q).map(drop));
    forbidden(desk.release_quarantine(&boss, &q).map(drop));
    forbidden(desk.delete_quarantine(&boss, &q));
    forbidden(
        desk.add_agent(&boss, "eve", AgentRole::Admin, &[public_key_line(2)])
            .map(drop),
    );
    forbidden(desk.remove_agent(&boss, "boss").map(drop));
    forbidden(
        desk.set_agent(
            &boss,
            "boss",
            &AgentChanges {
                role: Some(AgentRole::Admin),
                ..Default::default()
            },
        )
        .map(drop),
    );
    forbidden(desk.set_config_key(&boss, "mail.rate_limit", "5").map(drop));
    forbidden(desk.backup(&boss, &dir.path().join("b.sdb")).map(drop));
    forbidden(
        desk.run_retention(&boss, false, sealdesk_model::Timestamp::now())
            .map(drop),
    );
    forbidden(desk.set_agent_theme(&boss, "alice", "light"));
    // Nothing happened: the customer, the quarantined mail and the config are as they were.
    assert!(desk
        .store()
        .customer_by_email("ann@example.com")
        .unwrap()
        .is_some());
    assert_eq!(desk.quarantine().unwrap().len(), 1);
    assert_eq!(desk.config().mail.rate_limit, rate_limit);
    // What agents may do still works.
    assert!(desk.set_agent_theme(&boss, "boss", "light").is_ok());
    assert!(desk.set_status(&boss, TicketNo(1), Status::Open).is_ok());

    // Promoted again: allowed at once.
    desk.set_agent(
        &admin(),
        "boss",
        &AgentChanges {
            role: Some(AgentRole::Admin),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(desk.delete_quarantine(&boss, &q).is_ok());
    assert_eq!(desk.current_role(&boss).unwrap(), Some(AgentRole::Admin));
}

#[test]
fn consents_and_request_decisions_from_many_agents_at_once_stay_whole() {
    use sealdesk_model::{ConsentState, RequestKind, RequestStatus};
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(desk(dir.path()));
    let n = new_ticket(
        &desk,
        &mail("ann@example.com", "Help", "root@x", None, "start"),
    );
    let ann = desk
        .store()
        .customer_by_email("ann@example.com")
        .unwrap()
        .unwrap();
    // Eight agents record consent for one customer at once: every record kept, each
    // at its own place in the ledger.
    let threads: Vec<_> = (0..8)
        .map(|w| {
            let desk = desk.clone();
            let ann = ann.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let evidence = format!("e{w}.{i}");
                    desk.record_consent(
                        &admin(),
                        &ann,
                        NewConsent {
                            purpose: "040",
                            state: ConsentState::Given,
                            categories: &[],
                            method: "email",
                            evidence: &evidence,
                            policy_version: "v1",
                            guardian: None,
                        },
                    )
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let ledger = desk.store().consents(&ann.id).unwrap();
    assert_eq!(ledger.len(), 80);
    let mut seqs: Vec<u64> = ledger.iter().map(|r| r.seq).collect();
    seqs.dedup();
    assert_eq!(seqs, (1..=80).collect::<Vec<_>>());

    // Two agents decide one verified request at the same moment, one completing it, one
    // denying it: exactly one decision stands, and only it is audited.
    for round in 0..10 {
        let r = desk
            .open_request(&admin(), &ann, RequestKind::Access, Some(n))
            .unwrap();
        desk.verify_request(&admin(), &r.id, "called back").unwrap();
        let (a, b) = (desk.clone(), desk.clone());
        let (ida, idb) = (r.id, r.id);
        let done = std::thread::spawn(move || a.complete_request(&admin(), &ida, "sent").is_ok());
        let denied =
            std::thread::spawn(move || b.deny_request(&admin(), &idb, "duplicate").is_ok());
        let (done, denied) = (done.join().unwrap(), denied.join().unwrap());
        assert!(done ^ denied, "round {round}: exactly one decision wins");
        let stored = desk.request(&r.id).unwrap();
        let expected = if done {
            RequestStatus::Completed
        } else {
            RequestStatus::Denied
        };
        assert_eq!(stored.status, expected);
    }
    assert_eq!(
        count_actions(&desk, "request.complete") + count_actions(&desk, "request.deny"),
        10
    );
}

#[test]
fn settings_and_profiles_changed_at_once_stay_whole() {
    let dir = tempfile::tempdir().unwrap();
    let desk = Arc::new(desk(dir.path()));
    // Four admins add the same agent name at once: one agent, one audit event.
    let threads: Vec<_> = (0..4u8)
        .map(|w| {
            let desk = desk.clone();
            std::thread::spawn(move || {
                desk.add_agent(
                    &admin(),
                    "carol",
                    AgentRole::Agent,
                    &[public_key_line(10 + w)],
                )
                .is_ok()
            })
        })
        .collect();
    let added = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|&ok| ok)
        .count();
    assert_eq!(added, 1);
    assert_eq!(
        desk.agents()
            .unwrap()
            .iter()
            .filter(|a| a.name == "carol")
            .count(),
        1
    );
    assert_eq!(count_actions(&desk, "agent.add"), 1);

    // A customer renamed while their mail arrives: the new name and every mail kept.
    let n = new_ticket(
        &desk,
        &mail("ann@example.com", "Help", "root@x", None, "start"),
    );
    let mailer = desk.clone();
    let m = std::thread::spawn(move || {
        for i in 0..40 {
            let raw = mail(
                "ann@example.com",
                "Re: Help",
                &format!("m{i}@x"),
                Some("root@x"),
                &format!("mail-{i}"),
            );
            receive(&mailer, &raw);
        }
    });
    for i in 0..40 {
        let mut ann = desk
            .store()
            .customer_by_email("ann@example.com")
            .unwrap()
            .unwrap();
        ann.name = format!("Ann {i}");
        desk.update_customer(&admin(), ann, "name").unwrap();
    }
    m.join().unwrap();
    let ann = desk
        .store()
        .customer_by_email("ann@example.com")
        .unwrap()
        .unwrap();
    assert_eq!(ann.name, "Ann 39");
    assert_eq!(desk.store().customer_ids().unwrap().len(), 1);
    assert_eq!(texts(&desk, n).len(), 41);
    assert_eq!(count_actions(&desk, "customer.update"), 40);
}
