//! `scimcheck load`: an Entra initial cycle against the embedded reference server.

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use scimcheck::http::{ClientOptions, Secret, TenantUrl};
use scimcheck::loadtest::{
    Kind, LoadConfig, LoadReport, Mode, NoProgress, Progress, Rate, VerdictStatus,
};
use scimcheck::run::Tenant;
use scimcheck::scenario::template::Generators;
use scimcheck::server::Server;
use serde_json::Value;

fn client_for(server: &Server, generators: &Generators) -> Arc<Tenant> {
    let client = Tenant::new(
        TenantUrl::parse(&server.base_url()).expect("url"),
        Secret::new(common::TOKEN),
        ClientOptions::default(),
        Arc::new(|_: &str| false),
    )
    .expect("client")
    .with_run_prefix(generators.prefix());
    Arc::new(client)
}

/// Looks at the server when the cleanup phase begins, i.e. after every create.
struct AtCleanup {
    server: Arc<Server>,
    seen: Mutex<Option<Value>>,
    requests: AtomicU64,
}

impl Progress for AtCleanup {
    fn phase(&self, name: &'static str, _expected: u64) {
        if name == "cleanup" {
            *self.seen.lock().unwrap() = Some(self.server.dump());
        }
    }
    fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    fn finish(&self) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_creates_exactly_n_users_and_m_groups_with_members_then_removes_them_all() {
    let server = Arc::new(common::server(&[]).await);
    let generators = Generators::new(Generators::random_run_id());
    let client = client_for(&server, &generators);
    let config = LoadConfig {
        users: 30,
        groups: 4,
        members_per_group: 5,
        batch: 2,
        update: true,
        rate: Rate::Max,
        concurrency: 8,
        ..LoadConfig::default()
    };
    let before = server.request_count();
    let probe = Arc::new(AtCleanup {
        server: server.clone(),
        seen: Mutex::new(None),
        requests: AtomicU64::new(0),
    });
    let report = scimcheck::loadtest::run(client, &generators, &config, probe.clone()).await;

    // Between the cycle and the cleanup the server held exactly the run's users and groups.
    let seen = probe.seen.lock().unwrap().take().expect("a cleanup phase");
    let users = seen["users"].as_array().unwrap();
    let groups = seen["groups"].as_array().unwrap();
    assert_eq!(users.len(), 30);
    assert_eq!(groups.len(), 4);
    let prefix = generators.prefix();
    assert!(
        users
            .iter()
            .all(|u| u["userName"].as_str().unwrap().starts_with(&prefix))
    );
    assert!(users.iter().all(|u| {
        u["name"]["familyName"]
            .as_str()
            .unwrap()
            .starts_with("Updated")
    }));
    for g in groups {
        assert_eq!(
            g["members"].as_array().map(Vec::len),
            Some(5),
            "each group got its 5 members in batches of 2: {g}"
        );
    }

    // Afterwards the server is empty again.
    let after = server.dump();
    assert_eq!(after["users"], serde_json::json!([]));
    assert_eq!(after["groups"], serde_json::json!([]));

    // Every request the server served is one the report counted, and the sequence is Entra's:
    // users match + create + update, groups match + create + 3 batches, then a delete each.
    let expected = 30 * 3 + 4 * (2 + 3) + 30 + 4;
    assert_eq!(server.request_count() - before, expected);
    assert_eq!(probe.requests.load(Ordering::Relaxed), expected);
    let count = |k: Kind| {
        report
            .kinds
            .iter()
            .find(|r| r.kind == k)
            .map_or(0, |r| r.requests)
    };
    assert_eq!(count(Kind::UserMatch), 30);
    assert_eq!(count(Kind::UserCreate), 30);
    assert_eq!(count(Kind::UserUpdate), 30);
    assert_eq!(count(Kind::GroupMatch), 4);
    assert_eq!(count(Kind::GroupCreate), 4);
    assert_eq!(count(Kind::GroupMembers), 12);
    assert_eq!(count(Kind::GroupDelete), 4);
    assert_eq!(count(Kind::UserDelete), 30);
    assert_eq!((report.created_users, report.created_groups), (30, 4));
    assert_eq!((report.deleted_users, report.deleted_groups), (30, 4));
    assert!(report.leftovers.is_empty());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.verdict.status, VerdictStatus::Meets);
    assert_eq!(report.exit_code(), 0);
}

/// `--rate` is a cap: the load never goes faster than asked. Only an upper bound on speed is
/// asserted (a slow machine cannot fail it); how close to the rate it gets is a benchmark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_never_exceeds_the_requested_rate() {
    let server = common::server(&[]).await;
    let generators = Generators::new(Generators::random_run_id());
    let client = client_for(&server, &generators);
    // 50 users: 100 cycle requests and 50 deletes, at least about 3 s at 50 req/s.
    let config = LoadConfig {
        users: 50,
        groups: 0,
        rate: Rate::PerSecond(50.0),
        concurrency: 4,
        ..LoadConfig::default()
    };
    let before = server.request_count();
    let started = Instant::now();
    let report = scimcheck::loadtest::run(client, &generators, &config, Arc::new(NoProgress)).await;
    let elapsed = started.elapsed().as_secs_f64();
    let served = (server.request_count() - before) as f64;
    assert_eq!(served, 150.0);
    let achieved = served / elapsed;
    assert!(
        achieved <= 55.0,
        "asked for at most 50 req/s, the server saw {achieved:.1} req/s ({served} requests in {elapsed:.2} s)"
    );
    let cycle = &report.phases[0];
    assert!(
        cycle.throughput <= 55.0,
        "the report says {:.1} req/s",
        cycle.throughput
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_mode_repeats_one_read_and_creates_nothing() {
    let server = common::server(&[]).await;
    let generators = Generators::new(Generators::random_run_id());
    let client = client_for(&server, &generators);
    let config = LoadConfig {
        mode: Mode::Probe,
        users: 200,
        rate: Rate::Max,
        ..LoadConfig::default()
    };
    let before = server.request_count();
    let report: LoadReport =
        scimcheck::loadtest::run(client, &generators, &config, Arc::new(NoProgress)).await;
    assert_eq!(server.request_count() - before, 200);
    assert_eq!(report.phases.len(), 1);
    assert_eq!(report.phases[0].name, "probe");
    assert_eq!(report.kinds.len(), 1);
    assert_eq!(report.kinds[0].kind, Kind::Probe);
    assert_eq!(report.statuses.get("200"), Some(&200));
    assert_eq!(report.created_users + report.created_groups, 0);
    server.shutdown().await;
}

/// A server that answers 429 with `Retry-After: 1` to its first request, then empty lists.
async fn throttling_server() -> String {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::IntoResponse;
    let hits = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().fallback(move || {
        let hits = hits.clone();
        async move {
            if hits.fetch_add(1, Ordering::SeqCst) == 0 {
                let mut r = StatusCode::TOO_MANY_REQUESTS.into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            } else {
                let mut r = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[],"startIndex":1,"itemsPerPage":0}"#.into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/scim+json"),
                );
                r
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/scim/v2")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_counted_with_its_retry_after_and_fails_the_verdict() {
    let url = throttling_server().await;
    let generators = Generators::new(Generators::random_run_id());
    let client = Arc::new(
        Tenant::new(
            TenantUrl::parse(&url).unwrap(),
            Secret::new(common::TOKEN),
            ClientOptions::default(),
            Arc::new(|_: &str| false),
        )
        .unwrap(),
    );
    let config = LoadConfig {
        mode: Mode::Probe,
        users: 3,
        concurrency: 1,
        rate: Rate::Max,
        ..LoadConfig::default()
    };
    let report = scimcheck::loadtest::run(client, &generators, &config, Arc::new(NoProgress)).await;
    assert_eq!(report.throttling.responses_429, 1);
    assert_eq!(report.throttling.retry_after_given, 1);
    assert_eq!(report.throttling.retry_after_max_s, 1.0);
    assert!(report.errors.is_empty(), "the retry succeeded");
    assert_eq!(report.verdict.status, VerdictStatus::Below);
    assert!(
        report
            .verdict
            .text
            .contains("429 Too Many Requests 1 time(s)"),
        "{}",
        report.verdict.text
    );
    let text = scimcheck::report::loadtest::render(&report);
    assert!(
        text.contains("throttling: 1 request was answered 429 Too Many Requests; 1 asked to wait (Retry-After): 1.0 s in total, 1.0 s at most"),
        "{text}"
    );
}

/// Numbers that vary from run to run become placeholders; column padding collapses.
fn normalise(text: &str) -> String {
    let rules = [
        (r"127\.0\.0\.1:\d+", "HOST"),
        (r"run [0-9a-f]{8}", "run RUNID"),
        (r"\d+\.\d+ req/s", "[RATE]"),
        (r"\d+(\.\d+)? ms", "[MS]"),
        (
            r"(throughput|latency\)) +\d+(\.\d+)? (s|min|h)\b",
            "$1  [DURATION]",
        ),
        (r"\d+\.\d+ s\b", "[S]"),
        (r" {2,}", "  "),
    ];
    let mut s = text.to_string();
    for (pattern, with) in rules {
        s = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&s, with)
            .into_owned();
    }
    s
}

#[test]
fn the_human_report_shows_phases_latencies_cleanup_and_the_verdict_line() {
    let out = common::scimcheck(
        &[
            "load",
            "--embedded",
            "--users",
            "20",
            "--groups",
            "3",
            "--members",
            "5",
            "--batch",
            "2",
            "--rate",
            "max",
        ],
        &[],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("verdict: meets the gallery's 25 req/s bar"),
        "{stdout}"
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("load_human_report", normalise(&stdout));
    });
}

#[test]
fn json_output_is_one_document_with_the_verdict() {
    let out = common::scimcheck(
        &[
            "load",
            "--embedded",
            "--mode",
            "probe",
            "--users",
            "50",
            "--rate",
            "max",
            "--json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["mode"], "probe");
    assert_eq!(v["rate"], "max");
    assert_eq!(v["phases"][0]["requests"], 50);
    assert_eq!(v["kinds"][0]["kind"], "probe");
    assert_eq!(v["verdict"]["status"], "meets");
    assert_eq!(v["verdict"]["bar"], 25.0);
    for key in ["p50_ms", "p90_ms", "p99_ms", "max_ms"] {
        assert!(v["kinds"][0][key].is_number(), "{key}");
    }
}

#[test]
fn load_needs_a_url_or_the_embedded_server() {
    let out = common::scimcheck(&["load"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--url"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_load_report_charts_the_429s_over_time_and_never_shows_the_token() {
    let url = throttling_server().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let html = dir.path().join("load.html");
    let json = dir.path().join("load.json");
    let args = common::args(&[
        "load",
        "--url",
        &url,
        "--token",
        common::TOKEN,
        "--mode",
        "probe",
        "--users",
        "3",
        "-c",
        "1",
        "--rate",
        "max",
        "--report",
        &format!("html={}", html.display()),
        "--report",
        &format!("json={}", json.display()),
    ]);
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::scimcheck(&args, &[])
    })
    .await
    .expect("scimcheck ran");
    assert_eq!(out.status.code(), Some(1), "a 429 fails the verdict");
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the JSON report")).unwrap();
    let timeline = doc["timeline"].as_array().expect("timeline");
    let total = |key: &str| {
        timeline
            .iter()
            .map(|s| s[key].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(total("requests"), 3, "every request is in some second");
    assert_eq!(total("throttled"), 1, "the 429 is in its second");
    assert!(page.contains("scimcheck load: below the 25 req/s bar"));
    assert!(page.contains("id=\"latency-chart\"") && page.contains("id=\"throughput-chart\""));
    assert!(page.contains("id=\"errors-chart\""), "the 429 is charted");
    assert!(page.contains("429 Too Many Requests: 1 "));
    for text in [&page, &doc.to_string(), &common::output_text(&out)] {
        assert!(!text.contains(common::TOKEN), "the token leaked");
    }
}

#[test]
fn load_reports_other_than_html_and_json_are_a_usage_error() {
    let out = common::scimcheck(&["load", "--embedded", "--report", "junit=-"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::output_text(&out).contains("load writes `html` or `json` reports"));
}
