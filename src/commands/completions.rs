//! `scimcheck completions SHELL`.

use crate::exit;

/// `scimcheck completions SHELL`: the completion script on stdout.
pub(super) fn completions(args: crate::cli::CompletionsArgs) -> i32 {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "scimcheck", &mut std::io::stdout());
    exit::OK
}
