//! The checks of `run` and `demo`: plan, the Test Connection gate, the run, its reporters.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use colored::Colorize;

use crate::cli::{CheckArgs, DialectChoice, StrictClass};
use crate::credential::Credential;
use crate::exit;
use crate::http::{Client, ClientOptions, Secret, TenantUrl};
use crate::plan::{Plan, Published, Selection, select};
use crate::report::Reporter;
use crate::report::terminal::{Terminal, Verbosity, set_color};
use crate::report::waive::Waivers;
use crate::run::{Event, InPlanOrder, Outcome, Owner, RunConfig, Runner, Tally, Tenant};
use crate::scenario::template::{Generators, ProfileValues};
use crate::scenario::{Dialect, Loaded};

use super::setup::{bad_input, print_diagnostics, warn_insecure};

/// The dialects to run: `--dialect`, or the one the Tenant URL selects.
pub(super) fn dialects(choice: Option<DialectChoice>, from_url: Dialect) -> Vec<Dialect> {
    match choice {
        None => vec![from_url],
        Some(DialectChoice::Default) => vec![Dialect::Default],
        Some(DialectChoice::Compliant) => vec![Dialect::Compliant],
        Some(DialectChoice::Both) => vec![Dialect::Default, Dialect::Compliant],
    }
}

/// Runs `scenarios` against `target`, reporting to the terminal; returns the exit code.
pub(super) async fn execute(
    target: TenantUrl,
    credential: Credential,
    scenarios: Vec<Arc<Loaded>>,
    check: &CheckArgs,
    options: ClientOptions,
) -> i32 {
    set_color(
        check.color,
        if terminal_on_stderr(check) {
            std::io::stderr().is_terminal()
        } else {
            std::io::stdout().is_terminal()
        },
    );
    let secret = credential.secret().clone();
    let Profiled {
        mut scenarios,
        name: profile_name,
        values: profile_values,
        published,
    } = match apply_profile(check, &target, &credential, &options, scenarios).await {
        Ok(x) => x,
        Err(code) => return code,
    };
    if check.mode == crate::cli::RunMode::OnDemand {
        select::on_demand(&mut scenarios);
    }
    let (mut scenarios, waivers) = match pick(scenarios, check, &secret) {
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
    if check.read_only
        && let Err(e) = select::read_only(&mut scenarios)
    {
        return bad_input(&e);
    }
    if let Some(flag) = unknown_entra_flag(&target) {
        eprintln!(
            "{} the Tenant URL carries `{flag}`, which is not a flag Entra knows (aadOptscim062020, AzureAdScimPatch2017, AzureAdScimPatch062020): Entra ignores it and uses its default PATCH dialect, and so does this run",
            "warning:".yellow().bold()
        );
    }
    crate::session::redact_panics(secret.clone());
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
    let (mut reporters, mut progress) = match reporters(check, verbosity, &secret) {
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
    let plan = crate::plan::plan(&scenarios, &dialects);
    let config = RunConfig {
        jobs: check.jobs.max(1),
        keep: check.keep,
        insecure,
        strict,
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

    // Entra's Test Connection (the gate) and the read of /Schemas go out side by side; a
    // profile's read (before the plan) is the run's too.
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
    let read = async {
        match published {
            Some(p) => Some(p),
            None if plan.reads_published() => Some(Published::from_exchange(
                client.send(&Published::request(), Owner::Setup).await,
            )),
            None => None,
        }
    };
    let (gate, published) = tokio::join!(gate, read);
    let plan = match &published {
        Some(p) => plan.with_published(p),
        None => plan,
    };
    runner.config.gate = gate;
    // The runner sends its events as they happen. The progress bar sees them so; the reporters
    // see them in plan order, through the waivers (a transformation) and the tally (which
    // counts the totals into the summary).
    let mut order = InPlanOrder::default();
    let mut waived = waivers.applier();
    let mut tally = Tally::default();
    let mut failed = Vec::new();
    let mut latencies = Vec::new();
    let (events, mut live) = tokio::sync::mpsc::unbounded_channel();
    let report = async {
        while let Some(event) = live.recv().await {
            progress.on_event(&event);
            for event in order.push(event) {
                let event = tally.apply(waived.apply(&event));
                if let Event::ResponseReceived {
                    check, elapsed_ms, ..
                } = event.as_ref()
                {
                    latencies.push((check.clone(), *elapsed_ms));
                }
                if let Event::CheckFinished { result, .. } = event.as_ref()
                    && check.assigned.is_some()
                    && result.outcome == Outcome::Fail
                {
                    failed.push(result.clone());
                }
                for r in reporters.iter_mut() {
                    r.on_event(&event);
                }
            }
        }
    };
    tokio::join!(runner.run_into(&plan, events), report);
    let summary = tally.summary();
    if let Err(e) = progress.finish() {
        eprintln!("{} writing a report failed: {e}", "error:".red().bold());
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
    exit::of_run(&summary)
}

/// The summary line of a run over OAuth: how many access tokens were issued (refreshes show).
pub(super) fn oauth_line(o: &crate::credential::OAuthClient) -> String {
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
pub(super) fn unknown_entra_flag(target: &TenantUrl) -> Option<String> {
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
pub(super) async fn test_connection_gate(
    plan: &Plan,
    client: &Client,
    credential: &Credential,
    verbosity: Verbosity,
    on_stderr: bool,
) -> Option<String> {
    if !plan.has_tag("test-connection") {
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

/// The scenarios of a run with its `--profile` applied.
pub(super) struct Profiled {
    /// The scenarios, with the profile's checks added.
    scenarios: Vec<Arc<Loaded>>,
    /// The profile's name, for reports.
    name: Option<String>,
    /// Its `{{ profile.* }}` values.
    values: ProfileValues,
    /// The target's `/Schemas`, read for the profile (the run reuses it).
    published: Option<Published>,
}

/// `--profile`: loads the profile, reads the target's /Schemas, and returns the scenarios with
/// the profile's checks added (group-only ones left out for user-only apps), the profile's name,
/// its template values and what was read. A profile that does not load prints its problems:
/// exit 2.
pub(super) async fn apply_profile(
    check: &CheckArgs,
    target: &TenantUrl,
    credential: &Credential,
    options: &ClientOptions,
    scenarios: Vec<Arc<Loaded>>,
) -> Result<Profiled, i32> {
    let Some(name) = &check.profile else {
        return Ok(Profiled {
            scenarios,
            name: None,
            values: ProfileValues::default(),
            published: None,
        });
    };
    let profile = crate::profile::resolve(name)
        .map_err(|d| print_diagnostics(&d, "the profile", Some(credential.secret())))?;
    let published = Published::fetch_read_only(target, credential, options).await;
    let prepared = crate::profile::apply(&profile, published.discovery.clone(), scenarios);
    Ok(Profiled {
        scenarios: prepared.scenarios,
        name: Some(profile.name),
        values: prepared.values,
        published: Some(published),
    })
}

/// Whether the terminal output goes to stderr: it does when a `--report` writes to stdout.
pub(super) fn terminal_on_stderr(check: &CheckArgs) -> bool {
    check
        .reports
        .iter()
        .any(|r| r.destination == crate::report::Destination::Stdout)
}

/// Applies `--only` / `--skip` (printing its warnings) and loads `--waivers`; on error prints it
/// and returns exit 2.
pub(super) fn pick(
    scenarios: Vec<Arc<Loaded>>,
    check: &CheckArgs,
    secret: &Secret,
) -> Result<(Vec<Arc<Loaded>>, Waivers), i32> {
    let selection = Selection::new(&check.only, &check.skip).map_err(|e| bad_input(&e))?;
    let picked = selection.apply(scenarios).map_err(|e| bad_input(&e))?;
    for w in &picked.warnings {
        eprintln!("{w}");
    }
    let waivers = match &check.waivers {
        Some(path) => Waivers::load(path)
            .map_err(|d| print_diagnostics(&d, "the waiver file", Some(secret)))?,
        None => Waivers::default(),
    };
    Ok((picked.scenarios, waivers))
}

/// The reporters of a run: the terminal (stdout, or stderr when a report takes stdout) and one
/// per `--report`, opened now so that an unwritable path fails before anything is sent; and the
/// progress bar (stderr, only on a terminal).
pub(super) fn reporters(
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
    use crate::report::escaped::Escaped;
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
    // The bar is fed the live events (it is cleared at `RunFinished`, before the terminal
    // prints the summary); these see them in plan order.
    let mut reporters: Vec<Box<dyn Reporter>> = vec![terminal];
    for spec in &check.reports {
        reporters.push(Box::new(FileReporter::open(spec, Some(secret.clone()))?));
    }
    Ok((reporters, progress))
}
