//! Faults injected between scimcheck and the embedded reference server, by a small proxy
//! ([`rogue::Rogue`] with [`rogue::Fault`]): an "upsert" answering a create with someone else's
//! user, gateways answering 5xx after the server stored a create, answers lost or stripped,
//! deletes and look-ups failing for a while, the endpoint going away mid-run, auth probes
//! answered 5xx, throttling waits cut by Ctrl-C. In every case nothing this run did not create
//! is touched, and whatever this run may have left is either removed or listed.
//! Everything binds 127.0.0.1; every wait is bounded.

use crate::common;
use crate::rogue;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{TOKEN, args, output_text as text, scimcheck_async as scimcheck};
use rogue::{Answer, Fault, Rogue};
use scimcheck::server::Server;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn scenario_dir(name: &str, body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), body).expect("write scenario");
    dir
}

/// A user's whole life: create (unique name), disable, delete, with a cleanup DELETE.
fn lifecycle() -> String {
    format!(
        r#"
id: life
name: A user's life
description: Create, disable and delete a user.
steps:
  - name: Create
    id: life.create
    request:
      method: POST
      path: /Users
      body: {{ schemas: ["{USER}"], userName: "{{{{ unique.userName }}}}", active: true }}
    expect: {{ status: 201 }}
    capture: {{ user_id: /id }}
    cleanup: {{ method: DELETE, path: "/Users/{{{{ user_id }}}}" }}
  - name: Disable
    id: life.disable
    patch: {{ resource: "/Users/{{{{ user_id }}}}", set: {{ active: false }} }}
    expect: {{ status: [200, 204] }}
  - name: Delete
    id: life.delete
    request: {{ method: DELETE, path: "/Users/{{{{ user_id }}}}" }}
    expect: {{ status: 204 }}
"#
    )
}

fn users(server: &Server) -> Vec<Value> {
    server.dump()["users"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn is_create(seen: &rogue::Seen) -> bool {
    seen.method == "POST" && seen.target.ends_with("/Users")
}

fn is_lookup(seen: &rogue::Seen) -> bool {
    seen.method == "GET" && seen.target.contains("filter=userName")
}

fn run_args(url: &str, dir: &tempfile::TempDir, extra: &[&str]) -> Vec<String> {
    let mut a = args(&[
        "run",
        "--url",
        url,
        "--token",
        TOKEN,
        "--dialect",
        "default",
    ]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a.push(dir.path().display().to_string());
    a
}

fn report(dir: &tempfile::TempDir) -> Value {
    let text = std::fs::read_to_string(dir.path().join("report.json")).expect("json report");
    serde_json::from_str(&text).expect("json")
}

// ---------------------------------------------------------------------------------------------
// An "upsert" answering a create with an existing user.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_with_an_existing_user_is_never_written_to_whatever_the_status() {
    for status in [200, 201] {
        let server = common::server(&[]).await;
        let alice = server.seed_user(json!({
            "schemas": [USER], "userName": "alice@contoso.com", "active": true
        }));
        let before = server.dump().to_string();
        let record = json!({
            "schemas": [USER], "id": alice, "userName": "alice@contoso.com", "active": true
        });
        let upstream = server.addr();
        let proxy = Rogue::start(move |seen, _| {
            if is_create(seen) {
                Answer::Bytes(rogue::scim(status, &record))
            } else {
                Answer::Forward(upstream)
            }
        })
        .await;
        let dir = scenario_dir("life.yaml", &lifecycle());
        let json_report = format!("json={}", dir.path().join("report.json").display());
        let out = scimcheck(run_args(
            &proxy.url("/scim/v2"),
            &dir,
            &["--report", &json_report],
        ))
        .await;
        let out_text = text(&out);
        assert_eq!(out.status.code(), Some(1), "{status}: {out_text}");
        assert!(
            out_text.contains(
                "the server answered the create with an existing resource that this run did not create"
            ),
            "{status}: {out_text}"
        );
        assert!(
            out_text.contains("The server answered creates with resources this run did not create (nothing was written to them):"),
            "{status}: {out_text}"
        );
        let writes: Vec<String> = proxy
            .seen()
            .iter()
            .filter(|s| s.target.contains(&alice) && s.method != "GET")
            .map(|s| s.line())
            .collect();
        assert!(writes.is_empty(), "{status}: written to alice: {writes:?}");
        assert_eq!(server.dump().to_string(), before, "{status}: alice changed");
        let foreign = &report(&dir)["summary"]["foreign_answers"];
        assert_eq!(foreign[0]["path"], json!(format!("/Users/{alice}")));
        assert!(
            report(&dir)["summary"]["leftovers"]
                .as_array()
                .is_some_and(Vec::is_empty),
            "alice is not this run's leftover"
        );
    }
}

/// The name a create sent (`userName`).
fn sent_name(seen: &rogue::Seen) -> String {
    serde_json::from_str::<Value>(&seen.body).unwrap_or_default()["userName"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upsert_that_renames_a_user_seen_before_with_the_name_sent_is_never_written_to() {
    // The name in the answer carries the run's prefix (the upsert copied the name sent onto
    // the user it matched), but alice's id was in the list the run read before the create.
    let server = common::server(&[]).await;
    let alice = server.seed_user(json!({
        "schemas": [USER], "userName": "alice@contoso.com", "active": true
    }));
    let before = server.dump().to_string();
    let upstream = server.addr();
    let id = alice.clone();
    let proxy = Rogue::start(move |seen, _| {
        if is_create(seen) {
            Answer::Bytes(rogue::scim(
                201,
                &json!({"schemas": [USER], "id": id, "userName": sent_name(seen), "active": true}),
            ))
        } else {
            Answer::Forward(upstream)
        }
    })
    .await;
    let scenario = lifecycle().replace(
        "steps:\n",
        "steps:\n  - name: List\n    request: { method: GET, path: /Users }\n    expect: { status: 200 }\n",
    );
    let dir = scenario_dir("life.yaml", &scenario);
    let json_report = format!("json={}", dir.path().join("report.json").display());
    let out = scimcheck(run_args(
        &proxy.url("/scim/v2"),
        &dir,
        &["--report", &json_report],
    ))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{out_text}");
    assert!(
        out_text.contains("the server answered the create with an existing resource that this run did not create (its id was already known to this run before the create"),
        "{out_text}"
    );
    let writes: Vec<String> = proxy
        .seen()
        .iter()
        .filter(|s| s.target.contains(&alice) && s.method != "GET")
        .map(|s| s.line())
        .collect();
    assert!(
        writes.is_empty(),
        "written to alice: {writes:?}\n{out_text}"
    );
    assert_eq!(server.dump().to_string(), before, "alice changed");
    let summary = &report(&dir)["summary"];
    assert_eq!(
        summary["foreign_answers"][0]["path"],
        json!(format!("/Users/{alice}"))
    );
    assert_eq!(
        summary["leftovers"],
        json!([]),
        "alice is not this run's leftover"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_with_a_user_this_run_created_earlier_does_not_adopt_it_twice() {
    // The second create is answered with the first user (renamed with the second name): the
    // second user's steps must not disable or delete the first one; only its own cleanup does.
    let server = common::server(&[]).await;
    let upstream = server.addr();
    let first: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let keep = first.clone();
    let proxy = Rogue::start(move |seen, _| {
        if !is_create(seen) {
            return Answer::Forward(upstream);
        }
        let known = keep.lock().unwrap().clone();
        match known {
            None => {
                let keep = keep.clone();
                Answer::Relay(
                    upstream,
                    Fault::Map(Box::new(move |answer: Vec<u8>| {
                        let text = String::from_utf8_lossy(&answer).to_string();
                        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
                        let v: Value = serde_json::from_str(body).unwrap_or_default();
                        *keep.lock().unwrap() = v["id"].as_str().map(str::to_string);
                        answer
                    })),
                )
            }
            Some(id) => Answer::Bytes(rogue::scim(
                201,
                &json!({"schemas": [USER], "id": id, "userName": sent_name(seen), "active": true}),
            )),
        }
    })
    .await;
    let scenario = lifecycle().replace(
        "steps:\n",
        &format!(
            "steps:\n  - name: First\n    request:\n      method: POST\n      path: /Users\n      body: {{ schemas: [\"{USER}\"], userName: \"{{{{ unique.userName }}}}-first\", active: true }}\n    expect: {{ status: 201 }}\n    capture: {{ first_id: /id }}\n    cleanup: {{ method: DELETE, path: \"/Users/{{{{ first_id }}}}\" }}\n"
        ),
    );
    let dir = scenario_dir("life.yaml", &scenario);
    let out = scimcheck(run_args(&proxy.url("/scim/v2"), &dir, &[])).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{out_text}");
    assert!(
        out_text.contains("its id was already known to this run before the create"),
        "{out_text}"
    );
    let id = first
        .lock()
        .unwrap()
        .clone()
        .expect("the first create was answered");
    let writes: Vec<String> = proxy
        .seen()
        .iter()
        .filter(|s| s.target.contains(&id) && s.method != "GET")
        .map(|s| s.line())
        .collect();
    assert_eq!(
        writes,
        vec![format!("DELETE /scim/v2/Users/{id}")],
        "only the first user's own cleanup touches it\n{out_text}"
    );
    assert_eq!(users(&server), Vec::<Value>::new(), "{out_text}");
}

// ---------------------------------------------------------------------------------------------
// Creates whose outcome is unknown.

/// The faults a gateway can put on a create that the server did store.
/// Makes a fresh fault for each create.
type MakeFault = Box<dyn Fn() -> Fault + Send + Sync>;

fn create_faults() -> Vec<(&'static str, MakeFault)> {
    vec![
        (
            "502",
            Box::new(|| {
                Fault::Replace(rogue::response(
                    502,
                    &[("Content-Type", "text/html")],
                    "<h1>Bad Gateway</h1>",
                ))
            }),
        ),
        (
            "503",
            Box::new(|| Fault::Replace(rogue::response(503, &[], ""))),
        ),
        (
            "504",
            Box::new(|| Fault::Replace(rogue::response(504, &[], "upstream timed out"))),
        ),
        (
            "500",
            Box::new(|| Fault::Replace(rogue::scim(500, &json!({"detail": "oops"})))),
        ),
        ("dropped", Box::new(|| Fault::Drop)),
        (
            "201 with no body",
            Box::new(|| {
                Fault::Replace(rogue::response(
                    201,
                    &[("Content-Type", "application/scim+json")],
                    "",
                ))
            }),
        ),
        (
            "200 without an id",
            Box::new(|| {
                Fault::Map(Box::new(|answer| {
                    let mut body: Value =
                        serde_json::from_slice(rogue::body_of(&answer)).unwrap_or_default();
                    if let Some(o) = body.as_object_mut() {
                        o.remove("id");
                    }
                    rogue::scim(200, &body)
                }))
            }),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_stored_but_answered_with_a_fault_is_found_by_its_unique_name_and_deleted() {
    for (name, fault) in create_faults() {
        let server = common::server(&[]).await;
        let upstream = server.addr();
        let fault = Arc::new(fault);
        let f = fault.clone();
        let proxy = Rogue::start(move |seen, _| {
            if is_create(seen) {
                Answer::Relay(upstream, f())
            } else {
                Answer::Forward(upstream)
            }
        })
        .await;
        let dir = scenario_dir("life.yaml", &lifecycle());
        let out = scimcheck(run_args(&proxy.url("/scim/v2"), &dir, &["-v"])).await;
        let out_text = text(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {out_text}");
        assert!(
            proxy.seen().iter().any(is_lookup),
            "{name}: the create was looked up by its unique name:\n{out_text}"
        );
        assert_eq!(users(&server), Vec::<Value>::new(), "{name}: {out_text}");
        assert!(
            !out_text.contains("could not be removed"),
            "{name}: {out_text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_whose_look_up_keeps_failing_is_listed_with_the_request_that_finds_it() {
    let server = common::server(&[]).await;
    let upstream = server.addr();
    let proxy = Rogue::start(move |seen, _| {
        if is_create(seen) {
            Answer::Relay(upstream, Fault::Replace(rogue::response(502, &[], "")))
        } else if is_lookup(seen) {
            Answer::Bytes(rogue::response(503, &[], ""))
        } else {
            Answer::Forward(upstream)
        }
    })
    .await;
    let dir = scenario_dir("life.yaml", &lifecycle());
    let json_report = format!("json={}", dir.path().join("report.json").display());
    let out = scimcheck(run_args(
        &proxy.url("/scim/v2"),
        &dir,
        &["--cleanup-retry", "3", "--report", &json_report],
    ))
    .await;
    let out_text = text(&out);
    let left = users(&server);
    assert_eq!(left.len(), 1, "the user the gateway hid is still there");
    let name = left[0]["userName"].as_str().expect("userName");
    let lookups = proxy.seen().iter().filter(|s| is_lookup(s)).count();
    assert!(lookups > 1, "the look-up was retried ({lookups})");
    let find = format!("GET /Users?filter=userName eq \"{name}\"");
    assert!(
        out_text.contains(&format!(
            "  {find}  (a create whose outcome is unknown: delete what this finds)"
        )),
        "{out_text}"
    );
    let leftovers = &report(&dir)["summary"]["leftovers"];
    assert_eq!(leftovers[0]["method"], json!("GET"), "{leftovers}");
    assert_eq!(
        leftovers[0]["path"],
        json!(format!("/Users?filter=userName eq \"{name}\"")),
        "{leftovers}"
    );
}

// ---------------------------------------------------------------------------------------------
// Cleanup that survives a blip.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleanup_retries_deletes_that_fail_for_a_while_and_removes_everything() {
    let server = common::server(&[]).await;
    let upstream = server.addr();
    let deletes = Arc::new(AtomicUsize::new(0));
    let d = deletes.clone();
    // The scenario's own DELETE is a check; only cleanup's are failed here.
    let scenario = lifecycle().replace(
        "  - name: Delete\n    id: life.delete\n    request: { method: DELETE, path: \"/Users/{{ user_id }}\" }\n    expect: { status: 204 }\n",
        "",
    );
    let proxy = Rogue::start(move |seen, _| {
        if seen.method == "DELETE" && d.fetch_add(1, Ordering::SeqCst) < 3 {
            match d.load(Ordering::SeqCst) {
                1 => Answer::Bytes(rogue::response(503, &[], "")),
                2 => Answer::Bytes(rogue::response(429, &[], "")),
                _ => Answer::Bytes(Vec::new()),
            }
        } else {
            Answer::Forward(upstream)
        }
    })
    .await;
    let dir = scenario_dir("life.yaml", &scenario);
    let out = scimcheck(run_args(
        &proxy.url("/scim/v2"),
        &dir,
        &["--cleanup-retry", "20"],
    ))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{out_text}");
    assert!(deletes.load(Ordering::SeqCst) >= 4, "{out_text}");
    assert_eq!(users(&server), Vec::<Value>::new(), "{out_text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_whose_verifying_get_answers_5xx_is_could_not_verify_and_listed() {
    let server = common::server(&[]).await;
    let upstream = server.addr();
    // The gateway says every DELETE worked without passing it on, and the GET that would show
    // the truth fails: nothing proves the user gone (it is not).
    let proxy = Rogue::start(move |seen, _| {
        let single =
            seen.method == "GET" && seen.target.contains("/Users/") && !seen.target.contains('?');
        if single {
            Answer::Bytes(rogue::response(503, &[], ""))
        } else if seen.method == "DELETE" {
            Answer::Bytes(rogue::response(204, &[], ""))
        } else {
            Answer::Forward(upstream)
        }
    })
    .await;
    let scenario = lifecycle().replace(
        "  - name: Delete\n    id: life.delete\n    request: { method: DELETE, path: \"/Users/{{ user_id }}\" }\n    expect: { status: 204 }\n",
        "",
    );
    let dir = scenario_dir("life.yaml", &scenario);
    let json_report = format!("json={}", dir.path().join("report.json").display());
    let out = scimcheck(run_args(
        &proxy.url("/scim/v2"),
        &dir,
        &["--cleanup-retry", "1", "--report", &json_report],
    ))
    .await;
    let out_text = text(&out);
    assert!(
        out_text
            .contains("the DELETE was accepted but could not verify that it is gone (GET /Users/"),
        "{out_text}"
    );
    assert!(!out_text.contains("still answers"), "{out_text}");
    let id = users(&server)[0]["id"].as_str().expect("id").to_string();
    let leftovers = &report(&dir)["summary"]["leftovers"];
    assert_eq!(leftovers[0]["method"], json!("DELETE"), "{leftovers}");
    assert_eq!(
        leftovers[0]["path"],
        json!(format!("/Users/{id}")),
        "{leftovers}"
    );
}

// ---------------------------------------------------------------------------------------------
// The endpoint goes away mid-run.

fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(args)
        .env_remove("SCIMCHECK_TOKEN")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scimcheck")
}

fn interrupt(pid: u32) {
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits until `cond` holds; gives up after a minute.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("gave up waiting until {what}");
}

async fn wait(child: std::process::Child) -> std::process::Output {
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_stops_answering_mid_run_is_one_line_exit_3_and_leftovers_listed() {
    let server = common::server(&["slow=30"]).await;
    let proxy = Rogue::proxy(server.addr()).await;
    let url = proxy.url("/scim/v2");
    let child = spawn(&[
        "run",
        "--url",
        &url,
        "--token",
        TOKEN,
        "--dialect",
        "both",
        "--jobs",
        "1",
        "--cleanup-retry",
        "1",
    ]);
    until("the run has created a user", || !users(&server).is_empty()).await;
    drop(proxy); // the port now refuses connections
    let out = wait(child).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(3), "{out_text}");
    let line = regex::Regex::new(
        r"the endpoint stopped answering at \d\d:\d\d:\d\d after \d+ answered requests",
    )
    .unwrap();
    assert!(line.is_match(&out_text), "{out_text}");
    assert!(out_text.contains("UNREACHABLE"), "{out_text}");
    assert!(
        out_text.contains("skipped: the endpoint stopped answering"),
        "{out_text}"
    );
    let failed: usize = regex::Regex::new(r"(\d+) failed")
        .unwrap()
        .captures(&out_text)
        .and_then(|c| c[1].parse().ok())
        .unwrap_or(usize::MAX);
    assert!(
        failed <= 8,
        "a few failed checks, not the whole suite: {failed}\n{out_text}"
    );
    for u in users(&server) {
        let id = u["id"].as_str().unwrap_or_default();
        let name = u["userName"].as_str().unwrap_or_default();
        assert!(
            out_text.contains(&format!("DELETE /Users/{id}")) || out_text.contains(name),
            "{id} left and not listed:\n{out_text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Authentication probes that get no real answer.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_probe_answered_5xx_or_refused_is_inconclusive_not_a_security_finding() {
    let server = common::server(&[]).await;
    let upstream = server.addr();
    let proxy = Rogue::start(move |seen, _| {
        if seen.header("authorization") == Some(&format!("Bearer {TOKEN}")) {
            Answer::Forward(upstream)
        } else {
            Answer::Bytes(rogue::response(
                502,
                &[("Content-Type", "text/html")],
                "<h1>502</h1>",
            ))
        }
    })
    .await;
    let auth =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/entra/09-auth.yaml");
    let out = scimcheck(args(&[
        "run",
        "--url",
        &proxy.url("/scim/v2"),
        "--token",
        TOKEN,
        &auth.display().to_string(),
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{out_text}");
    assert!(!out_text.contains("SECURITY"), "{out_text}");
    assert!(
        out_text.contains("inconclusive: the endpoint answered 502"),
        "{out_text}"
    );
    // A server that really lets a wrong token in is still a SECURITY failure.
    let open = common::server(&["accepts-any-token"]).await;
    let out = scimcheck(args(&[
        "run",
        "--url",
        &open.base_url(),
        "--token",
        TOKEN,
        &auth.display().to_string(),
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{out_text}");
    assert!(
        out_text.contains("SECURITY: the endpoint accepted a wrong token"),
        "{out_text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Signals.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cuts_a_retry_after_wait_short_and_cleans_up() {
    let server = common::server(&[]).await;
    let upstream = server.addr();
    // Creates go through; then every request is throttled for 50 s.
    let proxy = Rogue::start(move |seen, _| {
        if is_create(seen) || seen.method == "DELETE" || seen.target.contains("/Users/") {
            Answer::Forward(upstream)
        } else {
            Answer::Bytes(rogue::response(429, &[("Retry-After", "50")], ""))
        }
    })
    .await;
    let scenario = lifecycle().replace(
        "  - name: Disable",
        "  - name: Throttled\n    request: { method: GET, path: /Users }\n    expect: { status: 200 }\n  - name: Disable",
    );
    let dir = scenario_dir("life.yaml", &scenario);
    let url = proxy.url("/scim/v2");
    let dir_arg = dir.path().display().to_string();
    let child = spawn(&[
        "run",
        "--url",
        &url,
        "--token",
        TOKEN,
        "--dialect",
        "default",
        "--max-retry-wait",
        "100",
        &dir_arg,
    ]);
    until("the throttled request was sent", || {
        proxy.seen().iter().any(|s| s.line().ends_with("/Users"))
    })
    .await;
    let signalled = Instant::now();
    interrupt(child.id());
    let out = wait(child).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(130), "{out_text}");
    assert!(
        signalled.elapsed() < Duration::from_secs(40),
        "the 50 s Retry-After was not waited out"
    );
    assert_eq!(users(&server), Vec::<Value>::new(), "{out_text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigint_before_the_run_starts_exits_130_with_a_message() {
    // Every request hangs: the run is still reading the profile's /Schemas when the signal comes.
    let hang = Rogue::start(|_, _| Answer::Hang(Vec::new())).await;
    let url = hang.url("/scim/v2");
    let child = spawn(&[
        "run",
        "--url",
        &url,
        "--token",
        TOKEN,
        "--profile",
        "entra-default",
    ]);
    until("the first request arrived", || !hang.seen().is_empty()).await;
    interrupt(child.id());
    let out = wait(child).await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(130), "{out_text}");
    assert!(out_text.contains("interrupted"), "{out_text}");
}

// ---------------------------------------------------------------------------------------------
// Many faults at once.

/// A deterministic stream of faults: about two requests in five get one.
fn chaos(n: usize, seen: &rogue::Seen, upstream: std::net::SocketAddr) -> (bool, Answer) {
    let pick = (n.wrapping_mul(2_654_435_761) >> 7) % 8;
    let answer = match pick {
        0 => Answer::Relay(upstream, Fault::Replace(rogue::response(502, &[], ""))),
        1 => Answer::Relay(upstream, Fault::Drop),
        2 => Answer::Bytes(rogue::response(503, &[], "")),
        3 if seen.method == "POST" => Answer::Relay(
            upstream,
            Fault::Replace(rogue::response(
                201,
                &[("Content-Type", "application/scim+json")],
                "",
            )),
        ),
        _ => return (false, Answer::Forward(upstream)),
    };
    (true, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_jobs_8_and_over_100_injected_faults_nothing_is_left_unlisted() {
    let server = common::server(&[]).await;
    let upstream = server.addr();
    let faults = Arc::new(AtomicUsize::new(0));
    let f = faults.clone();
    let proxy = Rogue::start(move |seen, n| {
        let (faulty, answer) = chaos(n, seen, upstream);
        if faulty {
            f.fetch_add(1, Ordering::SeqCst);
        }
        answer
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let report_path = dir.path().join("report.json");
    let mut total_faults = 0;
    let mut runs = 0;
    // Leftovers listed by any run so far (a later run does not repeat an earlier one's).
    let mut listed: BTreeSet<String> = BTreeSet::new();
    while total_faults < 100 && runs < 4 {
        runs += 1;
        let out = scimcheck(args(&[
            "run",
            "--url",
            &proxy.url("/scim/v2"),
            "--token",
            TOKEN,
            "--dialect",
            "both",
            "--jobs",
            "8",
            "--cleanup-retry",
            "10",
            "-q",
            "--report",
            &format!("json={}", report_path.display()),
        ]))
        .await;
        let out_text = text(&out);
        assert!(matches!(out.status.code(), Some(0 | 1 | 3)), "{out_text}");
        total_faults = faults.load(Ordering::SeqCst);
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report"))
                .expect("json");
        listed.extend(
            json["summary"]["leftovers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["path"].as_str().map(str::to_string)),
        );
        // Whatever is on the server now was listed: by its DELETE path, or by the look-up
        // that finds its unique name.
        let dump = server.dump();
        for (kind, collection, attr) in [
            ("users", "Users", "userName"),
            ("groups", "Groups", "displayName"),
        ] {
            for r in dump[kind].as_array().into_iter().flatten() {
                let path = format!("/{collection}/{}", r["id"].as_str().unwrap_or_default());
                let find = format!(
                    "/{collection}?filter={attr} eq \"{}\"",
                    r[attr].as_str().unwrap_or_default()
                );
                assert!(
                    listed.contains(&path) || listed.contains(&find),
                    "run {runs}: {path} ({find}) is on the server and not listed: {listed:?}\n{out_text}"
                );
            }
        }
    }
    eprintln!(
        "chaos: {total_faults} faults injected in {runs} run(s), {} leftovers listed",
        listed.len()
    );
    assert!(
        total_faults >= 100,
        "only {total_faults} faults were injected in {runs} runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_probe_with_a_billion_requests_stops_at_the_first_sigterm() {
    let child = spawn(&[
        "load",
        "--embedded",
        "--mode",
        "probe",
        "-n",
        "1000000000",
        "--rate",
        "max",
    ]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let started = Instant::now();
    let out = wait(child).await;
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(started.elapsed() < Duration::from_secs(30), "it stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_cuts_a_retry_after_wait_short_and_cleans_up() {
    let server = common::server(&[]).await;
    let upstream = server.addr();
    let proxy = Rogue::start(move |seen, _| {
        if is_create(seen) || seen.method == "DELETE" || seen.target.contains("/Users/") {
            Answer::Forward(upstream)
        } else {
            Answer::Bytes(rogue::response(429, &[("Retry-After", "50")], ""))
        }
    })
    .await;
    let scenario = lifecycle().replace(
        "  - name: Disable",
        "  - name: Throttled\n    request: { method: GET, path: /Users }\n    expect: { status: 200 }\n  - name: Disable",
    );
    let dir = scenario_dir("life.yaml", &scenario);
    let started = Instant::now();
    let out = scimcheck(run_args(
        &proxy.url("/scim/v2"),
        &dir,
        &["--max-retry-wait", "100", "--deadline", "2"],
    ))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(130), "{out_text}");
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "the 50 s wait was cut"
    );
    assert_eq!(users(&server), Vec::<Value>::new(), "{out_text}");
}
