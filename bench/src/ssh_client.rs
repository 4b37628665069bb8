//! An agent's terminal, simulated: a russh client that logs in with a key, asks for a
//! pty, and keeps a [`Screen`] of what the server drew, noting when each piece of output
//! arrived.

use super::screen::{draws_nothing, Screen};
use anyhow::{bail, Context, Result};
use russh::client::{self, Handle, Msg};
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpSocket;

/// An agent's SSH identity.
#[derive(Clone)]
pub(crate) struct AgentKey {
    pub name: String,
    pub key: Arc<PrivateKey>,
}

impl AgentKey {
    /// A fresh ed25519 key for agent `name`.
    pub(crate) fn generate(name: &str) -> AgentKey {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the OS random source failed");
        let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
        key.set_comment(name);
        AgentKey {
            name: name.into(),
            key: Arc::new(key),
        }
    }

    /// The `ssh-ed25519 AAAA… name` line for `agent add`.
    pub(crate) fn public_line(&self) -> String {
        self.key
            .public_key()
            .to_openssh()
            .expect("an ed25519 key always encodes")
    }

    /// Writes the private key in OpenSSH format (mode 0600), for the `ssh` client.
    pub(crate) fn write_private(&self, path: &std::path::Path) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let text = self
            .key
            .to_openssh(russh::keys::ssh_key::LineEnding::LF)
            .context("cannot encode the agent key")?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        f.write_all(text.as_bytes())?;
        Ok(())
    }
}

/// Trusts whatever host key the throwaway server shows.
struct TrustingClient;

impl client::Handler for TrustingClient {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// One interactive session with a pty.
pub(crate) struct Terminal {
    channel: Channel<Msg>,
    pub screen: Screen,
    /// Output chunks that changed the screen, received so far.
    pub chunks: u64,
    /// Chunks that draw nothing (sent after every redraw, even an empty one), skipped.
    pub style_only: u64,
    handle: Handle<TrustingClient>,
}

impl Terminal {
    /// Connects from `source` (a loopback address: the server limits connections per
    /// address), logs in as `agent` and opens a `cols`×`rows` pty with a shell.
    pub(crate) async fn open(
        server: SocketAddr,
        source: IpAddr,
        agent: &AgentKey,
        cols: u16,
        rows: u16,
    ) -> Result<Terminal> {
        let socket = TcpSocket::new_v4()?;
        socket
            .bind(SocketAddr::new(source, 0))
            .with_context(|| format!("cannot bind the client to {source}"))?;
        let stream = socket
            .connect(server)
            .await
            .with_context(|| format!("cannot connect to the SSH server at {server}"))?;
        stream.set_nodelay(true)?;
        let config = Arc::new(client::Config {
            nodelay: true,
            ..client::Config::default()
        });
        let mut handle = client::connect_stream(config, stream, TrustingClient)
            .await
            .context("SSH handshake failed")?;
        let auth = handle
            .authenticate_publickey(
                agent.name.clone(),
                PrivateKeyWithHashAlg::new(Arc::clone(&agent.key), None),
            )
            .await
            .context("SSH authentication failed")?;
        if !auth.success() {
            bail!("the server refused agent {}'s key", agent.name);
        }
        let channel = handle.channel_open_session().await?;
        channel
            .request_pty(true, "xterm-256color", cols.into(), rows.into(), 0, 0, &[])
            .await?;
        channel.request_shell(true).await?;
        Ok(Terminal {
            channel,
            screen: Screen::new(cols, rows),
            chunks: 0,
            style_only: 0,
            handle,
        })
    }

    /// Sends what the agent typed.
    pub(crate) async fn type_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.channel.data(bytes).await?;
        Ok(())
    }

    /// Waits up to `within` for the next piece of output that draws something; its
    /// arrival time, or `None` if nothing came.
    pub(crate) async fn next_output(&mut self, within: Duration) -> Result<Option<Instant>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.channel.wait()).await {
                Err(_) => return Ok(None),
                Ok(None) => bail!("the server closed the session"),
                Ok(Some(msg)) => msg,
            };
            let at = Instant::now();
            match msg {
                ChannelMsg::Data { data } => {
                    self.screen.feed(&data);
                    if draws_nothing(&data) {
                        self.style_only += 1;
                        continue;
                    }
                    self.chunks += 1;
                    return Ok(Some(at));
                }
                ChannelMsg::Eof | ChannelMsg::Close | ChannelMsg::ExitStatus { .. } => {
                    bail!("the server ended the session")
                }
                _ => {}
            }
        }
    }

    /// Reads output until the screen satisfies `done`; when the output that did it came.
    pub(crate) async fn wait_for(
        &mut self,
        within: Duration,
        done: impl Fn(&Screen) -> bool,
    ) -> Result<Instant> {
        match self.wait_until(within, done).await? {
            Some(at) => Ok(at),
            None => bail!(
                "the screen did not show what was expected within {within:?}; it shows:\n{}",
                self.screen.text()
            ),
        }
    }

    /// Like [`wait_for`](Self::wait_for), but `None` when `within` passed first.
    pub(crate) async fn wait_until(
        &mut self,
        within: Duration,
        done: impl Fn(&Screen) -> bool,
    ) -> Result<Option<Instant>> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_output(left).await? {
                Some(at) if done(&self.screen) => return Ok(Some(at)),
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    /// Reads output until none comes for `gap`; when the last piece came, if any.
    pub(crate) async fn drain(&mut self, gap: Duration) -> Result<Option<Instant>> {
        let mut last = None;
        while let Some(at) = self.next_output(gap).await? {
            last = Some(at);
        }
        Ok(last)
    }

    /// Keeps reading (and discarding) output in the background, so the server's
    /// flow-control window never fills while the session sits open.
    pub(crate) fn keep_open(mut self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while self.channel.wait().await.is_some() {}
            drop(self.handle);
        })
    }

    /// Types in the background while reading (and discarding) output, until the task
    /// is aborted, which also drops the connection. `next` gives what to type next and
    /// how long to wait first; each piece sent is counted in `typed`.
    pub(crate) fn type_in_background(
        mut self,
        mut next: impl FnMut() -> (Duration, Vec<u8>) + Send + 'static,
        typed: Arc<std::sync::atomic::AtomicU64>,
    ) -> tokio::task::JoinHandle<()> {
        use tokio::io::AsyncWriteExt;
        tokio::spawn(async move {
            let mut writer = self.channel.make_writer();
            let write = async {
                loop {
                    let (pause, bytes) = next();
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                    if writer.write_all(&bytes).await.is_err() {
                        return;
                    }
                    typed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            };
            let read = async { while self.channel.wait().await.is_some() {} };
            tokio::select! {
                () = write => {}
                () = read => {}
            }
            drop(self.handle);
        })
    }

    pub(crate) async fn close(self) {
        let _ = self.channel.close().await;
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "")
            .await;
    }
}

/// The loopback address for the `i`th concurrent session, `per_address` to an address
/// (the server's per-address connection limit).
pub(crate) fn loopback_source(i: usize, per_address: usize) -> IpAddr {
    let n = 10 + (i / per_address.max(1)) as u8;
    IpAddr::from([127, 0, 0, n])
}
