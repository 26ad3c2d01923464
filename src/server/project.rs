//! The `attributes` and `excludedAttributes` query parameters (RFC 7644 section 3.9): which parts
//! of a resource a response carries. `id`, `schemas` and `meta.resourceType` are always returned.

use serde_json::{Map, Value};

use crate::scim::json::first_ci;
use crate::scim::path::AttrPath;
use crate::scim::schema::{Returned, SchemaSet};

/// One selected part of a resource.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// A whole extension object, named by its schema URN.
    Schema(String),
    /// An attribute: `urn` is `None` for the resource's core schema.
    Attr {
        urn: Option<String>,
        name: String,
        sub: Option<String>,
    },
}

/// A parsed `attributes` (include) or `excludedAttributes` (exclude) list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Projection {
    include: bool,
    targets: Vec<Target>,
}

impl Projection {
    /// Parses the two parameters; `attributes` wins when both are given. `None` when neither is.
    pub(crate) fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
        schemas: &SchemaSet,
        core_urn: &str,
    ) -> Result<Option<Projection>, String> {
        let (include, list) = match (attributes, excluded) {
            (Some(a), _) if !a.trim().is_empty() => (true, a),
            (_, Some(e)) if !e.trim().is_empty() => (false, e),
            _ => return Ok(None),
        };
        let mut targets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Some(schema) = schemas
                .get(item)
                .filter(|s| !s.id.eq_ignore_ascii_case(core_urn))
            {
                targets.push(Target::Schema(schema.id.clone()));
                continue;
            }
            let path = AttrPath::parse(item)?;
            let urn = path.urn.filter(|u| !u.eq_ignore_ascii_case(core_urn));
            targets.push(Target::Attr {
                urn,
                name: path.name,
                sub: path.sub,
            });
        }
        Ok(Some(Projection { include, targets }))
    }

    /// The projected copy of a resource.
    pub(crate) fn apply(&self, resource: &Value, schemas: &SchemaSet, core_urn: &str) -> Value {
        let Value::Object(obj) = resource else {
            return resource.clone();
        };
        let mut out = Map::new();
        for (key, value) in obj {
            let kept = if key == "schemas" || key == "id" {
                Some(value.clone())
            } else if key.eq_ignore_ascii_case("meta") {
                self.meta(value)
            } else if is_extension_key(key, value) {
                self.extension(key, value)
            } else {
                let always = schemas
                    .get(core_urn)
                    .and_then(|s| s.attribute(key))
                    .is_some_and(|a| a.returned == Returned::Always);
                self.select(None, key, value, always)
            };
            if let Some(v) = kept {
                out.insert(key.clone(), v);
            }
        }
        Value::Object(out)
    }

    /// `meta`: at least `resourceType` survives.
    fn meta(&self, meta: &Value) -> Option<Value> {
        let selected = self.select(None, "meta", meta, false);
        let mut kept = selected.unwrap_or_else(|| Value::Object(Map::new()));
        if let (Some(kept), Some((k, v))) = (
            kept.as_object_mut(),
            meta.as_object().and_then(|m| first_ci(m, "resourceType")),
        ) && !kept.contains_key(k)
        {
            kept.insert(k.clone(), v.clone());
        }
        Some(kept)
    }

    /// An extension object (`urn:...:enterprise:2.0:User`): whole, or attribute by attribute.
    fn extension(&self, urn: &str, value: &Value) -> Option<Value> {
        let whole = self
            .targets
            .iter()
            .any(|t| matches!(t, Target::Schema(s) if s.eq_ignore_ascii_case(urn)));
        match (whole, self.include) {
            (true, true) => return Some(value.clone()),
            (true, false) => return None,
            _ => {}
        }
        let Value::Object(inner) = value else {
            return (!self.include).then(|| value.clone());
        };
        let out: Map<String, Value> = inner
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), self.select(Some(urn), k, v, false)?)))
            .collect();
        (!out.is_empty()).then_some(Value::Object(out))
    }

    /// One attribute of the core schema (`urn` None) or of an extension.
    fn select(&self, urn: Option<&str>, name: &str, value: &Value, always: bool) -> Option<Value> {
        let mut whole = false;
        let mut subs: Vec<&str> = Vec::new();
        for t in &self.targets {
            let Target::Attr {
                urn: turn,
                name: tname,
                sub,
            } = t
            else {
                continue;
            };
            let same_schema = match (urn, turn) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            };
            if same_schema && tname.eq_ignore_ascii_case(name) {
                match sub {
                    None => whole = true,
                    Some(s) => subs.push(s),
                }
            }
        }
        let keep_sub = |k: &str| subs.iter().any(|s| s.eq_ignore_ascii_case(k));
        if self.include {
            if whole || always {
                Some(value.clone())
            } else if !subs.is_empty() {
                Some(filter_subs(value, |k| keep_sub(k)))
            } else {
                None
            }
        } else if whole && !always {
            None
        } else if !subs.is_empty() {
            Some(filter_subs(value, |k| !keep_sub(k)))
        } else {
            Some(value.clone())
        }
    }
}

/// Keeps the sub-attributes for which `keep` holds, in an object or in each object of an array.
fn filter_subs(value: &Value, keep: impl Fn(&str) -> bool + Copy) -> Value {
    match value {
        Value::Object(obj) => Value::Object(
            obj.iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| filter_subs(v, keep)).collect()),
        other => other.clone(),
    }
}

/// Whether a top-level key holds a schema extension object.
pub(crate) fn is_extension_key(key: &str, value: &Value) -> bool {
    value.is_object() && key.len() > 4 && key[..4].eq_ignore_ascii_case("urn:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::urn;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": [urn::USER, urn::ENTERPRISE_USER], "id": "1", "userName": "a",
            "name": {"givenName": "A", "familyName": "B"},
            "emails": [{"value": "a@x", "type": "work", "primary": true}],
            urn::ENTERPRISE_USER: {"employeeNumber": "7", "department": "D"},
            "meta": {"resourceType": "User", "created": "t", "location": "l"}
        })
    }

    fn project(attrs: Option<&str>, excluded: Option<&str>) -> Value {
        let s = SchemaSet::builtin();
        let p = Projection::parse(attrs, excluded, s, urn::USER)
            .unwrap()
            .unwrap();
        p.apply(&user(), s, urn::USER)
    }

    #[test]
    fn attributes_keeps_only_named_parts_plus_id_schemas_and_resource_type() {
        let ent = format!("{}:employeeNumber", urn::ENTERPRISE_USER);
        let got = project(
            Some(&format!("userName,name.givenName,emails.value,{ent}")),
            None,
        );
        assert_eq!(
            got,
            json!({
                "schemas": [urn::USER, urn::ENTERPRISE_USER], "id": "1", "userName": "a",
                "name": {"givenName": "A"}, "emails": [{"value": "a@x"}],
                urn::ENTERPRISE_USER: {"employeeNumber": "7"},
                "meta": {"resourceType": "User"}
            })
        );
    }

    #[test]
    fn excluded_attributes_removes_named_parts_but_never_id_or_resource_type() {
        let got = project(
            None,
            Some(&format!("id,meta,name.familyName,{}", urn::ENTERPRISE_USER)),
        );
        assert_eq!(
            got,
            json!({
                "schemas": [urn::USER, urn::ENTERPRISE_USER], "id": "1", "userName": "a",
                "name": {"givenName": "A"},
                "emails": [{"value": "a@x", "type": "work", "primary": true}],
                "meta": {"resourceType": "User"}
            })
        );
    }

    #[test]
    fn urn_qualified_core_names_and_case_differences_are_accepted() {
        let got = project(Some(&format!("{}:USERNAME", urn::USER)), None);
        assert_eq!(got["userName"], "a");
        assert!(got.get("name").is_none());
    }
}
