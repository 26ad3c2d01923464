//! The request layer: quirks that change how a request is read, or refuse one that a conformant
//! server accepts. The routes call it on the authentication, the endpoint, the query parameters
//! and the raw POST body; the store on create and PATCH bodies, before they are applied.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{Quirk, QuirkSet};
use crate::scim::filter::{CompareOp, Filter, parse_patch_path};
use crate::scim::json::get_ci;
use crate::scim::patch::PatchOperation;
use crate::scim::path::AttrPath;
use crate::scim::schema::{AttrType, SchemaSet};
use crate::scim::urn;
use crate::server::store::{Config, Kind, ScimError, fix_booleans, id_string, schemas_of};

/// `slow=MS`: how long every request waits before it is handled.
pub(crate) fn delay(q: &QuirkSet) -> Option<Duration> {
    q.slow
}

/// `accepts-any-token`: whether requests are served without a valid bearer token.
pub(crate) fn accepts_any_token(q: &QuirkSet) -> bool {
    q.has(Quirk::AcceptsAnyToken)
}

/// `groups-not-found` and `discovery-not-found`: the 404 for an endpoint the server does not
/// support, by the first path segment under the base path.
pub(crate) fn unsupported_endpoint(q: &QuirkSet, segment: Option<&str>) -> Option<ScimError> {
    let unsupported = match segment {
        Some("Groups") => q.has(Quirk::GroupsNotFound),
        Some("Schemas" | "ResourceTypes" | "ServiceProviderConfig") => {
            q.has(Quirk::DiscoveryNotFound)
        }
        _ => false,
    };
    unsupported.then(|| ScimError::plain(404, "not found"))
}

/// `ignores-excluded-attributes`: whether `attributes` and `excludedAttributes` are ignored.
pub(crate) fn ignores_projection(q: &QuirkSet) -> bool {
    q.has(Quirk::IgnoresExcludedAttributes)
}

/// `filter-plus-as-space`: the filter as read; URL-decoded a second time, a `+` becomes a space.
pub(crate) fn filter_text<'a>(q: &QuirkSet, filter: &'a str) -> Cow<'a, str> {
    if q.has(Quirk::FilterPlusAsSpace) {
        Cow::Owned(filter.replace('+', " "))
    } else {
        Cow::Borrowed(filter)
    }
}

/// `and-filter-rejected` and `unquoted-filter-rejected`: 400 invalidFilter for a filter text a
/// conformant server parses.
pub(crate) fn screen_filter_text(q: &QuirkSet, filter: &str) -> Result<(), ScimError> {
    if q.has(Quirk::AndFilterRejected) && filter_uses_and(filter) {
        return Err(invalid_filter("`and` is not supported in filters"));
    }
    if q.has(Quirk::UnquotedFilterRejected) && filter_has_unquoted_value(filter) {
        return Err(invalid_filter("filter values must be quoted strings"));
    }
    Ok(())
}

/// `eq-and-filters-only`: 400 invalidFilter for a parsed filter with an operator Entra never
/// sends.
pub(crate) fn screen_filter(q: &QuirkSet, filter: &Filter) -> Result<(), ScimError> {
    if q.has(Quirk::EqAndFiltersOnly) && filter_beyond_eq_and(filter) {
        return Err(invalid_filter(
            "only `eq` and `and` are supported in filters",
        ));
    }
    Ok(())
}

fn invalid_filter(detail: &str) -> ScimError {
    ScimError::typed(400, "invalidFilter", detail)
}

/// `ignores-pagination`: the `(startIndex, count)` a list answers with: everything, from 1.
pub(crate) fn page(q: &QuirkSet, start: usize, count: usize) -> (usize, usize) {
    if q.has(Quirk::IgnoresPagination) {
        (1, usize::MAX)
    } else {
        (start, count)
    }
}

/// `case-sensitive-filter`: whether filters compare every string case-exactly.
pub(crate) fn case_exact_filters(q: &QuirkSet) -> bool {
    q.has(Quirk::CaseSensitiveFilter)
}

/// `rejects-explicit-nulls` and `requires-name-formatted`: 400 for a POST body, as sent, that a
/// conformant server accepts.
pub(crate) fn screen_post(q: &QuirkSet, kind: Kind, body: &Value) -> Result<(), ScimError> {
    if q.has(Quirk::RejectsExplicitNulls)
        && let Some(attr) = first_explicit_null(body)
    {
        return Err(ScimError::typed(
            400,
            "invalidValue",
            format!("attribute '{attr}' must not be null"),
        ));
    }
    if kind == Kind::User
        && q.has(Quirk::RequiresNameFormatted)
        && body["name"]["formatted"].as_str().is_none_or(str::is_empty)
    {
        return Err(ScimError::typed(
            400,
            "invalidValue",
            "name.formatted is required",
        ));
    }
    Ok(())
}

/// `rejects-entra-group-schema`: 400 for a group create whose `schemas` lists Entra's ADSCIM
/// group URN.
pub(crate) fn screen_create(
    q: &QuirkSet,
    kind: Kind,
    obj: &Map<String, Value>,
) -> Result<(), ScimError> {
    if kind == Kind::Group
        && q.has(Quirk::RejectsEntraGroupSchema)
        && schemas_of(obj).any(|s| s.eq_ignore_ascii_case(urn::ENTRA_GROUP))
    {
        return Err(ScimError::typed(
            400,
            "invalidValue",
            format!("unsupported schema {}", urn::ENTRA_GROUP),
        ));
    }
    Ok(())
}

/// `rejects-string-booleans`: 400 when a body held string booleans (`found`), which a conformant
/// server reads as booleans.
pub(crate) fn screen_string_booleans(q: &QuirkSet, found: bool) -> Result<(), ScimError> {
    if found && q.has(Quirk::RejectsStringBooleans) {
        return Err(string_boolean_error());
    }
    Ok(())
}

fn string_boolean_error() -> ScimError {
    ScimError::typed(
        400,
        "invalidValue",
        "boolean attributes must be JSON booleans, not strings",
    )
}

/// The PATCH quirks, on the operations as parsed and the resource before the PATCH: first the
/// operations a conformant server accepts are refused, then the rest is rewritten into what a
/// buggy server really applies, then that is judged against the stored resource.
pub(crate) fn read_patch(
    cfg: &Config,
    kind: Kind,
    old: &Value,
    mut ops: Vec<PatchOperation>,
) -> Result<Vec<PatchOperation>, ScimError> {
    screen_patch(cfg, kind, &ops)?;
    rewrite_patch(cfg, kind, &mut ops);
    let q = &cfg.quirks;
    if kind == Kind::User
        && q.has(Quirk::RejectsActiveNoop)
        && old.get("active") == Some(&Value::Bool(true))
        && ops.iter().any(sets_active_true)
    {
        return Err(ScimError::typed(
            400,
            "invalidValue",
            "the user is already active",
        ));
    }
    if kind == Kind::Group {
        check_member_ops(
            old,
            &ops,
            q.has(Quirk::ReaddMemberConflicts),
            q.has(Quirk::RemoveNonMemberFails),
        )?;
    }
    Ok(ops)
}

/// The PATCH quirks that change the operations into what a buggy server applies: only the
/// first, replace as add, fewer members, no empty manager, a member removal as a wipe.
fn rewrite_patch(cfg: &Config, kind: Kind, ops: &mut Vec<PatchOperation>) {
    if cfg.quirks.has(Quirk::FirstPatchOpOnly) {
        ops.truncate(1);
    }
    if cfg.quirks.has(Quirk::MultiValuedReplaceMerges) {
        for op in ops.iter_mut() {
            replace_as_merge(&cfg.schemas, kind.core_urn(), op);
        }
    }
    if cfg.quirks.has(Quirk::FilteredReplaceAppends) {
        ops.iter_mut().for_each(replace_as_append);
    }
    if kind == Kind::Group && cfg.quirks.has(Quirk::RemovesFirstMemberOnly) {
        ops.iter_mut().for_each(first_member_only);
    }
    if kind == Kind::User && cfg.quirks.has(Quirk::KeepsManagerOnEmptyValue) {
        ops.retain(|op| !empties_manager(cfg, op));
    }
    if kind == Kind::Group && cfg.quirks.has(Quirk::RemoveMemberWipesGroup) {
        for op in ops.iter_mut() {
            let on_members = op.path.as_deref().is_some_and(|p| {
                let p = p.trim();
                p.len() >= 7
                    && p[..7].eq_ignore_ascii_case("members")
                    && matches!(p[7..].chars().next(), None | Some('[' | '.'))
            });
            if op.op.eq_ignore_ascii_case("remove") && on_members {
                *op = PatchOperation {
                    op: "remove".into(),
                    path: Some("members".into()),
                    value: None,
                };
            }
        }
    }
}

/// The PATCH quirks that reject operations a conformant server accepts.
fn screen_patch(cfg: &Config, kind: Kind, ops: &[PatchOperation]) -> Result<(), ScimError> {
    let q = &cfg.quirks;
    if ops.is_empty() && q.has(Quirk::EmptyOperationsRejected) {
        return Err(ScimError::typed(
            400,
            "invalidValue",
            "`Operations` must not be empty",
        ));
    }
    for op in ops {
        if q.has(Quirk::CaseSensitiveSubAttributes) {
            check_sub_attribute_case(&cfg.schemas, kind.core_urn(), op)?;
        }
        if q.has(Quirk::MultiValuedReplaceRejected)
            && replaces_multi_valued(&cfg.schemas, kind.core_urn(), op)
        {
            return Err(ScimError::typed(
                400,
                "invalidSyntax",
                "replace is not supported on multi-valued attributes; use add and remove",
            ));
        }
        if q.has(Quirk::StringBooleanFilterMisses) {
            check_string_boolean_filter(&cfg.schemas, kind.core_urn(), op)?;
        }
        if q.has(Quirk::RejectsClearingValues) && clears_a_value(op) {
            return Err(ScimError::typed(400, "invalidValue", "a value is required"));
        }
        if q.has(Quirk::RejectsCapitalisedOps) && op.op != op.op.to_lowercase() {
            return Err(ScimError::typed(
                400,
                "invalidSyntax",
                format!("unknown PATCH op `{}`", op.op),
            ));
        }
        if q.has(Quirk::FilteredPathRejected) && op.path.as_deref().is_some_and(|p| p.contains('['))
        {
            return Err(ScimError::typed(
                400,
                "invalidPath",
                "value filters in PATCH paths are not supported",
            ));
        }
        let pathless_set = op.path.is_none() && !op.op.eq_ignore_ascii_case("remove");
        if q.has(Quirk::DottedKeysRejected)
            && pathless_set
            && let Some(Value::Object(value)) = &op.value
        {
            let dotted = value.keys().any(|k| {
                cfg.schemas.get(k).is_none()
                    && AttrPath::parse(k).is_ok_and(|p| p.urn.is_some() || p.sub.is_some())
            });
            if dotted {
                return Err(ScimError::typed(
                    400,
                    "invalidValue",
                    "attribute names in a PATCH value must be plain",
                ));
            }
        }
        let targets = op_targets(cfg, op);
        for (path, value) in &targets {
            if q.has(Quirk::RoleJsonValueRejected) && has_json_role_value(path, value) {
                return Err(ScimError::typed(
                    400,
                    "invalidValue",
                    "a role value must be a role name",
                ));
            }
            if q.has(Quirk::CaseSensitiveStringBooleans) {
                check_boolean_spelling(&cfg.schemas, kind.core_urn(), path, value)?;
            }
            let is_manager = path.name.eq_ignore_ascii_case("manager") && path.sub.is_none();
            if is_manager && value.is_string() && q.has(Quirk::ManagerStringRejected) {
                return Err(ScimError::typed(
                    400,
                    "invalidValue",
                    "manager must be an object with a `value`",
                ));
            }
            if is_manager
                && (value.is_object() || value.is_array())
                && q.has(Quirk::ManagerObjectRejected)
            {
                return Err(ScimError::typed(
                    400,
                    "invalidValue",
                    "manager must be a string id",
                ));
            }
            if q.has(Quirk::RejectsStringBooleans)
                && let Some(attr) = cfg.schemas.lookup(kind.core_urn(), path)
            {
                let mut found = false;
                fix_booleans(attr, &mut (*value).clone(), &mut found);
                if found {
                    return Err(string_boolean_error());
                }
            }
        }
    }
    Ok(())
}

/// Whether an add / replace sets the manager to an empty value (Entra's way to remove it).
fn empties_manager(cfg: &Config, op: &PatchOperation) -> bool {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    !op.op.eq_ignore_ascii_case("remove")
        && op_targets(cfg, op).iter().any(|(path, value)| {
            path.name.eq_ignore_ascii_case("manager") && path.sub.is_none() && empty(value)
        })
}

/// The (attribute path, value) pairs a PATCH operation sets: its path without value filter, or
/// each key of a path-less value (extension objects opened).
fn op_targets<'a>(cfg: &Config, op: &'a PatchOperation) -> Vec<(AttrPath, &'a Value)> {
    let Some(value) = &op.value else {
        return Vec::new();
    };
    if let Some(path) = &op.path {
        let plain = match (path.find('['), path.rfind(']')) {
            (Some(open), Some(close)) if close > open => {
                format!("{}{}", &path[..open], &path[close + 1..])
            }
            _ => path.clone(),
        };
        return AttrPath::parse(&plain)
            .map(|p| vec![(p, value)])
            .unwrap_or_default();
    }
    let Value::Object(obj) = value else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in obj {
        if cfg.schemas.get(k).is_some() {
            if let Value::Object(inner) = v {
                for (ik, iv) in inner {
                    if let Ok(mut p) = AttrPath::parse(ik) {
                        p.urn = Some(k.clone());
                        out.push((p, iv));
                    }
                }
            }
        } else if let Ok(p) = AttrPath::parse(k) {
            out.push((p, v));
        }
    }
    out
}

/// `rejects-active-noop`: whether an op sets `active` to true (boolean or string).
fn sets_active_true(op: &PatchOperation) -> bool {
    if op.op.eq_ignore_ascii_case("remove") {
        return false;
    }
    let truthy = |v: &Value| match v {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    match (&op.path, &op.value) {
        (Some(p), Some(v)) => p.trim().eq_ignore_ascii_case("active") && truthy(v),
        (None, Some(Value::Object(m))) => get_ci(m, "active").is_some_and(truthy),
        _ => false,
    }
}

/// `case-sensitive-string-booleans`: 400 for a lower-case (or otherwise not `True`/`False`)
/// string boolean on a boolean attribute.
fn check_boolean_spelling(
    schemas: &SchemaSet,
    core: &str,
    path: &AttrPath,
    value: &Value,
) -> Result<(), ScimError> {
    let Some(attr) = schemas.lookup(core, path) else {
        return Ok(());
    };
    if attr.kind != AttrType::Boolean {
        return Ok(());
    }
    match value {
        Value::String(s) if s != "True" && s != "False" => Err(ScimError::typed(
            400,
            "invalidValue",
            format!("`{s}` is not a boolean (expected True or False)"),
        )),
        _ => Ok(()),
    }
}

/// `case-sensitive-sub-attributes`: 400 for a PATCH path whose sub-attribute differs from the
/// schema's name only in case (`addresses[type eq "other"].Formatted`).
fn check_sub_attribute_case(
    schemas: &SchemaSet,
    core: &str,
    op: &PatchOperation,
) -> Result<(), ScimError> {
    let Some(parsed) = op.path.as_deref().and_then(|p| parse_patch_path(p).ok()) else {
        return Ok(());
    };
    let (Some(sub), Some(attr)) = (&parsed.sub, schemas.lookup(core, &parsed.attr)) else {
        return Ok(());
    };
    match attr.sub_attribute(sub) {
        Some(def) if def.name != *sub => Err(ScimError::typed(
            400,
            "invalidPath",
            format!("`{}` has no sub-attribute `{sub}`", attr.name),
        )),
        _ => Ok(()),
    }
}

/// `rejects-clearing-values`: whether an add / replace clears something with `""` or `null`.
fn clears_a_value(op: &PatchOperation) -> bool {
    let empty = |v: &Value| v.is_null() || v.as_str().is_some_and(str::is_empty);
    if op.op.eq_ignore_ascii_case("remove") {
        return false;
    }
    match (&op.path, &op.value) {
        (Some(_), Some(v)) => empty(v),
        (None, Some(Value::Object(m))) => m.values().any(empty),
        _ => false,
    }
}

/// `filtered-replace-appends`: a `replace` of `attr[type eq "x"].sub` becomes an `add` of a new
/// element `{type: x, sub: value}`, which lands next to the matching one instead of changing it.
fn replace_as_append(op: &mut PatchOperation) {
    if !op.op.eq_ignore_ascii_case("replace") {
        return;
    }
    let Some(parsed) = op.path.as_deref().and_then(|p| parse_patch_path(p).ok()) else {
        return;
    };
    let (
        Some(Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: key,
        }),
        Some(sub),
        Some(v),
    ) = (&parsed.filter, &parsed.sub, &op.value)
    else {
        return;
    };
    let mut element = Map::new();
    element.insert(path.name.clone(), key.clone());
    element.insert(sub.clone(), v.clone());
    *op = PatchOperation {
        op: "add".into(),
        path: Some(parsed.attr.to_string()),
        value: Some(json!([element])),
    };
}

/// `string-boolean-filter-misses`: 400 noTarget for a value filter that compares a boolean
/// sub-attribute with a string, as a type-strict filter engine finds no match.
fn check_string_boolean_filter(
    schemas: &SchemaSet,
    core: &str,
    op: &PatchOperation,
) -> Result<(), ScimError> {
    let Some(parsed) = op.path.as_deref().and_then(|p| parse_patch_path(p).ok()) else {
        return Ok(());
    };
    let Some(Filter::Compare {
        path,
        value: Value::String(s),
        ..
    }) = &parsed.filter
    else {
        return Ok(());
    };
    let sub = AttrPath {
        urn: parsed.attr.urn.clone(),
        name: parsed.attr.name.clone(),
        sub: Some(path.name.clone()),
    };
    match schemas.lookup(core, &sub) {
        Some(def) if def.kind == AttrType::Boolean => Err(ScimError::typed(
            400,
            "noTarget",
            format!(
                "no value of `{}` matches the filter (`{}` is a boolean, not \"{s}\")",
                parsed.attr.name, path.name
            ),
        )),
        _ => Ok(()),
    }
}

/// `multi-valued-replace-merges`: a `replace` of a whole multi-valued attribute becomes an `add`.
fn replace_as_merge(schemas: &SchemaSet, core: &str, op: &mut PatchOperation) {
    if replaces_multi_valued(schemas, core, op) {
        op.op = "add".into();
    }
}

/// Whether an op is a `replace` of a whole multi-valued attribute (`roles`, not `roles[...]`).
fn replaces_multi_valued(schemas: &SchemaSet, core: &str, op: &PatchOperation) -> bool {
    let whole = op
        .path
        .as_deref()
        .and_then(|p| parse_patch_path(p).ok())
        .filter(|p| p.filter.is_none() && p.sub.is_none());
    let multi = whole
        .and_then(|p| schemas.lookup(core, &p.attr))
        .is_some_and(|d| d.multi_valued);
    multi && op.op.eq_ignore_ascii_case("replace")
}

/// `role-json-value-rejected`: whether an add / replace of `roles` carries a value that is not
/// a plain name (a JSON document in a string).
fn has_json_role_value(path: &AttrPath, value: &Value) -> bool {
    let json_like = |v: &Value| {
        v.get("value")
            .and_then(Value::as_str)
            .is_some_and(|s| s.trim_start().starts_with('{'))
    };
    path.name.eq_ignore_ascii_case("roles")
        && match value {
            Value::Array(items) => items.iter().any(json_like),
            v => json_like(v),
        }
}

/// Whether an op is a `members` add or remove with a value array; returns the listed ids.
fn member_values(op: &PatchOperation, wanted: &str) -> Option<Vec<String>> {
    let on_members = op
        .path
        .as_deref()
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("members"));
    if !on_members || !op.op.eq_ignore_ascii_case(wanted) {
        return None;
    }
    let Some(Value::Array(items)) = &op.value else {
        return None;
    };
    Some(
        items
            .iter()
            .filter_map(|m| m.get("value").map(id_string))
            .collect(),
    )
}

/// `removes-first-member-only`: a value-array removal keeps only its first member.
fn first_member_only(op: &mut PatchOperation) {
    if member_values(op, "remove").is_some_and(|ids| ids.len() > 1)
        && let Some(Value::Array(items)) = &mut op.value
    {
        items.truncate(1);
    }
}

/// The ids in a group's `members`.
fn member_ids(group: &Value) -> Vec<String> {
    group
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").map(id_string))
        .collect()
}

/// `readd-member-conflicts` (409 for adding a present member) and `remove-non-member-fails`
/// (400 noTarget for removing an absent one), judged against the group before the PATCH.
fn check_member_ops(
    group: &Value,
    ops: &[PatchOperation],
    readd_conflicts: bool,
    remove_absent_fails: bool,
) -> Result<(), ScimError> {
    let present = member_ids(group);
    for op in ops {
        if readd_conflicts
            && let Some(id) = member_values(op, "add")
                .into_iter()
                .flatten()
                .find(|id| present.contains(id))
        {
            return Err(ScimError::typed(
                409,
                "uniqueness",
                format!("{id} is already a member of this group"),
            ));
        }
        if remove_absent_fails
            && let Some(id) = member_values(op, "remove")
                .into_iter()
                .flatten()
                .find(|id| !present.contains(id))
        {
            return Err(ScimError::typed(
                400,
                "noTarget",
                format!("{id} is not a member of this group"),
            ));
        }
    }
    Ok(())
}

/// The tokens of a filter outside string literals, for the filter quirks: `(word, quoted)` pairs
/// where `quoted` tells whether the token was a double-quoted string.
fn filter_tokens(filter: &str) -> Vec<(String, bool)> {
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
fn filter_uses_and(filter: &str) -> bool {
    filter_tokens(filter)
        .iter()
        .any(|(t, quoted)| !quoted && t.eq_ignore_ascii_case("and"))
}

/// Whether the filter uses an operator Entra never sends (anything but `eq` and `and`).
fn filter_beyond_eq_and(filter: &Filter) -> bool {
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
fn first_explicit_null(body: &Value) -> Option<String> {
    let obj = body.as_object()?;
    obj.iter().find_map(|(k, v)| match v {
        Value::Null => Some(k.clone()),
        Value::Object(inner) => inner
            .iter()
            .find(|(_, v)| v.is_null())
            .map(|(ik, _)| format!("{k}:{ik}")),
        _ => None,
    })
}

/// Whether some comparison in the filter has a value that is not a double-quoted string.
fn filter_has_unquoted_value(filter: &str) -> bool {
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

    fn op(v: Value) -> PatchOperation {
        serde_json::from_value(v).expect("operation")
    }

    #[test]
    fn active_true_is_recognised_in_every_spelling() {
        for v in [json!(true), json!("True"), json!("true")] {
            assert!(sets_active_true(&op(
                json!({"op": "Replace", "path": "active", "value": v})
            )));
        }
        assert!(sets_active_true(&op(
            json!({"op": "replace", "value": {"active": true}})
        )));
        assert!(!sets_active_true(&op(
            json!({"op": "Replace", "path": "active", "value": "False"})
        )));
    }

    #[test]
    fn a_filtered_replace_becomes_an_append_of_a_new_element() {
        let mut o =
            op(json!({"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "n@x"}));
        replace_as_append(&mut o);
        assert_eq!(o.op, "add");
        assert_eq!(o.path.as_deref(), Some("emails"));
        assert_eq!(o.value, Some(json!([{"type": "work", "value": "n@x"}])));
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
