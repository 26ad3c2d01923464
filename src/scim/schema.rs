//! RFC 7643 schema definitions as data (section 7 representation), plus look-ups by attribute path.
//! The built-in definitions (User, Enterprise User, Group) are embedded JSON under `schemas/`.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::json::first_ci;
use super::path::AttrPath;
use super::urn;

/// A schema resource as published at `/Schemas` (RFC 7643 section 7).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub id: String,
    /// The human-readable name, e.g. `User`.
    #[serde(default)]
    pub name: String,
    /// What the schema describes.
    #[serde(default)]
    pub description: String,
    /// The top-level attribute definitions.
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

/// One attribute definition with its characteristics (RFC 7643 section 2.2 and 7).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    /// The attribute name, e.g. `userName`.
    pub name: String,
    /// The data type (`type` in JSON).
    #[serde(rename = "type")]
    pub kind: AttrType,
    /// Whether the value is an array.
    #[serde(default)]
    pub multi_valued: bool,
    /// What the attribute holds.
    #[serde(default)]
    pub description: String,
    /// Whether a resource must have a value.
    #[serde(default)]
    pub required: bool,
    /// The values a server suggests, e.g. `work`, `home`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    /// Whether string values compare case-sensitively.
    #[serde(default)]
    pub case_exact: bool,
    /// Whether and when a client may change the value.
    #[serde(default)]
    pub mutability: Mutability,
    /// When the server returns the value.
    #[serde(default)]
    pub returned: Returned,
    /// How unique the value must be.
    #[serde(default)]
    pub uniqueness: Uniqueness,
    /// The resource types a reference may point at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    /// The sub-attributes of a complex attribute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<Attribute>,
}

/// Attribute data types (RFC 7643 section 2.3).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    /// A string.
    String,
    /// A boolean.
    Boolean,
    /// A decimal number.
    Decimal,
    /// An integer.
    Integer,
    /// An RFC 3339 date-time string.
    DateTime,
    /// A base64 string.
    Binary,
    /// A URI reference.
    Reference,
    /// An object of sub-attributes.
    Complex,
}

/// `mutability` characteristic.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    /// Only the server sets it.
    ReadOnly,
    /// Clients may change it at any time.
    #[default]
    ReadWrite,
    /// Clients may set it once.
    Immutable,
    /// Clients may set it; it is never returned.
    WriteOnly,
}

/// `returned` characteristic.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    /// In every response.
    Always,
    /// Never in a response.
    Never,
    /// In responses unless excluded.
    #[default]
    Default,
    /// Only when asked for with `attributes`.
    Request,
}

/// `uniqueness` characteristic.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    /// Values need not be unique.
    #[default]
    None,
    /// Unique within the server.
    Server,
    /// Unique everywhere.
    Global,
}

impl Attribute {
    /// The sub-attribute called `name` (case-insensitive).
    pub fn sub_attribute(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

impl Schema {
    /// The top-level attribute called `name` (case-insensitive).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A set of schemas: the built-in RFC 7643 ones, or what a server published at `/Schemas`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaSet {
    /// The schemas, in the order they were given.
    pub schemas: Vec<Schema>,
}

static BUILTIN: LazyLock<SchemaSet> = LazyLock::new(|| SchemaSet {
    schemas: [
        include_str!("schemas/user.json"),
        include_str!("schemas/enterprise-user.json"),
        include_str!("schemas/group.json"),
    ]
    .into_iter()
    .map(|text| serde_json::from_str(text).expect("built-in schema JSON is valid"))
    .collect(),
});

static COMMON: LazyLock<Vec<Attribute>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("schemas/common.json")).expect("common.json is valid")
});

static SERVICE_PROVIDER_CONFIG: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("schemas/service-provider-config.json"))
        .expect("service-provider-config.json is valid")
});

static RESOURCE_TYPES: LazyLock<Value> = LazyLock::new(|| {
    serde_json::from_str(include_str!("schemas/resource-types.json"))
        .expect("resource-types.json is valid")
});

/// The common attributes every resource carries (`id`, `externalId`, `meta`; RFC 7643 section 3.1).
/// They belong to no schema's attribute list, but have the same shape as schema attributes.
pub fn common_attributes() -> &'static [Attribute] {
    &COMMON
}

/// The `/ServiceProviderConfig` document the reference server publishes (without `meta.location`).
pub fn service_provider_config() -> &'static Value {
    &SERVICE_PROVIDER_CONFIG
}

/// The `/ResourceTypes` documents (User with the optional enterprise extension, and Group), as a
/// JSON array, without `meta.location`.
pub fn resource_types() -> &'static Value {
    &RESOURCE_TYPES
}

/// A schema as a SCIM resource for `/Schemas`: the definition plus `schemas` and
/// `meta.resourceType` (the server adds `meta.location`).
pub fn schema_resource(s: &Schema) -> Value {
    let mut out = json!({ "schemas": [urn::SCHEMA] });
    if let (Some(out), Value::Object(def)) = (out.as_object_mut(), json!(s)) {
        out.extend(def);
        out.insert("meta".into(), json!({ "resourceType": "Schema" }));
    }
    out
}

/// Removes every `null` member and array item, recursively.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null());
            items.iter_mut().for_each(strip_nulls);
        }
        _ => {}
    }
}

impl SchemaSet {
    /// The RFC 7643 User, Enterprise User and Group schemas, parsed once from embedded JSON.
    pub fn builtin() -> &'static SchemaSet {
        &BUILTIN
    }

    /// Parses a server's `/Schemas` reply: a ListResponse whose `Resources` are Schema resources
    /// (a bare array is accepted too). Unknown fields and `null` values are ignored; a schema whose
    /// characteristics cannot be read (say `"type": "DateTime"`) is an error naming its index.
    pub fn from_list_response(body: &Value) -> Result<SchemaSet, String> {
        let resources = match body {
            Value::Array(items) => items,
            Value::Object(map) => first_ci(map, "Resources")
                .and_then(|(_, v)| v.as_array())
                .ok_or("the /Schemas reply has no `Resources` array")?,
            _ => return Err("the /Schemas reply is not a JSON object".into()),
        };
        let schemas = resources
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut r = r.clone();
                strip_nulls(&mut r);
                serde_json::from_value(r).map_err(|e| format!("Resources[{i}]: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(SchemaSet { schemas })
    }

    /// This set plus the schemas of `published` whose ids it does not already have (so the
    /// built-in RFC definitions win over a server's variant, and custom extensions are added).
    pub fn with_published(&self, published: &SchemaSet) -> SchemaSet {
        let mut out = self.clone();
        for s in &published.schemas {
            if self.get(&s.id).is_none() {
                out.schemas.push(s.clone());
            }
        }
        out
    }

    /// The schema with this id (case-insensitive, as URNs are).
    pub fn get(&self, id: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }

    /// Resolves an attribute path against `core` (the resource's core schema URN) and the
    /// extension named by the path's URN. `name.givenName` gives the `givenName` sub-attribute.
    pub fn lookup(&self, core: &str, path: &AttrPath) -> Option<&Attribute> {
        let schema = self.get(path.urn.as_deref().unwrap_or(core))?;
        let attr = schema.attribute(&path.name)?;
        match &path.sub {
            Some(sub) => attr.sub_attribute(sub),
            None => Some(attr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(core: &str, path: &str) -> &'static Attribute {
        SchemaSet::builtin()
            .lookup(core, &AttrPath::parse(path).unwrap())
            .unwrap_or_else(|| panic!("{path} not found"))
    }

    #[test]
    fn every_builtin_schema_parses_with_its_urn() {
        let ids: Vec<&str> = SchemaSet::builtin()
            .schemas
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, [urn::USER, urn::ENTERPRISE_USER, urn::GROUP]);
        assert_eq!(common_attributes().len(), 3);
    }

    #[test]
    fn the_user_schema_has_every_rfc_attribute() {
        let user = SchemaSet::builtin().get(urn::USER).unwrap();
        let names: Vec<&str> = user.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "password",
                "emails",
                "phoneNumbers",
                "ims",
                "photos",
                "addresses",
                "groups",
                "entitlements",
                "roles",
                "x509Certificates"
            ]
        );
        let addresses = user.attribute("addresses").unwrap();
        let subs: Vec<&str> = addresses
            .sub_attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            subs,
            [
                "formatted",
                "streetAddress",
                "locality",
                "region",
                "postalCode",
                "country",
                "type",
                "primary"
            ]
        );
    }

    #[test]
    fn lookup_resolves_sub_attributes_and_extension_paths() {
        assert_eq!(lookup(urn::USER, "name.givenName").kind, AttrType::String);
        let manager = format!("{}:manager.value", urn::ENTERPRISE_USER);
        assert_eq!(lookup(urn::USER, &manager).name, "value");
        assert_eq!(lookup(urn::USER, "emails.primary").kind, AttrType::Boolean);
        assert!(lookup(urn::USER, "emails").multi_valued);
        assert_eq!(lookup(urn::GROUP, "members.$ref").kind, AttrType::Reference);
        assert!(lookup(urn::GROUP, "displayName").required);
    }

    #[test]
    fn characteristics_follow_rfc_7643() {
        let user_name = lookup(urn::USER, "userName");
        assert!(user_name.required && !user_name.case_exact);
        assert_eq!(user_name.uniqueness, Uniqueness::Server);
        let password = lookup(urn::USER, "password");
        assert_eq!(
            (password.returned, password.mutability),
            (Returned::Never, Mutability::WriteOnly)
        );
        assert_eq!(lookup(urn::USER, "groups").mutability, Mutability::ReadOnly);
        let id = &common_attributes()[0];
        assert_eq!(
            (id.name.as_str(), id.returned, id.case_exact),
            ("id", Returned::Always, true)
        );
    }

    #[test]
    fn builtin_json_has_no_nulls_and_camel_case_characteristics() {
        fn walk(v: &Value) {
            match v {
                Value::Null => panic!("null in built-in schema data"),
                Value::Object(map) => map.values().for_each(walk),
                Value::Array(items) => items.iter().for_each(walk),
                _ => {}
            }
        }
        for s in &SchemaSet::builtin().schemas {
            walk(&schema_resource(s));
        }
        walk(service_provider_config());
        walk(resource_types());
        let text = include_str!("schemas/user.json");
        assert!(text.contains("\"readWrite\"") && !text.contains("\"ReadWrite\""));
    }

    #[test]
    fn schema_resource_round_trips_and_names_its_resource_type() {
        let user = SchemaSet::builtin().get(urn::USER).unwrap();
        let r = schema_resource(user);
        assert_eq!(r["schemas"], json!([urn::SCHEMA]));
        assert_eq!(r["meta"]["resourceType"], "Schema");
        assert_eq!(r["id"], urn::USER);
        let back: Schema = serde_json::from_value(r).unwrap();
        assert_eq!(&back, user);
    }

    #[test]
    fn discovery_documents_describe_the_reference_server() {
        let spc = service_provider_config();
        assert_eq!(spc["schemas"], json!([urn::SERVICE_PROVIDER_CONFIG]));
        assert_eq!(
            (
                spc["patch"]["supported"].as_bool(),
                spc["bulk"]["supported"].as_bool()
            ),
            (Some(true), Some(false))
        );
        assert_eq!(spc["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(spc["etag"]["supported"], true);
        assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
        let types = resource_types().as_array().unwrap();
        assert_eq!(types.len(), 2);
        assert_eq!(
            (types[0]["endpoint"].as_str(), types[1]["endpoint"].as_str()),
            (Some("/Users"), Some("/Groups"))
        );
        assert_eq!(
            types[0]["schemaExtensions"],
            json!([{"schema": urn::ENTERPRISE_USER, "required": false}])
        );
    }

    #[test]
    fn from_list_response_reads_a_server_reply_tolerating_unknown_fields_and_nulls() {
        let body = json!({
            "schemas": [urn::LIST_RESPONSE], "totalResults": 2,
            "Resources": [
                schema_resource(SchemaSet::builtin().get(urn::GROUP).unwrap()),
                {"id": "urn:acme:2.0:User", "name": "Acme", "description": null, "vendorFlag": 1,
                 "attributes": [{"name": "badge", "type": "integer", "multiValued": false,
                                 "caseExact": null, "x-extra": "ignored"}]}
            ]
        });
        let set = SchemaSet::from_list_response(&body).unwrap();
        assert_eq!(set.schemas.len(), 2);
        let badge = set
            .get("urn:acme:2.0:User")
            .unwrap()
            .attribute("badge")
            .unwrap();
        assert_eq!(badge.kind, AttrType::Integer);
        let merged = SchemaSet::builtin().with_published(&set);
        assert_eq!(merged.schemas.len(), 4);
        assert_eq!(merged.get(urn::GROUP), SchemaSet::builtin().get(urn::GROUP));
    }

    #[test]
    fn from_list_response_rejects_unreadable_replies() {
        assert!(SchemaSet::from_list_response(&json!("nope")).is_err());
        assert!(SchemaSet::from_list_response(&json!({"totalResults": 0})).is_err());
        let bad =
            json!({"Resources": [{"id": "x", "attributes": [{"name": "a", "type": "DateTime"}]}]});
        let err = SchemaSet::from_list_response(&bad).unwrap_err();
        assert!(
            err.starts_with("Resources[0]:") && err.contains("DateTime"),
            "{err}"
        );
    }
}
