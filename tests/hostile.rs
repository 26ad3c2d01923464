//! Hostile and broken servers: redirects, huge and endless bodies, throttling, self-signed TLS,
//! malformed responses, and a token that must never show up in any output, whatever goes wrong.
//! Every misbehaviour becomes a check failure with a diagnosis, never a panic or a hang.

use crate::common;
use crate::rogue;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use common::{TOKEN, args, output_text as text, scimcheck_async as scimcheck};
use rogue::{Answer, Rogue, TlsFront, empty_list, head, response, scim};
use scimcheck::http::{ClientOptions, Secret, TenantUrl};
use scimcheck::run::Tenant;
use scimcheck::run::{CheckResult, Event, RunConfig, Runner, plan};
use scimcheck::scenario::template::Generators;
use scimcheck::scenario::{Dialect, load_str};
use serde_json::json;

/// One step: Entra's Test Connection users probe.
const PROBE: &str = r#"
id: probe
name: Users probe
description: The first request of Entra's Test Connection.
steps:
  - name: Users probe
    id: probe.users
    request: { method: GET, path: /Users, query: { filter: 'userName eq "{{ uuid }}"' } }
    expect: { status: 200, schema: ListResponse, body: { totalResults: 0 } }
"#;

/// A directory holding the probe scenario.
fn probe_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("probe.yaml"), PROBE).expect("write");
    dir
}

/// Runs the probe scenario with the binary against `url`, with extra flags.
async fn probe(url: &str, extra: &[&str]) -> Output {
    let dir = probe_dir();
    let mut a = args(&[
        "run",
        "--url",
        url,
        "--token",
        TOKEN,
        "--dialect",
        "default",
    ]);
    a.extend(args(extra));
    a.push(dir.path().display().to_string());
    let out = scimcheck(a).await;
    drop(dir);
    out
}

/// Runs `yaml` in-process against `url` with `options` and returns its check results.
async fn run_in_process(url: &str, yaml: &str, options: ClientOptions) -> Vec<CheckResult> {
    let generators = Arc::new(Generators::new(Generators::random_run_id()));
    let g = generators.clone();
    let client = Tenant::new(
        TenantUrl::parse(url).expect("url"),
        Secret::new(TOKEN),
        options,
        Arc::new(move |id: &str| g.minted(id)),
    )
    .expect("client")
    .with_run_prefix(generators.prefix());
    let runner = Runner::new(Arc::new(client), generators, RunConfig::default());
    let loaded = Arc::new(load_str("probe.yaml", yaml, false).expect("scenario loads"));
    let mut results = Vec::new();
    runner
        .run(&plan(&[loaded], &[Dialect::Default]), &mut |e| {
            if let Event::CheckFinished { result, .. } = e {
                results.push(result.clone());
            }
        })
        .await;
    results
}

fn ports() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"127\.0\.0\.1:\d+", "127.0.0.1:PORT"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "UUID",
        ),
        (r"scimcheck-[0-9a-f]{8}-", "scimcheck-RUNID-"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_reported_and_never_followed_so_no_other_origin_sees_the_token() {
    let elsewhere = Rogue::start(|_, _| Answer::Bytes(scim(200, &empty_list()))).await;
    let location = elsewhere.url("/scim/v2/Users");
    let redirecting = Rogue::start(move |_, _| {
        Answer::Bytes(response(307, &[("Location", location.as_str())], ""))
    })
    .await;
    let out = scimcheck(args(&[
        "run",
        "--url",
        &redirecting.url("/scim/v2"),
        "--token",
        TOKEN,
        "--dialect",
        "default",
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{out_text}");
    assert!(
        elsewhere.seen().is_empty(),
        "the other origin was contacted: {:?}",
        elsewhere.seen()
    );
    assert!(
        redirecting.seen().len() > 5,
        "the whole suite ran against the redirecting server"
    );
    let expected = format!(
        "expected status 200, got 307 (a redirect to {}; Entra does not follow redirects, so the Tenant URL must be the final address)",
        elsewhere.url("/scim/v2/Users")
    );
    assert!(out_text.contains(&expected), "{out_text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mib_response_is_cut_at_the_cap_and_the_check_fails_saying_so() {
    const FIFTY_MIB: u64 = 50 * 1024 * 1024;
    let huge = Rogue::start(|_, _| Answer::Flood {
        head: head(
            200,
            &[
                ("Content-Type", "application/scim+json"),
                ("Content-Length", &FIFTY_MIB.to_string()),
            ],
        ),
        total: FIFTY_MIB,
    })
    .await;
    let out = probe(&huge.url("/scim/v2"), &["-q"]).await;
    let out_text = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        &out_text[..out_text.len().min(4000)]
    );
    assert!(
        out_text.contains(
            "the response body exceeded the size cap (10485760 bytes read, scimcheck's limit; raise it with --max-body-mib N); the rest was not read"
        ),
        "{}",
        &out_text[..out_text.len().min(4000)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_in_seconds_is_waited_out_and_noted() {
    let throttling = Rogue::start(|_, n| {
        Answer::Bytes(if n == 0 {
            response(429, &[("Retry-After", "1")], "")
        } else {
            scim(200, &empty_list())
        })
    })
    .await;
    let out = probe(&throttling.url("/scim/v2"), &[]).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{out_text}");
    assert!(
        out_text.contains(
            "✓ probe.users  Users probe  the server asked to back off: 429 (waited 1.0 s)"
        ),
        "{out_text}"
    );
    assert_eq!(throttling.seen().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_with_retry_after_as_an_http_date_is_waited_out_and_noted() {
    let throttling = Rogue::start(|_, n| {
        Answer::Bytes(if n == 0 {
            let when = chrono::Utc::now() + chrono::Duration::seconds(2);
            let date = when.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            response(503, &[("Retry-After", date.as_str())], "")
        } else {
            scim(200, &empty_list())
        })
    })
    .await;
    let out = probe(&throttling.url("/scim/v2"), &[]).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{out_text}");
    assert!(
        out_text.contains("the server asked to back off: 503 (waited "),
        "{out_text}"
    );
    assert_eq!(throttling.seen().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_max_retries_0_a_429_fails_the_check() {
    let throttling = Rogue::start(|_, n| {
        Answer::Bytes(if n == 0 {
            response(429, &[("Retry-After", "1")], "")
        } else {
            scim(200, &empty_list())
        })
    })
    .await;
    let out = probe(&throttling.url("/scim/v2"), &["--max-retries", "0"]).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{out_text}");
    assert!(
        out_text.contains("expected status 200, got 429"),
        "{out_text}"
    );
    assert_eq!(throttling.seen().len(), 1, "nothing was retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_longer_than_max_retry_wait_is_not_waited_and_says_why() {
    let throttling =
        Rogue::start(|_, _| Answer::Bytes(response(429, &[("Retry-After", "3600")], ""))).await;
    let out = probe(&throttling.url("/scim/v2"), &[]).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{out_text}");
    assert!(
        out_text.contains("expected status 200, got 429"),
        "{out_text}"
    );
    assert!(
        out_text.contains(
            "the server asked to wait 3600 s, longer than --max-retry-wait (60 s): not retried"
        ),
        "{out_text}"
    );
    assert_eq!(throttling.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_tls_server_is_refused_by_default_with_exit_3() {
    let server = common::server(&[]).await;
    let tls = TlsFront::start(server.addr()).await;
    let out = probe(&tls.url("/scim/v2"), &[]).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(3), "{out_text}");
    assert!(
        out_text.contains("no response: TLS handshake failed: the certificate is not signed by a trusted authority (self-signed, or a private CA): pass the issuing certificate with --ca-cert FILE, or use --insecure (invalid peer certificate: UnknownIssuer)"),
        "{out_text}"
    );
    assert_eq!(server.request_count(), 0, "no request got through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_ca_certificate_used_as_the_server_certificate_is_explained() {
    let server = common::server(&[]).await;
    let tls = TlsFront::start_as_ca(server.addr()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &tls.cert_pem).expect("write cert");
    let out = probe(
        &tls.url("/scim/v2"),
        &["--ca-cert", &ca.display().to_string()],
    )
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(3), "{out_text}");
    assert!(
        out_text.contains("the server presents a CA certificate as its own (as `openssl req -x509` makes by default), which is refused even with --ca-cert"),
        "{out_text}"
    );
    assert_eq!(server.request_count(), 0, "no request got through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_tls_server_is_trusted_with_ca_cert() {
    let server = common::server(&[]).await;
    let tls = TlsFront::start(server.addr()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &tls.cert_pem).expect("write cert");
    let out = scimcheck(args(&[
        "run",
        "--url",
        &tls.url("/scim/v2"),
        "--token",
        TOKEN,
        "--dialect",
        "both",
        "-q",
        "--ca-cert",
        &ca.display().to_string(),
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{out_text}");
    assert!(!out_text.contains("--insecure"), "{out_text}");
    assert!(server.request_count() > 50, "the whole suite ran over TLS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_accepts_any_certificate_and_says_so_loudly_in_the_output_and_reports() {
    let server = common::server(&[]).await;
    let tls = TlsFront::start(server.addr()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let json_report = dir.path().join("report.json");
    let markdown = dir.path().join("report.md");
    let out = probe(
        &tls.url("/scim/v2"),
        &[
            "--insecure",
            "--report",
            &format!("json={}", json_report.display()),
            "--report",
            &format!("markdown={}", markdown.display()),
        ],
    )
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{out_text}");
    assert!(
        out_text.contains("WARNING: TLS certificate verification is OFF (--insecure)"),
        "{out_text}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_report).expect("json report"))
            .expect("json");
    assert_eq!(
        find_key(&report, "insecure"),
        Some(&json!(true)),
        "{report}"
    );
    let md = std::fs::read_to_string(&markdown).expect("markdown report");
    assert!(
        md.contains("TLS certificate verification was off (`--insecure`)"),
        "{md}"
    );
}

/// The first value under `key` anywhere in `v`.
fn find_key<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    match v {
        serde_json::Value::Object(o) => o
            .get(key)
            .or_else(|| o.values().find_map(|x| find_key(x, key))),
        serde_json::Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

/// Every kind of broken answer, and what the check says about it.
fn malformed() -> Vec<(&'static str, Answer)> {
    let scim_type = ("Content-Type", "application/scim+json");
    let list = empty_list().to_string();
    vec![
        (
            "invalid JSON",
            Answer::Bytes(response(200, &[scim_type], r#"{"schemas": ["#)),
        ),
        (
            "wrong content type",
            Answer::Bytes(response(200, &[("Content-Type", "text/plain")], &list)),
        ),
        (
            "truncated body (the server closes mid-body)",
            Answer::Bytes({
                let mut r = head(200, &[scim_type, ("Content-Length", "500")]);
                r.extend_from_slice(br#"{"schemas": ["urn:ietf:params:scim:api:mess"#);
                r
            }),
        ),
        (
            "invalid UTF-8",
            Answer::Bytes(response(200, &[scim_type], b"{\"detail\": \"caf\xe9\"}")),
        ),
        (
            "a 200 with an HTML login page",
            Answer::Bytes(response(
                200,
                &[("Content-Type", "text/html; charset=utf-8")],
                "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>Password: <input type=password></form></body></html>",
            )),
        ),
        (
            "gzip that does not decode",
            Answer::Bytes(response(
                200,
                &[scim_type, ("Content-Encoding", "gzip")],
                "this is not gzip at all",
            )),
        ),
        (
            "an empty 200",
            Answer::Bytes(response(200, &[scim_type], "")),
        ),
        (
            "a JSON array instead of a ListResponse",
            Answer::Bytes(response(200, &[scim_type], "[1, 2, 3]")),
        ),
        (
            "not HTTP at all",
            Answer::Bytes(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec()),
        ),
        (
            "the connection closes without an answer",
            Answer::Bytes(Vec::new()),
        ),
        (
            "headers, then silence",
            Answer::Hang(head(200, &[scim_type, ("Content-Length", "100")])),
        ),
        (
            "a body that never ends, slowly",
            Answer::Drip {
                head: head(200, &[scim_type, ("Transfer-Encoding", "chunked")]),
                chunk: b"1\r\n \r\n".to_vec(),
                every: Duration::from_millis(100),
            },
        ),
        (
            "a body that never ends, fast",
            Answer::Flood {
                head: head(200, &[scim_type]),
                total: u64::MAX,
            },
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_responses_become_check_failures_with_a_diagnosis() {
    let cases = malformed();
    // All cases at once, each against its own server. Only the cases that stall need the short
    // timeout; the others get a long one, so a busy machine cannot turn them into timeouts.
    let options = |name: &str| ClientOptions {
        timeout: Duration::from_secs(if name.contains("never ends") || name.contains("silence") {
            2
        } else {
            60
        }),
        max_body: 1024 * 1024,
        ..ClientOptions::default()
    };
    let mut servers = Vec::new();
    for (name, answer) in cases {
        let answer = Arc::new(std::sync::Mutex::new(Some(answer)));
        let server = Rogue::start(move |_, _| {
            answer
                .lock()
                .expect("lock")
                .take()
                .unwrap_or_else(|| Answer::Bytes(response(500, &[], "asked twice")))
        })
        .await;
        servers.push((name, server));
    }
    let runs = servers.iter().map(|(name, server)| {
        let options = options(name);
        async move {
            let results = run_in_process(&server.url("/scim/v2"), PROBE, options).await;
            (*name, results)
        }
    });
    let mut report = String::new();
    for (name, results) in futures_util::future::join_all(runs).await {
        let check = &results[0];
        assert_eq!(
            check.outcome,
            scimcheck::run::Outcome::Fail,
            "{name}: {check:?}"
        );
        report.push_str(&format!("{name}:\n"));
        for f in &check.findings {
            report.push_str(&format!("  {}: {}\n", f.kind, f.message));
        }
    }
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, filters => ports()}, {
        insta::assert_snapshot!("hostile__malformed_responses", report);
    });
}

/// The token every leak test uses: distinctive, so any occurrence is a leak.
const SECRET: &str = "tok-9f8e7d6c5b4a-DO-NOT-LEAK";

/// Runs the binary with the secret from `--token`, `--token-file` or the environment, `-vv`,
/// and every report format, and returns everything it wrote anywhere.
async fn everything_written(
    url: &str,
    source: &str,
    scenario_dir: Option<&Path>,
) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{SECRET}\n")).expect("write");
    let mut a = args(&[
        "run",
        "--url",
        url,
        "--dialect",
        "both",
        "-vv",
        "--timeout",
        "3",
    ]);
    let mut env: Vec<(String, String)> = vec![];
    match source {
        "flag" => a.extend(args(&["--token", SECRET])),
        "file" => a.extend(args(&["--token-file", &token_file.display().to_string()])),
        _ => env.push(("SCIMCHECK_TOKEN".into(), SECRET.into())),
    }
    for format in ["json", "junit", "markdown", "har"] {
        a.push("--report".into());
        a.push(format!(
            "{format}={}",
            dir.path().join(format!("report.{format}")).display()
        ));
    }
    if let Some(d) = scenario_dir {
        a.push(d.display().to_string());
    }
    let out = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        common::scimcheck(&a, &env)
    })
    .await
    .expect("blocking task");
    let mut all = text(&out);
    for entry in std::fs::read_dir(dir.path()).expect("read dir") {
        let path = entry.expect("entry").path();
        if path != token_file {
            all.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    (out.status.code(), all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_absent_from_every_output_on_every_error_path() {
    // A server that echoes the credentials it receives everywhere it can: body, headers,
    // cookies, a redirect URL.
    let echo = Rogue::start(|seen, n| {
        let auth = seen.header("authorization").unwrap_or_default().to_string();
        let token = auth.trim_start_matches("Bearer ").to_string();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "401", "detail": format!("token {token} is not valid; you sent {auth}")});
        Answer::Bytes(match n % 3 {
            0 => response(
                401,
                &[
                    ("Content-Type", "application/scim+json"),
                    ("WWW-Authenticate", &format!("Bearer error=\"invalid_token\", token=\"{token}\"")),
                    ("X-Echo", &auth),
                    ("Set-Cookie", &format!("session={token}")),
                ],
                body.to_string(),
            ),
            1 => response(
                307,
                &[("Location", &format!("http://127.0.0.1:9/login?token={token}"))],
                format!("<html>redirecting {token}</html>"),
            ),
            _ => response(200, &[("Content-Type", "text/html")], format!("<html><body>Sign in. Your token {token}")),
        })
    })
    .await;
    let wrong_token = common::server(&[]).await;
    let slow = common::server(&["slow=5000"]).await;
    let tls = TlsFront::start(wrong_token.addr()).await;
    // The first answer is over the cap; the rest are plain 401s (the terminal prints bodies).
    let huge = Rogue::start(|seen, n| {
        let auth = seen.header("authorization").unwrap_or_default().to_string();
        if n > 0 {
            return Answer::Bytes(response(401, &[], ""));
        }
        Answer::Flood {
            head: head(
                200,
                &[("Content-Type", "application/scim+json"), ("X-Auth", &auth)],
            ),
            total: 11 * 1024 * 1024,
        }
    })
    .await;
    let broken = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        broken.path().join("pasted.yaml"),
        format!(
            "id: pasted\nname: A token pasted into a scenario\ndescription: d\nsteps:\n  - name: Probe\n    request: {{ method: GET, path: /Users, headers: {{ Authorization: \"Bearer {SECRET}\" }}, bodyy: 1 }}\n"
        ),
    )
    .expect("write");
    let url_with_token = format!("{}?token={SECRET}", echo.url("/scim/v2"));
    let targets: Vec<(&str, String, &str, Option<&Path>)> = vec![
        ("echoing server", echo.url("/scim/v2"), "flag", None),
        (
            "echoing server, token from a file",
            echo.url("/scim/v2"),
            "file",
            None,
        ),
        (
            "echoing server, token from the environment",
            echo.url("/scim/v2"),
            "env",
            None,
        ),
        ("wrong token (401)", wrong_token.base_url(), "flag", None),
        (
            "unreachable target",
            "http://127.0.0.1:9/scim/v2".into(),
            "flag",
            None,
        ),
        (
            "unresolvable host",
            "http://scimcheck-no-such-host.invalid/scim/v2".into(),
            "flag",
            None,
        ),
        ("TLS error", tls.url("/scim/v2"), "flag", None),
        ("timeouts", slow.base_url(), "flag", None),
        ("body over the cap", huge.url("/scim/v2"), "env", None),
        ("token in the Tenant URL", url_with_token, "flag", None),
        (
            "broken scenario file",
            wrong_token.base_url(),
            "flag",
            Some(broken.path()),
        ),
    ];
    let runs = targets.iter().map(|(name, url, source, dir)| async move {
        let (code, all) = everything_written(url, source, *dir).await;
        (*name, code, all)
    });
    let mut saw_redacted_header = false;
    for (name, code, all) in futures_util::future::join_all(runs).await {
        assert!(
            code.is_some() && code != Some(101),
            "{name}: exit {code:?}\n{all}"
        );
        assert!(!all.contains(SECRET), "{name}: the token leaked:\n{all}");
        assert!(
            !all.contains("DO-NOT-LEAK"),
            "{name}: part of the token leaked:\n{all}"
        );
        saw_redacted_header |= all.contains("Authorization: Bearer REDACTED");
    }
    assert!(
        saw_redacted_header,
        "-vv shows the Authorization header, redacted"
    );
}

/// Runs the probe with extra environment variables (a clean proxy environment otherwise).
async fn probe_with_env(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = probe_dir();
    let mut a = args(&[
        "run",
        "--url",
        url,
        "--token",
        TOKEN,
        "--dialect",
        "default",
    ]);
    a.extend(args(extra));
    a.push(dir.path().display().to_string());
    let mut env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    for k in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ] {
        if !env.iter().any(|(e, _)| e == k) {
            env.push((k.to_string(), String::new()));
        }
    }
    let out = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        common::scimcheck(&a, &env)
    })
    .await
    .expect("blocking task");
    drop(dir);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_proxy_given_with_proxy_or_the_environment_unless_no_proxy() {
    let server = common::server(&[]).await;
    let url = server.base_url();
    let absolute = format!("GET {url}/Users?filter=");

    let proxy = Rogue::proxy(server.addr()).await;
    let out = probe_with_env(&url, &["--proxy", &proxy.url("")], &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let seen: Vec<String> = proxy.seen().iter().map(|s| s.line()).collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with(&absolute),
        "a proxy request names the whole URL: {seen:?}"
    );

    let proxy = Rogue::proxy(server.addr()).await;
    let out = probe_with_env(&url, &[], &[("HTTP_PROXY", &proxy.url(""))]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(proxy.seen().len(), 1, "HTTP_PROXY is honoured");

    let proxy = Rogue::proxy(server.addr()).await;
    let out = probe_with_env(
        &url,
        &[],
        &[("HTTP_PROXY", &proxy.url("")), ("NO_PROXY", "127.0.0.1")],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(proxy.seen().is_empty(), "NO_PROXY bypasses the proxy");
}

/// A custom extension published at /Schemas is validated like the RFC's own schemas.
const CUSTOM_EXT: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

fn custom_extension_server(
    badge_value: serde_json::Value,
) -> impl Fn(&rogue::Seen, usize) -> Answer {
    move |seen, _| {
        Answer::Bytes(if seen.target.contains("/Schemas") {
            scim(
                200,
                &serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": 1, "startIndex": 1, "itemsPerPage": 1,
                    "Resources": [{
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
                        "id": CUSTOM_EXT, "name": "AcmeUser", "description": "Acme",
                        "attributes": [{"name": "badgeNumber", "type": "integer", "multiValued": false,
                            "description": "badge", "required": false, "caseExact": false,
                            "mutability": "readWrite", "returned": "default", "uniqueness": "none"}]
                    }]
                }),
            )
        } else {
            scim(
                200,
                &serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", CUSTOM_EXT],
                    "id": "u1", "userName": "someone",
                    "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z"},
                    CUSTOM_EXT: {"badgeNumber": badge_value.clone()}
                }),
            )
        })
    }
}

const CUSTOM_SCENARIO: &str = r#"
id: custom-ext
name: Custom extension
tags: [discovery]
steps:
  - name: Read a user
    id: custom.read
    request: { method: GET, path: /Users/u1 }
    expect: { status: 200, schema: User }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_extension_published_at_schemas_is_validated_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("custom.yaml"), CUSTOM_SCENARIO).unwrap();
    let path = dir.path().display().to_string();

    let good = Rogue::start(custom_extension_server(serde_json::json!(42))).await;
    let out = scimcheck(args(&[
        "run",
        "--url",
        &good.url("/scim/v2"),
        "--token",
        TOKEN,
        &path,
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let bad = Rogue::start(custom_extension_server(serde_json::json!("forty-two"))).await;
    let out = scimcheck(args(&[
        "run",
        "--url",
        &bad.url("/scim/v2"),
        "--token",
        TOKEN,
        &path,
    ]))
    .await;
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("badgeNumber"),
        "the violation names the custom attribute: {t}"
    );
}

/// Server text meant to take over a terminal: clear the screen, recolour, ring, C1 CSI, and a
/// right-to-left override.
const TAKEOVER: &str = "\u{1b}[2J\u{1b}[31mPASSED\u{7}\u{9b}1A\u{202e}";

/// Whether `text` holds anything a terminal would act on.
fn raw_escapes(text: &str) -> bool {
    text.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}'])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_discover_and_profiles_init_show_server_text_as_visible_escapes() {
    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    let rogue = Rogue::start(|seen, _| {
        if seen.target.contains("/Schemas") {
            let schema = json!({
                "id": USER, "name": TAKEOVER,
                "attributes": [
                    {"name": "userName", "type": "string", "uniqueness": "server"},
                    {"name": format!("x{TAKEOVER}"), "type": "string"},
                ],
            });
            Answer::Bytes(scim(
                200,
                &json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                    "totalResults": 1, "Resources": [schema],
                }),
            ))
        } else if seen.target.contains("/ResourceTypes") || seen.target.contains("/ServiceProvider")
        {
            Answer::Bytes(scim(
                200,
                &json!({"id": TAKEOVER, "name": TAKEOVER, "endpoint": TAKEOVER}),
            ))
        } else {
            Answer::Bytes(scim(
                400,
                &json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": "400", "detail": format!("bad {TAKEOVER}"),
                }),
            ))
        }
    })
    .await;
    let url = rogue.url("/scim");
    for command in [
        vec!["connect"],
        vec!["connect", "--json"],
        vec!["discover"],
        vec!["discover", "--json"],
        vec!["profiles", "init", "--from-schemas"],
    ] {
        let mut a = command.clone();
        a.extend(["--url", &url, "--token", TOKEN]);
        let out = scimcheck(args(&a)).await;
        let out_text = text(&out);
        assert!(
            !raw_escapes(&out_text),
            "{command:?}: raw escapes reached the terminal:\n{out_text:?}"
        );
        let shown = if command.contains(&"--json") {
            "\\u001b[2J"
        } else if command[0] == "profiles" {
            "\\u{1b}[2J"
        } else {
            "\\x1b[2J"
        };
        assert!(out_text.contains(shown), "{command:?}: {out_text}");
    }
}
