//! Process hardening done first thing in `main`, before any file is created or any key
//! read: new files are the owner's alone, and the process cannot leave a core dump.
//!
//! A core dump of the server holds what it was working on in clear: customer addresses,
//! subjects, message bodies, the unwrapped master key. So the core-file limit is set to 0
//! (hard and soft, so a child cannot raise it) and the process is marked not dumpable,
//! which also keeps other processes of the same user from attaching a debugger or reading
//! its memory through `/proc`. The systemd unit says `LimitCORE=0` and `UMask=0077` too.

/// What could be set; `main` warns about what could not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardened {
    /// The core-file limit is 0.
    pub no_core_dumps: bool,
    /// The process is not dumpable (Linux `PR_SET_DUMPABLE`).
    pub not_dumpable: bool,
}

/// Sets umask 077, the core-file limit to 0 and (on Linux) the not-dumpable flag.
/// Failures are reported, not fatal: a desk that cannot lower a limit still runs.
pub fn process() -> Hardened {
    use rustix::fs::Mode;
    use rustix::process::{setrlimit, umask, Resource, Rlimit};
    umask(Mode::from_raw_mode(0o077));
    let zero = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    let no_core_dumps = setrlimit(Resource::Core, zero).is_ok();
    #[cfg(target_os = "linux")]
    let not_dumpable =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
            .is_ok();
    #[cfg(not(target_os = "linux"))]
    let not_dumpable = false;
    Hardened {
        no_core_dumps,
        not_dumpable,
    }
}
