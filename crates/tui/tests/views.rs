//! Saved views and deep links (Part 10) in the whole app: the view manager (`V`), keys
//! `1`…`9`, and where a session starts.

mod common;

use common::*;
use sealdesk_tui::StartAt;

#[test]
fn a_deep_link_opens_the_ticket_or_says_it_is_not_there() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "It burns.");
    let mut app = fx.app("alice", 1);
    app.start_at(StartAt::Ticket(n));
    assert!(
        screen(&mut app).contains("Thread ("),
        "{}",
        screen(&mut app)
    );

    let mut app = fx.app("alice", 2);
    app.start_at(StartAt::Ticket(sealdesk_model::TicketNo(99)));
    let s = screen(&mut app);
    assert!(s.contains("Queue (") && s.contains("no ticket #99"), "{s}");

    let mut app = fx.app("alice", 3);
    app.start_at(StartAt::View("Nope".into()));
    let s = screen(&mut app);
    assert!(s.contains("Queue (") && s.contains("no saved view"), "{s}");
}

#[test]
fn the_view_manager_saves_renames_and_deletes_an_agents_own_view() {
    use sealdesk_tui::event::KeyCode;
    let fx = fixture();
    fx.ticket("ann@example.com", "Ann", "Printer on fire", "It burns.");
    fx.ticket("ben@example.com", "Ben", "Invoice wrong", "Too much.");
    let mut app = fx.app("alice", 1);
    // Search "invoice", then V, "save the current queue as…", a name.
    keys(&mut app, "/invoice");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "V");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "Money");
    code(&mut app, KeyCode::Enter);
    let s = screen(&mut app);
    assert!(s.contains("Queue: Money (1)"), "{s}");
    let views = fx.desk.saved_views(&actor("alice")).unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].owner.as_deref(), Some("alice"));
    assert_eq!(views[0].query.text, "invoice");
    // Bob (an admin) does not see alice's own view; an agent cannot share.
    assert!(fx.desk.saved_views(&actor("bob")).unwrap().is_empty());
    assert!(fx
        .desk
        .set_view_shared(&actor("alice"), Some("alice"), "Money", true)
        .is_err());

    // Esc clears the search: the title says the filter changed; 1 goes back to it.
    code(&mut app, KeyCode::Esc);
    assert!(screen(&mut app).contains("Queue: Money* (2)"));
    keys(&mut app, "1");
    assert!(screen(&mut app).contains("Queue: Money (1)"));

    // V, the view, "rename…", a new name: the title follows.
    keys(&mut app, "Vj");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "j");
    code(&mut app, KeyCode::Enter);
    for _ in 0.."Money".len() {
        code(&mut app, KeyCode::Backspace);
    }
    keys(&mut app, "Bills");
    code(&mut app, KeyCode::Enter);
    let s = screen(&mut app);
    assert!(s.contains("Queue: Bills (1)"), "{s}");

    // V, the view, "delete…", yes: gone, and key 1 says there is none.
    keys(&mut app, "Vj");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "jj");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "y");
    assert!(fx.desk.saved_views(&actor("alice")).unwrap().is_empty());
    assert!(screen(&mut app).contains("Queue (1)"));
    keys(&mut app, "1");
    assert!(screen(&mut app).contains("no saved view 1"));
    let audit: Vec<String> = sealdesk_desk::testing::audit_events(&fx.desk)
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in ["view.save", "view.rename", "view.remove"] {
        assert!(audit.iter().any(|a| a == action), "{action}: {audit:?}");
    }
}
