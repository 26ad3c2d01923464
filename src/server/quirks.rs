//! Quirk switches: each one makes the reference server reproduce one real-world SCIM server bug,
//! so that scimcheck's own checks can be shown to catch it. A [`QuirkSet`] answers cheap `has`
//! questions at the few places that need them.

use std::fmt;
use std::str::FromStr;

use crate::scim::path::AttrPath;

/// Declares the parameterless quirks once: enum variant, kebab-case name, description.
macro_rules! quirks {
    ($($variant:ident => $name:literal, $desc:literal;)*) => {
        /// One switchable deviation from RFC 7643/7644 (kebab-case names, see [`QUIRKS`]).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum Quirk {
            $(#[doc = $desc] $variant,)*
            /// The attribute at this path is silently dropped on create, PUT and PATCH.
            DropsAttribute(String),
            /// Every response is delayed by this many milliseconds (the request is handled after
            /// the delay).
            Slow(u64),
            /// A create is stored at once but its response is delayed by this many milliseconds
            /// (a client with a shorter timeout never learns the id).
            SlowCreate(u64),
        }

        /// Every quirk as (name, one-line description of the real-world bug it reproduces).
        pub const QUIRKS: &[(&str, &str)] = &[
            $(($name, $desc),)*
            (
                "drops-attribute=PATH",
                "the attribute at PATH (e.g. `title`, `addresses`, an enterprise URN path) is silently dropped on create, PUT and PATCH; repeatable",
            ),
            (
                "slow=MS",
                "every request is handled only after MS milliseconds (an overloaded endpoint)",
            ),
            (
                "slow-create=MS",
                "a create is stored at once but answered only after MS milliseconds (the client times out without learning the id)",
            ),
        ];

        impl Quirk {
            /// The kebab-case name, without the `=PATH` parameter.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Quirk::$variant => $name,)*
                    Quirk::DropsAttribute(_) => "drops-attribute",
                    Quirk::Slow(_) => "slow",
                    Quirk::SlowCreate(_) => "slow-create",
                }
            }

            /// Bit position in a [`QuirkSet`] for the parameterless quirks.
            fn bit(&self) -> Option<u32> {
                let all = [$(Quirk::$variant),*];
                all.iter().position(|q| q == self).map(|i| i as u32)
            }

            /// Parses a parameterless quirk name.
            fn from_name(name: &str) -> Option<Quirk> {
                match name {
                    $($name => Some(Quirk::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

quirks! {
    JsonContentType => "json-content-type", "responses say `Content-Type: application/json` instead of `application/scim+json`";
    CreateReturns200 => "create-returns-200", "POST answers 200 OK instead of 201 Created";
    NoDuplicateCheck => "no-duplicate-check", "a duplicate userName or group displayName is created (201) instead of 409";
    CaseSensitiveFilter => "case-sensitive-filter", "filters compare case-exactly, so `userName eq \"ALICE@x\"` misses `alice@x`";
    RejectsCapitalisedOps => "rejects-capitalised-ops", "PATCH `op` values other than lower-case (`Replace`, `Add`) are rejected with 400";
    RejectsStringBooleans => "rejects-string-booleans", "string booleans (`\"False\"`) for boolean attributes are rejected with 400";
    RemoveMemberWipesGroup => "remove-member-wipes-group", "any PATCH remove on `members` empties the whole member list";
    IgnoresExcludedAttributes => "ignores-excluded-attributes", "the `attributes` and `excludedAttributes` parameters are ignored";
    EmptyFilterReturns404 => "empty-filter-returns-404", "a filter with no match answers 404 instead of an empty ListResponse";
    DropsPatchChanges => "drops-patch-changes", "PATCH answers as if applied but stores nothing";
    DisableDeletesUser => "disable-deletes-user", "a PATCH setting `active` to false deletes the user";
    NonScimErrors => "non-scim-errors", "errors are `text/html` pages instead of SCIM Error JSON";
    GroupsNotFound => "groups-not-found", "every /Groups route answers 404 (no group support)";
    AcceptsAnyToken => "accepts-any-token", "no authentication: any or no bearer token is accepted";
    IgnoresPagination => "ignores-pagination", "`startIndex` and `count` are ignored: everything is returned, startIndex 1";
    ManagerStringRejected => "manager-string-rejected", "a manager given as a bare id string in PATCH is rejected with 400";
    ManagerObjectRejected => "manager-object-rejected", "a manager given as an object or array in PATCH is rejected with 400";
    EmptyOperationsRejected => "empty-operations-rejected", "a PATCH with an empty `Operations` array is rejected with 400";
    FilteredPathRejected => "filtered-path-rejected", "any PATCH path with a value filter (`emails[type eq \"work\"].value`) is rejected with 400 invalidPath";
    DottedKeysRejected => "dotted-keys-rejected", "a path-less PATCH add/replace whose value has dotted or URN-qualified keys is rejected with 400";
    MissingSchemas => "missing-schemas", "response bodies carry no `schemas` attribute";
    MissingMeta => "missing-meta", "resources carry no `meta` attribute";
    NumericId => "numeric-id", "resource ids are JSON numbers from a counter instead of strings";
    ReturnsPassword => "returns-password", "the user's `password` is returned in responses";
    IgnoresUsernameChange => "ignores-username-change", "userName changes via PATCH or PUT are silently ignored";
    DeleteReturns200 => "delete-returns-200", "DELETE answers 200 with an empty JSON object instead of 204";
    DeleteMissingReturns204 => "delete-missing-returns-204", "DELETE of an unknown id answers 204 instead of 404";
    WrongTotalResults => "wrong-total-results", "ListResponse `totalResults` is the page size, not the number of matches";
    OmitsEmptyMembers => "omits-empty-members", "group responses omit `members` instead of answering `members: []`";
    RejectsEntraGroupSchema => "rejects-entra-group-schema", "POST /Groups listing Entra's ADSCIM group URN in `schemas` is rejected with 400";
    UnquotedFilterRejected => "unquoted-filter-rejected", "a filter comparison value without double quotes is rejected with 400 invalidFilter";
    AndFilterRejected => "and-filter-rejected", "filters using `and` are rejected with 400";
    DiscoveryNotFound => "discovery-not-found", "/Schemas, /ResourceTypes and /ServiceProviderConfig answer 404";
    DiscoveryNulls => "discovery-nulls", "/Schemas attribute definitions contain `null` values";
    DiscoveryPascalCase => "discovery-pascal-case", "/Schemas characteristic values are PascalCase (`ReadWrite`, `Always`)";
    SchemasNotListResponse => "schemas-not-list-response", "/Schemas answers a bare JSON array instead of a ListResponse";
    UnknownIdReturns200 => "unknown-id-returns-200", "GET of an unknown id answers 200 with an empty object instead of 404";
    ErrorStatusNumber => "error-status-number", "SCIM Error `status` is a JSON number instead of a string";
    FirstPatchOpOnly => "first-patch-op-only", "only the first operation of a PATCH is applied; the others are answered as done but dropped";
    KeepsManagerOnEmptyValue => "keeps-manager-on-empty-value", "a PATCH setting the manager to an empty value (`\"\"`, `[]`, `null`) is answered as done but the old manager is kept";
    RejectsActiveNoop => "rejects-active-noop", "a PATCH setting `active` to true on a user who is already active is rejected with 400 (a deactivate-only endpoint)";
    CaseSensitiveStringBooleans => "case-sensitive-string-booleans", "only `\"True\"` and `\"False\"` are read as booleans: lower-case `\"true\"` / `\"false\"` in a PATCH are rejected with 400";
    FilteredReplaceAppends => "filtered-replace-appends", "a PATCH replace of `emails[type eq \"work\"].value` (any filtered path) appends a second value instead of changing the matching one";
    CaseSensitiveSubAttributes => "case-sensitive-sub-attributes", "sub-attribute names in PATCH paths must match the schema's case: `addresses[type eq \"other\"].Formatted` is rejected with 400 invalidPath";
    ExtensionNeedsSchemasEntry => "extension-needs-schemas-entry", "on create, an extension's attributes are silently dropped unless its URN is listed in `schemas`";
    RejectsClearingValues => "rejects-clearing-values", "a PATCH add or replace whose value is `\"\"` or `null` (clearing an attribute) is rejected with 400";
    RemovesFirstMemberOnly => "removes-first-member-only", "a member removal listing several members removes only the first of them";
    ReaddMemberConflicts => "readd-member-conflicts", "adding a member who is already in the group answers 409 instead of succeeding unchanged";
    RemoveNonMemberFails => "remove-non-member-fails", "a value-array member removal naming someone not in the group answers 400 noTarget";
    DeletedStillFiltered => "deleted-still-filtered", "a deleted user is gone from GET by id but still returned by filters (a stale search index)";
    ManglesNonAscii => "mangles-non-ascii", "non-ASCII characters in stored strings become `?` (an ASCII / Latin-1 database column)";
    TruncatesLongValues => "truncates-long-values", "stored strings are cut to 100 characters (a VARCHAR(100) column)";
    FilterPlusAsSpace => "filter-plus-as-space", "the filter is URL-decoded twice, so a `+` in a value (`first.last+tag@...`) becomes a space";
    StringBooleanFilterMisses => "string-boolean-filter-misses", "a PATCH value filter comparing a boolean with a string (`roles[primary eq \"True\"]`) matches nothing: 400 noTarget";
    MultiValuedReplaceMerges => "multi-valued-replace-merges", "a replace of a whole multi-valued attribute (`roles`) merges the values into the old list instead of replacing it";
    RoleJsonValueRejected => "role-json-value-rejected", "a role whose `value` is not a plain name (Entra's JSON document serialised as a string) is rejected with 400";
    MultiValuedReplaceRejected => "multi-valued-replace-rejected", "a replace of a whole multi-valued attribute (`roles`) is rejected with 400 (only add and remove are implemented)";
    OmitsEmptyResources => "omits-empty-resources", "a ListResponse with no results leaves out `Resources` (allowed: RFC 7644 section 3.4.2 requires it only when there are results)";
    MinimalGroupMeta => "minimal-group-meta", "group `meta` carries only `resourceType` and `location`, no `created` / `lastModified` (allowed: RFC 7643 does not require them in a response)";
    AbsoluteResourceTypeEndpoints => "absolute-resource-type-endpoints", "ResourceType `endpoint` values are absolute URLs (`https://host/scim/v2/Users`) instead of `/Users` (allowed: RFC 7643 section 6 resolves them against the Base URL)";
    EqAndFiltersOnly => "eq-and-filters-only", "filters with any operator but `eq` and `and` are rejected with 400 invalidFilter (allowed for an Entra-only endpoint: Entra sends no other)";
    RequiresNameFormatted => "requires-name-formatted", "a user create without `name.formatted` is rejected with 400 (Entra's create body always carries it)";
    RejectsExplicitNulls => "rejects-explicit-nulls", "a create whose body has an attribute set to `null` is rejected with 400 instead of reading null as unassigned";
    UnpublishedNickname => "unpublished-nickname", "the server does not support `nickName`: /Schemas leaves it out of the User schema and values sent for it are dropped (allowed: a server supports what it publishes)";
    WrongMetaLocation => "wrong-meta-location", "`meta.location` of users and groups names the server's internal address (`http://scim-backend.internal:8080/...`) instead of the Tenant URL's host";
    OauthCredentialsInBodyOnly => "oauth-credentials-in-body-only", "with --oauth-client: the token endpoint reads the client id and secret only from the form body and refuses `Authorization: Basic` with 401 invalid_client";
    OauthRejectsForm => "oauth-rejects-form", "with --oauth-client: the token endpoint answers 415 to a form body (a SCIM content-type middleware in front of it)";
    OauthNoAccessToken => "oauth-no-access-token", "with --oauth-client: the token endpoint answers 200 without `access_token`";
    OauthExpiresInOutOfWindow => "oauth-expires-in-out-of-window", "with --oauth-client: access tokens live a day (`expires_in` 86400), outside Microsoft's 60-360 minute window";
    OauthShortLivedTokens => "oauth-short-lived-tokens", "with --oauth-client: access tokens live 2 seconds (`expires_in` 2), so a run must refresh them";
    OauthTokensDieEarly => "oauth-tokens-die-early", "with --oauth-client: access tokens stop working after 1 second although `expires_in` promises the full lifetime (a token store that loses them)";
}

/// How many entries of [`QUIRKS`] take a parameter (`drops-attribute=PATH`, `slow=MS`,
/// `slow-create=MS`); they are not bits of a [`QuirkSet`].
const PARAMETERISED: usize = 3;

// The parameterless quirks must fit the 128-bit `QuirkSet`.
const _: () = assert!(QUIRKS.len() - PARAMETERISED <= 128);

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

/// The tokens of a filter outside string literals, for the filter quirks: `(word, quoted)` pairs
/// where `quoted` tells whether the token was a double-quoted string.
pub(crate) fn filter_tokens(filter: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut chars = filter.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => s.extend(chars.next()),
                    '"' => break,
                    c => s.push(c),
                }
            }
            out.push((s, true));
        } else if "()[]".contains(c) {
            chars.next();
            out.push((c.to_string(), false));
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || "()[]\"".contains(c) {
                    break;
                }
                s.push(c);
                chars.next();
            }
            out.push((s, false));
        }
    }
    out
}

/// Whether a filter joins comparisons with `and` (outside string literals).
pub(crate) fn filter_uses_and(filter: &str) -> bool {
    filter_tokens(filter)
        .iter()
        .any(|(t, quoted)| !quoted && t.eq_ignore_ascii_case("and"))
}

/// Whether the filter uses an operator Entra never sends (anything but `eq` and `and`).
pub(crate) fn filter_beyond_eq_and(filter: &crate::scim::filter::Filter) -> bool {
    use crate::scim::filter::{CompareOp, Filter};
    match filter {
        Filter::Compare { op, .. } => *op != CompareOp::Eq,
        Filter::And(a, b) => filter_beyond_eq_and(a) || filter_beyond_eq_and(b),
        Filter::ValuePath { filter, sub, .. } => {
            filter_beyond_eq_and(filter)
                || sub.as_ref().is_some_and(|(_, op, _)| *op != CompareOp::Eq)
        }
        Filter::Present(_) | Filter::Or(..) | Filter::Not(_) => true,
    }
}

/// The first attribute set to `null` in a create body (top level or inside an extension or
/// complex attribute), as `name` or `urn:...:name`.
pub(crate) fn first_explicit_null(body: &serde_json::Value) -> Option<String> {
    let obj = body.as_object()?;
    obj.iter().find_map(|(k, v)| match v {
        serde_json::Value::Null => Some(k.clone()),
        serde_json::Value::Object(inner) => inner
            .iter()
            .find(|(_, v)| v.is_null())
            .map(|(ik, _)| format!("{k}:{ik}")),
        _ => None,
    })
}

/// Whether some comparison in the filter has a value that is not a double-quoted string.
pub(crate) fn filter_has_unquoted_value(filter: &str) -> bool {
    const OPS: [&str; 9] = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
    let tokens = filter_tokens(filter);
    tokens.windows(2).any(|w| {
        let (op, op_quoted) = &w[0];
        let (_, value_quoted) = &w[1];
        !op_quoted && !value_quoted && OPS.iter().any(|o| op.eq_ignore_ascii_case(o))
    }) || tokens
        .last()
        .is_some_and(|(t, q)| !q && OPS.iter().any(|o| t.eq_ignore_ascii_case(o)))
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

    #[test]
    fn filter_token_checks_ignore_string_contents() {
        assert!(filter_uses_and(r#"id eq "1" AND manager eq "2""#));
        assert!(!filter_uses_and(r#"displayName eq "salt and pepper""#));
        assert!(filter_has_unquoted_value("externalId eq jyoung"));
        assert!(filter_has_unquoted_value("active eq true"));
        assert!(!filter_has_unquoted_value(r#"userName eq "eq x""#));
        assert!(!filter_has_unquoted_value(
            r#"emails[type eq "work"].value eq "a@b""#
        ));
    }
}
