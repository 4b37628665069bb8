//! One SSH connection: authentication, then session channels turned into sessions.
//!
//! This is russh's [`Handler`]: it decides, and hands the long-running work to
//! [`session`](super::session)s (each on its own thread), so it never blocks on a slow
//! client or a busy session. Its desk
//! calls (the key look-up, the login's audit event, the code check) run on the blocking
//! pool ([`desk_call`]), so a slow disk never stalls the async workers.

use super::auth::{check_key, fingerprint, shown_user, AuthTrail, AwaitingCode, KeyCheck};
use super::limits::{AuditBudget, ConnectionLimiter, ConnectionSlot, ExecRate, StrangerSlot};
use super::session::{self, Input, Setup};
use super::ui::{UiContext, UiFactory};
use super::ServerOptions;
use parking_lot::Mutex;
use russh::keys::PublicKey;
use russh::server::{
    Auth, ChannelOpenHandle, Handler, Msg, PublicKeyOffer, Response, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId, MethodKind, MethodSet, Pty};
use sealdesk_desk::{Actor, CodeCheck, Desk, LoginRefusal};
use sealdesk_model::{Agent, AgentId};
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Session channels one connection may hold (OpenSSH multiplexing opens several).
const MAX_CHANNELS: usize = 4;
/// Input chunks queued for a session; when full, reading from this client waits.
const INPUT_QUEUE: usize = 64;
/// What an agent with a second factor is asked for once their key is accepted.
const CODE_PROMPT: &str = "Verification code: ";

/// What every connection shares.
pub(super) struct ServerState {
    pub desk: Arc<Desk>,
    pub ui: UiFactory,
    pub opts: ServerOptions,
    /// The port we listen on, for the hint shown to clients without a terminal.
    pub port: u16,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    pub next_session: AtomicU64,
    /// Connections that proved an agent's key, per agent and in total.
    pub agents: Arc<ConnectionLimiter<AgentId>>,
    /// How many refused logins reach the audit log per minute.
    pub audit_budget: AuditBudget,
    /// Commands per key per minute over `ssh NAME@desk COMMAND`.
    pub exec_rate: ExecRate,
}

/// Where a connection counts: among the strangers until it proves an agent's key.
/// Each holds its place until dropped.
enum Standing {
    Stranger { _slot: StrangerSlot },
    Agent { _slot: ConnectionSlot<AgentId> },
}

/// Runs a desk call on the blocking pool: store reads and audit writes (with their
/// fsync) never hold up the async workers every connection runs on.
pub(super) async fn desk_call<T: Send + 'static>(
    desk: &Arc<Desk>,
    call: impl FnOnce(&Desk) -> sealdesk_desk::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let desk = Arc::clone(desk);
    Ok(tokio::task::spawn_blocking(move || call(&desk)).await??)
}

/// Audits one refused login, within the server's budget (the rest are counted and
/// summed up once a minute, see [`AuditBudget`]). Wrong codes are always written:
/// only a holder of the agent's key gets that far, and the lock bounds them.
pub(super) async fn audit_refusal(
    state: &ServerState,
    user: String,
    key_fingerprint: Option<String>,
    peer: SocketAddr,
    reason: LoginRefusal,
) {
    let always = matches!(
        reason,
        LoginRefusal::WrongCode | LoginRefusal::ReusedCode | LoginRefusal::AgentChanged
    );
    if !always && !state.audit_budget.allow(std::time::Instant::now()) {
        return;
    }
    let source = format!("ssh {peer}");
    let written = desk_call(&state.desk, move |desk| {
        desk.record_login_refused(&user, key_fingerprint.as_deref(), &source, reason)
    })
    .await;
    if let Err(e) = written {
        tracing::error!(%peer, error = %e, "cannot audit a refused login");
    }
}

/// The agent a connection logged in as.
struct Login {
    agent: Agent,
    key_fingerprint: String,
}

impl Login {
    /// Who acts in this connection's sessions, for the desk and its audit log.
    fn actor(&self, peer: SocketAddr) -> Actor {
        Actor {
            name: self.agent.name.clone(),
            key_fingerprint: Some(self.key_fingerprint.clone()),
            source: format!("ssh {peer}"),
            kind: sealdesk_desk::ActorKind::Agent,
        }
    }
}

/// A session channel, from open until close.
struct ChannelState {
    /// Columns and rows, once the client asked for a pty.
    pty: Option<(u32, u32)>,
    no_color: bool,
    /// A shell or command was requested; the channel takes no second one.
    started: bool,
    /// Set while a session runs; dropping it ends the session.
    input: Option<mpsc::Sender<Input>>,
    /// Set by a terminal session once its input is a flood (faster than anyone types):
    /// from then on what does not fit its queue is dropped instead of waited for, so
    /// the connection reads on to a close that follows, and a client gone mid-flood
    /// leaves only its queue behind, not the megabytes still in the socket.
    flooding: Arc<AtomicBool>,
    /// The channel itself, until it is started: an SFTP subsystem takes it as its
    /// stream; a terminal session drops it (its input comes through `data`, and an
    /// unread channel queue would stall the connection).
    channel: Option<Channel<Msg>>,
}

pub(super) struct Connection {
    state: Arc<ServerState>,
    peer: SocketAddr,
    /// Our end of the connection: the address the agent reached us at.
    local: Option<SocketAddr>,
    trail: Arc<Mutex<AuthTrail>>,
    standing: Standing,
    login: Option<Login>,
    channels: HashMap<ChannelId, ChannelState>,
    /// Number of running sessions, so shutdown can wait for them to say goodbye.
    live_sessions: Arc<watch::Sender<usize>>,
}

impl Connection {
    pub(super) fn new(
        state: Arc<ServerState>,
        (peer, local): (SocketAddr, Option<SocketAddr>),
        trail: Arc<Mutex<AuthTrail>>,
        live_sessions: Arc<watch::Sender<usize>>,
        stranger: StrangerSlot,
    ) -> Connection {
        Connection {
            state,
            peer,
            local,
            trail,
            standing: Standing::Stranger { _slot: stranger },
            login: None,
            channels: HashMap::new(),
            live_sessions,
        }
    }

    /// Looks the key up against the agents as they are now.
    async fn check(&self, user: &str, key: &PublicKey) -> Option<Agent> {
        let agents = match desk_call(&self.state.desk, |desk| desk.agents()).await {
            Ok(agents) => agents,
            Err(e) => {
                tracing::error!(peer = %self.peer, error = %e, "cannot read agents; refusing login");
                return None;
            }
        };
        let fp = fingerprint(key);
        let (peer, user_shown) = (self.peer, shown_user(user));
        match check_key(&agents, user, key) {
            KeyCheck::Accept(agent) => return Some(agent.clone()),
            KeyCheck::Unknown => {
                tracing::info!(%peer, user = %user_shown, key = %fp, "login refused: unknown key");
            }
            KeyCheck::WrongUser { owner } => {
                tracing::info!(%peer, user = %user_shown, key = %fp, owner, "login refused: the key belongs to another agent");
            }
        }
        self.trail.lock().refuse(user, fp);
        None
    }

    /// Answers one line and closes the channel (exit status 1).
    fn say_and_close(
        &self,
        channel: ChannelId,
        session: &mut Session,
        line: &str,
    ) -> Result<(), russh::Error> {
        session.channel_success(channel)?;
        session.data(channel, format!("{line}\r\n").into_bytes())?;
        session.exit_status_request(channel, 1)?;
        session.eof(channel)?;
        session.close(channel)
    }

    /// Tells a client without a terminal what to do instead, and closes the channel.
    fn explain_and_close(
        &self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let name = self
            .login
            .as_ref()
            .map_or("NAME", |l| l.agent.name.as_str());
        let line = format!(
            "sealdesk: this is an interactive desk; connect with a terminal (ssh -t -p {} {name}@<host>)\r\n",
            self.state.port
        );
        session.channel_success(channel)?;
        session.data(channel, line.into_bytes())?;
        session.exit_status_request(channel, 1)?;
        session.eof(channel)?;
        session.close(channel)
    }

    fn start_session(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
        start: Option<sealdesk_tui::StartAt>,
    ) -> Result<(), russh::Error> {
        let (Some(login), Some(ch)) = (&self.login, self.channels.get_mut(&channel)) else {
            return session.channel_failure(channel);
        };
        let Some(size) = ch.pty else {
            return session.channel_failure(channel);
        };
        if ch.started {
            return session.channel_failure(channel);
        }
        ch.started = true;
        ch.channel = None;
        let session_id = self.state.next_session.fetch_add(1, Ordering::Relaxed);
        let make_ui = Arc::clone(&self.state.ui);
        let ctx = UiContext {
            desk: Arc::clone(&self.state.desk),
            session_id,
            agent: login.agent.clone(),
            actor: login.actor(self.peer),
            no_color: ch.no_color,
            connected_to: self.local,
            start,
        };
        let ui: session::MakeUi = Box::new(move || make_ui(ctx));
        let (input_tx, input_rx) = mpsc::channel(INPUT_QUEUE);
        ch.input = Some(input_tx);
        session.channel_success(channel)?;

        self.live_sessions.send_modify(|n| *n += 1);
        let live = Arc::clone(&self.live_sessions);
        session::start(
            Setup {
                desk: Arc::clone(&self.state.desk),
                ui,
                size,
                input: input_rx,
                shutdown: self.state.shutdown.clone(),
                idle_timeout: self.state.opts.idle_timeout,
                session_id,
                agent: login.agent.name.clone(),
                agent_id: login.agent.id,
                flooding: Arc::clone(&ch.flooding),
            },
            session.handle(),
            channel,
            move || live.send_modify(|n| *n -= 1),
        );
        Ok(())
    }

    /// The key is proved: the connection leaves the strangers for the agents' pool, if
    /// this agent has a place left there.
    fn join_agents(&mut self, agent: &Agent) -> bool {
        if matches!(self.standing, Standing::Agent { .. }) {
            return true;
        }
        match self.state.agents.try_acquire(agent.id) {
            Ok(slot) => {
                self.standing = Standing::Agent { _slot: slot };
                self.trail.lock().joined_agents = true;
                true
            }
            Err(hit) => {
                tracing::warn!(peer = %self.peer, agent = %agent.name, limit = ?hit, "login refused: too many connections for this agent or in all");
                false
            }
        }
    }

    /// Lets the agent in: audited first, as a login that cannot be audited does not
    /// happen.
    async fn log_in(&mut self, agent: Agent, key_fingerprint: String, with_code: bool) -> Auth {
        let actor = Actor {
            name: agent.name.clone(),
            key_fingerprint: Some(key_fingerprint.clone()),
            source: format!("ssh {}", self.peer),
            kind: sealdesk_desk::ActorKind::Agent,
        };
        let recorded = desk_call(&self.state.desk, move |desk| {
            desk.record_login(&actor, with_code)
        })
        .await;
        if let Err(e) = recorded {
            tracing::error!(peer = %self.peer, agent = %agent.name, error = %e, "cannot audit the login; refusing it");
            return Auth::reject();
        }
        tracing::info!(peer = %self.peer, agent = %agent.name, key = %key_fingerprint, second_factor = with_code, "login accepted");
        self.trail.lock().logged_in = true;
        self.login = Some(Login {
            agent,
            key_fingerprint,
        });
        Auth::Accept
    }

    /// The code was right: in, as the agent is now (their record may have changed
    /// since the key was checked).
    async fn log_in_with_code(&mut self, awaiting: &AwaitingCode) -> Auth {
        let agent = match desk_call(&self.state.desk, |desk| desk.agents()).await {
            Ok(agents) => agents.into_iter().find(|a| a.id == awaiting.agent_id),
            Err(e) => {
                tracing::error!(peer = %self.peer, error = %e, "cannot read agents; refusing login");
                None
            }
        };
        match agent {
            Some(agent) => {
                self.log_in(agent, awaiting.key_fingerprint.clone(), true)
                    .await
            }
            None => self.refuse_code(awaiting, LoginRefusal::AgentChanged).await,
        }
    }

    /// A code refused: logged without the code, audited at once, and answered like a
    /// refused key (russh counts it against `max_auth_attempts` and pads it to
    /// `auth_rejection_time`). Only keyboard-interactive remains on offer.
    async fn refuse_code(&mut self, awaiting: &AwaitingCode, reason: LoginRefusal) -> Auth {
        tracing::info!(peer = %self.peer, agent = %awaiting.agent_name, key = %awaiting.key_fingerprint, reason = reason.as_str(), "login refused: verification code not accepted");
        if let Some(a) = self.trail.lock().awaiting_code.as_mut() {
            a.codes_refused += 1;
        }
        audit_refusal(
            &self.state,
            awaiting.agent_name.clone(),
            Some(awaiting.key_fingerprint.clone()),
            self.peer,
            reason,
        )
        .await;
        Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&[MethodKind::KeyboardInteractive][..])),
            partial_success: false,
        }
    }

    /// `ssh NAME@desk COMMAND …` (not a deep link): the CLI command, run as this agent
    /// (see [`super::exec`]); answered with its output and exit status.
    fn start_exec(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
        words: Vec<String>,
    ) -> Result<(), russh::Error> {
        let (Some(login), Some(ch)) = (&self.login, self.channels.get_mut(&channel)) else {
            return session.channel_failure(channel);
        };
        if ch.started {
            return session.channel_failure(channel);
        }
        ch.started = true;
        ch.channel = None;
        let pty = ch.pty.is_some();
        // Only the command's first words: the rest may be a customer's text.
        let verb: Vec<&str> = words.iter().take(2).map(String::as_str).collect();
        let verb = sealdesk_model::sanitize::line(&verb.join(" ")).into_owned();
        let fingerprint = login.key_fingerprint.clone();
        session.channel_success(channel)?;
        if !self
            .state
            .exec_rate
            .allow(&fingerprint, std::time::Instant::now())
        {
            tracing::info!(peer = %self.peer, agent = %login.agent.name, key = %fingerprint, command = %verb, "ssh exec refused: over the rate limit");
            let line = format!(
                "rate limit: this key ran {} commands in the last minute (ssh.exec_per_minute); wait and try again",
                self.state.exec_rate.per_window()
            );
            let response = crate::cli::refusal(&line, crate::cli::exit::RATE_LIMITED);
            super::exec::refuse(session.handle(), channel, response, pty);
            return Ok(());
        }
        tracing::info!(peer = %self.peer, agent = %login.agent.name, key = %fingerprint, command = %verb, "ssh exec");
        let stdin = if crate::cli::wants_stdin(&words) {
            let (tx, rx) = mpsc::channel(INPUT_QUEUE);
            ch.input = Some(tx);
            Some(rx)
        } else {
            None
        };
        let mut actor = login.actor(self.peer);
        actor.source = format!("ssh exec {}", self.peer);
        super::exec::start(
            super::exec::Job {
                desk: Arc::clone(&self.state.desk),
                actor,
                args: words,
                stdin,
                pty,
            },
            session.handle(),
            channel,
        );
        Ok(())
    }

    fn input_for(&self, channel: ChannelId) -> Option<(mpsc::Sender<Input>, bool)> {
        let ch = self.channels.get(&channel)?;
        Some((ch.input.clone()?, ch.flooding.load(Ordering::Relaxed)))
    }
}

impl Handler for Connection {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        self.trail.lock().asked_none(user);
        Ok(Auth::reject())
    }

    async fn auth_password(&mut self, user: &str, _password: &str) -> Result<Auth, Self::Error> {
        // Not on offer, but a client may try anyway; the password is never looked at.
        tracing::info!(peer = %self.peer, user = %shown_user(user), "login refused: password offered");
        self.trail
            .lock()
            .refuse_method(user, LoginRefusal::Password);
        Ok(Auth::reject())
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        // Probing only: the signature is checked next, then `auth_publickey` decides.
        Ok(match self.check(user, offer.public_key).await {
            Some(_) => {
                self.trail.lock().known_key_offered = true;
                Auth::Accept
            }
            None => Auth::reject(),
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        // Checked again: the agent may have been removed since the probe.
        let Some(agent) = self.check(user, key.public_key).await else {
            return Ok(Auth::reject());
        };
        if !self.join_agents(&agent) {
            return Ok(Auth::reject());
        }
        let key_fingerprint = fingerprint(key.public_key);
        if agent.totp_secret.is_none() {
            return Ok(self.log_in(agent, key_fingerprint, false).await);
        }
        // The first of two factors: the client is told so, and that only
        // keyboard-interactive remains. This does not count as a refusal.
        tracing::info!(peer = %self.peer, agent = %agent.name, key = %key_fingerprint, "key accepted; asking for a verification code");
        self.trail.lock().awaiting_code = Some(AwaitingCode::new(&agent, key_fingerprint));
        Ok(Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&[MethodKind::KeyboardInteractive][..])),
            partial_success: true,
        })
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let awaiting = self
            .trail
            .lock()
            .awaiting_code
            .clone()
            .filter(|a| a.is_for(user));
        let Some(awaiting) = awaiting else {
            // Never a way in by itself: a code only follows this connection's key.
            tracing::info!(peer = %self.peer, user = %shown_user(user), "keyboard-interactive refused: no key accepted for this user first");
            self.trail
                .lock()
                .refuse_method(user, LoginRefusal::CodeWithoutKey);
            return Ok(Auth::reject());
        };
        let Some(mut answers) = response else {
            return Ok(Auth::Partial {
                name: Cow::Borrowed(""),
                instructions: Cow::Borrowed(""),
                prompts: Cow::Borrowed(&[(Cow::Borrowed(CODE_PROMPT), false)]),
            });
        };
        let code = answers
            .next()
            .map(|a| zeroize::Zeroizing::new(String::from_utf8_lossy(&a).into_owned()))
            .unwrap_or_default();
        let now = sealdesk_model::Timestamp::now().0.max(0) as u64;
        let agent_id = awaiting.agent_id;
        let checked = desk_call(&self.state.desk, move |desk| {
            desk.check_login_code(agent_id, &code, now)
        })
        .await;
        let refusal = match checked {
            Ok(CodeCheck::Accepted) => {
                return Ok(self.log_in_with_code(&awaiting).await);
            }
            Ok(CodeCheck::Wrong) => LoginRefusal::WrongCode,
            Ok(CodeCheck::Reused) => LoginRefusal::ReusedCode,
            Ok(CodeCheck::NotEnrolled) => LoginRefusal::AgentChanged,
            Ok(CodeCheck::Locked { until }) => {
                tracing::info!(peer = %self.peer, agent = %awaiting.agent_name, locked_for_secs = until.saturating_sub(now), "second factor locked after repeated wrong codes");
                LoginRefusal::Locked
            }
            Err(e) => {
                tracing::error!(peer = %self.peer, agent = %awaiting.agent_name, error = %e, "cannot check a verification code; refusing it");
                LoginRefusal::WrongCode
            }
        };
        Ok(self.refuse_code(&awaiting, refusal).await)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.login.is_none() || self.channels.len() >= MAX_CHANNELS {
            return Ok(()); // dropping `reply` refuses the channel
        }
        self.channels.insert(
            channel.id(),
            ChannelState {
                pty: None,
                no_color: false,
                started: false,
                input: None,
                flooding: Arc::default(),
                channel: Some(channel),
            },
        );
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            Some(ch) if !ch.started => {
                ch.pty = Some((col_width, row_height));
                session.channel_success(channel)
            }
            _ => session.channel_failure(channel),
        }
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        variable_name: &str,
        variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            Some(ch) if variable_name == "NO_COLOR" => {
                ch.no_color = sealdesk_tui::theme::no_color_requested(Some(variable_value));
                session.channel_success(channel)
            }
            _ => session.channel_failure(channel),
        }
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            Some(ch) if ch.started => session.channel_failure(channel),
            Some(ch) if ch.pty.is_none() => {
                ch.started = true;
                ch.channel = None;
                self.explain_and_close(channel, session)
            }
            Some(_) => self.start_session(channel, session, None),
            None => session.channel_failure(channel),
        }
    }

    /// `ssh -t … open N` and `ssh -t … queue VIEW` (deep links) start the desk there
    /// (without a terminal they are answered with one line); any other command is the
    /// CLI's, run as the agent ([`Connection::start_exec`]).
    async fn exec_request(
        &mut self,
        channel: ChannelId,
        command: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let raw = String::from_utf8_lossy(command).into_owned();
        let verb = raw.split_whitespace().next().unwrap_or("");
        if !matches!(verb, "open" | "queue" | "") {
            return match crate::cli::split_command(&raw) {
                Some(words) => self.start_exec(channel, session, words),
                None => match self.channels.get_mut(&channel) {
                    Some(ch) if !ch.started => {
                        ch.started = true;
                        ch.channel = None;
                        let pty = ch.pty.is_some();
                        session.channel_success(channel)?;
                        let response = crate::cli::refusal(
                            "the command has an unterminated quote: close it (the words are split as a shell does)",
                            crate::cli::exit::USAGE,
                        );
                        super::exec::refuse(session.handle(), channel, response, pty);
                        Ok(())
                    }
                    _ => session.channel_failure(channel),
                },
            };
        }
        let command = sealdesk_model::sanitize::line(&raw).into_owned();
        let parsed = sealdesk_tui::StartAt::parse(&command);
        match self.channels.get_mut(&channel) {
            Some(ch) if !ch.started && ch.pty.is_some() && parsed.is_ok() => {
                self.start_session(channel, session, parsed.ok())
            }
            Some(ch) if !ch.started => {
                ch.started = true;
                ch.channel = None;
                let name = self
                    .login
                    .as_ref()
                    .map_or("NAME", |l| l.agent.name.as_str());
                let port = self.state.port;
                // A known command gets here only without a terminal. Both answers start
                // as the plain one does: scripts and people know that line.
                let shown: String = command.chars().take(60).collect();
                let line = match parsed {
                    Ok(_) => format!(
                        "sealdesk: this is an interactive desk; {shown:?} needs a terminal: add -t (ssh -t -p {port} {name}@<host> {shown})"
                    ),
                    Err(what) => format!(
                        "sealdesk: this is an interactive desk; connect with a terminal (ssh -t -p {port} {name}@<host>); {what}"
                    ),
                };
                self.say_and_close(channel, session, &line)
            }
            _ => session.channel_failure(channel),
        }
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (Some(login), Some(ch)) = (&self.login, self.channels.get_mut(&channel)) else {
            return session.channel_failure(channel);
        };
        if name != "sftp" || ch.started {
            return session.channel_failure(channel);
        }
        let Some(stream) = ch.channel.take() else {
            return session.channel_failure(channel);
        };
        ch.started = true;
        let actor = login.actor(self.peer);
        tracing::info!(peer = %self.peer, agent = %login.agent.name, "sftp started");
        session.channel_success(channel)?;
        let sftp = super::sftp::SftpSession::new(Arc::clone(&self.state.desk), actor);
        super::sftp::serve(stream, sftp, session.handle());
        Ok(())
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some((input, _)) = self.input_for(channel) {
            let _ = input
                .send(Input::Resize {
                    cols: col_width,
                    rows: row_height,
                })
                .await;
        } else if let Some(ch) = self.channels.get_mut(&channel) {
            ch.pty = ch.pty.map(|_| (col_width, row_height));
        }
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.input_for(channel) {
            // A flood: what does not fit the session's queue is dropped.
            Some((input, true)) => {
                let _ = input.try_send(Input::Bytes(data.to_vec()));
            }
            // Waits while the session is busy: backpressure on this client only.
            Some((input, false)) => {
                let _ = input.send(Input::Bytes(data.to_vec())).await;
            }
            None => {}
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The agent's input ended (`ssh -t host < /dev/null`): nothing more will be typed.
        if let Some(ch) = self.channels.get_mut(&channel) {
            ch.input = None;
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        Ok(())
    }
}
