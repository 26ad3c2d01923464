//! Attribute-mapping profiles: the built-in suite plus each profile's generated checks against
//! the embedded reference server, the quirks that break one mapped attribute, and the
//! `profiles` command.

use crate::common;

use std::sync::Arc;

use common::{TOKEN, scimcheck};
use scimcheck::http::{ClientOptions, Secret, TenantUrl};
use scimcheck::profile::{self, Profile};
use scimcheck::run::Tenant;
use scimcheck::run::{CheckResult, Event, Outcome, RunConfig, Runner, plan};
use scimcheck::scenario::template::Generators;
use scimcheck::scenario::{Dialect, Loaded};
use scimcheck::server::{Quirk, Server, ServerOptions};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// What a profile run produced: every check result with its dialect, and the requests sent.
struct ProfileRun {
    checks: Vec<(Dialect, CheckResult)>,
    requests: Vec<(String, String)>,
    leftovers: usize,
}

impl ProfileRun {
    fn not_passing(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|(_, c)| c.outcome != Outcome::Pass)
            .map(|(d, c)| {
                format!(
                    "[{}] {} {:?}: {:?} {:?}",
                    d.as_str(),
                    c.id,
                    c.outcome,
                    c.findings.iter().map(|f| &f.message).collect::<Vec<_>>(),
                    c.note
                )
            })
            .collect()
    }

    /// Every result of check `id` (one per dialect).
    fn results(&self, id: &str) -> Vec<&CheckResult> {
        let all: Vec<&CheckResult> = self
            .checks
            .iter()
            .filter(|(_, c)| c.id == id)
            .map(|(_, c)| c)
            .collect();
        assert!(!all.is_empty(), "no check {id}");
        all
    }

    fn ran(&self, prefix: &str) -> bool {
        self.checks.iter().any(|(_, c)| c.id.starts_with(prefix))
    }
}

/// The reference server standing in for the profile's app: quirks, and the app's required
/// attributes declared in /Schemas (unless `declare_required` is false).
async fn app_server(p: &Profile, quirks: &[&str], declare_required: bool) -> Server {
    let quirks: Vec<Quirk> = quirks.iter().map(|q| q.parse().expect("quirk")).collect();
    Server::start(ServerOptions {
        token: TOKEN.into(),
        quirks,
        required_attributes: if declare_required {
            profile::server_required_attributes(p)
        } else {
            vec![]
        },
        ..ServerOptions::default()
    })
    .await
    .expect("server starts")
}

/// The built-in suite with `p` applied, against `url`, in both dialects, the way `run
/// --profile` does it: /Schemas first, then the plan.
async fn run_profile_against(p: &Profile, url: &str, extra: Vec<Loaded>) -> ProfileRun {
    let target = TenantUrl::parse(url).expect("url");
    let secret = Secret::new(TOKEN);
    let mut scenarios: Vec<Arc<Loaded>> = scimcheck::scenario::builtin()
        .into_iter()
        .map(Arc::new)
        .collect();
    scenarios.extend(extra.into_iter().map(Arc::new));
    let credential = scimcheck::credential::Credential::from(secret.clone());
    let prepared = profile::prepare(
        p,
        &target,
        &credential,
        &ClientOptions::default(),
        scenarios,
    )
    .await;
    let generators =
        Arc::new(Generators::new(Generators::random_run_id()).with_profile(prepared.values));
    let g = generators.clone();
    let client = Tenant::new(
        target,
        secret,
        ClientOptions::default(),
        Arc::new(move |id: &str| g.minted(id)),
    )
    .expect("client")
    .with_run_prefix(generators.prefix());
    let config = RunConfig {
        profile: Some(p.name.clone()),
        ..RunConfig::default()
    };
    let runner = Runner::new(Arc::new(client), generators, config);
    let plan = plan(&prepared.scenarios, &[Dialect::Default, Dialect::Compliant]);
    let mut events = Vec::new();
    let summary = runner.run(&plan, &mut |e| events.push(e.clone())).await;
    let checks = common::checks_by_dialect(&events);
    let requests = events
        .iter()
        .filter_map(|e| match e {
            Event::RequestSent { check, request, .. } => Some((check.clone(), request.url.clone())),
            _ => None,
        })
        .collect();
    ProfileRun {
        checks,
        requests,
        leftovers: summary.leftovers.len(),
    }
}

/// A built-in profile against a fresh reference server with `quirks`; checks nothing is left.
async fn run_profile(name: &str, quirks: &[&str]) -> ProfileRun {
    let p = profile::builtin(name).expect("built-in profile");
    let server = app_server(&p, quirks, true).await;
    let out = run_profile_against(&p, &server.base_url(), vec![]).await;
    common::assert_no_test_data_left(&server, name);
    server.shutdown().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_builtin_profile_passes_the_suite_and_its_own_checks_against_the_reference_server() {
    for name in profile::builtin_names() {
        let p = profile::builtin(name).unwrap();
        let out = run_profile(name, &[]).await;
        let bad = out.not_passing();
        assert!(bad.is_empty(), "{name}: not passing:\n{}", bad.join("\n"));
        assert_eq!(out.leftovers, 0, "{name}");
        for a in &p.attributes {
            let slug = a.target.slug();
            for id in [
                format!("profile.schema.{slug}"),
                format!("profile.attr.readback.{slug}"),
                format!("profile.attr.readback-update.{slug}"),
            ] {
                assert_eq!(
                    out.results(&id).len(),
                    2,
                    "{name}: {id} runs once per dialect"
                );
            }
            if a.filterable {
                out.results(&format!("profile.filter.{slug}"));
            }
            if a.required {
                out.results(&format!("profile.required.{slug}"));
            }
        }
        out.results("profile.update");
        out.results("connection.users-probe");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_only_apps_skip_the_group_scenarios_and_apps_with_groups_run_them() {
    let tic_tac = run_profile("tic-tac-mobile", &[]).await;
    assert!(!tic_tac.ran("group."), "Tic-Tac Mobile gets no groups");
    tic_tac.results("connection.groups-probe"); // Test Connection probes /Groups anyway
    let maptician = run_profile("maptician", &[]).await;
    assert!(
        maptician.ran("group.members."),
        "Maptician gets groups and members"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracktik_runs_the_full_group_sequence_against_a_tenant_url_with_a_trailing_slash() {
    let p = profile::builtin("tracktik").unwrap();
    assert_eq!(p.groups_as.as_deref(), Some("roles"));
    let server = app_server(&p, &[], true).await;
    let url = format!("{}/", server.base_url());
    let out = run_profile_against(&p, &url, vec![]).await;
    let bad = out.not_passing();
    assert!(bad.is_empty(), "not passing:\n{}", bad.join("\n"));
    assert!(
        out.ran("group.members."),
        "groups (TrackTik roles) and their members are provisioned"
    );
    assert!(
        out.requests
            .iter()
            .all(|(_, url)| !url.contains("//Users") && !url.contains("//Groups")),
        "paths join onto the trailing slash cleanly: {:?}",
        out.requests.iter().take(3).collect::<Vec<_>>()
    );
    server.shutdown().await;
}

/// For each profile, a quirk that drops one of its attributes fails that attribute's read-back,
/// and the failure names the attribute; other attributes still pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_drops_a_mapped_attribute_fails_that_attributes_checks_naming_it() {
    let cases = [
        (
            "maptician",
            "drops-attribute=addresses",
            "addresses-work-locality",
            "addresses",
            "title",
        ),
        (
            "tic-tac-mobile",
            &format!("drops-attribute={ENTERPRISE}:costCenter") as &str,
            "enterprise-costcenter",
            "costCenter",
            "enterprise-department",
        ),
        (
            "tap-app-security",
            "drops-attribute=phoneNumbers",
            "phonenumbers-mobile-value",
            "phoneNumbers",
            "title",
        ),
        (
            "mindtickle",
            "drops-attribute=addresses.postalCode",
            "addresses-work-postalcode",
            "postalCode",
            "addresses-work-locality",
        ),
        (
            "tracktik",
            "drops-attribute=preferredLanguage",
            "preferredlanguage",
            "preferredLanguage",
            "title",
        ),
        (
            "entra-default",
            &format!("drops-attribute={ENTERPRISE}:manager") as &str,
            "enterprise-manager",
            "manager",
            "enterprise-department",
        ),
    ];
    for (name, quirk, slug, attribute, unaffected) in cases {
        let out = run_profile(name, &[quirk]).await;
        for id in [
            format!("profile.attr.readback.{slug}"),
            format!("profile.attr.readback-update.{slug}"),
        ] {
            for c in out.results(&id) {
                assert_eq!(
                    c.outcome,
                    Outcome::Fail,
                    "{name} with {quirk}: {id} should fail"
                );
                assert!(
                    c.name.contains(attribute),
                    "{name}: the check name names {attribute}: {}",
                    c.name
                );
                assert!(
                    c.findings.iter().any(|f| f.message.contains(attribute)),
                    "{name}: the failure names {attribute}: {:?}",
                    c.findings
                );
                assert!(
                    c.hint.as_deref().is_some_and(|h| h.contains(attribute)),
                    "{name}: hint"
                );
            }
        }
        for c in out.results(&format!("profile.attr.readback.{unaffected}")) {
            assert_eq!(
                c.outcome,
                Outcome::Pass,
                "{name} with {quirk}: {unaffected} is unaffected"
            );
        }
        // The server still publishes the attribute: the schema check is not to blame.
        for c in out.results(&format!("profile.schema.{slug}")) {
            assert_eq!(c.outcome, Outcome::Pass, "{name}: profile.schema.{slug}");
        }
    }
}

fn custom_profile(dir: &std::path::Path, text: &str) -> Profile {
    let path = dir.join("contoso.yaml");
    std::fs::write(&path, text).unwrap();
    profile::load_file(&path).unwrap_or_else(|d| panic!("{}", d[0]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_attribute_missing_from_the_servers_schemas_fails_its_schema_check() {
    let dir = tempfile::tempdir().unwrap();
    let p = custom_profile(
        dir.path(),
        "app: Contoso\nobjects: [users]\nattributes:\n  - { path: userName, type: String }\n  - { path: title, type: String }\n  - { path: 'urn:ietf:params:scim:schemas:extension:contoso:2.0:User:badge', type: String }\n",
    );
    let server = app_server(&p, &[], true).await;
    let out = run_profile_against(&p, &server.base_url(), vec![]).await;
    for c in out.results("profile.schema.contoso-badge") {
        assert_eq!(c.outcome, Outcome::Fail);
        assert!(
            c.name
                .contains("urn:ietf:params:scim:schemas:extension:contoso:2.0:User:badge"),
            "{}",
            c.name
        );
        assert!(
            c.findings.iter().any(|f| f
                .message
                .contains("urn:ietf:params:scim:schemas:extension:contoso:2.0:User")),
            "{:?}",
            c.findings
        );
    }
    for c in out.results("profile.schema.title") {
        assert_eq!(c.outcome, Outcome::Pass);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_attributes_are_checked_only_where_the_server_declares_them() {
    let p = profile::builtin("tap-app-security").unwrap();
    // Declared (and enforced): a create without each one is rejected.
    let strict = run_profile("tap-app-security", &[]).await;
    for slug in ["username", "active", "displayname", "title"] {
        for c in strict.results(&format!("profile.required.{slug}")) {
            assert_eq!(
                c.outcome,
                Outcome::Pass,
                "profile.required.{slug}: {:?}",
                c.findings
            );
        }
    }
    // Not declared: skipped with a note saying so (userName is required by RFC 7643 itself).
    let server = app_server(&p, &[], false).await;
    let lax = run_profile_against(&p, &server.base_url(), vec![]).await;
    for c in lax.results("profile.required.title") {
        assert_eq!(c.outcome, Outcome::Skip);
        let note = c.note.as_deref().unwrap_or_default();
        assert!(note.contains("does not declare `title` required"), "{note}");
    }
    for c in lax.results("profile.required.username") {
        assert_eq!(c.outcome, Outcome::Pass);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profiles_matching_attribute_drives_the_match_filters_and_the_probe_template() {
    let dir = tempfile::tempdir().unwrap();
    let p = custom_profile(
        dir.path(),
        "app: Contoso\nobjects: [users]\nmatching: externalId\nattributes:\n  - { path: userName, type: String }\n  - { path: externalId, type: String }\n  - { path: title, type: String, filterable: true }\n",
    );
    let probe = scimcheck::scenario::load_str(
        "probe.yaml",
        "id: probe\nname: Probe\nvars: { probe: \"{{ uuid }}\" }\nsteps:\n  - name: Users probe\n    request: { method: GET, path: /Users, query: { filter: '{{ profile.matching }} eq \"{{ probe }}\"' } }\n    expect: { status: 200, body: { totalResults: 0 } }\n",
        false,
    )
    .unwrap();
    let server = app_server(&p, &[], true).await;
    let out = run_profile_against(&p, &server.base_url(), vec![probe]).await;
    let bad = out.not_passing();
    assert!(bad.is_empty(), "not passing:\n{}", bad.join("\n"));
    let url_of = |check: &str| {
        out.requests
            .iter()
            .find(|(c, _)| c == check)
            .map(|(_, u)| u.clone())
            .unwrap_or_else(|| panic!("no request for {check}"))
    };
    assert!(
        url_of("probe.users-probe").contains("filter=externalId"),
        "{}",
        url_of("probe.users-probe")
    );
    assert!(
        url_of("profile.match").contains("filter=externalId"),
        "{}",
        url_of("profile.match")
    );
    // A non-unique filterable attribute is filtered together with the matching attribute.
    let title = url_of("profile.filter.title");
    assert!(
        title.contains("title") && title.contains("and") && title.contains("externalId"),
        "{title}"
    );
    server.shutdown().await;
}

#[test]
fn profiles_lists_the_builtin_profiles() {
    let out = scimcheck(&["profiles"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        text,
        String::from_utf8_lossy(&scimcheck(&["profiles", "list"], &[]).stdout)
    );
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("profiles__profiles_list", text);
    });
}

#[test]
fn profiles_show_prints_the_mapping_like_the_portal() {
    let out = scimcheck(&["profiles", "show", "maptician"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("profiles__profiles_show_maptician", text);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_profile_file_exits_2_with_file_line_column_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, "app: Contoso\nattributes:\n  - { path: userName, type: String }\n  - { path: titel, type: String }\n").unwrap();
    let file = path.display().to_string();
    let server = common::server(&[]).await;
    let url = server.base_url();
    let (f, u) = (file.clone(), url.clone());
    let out = tokio::task::spawn_blocking(move || {
        scimcheck(
            &["run", "--url", &u, "--token", TOKEN, "--profile", &f],
            &[],
        )
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains(&format!("{file}:4:13")), "{err}");
    assert!(err.contains("did you mean `title`?"), "{err}");
    assert_eq!(
        server.request_count(),
        0,
        "nothing is sent when the profile does not load"
    );
    let show = scimcheck(&["profiles", "show", &file], &[]);
    assert_eq!(show.status.code(), Some(2));
    let unknown = scimcheck(
        &[
            "run",
            "--url",
            &url,
            "--token",
            TOKEN,
            "--profile",
            "maptican",
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean `maptician`?"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_init_writes_a_starter_profile_from_schemas_that_runs_green() {
    let server = common::server(&[]).await;
    let url = server.base_url();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("starter.yaml");
    let (u, f) = (url.clone(), path.display().to_string());
    let out = tokio::task::spawn_blocking(move || {
        scimcheck(
            &[
                "profiles",
                "init",
                "--from-schemas",
                "--url",
                &u,
                "--token",
                TOKEN,
                "--out",
                &f,
                "--app",
                "Contoso",
            ],
            &[],
        )
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = profile::load_file(&path).unwrap_or_else(|d| panic!("{}", d[0]));
    assert_eq!(p.app, "Contoso");
    assert!(p.attributes.len() > 20, "{} attributes", p.attributes.len());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(TOKEN));
    let run = run_profile_against(&p, &url, vec![]).await;
    let bad = run.not_passing();
    assert!(bad.is_empty(), "not passing:\n{}", bad.join("\n"));
    server.shutdown().await;
}

#[test]
fn demo_with_a_profile_runs_its_checks_and_exits_0() {
    let out = scimcheck(&["demo", "-q", "--profile", "tap-app-security"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_readme_maptician_example_is_a_valid_profile_with_the_builtin_mapping() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let start = readme
        .find("# my-maptician.yaml\n")
        .expect("README has the Maptician example");
    let end = start + readme[start..].find("```").unwrap();
    let p = profile::load_str("my-maptician", "README.md", &readme[start..end], false)
        .unwrap_or_else(|d| panic!("{}", d[0]));
    let builtin = profile::builtin("maptician").unwrap();
    assert_eq!(p.attributes, builtin.attributes);
    assert_eq!((p.matching, p.objects), (builtin.matching, builtin.objects));
}
