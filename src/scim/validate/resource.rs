//! User and Group resources, checked by walking the schema definitions: `id`, `meta`, required
//! and returned-never attributes, types and multi-valuedness, and extension objects.

use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};

use super::Kind;
use super::checker::{Checker, describe};
use crate::scim::json::get_ci as field;
use crate::scim::json_path::{child, index};
use crate::scim::schema::{AttrType, Attribute, Returned, common_attributes};

const NULL_VALUE: &str = "expected the attribute to be omitted, found null (RFC 7643 section 2.5: \
                          unassigned attributes should be left out)";

impl Checker<'_> {
    /// A User or Group: `id`, `meta`, the core schema's attributes, and extension objects.
    pub(super) fn resource(
        &mut self,
        kind: Kind,
        obj: &Map<String, Value>,
        path: &str,
        listed: &[String],
    ) {
        self.id(obj, path);
        let meta = child(path, "meta");
        match field(obj, "meta") {
            None => self.warn(
                &meta,
                "`meta` is missing; expected an object with resourceType, created and lastModified",
            ),
            Some(Value::Object(m)) => match field(m, "resourceType") {
                None => self.warn(
                    &child(&meta, "resourceType"),
                    format!("`resourceType` is missing; expected \"{kind}\""),
                ),
                Some(Value::String(s)) if !s.eq_ignore_ascii_case(kind.name()) => {
                    self.warn(
                        &child(&meta, "resourceType"),
                        format!("expected \"{kind}\", found \"{s}\""),
                    );
                }
                _ => {}
            },
            _ => {} // a wrong type is reported by the attribute walk below
        }
        let core = self
            .schema(kind.urn())
            .map(|s| s.attributes.as_slice())
            .unwrap_or_default();
        let attrs: Vec<&Attribute> = core
            .iter()
            .chain(common_attributes().iter().filter(|a| a.name != "id"))
            .collect();
        self.object(obj, &attrs, path);
        for (key, value) in obj.iter().filter(|(k, _)| is_urn(k)) {
            let p = child(path, key);
            // (An empty list means `schemas` itself is broken, which is reported already.)
            if !listed.is_empty() && !listed.iter().any(|s| s.eq_ignore_ascii_case(key)) {
                self.warn(&p, format!("expected the extension URN `{key}` to be listed in `schemas`, found it missing"));
            }
            let Some(schema) = self.schema(key) else {
                continue;
            };
            match value {
                Value::Object(ext) => {
                    let attrs: Vec<&Attribute> = schema.attributes.iter().collect();
                    self.object(ext, &attrs, &p);
                }
                Value::Null => self.warn(&p, NULL_VALUE),
                other => self.fail(
                    &p,
                    format!(
                        "expected an object of `{}` attributes, found {}",
                        schema.name,
                        describe(other)
                    ),
                ),
            }
        }
    }

    /// `id` must be a non-empty string: Entra cannot deserialize anything else.
    pub(super) fn id(&mut self, obj: &Map<String, Value>, path: &str) {
        let p = child(path, "id");
        match field(obj, "id") {
            None => self.fail(&p, "`id` is missing; expected a non-empty string"),
            Some(Value::String(s)) if s.is_empty() => {
                self.fail(&p, "expected a non-empty string, found \"\"")
            }
            Some(Value::String(_)) => {}
            Some(v) => self.fail(
                &p,
                format!(
                    "expected a string, found {} (Entra cannot deserialize a non-string id)",
                    describe(v)
                ),
            ),
        }
    }

    /// Checks the members of `obj` that `attrs` defines, and that required ones are present.
    fn object(&mut self, obj: &Map<String, Value>, attrs: &[&Attribute], path: &str) {
        let projected = self.projected;
        for attr in attrs.iter().filter(|a| a.required && !projected) {
            match field(obj, &attr.name) {
                None => self.fail(
                    &child(path, &attr.name),
                    format!("required attribute `{}` is missing", attr.name),
                ),
                Some(Value::Null) => self.fail(
                    &child(path, &attr.name),
                    format!(
                        "expected required attribute `{}` to have a value, found null",
                        attr.name
                    ),
                ),
                Some(_) => {}
            }
        }
        for (key, value) in obj {
            let Some(attr) = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(key)) else {
                continue;
            };
            let p = child(path, key);
            if value.is_null() {
                if !attr.required {
                    self.warn(&p, NULL_VALUE);
                }
            } else if attr.returned == Returned::Never {
                self.fail(
                    &p,
                    format!(
                        "expected `{}` to be absent (returned: never), found it in the response",
                        attr.name
                    ),
                );
            } else if attr.multi_valued {
                match value {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.value(attr, item, &index(&p, i));
                        }
                    }
                    other => self.fail(
                        &p,
                        format!(
                            "expected an array (`{}` is multi-valued), found {}",
                            attr.name,
                            describe(other)
                        ),
                    ),
                }
            } else if value.is_array() {
                self.fail(
                    &p,
                    format!(
                        "expected a single value (`{}` is single-valued), found an array",
                        attr.name
                    ),
                );
            } else {
                self.value(attr, value, &p);
            }
        }
    }

    /// Checks one (single) value against the attribute's type; complex values recursively.
    fn value(&mut self, attr: &Attribute, v: &Value, path: &str) {
        let ok = match (attr.kind, v) {
            (_, Value::Null) => return self.warn(path, NULL_VALUE),
            (AttrType::String | AttrType::Reference | AttrType::Binary, v) => v.is_string(),
            (AttrType::Boolean, v) => v.is_boolean(),
            (AttrType::Integer, v) => v.is_i64() || v.is_u64(),
            (AttrType::Decimal, v) => v.is_number(),
            (AttrType::DateTime, Value::String(s)) if DateTime::parse_from_rfc3339(s).is_ok() => {
                true
            }
            (AttrType::DateTime, Value::String(s)) if zoneless_date_time(s) => {
                return self.warn(path, format!("expected an RFC 3339 date-time with a time zone, found \"{s}\" (valid xsd:dateTime, but its instant is ambiguous)"));
            }
            (AttrType::DateTime, _) => false,
            (AttrType::Complex, Value::Object(m)) => {
                let subs: Vec<&Attribute> = attr.sub_attributes.iter().collect();
                return self.object(m, &subs, path);
            }
            (AttrType::Complex, _) => false,
        };
        if !ok {
            let hint = match (attr.kind, v) {
                (AttrType::Boolean, Value::String(_)) => {
                    " (a boolean must be JSON true or false, not a string)"
                }
                _ => "",
            };
            self.fail(
                path,
                format!(
                    "expected {}, found {}{hint}",
                    type_name(attr.kind),
                    describe(v)
                ),
            );
        }
    }
}

/// Whether `s` is an xsd:dateTime without a time zone, like `2024-01-23T04:56:22.123`.
fn zoneless_date_time(s: &str) -> bool {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
}

/// Whether a member name is a schema URN (an extension object's key).
fn is_urn(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

fn type_name(t: AttrType) -> &'static str {
    match t {
        AttrType::String => "a string",
        AttrType::Boolean => "a boolean",
        AttrType::Decimal => "a number",
        AttrType::Integer => "an integer",
        AttrType::DateTime => "an RFC 3339 date-time string",
        AttrType::Binary => "a base64 string",
        AttrType::Reference => "a reference (URI string)",
        AttrType::Complex => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::fixtures::*;
    use crate::scim::schema::SchemaSet;
    use crate::scim::urn;
    use crate::scim::validate::{Kind, Level, validate};

    #[test]
    fn realistic_user_and_group_pass() {
        assert_eq!(check(Kind::User, &user()), []);
        assert_eq!(check(Kind::Group, &group()), []);
        let minimal = json!({"schemas": [urn::USER], "id": "1", "userName": "a@b.c", "meta": {"resourceType": "User"}});
        assert_eq!(check(Kind::User, &minimal), []);
        let empty_group = json!({"schemas": [urn::GROUP], "id": "g", "displayName": "G", "members": [], "meta": {"resourceType": "Group"}});
        assert_eq!(check(Kind::Group, &empty_group), []);
    }

    #[test]
    fn body_must_be_an_object() {
        only(
            Kind::User,
            &json!([user()]),
            "$",
            Level::Fail,
            "expected a JSON object, found an array",
        );
        only(
            Kind::Error,
            &json!("oops"),
            "$",
            Level::Fail,
            "found the string \"oops\"",
        );
    }

    #[test]
    fn schemas_must_be_an_array_of_strings_naming_the_kind() {
        only(
            Kind::User,
            &with(user(), "/schemas", None),
            "$.schemas",
            Level::Fail,
            "`schemas` is missing",
        );
        only(
            Kind::User,
            &with(user(), "/schemas", Some(json!(urn::USER))),
            "$.schemas",
            Level::Fail,
            "found the string",
        );
        let no_core = with(user(), "/schemas/0", Some(json!(urn::GROUP)));
        only(Kind::User, &no_core, "$.schemas", Level::Fail, urn::USER);
        let not_string = json!({"schemas": [urn::GROUP, 7], "id": "g", "displayName": "G", "meta": {"resourceType": "Group"}});
        only(
            Kind::Group,
            &not_string,
            "$.schemas[1]",
            Level::Fail,
            "found the number 7",
        );
        // Entra's own extra group URI, or its absence, changes nothing.
        assert_eq!(check(Kind::Group, &with(group(), "/schemas/1", None)), []);
    }

    #[test]
    fn id_must_be_a_non_empty_string() {
        only(
            Kind::User,
            &with(user(), "/id", Some(json!(42))),
            "$.id",
            Level::Fail,
            "found the number 42",
        );
        only(
            Kind::User,
            &with(user(), "/id", None),
            "$.id",
            Level::Fail,
            "`id` is missing",
        );
        only(
            Kind::Group,
            &with(group(), "/id", Some(json!(""))),
            "$.id",
            Level::Fail,
            "non-empty string",
        );
        only(
            Kind::Group,
            &with(group(), "/id", Some(Value::Null)),
            "$.id",
            Level::Fail,
            "found null",
        );
    }

    #[test]
    fn missing_meta_warns_but_malformed_meta_fails() {
        only(
            Kind::User,
            &with(user(), "/meta", None),
            "$.meta",
            Level::Warn,
            "`meta` is missing",
        );
        let no_type = with(user(), "/meta/resourceType", None);
        only(
            Kind::User,
            &no_type,
            "$.meta.resourceType",
            Level::Warn,
            "expected \"User\"",
        );
        let wrong_type = with(group(), "/meta/resourceType", Some(json!("User")));
        only(
            Kind::Group,
            &wrong_type,
            "$.meta.resourceType",
            Level::Warn,
            "expected \"Group\", found \"User\"",
        );
        only(
            Kind::User,
            &with(user(), "/meta", Some(json!("User"))),
            "$.meta",
            Level::Fail,
            "expected an object",
        );
        let bad_date = with(user(), "/meta/created", Some(json!("23/01/2024 04:56")));
        only(
            Kind::User,
            &bad_date,
            "$.meta.created",
            Level::Fail,
            "RFC 3339 date-time",
        );
        let zoneless = with(
            user(),
            "/meta/created",
            Some(json!("2024-01-23T04:56:22.1234567")),
        );
        only(
            Kind::User,
            &zoneless,
            "$.meta.created",
            Level::Warn,
            "with a time zone",
        );
        let number = with(user(), "/meta/lastModified", Some(json!(1706000000)));
        only(
            Kind::User,
            &number,
            "$.meta.lastModified",
            Level::Fail,
            "found the number 1706000000",
        );
        let location = with(group(), "/meta/location", Some(json!({"href": "x"})));
        only(
            Kind::Group,
            &location,
            "$.meta.location",
            Level::Fail,
            "reference",
        );
    }

    #[test]
    fn required_attributes_must_be_present() {
        only(
            Kind::User,
            &with(user(), "/userName", None),
            "$.userName",
            Level::Fail,
            "required attribute `userName`",
        );
        only(
            Kind::User,
            &with(user(), "/userName", Some(Value::Null)),
            "$.userName",
            Level::Fail,
            "found null",
        );
        only(
            Kind::Group,
            &with(group(), "/displayName", None),
            "$.displayName",
            Level::Fail,
            "required attribute `displayName`",
        );
    }

    #[test]
    fn attributes_must_have_their_declared_type() {
        let active = with(user(), "/active", Some(json!("True")));
        only(
            Kind::User,
            &active,
            "$.active",
            Level::Fail,
            "expected a boolean, found the string \"True\"",
        );
        only(
            Kind::User,
            &with(user(), "/externalId", Some(json!(701984))),
            "$.externalId",
            Level::Fail,
            "expected a string",
        );
        only(
            Kind::User,
            &with(user(), "/name", Some(json!("Barbara Jensen"))),
            "$.name",
            Level::Fail,
            "expected an object",
        );
        only(
            Kind::User,
            &with(user(), "/profileUrl", Some(json!(true))),
            "$.profileUrl",
            Level::Fail,
            "reference",
        );
        let x509 = with(user(), "/x509Certificates", Some(json!([{"value": 12}])));
        only(
            Kind::User,
            &x509,
            "$.x509Certificates[0].value",
            Level::Fail,
            "base64 string",
        );
    }

    #[test]
    fn sub_attributes_are_checked_with_their_paths() {
        let email = with(
            user(),
            "/emails/0/value",
            Some(json!(["bjensen@contoso.com"])),
        );
        only(
            Kind::User,
            &email,
            "$.emails[0].value",
            Level::Fail,
            "single-valued",
        );
        let primary = with(user(), "/emails/0/primary", Some(json!("true")));
        only(
            Kind::User,
            &primary,
            "$.emails[0].primary",
            Level::Fail,
            "not a string",
        );
        let given = with(user(), "/name/givenName", Some(json!(1)));
        only(
            Kind::User,
            &given,
            "$.name.givenName",
            Level::Fail,
            "expected a string, found the number 1",
        );
        let member = with(group(), "/members/0/value", Some(json!(17)));
        only(
            Kind::Group,
            &member,
            "$.members[0].value",
            Level::Fail,
            "expected a string",
        );
    }

    #[test]
    fn multi_valued_attributes_are_arrays_and_single_valued_ones_are_not() {
        let emails = with(
            user(),
            "/emails",
            Some(json!({"value": "bjensen@contoso.com"})),
        );
        only(
            Kind::User,
            &emails,
            "$.emails",
            Level::Fail,
            "expected an array (`emails` is multi-valued), found an object",
        );
        let item = with(user(), "/emails/0", Some(json!("bjensen@contoso.com")));
        only(
            Kind::User,
            &item,
            "$.emails[0]",
            Level::Fail,
            "expected an object",
        );
        let members = with(group(), "/members", Some(json!("2819c223")));
        only(
            Kind::Group,
            &members,
            "$.members",
            Level::Fail,
            "multi-valued",
        );
        let title = with(user(), "/title", Some(json!(["Tour Guide"])));
        only(
            Kind::User,
            &title,
            "$.title",
            Level::Fail,
            "expected a single value (`title` is single-valued)",
        );
    }

    #[test]
    fn password_must_never_be_returned() {
        let body = with(user(), "/password", Some(json!("t1meMa$heen")));
        only(
            Kind::User,
            &body,
            "$.password",
            Level::Fail,
            "returned: never",
        );
    }

    #[test]
    fn null_values_warn() {
        only(
            Kind::User,
            &with(user(), "/title", Some(Value::Null)),
            "$.title",
            Level::Warn,
            "RFC 7643 section 2.5",
        );
        let member_ref = with(group(), "/members/0/$ref", Some(Value::Null));
        only(
            Kind::Group,
            &member_ref,
            "$.members[0].$ref",
            Level::Warn,
            "found null",
        );
        let null_item = with(user(), "/emails/0", Some(Value::Null));
        only(
            Kind::User,
            &null_item,
            "$.emails[0]",
            Level::Warn,
            "found null",
        );
        let manager = with(user(), &format!("/{ENT}/manager"), Some(Value::Null));
        only(
            Kind::User,
            &manager,
            &format!("$['{ENT}'].manager"),
            Level::Warn,
            "found null",
        );
    }

    #[test]
    fn unknown_attributes_are_fine() {
        let body = with(
            user(),
            "/favouriteColour",
            Some(json!({"any": ["shape", 1, null]})),
        );
        assert_eq!(check(Kind::User, &body), []);
    }

    #[test]
    fn attribute_names_match_case_insensitively() {
        let body = with(
            with(user(), "/active", None),
            "/Active",
            Some(json!("False")),
        );
        only(
            Kind::User,
            &body,
            "$.Active",
            Level::Fail,
            "expected a boolean",
        );
    }

    #[test]
    fn extension_objects_are_checked_against_their_schema() {
        let manager = with(user(), &format!("/{ENT}/manager"), Some(json!("26118915")));
        only(
            Kind::User,
            &manager,
            &format!("$['{ENT}'].manager"),
            Level::Fail,
            "expected an object",
        );
        let number = with(
            user(),
            &format!("/{ENT}/employeeNumber"),
            Some(json!(701984)),
        );
        only(
            Kind::User,
            &number,
            &format!("$['{ENT}'].employeeNumber"),
            Level::Fail,
            "expected a string",
        );
        let not_object = with(user(), &format!("/{ENT}"), Some(json!("Tour Operations")));
        only(
            Kind::User,
            &not_object,
            &format!("$['{ENT}']"),
            Level::Fail,
            "expected an object of `EnterpriseUser` attributes",
        );
    }

    #[test]
    fn extension_urns_should_be_listed_in_schemas() {
        let body = with(user(), "/schemas/1", None);
        only(
            Kind::User,
            &body,
            &format!("$['{ENT}']"),
            Level::Warn,
            "listed in `schemas`",
        );
    }

    #[test]
    fn published_custom_extensions_are_checked_when_known() {
        let acme = "urn:acme:params:scim:schemas:extension:2.0:User";
        let published = SchemaSet::from_list_response(&json!({"Resources": [{
            "id": acme, "name": "Acme",
            "attributes": [
                {"name": "badge", "type": "integer", "multiValued": false},
                {"name": "height", "type": "decimal", "multiValued": false},
                {"name": "since", "type": "dateTime", "multiValued": false},
                {"name": "tags", "type": "string", "multiValued": true},
                {"name": "desk", "type": "complex", "multiValued": false, "subAttributes": [
                    {"name": "floor", "type": "integer", "multiValued": false, "required": true}
                ]}
            ]
        }]}))
        .unwrap();
        let schemas = SchemaSet::builtin().with_published(&published);
        let mut body = user();
        body["schemas"].as_array_mut().unwrap().push(json!(acme));
        body[acme] = json!({"badge": 7, "height": 1.82, "since": "2020-02-29T12:00:00-08:00", "tags": ["a"], "desk": {"floor": 3}});
        assert_eq!(validate(Kind::User, &body, &schemas, &bounds()), []);
        // Built-in schemas alone know nothing of the extension: anything goes.
        let lax = with(body.clone(), &format!("/{acme}/badge"), Some(json!("7")));
        assert_eq!(check(Kind::User, &lax), []);
        let cases = [
            ("badge", json!(7.5), "expected an integer"),
            ("height", json!("1.82"), "expected a number"),
            ("since", json!("2020-02-30T12:00:00Z"), "RFC 3339"),
            ("tags", json!("a"), "multi-valued"),
            ("desk", json!({}), "required attribute `floor`"),
        ];
        for (name, value, needle) in cases {
            let broken = with(body.clone(), &format!("/{acme}/{name}"), Some(value));
            let found = validate(Kind::User, &broken, &schemas, &bounds());
            assert_eq!(found.len(), 1, "{name}: {found:#?}");
            assert_eq!(found[0].level, Level::Fail);
            assert!(
                found[0].path.starts_with(&format!("$['{acme}'].{name}")),
                "{found:#?}"
            );
            assert!(
                found[0].message.contains(needle),
                "{name}: {}",
                found[0].message
            );
        }
    }

    #[test]
    fn a_schema_set_without_the_core_schema_falls_back_to_the_builtin_one() {
        let body = with(user(), "/active", Some(json!("True")));
        only(
            Kind::User,
            &body,
            "$.active",
            Level::Fail,
            "expected a boolean",
        );
        assert_eq!(
            validate(Kind::User, &body, &SchemaSet::default(), &bounds()).len(),
            1
        );
    }
}
