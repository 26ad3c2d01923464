//! Entra's two PATCH dialects: a dialect-neutral patch (set / add / remove / members) rendered
//! exactly the way Entra sends it.
//!
//! Default dialect: capitalised ops, booleans as `"True"`/`"False"` strings, one op per
//! attribute, member removal with a value array. `aadOptscim062020` (compliant): lower-case ops,
//! real booleans, several replaced attributes in one path-less `replace` with dotted / URN keys
//! (filtered paths keep their own op), member removal with `members[value eq "<id>"]`.

use serde_json::{Map, Value, json};

use crate::scenario::Dialect;

use super::urn;

/// A dialect-neutral PATCH, after templates have been rendered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeutralPatch {
    /// Attributes to replace.
    pub set: Map<String, Value>,
    /// Attributes to add.
    pub add: Map<String, Value>,
    /// Attribute paths to remove.
    pub remove: Vec<String>,
    /// Group member ids to add (one op).
    pub add_members: Vec<Value>,
    /// Group member ids to remove.
    pub remove_members: Vec<Value>,
    /// Raw ops appended as given.
    pub ops: Vec<Value>,
}

fn op(dialect: Dialect, name: &str) -> Value {
    Value::String(match dialect {
        Dialect::Default => {
            let mut s = name.to_string();
            s[..1].make_ascii_uppercase();
            s
        }
        Dialect::Compliant => name.to_string(),
    })
}

/// Booleans become `"True"` / `"False"` strings, recursively (Entra's default dialect).
fn stringify_booleans(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::String(if *b { "True" } else { "False" }.into()),
        Value::Array(a) => Value::Array(a.iter().map(stringify_booleans).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), stringify_booleans(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn member_id(v: &Value) -> Value {
    match v {
        Value::Object(m) => m.get("value").cloned().unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// Renders the PATCH request body (`schemas` + `Operations`) in `dialect`.
pub fn render(patch: &NeutralPatch, dialect: Dialect) -> Value {
    let mut ops: Vec<Value> = Vec::new();
    let value = |v: &Value| match dialect {
        Dialect::Default => stringify_booleans(v),
        Dialect::Compliant => v.clone(),
    };
    match dialect {
        Dialect::Default => {
            for (path, v) in &patch.set {
                ops.push(json!({"op": op(dialect, "replace"), "path": path, "value": value(v)}));
            }
        }
        Dialect::Compliant => {
            if patch.set.len() == 1 {
                let (path, v) = patch.set.iter().next().expect("one entry");
                ops.push(json!({"op": "replace", "path": path, "value": v}));
            } else {
                let mut pathless = Map::new();
                for (path, v) in &patch.set {
                    if path.contains('[') {
                        ops.push(json!({"op": "replace", "path": path, "value": v}));
                    } else {
                        pathless.insert(path.clone(), v.clone());
                    }
                }
                if !pathless.is_empty() {
                    ops.push(json!({"op": "replace", "value": pathless}));
                }
            }
        }
    }
    for (path, v) in &patch.add {
        ops.push(json!({"op": op(dialect, "add"), "path": path, "value": value(v)}));
    }
    for path in &patch.remove {
        ops.push(json!({"op": op(dialect, "remove"), "path": path}));
    }
    if !patch.add_members.is_empty() {
        let members: Vec<Value> = patch
            .add_members
            .iter()
            .map(|m| match dialect {
                Dialect::Default => json!({"$ref": null, "value": member_id(m)}),
                Dialect::Compliant => json!({"value": member_id(m)}),
            })
            .collect();
        ops.push(json!({"op": op(dialect, "add"), "path": "members", "value": members}));
    }
    if !patch.remove_members.is_empty() {
        match dialect {
            Dialect::Default => {
                let members: Vec<Value> = patch
                    .remove_members
                    .iter()
                    .map(|m| json!({"value": member_id(m)}))
                    .collect();
                ops.push(json!({"op": "Remove", "path": "members", "value": members}));
            }
            Dialect::Compliant => {
                for m in &patch.remove_members {
                    let id = match member_id(m) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    let path = format!("members[value eq {}]", Value::String(id));
                    ops.push(json!({"op": "remove", "path": path}));
                }
            }
        }
    }
    ops.extend(patch.ops.iter().cloned());
    json!({"schemas": [urn::PATCH_OP], "Operations": ops})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(body: Value) -> Value {
        body["Operations"].clone()
    }

    fn set(pairs: Value) -> NeutralPatch {
        NeutralPatch {
            set: pairs.as_object().cloned().unwrap_or_default(),
            ..Default::default()
        }
    }

    #[test]
    fn disable_user_in_each_dialect() {
        let p = set(json!({"active": false}));
        assert_eq!(
            ops(render(&p, Dialect::Default)),
            json!([{"op": "Replace", "path": "active", "value": "False"}])
        );
        assert_eq!(
            ops(render(&p, Dialect::Compliant)),
            json!([{"op": "replace", "path": "active", "value": false}])
        );
        assert_eq!(
            render(&p, Dialect::Default)["schemas"],
            json!([urn::PATCH_OP])
        );
    }

    #[test]
    fn add_one_attribute_in_each_dialect() {
        let p = NeutralPatch {
            add: json!({"nickName": "Babs"}).as_object().cloned().unwrap(),
            ..Default::default()
        };
        assert_eq!(
            ops(render(&p, Dialect::Default)),
            json!([{"op": "Add", "path": "nickName", "value": "Babs"}])
        );
        assert_eq!(
            ops(render(&p, Dialect::Compliant)),
            json!([{"op": "add", "path": "nickName", "value": "Babs"}])
        );
    }

    #[test]
    fn replace_several_attributes_one_op_each_or_pathless() {
        let emp = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";
        let p =
            set(json!({"emails[type eq \"work\"].value": "a@x", "name.givenName": "A", emp: "7"}));
        assert_eq!(
            ops(render(&p, Dialect::Default)),
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@x"},
                {"op": "Replace", "path": "name.givenName", "value": "A"},
                {"op": "Replace", "path": emp, "value": "7"}
            ])
        );
        assert_eq!(
            ops(render(&p, Dialect::Compliant)),
            json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@x"},
                {"op": "replace", "value": {"name.givenName": "A", emp: "7"}}
            ])
        );
    }

    #[test]
    fn member_changes_in_each_dialect() {
        let p = NeutralPatch {
            add_members: vec![json!("u1"), json!("u2")],
            ..Default::default()
        };
        assert_eq!(
            ops(render(&p, Dialect::Default)),
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"$ref": null, "value": "u2"}]}])
        );
        let p = NeutralPatch {
            remove_members: vec![json!("u1")],
            ..Default::default()
        };
        assert_eq!(
            ops(render(&p, Dialect::Default)),
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}])
        );
        assert_eq!(
            ops(render(&p, Dialect::Compliant)),
            json!([{"op": "remove", "path": "members[value eq \"u1\"]"}])
        );
    }

    #[test]
    fn booleans_inside_values_become_strings_in_the_default_dialect() {
        let p = NeutralPatch {
            add: json!({"roles": [{"primary": true, "value": "r"}]})
                .as_object()
                .cloned()
                .unwrap(),
            ..Default::default()
        };
        assert_eq!(
            ops(render(&p, Dialect::Default))[0]["value"],
            json!([{"primary": "True", "value": "r"}])
        );
    }

    #[test]
    fn an_empty_patch_has_an_empty_operations_array() {
        assert_eq!(
            ops(render(&NeutralPatch::default(), Dialect::Compliant)),
            json!([])
        );
    }
}
