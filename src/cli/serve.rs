//! `sealdesk serve`: the SSH server agents log in to, the SMTP/LMTP listener, the outbox
//! worker, the control socket for the CLI, and daily housekeeping, in one process.

use super::Global;
use crate::ssh::{app_factory, ServerOptions, SshServer};
use anyhow::{Context, Result};
use clap::Args;
use sealdesk_desk::Desk;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Where agents connect, ADDR:PORT (default: server.ssh in the config, 127.0.0.1:2222).
    #[arg(long = "ssh", env = "SEALDESK_SSH")]
    pub ssh: Option<SocketAddr>,
    /// Where the MTA hands mail over by SMTP or LMTP (default: server.smtp, 127.0.0.1:2525).
    #[arg(long = "smtp", env = "SEALDESK_SMTP")]
    pub smtp: Option<SocketAddr>,
    /// The colour themes directory (the shipped themes are built in).
    #[arg(long, env = "SEALDESK_THEMES", default_value = "themes")]
    pub themes: std::path::PathBuf,
}

impl ServeArgs {
    pub fn new(ssh: SocketAddr, smtp: SocketAddr) -> ServeArgs {
        ServeArgs {
            ssh: Some(ssh),
            smtp: Some(smtp),
            themes: "themes".into(),
        }
    }
}

pub(super) fn run(g: &Global, args: ServeArgs) -> Result<i32> {
    init_logging();
    let desk = Arc::new(g.open_desk()?);
    desk.warn_about_legacy_exports();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let welcome_desk = Arc::clone(&desk);
    let ready: Ready = Box::new(move |ssh, fingerprint, smtp| {
        print_welcome(&welcome_desk, ssh, fingerprint, smtp)
    });
    runtime.block_on(serve(g, args, Arc::clone(&desk), ready, shutdown_signal()))?;
    desk.flush()?;
    Ok(0)
}

/// Called once everything listens: (SSH address, host key fingerprint, SMTP address).
pub(super) type Ready = Box<dyn FnOnce(SocketAddr, String, SocketAddr) -> Result<()> + Send>;

/// Runs every part of the server until `shutdown` resolves (also used by `demo`).
pub(super) async fn serve(
    g: &Global,
    args: ServeArgs,
    desk: Arc<Desk>,
    ready: Ready,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    // Body search: built in the background; logins and filters do not wait for it.
    // What the build freed goes back to the system once it is done.
    desk.after_body_index(crate::memory::give_back_soon);
    desk.index_bodies();
    let config = desk.config();
    let ssh_addr = match args.ssh {
        Some(a) => a,
        None => config
            .server
            .ssh
            .parse()
            .context("server.ssh in the config is not ADDR:PORT")?,
    };
    let smtp_addr = match args.smtp {
        Some(a) => a,
        None => config
            .server
            .smtp
            .parse()
            .context("server.smtp in the config is not ADDR:PORT")?,
    };
    let options = ServerOptions {
        idle_timeout: Duration::from_secs(config.server.idle_timeout_minutes.max(1) * 60),
        login_timeout: Duration::from_secs(config.server.login_timeout_seconds.max(1)),
        max_unauthenticated: config.server.max_unauthenticated,
        max_unauthenticated_per_ip: config.server.max_unauthenticated_per_address,
        // Part 11 api
        exec_per_minute: config.ssh.exec_rate(),
        ..ServerOptions::default()
    };
    // Build the queue index now, so the first agent to log in does not wait for it.
    let warm = Arc::clone(&desk);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = warm.queue(&sealdesk_desk::QueueQuery::default()) {
            tracing::warn!("cannot build the queue index: {e}");
        }
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let server = SshServer::bind(
        Arc::clone(&desk),
        &g.paths().key_paths().host_key(),
        ssh_addr,
        options,
        app_factory(args.themes.clone()),
    )
    .await?;
    let smtp_listener = tokio::net::TcpListener::bind(smtp_addr)
        .await
        .with_context(|| format!("cannot listen for mail on {smtp_addr}: pick another --smtp"))?;
    let smtp_local = smtp_listener.local_addr()?;
    ready(
        server.local_addr(),
        server.host_key_fingerprint().to_string(),
        smtp_local,
    )?;

    // `config set mail.max_size` through the control socket applies to the next
    // transaction: the listener reads the desk's config as it is then.
    let live_desk = Arc::clone(&desk);
    let smtp_options = sealdesk_mail::smtp::SmtpOptions {
        hostname: config.mail.message_id_domain(),
        max_size: config.mail.max_size,
        live_max_size: Some(sealdesk_mail::smtp::Live::new(move || {
            live_desk.config().mail.max_size
        })),
        max_connections: config.mail.max_connections,
        max_connections_per_address: config.mail.max_connections_per_address,
        idle_before_mail: Duration::from_secs(config.mail.idle_timeout_seconds.max(1)),
        message_deadline: Duration::from_secs(config.mail.message_timeout_seconds.max(1)),
        ..Default::default()
    };
    let sink = Arc::new(sealdesk_desk::DeskSink {
        desk: Arc::clone(&desk),
    });
    let smtp = tokio::spawn(sealdesk_mail::smtp::serve(
        smtp_listener,
        smtp_options,
        sink,
        stopped(),
    ));
    let control = {
        let data = g.data.clone();
        let handler = super::control_handler(Arc::clone(&desk));
        let stop = stopped();
        tokio::spawn(async move { crate::control::listen(&data, handler, stop).await })
    };
    let outbox = tokio::spawn(sealdesk_desk::run_outbox(
        Arc::clone(&desk),
        Duration::from_secs(5),
        stopped(),
    ));
    let snooze = tokio::spawn(sealdesk_desk::run_snooze_timer(
        Arc::clone(&desk),
        Duration::from_secs(2),
        stopped(),
    ));
    desk.set_ssh_port(server.local_addr().port());
    let notifier = tokio::spawn(sealdesk_desk::notify::run_notifier(
        Arc::clone(&desk),
        stopped(),
    ));
    // Part 11: webhooks
    let webhooks = tokio::spawn(sealdesk_desk::run_webhooks(Arc::clone(&desk), stopped()));
    let housekeeping = tokio::spawn(housekeeping(Arc::clone(&desk), stopped()));
    let recovery = tokio::spawn(watch_store(Arc::clone(&desk), stopped()));
    // Part 11 (imap): one fetcher per `[mail.imap.NAME]` account.
    let imap = spawn_imap(&desk, &config, &stop_tx)?;

    let ssh = tokio::spawn(server.run(stopped()));
    shutdown.await;
    let _ = stop_tx.send(true);
    for (name, task) in [("smtp", smtp), ("control", control)] {
        if let Ok(Err(e)) = task.await {
            tracing::warn!("{name} stopped with an error: {e}");
        }
    }
    let _ = outbox.await;
    let _ = notifier.await;
    let _ = webhooks.await;
    let _ = housekeeping.await;
    let _ = snooze.await;
    let _ = recovery.await;
    for task in imap {
        let _ = task.await;
    }
    if let Ok(Err(e)) = ssh.await {
        tracing::warn!("ssh stopped with an error: {e}");
    }
    desk.flush()?;
    Ok(())
}

/// Once at start and then daily: retention rules and expired exports.
/// Part 11 (imap): starts `sealdesk_mail::imap::run` for each configured account; each
/// files through the same `DeskSink` as SMTP and stops when `stop` turns true.
fn spawn_imap(
    desk: &Arc<Desk>,
    config: &sealdesk_desk::config::Config,
    stop: &watch::Sender<bool>,
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    let accounts = config
        .mail
        .imap_accounts()
        .map_err(|e| anyhow::anyhow!("{e}; fix it in the config"))?;
    let sink: Arc<dyn sealdesk_mail::imap::ImapSink> = Arc::new(sealdesk_desk::DeskSink {
        desk: Arc::clone(desk),
    });
    Ok(accounts
        .into_iter()
        .map(|account| {
            tokio::spawn(sealdesk_mail::imap::run(
                account,
                Arc::clone(&sink),
                stop.subscribe(),
            ))
        })
        .collect())
}

async fn housekeeping(desk: Arc<Desk>, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let d = Arc::clone(&desk);
        let done = tokio::task::spawn_blocking(move || d.daily_housekeeping()).await;
        match done {
            Ok(Ok(report)) => tracing::info!("housekeeping: {report}"),
            Ok(Err(e)) => tracing::warn!("housekeeping failed: {e}"),
            Err(e) => tracing::warn!("housekeeping failed: {e}"),
        }
        // Deadline alarms: a warning line here and a mail to admins (see desk::alarms).
        let d = Arc::clone(&desk);
        let actor = sealdesk_desk::Actor::system("daily alarms");
        let alarms = tokio::task::spawn_blocking(move || {
            d.run_alarms(&actor, sealdesk_model::Timestamp::now(), true)
        });
        if let Ok(Err(e)) = alarms.await {
            tracing::warn!("alarms failed: {e}");
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
        }
    }
}

/// How often a failing store (a full disk, say) is given a chance to recover when no
/// write comes along to try: an idle desk heals by itself too. The store's own backoff
/// decides whether a look is a real reopen or only a glance at the free space.
const STORE_WATCH: Duration = Duration::from_secs(2);

async fn watch_store(desk: Arc<Desk>, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(STORE_WATCH) => {}
        }
        let d = Arc::clone(&desk);
        let _ = tokio::task::spawn_blocking(move || d.store_health()).await;
        desk.rebuild_bodies_if_stale();
    }
}

/// Log lines go to stderr; `SEALDESK_LOG` takes a filter such as `debug` or
/// `info,russh=debug`.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEALDESK_LOG")
        // sled's own lines (a score of them when the store is reopened after a full
        // disk) repeat what the store reports once, in its own words.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,russh=warn,sled=off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

fn print_welcome(
    desk: &Desk,
    addr: SocketAddr,
    fingerprint: String,
    smtp: SocketAddr,
) -> Result<()> {
    let host = if addr.ip().is_unspecified() {
        "<this-host>".to_string()
    } else {
        addr.ip().to_string()
    };
    println!("sealdesk: SSH server listening on {addr}");
    println!("  host key: {fingerprint}");
    let agents = desk.agents()?;
    if agents.is_empty() {
        println!("  no agents yet: `sealdesk agent add NAME --key-file ~/.ssh/id_ed25519.pub` (works while serving)");
    } else {
        println!("  agents log in with:");
        for agent in &agents {
            println!("    ssh -p {} {}@{host}", addr.port(), agent.name);
        }
    }
    let ingest = desk.config().mail.ingest;
    println!(
        "  mail (SMTP/LMTP) on {smtp} for: {}",
        if ingest.is_empty() {
            "nobody yet — `sealdesk config set mail.ingest support@example.com`".to_string()
        } else {
            ingest.join(", ")
        }
    );
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub(super) async fn shutdown_signal() {
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
