//! The commands: each loads what it needs, plans, runs and reports, and returns an exit code
//! (see [`crate::exit`]). `main.rs` only parses arguments and calls these.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use colored::Colorize;

use crate::cli::{
    CheckArgs, ColorChoice, DemoArgs, DialectChoice, LintArgs, ListArgs, RunArgs, ServeArgs,
    StrictClass, TargetArgs,
};
use crate::credential::{Credential, OAuthConfig};
use crate::diag::Diagnostic;
use crate::exit;
use crate::http::{Client, ClientOptions, Secret, TenantUrl};
use crate::report::Reporter;
use crate::report::terminal::{Terminal, Verbosity, set_color};
use crate::run::{RunConfig, Runner, Summary, Tenant, plan};
use crate::scenario::template::{Generators, ProfileValues};
use crate::scenario::{Dialect, Loaded};
use crate::server::{QUIRKS, Quirk, Server, ServerOptions};

/// Prints a usage / input error and returns exit code 2.
fn bad_input(message: &str) -> i32 {
    eprintln!(
        "{} {}",
        "error:".red().bold(),
        crate::report::escape::visible(message)
    );
    exit::BAD_INPUT
}

fn print_diagnostics(diags: &[Diagnostic], what: &str, secret: Option<&Secret>) -> i32 {
    // A diagnostic quotes the offending line, which may hold a pasted token.
    let redact = |text: String| {
        let text = secret.map_or(text.clone(), |s| s.redact(&text));
        crate::report::escape::visible(&text).into_owned()
    };
    for d in diags {
        eprintln!("{}\n", redact(d.to_string()));
    }
    eprintln!(
        "{} {} problem(s) in {what}; nothing was sent",
        "error:".red().bold(),
        diags.len()
    );
    exit::BAD_INPUT
}

/// The built-in suite, or the given files (all must load, or nothing runs).
fn load_scenarios(paths: &[std::path::PathBuf]) -> Result<Vec<Arc<Loaded>>, Vec<Diagnostic>> {
    let loaded = if paths.is_empty() {
        crate::scenario::builtin()
    } else {
        crate::scenario::load_paths(paths)?
    };
    Ok(loaded.into_iter().map(Arc::new).collect())
}

/// The built-in scenarios `--mode on-demand` replays: Test Connection, one user, one group with
/// its members (provision on demand handles one user, or a group of up to 5 members).
const ON_DEMAND_SCENARIOS: &[&str] = &["test-connection", "user-lifecycle", "group-lifecycle"];

fn dialects(choice: Option<DialectChoice>, from_url: Dialect) -> Vec<Dialect> {
    match choice {
        None => vec![from_url],
        Some(DialectChoice::Default) => vec![Dialect::Default],
        Some(DialectChoice::Compliant) => vec![Dialect::Compliant],
        Some(DialectChoice::Both) => vec![Dialect::Default, Dialect::Compliant],
    }
}

fn parse_quirks(names: &[String]) -> Result<Vec<Quirk>, String> {
    names
        .iter()
        .map(|n| n.parse::<Quirk>().map_err(|e| e.to_string()))
        .collect()
}

/// Reads the token from `--token`, `SCIMCHECK_TOKEN` or `--token-file`. A token with a
/// newline or another control character inside (two lines in the file, a pasted line break)
/// is refused: it cannot go into an HTTP header. A UTF-8 byte order mark is dropped. Values
/// the Tenant URL carries (query values, userinfo) are redacted like the token.
fn token(t: &TargetArgs) -> Result<Secret, String> {
    let (token, source) = if let Some(file) = &t.token_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("--token-file {}: {e}", file.display()))?;
        let text = text.trim_start_matches('\u{feff}').trim().to_string();
        if text.is_empty() {
            return Err(format!("--token-file {} is empty", file.display()));
        }
        (text, format!("--token-file {}", file.display()))
    } else {
        match &t.token {
            Some(tok) if !tok.trim().is_empty() => (
                tok.trim().to_string(),
                "the token (--token or SCIMCHECK_TOKEN)".to_string(),
            ),
            _ => {
                return Err(
                    "no token: pass --token, set SCIMCHECK_TOKEN, or use --token-file FILE".into(),
                );
            }
        }
    };
    printable(&token, &source, "a token")?;
    let mut secret = Secret::new(token);
    if let Ok(url) = TenantUrl::parse_with(&t.url, true) {
        for s in url.secrets() {
            secret = secret.also(&s);
        }
    }
    Ok(secret)
}

/// A secret with a newline or another control character inside cannot go into an HTTP
/// header or a form body as typed: refused, saying where.
fn printable(value: &str, source: &str, what_it_is: &str) -> Result<(), String> {
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        let what = if c == '\n' || c == '\r' {
            "a line break: it holds more than one line".to_string()
        } else {
            format!("the control character U+{:04X}", c as u32)
        };
        return Err(format!(
            "{source} contains {what} (at character {}); {what_it_is} must be one line of printable characters",
            at + 1
        ));
    }
    Ok(())
}

/// The environment variable holding the OAuth client secret.
pub const CLIENT_SECRET_ENV: &str = "SCIMCHECK_CLIENT_SECRET";

/// The credentials of a command that talks to a target, from one of two sources, never both:
/// the Secret Token (`--token`, `SCIMCHECK_TOKEN`, `--token-file`), or OAuth2 client
/// credentials (`--oauth-token-url`, `--oauth-client-id`, the secret from
/// `SCIMCHECK_CLIENT_SECRET` or `--oauth-client-secret-file`, optionally `--oauth-scope`).
/// Values the Tenant URL or the token endpoint URL carry (query values, userinfo) are redacted
/// like the secrets.
fn credential(t: &TargetArgs) -> Result<Credential, String> {
    if t.oauth_client_secret.is_some() {
        return Err(format!(
            "--oauth-client-secret is not accepted: a secret on the command line ends up in shell history and process lists. Set {CLIENT_SECRET_ENV} or use --oauth-client-secret-file FILE"
        ));
    }
    let oauth = t.oauth_token_url.is_some()
        || t.oauth_client_id.is_some()
        || t.oauth_client_secret_file.is_some()
        || t.oauth_scope.is_some();
    if !oauth {
        return token(t).map(Credential::from);
    }
    let token_given = [
        t.token_file.as_ref().map(|_| "--token-file"),
        t.token.as_ref().map(|_| "--token (or SCIMCHECK_TOKEN)"),
    ];
    if let Some(which) = token_given.into_iter().flatten().next() {
        return Err(format!(
            "both a Secret Token ({which}) and OAuth2 client credentials (--oauth-*) are given: Entra uses one or the other. Drop one (unset SCIMCHECK_TOKEN if it is set in the environment)"
        ));
    }
    let Some(url) = t.oauth_token_url.as_deref().map(str::trim) else {
        return Err(
            "OAuth2 client credentials need the Token Endpoint: --oauth-token-url URL".into(),
        );
    };
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => {}
        Ok(u) => {
            return Err(format!(
                "--oauth-token-url must be an http(s) URL, not `{}:`",
                u.scheme()
            ));
        }
        Err(e) => return Err(format!("--oauth-token-url is not a valid URL: {e}")),
    }
    let client_id = match t.oauth_client_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => {
            return Err(
                "OAuth2 client credentials need the Client Identifier: --oauth-client-id ID".into(),
            );
        }
    };
    printable(&client_id, "--oauth-client-id", "a client id")?;
    let env = std::env::var(CLIENT_SECRET_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (secret, source) = match (&t.oauth_client_secret_file, env) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "the client secret is given twice ({CLIENT_SECRET_ENV} and --oauth-client-secret-file): give it once"
            ));
        }
        (Some(file), None) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("--oauth-client-secret-file {}: {e}", file.display()))?;
            let text = text.trim_start_matches('\u{feff}').trim().to_string();
            if text.is_empty() {
                return Err(format!(
                    "--oauth-client-secret-file {} is empty",
                    file.display()
                ));
            }
            (
                text,
                format!("--oauth-client-secret-file {}", file.display()),
            )
        }
        (None, Some(v)) => (v.trim().to_string(), CLIENT_SECRET_ENV.to_string()),
        (None, None) => {
            return Err(format!(
                "OAuth2 client credentials need the Client Secret: set {CLIENT_SECRET_ENV} or use --oauth-client-secret-file FILE"
            ));
        }
    };
    printable(&secret, &source, "a client secret")?;
    let mut credential = Credential::oauth(OAuthConfig {
        token_url: url.to_string(),
        client_id,
        client_secret: secret,
        scope: t
            .oauth_scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    });
    for u in [t.url.as_str(), url] {
        if let Ok(u) = TenantUrl::parse_with(u, true) {
            for s in u.secrets() {
                credential = credential.also(&s);
            }
        }
    }
    Ok(credential)
}

/// The loud warning of `--insecure`, on stderr (also with `-q`).
fn warn_insecure() {
    eprintln!(
        "{} TLS certificate verification is OFF (--insecure): anyone on the network path can read the token and the data",
        "WARNING:".red().bold()
    );
}

fn client_options(t: &TargetArgs) -> Result<ClientOptions, String> {
    let ca_cert = match &t.ca_cert {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("--ca-cert {}: {e}", p.display()))?),
        None => None,
    };
    Ok(ClientOptions {
        timeout: Duration::from_secs(t.timeout.max(1)),
        connect_timeout: Duration::from_secs(t.connect_timeout.max(1)),
        max_body: t.max_body_mib.max(1) * 1024 * 1024,
        max_retries: t.max_retries,
        max_retry_wait: Duration::from_secs(t.max_retry_wait),
        insecure: t.insecure,
        ca_cert,
        proxy: t.proxy.clone(),
        allow_foreign_writes: t.allow_foreign_writes,
        cleanup_retry: Duration::from_secs(t.cleanup_retry),
        ..ClientOptions::default()
    })
}

/// The credentials and client options of a command that talks to a target, with the panic
/// hook that redacts the secrets installed; on bad input prints the problem and gives exit
/// code 2.
fn credentials(t: &TargetArgs) -> Result<(Credential, ClientOptions), i32> {
    let credential = credential(t).map_err(|e| bad_input(&e))?;
    let options = client_options(t).map_err(|e| bad_input(&e))?;
    redact_panics(credential.secret().clone());
    Ok((credential, options))
}

/// Runs `scenarios` against `target`, reporting to the terminal; returns the exit code.
async fn execute(
    target: TenantUrl,
    credential: Credential,
    scenarios: Vec<Arc<Loaded>>,
    check: &CheckArgs,
    options: ClientOptions,
) -> i32 {
    set_color(
        match check.color {
            ColorChoice::Auto => "auto",
            ColorChoice::Always => "always",
            ColorChoice::Never => "never",
        },
        if terminal_on_stderr(check) {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        },
    );
    let secret = credential.secret().clone();
    let (scenarios, profile_name, profile_values) =
        match apply_profile(check, &target, &credential, &options, scenarios).await {
            Ok(x) => x,
            Err(code) => return code,
        };
    let mut scenarios = scenarios;
    if check.mode == crate::cli::RunMode::OnDemand {
        scenarios.retain(|s| ON_DEMAND_SCENARIOS.contains(&s.id.as_str()));
    }
    let (scenarios, waivers) = match select(scenarios, check, &secret) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let generators =
        Arc::new(Generators::new(Generators::random_run_id()).with_profile(profile_values));
    let minted = {
        let g = generators.clone();
        Arc::new(move |id: &str| g.minted(id)) as Arc<dyn Fn(&str) -> bool + Send + Sync>
    };
    // Provision on demand ignores the Tenant URL's dialect flag (Microsoft Learn:
    // application-provisioning-config-problem-scim-compatibility).
    let url_dialect = match check.mode {
        crate::cli::RunMode::OnDemand => Dialect::Default,
        crate::cli::RunMode::Cycle => Dialect::of_tenant_url(&target),
    };
    let dialects = dialects(check.dialect, url_dialect);
    let mut options = options;
    options.read_only = check.read_only;
    let insecure = options.insecure;
    let mut scenarios = scenarios;
    if check.read_only {
        scenarios.retain(|s| !s.scenario.sends_writes());
        if scenarios.is_empty() {
            return bad_input(
                "--read-only left no scenario to run: every selected scenario writes (`scimcheck list` shows the `read-only` tag)",
            );
        }
    }
    if let Some(flag) = unknown_entra_flag(&target) {
        eprintln!(
            "{} the Tenant URL carries `{flag}`, which is not a flag Entra knows (aadOptscim062020, AzureAdScimPatch2017, AzureAdScimPatch062020): Entra ignores it and uses its default PATCH dialect, and so does this run",
            "warning:".yellow().bold()
        );
    }
    redact_panics(secret.clone());
    if check.quiet && insecure {
        warn_insecure();
    }
    let stop: Arc<std::sync::atomic::AtomicBool> = Arc::default();
    let client = match Tenant::new(target, credential.clone(), options, minted) {
        Ok(c) => Arc::new(
            c.with_run_prefix(generators.prefix())
                .with_stop(stop.clone())
                .with_rate(check.rate),
        ),
        Err(e) => return bad_input(&e),
    };
    let verbosity = if check.quiet {
        Verbosity::Quiet
    } else if check.verbose > 0 {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let (mut reporters, progress) = match reporters(check, verbosity, &secret) {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    let strict = crate::scenario::Strictness {
        validator: check
            .strict
            .iter()
            .any(|c| matches!(c, StrictClass::Validator | StrictClass::All)),
        rfc: check
            .strict
            .iter()
            .any(|c| matches!(c, StrictClass::Rfc | StrictClass::All)),
    };
    let plan = plan(&scenarios, &dialects);
    let config = RunConfig {
        jobs: check.jobs.max(1),
        keep: check.keep,
        insecure,
        strict,
        on_progress: progress.hook(),
        profile: profile_name,
        stop,
        ..RunConfig::default()
    };
    let stop = config.stop.clone();
    if let Some(secs) = check.deadline {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(secs)).await;
            stop.store(true, Ordering::SeqCst);
            eprintln!(
                "{} the --deadline of {secs} s was reached: cleaning up",
                "!".yellow().bold()
            );
        });
    }
    let mut runner = Runner::new(client.clone(), generators, config);

    crate::session::guard(stop, client.ledger.clone());

    // Entra's Test Connection (the gate) and the read of /Schemas go out side by side.
    let gate = async {
        if check.keep_going {
            None
        } else {
            test_connection_gate(
                &plan,
                &client,
                &credential,
                verbosity,
                terminal_on_stderr(check),
            )
            .await
        }
    };
    let (gate, ()) = tokio::join!(gate, runner.discover_schemas(&plan));
    runner.config.gate = gate;
    // Waivers are an event transformation between the runner and the reporters.
    let mut waived = waivers.applier();
    let mut final_summary = None;
    let mut failed = Vec::new();
    let mut latencies = Vec::new();
    let mut summary = runner
        .run(&plan, &mut |e| {
            let e = waived.apply(e);
            if let crate::run::Event::RunFinished { summary } = e.as_ref() {
                final_summary = Some(summary.clone());
            }
            if let crate::run::Event::ResponseReceived {
                check, elapsed_ms, ..
            } = e.as_ref()
            {
                latencies.push((check.clone(), *elapsed_ms));
            }
            if let crate::run::Event::CheckFinished { result, .. } = e.as_ref()
                && check.assigned.is_some()
                && result.outcome == crate::run::Outcome::Fail
            {
                failed.push(result.clone());
            }
            for r in reporters.iter_mut() {
                r.on_event(&e);
            }
        })
        .await;
    if let Some(s) = final_summary.take() {
        summary = s;
    }
    for r in reporters.iter_mut() {
        if let Err(e) = r.finish() {
            eprintln!("{} writing a report failed: {e}", "error:".red().bold());
        }
    }
    let slow = crate::report::slow::summarise(&latencies, check.slow_ms);
    let risk = check
        .assigned
        .map(|n| crate::report::quarantine::assess(&failed, n));
    let oauth = credential.oauth_client().map(oauth_line);
    for line in slow.into_iter().chain(risk).chain(oauth) {
        if terminal_on_stderr(check) {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    exit_code(&summary)
}

/// The summary line of a run over OAuth: how many access tokens were issued (refreshes show).
fn oauth_line(o: &crate::credential::OAuthClient) -> String {
    let issued = match o.issued() {
        0 => "no access token issued".to_string(),
        1 => "1 access token issued, no refresh needed".to_string(),
        2 => "2 access tokens issued (1 refresh)".to_string(),
        n => format!("{n} access tokens issued ({} refreshes)", n - 1),
    };
    format!(
        "OAuth2 client credentials ({}): {issued}",
        o.config().token_url
    )
}

/// A query parameter of the Tenant URL that looks like an Entra flag (`aadOpt…`,
/// `AzureAdScim…`) but is not one Entra knows, e.g. a misspelt `?aadOptscim2020`.
fn unknown_entra_flag(target: &TenantUrl) -> Option<String> {
    const KNOWN: [&str; 3] = [
        "aadoptscim062020",
        "azureadscimpatch2017",
        "azureadscimpatch062020",
    ];
    target.query.as_deref()?.split('&').find_map(|kv| {
        let name = kv.split('=').next().unwrap_or(kv);
        let lower = name.to_ascii_lowercase();
        let looks = lower.starts_with("aadopt") || lower.starts_with("azureadscim");
        (looks && !KNOWN.contains(&lower.as_str())).then(|| name.to_string())
    })
}

/// Entra's Test Connection, before the suite: when the plan replays it (a scenario tagged
/// `test-connection`) and its probes get no answer, a 401/403, or a 404, nothing else can
/// pass. Prints the diagnosis `scimcheck connect` would and returns the reason the rest of the
/// suite is skipped; `None` when Test Connection gets that far.
async fn test_connection_gate(
    plan: &[crate::run::PlanItem],
    client: &Client,
    credential: &Credential,
    verbosity: Verbosity,
    on_stderr: bool,
) -> Option<String> {
    if !plan.iter().any(|p| {
        p.scenario
            .scenario
            .tags
            .iter()
            .any(|t| t == "test-connection")
    }) {
        return None;
    }
    let secret = credential.secret();
    let opts = crate::connect::ConnectOptions {
        url: client.target().to_string(),
        credential: credential.clone(),
        client: client.options().clone(),
        slow: Duration::from_secs(3),
    };
    let report = crate::connect::diagnose(opts).await.ok()?;
    // No access token from the token endpoint: no request can be authenticated.
    let no_token = report
        .findings
        .iter()
        .any(|f| f.context.blocks_test_connection && f.code.as_str().starts_with("oauth."));
    let stopped = no_token
        || report.probes.iter().any(|p| {
            p.stage == crate::connect::Stage::TestConnection
                && (p.error.is_some() || matches!(p.status, Some(401 | 403 | 404)))
        });
    if !stopped {
        return None;
    }
    if verbosity > Verbosity::Quiet {
        let text = crate::connect::redact_output(&crate::report::connect::human(&report), secret);
        if on_stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
    Some(format!(
        "Entra's Test Connection fails, so nothing else can pass (`--keep-going` runs the rest anyway): {}",
        report.verdict.summary
    ))
}

/// `--profile`: loads the profile, reads the target's /Schemas, and returns the scenarios with
/// the profile's checks added (group-only ones left out for user-only apps), the profile's name
/// and its template values. A profile that does not load prints its problems: exit 2.
async fn apply_profile(
    check: &CheckArgs,
    target: &TenantUrl,
    credential: &Credential,
    options: &ClientOptions,
    scenarios: Vec<Arc<Loaded>>,
) -> Result<(Vec<Arc<Loaded>>, Option<String>, ProfileValues), i32> {
    let Some(name) = &check.profile else {
        return Ok((scenarios, None, ProfileValues::default()));
    };
    let profile = crate::profile::resolve(name)
        .map_err(|d| print_diagnostics(&d, "the profile", Some(credential.secret())))?;
    let prepared = crate::profile::prepare(&profile, target, credential, options, scenarios).await;
    Ok((prepared.scenarios, Some(profile.name), prepared.values))
}

/// `scimcheck profiles`: list, show, init.
pub async fn profiles(args: crate::cli::ProfilesArgs) -> i32 {
    use crate::cli::ProfilesCommand;
    match args.command.unwrap_or(ProfilesCommand::List) {
        ProfilesCommand::List => {
            print!(
                "{}",
                crate::profile::show::list(&crate::profile::builtins())
            );
            exit::OK
        }
        ProfilesCommand::Show(a) => match crate::profile::resolve(&a.name) {
            Ok(p) => {
                print!("{}", crate::profile::show::table(&p));
                exit::OK
            }
            Err(d) => print_diagnostics(&d, "the profile", None),
        },
        ProfilesCommand::Init(a) => profiles_init(a).await,
    }
}

/// `scimcheck profiles init --from-schemas`.
async fn profiles_init(a: crate::cli::ProfileInitArgs) -> i32 {
    let (credential, mut options) = match credentials(&a.target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secret = credential.secret().clone();
    if options.insecure {
        warn_insecure();
    }
    let target = match TenantUrl::parse_with(&a.target.url, a.target.allow_url_credentials) {
        Ok(t) => t,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    options.read_only = true;
    if let Some(out) = &a.out
        && out.exists()
    {
        return bad_input(&format!("{} exists; nothing was written", out.display()));
    }
    let base = target.base.clone();
    let app = a.app.clone().unwrap_or_else(|| {
        base.split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .unwrap_or("My app")
            .to_string()
    });
    let client = match Client::new(target, credential, options) {
        Ok(c) => c,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    let discovery = crate::profile::Discovery::fetch(&client).await;
    let yaml = match crate::profile::init::starter(&discovery, &base, &app) {
        Ok(y) => y,
        Err(e) => {
            eprintln!(
                "{} {}",
                "error:".red().bold(),
                crate::report::escape::visible(&secret.redact(&e))
            );
            return if discovery.unreachable {
                exit::UNREACHABLE
            } else {
                exit::CHECK_FAILED
            };
        }
    };
    // The server's /Schemas text ends up in the file: a token it echoes does not.
    let yaml = secret.redact(&yaml);
    match &a.out {
        Some(path) => match std::fs::write(path, &yaml) {
            Ok(()) => {
                eprintln!(
                    "{} wrote {}; review it against the Entra portal's mapping, then run it with --profile {}",
                    "ok:".green().bold(),
                    path.display(),
                    path.display()
                );
                exit::OK
            }
            Err(e) => bad_input(&format!("cannot write {}: {e}", path.display())),
        },
        None => {
            print!("{yaml}");
            exit::OK
        }
    }
}

/// Whether the terminal output goes to stderr: it does when a `--report` writes to stdout.
fn terminal_on_stderr(check: &CheckArgs) -> bool {
    check
        .reports
        .iter()
        .any(|r| r.destination == crate::report::Destination::Stdout)
}

/// Applies `--only` / `--skip` and loads `--waivers`; on error prints it and returns exit 2.
fn select(
    scenarios: Vec<Arc<Loaded>>,
    check: &CheckArgs,
    secret: &Secret,
) -> Result<(Vec<Arc<Loaded>>, crate::select::Waivers), i32> {
    let selection =
        crate::select::Selection::new(&check.only, &check.skip).map_err(|e| bad_input(&e))?;
    let scenarios = selection.apply(scenarios).map_err(|e| bad_input(&e))?;
    let waivers = match &check.waivers {
        Some(path) => crate::select::Waivers::load(path)
            .map_err(|d| print_diagnostics(&d, "the waiver file", Some(secret)))?,
        None => crate::select::Waivers::default(),
    };
    Ok((scenarios, waivers))
}

/// The reporters of a run: the terminal (stdout, or stderr when a report takes stdout), the
/// progress bar (stderr, only on a terminal) and one per `--report`, opened now so that an
/// unwritable path fails before anything is sent.
fn reporters(
    check: &CheckArgs,
    verbosity: Verbosity,
    secret: &Secret,
) -> Result<(Vec<Box<dyn Reporter>>, crate::report::progress::Progress), String> {
    use crate::report::{Destination, FileReporter, progress::Progress};
    if check
        .reports
        .iter()
        .filter(|r| r.destination == Destination::Stdout)
        .count()
        > 1
    {
        return Err("only one --report can write to stdout (`-`)".into());
    }
    let progress = Progress::stderr_if_terminal();
    use crate::report::escape::Escaped;
    let terminal: Box<dyn Reporter> = if terminal_on_stderr(check) {
        Box::new(Escaped(Terminal::new(
            progress.writer(std::io::stderr()),
            verbosity,
            Some(secret.clone()),
        )))
    } else {
        Box::new(Escaped(Terminal::new(
            progress.writer(std::io::stdout()),
            verbosity,
            Some(secret.clone()),
        )))
    };
    // The bar first: it is cleared at `RunFinished` before the terminal prints the summary.
    let mut reporters: Vec<Box<dyn Reporter>> = vec![Box::new(progress.clone()), terminal];
    for spec in &check.reports {
        reporters.push(Box::new(FileReporter::open(spec, Some(secret.clone()))?));
    }
    Ok((reporters, progress))
}

/// Panic messages go through redaction too: the token never reaches stderr, even in a bug.
fn redact_panics(secret: Secret) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()));
        match payload {
            // A closed stdout (`| head`) is not a bug: main's hook exits quietly.
            Some(msg) if msg.starts_with("failed printing to stdout") => default(info),
            Some(msg) => {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                eprintln!("scimcheck panicked{at}: {}", secret.redact(&msg));
            }
            None => default(info),
        }
    }));
}

/// The exit code a run summary maps to.
pub fn exit_code(s: &Summary) -> i32 {
    if s.interrupted {
        exit::INTERRUPTED
    } else if s.unreachable {
        exit::UNREACHABLE
    } else if s.failed > 0 {
        exit::CHECK_FAILED
    } else {
        exit::OK
    }
}

/// `scimcheck demo`.
pub async fn demo(args: DemoArgs) -> i32 {
    let quirks = match parse_quirks(&args.quirks) {
        Ok(q) => q,
        Err(e) => return bad_input(&e),
    };
    let scenarios = match load_scenarios(&[]) {
        Ok(s) => s,
        Err(d) => return print_diagnostics(&d, "scenario files", None),
    };
    let token = format!("demo-{}", uuid::Uuid::new_v4().simple());
    // The embedded server stands in for the profile's app: it declares the app's required
    // attributes in /Schemas and enforces them.
    let required_attributes = match &args.check.profile {
        Some(name) => match crate::profile::resolve(name) {
            Ok(p) => crate::profile::server_required_attributes(&p),
            Err(d) => return print_diagnostics(&d, "the profile", Some(&Secret::new(&token))),
        },
        None => vec![],
    };
    // With --oauth the run authenticates as Entra does with client credentials; the server
    // accepts only the access tokens it issues.
    let oauth_secret = format!("demo-secret-{}", uuid::Uuid::new_v4().simple());
    let server = match Server::start(ServerOptions {
        token: token.clone(),
        quirks,
        required_attributes,
        latency: Duration::from_millis(args.latency_ms),
        oauth_client: args
            .oauth
            .then(|| ("scimcheck-demo".to_string(), oauth_secret.clone())),
        oauth_token_ttl: Duration::from_secs(args.oauth_token_ttl_secs.max(1)),
        ..ServerOptions::default()
    })
    .await
    {
        Ok(s) => s,
        Err(e) => return bad_input(&format!("cannot start the embedded server: {e}")),
    };
    let target = TenantUrl::parse(&server.base_url()).expect("the server's own URL parses");
    let mut check = args.check.clone();
    if check.dialect.is_none() {
        check.dialect = Some(DialectChoice::Both);
    }
    let credential = match server.token_url() {
        Some(token_url) => Credential::oauth(OAuthConfig {
            token_url,
            client_id: "scimcheck-demo".into(),
            client_secret: oauth_secret,
            scope: None,
        })
        .also(&token),
        None => Credential::from(Secret::new(token)),
    };
    let code = execute(
        target,
        credential,
        scenarios,
        &check,
        ClientOptions::default(),
    )
    .await;
    server.shutdown().await;
    code
}

/// `scimcheck run`.
pub async fn run(args: RunArgs) -> i32 {
    let (credential, options) = match credentials(&args.target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secret = credential.secret().clone();
    let target = match TenantUrl::parse_with(&args.target.url, args.target.allow_url_credentials) {
        Ok(t) => t,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    let scenarios = match load_scenarios(&args.paths) {
        Ok(s) => s,
        // A diagnostic quotes the offending line, which may hold a pasted token.
        Err(d) => return print_diagnostics(&d, "scenario files", Some(&secret)),
    };
    execute(target, credential, scenarios, &args.check, options).await
}

/// `scimcheck serve`.
pub async fn serve(args: ServeArgs) -> i32 {
    if args.quirks.iter().any(|q| q == "list") {
        for (name, what) in QUIRKS {
            println!("{name:<28} {what}");
        }
        return exit::OK;
    }
    let quirks = match parse_quirks(&args.quirks) {
        Ok(q) => q,
        Err(e) => return bad_input(&e),
    };
    let oauth_client = match args.oauth_client.as_deref().map(|c| c.split_once(':')) {
        None => None,
        Some(Some((id, secret))) if !id.is_empty() && !secret.is_empty() => {
            Some((id.to_string(), secret.to_string()))
        }
        Some(_) => return bad_input("--oauth-client takes ID:SECRET (both non-empty)"),
    };
    let opts = ServerOptions {
        // With only an OAuth client, no static token works: a random one nobody knows.
        token: args
            .token
            .unwrap_or_else(|| format!("unused-{}", uuid::Uuid::new_v4().simple())),
        quirks,
        base_path: args.base_path,
        port: args.port,
        latency: Duration::from_millis(args.latency_ms),
        oauth_client,
        oauth_token_ttl: Duration::from_secs(args.oauth_token_ttl_secs.max(1)),
        ..ServerOptions::default()
    };
    let server = match Server::start(opts).await {
        Ok(s) => s,
        Err(e) => return bad_input(&format!("cannot listen on 127.0.0.1:{}: {e}", args.port)),
    };
    eprintln!(
        "scimcheck reference SCIM server listening on {}",
        server.base_url()
    );
    eprintln!("Tenant URL: {}   (Ctrl-C to stop)", server.base_url());
    if let Some(url) = server.token_url() {
        eprintln!(
            "Token endpoint: {url}   (OAuth2 client credentials; tokens live {} s)",
            args.oauth_token_ttl_secs.max(1)
        );
    }
    server.run_until(crate::session::shutdown_requested()).await;
    exit::OK
}

/// `scimcheck lint`.
pub fn lint(args: LintArgs) -> i32 {
    match crate::scenario::load_paths(&args.paths) {
        Ok(loaded) => {
            let steps: usize = loaded.iter().map(|l| l.scenario.steps.len()).sum();
            println!(
                "{} {} scenario file(s), {steps} step(s): all valid",
                "ok:".green().bold(),
                loaded.len()
            );
            exit::OK
        }
        Err(d) => print_diagnostics(&d, "scenario files", None),
    }
}

/// `scimcheck list`.
pub fn list(args: ListArgs) -> i32 {
    if args.validator {
        return list_validator();
    }
    if args.logic_app {
        return list_logic_app();
    }
    for l in crate::scenario::builtin() {
        let s = &l.scenario;
        println!("{}  {}  [{}]", l.id.bold(), s.name, s.tags.join(", "));
        if !s.description.is_empty() {
            println!("    {}", s.description);
        }
        for step in &s.steps {
            let step = &step.value;
            let id = crate::scenario::check_id(&l.id, step);
            let class = format!("[{}]", step.evidence.as_str());
            match &step.proves {
                Some(p) => println!("    {id}  {class:<11} {}", p.dimmed()),
                None => println!("    {id}  {class}"),
            }
        }
    }
    exit::OK
}

/// `scimcheck list --validator`: the parity table.
fn list_validator() -> i32 {
    let parity = crate::scenario::parity::validator_parity();
    for (title, rows) in [
        ("Mandatory", &parity.mandatory),
        ("Preview", &parity.preview),
    ] {
        println!(
            "{}",
            format!(
                "{title} tests of Microsoft's SCIM Validator ({})",
                rows.len()
            )
            .bold()
        );
        let width = rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0);
        for r in rows {
            println!("  {:<width$}  {}", r.name, r.checks.join(", "));
        }
        println!();
    }
    exit::OK
}

/// `scimcheck list --logic-app`: the Logic App table, with the gaps named.
fn list_logic_app() -> i32 {
    let parity = crate::scenario::parity::logic_app_parity();
    let rows = &parity.tests;
    println!(
        "{}",
        format!(
            "Tests of Microsoft's SCIM Validation Logic App ({})",
            rows.len()
        )
        .bold()
    );
    let width = rows
        .iter()
        .map(|r| r.name.chars().count() + r.category.len() + 3)
        .max()
        .unwrap_or(0);
    for r in rows {
        let label = format!("{} ({})", r.name, r.category);
        let checks = if r.checks.is_empty() {
            "-".to_string()
        } else {
            r.checks.join(", ")
        };
        println!("  {label:<width$}  {checks}");
        if let Some(gap) = &r.gap {
            println!("  {:<width$}  {} {gap}", "", "gap:".yellow());
        }
    }
    let uncovered: Vec<&str> = rows
        .iter()
        .filter(|r| r.checks.is_empty())
        .map(|r| r.name.as_str())
        .collect();
    let partial = rows
        .iter()
        .filter(|r| !r.checks.is_empty() && r.gap.is_some())
        .count();
    println!();
    println!(
        "{} covered, {partial} of them partly; not covered: {}",
        rows.len() - uncovered.len(),
        if uncovered.is_empty() {
            "none".to_string()
        } else {
            uncovered.join(", ")
        }
    );
    exit::OK
}

/// `scimcheck load`.
pub async fn load(args: crate::cli::LoadArgs) -> i32 {
    use crate::load::{Bar, LoadConfig, Mode, NoProgress, Progress};
    let quirks = match parse_quirks(&args.quirks) {
        Ok(q) => q,
        Err(e) => return bad_input(&e),
    };
    let options = match client_options(&args.target) {
        Ok(o) => o,
        Err(e) => return bad_input(&e),
    };
    let (server, target, secret) = if args.embedded {
        // The embedded server has a token of its own: an OAuth client given for another
        // endpoint would be silently unused. (A SCIMCHECK_TOKEN in the environment is ignored.)
        let t = &args.target;
        if t.oauth_token_url.is_some() || t.oauth_client_id.is_some() {
            return bad_input(
                "--embedded runs its own server with its own token: leave out the --oauth-* flags",
            );
        }
        let token = format!("load-{}", uuid::Uuid::new_v4().simple());
        let server = match Server::start(ServerOptions {
            token: token.clone(),
            quirks,
            ..ServerOptions::default()
        })
        .await
        {
            Ok(s) => s,
            Err(e) => return bad_input(&format!("cannot start the embedded server: {e}")),
        };
        let target = TenantUrl::parse(&server.base_url()).expect("the server's own URL parses");
        (Some(server), target, Credential::from(Secret::new(token)))
    } else {
        if args.target.url.trim().is_empty() {
            return bad_input("give the Tenant URL with --url, or use --embedded");
        }
        let secret = match credential(&args.target) {
            Ok(c) => c,
            Err(e) => return bad_input(&e),
        };
        // The "Tenant URL" may be the token, pasted in the wrong place.
        match TenantUrl::parse_with(&args.target.url, args.target.allow_url_credentials) {
            Ok(t) => (None, t, secret),
            Err(e) => return bad_input(&secret.secret().redact(&e)),
        }
    };
    let mut report_files = match open_load_reports(&args.reports) {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    let dialect = match args.dialect {
        None => Dialect::of_tenant_url(&target),
        Some(DialectChoice::Default) => Dialect::Default,
        Some(DialectChoice::Compliant) => Dialect::Compliant,
        Some(DialectChoice::Both) => {
            return bad_input(
                "load runs one dialect: use --dialect default or --dialect compliant",
            );
        }
    };
    redact_panics(secret.secret().clone());
    let load_secret = secret.secret().clone();
    let generators = Generators::new(Generators::random_run_id());
    if options.insecure {
        warn_insecure();
    }
    let stop: Arc<std::sync::atomic::AtomicBool> = Arc::default();
    let client = match Tenant::new(target, secret, options, Arc::new(|_: &str| false)) {
        Ok(c) => c
            .with_run_prefix(generators.prefix())
            .with_stop(stop.clone()),
        Err(e) => return bad_input(&e),
    };
    set_color("auto", std::io::stdout().is_terminal());
    let config = LoadConfig {
        mode: match args.mode {
            crate::cli::LoadMode::Cycle => Mode::Cycle,
            crate::cli::LoadMode::Probe => Mode::Probe,
        },
        users: args.users,
        groups: args.groups,
        members_per_group: args.members,
        batch: args.batch.max(1),
        update: args.update,
        rate: args.rate,
        concurrency: args.concurrency.max(1),
        dialect,
        stop,
    };

    crate::session::guard(config.stop.clone(), client.ledger.clone());
    let progress: Arc<dyn Progress> = match Bar::on_stderr() {
        Some(b) => Arc::new(b),
        None => Arc::new(NoProgress),
    };
    let report = crate::load::run(Arc::new(client), &generators, &config, progress).await;
    if args.json {
        println!(
            "{}",
            crate::report::escape::json_text(
                serde_json::to_string_pretty(&report).unwrap_or_default()
            )
        );
    } else {
        print!("{}", crate::load::render(&report));
    }
    for (format, out) in report_files.iter_mut() {
        let text = match format {
            crate::report::ReportFormat::Html => crate::report::load_html::render(&report),
            _ => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        };
        let text = crate::report::html::redact(&load_secret, &text);
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            eprintln!("{} writing a report failed: {e}", "error:".red().bold());
        }
    }
    if let Some(s) = server {
        s.shutdown().await;
    }
    report.exit_code()
}

/// One `--report` of `load`: its format and where it goes.
type LoadReportFile = (crate::report::ReportFormat, Box<dyn std::io::Write>);

/// The `--report` files of `load` (html or json), opened before anything is sent.
fn open_load_reports(specs: &[crate::report::ReportSpec]) -> Result<Vec<LoadReportFile>, String> {
    use crate::report::{Destination, ReportFormat};
    let mut out: Vec<LoadReportFile> = Vec::new();
    for spec in specs {
        if !matches!(spec.format, ReportFormat::Html | ReportFormat::Json) {
            return Err(format!(
                "--report {spec}: load writes `html` or `json` reports"
            ));
        }
        let w: Box<dyn std::io::Write> = match &spec.destination {
            Destination::Stdout => Box::new(std::io::stdout()),
            Destination::File(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| format!("--report {spec}: {e}"))?;
                }
                Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).map_err(|e| format!("--report {spec}: {e}"))?,
                ))
            }
        };
        out.push((spec.format, w));
    }
    Ok(out)
}

/// `scimcheck completions SHELL`: the completion script on stdout.
pub fn completions(args: crate::cli::CompletionsArgs) -> i32 {
    use clap::CommandFactory;
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "scimcheck", &mut std::io::stdout());
    exit::OK
}

fn color_name(c: ColorChoice) -> &'static str {
    match c {
        ColorChoice::Auto => "auto",
        ColorChoice::Always => "always",
        ColorChoice::Never => "never",
    }
}

/// `scimcheck connect`: Entra's Test Connection, diagnosed.
pub async fn connect(args: crate::cli::ConnectArgs) -> i32 {
    let (credential, options) = match credentials(&args.target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secret = credential.secret().clone();
    if options.insecure {
        warn_insecure();
    }
    set_color(color_name(args.color), std::io::stdout().is_terminal());
    let opts = crate::connect::ConnectOptions {
        url: args.target.url.clone(),
        credential,
        client: options,
        slow: Duration::from_millis(args.slow_ms.max(1)),
    };
    let report = match crate::connect::diagnose(opts).await {
        Ok(r) => r,
        // The "Tenant URL" may be the token, pasted in the wrong place.
        Err(e) => return bad_input(&crate::connect::redact_output(&e, &secret)),
    };
    let text = if args.json {
        crate::report::connect::json(&report) + "\n"
    } else {
        crate::report::connect::human(&report)
    };
    print!("{}", crate::connect::redact_output(&text, &secret));
    report.exit_code
}

/// `scimcheck discover`: the discovery documents, tabulated and checked.
pub async fn discover(args: crate::cli::DiscoverArgs) -> i32 {
    let (credential, options) = match credentials(&args.target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secret = credential.secret().clone();
    if options.insecure {
        warn_insecure();
    }
    let target = match TenantUrl::parse_with(&args.target.url, args.target.allow_url_credentials) {
        Ok(t) => t,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    set_color(color_name(args.color), std::io::stdout().is_terminal());
    let report = match crate::discover::discover(target, credential, options).await {
        Ok(r) => r,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    let text = if args.json {
        crate::report::discover::json(&report) + "\n"
    } else {
        crate::report::discover::human(&report)
    };
    print!("{}", crate::connect::redact_output(&text, &secret));
    report.exit_code
}

/// `scimcheck explain [CODE|MESSAGE]`: the catalogue entry (or entries) a code or a pasted log
/// message names; every code when nothing is given. Nothing found is a usage error (exit 2).
pub fn explain(args: crate::cli::ExplainArgs) -> i32 {
    use crate::entra_error::{Code, explain};
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        print!("{}", crate::report::explain::list(&Code::ALL));
        return exit::OK;
    }
    let found = explain(&query);
    if found.is_empty() {
        eprint!("{}", crate::report::explain::not_found(&query));
        return exit::BAD_INPUT;
    }
    print!("{}", crate::report::explain::render(&found));
    exit::OK
}
/// `scimcheck import FILE --out SCENARIO.yaml`: a capture becomes a scenario file.
pub fn import(args: crate::cli::ImportArgs) -> i32 {
    let file = args.file.display().to_string();
    let source = match std::fs::read_to_string(&args.file) {
        Ok(s) => s,
        Err(e) => return bad_input(&format!("cannot read {file}: {e}")),
    };
    if args.out.exists() && !args.force {
        return bad_input(&format!(
            "{} exists; nothing was written (--force overwrites it)",
            args.out.display()
        ));
    }
    let id = args.id.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .and_then(|s| s.to_str())
            .map(crate::scenario::lint::slug)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "imported".into())
    });
    let opts = crate::import::ImportOptions {
        tenant_url: args.tenant_url.clone(),
        id,
        out_name: args.out.display().to_string(),
    };
    let imported = match crate::import::import(&file, &source, &opts) {
        Ok(i) => i,
        Err(crate::import::ImportError::Input(d)) => {
            return print_diagnostics(&d, "the capture", None);
        }
        Err(crate::import::ImportError::Unusable(why)) => {
            eprintln!("{} {why}", "error:".red().bold());
            eprintln!("nothing was written");
            return exit::BAD_INPUT;
        }
    };
    if let Err(e) = std::fs::write(&args.out, &imported.yaml) {
        return bad_input(&format!("cannot write {}: {e}", args.out.display()));
    }
    eprintln!(
        "{} wrote {} ({} step(s) from {file}, Tenant URL {})",
        "ok:".green().bold(),
        args.out.display(),
        imported.steps,
        imported.tenant_url
    );
    for n in &imported.notes {
        eprintln!("  - {n}");
    }
    exit::OK
}

/// `scimcheck proxy`: forwards to `--upstream`, prints one line per exchange, writes the
/// reports as it goes, and prints the summary on Ctrl-C / SIGTERM.
pub async fn proxy(args: crate::cli::ProxyArgs) -> i32 {
    let upstream = match TenantUrl::parse(&args.upstream) {
        Ok(t) => t,
        Err(e) => return bad_input(&e),
    };
    let ca_cert = match &args.ca_cert {
        Some(p) => match std::fs::read(p) {
            Ok(b) => Some(b),
            Err(e) => return bad_input(&format!("--ca-cert {}: {e}", p.display())),
        },
        None => None,
    };
    let mut reports =
        match crate::proxy::report::Reports::open(&args.reports, &upstream.to_string()) {
            Ok(r) => r,
            Err(e) => return bad_input(&e),
        };
    let config = crate::proxy::ProxyConfig {
        listen: args.listen,
        upstream: upstream.clone(),
        tls: args
            .listen_tls
            .as_ref()
            .map(|v| (v[0].clone(), v[1].clone())),
        timeout: Duration::from_secs(args.timeout.max(1)),
        ca_cert,
        max_body: args.max_body_mib.max(1) * 1024 * 1024,
    };
    set_color(color_name(args.color), std::io::stdout().is_terminal());
    let tls = config.tls.is_some();
    let mut proxy = match crate::proxy::start(config).await {
        Ok(p) => p,
        Err(e) => return bad_input(&e),
    };
    eprintln!(
        "scimcheck proxy on {}://{} -> {upstream}   (Ctrl-C to stop)",
        if tls { "https" } else { "http" },
        proxy.addr
    );
    let mut summary = crate::proxy::report::Summary::default();
    let stop = crate::session::shutdown_requested();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            e = proxy.exchanges.recv() => {
                let Some(e) = e else { break };
                summary.count(&e);
                let line = crate::report::escape::one_line(&e.line()).into_owned();
                match e.verdict {
                    crate::proxy::check::Verdict::Fail => println!("{} {line}", "✗".red().bold()),
                    _ if e.response.is_err() => println!("{} {line}", "✗".red().bold()),
                    crate::proxy::check::Verdict::Note => println!("{} {line}", "!".yellow().bold()),
                    crate::proxy::check::Verdict::Pass => println!("{} {line}", "✓".green()),
                }
                if let Err(err) = reports.write(&e) {
                    eprintln!("{} writing a report failed: {err}", "error:".red().bold());
                }
            }
            _ = &mut stop => break,
        }
    }
    proxy.stop();
    while let Ok(e) = proxy.exchanges.try_recv() {
        summary.count(&e);
        let _ = reports.write(&e);
    }
    if let Err(e) = reports.finish(&summary) {
        eprintln!("{} writing a report failed: {e}", "error:".red().bold());
    }
    eprint!("\n{}", summary.text());
    if summary.failed > 0 {
        exit::CHECK_FAILED
    } else {
        exit::OK
    }
}
