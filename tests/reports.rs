//! Reports: every `--report` format (and the terminal summary) of the `scimcheck` binary, run
//! against the embedded reference server with a small fixed scenario set
//! (`tests/fixtures/reports/`), so that the snapshots do not move when the built-in suite grows.

use crate::common;

use std::path::Path;

use serde_json::Value;

/// Everything one `scimcheck run` produced.
struct Outputs {
    code: i32,
    stdout: String,
    stderr: String,
    json: String,
    junit: String,
    markdown: String,
    har: String,
    html: String,
}

impl Outputs {
    fn json(&self) -> Value {
        serde_json::from_str(&self.json).expect("the JSON report is JSON")
    }

    fn har(&self) -> Value {
        serde_json::from_str(&self.har).expect("the HAR report is JSON")
    }

    fn run_id(&self) -> String {
        self.json()["run_id"].as_str().expect("run_id").to_string()
    }
}

/// Relative, so that reports name the files the same way on every machine (tests run from the
/// package root).
const FIXTURES: &str = "tests/fixtures/reports";

/// Runs the fixture scenarios against a reference server with `quirks`, default dialect, one
/// scenario at a time (so generated names are numbered in a stable order), writing every report.
async fn run_fixtures(quirks: &[&str], extra: &[&str]) -> Outputs {
    let server = common::server(quirks).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = |name: &str| dir.path().join(name).display().to_string();
    let mut args: Vec<String> = vec![
        "run".into(),
        "--url".into(),
        server.base_url(),
        "--token".into(),
        common::TOKEN.into(),
        "-j".into(),
        "1".into(),
        "--report".into(),
        format!("json={}", file("report.json")),
        "--report".into(),
        format!("junit={}", file("junit.xml")),
        "--report".into(),
        format!("markdown={}", file("summary.md")),
        "--report".into(),
        format!("har={}", file("exchanges.har")),
        "--report".into(),
        format!("html={}", file("report.html")),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(FIXTURES.into());
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::scimcheck(&args, &[])
    })
    .await
    .expect("scimcheck ran");
    server.shutdown().await;
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_default();
    Outputs {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        json: read("report.json"),
        junit: read("junit.xml"),
        markdown: read("summary.md"),
        har: read("exchanges.har"),
        html: read("report.html"),
    }
}

/// Snapshot settings that normalise what changes between runs: run id, ports, uuids, dates and
/// timings.
fn settings(run_id: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("../snapshots");
    s.set_prepend_module_to_snapshot(false);
    s.add_filter(run_id, "[RUNID]");
    s.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    s.add_filter(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[UUID]",
    );
    s.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[TIMESTAMP]",
    );
    s.add_filter(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", "[DATE]");
    s.add_filter(
        r#""(elapsed_ms|exchange_ms|time|wait|waited_s)": [0-9.]+"#,
        "\"$1\": [MS]",
    );
    s.add_filter(r#"time="[0-9.]+""#, "time=\"[S]\"");
    s.add_filter(r"\b\d+ ms\)", "[MS] ms)");
    s.add_filter(r"in \d+\.\d+ s\b", "in [S] s");
    s.add_filter(
        r#"version": "\d+\.\d+\.\d+[^"]*""#,
        "version\": \"[VERSION]\"",
    );
    s.add_filter(r"scimcheck \d+\.\d+\.\d+\S*", "scimcheck [VERSION]");
    s
}

fn snapshot_all(name: &str, out: &Outputs) {
    settings(&out.run_id()).bind(|| {
        insta::assert_snapshot!(format!("{name}.json"), out.json);
        insta::assert_snapshot!(format!("{name}.junit.xml"), out.junit);
        insta::assert_snapshot!(format!("{name}.md"), out.markdown);
        insta::assert_snapshot!(format!("{name}.har"), out.har);
        insta::assert_snapshot!(format!("{name}.terminal"), out.stdout);
    });
    html_settings(&out.run_id()).bind(|| {
        insta::assert_snapshot!(format!("{name}.html"), out.html);
    });
}

/// The HTML page's structure: [`settings`], plus its timings (`data-ms` texts, waterfall bar
/// positions) and the shared style sheet filtered out.
fn html_settings(run_id: &str) -> insta::Settings {
    let mut s = settings(run_id);
    s.add_filter(r"(?s)<style>.*?</style>", "<style>[CSS]</style>");
    s.add_filter(r"data-ms>[^<]*<", "data-ms>[MS]<");
    s.add_filter(r"\(\d+\.\d ms\)", "([MS] ms)");
    s.add_filter(
        r#"style="left:[0-9.]+%;width:[0-9.]+%""#,
        r#"style="[BAR]""#,
    );
    s
}

fn validate_against_documented_schema(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-schema.json"),
        )
        .expect("docs/report-schema.json"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "the JSON report breaks its schema:\n{}",
        errors.join("\n")
    );
}

fn assert_har_1_2(har: &Value, expected_entries: usize) {
    let log = &har["log"];
    assert_eq!(log["version"], "1.2");
    assert_eq!(log["creator"]["name"], "scimcheck");
    assert!(log["creator"]["version"].is_string());
    let entries = log["entries"].as_array().expect("log.entries");
    assert_eq!(entries.len(), expected_entries, "one entry per request");
    for e in entries {
        assert!(
            chrono::DateTime::parse_from_rfc3339(e["startedDateTime"].as_str().unwrap()).is_ok(),
            "startedDateTime is ISO 8601: {e}"
        );
        assert!(e["time"].is_number());
        let req = &e["request"];
        for key in ["method", "url", "httpVersion"] {
            assert!(req[key].is_string(), "request.{key} in {e}");
        }
        for key in ["headers", "queryString", "cookies"] {
            assert!(req[key].is_array(), "request.{key} in {e}");
        }
        for key in ["headersSize", "bodySize"] {
            assert!(
                req[key].is_i64() || req[key].is_u64(),
                "request.{key} in {e}"
            );
        }
        if let Some(post) = req.get("postData") {
            assert!(post["mimeType"].is_string() && post["text"].is_string());
        }
        let resp = &e["response"];
        assert!(resp["status"].is_u64());
        for key in ["statusText", "httpVersion", "redirectURL"] {
            assert!(resp[key].is_string(), "response.{key} in {e}");
        }
        for key in ["headers", "cookies"] {
            assert!(resp[key].is_array(), "response.{key} in {e}");
        }
        assert!(resp["content"]["size"].is_number() && resp["content"]["mimeType"].is_string());
        for key in ["headersSize", "bodySize"] {
            assert!(
                resp[key].is_i64() || resp[key].is_u64(),
                "response.{key} in {e}"
            );
        }
        assert!(e["cache"].is_object());
        for key in ["send", "wait", "receive"] {
            assert!(e["timings"][key].is_number(), "timings.{key} in {e}");
        }
        for h in req["headers"]
            .as_array()
            .unwrap()
            .iter()
            .chain(resp["headers"].as_array().unwrap())
        {
            assert!(h["name"].is_string() && h["value"].is_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_of_a_passing_run_matches_its_snapshot() {
    let out = run_fixtures(&[], &[]).await;
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    snapshot_all("report-passing", &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_report_of_a_run_against_a_quirky_server_matches_its_snapshot() {
    let out = run_fixtures(&["rejects-capitalised-ops"], &[]).await;
    assert_eq!(
        out.code, 1,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    snapshot_all("report-quirky", &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_report_validates_against_the_documented_schema() {
    for quirks in [&[][..], &["rejects-capitalised-ops"][..]] {
        let out = run_fixtures(quirks, &[]).await;
        let report = out.json();
        validate_against_documented_schema(&report);
        assert_eq!(report["schema_version"], 1);
    }
}

#[test]
fn the_documented_schema_rejects_a_report_that_drifts_from_it() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(!validator.is_valid(&serde_json::json!({ "schema_version": 2 })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_junit_report_parses_back_with_one_suite_per_scenario_and_a_case_per_check() {
    let out = run_fixtures(&["rejects-capitalised-ops"], &[]).await;
    let report = quick_junit::Report::deserialize_from_str(&out.junit).expect("JUnit parses back");
    assert_eq!(report.name.as_ref().map(|n| n.as_str()), Some("scimcheck"));
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        suites,
        ["fixture-connection [default]", "fixture-user [default]"]
    );
    let user = &report.test_suites[1];
    let cases: Vec<(&str, bool)> = user
        .test_cases
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                matches!(c.status, quick_junit::TestCaseStatus::NonSuccess { .. }),
            )
        })
        .collect();
    assert_eq!(
        cases,
        [
            ("fuser.create", false),
            ("fuser.disable", true),
            // blocked by the rejected PATCH: a skipped case, not a second failure
            ("fuser.disable.verified", false)
        ]
    );
    let quick_junit::TestCaseStatus::NonSuccess { description, .. } = &user.test_cases[1].status
    else {
        unreachable!()
    };
    let text = description.as_ref().expect("failure text").as_str();
    assert!(text.contains("status: expected"), "{text}");
    assert!(text.contains("hint: Entra disables users"), "{text}");
    assert_eq!(report.failures, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_har_report_has_every_field_har_1_2_requires_for_every_exchange_cleanup_included() {
    for quirks in [&[][..], &["rejects-capitalised-ops"][..]] {
        let out = run_fixtures(quirks, &[]).await;
        let har = out.har();
        // connection: 1; user: create, disable, verify, cleanup DELETE + verifying GET; with
        // the quirk the PATCH is rejected and its verification is blocked, so not sent.
        assert_har_1_2(&har, if quirks.is_empty() { 6 } else { 5 });
        let comments: Vec<&str> = har["log"]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["comment"].as_str().unwrap())
            .collect();
        let mut expected = vec![
            "fixture-connection: fconn.users-probe",
            "fixture-user: fuser.create",
            "fixture-user: fuser.disable",
            "fixture-user: fuser.disable.verified",
            "fixture-user: cleanup",
            "fixture-user: cleanup",
        ];
        if !quirks.is_empty() {
            expected.retain(|c| *c != "fixture-user: fuser.disable.verified");
        }
        assert_eq!(comments, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_report_and_no_output_contains_the_token() {
    let out = run_fixtures(&["rejects-capitalised-ops"], &["-vv"]).await;
    let token = common::TOKEN;
    for (name, text) in [
        ("stdout", &out.stdout),
        ("stderr", &out.stderr),
        ("json", &out.json),
        ("junit", &out.junit),
        ("markdown", &out.markdown),
        ("har", &out.har),
        ("html", &out.html),
    ] {
        assert!(!text.is_empty() || name == "stderr", "{name} is empty");
        assert!(!text.contains(token), "the token leaked into {name}");
    }
    assert!(
        out.har.contains("Bearer REDACTED"),
        "the HAR shows the header, redacted"
    );
    assert!(
        out.stdout.contains("Bearer REDACTED"),
        "-v shows the header, redacted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_on_stdout_moves_the_terminal_output_to_stderr() {
    let server = common::server(&[]).await;
    let url = server.base_url();
    let out = tokio::task::spawn_blocking(move || {
        common::scimcheck(
            &[
                "run",
                "--url",
                &url,
                "--token",
                common::TOKEN,
                "--report",
                "json=-",
                FIXTURES,
            ],
            &[],
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    assert_eq!(out.status.code(), Some(0));
    let report: Value =
        serde_json::from_slice(&out.stdout).expect("stdout is only the JSON report");
    assert_eq!(report["summary"]["verdict"], "passed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PASSED: "),
        "the terminal summary is on stderr: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_report_path_is_rejected_before_anything_is_sent() {
    let server = common::server(&[]).await;
    let url = server.base_url();
    let out = tokio::task::spawn_blocking(move || {
        common::scimcheck(
            &[
                "run",
                "--url",
                &url,
                "--token",
                common::TOKEN,
                "--report",
                "json=/dev/null/report.json",
                FIXTURES,
            ],
            &[],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--report json=/dev/null/report.json"));
    assert_eq!(server.request_count(), 0, "nothing was sent");
    server.shutdown().await;
}

#[test]
fn a_bad_report_option_is_a_usage_error() {
    let out = common::scimcheck(&["demo", "--report", "pdf=x.pdf"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown report format `pdf`"));
}

#[test]
fn completions_are_printed_for_every_supported_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = common::scimcheck(&["completions", shell], &[]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("scimcheck"), "{shell}");
        assert!(script.contains("report"), "{shell} completes the options");
    }
}

/// The Entra codes the JSON report of `scimcheck demo --quirk QUIRK` names.
fn entra_codes_of_demo(quirk: &str) -> std::collections::BTreeSet<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.json");
    let out = common::scimcheck(
        &[
            "demo",
            "--quirk",
            quirk,
            "--report",
            &format!("json={}", path.display()),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{quirk} fails the demo");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("report")).expect("JSON");
    report["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .flat_map(|s| s["checks"].as_array().expect("checks").clone())
        .filter_map(|c| c["entra_error"]["code"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_entra_code_a_quirky_server_produces_is_explained_by_scimcheck_explain() {
    let mut seen = std::collections::BTreeSet::new();
    for (quirk, expected) in [
        (
            "groups-not-found",
            "SystemForCrossDomainIdentityManagementServiceIncompatible",
        ),
        (
            "empty-filter-returns-404",
            "SystemForCrossDomainIdentityManagementServiceIncompatible",
        ),
        (
            "ignores-excluded-attributes",
            "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse",
        ),
        ("disable-deletes-user", "InvalidAnchor"),
        ("create-returns-200", "none"),
    ] {
        let codes = entra_codes_of_demo(quirk);
        if expected == "none" {
            // 200 instead of 201 on create: Entra documents no error code for it.
            assert!(
                codes.is_empty(),
                "{quirk}: no documented code, got {codes:?}"
            );
        } else {
            assert!(
                codes.contains(expected),
                "{quirk}: expected {expected}, got {codes:?}"
            );
        }
        seen.extend(codes);
    }
    assert!(seen.len() >= 3, "{seen:?}");
    let list = common::output_text(&common::scimcheck(&["explain"], &[]));
    for code in &seen {
        let out = common::scimcheck(&["explain", code], &[]);
        assert_eq!(out.status.code(), Some(0), "explain {code}");
        let text = common::output_text(&out);
        for part in [code.as_str(), "means:", "checks:", "fix:", "sources:"] {
            assert!(text.contains(part), "explain {code} lacks {part}:\n{text}");
        }
        assert!(list.contains(code.as_str()), "explain lists {code}");
    }
}

#[test]
fn explain_reads_a_pasted_log_message_and_rejects_text_it_does_not_know() {
    let pasted = "Failed to match an entry. Error code: SystemForCrossDomainIdentityManagementMultipleEntriesInResponse. A GET request returned several entries.";
    let out = common::scimcheck(&["explain", pasted], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = common::output_text(&out);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("explain-pasted-log", text);
    });
    let out = common::scimcheck(&["explain", "the", "weather", "is", "nice"], &[]);
    assert_eq!(out.status.code(), Some(2), "nothing known: a usage error");
    assert!(
        common::output_text(&out).contains("InvalidAnchor"),
        "it lists the known codes"
    );
}
