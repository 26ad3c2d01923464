//! End-to-end tests of the `scimcheck` binary: exit codes, loading errors, and the human output.

use crate::common;

use common::{TOKEN, scimcheck};

fn normalise() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (r"run [0-9a-f]{8}", "run RUNID"),
        (r"scimcheck-[0-9a-f]{8}-", "scimcheck-RUNID-"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "UUID",
        ),
        (r"\d+ ms", "N ms"),
        (r"in \d+\.\d+ s", "in N s"),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "TIMESTAMP"),
        (r"scimcheck \d+\.\d+\.\d+", "scimcheck VERSION"),
        // Counters of generated names depend on which job ran first.
        (r"scimcheck-RUNID-([xgu])\d+", "scimcheck-RUNID-${1}N"),
    ]
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking task")
}

#[test]
fn demo_runs_the_builtin_suite_against_the_embedded_server_and_exits_0() {
    let out = scimcheck(&["demo", "-q"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("PASSED"), "{}", stdout(&out));
}

#[test]
fn demo_with_a_quirk_fails_with_exit_1_and_names_the_failing_check() {
    let out = scimcheck(
        &[
            "demo",
            "--dialect",
            "default",
            "--quirk",
            "empty-filter-returns-404",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("✗ connection.users-probe"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_run_prints_one_line_per_scenario_with_nested_checks() {
    let server = common::server(&[]).await;
    let url = server.base_url();
    let out = blocking(move || {
        scimcheck(
            &[
                "run",
                "--url",
                &url,
                "--token",
                TOKEN,
                "--dialect",
                "default",
                "tests/fixtures/ok",
            ],
            &[],
        )
    })
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, filters => normalise()}, {
        insta::assert_snapshot!("cli__run_passing_human", stdout(&out));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_check_shows_expected_actual_diff_exchange_and_hint() {
    let server = common::server(&["drops-patch-changes"]).await;
    let url = server.base_url();
    let out = blocking(move || {
        scimcheck(
            &[
                "run",
                "--url",
                &url,
                "--token",
                TOKEN,
                "--dialect",
                "compliant",
                "tests/fixtures/ok",
            ],
            &[],
        )
    })
    .await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("✗ fixture.disabled"), "{text}");
    assert!(
        text.contains("$.active: expected false, got true"),
        "{text}"
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, filters => normalise()}, {
        insta::assert_snapshot!("cli__run_failing_human", text);
    });
    assert_eq!(
        server.dump()["users"],
        serde_json::json!([]),
        "test data was cleaned up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_scenario_file_exits_2_with_file_line_column_and_sends_nothing() {
    let server = common::server(&[]).await;
    let url = server.base_url();
    let out = blocking(move || {
        scimcheck(
            &[
                "run",
                "--url",
                &url,
                "--token",
                TOKEN,
                "tests/fixtures/ok",
                "tests/fixtures/broken",
            ],
            &[],
        )
    })
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        server.request_count(),
        0,
        "nothing may be sent when a file fails to load"
    );
    let err = stderr(&out);
    assert!(err.contains("tests/fixtures/broken/typo.yaml:5:5"), "{err}");
    assert!(err.contains("did you mean `expect`?"), "{err}");
    assert!(
        err.contains("tests/fixtures/broken/undefined.yaml:4:43"),
        "{err}"
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("cli__load_errors", err);
    });
}

#[test]
fn lint_accepts_valid_files_and_rejects_broken_ones() {
    let ok = scimcheck(&["lint", "tests/fixtures/ok", "scenarios/entra"], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("all valid"));
    let bad = scimcheck(&["lint", "tests/fixtures/broken/typo.yaml"], &[]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unknown field `expct`"));
}

#[test]
fn the_token_can_come_from_the_environment_and_a_missing_token_is_bad_usage() {
    let missing = scimcheck(&["run", "--url", "http://127.0.0.1:9/scim/v2"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("no token"));
}

#[test]
fn an_unreachable_target_exits_3() {
    // Port 9 (discard) on loopback is closed on any sane test machine.
    let out = scimcheck(
        &[
            "run",
            "--url",
            "http://127.0.0.1:9/scim/v2",
            "--dialect",
            "default",
            "-q",
        ],
        &[("SCIMCHECK_TOKEN", "some-token-value")],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(!stdout(&out).contains("some-token-value"));
}

#[test]
fn list_shows_the_builtin_scenarios_and_their_check_ids() {
    let out = scimcheck(&["list"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("connection.users-probe"));
}

#[test]
fn list_logic_app_maps_the_25_logic_app_tests_and_names_the_gaps() {
    let out = scimcheck(&["list", "--logic-app"], &[]);
    assert_eq!(out.status.code(), Some(0));
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("cli__list_logic_app", stdout(&out));
    });
}

#[test]
fn assigned_adds_the_quarantine_risk_of_the_failures_for_that_many_users() {
    let mut lines = Vec::new();
    for (assigned, quirk) in [
        ("12000", None),
        ("12000", Some("rejects-capitalised-ops")),
        ("800", Some("rejects-capitalised-ops")),
        ("12000", Some("empty-filter-returns-404")),
        // Every PATCH answers 200 but stores nothing: drift Entra does not count.
        ("12000", Some("drops-patch-changes")),
    ] {
        let mut args = vec!["demo", "-q", "--dialect", "default", "--assigned", assigned];
        if let Some(q) = quirk {
            args.extend(["--quirk", q]);
        }
        let out = scimcheck(&args, &[]);
        let text = stdout(&out);
        let line = text
            .lines()
            .find(|l| l.starts_with("quarantine risk"))
            .unwrap_or_else(|| panic!("no quarantine line for {quirk:?}:\n{text}"));
        lines.push(format!("{quirk:?}: {line}"));
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("cli__quarantine_risk", lines.join("\n"));
    });
}

#[test]
fn responses_slower_than_slow_ms_are_counted_in_a_summary_line() {
    // The `slow=30` server sleeps 30 ms before every answer: all of them exceed 20 ms.
    let args = [
        "demo",
        "-q",
        "--only",
        "user-lifecycle",
        "--dialect",
        "default",
    ];
    let slow = scimcheck(
        &[&args[..], &["--quirk", "slow=30", "--slow-ms", "20"]].concat(),
        &[],
    );
    let text = stdout(&slow);
    let line = text
        .lines()
        .find(|l| l.starts_with("slow responses: "))
        .unwrap_or_else(|| panic!("no slow-responses line:\n{text}"));
    let (n, total) = (line.split(' ').nth(2), line.split(' ').nth(4));
    assert_eq!(n, total, "every response was slow: {line}");
    assert!(line.contains("took longer than 20 ms (p50 "), "{line}");
    assert!(line.contains(" ms, max "), "{line}");
    // Nothing is said when no response reaches the threshold.
    let fast = scimcheck(&[&args[..], &["--slow-ms", "60000"]].concat(), &[]);
    assert!(
        !stdout(&fast).contains("slow responses"),
        "{}",
        stdout(&fast)
    );
}

/// Provision on demand ignores the Tenant URL's `aadOptscim062020` (Microsoft Learn:
/// application-provisioning-config-problem-scim-compatibility): a server that only copes with the
/// compliant dialect passes cycles and fails on-demand provisioning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mode_on_demand_replays_one_user_and_one_group_in_the_default_dialect() {
    let server = common::server(&["rejects-capitalised-ops"]).await;
    let url = format!("{}/?aadOptscim062020", server.base_url());
    let run = |mode: &'static str, url: String| {
        blocking(move || {
            scimcheck(
                &["run", "--url", &url, "--token", TOKEN, "-q", "--mode", mode],
                &[],
            )
        })
    };
    let cycle = run("cycle", url.clone()).await;
    assert_eq!(cycle.status.code(), Some(0), "{}", stdout(&cycle));
    let on_demand = run("on-demand", url).await;
    let text = stdout(&on_demand);
    assert_eq!(on_demand.status.code(), Some(1), "{text}");
    assert!(names_failed(&text, "user.disable"), "{text}");
    for absent in ["user.page.", "user.manager.", "user.roles.", "discovery."] {
        assert!(
            !text.contains(absent),
            "on-demand runs no {absent} checks:\n{text}"
        );
    }
    assert_eq!(server.dump()["users"], serde_json::json!([]), "cleaned up");
    server.shutdown().await;
}

/// Issue 2's quirks, each with a check that must catch it (the full expected sets are in
/// tests/detection_matrix.rs; this proves the same through the binary).
const QUIRK_CATCHERS: &[(&str, &str)] = &[
    ("create-returns-200", "user.create"),
    ("no-duplicate-check", "user.create.duplicate"),
    ("case-sensitive-filter", "user.filter.different-case"),
    ("rejects-capitalised-ops", "user.update.replace"),
    ("rejects-string-booleans", "user.disable"),
    ("remove-member-wipes-group", "group.members.remove.verified"),
    ("ignores-excluded-attributes", "group.get.excluding-members"),
    ("empty-filter-returns-404", "connection.users-probe"),
    ("drops-patch-changes", "user.update.replace.verified"),
    ("disable-deletes-user", "user.disable.still-found"),
    ("non-scim-errors", "user.get.unknown-id"),
];

#[test]
fn each_quirk_makes_demo_exit_1_naming_the_check_that_caught_it() {
    for (quirk, check) in QUIRK_CATCHERS {
        let out = scimcheck(
            &["demo", "--dialect", "default", "-q", "--quirk", quirk],
            &[],
        );
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "--quirk {quirk}:\n{text}");
        assert!(
            names_failed(&text, check),
            "--quirk {quirk} should fail {check}:\n{text}"
        );
    }
}

/// Whether the summary lists `check` on a failure line, alone (`✗ id: why`) or in a group of
/// checks with one cause (`✗ 3 checks: why (a, id, b)`).
fn names_failed(text: &str, check: &str) -> bool {
    text.lines().any(|l| {
        l.contains('✗')
            && [":", ",", ")", " ["].iter().any(|end| {
                [" ", "(", ", "]
                    .iter()
                    .any(|start| l.contains(&format!("{start}{check}{end}")))
            })
    })
}

#[test]
fn a_media_type_only_the_validator_checks_warns_by_default_and_fails_with_strict_validator() {
    let out = scimcheck(
        &[
            "demo",
            "--dialect",
            "default",
            "-q",
            "--quirk",
            "json-content-type",
        ],
        &[],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("the SCIM Validator would flag"),
        "the validator verdict is reported on its own:\n{text}"
    );
    let strict = scimcheck(
        &[
            "demo",
            "--dialect",
            "default",
            "-q",
            "--quirk",
            "json-content-type",
            "--strict",
            "validator",
        ],
        &[],
    );
    let text = stdout(&strict);
    assert_eq!(strict.status.code(), Some(1), "{text}");
    assert!(names_failed(&text, "connection.users-probe"), "{text}");
}

/// Issue 11: one root cause reads as one. The reference server answering every request with
/// `application/json` is one finding, printed once in full; the whole default output (both
/// dialects) stays within 200 lines.
#[test]
fn one_media_type_root_cause_is_one_finding_in_under_200_lines() {
    let out = scimcheck(
        &["demo", "--quirk", "json-content-type", "--color", "never"],
        &[],
    );
    let text = stdout(&out);
    let lines = text.lines().count();
    assert!(lines <= 200, "{lines} lines:\n{text}");
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, filters => normalise()}, {
        insta::assert_snapshot!("cli__one_root_cause_json_content_type", text);
    });
}

/// A wrong Secret Token: Test Connection's diagnosis and one line for the rest, within 60 lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_one_diagnosis_in_under_60_lines() {
    let server = common::server(&[]).await;
    let url = server.base_url();
    let out = blocking(move || {
        scimcheck(
            &["run", "--url", &url, "--token", "wrong", "--color", "never"],
            &[],
        )
    })
    .await;
    let text = stdout(&out) + &stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let lines = text.lines().count();
    assert!(lines <= 60, "{lines} lines:\n{text}");
    assert!(
        !text.contains("REDACTED Tenant URL"),
        "own wording kept:\n{text}"
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, filters => normalise()}, {
        insta::assert_snapshot!("cli__one_root_cause_wrong_token", text);
    });
}

/// Options that would leave nothing to judge are usage errors, never a green "0 passed".
#[test]
fn a_plan_left_empty_by_an_option_is_exit_2_with_the_reason() {
    let out = scimcheck(&["demo", "--read-only", "--only", "user-lifecycle"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--read-only left no scenario to run"),
        "{out:?}"
    );
    let empty = tempfile::tempdir().unwrap();
    // Nothing is sent: the port is closed, and the answer comes before any request.
    let out = scimcheck(
        &[
            "run",
            "--url",
            "http://127.0.0.1:9/scim/v2",
            "--token",
            TOKEN,
            empty.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("hold no scenario file"),
        "{out:?}"
    );
}

/// A zero that would mean "never time out" or "no workers" is refused before anything is sent.
#[test]
fn zero_timeouts_jobs_and_concurrency_are_refused_with_the_allowed_range() {
    let url = "http://127.0.0.1:9";
    for (args, flag) in [
        (vec!["run", "--url", url, "--timeout", "0"], "--timeout"),
        (
            vec!["run", "--url", url, "--connect-timeout", "0"],
            "--connect-timeout",
        ),
        (vec!["run", "--url", url, "--jobs", "0"], "--jobs"),
        (
            vec!["load", "--url", url, "--concurrency", "0"],
            "--concurrency",
        ),
    ] {
        let out = scimcheck(&args, &[("SCIMCHECK_TOKEN", "t0k3n-zero")]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("invalid value '0' for '{flag}"))
                && err.contains("is not in 1..="),
            "{args:?}: {err}"
        );
    }
}

/// `load --embedded` uses the embedded server's own token: an OAuth client for another endpoint
/// is refused rather than silently unused.
#[test]
fn load_embedded_refuses_an_oauth_client_it_would_not_use() {
    let out = scimcheck(
        &[
            "load",
            "--embedded",
            "--oauth-token-url",
            "http://127.0.0.1:9/token",
            "--oauth-client-id",
            "c",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--embedded runs its own server"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_skip_that_matches_nothing_is_a_warning() {
    let out = scimcheck(
        &[
            "demo",
            "-q",
            "--only",
            "test-connection",
            "--skip",
            "no-such-thing",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--skip `no-such-thing` matches no scenario"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_entra_flag_in_the_tenant_url_is_a_warning() {
    let server = common::server(&[]).await;
    let url = format!("{}/?aadOptscim2020", server.base_url());
    let out = blocking(move || {
        scimcheck(
            &[
                "run",
                "--url",
                &url,
                "--token",
                TOKEN,
                "-q",
                "--only",
                "test-connection",
            ],
            &[],
        )
    })
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`aadOptscim2020`, which is not a flag Entra knows"),
        "{out:?}"
    );
    server.shutdown().await;
}

#[test]
fn run_rate_paces_without_changing_a_verdict_and_refuses_nonsense() {
    let fast = scimcheck(&["demo", "-q"], &[]);
    let paced = scimcheck(&["demo", "-q", "--rate", "2000"], &[]);
    assert_eq!(paced.status.code(), Some(0), "{}", stdout(&paced));
    let verdict = |o: &std::process::Output| {
        let s = stdout(o);
        s.lines()
            .find(|l| l.starts_with("PASSED"))
            .map(|l| l.split(" in ").next().unwrap_or_default().to_string())
    };
    assert_eq!(verdict(&paced), verdict(&fast));
    let zero = scimcheck(&["demo", "-q", "--rate", "0"], &[]);
    assert_eq!(zero.status.code(), Some(2));
    assert!(
        stderr(&zero).contains("out of range") || stderr(&zero).contains("not a rate"),
        "{}",
        stderr(&zero)
    );
}
