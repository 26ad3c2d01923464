//! Selection (`--only`, `--skip`) and waivers (`--waivers`), through the `scimcheck` binary
//! against the embedded reference server, with the fixed scenarios of `tests/fixtures/reports/`
//! (`fixture-connection`: tags connection, read-only; check `fconn.users-probe`.
//! `fixture-user`: tags users, write; checks `fuser.create`, `fuser.disable`,
//! `fuser.disable.verified`).

use crate::common;

use std::io::Write;

use serde_json::Value;

const FIXTURES: &str = "tests/fixtures/reports";

struct Run {
    code: i32,
    /// The JSON report (written to stdout).
    report: Value,
    /// The terminal output (on stderr, since the report takes stdout).
    terminal: String,
    requests: u64,
}

impl Run {
    fn scenarios(&self) -> Vec<String> {
        self.report["scenarios"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| s["id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn check(&self, id: &str) -> Value {
        self.report["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["checks"].as_array().unwrap())
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no check {id}"))
            .clone()
    }
}

/// `scimcheck run` of the fixtures with `args`, the JSON report on stdout.
async fn run(quirks: &[&str], args: &[&str]) -> Run {
    let server = common::server(quirks).await;
    let mut all: Vec<String> = vec![
        "run".into(),
        "--url".into(),
        server.base_url(),
        "--token".into(),
        common::TOKEN.into(),
        "--report".into(),
        "json=-".into(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    all.push(FIXTURES.into());
    let out = tokio::task::spawn_blocking(move || {
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        common::scimcheck(&all, &[])
    })
    .await
    .expect("scimcheck ran");
    let requests = server.request_count();
    server.shutdown().await;
    Run {
        code: out.status.code().unwrap_or(-1),
        report: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        terminal: String::from_utf8_lossy(&out.stderr).into_owned(),
        requests,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_and_skip_select_scenarios_by_id_tag_or_check_id_with_globs() {
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &["fixture-connection", "fixture-user"]),
        (&["--only", "fixture-user"], &["fixture-user"]),
        (&["--only", "read-only"], &["fixture-connection"]),
        (&["--only", "fconn.*"], &["fixture-connection"]),
        // A check id selects its whole scenario (steps need each other's captures).
        (&["--only", "fuser.disable.verified"], &["fixture-user"]),
        (
            &["--only", "fixture-*", "--skip", "write"],
            &["fixture-connection"],
        ),
        (&["--skip", "*.users-probe"], &["fixture-user"]),
        (
            &["--only", "{users,connection}"],
            &["fixture-connection", "fixture-user"],
        ),
    ];
    for (args, expected) in cases {
        let r = run(&[], args).await;
        assert_eq!(r.code, 0, "{args:?}: {}", r.terminal);
        assert_eq!(r.scenarios(), *expected, "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_honours_only_too() {
    let out = tokio::task::spawn_blocking(|| {
        common::scimcheck(
            &["demo", "--only", "user-pagination", "--report", "json=-"],
            &[],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["user-pagination", "user-pagination"], "both dialects");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_only_that_matches_nothing_is_a_usage_error_and_sends_nothing() {
    let r = run(&[], &["--only", "fuser.dsable"]).await;
    assert_eq!(r.code, 2);
    assert!(
        r.terminal
            .contains("--only `fuser.dsable` matches no scenario id, tag or check id"),
        "{}",
        r.terminal
    );
    assert_eq!(r.requests, 0);

    let r = run(&[], &["--skip", "fixture-*"]).await;
    assert_eq!(r.code, 2);
    assert!(
        r.terminal.contains("left no scenario to run"),
        "{}",
        r.terminal
    );
    assert_eq!(r.requests, 0);
}

fn waiver_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiver_turns_an_expected_failure_into_waived_with_its_reason_and_exit_0() {
    let w = waiver_file(
        "waivers:\n  - check: fuser.disable*\n    reason: vendor ticket 42, fixed in 2.1\n",
    );
    let path = w.path().to_str().unwrap();

    let without = run(&["rejects-capitalised-ops"], &[]).await;
    assert_eq!(
        without.code, 1,
        "the quirk fails the run without the waiver"
    );

    let r = run(&["rejects-capitalised-ops"], &["--waivers", path]).await;
    assert_eq!(r.code, 0, "{}", r.terminal);
    let c = r.check("fuser.disable");
    assert_eq!(c["outcome"], "waived");
    assert_eq!(c["note"], "waived: vendor ticket 42, fixed in 2.1");
    assert!(
        !c["findings"].as_array().unwrap().is_empty(),
        "findings kept"
    );
    // The verification of the rejected PATCH is not judged: blocked, not failed or waived.
    let v = r.check("fuser.disable.verified");
    assert_eq!(v["outcome"], "blocked");
    assert_eq!(v["blocked_by"], "fuser.disable");
    let s = &r.report["summary"];
    assert_eq!(
        (
            s["failed"].as_u64(),
            s["waived"].as_u64(),
            s["blocked"].as_u64()
        ),
        (Some(0), Some(1), Some(1))
    );
    assert_eq!(s["verdict"], "passed");
    assert_eq!(s["waivers"][0]["state"], "used");
    assert!(
        r.terminal
            .contains("~ fuser.disable: waived: vendor ticket 42, fixed in 2.1"),
        "{}",
        r.terminal
    );
    assert!(
        r.terminal
            .contains("PASSED: 2 passed, 0 failed, 0 warnings, 1 blocked, 0 skipped, 1 waived")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiver_whose_checks_pass_now_is_reported_so_it_can_be_dropped() {
    let w = waiver_file(
        "waivers:\n  - { check: fuser.disable, reason: vendor ticket 42 }\n  - { check: nothing.here, reason: old }\n",
    );
    let path = w.path().to_str().unwrap();
    let r = run(&[], &["--waivers", path]).await;
    assert_eq!(r.code, 0);
    let c = r.check("fuser.disable");
    assert_eq!(c["outcome"], "pass");
    assert_eq!(
        c["note"],
        "passes: the waiver `fuser.disable` is no longer needed"
    );
    let waivers = &r.report["summary"]["waivers"];
    assert_eq!(waivers[0]["state"], "stale");
    assert_eq!(waivers[1]["state"], "unmatched");
    assert!(
        r.terminal
            .contains("Waivers no longer needed (their checks pass now; drop them):\n  fuser.disable  (vendor ticket 42)"),
        "{}",
        r.terminal
    );
    assert!(
        r.terminal
            .contains("Waivers that matched no check that ran:\n  nothing.here  (old)")
    );

    // The Markdown report says so too.
    let server = common::server(&[]).await;
    let url = server.base_url();
    let path = path.to_string();
    let out = tokio::task::spawn_blocking(move || {
        common::scimcheck(
            &[
                "run",
                "--url",
                &url,
                "--token",
                common::TOKEN,
                "--waivers",
                &path,
                "--report",
                "markdown=-",
                FIXTURES,
            ],
            &[],
        )
    })
    .await
    .unwrap();
    server.shutdown().await;
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("### Waivers that can be dropped\n\nThe checks these waivers name pass now.\n\n- `fuser.disable`: vendor ticket 42"),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_waiver_file_is_rejected_with_file_line_column_and_nothing_is_sent() {
    let w = waiver_file("waivers:\n  - check: fuser.disable\n    reson: typo\n");
    let path = w.path().to_str().unwrap().to_string();
    let r = run(&[], &["--waivers", &path]).await;
    assert_eq!(r.code, 2);
    assert_eq!(r.requests, 0, "nothing was sent");
    assert!(
        r.terminal.contains("unknown field `reson`"),
        "{}",
        r.terminal
    );
    assert!(
        r.terminal.contains(&format!("--> {path}:3:5")),
        "{}",
        r.terminal
    );
    assert!(
        r.terminal.contains("did you mean `reason`?"),
        "{}",
        r.terminal
    );
    assert!(r.terminal.contains("nothing was sent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quiet_summary_lists_waived_failures_stale_and_unmatched_waivers() {
    let w = waiver_file(
        "waivers:\n  - { check: fuser.disable*, reason: vendor ticket 42 }\n  - { check: fconn.users-probe, reason: flaky probe }\n  - { check: nope, reason: typo }\n",
    );
    let r = run(
        &["rejects-capitalised-ops"],
        &["-q", "--waivers", w.path().to_str().unwrap()],
    )
    .await;
    assert_eq!(r.code, 0);
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        filters => vec![(r"in \d+\.\d+ s\b", "in [S] s")],
    }, {
        insta::assert_snapshot!("selection-waivers.terminal", r.terminal);
    });
}

/// The outcomes of check `id` (one per dialect) in a `demo` of the built-in suite.
fn demo_outcomes(args: &[&str], id: &str) -> Vec<String> {
    let mut all = vec!["demo", "--report", "json=-"];
    all.extend_from_slice(args);
    let out = common::scimcheck(&all, &[]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    report["scenarios"]
        .as_array()
        .expect("scenarios")
        .iter()
        .flat_map(|s| s["checks"].as_array().expect("checks"))
        .filter(|c| c["id"] == id)
        .map(|c| c["outcome"].as_str().expect("outcome").to_string())
        .collect()
}

#[test]
fn a_checks_verdict_does_not_depend_on_which_other_scenarios_were_selected() {
    // The server does not advertise nickName: the value check on it is a warning (Entra sends
    // only advertised attributes), whether or not the discovery scenario is in the run.
    let id = "user.update.add-attributes.verified";
    let whole = demo_outcomes(&["--quirk", "unpublished-nickname"], id);
    let alone = demo_outcomes(&["--quirk", "unpublished-nickname", "--only", id], id);
    assert_eq!(whole, ["warn", "warn"]);
    assert_eq!(alone, whole, "--only {id} judged it differently");
}
