//! The in-memory resource store and the resource rules of RFC 7643/7644: validation on create and
//! PUT, PATCH application, uniqueness, group membership, `meta`. Nothing here knows about HTTP.
//! The quirks act through the [`request`] and [`storage`] layers, called at fixed points; with
//! no quirk on, each of those calls does nothing.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::project::is_extension_key;
use super::quirks::{QuirkSet, request, storage};
use crate::scim::filter::{CompareOp, Filter};
use crate::scim::json::get_ci;
use crate::scim::patch::{PatchOperation, apply_patch};
use crate::scim::path::AttrPath;
use crate::scim::schema::{AttrType, Attribute, SchemaSet};
use crate::scim::urn;

/// A failure to answer as a SCIM Error (RFC 7644 section 3.12).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    /// An error with a `scimType`.
    pub(crate) fn typed(status: u16, scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    /// An error without a `scimType` (401, 404, ...).
    pub(crate) fn plain(status: u16, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type: None,
            detail: detail.into(),
        }
    }

    /// 404 for an unknown resource id.
    pub(crate) fn not_found(kind: Kind, id: &str) -> Self {
        Self::plain(404, format!("{} {id} not found", kind.resource_type()))
    }
}

/// The two resource types the server stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Group,
}

impl Kind {
    /// The core schema URN.
    pub(crate) fn core_urn(self) -> &'static str {
        match self {
            Kind::User => urn::USER,
            Kind::Group => urn::GROUP,
        }
    }

    /// `meta.resourceType`.
    pub(crate) fn resource_type(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The endpoint name under the base path.
    pub(crate) fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    /// The required attribute that is unique case-insensitively.
    pub(crate) fn unique_attr(self) -> &'static str {
        match self {
            Kind::User => "userName",
            Kind::Group => "displayName",
        }
    }
}

/// What the store needs to know besides the data: quirks, schemas, extra required attributes.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub quirks: QuirkSet,
    pub schemas: SchemaSet,
    /// Extra attributes required on User create and PUT: (name as configured, parsed path).
    pub required: Vec<(String, AttrPath)>,
}

/// One resource type's resources: by id, in creation order, and by unique name.
#[derive(Debug, Default)]
struct Collection {
    items: HashMap<String, (u64, Value)>,
    order: BTreeMap<u64, String>,
    names: HashMap<String, Vec<String>>,
}

impl Collection {
    fn insert(&mut self, seq: u64, id: String, name: Option<String>, value: Value) {
        if let Some(name) = name {
            self.names.entry(name).or_default().push(id.clone());
        }
        self.order.insert(seq, id.clone());
        self.items.insert(id, (seq, value));
    }

    fn remove(&mut self, id: &str, name_attr: &str) -> Option<Value> {
        let (seq, value) = self.items.remove(id)?;
        self.order.remove(&seq);
        if let Some(name) = unique_key(&value, name_attr) {
            self.unindex(&name, id);
        }
        Some(value)
    }

    fn unindex(&mut self, name: &str, id: &str) {
        if let Some(ids) = self.names.get_mut(name) {
            ids.retain(|i| i != id);
            if ids.is_empty() {
                self.names.remove(name);
            }
        }
    }

    /// Whether a resource other than `except` already has this unique name.
    fn taken(&self, name: &str, except: Option<&str>) -> bool {
        self.names
            .get(name)
            .is_some_and(|ids| ids.iter().any(|i| Some(i.as_str()) != except))
    }
}

/// All stored resources.
#[derive(Debug, Default)]
pub(crate) struct Store {
    users: Collection,
    groups: Collection,
    seq: u64,
    numeric_ids: u64,
    /// Deleted users that filters still find (`deleted-still-filtered`).
    pub(crate) ghosts: Vec<Value>,
}

impl Store {
    fn col(&self, kind: Kind) -> &Collection {
        match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        }
    }

    fn col_mut(&mut self, kind: Kind) -> &mut Collection {
        match kind {
            Kind::User => &mut self.users,
            Kind::Group => &mut self.groups,
        }
    }

    /// The stored resource with this id.
    pub(crate) fn get(&self, kind: Kind, id: &str) -> Option<&Value> {
        self.col(kind).items.get(id).map(|(_, v)| v)
    }

    /// All resources of a type, in creation order.
    pub(crate) fn iter(&self, kind: Kind) -> impl Iterator<Item = &Value> {
        let col = self.col(kind);
        col.order
            .values()
            .filter_map(|id| col.items.get(id).map(|(_, v)| v))
    }

    /// The resources that may match `filter`, in creation order: all of them, or (when the filter
    /// requires `id` or the unique name to equal a string) only those found through the indexes.
    pub(crate) fn candidates(&self, kind: Kind, filter: Option<&Filter>) -> Vec<&Value> {
        let col = self.col(kind);
        match filter.and_then(|f| index_hint(f, kind)) {
            Some(Hint::Id(id)) => col.items.get(id).map(|(_, v)| v).into_iter().collect(),
            Some(Hint::Name(name)) => {
                let mut found: Vec<&(u64, Value)> = col
                    .names
                    .get(&name.to_lowercase())
                    .map(|ids| ids.iter().filter_map(|id| col.items.get(id)).collect())
                    .unwrap_or_default();
                found.sort_by_key(|(seq, _)| *seq);
                found.into_iter().map(|(_, v)| v).collect()
            }
            None => self.iter(kind).collect(),
        }
    }

    /// `{"users":[...],"groups":[...]}` exactly as stored, each sorted by id.
    pub(crate) fn dump(&self) -> Value {
        let sorted = |col: &Collection| {
            let mut items: Vec<(&String, &Value)> =
                col.items.iter().map(|(k, (_, v))| (k, v)).collect();
            items.sort_by(|a, b| a.0.cmp(b.0));
            Value::Array(items.into_iter().map(|(_, v)| v.clone()).collect())
        };
        json!({ "users": sorted(&self.users), "groups": sorted(&self.groups) })
    }

    /// POST: validates, assigns `id` and `meta`, stores. `base_url` ends with the base path.
    pub(crate) fn create(
        &mut self,
        cfg: &Config,
        kind: Kind,
        body: Value,
        base_url: &str,
    ) -> Result<Value, ScimError> {
        let mut obj = prepare(cfg, kind, body)?;
        request::screen_create(&cfg.quirks, kind, &obj)?;
        storage::on_create(&cfg.quirks, &mut obj);
        self.finish(cfg, kind, &mut obj, None)?;
        check_required(cfg, kind, &obj)?;
        let name = unique_key(&Value::Object(obj.clone()), kind.unique_attr());
        if let Some(name) = &name
            && storage::checks_uniqueness(&cfg.quirks)
            && self.col(kind).taken(name, None)
        {
            return Err(duplicate(kind, name));
        }
        let (id, id_value) = storage::numeric_id(&cfg.quirks, &mut self.numeric_ids)
            .unwrap_or_else(|| {
                let id = uuid::Uuid::new_v4().to_string();
                (id.clone(), Value::String(id))
            });
        let now = now();
        let meta = json!({
            "resourceType": kind.resource_type(),
            "created": now,
            "lastModified": now,
            "location": format!("{base_url}/{}/{id}", kind.endpoint()),
            "version": "W/\"1\"",
        });
        let resource = assemble(obj, id_value, meta);
        self.seq += 1;
        let seq = self.seq;
        self.col_mut(kind).insert(seq, id, name, resource.clone());
        Ok(resource)
    }

    /// PUT: replaces everything but `id` and `meta.created`/`location`; bumps the version.
    pub(crate) fn replace(
        &mut self,
        cfg: &Config,
        kind: Kind,
        id: &str,
        body: Value,
    ) -> Result<Value, ScimError> {
        let old = self
            .get(kind, id)
            .ok_or_else(|| ScimError::not_found(kind, id))?
            .clone();
        let mut obj = prepare(cfg, kind, body)?;
        self.finish(cfg, kind, &mut obj, Some(&old))?;
        check_required(cfg, kind, &obj)?;
        self.store_update(cfg, kind, id, &old, obj)
    }

    /// PATCH (RFC 7644 section 3.5.2): all operations or none. Returns the patched resource.
    pub(crate) fn patch(
        &mut self,
        cfg: &Config,
        kind: Kind,
        id: &str,
        body: Value,
    ) -> Result<Value, ScimError> {
        let old = self
            .get(kind, id)
            .ok_or_else(|| ScimError::not_found(kind, id))?
            .clone();
        let ops = request::read_patch(cfg, kind, &old, parse_patch(body)?)?;
        let mut new = old.clone();
        apply_patch(&mut new, &ops, &cfg.schemas, kind.core_urn()).map_err(|e| ScimError {
            status: e.status,
            scim_type: (!e.scim_type.is_empty()).then_some(e.scim_type),
            detail: e.detail,
        })?;
        let Value::Object(mut obj) = new else {
            return Err(ScimError::typed(
                400,
                "invalidValue",
                "the patched resource is not an object",
            ));
        };
        obj.retain(|k, _| !k.eq_ignore_ascii_case("id") && !k.eq_ignore_ascii_case("meta"));
        let mut obj = normalise(cfg, kind, obj)?;
        if !obj.get("schemas").is_some_and(Value::is_array) {
            return Err(ScimError::typed(
                400,
                "mutability",
                "`schemas` cannot be removed",
            ));
        }
        self.finish(cfg, kind, &mut obj, Some(&old))?;
        if storage::drops_patch_changes(&cfg.quirks) {
            // Answered as applied, stored nowhere.
            let meta = old.get("meta").cloned().unwrap_or(Value::Null);
            let id_value = old.get("id").cloned().unwrap_or(Value::Null);
            return Ok(assemble(obj, id_value, meta));
        }
        let deletes = storage::deletes_on_disable(&cfg.quirks, kind, &old, &obj);
        let resource = self.store_update(cfg, kind, id, &old, obj)?;
        if deletes {
            self.delete(kind, id);
        }
        Ok(resource)
    }

    /// DELETE: `false` when there is no such resource. Deleting a user or group removes it from
    /// every group's `members`.
    pub(crate) fn delete(&mut self, kind: Kind, id: &str) -> bool {
        if self.col_mut(kind).remove(id, kind.unique_attr()).is_none() {
            return false;
        }
        let now = now();
        for (_, group) in self.groups.items.values_mut() {
            let Some(Value::Array(members)) = group.get_mut("members") else {
                continue;
            };
            let before = members.len();
            members.retain(|m| m.get("value").map(id_string).as_deref() != Some(id));
            if members.len() == before {
                continue;
            }
            if members.is_empty()
                && let Some(obj) = group.as_object_mut()
            {
                obj.remove("members");
            }
            touch(group, &now);
        }
        true
    }

    /// Checks uniqueness and stores an updated resource with a bumped version, unless nothing
    /// changed.
    fn store_update(
        &mut self,
        cfg: &Config,
        kind: Kind,
        id: &str,
        old: &Value,
        obj: Map<String, Value>,
    ) -> Result<Value, ScimError> {
        let meta = old.get("meta").cloned().unwrap_or_else(|| json!({}));
        let id_value = old.get("id").cloned().unwrap_or_else(|| json!(id));
        let mut resource = assemble(obj, id_value, meta);
        if &resource == old {
            return Ok(resource);
        }
        let name_attr = kind.unique_attr();
        let old_name = unique_key(old, name_attr);
        let new_name = unique_key(&resource, name_attr);
        if let Some(name) = &new_name {
            let col = self.col(kind);
            if storage::checks_uniqueness(&cfg.quirks) && col.taken(name, Some(id)) {
                return Err(duplicate(kind, name));
            }
        }
        touch(&mut resource, &now());
        let col = self.col_mut(kind);
        if old_name != new_name {
            if let Some(name) = &old_name {
                col.unindex(name, id);
            }
            if let Some(name) = new_name {
                col.names.entry(name).or_default().push(id.to_string());
            }
        }
        if let Some(entry) = col.items.get_mut(id) {
            entry.1 = resource.clone();
        }
        Ok(resource)
    }

    /// The checks shared by create, PUT and PATCH, on the client-controlled part as the storage
    /// quirks leave it.
    fn finish(
        &self,
        cfg: &Config,
        kind: Kind,
        obj: &mut Map<String, Value>,
        old: Option<&Value>,
    ) -> Result<(), ScimError> {
        storage::distort(&cfg.quirks, kind, obj, old);
        fix_extension_schemas(cfg, kind, obj);
        let attr = kind.unique_attr();
        if get_ci(obj, attr)
            .and_then(Value::as_str)
            .is_none_or(|s| s.trim().is_empty())
        {
            return Err(ScimError::typed(
                400,
                "invalidValue",
                format!("`{attr}` is required and must be a non-empty string"),
            ));
        }
        if kind == Kind::Group {
            self.check_members(obj)?;
        }
        Ok(())
    }

    /// Every member must be an existing user or group.
    fn check_members(&self, obj: &Map<String, Value>) -> Result<(), ScimError> {
        let Some(members) = get_ci(obj, "members") else {
            return Ok(());
        };
        let Value::Array(members) = members else {
            return Err(ScimError::typed(
                400,
                "invalidValue",
                "`members` must be an array",
            ));
        };
        for m in members {
            let Some(id) = m
                .get("value")
                .filter(|v| v.is_string() || v.is_number())
                .map(id_string)
            else {
                return Err(ScimError::typed(
                    400,
                    "invalidValue",
                    format!("group member {m} has no `value`"),
                ));
            };
            if self.get(Kind::User, &id).is_none() && self.get(Kind::Group, &id).is_none() {
                return Err(ScimError::typed(
                    400,
                    "invalidValue",
                    format!("group member {id} does not exist"),
                ));
            }
        }
        Ok(())
    }
}

/// Body checks for create and PUT: a JSON object listing the core schema; then [`normalise`].
fn prepare(cfg: &Config, kind: Kind, body: Value) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(mut obj) = body else {
        return Err(ScimError::typed(
            400,
            "invalidSyntax",
            "the request body must be a JSON object",
        ));
    };
    if !schemas_of(&obj).any(|s| s.eq_ignore_ascii_case(kind.core_urn())) {
        return Err(ScimError::typed(
            400,
            "invalidSyntax",
            format!("`schemas` must list {}", kind.core_urn()),
        ));
    }
    obj.retain(|k, _| !k.eq_ignore_ascii_case("id") && !k.eq_ignore_ascii_case("meta"));
    normalise(cfg, kind, obj)
}

/// Drops `null`s and empty arrays or objects (unassigned), and turns string booleans into
/// booleans for boolean attributes (unless the request quirks refuse them).
fn normalise(
    cfg: &Config,
    kind: Kind,
    obj: Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    let mut value = Value::Object(obj);
    clean(&mut value);
    let Value::Object(mut obj) = value else {
        unreachable!("clean keeps an object an object")
    };
    let mut found = false;
    for (key, v) in obj.iter_mut() {
        fix_key_booleans(&cfg.schemas, kind.core_urn(), key, v, &mut found);
    }
    request::screen_string_booleans(&cfg.quirks, found)?;
    Ok(obj)
}

/// The strings listed in `schemas`.
pub(super) fn schemas_of(obj: &Map<String, Value>) -> impl Iterator<Item = &str> {
    obj.get("schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Removes nulls, empty arrays and empty objects, recursively.
pub(super) fn clean(v: &mut Value) {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    match v {
        Value::Object(obj) => {
            obj.values_mut().for_each(clean);
            obj.retain(|_, v| !empty(v));
        }
        Value::Array(items) => {
            items.iter_mut().for_each(clean);
            items.retain(|v| !empty(v));
        }
        _ => {}
    }
}

/// Converts string booleans under one top-level or path-less-PATCH key (plain, dotted, or
/// URN-qualified, or an extension URN holding an object), recording whether any was found.
fn fix_key_booleans(schemas: &SchemaSet, core: &str, key: &str, v: &mut Value, found: &mut bool) {
    if let Some(ext) = schemas
        .get(key)
        .filter(|s| !s.id.eq_ignore_ascii_case(core))
    {
        if let Value::Object(inner) = v {
            for (k, v) in inner.iter_mut() {
                if let Some(attr) = ext.attribute(k) {
                    fix_booleans(attr, v, found);
                }
            }
        }
    } else if let Some(attr) = AttrPath::parse(key)
        .ok()
        .and_then(|p| schemas.lookup(core, &p))
    {
        fix_booleans(attr, v, found);
    }
}

/// Converts `"True"`/`"False"` (any case) to booleans where `attr` (or a sub-attribute) is boolean.
pub(super) fn fix_booleans(attr: &Attribute, v: &mut Value, found: &mut bool) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|v| fix_booleans(attr, v, found)),
        Value::String(s) if attr.kind == AttrType::Boolean => {
            let b = if s.eq_ignore_ascii_case("true") {
                true
            } else if s.eq_ignore_ascii_case("false") {
                false
            } else {
                return;
            };
            *v = Value::Bool(b);
            *found = true;
        }
        Value::Object(obj) if attr.kind == AttrType::Complex => {
            for (k, v) in obj.iter_mut() {
                if let Some(sub) = attr.sub_attribute(k) {
                    fix_booleans(sub, v, found);
                }
            }
        }
        _ => {}
    }
}

/// `schemas` lists each known extension iff its object is present.
fn fix_extension_schemas(cfg: &Config, kind: Kind, obj: &mut Map<String, Value>) {
    let present: Vec<String> = obj
        .iter()
        .filter(|(k, v)| is_extension_key(k, v))
        .map(|(k, _)| k.clone())
        .collect();
    let core = kind.core_urn();
    let Some(Value::Array(list)) = obj.get_mut("schemas") else {
        return;
    };
    list.retain(|s| {
        let Some(s) = s.as_str() else { return true };
        let known_extension = !s.eq_ignore_ascii_case(core) && cfg.schemas.get(s).is_some();
        !known_extension || present.iter().any(|p| p.eq_ignore_ascii_case(s))
    });
    // Every extension present is listed, known or not (RFC 7643 section 3: `schemas` names each
    // extension the resource carries; Entra leaves custom extension URNs out of it).
    for p in present {
        if !list
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(&p)))
        {
            list.push(Value::String(p));
        }
    }
}

/// Extra required attributes (`ServerOptions::required_attributes`), on users.
fn check_required(cfg: &Config, kind: Kind, obj: &Map<String, Value>) -> Result<(), ScimError> {
    if kind != Kind::User {
        return Ok(());
    }
    let missing: Vec<&str> = cfg
        .required
        .iter()
        .filter(|(_, path)| !has_value(locate(obj, path, kind.core_urn())))
        .map(|(name, _)| name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ScimError::typed(
            400,
            "invalidValue",
            format!("required attribute(s) missing: {}", missing.join(", ")),
        ))
    }
}

fn has_value(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(Value::Array(items)) => items.iter().any(|v| has_value(Some(v))),
        Some(_) => true,
    }
}

/// The value at a path (for a sub-attribute of a multi-valued attribute: of its first element).
fn locate<'a>(obj: &'a Map<String, Value>, path: &AttrPath, core: &str) -> Option<&'a Value> {
    let container = match &path.urn {
        Some(u) if !u.eq_ignore_ascii_case(core) => get_ci(obj, u)?.as_object()?,
        _ => obj,
    };
    let v = get_ci(container, &path.name)?;
    match &path.sub {
        None => Some(v),
        Some(sub) => match v {
            Value::Object(o) => get_ci(o, sub),
            Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_object().and_then(|o| get_ci(o, sub)))
                .next(),
            _ => None,
        },
    }
}

/// The lower-cased unique name of a stored resource.
fn unique_key(resource: &Value, attr: &str) -> Option<String> {
    resource
        .as_object()
        .and_then(|o| get_ci(o, attr))
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

fn duplicate(kind: Kind, name: &str) -> ScimError {
    ScimError::typed(
        409,
        "uniqueness",
        format!(
            "a {} with {} `{name}` already exists",
            kind.resource_type(),
            kind.unique_attr()
        ),
    )
}

/// An id as a string, whether stored as a string or (under `numeric-id`) a number.
pub(crate) fn id_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `schemas`, `id`, the client's attributes in the order sent, `meta`.
fn assemble(mut obj: Map<String, Value>, id: Value, meta: Value) -> Value {
    let mut out = Map::with_capacity(obj.len() + 2);
    if let Some(schemas) = obj.remove("schemas") {
        out.insert("schemas".into(), schemas);
    }
    out.insert("id".into(), id);
    out.extend(obj);
    out.insert("meta".into(), meta);
    Value::Object(out)
}

/// Sets `meta.lastModified` and bumps `meta.version` (`W/"n"`).
fn touch(resource: &mut Value, now: &str) {
    let Some(meta) = resource.get_mut("meta").and_then(Value::as_object_mut) else {
        return;
    };
    let n: u64 = meta
        .get("version")
        .and_then(Value::as_str)
        .and_then(|v| v.trim_start_matches("W/").trim_matches('"').parse().ok())
        .unwrap_or(0);
    meta.insert("lastModified".into(), Value::String(now.to_string()));
    meta.insert("version".into(), Value::String(format!("W/\"{}\"", n + 1)));
}

/// The current time, RFC 3339 in UTC.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An equality a filter requires, usable to look resources up instead of scanning them all.
enum Hint<'a> {
    Id(&'a str),
    Name(&'a str),
}

/// `id eq "x"` or `userName eq "x"` (`displayName` for groups), alone or as a term of an `and`.
fn index_hint(filter: &Filter, kind: Kind) -> Option<Hint<'_>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: Value::String(s),
        } if path.sub.is_none()
            && path
                .urn
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(kind.core_urn())) =>
        {
            if path.name == "id" {
                Some(Hint::Id(s))
            } else if path.name.eq_ignore_ascii_case(kind.unique_attr()) {
                Some(Hint::Name(s))
            } else {
                None
            }
        }
        Filter::And(a, b) => index_hint(a, kind).or_else(|| index_hint(b, kind)),
        _ => None,
    }
}

/// Checks a PATCH body (PatchOp URN, `Operations` array) and reads its operations.
fn parse_patch(body: Value) -> Result<Vec<PatchOperation>, ScimError> {
    let bad = |detail: &str| ScimError::typed(400, "invalidSyntax", detail);
    let Value::Object(obj) = body else {
        return Err(bad("the PATCH body must be a JSON object"));
    };
    if !schemas_of(&obj).any(|s| s.eq_ignore_ascii_case(urn::PATCH_OP)) {
        return Err(bad(&format!("`schemas` must list {}", urn::PATCH_OP)));
    }
    let Some(Value::Array(ops)) = get_ci(&obj, "Operations") else {
        return Err(bad("the PATCH body must have an `Operations` array"));
    };
    serde_json::from_value(Value::Array(ops.clone()))
        .map_err(|e| bad(&format!("malformed PATCH operation: {e}")))
}
