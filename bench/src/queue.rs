//! `sealdesk-bench queue`: a desk with a big queue, then (a) queue filtering per
//! keystroke, (b) server start-up until the first login and the first frame, (c)
//! keypress → frame latency in a real SSH session, (d) server memory with 1 and with
//! many sessions, (e) new mail → the agent's screen with 1 and with many sessions.

use super::fixture::{agent_keys, fill_queue, register_agents, BenchDesk};
use super::probe::{burst_to_screen, mail_to_screen};
use super::screen::Screen;
use super::server::{Memory, Server};
use super::ssh_client::{loopback_source, AgentKey, Terminal};
use super::stats::{fmt_bytes, fmt_duration, Samples, Table};
use super::{note, Place, Rng};
use anyhow::{bail, Context, Result};
use sealdesk_desk::{AssigneeFilter, Desk, QueueQuery, QueueView, SortKey};
use sealdesk_model::{Status, TicketNo};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Words typed into the search, one prefix per keystroke: common, rarer, a name with
/// a non-ASCII letter, a domain, and one that matches nothing.
const SEARCH_WORDS: &[&str] = &["invoice", "password", "müller", "example.org", "zebra"];
/// Words typed into the body search: in many bodies, in fewer, German, an order
/// reference (one message in ~10,000 has each), CJK in running text, two words, and
/// nothing.
const BODY_WORDS: &[&str] = &[
    "payment",
    "tracking",
    "kundendienst",
    "r12345",
    "倉庫",
    "parcel delivered",
    "zebra",
];
/// The server allows this many connections per client address.
const PER_ADDRESS: usize = 8;
const COLS: u16 = 120;
const ROWS: u16 = 40;
const FRAME_WAIT: Duration = Duration::from_secs(120);
/// SMTP connections the burst of mail is sent over at once.
const BURST_CONNECTIONS: usize = 4;

#[derive(Clone, Debug)]
pub(crate) struct QueueArgs {
    pub tickets: usize,
    pub customers: usize,
    /// Messages per ticket.
    pub messages: usize,
    /// Keystrokes timed in the session.
    pub keys: usize,
    /// Concurrent sessions for the memory figure.
    pub sessions: usize,
    /// Server starts timed.
    pub runs: usize,
    /// Probe mails per session count.
    pub probes: usize,
    /// Mails in the burst sent with every session open.
    pub burst: usize,
    /// Whether the server builds the body index (`search.bodies`).
    pub bodies: bool,
}

pub(crate) fn run(place: &Place, args: &QueueArgs) -> Result<()> {
    let started = Instant::now();
    let mut bench = BenchDesk::create(place, "queue", true)?;
    let agents = agent_keys(args.sessions.max(1));
    let assignees: Vec<String> = agents.iter().take(8).map(|a| a.name.clone()).collect();
    let store = bench.open_store()?;
    fill_queue(
        &store,
        &mut Rng::new(42),
        args.tickets,
        args.customers,
        &assignees,
        args.messages,
    )?;
    drop(store);
    let desk = bench.open()?;
    register_agents(&desk, &agents)?;
    let setup = started.elapsed();
    note(&format!("desk filled in {:.1} s", setup.as_secs_f64()));

    let mut filters = filter_table(&desk, &agents[0].name)?;
    filters.setup(format!(
        "{} tickets ({} messages each), {} customers, {} agents; desk built in {:.1} s (one flush at the end); search over subjects, customers and tags (the body index is not built yet)",
        args.tickets,
        args.messages,
        args.customers,
        agents.len(),
        setup.as_secs_f64()
    ));
    filters.print();
    if args.bodies {
        body_table(&desk, args)?.print();
    }
    drop(desk);
    bench.move_keys()?;
    if !args.bodies {
        let config = bench.paths.data.join("sealdesk.toml");
        let mut text = std::fs::read_to_string(&config)?;
        text.push_str("\n[search]\nbodies = false\n");
        std::fs::write(&config, text)?;
        note("the server runs with search.bodies = false: no body index");
    }

    let key_file = bench.dir().join("agent.key");
    agents[0].write_private(&key_file)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    startup_table(&runtime, &bench, &agents[0], &key_file, args)?.print();
    live_tables(&runtime, &bench, &agents, args)
}

/// (a, continued) What a session does instead of a query: narrow its rows as the search
/// is typed on, and move one changed ticket's row.
fn view_rows(desk: &Desk, table: &mut Table) -> Result<()> {
    let mut narrowing = Samples::new();
    for word in SEARCH_WORDS {
        for _ in 0..5 {
            let mut q = QueueQuery::default();
            let mut view = QueueView::new(desk.queue(&q)?);
            for c in word.chars() {
                q.text.push(c);
                let t = Instant::now();
                view.narrow(&q);
                narrowing.push(t.elapsed());
            }
        }
    }
    table.samples(
        "search, typing on (the screen narrows its rows)",
        &narrowing,
        "each keystroke of the 5 words ×5, from the full open queue",
    );
    let q = QueueQuery::default();
    let mut view = QueueView::new(desk.queue(&q)?);
    let newest = desk.newest_ticket()?.0;
    let mut rng = Rng::new(7);
    let mut samples = Samples::new();
    for _ in 0..200 {
        let n = TicketNo(1 + rng.below(newest));
        let row = desk.queue_row(n)?;
        let t = Instant::now();
        view.apply(&q, n, row);
        samples.push(t.elapsed());
    }
    table.samples(
        "one changed ticket → a session's view",
        &samples,
        &format!(
            "{} rows listed; what each session does per change",
            view.len()
        ),
    );
    Ok(())
}

/// (a) `desk.queue` as the queue screen calls it: per search keystroke and per filter.
fn filter_table(desk: &Desk, agent: &str) -> Result<Table> {
    let mut table = Table::timing("bench queue (a): filtering the queue, per keystroke");
    let t = Instant::now();
    let all = desk.queue(&QueueQuery::default())?.len();
    table.row(vec![
        "build the index (first use)".into(),
        fmt_duration(t.elapsed()),
        "-".into(),
        "1".into(),
        format!("{all} tickets not closed"),
    ]);
    let mut every_key = Samples::new();
    for word in SEARCH_WORDS {
        let mut samples = Samples::new();
        let mut counts = Vec::new();
        let prefixes: Vec<&str> = word
            .char_indices()
            .map(|(i, c)| &word[..i + c.len_utf8()])
            .collect();
        for prefix in &prefixes {
            let q = QueueQuery {
                text: prefix.to_string(),
                ..QueueQuery::default()
            };
            for _ in 0..5 {
                let t = Instant::now();
                let rows = desk.queue(&q)?;
                samples.push(t.elapsed());
                if counts.len() < prefixes.len() && samples.len() % 5 == 1 {
                    counts.push(rows.len());
                }
            }
        }
        every_key.extend(&samples);
        table.samples(
            &format!("search {word:?}, each prefix"),
            &samples,
            &format!(
                "{} prefixes ×5; rows {} → {}",
                prefixes.len(),
                counts.first().unwrap_or(&0),
                counts.last().unwrap_or(&0)
            ),
        );
    }
    table.samples("search, every keystroke above", &every_key, "");
    let filters: Vec<(&str, QueueQuery)> = vec![
        ("status = open", status(&[Status::Open])),
        ("status = new", status(&[Status::New])),
        ("status = closed", status(&[Status::Closed])),
        ("all statuses", status(Status::ALL)),
        (
            "assignee = unassigned",
            QueueQuery {
                assignee: AssigneeFilter::Unassigned,
                ..QueueQuery::default()
            },
        ),
        (
            "assignee = mine",
            QueueQuery {
                assignee: AssigneeFilter::Agent,
                agent: Some(agent.into()),
                ..QueueQuery::default()
            },
        ),
        (
            "tag = billing",
            QueueQuery {
                tag: Some("billing".into()),
                ..QueueQuery::default()
            },
        ),
        (
            "sort by priority",
            QueueQuery {
                sort: SortKey::Priority,
                ..QueueQuery::default()
            },
        ),
        (
            "sort by due",
            QueueQuery {
                sort: SortKey::Due,
                ..QueueQuery::default()
            },
        ),
    ];
    for (what, q) in filters {
        let mut samples = Samples::new();
        let mut rows = 0;
        for _ in 0..20 {
            let t = Instant::now();
            rows = desk.queue(&q)?.len();
            samples.push(t.elapsed());
        }
        table.samples(what, &samples, &format!("{rows} rows"));
    }
    view_rows(desk, &mut table)?;
    Ok(table)
}

/// (f) Body search in process: the index built as `serve` builds it at start (one
/// thread reading and decrypting every message), then each keystroke of the words as
/// the queue screen does it (the body hits, then narrowing its rows), and as a full
/// query.
fn body_table(desk: &Desk, args: &QueueArgs) -> Result<Table> {
    let mut table = Table::timing("bench queue (f): body search, per keystroke");
    let rss_before = own_rss();
    let t = Instant::now();
    desk.build_body_index();
    let built = t.elapsed();
    let rss_after = own_rss();
    table.setup(format!(
        "the desk above ({} tickets, {} messages); body index built in process in {:.2} s (one thread, every message decrypted)",
        args.tickets,
        args.tickets * args.messages,
        built.as_secs_f64()
    ));
    table.setup(format!(
        "this process's VmRSS {} before the build, {} after; the index counts itself at {}",
        fmt_bytes(rss_before),
        fmt_bytes(rss_after),
        fmt_bytes(desk.body_progress().bytes)
    ));
    table.row(vec![
        "build the body index".into(),
        fmt_duration(built),
        "-".into(),
        "1".into(),
        format!("{} messages", args.tickets * args.messages),
    ]);
    let (mut typing, mut full) = (Samples::new(), Samples::new());
    for word in BODY_WORDS {
        let (mut samples, mut counts) = (Samples::new(), Vec::new());
        let prefixes: Vec<&str> = word
            .char_indices()
            .map(|(i, c)| &word[..i + c.len_utf8()])
            .collect();
        for round in 0..5 {
            let mut q = QueueQuery::default();
            let mut view = QueueView::new(desk.queue(&q)?);
            for prefix in &prefixes {
                q.text = prefix.to_string();
                let t = Instant::now();
                q.bodies = desk.body_hits(&q.text);
                view.narrow(&q);
                samples.push(t.elapsed());
                if round == 0 {
                    counts.push(view.len());
                }
                let t = Instant::now();
                let rows = desk.queue(&q)?;
                full.push(t.elapsed());
                assert_eq!(rows.len(), view.len(), "narrowing = a fresh query");
            }
        }
        typing.extend(&samples);
        table.samples(
            &format!("body search {word:?}, typing on"),
            &samples,
            &format!(
                "{} prefixes ×5; rows {} → {}",
                prefixes.len(),
                counts.first().unwrap_or(&0),
                counts.last().unwrap_or(&0)
            ),
        );
    }
    table.samples(
        "**body search, every keystroke above, typing on** (body hits + narrow)",
        &typing,
        "what the queue screen does per keystroke",
    );
    table.samples(
        "body search, every keystroke above, as a full query",
        &full,
        "`desk.queue` with the text (as after a deletion or a filter change)",
    );
    let visible: Vec<TicketNo> = desk
        .queue(&QueueQuery {
            text: "payment".into(),
            ..QueueQuery::default()
        })?
        .iter()
        .take(38)
        .map(|r| r.ticket.number)
        .collect();
    let mut lines = Samples::new();
    for _ in 0..20 {
        let t = Instant::now();
        desk.body_lines(&visible, "payment");
        lines.push(t.elapsed());
    }
    table.samples(
        "matching lines of the rows in view",
        &lines,
        &format!(
            "{} rows (a 120×40 screen), their messages read and decrypted",
            visible.len()
        ),
    );
    Ok(table)
}

/// This process's resident memory (0 if unreadable).
fn own_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

fn status(statuses: &[Status]) -> QueueQuery {
    QueueQuery {
        statuses: statuses.to_vec(),
        ..QueueQuery::default()
    }
}

/// A whole queue frame: the title at the top and the status line at the bottom.
fn full_frame(screen: &Screen) -> bool {
    screen.contains("Queue (") && screen.contains("(admin)")
}

/// (b) From spawning `sealdesk serve` to: the listening banner; the first login with
/// the real OpenSSH client (no pty: the one-line explanation); the first full frame
/// of a pty session (the queue index is built on this first use).
fn startup_table(
    runtime: &tokio::runtime::Runtime,
    bench: &BenchDesk,
    agent: &AgentKey,
    key_file: &Path,
    args: &QueueArgs,
) -> Result<Table> {
    let (mut listening, mut login, mut frame) = (Samples::new(), Samples::new(), Samples::new());
    let mut bodies = Samples::new();
    for run in 0..args.runs {
        note(&format!("server start {}/{}", run + 1, args.runs));
        let server = Server::start(&bench.paths, &bench.dir().join(format!("start-{run}.log")))?;
        listening.push(server.listening - server.spawned);
        login.push(openssh_login(&server, key_file, &agent.name)? - server.spawned);
        let shown = runtime.block_on(async {
            let mut term = Terminal::open(
                server.ssh,
                loopback_source(0, PER_ADDRESS),
                agent,
                COLS,
                ROWS,
            )
            .await?;
            let at = term.wait_for(FRAME_WAIT, full_frame).await?;
            term.close().await;
            anyhow::Ok(at)
        })?;
        frame.push(shown - server.spawned);
        if args.bodies {
            let indexed = server.wait_for_log("body index built", FRAME_WAIT)?;
            bodies.push(indexed - server.spawned);
        }
        server.stop()?;
    }
    let mut table =
        Table::timing("bench queue (b): server start-up, from spawning `sealdesk serve`");
    table.setup(format!(
        "the desk above, {} starts, page cache warm",
        args.runs
    ));
    table.samples("SSH port listening (banner printed)", &listening, "");
    table.samples(
        "first login accepted",
        &login,
        "OpenSSH `ssh -T -o BatchMode=yes`: explanation line received",
    );
    table.samples(
        "first full queue frame",
        &frame,
        "russh client, pty 120×40, after the login above; builds the queue index (the body index builds meanwhile)",
    );
    if args.bodies {
        table.samples(
            "body index built (its log line seen)",
            &bodies,
            "in a background thread from the start; logins and the queue do not wait for it",
        );
    }
    Ok(table)
}

/// Logs in with the real `ssh` client without a pty; when the server's explanation
/// line arrived.
fn openssh_login(server: &Server, key: &Path, user: &str) -> Result<Instant> {
    let mut child = Command::new("ssh")
        .args([
            "-F",
            "/dev/null",
            "-T",
            "-p",
            &server.ssh.port().to_string(),
            "-i",
        ])
        .arg(key)
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=30",
        ])
        .arg(format!("{user}@127.0.0.1"))
        // No command (a command is the CLI's over SSH): the shell's explanation line.
        .arg("-T")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run ssh (is the OpenSSH client installed?)")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped")).read_line(&mut line)?;
    let at = Instant::now();
    let _ = child.wait();
    if !line.contains("interactive desk") {
        bail!("ssh did not get the explanation line; it printed {line:?}");
    }
    Ok(at)
}

/// (c), (d), (e) on one running server; each table is printed once measured.
fn live_tables(
    runtime: &tokio::runtime::Runtime,
    bench: &BenchDesk,
    agents: &[AgentKey],
    args: &QueueArgs,
) -> Result<()> {
    let server = Server::start(&bench.paths, &bench.dir().join("live.log"))?;
    let result = runtime.block_on(live(&server, agents, args));
    server.stop()?;
    result
}

async fn live(server: &Server, agents: &[AgentKey], args: &QueueArgs) -> Result<()> {
    let idle_memory = server.memory()?;
    if args.bodies {
        server.wait_for_log("body index built", FRAME_WAIT)?;
    }
    let indexed_memory = server.settled_memory().await?;
    let mut term = Terminal::open(
        server.ssh,
        loopback_source(0, PER_ADDRESS),
        &agents[0],
        COLS,
        ROWS,
    )
    .await?;
    term.wait_for(FRAME_WAIT, full_frame).await?;
    term.drain(Duration::from_millis(500)).await?;
    let one_memory = server.settled_memory().await?;

    keystroke_table(&mut term, args).await?.print();

    note(&format!("{} probe mails with one session", args.probes));
    let probes_one = mail_to_screen(&mut term, server, args.probes, "one").await?;

    note(&format!("opening {} sessions", args.sessions));
    let opening = Instant::now();
    let mut others = Vec::new();
    for i in 1..args.sessions {
        let agent = &agents[i % agents.len()];
        let mut t = Terminal::open(
            server.ssh,
            loopback_source(i, PER_ADDRESS),
            agent,
            COLS,
            ROWS,
        )
        .await
        .with_context(|| format!("session {}", i + 1))?;
        t.wait_for(FRAME_WAIT, full_frame).await?;
        others.push(t.keep_open());
    }
    let opened = opening.elapsed();
    let many_memory = server.settled_memory().await?;

    let mut memory = Table::new(
        "bench queue (d): server memory (VmRSS)",
        &["sessions", "VmRSS", "VmHWM (peak)", "note"],
    );
    memory.setup(format!(
        "`sealdesk serve` on the desk above; pty {COLS}×{ROWS} sessions, each past its first frame; read 1 s after the server went idle"
    ));
    let mem_row = |what: &str, m: Memory, note: &str| {
        vec![
            what.to_string(),
            fmt_bytes(m.rss),
            fmt_bytes(m.hwm),
            note.to_string(),
        ]
    };
    memory.row(mem_row("0 (started, no login yet)", idle_memory, ""));
    memory.row(mem_row("0, body index built", indexed_memory, ""));
    memory.row(mem_row("1", one_memory, "queue index built"));
    memory.row(mem_row(
        &args.sessions.to_string(),
        many_memory,
        &format!(
            "opened one after another in {} (each waited for its first frame)",
            fmt_duration(opened)
        ),
    ));
    memory.print();

    note(&format!(
        "{} probe mails with {} sessions",
        args.probes, args.sessions
    ));
    let probes_many = mail_to_screen(&mut term, server, args.probes, "many").await?;
    note(&format!(
        "a burst of {} mails with {} sessions",
        args.burst, args.sessions
    ));
    let burst = burst_to_screen(&mut term, server, args.burst, BURST_CONNECTIONS, "burst").await?;
    term.close().await;
    for t in others {
        t.abort();
    }

    let mut fanout =
        Table::timing("bench queue (e): new mail → an agent's screen, on the desk above");
    fanout.setup("one SMTP connection, one probe at a time once the server is idle; until the subject is on the screen of session 1 (queue sorted by update, `g` to the top before each)");
    probes_one.add_rows(&mut fanout, "1 session open", "");
    probes_many.add_rows(
        &mut fanout,
        &format!("{} sessions open", args.sessions),
        "each session moves the one changed row in its view (no re-query)",
    );
    burst.add_rows(&mut fanout, &format!("{} sessions open", args.sessions));
    fanout.print();
    Ok(())
}

/// (c) Keystrokes in the queue: moving down, and typing a search.
async fn keystroke_table(term: &mut Terminal, args: &QueueArgs) -> Result<Table> {
    // Output with nobody typing (clock ticks) could pass for an answer to a key.
    let quiet_for = Duration::from_secs(3);
    let (before, before_nothing) = (term.chunks, term.style_only);
    let deadline = Instant::now() + quiet_for;
    while term
        .next_output(deadline.saturating_duration_since(Instant::now()))
        .await?
        .is_some()
    {}
    let idle_chunks = term.chunks - before;
    let idle_nothing = term.style_only - before_nothing;

    note(&format!("{} keystrokes", args.keys));
    let (mut j_first, mut j_done) = (Samples::new(), Samples::new());
    for _ in 0..args.keys {
        let (first, done) = keystroke(term, b"j").await?;
        j_first.push(first);
        j_done.push(done);
    }
    let (mut s_first, mut s_done) = (Samples::new(), Samples::new());
    press(term, b"/").await?;
    for _ in 0..3 {
        for word in SEARCH_WORDS {
            for c in word.chars() {
                let mut buf = [0u8; 4];
                let (first, done) = keystroke(term, c.encode_utf8(&mut buf).as_bytes()).await?;
                s_first.push(first);
                s_done.push(done);
            }
            press(term, b"\x15").await?; // Ctrl-U: clear the search text
        }
    }
    press(term, b"\r").await?; // leave the (empty) search

    let mut latency = Table::timing("bench queue (c): keypress → frame, real SSH session");
    latency.setup(format!(
        "russh client, pty {COLS}×{ROWS}, on the desk above; one key at a time, the next once output was quiet for 25 ms"
    ));
    latency.setup(format!(
        "with nobody typing, in {}s: {idle_chunks} chunks drawing something (0: every one after a key answers it), {idle_nothing} drawing nothing (colour resets, cursor hiding: ignored)",
        quiet_for.as_secs()
    ));
    latency.samples("`j` → first byte of the answer", &j_first, "");
    latency.samples("`j` → last byte of the answer", &j_done, "");
    latency.samples(
        "search keystroke → first byte",
        &s_first,
        "typing the search words, 3 rounds; each key narrows the rows listed, Ctrl-U re-queries",
    );
    latency.samples("search keystroke → last byte", &s_done, "");
    Ok(latency)
}

/// Types `bytes`; times the first and the last output answering it (output goes quiet
/// for 25 ms after the last, longer than the server's 16 ms frame interval).
async fn keystroke(term: &mut Terminal, bytes: &[u8]) -> Result<(Duration, Duration)> {
    let sent = Instant::now();
    term.type_bytes(bytes).await?;
    let first = term
        .next_output(Duration::from_secs(10))
        .await?
        .context("no output answered the key")?;
    let last = term
        .drain(Duration::from_millis(25))
        .await?
        .unwrap_or(first);
    Ok((first - sent, last - sent))
}

/// Types `bytes` untimed and lets the answer (if any) pass.
async fn press(term: &mut Terminal, bytes: &[u8]) -> Result<()> {
    term.type_bytes(bytes).await?;
    term.drain(Duration::from_millis(200)).await?;
    Ok(())
}
