//! `scimcheck profiles init --from-schemas`: a starter profile written from a server's
//! `/Schemas`: every writable User attribute (core and extensions) as Entra would target it,
//! `filterable` where the server makes the attribute unique, `required` where it says so.

use serde_json::Value;

use crate::scim::urn;

use super::discover::Discovery;
use super::model::AttrKind;

use crate::scim::json::member as get;

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    get(v, key).and_then(Value::as_str).unwrap_or_default()
}

fn flag(v: &Value, key: &str) -> bool {
    match get(v, key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    get(v, key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Attributes Entra does not map to (or that the app, not Entra, sets).
const NOT_MAPPED: &[&str] = &[
    "groups",
    "entitlements",
    "x509Certificates",
    "roles",
    "password",
];

/// One row of the starter mapping.
struct Row {
    path: String,
    kind: AttrKind,
    filterable: bool,
    required: bool,
}

fn writable(attr: &Value) -> Result<(), String> {
    match text(attr, "mutability") {
        "" | "readWrite" => Ok(()),
        other => Err(other.to_string()),
    }
}

fn quote(path: &str) -> String {
    if path.contains(['[', '"', ':', ' ']) {
        format!("'{}'", path.replace('\'', "''"))
    } else {
        path.to_string()
    }
}

/// An RFC 7643 section 2.1 attribute name (`ALPHA *(nameChar)`, and `$ref`): anything else
/// (control characters, quotes, braces, line breaks a server put there) would end up inside
/// the YAML written, so it is left out.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The rows for one schema's attributes; skipped attributes are explained in `skipped`.
fn rows(prefix: &str, attrs: &[Value], out: &mut Vec<Row>, skipped: &mut Vec<String>) {
    for attr in attrs {
        let name = text(attr, "name");
        if name.is_empty() {
            continue;
        }
        if !valid_name(name) {
            skipped.push(format!(
                "{prefix}{} (not a valid attribute name, RFC 7643 section 2.1)",
                crate::escape::one_line(&format!("{name:?}"))
            ));
            continue;
        }
        let full = format!("{prefix}{name}");
        if NOT_MAPPED.iter().any(|n| n.eq_ignore_ascii_case(name)) && prefix.is_empty() {
            skipped.push(format!("{full} (not an Entra mapping target)"));
            continue;
        }
        if let Err(m) = writable(attr) {
            skipped.push(format!("{full} ({m})"));
            continue;
        }
        let required = flag(attr, "required");
        let unique = matches!(text(attr, "uniqueness"), "server" | "global");
        let kind = text(attr, "type");
        let subs = list(attr, "subAttributes");
        if kind != "complex" {
            out.push(Row {
                path: full,
                kind: AttrKind::from_scim_type(kind),
                filterable: unique,
                required,
            });
        } else if name.eq_ignore_ascii_case("manager") {
            out.push(Row {
                path: full,
                kind: AttrKind::Reference,
                filterable: false,
                required,
            });
        } else if flag(attr, "multiValued") {
            let type_sub = subs.iter().find(|s| text(s, "name") == "type");
            let canonical: Vec<&str> = type_sub
                .map(|t| {
                    list(t, "canonicalValues")
                        .iter()
                        .filter_map(Value::as_str)
                        .collect()
                })
                .unwrap_or_default();
            let canonical: Vec<&str> = canonical.into_iter().filter(|c| valid_name(c)).collect();
            let element = if canonical.is_empty() || canonical.contains(&"work") {
                "work"
            } else {
                canonical[0]
            };
            for s in subs {
                let sub = text(s, "name");
                if matches!(sub, "type" | "primary" | "display" | "")
                    || !valid_name(sub)
                    || writable(s).is_err()
                {
                    continue;
                }
                out.push(Row {
                    path: format!("{full}[type eq \"{element}\"].{sub}"),
                    kind: AttrKind::from_scim_type(text(s, "type")),
                    filterable: false,
                    required: required && flag(s, "required"),
                });
            }
        } else {
            for s in subs {
                let sub = text(s, "name");
                if sub.is_empty() || !valid_name(sub) || writable(s).is_err() {
                    continue;
                }
                out.push(Row {
                    path: format!("{full}.{sub}"),
                    kind: AttrKind::from_scim_type(text(s, "type")),
                    filterable: false,
                    required: required && flag(s, "required"),
                });
            }
        }
    }
}

/// A starter profile (YAML) from a server's `/Schemas`; `url` is the Tenant URL it came from.
pub fn starter(discovery: &Discovery, url: &str, app: &str) -> Result<String, String> {
    if let Some(why) = &discovery.unavailable {
        return Err(format!("cannot write a profile from {url}/Schemas: {why}"));
    }
    let Some((_, core)) = discovery.schema(urn::USER) else {
        return Err(format!(
            "{url}/Schemas does not publish the core User schema ({})",
            urn::USER
        ));
    };
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    rows("", list(core, "attributes"), &mut out, &mut skipped);
    if !out
        .iter()
        .any(|r| r.path.eq_ignore_ascii_case("externalId"))
    {
        out.insert(
            1.min(out.len()),
            Row {
                path: "externalId".into(),
                kind: AttrKind::String,
                filterable: false,
                required: false,
            },
        );
    }
    for (_, schema) in discovery.schemas() {
        let id = text(schema, "id");
        let is_user_extension =
            !id.eq_ignore_ascii_case(urn::USER) && id.to_ascii_lowercase().ends_with(":user");
        // A URN (RFC 8141) holds no quotes, braces, spaces or control characters.
        let urn_like = id.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '_' | '+' | '%' | '/')
        });
        if is_user_extension && !urn_like {
            skipped.push(format!(
                "{} (not a valid schema URN)",
                crate::escape::one_line(&format!("{id:?}"))
            ));
        } else if is_user_extension {
            rows(
                &format!("{id}:"),
                list(schema, "attributes"),
                &mut out,
                &mut skipped,
            );
        }
    }
    let groups = discovery.schema(urn::GROUP).is_some();
    let matching = out
        .iter()
        .find(|r| r.path == "userName")
        .or_else(|| out.iter().find(|r| r.filterable))
        .map(|r| r.path.clone())
        .unwrap_or_else(|| "userName".into());
    let mut y = String::new();
    y.push_str(&format!(
        "# Starter profile written by `scimcheck profiles init --from-schemas` from {url}/Schemas.\n"
    ));
    y.push_str(
        "# Keep the rows your Entra attribute mapping really sends (Provisioning > Mappings >\n",
    );
    y.push_str(
        "# Provision Microsoft Entra ID Users), fix the flags, and run it with --profile FILE.\n",
    );
    if !skipped.is_empty() {
        y.push_str("# Left out (not writable, or never sent by Entra):\n");
        for s in &skipped {
            y.push_str(&format!("#   {s}\n"));
        }
    }
    y.push_str(&format!("app: {}\n", quote(app)));
    y.push_str("notes: >-\n");
    y.push_str(&format!("  Tenant URL {url}.\n"));
    y.push_str(&format!(
        "objects: [{}]\n",
        if groups { "users, groups" } else { "users" }
    ));
    y.push_str(&format!("matching: {}\n", quote(&matching)));
    y.push_str("attributes:\n");
    for r in &out {
        let mut fields = vec![
            format!("path: {}", quote(&r.path)),
            format!("type: {}", r.kind),
        ];
        if r.filterable || r.path == matching {
            fields.push("filterable: true".into());
        }
        if r.required {
            fields.push("required: true".into());
        }
        y.push_str(&format!("  - {{ {} }}\n", fields.join(", ")));
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{SchemaSet, schema_resource};
    use serde_json::json;

    #[test]
    fn a_starter_profile_from_the_rfc_schemas_loads_and_maps_every_writable_attribute() {
        let resources: Vec<Value> = SchemaSet::builtin()
            .schemas
            .iter()
            .map(schema_resource)
            .collect();
        let d = Discovery::from_reply(200, Some(&json!({ "Resources": resources })));
        let yaml = starter(&d, "https://h/scim/v2", "Contoso").unwrap();
        let p = super::super::load_str("starter", "starter.yaml", &yaml, false)
            .unwrap_or_else(|e| panic!("{}\n{yaml}", e[0]));
        let paths: Vec<&str> = p.attributes.iter().map(|a| a.path.as_str()).collect();
        for want in [
            "userName",
            "externalId",
            "name.givenName",
            r#"emails[type eq "work"].value"#,
            r#"addresses[type eq "work"].locality"#,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        ] {
            assert!(paths.contains(&want), "{want} missing:\n{yaml}");
        }
        assert!(
            !paths
                .iter()
                .any(|p| p.starts_with("password") || p.starts_with("groups"))
        );
        assert!(
            yaml.contains("password (not an Entra mapping target)"),
            "{yaml}"
        );
        assert_eq!(p.matching, "userName");
        assert!(p.attributes[0].required && p.attributes[0].filterable);
        assert!(p.provisions_groups());
    }
}
