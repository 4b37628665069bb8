//! The listener: loads the host key, accepts connections within the limits, runs each
//! through russh, and shuts down cleanly.

use super::auth::AuthTrail;
use super::connection::{Connection, ServerState};
use super::limits::{ConnectionLimiter, ConnectionSlot};
use super::session::stopped;
use super::ui::UiFactory;
use crate::desk::{Desk, LoginRefusal};
use anyhow::{Context, Result};
use parking_lot::Mutex;
use russh::keys::{HashAlg, PrivateKey};
use russh::server::{run_stream, Config};
use russh::{Disconnect, MethodKind, MethodSet, SshId};
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
    /// A connection must log in within this time from connecting.
    pub login_timeout: Duration,
    /// Refused authentication requests per connection before it is dropped.
    pub max_auth_attempts: usize,
    /// Concurrent connections from one address (IPv6: one /64).
    pub max_connections_per_ip: usize,
    /// Concurrent connections in total.
    pub max_connections: usize,
    /// Every refusal takes this long, so timing tells nothing about which keys exist.
    pub auth_rejection_time: Duration,
    /// Probe a silent client this often; after `keepalive_max` unanswered probes it is gone.
    pub keepalive_interval: Duration,
    pub keepalive_max: usize,
    /// How long shutdown waits for sessions to restore their agents' terminals.
    pub shutdown_grace: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            idle_timeout: Duration::from_secs(30 * 60),
            login_timeout: Duration::from_secs(60),
            max_auth_attempts: 6,
            max_connections_per_ip: 8,
            max_connections: 256,
            auth_rejection_time: Duration::from_secs(1),
            keepalive_interval: Duration::from_secs(30),
            keepalive_max: 4,
            shutdown_grace: Duration::from_secs(2),
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
        });
        let limiter =
            ConnectionLimiter::new(self.opts.max_connections_per_ip, self.opts.max_connections);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok((socket, peer)) => match limiter.try_acquire(peer.ip()) {
                        Ok(slot) => {
                            connections.spawn(serve_connection(Arc::clone(&state), Arc::clone(&self.config), socket, peer, slot));
                        }
                        Err(hit) => tracing::warn!(peer = %peer, limit = ?hit, "connection refused: limit reached"),
                    },
                    Err(e) => {
                        // Usually out of file descriptors: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }

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
            .store()
            .flush()
            .context("cannot flush the store on shutdown")?;
        tracing::info!("SSH server stopped");
        Ok(())
    }
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

/// One connection from accept to close; `_slot` holds its place in the limits.
async fn serve_connection(
    state: Arc<ServerState>,
    config: Arc<Config>,
    socket: TcpStream,
    peer: SocketAddr,
    _slot: ConnectionSlot,
) {
    let trail = Arc::new(Mutex::new(AuthTrail::default()));
    let (live_tx, mut live_rx) = watch::channel(0usize);
    let handler = Connection::new(
        Arc::clone(&state),
        peer,
        Arc::clone(&trail),
        Arc::new(live_tx),
    );
    if let Err(e) = socket.set_nodelay(true) {
        tracing::debug!(peer = %peer, error = %e, "cannot set TCP_NODELAY");
    }
    let mut stop = state.shutdown.clone();
    let login_timeout = state.opts.login_timeout;
    let login_deadline = Instant::now() + login_timeout;

    let running = tokio::select! {
        started = run_stream(config, socket, handler) => match started {
            Ok(running) => running,
            Err(e) => {
                tracing::debug!(peer = %peer, error = %e, "SSH handshake failed");
                return;
            }
        },
        () = sleep_until(login_deadline) => {
            tracing::info!(peer = %peer, "no SSH handshake within {login_timeout:?}; closing");
            return;
        }
        () = stopped(&mut stop) => return,
    };
    let handle = running.handle();
    tokio::pin!(running);

    let logged_in = || trail.lock().logged_in;
    let login_expired = async {
        sleep_until(login_deadline).await;
        if logged_in() {
            std::future::pending::<()>().await;
        }
    };
    let ended = tokio::select! {
        ended = &mut running => Some(ended),
        () = login_expired => {
            tracing::info!(peer = %peer, "no login within {login_timeout:?}; disconnecting");
            let _ = handle.disconnect(Disconnect::ByApplication, "login timed out".into(), String::new()).await;
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
                    let _ = handle.disconnect(Disconnect::ByApplication, "server shutting down".into(), String::new()).await;
                    timeout(Duration::from_secs(1), &mut running).await.ok()
                }
            }
        }
    };
    if let Some(Err(e)) = ended {
        tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
    }

    let trail = std::mem::take(&mut *trail.lock());
    if !trail.logged_in {
        let source = format!("ssh {peer}");
        let refused = trail
            .refused
            .iter()
            .map(|key| (trail.user.as_str(), key.as_str(), LoginRefusal::Key));
        // A good key and then no code at all (refused codes were audited as they came).
        let no_code = trail
            .awaiting_code
            .as_ref()
            .filter(|a| a.codes_refused == 0)
            .map(|a| {
                (
                    a.agent_name.as_str(),
                    a.key_fingerprint.as_str(),
                    LoginRefusal::NoCode,
                )
            });
        for (user, key, reason) in refused.chain(no_code) {
            if let Err(e) = state.desk.record_login_refused(user, key, &source, reason) {
                tracing::error!(peer = %peer, error = %e, "cannot audit a refused login");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config as DeskConfig;
    use crate::store::Paths;
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
            crate::desk::tests::new_store(&paths),
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
    async fn connections_over_the_per_source_limit_are_refused_at_once() {
        let server = start(ServerOptions {
            max_connections_per_ip: 2,
            ..ServerOptions::default()
        })
        .await;
        let (first, greeting) = connect(server.addr).await;
        assert!(greeting.unwrap().starts_with("SSH-2.0-sealdesk"));
        let (_second, greeting) = connect(server.addr).await;
        assert!(greeting.is_some());
        let (_third, greeting) = connect(server.addr).await;
        assert_eq!(greeting, None, "over the limit: closed without a word");

        // A freed place can be taken again.
        drop(first);
        let deadline = Instant::now() + WAIT;
        loop {
            if connect(server.addr).await.1.is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "the place was never freed");
            sleep(Duration::from_millis(20)).await;
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
        use crate::desk::{Actor, AgentChanges, SecondFactor};
        use russh::keys::ssh_key::private::Ed25519Keypair;
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
            .add_agent(&admin, "alice", crate::model::AgentRole::Agent, &[line])
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
        crate::model::Timestamp::now().0 as u64
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
}
