//! The names a ticket's files go by in the SFTP tree (`/tickets/N/attachments/NAME`),
//! one rule shared by the desk (which serves them) and the TUI (which prints the
//! `sftp` command to fetch one).
//!
//! The rule: a file keeps its own name made safe for a path (no `/`, `\` or control
//! characters; blank, `.` and `..` become `file`). When two files of the ticket end up
//! with the same name, every one of them is called `SEQ-NAME` instead (SEQ: the
//! message's position in the thread); if that still clashes (one message carrying
//! two files of one name), `SEQ-I-NAME` (I: the file's place in the message, from 1).

use sealdesk_model::{sanitize, Attachment, Message};
use std::collections::HashMap;

/// One file of a ticket's thread as the SFTP tree shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketFile {
    /// The message's position in the thread.
    pub seq: u32,
    /// The unique name under `attachments/`.
    pub name: String,
    pub attachment: Attachment,
}

/// A file name as one path segment: no separators, no control characters, not empty.
pub fn path_safe_name(name: &str) -> String {
    let clean: String = sanitize::line(name)
        .trim()
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    if clean.is_empty() || clean == "." || clean == ".." {
        "file".to_string()
    } else {
        clean
    }
}

/// The files of these messages (in thread order) with their unique names.
pub fn ticket_files<'a>(messages: impl IntoIterator<Item = &'a Message>) -> Vec<TicketFile> {
    let all: Vec<(u32, usize, &Attachment, String)> = messages
        .into_iter()
        .flat_map(|m| {
            m.attachments
                .iter()
                .enumerate()
                .map(move |(i, a)| (m.seq, i + 1, a, path_safe_name(&a.name)))
        })
        .collect();
    let count = |names: &mut dyn Iterator<Item = String>| {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for n in names {
            *seen.entry(n).or_default() += 1;
        }
        seen
    };
    let plain = count(&mut all.iter().map(|(_, _, _, n)| n.clone()));
    let with_seq = |seq: u32, n: &str| format!("{seq}-{n}");
    let seqs = count(
        &mut all
            .iter()
            .filter(|(_, _, _, n)| plain[n] > 1)
            .map(|(s, _, _, n)| with_seq(*s, n)),
    );
    all.iter()
        .map(|(seq, i, a, n)| {
            let name = if plain[n] == 1 {
                n.clone()
            } else if seqs[&with_seq(*seq, n)] == 1 {
                with_seq(*seq, n)
            } else {
                format!("{seq}-{i}-{n}")
            };
            TicketFile {
                seq: *seq,
                name,
                attachment: (*a).clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealdesk_model::{AttachmentId, Author, TicketNo, Timestamp};

    fn message(seq: u32, names: &[&str]) -> Message {
        let mut m = Message::inbound(
            TicketNo(1),
            Author::System,
            String::new(),
            Timestamp(0),
            None,
        );
        m.seq = seq;
        m.attachments = names
            .iter()
            .map(|n| Attachment {
                id: AttachmentId::random(),
                name: n.to_string(),
                content_type: "text/plain".into(),
                size: 1,
            })
            .collect();
        m
    }

    #[test]
    fn names_are_unique_and_path_safe() {
        let thread = [
            message(1, &["scan.pdf", "../etc/passwd", ""]),
            message(2, &["scan.pdf", "log.txt", "log.txt"]),
        ];
        let names: Vec<String> = ticket_files(&thread).into_iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "1-scan.pdf",
                ".._etc_passwd",
                "file",
                "2-scan.pdf",
                "2-2-log.txt",
                "2-3-log.txt"
            ]
        );
    }
}
