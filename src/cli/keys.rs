//! `sealdesk keys backup|restore`: keys backups that never undo an erasure or a
//! redaction (see `store::keys_backup`).

use super::output::Io;
use super::Global;
use anyhow::{bail, Result};
use clap::Subcommand;
use sealdesk_desk::{Actor, Desk};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Write the keyring (without any destroyed key), the erasure journal and the shred
    /// list to a new file, sealed with a key derived from the master key (works while
    /// the server runs). Keep it apart from the data backups.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a keys backup back into the keys dir (which must hold this desk's
    /// master.key); the keyring there is replaced. Stop the server first. Every key
    /// that an erasure or a redaction since then condemned is destroyed again.
    Restore { file: PathBuf },
}

/// Runs `keys backup` against an open desk (directly or inside the server).
pub(super) fn run(desk: &Desk, actor: &Actor, cmd: KeysCommand, io: &mut Io) -> Result<i32> {
    match cmd {
        KeysCommand::Backup { out } => {
            let s = desk.backup_keys(actor, &out)?;
            writeln!(
                io.out,
                "keys backup written to {}: {} customer key(s), {} record key(s), {} erasure(s) and {} shredded key id(s) listed; sealed with the master key, which is not inside (keep master.key apart)",
                out.display(),
                s.customer_keys,
                s.record_keys,
                s.erasures,
                s.shredded
            )?;
            Ok(0)
        }
        KeysCommand::Restore { .. } => {
            bail!("stop the server first: `sealdesk keys restore` replaces the keyring the server has open")
        }
    }
}

/// `keys restore FILE`, never through a running server.
pub(super) fn restore(g: &Global, file: &Path) -> Result<i32> {
    let paths = g.paths();
    let pass = g.passphrase()?;
    let pass = pass.as_deref().map(String::as_str);
    let has_data = paths.db().join("conf").exists();
    if has_data {
        // A running server holds the data dir's lock (any other failure to open, such
        // as a damaged keyring, is what the restore is for).
        if let Err(sealdesk_store::StoreError::Locked(_)) =
            sealdesk_store::Store::open(&paths, pass)
        {
            bail!("stop the server first: `sealdesk keys restore` replaces the keyring the server has open");
        }
    }
    let summary = sealdesk_store::restore_keys(&paths, pass, file)?;
    println!(
        "keyring restored into {}: {} customer key(s), {} record key(s); {} erasure(s) from the backup are in the journal",
        g.keys.display(),
        summary.customer_keys,
        summary.record_keys,
        summary.erasures
    );
    if has_data {
        // Opening the data dir destroys whatever its journal and shred list condemn.
        let desk = g.open_desk()?;
        let (added, (customers, records)) = desk.apply_restored_shred_list(&summary.shred_list)?;
        println!(
            "checked against {}: {customers} customer key(s) and {records} record key(s) remain after applying the erasures and redactions recorded there{}",
            g.data.display(),
            if added > 0 { format!(" ({added} shredded key id(s) from the backup added)") } else { String::new() }
        );
    } else {
        println!(
            "no data dir at {} yet: the next `sealdesk restore` or start applies its erasures and redactions to these keys",
            g.data.display()
        );
    }
    Ok(0)
}
