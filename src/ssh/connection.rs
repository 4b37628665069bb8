//! One SSH connection: authentication, then session channels turned into sessions.
//!
//! This is russh's [`Handler`]: it decides, and hands the long-running work to
//! [`session`](super::session) tasks, so it never blocks on a slow client.

use super::auth::{check_key, fingerprint, shown_user, AuthTrail, AwaitingCode, KeyCheck};
use super::session::{self, Input, Setup};
use super::ui::{UiContext, UiFactory};
use super::ServerOptions;
use crate::desk::{Actor, CodeCheck, Desk, LoginRefusal};
use crate::model::Agent;
use parking_lot::Mutex;
use russh::keys::PublicKey;
use russh::server::{
    Auth, ChannelOpenHandle, Handler, Msg, PublicKeyOffer, Response, Session, VerifiedPublicKey,
};
use russh::{Channel, ChannelId, MethodKind, MethodSet, Pty};
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Session channels one connection may hold (OpenSSH multiplexing opens several).
const MAX_CHANNELS: usize = 4;
/// Input chunks queued for a session; when full, reading from this client waits.
const INPUT_QUEUE: usize = 64;
/// What an agent with a second factor is asked for once their key is accepted.
const CODE_PROMPT: &str = "Verification code: ";

/// What every connection shares.
pub struct ServerState {
    pub desk: Arc<Desk>,
    pub ui: UiFactory,
    pub opts: ServerOptions,
    /// The port we listen on, for the hint shown to clients without a terminal.
    pub port: u16,
    /// Becomes `true` when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    pub next_session: AtomicU64,
}

/// The agent a connection logged in as.
struct Login {
    agent: Agent,
    key_fingerprint: String,
}

/// A session channel, from open until close.
#[derive(Default)]
struct ChannelState {
    /// Columns and rows, once the client asked for a pty.
    pty: Option<(u32, u32)>,
    no_color: bool,
    /// A shell or command was requested; the channel takes no second one.
    started: bool,
    /// Set while a session runs; dropping it ends the session.
    input: Option<mpsc::Sender<Input>>,
}

pub struct Connection {
    state: Arc<ServerState>,
    peer: SocketAddr,
    trail: Arc<Mutex<AuthTrail>>,
    login: Option<Login>,
    channels: HashMap<ChannelId, ChannelState>,
    /// Number of running sessions, so shutdown can wait for them to say goodbye.
    live_sessions: Arc<watch::Sender<usize>>,
}

impl Connection {
    pub fn new(
        state: Arc<ServerState>,
        peer: SocketAddr,
        trail: Arc<Mutex<AuthTrail>>,
        live_sessions: Arc<watch::Sender<usize>>,
    ) -> Connection {
        Connection {
            state,
            peer,
            trail,
            login: None,
            channels: HashMap::new(),
            live_sessions,
        }
    }

    /// Looks the key up against the agents as they are now.
    fn check(&self, user: &str, key: &PublicKey) -> Option<Agent> {
        let agents = match self.state.desk.agents() {
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
        let session_id = self.state.next_session.fetch_add(1, Ordering::Relaxed);
        let make_ui = Arc::clone(&self.state.ui);
        let ctx = UiContext {
            desk: Arc::clone(&self.state.desk),
            session_id,
            agent: login.agent.clone(),
            actor: Actor {
                name: login.agent.name.clone(),
                key_fingerprint: Some(login.key_fingerprint.clone()),
                source: format!("ssh {}", self.peer),
                kind: crate::desk::ActorKind::Agent,
            },
            no_color: ch.no_color,
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
            },
            session.handle(),
            channel,
            move || live.send_modify(|n| *n -= 1),
        );
        Ok(())
    }

    /// Lets the agent in: audited first, as a login that cannot be audited does not
    /// happen.
    fn log_in(&mut self, agent: Agent, key_fingerprint: String, with_code: bool) -> Auth {
        let actor = Actor {
            name: agent.name.clone(),
            key_fingerprint: Some(key_fingerprint.clone()),
            source: format!("ssh {}", self.peer),
            kind: crate::desk::ActorKind::Agent,
        };
        if let Err(e) = self.state.desk.record_login(&actor, with_code) {
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
    fn log_in_with_code(&mut self, awaiting: &AwaitingCode) -> Auth {
        let agent = match self.state.desk.agents() {
            Ok(agents) => agents.into_iter().find(|a| a.id == awaiting.agent_id),
            Err(e) => {
                tracing::error!(peer = %self.peer, error = %e, "cannot read agents; refusing login");
                None
            }
        };
        match agent {
            Some(agent) => self.log_in(agent, awaiting.key_fingerprint.clone(), true),
            None => self.refuse_code(awaiting, LoginRefusal::AgentChanged),
        }
    }

    /// A code refused: logged without the code, audited at once, and answered like a
    /// refused key (russh counts it against `max_auth_attempts` and pads it to
    /// `auth_rejection_time`). Only keyboard-interactive remains on offer.
    fn refuse_code(&mut self, awaiting: &AwaitingCode, reason: LoginRefusal) -> Auth {
        tracing::info!(peer = %self.peer, agent = %awaiting.agent_name, key = %awaiting.key_fingerprint, reason = reason.as_str(), "login refused: verification code not accepted");
        if let Some(a) = self.trail.lock().awaiting_code.as_mut() {
            a.codes_refused += 1;
        }
        let source = format!("ssh {}", self.peer);
        if let Err(e) = self.state.desk.record_login_refused(
            &awaiting.agent_name,
            &awaiting.key_fingerprint,
            &source,
            reason,
        ) {
            tracing::error!(peer = %self.peer, error = %e, "cannot audit a refused code");
        }
        Auth::Reject {
            proceed_with_methods: Some(MethodSet::from(&[MethodKind::KeyboardInteractive][..])),
            partial_success: false,
        }
    }

    fn input_for(&self, channel: ChannelId) -> Option<mpsc::Sender<Input>> {
        self.channels.get(&channel)?.input.clone()
    }
}

impl Handler for Connection {
    type Error = russh::Error;

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        // Probing only: the signature is checked next, then `auth_publickey` decides.
        Ok(match self.check(user, offer.public_key) {
            Some(_) => Auth::Accept,
            None => Auth::reject(),
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        // Checked again: the agent may have been removed since the probe.
        let Some(agent) = self.check(user, key.public_key) else {
            return Ok(Auth::reject());
        };
        let key_fingerprint = fingerprint(key.public_key);
        if agent.totp_secret.is_none() {
            return Ok(self.log_in(agent, key_fingerprint, false));
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
        let now = crate::model::Timestamp::now().0.max(0) as u64;
        let refusal = match self
            .state
            .desk
            .check_login_code(awaiting.agent_id, &code, now)
        {
            Ok(CodeCheck::Accepted) => {
                return Ok(self.log_in_with_code(&awaiting));
            }
            Ok(CodeCheck::Wrong) => LoginRefusal::WrongCode,
            Ok(CodeCheck::Reused) => LoginRefusal::ReusedCode,
            Ok(CodeCheck::NotEnrolled) => LoginRefusal::AgentChanged,
            Err(e) => {
                tracing::error!(peer = %self.peer, agent = %awaiting.agent_name, error = %e, "cannot check a verification code; refusing it");
                LoginRefusal::WrongCode
            }
        };
        Ok(self.refuse_code(&awaiting, refusal))
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
        // Input arrives through `data` below; the Channel's own queue is not read.
        self.channels.insert(channel.id(), ChannelState::default());
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
                ch.no_color = crate::tui::theme::no_color_requested(Some(variable_value));
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
                self.explain_and_close(channel, session)
            }
            Some(_) => self.start_session(channel, session),
            None => session.channel_failure(channel),
        }
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _command: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            Some(ch) if !ch.started => {
                ch.started = true;
                self.explain_and_close(channel, session)
            }
            _ => session.channel_failure(channel),
        }
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)
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
        if let Some(input) = self.input_for(channel) {
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
        if let Some(input) = self.input_for(channel) {
            // Waits while the session is busy: backpressure on this client only.
            let _ = input.send(Input::Bytes(data.to_vec())).await;
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
