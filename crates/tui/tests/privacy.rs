//! The privacy screens end to end: a real desk on disk, keys in, TestBackend out, and
//! the desk's state checked after each step.

use sealdesk_tui::event::KeyCode;
use sealdesk_tui::App;
mod common;

use common::{
    actor, code, fixture, help_pages, keys, locate, render, row_with, screen, text, Fixture,
};
use sealdesk_desk::{Actor, NewTicket};
use sealdesk_model::{
    AuditEvent, ConsentActor, ConsentState, Customer, PrivacyRequest, RequestKind, RequestStatus,
    TicketNo, Timestamp,
};
use sealdesk_tui::theme::{Role, Theme};

impl Fixture {
    /// A ticket whose first mail carries a Message-ID, for consent evidence.
    fn ticket_with_id(&self, from: &str, name: &str, subject: &str, id: &str) -> TicketNo {
        let new = NewTicket {
            from,
            name,
            subject,
            body: "hello",
            message_id: Some(id.into()),
        };
        self.desk
            .create_ticket(&actor("mail"), new)
            .unwrap()
            .0
            .number
    }

    fn customer(&self, email: &str) -> Customer {
        self.desk.find_customer(&actor("test"), email).unwrap()
    }

    fn requests(&self) -> Vec<PrivacyRequest> {
        self.desk.requests().unwrap()
    }

    fn audit_log(&self) -> Vec<AuditEvent> {
        let mut events = Vec::new();
        self.desk
            .store()
            .for_each_audit(|e| {
                events.push(e);
                Ok(())
            })
            .unwrap();
        events
    }
}

/// A wide screen: status messages carry paths and reasons.
fn wide(app: &mut App) -> String {
    text(&render(app, 200, 40))
}

/// The current consent entry for a purpose.
fn consent_for(fx: &Fixture, email: &str, purpose: &str) -> Option<sealdesk_model::ConsentRecord> {
    let customer = fx.customer(email);
    let (states, _) = fx.desk.consent_overview(&actor("test"), &customer).unwrap();
    states
        .into_iter()
        .find(|s| s.purpose.code == purpose)
        .and_then(|s| s.current)
}

#[test]
fn consent_is_given_then_withdrawn_through_keys() {
    let fx = fixture();
    fx.ticket_with_id(
        "ann@example.com",
        "Ann Lee",
        "Newsletter?",
        "m1@mail.example",
    );
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "c");
    // One keystroke from the customer: every purpose and its state.
    keys(&mut app, "C");
    let s = wide(&mut app);
    assert!(s.contains("Consent: Ann Lee"), "{s}");
    assert!(row_with(&s, "marketing").contains("never asked"), "{s}");
    assert!(s.contains("Queue › #1 › Ann Lee › Consent"), "{s}");

    // g: the form starts on the categories of the selected purpose (040 marketing).
    keys(&mut app, "g");
    let s = wide(&mut app);
    assert!(s.contains("Record consent: given"), "{s}");
    assert!(s.contains("‹ 040 marketing ›"), "{s}");
    keys(&mut app, " "); // tick C001
    code(&mut app, KeyCode::Tab); // method: email
    code(&mut app, KeyCode::Tab); // evidence
    code(&mut app, KeyCode::Right); // the customer's Message-ID
    let s = wide(&mut app);
    assert!(
        s.contains("ann@example.com, Message-ID <m1@mail.example>"),
        "{s}"
    );
    code(&mut app, KeyCode::Tab); // policy version
    keys(&mut app, "v2");
    code(&mut app, KeyCode::Enter);

    let given = consent_for(&fx, "ann@example.com", "040").expect("recorded");
    assert_eq!(given.state, ConsentState::Given);
    assert_eq!(given.categories, ["C001"]);
    assert_eq!(given.method, "email");
    assert_eq!(
        given.evidence,
        "ann@example.com, Message-ID <m1@mail.example>"
    );
    assert_eq!(given.policy_version, "v2");
    assert_eq!(
        given.actor,
        ConsentActor::Agent {
            name: "alice".into()
        }
    );
    let s = wide(&mut app);
    assert!(s.contains("recorded: purpose 040 given"), "{s}");
    let row = row_with(&s, "marketing");
    assert!(row.contains("given") && row.contains("agent alice"), "{s}");
    assert!(row.contains("v2"), "{s}");
    assert!(s.contains("History (1, newest first)"), "{s}");

    // w: a withdrawal of the same purpose, its categories already ticked.
    keys(&mut app, "w");
    code(&mut app, KeyCode::Enter);
    let withdrawn = consent_for(&fx, "ann@example.com", "040").unwrap();
    assert_eq!(withdrawn.state, ConsentState::Withdrawn);
    assert_eq!(withdrawn.categories, ["C001"]);
    assert!(withdrawn.seq > given.seq);
    let s = wide(&mut app);
    assert!(row_with(&s, "040 marketing:").contains("withdrawn"), "{s}");
    assert!(s.contains("History (2, newest first)"), "{s}");

    // r on the next purpose: refused, and the first stays withdrawn.
    keys(&mut app, "jr");
    code(&mut app, KeyCode::Enter);
    let refused = consent_for(&fx, "ann@example.com", "069").unwrap();
    assert_eq!(refused.state, ConsentState::Refused);
    assert_eq!(
        consent_for(&fx, "ann@example.com", "040").unwrap().state,
        ConsentState::Withdrawn
    );
}

#[test]
fn a_minors_consent_needs_a_guardian() {
    let fx = fixture();
    let n = fx.ticket("kid@example.com", "Kid", "Game account", "hi");
    let mut kid = fx.customer("kid@example.com");
    kid.flags.minor = true;
    fx.desk
        .update_customer(&actor("test"), kid, "minor=true")
        .unwrap();
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    // From the ticket, straight to the customer's consent.
    keys(&mut app, "C");
    let s = wide(&mut app);
    assert!(s.contains("minor: consent needs a guardian"), "{s}");
    assert!(s.contains(&format!("Queue › {n} › Consent")), "{s}");
    keys(&mut app, "g");
    assert!(wide(&mut app).contains("guardian (minor)"));
    code(&mut app, KeyCode::Enter);
    let s = wide(&mut app);
    assert!(
        row_with(&s, "alice (agent)").contains("refused: this customer is a minor"),
        "the reason is in the status line: {s}"
    );
    assert!(s.contains("Record consent: given"), "the form is back: {s}");
    assert!(consent_for(&fx, "kid@example.com", "040").is_none());

    // The guardian field is the last one: fill it in and save.
    for _ in 0..4 {
        code(&mut app, KeyCode::Tab);
    }
    keys(&mut app, "Mary Kid");
    code(&mut app, KeyCode::Enter);
    let given = consent_for(&fx, "kid@example.com", "040").expect("recorded");
    assert_eq!(given.state, ConsentState::Given);
    assert_eq!(
        given.actor,
        ConsentActor::Guardian {
            name: "Mary Kid".into(),
            recorded_by: "alice".into()
        }
    );
    assert!(row_with(&wide(&mut app), "marketing").contains("guardian Mary Kid"));
}

#[test]
fn a_request_from_a_ticket_is_verified_extended_and_completed_by_keys() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "What do you hold on me?", "GDPR");
    fx.ticket("bo@example.com", "Bo", "Printer", "x");
    let mut app = fx.app("alice", 1);
    let s = screen(&mut app);
    assert!(!row_with(&s, "What do you hold").contains('§'), "{s}");
    // The queue is sorted by update: #2 first.
    keys(&mut app, "j");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "P");
    let s = wide(&mut app);
    assert!(s.contains("access: see what we hold"), "{s}");
    code(&mut app, KeyCode::Enter);
    let requests = fx.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        (r.kind, r.status, r.ticket),
        (RequestKind::Access, RequestStatus::Unverified, Some(n))
    );
    assert!(wide(&mut app).contains("access request opened, due"));

    // Back on the queue, the ticket carries the marker; other tickets do not.
    code(&mut app, KeyCode::Esc);
    let s = screen(&mut app);
    assert!(row_with(&s, "What do you hold").contains('§'), "{s}");
    assert!(!row_with(&s, "Printer").contains('§'), "{s}");

    keys(&mut app, "R");
    let s = wide(&mut app);
    let row = row_with(&s, "unverified");
    assert!(
        row.contains("access") && row.contains("Ann <ann@example.com>"),
        "{s}"
    );
    assert!(row.contains(&n.to_string()), "{s}");
    code(&mut app, KeyCode::Enter);
    let s = wide(&mut app);
    assert!(s.contains("Privacy request: access"), "{s}");
    assert!(s.contains("not yet: v records how"), "{s}");

    // Completing before verifying is refused by the desk, with its reason.
    keys(&mut app, "c");
    code(&mut app, KeyCode::Enter);
    assert!(wide(&mut app).contains("cannot complete request"));
    assert_eq!(fx.requests()[0].status, RequestStatus::Unverified);

    keys(&mut app, "vcalled back on the number on file");
    code(&mut app, KeyCode::Enter);
    let r = fx.requests().remove(0);
    assert_eq!(r.status, RequestStatus::Verified);
    assert_eq!(
        r.verification.as_ref().unwrap().method,
        "called back on the number on file"
    );
    assert!(wide(&mut app).contains("identity verified"));

    let due = r.due;
    keys(&mut app, "xwaiting for the archive");
    code(&mut app, KeyCode::Enter);
    let r = fx.requests().remove(0);
    let extension = r.extension.as_ref().expect("extended");
    assert_eq!(extension.reason, "waiting for the archive");
    assert!(r.due > due);
    keys(&mut app, "xagain");
    code(&mut app, KeyCode::Enter);
    assert!(wide(&mut app).contains("extended once already"));

    keys(&mut app, "csent the export");
    code(&mut app, KeyCode::Enter);
    let r = fx.requests().remove(0);
    assert_eq!(r.status, RequestStatus::Completed);
    assert_eq!(r.decision.as_ref().unwrap().reason, "sent the export");
    let s = wide(&mut app);
    assert!(s.contains("request completed"), "{s}");
    assert!(s.contains("completed by alice"), "{s}");

    // Back to the queue: a finished request no longer marks the ticket.
    code(&mut app, KeyCode::Esc);
    let s = wide(&mut app);
    assert!(row_with(&s, "completed").contains("done"), "{s}");
    code(&mut app, KeyCode::Esc);
    let s = screen(&mut app);
    assert!(!row_with(&s, "What do you hold").contains('§'), "{s}");
}

/// A request opened elsewhere (the CLI, another agent) marks the ticket in a queue that
/// is already open, as soon as the change is announced.
#[test]
fn a_request_opened_elsewhere_marks_an_open_queue() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "What do you hold on me?", "GDPR");
    let mut changes = fx.desk.subscribe();
    let mut app = fx.app("alice", 1);
    assert!(!row_with(&screen(&mut app), "What do you hold").contains('§'));
    let ann = fx.customer("ann@example.com");
    fx.desk
        .open_request(&actor("bob"), &ann, RequestKind::Access, Some(n))
        .unwrap();
    // The desk announces the request's ticket itself.
    common::deliver(&mut changes, &mut app);
    let s = screen(&mut app);
    assert!(row_with(&s, "What do you hold").contains('§'), "{s}");
}

#[test]
fn deny_needs_a_reason_and_export_answers_an_export_request() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Send me my data", "x");
    let ann = fx.customer("ann@example.com");
    fx.desk
        .open_request(&actor("test"), &ann, RequestKind::Erasure, Some(n))
        .unwrap();
    let export = fx
        .desk
        .open_request(&actor("test"), &ann, RequestKind::Export, None)
        .unwrap();
    fx.desk
        .verify_request(&actor("test"), &export.id, "called back")
        .unwrap();
    let mut app = fx.app("alice", 1);
    keys(&mut app, "R");
    // Both due later; the erasure (30 days) after the export (15 days).
    keys(&mut app, "j");
    code(&mut app, KeyCode::Enter);
    assert!(wide(&mut app).contains("Privacy request: erasure"));
    keys(&mut app, "e");
    assert!(wide(&mut app).contains("not answered with an export"));
    keys(&mut app, "d");
    code(&mut app, KeyCode::Enter);
    assert!(wide(&mut app).contains("a refusal needs a reason"));
    keys(&mut app, "dlegal obligation to keep invoices");
    code(&mut app, KeyCode::Enter);
    let denied = fx
        .requests()
        .into_iter()
        .find(|r| r.kind == RequestKind::Erasure)
        .unwrap();
    assert_eq!(denied.status, RequestStatus::Denied);
    assert_eq!(
        denied.decision.unwrap().reason,
        "legal obligation to keep invoices"
    );

    code(&mut app, KeyCode::Esc);
    keys(&mut app, "g");
    code(&mut app, KeyCode::Enter);
    assert!(wide(&mut app).contains("Privacy request: export"));
    keys(&mut app, "e");
    let s = wide(&mut app);
    let made = fx
        .desk
        .export_for_request(&export.id)
        .unwrap()
        .expect("stored");
    assert!(
        s.contains(&format!("export {} kept sealed in the desk", made.id)),
        "{s}"
    );
    assert!(
        !sealdesk_desk::export_archive::exports_dir(&fx.desk.store().paths().data).exists(),
        "nothing in plaintext in the data dir"
    );
    let exported = fx
        .audit_log()
        .into_iter()
        .rev()
        .find(|e| e.action.contains("export"));
    assert!(exported.is_some(), "the export is audited");
    assert_eq!(
        fx.requests()[0].id,
        export.id,
        "the export request stays open"
    );
}

#[test]
fn an_overdue_request_is_marked_in_words_and_colour() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Delete me", "now");
    fx.ticket("bo@example.com", "Bo", "Printer", "x");
    let ann = fx.customer("ann@example.com");
    let mut late = fx
        .desk
        .open_request(&actor("test"), &ann, RequestKind::Erasure, Some(n))
        .unwrap();
    late.received = Timestamp(Timestamp::now().0 - 40 * 86_400);
    late.due = Timestamp(Timestamp::now().0 - 2 * 86_400);
    let mut tx = fx.desk.store().begin();
    tx.put_request(&late).unwrap();
    fx.desk.store().commit(tx).unwrap();
    let bo = fx.customer("bo@example.com");
    let mut soon = fx
        .desk
        .open_request(&actor("test"), &bo, RequestKind::Access, None)
        .unwrap();
    soon.due = Timestamp(Timestamp::now().0 + 86_400);
    let mut tx = fx.desk.store().begin();
    tx.put_request(&soon).unwrap();
    fx.desk.store().commit(tx).unwrap();

    let mut app = fx.app("alice", 1);
    let s = screen(&mut app);
    assert!(row_with(&s, "Delete me").contains("§!"), "{s}");
    keys(&mut app, "R");
    let buffer = render(&mut app, 120, 24);
    let s = text(&buffer);
    let overdue = row_with(&s, "erasure");
    assert!(
        overdue.contains("OVERDUE") && overdue.contains("2d late"),
        "{s}"
    );
    assert!(row_with(&s, "bo@example.com").contains("due soon"), "{s}");
    assert!(s.contains("1 OVERDUE"), "{s}");
    let theme = Theme::default();
    // The selection's colours cover the first row: select the second to see the first.
    keys(&mut app, "j");
    let buffer = render(&mut app, 120, 24);
    let at = locate(&buffer, "OVERDUE  ").unwrap();
    assert_eq!(buffer[at].fg, theme.style(Role::Overdue).fg.unwrap());
    keys(&mut app, "k");
    let buffer = render(&mut app, 120, 24);
    let at = locate(&buffer, "due soon").unwrap();
    assert_eq!(buffer[at].fg, theme.style(Role::DueSoon).fg.unwrap());
    // Most urgent first: the overdue one is on top.
    assert!(
        s.find("OVERDUE  ").unwrap() < s.find("due soon").unwrap(),
        "{s}"
    );
}

#[test]
fn export_from_the_customer_screen_is_kept_sealed() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer", "help");
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    // An agent without a verified request: refused, saying what would do.
    keys(&mut app, "cE");
    let s = wide(&mut app);
    assert!(
        s.contains("needs a verified access or export request"),
        "{s}"
    );
    let ann = fx.customer("ann@example.com");
    let r = fx
        .desk
        .open_request(&actor("test"), &ann, RequestKind::Access, None)
        .unwrap();
    fx.desk
        .verify_request(&actor("test"), &r.id, "called back")
        .unwrap();
    keys(&mut app, "E");
    let s = wide(&mut app);
    let stored = fx.desk.exports_of(&ann).unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        s.contains(&format!("export {} kept sealed in the desk", stored[0].id)),
        "{s}"
    );
    let archive = fx
        .desk
        .store()
        .export_archive(&stored[0].id)
        .unwrap()
        .unwrap();
    assert_eq!(archive.len() as u64, stored[0].size);
    assert!(archive.starts_with(&[0x1f, 0x8b]), "a .tar.gz");
    assert!(!sealdesk_desk::export_archive::exports_dir(&fx.desk.store().paths().data).exists());
    // Twice in the same second: a second archive, the first untouched.
    keys(&mut app, "E");
    assert_eq!(fx.desk.exports_of(&ann).unwrap().len(), 2);
}

#[test]
fn agents_cannot_cancel_an_account() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer", "help");
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "cX");
    let s = wide(&mut app);
    assert!(s.contains("only an admin can erase a customer"), "{s}");
    assert!(!s.contains("Type ann@example.com"), "no prompt: {s}");
    fx.customer("ann@example.com");
}

#[test]
fn admins_cancel_an_account_after_typing_the_address() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let ann = fx.customer("ann@example.com");
    let made = fx
        .desk
        .create_export(
            &Actor::local_admin(),
            &ann,
            &sealdesk_desk::Authority::Override("test".into()),
        )
        .unwrap();
    let outside = tempfile::tempdir().unwrap();
    let copy = fx
        .desk
        .write_export_file(
            &Actor::local_admin(),
            &made.id,
            &outside.path().join("c.tgz"),
        )
        .unwrap();
    let mut app = fx.app("bob", 2);
    code(&mut app, KeyCode::Enter);
    // No erasure request: the admin is asked why first (audited as an override).
    keys(&mut app, "cX");
    assert!(wide(&mut app).contains("why erase anyway"));
    keys(&mut app, "asked in person");
    code(&mut app, KeyCode::Enter);
    let s = wide(&mut app);
    assert!(
        s.contains("Type ann@example.com to erase this customer"),
        "{s}"
    );
    assert!(s.contains("This erases the customer"), "the preview: {s}");
    assert!(
        s.contains(&format!("- {} written on", copy.display())),
        "the copy outside is listed: {s}"
    );
    assert!(s.contains("What is kept, and why:"), "{s}");
    keys(&mut app, "ann@example.org");
    code(&mut app, KeyCode::Enter);
    let s = wide(&mut app);
    assert!(s.contains("the address typed does not match"), "{s}");
    fx.customer("ann@example.com");

    // Under legal hold: refused with the reason.
    let mut ann = fx.customer("ann@example.com");
    ann.flags.legal_hold = true;
    fx.desk
        .update_customer(&actor("test"), ann, "legal_hold=true")
        .unwrap();
    keys(&mut app, "Xasked in person");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "ann@example.com");
    code(&mut app, KeyCode::Enter);
    assert!(wide(&mut app).contains("refused: this customer is under legal hold"));
    let mut ann = fx.customer("ann@example.com");
    ann.flags.legal_hold = false;
    fx.desk
        .update_customer(&actor("test"), ann, "legal_hold=false")
        .unwrap();

    keys(&mut app, "Xasked in person");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "ANN@example.com");
    code(&mut app, KeyCode::Enter);
    assert!(fx
        .desk
        .find_customer(&actor("test"), "ann@example.com")
        .is_err());
    let ticket = fx.desk.queue_row(n).unwrap().unwrap().ticket.clone();
    assert_eq!(ticket.subject, sealdesk_model::Personal::Erased);
    assert_eq!(ticket.subject.to_string(), "[erased]");
    let s = wide(&mut app);
    assert!(s.contains("customer erased"), "{s}");
    assert!(
        !s.contains("Customer: Ann"),
        "the customer's page closed: {s}"
    );
    assert!(s.contains(&format!("Queue › {n} ")), "{s}");
}

#[test]
fn the_audit_log_is_for_admins() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer", "help");
    let mut alice = fx.app("alice", 1);
    keys(&mut alice, "L");
    let s = wide(&mut alice);
    assert!(s.contains("only an admin can read the audit log"), "{s}");
    assert!(!s.contains("Audit log"), "{s}");

    let mut bob = fx.app("bob", 2);
    code(&mut bob, KeyCode::Enter); // a ticket.view by bob
    code(&mut bob, KeyCode::Esc);
    keys(&mut bob, "L");
    let s = wide(&mut bob);
    assert!(s.contains("Audit log (newest first)"), "{s}");
    assert!(s.contains("chain intact"), "{s}");
    let newest = row_with(&s, "audit.view");
    assert!(newest.contains("bob"), "{s}");
    assert!(
        s.contains("ticket.create") && s.contains("ticket.view"),
        "{s}"
    );
    let psn = fx
        .desk
        .store()
        .pseudonym(&fx.customer("ann@example.com").id);
    assert!(s.contains(&format!("customer {psn} · targets: #1")), "{s}");

    // Filter by agent: only bob's events remain.
    keys(&mut bob, "/bob");
    code(&mut bob, KeyCode::Enter);
    let s = wide(&mut bob);
    assert!(s.contains("filter: agent=bob"), "{s}");
    assert!(
        s.contains("ticket.view") && !s.contains("ticket.create"),
        "{s}"
    );
    // A bad day is refused with the reason, the form kept.
    keys(&mut bob, "/");
    for _ in 0..3 {
        code(&mut bob, KeyCode::Tab);
    }
    keys(&mut bob, "yesterday");
    code(&mut bob, KeyCode::Enter);
    let s = wide(&mut bob);
    assert!(s.contains("the date must look like 2026-01-31"), "{s}");
    code(&mut bob, KeyCode::Esc);
    keys(&mut bob, "c");
    assert!(wide(&mut bob).contains("ticket.create"));
    let refused_agent_view = fx
        .audit_log()
        .iter()
        .filter(|e| e.action == "audit.view")
        .all(|e| e.actor == "bob");
    assert!(refused_agent_view, "alice never read the log");
}

#[test]
fn find_opens_a_customer_or_a_ticket_and_logs_no_search_text() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann Lee", "Printer", "help");
    fx.ticket("anna@example.org", "Anna Berg", "Scanner", "help");
    let n = fx.ticket("bo@example.com", "Bo", "Invoice", "x");
    let mut app = fx.app("alice", 1);
    keys(&mut app, "F");
    keys(&mut app, "ann@example.com");
    code(&mut app, KeyCode::Enter);
    assert!(screen(&mut app).contains("Customer: Ann Lee"));
    // F works on any screen.
    keys(&mut app, "F");
    keys(&mut app, &n.to_string());
    code(&mut app, KeyCode::Enter);
    let s = screen(&mut app);
    assert!(
        s.contains(&format!("› {n}")) && s.contains("Invoice"),
        "{s}"
    );
    keys(&mut app, "Fann");
    code(&mut app, KeyCode::Enter);
    let s = wide(&mut app);
    assert!(s.contains("2 customers match"), "{s}");
    keys(&mut app, "j");
    code(&mut app, KeyCode::Enter);
    assert!(screen(&mut app).contains("Customer: Anna Berg"));
    keys(&mut app, "Fnobody here");
    code(&mut app, KeyCode::Enter);
    assert!(wide(&mut app).contains("no customer matches"));

    let searches: Vec<AuditEvent> = fx
        .audit_log()
        .into_iter()
        .filter(|e| e.action == "customer.search")
        .collect();
    assert_eq!(searches.len(), 4);
    for e in &searches {
        let logged = format!("{e:?}");
        for typed in ["ann@", "nobody", "Ann", "example"] {
            assert!(!logged.contains(typed), "{typed:?} logged: {logged}");
        }
    }
}

#[test]
fn a_request_opened_from_the_customer_screen_has_no_ticket() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer", "help");
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "cP");
    // access, export, correction, erasure
    keys(&mut app, "jjj");
    code(&mut app, KeyCode::Enter);
    let r = fx.requests().remove(0);
    assert_eq!((r.kind, r.ticket), (RequestKind::Erasure, None));
    let s = wide(&mut app);
    assert!(s.contains("privacy:   1 open request"), "{s}");
}

#[test]
fn help_lists_the_privacy_keys_and_small_screens_do_not_panic() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer", "help");
    let ann = fx.customer("ann@example.com");
    fx.desk
        .open_request(&actor("test"), &ann, RequestKind::Access, Some(n))
        .unwrap();
    fx.desk
        .record_consent(
            &actor("test"),
            &ann,
            sealdesk_desk::NewConsent {
                purpose: "040",
                state: ConsentState::Given,
                categories: &["C001".to_string()],
                method: "email",
                evidence: "",
                policy_version: "v1",
                guardian: None,
            },
        )
        .unwrap();
    let mut app = fx.app("bob", 2);
    // (keys that lead to the next screen and open its help, a line of that help)
    let steps: [(&str, &str); 6] = [
        ("?", "privacy requests, most urgent first"),
        ("\nc?", "export all their data into an archive"),
        ("C?", "record consent given"),
        (
            "qqqR?",
            "open the request: verify, extend, complete, deny, export",
        ),
        ("\n?", "extend the deadline once, with a reason"),
        (
            "qqL?",
            "filter by agent, customer pseudonym, action prefix, day",
        ),
    ];
    for (typed, wanted) in steps {
        for c in typed.chars() {
            match c {
                '\n' => code(&mut app, KeyCode::Enter),
                c => keys(&mut app, &c.to_string()),
            }
        }
        let s = help_pages(&mut app, 120, 60);
        assert!(s.contains(wanted), "{wanted:?}:\n{s}");
        assert!(s.contains("find a customer or ticket"), "{s}");
        for section in app.help_sections() {
            for (keys, help) in section.rows {
                let listed = s.lines().any(|l| l.contains(&keys) && l.contains(help));
                assert!(listed, "{keys} {help}:\n{s}");
            }
        }
        for (w, h) in [(80, 24), (20, 5), (1, 1), (0, 0), (3, 40)] {
            render(&mut app, w, h);
        }
        keys(&mut app, "q");
        for (w, h) in [(80, 24), (20, 5), (1, 1), (0, 0), (3, 40)] {
            render(&mut app, w, h);
        }
    }
    assert!(screen(&mut app).contains("Audit log"));
}

#[test]
fn a_long_audit_log_shows_its_newest_events_and_says_so() {
    use sealdesk_model::EventHash;
    let fx = fixture();
    for i in 0..(sealdesk_tui::AUDIT_WINDOW + 500) {
        let mut tx = fx.desk.store().begin();
        tx.audit(AuditEvent {
            seq: 0,
            at: Timestamp::now(),
            actor: "system".into(),
            key_fingerprint: None,
            source: "test".into(),
            action: "test.event".into(),
            targets: vec![format!("n={i}")],
            customer: None,
            prev_hash: EventHash::GENESIS,
        });
        fx.desk.store().commit(tx).unwrap();
    }
    let mut bob = fx.app("bob", 2);
    keys(&mut bob, "L");
    let started = std::time::Instant::now();
    keys(&mut bob, "G");
    let s = wide(&mut bob);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let total = fx.audit_log().len();
    assert!(
        s.contains(&format!(
            "showing the newest 5000 of {total} matching events (of {total})"
        )),
        "{s}"
    );
    // End goes to the oldest event held: the 5000th newest.
    let oldest_held = total - 5000 + 1;
    assert!(s.contains(&format!("{oldest_held:>8}  ")), "{s}");
    assert!(!s.contains(&format!("{:>8}  ", oldest_held - 1)), "{s}");
    assert!(
        s.contains(&format!("chain intact: {total} events verified")),
        "{s}"
    );
}

#[test]
fn quarantine_is_for_admins_who_release_or_delete() {
    use sealdesk_desk::Incoming;
    let fx = fixture();
    for raw in [
        "Subject: no sender at all\r\n\r\nbody\r\n",
        "Subject: also anonymous\r\n\r\nbody\r\n",
    ] {
        let incoming = Incoming {
            raw: raw.as_bytes(),
            envelope_from: Some("x@example.com"),
            source: "test",
        };
        assert!(matches!(
            fx.desk.receive_mail(incoming).unwrap(),
            sealdesk_desk::Filed::Quarantined(..)
        ));
    }
    let mut alice = fx.app("alice", 1);
    keys(&mut alice, "Q");
    let s = wide(&mut alice);
    assert!(
        s.contains("only an admin can look at the quarantine"),
        "{s}"
    );

    let mut bob = fx.app("bob", 2);
    keys(&mut bob, "Q");
    let s = wide(&mut bob);
    assert!(s.contains("Quarantine (2)"), "{s}");
    assert!(s.contains("no usable sender"), "the reason is shown: {s}");
    assert!(
        s.contains("Subject:"),
        "the headers of the selected message: {s}"
    );
    // Release fails with the reason (no sender); the message stays.
    keys(&mut bob, "r");
    let s = wide(&mut bob);
    assert!(s.contains("still cannot be filed"), "{s}");
    assert_eq!(fx.desk.quarantine().unwrap().len(), 2);
    // Delete asks first; yes deletes.
    keys(&mut bob, "d");
    assert!(wide(&mut bob).contains("Delete qua_"));
    keys(&mut bob, "y");
    let s = wide(&mut bob);
    assert!(s.contains("Quarantine (1)"), "{s}");
    assert_eq!(fx.desk.quarantine().unwrap().len(), 1);
}

#[test]
fn an_export_is_mailed_only_once_identity_is_verified() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Send me my data", "x");
    let ann = fx.customer("ann@example.com");
    fx.desk
        .set_config_key(
            &Actor::local_admin(),
            "mail.from",
            "Support <support@desk.example>",
        )
        .unwrap();
    let r = fx
        .desk
        .open_request(&actor("test"), &ann, RequestKind::Export, Some(n))
        .unwrap();
    let mut app = fx.app("bob", 2);
    keys(&mut app, "R");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "M");
    let s = wide(&mut app);
    assert!(
        s.contains("Make an export for this request and mail it to"),
        "M asks first: {s}"
    );
    keys(&mut app, "y");
    let s = wide(&mut app);
    assert!(
        s.contains("not mailed") && s.contains("identity is not"),
        "{s}"
    );
    let composed = |fx: &Fixture| {
        fx.desk
            .store()
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|e| e.composed.is_some())
            .count()
    };
    assert_eq!(composed(&fx), 0);
    fx.desk
        .verify_request(&actor("test"), &r.id, "called back")
        .unwrap();
    // The refused attempt made no archive (the export itself needs a verified request).
    assert!(fx.desk.export_for_request(&r.id).unwrap().is_none());
    keys(&mut app, "M");
    let s = wide(&mut app);
    assert!(
        s.contains("Make an export for this request and mail it to"),
        "{s}"
    );
    keys(&mut app, "y");
    let s = wide(&mut app);
    let made = fx
        .desk
        .export_for_request(&r.id)
        .unwrap()
        .expect("the export made");
    assert!(
        s.contains(&format!(
            "export {} queued by mail to ann@example.com",
            made.id
        )),
        "{s}"
    );
    // A second M for the same archive mails nothing and says when and to whom.
    keys(&mut app, "M");
    let s = wide(&mut app);
    assert!(
        s.contains("already mailed on") && s.contains("to ann@example.com"),
        "{s}"
    );
    assert_eq!(composed(&fx), 1, "mailed once");
    let outbox = fx.desk.store().outbox().unwrap();
    let mail = outbox
        .iter()
        .find_map(|e| e.composed.clone())
        .expect("a composed mail");
    assert_eq!(mail.to, "ann@example.com");
    assert!(mail
        .attachment
        .expect("the archive")
        .name
        .ends_with(".tar.gz"));
}
