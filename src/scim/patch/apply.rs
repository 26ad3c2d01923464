//! Applying operations in order, all or nothing: the op and its value, path-less values, the
//! mutability rules, and setting or removing a whole attribute or a sub-attribute.

use serde_json::{Map, Value};

use super::PatchOperation;
use super::elements::{
    add_element, drop_if_empty, merge, remove_ci, same_element, same_value, strip_nulls,
};
use super::error::{PatchError, invalid_path, invalid_value, multi_valued_sub};
use super::extensions::is_urn;
use super::lenient::{coerce, manager_value};
use super::target::{Target, container_mut, current};
use crate::scim::filter::{self, MatchContext, parse_patch_path};
use crate::scim::json::key_ci;
use crate::scim::schema::{Attribute, Mutability, SchemaSet};

/// Applies `ops` in order to `resource` (a JSON object whose core schema is `core_urn`).
/// All or nothing: on error the resource is left unchanged.
pub fn apply_patch(
    resource: &mut Value,
    ops: &[PatchOperation],
    schemas: &SchemaSet,
    core_urn: &str,
) -> Result<(), PatchError> {
    if ops.is_empty() {
        return Ok(());
    }
    let Value::Object(stored) = resource else {
        return Err(invalid_value("the stored resource is not a JSON object"));
    };
    let mut work = stored.clone();
    let mut patcher = Patcher {
        schemas,
        core: core_urn,
        touched: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        patcher.apply_op(&mut work, op).map_err(|mut e| {
            e.detail = format!("Operations[{i}] (`{}`): {}", op.op, e.detail);
            e
        })?;
    }
    patcher.fix_extensions(&mut work);
    *stored = work;
    Ok(())
}

/// What an operation does, read from its `op` in any case.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Add,
    Replace,
    Remove,
}

/// One PATCH in progress: the schemas that resolve its paths and the resource's core schema.
pub(super) struct Patcher<'a> {
    pub(super) schemas: &'a SchemaSet,
    pub(super) core: &'a str,
    /// Extension URNs written to, whose `schemas` entry is reconciled at the end.
    pub(super) touched: Vec<String>,
}
impl<'a> Patcher<'a> {
    fn apply_op(
        &mut self,
        work: &mut Map<String, Value>,
        op: &PatchOperation,
    ) -> Result<(), PatchError> {
        let kind = match op.op.trim() {
            o if o.eq_ignore_ascii_case("add") => Kind::Add,
            o if o.eq_ignore_ascii_case("replace") => Kind::Replace,
            o if o.eq_ignore_ascii_case("remove") => Kind::Remove,
            other => {
                return Err(PatchError::new(
                    "invalidSyntax",
                    format!("unknown op `{other}`: expected add, replace or remove"),
                ));
            }
        };
        let value = op.value.as_ref();
        if kind != Kind::Remove && value.is_none() {
            return Err(PatchError::new(
                "invalidSyntax",
                "add and replace need a `value`",
            ));
        }
        let Some(path) = op.path.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
            if kind == Kind::Remove {
                return Err(PatchError::new("noTarget", "remove needs a `path`"));
            }
            let Some(Value::Object(fields)) = value else {
                return Err(invalid_value(
                    "an operation without `path` needs an object `value` whose keys are attribute paths",
                ));
            };
            for (key, v) in fields {
                self.apply_key(work, kind, key, v)?;
            }
            return Ok(());
        };
        if let Some(ext) = self.extension_named(work, path) {
            return self.apply_extension(work, kind, &ext, value);
        }
        let parsed = parse_patch_path(path).map_err(|e| invalid_path(format!("`{path}`: {e}")))?;
        let target = self.target(work, parsed, None);
        self.apply_target(work, kind, &target, value)
    }

    /// One key of a path-less value: `displayName`, `name.givenName`, `urn:...:User:employeeNumber`,
    /// or an extension URN whose value is an object.
    fn apply_key(
        &mut self,
        work: &mut Map<String, Value>,
        kind: Kind,
        key: &str,
        v: &Value,
    ) -> Result<(), PatchError> {
        if let Some(ext) = self.extension_named(work, key) {
            return self.apply_extension(work, kind, &ext, Some(v));
        }
        if let (true, Value::Object(fields)) = (key.eq_ignore_ascii_case(self.core), v) {
            return fields
                .iter()
                .try_for_each(|(k, v)| self.apply_key(work, kind, k, v));
        }
        match parse_patch_path(key) {
            Ok(parsed) => {
                let unknown_urn = parsed.attr.urn.as_deref().is_some_and(|u| {
                    !u.eq_ignore_ascii_case(self.core) && self.extension_named(work, u).is_none()
                });
                if unknown_urn && v.is_object() {
                    return self.apply_extension(work, kind, key, Some(v));
                }
                let target = self.target(work, parsed, None);
                self.apply_target(work, kind, &target, Some(v))
            }
            Err(_) if is_urn(key) && v.is_object() => {
                self.apply_extension(work, kind, key, Some(v))
            }
            Err(e) => Err(invalid_path(format!("`{key}`: {e}"))),
        }
    }

    pub(super) fn def(&self, urn: Option<&str>, name: &str) -> Option<&'a Attribute> {
        self.schemas.get(urn.unwrap_or(self.core))?.attribute(name)
    }

    pub(super) fn apply_target(
        &mut self,
        work: &mut Map<String, Value>,
        kind: Kind,
        t: &Target,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        let untracked = t
            .urn
            .as_ref()
            .filter(|u| !self.touched.iter().any(|x| x.eq_ignore_ascii_case(u)));
        if let Some(u) = untracked {
            self.touched.push(u.clone());
        }
        if !self.check_mutability(work, kind, t, value)? {
            return Ok(());
        }
        let Some(value) = value.filter(|_| kind != Kind::Remove) else {
            return self.remove(work, t, value);
        };
        if t.is_manager() && t.filter.is_none() && t.sub.is_none() {
            return match manager_value(value)? {
                Some(v) => {
                    let container = container_mut(work, t.urn.as_deref(), true).expect("created");
                    let key = key_ci(container, &t.name)
                        .cloned()
                        .unwrap_or_else(|| t.name.clone());
                    container.insert(key, v);
                    Ok(())
                }
                None => self.remove(work, t, None),
            };
        }
        let mut value = value.clone();
        match (&t.filter, &t.sub) {
            (None, None) => {
                coerce(&mut value, t.def, &t.name, false)?;
                self.set_whole(work, kind, t, value)
            }
            (None, Some(sub)) => {
                coerce(&mut value, t.sub_def(), sub, true)?;
                self.set_sub(work, t, sub, value)
            }
            (Some(filter), sub) => {
                match sub {
                    Some(sub) => coerce(&mut value, t.sub_def(), sub, true)?,
                    None => coerce(&mut value, t.def, &t.name, false)?,
                }
                self.set_filtered(work, kind, t, filter, sub.as_deref(), value)
            }
        }
    }

    /// Refuses changes to `id`, `meta`, `schemas` and read-only or already-set immutable
    /// attributes. Echoing the current value is accepted as a no-op (`Ok(false)`).
    fn check_mutability(
        &self,
        work: &Map<String, Value>,
        kind: Kind,
        t: &Target,
        value: Option<&Value>,
    ) -> Result<bool, PatchError> {
        let protected = t.urn.is_none()
            && ["id", "meta", "schemas"]
                .iter()
                .any(|n| t.name.eq_ignore_ascii_case(n));
        let mutability = t.def.map(|d| d.mutability);
        let current = current(work, t);
        let whole = kind != Kind::Remove && t.filter.is_none() && t.sub.is_none();
        let unchanged = whole && value.is_some_and(|v| same_value(current, v));
        let (locked, why) = if protected || mutability == Some(Mutability::ReadOnly) {
            (true, "is read-only")
        } else if mutability == Some(Mutability::Immutable) && current.is_some() {
            (true, "is immutable and already has a value")
        } else {
            (false, "")
        };
        match (locked, unchanged) {
            (false, _) => Ok(true),
            (true, true) => Ok(false),
            (true, false) => Err(PatchError::new(
                "mutability",
                format!("`{}` {why} and cannot be changed", t.name),
            )),
        }
    }

    /// `add`/`replace` of a whole attribute (no filter, no sub-attribute).
    fn set_whole(
        &self,
        work: &mut Map<String, Value>,
        kind: Kind,
        t: &Target,
        value: Value,
    ) -> Result<(), PatchError> {
        if value.is_null() {
            return self.remove(work, t, None);
        }
        let multi = match t.def {
            Some(def) => def.multi_valued,
            None => value.is_array() || current(work, t).is_some_and(Value::is_array),
        };
        let container = container_mut(work, t.urn.as_deref(), true).expect("created");
        let key = key_ci(container, &t.name)
            .cloned()
            .unwrap_or_else(|| t.name.clone());
        if multi {
            let mut items = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            items.retain(|v| !v.is_null());
            items.iter_mut().for_each(strip_nulls);
            if kind == Kind::Replace {
                container.insert(key.clone(), Value::Array(items));
            } else {
                let slot = container.entry(key.clone()).or_insert(Value::Null);
                let arr = match slot.take() {
                    Value::Array(arr) => arr,
                    Value::Null => Vec::new(),
                    single => vec![single],
                };
                *slot = Value::Array(items.into_iter().fold(arr, add_element));
            }
        } else if let Value::Object(fields) = value {
            // RFC 7644 3.5.2.1 and 3.5.2.3: sub-attributes not given are left unchanged.
            let slot = container.entry(key.clone()).or_insert(Value::Null);
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            merge(slot.as_object_mut().expect("object"), fields);
        } else {
            container.insert(key.clone(), value);
        }
        drop_if_empty(container, &key);
        Ok(())
    }

    /// `add`/`replace` of `attr.sub` (e.g. `name.givenName`).
    fn set_sub(
        &self,
        work: &mut Map<String, Value>,
        t: &Target,
        sub: &str,
        value: Value,
    ) -> Result<(), PatchError> {
        if t.def.is_some_and(|d| d.multi_valued) || current(work, t).is_some_and(Value::is_array) {
            return Err(multi_valued_sub(t, sub));
        }
        if value.is_null() {
            return self.remove(work, t, None);
        }
        let container = container_mut(work, t.urn.as_deref(), true).expect("created");
        let key = key_ci(container, &t.name)
            .cloned()
            .unwrap_or_else(|| t.name.clone());
        let slot = container.entry(key).or_insert(Value::Null);
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let sub_name = t.sub_def().map_or(sub, |d| d.name.as_str());
        merge(
            slot.as_object_mut().expect("object"),
            Map::from_iter([(sub_name.to_string(), value)]),
        );
        Ok(())
    }

    /// `remove`, also used for add/replace with an empty value. Removing what is not there
    /// succeeds (Entra retries removals).
    pub(super) fn remove(
        &self,
        work: &mut Map<String, Value>,
        t: &Target,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        let cx = MatchContext {
            schemas: self.schemas,
            core_urn: self.core,
            force_case_exact: false,
        };
        let multi_def = t.def.is_some_and(|d| d.multi_valued);
        let Some(container) = container_mut(work, t.urn.as_deref(), false) else {
            return Ok(());
        };
        let Some(key) = key_ci(container, &t.name).cloned() else {
            return Ok(());
        };
        let slot = container.get_mut(&key).expect("found");
        match (&t.filter, &t.sub, slot) {
            // Default dialect: `{"op":"Remove","path":"members","value":[{"value":"id"}]}`.
            (None, None, Value::Array(items)) if value.is_some_and(|v| !v.is_null()) => {
                let unwanted = match value {
                    Some(Value::Array(list)) => list.iter().collect(),
                    other => other.into_iter().collect::<Vec<_>>(),
                };
                items.retain(|e| !unwanted.iter().any(|u| same_element(e, u)));
            }
            (None, None, _) => {
                container.shift_remove(&key);
            }
            (None, Some(sub), Value::Array(_)) => return Err(multi_valued_sub(t, sub)),
            (None, Some(_), _) if multi_def => {
                return Err(multi_valued_sub(t, t.sub.as_deref().unwrap_or("")));
            }
            (None, Some(sub), Value::Object(fields)) => remove_ci(fields, sub),
            (None, Some(_), _) => {}
            (Some(filter), sub, Value::Array(items)) => {
                let selected =
                    |e: &Value| filter::matches_element(filter, e, t.urn.as_deref(), &t.name, &cx);
                match sub {
                    None => items.retain(|e| !selected(e)),
                    Some(sub) => {
                        let chosen = items.iter_mut().filter(|e| selected(e));
                        chosen
                            .filter_map(Value::as_object_mut)
                            .for_each(|fields| remove_ci(fields, sub));
                    }
                }
            }
            (Some(_), _, Value::Null) => {}
            (Some(_), _, _) => {
                return Err(invalid_path(format!(
                    "`{}` is not multi-valued, so it cannot take a value filter",
                    t.name
                )));
            }
        }
        drop_if_empty(container, &key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::scim::urn;

    #[test]
    fn op_names_are_case_insensitive() {
        for (add, replace) in [("Add", "Replace"), ("add", "replace"), ("ADD", "REPLACE")] {
            let r = patch_user(json!([
                {"op": add, "path": "nickName", "value": "Babs"},
                {"op": replace, "path": "title", "value": "Boss"}
            ]));
            assert_eq!(
                (r["nickName"].as_str(), r["title"].as_str()),
                (Some("Babs"), Some("Boss"))
            );
        }
        for remove in ["Remove", "remove", "REMOVE"] {
            let r = patch_user(json!([{"op": remove, "path": "displayName"}]));
            assert!(r.get("displayName").is_none());
        }
    }

    #[test]
    fn unknown_op_is_invalid_syntax() {
        let e = user_error(json!([{"op": "Update", "path": "title", "value": "x"}]));
        assert_eq!(e.scim_type, "invalidSyntax");
        assert!(
            e.detail.contains("Operations[0]") && e.detail.contains("Update"),
            "{e}"
        );
    }

    #[test]
    fn add_or_replace_without_value_is_invalid_syntax() {
        assert_eq!(
            user_error(json!([{"op": "add", "path": "title"}])).scim_type,
            "invalidSyntax"
        );
    }

    #[test]
    fn empty_operations_change_nothing() {
        assert_eq!(patch_user(json!([])), user());
    }

    #[test]
    fn remove_without_path_is_no_target() {
        let e = user_error(json!([{"op": "Remove", "value": {"title": "x"}}]));
        assert_eq!(e.scim_type, "noTarget");
    }

    #[test]
    fn bad_paths_are_invalid_path() {
        for path in [
            "emails[type eq \"work\"",
            "1bad",
            "name.",
            "emails[type zz \"work\"].value",
            "a b",
        ] {
            let e = user_error(json!([{"op": "replace", "path": path, "value": "x"}]));
            assert_eq!(e.scim_type, "invalidPath", "{path}: {e}");
        }
    }

    #[test]
    fn add_one_attribute_in_both_dialects() {
        for op in ["Add", "add"] {
            let r = patch_user(json!([{"op": op, "path": "nickName", "value": "Babs"}]));
            assert_eq!(r["nickName"], json!("Babs"));
        }
    }

    #[test]
    fn replace_several_attributes_default_dialect_one_op_per_path() {
        let r = patch_user(json!([
            {"op": "Replace", "path": "displayName", "value": "Barbara J"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Barb"},
            {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"},
            {"op": "Replace", "path": "externalId", "value": "ext-2"},
            {"op": "Replace", "path": format!("{EXT}:employeeNumber"), "value": "701984"}
        ]));
        assert_eq!(r["displayName"], json!("Barbara J"));
        assert_eq!(
            r["emails"],
            json!([{"value": "barbara@example.com", "type": "work", "primary": true}])
        );
        assert_eq!(
            r["name"],
            json!({"givenName": "Barb", "familyName": "Jensen-Smith"})
        );
        assert_eq!(r["externalId"], json!("ext-2"));
        assert_eq!(r[EXT], json!({"employeeNumber": "701984"}));
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
    }

    #[test]
    fn replace_several_attributes_compliant_dialect_uses_a_pathless_value_with_dotted_and_urn_keys()
    {
        let r = patch_user(json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
            {"op": "replace", "value": {
                "displayName": "Barbara J",
                "name.givenName": "Barb",
                "name.familyName": "Jensen-Smith",
                "externalId": "ext-2",
                format!("{EXT}:employeeNumber"): "701984"
            }}
        ]));
        assert_eq!(r["emails"][0]["value"], json!("barbara@example.com"));
        assert_eq!(r["displayName"], json!("Barbara J"));
        assert_eq!(
            r["name"],
            json!({"givenName": "Barb", "familyName": "Jensen-Smith"})
        );
        assert_eq!(r["externalId"], json!("ext-2"));
        assert_eq!(r[EXT]["employeeNumber"], json!("701984"));
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
    }

    #[test]
    fn pathless_add_sets_merges_and_appends() {
        let r = patch_user(json!([{"op": "Add", "value": {
            "nickName": "B",
            "name": {"formatted": "Barbara Jensen"},
            "emails": [{"value": "b@home.org", "type": "home"}]
        }}]));
        assert_eq!(r["nickName"], json!("B"));
        assert_eq!(
            r["name"],
            json!({"givenName": "Barbara", "familyName": "Jensen", "formatted": "Barbara Jensen"})
        );
        assert_eq!(r["emails"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn pathless_value_must_be_an_object() {
        assert_eq!(
            user_error(json!([{"op": "replace", "value": "x"}])).scim_type,
            "invalidValue"
        );
    }

    #[test]
    fn group_rename() {
        let g = patch_group(json!([{"op": "Replace", "path": "displayName", "value": "Sales EU"}]));
        assert_eq!(g["displayName"], json!("Sales EU"));
    }

    #[test]
    fn replace_of_a_multi_valued_attribute_without_filter_replaces_the_array() {
        let g =
            patch_group(json!([{"op": "replace", "path": "members", "value": [{"value": "m7"}]}]));
        assert_eq!(member_ids(&g), ["m7"]);
    }

    #[test]
    fn remove_of_a_sub_attribute_and_of_an_emptied_complex_attribute() {
        let r = patch_user(json!([{"op": "remove", "path": "name.givenName"}]));
        assert_eq!(r["name"], json!({"familyName": "Jensen"}));
        let r = patch_with(
            &r,
            urn::USER,
            json!([{"op": "remove", "path": "name.familyName"}]),
            &schemas(),
        )
        .unwrap();
        assert!(r.get("name").is_none());
    }

    #[test]
    fn sub_attribute_of_a_multi_valued_attribute_needs_a_filter() {
        for op in ["replace", "remove"] {
            let e = user_error(json!([{"op": op, "path": "emails.value", "value": "x"}]));
            assert_eq!(e.scim_type, "invalidPath", "{op}");
        }
    }

    #[test]
    fn value_filter_on_a_single_valued_attribute_is_invalid_path() {
        let e = user_error(
            json!([{"op": "replace", "path": "name[givenName eq \"Barbara\"].familyName", "value": "x"}]),
        );
        assert_eq!(e.scim_type, "invalidPath");
    }

    #[test]
    fn id_meta_and_schemas_cannot_be_changed() {
        for (path, value) in [
            ("id", json!("other")),
            ("meta", json!({})),
            ("schemas", json!([urn::USER, "urn:x"])),
        ] {
            let e = user_error(json!([{"op": "replace", "path": path, "value": value}]));
            assert_eq!(e.scim_type, "mutability", "{path}");
        }
        assert_eq!(
            user_error(json!([{"op": "remove", "path": "id"}])).scim_type,
            "mutability"
        );
        assert_eq!(
            user_error(json!([{"op": "replace", "value": {"id": "other"}}])).scim_type,
            "mutability"
        );
    }

    #[test]
    fn echoing_unchanged_read_only_values_is_accepted() {
        let r = patch_user(
            json!([{"op": "replace", "value": {"id": "u1", "schemas": [urn::USER], "title": "T"}}]),
        );
        assert_eq!(r["id"], json!("u1"));
        assert_eq!(r["title"], json!("T"));
    }

    #[test]
    fn read_only_and_set_immutable_attributes_are_mutability_errors() {
        assert_eq!(
            user_error(json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]))
                .scim_type,
            "mutability"
        );
        let r = patch_user(json!([{"op": "add", "path": "badge", "value": "B1"}]));
        let e = patch_with(
            &r,
            urn::USER,
            json!([{"op": "replace", "path": "badge", "value": "B2"}]),
            &schemas(),
        );
        assert_eq!(e.unwrap_err().scim_type, "mutability");
    }

    #[test]
    fn unknown_attributes_are_stored_as_sent() {
        let r = patch_user(json!([
            {"op": "add", "path": "favoriteColor", "value": "teal"},
            {"op": "add", "value": {"shoeSize": 42, "tags": ["a"]}}
        ]));
        assert_eq!(r["favoriteColor"], json!("teal"));
        assert_eq!(r["shoeSize"], json!(42));
        assert_eq!(r["tags"], json!(["a"]));
    }

    #[test]
    fn attribute_names_match_case_insensitively_and_keep_the_stored_spelling() {
        let r = patch_user(
            json!([{"op": "replace", "path": "DISPLAYNAME", "value": "X"}, {"op": "add", "path": "nickname", "value": "N"}]),
        );
        assert_eq!(r["displayName"], json!("X"));
        assert!(r.get("DISPLAYNAME").is_none());
        assert_eq!(
            r["nickName"],
            json!("N"),
            "schema spelling for a new attribute"
        );
    }

    #[test]
    fn null_values_unassign() {
        let r = patch_user(json!([
            {"op": "replace", "path": "displayName", "value": null},
            {"op": "replace", "value": {"externalId": null, "name": {"givenName": null}}}
        ]));
        assert!(r.get("displayName").is_none());
        assert!(r.get("externalId").is_none());
        assert_eq!(r["name"], json!({"familyName": "Jensen"}));
    }

    #[test]
    fn a_failing_operation_rolls_back_the_earlier_ones() {
        let e = user_error(json!([
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "replace", "path": "active", "value": "nope"}
        ]));
        assert!(e.detail.starts_with("Operations[1]"), "{e}");
    }

    #[test]
    fn validator_paths_on_the_work_email() {
        let r = patch_user(json!([
            {"op": "Add", "path": "emails[type eq \"work\"].display", "value": "Work mail"},
            {"op": "Replace", "path": "emails[type eq \"work\"].primary", "value": "True"}
        ]));
        assert_eq!(
            r["emails"],
            json!([{"value": "bjensen@example.com", "type": "work", "primary": true, "display": "Work mail"}])
        );
    }
}
