//! The `scimcheck` binary: parse arguments, call the library, exit with its code.

use clap::Parser;
use scimcheck::cli::{Cli, Command};
use scimcheck::{app, exit};

fn main() {
    quiet_broken_pipe();
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
    let code = runtime.block_on(async {
        match cli.command {
            Command::Demo(a) => app::demo(a).await,
            Command::Run(a) => app::run(a).await,
            Command::Serve(a) => app::serve(a).await,
            Command::Lint(a) => app::lint(a),
            Command::List(a) => app::list(a),
            Command::Load(a) => app::load(a).await,
            Command::Completions(a) => app::completions(a),
            Command::Connect(a) => app::connect(a).await,
            Command::Discover(a) => app::discover(a).await,
            Command::Profiles(a) => app::profiles(a).await,
            Command::Explain(a) => app::explain(a),
            Command::Import(a) => app::import(a),
            Command::Proxy(a) => app::proxy(a).await,
        }
    });
    std::process::exit(code);
}

/// `scimcheck list | head` closes stdout early; Rust then panics in `println!`. Treat that as the
/// reader being done (exit quietly, as a SIGPIPE would) instead of printing a panic. SIGPIPE
/// itself stays ignored so a run whose output pipe closes still cleans up its test data.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
