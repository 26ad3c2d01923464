//! `scimcheck import`: a HAR capture becomes a scenario that `lint` and `run` accept unchanged,
//! replays green against the reference server, fails against a quirky one, and never carries
//! the captured credentials.

use crate::common;

use common::{
    TOKEN, args, assert_no_test_data_left, output_text, scimcheck, scimcheck_async, server,
};
use scimcheck::run::Outcome;
use scimcheck::scenario::Dialect;

/// A HAR of a whole `demo` run (both dialects), written by scimcheck itself.
fn demo_har(dir: &std::path::Path) -> std::path::PathBuf {
    let har = dir.join("demo.har");
    let out = scimcheck(
        &["demo", "-q", "--report", &format!("har={}", har.display())],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    har
}

fn import(har: &std::path::Path, scenario: &std::path::Path) -> String {
    let out = scimcheck(
        &[
            "import",
            &har.display().to_string(),
            "--out",
            &scenario.display().to_string(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    output_text(&out)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_har_of_a_demo_run_replays_green_and_fails_against_a_quirky_server() {
    let dir = tempfile::tempdir().unwrap();
    let har = demo_har(dir.path());
    let scenario = dir.path().join("replay.yaml");
    let said = import(&har, &scenario);
    assert!(said.contains("in Entra's default dialect"), "{said}");
    assert!(
        said.contains("Authorization header and cookies are not written"),
        "{said}"
    );

    let lint = scimcheck(&["lint", &scenario.display().to_string()], &[]);
    assert_eq!(lint.status.code(), Some(0), "{}", output_text(&lint));

    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(
        text.contains("capture:") && text.contains("cleanup:"),
        "{text}"
    );
    assert!(
        text.contains("patch:"),
        "PATCHes are dialect-neutral:\n{text}"
    );
    assert!(
        text.contains("{{ unique.userName }}"),
        "names are generated:\n{text}"
    );
    assert!(!text.contains("Authorization"), "{text}");

    // Green against the reference server, in both dialects, leaving nothing behind.
    let good = server(&[]).await;
    let loaded = scimcheck::scenario::load_paths(std::slice::from_ref(&scenario)).unwrap();
    let out = common::run_against(
        &good.base_url(),
        loaded.clone(),
        &[Dialect::Default, Dialect::Compliant],
    )
    .await;
    let failed = out.ids(Outcome::Fail);
    assert!(failed.is_empty(), "replay failed: {failed:?}");
    assert!(out.summary.passed > 100, "{:?}", out.summary);
    assert_no_test_data_left(&good, "replay");

    // The binary accepts the file unchanged too.
    let run = scimcheck_async(args(&[
        "run",
        "--url",
        &good.base_url(),
        "--token",
        TOKEN,
        "-q",
        &scenario.display().to_string(),
    ]))
    .await;
    assert_eq!(run.status.code(), Some(0), "{}", output_text(&run));
    good.shutdown().await;

    // The same import against servers with a real-world bug fails, at the steps that show it.
    for (quirk, failing) in [
        ("drops-patch-changes", ".user.get"),
        ("ignores-excluded-attributes", ".group.get"),
        ("remove-member-wipes-group", ".group.get"),
        ("case-sensitive-filter", ".match"),
    ] {
        let bad = server(&[quirk]).await;
        let out = common::run_against(&bad.base_url(), loaded.clone(), &[Dialect::Default]).await;
        let failed = out.ids(Outcome::Fail);
        assert!(
            failed.iter().any(|id| id.contains(failing)),
            "{quirk}: expected a failing `{failing}` step, got {failed:?}"
        );
        bad.shutdown().await;
    }
}

#[test]
fn a_browser_har_with_credentials_never_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let har = dir.path().join("browser.har");
    let secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig";
    let user = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1234567890","userName":"alice@contoso.com","active":true,"meta":{"resourceType":"User"}}"#;
    let doc = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "Firefox"}, "entries": [
        {"request": {"method": "GET", "url": "https://app.example.com/scim/v2/Users?filter=userName%20eq%20%22alice%40contoso.com%22",
            "headers": [{"name": "Authorization", "value": format!("Bearer {secret}")}, {"name": "Cookie", "value": "session=abcdef123456"}]},
         "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "application/scim+json"}],
            "content": {"mimeType": "application/scim+json", "text": r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}"#}}},
        {"request": {"method": "POST", "url": "https://app.example.com/scim/v2/Users",
            "headers": [{"name": "Authorization", "value": format!("Bearer {secret}")}],
            "postData": {"mimeType": "application/scim+json", "text": format!(r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice@contoso.com","active":true,"note":"{secret}"}}"#)}},
         "response": {"status": 201, "headers": [{"name": "Content-Type", "value": "application/scim+json"}, {"name": "Set-Cookie", "value": "session=zyxwvu987654; Path=/"}],
            "content": {"mimeType": "application/scim+json", "text": user}}},
        {"request": {"method": "GET", "url": "https://cdn.example.com/app.js", "headers": []},
         "response": {"status": 200, "headers": [], "content": {"text": "x"}}}
    ]}});
    std::fs::write(&har, doc.to_string()).unwrap();
    let scenario = dir.path().join("browser.yaml");
    let said = import(&har, &scenario);
    assert!(
        said.contains("1 request(s) that are not SCIM requests"),
        "{said}"
    );
    let text = std::fs::read_to_string(&scenario).unwrap();
    for leak in [secret, "abcdef123456", "zyxwvu987654", "alice@contoso.com"] {
        assert!(!text.contains(leak), "`{leak}` written:\n{text}");
    }
    assert!(
        !said.contains(secret),
        "`import` printed the token:\n{said}"
    );
    assert!(text.contains("capture:"), "{text}");
    assert!(text.contains("cleanup:"), "{text}");
    let lint = scimcheck(&["lint", &scenario.display().to_string()], &[]);
    assert_eq!(lint.status.code(), Some(0), "{}", output_text(&lint));
    let dir_text = dir.path().display().to_string();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, filters => vec![(dir_text.as_str(), "TMP")]}, {
        insta::assert_snapshot!("import__import_browser_har_output", said);
        insta::assert_snapshot!("import__import_browser_har_scenario", text);
    });
}

#[test]
fn broken_and_unusable_captures_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.har");
    std::fs::write(&bad, "{\"log\": {\"entries\": [\n  {oops}\n]}}\n").unwrap();
    let out_file = dir.path().join("out.yaml");
    let out = scimcheck(
        &[
            "import",
            &bad.display().to_string(),
            "--out",
            &out_file.display().to_string(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let text = output_text(&out);
    assert!(text.contains("bad.har:2:4"), "{text}");
    assert!(!out_file.exists());

    let logs = dir.path().join("provisioning-logs.json");
    std::fs::write(
        &logs,
        r#"[{"id":"1","activityDateTime":"2026-01-01T00:00:00Z","provisioningAction":"create","modifiedProperties":[{"displayName":"userName","oldValue":null,"newValue":"a@x"}],"targetIdentity":{"id":"","displayName":"a@x","identityType":"User"}}]"#,
    )
    .unwrap();
    let out = scimcheck(
        &[
            "import",
            &logs.display().to_string(),
            "--out",
            &out_file.display().to_string(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let text = output_text(&out);
    assert!(
        text.contains("provisioning-log export: 1 event(s) (1 create)"),
        "{text}"
    );
    assert!(text.contains("no request body"), "{text}");
    assert!(!out_file.exists());
}
