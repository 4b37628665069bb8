//! One IMAP connection: TCP, then TLS (implicit or STARTTLS) or none, then LOGIN or
//! XOAUTH2. Errors are one line for the log and never hold the secret.

use super::{Credentials, Tls};
use anyhow::{anyhow, Context};
use async_imap::{Authenticator, Session};
use std::fmt;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

/// How long connecting, the TLS handshake and logging in may take together.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The byte stream under the IMAP client: plain TCP (loopback tests only) or TLS.
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stream::Plain(_) => "Stream::Plain",
            Stream::Tls(_) => "Stream::Tls",
        })
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub(super) type ImapSession = Session<Stream>;

/// The TLS settings: the webpki roots, plus the certificates of `ca_file` if given (a
/// self-hosted server's own CA or a self-signed certificate).
pub(super) fn tls_config(ca_file: Option<&Path>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| {
            anyhow!(
                "ca_file {}: cannot read it ({e}); give a PEM file of certificates",
                path.display()
            )
        })? {
            let cert = cert
                .map_err(|e| anyhow!("ca_file {}: not a PEM certificate ({e})", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| anyhow!("ca_file {}: {e}", path.display()))?;
            added += 1;
        }
        if added == 0 {
            return Err(anyhow!(
                "ca_file {}: no certificate in it; give a PEM file of certificates",
                path.display()
            ));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS setup")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn wrap_tls(
    tcp: TcpStream,
    host: &str,
    tls: &Arc<rustls::ClientConfig>,
) -> anyhow::Result<Stream> {
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| anyhow!("{host:?} is not a host name for TLS"))?;
    let stream = tokio_rustls::TlsConnector::from(tls.clone())
        .connect(name, tcp)
        .await
        .map_err(|e| anyhow!("TLS with {host}: {e}"))?;
    Ok(Stream::Tls(Box::new(stream)))
}

/// Connects and logs in.
pub(super) async fn open(
    host: &str,
    port: u16,
    mode: Tls,
    tls: &Arc<rustls::ClientConfig>,
    user: &str,
    credentials: &Credentials,
) -> anyhow::Result<ImapSession> {
    tokio::time::timeout(
        CONNECT_TIMEOUT,
        open_within(host, port, mode, tls, user, credentials),
    )
    .await
    .map_err(|_| anyhow!("{host}:{port} did not answer within 30 s"))?
}

async fn open_within(
    host: &str,
    port: u16,
    mode: Tls,
    tls: &Arc<rustls::ClientConfig>,
    user: &str,
    credentials: &Credentials,
) -> anyhow::Result<ImapSession> {
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| anyhow!("cannot connect to {host}:{port}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let client = match mode {
        Tls::Implicit => greeted(async_imap::Client::new(wrap_tls(tcp, host, tls).await?)).await?,
        Tls::None => greeted(async_imap::Client::new(Stream::Plain(tcp))).await?,
        Tls::StartTls => {
            let mut plain = greeted(async_imap::Client::new(tcp)).await?;
            plain
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .map_err(|e| anyhow!("STARTTLS refused: {}", one_line(&e.to_string())))?;
            // No greeting after STARTTLS (RFC 3501 §6.2.1).
            async_imap::Client::new(wrap_tls(plain.into_inner(), host, tls).await?)
        }
    };
    let session = match credentials.secret().await? {
        Secret::Password(password) => client
            .login(user, password.as_str())
            .await
            .map_err(|(e, _)| anyhow!("login as {user} refused: {}", one_line(&e.to_string())))?,
        Secret::Bearer(token) => client
            .authenticate(
                "XOAUTH2",
                XOAuth2 {
                    user: user.to_string(),
                    token,
                },
            )
            .await
            .map_err(|(e, _)| {
                anyhow!(
                    "XOAUTH2 login as {user} refused: {}",
                    one_line(&e.to_string())
                )
            })?,
    };
    Ok(session)
}

/// Reads the server's greeting.
async fn greeted<T: AsyncRead + AsyncWrite + Unpin + fmt::Debug + Send>(
    mut client: async_imap::Client<T>,
) -> anyhow::Result<async_imap::Client<T>> {
    match client.read_response().await {
        Ok(Some(_)) => Ok(client),
        Ok(None) => Err(anyhow!(
            "the server closed the connection before its greeting"
        )),
        Err(e) => Err(anyhow!("no greeting: {e}")),
    }
}

/// What logs us in, fetched anew for each connection (a token expires).
pub(crate) enum Secret {
    Password(zeroize::Zeroizing<String>),
    Bearer(zeroize::Zeroizing<String>),
}

struct XOAuth2 {
    user: String,
    token: zeroize::Zeroizing<String>,
}

impl Authenticator for XOAuth2 {
    type Response = zeroize::Zeroizing<String>;

    fn process(&mut self, _challenge: &[u8]) -> Self::Response {
        // RFC-less but documented by Google and Microsoft: user, bearer token, two ^A.
        zeroize::Zeroizing::new(format!(
            "user={}\x01auth=Bearer {}\x01\x01",
            self.user,
            self.token.as_str()
        ))
    }
}

/// A server's words as one sanitized line.
pub(super) fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    sealdesk_model::sanitize::line(&s)
        .chars()
        .take(200)
        .collect()
}
