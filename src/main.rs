use sealdesk::cli::{run, usage, Cli, Command};

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
    let cli = parse();
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

/// The command line, or the process ends: `--help`/`--version` as clap prints them,
/// a parse error as one line naming the fix, exit code 2 (docs/api.md).
fn parse() -> Cli {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match sealdesk::cli::parse(&args) {
        Ok(cli) => cli,
        Err(e) if usage::is_help(&e) => e.exit(),
        Err(e) => {
            eprintln!(
                "sealdesk: error: {}",
                usage::one_line(&e, &args, usage::Caller::Local)
            );
            std::process::exit(sealdesk::cli::exit::USAGE);
        }
    }
}
