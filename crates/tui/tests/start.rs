//! Where a session starts (deep links, Part 10): a ticket, or the queue with a view;
//! an unknown one leaves the queue with one line saying so.

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
