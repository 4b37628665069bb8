//! The editor as agents use it (Part 9): beside the thread, wrapping, with To/Cc/Bcc;
//! drafts kept by the desk across Esc and sessions, marked in the queue; undo send; a
//! warning when someone else replies. A real desk on disk, our key events in,
//! ratatui's TestBackend out.

mod common;

use common::*;
use sealdesk_model::Parties;

/// Types each character as a plain key press; `\n` is Enter.
fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        match c {
            '\n' => code(app, KeyCode::Enter),
            c => code(app, KeyCode::Char(c)),
        }
    }
}

#[test]
fn the_thread_stays_visible_and_long_lines_wrap_at_80_columns() {
    let fx = fixture();
    fx.ticket(
        "ann@example.com",
        "Ann",
        "Printer on fire",
        "The printer on floor three smokes.",
    );
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "r");
    let long = "Please unplug the printer at once and keep the door closed; a technician \
                is on the way and will be with you within the hour, bringing a new fuser.";
    typed(&mut app, long);
    let s = text(&render(&mut app, 80, 24));
    // The thread above the editor, still readable.
    assert!(s.contains("Thread (1)"), "{s}");
    assert!(s.contains("The printer on floor three smokes."), "{s}");
    assert!(s.contains("Reply to #1"), "{s}");
    assert!(row_with(&s, "To:").contains("ann@example.com"), "{s}");
    // The long line is wrapped by words inside the editor's frame, none of it cut.
    let rows: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.contains("Bcc:"))
        .skip(1)
        .map(|l| {
            l.trim_start_matches('│')
                .trim_end()
                .trim_end_matches('│')
                .trim()
        })
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(rows.len() >= 2, "wrapped over rows: {s}");
    assert_eq!(rows.join(" "), long, "{s}");
    for row in &rows {
        assert!(row.chars().count() <= 78, "{row}");
    }
    // The text keeps only the agent's own breaks: none.
    code(&mut app, KeyCode::Esc);
    let draft = fx
        .desk
        .draft(&actor("alice"), TicketNo(1))
        .unwrap()
        .unwrap();
    assert_eq!(draft.body, long);

    // Wide: beside the thread.
    keys(&mut app, "r");
    let buffer = render(&mut app, 160, 30);
    let thread = locate(&buffer, "Thread (1)").unwrap();
    let editor = locate(&buffer, "Reply to #1").unwrap();
    assert!(editor.0 >= 75 && editor.1 <= thread.1, "{}", text(&buffer));
}

#[test]
fn esc_keeps_the_draft_r_brings_it_back_and_the_queue_marks_it() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    fx.ticket("bo@example.com", "Bo", "Invoice wrong", "x");
    let mut app = fx.app("alice", 1);
    let s = screen(&mut app);
    assert!(!row_with(&s, "Printer").contains('✎'), "{s}");
    keys(&mut app, "j");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "r");
    typed(&mut app, "Unplug it.\nThen wait");
    // Cc a colleague: up from the text to Bcc, then Cc.
    code(&mut app, KeyCode::BackTab);
    code(&mut app, KeyCode::BackTab);
    typed(&mut app, "bob@example.com");
    code(&mut app, KeyCode::Esc);
    let s = screen(&mut app);
    assert!(s.contains("draft on #1 kept"), "{s}");
    assert!(!s.contains("Reply to #1"), "{s}");
    assert!(s.contains("✎ your draft reply: r or n to go on"), "{s}");
    let draft = fx.desk.draft(&actor("alice"), n).unwrap().unwrap();
    assert_eq!(draft.body, "Unplug it.\nThen wait");
    assert_eq!(draft.parties.to, ["ann@example.com"]);
    assert_eq!(draft.parties.cc, ["bob@example.com"]);

    // Back in the queue: the ticket carries the mark.
    code(&mut app, KeyCode::Esc);
    let s = screen(&mut app);
    assert!(row_with(&s, "Printer").contains('✎'), "{s}");
    assert!(!row_with(&s, "Invoice").contains('✎'), "{s}");

    // Another session (the next day) brings it back, cursor at the end, Cc and all.
    drop(app);
    let mut app = fx.app("alice", 2);
    keys(&mut app, "j");
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "n"); // either key: the draft is a reply
    let s = screen(&mut app);
    assert!(s.contains("your draft reply is back"), "{s}");
    assert!(row_with(&s, "Cc:").contains("bob@example.com"), "{s}");
    typed(&mut app, "!");
    press(&mut app, KeyEvent::ctrl('s'));
    let sent = fx.thread(n).last().unwrap().clone();
    assert_eq!(sent.text, "Unplug it.\nThen wait!");
    assert_eq!(sent.parties.cc, ["bob@example.com"]);
    assert!(fx.desk.draft(&actor("alice"), n).unwrap().is_none());
    code(&mut app, KeyCode::Esc);
    let s = screen(&mut app);
    assert!(!row_with(&s, "Printer").contains('✎'), "sent: no mark {s}");
}

#[test]
fn typing_is_saved_after_a_pause_and_when_the_session_ends() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "n");
    typed(&mut app, "Called her");
    app.tick();
    assert!(
        fx.desk.draft(&actor("alice"), n).unwrap().is_none(),
        "not while typing"
    );
    std::thread::sleep(std::time::Duration::from_millis(1600));
    app.tick();
    let draft = fx.desk.draft(&actor("alice"), n).unwrap().unwrap();
    assert_eq!(
        (draft.kind, draft.body.as_str()),
        (MessageKind::Note, "Called her")
    );
    // The last keys, then the session ends (a dropped connection ends it this way).
    typed(&mut app, ", no answer.");
    app.end_session();
    let draft = fx.desk.draft(&actor("alice"), n).unwrap().unwrap();
    assert_eq!(draft.body, "Called her, no answer.");
    assert_eq!(
        draft.parties,
        Parties::default(),
        "a note has no recipients"
    );
}

#[test]
fn discarding_asks_first_and_bad_addresses_are_not_sent() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "r");
    typed(&mut app, "Hello");
    code(&mut app, KeyCode::BackTab);
    typed(&mut app, "not an address");
    press(&mut app, KeyEvent::ctrl('s'));
    let s = screen(&mut app);
    assert!(
        s.contains("\"not an address\" in Bcc is not an email address"),
        "{s}"
    );
    assert_eq!(fx.thread(n).len(), 1, "nothing sent");
    press(&mut app, KeyEvent::ctrl('x'));
    assert!(screen(&mut app).contains("Discard this draft?"));
    keys(&mut app, "n");
    assert!(screen(&mut app).contains("Reply to #1"));
    code(&mut app, KeyCode::Esc);
    assert!(fx.desk.draft(&actor("alice"), n).unwrap().is_some());
    keys(&mut app, "r");
    press(&mut app, KeyEvent::ctrl('x'));
    keys(&mut app, "y");
    let s = screen(&mut app);
    assert!(s.contains("draft on #1 discarded"), "{s}");
    assert!(fx.desk.draft(&actor("alice"), n).unwrap().is_none());
}

#[test]
fn u_takes_a_waiting_reply_back_into_the_draft() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "u");
    assert!(screen(&mut app).contains("nothing to take back"));
    keys(&mut app, "r");
    typed(&mut app, "Replace the fuser.");
    press(&mut app, KeyEvent::ctrl('s'));
    let s = screen(&mut app);
    assert!(s.contains("sending in"), "{s}");
    assert!(s.contains("u to undo"), "{s}");
    assert_eq!(fx.thread(n).len(), 2);
    keys(&mut app, "u");
    let s = screen(&mut app);
    assert!(s.contains("reply taken back"), "{s}");
    assert!(s.contains("Reply to #1"), "the editor is open on it: {s}");
    assert!(s.contains("Replace the fuser."), "{s}");
    assert_eq!(fx.thread(n).len(), 1, "the reply left the thread");
    assert!(!s.contains("sending in"), "{s}");
    let draft = fx.desk.draft(&actor("alice"), n).unwrap().unwrap();
    assert_eq!(draft.body, "Replace the fuser.");
    assert!(sealdesk_desk::testing::audit_events(&fx.desk)
        .iter()
        .any(|e| e.action == "ticket.unsend" && e.actor == "alice"));
}

#[test]
fn another_agent_replying_is_a_warning_in_the_editor() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let mut changes = fx.desk.subscribe();
    let mut alice = fx.app("alice", 1);
    let mut bob = fx.app("bob", 2);
    code(&mut alice, KeyCode::Enter);
    code(&mut bob, KeyCode::Enter);
    keys(&mut bob, "r");
    deliver(&mut changes, &mut alice);
    keys(&mut alice, "r");
    let s = screen(&mut alice);
    assert!(s.contains("bob is replying now"), "{s}");
    // Bob keeps a draft and leaves: the warning says so.
    keys(&mut bob, "On it");
    code(&mut bob, KeyCode::Esc);
    deliver(&mut changes, &mut alice);
    let s = screen(&mut alice);
    assert!(s.contains("bob keeps a draft here"), "{s}");
    // Bob throws it away and leaves the ticket: no warning.
    keys(&mut bob, "r");
    press(&mut bob, KeyEvent::ctrl('x'));
    keys(&mut bob, "y");
    code(&mut bob, KeyCode::Esc);
    deliver(&mut changes, &mut alice);
    let s = screen(&mut alice);
    assert!(!s.contains("bob"), "{s}");
    assert!(fx.desk.draft(&actor("bob"), n).unwrap().is_none());
}

/// Ctrl-T in the editor pane opens the saved-reply picker over it; the one chosen goes
/// in at the cursor, filled for the ticket, and is kept with the draft. The pane stays
/// open under the picker (the agent is still replying), and Esc in the picker inserts
/// nothing.
#[test]
fn ctrl_t_inserts_a_saved_reply_into_the_pane_at_the_cursor() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann Lee", "Printer on fire", "help");
    let alice = actor("alice");
    fx.desk
        .add_reply_template(
            &alice,
            "greeting",
            "Hello {customer.name}, about {ticket}.",
            sealdesk_model::Visibility::Personal,
        )
        .unwrap();
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    keys(&mut app, "r");
    typed(&mut app, "Hi. ");
    press(&mut app, KeyEvent::ctrl('t'));
    let s = screen(&mut app);
    assert!(s.contains("Insert a saved reply into #1"), "{s}");
    assert!(
        s.contains("Thread (1)"),
        "the ticket screen is under it: {s}"
    );
    code(&mut app, KeyCode::Esc);
    press(&mut app, KeyEvent::ctrl('t'));
    keys(&mut app, "gree");
    code(&mut app, KeyCode::Enter);
    let s = screen(&mut app);
    assert!(s.contains("inserted the saved reply greeting"), "{s}");
    assert!(s.contains("Hi. Hello Ann Lee, about #1."), "{s}");
    typed(&mut app, " Thanks!");
    code(&mut app, KeyCode::Esc);
    let draft = fx.desk.draft(&alice, n).unwrap().unwrap();
    assert_eq!(draft.body, "Hi. Hello Ann Lee, about #1. Thanks!");
}

/// The files on a draft are listed once: in the ticket's header while the editor is
/// closed, in the editor while it is open, where Ctrl-O takes one off.
#[test]
fn the_drafts_files_are_listed_once_and_ctrl_o_takes_one_off() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    let alice = actor("alice");
    fx.desk
        .attach_to_draft(&alice, n, "log.txt", "text/plain", b"12345")
        .unwrap();
    let mut app = fx.app("alice", 1);
    code(&mut app, KeyCode::Enter);
    let s = text(&render(&mut app, 120, 30));
    assert!(
        row_with(&s, "your draft carries:").contains("log.txt (5 B)"),
        "{s}"
    );
    assert_eq!(s.matches("log.txt").count(), 1, "{s}");
    keys(&mut app, "r");
    let s = text(&render(&mut app, 120, 30));
    assert!(!s.contains("your draft carries"), "{s}");
    assert!(row_with(&s, "files:").contains("log.txt (5 B)"), "{s}");
    assert_eq!(s.matches("log.txt").count(), 1, "{s}");
    press(&mut app, KeyEvent::ctrl('o'));
    assert!(screen(&mut app).contains("Take which file off the draft?"));
    code(&mut app, KeyCode::Enter);
    let s = screen(&mut app);
    assert!(s.contains("log.txt taken off the draft"), "{s}");
    assert!(!s.contains("files:"), "{s}");
    // A draft with neither text nor files left is not kept.
    let draft = fx.desk.draft(&alice, n).unwrap();
    assert!(
        draft.is_none_or(|d| d.attachments.is_empty()),
        "a file is left"
    );
}

/// `M` and `u` both work on the ticket screen, and a queue row shows the draft mark
/// and the multi-select mark together.
#[test]
fn macro_and_undo_send_keys_and_both_queue_marks() {
    let fx = fixture();
    let n = fx.ticket("ann@example.com", "Ann", "Printer on fire", "help");
    fx.ticket("bo@example.com", "Bo", "Invoice wrong", "help");
    let mut app = fx.app("alice", 1);
    // The queue is newest first: #2, then #1.
    code(&mut app, KeyCode::Down);
    code(&mut app, KeyCode::Enter);
    assert!(screen(&mut app).contains("Printer on fire"));
    keys(&mut app, "r");
    typed(&mut app, "On its way.");
    press(&mut app, KeyEvent::ctrl('s'));
    assert!(screen(&mut app).contains("u to undo"));
    keys(&mut app, "M");
    assert!(screen(&mut app).contains(&format!("Apply a macro to {n}")));
    code(&mut app, KeyCode::Esc);
    keys(&mut app, "u");
    assert!(screen(&mut app).contains("reply taken back"));
    code(&mut app, KeyCode::Esc); // the editor closes, the draft is kept
    code(&mut app, KeyCode::Esc); // back to the queue
    code(&mut app, KeyCode::Char(' '));
    let s = text(&render(&mut app, 120, 30));
    let row = row_with(&s, "Printer on fire");
    assert!(row.contains("*#1") && row.contains("✎"), "{s}");
    assert!(!row_with(&s, "Invoice wrong").contains("✎"), "{s}");
}
