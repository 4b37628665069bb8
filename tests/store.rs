//! The sealed store on real files: round-trips, no plaintext at rest, tampering,
//! crypto-shredding.

mod common;

use common::*;
use sealdesk_desk::config::Config;
use sealdesk_desk::{Actor, Desk, NewTicket, ThreadEntry};
use sealdesk_model::*;
use sealdesk_store::{Store, StoreError};

fn actor() -> Actor {
    Actor {
        name: "test".into(),
        key_fingerprint: Some("SHA256:test".into()),
        source: "test".into(),
        kind: sealdesk_desk::ActorKind::LocalAdmin,
    }
}

fn new_store() -> (TempDesk, Store) {
    let d = TempDesk::paths_only();
    Store::init(&d.paths(), None).unwrap();
    let s = Store::open(&d.paths(), None).unwrap();
    (d, s)
}

fn sample_message(ticket: TicketNo, customer: &Customer, text: &str) -> Message {
    Message {
        ticket,
        seq: 0,
        kind: MessageKind::Inbound,
        author: Author::Customer {
            id: customer.id,
            address: customer.primary_email().into(),
            name: customer.name.clone(),
        },
        at: Timestamp(1_700_000_000),
        text: text.into(),
        message_id: Some("abc@example.com".into()),
        in_reply_to: Some("prev@example.com".into()),
        references: vec!["root@example.com".into(), "prev@example.com".into()],
        attachments: vec![Attachment {
            id: AttachmentId::random(),
            name: "scan.pdf".into(),
            content_type: "application/pdf".into(),
            size: 3,
        }],
        delivery: Some(Delivery::Failed {
            at: Timestamp(5),
            reason: "550 no such user".into(),
        }),
        parties: Default::default(),
    }
}

#[test]
fn every_model_type_round_trips_through_the_sealed_store() {
    let (d, store) = new_store();
    let mut customer = Customer::new("Ann@Example.com", "Ann Example");
    customer.locale = Some("de-AT".into());
    customer.flags.minor = true;
    customer.emails.push("ann@work.example".into());
    let mut tx = store.begin();
    tx.insert_customer(&customer).unwrap();

    let ticket = Ticket {
        number: tx.next_ticket_number(),
        subject: "Printer on fire".into(),
        status: Status::Pending,
        priority: Priority::Urgent,
        assignee: Some("alice".into()),
        tags: vec!["hardware".into()],
        customer: customer.id,
        created: Timestamp(1),
        updated: Timestamp(2),
        due: Some(Timestamp(3)),
        address: None,
        participants: Vec::new(),
        links: Vec::new(),
        snoozed_until: None,
        due_by_hand: false,
        sla: Default::default(),
    };
    tx.put_ticket(&ticket).unwrap();
    let mut message = sample_message(ticket.number, &customer, "It burns.");
    tx.append_message(&customer.id, &mut message).unwrap();
    tx.put_attachment(&customer.id, &message.attachments[0].id, b"pdf")
        .unwrap();

    let agent = Agent {
        id: AgentId::random(),
        name: "alice".into(),
        role: AgentRole::Admin,
        keys: vec![public_key_line(1, "alice@laptop")],
        theme: Some("light".into()),
        totp_secret: Some(vec![1, 2, 3]),
        created: Timestamp(9),
        signature: Some("-- \nAlice".into()),
    };
    tx.put_agent(&agent).unwrap();

    let mut consent = ConsentRecord {
        customer: customer.id,
        seq: 0,
        purpose: "040".into(),
        categories: vec!["C001".into(), "C132".into()],
        state: ConsentState::Given,
        at: Timestamp(10),
        actor: ConsentActor::Guardian {
            name: "Parent".into(),
            recorded_by: "alice".into(),
        },
        method: "email".into(),
        evidence: "Message-ID <abc@example.com>".into(),
        policy_version: "2026-01".into(),
    };
    tx.append_consent(&mut consent).unwrap();

    let request = PrivacyRequest {
        id: RequestId::random(),
        customer: customer.id,
        ticket: Some(ticket.number),
        kind: RequestKind::Erasure,
        status: RequestStatus::Denied,
        received: Timestamp(11),
        due: Timestamp(11).plus_days(30),
        extension: Some(Extension {
            new_due: Timestamp(99),
            reason: "complex".into(),
            by: "alice".into(),
            at: Timestamp(12),
        }),
        verification: Some(Verification {
            method: "emailed-code".into(),
            by: "alice".into(),
            at: Timestamp(13),
        }),
        pending_code: Some(([7; 32], Timestamp(13))),
        decision: Some(Decision {
            outcome: DecisionOutcome::Denied,
            reason: "legal hold".into(),
            by: "alice".into(),
            at: Timestamp(14),
        }),
    };
    tx.put_request(&request).unwrap();

    tx.audit(AuditEvent {
        seq: 0,
        at: Timestamp(15),
        actor: "alice".into(),
        key_fingerprint: Some("SHA256:x".into()),
        source: "ssh 127.0.0.1:5000".into(),
        action: "ticket.view".into(),
        targets: vec!["#1".into()],
        customer: Some(store.pseudonym(&customer.id)),
        prev_hash: EventHash::GENESIS,
    });
    let (commit, mut events) = store.commit(tx).unwrap();
    store.wait_durable(commit).unwrap();
    let event = events.remove(0);
    drop(store);

    // Everything reads back identically from a freshly opened store.
    let store = Store::open(&d.paths(), None).unwrap();
    assert_eq!(store.customer(&customer.id).unwrap().unwrap(), customer);
    assert_eq!(
        store.customer_by_email("ANN@example.com").unwrap().unwrap(),
        customer
    );
    assert_eq!(
        store
            .customer_by_email("ann@work.example")
            .unwrap()
            .unwrap(),
        customer
    );
    assert_eq!(store.ticket(ticket.number).unwrap().unwrap(), ticket);
    assert_eq!(
        store.customer_tickets(&customer.id).unwrap(),
        vec![ticket.number]
    );
    let thread = store.messages(ticket.number).unwrap();
    assert_eq!(thread.len(), 1);
    assert_eq!(thread[0].as_ref().unwrap(), &message);
    assert_eq!(
        store
            .attachment(&message.attachments[0].id)
            .unwrap()
            .unwrap(),
        b"pdf"
    );
    assert_eq!(store.agents().unwrap(), vec![agent]);
    assert_eq!(store.consents(&customer.id).unwrap(), vec![consent]);
    assert_eq!(store.request(&request.id).unwrap().unwrap(), request);
    let mut events = Vec::new();
    store
        .for_each_audit(|e| {
            events.push(e);
            Ok(())
        })
        .unwrap();
    assert_eq!(events, vec![event.clone()]);
    assert_eq!(store.audit_head().unwrap(), (1, event.hash()));
    assert_eq!(store.begin().next_ticket_number(), TicketNo(2));
}

#[test]
fn no_plaintext_at_rest() {
    let canary = "Zq7canaryK3xW";
    let (d, store) = new_store();
    let desk = Desk::new(store, Config::default());
    for i in 0..5 {
        let email = format!("{}{i}@{canary}.example", canary.to_lowercase());
        let (t, c) = desk
            .create_ticket(
                &actor(),
                NewTicket {
                    from: &email,
                    name: &format!("Name {canary} {i}"),
                    subject: &format!("Subject {canary} {i}"),
                    body: &format!("Body {canary} line\nsecond {canary}"),
                    message_id: Some(format!("{canary}.{i}@mail.example")),
                },
            )
            .unwrap();
        desk.add_note(&actor(), t.number, &format!("note about {canary}"))
            .unwrap();
        desk.add_reply(&actor(), t.number, &format!("reply quoting {canary}"))
            .unwrap();
        let mut consent = ConsentRecord {
            customer: c.id,
            seq: 0,
            purpose: "040".into(),
            categories: vec!["C001".into()],
            state: ConsentState::Given,
            at: Timestamp::now(),
            actor: ConsentActor::Customer,
            method: "email".into(),
            evidence: format!("Message-ID <{canary}.{i}@mail.example>"),
            policy_version: "v1".into(),
        };
        let mut tx = desk.store().begin();
        tx.append_consent(&mut consent).unwrap();
        tx.put_attachment(
            &c.id,
            &AttachmentId::random(),
            format!("file {canary}").as_bytes(),
        )
        .unwrap();
        desk.store().commit(tx).unwrap();
    }
    desk.store().flush().unwrap();
    drop(desk);

    // Addresses are stored lower-cased, so look for that spelling too.
    let all = [needles(canary), needles(&canary.to_lowercase())].concat();
    let hits = scan(&[&d.data, &d.keys], &all);
    assert!(hits.is_empty(), "plaintext found at rest: {hits:?}");

    // The scanner itself works: the canary written in each encoding is found.
    let planted = d.dir.path().join("planted");
    std::fs::create_dir(&planted).unwrap();
    use base64::Engine;
    let text = format!("prefix {canary} suffix");
    std::fs::write(planted.join("utf8"), &text).unwrap();
    std::fs::write(
        planted.join("utf16"),
        text.encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    for pad in 0..3 {
        let shifted = format!("{}{text}", "y".repeat(pad));
        std::fs::write(
            planted.join(format!("b64-{pad}")),
            base64::engine::general_purpose::STANDARD.encode(shifted),
        )
        .unwrap();
    }
    let found = scan(&[&planted], &needles(canary));
    for name in ["utf8", "utf16", "b64-0", "b64-1", "b64-2"] {
        assert!(
            found.iter().any(|(p, _)| p.ends_with(name)),
            "scanner missed {name}: {found:?}"
        );
    }
}

#[test]
fn flipped_bytes_moved_values_and_wrong_keys_are_rejected_cleanly() {
    let (d, store) = new_store();
    let desk = Desk::new(store, Config::default());
    let (t1, c1) = desk
        .create_ticket(
            &actor(),
            NewTicket {
                from: "a@example.com",
                name: "A",
                subject: "one",
                body: "x",
                message_id: None,
            },
        )
        .unwrap();
    let (t2, _) = desk
        .create_ticket(
            &actor(),
            NewTicket {
                from: "b@example.com",
                name: "B",
                subject: "two",
                body: "y",
                message_id: None,
            },
        )
        .unwrap();
    drop(desk);

    // Flip one byte in a customer record and in a ticket's workflow record.
    {
        let db = sled::open(d.data.join("db")).unwrap();
        let customers = db.open_tree("customers").unwrap();
        let mut v = customers.get(c1.id.as_bytes()).unwrap().unwrap().to_vec();
        let last = v.len() - 5;
        v[last] ^= 0x40;
        customers.insert(c1.id.as_bytes(), v).unwrap();
        // Copy ticket 1's sealed workflow over ticket 2's key.
        let tickets = db.open_tree("tickets").unwrap();
        let one = tickets.get(t1.number.0.to_be_bytes()).unwrap().unwrap();
        tickets.insert(t2.number.0.to_be_bytes(), one).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(&d.paths(), None).unwrap();
    let err = store.customer(&c1.id).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("integrity check"), "{err}");
    let err = store.ticket(t2.number).unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt(_)),
        "moved ciphertext accepted: {err:?}"
    );
    assert!(
        store.ticket(t1.number).unwrap().is_some(),
        "the original stays readable"
    );
    drop(store);

    // Another desk's keys: a clear error, not garbage or a panic.
    let other = TempDesk::paths_only();
    Store::init(&other.paths(), None).unwrap();
    let mixed = sealdesk_store::Paths {
        data: d.data.clone(),
        keys: other.keys.clone(),
    };
    let err = Store::open(&mixed, None).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey(_)), "{err:?}");
    assert!(err.to_string().contains("--keys"), "{err}");
}

#[test]
fn destroying_a_customer_key_erases_them_and_only_them_even_in_old_copies() {
    let (d, store) = new_store();
    let desk = Desk::new(store, Config::default());
    let (ta, a) = desk
        .create_ticket(
            &actor(),
            NewTicket {
                from: "a@example.com",
                name: "Ann",
                subject: "A's subject",
                body: "A's body",
                message_id: None,
            },
        )
        .unwrap();
    let (tb, b) = desk
        .create_ticket(
            &actor(),
            NewTicket {
                from: "b@example.com",
                name: "Bob",
                subject: "B's subject",
                body: "B's body",
                message_id: None,
            },
        )
        .unwrap();
    drop(desk);
    // A backup of the data dir taken before the erasure.
    let before = d.dir.path().join("data-before");
    copy_dir(&d.data, &before);
    let keyring_before = std::fs::read(d.keys.join("keyring")).unwrap();

    let store = Store::open(&d.paths(), None).unwrap();
    assert!(store.destroy_customer_key(&a.id).unwrap());
    assert!(
        !store.destroy_customer_key(&a.id).unwrap(),
        "second destroy is a no-op"
    );
    drop(store);

    let keyring_after = std::fs::read(d.keys.join("keyring")).unwrap();
    assert!(keyring_after.len() < keyring_before.len());
    assert!(
        !keyring_after.windows(16).any(|w| w == a.id.as_bytes()),
        "A's entry still in the live keyring"
    );
    assert!(keyring_after.windows(16).any(|w| w == b.id.as_bytes()));
    assert_eq!(
        std::fs::metadata(d.keys.join("keyring"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );

    for data in [d.data.clone(), before] {
        let store = Store::open(
            &sealdesk_store::Paths {
                data,
                keys: d.keys.clone(),
            },
            None,
        )
        .unwrap();
        assert!(matches!(store.customer(&a.id), Err(StoreError::Erased)));
        assert!(matches!(
            store.customer_by_email("a@example.com"),
            Err(StoreError::Erased)
        ));
        assert_eq!(
            store.ticket(ta.number).unwrap().unwrap().subject,
            Personal::Erased
        );
        assert!(matches!(
            store.messages(ta.number).unwrap()[0],
            Err(StoreError::Erased)
        ));
        // B is untouched.
        assert_eq!(store.customer(&b.id).unwrap().unwrap().name, "Bob");
        assert_eq!(
            store.ticket(tb.number).unwrap().unwrap().subject,
            "B's subject"
        );
        assert_eq!(
            store.messages(tb.number).unwrap()[0].as_ref().unwrap().text,
            "B's body"
        );
        let desk = Desk::new(store, Config::default());
        let (_, thread) = desk.ticket_thread(&actor(), ta.number).unwrap();
        assert!(matches!(thread[0], ThreadEntry::Erased));
    }
}

use std::os::unix::fs::PermissionsExt;
