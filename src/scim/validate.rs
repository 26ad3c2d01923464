//! Checks a SCIM response body against the RFC 7643 / RFC 7644 definitions and what Entra ID can
//! parse. Resources are checked by walking the schema definitions (data-driven); the message and
//! discovery documents (ListResponse, Error, Schema, ResourceType, ServiceProviderConfig) by a few
//! explicit rules. Every violation names a JSON path (`$.emails[0].value`, `$` for the root).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime};
use serde::Serialize;
use serde_json::{Map, Value};

use super::json::get_ci as field;
use super::json_path::{child, index};
use super::schema::{AttrType, Attribute, Returned, Schema, SchemaSet, common_attributes};
use super::urn;

/// How serious a violation is: `Fail` breaks Entra or the RFC, `Warn` is a tolerated deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    Fail,
    Warn,
}

/// One problem found in a body: where, what was expected and found, and how serious it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// JSON path of the offending value, like `$.emails[0].value` (`$` is the root).
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
    /// Fail or Warn.
    pub level: Level,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Fail => "FAIL",
            Level::Warn => "WARN",
        };
        write!(f, "{level} {}: {}", self.path, self.message)
    }
}

/// The kind of body a response is expected to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
    ListResponse,
    Error,
    Schema,
    ResourceType,
    ServiceProviderConfig,
}

impl Kind {
    /// Every kind, in the order of their names in error messages.
    pub const ALL: [Kind; 7] = [
        Kind::User,
        Kind::Group,
        Kind::ListResponse,
        Kind::Error,
        Kind::Schema,
        Kind::ResourceType,
        Kind::ServiceProviderConfig,
    ];

    /// The name as written in scenario files (`"ListResponse"`), also the `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
            Kind::ListResponse => "ListResponse",
            Kind::Error => "Error",
            Kind::Schema => "Schema",
            Kind::ResourceType => "ResourceType",
            Kind::ServiceProviderConfig => "ServiceProviderConfig",
        }
    }

    /// The URN the body's `schemas` must contain.
    pub fn urn(self) -> &'static str {
        match self {
            Kind::User => urn::USER,
            Kind::Group => urn::GROUP,
            Kind::ListResponse => urn::LIST_RESPONSE,
            Kind::Error => urn::ERROR,
            Kind::Schema => urn::SCHEMA,
            Kind::ResourceType => urn::RESOURCE_TYPE,
            Kind::ServiceProviderConfig => urn::SERVICE_PROVIDER_CONFIG,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown body kind `{s}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// How much of one response is examined and reported, and how to raise each bound (the caller's
/// `--limit` values; the line that says a bound was reached quotes its hint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounds {
    /// Problems reported per response; the rest are counted in one closing line.
    pub problems: usize,
    /// How to raise `problems`, e.g. `scimcheck's limit; raise it with --limit problems=N`.
    pub problems_hint: String,
    /// Resources of one ListResponse examined.
    pub list_resources: usize,
    /// How to raise `list_resources`.
    pub list_resources_hint: String,
}

/// Checks `body` as a `kind` against `schemas` (the built-in set, possibly merged with what the
/// server publishes; a schema missing from it is taken from the built-in set). Returns every
/// violation found, in document order; an empty list means the body is valid.
pub fn validate(kind: Kind, body: &Value, schemas: &SchemaSet, bounds: &Bounds) -> Vec<Violation> {
    validate_projected(kind, body, schemas, false, bounds)
}

/// [`validate`] for a reply to a request with `attributes=`: the server returns only what was
/// asked for, so attributes the schema marks required may rightly be absent.
pub fn validate_projected(
    kind: Kind,
    body: &Value,
    schemas: &SchemaSet,
    projected: bool,
    bounds: &Bounds,
) -> Vec<Violation> {
    let mut checker = Checker {
        schemas,
        bounds,
        out: Vec::new(),
        nulls_reported: false,
        projected,
        dropped: 0,
    };
    match body.as_object() {
        Some(obj) => {
            let listed = checker.schemas_attr(obj, "$", Some(kind.urn()));
            checker.dispatch(kind, obj, "$", &listed);
        }
        None => checker.fail(
            "$",
            format!("expected a JSON object, found {}", describe(body)),
        ),
    }
    if checker.dropped > 0 {
        let level = if checker.out.iter().any(|v| v.level == Level::Fail) {
            Level::Fail
        } else {
            Level::Warn
        };
        checker.out.push(Violation {
            path: "$".into(),
            message: format!(
                "… more problems were not listed (at most {} are reported per response, {})",
                bounds.problems, bounds.problems_hint
            ),
            level,
        });
    }
    checker.out
}

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

const NULL_VALUE: &str = "expected the attribute to be omitted, found null (RFC 7643 section 2.5: \
                          unassigned attributes should be left out)";
const NULL_IN_DISCOVERY: &str = "expected no null values in a discovery document, found null \
                                 (Entra's schema discovery cannot parse them)";

/// The JSON type a message-level field must have.
#[derive(Clone, Copy)]
enum Want {
    Str,
    Bool,
    Int,
    UInt,
    Array,
    Object,
}

impl Want {
    fn matches(self, v: &Value) -> bool {
        match self {
            Want::Str => v.is_string(),
            Want::Bool => v.is_boolean(),
            Want::Int => v.is_i64() || v.is_u64(),
            Want::UInt => v.is_u64(),
            Want::Array => v.is_array(),
            Want::Object => v.is_object(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Want::Str => "a string",
            Want::Bool => "a boolean",
            Want::Int => "an integer",
            Want::UInt => "a non-negative integer",
            Want::Array => "an array",
            Want::Object => "an object",
        }
    }
}

struct Checker<'a> {
    schemas: &'a SchemaSet,
    bounds: &'a Bounds,
    out: Vec<Violation>,
    /// Set while checking a discovery document, whose nulls were all reported up front.
    nulls_reported: bool,
    /// The request asked for a subset of attributes (`attributes=`).
    projected: bool,
    /// Violations beyond [`Bounds::problems`], counted and not kept.
    dropped: usize,
}

// At most `Bounds::problems` problems are reported per response (a hostile list of a million
// broken resources costs one line, not gigabytes), and at most `Bounds::list_resources`
// resources of one ListResponse are examined (Entra asks for pages of 100).

impl<'a> Checker<'a> {
    fn push(&mut self, level: Level, path: &str, message: impl Into<String>) {
        if self.out.len() >= self.bounds.problems {
            self.dropped += 1;
            return;
        }
        self.out.push(Violation {
            path: path.to_string(),
            message: message.into(),
            level,
        });
    }

    fn fail(&mut self, path: &str, message: impl Into<String>) {
        self.push(Level::Fail, path, message);
    }

    fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(Level::Warn, path, message);
    }

    /// A schema from the given set, else from the built-in one.
    fn schema(&self, id: &str) -> Option<&'a Schema> {
        self.schemas
            .get(id)
            .or_else(|| SchemaSet::builtin().get(id))
    }

    /// Checks `schemas` is an array of strings (containing `expected` when given) and returns them.
    fn schemas_attr(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        expected: Option<&str>,
    ) -> Vec<String> {
        let p = child(path, "schemas");
        let want = match expected {
            Some(urn) => format!("an array of URNs containing \"{urn}\""),
            None => "an array of URNs".to_string(),
        };
        let items = match field(obj, "schemas") {
            Some(Value::Array(items)) => items,
            other => {
                let message = match other {
                    None => format!("`schemas` is missing; expected {want}"),
                    Some(v) => format!("expected {want}, found {}", describe(v)),
                };
                self.fail(&p, message);
                return Vec::new();
            }
        };
        let mut listed = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => listed.push(s.to_string()),
                None => self.fail(
                    &index(&p, i),
                    format!("expected a URN string, found {}", describe(item)),
                ),
            }
        }
        if let Some(urn) = expected
            && !listed.iter().any(|s| s.eq_ignore_ascii_case(urn))
        {
            self.fail(
                &p,
                format!("expected {want}, found {}", Value::from(listed.clone())),
            );
        }
        listed
    }

    fn dispatch(&mut self, kind: Kind, obj: &Map<String, Value>, path: &str, listed: &[String]) {
        match kind {
            Kind::User | Kind::Group => self.resource(kind, obj, path, listed),
            Kind::ListResponse => self.list_response(obj, path),
            Kind::Error => self.error(obj, path),
            Kind::Schema | Kind::ResourceType | Kind::ServiceProviderConfig => {
                for (k, v) in obj {
                    self.no_nulls(v, &child(path, k));
                }
                self.nulls_reported = true;
                match kind {
                    Kind::Schema => self.schema_def(obj, path),
                    Kind::ResourceType => self.resource_type(obj, path),
                    _ => self.service_provider_config(obj, path),
                }
                self.nulls_reported = false;
            }
        }
    }

    /// A User or Group: `id`, `meta`, the core schema's attributes, and extension objects.
    fn resource(&mut self, kind: Kind, obj: &Map<String, Value>, path: &str, listed: &[String]) {
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
    fn id(&mut self, obj: &Map<String, Value>, path: &str) {
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

    /// Checks `obj[name]` has the wanted JSON type; a missing required field fails with `level`.
    /// Nulls fail as a wrong type, unless already reported for the whole discovery document.
    fn expect<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        name: &str,
        path: &str,
        want: Want,
        required: Option<Level>,
    ) -> Option<&'v Value> {
        let p = child(path, name);
        match field(obj, name) {
            None => {
                if let Some(level) = required {
                    self.push(
                        level,
                        &p,
                        format!("`{name}` is missing; expected {}", want.describe()),
                    );
                }
                None
            }
            Some(Value::Null) if self.nulls_reported => None,
            Some(v) if want.matches(v) => Some(v),
            Some(v) => {
                self.fail(
                    &p,
                    format!("expected {}, found {}", want.describe(), describe(v)),
                );
                None
            }
        }
    }

    fn list_response(&mut self, obj: &Map<String, Value>, path: &str) {
        let total = self
            .expect(obj, "totalResults", path, Want::UInt, Some(Level::Fail))
            .and_then(Value::as_u64);
        self.expect(obj, "startIndex", path, Want::Int, Some(Level::Warn));
        self.expect(obj, "itemsPerPage", path, Want::Int, Some(Level::Warn));
        let p = child(path, "Resources");
        match field(obj, "Resources") {
            None if total.unwrap_or(0) > 0 => {
                self.fail(
                    &p,
                    format!(
                        "`Resources` is missing; expected an array since totalResults is {}",
                        total.unwrap_or(0)
                    ),
                );
            }
            None => {}
            Some(Value::Array(items)) => {
                let examined = self.bounds.list_resources;
                for (i, item) in items.iter().enumerate().take(examined) {
                    if self.out.len() >= self.bounds.problems {
                        self.dropped += 1;
                        break;
                    }
                    self.list_item(item, &index(&p, i));
                }
                if items.len() > examined {
                    self.warn(
                        &p,
                        format!(
                            "the list holds {} resources; only the first {examined} were examined (Entra asks for pages of 100; {})",
                            items.len(),
                            self.bounds.list_resources_hint
                        ),
                    );
                }
            }
            Some(v) => self.fail(&p, format!("expected an array, found {}", describe(v))),
        }
    }

    /// A resource inside `Resources`, checked as the kind its own `schemas` names.
    fn list_item(&mut self, item: &Value, path: &str) {
        let Some(obj) = item.as_object() else {
            return self.fail(
                path,
                format!("expected a resource object, found {}", describe(item)),
            );
        };
        let listed = self.schemas_attr(obj, path, None);
        let kinds = [Kind::User, Kind::Group, Kind::Schema, Kind::ResourceType];
        match kinds
            .into_iter()
            .find(|k| listed.iter().any(|s| s.eq_ignore_ascii_case(k.urn())))
        {
            Some(kind) => self.dispatch(kind, obj, path, &listed),
            None => self.id(obj, path),
        }
    }

    fn error(&mut self, obj: &Map<String, Value>, path: &str) {
        let p = child(path, "status");
        match field(obj, "status") {
            None => self.fail(&p, "`status` is missing; expected the HTTP status code as a string, e.g. \"404\""),
            Some(Value::String(s)) if s.parse::<u16>().is_ok_and(|n| (100..600).contains(&n)) => {}
            Some(Value::Number(n)) => self.warn(&p, format!("expected a string such as \"{n}\" (RFC 7644 section 3.12), found the number {n}; Entra tolerates it")),
            Some(v) => self.fail(&p, format!("expected the HTTP status code as a string, e.g. \"404\", found {}", describe(v))),
        }
        self.expect(obj, "detail", path, Want::Str, None);
        self.expect(obj, "scimType", path, Want::Str, None);
    }

    fn no_nulls(&mut self, v: &Value, path: &str) {
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

    fn schema_def(&mut self, obj: &Map<String, Value>, path: &str) {
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

    fn resource_type(&mut self, obj: &Map<String, Value>, path: &str) {
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

    fn service_provider_config(&mut self, obj: &Map<String, Value>, path: &str) {
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

/// A short description of a JSON value for messages: `the string "True"`, `the number 42`.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > 60 => {
            format!(
                "the string \"{}...\"",
                s.chars().take(57).collect::<String>()
            )
        }
        Value::String(s) => format!("the string \"{s}\""),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scim::schema::{resource_types, schema_resource, service_provider_config};

    const ENT: &str = urn::ENTERPRISE_USER;

    /// A user as a server answers Entra's `POST /Users`, with the enterprise extension.
    fn user() -> Value {
        json!({
            "schemas": [urn::USER, ENT],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com",
            "active": true,
            "displayName": "Barbara Jensen",
            "emails": [{"primary": true, "type": "work", "value": "bjensen@contoso.com"}],
            "name": {"formatted": "Barbara Jensen", "familyName": "Jensen", "givenName": "Barbara"},
            "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}],
            "addresses": [{"type": "work", "locality": "Redmond", "region": "WA", "primary": false}],
            "roles": [],
            ENT: {
                "employeeNumber": "701984",
                "department": "Tour Operations",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
            },
            "meta": {
                "resourceType": "User",
                "created": "2024-01-23T04:56:22Z",
                "lastModified": "2024-01-23T04:56:22.123+00:00",
                "location": "https://scim.example.com/scim/v2/Users/2819c223-7f76-453a-919d-413861904646",
                "version": "W/\"3694e05e9dff590\""
            }
        })
    }

    /// A group as a server answers Entra's `POST /Groups` (with Entra's extra schema URI).
    fn group() -> Value {
        json!({
            "schemas": [urn::GROUP, urn::ENTRA_GROUP],
            "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Tour Guides",
            "members": [{
                "value": "2819c223-7f76-453a-919d-413861904646",
                "$ref": "https://scim.example.com/scim/v2/Users/2819c223-7f76-453a-919d-413861904646",
                "display": "Barbara Jensen"
            }],
            "meta": {"resourceType": "Group", "created": "2024-01-23T04:56:22Z", "lastModified": "2024-01-23T04:56:22Z"}
        })
    }

    fn error_404() -> Value {
        json!({"schemas": [urn::ERROR], "status": "404", "detail": "Resource 42 not found"})
    }

    fn list(resources: Vec<Value>) -> Value {
        json!({"schemas": [urn::LIST_RESPONSE], "totalResults": resources.len(), "Resources": resources,
               "startIndex": 1, "itemsPerPage": 20})
    }

    /// The default `--limit` bounds.
    fn bounds() -> Bounds {
        Bounds {
            problems: 1000,
            problems_hint: "scimcheck's limit; raise it with --limit problems=N".into(),
            list_resources: 1000,
            list_resources_hint: "scimcheck's limit; raise it with --limit list-resources=N".into(),
        }
    }

    fn check(kind: Kind, body: &Value) -> Vec<Violation> {
        validate(kind, body, SchemaSet::builtin(), &bounds())
    }

    /// `base` changed by `edit` (at a JSON pointer: set, or remove with `None`).
    fn with(mut base: Value, pointer: &str, value: Option<Value>) -> Value {
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let key = key.replace("~1", "/");
        let target = base.pointer_mut(parent).unwrap();
        match (target, value) {
            (Value::Object(map), Some(v)) => {
                map.insert(key, v);
            }
            (Value::Object(map), None) => {
                map.shift_remove(&key);
            }
            (Value::Array(items), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
            (Value::Array(items), None) => {
                items.remove(key.parse::<usize>().unwrap());
            }
            _ => panic!("{pointer} has no parent container"),
        }
        base
    }

    /// Asserts exactly one violation, at `path` with `level`, whose message contains `needle`.
    #[track_caller]
    fn only(kind: Kind, body: &Value, path: &str, level: Level, needle: &str) {
        let found = check(kind, body);
        assert_eq!(
            found.len(),
            1,
            "expected one violation at {path}, got {found:#?}"
        );
        assert_eq!(
            (found[0].path.as_str(), found[0].level),
            (path, level),
            "{found:#?}"
        );
        assert!(
            found[0].message.contains(needle),
            "message `{}` lacks `{needle}`",
            found[0].message
        );
    }

    #[test]
    fn kind_names_parse_case_insensitively_and_errors_list_them() {
        for kind in Kind::ALL {
            assert_eq!(kind.name().parse::<Kind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!("listresponse".parse::<Kind>(), Ok(Kind::ListResponse));
        let err = "Users".parse::<Kind>().unwrap_err();
        assert!(
            err.contains(
                "User, Group, ListResponse, Error, Schema, ResourceType, ServiceProviderConfig"
            ),
            "{err}"
        );
    }

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

    #[test]
    fn violations_display_level_path_and_message() {
        let v = Violation {
            path: "$.id".into(),
            message: "expected a string".into(),
            level: Level::Fail,
        };
        assert_eq!(v.to_string(), "FAIL $.id: expected a string");
        assert_eq!(serde_json::to_value(&v).unwrap()["level"], "Fail");
    }

    // --- User and Group resources --------------------------------------------------------------

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

    // --- ListResponse ---------------------------------------------------------------------------

    #[test]
    fn realistic_list_responses_pass() {
        let empty = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 20});
        assert_eq!(check(Kind::ListResponse, &empty), []);
        assert_eq!(check(Kind::ListResponse, &list(vec![user(), group()])), []);
        let no_resources = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0});
        assert_eq!(check(Kind::ListResponse, &no_resources), []);
    }

    #[test]
    fn total_results_must_be_a_non_negative_integer() {
        let body = list(vec![user()]);
        only(
            Kind::ListResponse,
            &with(body.clone(), "/totalResults", Some(json!("1"))),
            "$.totalResults",
            Level::Fail,
            "non-negative integer",
        );
        only(
            Kind::ListResponse,
            &with(body.clone(), "/totalResults", Some(json!(-1))),
            "$.totalResults",
            Level::Fail,
            "found the number -1",
        );
        only(
            Kind::ListResponse,
            &with(body, "/totalResults", None),
            "$.totalResults",
            Level::Fail,
            "`totalResults` is missing",
        );
    }

    #[test]
    fn resources_must_be_an_array_and_present_when_there_are_results() {
        let body = list(vec![user()]);
        only(
            Kind::ListResponse,
            &with(body.clone(), "/Resources", Some(user())),
            "$.Resources",
            Level::Fail,
            "expected an array, found an object",
        );
        only(
            Kind::ListResponse,
            &with(body, "/Resources", None),
            "$.Resources",
            Level::Fail,
            "totalResults is 1",
        );
    }

    #[test]
    fn paging_fields_should_be_present_and_must_be_integers() {
        let body = list(vec![]);
        only(
            Kind::ListResponse,
            &with(body.clone(), "/startIndex", None),
            "$.startIndex",
            Level::Warn,
            "`startIndex` is missing",
        );
        only(
            Kind::ListResponse,
            &with(body, "/itemsPerPage", Some(json!("20"))),
            "$.itemsPerPage",
            Level::Fail,
            "expected an integer",
        );
    }

    #[test]
    fn listed_resources_are_checked_by_their_own_schemas() {
        let body = with(
            list(vec![user(), group()]),
            "/Resources/0/id",
            Some(json!(42)),
        );
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[0].id",
            Level::Fail,
            "found the number 42",
        );
        let body = with(
            list(vec![user(), group()]),
            "/Resources/1/members/0/value",
            Some(json!(1)),
        );
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[1].members[0].value",
            Level::Fail,
            "expected a string",
        );
        let body = with(list(vec![user()]), "/Resources/0", Some(json!("2819c223")));
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[0]",
            Level::Fail,
            "expected a resource object",
        );
        let body = with(list(vec![user()]), "/Resources/0/schemas", None);
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[0].schemas",
            Level::Fail,
            "`schemas` is missing",
        );
    }

    #[test]
    fn listed_resources_of_unknown_kinds_only_need_a_string_id() {
        let device = json!({"schemas": ["urn:acme:Device"], "id": "d1", "anything": [null, 1]});
        assert_eq!(check(Kind::ListResponse, &list(vec![device.clone()])), []);
        let body = with(list(vec![device]), "/Resources/0/id", Some(json!(5)));
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[0].id",
            Level::Fail,
            "expected a string",
        );
    }

    // --- Error ----------------------------------------------------------------------------------

    #[test]
    fn realistic_errors_pass() {
        assert_eq!(check(Kind::Error, &error_404()), []);
        let conflict = json!({"schemas": [urn::ERROR], "status": "409", "scimType": "uniqueness", "detail": "userName is taken"});
        assert_eq!(check(Kind::Error, &conflict), []);
    }

    #[test]
    fn error_status_must_be_a_string_status_code() {
        only(
            Kind::Error,
            &with(error_404(), "/status", Some(json!(404))),
            "$.status",
            Level::Warn,
            "Entra tolerates it",
        );
        only(
            Kind::Error,
            &with(error_404(), "/status", None),
            "$.status",
            Level::Fail,
            "`status` is missing",
        );
        only(
            Kind::Error,
            &with(error_404(), "/status", Some(json!("Not Found"))),
            "$.status",
            Level::Fail,
            "found the string \"Not Found\"",
        );
    }

    #[test]
    fn error_detail_and_scim_type_must_be_strings() {
        only(
            Kind::Error,
            &with(error_404(), "/detail", Some(json!({"msg": "x"}))),
            "$.detail",
            Level::Fail,
            "expected a string, found an object",
        );
        only(
            Kind::Error,
            &with(error_404(), "/scimType", Some(json!(1))),
            "$.scimType",
            Level::Fail,
            "expected a string",
        );
        only(
            Kind::Error,
            &with(error_404(), "/schemas/0", Some(json!(urn::LIST_RESPONSE))),
            "$.schemas",
            Level::Fail,
            urn::ERROR,
        );
    }

    // --- Schema ---------------------------------------------------------------------------------

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
