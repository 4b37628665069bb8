//! One agent typing as fast as the network allows must not freeze anyone else (Part 6).
//!
//! The typist is real OpenSSH (`ssh -tt`) fed from a pipe, so its bytes reach the server
//! as keystrokes, not as a bracketed paste; the other agent is OpenSSH in tmux. While
//! 256 KiB are typed into a note, mail is greeted and the other agent's key is answered
//! within a second; once the typist's client is gone the server is idle within two
//! seconds, and a shutdown is not held up by what the typist left behind.

mod common;

use common::live::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The bound the issue names for mail and for another agent's key.
const ANSWER: Duration = Duration::from_secs(1);
/// How much the typist types (at least; it keeps going until the probes are done).
const TYPED: usize = 256 * 1024;

/// `ssh -tt` whose keys come from our pipe and whose screen we decode.
struct Typist {
    child: Child,
    stdin: Option<ChildStdin>,
    screen: Arc<Mutex<vt100::Parser>>,
}

impl Typist {
    fn log_in(server: &Server, key: &Path, user: &str) -> Typist {
        let words = server.ssh_words(key, user, true);
        let mut child = Command::new(&words[0])
            // A pty on the server although stdin is a pipe; no escape character, so
            // every byte typed is sent.
            .args(["-tt", "-e", "none"])
            .args(&words[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh");
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            24.try_into().unwrap(),
            80.try_into().unwrap(),
            0,
        )));
        let shown = Arc::clone(&screen);
        thread::spawn(move || {
            let mut buf = [0u8; 64 * 1024];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                shown.lock().unwrap().process(&buf[..n]);
            }
        });
        let typist = Typist {
            child,
            stdin,
            screen,
        };
        typist.wait_for("Queue (");
        typist
    }

    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if screen_lines(&self.screen.lock().unwrap()).any(|l| l.contains(text)) {
                return;
            }
            let shown = screen_lines(&self.screen.lock().unwrap())
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                Instant::now() < deadline,
                "the typist's screen never showed {text:?}:\n{shown}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Types lines of letters, each ending in Enter, on a thread of its own, until `stop`
    /// is set and at least [`TYPED`] bytes went out; counts them in `typed`.
    fn type_until(
        &mut self,
        stop: Arc<AtomicBool>,
        typed: Arc<AtomicUsize>,
    ) -> thread::JoinHandle<()> {
        let mut stdin = self.stdin.take().unwrap();
        let line: Vec<u8> = (0..99)
            .map(|i| b'a' + (i % 26) as u8)
            .chain([b'\r'])
            .collect();
        let chunk = line.repeat(40);
        thread::spawn(move || {
            while typed.load(Ordering::Relaxed) < TYPED || !stop.load(Ordering::Relaxed) {
                if stdin.write_all(&chunk).is_err() {
                    return;
                }
                typed.fetch_add(chunk.len(), Ordering::Relaxed);
            }
            // Keep the pipe open: the client leaves when it is killed, mid-typing.
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(Duration::from_millis(10));
            }
            thread::sleep(Duration::from_secs(60));
        })
    }
}

/// The typist's screen, row by row, as an agent would read it.
fn screen_lines(parser: &vt100::Parser) -> impl Iterator<Item = String> + '_ {
    let (_, cols) = parser.screen().size();
    parser.screen().rows(0, cols.get())
}

impl Drop for Typist {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long until the SMTP listener's greeting arrives on a new connection.
fn smtp_greeting(port: u16) -> Duration {
    let started = Instant::now();
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(WAIT)).unwrap();
    let mut greeting = Vec::new();
    let mut buf = [0u8; 512];
    while !greeting.ends_with(b"\r\n") {
        let n = conn.read(&mut buf).expect("the greeting never came");
        assert!(n > 0, "the listener hung up");
        greeting.extend_from_slice(&buf[..n]);
    }
    assert!(greeting.starts_with(b"220"), "{greeting:?}");
    let _ = conn.write_all(b"QUIT\r\n");
    started.elapsed()
}

/// CPU time (user + system) the process has used, in clock ticks (1/100 s on Linux).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The share of one core the process used over `window`.
fn cpu_share(pid: u32, window: Duration) -> f64 {
    let before = cpu_ticks(pid);
    thread::sleep(window);
    (cpu_ticks(pid) - before) as f64 / 100.0 / window.as_secs_f64()
}

fn desk_with_two_agents() -> (TestDesk, std::path::PathBuf, std::path::PathBuf) {
    let desk = configured_desk(None);
    let alice = desk.keygen("alice");
    let bob = desk.keygen("bob");
    desk.add_agent("alice", &alice);
    desk.add_agent("bob", &bob);
    desk.cli(&[
        "ticket",
        "create",
        "--from",
        "ann@example.com",
        "--subject",
        "Printer on fire",
        "--body",
        "It burns.",
    ]);
    (desk, alice, bob)
}

/// Opens the only ticket and its note editor.
fn open_note(typist: &mut Typist) {
    typist.send(b"\r");
    typist.wait_for("Thread (");
    typist.send(b"n");
    typist.wait_for("Internal note");
}

#[test]
fn agents_typing_floods_freeze_nobody_and_leave_no_work_behind() {
    let (desk, alice_key, bob_key) = desk_with_two_agents();
    // Two typists, as two were enough to stop everything before; there are two cores.
    let carol_key = desk.keygen("carol");
    desk.add_agent("carol", &carol_key);
    let server = desk.serve();
    assert!(server.smtp_port > 0, "banner: {}", server.banner);
    let pid = server.child.id();

    let bob = Tmux::start_named(
        &desk,
        "bob",
        &interactive_ssh(&server, &bob_key, "bob", &[]),
    );
    bob.wait_for("Queue (");
    let stop = Arc::new(AtomicBool::new(false));
    let mut typists = Vec::new();
    for (name, key) in [("alice", &alice_key), ("carol", &carol_key)] {
        let mut typist = Typist::log_in(&server, key, name);
        open_note(&mut typist);
        let typed = Arc::new(AtomicUsize::new(0));
        let typing = typist.type_until(Arc::clone(&stop), Arc::clone(&typed));
        typists.push((typist, typed, typing));
    }
    // Well under way before anything is measured.
    while typists
        .iter()
        .any(|(_, typed, _)| typed.load(Ordering::Relaxed) < 64 * 1024)
    {
        thread::sleep(Duration::from_millis(5));
    }

    let mut greetings = Vec::new();
    let mut answers = Vec::new();
    let (probing, ticks_before) = (Instant::now(), cpu_ticks(pid));
    for round in 0..3 {
        greetings.push(smtp_greeting(server.smtp_port));
        // Bob opens the help page and closes it again: each drawn within the bound.
        bob.send_keys("?");
        answers.push(
            bob.wait_until("bob's help page", ANSWER * 3, |s| s.contains("Keys:"))
                .1,
        );
        bob.send_keys("Escape");
        answers.push(
            bob.wait_until("bob's queue", ANSWER * 3, |s| !s.contains("Keys:"))
                .1,
        );
        for (_, _, typing) in &typists {
            assert!(
                !typing.is_finished(),
                "round {round}: a typist stopped early"
            );
        }
    }
    // The server was busy with the typing all along: the probes measured it loaded.
    let loaded = (cpu_ticks(pid) - ticks_before) as f64 / 100.0 / probing.elapsed().as_secs_f64();
    let typed: Vec<usize> = typists
        .iter()
        .map(|(_, t, _)| t.load(Ordering::Relaxed))
        .collect();
    // The typists' own screens keep up too: their notes fill with what they type.
    for (typist, _, _) in &typists {
        typist.wait_for("abcdefghij");
    }

    // The clients go away mid-typing, with whatever they sent still on its way.
    stop.store(true, Ordering::Relaxed);
    for (mut typist, _, _) in typists {
        let _ = typist.child.kill();
        let _ = typist.child.wait();
    }
    let left = Instant::now();
    thread::sleep(Duration::from_secs(2));
    let busy = cpu_share(pid, Duration::from_secs(1));
    let after = left.elapsed();

    let log = server.log();
    eprintln!(
        "typed {typed:?} bytes while probing, the server using {loaded:.2} of a core; \
         SMTP greetings {greetings:?}; bob's keys answered in {answers:?}; \
         {busy:.2} of a core {after:?} after the clients left"
    );
    assert!(
        loaded > 0.3,
        "the typing hardly loaded the server ({loaded:.2} of a core)"
    );
    for t in &typed {
        assert!(*t >= TYPED, "typed only {typed:?}");
    }
    for g in &greetings {
        assert!(*g < ANSWER, "SMTP greeted after {g:?}: {greetings:?}");
    }
    for a in &answers {
        assert!(
            *a < ANSWER,
            "bob's key was answered after {a:?}: {answers:?}"
        );
    }
    assert!(
        busy < 0.1,
        "the server still used {busy:.2} of a core 2 s after the typists left\n{log}"
    );
    // Bob is still served.
    bob.send_keys("?");
    bob.wait_until("bob's help page", ANSWER * 3, |s| s.contains("Keys:"));
}

#[test]
fn a_shutdown_is_not_held_up_by_a_typing_flood() {
    let (desk, alice_key, _) = desk_with_two_agents();
    let server = desk.serve();
    let mut alice = Typist::log_in(&server, &alice_key, "alice");
    open_note(&mut alice);
    let (stop, typed) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let _typing = alice.type_until(Arc::clone(&stop), Arc::clone(&typed));
    while typed.load(Ordering::Relaxed) < TYPED {
        thread::sleep(Duration::from_millis(5));
    }
    let asked = Instant::now();
    let status = server.terminate();
    let took = asked.elapsed();
    stop.store(true, Ordering::Relaxed);
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
}
