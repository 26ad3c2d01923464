//! OAuth2 client credentials, as Entra uses them: the run gets its access tokens from a token
//! endpoint (form body, the client id and secret in `Authorization: Basic`) and refreshes them
//! when they expire; `connect` diagnoses every way a token endpoint fails Entra; the flags are
//! validated before anything is sent.

use crate::common;
use crate::rogue;

use std::time::Duration;

use common::output_text as text;
use rogue::{Answer, Rogue};
use scimcheck::server::{Quirk, Server, ServerOptions};
use serde_json::Value;

const CLIENT_ID: &str = "entra-provisioning";
const CLIENT_SECRET: &str = "client-secret-5f2b9c1d7e";

/// A reference server whose SCIM endpoints accept only the access tokens its token endpoint
/// issues to [`CLIENT_ID`].
async fn oauth_server(quirks: &[&str], ttl: Duration) -> Server {
    let quirks: Vec<Quirk> = quirks.iter().map(|q| q.parse().expect("quirk")).collect();
    Server::start(ServerOptions {
        token: format!("static-{}", uuid::Uuid::new_v4().simple()),
        quirks,
        oauth_client: Some((CLIENT_ID.into(), CLIENT_SECRET.into())),
        oauth_token_ttl: ttl,
        ..ServerOptions::default()
    })
    .await
    .expect("server starts")
}

const HOUR: Duration = Duration::from_secs(3600);

/// The binary with the client secret in `SCIMCHECK_CLIENT_SECRET`: exit code and all output.
async fn scimcheck(args: Vec<String>, secret: Option<&str>) -> (i32, String) {
    let secret = secret.map(str::to_string);
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = secret
            .as_deref()
            .map(|s| vec![("SCIMCHECK_CLIENT_SECRET", s)])
            .unwrap_or_default();
        common::scimcheck(&args, &env)
    })
    .await
    .expect("binary ran");
    let all = text(&out);
    assert!(!all.contains("panicked"), "{all}");
    (out.status.code().unwrap_or(-1), all)
}

/// `COMMAND --url BASE --oauth-token-url ... --oauth-client-id ... EXTRA`.
fn oauth_args(command: &[&str], server: &Server, extra: &[&str]) -> Vec<String> {
    let mut a = common::args(command);
    a.extend(common::args(&[
        "--url",
        &server.base_url(),
        "--oauth-token-url",
        &server.token_url().expect("oauth server"),
        "--oauth-client-id",
        CLIENT_ID,
    ]));
    a.extend(common::args(extra));
    a
}

/// Several GETs in a row: with a slow server the run outlives a short-lived token.
const SLOW_PROBES: &str = r#"
id: probes
name: Probes
description: The same list request, several times, one after the other (each uses the previous one's capture, so none is sent ahead of its turn).
steps:
  - { name: One, id: probes.1, request: { method: GET, path: /Users, query: { filter: 'userName eq "x"' } }, expect: { status: 200 }, capture: { n1: /totalResults } }
  - { name: Two, id: probes.2, request: { method: GET, path: /Users, query: { filter: 'userName eq "x{{ n1 }}"' } }, expect: { status: 200 }, capture: { n2: /totalResults } }
  - { name: Three, id: probes.3, request: { method: GET, path: /Users, query: { filter: 'userName eq "x{{ n2 }}"' } }, expect: { status: 200 }, capture: { n3: /totalResults } }
  - { name: Four, id: probes.4, request: { method: GET, path: /Users, query: { filter: 'userName eq "x{{ n3 }}"' } }, expect: { status: 200 }, capture: { n4: /totalResults } }
  - { name: Five, id: probes.5, request: { method: GET, path: /Users, query: { filter: 'userName eq "x{{ n4 }}"' } }, expect: { status: 200 }, capture: { n5: /totalResults } }
  - { name: Six, id: probes.6, request: { method: GET, path: /Users, query: { filter: 'userName eq "x{{ n5 }}"' } }, expect: { status: 200 }, capture: { n6: /totalResults } }
  - { name: Seven, id: probes.7, request: { method: GET, path: /Users, query: { filter: 'userName eq "x{{ n6 }}"' } }, expect: { status: 200 }, capture: { n7: /totalResults } }
  - { name: Eight, id: probes.8, request: { method: GET, path: /Users, query: { filter: 'userName eq "x{{ n7 }}"' } }, expect: { status: 200 }, capture: { n8: /totalResults } }
"#;

// ---------------------------------------------------------------------------------------------
// Running over OAuth.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_suite_runs_over_oauth_with_the_secret_from_the_environment() {
    let server = oauth_server(&[], HOUR).await;
    let (code, all) = scimcheck(oauth_args(&["run"], &server, &["-q"]), Some(CLIENT_SECRET)).await;
    assert_eq!(code, 0, "{all}");
    assert!(all.contains("PASSED"), "{all}");
    assert!(
        all.contains("1 access token issued, no refresh needed"),
        "{all}"
    );
    // connect's Test Connection gate asks for one token too.
    assert_eq!(server.issued_tokens(), 2);
    common::assert_no_test_data_left(&server, "oauth run");
    assert!(!all.contains(CLIENT_SECRET), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expires_mid_run_is_refreshed_before_expires_in_runs_out() {
    // Tokens live 2 s and say so; eight requests of 400 ms each take longer than that.
    let server = oauth_server(&["oauth-short-lived-tokens", "slow=400"], HOUR).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("probes.yaml"), SLOW_PROBES).unwrap();
    let file = dir.path().join("probes.yaml").display().to_string();
    let (code, all) = scimcheck(oauth_args(&["run"], &server, &[&file]), Some(CLIENT_SECRET)).await;
    assert_eq!(code, 0, "{all}");
    assert!(all.contains("8 passed, 0 failed"), "{all}");
    assert!(server.issued_tokens() >= 2, "{all}");
    assert!(all.contains("access tokens issued ("), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_with_401_after_it_worked_is_replaced_once_and_the_request_resent() {
    // Tokens stop working after 1 s although expires_in says an hour: only the 401 tells.
    let server = oauth_server(&["oauth-tokens-die-early", "slow=400"], HOUR).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("probes.yaml"), SLOW_PROBES).unwrap();
    let file = dir.path().join("probes.yaml").display().to_string();
    let (code, all) = scimcheck(oauth_args(&["run"], &server, &[&file]), Some(CLIENT_SECRET)).await;
    assert_eq!(code, 0, "{all}");
    assert!(all.contains("8 passed, 0 failed"), "{all}");
    assert!(server.issued_tokens() >= 3, "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_never_accepted_is_not_refreshed_in_a_loop() {
    // A server that takes no access token at all (static token only): the 401 stands, and
    // the run asks for no more tokens than Test Connection and the first request needed.
    let server = Server::start(ServerOptions {
        token: common::TOKEN.into(),
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let idp = oauth_server(&[], HOUR).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("probes.yaml"), SLOW_PROBES).unwrap();
    let file = dir.path().join("probes.yaml").display().to_string();
    let args = common::args(&[
        "run",
        "--url",
        &server.base_url(),
        "--oauth-token-url",
        &idp.token_url().unwrap(),
        "--oauth-client-id",
        CLIENT_ID,
        &file,
    ]);
    let (code, all) = scimcheck(args, Some(CLIENT_SECRET)).await;
    assert_eq!(code, 1, "{all}");
    assert!(all.contains("401"), "{all}");
    assert_eq!(idp.issued_tokens(), 1, "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_discover_load_and_profiles_init_work_over_oauth() {
    let server = oauth_server(&[], HOUR).await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{CLIENT_SECRET}\n")).unwrap();
    let file = secret_file.display().to_string();
    let with_file = ["--oauth-client-secret-file", file.as_str()];
    let (code, all) = scimcheck(oauth_args(&["connect"], &server, &with_file), None).await;
    // http:// fails the verdict (a warning that blocks), nothing else does.
    assert_eq!(code, 1, "{all}");
    assert!(all.contains("✓ an access token, as Entra needs"), "{all}");
    assert!(!all.contains("oauth."), "{all}");
    let (code, all) = scimcheck(oauth_args(&["discover"], &server, &with_file), None).await;
    assert_eq!(code, 0, "{all}");
    let mut load = with_file.to_vec();
    load.extend([
        "-n",
        "5",
        "--groups",
        "1",
        "--members",
        "2",
        "--rate",
        "max",
    ]);
    let (code, all) = scimcheck(oauth_args(&["load"], &server, &load), None).await;
    assert_eq!(code, 0, "{all}");
    let mut init = with_file.to_vec();
    init.push("--from-schemas");
    let (code, all) = scimcheck(oauth_args(&["profiles", "init"], &server, &init), None).await;
    assert_eq!(code, 0, "{all}");
    assert!(all.contains("attributes:") || all.contains("app:"), "{all}");
    common::assert_no_test_data_left(&server, "load over oauth");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_end_to_end_over_oauth() {
    let (code, all) = scimcheck(common::args(&["demo", "--oauth", "-q"]), None).await;
    assert_eq!(code, 0, "{all}");
    assert!(
        all.contains("OAuth2 client credentials (http://127.0.0.1:"),
        "{all}"
    );
    let (code, all) = scimcheck(
        common::args(&[
            "demo",
            "--oauth",
            "--color",
            "never",
            "--quirk",
            "oauth-credentials-in-body-only",
        ]),
        None,
    )
    .await;
    assert_eq!(code, 1, "{all}");
    assert!(
        all.contains("Supported CredentialLocationInRequest is required"),
        "{all}"
    );
}

// ---------------------------------------------------------------------------------------------
// Flags.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_or_missing_oauth_flags_are_usage_errors_with_exit_2() {
    let url = "http://127.0.0.1:9/scim/v2";
    let token_url = "http://127.0.0.1:9/oauth2/token";
    let cases: Vec<(Vec<&str>, Option<&str>, &str)> = vec![
        (
            vec![
                "--oauth-token-url",
                token_url,
                "--oauth-client-id",
                "x",
                "--token",
                "t",
            ],
            Some("s"),
            "both a Secret Token (--token (or SCIMCHECK_TOKEN)) and OAuth2 client credentials",
        ),
        (
            vec!["--oauth-client-id", "x"],
            Some("s"),
            "OAuth2 client credentials need the Token Endpoint: --oauth-token-url URL",
        ),
        (
            vec!["--oauth-token-url", token_url],
            Some("s"),
            "OAuth2 client credentials need the Client Identifier: --oauth-client-id ID",
        ),
        (
            vec!["--oauth-token-url", token_url, "--oauth-client-id", "x"],
            None,
            "need the Client Secret: set SCIMCHECK_CLIENT_SECRET or use --oauth-client-secret-file FILE",
        ),
        (
            vec![
                "--oauth-token-url",
                token_url,
                "--oauth-client-id",
                "x",
                "--oauth-client-secret",
                "plain",
            ],
            None,
            "--oauth-client-secret is not accepted: a secret on the command line ends up in shell history",
        ),
        (
            vec![
                "--oauth-token-url",
                "ftp://idp/token",
                "--oauth-client-id",
                "x",
            ],
            Some("s"),
            "--oauth-token-url must be an http(s) URL",
        ),
        (
            vec![
                "--oauth-token-url",
                token_url,
                "--oauth-client-id",
                "x",
                "--oauth-client-secret-file",
                "/nonexistent/secret",
            ],
            Some("s"),
            "the client secret is given twice",
        ),
        (
            vec!["--oauth-token-url", token_url, "--oauth-client-id", "x"],
            Some("line one\nline two"),
            "SCIMCHECK_CLIENT_SECRET contains a line break",
        ),
    ];
    for command in ["run", "connect", "discover"] {
        for (flags, secret, message) in &cases {
            let mut a = common::args(&[command, "--url", url]);
            a.extend(common::args(flags));
            let (code, all) = scimcheck(a, *secret).await;
            assert_eq!(code, 2, "{command} {flags:?}: {all}");
            assert!(all.contains(message), "{command} {flags:?}: {all}");
            assert!(!all.contains("plain"), "{all}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// connect: the token endpoint.

macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            filters => vec![
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
                (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[UUID]"),
                (r"\b\d+(\.\d+)? m?s\b", "[TIME]"),
            ],
        }, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

/// `connect` against the reference server with these quirks: exit code, human output, JSON.
async fn connect(quirks: &[&str]) -> (i32, String, Value) {
    let server = oauth_server(quirks, HOUR).await;
    let (code, human) = scimcheck(
        oauth_args(&["connect"], &server, &["--color", "never"]),
        Some(CLIENT_SECRET),
    )
    .await;
    let (json_code, json) = scimcheck(
        oauth_args(&["connect"], &server, &["--json"]),
        Some(CLIENT_SECRET),
    )
    .await;
    assert_eq!(code, json_code);
    let report: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert!(!human.contains(CLIENT_SECRET) && !json.contains(CLIENT_SECRET));
    (code, human, report)
}

fn codes(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .filter(|c| *c != "url.not-https")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_asks_the_token_endpoint_first_and_goes_on_with_the_token() {
    let (code, text, report) = connect(&[]).await;
    assert_eq!(code, 1, "only http:// fails it: {text}");
    assert_eq!(codes(&report), Vec::<&str>::new(), "{text}");
    assert_eq!(report["probes"][0]["stage"], "token-endpoint");
    assert_eq!(report["probes"][0]["method"], "POST");
    assert_eq!(report["oauth"]["expires_in_secs"], 3600);
    assert_eq!(report["probes"][1]["stage"], "test-connection");
    assert_eq!(report["probes"][1]["status"], 200);
    snapshot!("connect_oauth_pass", text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_reading_only_the_body_is_told_apart_with_entras_message() {
    let (code, text, report) = connect(&["oauth-credentials-in-body-only"]).await;
    assert_eq!(code, 1);
    assert_eq!(
        codes(&report),
        vec!["oauth.credentials-in-body-only"],
        "{text}"
    );
    assert_eq!(
        report["verdict"]["entra"]["code"],
        "CredentialValidationUnavailable"
    );
    // The Test Connection probes went on with the token the body request got.
    assert_eq!(report["probes"][2]["status"], 200, "{text}");
    snapshot!("connect_oauth_credentials_in_body_only", text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_refusing_a_form_body_is_named() {
    let (code, text, report) = connect(&["oauth-rejects-form"]).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["oauth.form-rejected"], "{text}");
    assert_eq!(
        report["probes"].as_array().unwrap().len(),
        1,
        "nothing more is sent"
    );
    snapshot!("connect_oauth_form_rejected", text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_an_access_token_is_named() {
    let (code, text, report) = connect(&["oauth-no-access-token"]).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["oauth.no-access-token"], "{text}");
    snapshot!("connect_oauth_no_access_token", text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lifetime_outside_microsofts_window_is_a_warning_only() {
    for (quirk, snap) in [
        (
            "oauth-expires-in-out-of-window",
            "connect_oauth_expires_in_long",
        ),
        ("oauth-short-lived-tokens", "connect_oauth_expires_in_short"),
    ] {
        let (code, text, report) = connect(&[quirk]).await;
        assert_eq!(codes(&report), vec!["oauth.expires-in-window"], "{text}");
        let f = &report["findings"].as_array().unwrap()[0];
        let f = if f["code"] == "oauth.expires-in-window" {
            f
        } else {
            &report["findings"][1]
        };
        assert_eq!(f["severity"], "warning");
        assert_eq!(f["blocks_test_connection"], false);
        assert_eq!(code, 1, "only http:// fails it: {text}");
        snapshot!(snap, text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_secret_is_refused_credentials() {
    let server = oauth_server(&[], HOUR).await;
    let (code, text) = scimcheck(
        oauth_args(&["connect"], &server, &["--color", "never"]),
        Some("wrong-secret-1234"),
    )
    .await;
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("oauth.client-rejected"), "{text}");
    assert!(
        text.contains("You appear to have entered invalid credentials"),
        "{text}"
    );
    assert!(!text.contains("wrong-secret-1234"), "{text}");
    snapshot!("connect_oauth_client_rejected", text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_token_endpoint_is_exit_3() {
    let server = oauth_server(&[], HOUR).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let args = common::args(&[
        "connect",
        "--url",
        &server.base_url(),
        "--oauth-token-url",
        &format!("http://127.0.0.1:{port}/oauth2/token"),
        "--oauth-client-id",
        CLIENT_ID,
        "--color",
        "never",
    ]);
    let (code, text) = scimcheck(args, Some(CLIENT_SECRET)).await;
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("oauth.unreachable"), "{text}");
    snapshot!("connect_oauth_unreachable", text);
}

/// A token endpoint answering every request with these bytes.
async fn token_endpoint(status: u16, content_type: &'static str, body: &'static str) -> Rogue {
    Rogue::start(move |_, _| {
        Answer::Bytes(rogue::response(
            status,
            &[("Content-Type", content_type)],
            body,
        ))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_2xx_shows_the_oauth_error_escaped_and_redacted_and_html_is_not_json() {
    let server = oauth_server(&[], HOUR).await;
    let failing = token_endpoint(
        500,
        "application/json",
        r#"{"error":"server_error","error_description":"vault down for client-secret-5f2b9c1d7e \u001b[31mred"}"#,
    )
    .await;
    let html = token_endpoint(200, "text/html", "<html><body>Sign in</body></html>").await;
    for (idp, code, snap) in [
        (&failing, "oauth.error", "connect_oauth_server_error"),
        (&html, "oauth.not-json", "connect_oauth_not_json"),
    ] {
        let args = common::args(&[
            "connect",
            "--url",
            &server.base_url(),
            "--oauth-token-url",
            &idp.url("/oauth2/token"),
            "--oauth-client-id",
            CLIENT_ID,
            "--color",
            "never",
        ]);
        let (exit, text) = scimcheck(args, Some(CLIENT_SECRET)).await;
        assert_eq!(exit, 1, "{text}");
        assert!(text.contains(code), "{text}");
        assert!(!text.contains(CLIENT_SECRET), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "escape sequences are shown, not sent: {text}"
        );
        snapshot!(snap, text);
    }
    // Entra's exact request reached the endpoint.
    let seen = &failing.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen.body, "grant_type=client_credentials");
    assert!(seen.header("authorization").unwrap().starts_with("Basic "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scope_is_sent_when_given() {
    let idp = token_endpoint(400, "application/json", r#"{"error":"invalid_scope"}"#).await;
    let args = common::args(&[
        "connect",
        "--url",
        "http://127.0.0.1:9/scim/v2",
        "--oauth-token-url",
        &idp.url("/token"),
        "--oauth-client-id",
        CLIENT_ID,
        "--oauth-scope",
        "scim:write scim:read",
    ]);
    let (code, text) = scimcheck(args, Some(CLIENT_SECRET)).await;
    assert_eq!(code, 1, "{text}");
    assert_eq!(
        idp.seen()[0].body,
        "grant_type=client_credentials&scope=scim%3Awrite+scim%3Aread"
    );
    assert!(text.contains("oauth.client-rejected"), "{text}");
}
