//! The discovery documents (Schema, ResourceType, ServiceProviderConfig): no nulls anywhere,
//! required fields, and characteristic values in the exact camelCase Entra parses.

use serde_json::{Map, Value};

use super::Level;
use super::checker::{Checker, Want, describe};
use crate::scim::json_path::{child, index};

/// The `type` values of RFC 7643 section 7, exactly as they must be spelled.
const TYPES: [&str; 8] = [
    "string",
    "boolean",
    "decimal",
    "integer",
    "dateTime",
    "binary",
    "reference",
    "complex",
];
const MUTABILITY: [&str; 4] = ["readOnly", "readWrite", "immutable", "writeOnly"];
const RETURNED: [&str; 4] = ["always", "never", "default", "request"];
const UNIQUENESS: [&str; 3] = ["none", "server", "global"];

const NULL_IN_DISCOVERY: &str = "expected no null values in a discovery document, found null \
                                 (Entra's schema discovery cannot parse them)";

impl Checker<'_> {
    pub(super) fn no_nulls(&mut self, v: &Value, path: &str) {
        match v {
            Value::Null => self.fail(path, NULL_IN_DISCOVERY),
            Value::Object(map) => map
                .iter()
                .for_each(|(k, v)| self.no_nulls(v, &child(path, k))),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, v)| self.no_nulls(v, &index(path, i))),
            _ => {}
        }
    }

    pub(super) fn schema_def(&mut self, obj: &Map<String, Value>, path: &str) {
        self.expect(obj, "id", path, Want::Str, Some(Level::Fail));
        self.expect(obj, "name", path, Want::Str, None);
        self.expect(obj, "description", path, Want::Str, None);
        if let Some(Value::Array(attrs)) =
            self.expect(obj, "attributes", path, Want::Array, Some(Level::Fail))
        {
            self.attribute_defs(attrs, &child(path, "attributes"));
        }
    }

    /// Attribute definitions: required fields and exact camelCase characteristic values.
    fn attribute_defs(&mut self, attrs: &[Value], path: &str) {
        for (i, attr) in attrs.iter().enumerate() {
            let p = index(path, i);
            let Some(a) = attr.as_object() else {
                if !attr.is_null() {
                    self.fail(
                        &p,
                        format!(
                            "expected an attribute definition object, found {}",
                            describe(attr)
                        ),
                    );
                }
                continue;
            };
            self.expect(a, "name", &p, Want::Str, Some(Level::Fail));
            self.expect(a, "description", &p, Want::Str, None);
            self.expect(a, "multiValued", &p, Want::Bool, Some(Level::Fail));
            self.expect(a, "required", &p, Want::Bool, None);
            self.expect(a, "caseExact", &p, Want::Bool, None);
            for (name, valid, required) in [
                ("type", &TYPES[..], true),
                ("mutability", &MUTABILITY[..], false),
                ("returned", &RETURNED[..], false),
                ("uniqueness", &UNIQUENESS[..], false),
            ] {
                let level = required.then_some(Level::Fail);
                if let Some(Value::String(s)) = self.expect(a, name, &p, Want::Str, level) {
                    self.characteristic(s, valid, &child(&p, name));
                }
            }
            for name in ["canonicalValues", "referenceTypes"] {
                if let Some(Value::Array(items)) = self.expect(a, name, &p, Want::Array, None) {
                    for (j, item) in items.iter().enumerate() {
                        if !item.is_string() && !item.is_null() {
                            self.fail(
                                &index(&child(&p, name), j),
                                format!("expected a string, found {}", describe(item)),
                            );
                        }
                    }
                }
            }
            if let Some(Value::Array(subs)) = self.expect(a, "subAttributes", &p, Want::Array, None)
            {
                self.attribute_defs(subs, &child(&p, "subAttributes"));
            }
        }
    }

    /// A characteristic value must be one of `valid`, spelled exactly (Entra is case-sensitive).
    fn characteristic(&mut self, s: &str, valid: &[&str], path: &str) {
        if valid.contains(&s) {
            return;
        }
        match valid.iter().find(|v| v.eq_ignore_ascii_case(s)) {
            Some(v) => self.fail(path, format!("expected \"{v}\" in exact camelCase (Entra parses it case-sensitively), found \"{s}\"")),
            None => self.fail(path, format!("expected one of {}, found \"{s}\"", valid.join(", "))),
        }
    }

    pub(super) fn resource_type(&mut self, obj: &Map<String, Value>, path: &str) {
        self.expect(obj, "id", path, Want::Str, None);
        for name in ["name", "endpoint", "schema"] {
            self.expect(obj, name, path, Want::Str, Some(Level::Fail));
        }
        if let Some(Value::Array(exts)) =
            self.expect(obj, "schemaExtensions", path, Want::Array, None)
        {
            for (i, ext) in exts.iter().enumerate() {
                let p = index(&child(path, "schemaExtensions"), i);
                match ext.as_object() {
                    Some(e) => {
                        self.expect(e, "schema", &p, Want::Str, Some(Level::Fail));
                        self.expect(e, "required", &p, Want::Bool, Some(Level::Fail));
                    }
                    None if ext.is_null() => {}
                    None => self.fail(&p, format!("expected an object, found {}", describe(ext))),
                }
            }
        }
    }

    pub(super) fn service_provider_config(&mut self, obj: &Map<String, Value>, path: &str) {
        self.expect(obj, "documentationUri", path, Want::Str, None);
        for name in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
            if let Some(Value::Object(feature)) =
                self.expect(obj, name, path, Want::Object, Some(Level::Fail))
            {
                let p = child(path, name);
                self.expect(feature, "supported", &p, Want::Bool, Some(Level::Fail));
                for limit in ["maxOperations", "maxPayloadSize", "maxResults"] {
                    self.expect(feature, limit, &p, Want::Int, None);
                }
            }
        }
        let schemes = self.expect(
            obj,
            "authenticationSchemes",
            path,
            Want::Array,
            Some(Level::Fail),
        );
        for (i, scheme) in schemes
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let p = index(&child(path, "authenticationSchemes"), i);
            match scheme.as_object() {
                Some(s) => {
                    for name in ["type", "name", "description"] {
                        self.expect(s, name, &p, Want::Str, Some(Level::Fail));
                    }
                }
                None if scheme.is_null() => {}
                None => self.fail(
                    &p,
                    format!("expected an object, found {}", describe(scheme)),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use super::*;
    use crate::scim::schema::{
        AttrType, Returned, SchemaSet, resource_types, schema_resource, service_provider_config,
    };
    use crate::scim::urn;
    use crate::scim::validate::{Kind, Level};

    #[test]
    fn characteristic_tables_match_the_schema_enums() {
        for t in TYPES {
            serde_json::from_value::<AttrType>(json!(t)).unwrap();
        }
        for m in MUTABILITY {
            serde_json::from_value::<crate::scim::schema::Mutability>(json!(m)).unwrap();
        }
        for r in RETURNED {
            serde_json::from_value::<Returned>(json!(r)).unwrap();
        }
        for u in UNIQUENESS {
            serde_json::from_value::<crate::scim::schema::Uniqueness>(json!(u)).unwrap();
        }
    }

    fn user_schema() -> Value {
        schema_resource(SchemaSet::builtin().get(urn::USER).unwrap())
    }

    #[test]
    fn builtin_schema_resources_pass_alone_and_listed() {
        let all: Vec<Value> = SchemaSet::builtin()
            .schemas
            .iter()
            .map(schema_resource)
            .collect();
        for s in &all {
            assert_eq!(check(Kind::Schema, s), [], "{}", s["id"]);
        }
        assert_eq!(check(Kind::ListResponse, &list(all)), []);
    }

    #[test]
    fn schema_needs_an_id_and_attributes() {
        only(
            Kind::Schema,
            &with(user_schema(), "/id", None),
            "$.id",
            Level::Fail,
            "`id` is missing",
        );
        only(
            Kind::Schema,
            &with(user_schema(), "/attributes", None),
            "$.attributes",
            Level::Fail,
            "`attributes` is missing",
        );
        only(
            Kind::Schema,
            &with(user_schema(), "/attributes", Some(json!({}))),
            "$.attributes",
            Level::Fail,
            "expected an array",
        );
    }

    #[test]
    fn attribute_definitions_need_name_type_and_multi_valued() {
        only(
            Kind::Schema,
            &with(user_schema(), "/attributes/0/name", None),
            "$.attributes[0].name",
            Level::Fail,
            "`name` is missing",
        );
        only(
            Kind::Schema,
            &with(user_schema(), "/attributes/0/type", None),
            "$.attributes[0].type",
            Level::Fail,
            "`type` is missing",
        );
        only(
            Kind::Schema,
            &with(user_schema(), "/attributes/0/multiValued", None),
            "$.attributes[0].multiValued",
            Level::Fail,
            "`multiValued` is missing",
        );
        let text = with(
            user_schema(),
            "/attributes/0/multiValued",
            Some(json!("false")),
        );
        only(
            Kind::Schema,
            &text,
            "$.attributes[0].multiValued",
            Level::Fail,
            "expected a boolean",
        );
        let required = with(user_schema(), "/attributes/0/required", Some(json!("true")));
        only(
            Kind::Schema,
            &required,
            "$.attributes[0].required",
            Level::Fail,
            "expected a boolean",
        );
    }

    #[test]
    fn characteristic_values_must_be_exact_camel_case() {
        let body = with(user_schema(), "/attributes/0/type", Some(json!("DateTime")));
        only(
            Kind::Schema,
            &body,
            "$.attributes[0].type",
            Level::Fail,
            "expected \"dateTime\" in exact camelCase",
        );
        let body = with(
            user_schema(),
            "/attributes/0/mutability",
            Some(json!("ReadWrite")),
        );
        only(
            Kind::Schema,
            &body,
            "$.attributes[0].mutability",
            Level::Fail,
            "expected \"readWrite\"",
        );
        let body = with(
            user_schema(),
            "/attributes/1/subAttributes/2/returned",
            Some(json!("Default")),
        );
        only(
            Kind::Schema,
            &body,
            "$.attributes[1].subAttributes[2].returned",
            Level::Fail,
            "expected \"default\"",
        );
        let body = with(
            user_schema(),
            "/attributes/0/uniqueness",
            Some(json!("SERVER")),
        );
        only(
            Kind::Schema,
            &body,
            "$.attributes[0].uniqueness",
            Level::Fail,
            "expected \"server\"",
        );
        let body = with(user_schema(), "/attributes/0/type", Some(json!("text")));
        only(
            Kind::Schema,
            &body,
            "$.attributes[0].type",
            Level::Fail,
            "expected one of string, boolean",
        );
    }

    #[test]
    fn schema_documents_hold_no_nulls() {
        let body = with(
            user_schema(),
            "/attributes/0/description",
            Some(Value::Null),
        );
        only(
            Kind::Schema,
            &body,
            "$.attributes[0].description",
            Level::Fail,
            "no null values",
        );
        let body = with(
            user_schema(),
            "/attributes/1/subAttributes/0/mutability",
            Some(Value::Null),
        );
        only(
            Kind::Schema,
            &body,
            "$.attributes[1].subAttributes[0].mutability",
            Level::Fail,
            "no null values",
        );
        let body = with(user_schema(), "/attributes/0/type", Some(Value::Null));
        only(
            Kind::Schema,
            &body,
            "$.attributes[0].type",
            Level::Fail,
            "no null values",
        );
        let body = with(user_schema(), "/meta/location", Some(Value::Null));
        only(
            Kind::Schema,
            &body,
            "$.meta.location",
            Level::Fail,
            "no null values",
        );
    }

    // --- ResourceType ---------------------------------------------------------------------------

    fn user_type() -> Value {
        resource_types()[0].clone()
    }

    #[test]
    fn builtin_resource_types_pass() {
        for rt in resource_types().as_array().unwrap() {
            assert_eq!(check(Kind::ResourceType, rt), [], "{}", rt["id"]);
        }
        let listed = list(resource_types().as_array().unwrap().clone());
        assert_eq!(check(Kind::ListResponse, &listed), []);
    }

    #[test]
    fn resource_type_fields_must_be_strings() {
        only(
            Kind::ResourceType,
            &with(user_type(), "/endpoint", None),
            "$.endpoint",
            Level::Fail,
            "`endpoint` is missing",
        );
        only(
            Kind::ResourceType,
            &with(user_type(), "/schema", Some(json!([urn::USER]))),
            "$.schema",
            Level::Fail,
            "expected a string",
        );
        only(
            Kind::ResourceType,
            &with(user_type(), "/id", Some(json!(1))),
            "$.id",
            Level::Fail,
            "expected a string",
        );
        only(
            Kind::ResourceType,
            &with(user_type(), "/name", Some(Value::Null)),
            "$.name",
            Level::Fail,
            "no null values",
        );
    }

    #[test]
    fn schema_extensions_need_a_schema_and_a_boolean_required() {
        let body = with(
            user_type(),
            "/schemaExtensions/0/required",
            Some(json!("false")),
        );
        only(
            Kind::ResourceType,
            &body,
            "$.schemaExtensions[0].required",
            Level::Fail,
            "expected a boolean",
        );
        let body = with(user_type(), "/schemaExtensions/0/schema", None);
        only(
            Kind::ResourceType,
            &body,
            "$.schemaExtensions[0].schema",
            Level::Fail,
            "`schema` is missing",
        );
        let body = with(user_type(), "/schemaExtensions", Some(json!({})));
        only(
            Kind::ResourceType,
            &body,
            "$.schemaExtensions",
            Level::Fail,
            "expected an array",
        );
    }

    // --- ServiceProviderConfig ------------------------------------------------------------------

    fn spc() -> Value {
        service_provider_config().clone()
    }

    #[test]
    fn builtin_service_provider_config_passes() {
        assert_eq!(check(Kind::ServiceProviderConfig, &spc()), []);
    }

    #[test]
    fn features_need_a_boolean_supported() {
        let body = with(spc(), "/patch/supported", Some(json!("true")));
        only(
            Kind::ServiceProviderConfig,
            &body,
            "$.patch.supported",
            Level::Fail,
            "expected a boolean",
        );
        only(
            Kind::ServiceProviderConfig,
            &with(spc(), "/etag", None),
            "$.etag",
            Level::Fail,
            "`etag` is missing",
        );
        let body = with(spc(), "/filter/maxResults", Some(json!("200")));
        only(
            Kind::ServiceProviderConfig,
            &body,
            "$.filter.maxResults",
            Level::Fail,
            "expected an integer",
        );
        let body = with(spc(), "/sort", Some(json!(false)));
        only(
            Kind::ServiceProviderConfig,
            &body,
            "$.sort",
            Level::Fail,
            "expected an object",
        );
    }

    #[test]
    fn authentication_schemes_must_be_an_array_of_described_schemes() {
        let body = with(spc(), "/authenticationSchemes", None);
        only(
            Kind::ServiceProviderConfig,
            &body,
            "$.authenticationSchemes",
            Level::Fail,
            "`authenticationSchemes` is missing",
        );
        let body = with(spc(), "/authenticationSchemes/0/type", None);
        only(
            Kind::ServiceProviderConfig,
            &body,
            "$.authenticationSchemes[0].type",
            Level::Fail,
            "`type` is missing",
        );
    }

    #[test]
    fn service_provider_config_holds_no_nulls() {
        let body = with(spc(), "/documentationUri", Some(Value::Null));
        only(
            Kind::ServiceProviderConfig,
            &body,
            "$.documentationUri",
            Level::Fail,
            "no null values",
        );
        let body = with(spc(), "/bulk/maxOperations", Some(Value::Null));
        only(
            Kind::ServiceProviderConfig,
            &body,
            "$.bulk.maxOperations",
            Level::Fail,
            "no null values",
        );
    }
}
