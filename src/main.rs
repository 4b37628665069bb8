use clap::Parser;
use sealdesk::cli::{run, Cli, Command};

fn main() {
    // Before any file is created or key read: files 0600, no core dumps.
    let hardened = sealdesk::harden::process();
    if !hardened.no_core_dumps {
        eprintln!("sealdesk: warning: cannot set the core-file limit to 0; set LimitCORE=0 (systemd) or `ulimit -c 0`");
    }
    // A panic message may quote data; print only where it happened.
    // Debug builds keep the full message for developers.
    if !cfg!(debug_assertions) {
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            eprintln!("sealdesk: internal error at {at}; please report it (details are withheld because they may contain customer data)");
        }));
    }
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve(_) | Command::Demo(_)) {
        sealdesk::memory::fewer_malloc_arenas();
    }
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line (the cause chain joined), cleaned of terminal controls.
            eprintln!(
                "sealdesk: error: {}",
                sealdesk_model::sanitize::line(&format!("{e:#}"))
            );
            sealdesk::cli::exit_code(&e)
        }
    };
    std::process::exit(code);
}
