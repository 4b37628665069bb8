//! How the server asks glibc's allocator to keep its memory small.
//!
//! glibc gives each thread that allocates its own arena, up to eight per core, and an
//! arena keeps what its thread freed for that thread's next allocations. The server runs a
//! thread per SSH session plus tokio's and the body index builder's: measured at 10,000
//! tickets and 10 sessions (BENCHMARKS.md, Part 10), the arenas held about 20 MiB that two
//! arenas do not, and one arena 3 MiB less again (fourth pass; `j` → frame no slower, but
//! mail reaching ten open screens and a burst of mail were slower in the same runs, see
//! there). `MALLOC_ARENA_MAX` is read by glibc once, before `main`, so
//! `serve` and `demo` start themselves again (the same process: `exec` keeps the PID, the
//! open files and the environment) with `MALLOC_ARENA_MAX=1`, unless the admin set it.
//!
//! glibc also keeps what was freed in the middle of its heap resident; the server hands
//! it back after the work that frees most ([`give_back_soon`]).

/// Replaces this process by itself with `MALLOC_ARENA_MAX=1` set, if it is not set yet;
/// returns only if that is not needed or `exec` failed (then it runs as it is).
pub fn fewer_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
        let error = std::process::Command::new(&exe)
            .arg0(arg0)
            .args(args)
            .env("MALLOC_ARENA_MAX", "1")
            .exec();
        eprintln!("sealdesk: warning: cannot restart with MALLOC_ARENA_MAX=1 ({error}); running with glibc's default arenas");
    }
}

/// Asks for the allocator's free pages to go back to the system soon, on a thread of
/// its own: [`SETTLE`] after the ask, and once for all asks meanwhile, so a burst of
/// logins costs one trim. Asked once the body index is built, after a session's first
/// frame and when a session ends: each frees memory that glibc would otherwise keep
/// resident in the middle of its arena, where its own trimming (the top of the heap
/// only) does not reach. Measured at 10,000 tickets (BENCHMARKS.md, Part 10, fourth
/// pass): 15–20 MiB after the body index build, 1–4 MiB after ten logins.
pub fn give_back_soon() {
    static ASK: std::sync::OnceLock<Option<std::sync::mpsc::SyncSender<()>>> =
        std::sync::OnceLock::new();
    let ask = ASK.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("memory-trim".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    std::thread::sleep(SETTLE);
                    // Asks that came while it settled are answered by this trim.
                    while rx.try_recv().is_ok() {}
                    let started = std::time::Instant::now();
                    give_back_free();
                    tracing::debug!(took = ?started.elapsed(), "free memory given back to the system");
                }
            })
            .ok()
            .map(|_| tx)
    });
    if let Some(tx) = ask {
        // Full: a trim is already due, and it will cover this ask too.
        let _ = tx.try_send(());
    }
}

/// How long the trimmer waits after an ask, for the work that asked to finish freeing.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

/// Hands the allocator's free pages back to the system (glibc's `malloc_trim(0)`); a
/// no-op elsewhere. It walks every arena under its lock (0.15–0.5 ms measured at 10,000
/// tickets), so it runs only when asked through [`give_back_soon`].
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn give_back_free() {
    // SAFETY: `malloc_trim` takes no pointer and only walks glibc's own arenas, under
    // their locks; it is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// See the glibc version: other allocators return memory on their own terms.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_back_free() {}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    /// What was freed below memory still in use stays resident until it is given back.
    #[test]
    fn freed_memory_in_the_middle_of_the_heap_is_given_back() {
        // 64 MiB in small blocks (below glibc's mmap threshold, so from the heap), each
        // page written; then all but the last block freed, which keeps the heap's top in
        // use, so glibc's own trimming cannot reach what lies below it.
        let mut blocks: Vec<Vec<u8>> = (0..16 * 1024).map(|_| vec![1u8; 4096]).collect();
        let last = blocks.pop();
        drop(blocks);
        let before = rss_kib();
        give_back_free();
        let after = rss_kib();
        drop(last);
        assert!(
            before.saturating_sub(after) > 32 * 1024,
            "RSS {before} KiB before the trim, {after} KiB after"
        );
    }
}
