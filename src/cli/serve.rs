//! `sealdesk serve`: the SSH server agents log in to.

use super::Global;
use crate::desk::Desk;
use crate::ssh::{placeholder, ServerOptions, SshServer};
use anyhow::{Context, Result};
use clap::Args;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Where agents connect, ADDR:PORT; 0.0.0.0:2222 listens on every interface.
    #[arg(long = "ssh", env = "SEALDESK_SSH", default_value = "127.0.0.1:2222")]
    pub ssh: SocketAddr,
}

pub fn run(g: &Global, args: ServeArgs) -> Result<i32> {
    init_logging();
    let desk = Arc::new(g.open_desk()?);
    let host_key = g.paths().key_paths().host_key();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = SshServer::bind(
            Arc::clone(&desk),
            &host_key,
            args.ssh,
            ServerOptions::default(),
            placeholder::factory(),
        )
        .await?;
        print_welcome(&desk, &server)?;
        server.run(shutdown_signal()).await
    })?;
    Ok(0)
}

/// Log lines go to stderr; `SEALDESK_LOG` takes a filter such as `debug` or
/// `info,russh=debug`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEALDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,russh=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

fn print_welcome(desk: &Desk, server: &SshServer) -> Result<()> {
    let addr = server.local_addr();
    let host = if addr.ip().is_unspecified() {
        "<this-host>".to_string()
    } else {
        addr.ip().to_string()
    };
    println!("sealdesk: SSH server listening on {addr}");
    println!("  host key: {}", server.host_key_fingerprint());
    let agents = desk.agents()?;
    if agents.is_empty() {
        println!("  no agents yet: stop the server, then `sealdesk agent add NAME --key-file ~/.ssh/id_ed25519.pub`");
    } else {
        println!("  agents log in with:");
        for agent in &agents {
            println!("    ssh -p {} {}@{host}", addr.port(), agent.name);
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminated => {}
    }
    tracing::info!("signal received; shutting down");
}
