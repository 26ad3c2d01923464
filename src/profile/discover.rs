//! What a server publishes at `/Schemas`, seen from a profile: does each mapped attribute
//! exist there, with a compatible type, and which ones does the server declare required. This is
//! the "discover schema" step the Entra portal runs when a provisioning configuration is saved.

use serde_json::Value;

use crate::http::{Client, OutRequest};
use crate::scim::urn;

use super::model::{AttrKind, Mapped};
use super::target::Target;

/// A server's `/Schemas` reply, kept as JSON so checks can point into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovery {
    /// `(JSON pointer of the schema in the reply, schema document)`.
    schemas: Vec<(String, Value)>,
    /// The pointer of the list of schemas in the reply (`/Resources`, or empty for a bare array).
    list: String,
    /// Why the server's schemas are unknown (no `/Schemas`, not a ListResponse...), if they are.
    pub unavailable: Option<String>,
    /// The server could not be reached at all (exit code 3).
    pub unreachable: bool,
}

/// Where a mapped attribute is (or is not) in a server's `/Schemas`.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Found: the pointer of its definition (the sub-attribute's, for `name.givenName`), its
    /// name as published, its `type`, whether it is declared `required`.
    Found {
        pointer: String,
        name: String,
        scim_type: String,
        required: bool,
    },
    /// No schema with the target's URN; `ids` points at every schema's id (`/Resources/*/id`).
    NoSchema { ids: String, urn: String },
    /// The schema exists but has no such attribute; `names` points at its attributes' names.
    NoAttribute { names: String, name: String },
    /// The attribute exists but has no such sub-attribute; `names` points at their names.
    NoSubAttribute { names: String, sub: String },
}

use crate::scim::json::member as get_ci;

fn key_ci(v: &Value, key: &str) -> String {
    v.as_object()
        .and_then(|o| crate::scim::json::key_ci(o, key).cloned())
        .unwrap_or_else(|| key.to_string())
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Finds the attribute called `name` (case-insensitive) in a list at `pointer`.
fn find_named<'a>(
    list: Option<&'a Value>,
    pointer: &str,
    name: &str,
) -> Option<(String, &'a Value)> {
    list?
        .as_array()?
        .iter()
        .enumerate()
        .find(|(_, a)| text(get_ci(a, "name")).eq_ignore_ascii_case(name))
        .map(|(i, a)| (format!("{pointer}/{i}"), a))
}

impl Discovery {
    /// Schemas that could not be read, and why.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Discovery {
            schemas: vec![],
            list: String::new(),
            unavailable: Some(reason.into()),
            unreachable: false,
        }
    }

    /// Reads a `/Schemas` reply: a ListResponse of Schema resources (a bare array is accepted).
    pub fn from_reply(status: u16, body: Option<&Value>) -> Self {
        if status != 200 {
            return Discovery::unavailable(format!("GET /Schemas answered {status}"));
        }
        let (prefix, list) = match body {
            Some(Value::Array(items)) => (String::new(), items),
            Some(v @ Value::Object(_)) => match get_ci(v, "Resources").and_then(Value::as_array) {
                Some(items) => (format!("/{}", key_ci(v, "Resources")), items),
                None => {
                    return Discovery::unavailable("the /Schemas reply has no `Resources` array");
                }
            },
            _ => return Discovery::unavailable("the /Schemas reply is not JSON"),
        };
        Discovery {
            schemas: list
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("{prefix}/{i}"), s.clone()))
                .collect(),
            list: prefix,
            unreachable: false,
            unavailable: None,
        }
    }

    /// Sends `GET /Schemas` with `client` (a read; nothing is created).
    pub async fn fetch(client: &Client) -> Self {
        let ex = client.send(&OutRequest::new("GET", "/Schemas")).await;
        match ex.response {
            Ok(r) => Discovery::from_reply(r.status, r.json().as_ref()),
            Err(e) => Discovery {
                unreachable: e.is_unreachable(),
                ..Discovery::unavailable(format!("GET /Schemas failed: {e}"))
            },
        }
    }

    /// The schema documents, with their pointers.
    pub fn schemas(&self) -> &[(String, Value)] {
        &self.schemas
    }

    /// The schema with this id, and its pointer.
    pub fn schema(&self, id: &str) -> Option<(&str, &Value)> {
        self.schemas
            .iter()
            .find(|(_, s)| text(get_ci(s, "id")).eq_ignore_ascii_case(id))
            .map(|(p, s)| (p.as_str(), s))
    }

    /// Where `t` is in the published schemas.
    pub fn lookup(&self, t: &Target) -> Lookup {
        let id = t.urn.as_deref().unwrap_or(urn::USER);
        let Some((schema_ptr, schema)) = self.schema(id) else {
            return Lookup::NoSchema {
                ids: format!("{}/*/id", self.list),
                urn: id.to_string(),
            };
        };
        let attrs_ptr = format!("{schema_ptr}/{}", key_ci(schema, "attributes"));
        let found = find_named(get_ci(schema, "attributes"), &attrs_ptr, &t.name).or_else(|| {
            // `externalId` is a common attribute: many servers leave it out of the User schema.
            (t.urn.is_none() && t.name.eq_ignore_ascii_case("externalId"))
                .then(|| (String::new(), &Value::Null))
        });
        let Some((attr_ptr, attr)) = found else {
            return Lookup::NoAttribute {
                names: format!("{attrs_ptr}/*/name"),
                name: t.name.clone(),
            };
        };
        if attr_ptr.is_empty() {
            return Lookup::Found {
                pointer: String::new(),
                name: "externalId".into(),
                scim_type: "string".into(),
                required: false,
            };
        }
        let attr_required = flag(get_ci(attr, "required"));
        let Some(sub) = &t.sub else {
            return Lookup::Found {
                pointer: attr_ptr,
                name: text(get_ci(attr, "name")),
                scim_type: text(get_ci(attr, "type")),
                required: attr_required,
            };
        };
        let subs_ptr = format!("{attr_ptr}/{}", key_ci(attr, "subAttributes"));
        match find_named(get_ci(attr, "subAttributes"), &subs_ptr, sub) {
            Some((p, s)) => Lookup::Found {
                pointer: p,
                name: text(get_ci(s, "name")),
                scim_type: text(get_ci(s, "type")),
                // A sub-attribute is required when its attribute is, and it is itself (for a
                // multi-valued attribute, `value` required alone only shapes each element).
                required: attr_required
                    && (flag(get_ci(s, "required")) || !flag(get_ci(attr, "multiValued"))),
            },
            None => Lookup::NoSubAttribute {
                names: format!("{subs_ptr}/*/name"),
                sub: sub.clone(),
            },
        }
    }

    /// Whether the server declares `a` required (so a create without it must fail).
    pub fn declares_required(&self, a: &Mapped) -> bool {
        matches!(self.lookup(&a.target), Lookup::Found { required: true, .. })
    }
}

/// Whether a published `type` can hold a value of the mapped kind.
pub fn compatible(kind: AttrKind, scim_type: &str) -> bool {
    kind.compatible_scim_types()
        .iter()
        .any(|t| t.eq_ignore_ascii_case(scim_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{SchemaSet, schema_resource};
    use serde_json::json;

    fn builtin() -> Discovery {
        let resources: Vec<Value> = SchemaSet::builtin()
            .schemas
            .iter()
            .map(schema_resource)
            .collect();
        Discovery::from_reply(200, Some(&json!({"Resources": resources})))
    }

    fn t(path: &str) -> Target {
        Target::parse(path).unwrap()
    }

    #[test]
    fn mapped_attributes_are_found_with_their_pointer_and_type() {
        let d = builtin();
        let Lookup::Found {
            pointer,
            name,
            scim_type,
            ..
        } = d.lookup(&t(r#"addresses[type eq "work"].locality"#))
        else {
            panic!("not found")
        };
        assert!(pointer.starts_with("/Resources/0/attributes/"), "{pointer}");
        assert!(pointer.contains("/subAttributes/"), "{pointer}");
        assert_eq!((name.as_str(), scim_type.as_str()), ("locality", "string"));
        assert!(matches!(
            d.lookup(&t(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"
            )),
            Lookup::Found { .. }
        ));
        assert!(matches!(d.lookup(&t("externalId")), Lookup::Found { .. }));
    }

    #[test]
    fn unknown_schemas_attributes_and_sub_attributes_are_told_apart() {
        let d = builtin();
        assert!(matches!(
            d.lookup(&t("urn:x:custom:2.0:User:badge")),
            Lookup::NoSchema { .. }
        ));
        assert!(matches!(d.lookup(&t("badge")), Lookup::NoAttribute { .. }));
        assert!(matches!(
            d.lookup(&t("name.nick")),
            Lookup::NoSubAttribute { .. }
        ));
        assert!(Discovery::from_reply(404, None).unavailable.is_some());
        let bare = Discovery::from_reply(
            200,
            Some(
                &json!([{"id": urn::USER, "attributes": [{"name": "title", "type": "string", "required": true}]}]),
            ),
        );
        assert!(
            matches!(bare.lookup(&t("title")), Lookup::Found { ref pointer, required: true, .. } if pointer == "/0/attributes/0")
        );
    }
}
