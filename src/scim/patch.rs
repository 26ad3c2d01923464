//! PATCH application (RFC 7644 section 3.5.2) accepting both Entra dialects: capitalised ops,
//! string booleans, path-less values with dotted and URN keys, member removal by value array or
//! by filter, `"$ref": null` members, and the manager's bare-string and array forms.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::filter::{self, CompareOp, Filter, MatchContext, PatchPath, parse_patch_path};
use super::json::{get_ci, key_ci};
use super::schema::{AttrType, Attribute, Mutability, SchemaSet};
use super::urn;

/// One PATCH operation (RFC 7644 section 3.5.2).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
pub struct PatchOperation {
    /// `add`, `replace` or `remove`, in any case (Entra's default dialect capitalises).
    pub op: String,
    /// The target; absent means the resource itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value: `Some(Value::Null)` when sent as `null`, `None` when absent.
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
}

/// Keeps an explicit `"value": null` apart from a missing `value`.
fn present_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Why a PATCH was refused: HTTP status (always 400) and the RFC 7644 `scimType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    /// HTTP status code (400).
    pub status: u16,
    /// `invalidPath`, `noTarget`, `invalidValue`, `invalidSyntax` or `mutability`.
    pub scim_type: &'static str,
    /// Human-readable detail, naming the operation.
    pub detail: String,
}

impl PatchError {
    fn new(scim_type: &'static str, detail: impl Into<String>) -> Self {
        PatchError {
            status: 400,
            scim_type,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.scim_type, self.detail)
    }
}

impl std::error::Error for PatchError {}

fn invalid_path(detail: impl Into<String>) -> PatchError {
    PatchError::new("invalidPath", detail)
}

fn invalid_value(detail: impl Into<String>) -> PatchError {
    PatchError::new("invalidValue", detail)
}

/// Applies `ops` in order to `resource` (a JSON object whose core schema is `core_urn`).
/// All or nothing: on error the resource is left unchanged.
pub fn apply_patch(
    resource: &mut Value,
    ops: &[PatchOperation],
    schemas: &SchemaSet,
    core_urn: &str,
) -> Result<(), PatchError> {
    if ops.is_empty() {
        return Ok(());
    }
    let Value::Object(stored) = resource else {
        return Err(invalid_value("the stored resource is not a JSON object"));
    };
    let mut work = stored.clone();
    let mut patcher = Patcher {
        schemas,
        core: core_urn,
        touched: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        patcher.apply_op(&mut work, op).map_err(|mut e| {
            e.detail = format!("Operations[{i}] (`{}`): {}", op.op, e.detail);
            e
        })?;
    }
    patcher.fix_extensions(&mut work);
    *stored = work;
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Add,
    Replace,
    Remove,
}

/// A resolved PATCH target: `urn` is `None` for a top-level (core) attribute.
struct Target<'a> {
    urn: Option<String>,
    name: String,
    def: Option<&'a Attribute>,
    filter: Option<Filter>,
    sub: Option<String>,
}

impl Target<'_> {
    fn sub_def(&self) -> Option<&Attribute> {
        self.def.and_then(|d| d.sub_attribute(self.sub.as_deref()?))
    }

    fn is_manager(&self) -> bool {
        self.urn
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(urn::ENTERPRISE_USER))
            && self.name.eq_ignore_ascii_case("manager")
    }
}

struct Patcher<'a> {
    schemas: &'a SchemaSet,
    core: &'a str,
    /// Extension URNs written to, whose `schemas` entry is reconciled at the end.
    touched: Vec<String>,
}

fn is_urn(s: &str) -> bool {
    s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

impl<'a> Patcher<'a> {
    fn apply_op(
        &mut self,
        work: &mut Map<String, Value>,
        op: &PatchOperation,
    ) -> Result<(), PatchError> {
        let kind = match op.op.trim() {
            o if o.eq_ignore_ascii_case("add") => Kind::Add,
            o if o.eq_ignore_ascii_case("replace") => Kind::Replace,
            o if o.eq_ignore_ascii_case("remove") => Kind::Remove,
            other => {
                return Err(PatchError::new(
                    "invalidSyntax",
                    format!("unknown op `{other}`: expected add, replace or remove"),
                ));
            }
        };
        let value = op.value.as_ref();
        if kind != Kind::Remove && value.is_none() {
            return Err(PatchError::new(
                "invalidSyntax",
                "add and replace need a `value`",
            ));
        }
        let Some(path) = op.path.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
            if kind == Kind::Remove {
                return Err(PatchError::new("noTarget", "remove needs a `path`"));
            }
            let Some(Value::Object(fields)) = value else {
                return Err(invalid_value(
                    "an operation without `path` needs an object `value` whose keys are attribute paths",
                ));
            };
            for (key, v) in fields {
                self.apply_key(work, kind, key, v)?;
            }
            return Ok(());
        };
        if let Some(ext) = self.extension_named(work, path) {
            return self.apply_extension(work, kind, &ext, value);
        }
        let parsed = parse_patch_path(path).map_err(|e| invalid_path(format!("`{path}`: {e}")))?;
        let target = self.target(work, parsed, None);
        self.apply_target(work, kind, &target, value)
    }

    /// One key of a path-less value: `displayName`, `name.givenName`, `urn:...:User:employeeNumber`,
    /// or an extension URN whose value is an object.
    fn apply_key(
        &mut self,
        work: &mut Map<String, Value>,
        kind: Kind,
        key: &str,
        v: &Value,
    ) -> Result<(), PatchError> {
        if let Some(ext) = self.extension_named(work, key) {
            return self.apply_extension(work, kind, &ext, Some(v));
        }
        if let (true, Value::Object(fields)) = (key.eq_ignore_ascii_case(self.core), v) {
            return fields
                .iter()
                .try_for_each(|(k, v)| self.apply_key(work, kind, k, v));
        }
        match parse_patch_path(key) {
            Ok(parsed) => {
                let unknown_urn = parsed.attr.urn.as_deref().is_some_and(|u| {
                    !u.eq_ignore_ascii_case(self.core) && self.extension_named(work, u).is_none()
                });
                if unknown_urn && v.is_object() {
                    return self.apply_extension(work, kind, key, Some(v));
                }
                let target = self.target(work, parsed, None);
                self.apply_target(work, kind, &target, Some(v))
            }
            Err(_) if is_urn(key) && v.is_object() => {
                self.apply_extension(work, kind, key, Some(v))
            }
            Err(e) => Err(invalid_path(format!("`{key}`: {e}"))),
        }
    }

    /// Adds, replaces or removes a whole extension object (`urn:...:enterprise:2.0:User`).
    fn apply_extension(
        &mut self,
        work: &mut Map<String, Value>,
        kind: Kind,
        ext: &str,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        match value {
            _ if kind == Kind::Remove => {}
            Some(Value::Null) => {}
            Some(Value::Object(fields)) => {
                for (key, v) in fields {
                    let parsed = parse_patch_path(key)
                        .map_err(|e| invalid_path(format!("`{ext}` key `{key}`: {e}")))?;
                    let target = self.target(work, parsed, Some(ext));
                    self.apply_target(work, kind, &target, Some(v))?;
                }
                return Ok(());
            }
            _ => {
                return Err(invalid_value(format!(
                    "the value of extension `{ext}` must be an object"
                )));
            }
        }
        remove_ci(work, ext);
        drop_schema_urn(work, ext);
        Ok(())
    }

    /// The canonical spelling of `s` if it names an extension schema of this resource.
    fn extension_named(&self, work: &Map<String, Value>, s: &str) -> Option<String> {
        if !is_urn(s) || s.eq_ignore_ascii_case(self.core) {
            return None;
        }
        if let Some(key) = key_ci(work, s) {
            return Some(key.clone());
        }
        if let Some(schema) = self.schemas.get(s) {
            return Some(schema.id.clone());
        }
        if s.eq_ignore_ascii_case(urn::ENTERPRISE_USER) {
            return Some(urn::ENTERPRISE_USER.to_string());
        }
        declared_schemas(work)
            .find(|u| u.eq_ignore_ascii_case(s))
            .map(str::to_string)
    }

    fn def(&self, urn: Option<&str>, name: &str) -> Option<&'a Attribute> {
        self.schemas.get(urn.unwrap_or(self.core))?.attribute(name)
    }

    /// Where a bare attribute name lives: top level, unless only an extension has it
    /// (Entra's bare `manager` means the enterprise extension's).
    fn home_of(&self, work: &Map<String, Value>, name: &str) -> Option<String> {
        if get_ci(work, name).is_some() || self.def(None, name).is_some() {
            return None;
        }
        let holder = work
            .iter()
            .find(|(k, v)| is_urn(k) && v.as_object().is_some_and(|m| get_ci(m, name).is_some()));
        if let Some((key, _)) = holder {
            return Some(key.clone());
        }
        let is_user = self.core.eq_ignore_ascii_case(urn::USER);
        let enterprise = is_user.then_some(urn::ENTERPRISE_USER);
        let defining = declared_schemas(work)
            .chain(enterprise)
            .filter(|u| !u.eq_ignore_ascii_case(self.core))
            .filter_map(|u| self.schemas.get(u))
            .find(|s| s.attribute(name).is_some());
        match defining {
            Some(schema) => Some(schema.id.clone()),
            None if is_user && name.eq_ignore_ascii_case("manager") => {
                Some(urn::ENTERPRISE_USER.to_string())
            }
            None => None,
        }
    }

    fn target(
        &self,
        work: &Map<String, Value>,
        parsed: PatchPath,
        ext: Option<&str>,
    ) -> Target<'a> {
        let PatchPath { attr, filter, sub } = parsed;
        let urn = match (ext, attr.urn) {
            (Some(ext), _) => Some(ext.to_string()),
            (None, Some(u)) if u.eq_ignore_ascii_case(self.core) => None,
            (None, Some(u)) => Some(self.extension_named(work, &u).unwrap_or(u)),
            (None, None) => self.home_of(work, &attr.name),
        };
        let def = self.def(urn.as_deref(), &attr.name);
        let name = def.map_or(attr.name, |d| d.name.clone());
        Target {
            urn,
            name,
            def,
            filter,
            sub,
        }
    }

    fn apply_target(
        &mut self,
        work: &mut Map<String, Value>,
        kind: Kind,
        t: &Target,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        let untracked = t
            .urn
            .as_ref()
            .filter(|u| !self.touched.iter().any(|x| x.eq_ignore_ascii_case(u)));
        if let Some(u) = untracked {
            self.touched.push(u.clone());
        }
        if !self.check_mutability(work, kind, t, value)? {
            return Ok(());
        }
        let Some(value) = value.filter(|_| kind != Kind::Remove) else {
            return self.remove(work, t, value);
        };
        if t.is_manager() && t.filter.is_none() && t.sub.is_none() {
            return match manager_value(value)? {
                Some(v) => {
                    let container = container_mut(work, t.urn.as_deref(), true).expect("created");
                    let key = key_ci(container, &t.name)
                        .cloned()
                        .unwrap_or_else(|| t.name.clone());
                    container.insert(key, v);
                    Ok(())
                }
                None => self.remove(work, t, None),
            };
        }
        let mut value = value.clone();
        match (&t.filter, &t.sub) {
            (None, None) => {
                coerce(&mut value, t.def, &t.name, false)?;
                self.set_whole(work, kind, t, value)
            }
            (None, Some(sub)) => {
                coerce(&mut value, t.sub_def(), sub, true)?;
                self.set_sub(work, t, sub, value)
            }
            (Some(filter), sub) => {
                match sub {
                    Some(sub) => coerce(&mut value, t.sub_def(), sub, true)?,
                    None => coerce(&mut value, t.def, &t.name, false)?,
                }
                self.set_filtered(work, kind, t, filter, sub.as_deref(), value)
            }
        }
    }

    /// Refuses changes to `id`, `meta`, `schemas` and read-only or already-set immutable
    /// attributes. Echoing the current value is accepted as a no-op (`Ok(false)`).
    fn check_mutability(
        &self,
        work: &Map<String, Value>,
        kind: Kind,
        t: &Target,
        value: Option<&Value>,
    ) -> Result<bool, PatchError> {
        let protected = t.urn.is_none()
            && ["id", "meta", "schemas"]
                .iter()
                .any(|n| t.name.eq_ignore_ascii_case(n));
        let mutability = t.def.map(|d| d.mutability);
        let current = current(work, t);
        let whole = kind != Kind::Remove && t.filter.is_none() && t.sub.is_none();
        let unchanged = whole && value.is_some_and(|v| same_value(current, v));
        let (locked, why) = if protected || mutability == Some(Mutability::ReadOnly) {
            (true, "is read-only")
        } else if mutability == Some(Mutability::Immutable) && current.is_some() {
            (true, "is immutable and already has a value")
        } else {
            (false, "")
        };
        match (locked, unchanged) {
            (false, _) => Ok(true),
            (true, true) => Ok(false),
            (true, false) => Err(PatchError::new(
                "mutability",
                format!("`{}` {why} and cannot be changed", t.name),
            )),
        }
    }

    /// `add`/`replace` of a whole attribute (no filter, no sub-attribute).
    fn set_whole(
        &self,
        work: &mut Map<String, Value>,
        kind: Kind,
        t: &Target,
        value: Value,
    ) -> Result<(), PatchError> {
        if value.is_null() {
            return self.remove(work, t, None);
        }
        let multi = match t.def {
            Some(def) => def.multi_valued,
            None => value.is_array() || current(work, t).is_some_and(Value::is_array),
        };
        let container = container_mut(work, t.urn.as_deref(), true).expect("created");
        let key = key_ci(container, &t.name)
            .cloned()
            .unwrap_or_else(|| t.name.clone());
        if multi {
            let mut items = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            items.retain(|v| !v.is_null());
            items.iter_mut().for_each(strip_nulls);
            if kind == Kind::Replace {
                container.insert(key.clone(), Value::Array(items));
            } else {
                let slot = container.entry(key.clone()).or_insert(Value::Null);
                let arr = match slot.take() {
                    Value::Array(arr) => arr,
                    Value::Null => Vec::new(),
                    single => vec![single],
                };
                *slot = Value::Array(items.into_iter().fold(arr, add_element));
            }
        } else if let Value::Object(fields) = value {
            // RFC 7644 3.5.2.1 and 3.5.2.3: sub-attributes not given are left unchanged.
            let slot = container.entry(key.clone()).or_insert(Value::Null);
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            merge(slot.as_object_mut().expect("object"), fields);
        } else {
            container.insert(key.clone(), value);
        }
        drop_if_empty(container, &key);
        Ok(())
    }

    /// `add`/`replace` of `attr.sub` (e.g. `name.givenName`).
    fn set_sub(
        &self,
        work: &mut Map<String, Value>,
        t: &Target,
        sub: &str,
        value: Value,
    ) -> Result<(), PatchError> {
        if t.def.is_some_and(|d| d.multi_valued) || current(work, t).is_some_and(Value::is_array) {
            return Err(multi_valued_sub(t, sub));
        }
        if value.is_null() {
            return self.remove(work, t, None);
        }
        let container = container_mut(work, t.urn.as_deref(), true).expect("created");
        let key = key_ci(container, &t.name)
            .cloned()
            .unwrap_or_else(|| t.name.clone());
        let slot = container.entry(key).or_insert(Value::Null);
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let sub_name = t.sub_def().map_or(sub, |d| d.name.as_str());
        merge(
            slot.as_object_mut().expect("object"),
            Map::from_iter([(sub_name.to_string(), value)]),
        );
        Ok(())
    }

    /// `add`/`replace` of `attr[filter]` or `attr[filter].sub`. With no matching element and a
    /// filter made of `x eq "y"` terms, the element is created (Entra's `emails[type eq "work"].value`).
    fn set_filtered(
        &self,
        work: &mut Map<String, Value>,
        kind: Kind,
        t: &Target,
        filter: &Filter,
        sub: Option<&str>,
        value: Value,
    ) -> Result<(), PatchError> {
        if value.is_null() {
            return self.remove(work, t, None);
        }
        if current(work, t).is_some_and(|v| !v.is_array()) {
            return Err(invalid_path(format!(
                "`{}` is not multi-valued, so it cannot take a value filter",
                t.name
            )));
        }
        let cx = MatchContext {
            schemas: self.schemas,
            core_urn: self.core,
            force_case_exact: false,
        };
        let container = container_mut(work, t.urn.as_deref(), true).expect("created");
        let key = key_ci(container, &t.name)
            .cloned()
            .unwrap_or_else(|| t.name.clone());
        let slot = container.entry(key).or_insert(Value::Null);
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        let items = slot.as_array_mut().expect("array");
        // Sub-attribute names are case-insensitive (RFC 7643 2.1): Entra's `.Formatted` and
        // `.Value` land on the schema's `formatted` and `value`.
        let sub = sub.map(|s| t.sub_def().map_or(s, |d| d.name.as_str()));
        let mut hit = false;
        for element in items.iter_mut() {
            if !filter::matches_element(filter, element, t.urn.as_deref(), &t.name, &cx) {
                continue;
            }
            hit = true;
            match (sub, element, &value) {
                (Some(sub), Value::Object(fields), v) => {
                    merge(fields, Map::from_iter([(sub.to_string(), v.clone())]))
                }
                (Some(_), _, _) => {}
                (None, Value::Object(fields), Value::Object(new)) if kind == Kind::Add => {
                    merge(fields, new.clone())
                }
                (None, element, v) => {
                    *element = v.clone();
                    strip_nulls(element);
                }
            }
        }
        if hit {
            return Ok(());
        }
        let mut element = Map::new();
        if !filter_template(filter, &mut element) {
            return Err(PatchError::new(
                "noTarget",
                format!("no value of `{}` matches the filter `{filter}`", t.name),
            ));
        }
        match (sub, value) {
            (Some(sub), v) => merge(&mut element, Map::from_iter([(sub.to_string(), v)])),
            (None, Value::Object(fields)) => merge(&mut element, fields),
            (None, _) => {
                return Err(invalid_value(format!(
                    "a value of `{}` must be an object",
                    t.name
                )));
            }
        }
        items.push(Value::Object(element));
        Ok(())
    }

    /// `remove`, also used for add/replace with an empty value. Removing what is not there
    /// succeeds (Entra retries removals).
    fn remove(
        &self,
        work: &mut Map<String, Value>,
        t: &Target,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        let cx = MatchContext {
            schemas: self.schemas,
            core_urn: self.core,
            force_case_exact: false,
        };
        let multi_def = t.def.is_some_and(|d| d.multi_valued);
        let Some(container) = container_mut(work, t.urn.as_deref(), false) else {
            return Ok(());
        };
        let Some(key) = key_ci(container, &t.name).cloned() else {
            return Ok(());
        };
        let slot = container.get_mut(&key).expect("found");
        match (&t.filter, &t.sub, slot) {
            // Default dialect: `{"op":"Remove","path":"members","value":[{"value":"id"}]}`.
            (None, None, Value::Array(items)) if value.is_some_and(|v| !v.is_null()) => {
                let unwanted = match value {
                    Some(Value::Array(list)) => list.iter().collect(),
                    other => other.into_iter().collect::<Vec<_>>(),
                };
                items.retain(|e| !unwanted.iter().any(|u| same_element(e, u)));
            }
            (None, None, _) => {
                container.shift_remove(&key);
            }
            (None, Some(sub), Value::Array(_)) => return Err(multi_valued_sub(t, sub)),
            (None, Some(_), _) if multi_def => {
                return Err(multi_valued_sub(t, t.sub.as_deref().unwrap_or("")));
            }
            (None, Some(sub), Value::Object(fields)) => remove_ci(fields, sub),
            (None, Some(_), _) => {}
            (Some(filter), sub, Value::Array(items)) => {
                let selected =
                    |e: &Value| filter::matches_element(filter, e, t.urn.as_deref(), &t.name, &cx);
                match sub {
                    None => items.retain(|e| !selected(e)),
                    Some(sub) => {
                        let chosen = items.iter_mut().filter(|e| selected(e));
                        chosen
                            .filter_map(Value::as_object_mut)
                            .for_each(|fields| remove_ci(fields, sub));
                    }
                }
            }
            (Some(_), _, Value::Null) => {}
            (Some(_), _, _) => {
                return Err(invalid_path(format!(
                    "`{}` is not multi-valued, so it cannot take a value filter",
                    t.name
                )));
            }
        }
        drop_if_empty(container, &key);
        Ok(())
    }

    /// Lists written extensions in `schemas`; drops extension objects left empty, with their URN.
    fn fix_extensions(&self, work: &mut Map<String, Value>) {
        for ext in &self.touched {
            let Some(key) = key_ci(work, ext).cloned() else {
                continue;
            };
            if work[&key].as_object().is_some_and(|m| !m.is_empty()) {
                match key_ci(work, "schemas").cloned() {
                    Some(k) => {
                        let listed = |l: &&mut Vec<Value>| {
                            l.iter()
                                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(ext)))
                        };
                        if let Some(list) = work[&k].as_array_mut().filter(|l| !listed(l)) {
                            list.push(Value::String(key));
                        }
                    }
                    None => {
                        let list = vec![Value::String(self.core.to_string()), Value::String(key)];
                        work.insert("schemas".into(), Value::Array(list));
                    }
                }
            } else {
                work.shift_remove(&key);
                drop_schema_urn(work, ext);
            }
        }
    }
}

/// The URNs listed in the resource's `schemas` attribute.
fn declared_schemas(work: &Map<String, Value>) -> impl Iterator<Item = &str> {
    get_ci(work, "schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

fn drop_schema_urn(work: &mut Map<String, Value>, ext: &str) {
    if let Some(Value::Array(list)) = key_ci(work, "schemas")
        .cloned()
        .and_then(|k| work.get_mut(&k))
    {
        list.retain(|u| !u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(ext)));
    }
}

/// The object holding the target's attribute: the resource, or its extension object.
fn container_mut<'w>(
    work: &'w mut Map<String, Value>,
    urn: Option<&str>,
    create: bool,
) -> Option<&'w mut Map<String, Value>> {
    let Some(urn) = urn else {
        return Some(work);
    };
    let key = match key_ci(work, urn) {
        Some(key) => key.clone(),
        None if create => urn.to_string(),
        None => return None,
    };
    let slot = work.entry(key).or_insert(Value::Null);
    if !slot.is_object() {
        if !create {
            return None;
        }
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

/// The target attribute's current value, if assigned.
fn current<'w>(work: &'w Map<String, Value>, t: &Target) -> Option<&'w Value> {
    let container = match &t.urn {
        None => work,
        Some(u) => get_ci(work, u)?.as_object()?,
    };
    get_ci(container, &t.name).filter(|v| !v.is_null())
}

/// Whether writing `new` would leave `current` as it is (`schemas` compared as a set of URNs).
fn same_value(current: Option<&Value>, new: &Value) -> bool {
    match (current, new) {
        (None, v) => v.is_null(),
        (Some(Value::Array(a)), Value::Array(b)) => {
            let has = |list: &Vec<Value>, x: &Value| match x {
                Value::String(s) => list
                    .iter()
                    .any(|y| y.as_str().is_some_and(|y| y.eq_ignore_ascii_case(s))),
                other => list.contains(other),
            };
            a.iter().all(|x| has(b, x)) && b.iter().all(|x| has(a, x))
        }
        (Some(c), v) => c == v,
    }
}

fn multi_valued_sub(t: &Target, sub: &str) -> PatchError {
    invalid_path(format!(
        "`{0}` is multi-valued: select values with a filter, as in `{0}[type eq \"work\"].{sub}`",
        t.name
    ))
}

/// Removes `key` when its value became empty (an empty multi-valued attribute is unassigned,
/// RFC 7644 3.5.2.2).
fn drop_if_empty(container: &mut Map<String, Value>, key: &str) {
    let empty = match container.get(key) {
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    };
    if empty {
        container.shift_remove(key);
    }
}

/// Removes the key matching `name` case-insensitively, keeping the order of the others.
fn remove_ci(map: &mut Map<String, Value>, name: &str) {
    if let Some(key) = key_ci(map, name).cloned() {
        map.shift_remove(&key);
    }
}

/// Sets the given fields (case-insensitive keys); `null` unassigns.
fn merge(target: &mut Map<String, Value>, fields: Map<String, Value>) {
    for (k, v) in fields {
        let key = key_ci(target, &k).cloned().unwrap_or(k);
        if v.is_null() {
            target.shift_remove(&key);
        } else {
            target.insert(key, v);
        }
    }
}

fn strip_nulls(v: &mut Value) {
    if let Value::Object(fields) = v {
        fields.retain(|_, v| !v.is_null());
    }
}

/// Same element for de-duplication and value-array removal: equal `value` sub-attributes, or
/// equal as a whole when there is no `value`.
fn same_element(existing: &Value, given: &Value) -> bool {
    fn value_of(v: &Value) -> Option<&Value> {
        v.as_object().and_then(|m| get_ci(m, "value"))
    }
    match (value_of(existing), value_of(given)) {
        (Some(a), Some(b)) => a == b,
        (Some(a), None) => a == given,
        (None, _) => existing == given,
    }
}

fn is_primary(v: &Value) -> bool {
    v.as_object().and_then(|m| get_ci(m, "primary")) == Some(&Value::Bool(true))
}

/// Appends `item` unless an element with the same `value` exists (then merges into it). A new
/// primary value takes `primary` away from the others (RFC 7644 3.5.2.1).
fn add_element(mut items: Vec<Value>, item: Value) -> Vec<Value> {
    if is_primary(&item) {
        for other in items.iter_mut().filter(|e| is_primary(e)) {
            if let Some(fields) = other.as_object_mut() {
                merge(
                    fields,
                    Map::from_iter([("primary".to_string(), Value::Bool(false))]),
                );
            }
        }
    }
    match items.iter_mut().find(|e| same_element(e, &item)) {
        Some(Value::Object(fields)) => {
            if let Value::Object(new) = item {
                merge(fields, new);
            }
        }
        Some(_) => {}
        None => items.push(item),
    }
    items
}

/// Collects the `x eq "y"` terms of a filter made only of such terms joined by `and`.
fn filter_template(filter: &Filter, out: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.urn.is_none() && path.sub.is_none() && !value.is_null() => {
            out.insert(path.name.clone(), value.clone());
            true
        }
        Filter::And(a, b) => filter_template(a, out) && filter_template(b, out),
        _ => false,
    }
}

/// Normalises a manager value: `"id"`, `{"value":"id","$ref":...}` or a one-element array of
/// that; `None` for an empty value (`""`, `null`, `{}`, `[]`), meaning remove the manager.
fn manager_value(value: &Value) -> Result<Option<Value>, PatchError> {
    match value {
        Value::Null => Ok(None),
        Value::String(id) if id.trim().is_empty() => Ok(None),
        Value::String(_) => Ok(Some(Value::Object(Map::from_iter([(
            "value".to_string(),
            value.clone(),
        )])))),
        Value::Array(list) => match list.as_slice() {
            [] => Ok(None),
            [one] => manager_value(one),
            _ => Err(invalid_value(format!(
                "manager is single-valued, but {} values were sent",
                list.len()
            ))),
        },
        Value::Object(fields) => {
            let reference = get_ci(fields, "$ref").filter(|r| !r.is_null());
            match get_ci(fields, "value") {
                Some(Value::String(id)) if !id.trim().is_empty() => {
                    let mut manager =
                        Map::from_iter([("value".to_string(), Value::String(id.clone()))]);
                    if let Some(r) = reference {
                        manager.insert("$ref".into(), r.clone());
                    }
                    Ok(Some(Value::Object(manager)))
                }
                None | Some(Value::Null) | Some(Value::String(_)) if reference.is_none() => {
                    Ok(None)
                }
                _ => Err(invalid_value(
                    "manager needs a string `value` (the manager's id)",
                )),
            }
        }
        other => Err(invalid_value(format!(
            "manager must be an id or an object with `value`, not {other}"
        ))),
    }
}

/// Converts Entra's string booleans (`"True"`, `"false"`) where the schema says boolean, also
/// inside complex values. Without a definition, `active` and a sub-attribute `primary` are taken
/// as boolean. (`"$ref": null` and other nulls are dropped when values are stored.)
fn coerce(
    value: &mut Value,
    def: Option<&Attribute>,
    name: &str,
    is_sub: bool,
) -> Result<(), PatchError> {
    let boolean = match def {
        Some(d) => d.kind == AttrType::Boolean,
        None if is_sub => name.eq_ignore_ascii_case("primary"),
        None => name.eq_ignore_ascii_case("active"),
    };
    match value {
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| coerce(v, def, name, is_sub)),
        Value::Null | Value::Bool(_) => Ok(()),
        Value::String(s) if boolean => {
            let b = match s.trim() {
                t if t.eq_ignore_ascii_case("true") => true,
                t if t.eq_ignore_ascii_case("false") => false,
                _ => {
                    return Err(invalid_value(format!(
                        "`{name}` is boolean, but `{s}` is neither true nor false"
                    )));
                }
            };
            *value = Value::Bool(b);
            Ok(())
        }
        _ if boolean => Err(invalid_value(format!(
            "`{name}` is boolean, but {value} is not"
        ))),
        Value::Object(fields) if !is_sub => fields
            .iter_mut()
            .try_for_each(|(k, v)| coerce(v, def.and_then(|d| d.sub_attribute(k)), k, true)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{Returned, Schema, Uniqueness};
    use serde_json::json;

    const EXT: &str = urn::ENTERPRISE_USER;

    fn attr(name: &str, kind: AttrType) -> Attribute {
        Attribute {
            name: name.into(),
            kind,
            multi_valued: false,
            description: String::new(),
            required: false,
            canonical_values: vec![],
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: vec![],
            sub_attributes: vec![],
        }
    }

    fn string(name: &str) -> Attribute {
        attr(name, AttrType::String)
    }

    fn complex(name: &str, multi: bool, subs: Vec<Attribute>) -> Attribute {
        Attribute {
            multi_valued: multi,
            sub_attributes: subs,
            ..attr(name, AttrType::Complex)
        }
    }

    fn schema(id: &str, attributes: Vec<Attribute>) -> Schema {
        Schema {
            id: id.into(),
            name: String::new(),
            description: String::new(),
            attributes,
        }
    }

    /// The few RFC 7643 attributes these tests need.
    fn schemas() -> SchemaSet {
        let exact = |name: &str| Attribute {
            case_exact: true,
            ..string(name)
        };
        let multi_complex = |name: &str| {
            complex(
                name,
                true,
                vec![
                    string("value"),
                    string("display"),
                    string("type"),
                    attr("primary", AttrType::Boolean),
                ],
            )
        };
        let user = schema(
            urn::USER,
            vec![
                Attribute {
                    mutability: Mutability::ReadOnly,
                    ..exact("id")
                },
                exact("externalId"),
                string("userName"),
                string("displayName"),
                string("nickName"),
                string("title"),
                attr("active", AttrType::Boolean),
                complex(
                    "name",
                    false,
                    vec![
                        string("givenName"),
                        string("familyName"),
                        string("formatted"),
                    ],
                ),
                multi_complex("emails"),
                multi_complex("roles"),
                multi_complex("addresses"),
                Attribute {
                    mutability: Mutability::ReadOnly,
                    ..multi_complex("groups")
                },
                Attribute {
                    mutability: Mutability::Immutable,
                    ..string("badge")
                },
            ],
        );
        let enterprise = schema(
            EXT,
            vec![
                string("employeeNumber"),
                string("department"),
                complex(
                    "manager",
                    false,
                    vec![exact("value"), string("$ref"), string("displayName")],
                ),
            ],
        );
        let group = schema(
            urn::GROUP,
            vec![
                string("displayName"),
                complex(
                    "members",
                    true,
                    vec![string("value"), string("$ref"), string("display")],
                ),
            ],
        );
        SchemaSet {
            schemas: vec![user, enterprise, group],
        }
    }

    fn user() -> Value {
        json!({
            "schemas": [urn::USER],
            "id": "u1",
            "externalId": "ext-1",
            "userName": "bjensen@example.com",
            "active": true,
            "displayName": "Babs",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "meta": {"resourceType": "User"}
        })
    }

    fn group() -> Value {
        json!({
            "schemas": [urn::GROUP, urn::ENTRA_GROUP],
            "id": "g1",
            "displayName": "Sales",
            "members": [{"value": "m1"}, {"value": "m2"}, {"value": "m3"}]
        })
    }

    fn ops(v: Value) -> Vec<PatchOperation> {
        serde_json::from_value(v).expect("operations")
    }

    fn patch_with(
        resource: &Value,
        core: &str,
        operations: Value,
        schemas: &SchemaSet,
    ) -> Result<Value, PatchError> {
        let mut r = resource.clone();
        apply_patch(&mut r, &ops(operations), schemas, core).map(|()| r)
    }

    fn patch_user(operations: Value) -> Value {
        patch_with(&user(), urn::USER, operations, &schemas()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn patch_group(operations: Value) -> Value {
        patch_with(&group(), urn::GROUP, operations, &schemas()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn user_error(operations: Value) -> PatchError {
        let mut r = user();
        let e =
            apply_patch(&mut r, &ops(operations), &schemas(), urn::USER).expect_err("should fail");
        assert_eq!(
            r,
            user(),
            "a failed PATCH must leave the resource unchanged"
        );
        assert_eq!(e.status, 400);
        e
    }

    fn member_ids(g: &Value) -> Vec<&str> {
        g["members"].as_array().map_or(vec![], |m| {
            m.iter().map(|m| m["value"].as_str().unwrap()).collect()
        })
    }

    #[test]
    fn op_names_are_case_insensitive() {
        for (add, replace) in [("Add", "Replace"), ("add", "replace"), ("ADD", "REPLACE")] {
            let r = patch_user(json!([
                {"op": add, "path": "nickName", "value": "Babs"},
                {"op": replace, "path": "title", "value": "Boss"}
            ]));
            assert_eq!(
                (r["nickName"].as_str(), r["title"].as_str()),
                (Some("Babs"), Some("Boss"))
            );
        }
        for remove in ["Remove", "remove", "REMOVE"] {
            let r = patch_user(json!([{"op": remove, "path": "displayName"}]));
            assert!(r.get("displayName").is_none());
        }
    }

    #[test]
    fn unknown_op_is_invalid_syntax() {
        let e = user_error(json!([{"op": "Update", "path": "title", "value": "x"}]));
        assert_eq!(e.scim_type, "invalidSyntax");
        assert!(
            e.detail.contains("Operations[0]") && e.detail.contains("Update"),
            "{e}"
        );
    }

    #[test]
    fn add_or_replace_without_value_is_invalid_syntax() {
        assert_eq!(
            user_error(json!([{"op": "add", "path": "title"}])).scim_type,
            "invalidSyntax"
        );
    }

    #[test]
    fn empty_operations_change_nothing() {
        assert_eq!(patch_user(json!([])), user());
    }

    #[test]
    fn remove_without_path_is_no_target() {
        let e = user_error(json!([{"op": "Remove", "value": {"title": "x"}}]));
        assert_eq!(e.scim_type, "noTarget");
    }

    #[test]
    fn bad_paths_are_invalid_path() {
        for path in [
            "emails[type eq \"work\"",
            "1bad",
            "name.",
            "emails[type zz \"work\"].value",
            "a b",
        ] {
            let e = user_error(json!([{"op": "replace", "path": path, "value": "x"}]));
            assert_eq!(e.scim_type, "invalidPath", "{path}: {e}");
        }
    }

    #[test]
    fn disable_user_default_dialect_sends_string_false() {
        let r = patch_user(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        assert_eq!(r["active"], json!(false));
        let r = patch_with(
            &r,
            urn::USER,
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
            &schemas(),
        );
        assert_eq!(r.unwrap()["active"], json!(true));
    }

    #[test]
    fn disable_user_compliant_dialect_sends_boolean() {
        let r = patch_user(json!([{"op": "replace", "path": "active", "value": false}]));
        assert_eq!(r["active"], json!(false));
    }

    #[test]
    fn string_booleans_work_without_any_schema() {
        let none = SchemaSet::default();
        let ops = json!([
            {"op": "Replace", "path": "active", "value": "FALSE"},
            {"op": "Add", "path": "roles", "value": [{"value": "Admin", "primary": "True"}]}
        ]);
        let r = patch_with(&user(), urn::USER, ops, &none).unwrap();
        assert_eq!(r["active"], json!(false));
        assert_eq!(r["roles"], json!([{"value": "Admin", "primary": true}]));
    }

    #[test]
    fn string_booleans_are_converted_inside_value_objects_and_arrays() {
        let r = patch_user(json!([
            {"op": "Add", "path": "roles", "value": [
                {"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"}
            ]},
            {"op": "Replace", "value": {"active": "false"}},
            {"op": "Replace", "path": "emails[type eq \"work\"].primary", "value": "False"},
            {"op": "Add", "path": "emails[type eq \"home\"]", "value": {"value": "b@home.org", "primary": "false"}}
        ]));
        assert_eq!(r["roles"][0]["primary"], json!(true));
        assert_eq!(r["active"], json!(false));
        assert_eq!(r["emails"][0]["primary"], json!(false));
        assert_eq!(
            r["emails"][1],
            json!({"type": "home", "value": "b@home.org", "primary": false})
        );
    }

    #[test]
    fn non_boolean_string_for_a_boolean_attribute_is_invalid_value() {
        assert_eq!(
            user_error(json!([{"op": "Replace", "path": "active", "value": "yes"}])).scim_type,
            "invalidValue"
        );
        let e = user_error(
            json!([{"op": "Add", "path": "roles", "value": [{"value": "A", "primary": "maybe"}]}]),
        );
        assert_eq!(e.scim_type, "invalidValue");
        assert_eq!(
            user_error(json!([{"op": "Replace", "path": "active", "value": 0}])).scim_type,
            "invalidValue"
        );
    }

    #[test]
    fn add_one_attribute_in_both_dialects() {
        for op in ["Add", "add"] {
            let r = patch_user(json!([{"op": op, "path": "nickName", "value": "Babs"}]));
            assert_eq!(r["nickName"], json!("Babs"));
        }
    }

    #[test]
    fn replace_several_attributes_default_dialect_one_op_per_path() {
        let r = patch_user(json!([
            {"op": "Replace", "path": "displayName", "value": "Barbara J"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Barb"},
            {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"},
            {"op": "Replace", "path": "externalId", "value": "ext-2"},
            {"op": "Replace", "path": format!("{EXT}:employeeNumber"), "value": "701984"}
        ]));
        assert_eq!(r["displayName"], json!("Barbara J"));
        assert_eq!(
            r["emails"],
            json!([{"value": "barbara@example.com", "type": "work", "primary": true}])
        );
        assert_eq!(
            r["name"],
            json!({"givenName": "Barb", "familyName": "Jensen-Smith"})
        );
        assert_eq!(r["externalId"], json!("ext-2"));
        assert_eq!(r[EXT], json!({"employeeNumber": "701984"}));
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
    }

    #[test]
    fn replace_several_attributes_compliant_dialect_uses_a_pathless_value_with_dotted_and_urn_keys()
    {
        let r = patch_user(json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
            {"op": "replace", "value": {
                "displayName": "Barbara J",
                "name.givenName": "Barb",
                "name.familyName": "Jensen-Smith",
                "externalId": "ext-2",
                format!("{EXT}:employeeNumber"): "701984"
            }}
        ]));
        assert_eq!(r["emails"][0]["value"], json!("barbara@example.com"));
        assert_eq!(r["displayName"], json!("Barbara J"));
        assert_eq!(
            r["name"],
            json!({"givenName": "Barb", "familyName": "Jensen-Smith"})
        );
        assert_eq!(r["externalId"], json!("ext-2"));
        assert_eq!(r[EXT]["employeeNumber"], json!("701984"));
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
    }

    #[test]
    fn pathless_urn_key_with_object_value_merges_into_the_extension() {
        let r = patch_user(json!([
            {"op": "add", "value": {EXT: {"employeeNumber": "7", "department": "Sales"}}},
            {"op": "replace", "value": {EXT: {"department": "Tax", "manager": "boss"}}}
        ]));
        assert_eq!(
            r[EXT],
            json!({"employeeNumber": "7", "department": "Tax", "manager": {"value": "boss"}})
        );
    }

    #[test]
    fn pathless_add_sets_merges_and_appends() {
        let r = patch_user(json!([{"op": "Add", "value": {
            "nickName": "B",
            "name": {"formatted": "Barbara Jensen"},
            "emails": [{"value": "b@home.org", "type": "home"}]
        }}]));
        assert_eq!(r["nickName"], json!("B"));
        assert_eq!(
            r["name"],
            json!({"givenName": "Barbara", "familyName": "Jensen", "formatted": "Barbara Jensen"})
        );
        assert_eq!(r["emails"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn pathless_core_urn_key_means_top_level_and_bare_manager_key_means_the_extension() {
        let r = patch_user(json!([{"op": "replace", "value": {
            urn::USER: {"displayName": "Core"},
            "manager": "mgr-9"
        }}]));
        assert_eq!(r["displayName"], json!("Core"));
        assert!(r.get(urn::USER).is_none());
        assert_eq!(r[EXT], json!({"manager": {"value": "mgr-9"}}));
    }

    #[test]
    fn pathless_value_must_be_an_object() {
        assert_eq!(
            user_error(json!([{"op": "replace", "value": "x"}])).scim_type,
            "invalidValue"
        );
    }

    #[test]
    fn whole_extension_path_adds_and_removes_the_extension() {
        let r = patch_user(json!([{"op": "add", "path": EXT, "value": {"employeeNumber": "9"}}]));
        assert_eq!(r[EXT], json!({"employeeNumber": "9"}));
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
        let r = patch_with(
            &r,
            urn::USER,
            json!([{"op": "remove", "path": EXT}]),
            &schemas(),
        )
        .unwrap();
        assert!(r.get(EXT).is_none());
        assert_eq!(r["schemas"], json!([urn::USER]));
    }

    #[test]
    fn emptied_extension_is_dropped_with_its_urn() {
        let r = patch_user(
            json!([{"op": "add", "path": format!("{EXT}:department"), "value": "Sales"}]),
        );
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
        let r = patch_with(
            &r,
            urn::USER,
            json!([{"op": "remove", "path": "department"}]),
            &schemas(),
        )
        .unwrap();
        assert!(r.get(EXT).is_none());
        assert_eq!(r["schemas"], json!([urn::USER]));
    }

    #[test]
    fn removing_an_absent_extension_attribute_keeps_the_declared_urn() {
        let mut u = user();
        u["schemas"] = json!([urn::USER, EXT]);
        let r = patch_with(
            &u,
            urn::USER,
            json!([{"op": "remove", "path": "manager"}]),
            &schemas(),
        )
        .unwrap();
        assert_eq!(r, u);
    }

    #[test]
    fn remove_group_member_default_dialect_removes_only_the_listed_values() {
        let g =
            patch_group(json!([{"op": "Remove", "path": "members", "value": [{"value": "m2"}]}]));
        assert_eq!(member_ids(&g), ["m1", "m3"]);
        let g = patch_group(json!([
            {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "m1"}, {"value": "m3"}]}
        ]));
        assert_eq!(member_ids(&g), ["m2"]);
    }

    #[test]
    fn remove_group_member_compliant_dialect_uses_a_value_filter() {
        let g = patch_group(json!([{"op": "remove", "path": "members[value eq \"m2\"]"}]));
        assert_eq!(member_ids(&g), ["m1", "m3"]);
    }

    #[test]
    fn removing_absent_members_succeeds_and_changes_nothing() {
        assert_eq!(
            patch_group(json!([{"op": "remove", "path": "members[value eq \"zz\"]"}])),
            group()
        );
        assert_eq!(
            patch_group(json!([{"op": "Remove", "path": "members", "value": [{"value": "zz"}]}])),
            group()
        );
    }

    #[test]
    fn removing_every_member_leaves_members_unassigned() {
        let g = patch_group(json!([{"op": "Remove", "path": "members", "value": [
            {"value": "m1"}, {"value": "m2"}, {"value": "m3"}
        ]}]));
        assert!(g.get("members").is_none());
        let g = patch_group(json!([{"op": "remove", "path": "members"}]));
        assert!(g.get("members").is_none());
    }

    #[test]
    fn add_members_drops_null_refs_and_skips_duplicates() {
        let g = patch_group(json!([{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": "m4"}, {"$ref": null, "value": "m1"}, {"$ref": null, "value": "m5"}
        ]}]));
        assert_eq!(member_ids(&g), ["m1", "m2", "m3", "m4", "m5"]);
        assert_eq!(g["members"][3], json!({"value": "m4"}));
    }

    #[test]
    fn add_members_to_a_group_without_members() {
        let mut g = group();
        g.as_object_mut().unwrap().remove("members");
        let g = patch_with(
            &g,
            urn::GROUP,
            json!([{"op": "Add", "path": "members", "value": [{"value": "m9"}]}]),
            &schemas(),
        );
        assert_eq!(g.unwrap()["members"], json!([{"value": "m9"}]));
    }

    #[test]
    fn group_rename() {
        let g = patch_group(json!([{"op": "Replace", "path": "displayName", "value": "Sales EU"}]));
        assert_eq!(g["displayName"], json!("Sales EU"));
    }

    #[test]
    fn replace_of_a_multi_valued_attribute_without_filter_replaces_the_array() {
        let g =
            patch_group(json!([{"op": "replace", "path": "members", "value": [{"value": "m7"}]}]));
        assert_eq!(member_ids(&g), ["m7"]);
    }

    #[test]
    fn adding_a_primary_value_takes_primary_from_the_others() {
        let r = patch_user(json!([{"op": "add", "path": "emails", "value": [
            {"value": "new@example.com", "type": "other", "primary": true}
        ]}]));
        assert_eq!(r["emails"][0]["primary"], json!(false));
        assert_eq!(r["emails"][1]["primary"], json!(true));
    }

    #[test]
    fn manager_as_a_bare_string_is_stored_as_an_object() {
        let r =
            patch_user(json!([{"op": "Add", "path": format!("{EXT}:manager"), "value": "mgr-1"}]));
        assert_eq!(r[EXT]["manager"], json!({"value": "mgr-1"}));
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
    }

    #[test]
    fn manager_as_a_one_element_array_on_a_bare_path_goes_to_the_extension() {
        let r = patch_user(json!([{"op": "Add", "path": "manager", "value": [
            {"$ref": "https://host/scim/Users/mgr-2", "value": "mgr-2"}
        ]}]));
        assert_eq!(
            r[EXT]["manager"],
            json!({"value": "mgr-2", "$ref": "https://host/scim/Users/mgr-2"})
        );
        assert!(r.get("manager").is_none());
        let r = patch_user(
            json!([{"op": "Add", "path": "manager", "value": {"$ref": null, "value": "mgr-3"}}]),
        );
        assert_eq!(r[EXT]["manager"], json!({"value": "mgr-3"}));
    }

    #[test]
    fn manager_can_be_replaced_and_removed_with_any_empty_value() {
        let with_manager =
            patch_user(json!([{"op": "Add", "path": format!("{EXT}:manager"), "value": "mgr-1"}]));
        let r = patch_with(
            &with_manager,
            urn::USER,
            json!([{"op": "Replace", "path": format!("{EXT}:manager"), "value": "mgr-2"}]),
            &schemas(),
        );
        assert_eq!(r.unwrap()[EXT]["manager"], json!({"value": "mgr-2"}));
        for empty in [
            json!(""),
            json!(null),
            json!({}),
            json!([]),
            json!({"value": ""}),
            json!([{"value": null}]),
        ] {
            let r = patch_with(
                &with_manager,
                urn::USER,
                json!([{"op": "Replace", "path": format!("{EXT}:manager"), "value": empty}]),
                &schemas(),
            )
            .unwrap();
            assert!(r.get(EXT).is_none(), "{empty}: {r}");
            assert_eq!(r["schemas"], json!([urn::USER]), "{empty}");
        }
        let r = patch_with(
            &with_manager,
            urn::USER,
            json!([{"op": "Remove", "path": "manager"}]),
            &schemas(),
        )
        .unwrap();
        assert!(r.get(EXT).is_none());
    }

    #[test]
    fn several_managers_are_invalid_value() {
        let e = user_error(
            json!([{"op": "Add", "path": "manager", "value": [{"value": "a"}, {"value": "b"}]}]),
        );
        assert_eq!(e.scim_type, "invalidValue");
    }

    #[test]
    fn filtered_replace_creates_the_element_when_nothing_matches() {
        let mut u = user();
        u.as_object_mut().unwrap().remove("emails");
        let r = patch_with(
            &u,
            urn::USER,
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "x@example.com"}]),
            &schemas(),
        )
        .unwrap();
        assert_eq!(
            r["emails"],
            json!([{"type": "work", "value": "x@example.com"}])
        );

        let r = patch_user(json!([
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
            {"op": "Add", "path": "addresses[type eq \"work\"].region", "value": "WA"},
            {"op": "Add", "path": "emails[type eq \"home\" and primary eq false].value", "value": "h@x.org"}
        ]));
        assert_eq!(
            r["addresses"],
            json!([{"type": "work", "locality": "Redmond", "region": "WA"}])
        );
        assert_eq!(
            r["emails"][1],
            json!({"type": "home", "primary": false, "value": "h@x.org"})
        );
    }

    #[test]
    fn capitalised_sub_attributes_land_on_the_schema_names() {
        // Entra's default mappings send `emails[type eq "other"].Value` and
        // `addresses[type eq "other"].Formatted`: names are case-insensitive (RFC 7643 2.1).
        let r = patch_user(json!([
            {"op": "Add", "path": "emails[type eq \"other\"].Value", "value": "o@x.org"},
            {"op": "Add", "path": "emails[type eq \"work\"].Value", "value": "w@x.org"}
        ]));
        assert_eq!(
            r["emails"],
            json!([
                {"value": "w@x.org", "type": "work", "primary": true},
                {"type": "other", "value": "o@x.org"}
            ])
        );
    }

    #[test]
    fn filtered_replace_with_a_complex_filter_and_no_match_is_no_target() {
        let e = user_error(json!([
            {"op": "replace", "path": "emails[type eq \"home\" or type eq \"other\"].value", "value": "x"}
        ]));
        assert_eq!(e.scim_type, "noTarget");
    }

    #[test]
    fn filtered_replace_sets_the_sub_attribute_on_every_match() {
        let mut u = user();
        u["emails"] = json!([
            {"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}, {"value": "c@x", "type": "WORK"}
        ]);
        let r = patch_with(
            &u,
            urn::USER,
            json!([{"op": "replace", "path": "emails[type eq \"work\"].display", "value": "Work"}]),
            &schemas(),
        )
        .unwrap();
        let displays: Vec<_> = r["emails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.get("display"))
            .collect();
        assert_eq!(displays, [Some(&json!("Work")), None, Some(&json!("Work"))]);
    }

    #[test]
    fn filtered_replace_without_sub_replaces_matching_elements_and_add_merges() {
        let r = patch_user(json!([
            {"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "n@x", "type": "work"}}
        ]));
        assert_eq!(r["emails"], json!([{"value": "n@x", "type": "work"}]));
        let r = patch_user(
            json!([{"op": "add", "path": "emails[type eq \"work\"]", "value": {"display": "W"}}]),
        );
        assert_eq!(r["emails"][0]["display"], json!("W"));
        assert_eq!(r["emails"][0]["value"], json!("bjensen@example.com"));
    }

    #[test]
    fn remove_of_a_filtered_sub_attribute_removes_it_from_matching_elements() {
        let r = patch_user(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
        assert_eq!(
            r["emails"],
            json!([{"value": "bjensen@example.com", "type": "work"}])
        );
        let r = patch_user(json!([{"op": "remove", "path": "emails[type eq \"home\"].primary"}]));
        assert_eq!(r, user());
    }

    #[test]
    fn remove_of_a_sub_attribute_and_of_an_emptied_complex_attribute() {
        let r = patch_user(json!([{"op": "remove", "path": "name.givenName"}]));
        assert_eq!(r["name"], json!({"familyName": "Jensen"}));
        let r = patch_with(
            &r,
            urn::USER,
            json!([{"op": "remove", "path": "name.familyName"}]),
            &schemas(),
        )
        .unwrap();
        assert!(r.get("name").is_none());
    }

    #[test]
    fn sub_attribute_of_a_multi_valued_attribute_needs_a_filter() {
        for op in ["replace", "remove"] {
            let e = user_error(json!([{"op": op, "path": "emails.value", "value": "x"}]));
            assert_eq!(e.scim_type, "invalidPath", "{op}");
        }
    }

    #[test]
    fn value_filter_on_a_single_valued_attribute_is_invalid_path() {
        let e = user_error(
            json!([{"op": "replace", "path": "name[givenName eq \"Barbara\"].familyName", "value": "x"}]),
        );
        assert_eq!(e.scim_type, "invalidPath");
    }

    #[test]
    fn id_meta_and_schemas_cannot_be_changed() {
        for (path, value) in [
            ("id", json!("other")),
            ("meta", json!({})),
            ("schemas", json!([urn::USER, "urn:x"])),
        ] {
            let e = user_error(json!([{"op": "replace", "path": path, "value": value}]));
            assert_eq!(e.scim_type, "mutability", "{path}");
        }
        assert_eq!(
            user_error(json!([{"op": "remove", "path": "id"}])).scim_type,
            "mutability"
        );
        assert_eq!(
            user_error(json!([{"op": "replace", "value": {"id": "other"}}])).scim_type,
            "mutability"
        );
    }

    #[test]
    fn echoing_unchanged_read_only_values_is_accepted() {
        let r = patch_user(
            json!([{"op": "replace", "value": {"id": "u1", "schemas": [urn::USER], "title": "T"}}]),
        );
        assert_eq!(r["id"], json!("u1"));
        assert_eq!(r["title"], json!("T"));
    }

    #[test]
    fn read_only_and_set_immutable_attributes_are_mutability_errors() {
        assert_eq!(
            user_error(json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]))
                .scim_type,
            "mutability"
        );
        let r = patch_user(json!([{"op": "add", "path": "badge", "value": "B1"}]));
        let e = patch_with(
            &r,
            urn::USER,
            json!([{"op": "replace", "path": "badge", "value": "B2"}]),
            &schemas(),
        );
        assert_eq!(e.unwrap_err().scim_type, "mutability");
    }

    #[test]
    fn unknown_attributes_are_stored_as_sent() {
        let r = patch_user(json!([
            {"op": "add", "path": "favoriteColor", "value": "teal"},
            {"op": "add", "value": {"shoeSize": 42, "tags": ["a"]}}
        ]));
        assert_eq!(r["favoriteColor"], json!("teal"));
        assert_eq!(r["shoeSize"], json!(42));
        assert_eq!(r["tags"], json!(["a"]));
    }

    #[test]
    fn attribute_names_match_case_insensitively_and_keep_the_stored_spelling() {
        let r = patch_user(
            json!([{"op": "replace", "path": "DISPLAYNAME", "value": "X"}, {"op": "add", "path": "nickname", "value": "N"}]),
        );
        assert_eq!(r["displayName"], json!("X"));
        assert!(r.get("DISPLAYNAME").is_none());
        assert_eq!(
            r["nickName"],
            json!("N"),
            "schema spelling for a new attribute"
        );
    }

    #[test]
    fn null_values_unassign() {
        let r = patch_user(json!([
            {"op": "replace", "path": "displayName", "value": null},
            {"op": "replace", "value": {"externalId": null, "name": {"givenName": null}}}
        ]));
        assert!(r.get("displayName").is_none());
        assert!(r.get("externalId").is_none());
        assert_eq!(r["name"], json!({"familyName": "Jensen"}));
    }

    #[test]
    fn a_failing_operation_rolls_back_the_earlier_ones() {
        let e = user_error(json!([
            {"op": "replace", "path": "displayName", "value": "Changed"},
            {"op": "replace", "path": "active", "value": "nope"}
        ]));
        assert!(e.detail.starts_with("Operations[1]"), "{e}");
    }

    #[test]
    fn validator_paths_on_the_work_email() {
        let r = patch_user(json!([
            {"op": "Add", "path": "emails[type eq \"work\"].display", "value": "Work mail"},
            {"op": "Replace", "path": "emails[type eq \"work\"].primary", "value": "True"}
        ]));
        assert_eq!(
            r["emails"],
            json!([{"value": "bjensen@example.com", "type": "work", "primary": true, "display": "Work mail"}])
        );
    }

    #[test]
    fn operation_json_keeps_explicit_null_apart_from_missing_value() {
        let [a, b]: [PatchOperation; 2] = serde_json::from_value(
            json!([{"op": "replace", "path": "x", "value": null}, {"op": "remove", "path": "x"}]),
        )
        .unwrap();
        assert_eq!(a.value, Some(Value::Null));
        assert_eq!(b.value, None);
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({"op": "remove", "path": "x"})
        );
        let c = PatchOperation {
            op: "replace".into(),
            path: None,
            value: Some(json!({"a": 1})),
        };
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"op": "replace", "value": {"a": 1}})
        );
    }

    #[test]
    fn error_display_names_status_and_scim_type() {
        let e = PatchError::new("noTarget", "remove needs a `path`");
        assert_eq!(e.to_string(), "400 (noTarget): remove needs a `path`");
    }
}
