//! Entra's two PATCH dialects: a dialect-neutral patch (set / add / remove / members) rendered
//! exactly the way Entra sends it.
//!
//! Default dialect: capitalised ops, booleans as `"True"`/`"False"` strings, one op per
//! attribute, member removal with a value array. `aadOptscim062020` (compliant): lower-case ops,
//! real booleans, several replaced attributes in one path-less `replace` with dotted / URN keys
//! (filtered paths keep their own op), member removal with `members[value eq "<id>"]`.

use serde_json::{Map, Value, json};

use super::urn;

/// Which Entra PATCH dialect a run (or a step) uses.
#[derive(
    Debug, Clone, Copy, serde::Deserialize, serde::Serialize, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Entra's default dialect: capitalised ops, string booleans, value-array member removal.
    Default,
    /// The `aadOptscim062020` dialect: RFC 7644 compliant PATCH.
    Compliant,
}

impl Dialect {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Default => "default",
            Dialect::Compliant => "compliant",
        }
    }
}

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

/// A PATCH body recognised as one of Entra's dialects: the dialect-neutral patch that renders
/// back to exactly this body, and every dialect that renders it so (both for an empty
/// `Operations` array).
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// The dialects whose rendering of `patch` equals the body.
    pub dialects: Vec<Dialect>,
    /// The dialect-neutral patch.
    pub patch: NeutralPatch,
}

/// Recognises a PATCH request body as Entra's default or compliant dialect: it is one when the
/// dialect-neutral patch read back from it renders to the same JSON in that dialect. `None`
/// when neither dialect renders it (other casing, booleans of the other dialect, ops in an order
/// Entra does not use, several ops on one attribute, ...).
pub fn detect(body: &Value) -> Option<Detected> {
    let mut found: Option<Detected> = None;
    for dialect in [Dialect::Default, Dialect::Compliant] {
        if let Some(patch) = read_back(body, dialect)
            && render(&patch, dialect) == *body
        {
            match &mut found {
                Some(d) => d.dialects.push(dialect),
                None => {
                    found = Some(Detected {
                        dialects: vec![dialect],
                        patch,
                    })
                }
            }
        }
    }
    found
}

/// `"True"` / `"False"` strings become booleans again, recursively (inverse of
/// `stringify_booleans`).
fn unstringify_booleans(v: &Value) -> Value {
    match v {
        Value::String(s) if s == "True" => Value::Bool(true),
        Value::String(s) if s == "False" => Value::Bool(false),
        Value::Array(a) => Value::Array(a.iter().map(unstringify_booleans).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), unstringify_booleans(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The member ids of `[{"value": id}]` (default dialect: `{"$ref": null, "value": id}`).
fn member_ids(items: &[Value], with_null_ref: bool) -> Option<Vec<Value>> {
    items
        .iter()
        .map(|m| {
            let m = m.as_object()?;
            let keys_ok = if with_null_ref {
                m.len() == 2 && m.get("$ref") == Some(&Value::Null)
            } else {
                m.len() == 1
            };
            keys_ok.then(|| m.get("value").cloned()).flatten()
        })
        .collect()
}

/// The dialect-neutral patch `dialect` would have rendered as `body`, if its ops have that
/// dialect's shapes (the caller checks the round trip).
fn read_back(body: &Value, dialect: Dialect) -> Option<NeutralPatch> {
    let ops = body.get("Operations")?.as_array()?;
    let mut p = NeutralPatch::default();
    let value = |v: &Value| match dialect {
        Dialect::Default => unstringify_booleans(v),
        Dialect::Compliant => v.clone(),
    };
    for o in ops {
        let m = o.as_object()?;
        // The compliant dialect sends real booleans: `"False"` there is another client's shape.
        if dialect == Dialect::Compliant
            && m.get("value")
                .is_some_and(|v| unstringify_booleans(v) != *v)
        {
            return None;
        }
        let name = m.get("op")?.as_str()?.to_ascii_lowercase();
        let path = m.get("path").and_then(Value::as_str);
        match (name.as_str(), path, m.get("value"), dialect) {
            ("replace", Some(path), Some(v), _) => {
                p.set.insert(path.to_string(), value(v));
            }
            ("replace", None, Some(Value::Object(values)), Dialect::Compliant) => {
                for (k, v) in values {
                    p.set.insert(k.clone(), v.clone());
                }
            }
            ("add", Some("members"), Some(Value::Array(items)), _) => {
                p.add_members
                    .extend(member_ids(items, dialect == Dialect::Default)?);
            }
            ("add", Some(path), Some(v), _) => {
                p.add.insert(path.to_string(), value(v));
            }
            ("remove", Some("members"), Some(Value::Array(items)), Dialect::Default) => {
                p.remove_members.extend(member_ids(items, false)?);
            }
            ("remove", Some(path), None, _) => {
                let member = path
                    .strip_prefix("members[value eq ")
                    .and_then(|r| r.strip_suffix(']'))
                    .and_then(|id| serde_json::from_str::<String>(id).ok());
                match (member, dialect) {
                    (Some(id), Dialect::Compliant) => p.remove_members.push(Value::String(id)),
                    _ => p.remove.push(path.to_string()),
                }
            }
            _ => return None,
        }
    }
    Some(p)
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

    #[test]
    fn detection_reads_each_dialect_back_and_rejects_what_neither_renders() {
        let disable = json!({"schemas": [urn::PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let d = detect(&disable).unwrap();
        assert_eq!(d.dialects, vec![Dialect::Default]);
        assert_eq!(d.patch.set.get("active"), Some(&json!(false)));
        let remove = json!({"schemas": [urn::PATCH_OP], "Operations": [{"op": "remove", "path": "members[value eq \"u1\"]"}]});
        let d = detect(&remove).unwrap();
        assert_eq!(d.dialects, vec![Dialect::Compliant]);
        assert_eq!(d.patch.remove_members, vec![json!("u1")]);
        let empty = json!({"schemas": [urn::PATCH_OP], "Operations": []});
        assert_eq!(
            detect(&empty).unwrap().dialects,
            vec![Dialect::Default, Dialect::Compliant]
        );
        // Lower-case op with a string boolean: neither dialect sends that.
        let mixed = json!({"schemas": [urn::PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": "False"}]});
        assert_eq!(detect(&mixed), None);
        // Two ops on one attribute are not a dialect-neutral patch.
        let twice = json!({"schemas": [urn::PATCH_OP], "Operations": [
            {"op": "Replace", "path": "title", "value": "a"},
            {"op": "Replace", "path": "title", "value": "b"}]});
        assert_eq!(detect(&twice), None);
    }
}
