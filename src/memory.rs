//! How the server asks glibc's allocator to keep its memory small.
//!
//! glibc gives each thread that allocates its own arena, up to eight per core, and an
//! arena keeps what its thread freed for that thread's next allocations. The server runs a
//! thread per SSH session plus tokio's and the body index builder's: measured at 10,000
//! tickets and 10 sessions (BENCHMARKS.md, Part 10), the arenas held about 20 MiB that two
//! arenas do not. `MALLOC_ARENA_MAX` is read by glibc once, before `main`, so `serve` and
//! `demo` start themselves again (the same process: `exec` keeps the PID, the open files
//! and the environment) with `MALLOC_ARENA_MAX=2`, unless the admin set it already.

/// Replaces this process by itself with `MALLOC_ARENA_MAX=2` set, if it is not set yet;
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
            .env("MALLOC_ARENA_MAX", "2")
            .exec();
        eprintln!("sealdesk: warning: cannot restart with MALLOC_ARENA_MAX=2 ({error}); running with glibc's default arenas");
    }
}
