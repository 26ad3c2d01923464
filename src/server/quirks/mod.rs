//! Quirk switches: each one makes the reference server reproduce one real-world SCIM server bug,
//! so that scimcheck's own checks can be shown to catch it.
//!
//! The store and the routes implement RFC 7643/7644; the quirks are layered around them:
//! [`request`] changes how a request is read or refused, [`storage`] what is stored (and found),
//! [`response`] what is sent back. Each layer's functions are called at one place each, and do
//! nothing unless their quirk is on. A [`QuirkSet`] answers cheap `has` questions.

pub(super) mod request;
pub(super) mod response;
pub(super) mod storage;

use std::fmt;
use std::str::FromStr;

use crate::scim::path::AttrPath;

/// Declares the quirks once: the enum, its parameterless variants with their kebab-case names,
/// and [`Quirk::ALL`], so that no list of quirks can miss one.
macro_rules! quirks {
    ($($variant:ident => $name:literal,)*) => {
        /// One switchable deviation from RFC 7643/7644 (see [`Quirk::description`]; kebab-case
        /// names on the command line, see [`QUIRKS`]).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Quirk {
            $(#[doc = concat!("`", $name, "` (see [`Quirk::description`]).")] $variant,)*
            /// The attribute at this path is silently dropped on create, PUT and PATCH.
            DropsAttribute(String),
            /// Every response is delayed by this many milliseconds (the request is handled after
            /// the delay).
            Slow(u64),
            /// A create is stored at once but its response is delayed by this many milliseconds
            /// (a client with a shorter timeout never learns the id).
            SlowCreate(u64),
        }

        impl Quirk {
            /// Every quirk, in declaration order; the parameterised ones last, with an empty
            /// parameter (`drops-attribute=`, `slow=0`, `slow-create=0`).
            pub const ALL: &'static [Quirk] = &[
                $(Quirk::$variant,)*
                Quirk::DropsAttribute(String::new()),
                Quirk::Slow(0),
                Quirk::SlowCreate(0),
            ];

            /// The parameterless quirks, in declaration order: the bits of a [`QuirkSet`].
            const SWITCHES: &'static [Quirk] = &[$(Quirk::$variant),*];

            /// The kebab-case name, without the `=PATH` / `=MS` parameter.
            pub const fn name(&self) -> &'static str {
                match self {
                    $(Quirk::$variant => $name,)*
                    Quirk::DropsAttribute(_) => "drops-attribute",
                    Quirk::Slow(_) => "slow",
                    Quirk::SlowCreate(_) => "slow-create",
                }
            }
        }
    };
}

quirks! {
    JsonContentType => "json-content-type",
    CreateReturns200 => "create-returns-200",
    NoDuplicateCheck => "no-duplicate-check",
    CaseSensitiveFilter => "case-sensitive-filter",
    RejectsCapitalisedOps => "rejects-capitalised-ops",
    RejectsStringBooleans => "rejects-string-booleans",
    RemoveMemberWipesGroup => "remove-member-wipes-group",
    IgnoresExcludedAttributes => "ignores-excluded-attributes",
    EmptyFilterReturns404 => "empty-filter-returns-404",
    DropsPatchChanges => "drops-patch-changes",
    DisableDeletesUser => "disable-deletes-user",
    NonScimErrors => "non-scim-errors",
    GroupsNotFound => "groups-not-found",
    AcceptsAnyToken => "accepts-any-token",
    IgnoresPagination => "ignores-pagination",
    ManagerStringRejected => "manager-string-rejected",
    ManagerObjectRejected => "manager-object-rejected",
    EmptyOperationsRejected => "empty-operations-rejected",
    FilteredPathRejected => "filtered-path-rejected",
    DottedKeysRejected => "dotted-keys-rejected",
    MissingSchemas => "missing-schemas",
    MissingMeta => "missing-meta",
    NumericId => "numeric-id",
    ReturnsPassword => "returns-password",
    IgnoresUsernameChange => "ignores-username-change",
    DeleteReturns200 => "delete-returns-200",
    DeleteMissingReturns204 => "delete-missing-returns-204",
    WrongTotalResults => "wrong-total-results",
    OmitsEmptyMembers => "omits-empty-members",
    RejectsEntraGroupSchema => "rejects-entra-group-schema",
    UnquotedFilterRejected => "unquoted-filter-rejected",
    AndFilterRejected => "and-filter-rejected",
    DiscoveryNotFound => "discovery-not-found",
    DiscoveryNulls => "discovery-nulls",
    DiscoveryPascalCase => "discovery-pascal-case",
    SchemasNotListResponse => "schemas-not-list-response",
    UnknownIdReturns200 => "unknown-id-returns-200",
    ErrorStatusNumber => "error-status-number",
    FirstPatchOpOnly => "first-patch-op-only",
    KeepsManagerOnEmptyValue => "keeps-manager-on-empty-value",
    RejectsActiveNoop => "rejects-active-noop",
    CaseSensitiveStringBooleans => "case-sensitive-string-booleans",
    FilteredReplaceAppends => "filtered-replace-appends",
    CaseSensitiveSubAttributes => "case-sensitive-sub-attributes",
    ExtensionNeedsSchemasEntry => "extension-needs-schemas-entry",
    RejectsClearingValues => "rejects-clearing-values",
    RemovesFirstMemberOnly => "removes-first-member-only",
    ReaddMemberConflicts => "readd-member-conflicts",
    RemoveNonMemberFails => "remove-non-member-fails",
    DeletedStillFiltered => "deleted-still-filtered",
    ManglesNonAscii => "mangles-non-ascii",
    TruncatesLongValues => "truncates-long-values",
    FilterPlusAsSpace => "filter-plus-as-space",
    StringBooleanFilterMisses => "string-boolean-filter-misses",
    MultiValuedReplaceMerges => "multi-valued-replace-merges",
    RoleJsonValueRejected => "role-json-value-rejected",
    MultiValuedReplaceRejected => "multi-valued-replace-rejected",
    OmitsEmptyResources => "omits-empty-resources",
    MinimalGroupMeta => "minimal-group-meta",
    AbsoluteResourceTypeEndpoints => "absolute-resource-type-endpoints",
    EqAndFiltersOnly => "eq-and-filters-only",
    RequiresNameFormatted => "requires-name-formatted",
    RejectsExplicitNulls => "rejects-explicit-nulls",
    UnpublishedNickname => "unpublished-nickname",
    WrongMetaLocation => "wrong-meta-location",
    OauthCredentialsInBodyOnly => "oauth-credentials-in-body-only",
    OauthRejectsForm => "oauth-rejects-form",
    OauthNoAccessToken => "oauth-no-access-token",
    OauthExpiresInOutOfWindow => "oauth-expires-in-out-of-window",
    OauthShortLivedTokens => "oauth-short-lived-tokens",
    OauthTokensDieEarly => "oauth-tokens-die-early",
}

impl Quirk {
    /// The name as `scimcheck serve --quirk list` shows it: with `=PATH` or `=MS` where the quirk
    /// takes a parameter.
    pub const fn label(&self) -> &'static str {
        match self {
            Quirk::DropsAttribute(_) => "drops-attribute=PATH",
            Quirk::Slow(_) => "slow=MS",
            Quirk::SlowCreate(_) => "slow-create=MS",
            q => q.name(),
        }
    }

    /// One line on the real-world bug the quirk reproduces.
    pub const fn description(&self) -> &'static str {
        match self {
            Quirk::JsonContentType => {
                "responses say `Content-Type: application/json` instead of `application/scim+json`"
            }
            Quirk::CreateReturns200 => "POST answers 200 OK instead of 201 Created",
            Quirk::NoDuplicateCheck => {
                "a duplicate userName or group displayName is created (201) instead of 409"
            }
            Quirk::CaseSensitiveFilter => {
                "filters compare case-exactly, so `userName eq \"ALICE@x\"` misses `alice@x`"
            }
            Quirk::RejectsCapitalisedOps => {
                "PATCH `op` values other than lower-case (`Replace`, `Add`) are rejected with 400"
            }
            Quirk::RejectsStringBooleans => {
                "string booleans (`\"False\"`) for boolean attributes are rejected with 400"
            }
            Quirk::RemoveMemberWipesGroup => {
                "any PATCH remove on `members` empties the whole member list"
            }
            Quirk::IgnoresExcludedAttributes => {
                "the `attributes` and `excludedAttributes` parameters are ignored"
            }
            Quirk::EmptyFilterReturns404 => {
                "a filter with no match answers 404 instead of an empty ListResponse"
            }
            Quirk::DropsPatchChanges => "PATCH answers as if applied but stores nothing",
            Quirk::DisableDeletesUser => "a PATCH setting `active` to false deletes the user",
            Quirk::NonScimErrors => "errors are `text/html` pages instead of SCIM Error JSON",
            Quirk::GroupsNotFound => "every /Groups route answers 404 (no group support)",
            Quirk::AcceptsAnyToken => "no authentication: any or no bearer token is accepted",
            Quirk::IgnoresPagination => {
                "`startIndex` and `count` are ignored: everything is returned, startIndex 1"
            }
            Quirk::ManagerStringRejected => {
                "a manager given as a bare id string in PATCH is rejected with 400"
            }
            Quirk::ManagerObjectRejected => {
                "a manager given as an object or array in PATCH is rejected with 400"
            }
            Quirk::EmptyOperationsRejected => {
                "a PATCH with an empty `Operations` array is rejected with 400"
            }
            Quirk::FilteredPathRejected => {
                "any PATCH path with a value filter (`emails[type eq \"work\"].value`) is rejected with 400 invalidPath"
            }
            Quirk::DottedKeysRejected => {
                "a path-less PATCH add/replace whose value has dotted or URN-qualified keys is rejected with 400"
            }
            Quirk::MissingSchemas => "response bodies carry no `schemas` attribute",
            Quirk::MissingMeta => "resources carry no `meta` attribute",
            Quirk::NumericId => "resource ids are JSON numbers from a counter instead of strings",
            Quirk::ReturnsPassword => "the user's `password` is returned in responses",
            Quirk::IgnoresUsernameChange => {
                "userName changes via PATCH or PUT are silently ignored"
            }
            Quirk::DeleteReturns200 => {
                "DELETE answers 200 with an empty JSON object instead of 204"
            }
            Quirk::DeleteMissingReturns204 => "DELETE of an unknown id answers 204 instead of 404",
            Quirk::WrongTotalResults => {
                "ListResponse `totalResults` is the page size, not the number of matches"
            }
            Quirk::OmitsEmptyMembers => {
                "group responses omit `members` instead of answering `members: []`"
            }
            Quirk::RejectsEntraGroupSchema => {
                "POST /Groups listing Entra's ADSCIM group URN in `schemas` is rejected with 400"
            }
            Quirk::UnquotedFilterRejected => {
                "a filter comparison value without double quotes is rejected with 400 invalidFilter"
            }
            Quirk::AndFilterRejected => "filters using `and` are rejected with 400",
            Quirk::DiscoveryNotFound => {
                "/Schemas, /ResourceTypes and /ServiceProviderConfig answer 404"
            }
            Quirk::DiscoveryNulls => "/Schemas attribute definitions contain `null` values",
            Quirk::DiscoveryPascalCase => {
                "/Schemas characteristic values are PascalCase (`ReadWrite`, `Always`)"
            }
            Quirk::SchemasNotListResponse => {
                "/Schemas answers a bare JSON array instead of a ListResponse"
            }
            Quirk::UnknownIdReturns200 => {
                "GET of an unknown id answers 200 with an empty object instead of 404"
            }
            Quirk::ErrorStatusNumber => "SCIM Error `status` is a JSON number instead of a string",
            Quirk::FirstPatchOpOnly => {
                "only the first operation of a PATCH is applied; the others are answered as done but dropped"
            }
            Quirk::KeepsManagerOnEmptyValue => {
                "a PATCH setting the manager to an empty value (`\"\"`, `[]`, `null`) is answered as done but the old manager is kept"
            }
            Quirk::RejectsActiveNoop => {
                "a PATCH setting `active` to true on a user who is already active is rejected with 400 (a deactivate-only endpoint)"
            }
            Quirk::CaseSensitiveStringBooleans => {
                "only `\"True\"` and `\"False\"` are read as booleans: lower-case `\"true\"` / `\"false\"` in a PATCH are rejected with 400"
            }
            Quirk::FilteredReplaceAppends => {
                "a PATCH replace of `emails[type eq \"work\"].value` (any filtered path) appends a second value instead of changing the matching one"
            }
            Quirk::CaseSensitiveSubAttributes => {
                "sub-attribute names in PATCH paths must match the schema's case: `addresses[type eq \"other\"].Formatted` is rejected with 400 invalidPath"
            }
            Quirk::ExtensionNeedsSchemasEntry => {
                "on create, an extension's attributes are silently dropped unless its URN is listed in `schemas`"
            }
            Quirk::RejectsClearingValues => {
                "a PATCH add or replace whose value is `\"\"` or `null` (clearing an attribute) is rejected with 400"
            }
            Quirk::RemovesFirstMemberOnly => {
                "a member removal listing several members removes only the first of them"
            }
            Quirk::ReaddMemberConflicts => {
                "adding a member who is already in the group answers 409 instead of succeeding unchanged"
            }
            Quirk::RemoveNonMemberFails => {
                "a value-array member removal naming someone not in the group answers 400 noTarget"
            }
            Quirk::DeletedStillFiltered => {
                "a deleted user is gone from GET by id but still returned by filters (a stale search index)"
            }
            Quirk::ManglesNonAscii => {
                "non-ASCII characters in stored strings become `?` (an ASCII / Latin-1 database column)"
            }
            Quirk::TruncatesLongValues => {
                "stored strings are cut to 100 characters (a VARCHAR(100) column)"
            }
            Quirk::FilterPlusAsSpace => {
                "the filter is URL-decoded twice, so a `+` in a value (`first.last+tag@...`) becomes a space"
            }
            Quirk::StringBooleanFilterMisses => {
                "a PATCH value filter comparing a boolean with a string (`roles[primary eq \"True\"]`) matches nothing: 400 noTarget"
            }
            Quirk::MultiValuedReplaceMerges => {
                "a replace of a whole multi-valued attribute (`roles`) merges the values into the old list instead of replacing it"
            }
            Quirk::RoleJsonValueRejected => {
                "a role whose `value` is not a plain name (Entra's JSON document serialised as a string) is rejected with 400"
            }
            Quirk::MultiValuedReplaceRejected => {
                "a replace of a whole multi-valued attribute (`roles`) is rejected with 400 (only add and remove are implemented)"
            }
            Quirk::OmitsEmptyResources => {
                "a ListResponse with no results leaves out `Resources` (allowed: RFC 7644 section 3.4.2 requires it only when there are results)"
            }
            Quirk::MinimalGroupMeta => {
                "group `meta` carries only `resourceType` and `location`, no `created` / `lastModified` (allowed: RFC 7643 does not require them in a response)"
            }
            Quirk::AbsoluteResourceTypeEndpoints => {
                "ResourceType `endpoint` values are absolute URLs (`https://host/scim/v2/Users`) instead of `/Users` (allowed: RFC 7643 section 6 resolves them against the Base URL)"
            }
            Quirk::EqAndFiltersOnly => {
                "filters with any operator but `eq` and `and` are rejected with 400 invalidFilter (allowed for an Entra-only endpoint: Entra sends no other)"
            }
            Quirk::RequiresNameFormatted => {
                "a user create without `name.formatted` is rejected with 400 (Entra's create body always carries it)"
            }
            Quirk::RejectsExplicitNulls => {
                "a create whose body has an attribute set to `null` is rejected with 400 instead of reading null as unassigned"
            }
            Quirk::UnpublishedNickname => {
                "the server does not support `nickName`: /Schemas leaves it out of the User schema and values sent for it are dropped (allowed: a server supports what it publishes)"
            }
            Quirk::WrongMetaLocation => {
                "`meta.location` of users and groups names the server's internal address (`http://scim-backend.internal:8080/...`) instead of the Tenant URL's host"
            }
            Quirk::OauthCredentialsInBodyOnly => {
                "with --oauth-client: the token endpoint reads the client id and secret only from the form body and refuses `Authorization: Basic` with 401 invalid_client"
            }
            Quirk::OauthRejectsForm => {
                "with --oauth-client: the token endpoint answers 415 to a form body (a SCIM content-type middleware in front of it)"
            }
            Quirk::OauthNoAccessToken => {
                "with --oauth-client: the token endpoint answers 200 without `access_token`"
            }
            Quirk::OauthExpiresInOutOfWindow => {
                "with --oauth-client: access tokens live a day (`expires_in` 86400), outside Microsoft's 60-360 minute window"
            }
            Quirk::OauthShortLivedTokens => {
                "with --oauth-client: access tokens live 2 seconds (`expires_in` 2), so a run must refresh them"
            }
            Quirk::OauthTokensDieEarly => {
                "with --oauth-client: access tokens stop working after 1 second although `expires_in` promises the full lifetime (a token store that loses them)"
            }
            Quirk::DropsAttribute(_) => {
                "the attribute at PATH (e.g. `title`, `addresses`, an enterprise URN path) is silently dropped on create, PUT and PATCH; repeatable"
            }
            Quirk::Slow(_) => {
                "every request is handled only after MS milliseconds (an overloaded endpoint)"
            }
            Quirk::SlowCreate(_) => {
                "a create is stored at once but answered only after MS milliseconds (the client times out without learning the id)"
            }
        }
    }

    /// Bit position in a [`QuirkSet`] for the parameterless quirks.
    fn bit(&self) -> Option<u32> {
        Quirk::SWITCHES
            .iter()
            .position(|q| q == self)
            .map(|i| i as u32)
    }

    /// Parses a parameterless quirk name.
    fn from_name(name: &str) -> Option<Quirk> {
        Quirk::SWITCHES.iter().find(|q| q.name() == name).cloned()
    }
}

/// Every quirk as (name as listed, one-line description of the real-world bug it reproduces),
/// in the order of [`Quirk::ALL`].
pub const QUIRKS: &[(&str, &str)] = &listing::<{ Quirk::ALL.len() }>();

/// [`QUIRKS`], computed from [`Quirk::ALL`] at compile time.
const fn listing<const N: usize>() -> [(&'static str, &'static str); N] {
    let mut out = [("", ""); N];
    let mut i = 0;
    while i < N {
        out[i] = (Quirk::ALL[i].label(), Quirk::ALL[i].description());
        i += 1;
    }
    out
}

// The parameterless quirks must fit the 128-bit `QuirkSet`.
const _: () = assert!(Quirk::SWITCHES.len() <= 128);

/// Error for an unknown quirk name or a `drops-attribute` without a valid path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QuirkParseError(String);

impl FromStr for Quirk {
    type Err = QuirkParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("drops-attribute=") {
            AttrPath::parse(path).map_err(|e| QuirkParseError(format!("drops-attribute: {e}")))?;
            return Ok(Quirk::DropsAttribute(path.trim().to_string()));
        }
        for (prefix, make) in [
            ("slow=", Quirk::Slow as fn(u64) -> Quirk),
            ("slow-create=", Quirk::SlowCreate),
        ] {
            if let Some(ms) = s.strip_prefix(prefix) {
                return ms.trim().parse::<u64>().map(make).map_err(|_| {
                    QuirkParseError(format!(
                        "{prefix}MS needs a whole number of milliseconds (got `{ms}`)"
                    ))
                });
            }
        }
        if s == "slow" || s == "slow-create" {
            return Err(QuirkParseError(format!(
                "{s} needs a delay: {s}=MS (milliseconds)"
            )));
        }
        if s == "drops-attribute" {
            return Err(QuirkParseError(
                "drops-attribute needs a path: drops-attribute=PATH".into(),
            ));
        }
        Quirk::from_name(s).ok_or_else(|| {
            QuirkParseError(format!(
                "unknown quirk `{s}` (see `scimcheck serve --help`)"
            ))
        })
    }
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quirk::DropsAttribute(path) => write!(f, "drops-attribute={path}"),
            Quirk::Slow(ms) => write!(f, "slow={ms}"),
            Quirk::SlowCreate(ms) => write!(f, "slow-create={ms}"),
            q => f.write_str(q.name()),
        }
    }
}

/// The enabled quirks, as a bitset plus the parsed `drops-attribute` paths.
#[derive(Debug, Clone, Default)]
pub(crate) struct QuirkSet {
    bits: u128,
    /// Paths of the attributes dropped by `drops-attribute=PATH`.
    pub(crate) dropped: Vec<AttrPath>,
    /// `slow=MS`: every request waits this long before it is handled.
    pub(crate) slow: Option<std::time::Duration>,
    /// `slow-create=MS`: a successful create's response waits this long after storing.
    pub(crate) slow_create: Option<std::time::Duration>,
}

impl QuirkSet {
    /// Builds the set; `drops-attribute` paths were validated by `FromStr`, invalid ones are skipped.
    pub(crate) fn new(quirks: &[Quirk]) -> Self {
        let mut set = QuirkSet::default();
        for q in quirks {
            match (q.bit(), q) {
                (Some(bit), _) => set.bits |= 1u128 << bit,
                (None, Quirk::DropsAttribute(path)) => {
                    set.dropped.extend(AttrPath::parse(path).ok());
                }
                (None, Quirk::Slow(ms)) => set.slow = Some(std::time::Duration::from_millis(*ms)),
                (None, Quirk::SlowCreate(ms)) => {
                    set.slow_create = Some(std::time::Duration::from_millis(*ms));
                }
                (None, _) => {}
            }
        }
        if set.has(Quirk::UnpublishedNickname) {
            set.dropped.push(AttrPath::simple("nickName"));
        }
        set
    }

    /// Whether this parameterless quirk is on.
    pub(crate) fn has(&self, q: Quirk) -> bool {
        q.bit().is_some_and(|bit| self.bits & (1u128 << bit) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_quirk_name_parses_and_displays_back() {
        for (name, desc) in QUIRKS {
            assert!(!desc.is_empty());
            let name = name.replace("=PATH", "=title").replace("=MS", "=250");
            let q: Quirk = name.parse().unwrap();
            assert_eq!(q.to_string(), name);
        }
    }

    #[test]
    fn all_names_every_quirk_once_in_the_order_quirks_lists_them() {
        let names: std::collections::BTreeSet<&str> = Quirk::ALL.iter().map(Quirk::name).collect();
        assert_eq!(names.len(), Quirk::ALL.len(), "a name is used twice");
        assert_eq!(Quirk::ALL.len(), Quirk::SWITCHES.len() + 3);
        let labels: Vec<&str> = QUIRKS.iter().map(|(label, _)| *label).collect();
        let all: Vec<&str> = Quirk::ALL.iter().map(Quirk::label).collect();
        assert_eq!(labels, all);
    }

    #[test]
    fn unknown_quirks_and_bare_drops_attribute_are_errors() {
        assert!("no-such-quirk".parse::<Quirk>().is_err());
        assert!("drops-attribute".parse::<Quirk>().is_err());
        assert!("slow".parse::<Quirk>().is_err());
        assert!("slow-create=soon".parse::<Quirk>().is_err());
        assert_eq!("slow=1500".parse::<Quirk>().unwrap(), Quirk::Slow(1500));
        assert!("drops-attribute=1bad".parse::<Quirk>().is_err());
        let q: Quirk =
            "drops-attribute=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"
                .parse()
                .unwrap();
        assert!(matches!(q, Quirk::DropsAttribute(p) if p.ends_with(":costCenter")));
    }

    #[test]
    fn quirk_set_answers_only_for_enabled_quirks() {
        let set = QuirkSet::new(&[Quirk::NumericId, "drops-attribute=title".parse().unwrap()]);
        assert!(set.has(Quirk::NumericId));
        assert!(!set.has(Quirk::JsonContentType));
        assert_eq!(set.dropped, vec![AttrPath::simple("title")]);
    }
}
