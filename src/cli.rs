//! Command-line definitions (clap), and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// SCIM 2.0 conformance tester that replays what Microsoft Entra ID provisioning sends.
#[derive(Debug, Parser)]
#[command(name = "scimcheck", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the embedded reference server on a free 127.0.0.1 port and run the built-in suite against it.
    Demo(DemoArgs),
    /// Run the built-in suite (or your scenario files) against a Tenant URL.
    Run(RunArgs),
    /// Run the embedded reference SCIM server in the foreground.
    Serve(ServeArgs),
    /// Validate scenario files without sending anything.
    Lint(LintArgs),
    /// List the built-in scenarios, their tags and what each proves.
    List(ListArgs),
}

/// Which Entra PATCH dialect(s) to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectChoice {
    /// Entra's default dialect (capitalised ops, "True"/"False" strings).
    Default,
    /// The `aadOptscim062020` RFC-compliant dialect.
    Compliant,
    /// Run everything in both dialects.
    Both,
}

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options shared by every command that runs checks.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// PATCH dialect; by default the one the Tenant URL selects (`?aadOptscim062020` => compliant).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectChoice>,
    /// Scenarios run at once.
    #[arg(long, short = 'j', default_value_t = 4)]
    pub jobs: usize,
    /// Leave created test data in place for inspection (it is listed at the end).
    #[arg(long)]
    pub keep: bool,
    /// Colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print every request and response.
    #[arg(long, short = 'v', action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Print only the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Connection options for a real target.
#[derive(Debug, Args, Clone)]
pub struct TargetArgs {
    /// The Tenant URL, e.g. https://host/scim/v2 (add ?aadOptscim062020 for the compliant dialect).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The Secret Token (prefer SCIMCHECK_TOKEN or --token-file: they stay out of shell history).
    #[arg(
        long,
        env = "SCIMCHECK_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN",
        conflicts_with = "token_file"
    )]
    pub token: Option<String>,
    /// Read the Secret Token from this file (surrounding whitespace ignored).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Trust this additional root certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify TLS certificates (reported loudly).
    #[arg(long)]
    pub insecure: bool,
    /// Send requests through this proxy (HTTPS_PROXY / NO_PROXY are honoured otherwise).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Allow PATCH / PUT / DELETE on resources this run did not create.
    #[arg(long)]
    pub allow_foreign_writes: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Run the embedded server with these quirks (see `scimcheck serve --help`), to see failures.
    #[arg(long = "quirk", value_name = "NAME")]
    pub quirks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub check: CheckArgs,
    /// Scenario files or directories (default: the built-in Entra suite).
    #[arg(value_name = "SCENARIOS")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The bearer token clients must send.
    #[arg(long, env = "SCIMCHECK_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Base path of the SCIM endpoints.
    #[arg(long, default_value = "/scim/v2")]
    pub base_path: String,
    /// Reproduce a real-world bug (repeatable); `--quirk list` shows them all.
    #[arg(long = "quirk", value_name = "NAME")]
    pub quirks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Scenario files or directories.
    #[arg(required = true, value_name = "SCENARIOS")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {}
