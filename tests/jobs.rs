//! Concurrent scenarios: `--jobs N` changes how fast a run is, never what it reports.

use crate::common;

use std::sync::{Arc, LazyLock};

use regex::Regex;
use scimcheck::http::{ClientOptions, Secret, TenantUrl};
use scimcheck::run::Tenant;
use scimcheck::run::{Event, RunConfig, Runner, plan};
use scimcheck::scenario::template::Generators;
use scimcheck::scenario::{Dialect, Loaded};

/// Both runs use the same run id, so generated names differ only in their counters.
const RUN_ID: &str = "0b5e55ed";

/// Runs the built-in suite (both dialects) with `jobs` scenarios at once against a fresh
/// reference server, and returns every event as normalised JSON, in the order it was emitted.
async fn suite_events(jobs: usize) -> Vec<String> {
    let server = common::server(&[]).await;
    let generators = Arc::new(Generators::new(RUN_ID));
    let g = generators.clone();
    let client = Tenant::new(
        TenantUrl::parse(&server.base_url()).expect("url"),
        Secret::new(common::TOKEN),
        ClientOptions::default(),
        Arc::new(move |id: &str| g.minted(id)),
    )
    .expect("client")
    .with_run_prefix(generators.prefix());
    let config = RunConfig {
        jobs,
        ..RunConfig::default()
    };
    let runner = Runner::new(Arc::new(client), generators, config);
    let scenarios: Vec<Arc<Loaded>> = scimcheck::scenario::builtin()
        .into_iter()
        .map(Arc::new)
        .collect();
    let plan = plan(&scenarios, &[Dialect::Default, Dialect::Compliant]);
    let mut events: Vec<Event> = Vec::new();
    runner.run(&plan, &mut |e| events.push(e.clone())).await;
    let left = server.dump();
    assert_eq!(
        left["users"],
        serde_json::json!([]),
        "jobs {jobs} left users"
    );
    assert_eq!(
        left["groups"],
        serde_json::json!([]),
        "jobs {jobs} left groups"
    );
    server.shutdown().await;
    events
        .iter()
        .map(|e| normalise(&serde_json::to_string(e).expect("events serialise")))
        .collect()
}

/// Removes what legitimately differs between two runs: timings, ports, server-assigned and
/// random ids, timestamps, generated-name counters (their order depends on scheduling) and the
/// headers that follow from them.
fn normalise(event: &str) -> String {
    static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
        RULES_TEXT
            .iter()
            .map(|(p, with)| (Regex::new(p).expect("valid pattern"), *with))
            .collect()
    });
    let mut s = event.to_string();
    for (re, with) in RULES.iter() {
        s = re.replace_all(&s, *with).into_owned();
    }
    s
}

const RULES_TEXT: [(&str, &str); 7] = [
    (r#""elapsed_ms":[0-9.eE+-]+"#, r#""elapsed_ms":0"#),
    (r"127\.0\.0\.1:\d+", "HOST"),
    (
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "UUID",
    ),
    (r"(?i)(scimcheck-0b5e55ed-[a-z]+)\d+", "${1}N"),
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
        "TIME",
    ),
    (r#"(?i)\["date","[^"]*"\]"#, r#"["date","DATE"]"#),
    (
        r#"(?i)\["content-length","\d+"\]"#,
        r#"["content-length","N"]"#,
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_and_eight_jobs_report_the_same_events_in_the_same_order() {
    let one = suite_events(1).await;
    let eight = suite_events(8).await;
    assert!(
        one.iter()
            .any(|e| e.contains(r#""event":"check-finished""#)),
        "the suite ran checks"
    );
    assert_eq!(one.len(), eight.len(), "same number of events");
    for (i, (a, b)) in one.iter().zip(&eight).enumerate() {
        assert_eq!(a, b, "event {i} differs between --jobs 1 and --jobs 8");
    }
}

#[test]
fn normalising_keeps_what_matters_and_drops_what_scheduling_changes() {
    let a = normalise(
        r#"{"elapsed_ms":12.5,"url":"http://127.0.0.1:4321/scim/v2/Users/2819c223-7f76-453a-919d-413861904646","userName":"scimcheck-0b5e55ed-u17@example.com","headers":[["date","Tue, 10 Jun 2025 10:00:00 GMT"],["content-length","321"]],"created":"2025-06-10T10:00:00.123Z","status":201}"#,
    );
    assert_eq!(
        a,
        r#"{"elapsed_ms":0,"url":"http://HOST/scim/v2/Users/UUID","userName":"scimcheck-0b5e55ed-uN@example.com","headers":[["date","DATE"],["content-length","N"]],"created":"TIME","status":201}"#
    );
}
