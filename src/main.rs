//! The `scimcheck` binary: parse arguments, call the library, exit with its code.

use clap::Parser;
use scimcheck::cli::Cli;
use scimcheck::exit;

fn main() {
    scimcheck::session::quiet_broken_pipe();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(exit::BAD_INPUT);
        }
    };
    // Signals are handled from the first moment on (see `session`).
    runtime.block_on(async { scimcheck::session::install() });
    let cli = Cli::parse();
    if let Err(e) = scimcheck::limits::set(&cli.limits) {
        eprintln!("error: {e}");
        std::process::exit(exit::BAD_INPUT);
    }
    let code = runtime.block_on(scimcheck::commands::dispatch(cli.command));
    std::process::exit(code);
}
