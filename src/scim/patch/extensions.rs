//! Extension objects: a whole extension added, replaced or removed, the canonical spelling of an
//! extension URN, and the resource's `schemas` kept in step with the extensions it holds.

use serde_json::{Map, Value};

use super::apply::{Kind, Patcher};
use super::elements::remove_ci;
use super::error::{PatchError, invalid_path, invalid_value};
use crate::scim::filter::parse_patch_path;
use crate::scim::json::{get_ci, key_ci};
use crate::scim::urn;

pub(super) fn is_urn(s: &str) -> bool {
    s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

impl<'a> Patcher<'a> {
    /// Adds, replaces or removes a whole extension object (`urn:...:enterprise:2.0:User`).
    pub(super) fn apply_extension(
        &mut self,
        work: &mut Map<String, Value>,
        kind: Kind,
        ext: &str,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        match value {
            _ if kind == Kind::Remove => {}
            Some(Value::Null) => {}
            Some(Value::Object(fields)) => {
                for (key, v) in fields {
                    let parsed = parse_patch_path(key)
                        .map_err(|e| invalid_path(format!("`{ext}` key `{key}`: {e}")))?;
                    let target = self.target(work, parsed, Some(ext));
                    self.apply_target(work, kind, &target, Some(v))?;
                }
                return Ok(());
            }
            _ => {
                return Err(invalid_value(format!(
                    "the value of extension `{ext}` must be an object"
                )));
            }
        }
        remove_ci(work, ext);
        drop_schema_urn(work, ext);
        Ok(())
    }

    /// The canonical spelling of `s` if it names an extension schema of this resource.
    pub(super) fn extension_named(&self, work: &Map<String, Value>, s: &str) -> Option<String> {
        if !is_urn(s) || s.eq_ignore_ascii_case(self.core) {
            return None;
        }
        if let Some(key) = key_ci(work, s) {
            return Some(key.clone());
        }
        if let Some(schema) = self.schemas.get(s) {
            return Some(schema.id.clone());
        }
        if s.eq_ignore_ascii_case(urn::ENTERPRISE_USER) {
            return Some(urn::ENTERPRISE_USER.to_string());
        }
        declared_schemas(work)
            .find(|u| u.eq_ignore_ascii_case(s))
            .map(str::to_string)
    }

    /// Lists written extensions in `schemas`; drops extension objects left empty, with their URN.
    pub(super) fn fix_extensions(&self, work: &mut Map<String, Value>) {
        for ext in &self.touched {
            let Some(key) = key_ci(work, ext).cloned() else {
                continue;
            };
            if work[&key].as_object().is_some_and(|m| !m.is_empty()) {
                match key_ci(work, "schemas").cloned() {
                    Some(k) => {
                        let listed = |l: &&mut Vec<Value>| {
                            l.iter()
                                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(ext)))
                        };
                        if let Some(list) = work[&k].as_array_mut().filter(|l| !listed(l)) {
                            list.push(Value::String(key));
                        }
                    }
                    None => {
                        let list = vec![Value::String(self.core.to_string()), Value::String(key)];
                        work.insert("schemas".into(), Value::Array(list));
                    }
                }
            } else {
                work.shift_remove(&key);
                drop_schema_urn(work, ext);
            }
        }
    }
}

/// The URNs listed in the resource's `schemas` attribute.
pub(super) fn declared_schemas(work: &Map<String, Value>) -> impl Iterator<Item = &str> {
    get_ci(work, "schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn drop_schema_urn(work: &mut Map<String, Value>, ext: &str) {
    if let Some(Value::Array(list)) = key_ci(work, "schemas")
        .cloned()
        .and_then(|k| work.get_mut(&k))
    {
        list.retain(|u| !u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(ext)));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::scim::urn;

    #[test]
    fn pathless_urn_key_with_object_value_merges_into_the_extension() {
        let r = patch_user(json!([
            {"op": "add", "value": {EXT: {"employeeNumber": "7", "department": "Sales"}}},
            {"op": "replace", "value": {EXT: {"department": "Tax", "manager": "boss"}}}
        ]));
        assert_eq!(
            r[EXT],
            json!({"employeeNumber": "7", "department": "Tax", "manager": {"value": "boss"}})
        );
    }

    #[test]
    fn whole_extension_path_adds_and_removes_the_extension() {
        let r = patch_user(json!([{"op": "add", "path": EXT, "value": {"employeeNumber": "9"}}]));
        assert_eq!(r[EXT], json!({"employeeNumber": "9"}));
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
        let r = patch_with(
            &r,
            urn::USER,
            json!([{"op": "remove", "path": EXT}]),
            &schemas(),
        )
        .unwrap();
        assert!(r.get(EXT).is_none());
        assert_eq!(r["schemas"], json!([urn::USER]));
    }

    #[test]
    fn emptied_extension_is_dropped_with_its_urn() {
        let r = patch_user(
            json!([{"op": "add", "path": format!("{EXT}:department"), "value": "Sales"}]),
        );
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
        let r = patch_with(
            &r,
            urn::USER,
            json!([{"op": "remove", "path": "department"}]),
            &schemas(),
        )
        .unwrap();
        assert!(r.get(EXT).is_none());
        assert_eq!(r["schemas"], json!([urn::USER]));
    }

    #[test]
    fn removing_an_absent_extension_attribute_keeps_the_declared_urn() {
        let mut u = user();
        u["schemas"] = json!([urn::USER, EXT]);
        let r = patch_with(
            &u,
            urn::USER,
            json!([{"op": "remove", "path": "manager"}]),
            &schemas(),
        )
        .unwrap();
        assert_eq!(r, u);
    }
}
