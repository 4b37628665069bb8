//! Reading an mbox file one message at a time (never the whole file in memory).
//!
//! A message starts at a `From ` line at the start of the file or after an empty line;
//! the empty line before it belongs to the mbox format and is dropped. Body lines that
//! were quoted on writing (`>From `, `>>From ` …) lose one `>`: the mboxrd rule, which
//! also reads mboxo files right except for a body line that itself began `>From `.

use sealdesk_model::Timestamp;
use std::io::{self, BufRead};

/// One message of an mbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    /// The message as it was delivered (unquoted).
    pub raw: Vec<u8>,
    /// The date on its `From ` line, if it had one that reads.
    pub from_line_date: Option<Timestamp>,
}

/// An iterator over the messages of an mbox.
pub struct MboxReader<R> {
    input: R,
    /// The `From ` line of the message to read next.
    next_from: Option<Vec<u8>>,
    started: bool,
    read: u64,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R) -> MboxReader<R> {
        MboxReader {
            input,
            next_from: None,
            started: false,
            read: 0,
        }
    }

    /// How many bytes of the input were read so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    fn line(&mut self, buf: &mut Vec<u8>) -> io::Result<bool> {
        buf.clear();
        let n = self.input.read_until(b'\n', buf)?;
        self.read += n as u64;
        Ok(n > 0)
    }

    fn read_message(&mut self) -> io::Result<Option<MboxMessage>> {
        let mut line = Vec::new();
        if !self.started {
            self.started = true;
            loop {
                if !self.line(&mut line)? {
                    return Ok(None);
                }
                if is_from_line(&line) {
                    self.next_from = Some(line.clone());
                    break;
                }
                if !line.iter().all(u8::is_ascii_whitespace) {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "not an mbox file: it does not start with a `From ` line",
                    ));
                }
            }
        }
        loop {
            let Some(from) = self.next_from.take() else {
                return Ok(None);
            };
            let mut raw = Vec::new();
            let mut after_blank = false;
            while self.line(&mut line)? {
                if after_blank && is_from_line(&line) {
                    self.next_from = Some(line.clone());
                    break;
                }
                after_blank = line == b"\n" || line == b"\r\n";
                match quoted_from(&line) {
                    true => raw.extend_from_slice(&line[1..]),
                    false => raw.extend_from_slice(&line),
                }
            }
            if self.next_from.is_some() {
                // The separating empty line is the format's, not the message's.
                if raw.ends_with(b"\r\n") {
                    raw.truncate(raw.len() - 2);
                } else if raw.ends_with(b"\n") {
                    raw.truncate(raw.len() - 1);
                }
            }
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Ok(Some(MboxMessage {
                raw,
                from_line_date: from_line_date(&from),
            }));
        }
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = io::Result<MboxMessage>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_message().transpose()
    }
}

fn is_from_line(line: &[u8]) -> bool {
    line.starts_with(b"From ")
}

/// `>From `, `>>From ` …: a body line quoted on writing.
fn quoted_from(line: &[u8]) -> bool {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    quotes > 0 && line[quotes..].starts_with(b"From ")
}

/// The date of a `From sender Thu Jan  1 00:00:00 2020` line (asctime, optionally with
/// a `+0100` zone before or after the year), as mail programs write it.
pub fn from_line_date(line: &[u8]) -> Option<Timestamp> {
    let text = std::str::from_utf8(line).ok()?;
    let words: Vec<&str> = text.split_whitespace().skip(2).collect();
    let month = words.iter().find_map(|w| month_of(w))?;
    let at = words.iter().position(|w| month_of(w).is_some())?;
    let rest = &words[at + 1..];
    let day: u8 = rest.first()?.parse().ok()?;
    let clock = rest.iter().find(|w| w.matches(':').count() >= 1)?;
    let mut hms = clock.split(':').map(|p| p.parse::<u8>());
    let (h, m) = (hms.next()?.ok()?, hms.next()?.ok()?);
    let s = hms.next().transpose().ok()?.unwrap_or(0);
    let year: i32 = rest
        .iter()
        .find(|w| w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit()))?
        .parse()
        .ok()?;
    let offset = rest
        .iter()
        .find(|w| w.len() == 5 && (w.starts_with('+') || w.starts_with('-')))
        .and_then(|w| {
            let sign = if w.starts_with('-') { -1 } else { 1 };
            let hh: i64 = w[1..3].parse().ok()?;
            let mm: i64 = w[3..5].parse().ok()?;
            Some(sign * (hh * 3600 + mm * 60))
        })
        .unwrap_or(0);
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let clock = time::Time::from_hms(h, m, s).ok()?;
    let utc = time::PrimitiveDateTime::new(date, clock).assume_utc();
    Some(Timestamp(utc.unix_timestamp() - offset))
}

fn month_of(word: &str) -> Option<time::Month> {
    use time::Month::*;
    let months = [
        January, February, March, April, May, June, July, August, September, October, November,
        December,
    ];
    let names = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = word.to_ascii_lowercase();
    names.iter().position(|n| lower == *n).map(|i| months[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<MboxMessage> {
        MboxReader::new(text.as_bytes())
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    #[test]
    fn splits_on_from_lines_after_an_empty_line_and_unquotes() {
        let mbox = "From a@x Thu Jan  1 00:01:00 2015\nSubject: one\n\nhello\nFrom here on\n>From me\n>>From you\n\nFrom b@x Fri Jan  2 10:00:00 2015 +0100\r\nSubject: two\r\n\r\nbody\r\n";
        let got = read(mbox);
        assert_eq!(got.len(), 2);
        assert_eq!(
            String::from_utf8_lossy(&got[0].raw),
            "Subject: one\n\nhello\nFrom here on\nFrom me\n>From you\n"
        );
        assert_eq!(got[0].from_line_date, Some(Timestamp(1_420_070_460)));
        assert_eq!(
            String::from_utf8_lossy(&got[1].raw),
            "Subject: two\r\n\r\nbody\r\n"
        );
        assert_eq!(got[1].from_line_date, Some(Timestamp(1_420_189_200)));
    }

    #[test]
    fn refuses_what_is_not_an_mbox_and_reads_an_empty_one() {
        let err = MboxReader::new(&b"Subject: x\n\nhi\n"[..]).next().unwrap();
        assert!(err.unwrap_err().to_string().contains("not an mbox"));
        assert!(read("").is_empty());
        assert_eq!(read("From x\n").len(), 0, "an empty message is no message");
        assert_eq!(from_line_date(b"From MAILER-DAEMON garbage\n"), None);
    }
}
