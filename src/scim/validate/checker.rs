//! The checker: its entry points, its bounds, how it records violations, and the rules shared by
//! every kind of body (the `schemas` attribute, typed message fields, describing a found value).

use serde_json::{Map, Value};

use super::{Kind, Level, Violation};
use crate::scim::json::get_ci as field;
use crate::scim::json_path::{child, index};
use crate::scim::schema::{Schema, SchemaSet};

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

/// The JSON type a message-level field must have.
#[derive(Clone, Copy)]
pub(super) enum Want {
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

/// One validation in progress: what it checks against, its bounds, and what it found so far.
pub(super) struct Checker<'a> {
    pub(super) schemas: &'a SchemaSet,
    pub(super) bounds: &'a Bounds,
    pub(super) out: Vec<Violation>,
    /// Set while checking a discovery document, whose nulls were all reported up front.
    pub(super) nulls_reported: bool,
    /// The request asked for a subset of attributes (`attributes=`).
    pub(super) projected: bool,
    /// Violations beyond [`Bounds::problems`], counted and not kept.
    pub(super) dropped: usize,
}

// At most `Bounds::problems` problems are reported per response (a hostile list of a million
// broken resources costs one line, not gigabytes), and at most `Bounds::list_resources`
// resources of one ListResponse are examined (Entra asks for pages of 100).

impl<'a> Checker<'a> {
    pub(super) fn push(&mut self, level: Level, path: &str, message: impl Into<String>) {
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

    pub(super) fn fail(&mut self, path: &str, message: impl Into<String>) {
        self.push(Level::Fail, path, message);
    }

    pub(super) fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.push(Level::Warn, path, message);
    }

    /// A schema from the given set, else from the built-in one.
    pub(super) fn schema(&self, id: &str) -> Option<&'a Schema> {
        self.schemas
            .get(id)
            .or_else(|| SchemaSet::builtin().get(id))
    }

    /// Checks `schemas` is an array of strings (containing `expected` when given) and returns them.
    pub(super) fn schemas_attr(
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

    pub(super) fn dispatch(
        &mut self,
        kind: Kind,
        obj: &Map<String, Value>,
        path: &str,
        listed: &[String],
    ) {
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

    /// Checks `obj[name]` has the wanted JSON type; a missing required field fails with `level`.
    /// Nulls fail as a wrong type, unless already reported for the whole discovery document.
    pub(super) fn expect<'v>(
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
}

/// A short description of a JSON value for messages: `the string "True"`, `the number 42`.
pub(super) fn describe(v: &Value) -> String {
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
