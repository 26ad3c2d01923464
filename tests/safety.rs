//! Safe on a production tenant: data scimcheck did not create is never changed, everything it
//! creates is removed (also after Ctrl-C and after a create whose answer never came), `--keep`
//! and `--read-only` do what they say. Each test runs the real binary (or the real client)
//! against the embedded reference server, often behind a recording proxy that shows exactly
//! what was sent.

use crate::common;
use crate::rogue;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{TOKEN, args, output_text as text, scimcheck_async as scimcheck};
use rogue::{Answer, Rogue};
use scimcheck::http::{ClientOptions, OutRequest, Secret, TenantUrl, TransportError};
use scimcheck::run::{Owner, Tenant};
use scimcheck::server::Server;
use serde_json::{Value, json};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A reference server holding data that existed before scimcheck came: two users and a group.
/// Returns the server, the user ids and the group id.
async fn seeded() -> (Server, Vec<String>, String) {
    let server = common::server(&[]).await;
    let alice = server.seed_user(json!({
        "schemas": [USER],
        "userName": "alice@contoso.com",
        "externalId": "alice",
        "active": true,
        "name": { "givenName": "Alice", "familyName": "Ng" },
        "emails": [{ "value": "alice@contoso.com", "type": "work", "primary": true }]
    }));
    let bob = server.seed_user(json!({
        "schemas": [USER],
        "userName": "bob@contoso.com",
        "active": true
    }));
    let sales = server.seed_group(json!({
        "schemas": [GROUP],
        "displayName": "Sales",
        "members": [{ "value": alice }, { "value": bob }]
    }));
    (server, vec![alice, bob], sales)
}

/// Writes scenario files into a fresh directory.
fn scenarios(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).expect("write scenario");
    }
    dir
}

fn path_of(dir: &tempfile::TempDir) -> String {
    dir.path().display().to_string()
}

fn users(server: &Server) -> Vec<Value> {
    server.dump()["users"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn groups(server: &Server) -> Vec<Value> {
    server.dump()["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pre_existing_users_and_groups_are_byte_for_byte_unchanged_after_a_full_run() {
    let (server, _, _) = seeded().await;
    let before = server.dump().to_string();
    let out = scimcheck(args(&[
        "run",
        "--url",
        &server.base_url(),
        "--token",
        TOKEN,
        "--dialect",
        "both",
        "-q",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(server.request_count() > 50, "the whole suite ran");
    assert_eq!(server.dump().to_string(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_suite_plus_a_scenario_attacking_pre_existing_data_writes_nothing_to_it() {
    let (server, ids, sales) = seeded().await;
    let before = server.dump().to_string();
    let proxy = Rogue::proxy(server.addr()).await;
    let dir = scenarios(&[("foreign.yaml", foreign_scenario(&ids[0], &sales))]);
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/entra");
    let out = scimcheck(args(&[
        "run",
        "--url",
        &proxy.url("/scim/v2"),
        "--token",
        TOKEN,
        "--dialect",
        "both",
        "-q",
        &suite.display().to_string(),
        &path_of(&dir),
    ]))
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "only the attacking scenario fails:\n{}",
        text(&out)
    );
    let seen = proxy.seen();
    assert!(seen.len() > 50, "the whole suite ran");
    let touched: Vec<String> = seen
        .iter()
        .filter(|s| s.method != "GET")
        .filter(|s| {
            ids.iter()
                .chain([&sales])
                .any(|id| s.target.contains(id.as_str()))
        })
        .map(|s| s.line())
        .collect();
    assert!(
        touched.is_empty(),
        "writes reached pre-existing data: {touched:?}"
    );
    assert_eq!(server.dump().to_string(), before);
}

/// A user-written scenario whose every step writes to data this run did not create, spelt
/// every way that could slip past a naive guard.
fn foreign_scenario(alice: &str, sales: &str) -> String {
    format!(
        r#"
id: foreign
name: Writes to data this run did not create
description: Every step targets a user or group that existed before the run.
tags: [foreign]
steps:
  - name: Delete a pre-existing user
    id: foreign.delete-user
    request: {{ method: DELETE, path: "/Users/{alice}" }}
    expect: {{ status: 204 }}
  - name: Patch a pre-existing user
    id: foreign.patch-user
    request:
      method: PATCH
      path: "/Users/{alice}"
      body:
        schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
        Operations: [{{ op: replace, path: active, value: false }}]
    expect: {{ status: 200 }}
  - name: Dialect-neutral patch of a pre-existing user
    id: foreign.neutral-patch-user
    patch: {{ resource: "/Users/{alice}", set: {{ active: false }} }}
    expect: {{ status: 200 }}
  - name: Replace a pre-existing user
    id: foreign.put-user
    request:
      method: PUT
      path: "/Users/{alice}"
      body: {{ schemas: ["{USER}"], userName: mallory@contoso.com }}
    expect: {{ status: 200 }}
  - name: Delete a pre-existing group
    id: foreign.delete-group
    request: {{ method: DELETE, path: "/Groups/{sales}" }}
    expect: {{ status: 204 }}
  - name: Delete with the path spelt differently
    id: foreign.delete-respelt
    request: {{ method: delete, path: "Users/{alice}/?force=true" }}
    expect: {{ status: 204 }}
  - name: Delete through a method-override header
    id: foreign.delete-override
    request:
      method: POST
      path: "/Users/{alice}"
      headers: {{ X-HTTP-Method-Override: DELETE }}
    expect: {{ status: 204 }}
  - name: Delete through a bulk request
    id: foreign.delete-bulk
    request:
      method: POST
      path: /Bulk
      body:
        schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]
        Operations: [{{ method: DELETE, path: "/Users/{alice}" }}]
    expect: {{ status: 200 }}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_writing_to_foreign_data_is_refused_in_the_http_layer_and_sends_nothing() {
    let (server, ids, sales) = seeded().await;
    let before = server.dump().to_string();
    let proxy = Rogue::proxy(server.addr()).await;
    let dir = scenarios(&[("foreign.yaml", foreign_scenario(&ids[0], &sales))]);
    let out = scimcheck(args(&[
        "run",
        "--url",
        &proxy.url("/scim/v2"),
        "--token",
        TOKEN,
        "--dialect",
        "default",
        // Every check in full: the default output prints one finding once.
        "-v",
        &path_of(&dir),
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{out_text}");
    let sent: Vec<String> = proxy.seen().iter().map(|s| s.line()).collect();
    assert!(
        sent.is_empty(),
        "nothing may be sent, but the server saw {sent:?}"
    );
    assert_eq!(server.dump().to_string(), before);
    let alice = &ids[0];
    for refused in [
        format!("refused to send DELETE /Users/{alice}"),
        format!("refused to send PATCH /Users/{alice}"),
        format!("refused to send PUT /Users/{alice}"),
        format!("refused to send DELETE /Groups/{sales}"),
    ] {
        assert!(
            out_text.contains(&refused),
            "missing `{refused}` in:\n{out_text}"
        );
    }
    let guard = "transport: no response: scimcheck refused to send ";
    let why =
        ": that resource was not created by this run (use --allow-foreign-writes to override)";
    let refusals: Vec<&str> = out_text
        .lines()
        .filter(|l| l.contains(guard) && l.ends_with(why))
        .collect();
    assert_eq!(
        refusals.len(),
        8,
        "every step fails with the guard's message:\n{out_text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_allow_foreign_writes_the_same_writes_are_sent() {
    let (server, ids, sales) = seeded().await;
    let proxy = Rogue::proxy(server.addr()).await;
    let dir = scenarios(&[("foreign.yaml", foreign_scenario(&ids[0], &sales))]);
    let out = scimcheck(args(&[
        "run",
        "--url",
        &proxy.url("/scim/v2"),
        "--token",
        TOKEN,
        "--dialect",
        "default",
        "--allow-foreign-writes",
        &path_of(&dir),
    ]))
    .await;
    assert!(!text(&out).contains("refused to send"), "{}", text(&out));
    let sent: Vec<String> = proxy.seen().iter().map(|s| s.line()).collect();
    assert!(
        sent.contains(&format!("DELETE /scim/v2/Users/{}", ids[0])),
        "{sent:?}"
    );
    assert!(
        sent.contains(&format!("DELETE /scim/v2/Groups/{sales}")),
        "{sent:?}"
    );
    assert!(sent.iter().any(|s| s.starts_with("PATCH ")), "{sent:?}");
    assert!(sent.iter().any(|s| s.starts_with("PUT ")), "{sent:?}");
    let left: Vec<String> = users(&server)
        .iter()
        .map(|u| u["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        left,
        vec![ids[1].clone()],
        "alice was deleted, bob untouched"
    );
    assert!(groups(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_200_with_an_existing_resource_is_not_adopted_for_cleanup() {
    // An "upsert" endpoint answers a create for an existing userName with 200 and the existing
    // user: that user is not this run's and must not be deleted at cleanup.
    let server = Rogue::start(|seen, _| {
        Answer::Bytes(match seen.method.as_str() {
            "POST" => rogue::scim(
                200,
                &json!({"schemas": [USER], "id": "pre-existing-1", "userName": "alice@contoso.com"}),
            ),
            "GET" => rogue::scim(200, &rogue::empty_list()),
            _ => rogue::response(204, &[], ""),
        })
    })
    .await;
    let dir = scenarios(&[(
        "upsert.yaml",
        format!(
            r#"
id: upsert
name: Create a user with a fixed name
description: The user-written scenario creates a name that already exists.
steps:
  - name: Create
    request:
      method: POST
      path: /Users
      body: {{ schemas: ["{USER}"], userName: alice@contoso.com }}
    expect: {{ status: [200, 201] }}
"#
        ),
    )]);
    let out = scimcheck(args(&[
        "run",
        "--url",
        &server.url("/scim/v2"),
        "--token",
        TOKEN,
        "--dialect",
        "default",
        &path_of(&dir),
    ]))
    .await;
    // A failed check (nothing proves the answer is this run's), and no cleanup of it.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let sent: Vec<String> = server.seen().iter().map(|s| s.line()).collect();
    assert_eq!(
        sent,
        vec!["POST /scim/v2/Users"],
        "no cleanup of a resource that was not created"
    );
}

/// Spawns the binary with piped output, returning the child.
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

/// Waits (without asserting how long it takes) until `cond` holds; gives up after a minute.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("gave up waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_mid_suite_stops_cleans_up_everything_and_exits_130() {
    let server = common::server(&["slow=100"]).await;
    let url = server.base_url();
    let child = spawn(&["run", "--url", &url, "--token", TOKEN, "--dialect", "both"]);
    until("the run has created a user", || !users(&server).is_empty()).await;
    interrupt(child.id());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(130), "{out_text}");
    assert!(out_text.contains("interrupted: cleaning up"), "{out_text}");
    assert!(out_text.contains("INTERRUPTED"), "{out_text}");
    assert!(
        out_text.contains("skipped: the run was interrupted"),
        "{out_text}"
    );
    assert_eq!(
        server.dump(),
        json!({"users": [], "groups": []}),
        "{out_text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigint_exits_at_once_and_lists_every_resource_left_behind() {
    let server = common::server(&["slow=400"]).await;
    let url = server.base_url();
    let mut child = spawn(&["run", "--url", &url, "--token", TOKEN, "--dialect", "both"]);
    until("the run has created a user", || !users(&server).is_empty()).await;
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let pid = child.id();
    interrupt(pid);
    // The second signal only once the first one has been handled.
    tokio::task::spawn_blocking(move || {
        while let Ok(line) = rx.recv() {
            if line.contains("interrupted: cleaning up") {
                break;
            }
        }
    })
    .await
    .expect("join");
    interrupt(pid);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    let err = reader.join().expect("reader");
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        err.contains("exiting without finishing cleanup; left behind:"),
        "{err}"
    );
    // Whatever is still on the server is listed: with the DELETE that removes it, or, for a
    // create whose answer had not arrived yet, with the GET that finds it by its unique name.
    let dump = server.dump();
    for (kind, collection, name) in [
        ("users", "Users", "userName"),
        ("groups", "Groups", "displayName"),
    ] {
        for r in dump[kind].as_array().into_iter().flatten() {
            let delete = format!(
                "DELETE /{collection}/{}",
                r["id"].as_str().unwrap_or_default()
            );
            let find = format!(
                "GET /{collection}?filter={name} eq \"{}\"",
                r[name].as_str().unwrap_or_default()
            );
            assert!(
                err.contains(&delete) || err.contains(&find),
                "neither `{delete}` nor `{find}` is listed:\n{err}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_response_times_out_is_found_by_its_unique_name_and_deleted() {
    // The create is answered after 6 s; the client gives up after 3.
    let server = common::server(&["slow-create=6000"]).await;
    let dir = scenarios(&[(
        "create.yaml",
        format!(
            r#"
id: slow-create
name: A create that times out
description: The server stores the user but answers after the client gave up.
vars:
  upn: "{{{{ unique.userName }}}}"
steps:
  - name: Probe
    request: {{ method: GET, path: /Users, query: {{ filter: 'userName eq "{{{{ upn }}}}"' }} }}
    expect: {{ status: 200 }}
  - name: Create
    id: slow-create.create
    request:
      method: POST
      path: /Users
      body: {{ schemas: ["{USER}"], userName: "{{{{ upn }}}}", active: true }}
    expect: {{ status: 201 }}
    capture: {{ user_id: /id }}
    cleanup: {{ method: DELETE, path: "/Users/{{{{ user_id }}}}" }}
"#
        ),
    )]);
    let out = scimcheck(args(&[
        "run",
        "--url",
        &server.base_url(),
        "--token",
        TOKEN,
        "--dialect",
        "default",
        "--timeout",
        "3",
        "-v",
        &path_of(&dir),
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(1), "{out_text}");
    assert!(out_text.contains("no response within 3s"), "{out_text}");
    assert!(out_text.contains("[cleanup] DELETE "), "{out_text}");
    assert!(
        out_text.contains("[cleanup] GET "),
        "the delete was verified:\n{out_text}"
    );
    assert_eq!(
        server.dump(),
        json!({"users": [], "groups": []}),
        "{out_text}"
    );
    assert!(!out_text.contains("could not be removed"), "{out_text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sends_only_gets_and_leaves_the_tenant_unchanged() {
    let (server, _, _) = seeded().await;
    let before = server.dump().to_string();
    let proxy = Rogue::proxy(server.addr()).await;
    let out = scimcheck(args(&[
        "run",
        "--url",
        &proxy.url("/scim/v2"),
        "--token",
        TOKEN,
        "--dialect",
        "both",
        "--read-only",
        "-q",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let sent = proxy.seen();
    assert!(!sent.is_empty(), "the read-only checks ran");
    let writes: Vec<String> = sent
        .iter()
        .filter(|s| s.method != "GET")
        .map(|s| s.line())
        .collect();
    assert!(
        writes.is_empty(),
        "writes sent under --read-only: {writes:?}"
    );
    assert_eq!(server.dump().to_string(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_drops_writing_scenarios_and_the_client_refuses_any_write() {
    let (server, ids, sales) = seeded().await;
    let before = server.dump().to_string();
    // A writing scenario given on the command line is not run at all.
    let dir = scenarios(&[("foreign.yaml", foreign_scenario(&ids[0], &sales))]);
    let out = scimcheck(args(&[
        "run",
        "--url",
        &server.base_url(),
        "--token",
        TOKEN,
        "--read-only",
        &path_of(&dir),
    ]))
    .await;
    assert_eq!(server.request_count(), 0, "{}", text(&out));
    // And the run's client itself refuses writes, whatever asks for them.
    let client = Tenant::new(
        TenantUrl::parse(&server.base_url()).expect("url"),
        Secret::new(TOKEN),
        ClientOptions {
            read_only: true,
            allow_foreign_writes: true,
            ..ClientOptions::default()
        },
        Arc::new(|_: &str| true),
    )
    .expect("client");
    let mut create = OutRequest::new("POST", "/Users");
    create.body = Some(json!({"schemas": [USER], "userName": "x@contoso.com"}));
    let mut disguised = OutRequest::new("GET", format!("/Users/{}", ids[0]));
    disguised
        .headers
        .push(("X-HTTP-Method-Override".into(), "DELETE".into()));
    for req in [
        create,
        OutRequest::new("DELETE", format!("/Users/{}", ids[0])),
        OutRequest::new("PATCH", format!("/Groups/{sales}")),
        disguised,
    ] {
        let ex = client.send(&req, Owner::Command).await;
        assert!(
            matches!(ex.response, Err(TransportError::ReadOnly(_))),
            "{} {} was not refused: {:?}",
            req.method,
            req.path,
            ex.response
        );
    }
    assert_eq!(server.request_count(), 0);
    assert_eq!(server.dump().to_string(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_leaves_the_created_data_in_place_and_lists_it() {
    let server = common::server(&[]).await;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ok");
    let out = scimcheck(args(&[
        "run",
        "--url",
        &server.base_url(),
        "--token",
        TOKEN,
        "--dialect",
        "both",
        "--keep",
        &fixture.display().to_string(),
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(0), "{out_text}");
    let kept = users(&server);
    assert_eq!(kept.len(), 2, "one user per dialect is kept: {out_text}");
    for u in &kept {
        let line = format!(
            "kept /Users/{} ({})",
            u["id"].as_str().unwrap(),
            u["userName"].as_str().unwrap()
        );
        assert!(out_text.contains(&line), "`{line}` missing:\n{out_text}");
    }
    assert!(!out_text.contains("could not be removed"), "{out_text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overall_deadline_stops_the_run_cleans_up_and_exits_130() {
    let server = common::server(&["slow=200"]).await;
    let out = scimcheck(args(&[
        "run",
        "--url",
        &server.base_url(),
        "--token",
        TOKEN,
        "--dialect",
        "both",
        "--deadline",
        "1",
    ]))
    .await;
    let out_text = text(&out);
    assert_eq!(out.status.code(), Some(130), "{out_text}");
    assert!(
        out_text.contains("the --deadline of 1 s was reached: cleaning up"),
        "{out_text}"
    );
    assert_eq!(
        server.dump(),
        json!({"users": [], "groups": []}),
        "{out_text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_deleted_is_listed_with_method_and_path_in_the_output_and_the_json_report() {
    // A server whose deletes always fail.
    let sticky = Rogue::start(|seen, _| {
        let sent: Value = serde_json::from_str(&seen.body).unwrap_or_default();
        let user = json!({"schemas": [USER], "id": "sticky-1", "userName": sent["userName"]});
        Answer::Bytes(match seen.method.as_str() {
            "POST" => rogue::scim(201, &user),
            "DELETE" => rogue::scim(
                500,
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500", "detail": "locked"}),
            ),
            _ => rogue::scim(200, &user),
        })
    })
    .await;
    let dir = scenarios(&[(
        "create.yaml",
        format!(
            r#"
id: create
name: Create a user
description: The server never lets it go.
steps:
  - name: Create
    request:
      method: POST
      path: /Users
      body: {{ schemas: ["{USER}"], userName: "{{{{ unique.userName }}}}" }}
    expect: {{ status: 201 }}
"#
        ),
    )]);
    let report = dir.path().join("report.json");
    let out = scimcheck(args(&[
        "run",
        "--url",
        &sticky.url("/scim/v2"),
        "--token",
        TOKEN,
        "--dialect",
        "default",
        "--cleanup-retry",
        "1",
        "--report",
        &format!("json={}", report.display()),
        &path_of(&dir),
    ]))
    .await;
    let out_text = text(&out);
    assert!(
        out_text.contains("cleanup DELETE /Users/sticky-1"),
        "{out_text}"
    );
    assert!(
        out_text.contains("failed: DELETE answered 500"),
        "{out_text}"
    );
    let listed = out_text
        .split("Test data that could not be removed (delete it by hand):")
        .nth(1)
        .unwrap_or_else(|| panic!("no leftover list:\n{out_text}"));
    assert!(
        listed.contains("  DELETE /Users/sticky-1  (scimcheck-"),
        "{out_text}"
    );
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let leftovers = &json["summary"]["leftovers"];
    assert_eq!(leftovers[0]["path"], json!("/Users/sticky-1"), "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_inside_a_scenario_still_cleans_up_and_is_reported_as_a_failed_check() {
    use scimcheck::run::{Event, Outcome, RunConfig, Runner, plan};
    use scimcheck::scenario::Dialect;
    use scimcheck::scenario::template::Generators;

    let server = common::server(&[]).await;
    let generators = Arc::new(Generators::new(Generators::random_run_id()));
    let g = generators.clone();
    let client = Tenant::new(
        TenantUrl::parse(&server.base_url()).unwrap(),
        Secret::new(TOKEN),
        ClientOptions::default(),
        Arc::new(move |id: &str| g.minted(id)),
    )
    .unwrap();
    // Panic after the user was created and a manager set, before the rest of the scenario.
    let config = RunConfig {
        panic_at: Some("user.disable".into()),
        ..RunConfig::default()
    };
    let runner = Runner::new(Arc::new(client), generators, config);
    let lifecycle: Vec<_> = scimcheck::scenario::builtin()
        .into_iter()
        .filter(|l| l.id == "user-lifecycle")
        .map(Arc::new)
        .collect();
    let mut events = Vec::new();
    let summary = runner
        .run(&plan(&lifecycle, &[Dialect::Default]), &mut |e| {
            events.push(e.clone())
        })
        .await;

    let failed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::CheckFinished { result, .. } if result.outcome == Outcome::Fail => Some(result),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, "user-lifecycle.internal-error");
    assert!(
        failed[0].findings[0]
            .message
            .contains("test hook: panic at user.disable")
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Cleanup { .. })),
        "cleanup ran"
    );
    assert!(summary.leftovers.is_empty());
    assert_eq!(
        users(&server),
        Vec::<Value>::new(),
        "the created user was deleted"
    );
}
