//! The delivery line of a reply in the ticket thread: why a queued reply has not left
//! yet and when it is tried next, as the outbox records it.

mod common;

use common::*;
use sealdesk_model::OutboxEntry;

#[test]
fn a_queued_reply_shows_its_last_error_and_next_try() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "It smokes.");
    let reply = fx
        .desk
        .add_reply(&actor("bob"), n, "Unplug it, please.")
        .unwrap();
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    let before = text(&render(&mut app, 160, 24));
    let line = row_with(&before, "┃ reply");
    assert!(
        line.contains("queued") && !line.contains("next try"),
        "{before}"
    );

    // The relay deferred it twice; the outbox has the reason and the next try.
    let mut entry = OutboxEntry::new(n, reply.seq, Timestamp(1_893_499_200), false, None);
    entry.attempts = 2;
    entry.last_error =
        Some("smtp://relay:25 deferred the mail (451 4.3.0 try later): will retry".into());
    let store = fx.desk.store();
    let mut tx = store.begin();
    tx.put_outbox(&entry).unwrap();
    store.commit(tx).unwrap();
    app.on_changes(&[Change::Ticket(n)]);
    let after = text(&render(&mut app, 160, 24));
    let line = row_with(&after, "┃ reply");
    assert!(line.contains("queued"), "{after}");
    assert!(line.contains("next try 2030-01-01 12:00"), "{line}");
    assert!(line.contains("451 4.3.0 try later"), "{line}");
}
