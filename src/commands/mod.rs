//! The commands, one file each: every command sets up what it needs ([`setup`]), loads, plans,
//! runs and reports, and returns an exit code (see [`crate::exit`]). `main.rs` only parses the
//! arguments and calls [`dispatch`]. Only the commands and the reporters print.

mod check;
mod completions;
mod connect;
mod demo;
mod discover;
mod explain;
mod import;
mod lint;
mod list;
mod loadtest;
mod profiles;
mod proxy;
mod run;
mod serve;
mod setup;

pub use setup::CLIENT_SECRET_ENV;

use crate::cli::Command;

/// Runs one command and returns its exit code.
pub async fn dispatch(command: Command) -> i32 {
    match command {
        Command::Demo(a) => demo::demo(a).await,
        Command::Run(a) => run::run(a).await,
        Command::Serve(a) => serve::serve(a).await,
        Command::Lint(a) => lint::lint(a),
        Command::List(a) => list::list(a),
        Command::Load(a) => loadtest::load(a).await,
        Command::Completions(a) => completions::completions(a),
        Command::Connect(a) => connect::connect(a).await,
        Command::Discover(a) => discover::discover(a).await,
        Command::Profiles(a) => profiles::profiles(a).await,
        Command::Explain(a) => explain::explain(a),
        Command::Import(a) => import::import(a),
        Command::Proxy(a) => proxy::proxy(a).await,
    }
}
