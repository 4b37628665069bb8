//! Restriction of processing and consent in the TUI: the ticket screen says so, a reply
//! to a restricted customer is refused, and an admin can send it with a reason.

use sealdesk_tui::event::{KeyCode, KeyEvent};
use sealdesk_tui::App;
mod common;

use common::{actor, code, fixture, keys, press, render, text};
use sealdesk_desk::NewConsent;
use sealdesk_model::{ConsentState, MessageKind};

fn wide(app: &mut App) -> String {
    text(&render(app, 200, 40))
}

#[test]
fn the_ticket_shows_restriction_and_withdrawn_consent_and_admins_override_with_a_reason() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let ann = fx
        .desk
        .find_customer(&actor("test"), "ann@example.com")
        .unwrap();
    fx.desk
        .record_consent(
            &actor("test"),
            &ann,
            NewConsent {
                purpose: "040",
                state: ConsentState::Withdrawn,
                categories: &[],
                method: "email",
                evidence: "",
                policy_version: "",
                guardian: None,
            },
        )
        .unwrap();
    fx.desk.set_restricted(&actor("test"), &ann, true).unwrap();

    // An agent sees both marks, and the reply is refused with the draft kept.
    let mut alice = fx.app("alice", 1);
    code(&mut alice, KeyCode::Enter);
    let s = wide(&mut alice);
    assert!(s.contains("restricted"), "{s}");
    assert!(s.contains("consent 040 marketing: withdrawn"), "{s}");
    keys(&mut alice, "rUnplug it");
    press(&mut alice, KeyEvent::ctrl('s'));
    let s = wide(&mut alice);
    assert!(s.contains("not sent: refused: processing"), "{s}");
    assert!(
        !s.contains("reason to send anyway"),
        "no override for agents: {s}"
    );
    let outbound = |fx: &common::Fixture| {
        fx.thread(n)
            .iter()
            .filter(|m| m.kind == MessageKind::Outbound)
            .count()
    };
    assert_eq!(outbound(&fx), 0);

    // An admin is asked for the reason; it is sent, and the override is audited.
    let mut bob = fx.app("bob", 2);
    code(&mut bob, KeyCode::Enter);
    keys(&mut bob, "rUnplug it");
    press(&mut bob, KeyEvent::ctrl('s'));
    let s = wide(&mut bob);
    assert!(s.contains("reason to send anyway"), "{s}");
    keys(&mut bob, "fire safety");
    code(&mut bob, KeyCode::Enter);
    assert_eq!(outbound(&fx), 1);
    let s = wide(&mut bob);
    assert!(s.contains("override audited"), "{s}");
    let audited = sealdesk_desk::testing::audit_events(&fx.desk)
        .into_iter()
        .any(|e| {
            e.action == "restriction.override"
                && e.targets.iter().any(|t| t.contains("fire safety"))
        });
    assert!(audited, "the override is audited");
}

#[test]
fn an_admin_exports_without_a_request_only_with_a_typed_reason() {
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let mut bob = fx.app("bob", 2);
    code(&mut bob, KeyCode::Enter);
    keys(&mut bob, "cE");
    let s = wide(&mut bob);
    assert!(s.contains("why export anyway"), "{s}");
    // An empty reason is no override: nothing written.
    code(&mut bob, KeyCode::Enter);
    let s = wide(&mut bob);
    assert!(s.contains("an override needs a reason"), "{s}");
    let ann = fx
        .desk
        .find_customer(&sealdesk_desk::Actor::local_admin(), "ann@example.com")
        .unwrap();
    assert!(fx.desk.exports_of(&ann).unwrap().is_empty());
    keys(&mut bob, "Ecourt order 17");
    code(&mut bob, KeyCode::Enter);
    assert!(wide(&mut bob).contains("kept sealed in the desk"));
    assert_eq!(fx.desk.exports_of(&ann).unwrap().len(), 1);
    let audited = sealdesk_desk::testing::audit_events(&fx.desk)
        .into_iter()
        .any(|e| {
            e.action == "export.override" && e.targets.iter().any(|t| t.contains("court order 17"))
        });
    assert!(audited, "the override is audited");
}
