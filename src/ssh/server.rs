//! The listener: loads the host key, accepts connections within the limits, runs each
//! through russh, and shuts down cleanly.
//!
//! A new connection is a stranger until it proves an agent's key: strangers have a
//! short deadline and a pool of their own where the oldest makes room for a newcomer
//! (see [`super::limits`]), so silent connections never lock an agent out.

use super::auth::AuthTrail;
use super::connection::{audit_refusal, desk_call, Connection, ServerState};
use super::limits::{AuditBudget, ConnectionLimiter, ExecRate, StrangerPool, StrangerSlot};
use super::session::stopped;
use super::ui::UiFactory;
use anyhow::{Context, Result};
use parking_lot::Mutex;
use russh::keys::{HashAlg, PrivateKey};
use russh::server::{run_stream, Config};
use russh::{Disconnect, MethodKind, MethodSet, SshId};
use sealdesk_desk::Desk;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{sleep, sleep_until, timeout, Instant};

/// Limits and timeouts of the SSH server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// A session without input for this long is ended (clock ticks don't count).
    pub idle_timeout: Duration,
    /// A connection must log in within this time from connecting, unless it names a
    /// registered agent's key.
    pub login_timeout: Duration,
    /// A connection that named a registered agent's key must log in within this time
    /// from connecting: a person may be typing the key's passphrase or a code.
    pub code_timeout: Duration,
    /// Refused authentication requests per connection before it is dropped.
    pub max_auth_attempts: usize,
    /// Connections not logged in yet from one address (IPv6: one /64); one more
    /// pushes out that address's oldest.
    pub max_unauthenticated_per_ip: usize,
    /// Connections not logged in yet, in total; one more pushes out the oldest of the
    /// address holding the most.
    pub max_unauthenticated: usize,
    /// Logged-in connections (and those owing a code after their key) per agent.
    pub max_connections_per_agent: usize,
    /// Logged-in connections in total.
    pub max_connections: usize,
    /// Every refusal takes this long, so timing tells nothing about which keys exist.
    pub auth_rejection_time: Duration,
    /// Probe a silent client this often; after `keepalive_max` unanswered probes it is gone.
    pub keepalive_interval: Duration,
    pub keepalive_max: usize,
    /// How long shutdown waits for sessions to restore their agents' terminals.
    pub shutdown_grace: Duration,
    /// Commands one key may run per minute over `ssh NAME@desk COMMAND`.
    pub exec_per_minute: u32,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            idle_timeout: Duration::from_secs(30 * 60),
            login_timeout: Duration::from_secs(10),
            code_timeout: Duration::from_secs(60),
            max_auth_attempts: 6,
            max_unauthenticated_per_ip: 8,
            max_unauthenticated: 64,
            max_connections_per_agent: 8,
            max_connections: 256,
            auth_rejection_time: Duration::from_secs(1),
            keepalive_interval: Duration::from_secs(30),
            keepalive_max: 4,
            shutdown_grace: Duration::from_secs(2),
            exec_per_minute: sealdesk_desk::config::SshConfig::EXEC_PER_MINUTE,
        }
    }
}

/// A bound SSH server, not yet accepting. Binding first lets the caller learn the
/// address (port 0 picks a free one) and the host key fingerprint before serving.
pub struct SshServer {
    listener: TcpListener,
    config: Arc<Config>,
    host_key_fingerprint: String,
    desk: Arc<Desk>,
    ui: UiFactory,
    opts: ServerOptions,
}

/// Refused logins written to the audit log per window; the rest are summed up.
const REFUSALS_AUDITED: usize = 30;
const REFUSAL_WINDOW: Duration = Duration::from_secs(60);

/// Serves agents over SSH on `addr` until `shutdown` resolves.
pub async fn serve(
    desk: Arc<Desk>,
    host_key_path: &Path,
    addr: SocketAddr,
    opts: ServerOptions,
    ui: UiFactory,
    shutdown: impl Future,
) -> Result<()> {
    let server = SshServer::bind(desk, host_key_path, addr, opts, ui).await?;
    tracing::info!(addr = %server.local_addr(), host_key = %server.host_key_fingerprint(), "SSH server listening");
    server.run(shutdown).await
}

impl SshServer {
    /// Loads the host key (OpenSSH format, as `sealdesk init` writes it) and binds.
    pub async fn bind(
        desk: Arc<Desk>,
        host_key_path: &Path,
        addr: SocketAddr,
        opts: ServerOptions,
        ui: UiFactory,
    ) -> Result<SshServer> {
        let host_key = load_host_key(host_key_path)?;
        let host_key_fingerprint = host_key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string();
        let listener = TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr}: is another sealdesk or sshd using it? pick another with --ssh ADDR")
        })?;
        Ok(SshServer {
            listener,
            config: Arc::new(russh_config(host_key, &opts)),
            host_key_fingerprint,
            desk,
            ui,
            opts,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// `SHA256:…`, as `ssh` shows it on first connect.
    pub fn host_key_fingerprint(&self) -> &str {
        &self.host_key_fingerprint
    }

    /// Accepts connections until `shutdown` resolves; then every session restores its
    /// agent's terminal and says why it ends, connections close, and the store is flushed.
    pub async fn run(self, shutdown: impl Future) -> Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let port = self.local_addr().port();
        let state = Arc::new(ServerState {
            desk: Arc::clone(&self.desk),
            ui: self.ui,
            opts: self.opts.clone(),
            port,
            shutdown: stop_rx,
            next_session: AtomicU64::new(1),
            agents: ConnectionLimiter::new(
                self.opts.max_connections_per_agent,
                self.opts.max_connections,
            ),
            audit_budget: AuditBudget::new(REFUSALS_AUDITED, REFUSAL_WINDOW),
            exec_rate: ExecRate::new(self.opts.exec_per_minute, Duration::from_secs(60)),
        });
        let strangers = StrangerPool::new(
            self.opts.max_unauthenticated_per_ip,
            self.opts.max_unauthenticated,
        );
        let mut audit_summary = tokio::time::interval(REFUSAL_WINDOW);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((socket, peer)) => {
                        let (slot, evicted) = strangers.admit(peer.ip());
                        if let Some(evicted) = evicted {
                            tracing::info!(peer = %peer, evicted_from = %evicted.source, limit = ?evicted.reason, "unauthenticated connections at their limit: the oldest makes room");
                        }
                        connections.spawn(serve_connection(Arc::clone(&state), Arc::clone(&self.config), socket, peer, slot));
                    }
                    Err(e) => {
                        // Usually out of file descriptors: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                _ = audit_summary.tick() => write_refusal_summary(&state),
            }
        }
        write_refusal_summary(&state);

        drop(self.listener);
        tracing::info!(
            connections = connections.len(),
            "shutting down: telling sessions"
        );
        let _ = stop_tx.send(true);
        let all_closed = async { while connections.join_next().await.is_some() {} };
        if timeout(
            self.opts.shutdown_grace * 2 + Duration::from_secs(2),
            all_closed,
        )
        .await
        .is_err()
        {
            tracing::warn!(
                connections = connections.len(),
                "connections still open after the grace period; dropping them"
            );
            connections.shutdown().await;
        }
        self.desk
            .flush()
            .context("cannot flush the store on shutdown")?;
        tracing::info!("SSH server stopped");
        Ok(())
    }
}

/// If refused logins were left out of the audit log in the last window, one event
/// says how many (written in the background: the accept loop never waits on the disk).
fn write_refusal_summary(state: &Arc<ServerState>) {
    let Some(count) = state
        .audit_budget
        .take_suppressed(std::time::Instant::now())
    else {
        return;
    };
    tracing::warn!(
        refusals = count,
        "refused logins over the audit budget; summed up in one audit event"
    );
    let secs = state.audit_budget.window().as_secs();
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let written = desk_call(&state.desk, move |desk| {
            desk.record_login_refusals_left_out(count, secs)
        })
        .await;
        if let Err(e) = written {
            tracing::error!(error = %e, "cannot audit the refused-login summary");
        }
    });
}

fn load_host_key(path: &Path) -> Result<PrivateKey> {
    russh::keys::load_secret_key(path, None).with_context(|| {
        format!(
            "cannot load the SSH host key {}: `sealdesk init` creates it in the keys dir; check --keys",
            path.display()
        )
    })
}

fn russh_config(host_key: PrivateKey, opts: &ServerOptions) -> Config {
    Config {
        server_id: SshId::Standard("SSH-2.0-sealdesk".into()),
        // Public keys only; keyboard-interactive is offered after the key of an agent
        // with a second factor (see `Connection::auth_publickey`). Never passwords.
        methods: MethodSet::from(&[MethodKind::PublicKey][..]),
        auth_rejection_time: opts.auth_rejection_time,
        // OpenSSH first asks with "none" to learn the methods; no need to make it wait.
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        max_auth_attempts: opts.max_auth_attempts,
        // Sessions end idle agents themselves (their clock ticks count as traffic
        // here); this catches connections that never open a session.
        inactivity_timeout: Some(opts.idle_timeout),
        keepalive_interval: Some(opts.keepalive_interval),
        keepalive_max: opts.keepalive_max,
        nodelay: true,
        ..Config::default()
    }
}

/// One connection from accept to close; `stranger` holds its place until it proves a
/// key (then the connection holds a place among the agents').
async fn serve_connection(
    state: Arc<ServerState>,
    config: Arc<Config>,
    socket: TcpStream,
    peer: SocketAddr,
    stranger: StrangerSlot,
) {
    let trail = Arc::new(Mutex::new(AuthTrail::default()));
    let (live_tx, mut live_rx) = watch::channel(0usize);
    let pushed_out = stranger.evicted();
    let handler = Connection::new(
        Arc::clone(&state),
        (peer, socket.local_addr().ok()),
        Arc::clone(&trail),
        Arc::new(live_tx),
        stranger,
    );
    if let Err(e) = socket.set_nodelay(true) {
        tracing::debug!(peer = %peer, error = %e, "cannot set TCP_NODELAY");
    }
    let mut stop = state.shutdown.clone();
    let (login_timeout, code_timeout) = (state.opts.login_timeout, state.opts.code_timeout);
    let connected = Instant::now();

    // Both watch the connection from its first byte until it logs in.
    let login_expired = async {
        sleep_until(connected + login_timeout).await;
        if trail.lock().known_key_offered {
            sleep_until(connected + code_timeout.max(login_timeout)).await;
        }
        if trail.lock().logged_in {
            std::future::pending::<()>().await;
        }
    };
    let pushed_out = async {
        pushed_out.await;
        if trail.lock().joined_agents {
            std::future::pending::<()>().await;
        }
    };
    tokio::pin!(login_expired, pushed_out);

    let running = tokio::select! {
        started = run_stream(config, socket, handler) => match started {
            Ok(running) => running,
            Err(e) => {
                tracing::debug!(peer = %peer, error = %e, "SSH handshake failed");
                return;
            }
        },
        () = &mut login_expired => {
            tracing::info!(peer = %peer, "no SSH handshake within {login_timeout:?}; closing");
            return;
        }
        () = &mut pushed_out => return,
        () = stopped(&mut stop) => return,
    };
    let handle = running.handle();
    tokio::pin!(running);

    let hang_up = |why: &'static str| {
        let handle = handle.clone();
        async move {
            let _ = handle
                .disconnect(Disconnect::ByApplication, why.into(), String::new())
                .await;
        }
    };
    let ended = tokio::select! {
        ended = &mut running => Some(ended),
        () = &mut login_expired => {
            tracing::info!(peer = %peer, "not logged in within the deadline; disconnecting");
            hang_up("login timed out").await;
            timeout(Duration::from_secs(1), &mut running).await.ok()
        }
        () = &mut pushed_out => {
            tracing::info!(peer = %peer, "not logged in, and newer connections need the place; disconnecting");
            hang_up("too many connections not logged in; try again").await;
            timeout(Duration::from_secs(1), &mut running).await.ok()
        }
        () = stopped(&mut stop) => {
            let grace = state.opts.shutdown_grace;
            let mut left_by_itself = None;
            if *live_rx.borrow() > 0 {
                // The sessions got the same signal and are restoring their agents'
                // terminals. Once its last channel closes the client leaves by itself;
                // disconnecting any sooner can cut off the goodbye it is still printing.
                let _ = timeout(grace, live_rx.wait_for(|n| *n == 0)).await;
                left_by_itself = timeout(grace, &mut running).await.ok();
            }
            match left_by_itself {
                Some(ended) => Some(ended),
                None => {
                    hang_up("server shutting down").await;
                    timeout(Duration::from_secs(1), &mut running).await.ok()
                }
            }
        }
    };
    if let Some(Err(e)) = ended {
        tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
    }

    // What a connection that never logged in tried (refused codes were audited as
    // they came).
    let refusals = std::mem::take(&mut *trail.lock()).refusals();
    for (user, key, reason) in refusals {
        audit_refusal(&state, user, key, peer, reason).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_desk::config::Config as DeskConfig;
    use sealdesk_store::Paths;
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    const WAIT: Duration = Duration::from_secs(5);

    struct Running {
        _dir: tempfile::TempDir,
        desk: Arc<Desk>,
        addr: SocketAddr,
        stop: oneshot::Sender<()>,
        task: JoinHandle<Result<()>>,
    }

    async fn start(opts: ServerOptions) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            data: dir.path().join("data"),
            keys: dir.path().join("keys"),
        };
        let desk = Arc::new(Desk::new(
            sealdesk_desk::testing::new_store(&paths),
            DeskConfig::default(),
        ));
        let server = SshServer::bind(
            Arc::clone(&desk),
            &paths.key_paths().host_key(),
            "127.0.0.1:0".parse().unwrap(),
            opts,
            super::super::ui::app_factory(dir.path().join("themes")),
        )
        .await
        .unwrap();
        assert!(server.host_key_fingerprint().starts_with("SHA256:"));
        let addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Running {
            _dir: dir,
            desk,
            addr,
            stop,
            task,
        }
    }

    /// Connects and reads the server's version line; `None` if it hung up instead.
    async fn connect(addr: SocketAddr) -> (TcpStream, Option<String>) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut line = String::new();
        let read = timeout(WAIT, BufReader::new(&mut stream).read_line(&mut line))
            .await
            .expect("the server neither greeted nor hung up");
        let greeted = matches!(read, Ok(n) if n > 0);
        (stream, greeted.then_some(line))
    }

    /// Reads until the server closes the connection.
    async fn closed_by_server(stream: &mut TcpStream) -> bool {
        let mut buf = Vec::new();
        let read = timeout(WAIT, tokio::io::AsyncReadExt::read_to_end(stream, &mut buf)).await;
        read.is_ok()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_newcomer_over_the_per_source_limit_pushes_out_the_oldest_stranger() {
        let server = start(ServerOptions {
            max_unauthenticated_per_ip: 2,
            ..ServerOptions::default()
        })
        .await;
        let (mut first, greeting) = connect(server.addr).await;
        assert!(greeting.unwrap().starts_with("SSH-2.0-sealdesk"));
        let (mut second, greeting) = connect(server.addr).await;
        assert!(greeting.is_some());
        let (mut third, greeting) = connect(server.addr).await;
        assert!(greeting.is_some(), "the newcomer is let in");
        assert!(closed_by_server(&mut first).await, "the oldest made room");
        // The others are still open: nothing to read yet.
        for stream in [&mut second, &mut third] {
            let mut byte = [0u8; 1];
            let read = timeout(
                Duration::from_millis(300),
                tokio::io::AsyncReadExt::read(stream, &mut byte),
            )
            .await;
            assert!(read.is_err(), "closed too: {read:?}");
        }

        server.stop.send(()).unwrap();
        timeout(WAIT * 2, server.task)
            .await
            .expect("shutdown finishes")
            .unwrap()
            .unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_connections_are_closed_after_the_login_timeout() {
        let server = start(ServerOptions {
            login_timeout: Duration::from_millis(300),
            ..ServerOptions::default()
        })
        .await;
        let started = Instant::now();
        let (mut stream, greeting) = connect(server.addr).await;
        assert!(greeting.is_some());
        assert!(closed_by_server(&mut stream).await, "still open");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_closes_open_connections_and_stops_listening() {
        let server = start(ServerOptions::default()).await;
        let (mut stream, greeting) = connect(server.addr).await;
        assert!(greeting.is_some());
        server.stop.send(()).unwrap();
        timeout(WAIT * 2, server.task)
            .await
            .expect("shutdown finishes")
            .unwrap()
            .unwrap();
        assert!(closed_by_server(&mut stream).await);
        assert!(TcpStream::connect(server.addr).await.is_err());
    }

    /// A client that trusts any host key: these tests are about authentication.
    struct TrustingClient;

    impl russh::client::Handler for TrustingClient {
        type Error = russh::Error;

        async fn check_server_key(
            &mut self,
            _key: &russh::keys::PublicKeyOrCertificate,
        ) -> Result<bool, Self::Error> {
            Ok(true)
        }
    }

    async fn client(addr: SocketAddr) -> russh::client::Handle<TrustingClient> {
        let config = Arc::new(russh::client::Config::default());
        timeout(WAIT, russh::client::connect(config, addr, TrustingClient))
            .await
            .expect("handshake in time")
            .expect("handshake")
    }

    /// Starts a server with alice enrolled in the second factor; returns her key and a
    /// function giving the code for a moment.
    async fn start_with_totp_agent() -> (Running, Arc<PrivateKey>, impl Fn(u64) -> String) {
        use russh::keys::ssh_key::private::Ed25519Keypair;
        use sealdesk_desk::{Actor, AgentChanges, SecondFactor};
        let server = start(ServerOptions {
            auth_rejection_time: Duration::from_millis(50),
            ..ServerOptions::default()
        })
        .await;
        let key = Arc::new(PrivateKey::from(Ed25519Keypair::from_seed(&[11; 32])));
        let admin = Actor::local_admin();
        let line = key.public_key().to_openssh().unwrap();
        server
            .desk
            .add_agent(&admin, "alice", sealdesk_model::AgentRole::Agent, &[line])
            .unwrap();
        let enrol = AgentChanges {
            second_factor: Some(SecondFactor::Enrol),
            ..AgentChanges::default()
        };
        server.desk.set_agent(&admin, "alice", &enrol).unwrap();
        let secret = server.desk.agents().unwrap()[0]
            .totp_secret
            .clone()
            .unwrap();
        let code_at = move |t: u64| {
            totp_rs::Builder::new()
                .with_secret(secret.clone())
                .build()
                .unwrap()
                .generate(t)
                .to_string()
        };
        (server, key, code_at)
    }

    fn now() -> u64 {
        sealdesk_model::Timestamp::now().0 as u64
    }

    fn refused(result: &russh::client::KeyboardInteractiveAuthResponse) -> bool {
        matches!(
            result,
            russh::client::KeyboardInteractiveAuthResponse::Failure {
                partial_success: false,
                ..
            }
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_key_then_a_code_and_never_a_code_alone() {
        use russh::client::KeyboardInteractiveAuthResponse as Kbd;
        use russh::keys::PrivateKeyWithHashAlg;
        let (server, key, code_at) = start_with_totp_agent().await;
        let mut c = client(server.addr).await;

        // Keyboard-interactive first: refused outright, publickey is what is on offer.
        let first = c
            .authenticate_keyboard_interactive_start("alice", None)
            .await
            .unwrap();
        assert!(refused(&first), "{first:?}");

        // The key is half of it: partial success, keyboard-interactive is what is left.
        let half = c
            .authenticate_publickey("alice", PrivateKeyWithHashAlg::new(Arc::clone(&key), None))
            .await
            .unwrap();
        assert_eq!(
            half,
            russh::client::AuthResult::Failure {
                remaining_methods: MethodSet::from(&[MethodKind::KeyboardInteractive][..]),
                partial_success: true,
            }
        );

        // Not for another user name on the same connection.
        let other = c
            .authenticate_keyboard_interactive_start("bob", None)
            .await
            .unwrap();
        assert!(refused(&other), "{other:?}");

        let Kbd::InfoRequest { prompts, .. } = c
            .authenticate_keyboard_interactive_start("alice", None)
            .await
            .unwrap()
        else {
            panic!("no prompt for alice");
        };
        assert_eq!(prompts.len(), 1);
        assert_eq!(prompts[0].prompt, "Verification code: ");
        assert!(!prompts[0].echo, "the code is not echoed");

        // Wrong, then right (the previous step's code: a slow typist).
        let wrong = format!(
            "{:06}",
            (code_at(now()).parse::<u32>().unwrap() + 1) % 1_000_000
        );
        let answer = c
            .authenticate_keyboard_interactive_respond(vec![wrong])
            .await
            .unwrap();
        assert!(refused(&answer), "{answer:?}");
        assert!(matches!(
            c.authenticate_keyboard_interactive_start("alice", None)
                .await
                .unwrap(),
            Kbd::InfoRequest { .. }
        ));
        let answer = c
            .authenticate_keyboard_interactive_respond(vec![code_at(now() - 30)])
            .await
            .unwrap();
        assert!(matches!(answer, Kbd::Success), "{answer:?}");

        // One refused code audited with its reason, then the login.
        let mut events = Vec::new();
        server
            .desk
            .store()
            .for_each_audit(|e| {
                events.push(e);
                Ok(())
            })
            .unwrap();
        let tail: Vec<_> = events
            .iter()
            .rev()
            .take(2)
            .map(|e| (e.action.as_str(), e.targets.clone()))
            .collect();
        assert_eq!(
            tail,
            [
                ("agent.login", vec!["second-factor=totp".to_string()]),
                (
                    "agent.login-refused",
                    vec!["user=alice".to_string(), "reason=wrong code".to_string()]
                ),
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn codes_alone_run_into_the_attempt_limit() {
        let (server, _key, _code_at) = start_with_totp_agent().await;
        let mut c = client(server.addr).await;
        let max = ServerOptions::default().max_auth_attempts;
        for _ in 0..max {
            let answer = c
                .authenticate_keyboard_interactive_start("alice", None)
                .await
                .unwrap();
            assert!(refused(&answer), "{answer:?}");
        }
        // Once the limit is reached the server hangs up.
        let last = c
            .authenticate_keyboard_interactive_start("alice", None)
            .await;
        assert!(last.is_err(), "{last:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_password_is_answered_and_audited_once_the_connection_ends() {
        let (server, _key, _code_at) = start_with_totp_agent().await;
        let mut c = client(server.addr).await;
        for _ in 0..3 {
            let answer = c.authenticate_password("mallory", "hunter2").await.unwrap();
            assert!(matches!(answer, russh::client::AuthResult::Failure { .. }));
        }
        drop(c);
        let deadline = Instant::now() + WAIT;
        loop {
            let mut refused = Vec::new();
            server
                .desk
                .store()
                .for_each_audit(|e| {
                    if e.action == "agent.login-refused" {
                        refused.push(e.targets);
                    }
                    Ok(())
                })
                .unwrap();
            if !refused.is_empty() {
                assert_eq!(
                    refused,
                    [vec!["user=mallory", "reason=password refused"]],
                    "one event for the connection, without the password"
                );
                break;
            }
            assert!(Instant::now() < deadline, "never audited");
            sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn logged_in_connections_have_their_own_limit_per_agent() {
        use russh::keys::ssh_key::private::Ed25519Keypair;
        use russh::keys::PrivateKeyWithHashAlg;
        let server = start(ServerOptions {
            max_connections_per_agent: 1,
            max_unauthenticated: 1,
            auth_rejection_time: Duration::from_millis(50),
            ..ServerOptions::default()
        })
        .await;
        let key = Arc::new(PrivateKey::from(Ed25519Keypair::from_seed(&[12; 32])));
        let line = key.public_key().to_openssh().unwrap();
        let admin = sealdesk_desk::Actor::local_admin();
        server
            .desk
            .add_agent(&admin, "alice", sealdesk_model::AgentRole::Agent, &[line])
            .unwrap();
        let log_in = |mut c: russh::client::Handle<TrustingClient>| {
            let key = Arc::clone(&key);
            async move {
                let result = c
                    .authenticate_publickey("alice", PrivateKeyWithHashAlg::new(key, None))
                    .await
                    .unwrap();
                (c, result.success())
            }
        };
        // In, and out of the strangers' pool of one: a second stranger does not push
        // out the logged-in connection.
        let (first, ok) = log_in(client(server.addr).await).await;
        assert!(ok);
        let (_second, ok) = log_in(client(server.addr).await).await;
        assert!(!ok, "over the agent's limit");
        sleep(Duration::from_millis(300)).await;
        assert!(
            !first.is_closed(),
            "a stranger pushed out a logged-in connection"
        );
        drop(first);
        let deadline = Instant::now() + WAIT;
        loop {
            let (_c, ok) = log_in(client(server.addr).await).await;
            if ok {
                break;
            }
            assert!(Instant::now() < deadline, "the place was never freed");
            sleep(Duration::from_millis(50)).await;
        }
    }
}
