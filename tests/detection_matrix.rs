//! The detection matrix: for every quirk of the reference server, the built-in suite (both
//! dialects) fails exactly the checks that the bug breaks, and nothing else; every check is caught
//! by some quirk; failures explain themselves; the SCIM Validator parity table is complete.
//!
//! The whole matrix (a clean run plus one run per row) is computed once, concurrently, and shared
//! by the tests of this file.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use common::RunOutput;
use scimcheck::run::{CheckResult, Outcome};
use scimcheck::scenario::{Dialect, check_id};
use serde_json::Value;

/// The expected set of check ids for one outcome.
#[derive(Clone, Copy)]
enum Ids {
    /// Exactly these.
    Exactly(&'static [&'static str]),
    /// Derived from the suite by a stated rule (for quirks that break nearly everything).
    Rule(Rule),
}

/// Rules for the quirks that break every check of a kind.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Every check whose response (in a clean run) has a body and whose step does not say
    /// `content_type: any`.
    AnyBody,
    /// Every check that validates a `schema:` or expects `schemas` in the body.
    SchemaOrSchemas,
    /// Every check that validates a User, Group or ListResponse body holding at least one user
    /// or group (in a clean run), plus the manager PATCHes, whose value then is a JSON number
    /// (the captured numeric id) that the server refuses.
    ResourcesAndManagerIdPatches,
    /// Every check that validates a User, Group or ListResponse body holding at least one user
    /// or group, except the two creates (which fail on their `meta` assertions instead).
    ResourcesButCreates,
    /// Every check whose response (in a clean run) holds a user or group with `meta.location`.
    WithLocation,
}

struct Row {
    quirks: &'static [&'static str],
    fails: Ids,
    warns: Ids,
}

const NONE: Ids = Ids::Exactly(&[]);

const fn row(quirks: &'static [&'static str], fails: &'static [&'static str]) -> Row {
    Row {
        quirks,
        fails: Ids::Exactly(fails),
        warns: NONE,
    }
}

const EMPLOYEE_NUMBER: &str =
    "drops-attribute=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";

/// Every PATCH the suite sends that carries at least one capitalised op in the default dialect,
/// and every verification that follows one.
const CAPITALISED_OPS: &[&str] = &[
    "user.shapes.active-noop.verified",
    "user.enable.verified",
    "user.manager.object.remove.verified",
    "user.manager.remove.verified",
    "group.members.add",
    "group.members.add.verified",
    "group.members.multi-ops",
    "group.members.multi-ops.verified",
    "group.members.remove",
    "group.members.remove.verified",
    "group.update.display-name",
    "group.update.display-name.verified",
    "group.update.external-id",
    "group.update.external-id.verified",
    "user.disable",
    "user.disable.still-found",
    "user.disable.still-listed",
    "user.enable",
    "user.manager.add",
    "user.manager.add.verified",
    "user.manager.object.add",
    "user.manager.object.add.verified",
    "user.manager.object.remove",
    "user.manager.object.replace",
    "user.manager.object.replace.verified",
    "user.manager.remove",
    "user.manager.replace",
    "user.manager.replace.verified",
    "user.multi-ops.different-attributes",
    "user.multi-ops.different-attributes.verified",
    "user.multi-ops.same-attribute",
    "user.multi-ops.same-attribute.verified",
    "user.update.add-attributes",
    "user.update.add-attributes.verified",
    "user.update.replace",
    "user.update.replace.verified",
    "user.update.username",
    "user.update.username.filter",
    "user.update.username.verified",
    "group.members.readd-existing",
    "group.members.readd-existing.verified",
    "group.members.remove-non-member",
    "group.members.remove-non-member.verified",
    "group.members.remove-several",
    "group.members.remove-several.verified",
    "user.shapes.active-noop",
    "user.shapes.capitalised-sub-attributes",
    "user.shapes.capitalised-sub-attributes.verified",
    "user.shapes.clear-empty",
    "user.shapes.clear-empty.verified",
    "user.shapes.clear-null",
    "user.shapes.clear-null.verified",
    "user.shapes.lowercase-false",
    "user.shapes.lowercase-false.verified",
    "user.shapes.lowercase-true",
    "user.shapes.typed-paths",
    "user.shapes.typed-paths.verified",
    "user.roles.complex.add",
    "user.roles.complex.add.verified",
    "user.roles.primary-path",
    "user.roles.primary-path.verified",
    "user.roles.single.add",
    "user.roles.single.add.verified",
    "group.member-shapes.setup-members",
    "group.member-shapes.setup-members.verified",
    "group.get.excluding-members",
    "group.filter.excluding-members",
];

/// Every verification that follows a PATCH which really changes something.
const PATCH_VERIFICATIONS: &[&str] = &[
    "group.members.add.verified",
    "group.members.multi-ops.verified",
    "group.members.remove.verified",
    "group.update.display-name.verified",
    "group.update.external-id.verified",
    "user.disable.still-found",
    "user.disable.still-listed",
    // (not user.enable.verified: with the disable dropped too, the user is still active)
    "user.manager.add.verified",
    "user.manager.object.add.verified",
    "user.manager.object.replace.verified",
    "user.manager.replace.verified",
    "user.multi-ops.different-attributes.verified",
    "user.multi-ops.same-attribute.verified",
    "user.update.add-attributes.verified",
    "user.update.replace.verified",
    "user.update.username.filter",
    "user.update.username.verified",
    "group.members.readd-existing.verified",
    "group.members.remove-non-member.verified",
    "group.members.remove-several.verified",
    "user.shapes.capitalised-sub-attributes.verified",
    "user.shapes.clear-empty.verified",
    "user.shapes.clear-null.verified",
    "user.shapes.lowercase-false.verified",
    "user.shapes.typed-paths.verified",
    "user.roles.assertive.replace.verified",
    "user.roles.complex.add.verified",
    "user.roles.primary-path.verified",
    "user.roles.single.add.verified",
    "group.member-shapes.setup-members.verified",
];

/// Checks that answer a SCIM Error in a conformant run (404s and 409s).
const SCIM_ERRORS: &[&str] = &[
    "group.create.duplicate",
    "group.delete.gone",
    "group.delete.nonexistent",
    "group.delete.twice",
    "user.create.duplicate",
    "user.delete.gone",
    "user.delete.nonexistent",
    "user.delete.twice",
    "user.get.unknown-id",
];

fn rows() -> Vec<Row> {
    vec![
        Row {
            quirks: &["json-content-type"],
            fails: Ids::Rule(Rule::AnyBody),
            warns: NONE,
        },
        row(
            &["create-returns-200"],
            &[
                "group.create",
                "user.create",
                "user.create.variant",
                "user.create.password",
                "group.member-shapes.setup-1",
                "group.member-shapes.setup-2",
                "group.member-shapes.setup-3",
                "group.member-shapes.setup-group",
                "user.shapes.custom-extension",
                "user.shapes.setup",
                "user.values.create",
                "user.values.long",
                "user.roles.complex.create",
                "user.roles.single.create",
            ],
        ),
        row(
            &["no-duplicate-check"],
            &["group.create.duplicate", "user.create.duplicate"],
        ),
        row(
            &["case-sensitive-filter"],
            &["group.filter.different-case", "user.filter.different-case"],
        ),
        row(&["rejects-capitalised-ops"], CAPITALISED_OPS),
        row(
            &["rejects-string-booleans"],
            &[
                "user.shapes.active-noop.verified",
                "user.enable.verified",
                "user.disable",
                "user.disable.still-found",
                "user.disable.still-listed",
                "user.enable",
                "user.shapes.active-noop",
                "user.shapes.capitalised-sub-attributes.verified",
                "user.shapes.lowercase-false",
                "user.shapes.lowercase-false.verified",
                "user.shapes.lowercase-true",
                "user.shapes.typed-paths",
                "user.shapes.typed-paths.verified",
            ],
        ),
        row(
            &["remove-member-wipes-group"],
            &[
                "group.members.multi-ops.verified",
                "group.members.remove.verified",
                "group.members.remove-non-member.verified",
                "group.members.remove-several.verified",
            ],
        ),
        row(
            &["ignores-excluded-attributes"],
            &[
                "group.filter.excluding-members",
                "group.get.excluding-members",
                "user.filter.id-and-manager",
            ],
        ),
        row(
            &["empty-filter-returns-404"],
            &[
                "connection.groups-probe",
                "connection.keepalive.end",
                "connection.keepalive.middle",
                "connection.users-probe",
                "group.filter.non-existing",
                "group.match",
                "user.filter.non-existing",
                "user.match",
                "user.values.delete.gone-from-filter",
            ],
        ),
        row(&["drops-patch-changes"], PATCH_VERIFICATIONS),
        row(
            &["disable-deletes-user"],
            &[
                "user.delete.gone",
                "user.delete.nonexistent",
                "user.delete.twice",
                "user.delete",
                "user.disable.still-found",
                "user.disable.still-listed",
                "user.enable",
                "user.enable.verified",
                // The rename comes after the disable, when the user is already gone.
                "user.update.username",
                "user.update.username.filter",
                "user.update.username.verified",
                "user.shapes.capitalised-sub-attributes",
                "user.shapes.capitalised-sub-attributes.verified",
                "user.shapes.clear-empty",
                "user.shapes.clear-empty.verified",
                "user.shapes.clear-null",
                "user.shapes.clear-null.verified",
                "user.shapes.lowercase-false.verified",
                "user.shapes.lowercase-true",
                "user.shapes.typed-paths",
                "user.shapes.typed-paths.verified",
            ],
        ),
        row(&["non-scim-errors"], SCIM_ERRORS),
        // The group create fails, so every later group check is skipped (not failed).
        row(
            &["groups-not-found"],
            &[
                "group.members.readd-existing",
                "group.members.readd-existing.verified",
                "group.members.remove-non-member",
                "group.members.remove-non-member.verified",
                "group.members.remove-several",
                "group.members.remove-several.verified",
                "group.delete",
                "group.delete.gone",
                "group.delete.nonexistent",
                "group.delete.twice",
                "group.filter.different-case",
                "group.filter.excluding-members",
                "group.filter.existing",
                "group.get.excluding-members",
                "group.members.add",
                "group.members.add.verified",
                "group.members.multi-ops",
                "group.members.multi-ops.verified",
                "group.members.remove",
                "group.members.remove.verified",
                "group.update.display-name",
                "group.update.display-name.verified",
                "group.update.external-id",
                "group.update.external-id.verified",
                "connection.groups-probe",
                "group.create",
                "group.create.duplicate",
                "group.filter.non-existing",
                "group.match",
                "group.member-shapes.setup-group",
                "group.member-shapes.setup-members",
                "group.member-shapes.setup-members.verified",
            ],
        ),
        row(
            &["accepts-any-token"],
            &["auth.no-token", "auth.wrong-token"],
        ),
        row(
            &["ignores-pagination"],
            &["user.page.first", "user.page.last", "user.page.second"],
        ),
        row(
            &["manager-string-rejected"],
            &[
                "user.manager.remove.verified",
                "user.manager.add",
                "user.manager.add.verified",
                "user.manager.remove",
                "user.manager.replace",
                "user.manager.replace.verified",
            ],
        ),
        row(
            &["manager-object-rejected"],
            &[
                "user.manager.object.remove.verified",
                "user.manager.object.add",
                "user.manager.object.add.verified",
                "user.manager.object.remove",
                "user.manager.object.replace",
                "user.manager.object.replace.verified",
            ],
        ),
        row(
            &["empty-operations-rejected"],
            &["user.multi-ops.empty", "user.multi-ops.empty.verified"],
        ),
        // Filtered paths: the work email (both dialects) and member removal (compliant dialect).
        row(
            &["filtered-path-rejected"],
            &[
                "group.members.multi-ops",
                "group.members.multi-ops.verified",
                "group.members.remove",
                "group.members.remove.verified",
                "user.update.replace",
                "user.update.replace.verified",
                "group.members.readd-existing.verified",
                "group.members.remove-several",
                "group.members.remove-several.verified",
                "user.shapes.capitalised-sub-attributes",
                "user.shapes.capitalised-sub-attributes.verified",
                "user.shapes.typed-paths",
                "user.shapes.typed-paths.verified",
                "user.roles.primary-path",
                "user.roles.primary-path.verified",
                "group.members.readd-existing",
            ],
        ),
        row(
            &["dotted-keys-rejected"],
            &["user.update.replace", "user.update.replace.verified"],
        ),
        Row {
            quirks: &["missing-schemas"],
            fails: Ids::Rule(Rule::SchemaOrSchemas),
            warns: NONE,
        },
        Row {
            quirks: &["missing-meta"],
            fails: Ids::Exactly(&["group.create", "user.create"]),
            warns: Ids::Rule(Rule::ResourcesButCreates),
        },
        Row {
            quirks: &["numeric-id"],
            fails: Ids::Rule(Rule::ResourcesAndManagerIdPatches),
            warns: NONE,
        },
        row(&["returns-password"], &["user.create.password"]),
        row(&["rejects-explicit-nulls"], &["user.create.variant"]),
        // RFC-allowed variants and Entra-only servers: a tolerant, correct server fails nothing,
        // even under `--strict all` (issue 11: no false failures).
        row(&["omits-empty-resources"], &[]),
        row(&["minimal-group-meta"], &[]),
        row(&["absolute-resource-type-endpoints"], &[]),
        row(&["eq-and-filters-only"], &[]),
        row(&["requires-name-formatted"], &[]),
        // An attribute the server does not publish: its value checks warn, naming the cause.
        Row {
            quirks: &["unpublished-nickname"],
            fails: NONE,
            warns: Ids::Exactly(&[
                "user.update.add-attributes.verified",
                "user.multi-ops.different-attributes.verified",
                "user.multi-ops.same-attribute.verified",
            ]),
        },
        row(
            &["ignores-username-change"],
            &[
                "user.update.username.filter",
                "user.update.username.verified",
            ],
        ),
        row(
            &["delete-returns-200"],
            &["group.delete", "user.delete", "user.values.delete"],
        ),
        row(
            &["delete-missing-returns-204"],
            &[
                "group.delete.nonexistent",
                "group.delete.twice",
                "user.delete.nonexistent",
                "user.delete.twice",
            ],
        ),
        row(
            &["wrong-total-results"],
            &["user.page.first", "user.page.last", "user.page.second"],
        ),
        row(&["omits-empty-members"], &[]),
        row(
            &["rejects-entra-group-schema"],
            &[
                "group.member-shapes.setup-group",
                "group.member-shapes.setup-members",
                "group.member-shapes.setup-members.verified",
                "group.members.readd-existing",
                "group.members.readd-existing.verified",
                "group.members.remove-non-member",
                "group.members.remove-non-member.verified",
                "group.members.remove-several",
                "group.members.remove-several.verified",
                "group.delete",
                "group.delete.gone",
                "group.delete.nonexistent",
                "group.delete.twice",
                "group.filter.different-case",
                "group.filter.excluding-members",
                "group.filter.existing",
                "group.get.excluding-members",
                "group.members.add",
                "group.members.add.verified",
                "group.members.multi-ops",
                "group.members.multi-ops.verified",
                "group.members.remove",
                "group.members.remove.verified",
                "group.update.display-name",
                "group.update.display-name.verified",
                "group.update.external-id",
                "group.update.external-id.verified",
                "group.create",
                "group.create.duplicate",
            ],
        ),
        row(&["unquoted-filter-rejected"], &["user.filter.unquoted"]),
        row(&["and-filter-rejected"], &["user.filter.id-and-manager"]),
        // discovery.schemas.consistent is skipped: the resource types it compares with are missing.
        row(
            &["discovery-not-found"],
            &[
                "discovery.schemas.consistent",
                "discovery.enterprise-extension",
                "discovery.resource-types",
                "discovery.resource-types.group",
                "discovery.schemas",
                "discovery.service-provider-config",
            ],
        ),
        row(&["discovery-nulls"], &["discovery.schemas"]),
        row(&["discovery-pascal-case"], &["discovery.schemas"]),
        row(
            &["schemas-not-list-response"],
            &["discovery.schemas", "discovery.schemas.consistent"],
        ),
        row(
            &["unknown-id-returns-200"],
            &[
                "group.delete.gone",
                "user.delete.gone",
                "user.get.unknown-id",
            ],
        ),
        // Entra tolerates a numeric Error status: every SCIM Error check warns, none fails.
        Row {
            quirks: &["error-status-number"],
            fails: NONE,
            warns: Ids::Exactly(SCIM_ERRORS),
        },
        row(
            &["first-patch-op-only"],
            &[
                "group.members.multi-ops.verified",
                "user.multi-ops.different-attributes.verified",
                "user.multi-ops.same-attribute.verified",
                "user.update.add-attributes.verified",
                "user.update.replace.verified",
                "group.members.readd-existing.verified",
                "group.members.remove-several.verified",
                "user.shapes.capitalised-sub-attributes.verified",
                "user.shapes.clear-empty.verified",
                "user.shapes.clear-null.verified",
                "user.shapes.typed-paths.verified",
            ],
        ),
        row(
            &["drops-attribute=title"],
            &[
                "user.multi-ops.different-attributes.verified",
                "user.multi-ops.same-attribute.verified",
                "user.update.add-attributes.verified",
            ],
        ),
        row(
            &[EMPLOYEE_NUMBER],
            &["user.create", "user.get", "user.update.replace.verified"],
        ),
        row(
            &["drops-attribute=emails"],
            &[
                "user.create",
                "user.filter.work-email",
                "user.get",
                "user.update.replace.verified",
                "user.shapes.capitalised-sub-attributes.verified",
                "user.shapes.typed-paths.verified",
                "user.values.create",
            ],
        ),
        // Latency alone fails nothing (the client's timeout is far longer); the timeout handling
        // itself is tested with a short --timeout elsewhere.
        row(&["slow=5"], &[]),
        row(&["slow-create=20"], &[]),
        row(
            &["drops-attribute=externalId"],
            &[
                "group.create",
                "group.get.excluding-members",
                "group.update.external-id.verified",
                "user.create",
                "user.filter.external-id",
                "user.filter.unquoted",
                "user.get",
            ],
        ),
        row(
            &["keeps-manager-on-empty-value"],
            &[
                "user.manager.object.remove.verified",
                "user.manager.remove.verified",
            ],
        ),
        // Entra's fuller request shapes (issue 14), one quirk per bug.
        row(
            &["rejects-active-noop"],
            &[
                "user.shapes.active-noop.verified",
                "user.shapes.active-noop",
            ],
        ),
        row(
            &["case-sensitive-string-booleans"],
            &[
                "user.shapes.lowercase-false",
                "user.shapes.lowercase-false.verified",
                "user.shapes.lowercase-true",
            ],
        ),
        // The appended work email also shows in the later capitalised-sub-attribute read-back,
        // and in the lifecycle's replace of the work email.
        row(
            &["filtered-replace-appends"],
            &[
                "user.shapes.capitalised-sub-attributes.verified",
                "user.shapes.typed-paths.verified",
                "user.update.replace.verified",
                "user.roles.primary-path.verified",
            ],
        ),
        row(
            &["case-sensitive-sub-attributes"],
            &[
                "user.shapes.capitalised-sub-attributes",
                "user.shapes.capitalised-sub-attributes.verified",
            ],
        ),
        row(
            &["extension-needs-schemas-entry"],
            &[
                "user.shapes.custom-extension",
                "user.shapes.custom-extension.verified",
            ],
        ),
        // Entra removes the bare-string manager with an empty value: rejected too.
        row(
            &["rejects-clearing-values"],
            &[
                "user.manager.remove",
                "user.manager.remove.verified",
                "user.shapes.clear-empty",
                "user.shapes.clear-empty.verified",
                "user.shapes.clear-null",
                "user.shapes.clear-null.verified",
            ],
        ),
        // The value-array form only exists in the default dialect; the compliant one sends one
        // op per member.
        row(
            &["removes-first-member-only"],
            &[
                "group.members.readd-existing.verified",
                "group.members.remove-non-member.verified",
                "group.members.remove-several.verified",
            ],
        ),
        row(
            &["readd-member-conflicts"],
            &[
                "group.members.readd-existing.verified",
                "group.members.readd-existing",
            ],
        ),
        row(
            &["remove-non-member-fails"],
            &[
                "group.members.remove-non-member.verified",
                "group.members.remove-non-member",
            ],
        ),
        row(
            &["deleted-still-filtered"],
            &["user.values.delete.gone-from-filter"],
        ),
        row(
            &["mangles-non-ascii"],
            &[
                "user.values.create",
                "user.values.get",
                "user.values.long",
                "user.values.long.filter",
            ],
        ),
        row(
            &["truncates-long-values"],
            &["user.values.long", "user.values.long.filter"],
        ),
        row(&["filter-plus-as-space"], &["user.values.filter"]),
        row(
            &["string-boolean-filter-misses"],
            &[
                "user.roles.primary-path",
                "user.roles.primary-path.verified",
            ],
        ),
        row(
            &["multi-valued-replace-rejected"],
            &[
                "user.roles.assertive.replace",
                "user.roles.assertive.replace.verified",
            ],
        ),
        row(
            &["multi-valued-replace-merges"],
            &["user.roles.assertive.replace.verified"],
        ),
        // The rejected Add also leaves the later primary-path read-back one role short.
        row(
            &["role-json-value-rejected"],
            &[
                "user.roles.complex.add",
                "user.roles.complex.add.verified",
                "user.roles.primary-path.verified",
                "user.roles.single.add",
                "user.roles.single.add.verified",
            ],
        ),
        // Entra ignores meta.location: a wrong one warns wherever a user or group carries it.
        Row {
            quirks: &["wrong-meta-location"],
            fails: NONE,
            warns: Ids::Rule(Rule::WithLocation),
        },
        // Two dropped attributes at once: the failures add up.
        row(
            &[
                "drops-attribute=nickName",
                "drops-attribute=preferredLanguage",
            ],
            &[
                "user.multi-ops.different-attributes.verified",
                "user.multi-ops.same-attribute.verified",
                "user.update.add-attributes.verified",
            ],
        ),
    ]
}

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

fn matrix() -> &'static Matrix {
    static MATRIX: OnceLock<Matrix> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async {
            // One task, many runs at once (the runner's futures are not `Send`).
            let rows = rows();
            let runs =
                futures_util::future::join_all(rows.iter().map(|r| common::run_suite(r.quirks)));
            let (clean, outs) = futures_util::future::join(common::run_suite(&[]), runs).await;
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

/// The token-endpoint quirks (`oauth-*`, which act only with `--oauth-client`): no check of the
/// suite sends a token request, so each is proven by what `connect` finds (the Test Connection
/// gate of `run` prints the same and stops), apart from `connect`'s Secret-Token-free pass
/// against the clean token endpoint. `oauth-tokens-die-early` is invisible to a single token
/// request: tests/oauth.rs proves that a run refreshes through it (and through
/// `oauth-short-lived-tokens`).
const TOKEN_ENDPOINT_QUIRKS: &[(&str, &[&str])] = &[
    (
        "oauth-credentials-in-body-only",
        &["oauth.credentials-in-body-only"],
    ),
    ("oauth-rejects-form", &["oauth.form-rejected"]),
    ("oauth-no-access-token", &["oauth.no-access-token"]),
    (
        "oauth-expires-in-out-of-window",
        &["oauth.expires-in-window"],
    ),
    ("oauth-short-lived-tokens", &["oauth.expires-in-window"]),
    ("oauth-tokens-die-early", &[]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_token_endpoint_quirk_is_diagnosed_by_connect_and_the_clean_endpoint_passes() {
    use scimcheck::credential::{Credential, OAuthConfig};
    let mut problems = Vec::new();
    for (quirk, want) in [("", &[][..])]
        .into_iter()
        .chain(TOKEN_ENDPOINT_QUIRKS.iter().copied())
    {
        let quirks = if quirk.is_empty() {
            vec![]
        } else {
            vec![quirk.parse().expect("quirk")]
        };
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

#[test]
fn every_quirk_of_the_reference_server_has_a_row() {
    let used: BTreeSet<&str> = rows()
        .iter()
        .flat_map(|r| r.quirks.iter().map(|q| q.split('=').next().unwrap_or(q)))
        .chain(TOKEN_ENDPOINT_QUIRKS.iter().map(|(q, _)| *q))
        .collect();
    let missing: Vec<&str> = scimcheck::server::QUIRKS
        .iter()
        .map(|(name, _)| name.split('=').next().unwrap_or(name))
        .filter(|name| !used.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "quirks with no row in the detection matrix: {missing:?}"
    );
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
