//! The detection matrix's table: for every quirk of the reference server, the runs that prove the
//! built-in suite catches it (or, for the token-endpoint quirks, what `connect` finds). [`proof`]
//! is an exhaustive match on [`Quirk`], so a new quirk without a row does not compile.

use scimcheck::server::Quirk;

/// The expected set of check ids for one outcome.
#[derive(Clone, Copy)]
pub enum Ids {
    /// Exactly these.
    Exactly(&'static [&'static str]),
    /// Derived from the suite by a stated rule (for quirks that break nearly everything).
    Rule(Rule),
}

/// Rules for the quirks that break every check of a kind.
#[derive(Clone, Copy, Debug)]
pub enum Rule {
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

/// One run of the built-in suite against the reference server with these quirks (as on the
/// command line), and the checks it must fail and warn.
pub struct Row {
    pub quirks: Vec<&'static str>,
    pub fails: Ids,
    pub warns: Ids,
}

/// No check at all.
pub const NONE: Ids = Ids::Exactly(&[]);

/// A run with these quirks that fails exactly `fails` and warns nothing.
fn row(quirks: &[&'static str], fails: &'static [&'static str]) -> Row {
    Row {
        quirks: quirks.to_vec(),
        fails: Ids::Exactly(fails),
        warns: NONE,
    }
}

/// A run with the quirk alone fails exactly `fails` and warns nothing.
const fn fails(fails: &'static [&'static str]) -> Proof {
    Proof::Alone {
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

/// How a quirk is proven to be caught.
pub enum Proof {
    /// A run of the suite with this quirk alone fails and warns exactly these checks.
    Alone { fails: Ids, warns: Ids },
    /// Runs with these quirk settings: a parameterised quirk, or several quirks at once.
    Runs(Vec<Row>),
    /// `connect`, against the server's token endpoint with this quirk, reports exactly these
    /// finding codes (`url.not-https` aside) and passes against the clean one.
    Connect(&'static [&'static str]),
}

/// The proof of each quirk.
pub fn proof(quirk: &Quirk) -> Proof {
    use Quirk as Q;
    match quirk {
        Q::JsonContentType => Proof::Alone {
            fails: Ids::Rule(Rule::AnyBody),
            warns: NONE,
        },
        Q::CreateReturns200 => fails(&[
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
        ]),
        Q::NoDuplicateCheck => fails(&["group.create.duplicate", "user.create.duplicate"]),
        Q::CaseSensitiveFilter => {
            fails(&["group.filter.different-case", "user.filter.different-case"])
        }
        Q::RejectsCapitalisedOps => fails(CAPITALISED_OPS),
        Q::RejectsStringBooleans => fails(&[
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
        ]),
        Q::RemoveMemberWipesGroup => fails(&[
            "group.members.multi-ops.verified",
            "group.members.remove.verified",
            "group.members.remove-non-member.verified",
            "group.members.remove-several.verified",
        ]),
        Q::IgnoresExcludedAttributes => fails(&[
            "group.filter.excluding-members",
            "group.get.excluding-members",
            "user.filter.id-and-manager",
        ]),
        Q::EmptyFilterReturns404 => fails(&[
            "connection.groups-probe",
            "connection.keepalive.end",
            "connection.keepalive.middle",
            "connection.users-probe",
            "group.filter.non-existing",
            "group.match",
            "user.filter.non-existing",
            "user.match",
            "user.values.delete.gone-from-filter",
        ]),
        Q::DropsPatchChanges => fails(PATCH_VERIFICATIONS),
        Q::DisableDeletesUser => fails(&[
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
        ]),
        Q::NonScimErrors => fails(SCIM_ERRORS),
        // The group create fails, so every later group check is skipped (not failed).
        Q::GroupsNotFound => fails(&[
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
        ]),
        Q::AcceptsAnyToken => fails(&["auth.no-token", "auth.wrong-token"]),
        Q::IgnoresPagination => fails(&["user.page.first", "user.page.last", "user.page.second"]),
        Q::ManagerStringRejected => fails(&[
            "user.manager.remove.verified",
            "user.manager.add",
            "user.manager.add.verified",
            "user.manager.remove",
            "user.manager.replace",
            "user.manager.replace.verified",
        ]),
        Q::ManagerObjectRejected => fails(&[
            "user.manager.object.remove.verified",
            "user.manager.object.add",
            "user.manager.object.add.verified",
            "user.manager.object.remove",
            "user.manager.object.replace",
            "user.manager.object.replace.verified",
        ]),
        Q::EmptyOperationsRejected => {
            fails(&["user.multi-ops.empty", "user.multi-ops.empty.verified"])
        }
        // Filtered paths: the work email (both dialects) and member removal (compliant dialect).
        Q::FilteredPathRejected => fails(&[
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
        ]),
        Q::DottedKeysRejected => fails(&["user.update.replace", "user.update.replace.verified"]),
        Q::MissingSchemas => Proof::Alone {
            fails: Ids::Rule(Rule::SchemaOrSchemas),
            warns: NONE,
        },
        Q::MissingMeta => Proof::Alone {
            fails: Ids::Exactly(&["group.create", "user.create"]),
            warns: Ids::Rule(Rule::ResourcesButCreates),
        },
        Q::NumericId => Proof::Alone {
            fails: Ids::Rule(Rule::ResourcesAndManagerIdPatches),
            warns: NONE,
        },
        Q::ReturnsPassword => fails(&["user.create.password"]),
        Q::IgnoresUsernameChange => fails(&[
            "user.update.username.filter",
            "user.update.username.verified",
        ]),
        Q::DeleteReturns200 => fails(&["group.delete", "user.delete", "user.values.delete"]),
        Q::DeleteMissingReturns204 => fails(&[
            "group.delete.nonexistent",
            "group.delete.twice",
            "user.delete.nonexistent",
            "user.delete.twice",
        ]),
        Q::WrongTotalResults => fails(&["user.page.first", "user.page.last", "user.page.second"]),
        Q::OmitsEmptyMembers => fails(&[]),
        Q::RejectsEntraGroupSchema => fails(&[
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
        ]),
        Q::UnquotedFilterRejected => fails(&["user.filter.unquoted"]),
        Q::AndFilterRejected => fails(&["user.filter.id-and-manager"]),
        // discovery.schemas.consistent is skipped: the resource types it compares with are missing.
        Q::DiscoveryNotFound => fails(&[
            "discovery.schemas.consistent",
            "discovery.enterprise-extension",
            "discovery.resource-types",
            "discovery.resource-types.group",
            "discovery.schemas",
            "discovery.service-provider-config",
        ]),
        Q::DiscoveryNulls => fails(&["discovery.schemas"]),
        Q::DiscoveryPascalCase => fails(&["discovery.schemas"]),
        Q::SchemasNotListResponse => fails(&["discovery.schemas", "discovery.schemas.consistent"]),
        Q::UnknownIdReturns200 => fails(&[
            "group.delete.gone",
            "user.delete.gone",
            "user.get.unknown-id",
        ]),
        // Entra tolerates a numeric Error status: every SCIM Error check warns, none fails.
        Q::ErrorStatusNumber => Proof::Alone {
            fails: NONE,
            warns: Ids::Exactly(SCIM_ERRORS),
        },
        Q::FirstPatchOpOnly => fails(&[
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
        ]),
        Q::KeepsManagerOnEmptyValue => fails(&[
            "user.manager.object.remove.verified",
            "user.manager.remove.verified",
        ]),
        // Entra's fuller request shapes (issue 14), one quirk per bug.
        Q::RejectsActiveNoop => fails(&[
            "user.shapes.active-noop.verified",
            "user.shapes.active-noop",
        ]),
        Q::CaseSensitiveStringBooleans => fails(&[
            "user.shapes.lowercase-false",
            "user.shapes.lowercase-false.verified",
            "user.shapes.lowercase-true",
        ]),
        // The appended work email also shows in the later capitalised-sub-attribute read-back,
        // and in the lifecycle's replace of the work email.
        Q::FilteredReplaceAppends => fails(&[
            "user.shapes.capitalised-sub-attributes.verified",
            "user.shapes.typed-paths.verified",
            "user.update.replace.verified",
            "user.roles.primary-path.verified",
        ]),
        Q::CaseSensitiveSubAttributes => fails(&[
            "user.shapes.capitalised-sub-attributes",
            "user.shapes.capitalised-sub-attributes.verified",
        ]),
        Q::ExtensionNeedsSchemasEntry => fails(&[
            "user.shapes.custom-extension",
            "user.shapes.custom-extension.verified",
        ]),
        // Entra removes the bare-string manager with an empty value: rejected too.
        Q::RejectsClearingValues => fails(&[
            "user.manager.remove",
            "user.manager.remove.verified",
            "user.shapes.clear-empty",
            "user.shapes.clear-empty.verified",
            "user.shapes.clear-null",
            "user.shapes.clear-null.verified",
        ]),
        // The value-array form only exists in the default dialect; the compliant one sends one
        // op per member.
        Q::RemovesFirstMemberOnly => fails(&[
            "group.members.readd-existing.verified",
            "group.members.remove-non-member.verified",
            "group.members.remove-several.verified",
        ]),
        Q::ReaddMemberConflicts => fails(&[
            "group.members.readd-existing.verified",
            "group.members.readd-existing",
        ]),
        Q::RemoveNonMemberFails => fails(&[
            "group.members.remove-non-member.verified",
            "group.members.remove-non-member",
        ]),
        Q::DeletedStillFiltered => fails(&["user.values.delete.gone-from-filter"]),
        Q::ManglesNonAscii => fails(&[
            "user.values.create",
            "user.values.get",
            "user.values.long",
            "user.values.long.filter",
        ]),
        Q::TruncatesLongValues => fails(&["user.values.long", "user.values.long.filter"]),
        Q::FilterPlusAsSpace => fails(&["user.values.filter"]),
        Q::StringBooleanFilterMisses => fails(&[
            "user.roles.primary-path",
            "user.roles.primary-path.verified",
        ]),
        Q::MultiValuedReplaceMerges => fails(&["user.roles.assertive.replace.verified"]),
        // The rejected Add also leaves the later primary-path read-back one role short.
        Q::RoleJsonValueRejected => fails(&[
            "user.roles.complex.add",
            "user.roles.complex.add.verified",
            "user.roles.primary-path.verified",
            "user.roles.single.add",
            "user.roles.single.add.verified",
        ]),
        Q::MultiValuedReplaceRejected => fails(&[
            "user.roles.assertive.replace",
            "user.roles.assertive.replace.verified",
        ]),
        // RFC-allowed variants and Entra-only servers: a tolerant, correct server fails nothing,
        // even under `--strict all` (issue 11: no false failures).
        Q::OmitsEmptyResources => fails(&[]),
        Q::MinimalGroupMeta => fails(&[]),
        Q::AbsoluteResourceTypeEndpoints => fails(&[]),
        Q::EqAndFiltersOnly => fails(&[]),
        Q::RequiresNameFormatted => fails(&[]),
        Q::RejectsExplicitNulls => fails(&["user.create.variant"]),
        // An attribute the server does not publish: its value checks warn, naming the cause.
        Q::UnpublishedNickname => Proof::Alone {
            fails: NONE,
            warns: Ids::Exactly(&[
                "user.update.add-attributes.verified",
                "user.multi-ops.different-attributes.verified",
                "user.multi-ops.same-attribute.verified",
            ]),
        },
        // Entra ignores meta.location: a wrong one warns wherever a user or group carries it.
        Q::WrongMetaLocation => Proof::Alone {
            fails: NONE,
            warns: Ids::Rule(Rule::WithLocation),
        },
        // The token-endpoint quirks act only with --oauth-client, and no check of the suite sends
        // a token request: `connect` diagnoses them (the Test Connection gate of `run` prints the
        // same and stops).
        Q::OauthCredentialsInBodyOnly => Proof::Connect(&["oauth.credentials-in-body-only"]),
        Q::OauthRejectsForm => Proof::Connect(&["oauth.form-rejected"]),
        Q::OauthNoAccessToken => Proof::Connect(&["oauth.no-access-token"]),
        Q::OauthExpiresInOutOfWindow => Proof::Connect(&["oauth.expires-in-window"]),
        Q::OauthShortLivedTokens => Proof::Connect(&["oauth.expires-in-window"]),
        // Invisible to a single token request: tests/oauth.rs proves that a run refreshes through
        // it (and through `oauth-short-lived-tokens`).
        Q::OauthTokensDieEarly => Proof::Connect(&[]),
        Q::DropsAttribute(_) => Proof::Runs(vec![
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
        ]),
        Q::Slow(_) => Proof::Runs(vec![
            // Latency alone fails nothing (the client's timeout is far longer); the timeout handling
            // itself is tested with a short --timeout elsewhere.
            row(&["slow=5"], &[]),
        ]),
        Q::SlowCreate(_) => Proof::Runs(vec![row(&["slow-create=20"], &[])]),
    }
}

/// Every run of the suite the matrix makes besides the clean one, in the order of [`Quirk::ALL`].
pub fn rows() -> Vec<Row> {
    Quirk::ALL
        .iter()
        .flat_map(|q| match proof(q) {
            Proof::Alone { fails, warns } => vec![Row {
                quirks: vec![q.name()],
                fails,
                warns,
            }],
            Proof::Runs(rows) => rows,
            Proof::Connect(_) => Vec::new(),
        })
        .collect()
}

/// The quirks proven by `connect`, with the finding codes it must report for each.
pub fn token_endpoint_quirks() -> Vec<(&'static Quirk, &'static [&'static str])> {
    Quirk::ALL
        .iter()
        .filter_map(|q| match proof(q) {
            Proof::Connect(codes) => Some((q, codes)),
            Proof::Alone { .. } | Proof::Runs(_) => None,
        })
        .collect()
}
