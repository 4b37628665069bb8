//! One interactive session: a thread of its own that owns the terminal, the input parser
//! and the UI, and reacts to input, desk changes, a clock tick, resizes and shutdown.
//!
//! The UI's work (keys, desk calls that commit and fsync, drawing) is blocking work, so it
//! never runs on the server's async workers: each session runs its loop on its own OS
//! thread, in a small single-threaded runtime. A busy session then costs its own thread
//! time, and the SSH and SMTP listeners, housekeeping and every other session keep going.
//! Input reaches it through a bounded queue (the connection waits when it is full), and
//! once the client is gone the queue is dropped unread.
//!
//! Output is bounded. Frames go to a writer task through a channel of one slot, and the
//! writer awaits SSH flow control, so a slow client holds at most the frame being sent
//! and one more. While both are taken the session keeps handling input and only marks
//! the screen dirty; the next draw renders the latest state, so a slow client gets fewer
//! frames, never a backlog, and never a partial one.

use super::terminal::{SshTerminal, LEAVE};
use super::ui::SessionUi;
use russh::server::Handle;
use russh::ChannelId;
use sealdesk_desk::{Change, Desk};
use sealdesk_model::AgentId;
use sealdesk_tui::event::Event;
use sealdesk_tui::input::{InputParser, ESC_TIMEOUT};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{sleep_until, Instant, MissedTickBehavior};

/// At most one frame per this interval (about 60 a second) for keys, and no sooner than
/// this after any frame for the clock or changes: a burst of keys or changes becomes one
/// redraw.
const FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// Frames for desk changes nobody typed for come at most this often after the last
/// such frame: a burst of mail with 50 agents watching redraws each screen ten times a
/// second, not sixty. The first change after a quiet spell is drawn at once, and keys
/// are never held back.
const CALM_FRAME_INTERVAL: Duration = Duration::from_millis(100);
const TICK: Duration = Duration::from_secs(1);

/// What the connection hands to a running session.
#[derive(Debug)]
pub(super) enum Input {
    /// Bytes the agent's terminal sent.
    Bytes(Vec<u8>),
    /// A window-change request.
    Resize { cols: u32, rows: u32 },
}

/// Builds a session's UI; called on the session's own thread, as opening the first
/// screen reads the desk.
pub(super) type MakeUi = Box<dyn FnOnce() -> Box<dyn SessionUi> + Send>;

/// Everything a session needs; the connection builds it on `shell`.
pub(super) struct Setup {
    pub desk: Arc<Desk>,
    pub ui: MakeUi,
    /// The pty's size from the pty request.
    pub size: (u32, u32),
    pub input: mpsc::Receiver<Input>,
    pub shutdown: watch::Receiver<bool>,
    pub idle_timeout: Duration,
    pub session_id: u64,
    pub agent: String,
    /// Which agent logged in; the session ends if this agent is removed.
    pub agent_id: AgentId,
    /// Set here once the input is a flood; the connection then drops what does not fit
    /// the input queue (see `ChannelState::flooding`).
    pub flooding: Arc<std::sync::atomic::AtomicBool>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Quit,
    Shutdown,
    Idle(Duration),
    /// The agent was removed from the desk while logged in.
    Removed,
    /// The client closed the channel or the connection went away.
    ClientGone,
}

impl Ending {
    /// The line shown after the screen is restored, if any.
    fn farewell(self) -> Option<String> {
        match self {
            Ending::Shutdown => Some("sealdesk: server shutting down\r\n".into()),
            Ending::Idle(after) => Some(format!(
                "sealdesk: disconnected after {} without input\r\n",
                describe(after)
            )),
            Ending::Removed => {
                Some("sealdesk: your agent account was removed; the session was closed\r\n".into())
            }
            Ending::Quit | Ending::ClientGone => None,
        }
    }

    fn exit_status(self) -> u32 {
        match self {
            Ending::Quit => 0,
            _ => 1,
        }
    }
}

enum Output {
    Frame(Vec<u8>),
    /// The last bytes, then exit status, EOF and close.
    Last {
        bytes: Vec<u8>,
        exit_status: u32,
    },
}

/// Runs a session on its own thread. Whatever happens to it, even a panic in the UI, the
/// agent's terminal is restored, the channel closed and the agent's presence cleared;
/// then `done` runs.
pub(super) fn start(
    setup: Setup,
    handle: Handle,
    channel: ChannelId,
    done: impl FnOnce() + Send + 'static,
) {
    let (out_tx, out_rx) = mpsc::channel(1);
    let writer = tokio::spawn(write_frames(handle.clone(), channel, out_rx));
    let (desk, session_id, agent) = (
        Arc::clone(&setup.desk),
        setup.session_id,
        setup.agent.clone(),
    );
    let (ended_tx, ended) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name(format!("session-{session_id}"))
        .spawn(move || {
            let _ = ended_tx.send(run_on_this_thread(setup, out_tx));
        });
    if let Err(e) = spawned {
        tracing::error!(session = session_id, error = %e, "cannot start a session thread");
    }
    tokio::spawn(async move {
        // A thread that could not start, or panicked, leaves no answer.
        let outcome = ended.await.unwrap_or(Err(Failure::Panicked));
        // The writer ends once the session's sender is gone and its queue is sent.
        let _ = writer.await;
        if let Err(e) = outcome {
            tracing::error!(session = session_id, agent = %agent, failure = ?e, "session failed");
            let mut last = LEAVE.to_vec();
            last.extend_from_slice(b"sealdesk: internal error; the session was closed\r\n");
            let _ = handle.data(channel, last).await;
            let _ = handle.exit_status_request(channel, 1).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        }
        desk.set_presence(session_id, &agent, None);
        done();
    });
}

/// Why a session thread did not end normally.
#[derive(Debug)]
enum Failure {
    NoRuntime,
    Panicked,
}

/// The session loop on the calling thread, in a runtime of its own (timers only: its
/// channels work with any runtime). A panic is caught here and reported.
fn run_on_this_thread(setup: Setup, out: mpsc::Sender<Output>) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|_| Failure::NoRuntime)?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(run(setup, out))
    }))
    .map_err(|_| Failure::Panicked)
}

async fn run(mut s: Setup, out: mpsc::Sender<Output>) {
    let mut ui = (s.ui)();
    let mut term = SshTerminal::new(s.size.0, s.size.1);
    let mut parser = InputParser::new();
    let mut changes = s.desk.subscribe();
    let mut changes_open = true;
    let mut tick = tokio::time::interval_at(Instant::now() + TICK, TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);

    let mut dirty = true;
    // The agent typed (or resized) since the last frame: draw at the fast pace.
    let mut urgent = true;
    // A desk change is waiting to be drawn.
    let mut changed = false;
    let mut pace = FramePace::new(Instant::now());
    let mut last_input = Instant::now();
    let mut esc_deadline: Option<Instant> = None;
    tracing::info!(session = s.session_id, agent = %s.agent, cols = term.size().0, rows = term.size().1, "session started");

    let mut flood = FloodWatch::new(Instant::now());
    let mut first_frame = true;
    let ending = loop {
        if ui.should_quit() {
            break Ending::Quit;
        }
        let idle_at = last_input + s.idle_timeout;
        tokio::select! {
            () = stopped(&mut s.shutdown) => break Ending::Shutdown,
            input = s.input.recv() => match input {
                None => break Ending::ClientGone,
                Some(first) => {
                    last_input = Instant::now();
                    // Whatever else is already queued is handled in the same turn (up to
                    // a budget), so a flood of small chunks is one pass and one frame.
                    let mut next = Some(first);
                    let mut taken = 0;
                    while let Some(input) = next {
                        if s.input.is_closed() {
                            // The client is gone: what it sent last is dropped unread.
                            break;
                        }
                        taken += handle_input(input, &mut parser, &mut term, ui.as_mut());
                        if ui.should_quit() || taken >= INPUT_BATCH {
                            break;
                        }
                        next = s.input.try_recv().ok();
                    }
                    if s.input.is_closed() {
                        break Ending::ClientGone;
                    }
                    if flood.handled(taken, Instant::now()) {
                        tracing::info!(session = s.session_id, agent = %s.agent, "input faster than anyone types; this session now yields the CPU to others, and input beyond its queue is dropped");
                        s.flooding.store(true, std::sync::atomic::Ordering::Relaxed);
                        yield_cpu_to_others();
                    }
                    esc_deadline = parser.has_pending().then(|| last_input + ESC_TIMEOUT);
                    dirty = true;
                    urgent = true;
                }
            },
            _ = sleep_until(esc_deadline.unwrap_or(idle_at)), if esc_deadline.is_some() => {
                esc_deadline = None;
                for event in parser.flush_timeout() {
                    ui.handle(event);
                }
                dirty = true;
                urgent = true;
            }
            change = changes.recv(), if changes_open => {
                let batch = drain_changes(change, &mut changes);
                changes_open = !batch.closed;
                if batch.changes.contains(&Change::Agents) && !agent_exists(&s.desk, s.agent_id) {
                    break Ending::Removed;
                }
                if let Some(missed) = batch.missed {
                    tracing::debug!(session = s.session_id, missed, "session fell behind desk changes; reloading");
                    ui.reload();
                } else if !batch.changes.is_empty() {
                    ui.on_changes(&batch.changes);
                }
                dirty = true;
                changed = true;
            }
            _ = tick.tick() => {
                ui.tick();
                dirty = true;
            }
            _ = sleep_until(idle_at) => break Ending::Idle(s.idle_timeout),
            slot = frame_slot(&out, pace.due(urgent, changed)), if dirty => {
                let Ok(slot) = slot else {
                    break Ending::ClientGone;
                };
                term.draw(|frame| ui.draw(frame));
                slot.send(Output::Frame(term.take_output()));
                if first_frame {
                    // What opening the session allocated for a moment is freed by now.
                    first_frame = false;
                    crate::memory::give_back_soon();
                }
                dirty = false;
                pace.drawn(urgent, changed, Instant::now());
                urgent = false;
                changed = false;
            }
        }
    };

    // The connection may be waiting to hand us input; let it go before we wait on output.
    drop(s.input);
    // Whatever ended the session, the draft being written is saved now (the desk is
    // still open: shutdown waits for sessions to end).
    ui.end();
    tracing::info!(session = s.session_id, agent = %s.agent, ending = ?ending, "session ended");
    let mut bytes = term.leave();
    if let Some(line) = ending.farewell() {
        bytes.extend_from_slice(line.as_bytes());
    }
    let _ = out
        .send(Output::Last {
            bytes,
            exit_status: ending.exit_status(),
        })
        .await;
    drop(ui);
    crate::memory::give_back_soon();
}

/// Input bytes handled in one turn of the loop before it looks at shutdown, changes and
/// the next frame again.
const INPUT_BATCH: usize = 64 * 1024;

/// Input at more than this many bytes in [`FLOOD_WINDOW`] is a flood: nobody types that
/// fast, and a paste comes as one bracketed event.
const FLOOD_BYTES: usize = 256 * 1024;
const FLOOD_WINDOW: Duration = Duration::from_secs(1);

/// Notices a session whose input is a flood (a script typing, a paste without bracketed
/// paste), once.
struct FloodWatch {
    since: Instant,
    bytes: usize,
    seen: bool,
}

impl FloodWatch {
    fn new(now: Instant) -> FloodWatch {
        FloodWatch {
            since: now,
            bytes: 0,
            seen: false,
        }
    }

    /// Counts `bytes` handled at `now`; `true` the first time the rate is a flood.
    fn handled(&mut self, bytes: usize, now: Instant) -> bool {
        if now.duration_since(self.since) > FLOOD_WINDOW {
            self.since = now;
            self.bytes = 0;
        }
        self.bytes += bytes;
        if self.seen || self.bytes <= FLOOD_BYTES {
            return false;
        }
        self.seen = true;
        true
    }
}

/// Lowers this thread's CPU priority (nice 10) for good: a flooding session keeps
/// working, but whenever others (another agent's key, the listeners) want a core they
/// get it first. Only this session's thread is affected; the priority cannot be raised
/// back without privileges, so it is not tried.
fn yield_cpu_to_others() {
    // On Linux PRIO_PROCESS with a thread id sets that thread's nice value only.
    #[cfg(target_os = "linux")]
    if rustix::process::setpriority_process(Some(rustix::thread::gettid()), FLOODING_NICE).is_err()
    {
        tracing::debug!("cannot lower a flooding session's priority");
    }
}

#[cfg(target_os = "linux")]
const FLOODING_NICE: i32 = 10;

/// Feeds one piece of input to the UI; returns how much it weighed (bytes, or 1).
fn handle_input(
    input: Input,
    parser: &mut InputParser,
    term: &mut SshTerminal,
    ui: &mut dyn SessionUi,
) -> usize {
    match input {
        Input::Bytes(bytes) => {
            for event in parser.feed(&bytes) {
                ui.handle(event);
                if ui.should_quit() {
                    break;
                }
            }
            bytes.len().max(1)
        }
        Input::Resize { cols, rows } => {
            let (cols, rows) = term.resize(cols, rows);
            ui.handle(Event::Resize { cols, rows });
            1
        }
    }
}

/// The most changes taken in one go; more wait for the next turn of the loop.
const MAX_BATCH: usize = 1024;

/// Changes that were waiting together: handled in one go, drawn once.
#[derive(Debug, Default, PartialEq)]
struct ChangeBatch {
    changes: Vec<Change>,
    /// Some announcements were dropped before this session read them (it fell behind).
    missed: Option<u64>,
    /// The desk's channel is gone (the server is shutting down).
    closed: bool,
}

/// `first` and every change already waiting behind it. A burst of mail then costs each
/// session one pass and one frame, not one per message.
fn drain_changes(
    first: Result<Change, broadcast::error::RecvError>,
    changes: &mut broadcast::Receiver<Change>,
) -> ChangeBatch {
    use broadcast::error::{RecvError, TryRecvError};
    let mut batch = ChangeBatch::default();
    let mut next = first;
    loop {
        match next {
            Ok(change) => batch.changes.push(change),
            Err(RecvError::Lagged(missed)) => {
                batch.missed = Some(batch.missed.unwrap_or(0) + missed);
            }
            Err(RecvError::Closed) => {
                batch.closed = true;
                return batch;
            }
        }
        if batch.changes.len() >= MAX_BATCH {
            return batch;
        }
        next = match changes.try_recv() {
            Ok(change) => Ok(change),
            Err(TryRecvError::Empty) => return batch,
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
        };
    }
}

/// Whether the agent may still be logged in. If the agents cannot be read, the
/// session goes on: a storage hiccup should not throw everyone out.
fn agent_exists(desk: &Desk, id: AgentId) -> bool {
    desk.agents()
        .map(|agents| agents.iter().any(|a| a.id == id))
        .unwrap_or(true)
}

/// Resolves once the server shuts down (or is gone).
pub(super) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await: it is not `Send`.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// When the next frame may be drawn. Keys are paced only by frames drawn for keys, so
/// a key right after a frame for the clock or for arriving mail is not held back: at
/// most 60 frames a second for keys, plus 10 for desk changes alone
/// ([`CALM_FRAME_INTERVAL`] apart), plus the clock.
#[derive(Debug, Clone, Copy)]
struct FramePace {
    /// After any frame.
    any: Instant,
    /// After a frame drawn for a key.
    key: Instant,
    /// After a frame drawn for changes alone.
    calm: Instant,
}

impl FramePace {
    fn new(now: Instant) -> FramePace {
        FramePace {
            any: now,
            key: now,
            calm: now,
        }
    }

    /// `urgent`: the agent typed (or resized); `changed`: a desk change waits.
    fn due(&self, urgent: bool, changed: bool) -> Instant {
        match (urgent, changed) {
            (true, _) => self.key,
            (false, true) => self.any.max(self.calm),
            (false, false) => self.any,
        }
    }

    fn drawn(&mut self, urgent: bool, changed: bool, now: Instant) {
        self.any = now + FRAME_INTERVAL;
        if urgent {
            self.key = now + FRAME_INTERVAL;
        } else if changed {
            self.calm = now + CALM_FRAME_INTERVAL;
        }
    }
}

/// Room for the next frame: not before `not_before`, and only once the writer has
/// taken the previous one.
///
/// A frame already due does not wait on the runtime's timer: its clock moves only when
/// this thread parks, and a session whose input queue is never empty (a flood) hardly
/// parks, so a `sleep_until` of a past instant could stay pending for as long as the
/// flood lasts and the agent would see no frame at all.
async fn frame_slot(
    out: &mpsc::Sender<Output>,
    not_before: Instant,
) -> Result<mpsc::Permit<'_, Output>, mpsc::error::SendError<()>> {
    if Instant::now() < not_before {
        sleep_until(not_before).await;
    }
    out.reserve().await
}

/// Sends frames in order, each awaiting the client's SSH window, then closes the channel.
async fn write_frames(handle: Handle, channel: ChannelId, mut frames: mpsc::Receiver<Output>) {
    while let Some(output) = frames.recv().await {
        match output {
            Output::Frame(bytes) if bytes.is_empty() => {}
            Output::Frame(bytes) => {
                if handle.data(channel, bytes).await.is_err() {
                    return; // the connection is gone
                }
            }
            Output::Last { bytes, exit_status } => {
                let _ = handle.data(channel, bytes).await;
                let _ = handle.exit_status_request(channel, exit_status).await;
                let _ = handle.eof(channel).await;
                let _ = handle.close(channel).await;
                return;
            }
        }
    }
}

/// "30 minutes", "45 seconds": for the idle message.
fn describe(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s >= 120 && s % 60 == 0 => format!("{} minutes", s / 60),
        1 => "1 second".into(),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use ratatui::widgets::Paragraph;
    use sealdesk_desk::config::Config;
    use sealdesk_desk::Actor;
    use sealdesk_model::AgentRole;
    use sealdesk_store::Paths;
    use sealdesk_tui::event::{KeyCode, KeyEvent};
    use tokio::time::timeout;

    /// A flooded session polls `frame_slot` without ever parking its thread; a frame
    /// that is due must be ready at once, not when the runtime's timer next moves.
    #[test]
    fn a_due_frame_is_ready_without_the_timer_moving() {
        fn ready_at_once<F: std::future::Future>(f: F) -> bool {
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            std::pin::pin!(f).poll(&mut cx).is_ready()
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (out, _frames) = mpsc::channel(1);
            let due = Instant::now() + Duration::from_millis(5);
            // Busy, as with a flood: the thread does not park, so the timer stands still.
            std::thread::sleep(Duration::from_millis(30));
            assert!(
                ready_at_once(frame_slot(&out, due)),
                "a due frame waited on the timer"
            );
            // One not yet due still waits.
            let later = Instant::now() + Duration::from_secs(60);
            assert!(!ready_at_once(frame_slot(&out, later)));
        });
    }

    #[test]
    fn endings() {
        assert_eq!(Ending::Quit.exit_status(), 0);
        assert_eq!(Ending::Quit.farewell(), None);
        assert_eq!(Ending::ClientGone.farewell(), None);
        assert_eq!(
            Ending::Shutdown.farewell().unwrap(),
            "sealdesk: server shutting down\r\n"
        );
        assert_eq!(Ending::Shutdown.exit_status(), 1);
        assert_eq!(
            Ending::Idle(Duration::from_secs(1800)).farewell().unwrap(),
            "sealdesk: disconnected after 30 minutes without input\r\n"
        );
        assert_eq!(describe(Duration::from_secs(90)), "90 seconds");
        assert_eq!(describe(Duration::from_secs(1)), "1 second");
    }

    #[derive(Default)]
    struct Seen {
        events: Vec<Event>,
        /// How many events each frame reflected.
        drawn: Vec<usize>,
        reloads: usize,
    }

    /// Records what it is told; quits on `q`; draws how many keys it has seen.
    struct FakeUi(Arc<Mutex<Seen>>);

    impl SessionUi for FakeUi {
        fn handle(&mut self, event: Event) {
            self.0.lock().events.push(event);
        }
        fn on_change(&mut self, _change: sealdesk_desk::Change) {}
        fn tick(&mut self) {}
        fn draw(&mut self, frame: &mut ratatui::Frame) {
            let mut seen = self.0.lock();
            let count = seen.events.len();
            seen.drawn.push(count);
            let text = format!("keys={count}");
            frame.render_widget(Paragraph::new(text), frame.area());
        }
        fn should_quit(&self) -> bool {
            let q = Event::Key(KeyEvent::plain(KeyCode::Char('q')));
            self.0.lock().events.contains(&q)
        }
        fn reload(&mut self) {
            self.0.lock().reloads += 1;
        }
    }

    struct Harness {
        _dir: tempfile::TempDir,
        desk: Arc<Desk>,
        seen: Arc<Mutex<Seen>>,
        input: mpsc::Sender<Input>,
        stop: watch::Sender<bool>,
        out: mpsc::Receiver<Output>,
        task: tokio::task::JoinHandle<()>,
    }

    fn harness(idle_timeout: Duration) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: dir.path().join("data"),
            keys: dir.path().join("keys"),
        };
        let desk = Arc::new(Desk::new(
            sealdesk_desk::testing::new_store(&paths),
            Config::default(),
        ));
        let agent_id = desk
            .add_agent(
                &Actor::local_admin(),
                "alice",
                AgentRole::Agent,
                &[ALICE_KEY.into()],
            )
            .unwrap()
            .id;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (input, input_rx) = mpsc::channel(INPUT_QUEUE_FOR_TESTS);
        let (stop, stop_rx) = watch::channel(false);
        let (out_tx, out) = mpsc::channel(1);
        let setup = Setup {
            desk: Arc::clone(&desk),
            ui: {
                let seen = Arc::clone(&seen);
                Box::new(move || Box::new(FakeUi(seen)) as Box<dyn SessionUi>)
            },
            size: (40, 5),
            input: input_rx,
            shutdown: stop_rx,
            idle_timeout,
            session_id: 1,
            agent: "alice".into(),
            agent_id,
            flooding: Arc::default(),
        };
        let task = tokio::spawn(run(setup, out_tx));
        Harness {
            _dir: dir,
            desk,
            seen,
            input,
            stop,
            out,
            task,
        }
    }

    const INPUT_QUEUE_FOR_TESTS: usize = 64;
    const ALICE_KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJpWdfMIIkoCT5SfccXAHoEeN6MGtjGffGlVpazBgpG7 alice";
    const WAIT: Duration = Duration::from_secs(5);

    impl Harness {
        async fn next(&mut self) -> Output {
            timeout(WAIT, self.out.recv())
                .await
                .expect("no output in time")
                .expect("session output closed")
        }

        /// Reads frames until the last output; returns all frame bytes and the last one.
        async fn until_last(&mut self) -> (String, String, u32) {
            let mut frames = Vec::new();
            loop {
                match self.next().await {
                    Output::Frame(bytes) => frames.extend(bytes),
                    Output::Last { bytes, exit_status } => {
                        return (
                            String::from_utf8_lossy(&frames).into_owned(),
                            String::from_utf8_lossy(&bytes).into_owned(),
                            exit_status,
                        )
                    }
                }
            }
        }
    }

    fn frame_text(output: Output) -> String {
        match output {
            Output::Frame(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Output::Last { .. } => panic!("expected a frame"),
        }
    }

    #[tokio::test]
    async fn quit_restores_the_terminal_with_status_zero() {
        let mut h = harness(Duration::from_secs(60));
        let first = frame_text(h.next().await);
        assert!(
            first.starts_with("\x1b[?1049h"),
            "enters the alternate screen"
        );
        assert!(first.contains("keys=0"));
        h.input.send(Input::Bytes(b"xq".to_vec())).await.unwrap();
        let (_, last, status) = h.until_last().await;
        assert_eq!(status, 0);
        assert!(last.ends_with(LEAVE_TEXT), "{last:?}");
        timeout(WAIT, h.task).await.unwrap().unwrap();
    }

    const LEAVE_TEXT: &str = "\x1b[?25h\x1b[?1049l";

    #[tokio::test]
    async fn slow_client_gets_the_latest_frame_not_a_backlog() {
        let mut h = harness(Duration::from_secs(60));
        // Nobody reads frames while 300 keys arrive: the session keeps taking input.
        for _ in 0..300 {
            h.input.send(Input::Bytes(b"a".to_vec())).await.unwrap();
        }
        wait_until(&h.seen, |seen| seen.events.len() == 300).await;
        // The first frame fills the only slot; nothing more was drawn meanwhile.
        assert_eq!(h.seen.lock().drawn.len(), 1);
        h.next().await;
        // Once the slot is free, the next frame shows the state as it is now.
        wait_until(&h.seen, |seen| seen.drawn.last() == Some(&300)).await;
        assert!(h.seen.lock().drawn.len() <= 2);
        h.input.send(Input::Bytes(b"q".to_vec())).await.unwrap();
        h.until_last().await;
    }

    async fn wait_until(seen: &Mutex<Seen>, done: impl Fn(&Seen) -> bool) {
        timeout(WAIT, async {
            while !done(&seen.lock()) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("condition never met");
    }

    #[tokio::test]
    async fn a_session_that_missed_changes_reloads() {
        use sealdesk_desk::Activity;
        use sealdesk_model::TicketNo;
        let h = harness(Duration::from_secs(60));
        // Running (and so subscribed) once it has drawn.
        wait_until(&h.seen, |seen| !seen.drawn.is_empty()).await;
        // Far more announcements than the desk keeps, with no chance to read them
        // in between (this test runtime has one thread and we never yield).
        for i in 0..3000u64 {
            h.desk
                .set_presence(99, "bob", Some((TicketNo(i % 2 + 1), Activity::Viewing)));
        }
        wait_until(&h.seen, |seen| seen.reloads > 0).await;
    }

    #[tokio::test]
    async fn removing_the_agent_ends_the_session() {
        let mut h = harness(Duration::from_secs(60));
        h.next().await;
        h.desk.remove_agent(&Actor::local_admin(), "alice").unwrap();
        let (_, last, status) = h.until_last().await;
        assert_eq!(status, 1);
        assert!(last.contains("account was removed"), "{last:?}");
    }

    #[tokio::test]
    async fn shutdown_says_why() {
        let mut h = harness(Duration::from_secs(60));
        h.next().await;
        h.stop.send(true).unwrap();
        let (_, last, status) = h.until_last().await;
        assert_eq!(status, 1);
        assert!(
            last.ends_with(&format!("{LEAVE_TEXT}sealdesk: server shutting down\r\n")),
            "{last:?}"
        );
    }

    #[tokio::test]
    async fn idle_sessions_end() {
        let mut h = harness(Duration::from_millis(300));
        let (_, last, status) = h.until_last().await;
        assert_eq!(status, 1);
        assert!(last.contains("without input"), "{last:?}");
    }

    #[tokio::test]
    async fn lone_esc_becomes_esc_after_the_timeout() {
        let h = harness(Duration::from_secs(60));
        h.input.send(Input::Bytes(b"\x1b".to_vec())).await.unwrap();
        timeout(WAIT, async {
            loop {
                if !h.seen.lock().events.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the ESC was flushed");
        assert_eq!(
            h.seen.lock().events,
            [Event::Key(KeyEvent::plain(KeyCode::Esc))]
        );
    }

    #[tokio::test]
    async fn resize_reaches_the_ui_and_repaints() {
        let mut h = harness(Duration::from_secs(60));
        h.next().await;
        h.input
            .send(Input::Resize { cols: 60, rows: 10 })
            .await
            .unwrap();
        let frame = frame_text(h.next().await);
        assert!(frame.contains("keys=1"), "{frame:?}");
        assert_eq!(h.seen.lock().events, [Event::Resize { cols: 60, rows: 10 }]);
    }

    #[tokio::test]
    async fn client_gone_ends_the_session() {
        let mut h = harness(Duration::from_secs(60));
        // Replacing the sender drops the only one the session listens to.
        h.input = mpsc::channel(1).0;
        let (_, _, status) = timeout(WAIT, h.until_last()).await.unwrap();
        assert_eq!(status, 1);
    }

    #[tokio::test]
    async fn a_gone_client_s_backlog_is_dropped_unread() {
        let mut h = harness(Duration::from_secs(60));
        h.next().await;
        // Queued without yielding, so the session has not read any of it when the
        // client goes.
        for _ in 0..INPUT_QUEUE_FOR_TESTS {
            h.input.try_send(Input::Bytes(vec![b'a'; 1000])).unwrap();
        }
        h.input = mpsc::channel(1).0;
        let (_, _, status) = timeout(WAIT, h.until_last()).await.unwrap();
        assert_eq!(status, 1);
        assert!(h.seen.lock().events.is_empty(), "no queued key was handled");
    }

    #[tokio::test]
    async fn queued_input_is_handled_in_one_turn_and_drawn_once() {
        let mut h = harness(Duration::from_secs(60));
        h.next().await;
        for _ in 0..50 {
            h.input.try_send(Input::Bytes(b"ab".to_vec())).unwrap();
        }
        let frame = frame_text(h.next().await);
        assert!(frame.contains("100"), "{frame:?}");
        assert_eq!(h.seen.lock().drawn, [0, 100]);
    }

    #[test]
    fn waiting_changes_are_taken_together_and_a_fall_behind_is_reported() {
        use sealdesk_model::TicketNo;
        let (tx, mut rx) = broadcast::channel(4);
        for n in 1..=3 {
            tx.send(Change::Ticket(TicketNo(n))).unwrap();
        }
        let first = rx
            .try_recv()
            .map_err(|_| broadcast::error::RecvError::Closed);
        let batch = drain_changes(first, &mut rx);
        let want: Vec<Change> = (1..=3).map(|n| Change::Ticket(TicketNo(n))).collect();
        assert_eq!(batch.changes, want);
        assert_eq!((batch.missed, batch.closed), (None, false));

        // Six sent into a channel of four: the two oldest are lost, and that is said.
        for n in 1..=6 {
            tx.send(Change::Ticket(TicketNo(n))).unwrap();
        }
        let first = match rx.try_recv() {
            Err(broadcast::error::TryRecvError::Lagged(m)) => {
                Err(broadcast::error::RecvError::Lagged(m))
            }
            other => panic!("expected a lag, got {other:?}"),
        };
        let batch = drain_changes(first, &mut rx);
        assert_eq!(batch.missed, Some(2));
        assert_eq!(batch.changes.len(), 4);

        tx.send(Change::Agents).unwrap();
        drop(tx);
        let first = Ok(rx.try_recv().unwrap());
        let batch = drain_changes(first, &mut rx);
        assert_eq!(batch.changes, vec![Change::Agents]);
        assert!(batch.closed, "the sender is gone: the server is stopping");
    }

    #[test]
    fn a_flood_is_noticed_once_and_typing_never() {
        let start = Instant::now();
        let mut watch = FloodWatch::new(start);
        // Fast typing: 100 keys a second for a minute.
        for i in 0..6000u32 {
            assert!(!watch.handled(1, start + Duration::from_millis(10) * i));
        }
        let later = start + Duration::from_secs(61);
        assert!(!watch.handled(FLOOD_BYTES, later));
        assert!(watch.handled(1, later), "over the rate within a second");
        assert!(!watch.handled(FLOOD_BYTES * 2, later), "said once");
    }

    #[test]
    fn changes_alone_are_drawn_at_the_calm_pace_keys_never_wait() {
        let now = Instant::now();
        let mut pace = FramePace::new(now);
        assert_eq!(pace.due(true, false), now, "the first key at once");
        pace.drawn(true, false, now);
        let fast = now + FRAME_INTERVAL;
        assert_eq!(pace.due(true, false), fast, "keys at most 60 a second");
        assert_eq!(pace.due(true, true), fast, "a key with a change");
        assert_eq!(pace.due(false, false), fast, "the clock");

        // A frame for changes alone: the next such one waits the calm interval, and a
        // key is not held back by it.
        let later = now + CALM_FRAME_INTERVAL;
        pace.drawn(false, true, later);
        assert_eq!(pace.due(false, true), later + CALM_FRAME_INTERVAL);
        assert_eq!(
            pace.due(true, false),
            fast,
            "keys never wait for a change frame"
        );
        assert_eq!(pace.due(false, false), later + FRAME_INTERVAL);

        // Nor for a clock frame.
        let tick = later + CALM_FRAME_INTERVAL;
        pace.drawn(false, false, tick);
        assert_eq!(pace.due(true, false), fast);
        assert_eq!(pace.due(false, true), tick + FRAME_INTERVAL);
    }
}
