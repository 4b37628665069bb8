//! The SFTP subsystem: a virtual tree over the desk, served on the desk's SSH port to
//! an agent who logged in as for the TUI.
//!
//! ```text
//! /tickets/                    ticket numbers, listed in batches
//! /tickets/N/attachments/NAME  the files of ticket N's messages (read only)
//! /tickets/N/outgoing/NAME     the files on this agent's draft reply on N (write, rm)
//! /exports/NAME                export archives (admins)
//! ```
//!
//! Nothing touches the disk in clear: a download is read from the store into memory and
//! served from there; an upload is gathered in memory (up to [`ATTACHMENT_MAX`]) and
//! attached to the draft, sealed, when the file is closed. What an agent may see and
//! the audit of each download are the desk's (`crates/desk/src/attachments.rs`); this
//! layer translates paths and turns the desk's refusals into SFTP statuses.

use russh::server::Msg;
use russh::Channel;
use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;
use sealdesk_desk::{path_safe_name, Actor, Desk, DeskError, TicketFile, ATTACHMENT_MAX};
use sealdesk_model::TicketNo;
use std::collections::HashMap;
use std::sync::Arc;

/// Serves SFTP on `channel` until the client is done, then ends the channel as a
/// command would (exit status 0, EOF, close): `scp -s` checks the status. The SFTP
/// server talks through an in-memory pipe to the channel, so the end is ours to send.
pub(super) fn serve(channel: Channel<Msg>, sftp: SftpSession, handle: russh::server::Handle) {
    let id = channel.id();
    let (ours, theirs) = tokio::io::duplex(PIPE_BYTES);
    tokio::spawn(async move {
        russh_sftp::server::run(theirs, sftp).await;
        let mut ours = ours;
        let mut stream = channel.into_stream();
        let _ = tokio::io::copy_bidirectional(&mut stream, &mut ours).await;
        let _ = handle.exit_status_request(id, 0).await;
        let _ = handle.eof(id).await;
        let _ = handle.close(id).await;
    });
}

/// Bytes in flight between the channel and the SFTP server.
const PIPE_BYTES: usize = 256 * 1024;
/// Handles one client may hold open at once.
const MAX_HANDLES: usize = 16;
/// Bytes of downloads and uploads one SFTP session may hold in memory at once.
const MAX_HELD_BYTES: usize = 2 * ATTACHMENT_MAX;
/// Ticket numbers per READDIR answer of `/tickets/`.
const TICKETS_PER_BATCH: usize = 200;
/// Most bytes one READ answers with (OpenSSH asks for 32 KiB to 256 KiB).
const READ_MAX: u32 = 256 * 1024;

/// A place in the tree, parsed from a path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Root,
    Tickets,
    Ticket(TicketNo),
    Attachments(TicketNo),
    Attachment(TicketNo, String),
    Outgoing(TicketNo),
    OutgoingFile(TicketNo, String),
    Exports,
    Export(String),
}

/// The path's segments with `.` and `..` resolved, from the root (the home directory).
fn segments(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out
}

fn canonical(path: &str) -> String {
    format!("/{}", segments(path).join("/"))
}

fn parse(path: &str) -> Option<Node> {
    let seg = segments(path);
    let ticket = |s: &str| s.parse::<u64>().ok().filter(|n| *n > 0).map(TicketNo);
    Some(match seg.as_slice() {
        [] => Node::Root,
        ["tickets"] => Node::Tickets,
        ["tickets", n] => Node::Ticket(ticket(n)?),
        ["tickets", n, "attachments"] => Node::Attachments(ticket(n)?),
        ["tickets", n, "attachments", f] => Node::Attachment(ticket(n)?, f.to_string()),
        ["tickets", n, "outgoing"] => Node::Outgoing(ticket(n)?),
        ["tickets", n, "outgoing", f] => Node::OutgoingFile(ticket(n)?, f.to_string()),
        ["exports"] => Node::Exports,
        ["exports", f] => Node::Export(f.to_string()),
        _ => return None,
    })
}

fn status(code: StatusCode, message: impl Into<String>) -> StatusReply {
    StatusReply::new(code).with_message(message)
}

fn no_such(path: &str) -> StatusReply {
    status(
        StatusCode::NoSuchFile,
        format!(
            "no such file: {} (the tree holds /tickets/N/attachments, /tickets/N/outgoing and /exports)",
            sealdesk_model::sanitize::line(path)
        ),
    )
}

fn refused(what: &str) -> StatusReply {
    status(
        StatusCode::PermissionDenied,
        format!("{what} is not possible here: only files in /tickets/N/outgoing/ can be written or removed"),
    )
}

/// The desk's refusal as an SFTP status; its message is written for people already.
fn from_desk(e: DeskError) -> StatusReply {
    let code = match &e {
        DeskError::Forbidden(_) => StatusCode::PermissionDenied,
        DeskError::NotFound(_) => StatusCode::NoSuchFile,
        _ => StatusCode::Failure,
    };
    status(code, e.to_string())
}

fn dir_attrs() -> FileAttributes {
    let mut a = FileAttributes {
        size: Some(0),
        permissions: Some(0o755),
        ..FileAttributes::default()
    };
    a.set_dir(true);
    a
}

fn file_attrs(size: u64, writable: bool) -> FileAttributes {
    let mut a = FileAttributes {
        size: Some(size),
        permissions: Some(if writable { 0o644 } else { 0o444 }),
        ..FileAttributes::default()
    };
    a.set_regular(true);
    a
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".into(),
        language_tag: "en-US".into(),
    }
}

/// What an open handle stands for.
enum Open {
    /// A directory listing: what is left to send.
    Listing(Listing),
    /// A file being downloaded, read from the store at open.
    Download(Vec<u8>),
    /// A file being uploaded into `outgoing/`, attached on close.
    Upload {
        ticket: TicketNo,
        name: String,
        bytes: Vec<u8>,
        /// A write went past [`ATTACHMENT_MAX`]: the close attaches nothing.
        too_big: bool,
    },
}

impl Open {
    fn held(&self) -> usize {
        match self {
            Open::Download(b) | Open::Upload { bytes: b, .. } => b.len(),
            Open::Listing(_) => 0,
        }
    }
}

enum Listing {
    /// Entries known at open (small: a ticket's files, the exports, fixed dirs).
    Fixed(Option<Vec<File>>),
    /// `/tickets/`: the next batch starts after this number.
    Tickets { after: TicketNo, done: bool },
}

/// One SFTP channel's state: the agent it serves and its open handles.
pub(super) struct SftpSession {
    desk: Arc<Desk>,
    actor: Actor,
    handles: HashMap<String, Open>,
    next_handle: u64,
    /// The files of tickets listed or opened lately (name, size), so `stat` before a
    /// `get` does not list (and audit) the ticket again; re-read on each listing.
    files: HashMap<TicketNo, Vec<TicketFile>>,
}

impl SftpSession {
    pub(super) fn new(desk: Arc<Desk>, actor: Actor) -> SftpSession {
        SftpSession {
            desk,
            actor,
            handles: HashMap::new(),
            next_handle: 1,
            files: HashMap::new(),
        }
    }

    /// Runs a desk call on the blocking pool, as the actor of this session.
    async fn desk<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Desk, &Actor) -> sealdesk_desk::Result<T> + Send + 'static,
    ) -> Result<T, StatusReply> {
        let desk = Arc::clone(&self.desk);
        let actor = self.actor.clone();
        match tokio::task::spawn_blocking(move || call(&desk, &actor)).await {
            Ok(result) => result.map_err(from_desk),
            Err(_) => Err(status(StatusCode::Failure, "the desk failed; try again")),
        }
    }

    /// Refuses before anything is read when another handle of `size` bytes would not
    /// fit the session's bounds.
    fn room_for(&self, size: usize) -> Result<(), StatusReply> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(status(
                StatusCode::Failure,
                format!("at most {MAX_HANDLES} files or directories open at once: close some"),
            ));
        }
        let held: usize = self.handles.values().map(Open::held).sum();
        if held.saturating_add(size) > MAX_HELD_BYTES {
            return Err(status(
                StatusCode::Failure,
                "too many large transfers at once: finish one first",
            ));
        }
        Ok(())
    }

    fn add_handle(&mut self, open: Open) -> Result<String, StatusReply> {
        self.room_for(open.held())?;
        let handle = self.next_handle.to_string();
        self.next_handle += 1;
        self.handles.insert(handle.clone(), open);
        Ok(handle)
    }

    /// Ticket `n`'s files, listed (and audited) through the desk.
    async fn list_files(&mut self, n: TicketNo) -> Result<Vec<TicketFile>, StatusReply> {
        let files = self.desk(move |d, a| d.ticket_attachments(a, n)).await?;
        if self.files.len() >= 64 {
            self.files.clear();
        }
        self.files.insert(n, files.clone());
        Ok(files)
    }

    async fn known_file(&mut self, n: TicketNo, name: &str) -> Result<TicketFile, StatusReply> {
        let cached = self
            .files
            .get(&n)
            .and_then(|fs| fs.iter().find(|f| f.name == name).cloned());
        let file = match cached {
            Some(f) => Some(f),
            None => self
                .list_files(n)
                .await?
                .into_iter()
                .find(|f| f.name == name),
        };
        file.ok_or_else(|| no_such(&format!("/tickets/{}/attachments/{name}", n.0)))
    }

    async fn ticket_exists(&self, n: TicketNo) -> Result<(), StatusReply> {
        let before = TicketNo(n.0 - 1);
        let found = self
            .desk(move |d, a| d.ticket_numbers_after(a, before, 1))
            .await?;
        if found.first() == Some(&n) {
            Ok(())
        } else {
            Err(no_such(&format!("/tickets/{}", n.0)))
        }
    }

    async fn attrs_of(&mut self, path: &str) -> Result<FileAttributes, StatusReply> {
        match parse(path).ok_or_else(|| no_such(path))? {
            Node::Root | Node::Exports => Ok(dir_attrs()),
            Node::Tickets => {
                self.desk(|d, a| d.ticket_numbers_after(a, TicketNo(0), 1))
                    .await?;
                Ok(dir_attrs())
            }
            Node::Ticket(n) | Node::Attachments(n) | Node::Outgoing(n) => {
                self.ticket_exists(n).await?;
                Ok(dir_attrs())
            }
            Node::Attachment(n, name) => {
                let f = self.known_file(n, &name).await?;
                Ok(file_attrs(f.attachment.size, false))
            }
            Node::OutgoingFile(n, name) => {
                let files = self.desk(move |d, a| d.draft_files(a, n)).await?;
                files
                    .iter()
                    .find(|f| path_safe_name(&f.name) == name)
                    .map(|f| file_attrs(f.size, true))
                    .ok_or_else(|| no_such(path))
            }
            Node::Export(name) => {
                let records = self.desk(|d, a| d.export_archives(a)).await?;
                records
                    .iter()
                    .find(|r| sealdesk_desk::export_file_name(r) == name)
                    .map(|r| file_attrs(r.size, false))
                    .ok_or_else(|| no_such(path))
            }
        }
    }

    async fn listing(&mut self, node: Node) -> Result<Listing, StatusReply> {
        let dir = |name: &str| File::new(name, dir_attrs());
        let fixed = |files: Vec<File>| Ok(Listing::Fixed(Some(files)));
        match node {
            Node::Root => fixed(vec![dir("tickets"), dir("exports")]),
            Node::Tickets => {
                self.desk(|d, a| d.ticket_numbers_after(a, TicketNo(0), 1))
                    .await?;
                Ok(Listing::Tickets {
                    after: TicketNo(0),
                    done: false,
                })
            }
            Node::Ticket(n) => {
                self.ticket_exists(n).await?;
                fixed(vec![dir("attachments"), dir("outgoing")])
            }
            Node::Attachments(n) => {
                let files = self.list_files(n).await?;
                fixed(
                    files
                        .into_iter()
                        .map(|f| File::new(f.name, file_attrs(f.attachment.size, false)))
                        .collect(),
                )
            }
            Node::Outgoing(n) => {
                self.ticket_exists(n).await?;
                let files = self.desk(move |d, a| d.draft_files(a, n)).await?;
                fixed(
                    files
                        .into_iter()
                        .map(|f| File::new(path_safe_name(&f.name), file_attrs(f.size, true)))
                        .collect(),
                )
            }
            Node::Exports => {
                let records = self.desk(|d, a| d.export_archives(a)).await?;
                fixed(
                    records
                        .iter()
                        .map(|r| {
                            File::new(
                                sealdesk_desk::export_file_name(r),
                                file_attrs(r.size, false),
                            )
                        })
                        .collect(),
                )
            }
            Node::Attachment(..) | Node::OutgoingFile(..) | Node::Export(_) => Err(status(
                StatusCode::Failure,
                "that is a file, not a directory",
            )),
        }
    }
}

impl russh_sftp::server::Handler for SftpSession {
    type Error = StatusReply;

    fn unimplemented(&self) -> StatusReply {
        status(
            StatusCode::OpUnsupported,
            "not supported by the desk's file tree",
        )
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Result<Version, StatusReply> {
        Ok(Version::new())
    }

    async fn realpath(&mut self, id: u32, path: String) -> Result<Name, StatusReply> {
        Ok(Name {
            id,
            files: vec![File::dummy(canonical(&path))],
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Result<Attrs, StatusReply> {
        let attrs = self.attrs_of(&path).await?;
        Ok(Attrs { id, attrs })
    }

    async fn lstat(&mut self, id: u32, path: String) -> Result<Attrs, StatusReply> {
        self.stat(id, path).await
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Result<Attrs, StatusReply> {
        let attrs = match self.handles.get(&handle) {
            Some(Open::Listing(_)) => dir_attrs(),
            Some(Open::Download(b)) => file_attrs(b.len() as u64, false),
            Some(Open::Upload { bytes, .. }) => file_attrs(bytes.len() as u64, true),
            None => return Err(status(StatusCode::Failure, "no such handle")),
        };
        Ok(Attrs { id, attrs })
    }

    async fn opendir(&mut self, id: u32, path: String) -> Result<Handle, StatusReply> {
        let node = parse(&path).ok_or_else(|| no_such(&path))?;
        let listing = self.listing(node).await?;
        let handle = self.add_handle(Open::Listing(listing))?;
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Result<Name, StatusReply> {
        let eof = || status(StatusCode::Eof, "end of the listing");
        let next = match self.handles.get_mut(&handle) {
            Some(Open::Listing(Listing::Fixed(files))) => {
                return match files.take() {
                    Some(files) if !files.is_empty() => Ok(Name { id, files }),
                    _ => Err(eof()),
                }
            }
            Some(Open::Listing(Listing::Tickets { after, done })) => {
                if *done {
                    return Err(eof());
                }
                *after
            }
            _ => return Err(status(StatusCode::Failure, "not a directory handle")),
        };
        let numbers = self
            .desk(move |d, a| d.ticket_numbers_after(a, next, TICKETS_PER_BATCH))
            .await?;
        if let Some(Open::Listing(Listing::Tickets { after, done })) = self.handles.get_mut(&handle)
        {
            match numbers.last() {
                Some(last) => *after = *last,
                None => *done = true,
            }
        }
        if numbers.is_empty() {
            return Err(eof());
        }
        Ok(Name {
            id,
            files: numbers
                .iter()
                .map(|n| File::new(n.0.to_string(), dir_attrs()))
                .collect(),
        })
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        _attrs: FileAttributes,
    ) -> Result<Handle, StatusReply> {
        let node = parse(&filename).ok_or_else(|| no_such(&filename))?;
        let writing = pflags.intersects(
            OpenFlags::WRITE | OpenFlags::APPEND | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        );
        let open = match (node, writing) {
            (Node::OutgoingFile(n, name), true) => {
                self.ticket_exists(n).await?;
                // Refuses an agent who is gone before any byte is taken.
                self.desk(move |d, a| d.draft_files(a, n)).await?;
                Open::Upload {
                    ticket: n,
                    name,
                    bytes: Vec::new(),
                    too_big: false,
                }
            }
            (_, true) => return Err(refused("writing this file")),
            (Node::Attachment(n, name), false) => {
                let file = self.known_file(n, &name).await?;
                self.room_for(usize::try_from(file.attachment.size).unwrap_or(usize::MAX))?;
                let (_, bytes) = self
                    .desk(move |d, a| d.read_attachment(a, n, &name))
                    .await?;
                Open::Download(bytes)
            }
            (Node::Export(name), false) => {
                self.room_for(0)?;
                let bytes = self
                    .desk(move |d, a| d.read_export_archive(a, &name))
                    .await?;
                Open::Download(bytes)
            }
            (Node::OutgoingFile(..), false) => {
                return Err(status(
                    StatusCode::PermissionDenied,
                    "files on a draft can be replaced or removed, not read back",
                ))
            }
            (_, false) => {
                return Err(status(
                    StatusCode::Failure,
                    "that is a directory, not a file",
                ))
            }
        };
        let handle = self.add_handle(open)?;
        Ok(Handle { id, handle })
    }

    async fn read(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        len: u32,
    ) -> Result<Data, StatusReply> {
        let Some(Open::Download(bytes)) = self.handles.get(&handle) else {
            return Err(status(StatusCode::Failure, "not a file open for reading"));
        };
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start >= bytes.len() {
            return Err(status(StatusCode::Eof, "end of file"));
        }
        let end = bytes.len().min(start + len.min(READ_MAX) as usize);
        Ok(Data {
            id,
            data: bytes[start..end].to_vec(),
        })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Result<Status, StatusReply> {
        let held: usize = self.handles.values().map(Open::held).sum();
        let Some(Open::Upload { bytes, too_big, .. }) = self.handles.get_mut(&handle) else {
            return Err(status(StatusCode::Failure, "not a file open for writing"));
        };
        let too_big_now = || {
            status(
                StatusCode::Failure,
                format!(
                    "the file is over {} MiB, the most a reply carries: send a link instead",
                    ATTACHMENT_MAX / (1024 * 1024)
                ),
            )
        };
        let end = usize::try_from(offset)
            .ok()
            .and_then(|o| o.checked_add(data.len()));
        let end = match end {
            Some(end) if end <= ATTACHMENT_MAX && !*too_big => end,
            _ => {
                *too_big = true;
                bytes.clear();
                bytes.shrink_to_fit();
                return Err(too_big_now());
            }
        };
        if end > bytes.len() {
            if held + (end - bytes.len()) > MAX_HELD_BYTES {
                return Err(status(
                    StatusCode::Failure,
                    "too many large transfers at once: finish one first",
                ));
            }
            bytes.resize(end, 0);
        }
        let start = end - data.len();
        bytes[start..end].copy_from_slice(&data);
        Ok(ok(id))
    }

    async fn close(&mut self, id: u32, handle: String) -> Result<Status, StatusReply> {
        match self.handles.remove(&handle) {
            Some(Open::Upload {
                ticket,
                name,
                bytes,
                too_big,
            }) => {
                if too_big {
                    return Err(status(
                        StatusCode::Failure,
                        format!(
                            "nothing attached: the file is over {} MiB",
                            ATTACHMENT_MAX / (1024 * 1024)
                        ),
                    ));
                }
                let content_type = sealdesk_desk::content_type_for(&name);
                self.desk(move |d, a| d.upload_to_draft(a, ticket, &name, content_type, &bytes))
                    .await?;
                Ok(ok(id))
            }
            Some(_) => Ok(ok(id)),
            None => Err(status(StatusCode::Failure, "no such handle")),
        }
    }

    async fn remove(&mut self, id: u32, filename: String) -> Result<Status, StatusReply> {
        match parse(&filename) {
            Some(Node::OutgoingFile(n, name)) => {
                self.desk(move |d, a| d.remove_from_draft(a, n, &name))
                    .await?;
                Ok(ok(id))
            }
            Some(_) => Err(refused("removing this file")),
            None => Err(no_such(&filename)),
        }
    }

    async fn mkdir(
        &mut self,
        _id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, StatusReply> {
        Err(refused("making a directory"))
    }

    async fn rmdir(&mut self, _id: u32, _path: String) -> Result<Status, StatusReply> {
        Err(refused("removing a directory"))
    }

    async fn rename(
        &mut self,
        _id: u32,
        _oldpath: String,
        _newpath: String,
    ) -> Result<Status, StatusReply> {
        Err(refused("renaming"))
    }

    async fn symlink(
        &mut self,
        _id: u32,
        _linkpath: String,
        _targetpath: String,
    ) -> Result<Status, StatusReply> {
        Err(refused("making a link"))
    }

    async fn readlink(&mut self, _id: u32, path: String) -> Result<Name, StatusReply> {
        Err(no_such(&path))
    }

    async fn setstat(
        &mut self,
        _id: u32,
        _path: String,
        _attrs: FileAttributes,
    ) -> Result<Status, StatusReply> {
        Err(refused("changing attributes"))
    }

    async fn fsetstat(
        &mut self,
        _id: u32,
        _handle: String,
        _attrs: FileAttributes,
    ) -> Result<Status, StatusReply> {
        Err(refused("changing attributes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh_sftp::server::Handler;
    use sealdesk_desk::{ActorKind, NewTicket};
    use sealdesk_model::AgentRole;

    /// `/tickets/` on a big desk comes in batches, every number once, then EOF.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tickets_are_listed_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let desk = Arc::new(sealdesk_desk::testing::desk(dir.path()));
        let admin = Actor::local_admin();
        let key = sealdesk_desk::testing::public_key_line(1);
        desk.add_agent(&admin, "alice", AgentRole::Agent, &[key])
            .unwrap();
        for i in 0..450 {
            let new = NewTicket {
                from: "ann@example.com",
                name: "Ann",
                subject: "Printer",
                body: &format!("number {i}"),
                message_id: None,
            };
            desk.create_ticket(&admin, new).unwrap();
        }
        let alice = Actor {
            name: "alice".into(),
            key_fingerprint: None,
            source: "test".into(),
            kind: ActorKind::Agent,
        };
        let mut sftp = SftpSession::new(Arc::clone(&desk), alice);
        let handle = sftp.opendir(1, "/tickets".into()).await.unwrap().handle;
        let mut seen = Vec::new();
        let mut batches = 0;
        loop {
            match sftp.readdir(2, handle.clone()).await {
                Ok(name) => {
                    assert!(name.files.len() <= TICKETS_PER_BATCH);
                    batches += 1;
                    seen.extend(name.files.into_iter().map(|f| f.filename));
                }
                Err(e) => {
                    assert_eq!(e.status_code, StatusCode::Eof);
                    break;
                }
            }
        }
        assert_eq!(batches, 3);
        let expected: Vec<String> = (1..=450).map(|n| n.to_string()).collect();
        assert_eq!(seen, expected);
        sftp.close(3, handle).await.unwrap();
        assert!(sftp.handles.is_empty());
    }

    #[test]
    fn paths_resolve_inside_the_tree() {
        assert_eq!(parse("."), Some(Node::Root));
        assert_eq!(parse("/tickets/12/../../"), Some(Node::Root));
        assert_eq!(parse("/../../etc/passwd"), None);
        assert_eq!(
            parse("tickets/12/attachments/scan.pdf"),
            Some(Node::Attachment(TicketNo(12), "scan.pdf".into()))
        );
        assert_eq!(
            parse("/tickets/3/outgoing/x.txt"),
            Some(Node::OutgoingFile(TicketNo(3), "x.txt".into()))
        );
        assert_eq!(parse("/tickets/0"), None);
        assert_eq!(parse("/tickets/abc"), None);
        assert_eq!(canonical("tickets/./7/.."), "/tickets");
    }
}
