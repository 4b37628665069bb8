//! `ssh -p 2222 NAME@desk COMMAND …`: the CLI command set, run as the agent whose key
//! logged in (the SSH key is the API key). No pty needed; a body the command does not
//! get as an option comes from the channel's data until EOF; stdout and stderr go back
//! on the channel and the exit status is the command's (docs/api.md).
//!
//! The policy (which commands, which roles) is `cli::execute_for_agent`'s; this file
//! is the SSH side: reading stdin, running the command off the async workers, writing
//! the answer back.

use super::session::Input;
use crate::cli::exit;
use crate::control::Response;
use russh::server::Handle;
use russh::ChannelId;
use sealdesk_desk::{Actor, Desk};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Most bytes of stdin one command takes (a body; attachments go by SFTP).
pub(super) const STDIN_MAX: usize = 4 * 1024 * 1024;
/// Output is written in pieces of this size, so a long `ticket list --json` streams.
const CHUNK: usize = 32 * 1024;

/// One command to run for an agent.
pub(super) struct Job {
    pub desk: Arc<Desk>,
    pub actor: Actor,
    pub args: Vec<String>,
    /// The channel's data, if the command reads a body from stdin.
    pub stdin: Option<mpsc::Receiver<Input>>,
    /// The client asked for a pty: lines end in CR LF.
    pub pty: bool,
}

/// Runs the job and answers on `channel`, then closes it.
pub(super) fn start(job: Job, handle: Handle, channel: ChannelId) {
    tokio::spawn(async move {
        let pty = job.pty;
        let response = run(job).await;
        answer(&handle, channel, response, pty).await;
    });
}

async fn run(job: Job) -> Response {
    let stdin = match job.stdin {
        Some(rx) => match read_stdin(rx).await {
            Ok(bytes) => Some(bytes),
            Err(line) => return crate::cli::refusal(&line, exit::USAGE),
        },
        None => None,
    };
    let Job {
        desk, actor, args, ..
    } = job;
    tokio::task::spawn_blocking(move || crate::cli::execute_for_agent(&desk, &actor, args, stdin))
        .await
        .unwrap_or_else(|_| {
            crate::cli::refusal(
                "internal error while running the command; see the server log",
                exit::FAILED,
            )
        })
}

/// The channel's data until EOF (the sender is dropped at EOF or close).
async fn read_stdin(mut rx: mpsc::Receiver<Input>) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    while let Some(input) = rx.recv().await {
        if let Input::Bytes(chunk) = input {
            if bytes.len() + chunk.len() > STDIN_MAX {
                return Err(format!(
                    "stdin is over {} MiB, the most a body may be: send a shorter text",
                    STDIN_MAX / (1024 * 1024)
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
    }
    Ok(bytes)
}

/// Answers at once with `response` (a refusal before anything ran), in the background.
pub(super) fn refuse(handle: Handle, channel: ChannelId, response: Response, pty: bool) {
    tokio::spawn(async move { answer(&handle, channel, response, pty).await });
}

/// Writes stdout, then stderr (extended data 1), the exit status, EOF and close.
async fn answer(handle: &Handle, channel: ChannelId, response: Response, pty: bool) {
    let lines = |text: String| {
        if pty {
            text.replace('\n', "\r\n")
        } else {
            text
        }
    };
    for piece in lines(response.stdout).into_bytes().chunks(CHUNK) {
        if handle.data(channel, piece.to_vec()).await.is_err() {
            return;
        }
    }
    for piece in lines(response.stderr).into_bytes().chunks(CHUNK) {
        if handle
            .extended_data(channel, 1, piece.to_vec())
            .await
            .is_err()
        {
            return;
        }
    }
    let _ = handle
        .exit_status_request(channel, response.code.max(0) as u32)
        .await;
    let _ = handle.eof(channel).await;
    let _ = handle.close(channel).await;
}
