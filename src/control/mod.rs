//! The local control socket: while `sealdesk serve` holds the store's lock, the admin CLI
//! hands its command to the server through `DATA/control.sock` and prints what comes
//! back. Only the user who owns the socket (the server's user) may connect; the data
//! dir is 0700 and the socket 0600.
//!
//! Wire format, both ways: a 4-byte big-endian length, then that many bytes of JSON.

use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const SOCKET_NAME: &str = "control.sock";
/// Big enough for a raw mail handed over by `sealdesk ingest`.
const MAX_FRAME: usize = 64 * 1024 * 1024;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Request {
    /// The CLI arguments after the program name, parsed again by the server.
    pub args: Vec<String>,
    /// What the client read from its stdin (base64: raw mail need not be UTF-8).
    pub stdin_base64: Option<String>,
    /// Files the client read for the command (`ticket reply --attach`), as
    /// `(name, base64)`.
    #[serde(default)]
    pub files: Vec<(String, String)>,
}

impl Request {
    pub fn new(args: Vec<String>, stdin: Option<&[u8]>) -> Request {
        use base64::Engine;
        Request {
            args,
            stdin_base64: stdin.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
            files: Vec::new(),
        }
    }

    /// Carries files the client read along with the command.
    pub fn with_files<'a>(
        mut self,
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Request {
        use base64::Engine;
        self.files = files
            .into_iter()
            .map(|(name, bytes)| {
                (
                    name.to_string(),
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                )
            })
            .collect();
        self
    }

    /// The files carried, decoded; one that does not decode is left out.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        use base64::Engine;
        self.files
            .iter()
            .filter_map(|(name, b64)| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
                Some((name.clone(), bytes))
            })
            .collect()
    }

    pub fn stdin(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        self.stdin_base64
            .as_ref()
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Response {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Who is on the other end of a control connection.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub uid: u32,
    pub pid: Option<i32>,
}

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET_NAME)
}

/// Sends a request to a running server. `Ok(None)` when no server is listening (no
/// socket, or a stale one left by a crash), so the caller opens the store itself.
pub fn forward(data_dir: &Path, request: &Request) -> anyhow::Result<Option<Response>> {
    let path = socket_path(data_dir);
    let mut stream = match std::os::unix::net::UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused) => return Ok(None),
        Err(e) => anyhow::bail!(
            "cannot reach the running server at {} ({e}): run the command as the user that runs `sealdesk serve`",
            path.display()
        ),
    };
    let mut talk = || -> io::Result<Response> {
        stream.set_read_timeout(Some(Duration::from_secs(300)))?;
        write_frame(&mut stream, &serde_json::to_vec(request)?)?;
        let bytes = read_frame(&mut stream)?;
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    };
    talk().map(Some).map_err(|e| {
        anyhow::anyhow!(
            "the running server at {} did not answer ({e}): check its log, or stop it and retry",
            path.display()
        )
    })
}

fn write_frame(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    if bytes.len() > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "request larger than 64 MiB",
        ));
    }
    w.write_all(&(bytes.len() as u32).to_be_bytes())?;
    w.write_all(bytes)?;
    w.flush()
}

fn read_frame(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame larger than 64 MiB",
        ));
    }
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// What the server does with one request (runs the CLI command against its desk).
pub type Handler = std::sync::Arc<dyn Fn(Request, Peer) -> Response + Send + Sync>;

/// Serves the control socket until `shutdown` resolves; removes the socket afterwards.
pub async fn listen(
    data_dir: &Path,
    handler: Handler,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let path = socket_path(data_dir);
    // We hold the store's lock, so a socket left here is stale.
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the control socket {} ({e}): check the data dir's permissions",
            path.display()
        )
    })?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let owner = std::fs::metadata(&path)?.uid();

    tokio::pin!(shutdown);
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => { tracing::warn!("control socket accept failed: {e}"); continue; }
            },
            _ = &mut shutdown => break,
        };
        let Ok(cred) = stream.peer_cred() else {
            continue;
        };
        if cred.uid() != owner {
            tracing::warn!(
                uid = cred.uid(),
                "control socket: refused a connection from another user"
            );
            continue;
        }
        let peer = Peer {
            uid: cred.uid(),
            pid: cred.pid(),
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let served = async {
                let len = stream.read_u32().await? as usize;
                if len > MAX_FRAME {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "frame too large",
                    ));
                }
                let mut buf = vec![0u8; len];
                stream.read_exact(&mut buf).await?;
                let request: Request = serde_json::from_slice(&buf)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                let response = tokio::task::spawn_blocking(move || handler(request, peer))
                    .await
                    .map_err(|e| io::Error::other(e.to_string()))?;
                let bytes = serde_json::to_vec(&response)?;
                stream.write_u32(bytes.len() as u32).await?;
                stream.write_all(&bytes).await?;
                stream.flush().await
            };
            if let Err(e) = served.await {
                tracing::warn!("control socket request failed: {e}");
            }
        });
    }
    let _ = std::fs::remove_file(&path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn forwards_a_request_and_returns_the_response() {
        let dir = tempfile::tempdir().unwrap();
        let request = Request::new(vec!["ticket".into(), "list".into()], Some(b"body\xff"));
        assert!(
            forward(dir.path(), &request).unwrap().is_none(),
            "no server: the CLI opens the store itself"
        );

        let rt = tokio::runtime::Runtime::new().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handler: Handler = Arc::new(|req: Request, peer: Peer| Response {
            stdout: format!(
                "{} {:?}",
                req.args.join(" "),
                req.stdin().unwrap_or_default()
            ),
            stderr: format!("uid {}", peer.uid),
            code: 3,
        });
        let data = dir.path().to_path_buf();
        let server = rt.spawn(async move {
            listen(&data, handler, async {
                let _ = stopped.await;
            })
            .await
        });
        let path = socket_path(dir.path());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !path.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );

        let response = forward(dir.path(), &request)
            .unwrap()
            .expect("server answers");
        assert_eq!(response.stdout, "ticket list [98, 111, 100, 121, 255]");
        assert_eq!(response.code, 3);
        assert!(response.stderr.starts_with("uid "));

        stop.send(()).unwrap();
        rt.block_on(server).unwrap().unwrap();
        assert!(!path.exists(), "socket removed on shutdown");
        assert!(forward(dir.path(), &request).unwrap().is_none());
    }
}
