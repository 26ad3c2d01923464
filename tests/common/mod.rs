//! Shared test harness: run scenarios against the embedded reference server in-process, or run
//! the `scimcheck` binary.

#![allow(dead_code)]

use std::process::{Command, Output};
use std::sync::Arc;

use scimcheck::http::{ClientOptions, Secret, TenantUrl};
use scimcheck::plan::{Published, plan};
use scimcheck::run::{CheckResult, Event, Outcome, Owner, RunConfig, Runner, Summary, Tenant};
use scimcheck::scenario::template::Generators;
use scimcheck::scenario::{Dialect, Loaded};
use scimcheck::server::{Quirk, Server, ServerOptions};

/// The token the test servers expect.
pub const TOKEN: &str = "test-token-8d1f0c2e9b7a";

/// What a run produced.
pub struct RunOutput {
    pub checks: Vec<(Dialect, CheckResult)>,
    pub events: Vec<Event>,
    pub summary: Summary,
}

impl RunOutput {
    /// Ids of checks with this outcome (deduplicated across dialects, sorted).
    pub fn ids(&self, outcome: Outcome) -> Vec<String> {
        let mut ids: Vec<String> = self
            .checks
            .iter()
            .filter(|(_, c)| c.outcome == outcome)
            .map(|(_, c)| c.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The first result of check `id`.
    pub fn check(&self, id: &str) -> &CheckResult {
        &self
            .checks
            .iter()
            .find(|(_, c)| c.id == id)
            .unwrap_or_else(|| panic!("no check {id}"))
            .1
    }
}

/// Starts a reference server with these quirks (names as on the command line).
pub async fn server(quirks: &[&str]) -> Server {
    let quirks: Vec<Quirk> = quirks
        .iter()
        .map(|q| q.parse().expect("known quirk"))
        .collect();
    Server::start(ServerOptions {
        token: TOKEN.into(),
        quirks,
        ..ServerOptions::default()
    })
    .await
    .expect("server starts")
}

/// Runs `scenarios` against `url` in `dialects` and collects everything.
pub async fn run_against(url: &str, scenarios: Vec<Loaded>, dialects: &[Dialect]) -> RunOutput {
    run_against_with(url, scenarios, dialects, RunConfig::default()).await
}

/// [`run_against`] with these run settings.
pub async fn run_against_with(
    url: &str,
    scenarios: Vec<Loaded>,
    dialects: &[Dialect],
    config: RunConfig,
) -> RunOutput {
    let generators = Arc::new(Generators::new(Generators::random_run_id()));
    let g = generators.clone();
    let client = Tenant::new(
        TenantUrl::parse(url).expect("url"),
        Secret::new(TOKEN),
        ClientOptions::default(),
        Arc::new(move |id: &str| g.minted(id)),
    )
    .expect("client");
    let runner = Runner::new(Arc::new(client), generators, config);
    let scenarios: Vec<Arc<Loaded>> = scenarios.into_iter().map(Arc::new).collect();
    let mut plan = plan(&scenarios, dialects);
    // As `scimcheck run` does: read the server's /Schemas once before the plan runs.
    if plan.reads_published() {
        let ex = runner
            .client
            .send(&Published::request(), Owner::Setup)
            .await;
        plan = plan.with_published(&Published::from_exchange(ex));
    }
    let mut events = Vec::new();
    let summary = runner.run(&plan, &mut |e| events.push(e.clone())).await;
    let checks = checks_by_dialect(&events);
    RunOutput {
        checks,
        events,
        summary,
    }
}

/// The built-in suite against a fresh reference server with `quirks`, in both dialects, with
/// every evidence class failing (`--strict all`), so that each quirk's findings are failures
/// whatever their class. Also asserts the server holds no data afterwards.
pub async fn run_suite(quirks: &[&str]) -> RunOutput {
    let server = server(quirks).await;
    let out = run_against_with(
        &server.base_url(),
        scimcheck::scenario::builtin(),
        &[Dialect::Default, Dialect::Compliant],
        RunConfig {
            strict: scimcheck::scenario::Strictness {
                validator: true,
                rfc: true,
            },
            ..RunConfig::default()
        },
    )
    .await;
    if !quirks.contains(&"disable-deletes-user") {
        assert_no_test_data_left(&server, &format!("quirks {quirks:?}"));
    }
    server.shutdown().await;
    out
}

/// Runs the `scimcheck` binary with `args` and extra environment variables.
pub fn scimcheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scimcheck"));
    cmd.args(args)
        .env_remove("SCIMCHECK_TOKEN")
        .env_remove("SCIMCHECK_CLIENT_SECRET")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run scimcheck")
}

/// The server holds no users and no groups: everything the run created was cleaned up.
pub fn assert_no_test_data_left(server: &Server, context: &str) {
    let left = server.dump();
    for kind in ["users", "groups"] {
        assert_eq!(
            left[kind].as_array().map(Vec::len),
            Some(0),
            "{context}: {kind} left behind: {left}"
        );
    }
}

/// [`scimcheck`] from async tests (runs on a blocking thread, so in-process servers keep serving).
pub async fn scimcheck_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        scimcheck(&args, &[])
    })
    .await
    .expect("blocking task")
}

/// stdout followed by stderr, as text.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Owned arguments.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every check result of a run's events, with the dialect its scenario ran in.
pub fn checks_by_dialect(events: &[Event]) -> Vec<(Dialect, CheckResult)> {
    let mut dialect_of = Vec::new();
    let mut checks = Vec::new();
    for e in events {
        match e {
            Event::ScenarioStarted(info) => dialect_of.push((info.index, info.dialect)),
            Event::CheckFinished { scenario, result } => {
                let d = dialect_of
                    .iter()
                    .find(|(i, _)| i == scenario)
                    .map(|(_, d)| *d)
                    .expect("a check belongs to a started scenario");
                checks.push((d, result.clone()));
            }
            _ => {}
        }
    }
    checks
}
