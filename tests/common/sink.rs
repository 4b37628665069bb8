//! A minimal SMTP server on loopback standing in for the relay (the same as
//! tests/mail_e2e.rs uses), for tests that check what the desk mailed.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A minimal SMTP server standing in for the relay: accepts everything, keeps each DATA.
pub struct Sink {
    pub port: u16,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Sink {
    pub fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&received);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = Arc::clone(&store);
                thread::spawn(move || {
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
                            store.lock().unwrap().push(data);
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
        Sink { port, received }
    }

    pub fn wait_for_mail(&self, n: usize) -> Vec<Vec<u8>> {
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
