//! `sealdesk demo`: a throwaway desk with demo data, the user's SSH key registered, the
//! server on loopback, and the exact `ssh` line to paste. Ctrl-C stops it.

mod data;

use super::serve::{serve, shutdown_signal, Ready, ServeArgs};
use super::Global;
use anyhow::{Context, Result};
use clap::Args;
use sealdesk_desk::Actor;
use sealdesk_model::{is_valid_agent_name, AgentRole};
use sealdesk_store::{Paths, Store};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where agents connect; if the port is taken, a free one is used.
    #[arg(long = "ssh", default_value = "127.0.0.1:2222")]
    pub ssh: SocketAddr,
    /// Where the demo accepts mail (SMTP/LMTP for support@desk.example).
    #[arg(long = "smtp", default_value = "127.0.0.1:2525")]
    pub smtp: SocketAddr,
    /// Keep the demo desk in this directory (default: a temp dir, deleted on exit).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub(super) fn run(args: DemoArgs) -> Result<i32> {
    let (dir, throwaway) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => {
            let mut r = [0u8; 6];
            getrandom::fill(&mut r).expect("the OS random source failed");
            (
                std::env::temp_dir().join(format!("sealdesk-demo-{}", hex::encode(r))),
                true,
            )
        }
    };
    let result = run_in(&dir, args);
    if throwaway {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn run_in(dir: &Path, args: DemoArgs) -> Result<i32> {
    let paths = Paths {
        data: dir.join("data"),
        keys: dir.join("keys"),
    };
    if !paths.db().exists() {
        Store::init(&paths, None)?;
    }
    let g = Global {
        data: paths.data.clone(),
        keys: paths.keys.clone(),
        passphrase_file: None,
        config: None,
    };
    // The demo's own sealdesk.toml (written on the first run), so a kept `--dir` desk
    // runs again with its addresses and SLA policies.
    let desk = Arc::new(g.open_desk()?);
    let me = Actor::local_admin();
    let name = agent_name();
    let (key_line, generated) = user_key(dir)?;
    if desk.find_agent(&name)?.is_none() {
        desk.add_agent(
            &me,
            &name,
            AgentRole::Admin,
            std::slice::from_ref(&key_line),
        )?;
    }
    for other in data::AGENTS {
        if *other != name && desk.find_agent(other)?.is_none() {
            // Colleagues to assign to and count in reports (no key that logs in).
            let key = sealdesk_store::demo_public_key(&format!("{other}@demo"));
            desk.add_agent(&me, other, AgentRole::Agent, &[key])?;
        }
    }
    if desk.has_no_tickets()? {
        for (key, value) in DEMO_CONFIG {
            desk.set_config_key(&me, key, value)?;
        }
        data::populate(&desk, &name)?;
    }

    let ssh = free_or(args.ssh);
    let smtp = free_or(args.smtp);
    let known_hosts = dir.join("known_hosts");
    let host_key = paths.key_paths().host_key();
    let ready: Ready = Box::new(move |ssh, fingerprint, smtp| {
        // The demo's own known_hosts, written before the line is printed: each demo
        // (a new temp dir) has a new host key, and the user's ~/.ssh/known_hosts would
        // refuse the second one ("REMOTE HOST IDENTIFICATION HAS CHANGED").
        write_known_hosts(&known_hosts, &host_key, ssh)?;
        let identity = generated
            .as_ref()
            .map(|p| format!(" -i {}", shell_word(&p.display().to_string())))
            .unwrap_or_default();
        println!(
            "sealdesk demo is running with {} tickets.",
            data::MAIL_COUNT
        );
        println!("  host key: {fingerprint}");
        println!("  mail to support@desk.example over SMTP at {smtp}");
        if let Some(p) = &generated {
            println!(
                "  no SSH key found in ~/.ssh, so one was generated: {}",
                p.display()
            );
        }
        println!();
        println!("Log in with:");
        println!();
        println!(
            "    ssh -o UserKnownHostsFile={} -p {}{identity} {name}@{}",
            shell_word(&known_hosts.display().to_string()),
            ssh.port(),
            ssh.ip()
        );
        println!();
        println!("This line works on every run: it checks the demo's host key against");
        println!(
            "{}, and leaves your ~/.ssh/known_hosts alone.",
            known_hosts.display()
        );
        println!("Press Ctrl-C here to stop the demo.");
        Ok(())
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(
        &g,
        ServeArgs::new(ssh, smtp),
        Arc::clone(&desk),
        ready,
        shutdown_signal(),
    ))?;
    Ok(0)
}

/// The demo desk's settings: two support addresses, an acknowledgement, and SLA
/// policies (round the clock) that some demo tickets meet, some miss and some are
/// about to miss.
const DEMO_CONFIG: &[(&str, &str)] = &[
    ("mail.ingest", "support@desk.example"),
    ("mail.from", "Demo Support <support@desk.example>"),
    (
        "mail.ack_template",
        "Thanks, we got your message and filed it as ticket {ticket}.",
    ),
    ("mail.addresses.billing@desk.example.name", "Billing"),
    ("mail.addresses.billing@desk.example.tags", "billing"),
    ("sla.policy.standard.first_response", "8h"),
    ("sla.policy.standard.next_response", "24h"),
    ("sla.policy.standard.resolution", "120h"),
    ("sla.policy.urgent.priority", "urgent"),
    ("sla.policy.urgent.first_response", "1h"),
    ("sla.policy.urgent.next_response", "4h"),
    ("sla.policy.urgent.resolution", "24h"),
    ("sla.policy.billing.address", "billing@desk.example"),
    ("sla.policy.billing.first_response", "4h"),
    ("sla.policy.billing.resolution", "72h"),
];

/// The requested address if its port is free, else the same IP with a free port.
fn free_or(addr: SocketAddr) -> SocketAddr {
    match std::net::TcpListener::bind(addr) {
        Ok(_) => addr,
        Err(_) => SocketAddr::new(addr.ip(), 0),
    }
}

/// The login name as an agent name ($USER when it is valid, else "demo").
fn agent_name() -> String {
    let user = std::env::var("USER").unwrap_or_default().to_lowercase();
    if is_valid_agent_name(&user) {
        user
    } else {
        "demo".into()
    }
}

/// The user's public key from ~/.ssh (ed25519 first), or a newly generated key pair in
/// the demo dir (returned as the path to pass with -i).
fn user_key(dir: &Path) -> Result<(String, Option<PathBuf>)> {
    if let Some(home) = std::env::var_os("HOME") {
        let ssh = Path::new(&home).join(".ssh");
        let mut candidates: Vec<PathBuf> = ["id_ed25519.pub", "id_ecdsa.pub", "id_rsa.pub"]
            .iter()
            .map(|f| ssh.join(f))
            .collect();
        if let Ok(entries) = std::fs::read_dir(&ssh) {
            let mut others: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "pub"))
                .collect();
            others.sort();
            candidates.extend(others);
        }
        for path in candidates {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let line = text.lines().next().unwrap_or("").trim().to_string();
                if russh::keys::PublicKey::from_openssh(&line).is_ok() {
                    return Ok((line, None));
                }
            }
        }
    }
    let private = dir.join("demo_ed25519");
    let public = sealdesk_store::write_user_key(&private)?;
    Ok((public, Some(private)))
}

/// Writes `path` as a known_hosts file holding the demo's host key for `addr`
/// (`[127.0.0.1]:2222` unless the port is 22), so ssh checks the key instead of asking.
fn write_known_hosts(path: &Path, host_key: &Path, addr: SocketAddr) -> Result<()> {
    let key = russh::keys::load_secret_key(host_key, None)
        .with_context(|| format!("cannot read the demo host key {}", host_key.display()))?;
    let public = key
        .public_key()
        .to_openssh()
        .context("cannot encode the demo host key")?;
    let host = match addr.port() {
        22 => addr.ip().to_string(),
        port => format!("[{}]:{port}", addr.ip()),
    };
    std::fs::write(path, format!("{host} {public}\n")).with_context(|| {
        format!(
            "cannot write {}: check that the demo dir is writable",
            path.display()
        )
    })
}

/// `word` as one shell word: as it is when it holds nothing a shell would split or
/// expand, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:,@%=".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}
