//! A real SMTP sink standing in for the relay (keeps each DATA), and Python's smtplib as
//! a real SMTP client: for tests that follow mail out of and into a running desk.
#![allow(dead_code)]
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A minimal SMTP server standing in for the relay: accepts everything, keeps each DATA.
pub(crate) struct Sink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Vec<u8>>>>,
    /// The name each client gave in EHLO/HELO, in order.
    pub hellos: Arc<Mutex<Vec<String>>>,
    /// The RCPT TO addresses of each mail kept in `received`, in the same order.
    pub envelopes: Arc<Mutex<Vec<Vec<String>>>>,
}

impl Sink {
    pub(crate) fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let hellos = Arc::new(Mutex::new(Vec::new()));
        let envelopes = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&received);
        let names = Arc::clone(&hellos);
        let rcpts = Arc::clone(&envelopes);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = Arc::clone(&store);
                let names = Arc::clone(&names);
                let rcpts = Arc::clone(&rcpts);
                thread::spawn(move || {
                    let mut to = Vec::new();
                    let mut out = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let _ = out.write_all(b"220 sink ESMTP\r\n");
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let upper = line.to_ascii_uppercase();
                        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                            let name = line.get(5..).unwrap_or("").trim().to_string();
                            names.lock().unwrap().push(name);
                        }
                        if upper.starts_with("RCPT TO:") {
                            let addr = line[8..].trim().trim_matches(['<', '>']);
                            to.push(addr.split('>').next().unwrap_or(addr).to_string());
                        }
                        if upper.starts_with("EHLO") {
                            let _ = out.write_all(b"250-sink\r\n250 8BITMIME\r\n");
                        } else if upper.starts_with("DATA") {
                            let _ = out.write_all(b"354 go on\r\n");
                            let mut data = Vec::new();
                            loop {
                                let mut l = Vec::new();
                                if reader.read_until(b'\n', &mut l).unwrap_or(0) == 0 {
                                    return;
                                }
                                if l == b".\r\n" {
                                    break;
                                }
                                data.extend_from_slice(if l.starts_with(b"..") {
                                    &l[1..]
                                } else {
                                    &l
                                });
                            }
                            // Kept together, so `envelopes[i]` is the envelope of
                            // `received[i]`.
                            let mut kept = store.lock().unwrap();
                            kept.push(data);
                            rcpts.lock().unwrap().push(std::mem::take(&mut to));
                            drop(kept);
                            let _ = out.write_all(b"250 queued\r\n");
                        } else if upper.starts_with("QUIT") {
                            let _ = out.write_all(b"221 bye\r\n");
                            return;
                        } else {
                            let _ = out.write_all(b"250 ok\r\n");
                        }
                    }
                });
            }
        });
        Sink {
            port,
            received,
            hellos,
            envelopes,
        }
    }

    pub(crate) fn wait_for_mail(&self, n: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the relay received {} of {n} mails",
                got.len()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Sends one raw message with Python's smtplib; Ok or the client's error text.
pub(crate) fn smtp_send(port: u16, from: &str, to: &str, raw: &str) -> Result<(), String> {
    let script = "import smtplib,sys\ns=smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)\ns.sendmail(sys.argv[2], [sys.argv[3]], sys.stdin.buffer.read())\ns.quit()\n";
    let mut child = Command::new("python3")
        .args(["-c", script, &port.to_string(), from, to])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for these tests: apt-get install python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(raw.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// A plain message to the desk; `extra` is more header lines, each ending in CRLF.
pub(crate) fn mail(from: &str, subject: &str, id: &str, extra: &str, body: &str) -> String {
    format!("From: {from}\r\nTo: support@desk.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{extra}\r\n{body}\r\n")
}
