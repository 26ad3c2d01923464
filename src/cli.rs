//! Command-line definitions (clap), and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `scimcheck --version`: the crate version and the git commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SCIMCHECK_GIT_COMMIT"),
    ")"
);

/// SCIM 2.0 conformance tester that replays what Microsoft Entra ID provisioning sends.
#[derive(Debug, Parser)]
#[command(name = "scimcheck", version = VERSION, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Raise (or lower) one of the bounds on what a response or a scenario can cost, on any
    /// command: problems (per response, default 1000), list-resources (examined per
    /// ListResponse, 1000), findings (per check, 200), json-depth (64, at most 128),
    /// template-kib (1024), repeat (per step, 10000), steps (per scenario, 1000). Repeatable.
    #[arg(long = "limit", value_name = "NAME=N", global = true, value_parser = parse_limit)]
    pub limits: Vec<String>,
}

fn parse_limit(s: &str) -> Result<String, String> {
    crate::limits::parse(s).map(|_| s.to_string())
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
    /// Simulate an Entra initial cycle (match, create, update; groups and members) at a target
    /// rate, measure throughput and latency against the gallery's 25 req/s bar, then clean up.
    Load(LoadArgs),
    /// Print a shell completion script (e.g. `scimcheck completions bash > ~/.local/share/bash-completion/completions/scimcheck`).
    Completions(CompletionsArgs),
    /// Run Entra's Test Connection requests against a Tenant URL and, when they fail, find out why.
    Connect(ConnectArgs),
    /// Show what the endpoint's discovery documents say it supports, and what Entra would trip over.
    Discover(DiscoverArgs),
    /// Attribute-mapping profiles: list the built-in ones, show one, or write one from /Schemas.
    Profiles(ProfilesArgs),
    /// Turn a capture (a HAR file) into a replayable scenario file.
    Import(ImportArgs),
    /// Forward traffic to a Tenant URL unchanged and check every response against what Entra
    /// expects for that request.
    Proxy(ProxyArgs),
    /// Explain an Entra provisioning error code or a pasted provisioning-log message: what it
    /// means, which checks reproduce it, what to fix. Without an argument, list every code.
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An Entra error code (`InvalidAnchor`, `SystemForCrossDomainIdentityManagementServiceIncompatible`)
    /// or a message pasted from the provisioning logs or the Test Connection banner.
    #[arg(value_name = "CODE|MESSAGE", num_args = 0..)]
    pub query: Vec<String>,
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

/// What kind of Entra provisioning `--mode` replays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunMode {
    /// Provisioning cycles: everything, in the dialect the Tenant URL selects.
    Cycle,
    /// Provision on demand: one user's lifecycle and a group of up to 5 members, always in the
    /// default dialect (provision on demand ignores the Tenant URL's dialect flag).
    OnDemand,
}

pub use crate::report::terminal::ColorChoice;

/// Options shared by every command that runs checks.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// PATCH dialect; by default the one the Tenant URL selects (`?aadOptscim062020` => compliant).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectChoice>,
    /// Requests per second at most, across every scenario (for endpoints behind a rate
    /// limiter), or `max`. Whatever the rate, a 429 holds back every request of the run until
    /// its Retry-After.
    #[arg(long, default_value = "max", value_name = "REQ/S|max")]
    pub rate: crate::pace::Rate,
    /// Scenarios run at once.
    #[arg(long, short = 'j', default_value_t = 4, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
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
    /// Run only the checks that send no writes (Test Connection, discovery, filters on random
    /// values, auth); anything but GET is refused by the HTTP layer.
    #[arg(long)]
    pub read_only: bool,
    /// Overall deadline in seconds: after it, no new step is sent, cleanup runs, and the run
    /// ends as interrupted.
    #[arg(long, value_name = "SECS")]
    pub deadline: Option<u64>,
    /// Write a report: json, junit, markdown, har or html, to a file or `-` (stdout; the terminal
    /// output then goes to stderr). Repeatable.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<crate::report::ReportSpec>,
    /// Run only scenarios whose id, a tag or a check id matches (glob; repeatable).
    #[arg(long, value_name = "TAG_OR_ID")]
    pub only: Vec<String>,
    /// Do not run scenarios whose id, a tag or a check id matches (glob; repeatable).
    #[arg(long, value_name = "TAG_OR_ID")]
    pub skip: Vec<String>,
    /// YAML file of accepted failures: `waivers: [{check: ID_OR_GLOB, reason: "..."}]`.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// The app's Entra attribute mapping: a built-in profile (`scimcheck profiles`) or a profile
    /// file. Adds checks for every mapped attribute and leaves out group scenarios for user-only
    /// apps.
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// Make `validator` findings (only Microsoft's SCIM Validator checks them), `rfc` findings
    /// (RFC 7643/7644 requirements Entra does not rely on), or `all` of them fail the run;
    /// by default they are warnings. Repeatable.
    #[arg(long, value_enum, value_name = "CLASS")]
    pub strict: Vec<StrictClass>,
    /// Run the whole suite even when Entra's Test Connection fails (by default the run stops
    /// there with the diagnosis `scimcheck connect` would print).
    #[arg(long)]
    pub keep_going: bool,
    /// Add a quarantine-risk line to the summary: what Entra's escrow would do with this run's
    /// failures for a tenant with N assigned users.
    #[arg(long, value_name = "N")]
    pub assigned: Option<u64>,
    /// Responses slower than this many milliseconds are counted in a summary line with the p50
    /// and maximum response time.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub slow_ms: u64,
    /// `cycle` (default) or `on-demand`: replay provision on demand (test connection, one
    /// user, one group of 3 members) in the default dialect, whatever the Tenant URL's flag.
    #[arg(long, value_enum, default_value_t = RunMode::Cycle)]
    pub mode: RunMode,
}

/// `--strict` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrictClass {
    /// Findings only Microsoft's SCIM Validator (or Logic App harness) would flag.
    Validator,
    /// RFC 7643/7644 requirements Entra does not rely on.
    Rfc,
    /// Both.
    All,
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
    /// OAuth2 client credentials instead of a Secret Token: the Token Endpoint. Access tokens
    /// are requested as Entra does (form body, client id and secret in `Authorization: Basic`)
    /// and refreshed when they expire.
    #[arg(long, value_name = "URL", help_heading = "OAuth2 client credentials")]
    pub oauth_token_url: Option<String>,
    /// The Client Identifier.
    #[arg(long, value_name = "ID", help_heading = "OAuth2 client credentials")]
    pub oauth_client_id: Option<String>,
    /// Read the Client Secret from this file (or set SCIMCHECK_CLIENT_SECRET; it is never a
    /// flag value, which would end up in shell history).
    #[arg(long, value_name = "FILE", help_heading = "OAuth2 client credentials")]
    pub oauth_client_secret_file: Option<PathBuf>,
    /// The `scope` to request, when the token endpoint needs one.
    #[arg(long, value_name = "SCOPE", help_heading = "OAuth2 client credentials")]
    pub oauth_scope: Option<String>,
    /// Refused: a client secret on the command line ends up in shell history.
    #[arg(long, value_name = "SECRET", hide = true)]
    pub oauth_client_secret: Option<String>,
    /// Per-request timeout in seconds (1 to 86400).
    #[arg(long, default_value_t = 30, value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=86400))]
    pub timeout: u64,
    /// Connect timeout (TCP and TLS) in seconds (1 to 86400).
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=86400))]
    pub connect_timeout: u64,
    /// Largest response body read, in MiB; beyond it the check fails and the rest is not read.
    #[arg(long, default_value_t = 10, value_name = "MIB", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4096))]
    pub max_body_mib: usize,
    /// How many times a 429 / 503 with Retry-After is waited out and retried.
    #[arg(long, default_value_t = 3)]
    pub max_retries: u32,
    /// The longest Retry-After waited out, in seconds (longer ones are reported, not waited).
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub max_retry_wait: u64,
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
    /// Accept a Tenant URL with credentials in it (`https://user:pw@host/...`); they are sent as
    /// HTTP Basic auth by the HTTP client, next to the token.
    #[arg(long)]
    pub allow_url_credentials: bool,
    /// How long, in all, cleanup retries transient failures (no answer, 5xx, 429) before it
    /// gives up and lists what is left, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub cleanup_retry: u64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Run the embedded server with these quirks (see `scimcheck serve --help`), to see failures.
    #[arg(long = "quirk", value_name = "NAME")]
    pub quirks: Vec<String>,
    /// Delay every response of the embedded server by this many milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Authenticate with OAuth2 client credentials, as Entra does: the embedded server issues
    /// access tokens at /oauth2/token and the run fetches (and refreshes) them.
    #[arg(long)]
    pub oauth: bool,
    /// With --oauth: the lifetime of the access tokens the embedded server issues, in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECS", requires = "oauth")]
    pub oauth_token_ttl_secs: u64,
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
    /// The bearer token clients must send (optional with --oauth-client).
    #[arg(
        long,
        env = "SCIMCHECK_TOKEN",
        hide_env_values = true,
        required_unless_present = "oauth_client"
    )]
    pub token: Option<String>,
    /// Also act as an OAuth2 token endpoint (`POST /oauth2/token`, client credentials, the
    /// client id and secret in `Authorization: Basic` or the form body) for this client: the
    /// access tokens it issues are accepted on the SCIM endpoints.
    #[arg(long, value_name = "ID:SECRET")]
    pub oauth_client: Option<String>,
    /// The lifetime of the access tokens issued (`expires_in`), in seconds; Microsoft asks
    /// for 60 to 360 minutes.
    #[arg(
        long,
        default_value_t = 3600,
        value_name = "SECS",
        requires = "oauth_client"
    )]
    pub oauth_token_ttl_secs: u64,
    /// Base path of the SCIM endpoints.
    #[arg(long, default_value = "/scim/v2")]
    pub base_path: String,
    /// Reproduce a real-world bug (repeatable); `--quirk list` shows them all.
    #[arg(long = "quirk", value_name = "NAME")]
    pub quirks: Vec<String>,
    /// Delay every response by this many milliseconds (to feel a remote endpoint on loopback).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Scenario files or directories.
    #[arg(required = true, value_name = "SCENARIOS")]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print Microsoft's SCIM Validator tests (25 mandatory, 7 preview) next to the scimcheck
    /// checks that cover each one.
    #[arg(long, conflicts_with = "logic_app")]
    pub validator: bool,
    /// Print the 25 tests of Microsoft's SCIM Validation Logic App next to the scimcheck checks
    /// that cover each one, and what is not covered.
    #[arg(long)]
    pub logic_app: bool,
}

/// What `scimcheck load` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoadMode {
    /// Entra's initial cycle: users (match, create, optional update), then groups (match,
    /// create, add members in batches), then cleanup.
    Cycle,
    /// One cheap request repeated (a users filter that matches nothing); creates nothing.
    Probe,
}

#[derive(Debug, Args)]
#[command(mut_arg("url", |a| a.required(false).required_unless_present("embedded").default_value("").hide_default_value(true)))]
pub struct LoadArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Run against the embedded reference server, started in this process (no --url needed).
    #[arg(long, conflicts_with = "url")]
    pub embedded: bool,
    /// Users to provision (probe mode: requests to send).
    #[arg(long, short = 'n', default_value_t = 100)]
    pub users: u64,
    /// Groups to provision after the users.
    #[arg(long, default_value_t = 10)]
    pub groups: u64,
    /// Members of each group, taken from the users this run created.
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// Members added per group PATCH.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Also send an update PATCH after each user create.
    #[arg(long)]
    pub update: bool,
    /// Target requests per second, or `max` (as fast as the endpoint answers).
    #[arg(long, default_value = "25", value_name = "REQ/S|max")]
    pub rate: crate::loadtest::Rate,
    /// Requests in flight at most.
    #[arg(long, short = 'c', default_value_t = 8, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub concurrency: usize,
    /// What to send.
    #[arg(long, value_enum, default_value_t = LoadMode::Cycle)]
    pub mode: LoadMode,
    /// PATCH dialect; by default the one the Tenant URL selects.
    #[arg(long, value_enum)]
    pub dialect: Option<DialectChoice>,
    /// Print the report as JSON (for tooling) instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as `html` (charts, one self-contained page) or `json`, to a file
    /// or `-` (stdout). Repeatable.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<crate::report::ReportSpec>,
    /// With --embedded: make the server misbehave (see `scimcheck serve --quirk list`).
    #[arg(long = "quirk", value_name = "NAME", requires = "embedded")]
    pub quirks: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the verdict and the evidence as JSON.
    #[arg(long)]
    pub json: bool,
    /// Colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Responses slower than this many milliseconds are reported (for tests).
    #[arg(long, default_value_t = 3000, hide = true)]
    pub slow_ms: u64,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print what was found as JSON.
    #[arg(long)]
    pub json: bool,
    /// Colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub command: Option<ProfilesCommand>,
}

/// `scimcheck profiles ...` (default: `list`).
// `Init` carries the target's connection options: parsed once, its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// List the built-in profiles.
    List,
    /// Print a profile's mapping as a table like the Entra portal's.
    Show(ProfileShowArgs),
    /// Write a starter profile from a server's /Schemas.
    Init(ProfileInitArgs),
}

#[derive(Debug, Args)]
pub struct ProfileShowArgs {
    /// A built-in profile name or a profile file.
    #[arg(value_name = "NAME|FILE")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ProfileInitArgs {
    /// Read the server's /Schemas (the only source so far).
    #[arg(long, required = true)]
    pub from_schemas: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Write the profile here instead of stdout (an existing file is not overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The app's name for the profile (default: the Tenant URL's host).
    #[arg(long)]
    pub app: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The capture: a HAR file (browser, mitmproxy, `scimcheck ... --report har=`), or an Entra
    /// provisioning-log export (JSON), which is read and refused with what it lacks.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The scenario file to write (an existing file is not overwritten without --force).
    #[arg(long, value_name = "SCENARIO.yaml")]
    pub out: PathBuf,
    /// The Tenant URL the capture was taken against (default: inferred from the requests).
    #[arg(long, value_name = "URL")]
    pub tenant_url: Option<String>,
    /// The scenario id (default: the --out file's stem).
    #[arg(long)]
    pub id: Option<String>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Where to listen, e.g. 127.0.0.1:8443.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// The app's Tenant URL, e.g. https://app.example.com/scim/v2.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Serve TLS with this certificate chain and private key (PEM), e.g. behind a tunnel.
    #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
    pub listen_tls: Option<Vec<PathBuf>>,
    /// Write a report when the proxy stops: json or har, to a file. Repeatable.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<crate::report::ReportSpec>,
    /// Per-request timeout towards the upstream, in seconds (1 to 86400).
    #[arg(long, default_value_t = 120, value_parser = clap::builder::RangedU64ValueParser::<u64>::new().range(1..=86400))]
    pub timeout: u64,
    /// Trust this additional root certificate (PEM) for the upstream.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Largest body (request or response) kept for checking, in MiB; larger ones are forwarded
    /// unchecked.
    #[arg(long, default_value_t = 10, value_name = "MIB")]
    pub max_body_mib: usize,
    /// Colour output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}
