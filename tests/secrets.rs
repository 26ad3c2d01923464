//! Secrets anywhere in the input stay secret: values in the Tenant URL (Azure Functions'
//! `?code=`, `sig=`, userinfo), tokens with control characters or a byte order mark, tokens a
//! server echoes back transformed (base64, percent-encoded, JSON- or XML-escaped, cut at the
//! body cap), and server text that tries to rewrite the terminal.

use crate::common;
use crate::rogue;

use std::path::Path;

use common::{TOKEN, args, output_text as text, scimcheck_async as scimcheck};
use rogue::{Answer, Rogue};

/// One GET, judged on its status only.
const PROBE: &str = r#"
id: probe
name: Probe
description: One GET.
steps:
  - name: List users
    id: probe.list
    request: { method: GET, path: /Users, query: { filter: 'userName eq "x"' } }
    expect: { status: 200 }
"#;

/// Runs the probe with every report format and `-vv`; returns the exit code and everything
/// written (terminal and reports).
async fn everything(url: &str, token: &str, extra: &[&str]) -> (Option<i32>, String) {
    everything_with(url, token, extra, PROBE).await
}

/// [`everything`] with another scenario.
async fn everything_with(
    url: &str,
    token: &str,
    extra: &[&str],
    scenario: &str,
) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("probe.yaml"), scenario).expect("write");
    let mut a = args(&["run", "--url", url, "--token", token, "-vv"]);
    a.extend(args(extra));
    for format in ["json", "junit", "markdown", "har"] {
        a.push("--report".into());
        a.push(format!(
            "{format}={}",
            dir.path().join(format!("report.{format}")).display()
        ));
    }
    a.push(dir.path().join("probe.yaml").display().to_string());
    let out = scimcheck(a).await;
    let mut all = text(&out);
    for format in ["json", "junit", "markdown", "har"] {
        all.push_str(
            &std::fs::read_to_string(dir.path().join(format!("report.{format}")))
                .unwrap_or_default(),
        );
    }
    (out.status.code(), all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_values_of_the_tenant_url_are_redacted_everywhere_but_dialect_flags() {
    let server = common::server(&[]).await;
    let url = format!(
        "{}?code=AzFnKey-0123456789abcdef&sig=c2lnbmF0dXJl%2Bx%3D&aadOptscim062020",
        server.base_url()
    );
    let (code, all) = everything(&url, TOKEN, &[]).await;
    assert_eq!(code, Some(0), "{all}");
    for secret in [
        "AzFnKey-0123456789abcdef",
        "c2lnbmF0dXJl%2Bx%3D",
        "c2lnbmF0dXJl+x=",
    ] {
        assert!(!all.contains(secret), "`{secret}` leaked:\n{all}");
    }
    assert!(all.contains("code=REDACTED"), "{all}");
    assert!(
        all.contains("aadOptscim062020"),
        "the dialect flag is shown:\n{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_the_tenant_url_are_refused_unless_allowed_and_then_the_har_says_basic() {
    let server = common::server(&[]).await;
    let base = server.base_url();
    let url = base.replacen("http://", "http://admin:hunter2-pw@", 1);
    let out = scimcheck(args(&["run", "--url", &url, "--token", TOKEN])).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(2), "{out_text}");
    assert!(out_text.contains("--allow-url-credentials"), "{out_text}");
    assert!(!out_text.contains("hunter2-pw"), "{out_text}");
    assert_eq!(server.request_count(), 0, "nothing was sent");

    let (_, all) = everything(&url, TOKEN, &["--allow-url-credentials"]).await;
    assert!(!all.contains("hunter2-pw"), "{all}");
    assert!(
        all.contains("\"value\": \"Basic REDACTED\""),
        "the HAR shows the Basic auth the client sent:\n{all}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_a_line_break_or_control_character_is_refused_with_exit_2() {
    for (token, says) in [
        ("abc-token\nsecond-line", "a line break"),
        ("abc-token\u{7}bell", "the control character U+0007"),
    ] {
        let out = scimcheck(args(&[
            "run",
            "--url",
            "http://127.0.0.1:9/scim",
            "--token",
            token,
        ]))
        .await;
        let out_text = text(&out);
        assert_eq!(out.status.code(), Some(2), "{out_text}");
        assert!(out_text.contains(says), "{out_text}");
        assert!(!out_text.contains("builder error"), "{out_text}");
        assert!(!out_text.contains("abc-token"), "{out_text}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let two = dir.path().join("two-lines");
    std::fs::write(&two, "first-line-token\nsecond-line-token\n").expect("write");
    let out = scimcheck(args(&[
        "run",
        "--url",
        "http://127.0.0.1:9/scim",
        "--token-file",
        &two.display().to_string(),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("a line break"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_file_with_a_byte_order_mark_sends_the_token_without_it() {
    let server = common::server(&[]).await;
    let proxy = Rogue::proxy(server.addr()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("\u{feff}{TOKEN}\r\n")).expect("write");
    std::fs::write(dir.path().join("probe.yaml"), PROBE).expect("write");
    let out = scimcheck(args(&[
        "run",
        "--url",
        &proxy.url("/scim/v2"),
        "--token-file",
        &file.display().to_string(),
        &dir.path().join("probe.yaml").display().to_string(),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sent = proxy.seen();
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_pasted_with_its_bearer_prefix_is_redacted_bare_too() {
    let echo = Rogue::start(|seen, _| {
        let auth = seen.header("authorization").unwrap_or_default().to_string();
        let bare = auth.rsplit(' ').next().unwrap_or_default().to_string();
        Answer::Bytes(rogue::scim(
            401,
            &serde_json::json!({"detail": format!("unknown token {bare}")}),
        ))
    })
    .await;
    let (_, all) = everything(&echo.url("/scim"), "Bearer pasted-secret-4711", &[]).await;
    assert!(!all.contains("pasted-secret-4711"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_echoed_back_transformed_is_redacted_in_every_output() {
    use base64::Engine;
    const SECRET: &str = "s3cr3t/tok+en=&<\"'>x";
    let b64 = base64::engine::general_purpose::STANDARD;
    let forms = vec![
        b64.encode(SECRET),
        b64.encode(format!(":{SECRET}")),
        scimcheck::http::encode(SECRET),
        serde_json::to_string(SECRET)
            .unwrap()
            .trim_matches('"')
            .to_string(),
        SECRET
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;"),
    ];
    let echoed = forms.clone();
    let echo = Rogue::start(move |_, _| {
        let body = serde_json::json!({"detail": echoed.join(" | ")}).to_string();
        Answer::Bytes(rogue::response(
            307,
            &[
                (
                    "Location",
                    &format!("https://login.example/?t={}", echoed[2]),
                ),
                ("X-Echo", &format!("Basic {}", echoed[1])),
                ("Content-Type", "application/scim+json"),
            ],
            body,
        ))
    })
    .await;
    let (_, all) = everything(&echo.url("/scim"), SECRET, &[]).await;
    for f in forms.iter().chain([&SECRET.to_string()]) {
        assert!(!all.contains(f.as_str()), "`{f}` leaked:\n{all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_echoed_split_across_lines_is_redacted_in_every_output() {
    const SECRET: &str = "split-secret-0123456789abcdef";
    const PIECES: [&str; 2] = ["split-secret-01", "23456789abcdef"];
    // A JSON value that breaks the token with `\n` (a diff line of the expectation shows it),
    // and a text body that breaks it with a real CRLF.
    let scenario = r#"
id: probe
name: Probe
description: Two GETs whose bodies are judged.
steps:
  - name: List users
    id: probe.list
    request: { method: GET, path: /Users }
    expect: { status: 200, body: { detail: "expected" } }
  - name: List groups
    id: probe.groups
    request: { method: GET, path: /Groups }
    expect: { status: 200, body: { detail: "expected" } }
"#;
    let echo = Rogue::start(move |seen, _| {
        if seen.target.contains("/Groups") {
            let body = format!("the token was {}\r\n  {} and more", PIECES[0], PIECES[1]);
            Answer::Bytes(rogue::response(
                200,
                &[("Content-Type", "text/plain")],
                body,
            ))
        } else {
            let detail = format!("the token was {}\n{}", PIECES[0], PIECES[1]);
            Answer::Bytes(rogue::scim(200, &serde_json::json!({ "detail": detail })))
        }
    })
    .await;
    let (code, all) = everything_with(&echo.url("/scim"), SECRET, &[], scenario).await;
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains("+  \"detail\": \"the token was REDACTED\\nREDACTED\""),
        "{all}"
    );
    for piece in PIECES {
        assert!(!all.contains(piece), "`{piece}` leaked:\n{all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_cut_by_the_body_cap_leaves_no_prefix_of_itself() {
    const SECRET: &str = "cut-secret-abcdefghijklmnopqrstuvwxyz";
    // The token straddles the 1 MiB cap.
    let mut body = "a".repeat(1024 * 1024 - 10);
    body.push_str(SECRET);
    let echo = Rogue::start(move |_, _| {
        Answer::Bytes(rogue::response(
            200,
            &[("Content-Type", "application/scim+json")],
            body.clone(),
        ))
    })
    .await;
    let (_, all) = everything(&echo.url("/scim"), SECRET, &["--max-body-mib", "1"]).await;
    assert!(!all.contains(&SECRET[..10]), "a prefix of the token leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_with_escape_sequences_reaches_the_terminal_as_visible_escapes() {
    let rogue = Rogue::start(|_, _| {
        Answer::Bytes(rogue::scim(
            400,
            &serde_json::json!({"detail": "bad\u{1b}[2J\u{1b}[1;1HPASSED: 1 passed\r\u{202e}"}),
        ))
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("probe.yaml"), PROBE).expect("write");
    let out = scimcheck(args(&[
        "run",
        "--url",
        &rogue.url("/scim"),
        "--token",
        TOKEN,
        "-v",
        &dir.path().join("probe.yaml").display().to_string(),
    ]))
    .await;
    let out_text = text(&out);
    assert!(
        !out_text.contains('\u{1b}'),
        "a raw ESC reached the terminal:\n{out_text:?}"
    );
    assert!(!out_text.contains('\r'), "{out_text:?}");
    assert!(!out_text.contains('\u{202e}'), "{out_text:?}");
    assert!(out_text.contains("\\x1b[2J"), "{out_text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_warns_even_with_quiet_and_on_every_command_that_connects() {
    let server = common::server(&[]).await;
    let url = server.base_url();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("probe.yaml"), PROBE).expect("write");
    let probe = dir.path().join("probe.yaml").display().to_string();
    for command in [
        vec!["run", "-q", &probe],
        vec!["discover"],
        vec!["connect"],
        vec!["load", "--mode", "probe", "-n", "2"],
    ] {
        let mut a = vec![command[0], "--url", &url, "--token", TOKEN, "--insecure"];
        a.extend(&command[1..]);
        let out = scimcheck(args(&a)).await;
        let out_text = text(&out);
        assert!(
            out_text.contains("TLS certificate verification is OFF (--insecure)"),
            "{command:?}: {out_text}"
        );
    }
    let _ = Path::new(".");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_waiver_file_quoting_the_token_does_not_show_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let waivers = dir.path().join("waivers.yaml");
    std::fs::write(&waivers, format!("waivers:\n  - check: [{TOKEN}\n")).expect("write");
    let out = scimcheck(args(&[
        "run",
        "--url",
        "http://127.0.0.1:9/scim",
        "--token",
        TOKEN,
        "--waivers",
        &waivers.display().to_string(),
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(2), "{out_text}");
    assert!(!out_text.contains(TOKEN), "{out_text}");
}

/// [`everything`] over OAuth2 client credentials (the client secret in a file): no `--token`.
async fn everything_oauth(
    url: &str,
    token_url: &str,
    client_secret: &str,
) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("probe.yaml"), PROBE).expect("write");
    std::fs::write(dir.path().join("secret"), client_secret).expect("write");
    let mut a = args(&[
        "run",
        "--url",
        url,
        "--oauth-token-url",
        token_url,
        "--oauth-client-id",
        "the-client",
        "-vv",
    ]);
    a.push("--oauth-client-secret-file".into());
    a.push(dir.path().join("secret").display().to_string());
    for format in ["json", "junit", "markdown", "har", "html"] {
        a.push("--report".into());
        a.push(format!(
            "{format}={}",
            dir.path().join(format!("report.{format}")).display()
        ));
    }
    a.push(dir.path().join("probe.yaml").display().to_string());
    let out = scimcheck(a).await;
    let mut all = text(&out);
    for format in ["json", "junit", "markdown", "har", "html"] {
        all.push_str(
            &std::fs::read_to_string(dir.path().join(format!("report.{format}")))
                .unwrap_or_default(),
        );
    }
    (out.status.code(), all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_secret_and_every_access_token_are_redacted_even_when_echoed_back() {
    use base64::Engine;
    const CLIENT_SECRET: &str = "oauth-client-secret-77aa";
    const ACCESS: &str = "issued-access-token-0123456789";
    let b64 = base64::engine::general_purpose::STANDARD;
    let basic = b64.encode(format!("the-client:{CLIENT_SECRET}"));
    let echoed = [
        ACCESS.to_string(),
        b64.encode(ACCESS),
        basic.clone(),
        CLIENT_SECRET.to_string(),
    ];
    let body = serde_json::json!({"detail": echoed.join(" | ")}).to_string();
    let idp_body = format!(
        r#"{{"access_token":"{ACCESS}","token_type":"Bearer","expires_in":3600,"note":"{basic}"}}"#
    );
    let echo = Rogue::start(move |seen, _| {
        if seen.target.starts_with("/oauth2/token") {
            Answer::Bytes(rogue::response(
                200,
                &[("Content-Type", "application/json")],
                idp_body.clone(),
            ))
        } else {
            Answer::Bytes(rogue::response(
                400,
                &[
                    ("Content-Type", "application/scim+json"),
                    ("X-Echo", &format!("Bearer {ACCESS}")),
                ],
                body.clone(),
            ))
        }
    })
    .await;
    let (code, all) = everything_oauth(
        &echo.url("/scim"),
        &echo.url("/oauth2/token"),
        CLIENT_SECRET,
    )
    .await;
    assert_eq!(code, Some(1), "{all}");
    assert!(all.contains("REDACTED"), "{all}");
    for f in &echoed {
        assert!(!all.contains(f.as_str()), "`{f}` leaked:\n{all}");
    }
    // The token really was sent: the redaction is not an accident of a failed request.
    let sent = echo.seen();
    assert!(
        sent.iter()
            .any(|s| s.header("authorization") == Some(&format!("Bearer {ACCESS}"))),
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .any(|s| s.header("authorization") == Some(&format!("Basic {basic}"))),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_over_oauth_never_shows_the_client_secret_or_the_access_token() {
    const CLIENT_SECRET: &str = "oauth-client-secret-88bb";
    const ACCESS: &str = "connect-access-token-9876543210";
    let echo = Rogue::start(move |seen, _| {
        if seen.target.starts_with("/oauth2/token") {
            Answer::Bytes(rogue::response(
                200,
                &[("Content-Type", "application/json")],
                format!(r#"{{"access_token":"{ACCESS}","expires_in":60}}"#),
            ))
        } else {
            Answer::Bytes(rogue::response(
                401,
                &[
                    ("Content-Type", "application/scim+json"),
                    ("WWW-Authenticate", &format!("Bearer error=\"{ACCESS}\"")),
                ],
                format!(r#"{{"detail":"token {ACCESS} and {CLIENT_SECRET} rejected"}}"#),
            ))
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret"), CLIENT_SECRET).unwrap();
    for json in [false, true] {
        let mut a = args(&[
            "connect",
            "--url",
            &echo.url("/scim/v2"),
            "--oauth-token-url",
            &echo.url("/oauth2/token"),
            "--oauth-client-id",
            "the-client",
            "--oauth-client-secret-file",
            &dir.path().join("secret").display().to_string(),
        ]);
        if json {
            a.push("--json".into());
        }
        let out = scimcheck(a).await;
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(all.contains("auth.token-rejected"), "{all}");
        assert!(
            !all.contains(ACCESS) && !all.contains(CLIENT_SECRET),
            "leaked:\n{all}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_passed_as_the_url_by_mistake_is_not_shown_by_any_command() {
    const SECRET: &str = "mistaken-secret-0123456789";
    for command in [
        vec!["run"],
        vec!["connect"],
        vec!["discover"],
        vec!["load"],
        vec!["profiles", "init", "--from-schemas"],
    ] {
        let mut a = command.clone();
        a.extend(["--url", SECRET, "--token", SECRET]);
        let out = scimcheck(args(&a)).await;
        let out_text = text(&out);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {out_text}");
        assert!(!out_text.contains(SECRET), "{command:?}: {out_text}");
        assert!(
            out_text.contains("REDACTED"),
            "{command:?} says what was wrong: {out_text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_with_markup_characters_echoed_back_is_redacted_in_connect_and_discover_json() {
    const SECRET: &str = "s3cr3t/tok+en=&<\"'>x";
    let echo = Rogue::start(|_, _| {
        Answer::Bytes(rogue::scim(
            401,
            &serde_json::json!({
                "detail": format!("bad token {SECRET} / {}", scimcheck::http::encode(SECRET)),
                "id": SECRET, "name": SECRET,
            }),
        ))
    })
    .await;
    let json_escaped = serde_json::to_string(SECRET).unwrap();
    let json_escaped = json_escaped.trim_matches('"');
    for command in ["connect", "discover"] {
        for json in [true, false] {
            let mut a = vec![command, "--url", "", "--token", SECRET];
            let url = echo.url("/scim");
            a[2] = &url;
            if json {
                a.push("--json");
            }
            let out = scimcheck(args(&a)).await;
            let out_text = text(&out);
            for form in [SECRET, json_escaped, &scimcheck::http::encode(SECRET)] {
                assert!(
                    !out_text.contains(form),
                    "{command} json={json}: `{form}` leaked:\n{out_text}"
                );
            }
        }
    }
}
