//! Values and elements: case-insensitive merging and removal of members, de-duplication of
//! multi-valued elements by `value`, one `primary`, and dropping what became empty.

use serde_json::{Map, Value};

use crate::scim::json::{get_ci, key_ci};

/// Whether writing `new` would leave `current` as it is (`schemas` compared as a set of URNs).
pub(super) fn same_value(current: Option<&Value>, new: &Value) -> bool {
    match (current, new) {
        (None, v) => v.is_null(),
        (Some(Value::Array(a)), Value::Array(b)) => {
            let has = |list: &Vec<Value>, x: &Value| match x {
                Value::String(s) => list
                    .iter()
                    .any(|y| y.as_str().is_some_and(|y| y.eq_ignore_ascii_case(s))),
                other => list.contains(other),
            };
            a.iter().all(|x| has(b, x)) && b.iter().all(|x| has(a, x))
        }
        (Some(c), v) => c == v,
    }
}

/// Removes `key` when its value became empty (an empty multi-valued attribute is unassigned,
/// RFC 7644 3.5.2.2).
pub(super) fn drop_if_empty(container: &mut Map<String, Value>, key: &str) {
    let empty = match container.get(key) {
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    };
    if empty {
        container.shift_remove(key);
    }
}

/// Removes the key matching `name` case-insensitively, keeping the order of the others.
pub(super) fn remove_ci(map: &mut Map<String, Value>, name: &str) {
    if let Some(key) = key_ci(map, name).cloned() {
        map.shift_remove(&key);
    }
}

/// Sets the given fields (case-insensitive keys); `null` unassigns.
pub(super) fn merge(target: &mut Map<String, Value>, fields: Map<String, Value>) {
    for (k, v) in fields {
        let key = key_ci(target, &k).cloned().unwrap_or(k);
        if v.is_null() {
            target.shift_remove(&key);
        } else {
            target.insert(key, v);
        }
    }
}

pub(super) fn strip_nulls(v: &mut Value) {
    if let Value::Object(fields) = v {
        fields.retain(|_, v| !v.is_null());
    }
}

/// Same element for de-duplication and value-array removal: equal `value` sub-attributes, or
/// equal as a whole when there is no `value`.
pub(super) fn same_element(existing: &Value, given: &Value) -> bool {
    fn value_of(v: &Value) -> Option<&Value> {
        v.as_object().and_then(|m| get_ci(m, "value"))
    }
    match (value_of(existing), value_of(given)) {
        (Some(a), Some(b)) => a == b,
        (Some(a), None) => a == given,
        (None, _) => existing == given,
    }
}

fn is_primary(v: &Value) -> bool {
    v.as_object().and_then(|m| get_ci(m, "primary")) == Some(&Value::Bool(true))
}

/// Appends `item` unless an element with the same `value` exists (then merges into it). A new
/// primary value takes `primary` away from the others (RFC 7644 3.5.2.1).
pub(super) fn add_element(mut items: Vec<Value>, item: Value) -> Vec<Value> {
    if is_primary(&item) {
        for other in items.iter_mut().filter(|e| is_primary(e)) {
            if let Some(fields) = other.as_object_mut() {
                merge(
                    fields,
                    Map::from_iter([("primary".to_string(), Value::Bool(false))]),
                );
            }
        }
    }
    match items.iter_mut().find(|e| same_element(e, &item)) {
        Some(Value::Object(fields)) => {
            if let Value::Object(new) = item {
                merge(fields, new);
            }
        }
        Some(_) => {}
        None => items.push(item),
    }
    items
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::scim::urn;

    #[test]
    fn remove_group_member_default_dialect_removes_only_the_listed_values() {
        let g =
            patch_group(json!([{"op": "Remove", "path": "members", "value": [{"value": "m2"}]}]));
        assert_eq!(member_ids(&g), ["m1", "m3"]);
        let g = patch_group(json!([
            {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "m1"}, {"value": "m3"}]}
        ]));
        assert_eq!(member_ids(&g), ["m2"]);
    }

    #[test]
    fn remove_group_member_compliant_dialect_uses_a_value_filter() {
        let g = patch_group(json!([{"op": "remove", "path": "members[value eq \"m2\"]"}]));
        assert_eq!(member_ids(&g), ["m1", "m3"]);
    }

    #[test]
    fn removing_absent_members_succeeds_and_changes_nothing() {
        assert_eq!(
            patch_group(json!([{"op": "remove", "path": "members[value eq \"zz\"]"}])),
            group()
        );
        assert_eq!(
            patch_group(json!([{"op": "Remove", "path": "members", "value": [{"value": "zz"}]}])),
            group()
        );
    }

    #[test]
    fn removing_every_member_leaves_members_unassigned() {
        let g = patch_group(json!([{"op": "Remove", "path": "members", "value": [
            {"value": "m1"}, {"value": "m2"}, {"value": "m3"}
        ]}]));
        assert!(g.get("members").is_none());
        let g = patch_group(json!([{"op": "remove", "path": "members"}]));
        assert!(g.get("members").is_none());
    }

    #[test]
    fn add_members_drops_null_refs_and_skips_duplicates() {
        let g = patch_group(json!([{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": "m4"}, {"$ref": null, "value": "m1"}, {"$ref": null, "value": "m5"}
        ]}]));
        assert_eq!(member_ids(&g), ["m1", "m2", "m3", "m4", "m5"]);
        assert_eq!(g["members"][3], json!({"value": "m4"}));
    }

    #[test]
    fn add_members_to_a_group_without_members() {
        let mut g = group();
        g.as_object_mut().unwrap().remove("members");
        let g = patch_with(
            &g,
            urn::GROUP,
            json!([{"op": "Add", "path": "members", "value": [{"value": "m9"}]}]),
            &schemas(),
        );
        assert_eq!(g.unwrap()["members"], json!([{"value": "m9"}]));
    }

    #[test]
    fn adding_a_primary_value_takes_primary_from_the_others() {
        let r = patch_user(json!([{"op": "add", "path": "emails", "value": [
            {"value": "new@example.com", "type": "other", "primary": true}
        ]}]));
        assert_eq!(r["emails"][0]["primary"], json!(false));
        assert_eq!(r["emails"][1]["primary"], json!(true));
    }
}
