//! The detection matrix: for every quirk of the reference server, the built-in suite (both
//! dialects) fails exactly the checks that the bug breaks, and nothing else; every check is caught
//! by some quirk; failures explain themselves; the SCIM Validator parity table is complete.
//!
//! The table, one entry per quirk, is in `detection_matrix/proofs.rs`. The whole matrix (a clean
//! run plus one run per row) is computed once, a few runs at a time, and shared by the tests of
//! this file.

mod proofs;

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use common::RunOutput;
use futures_util::StreamExt;
use proofs::{Ids, Proof, Row, Rule, proof, rows, token_endpoint_quirks};
use scimcheck::run::{CheckResult, Outcome};
use scimcheck::scenario::{Dialect, check_id};
use scimcheck::server::Quirk;
use serde_json::Value;

/// Checks that only the quirks breaking nearly everything catch: the setup steps (their job is
/// to create data for the checks after them) and the no-op verification after an empty PATCH.
const ONLY_BROAD_QUIRKS_CATCH: &[&str] = &[
    // The quirks that broke these before their own check now block them (their PATCH or GET
    // was rejected first): a verification of a rejected change is not judged.
    "discovery.resource-types.group",
    "user.enable.verified",
    "group.filter.existing",
    "group.members.setup-1",
    "group.members.setup-2",
    "group.members.setup-3",
    "user.filter.existing",
    "user.filter.setup",
    "user.filter.setup-manager",
    "user.manager.setup",
    "user.manager.setup-manager",
    "user.manager.setup-manager-2",
    "user.multi-ops.empty.verified",
    "user.multi-ops.setup",
    "user.page.setup",
    "user.shapes.active-noop.verified",
];

/// The quirks that break nearly every check.
const BROAD_QUIRKS: &[&str] = &[
    "json-content-type",
    "missing-schemas",
    "numeric-id",
    "missing-meta",
    "wrong-meta-location",
];

struct Matrix {
    clean: RunOutput,
    rows: Vec<(Row, RunOutput)>,
}

/// How many runs of the suite the matrix makes at once. They all share one task (the runner's
/// futures are not `Send`): started all at once, on a busy machine each run waits so long for its
/// turn that requests time out (seen as `user.match` or `group.match` failures). A few at a time
/// keep the task busy and every request well inside the client's timeout.
const RUNS_AT_ONCE: usize = 4;

fn matrix() -> &'static Matrix {
    static MATRIX: OnceLock<Matrix> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async {
            let rows = rows();
            // The clean run first, then one per row, in order.
            let settings = std::iter::once(&[][..]).chain(rows.iter().map(|r| &r.quirks[..]));
            let mut outs: Vec<RunOutput> = futures_util::stream::iter(settings)
                .map(common::run_suite)
                .buffered(RUNS_AT_ONCE)
                .collect()
                .await;
            let clean = outs.remove(0);
            Matrix {
                clean,
                rows: rows.into_iter().zip(outs).collect(),
            }
        })
    })
}

/// What a clean run tells about every check id, for the rules.
struct Facts {
    with_body: BTreeSet<String>,
    resource: BTreeSet<String>,
    schema_or_schemas: BTreeSet<String>,
    content_type_any: BTreeSet<String>,
    with_location: BTreeSet<String>,
}

fn facts(clean: &RunOutput) -> Facts {
    let mut f = Facts {
        with_body: BTreeSet::new(),
        resource: BTreeSet::new(),
        schema_or_schemas: BTreeSet::new(),
        content_type_any: BTreeSet::new(),
        with_location: BTreeSet::new(),
    };
    for s in scimcheck::scenario::builtin() {
        for step in &s.scenario.steps {
            let id = check_id(&s.id, &step.value);
            let Some(expect) = &step.value.expect else {
                continue;
            };
            let e = &expect.value;
            if e.schema.is_some() || e.body.as_ref().is_some_and(|b| b.get("schemas").is_some()) {
                f.schema_or_schemas.insert(id.clone());
            }
            if e.content_type.as_deref() == Some("any") {
                f.content_type_any.insert(id.clone());
            }
            let kind = e.schema.as_ref().map(|k| k.value.clone());
            for (_, c) in clean.checks.iter().filter(|(_, c)| c.id == id) {
                let Some(r) = c.exchange.as_ref().and_then(|x| x.response.as_ref().ok()) else {
                    continue;
                };
                if !r.body.trim().is_empty() {
                    f.with_body.insert(id.clone());
                }
                let json: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
                let located = |v: &Value| {
                    matches!(v["meta"]["resourceType"].as_str(), Some("User" | "Group"))
                        && v["meta"]["location"].is_string()
                };
                let listed = json["Resources"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(located));
                if located(&json) || listed {
                    f.with_location.insert(id.clone());
                }
                let holds_resource = match kind.as_deref() {
                    Some("User" | "Group") => json.get("id").is_some(),
                    Some("ListResponse") => json["Resources"].as_array().is_some_and(|items| {
                        items.iter().any(|i| {
                            matches!(i["meta"]["resourceType"].as_str(), Some("User" | "Group"))
                        })
                    }),
                    _ => false,
                };
                if holds_resource {
                    f.resource.insert(id.clone());
                }
            }
        }
    }
    f
}

fn expected(ids: Ids, f: &Facts) -> BTreeSet<String> {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    match ids {
        Ids::Exactly(v) => set(v),
        Ids::Rule(Rule::AnyBody) => f
            .with_body
            .difference(&f.content_type_any)
            .cloned()
            .collect(),
        Ids::Rule(Rule::SchemaOrSchemas) => f.schema_or_schemas.clone(),
        Ids::Rule(Rule::ResourcesAndManagerIdPatches) => {
            let extra = set(&[
                "user.manager.add",
                "user.manager.replace",
                "user.manager.object.add",
                "user.manager.object.replace",
            ]);
            f.resource.union(&extra).cloned().collect()
        }
        Ids::Rule(Rule::WithLocation) => f.with_location.clone(),
        Ids::Rule(Rule::ResourcesButCreates) => f
            .resource
            .difference(&set(&["user.create", "group.create"]))
            .cloned()
            .collect(),
    }
}

/// Ids with this outcome; for `Fail`, the checks a quirk breaks: failed, or blocked by a
/// failure at the root of their cascade.
fn ids(out: &RunOutput, outcome: Outcome) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = out.ids(outcome).into_iter().collect();
    if outcome == Outcome::Fail {
        s.extend(out.ids(Outcome::Blocked));
    }
    s
}

#[test]
fn a_blocked_check_names_a_failed_check_of_its_own_scenario_run_as_its_root() {
    let m = matrix();
    for (r, out) in &m.rows {
        for (d, c) in out
            .checks
            .iter()
            .filter(|(_, c)| c.outcome == Outcome::Blocked)
        {
            let root = c
                .blocked_by
                .as_deref()
                .expect("a blocked check names its root");
            assert!(
                out.checks
                    .iter()
                    .any(|(rd, rc)| rd == d && rc.id == root && rc.outcome == Outcome::Fail),
                "{:?}: {} [{d:?}] is blocked by {root}, which did not fail",
                r.quirks,
                c.id
            );
            assert!(c.note.is_some() && c.findings.is_empty(), "{}: {c:?}", c.id);
        }
    }
}

/// `- a` / `+ b` lines: what was expected but missing, what came unexpectedly.
fn difference(expected: &BTreeSet<String>, actual: &BTreeSet<String>) -> String {
    let missing = expected
        .difference(actual)
        .map(|i| format!("      - {i} (expected, not seen)"));
    let extra = actual
        .difference(expected)
        .map(|i| format!("      + {i} (seen, not expected)"));
    missing.chain(extra).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_quirk_fails_exactly_the_checks_it_breaks() {
    let m = matrix();
    let f = facts(&m.clean);
    let mut problems = Vec::new();
    for (r, out) in &m.rows {
        for (what, outcome, want) in [
            ("failing", Outcome::Fail, r.fails),
            ("warning", Outcome::Warn, r.warns),
        ] {
            let want = expected(want, &f);
            let got = ids(out, outcome);
            if want != got {
                problems.push(format!(
                    "  {:?}: {what} checks differ\n{}\n    actual: {got:?}",
                    r.quirks,
                    difference(&want, &got)
                ));
            }
        }
        if let Ids::Rule(rule) = r.fails {
            assert!(
                !expected(r.fails, &f).is_empty(),
                "{rule:?} selects no check at all"
            );
        }
    }
    assert!(
        problems.is_empty(),
        "detection matrix mismatches:\n{}",
        problems.join("\n")
    );
}

/// The token-endpoint quirks ([`Proof::Connect`]): each is proven by what `connect` finds, and
/// `connect` passes without a Secret Token against the clean token endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_token_endpoint_quirk_is_diagnosed_by_connect_and_the_clean_endpoint_passes() {
    use scimcheck::credential::{Credential, OAuthConfig};
    let mut problems = Vec::new();
    for (quirk, want) in [(None, &[][..])].into_iter().chain(
        token_endpoint_quirks()
            .into_iter()
            .map(|(q, c)| (Some(q), c)),
    ) {
        let quirks: Vec<Quirk> = quirk.cloned().into_iter().collect();
        let quirk = quirk.map_or("", Quirk::name);
        let server = scimcheck::server::Server::start(scimcheck::server::ServerOptions {
            quirks,
            oauth_client: Some(("client".into(), "client-secret-31415".into())),
            ..Default::default()
        })
        .await
        .expect("server");
        let report = scimcheck::connect::diagnose(scimcheck::connect::ConnectOptions {
            url: server.base_url(),
            credential: Credential::oauth(OAuthConfig {
                token_url: server.token_url().expect("token endpoint"),
                client_id: "client".into(),
                client_secret: "client-secret-31415".into(),
                scope: None,
            }),
            client: scimcheck::http::ClientOptions::default(),
            slow: std::time::Duration::from_secs(3),
        })
        .await
        .expect("diagnosis");
        let got: Vec<&str> = report
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .filter(|c| *c != "url.not-https")
            .collect();
        if got != want {
            problems.push(format!("  {quirk:?}: expected {want:?}, found {got:?}"));
        }
        for f in report
            .findings
            .iter()
            .filter(|f| f.code.as_str().starts_with("oauth."))
        {
            assert!(
                !f.fix.is_empty() && f.context.probes.contains(&1),
                "{quirk}: {f:?}"
            );
        }
        server.shutdown().await;
    }
    assert!(
        problems.is_empty(),
        "token endpoint diagnoses differ:\n{}",
        problems.join("\n")
    );
}

/// That every quirk has an entry, the exhaustive match of [`proof`] proves at compile time; this
/// checks that each entry runs its own quirk.
#[test]
fn every_quirk_of_the_reference_server_has_a_row() {
    let mut problems = Vec::new();
    for q in Quirk::ALL {
        let runs = match proof(q) {
            Proof::Alone { .. } | Proof::Connect(_) => continue,
            Proof::Runs(runs) => runs,
        };
        if runs.is_empty() {
            problems.push(format!("{}: no run", q.name()));
        }
        for r in runs {
            let parsed: Vec<Quirk> = r.quirks.iter().map(|s| s.parse().expect("quirk")).collect();
            if !parsed.iter().any(|p| p.name() == q.name()) {
                problems.push(format!(
                    "{}: the run {:?} does not switch it on",
                    q.name(),
                    r.quirks
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_clean_run_fails_nothing_and_every_check_is_caught_by_some_quirk() {
    let m = matrix();
    assert!(
        m.clean.ids(Outcome::Fail).is_empty(),
        "clean run failures: {:?}",
        m.clean.ids(Outcome::Fail)
    );
    let all: BTreeSet<String> = m.clean.checks.iter().map(|(_, c)| c.id.clone()).collect();
    let statically: BTreeSet<String> = scimcheck::scenario::builtin()
        .iter()
        .flat_map(|s| {
            s.scenario
                .steps
                .iter()
                .map(|st| check_id(&s.id, &st.value))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        all, statically,
        "every check of the suite ran in the clean run"
    );
    let caught_by = |broad: bool| -> BTreeSet<String> {
        m.rows
            .iter()
            .filter(|(r, _)| broad || !r.quirks.iter().any(|q| BROAD_QUIRKS.contains(q)))
            .flat_map(|(_, out)| {
                // Caught means the check itself failed or warned, not that it was blocked.
                let mut s: BTreeSet<String> = out.ids(Outcome::Fail).into_iter().collect();
                s.extend(ids(out, Outcome::Warn));
                s
            })
            .collect()
    };
    let caught = caught_by(true);
    let uncaught: Vec<&String> = all.difference(&caught).collect();
    assert!(
        uncaught.is_empty(),
        "checks that no quirk makes fail or warn: {uncaught:?}"
    );
    let only_broad: BTreeSet<String> = all.difference(&caught_by(false)).cloned().collect();
    let allowed: BTreeSet<String> = ONLY_BROAD_QUIRKS_CATCH
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        only_broad,
        allowed,
        "checks caught only by {BROAD_QUIRKS:?} (add a quirk that breaks them, or list them):\n{}",
        difference(&allowed, &only_broad)
    );
}

/// The result of `id` in `dialect` for the row with exactly these quirks.
fn result(quirks: &[&str], dialect: Dialect, id: &str) -> &'static CheckResult {
    let m = matrix();
    let (_, out) = m
        .rows
        .iter()
        .find(|(r, _)| r.quirks == quirks)
        .unwrap_or_else(|| panic!("no row {quirks:?}"));
    out.checks
        .iter()
        .find(|(d, c)| *d == dialect && c.id == id)
        .map(|(_, c)| c)
        .unwrap_or_else(|| panic!("no check {id} in {dialect:?} for {quirks:?}"))
}

/// Asserts the check failed with a finding of `kind` whose message contains `message`, and a
/// hint containing `hint`.
fn explains(quirk: &str, dialect: Dialect, id: &str, kind: &str, message: &str, hint: &str) {
    let r = result(&[quirk], dialect, id);
    assert_eq!(r.outcome, Outcome::Fail, "{quirk}: {id} in {dialect:?}");
    assert!(
        r.findings
            .iter()
            .any(|f| f.kind == kind && f.message.contains(message)),
        "{quirk}: {id} has no `{kind}` finding mentioning {message:?}: {:#?}",
        r.findings
    );
    let h = r.hint.as_deref().unwrap_or_default();
    assert!(
        h.contains(hint),
        "{quirk}: the hint of {id} does not mention {hint:?}: {h}"
    );
    assert!(
        r.exchange.is_some(),
        "{quirk}: {id} records the exchange it judged"
    );
}

#[test]
fn failing_checks_name_the_cause_and_the_consequence_in_entra_terms() {
    use Dialect::{Compliant, Default};
    explains(
        "rejects-capitalised-ops",
        Default,
        "user.update.replace",
        "status",
        "expected status 200 or 204, got 400",
        "capitalised",
    );
    // The same check passes in the compliant dialect, whose ops are lower-case.
    assert_eq!(
        result(
            &["rejects-capitalised-ops"],
            Compliant,
            "user.update.replace"
        )
        .outcome,
        Outcome::Pass
    );
    explains(
        "rejects-string-booleans",
        Default,
        "user.disable",
        "status",
        "got 400",
        "\"False\"",
    );
    explains(
        "remove-member-wipes-group",
        Default,
        "group.members.remove.verified",
        "body",
        "expected 2 item(s), got 0",
        "wipes every member",
    );
    explains(
        "filtered-path-rejected",
        Compliant,
        "group.members.remove",
        "status",
        "got 400",
        "members[value eq",
    );
    explains(
        "accepts-any-token",
        Default,
        "auth.wrong-token",
        "status",
        "expected status 401, got 200",
        "SECURITY",
    );
    explains(
        "json-content-type",
        Default,
        "connection.users-probe",
        "content-type",
        "application/scim+json",
        "SCIM Validator aborts",
    );
    explains(
        "empty-filter-returns-404",
        Compliant,
        "user.match",
        "status",
        "expected status 200, got 404",
        "empty ListResponse",
    );
    explains(
        "disable-deletes-user",
        Default,
        "user.disable.still-found",
        "status",
        "got 404",
        "must not delete",
    );
    explains(
        "case-sensitive-filter",
        Default,
        "user.filter.different-case",
        "body",
        "totalResults: expected 1, got 0",
        "caseExact",
    );
    explains(
        "ignores-pagination",
        Default,
        "user.page.second",
        "body",
        "startIndex",
        "startIndex",
    );
    explains(
        "discovery-pascal-case",
        Default,
        "discovery.schemas",
        "schema",
        "camelCase",
        "PascalCase",
    );
    explains(
        "returns-password",
        Default,
        "user.create.password",
        "schema",
        "password",
        "password",
    );
    explains(
        "manager-string-rejected",
        Default,
        "user.manager.add",
        "status",
        "got 400",
        "bare id string",
    );
    explains(
        "no-duplicate-check",
        Compliant,
        "user.create.duplicate",
        "status",
        "expected status 409, got 201",
        "409",
    );
    // Entra's fuller request shapes (issue 14).
    explains(
        "rejects-active-noop",
        Default,
        "user.shapes.active-noop",
        "status",
        "got 400",
        "quarantine",
    );
    explains(
        "filtered-replace-appends",
        Compliant,
        "user.shapes.typed-paths.verified",
        "body",
        "$.emails: expected 1 item(s), got 3",
        "not add a second",
    );
    explains(
        "case-sensitive-string-booleans",
        Default,
        "user.shapes.lowercase-false",
        "status",
        "got 400",
        "case-insensitively",
    );
    explains(
        "deleted-still-filtered",
        Default,
        "user.values.delete.gone-from-filter",
        "body",
        "totalResults: expected 0, got 1",
        "InvalidAnchor",
    );
    explains(
        "truncates-long-values",
        Compliant,
        "user.values.long",
        "body",
        "userName",
        "113 characters",
    );
    explains(
        "remove-non-member-fails",
        Default,
        "group.members.remove-non-member",
        "status",
        "got 400",
        "value-array form",
    );
    // A wrong status is the root cause: the body of that reply is not judged as well.
    let r = result(&["rejects-capitalised-ops"], Default, "user.update.replace");
    assert!(
        r.findings.iter().all(|f| f.kind == "status"),
        "{:#?}",
        r.findings
    );
}

/// The SCIM Validator's tests, as named in /work/shared/entra-reference.md.
const VALIDATOR_MANDATORY: [&str; 25] = [
    "Create a new User",
    "Create a duplicate User",
    "Filter for an existing user",
    "Filter for a non-existing user",
    "Filter for an existing user with a different case",
    "Patch User - Replace Attributes Verbose",
    "Update User userName",
    "Patch User - Disable User",
    "Patch User - Add Manager",
    "Patch User - Replace Manager",
    "Patch User - Remove Manager",
    "Patch User - Add Attributes Verbose Request",
    "Delete a User",
    "Get group by id excluding members",
    "Filter for existing group excluding members",
    "Filter for an existing group",
    "Filter for a non-existing group",
    "Filter for existing group different case",
    "Create a new Group",
    "Create a duplicate Group",
    "Patch Group - Replace Attributes",
    "Update Group displayName",
    "Patch Group - Add Member",
    "Patch Group - Remove Member",
    "Delete a Group",
];
const VALIDATOR_PREVIEW: [&str; 7] = [
    "Patch User - Multiple Ops on different attributes",
    "Patch User - Multiple Ops on same attribute",
    "Delete a non-existent User",
    "Delete the same User twice",
    "Patch Group - Multiple Ops on same attribute",
    "Delete a non-existent Group",
    "Delete the same Group twice",
];

#[test]
fn the_validator_parity_table_maps_every_validator_test_to_existing_checks() {
    let parity = scimcheck::scenario::parity::validator_parity();
    let names = |rows: &[scimcheck::scenario::parity::ParityRow]| {
        rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        names(&parity.mandatory),
        VALIDATOR_MANDATORY,
        "mandatory tests, in the validator's order"
    );
    assert_eq!(
        names(&parity.preview),
        VALIDATOR_PREVIEW,
        "preview tests, in the validator's order"
    );
    let suite: BTreeSet<String> = scimcheck::scenario::builtin()
        .iter()
        .flat_map(|s| {
            s.scenario
                .steps
                .iter()
                .map(|st| check_id(&s.id, &st.value))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut unknown = BTreeMap::new();
    for r in parity.mandatory.iter().chain(&parity.preview) {
        assert!(!r.checks.is_empty(), "{:?} maps to no check", r.name);
        let missing: Vec<&String> = r.checks.iter().filter(|c| !suite.contains(*c)).collect();
        if !missing.is_empty() {
            unknown.insert(r.name.clone(), missing);
        }
    }
    assert!(
        unknown.is_empty(),
        "parity rows naming checks the suite does not have: {unknown:?}"
    );
}

/// The SCIM Validation Logic App's 25 tests, as SCIM-Validation-Test-Overview.md lists them
/// (AzureAD/SCIMReferenceCode, Microsoft.SCIM.LogicAppValidationTemplate), and its 4 optional ones.
const LOGIC_APP_TESTS: [&str; 25] = [
    "Create_User_Test",
    "Update_User_Test",
    "Disable_User_Test",
    "Delete_User_Test",
    "User_Update_Manager_Test",
    "Restore_User_Test",
    "POD_User_Test",
    "Create_Group_Test",
    "Update_Group_Test",
    "Delete_Group_Test",
    "Group_Update_Add_Member_Test",
    "Group_Update_Remove_Member_Test",
    "POD_Group_Test",
    "Restore_Group_Test",
    "Schema_Discoverability_Test",
    "SCIM_Null_Update_Test",
    "SCIM_User_Create_Test",
    "SCIM_User_Update_Test",
    "SCIM_Group_Create_Test",
    "SCIM_Group_Update_Test",
    "Validate_Credentials_Test",
    "Federated_Identity_Test",
    "SCIM_User_Pagination_Test",
    "SCIM_Group_Pagination_Test",
    "SCIM_Update_Manager_Test",
];
const LOGIC_APP_OPTIONAL: [&str; 4] = [
    "Delete_User_Test",
    "Delete_Group_Test",
    "Restore_Group_Test",
    "SCIM_Group_Pagination_Test",
];

#[test]
fn the_logic_app_table_maps_every_test_to_existing_checks_or_names_the_gap() {
    let parity = scimcheck::scenario::parity::logic_app_parity();
    let names: Vec<&str> = parity.tests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names, LOGIC_APP_TESTS,
        "the Logic App's tests, in its order"
    );
    let suite: BTreeSet<String> = scimcheck::scenario::builtin()
        .iter()
        .flat_map(|s| {
            s.scenario
                .steps
                .iter()
                .map(|st| check_id(&s.id, &st.value))
                .collect::<Vec<_>>()
        })
        .collect();
    for r in &parity.tests {
        let optional = LOGIC_APP_OPTIONAL.contains(&r.name.as_str());
        let want = if optional { "optional" } else { "mandatory" };
        assert_eq!(r.category, want, "{}: category", r.name);
        assert!(
            !r.checks.is_empty() || r.gap.as_deref().is_some_and(|g| !g.trim().is_empty()),
            "{}: neither checks nor a gap",
            r.name
        );
        let missing: Vec<&String> = r.checks.iter().filter(|c| !suite.contains(*c)).collect();
        assert!(
            missing.is_empty(),
            "{}: names checks the suite does not have: {missing:?}",
            r.name
        );
    }
}

/// Issue 11: every check says why it exists. Its scenario's `entra:` text cites where the
/// requests come from (Microsoft Learn, the SCIM Validator or Logic App, an RFC, captured
/// traffic or entra-reference.md).
#[test]
fn every_scenario_cites_the_source_of_its_requests() {
    let sources = [
        "Microsoft Learn",
        "SCIM Validator",
        "Logic App",
        "RFC ",
        "entra-reference",
        "captur",
    ];
    let uncited: Vec<String> = scimcheck::scenario::builtin()
        .iter()
        .filter(|s| !sources.iter().any(|src| s.scenario.entra.contains(src)))
        .map(|s| s.id.clone())
        .collect();
    assert!(
        uncited.is_empty(),
        "scenarios whose `entra:` cites no source: {uncited:?}"
    );
}

#[test]
fn check_ids_are_unique_across_the_suite_and_every_check_explains_itself() {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for s in scimcheck::scenario::builtin() {
        for step in &s.scenario.steps {
            let st = &step.value;
            let id = check_id(&s.id, st);
            assert!(
                st.id.is_some(),
                "{id}: give every built-in check an explicit, stable `id`"
            );
            let area = id.split('.').next().unwrap_or_default();
            assert!(
                ["connection", "user", "group", "discovery", "auth"].contains(&area)
                    && id.contains('.'),
                "{id}: ids are `area.thing[.detail]`"
            );
            assert!(
                st.proves.as_deref().is_some_and(|p| !p.trim().is_empty()),
                "{id}: no `proves`"
            );
            assert!(
                st.hint.as_deref().is_some_and(|h| !h.trim().is_empty()),
                "{id}: no `hint`"
            );
            if let Some(other) = seen.insert(id.clone(), s.id.clone()) {
                panic!("check id {id} is used by scenarios {other} and {}", s.id);
            }
        }
    }
}
