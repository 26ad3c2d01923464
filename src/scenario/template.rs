//! `{{ name }}` templates in scenario strings, and the value generators behind them.
//!
//! A string that is exactly one `{{ expr }}` takes the variable's JSON value (so a captured number
//! stays a number); otherwise values are interpolated as text. An expression is a name with
//! optional `.field` parts and `| filter`s (`upper`, `lower`). Built-in names:
//! `unique.userName`, `unique.name`, `unique.email`, `unique.externalId` (new run-prefixed values
//! on every use), `uuid` (a new random id on every use), `run.id`, `base_url`, `dialect`,
//! `op.add` / `op.replace` / `op.remove` (the dialect's op casing), `bool.true` / `bool.false`
//! (`"True"`/`"False"` strings in the default dialect, real booleans in the compliant one),
//! `i` (the iteration of a repeated step), and `profile.<name>` (values of the run's
//! attribute-mapping profile: `profile.matching` is its matching attribute, `userName` without a
//! profile; `profile.skip.<key>` renders as an empty string, or skips the step with the reason
//! the profile registered for `<key>`).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use crate::scim::dialect::Dialect;

/// Names every scenario can use without defining them.
pub const BUILTIN_ROOTS: &[&str] = &[
    "unique", "uuid", "run", "base_url", "dialect", "op", "bool", "profile",
];

/// A `{{ ... }}` reference found in a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Byte offset of `{{` in the string.
    pub offset: usize,
    /// The whole expression text, trimmed (e.g. `upn | upper`).
    pub expr: String,
    /// The root variable name (e.g. `upn`, `unique`).
    pub root: String,
}

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("`{{{{` without a closing `}}}}`")]
    Unclosed { offset: usize },
    #[error("empty template expression")]
    Empty { offset: usize },
    #[error("unknown variable `{name}`")]
    Undefined { name: String },
    #[error("`{expr}` has no field `{field}`")]
    NoField { expr: String, field: String },
    #[error("unknown template filter `{name}` (known: upper, lower)")]
    UnknownFilter { name: String },
    /// `{{ profile.skip.<key> }}` for a key the profile registered a reason for: the step is
    /// skipped, and the reason is its note.
    #[error("{reason}")]
    Skipped { reason: String },
    #[error(
        "the template expands to more than {}, {} (a variable that repeats another grows exponentially)",
        max_rendered_text(),
        crate::limits::TEMPLATE_KIB.hint()
    )]
    TooLarge,
}

/// The largest text one template may render to (`--limit template-kib=N`).
pub fn max_rendered() -> usize {
    crate::limits::TEMPLATE_KIB.get_usize().saturating_mul(1024)
}

/// `1 MiB`, `1536 KiB`.
fn max_rendered_text() -> String {
    match crate::limits::TEMPLATE_KIB.get() {
        kib if kib % 1024 == 0 => format!("{} MiB", kib / 1024),
        kib => format!("{kib} KiB"),
    }
}

/// Finds every `{{ ... }}` reference in `s`.
pub fn references(s: &str) -> Result<Vec<Reference>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(start) = s[rest..].find("{{").map(|i| i + rest) {
        let end = s[start..]
            .find("}}")
            .map(|i| i + start)
            .ok_or(TemplateError::Unclosed { offset: start })?;
        let expr = s[start + 2..end].trim().to_string();
        let root: String = expr
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if root.is_empty() {
            return Err(TemplateError::Empty { offset: start });
        }
        out.push(Reference {
            offset: start,
            expr,
            root,
        });
        rest = end + 2;
    }
    Ok(out)
}

/// What a run's attribute-mapping profile shows templates (see `crate::profile`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileValues {
    /// `{{ profile.<name> }}` values; `matching` defaults to `userName` when absent.
    pub values: Map<String, Value>,
    /// `{{ profile.skip.<key> }}`: a step that uses a key listed here is skipped with this reason;
    /// any other key renders as an empty string.
    pub skips: HashMap<String, String>,
}

/// Run-wide value generators. Every generated value carries the run id, so data scimcheck
/// creates can always be told apart from data it did not create.
#[derive(Debug)]
pub struct Generators {
    run_id: String,
    counter: AtomicU64,
    minted_ids: Mutex<HashSet<String>>,
    profile: ProfileValues,
}

impl Generators {
    /// Generators for a run with this id (8 lowercase hex characters is a good id).
    pub fn new(run_id: impl Into<String>) -> Self {
        Generators {
            run_id: run_id.into(),
            counter: AtomicU64::new(0),
            minted_ids: Mutex::default(),
            profile: ProfileValues::default(),
        }
    }

    /// The same generators, with the values of the run's attribute-mapping profile.
    pub fn with_profile(mut self, profile: ProfileValues) -> Self {
        self.profile = profile;
        self
    }

    /// The values of the run's attribute-mapping profile (empty without one).
    pub fn profile(&self) -> &ProfileValues {
        &self.profile
    }

    /// A fresh random run id.
    pub fn random_run_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
    }

    /// This run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The prefix of every name this run creates: `scimcheck-<runid>-`.
    pub fn prefix(&self) -> String {
        format!("scimcheck-{}-", self.run_id)
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A new random UUID, remembered as minted by this run (it names nothing that exists).
    pub fn uuid(&self) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.minted_ids
            .lock()
            .expect("minted ids lock")
            .insert(id.clone());
        id
    }

    /// Whether `id` was produced by [`Generators::uuid`] in this run.
    pub fn minted(&self, id: &str) -> bool {
        self.minted_ids
            .lock()
            .expect("minted ids lock")
            .contains(id)
    }

    fn unique(&self, field: &str) -> Option<String> {
        let n = self.next();
        let p = self.prefix();
        Some(match field {
            "userName" | "email" => format!("{p}u{n}@example.com"),
            "name" | "displayName" => format!("{p}g{n}"),
            "externalId" => format!("{p}x{n}"),
            _ => return None,
        })
    }
}

/// Everything a template can see.
pub struct Context<'a> {
    /// Scenario variables and captures.
    pub vars: &'a Map<String, Value>,
    /// Run-wide generators.
    pub generators: &'a Generators,
    /// The PATCH dialect of this run.
    pub dialect: Dialect,
    /// The Tenant URL (without its query).
    pub base_url: &'a str,
}

impl Context<'_> {
    fn builtin(&self, root: &str, field: Option<&str>) -> Result<Option<Value>, TemplateError> {
        let compliant = self.dialect == Dialect::Compliant;
        let no_field = |expr: &str| TemplateError::NoField {
            expr: expr.to_string(),
            field: field.unwrap_or_default().to_string(),
        };
        let v = match (root, field) {
            ("uuid", None) => Value::String(self.generators.uuid()),
            ("base_url", None) => Value::String(self.base_url.to_string()),
            ("dialect", None) => Value::String(self.dialect.as_str().to_string()),
            ("run", Some("id")) => Value::String(self.generators.run_id().to_string()),
            ("run", Some("prefix")) => Value::String(self.generators.prefix()),
            ("unique", Some(f)) => Value::String(
                self.generators
                    .unique(f)
                    .ok_or_else(|| no_field("unique"))?,
            ),
            ("op", Some(op @ ("add" | "replace" | "remove"))) => {
                let mut s = op.to_string();
                if !compliant {
                    s[..1].make_ascii_uppercase();
                }
                Value::String(s)
            }
            ("bool", Some(b @ ("true" | "false"))) => {
                let b = b == "true";
                if compliant {
                    Value::Bool(b)
                } else {
                    Value::String(if b { "True" } else { "False" }.into())
                }
            }
            ("profile", Some(f)) => match self.generators.profile.values.get(f) {
                Some(v) => v.clone(),
                None if f == "matching" => Value::String("userName".into()),
                None => return Err(no_field(root)),
            },
            ("unique" | "run" | "op" | "bool" | "profile", _) => return Err(no_field(root)),
            _ => return Ok(None),
        };
        Ok(Some(v))
    }

    /// Evaluates one expression such as `upn`, `user.id`, `upn | upper`, `unique.userName`.
    pub fn eval(&self, expr: &str) -> Result<Value, TemplateError> {
        let mut parts = expr.split('|');
        let path = parts.next().unwrap_or_default().trim();
        let mut segments = path.split('.');
        let root = segments.next().unwrap_or_default();
        let first_field = path.split('.').nth(1);
        if root == "profile" && first_field == Some("skip") && !self.vars.contains_key(root) {
            let key = path.split('.').nth(2).unwrap_or_default();
            return match self.generators.profile.skips.get(key) {
                Some(reason) => Err(TemplateError::Skipped {
                    reason: reason.clone(),
                }),
                None => Ok(Value::String(String::new())),
            };
        }
        let mut value = match self.vars.get(root) {
            Some(v) => v.clone(),
            None => match self.builtin(root, first_field)? {
                Some(v) => {
                    // Built-ins consume their one field.
                    segments.next();
                    v
                }
                None => {
                    return Err(TemplateError::Undefined {
                        name: root.to_string(),
                    });
                }
            },
        };
        for field in segments {
            value = match &value {
                Value::Object(m) => m.get(field).cloned(),
                Value::Array(a) => field.parse::<usize>().ok().and_then(|i| a.get(i).cloned()),
                _ => None,
            }
            .ok_or_else(|| TemplateError::NoField {
                expr: path.to_string(),
                field: field.to_string(),
            })?;
        }
        for filter in parts {
            let name = filter.trim();
            let text = || match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            value = match name {
                "upper" => Value::String(text().to_uppercase()),
                "lower" => Value::String(text().to_lowercase()),
                _ => {
                    return Err(TemplateError::UnknownFilter {
                        name: name.to_string(),
                    });
                }
            };
        }
        Ok(value)
    }

    /// Renders one string: a lone `{{ expr }}` keeps the value's JSON type.
    pub fn render_str(&self, s: &str) -> Result<Value, TemplateError> {
        let refs = references(s)?;
        if refs.is_empty() {
            return Ok(Value::String(s.to_string()));
        }
        if refs.len() == 1 && s.trim().starts_with("{{") && s.trim().ends_with("}}") {
            return self.eval(&refs[0].expr);
        }
        let mut out = String::with_capacity(s.len());
        let mut last = 0;
        for r in &refs {
            out.push_str(&s[last..r.offset]);
            let end = r.offset + s[r.offset..].find("}}").unwrap_or(0) + 2;
            match self.eval(&r.expr)? {
                Value::String(v) => out.push_str(&v),
                other => out.push_str(&other.to_string()),
            }
            if out.len() > max_rendered() {
                return Err(TemplateError::TooLarge);
            }
            last = end;
        }
        out.push_str(&s[last..]);
        Ok(Value::String(out))
    }

    /// Renders a string where only text makes sense (paths, header values).
    pub fn render_text(&self, s: &str) -> Result<String, TemplateError> {
        Ok(match self.render_str(s)? {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// Renders every string (and object key) inside a JSON value.
    pub fn render_value(&self, v: &Value) -> Result<Value, TemplateError> {
        Ok(match v {
            Value::String(s) => self.render_str(s)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.render_value(i))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::with_capacity(m.len());
                for (k, v) in m {
                    out.insert(self.render_text(k)?, self.render_value(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn with<R>(vars: Value, dialect: Dialect, f: impl FnOnce(&Context) -> R) -> R {
        let vars = vars.as_object().cloned().unwrap_or_default();
        let generators = Generators::new("abcd1234");
        f(&Context {
            vars: &vars,
            generators: &generators,
            dialect,
            base_url: "https://h/scim/v2",
        })
    }

    #[test]
    fn a_lone_reference_keeps_the_json_type() {
        with(json!({"n": 3, "s": "x"}), Dialect::Default, |cx| {
            assert_eq!(cx.render_str("{{ n }}").unwrap(), json!(3));
            assert_eq!(
                cx.render_str("n={{n}} s={{ s }}").unwrap(),
                json!("n=3 s=x")
            );
        });
    }

    #[test]
    fn filters_fields_and_undefined_names() {
        with(
            json!({"u": {"id": "42"}, "upn": "Alice@x"}),
            Dialect::Default,
            |cx| {
                assert_eq!(cx.render_str("{{ u.id }}").unwrap(), json!("42"));
                assert_eq!(
                    cx.render_str("{{ upn | upper }}").unwrap(),
                    json!("ALICE@X")
                );
                assert_eq!(
                    cx.render_str("{{ nope }}").unwrap_err(),
                    TemplateError::Undefined {
                        name: "nope".into()
                    }
                );
                assert!(matches!(
                    cx.render_str("{{ upn | shout }}"),
                    Err(TemplateError::UnknownFilter { .. })
                ));
                assert!(matches!(
                    cx.render_str("a {{ b"),
                    Err(TemplateError::Unclosed { offset: 2 })
                ));
            },
        );
    }

    #[test]
    fn unique_values_carry_the_run_prefix_and_differ() {
        with(json!({}), Dialect::Default, |cx| {
            let a = cx.render_text("{{ unique.userName }}").unwrap();
            let b = cx.render_text("{{ unique.userName }}").unwrap();
            assert!(a.starts_with("scimcheck-abcd1234-") && a.ends_with("@example.com"));
            assert_ne!(a, b);
            let id = cx.render_text("{{ uuid }}").unwrap();
            assert!(cx.generators.minted(&id));
        });
    }

    #[test]
    fn profile_values_default_to_usernames_matching_and_skips_carry_their_reason() {
        with(json!({}), Dialect::Default, |cx| {
            assert_eq!(
                cx.render_str("{{ profile.matching }}").unwrap(),
                json!("userName")
            );
            assert_eq!(
                cx.render_text("/Users{{ profile.skip.x }}").unwrap(),
                "/Users"
            );
        });
        let mut profile = ProfileValues::default();
        profile
            .values
            .insert("matching".into(), json!("externalId"));
        profile.skips.insert("x".into(), "not declared".into());
        let generators = Generators::new("abcd1234").with_profile(profile);
        let vars = Map::new();
        let cx = Context {
            vars: &vars,
            generators: &generators,
            dialect: Dialect::Default,
            base_url: "https://h/scim/v2",
        };
        assert_eq!(
            cx.render_str("{{ profile.matching }}").unwrap(),
            json!("externalId")
        );
        assert_eq!(
            cx.render_text("/Users{{ profile.skip.x }}").unwrap_err(),
            TemplateError::Skipped {
                reason: "not declared".into()
            }
        );
    }

    #[test]
    fn op_and_bool_follow_the_dialect() {
        with(json!({}), Dialect::Default, |cx| {
            assert_eq!(cx.render_str("{{ op.replace }}").unwrap(), json!("Replace"));
            assert_eq!(cx.render_str("{{ bool.false }}").unwrap(), json!("False"));
        });
        with(json!({}), Dialect::Compliant, |cx| {
            assert_eq!(cx.render_str("{{ op.replace }}").unwrap(), json!("replace"));
            assert_eq!(cx.render_str("{{ bool.false }}").unwrap(), json!(false));
        });
    }
}
