//! A minimal SMTP client, as an MTA handing mail over would talk: EHLO once, then
//! MAIL / RCPT / DATA per message on the same connection. It notes when each 250
//! after DATA arrives: that is when the desk has the message durably.

use super::mailgen::{Mail, SUPPORT};
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// When one message went out and when it was acknowledged.
pub(crate) struct Sent {
    /// The final `.` of DATA was written.
    pub data_end: Instant,
    /// The 250 arrived; `None` if another answer did.
    pub acked: Option<Instant>,
}

pub(crate) struct SmtpClient {
    stream: BufReader<TcpStream>,
}

impl SmtpClient {
    pub(crate) async fn connect(addr: SocketAddr) -> Result<SmtpClient> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to the SMTP listener at {addr}"))?;
        stream.set_nodelay(true)?;
        let mut client = SmtpClient {
            stream: BufReader::new(stream),
        };
        client.expect(220, "greeting").await?;
        client.command("EHLO bench.example", 250).await?;
        Ok(client)
    }

    /// Reads one (possibly multi-line) reply: its code and last line.
    async fn reply(&mut self) -> Result<(u16, String)> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                bail!("the SMTP server closed the connection");
            }
            if line.len() < 4 {
                bail!("malformed SMTP reply {line:?}");
            }
            if line.as_bytes()[3] != b'-' {
                let code = line[..3].parse().context("SMTP reply code")?;
                return Ok((code, line.trim_end().to_string()));
            }
        }
    }

    async fn expect(&mut self, code: u16, what: &str) -> Result<()> {
        let (got, text) = self.reply().await?;
        if got != code {
            bail!("SMTP {what}: expected {code}, got {text:?}");
        }
        Ok(())
    }

    async fn command(&mut self, line: &str, code: u16) -> Result<()> {
        self.stream
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await?;
        self.expect(code, line).await
    }

    /// Delivers one message: when its data was sent, and when its 250 arrived (`None`
    /// if the answer was another: the message was not taken, e.g. 451 try later).
    pub(crate) async fn send(&mut self, mail: &Mail) -> Result<Sent> {
        self.command(&format!("MAIL FROM:<{}>", mail.from), 250)
            .await?;
        self.command(&format!("RCPT TO:<{SUPPORT}>"), 250).await?;
        self.command("DATA", 354).await?;
        let stream = self.stream.get_mut();
        stream.write_all(&dot_stuff(&mail.raw)).await?;
        stream.write_all(b".\r\n").await?;
        let data_end = Instant::now();
        let (code, _) = self.reply().await?;
        let acked = Instant::now();
        Ok(Sent {
            data_end,
            acked: (code == 250).then_some(acked),
        })
    }

    pub(crate) async fn quit(mut self) {
        let _ = self.command("QUIT", 221).await;
    }
}

/// The message as it goes on the wire: a dot doubled at the start of a line, and a
/// final CRLF so the terminating `.` is on its own line.
fn dot_stuff(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 64);
    let mut at_line_start = true;
    for &b in raw {
        if at_line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        at_line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn dots_are_doubled_at_line_starts() {
        assert_eq!(
            super::dot_stuff(b".a\r\nb.\r\n..c"),
            b"..a\r\nb.\r\n...c\r\n".to_vec()
        );
    }
}
