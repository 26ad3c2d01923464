//! The quirks behind Entra's fuller request shapes (issue 14): string booleans in every
//! spelling, periodic `active` no-ops, typed multi-valued paths, custom extensions, clearing
//! values, several members per operation, deleted users in filters, realistic values. Each
//! function is called from one place in `store.rs` or `routes.rs`, only when its quirk is on.

use serde_json::{Map, Value, json};

use super::project::is_extension_key;
use super::store::{Kind, ScimError, id_string};
use crate::scim::filter::{CompareOp, Filter, parse_patch_path};
use crate::scim::json::get_ci;
use crate::scim::patch::PatchOperation;
use crate::scim::path::AttrPath;
use crate::scim::schema::{AttrType, SchemaSet};

/// Longest string `truncates-long-values` stores.
pub(crate) const MAX_STORED_CHARS: usize = 100;

/// `rejects-active-noop`: whether an op sets `active` to true (boolean or string).
pub(crate) fn sets_active_true(op: &PatchOperation) -> bool {
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
pub(crate) fn check_boolean_spelling(
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
pub(crate) fn check_sub_attribute_case(
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
pub(crate) fn clears_a_value(op: &PatchOperation) -> bool {
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
pub(crate) fn replace_as_append(op: &mut PatchOperation) {
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
pub(crate) fn check_string_boolean_filter(
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
pub(crate) fn replace_as_merge(schemas: &SchemaSet, core: &str, op: &mut PatchOperation) {
    if replaces_multi_valued(schemas, core, op) {
        op.op = "add".into();
    }
}

/// Whether an op is a `replace` of a whole multi-valued attribute (`roles`, not `roles[...]`).
pub(crate) fn replaces_multi_valued(schemas: &SchemaSet, core: &str, op: &PatchOperation) -> bool {
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
pub(crate) fn has_json_role_value(path: &AttrPath, value: &Value) -> bool {
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
pub(crate) fn first_member_only(op: &mut PatchOperation) {
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
pub(crate) fn check_member_ops(
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

/// `extension-needs-schemas-entry`: drops extension objects whose URN `schemas` does not list.
pub(crate) fn drop_undeclared_extensions(obj: &mut Map<String, Value>) {
    let declared: Vec<String> = obj
        .get("schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    obj.retain(|k, v| !is_extension_key(k, v) || declared.contains(&k.to_ascii_lowercase()));
}

/// `mangles-non-ascii` and `truncates-long-values`: what a narrow database column does to every
/// stored string (`schemas` and attribute names are left alone).
pub(crate) fn narrow_strings(v: &mut Value, ascii_only: bool, truncate: bool) {
    match v {
        Value::String(s) => {
            if ascii_only && !s.is_ascii() {
                *s = s
                    .chars()
                    .map(|c| if c.is_ascii() { c } else { '?' })
                    .collect();
            }
            if truncate && s.chars().count() > MAX_STORED_CHARS {
                *s = s.chars().take(MAX_STORED_CHARS).collect();
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| narrow_strings(v, ascii_only, truncate)),
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if !k.eq_ignore_ascii_case("schemas") {
                    narrow_strings(v, ascii_only, truncate);
                }
            }
        }
        _ => {}
    }
}

/// `wrong-meta-location`: `meta.location` names the server's internal address, as a server
/// behind a reverse proxy that builds it from its own bind address does.
pub(crate) fn internal_location(resource: &mut Value, base_url: &str) {
    let Some(Value::String(location)) = resource.pointer_mut("/meta/location") else {
        return;
    };
    let origin_end = base_url
        .find("://")
        .and_then(|i| base_url[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base_url.len());
    if let Some(rest) = location.strip_prefix(&base_url[..origin_end]) {
        *location = format!("http://scim-backend.internal:8080{rest}");
    }
}

/// `deleted-still-filtered`: the resource kinds whose deleted resources stay in filter results.
pub(crate) fn keeps_ghosts(kind: Kind) -> bool {
    kind == Kind::User
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
    fn narrow_columns_mangle_and_cut_strings_but_not_schemas() {
        let mut v =
            json!({"schemas": ["urn:é"], "name": {"givenName": "Zoë"}, "t": "x".repeat(120)});
        narrow_strings(&mut v, true, true);
        assert_eq!(v["schemas"][0], "urn:é");
        assert_eq!(v["name"]["givenName"], "Zo?");
        assert_eq!(v["t"].as_str().unwrap().len(), MAX_STORED_CHARS);
    }
}
