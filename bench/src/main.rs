//! `sealdesk-bench`: measures speed and memory on throwaway desks in a scratch dir,
//! never on the user's data. Each benchmark drives the same code paths agents and mail
//! use (the real `sealdesk` binary beside this one as server, real SSH and SMTP clients);
//! the figures go into BENCHMARKS.md. A binary of its own, so none of this (nor its SSH
//! client or terminal decoder) ships in `sealdesk`.
//!
//! Timed tests would be flaky on shared machines; these are run by hand, several times,
//! and reported as medians.

mod cli;
mod fixture;
// Part 11: IMAP IDLE latency.
mod imap;
mod import;
mod ingest;
mod load;
mod mailgen;
mod notify;
mod privacy;
mod probe;
mod queue;
// Part 12
mod reports;
mod screen;
mod server;
mod smtp_client;
mod ssh_client;
mod stats;

use clap::Parser;
use std::path::{Path, PathBuf};

fn main() {
    let args = cli::BenchArgs::parse();
    if let Err(e) = cli::run(args) {
        eprintln!("sealdesk-bench: {e:#}");
        std::process::exit(1);
    }
}

/// A directory removed (with everything in it) when dropped.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// A fresh directory `sealdesk-bench-<label>-<random>` under `base`.
    pub fn new(base: &Path, label: &str) -> std::io::Result<Scratch> {
        let mut tag = [0u8; 6];
        getrandom::fill(&mut tag).expect("the OS random source failed");
        let path = base.join(format!("sealdesk-bench-{label}-{}", hex::encode(tag)));
        std::fs::create_dir_all(&path)?;
        Ok(Scratch { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // SEALDESK_BENCH_KEEP=1 keeps desks and server logs for a look afterwards.
        if std::env::var_os("SEALDESK_BENCH_KEEP").is_some() {
            note(&format!("kept {}", self.path.display()));
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Where benchmark desks are made: `dir` for the data (the disk being measured), and a
/// RAM-backed dir, when the machine has one, for set-up work whose fsyncs are not what
/// is measured (see [`fixture::BenchDesk::move_keys`]).
#[derive(Clone, Debug)]
pub struct Place {
    pub dir: PathBuf,
    pub ram: Option<PathBuf>,
}

impl Place {
    pub fn new(dir: Option<PathBuf>) -> Place {
        let ram = Path::new("/dev/shm");
        Place {
            dir: dir.unwrap_or_else(std::env::temp_dir),
            ram: ram.is_dir().then(|| ram.to_path_buf()),
        }
    }
}

/// A small deterministic generator (SplitMix64): the same seed gives the same desk.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// Prints a progress note to stderr, so stdout keeps only the tables.
pub fn note(text: &str) {
    eprintln!("bench: {text}");
}
