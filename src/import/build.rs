//! Recorded exchanges -> the steps of a replayable scenario: which requests are SCIM requests
//! of the Tenant URL, ids turned into captures, names into generated values, PATCHes into
//! dialect-neutral `patch` steps where one of Entra's dialects rendered them, expectations
//! from the recorded responses, a cleanup for every create.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::run::expect::is_scim_json;
use crate::scim::json::without_nulls;
use crate::scim::shape::{Collection, Shape};
use crate::scim::urn;
use crate::scim::validate::Kind;

use super::har::Recorded;
use super::names::{Names, body_names, filter_names};

/// One SCIM exchange of the capture, relative to the Tenant URL.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub rec: Recorded,
    /// Path relative to the Tenant URL (`/Users/1`).
    pub path: String,
    /// Decoded query parameters.
    pub query: Vec<(String, String)>,
    pub request_json: Option<Value>,
    pub response_json: Option<Value>,
}

/// The Tenant URL of a request URL: everything before the first SCIM collection segment.
pub fn tenant_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    let segments: Vec<&str> = u.path_segments()?.collect();
    let i = segments
        .iter()
        .position(|s| Collection::of_path(s).is_some())?;
    let mut base = format!("{}://{}", u.scheme(), u.host_str()?);
    if let Some(p) = u.port() {
        base.push_str(&format!(":{p}"));
    }
    for s in &segments[..i] {
        base.push('/');
        base.push_str(s);
    }
    Some(base)
}

/// The most common Tenant URL of the capture's requests.
pub fn infer_tenant(entries: &[Recorded]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = vec![];
    for e in entries {
        if let Some(t) = tenant_of(&e.url) {
            match counts.iter_mut().find(|(b, _)| *b == t) {
                Some((_, n)) => *n += 1,
                None => counts.push((t, 1)),
            }
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(b, _)| b)
}

/// The exchange of `rec` if it is a SCIM request of the Tenant URL `base`.
pub fn scim_exchange(rec: &Recorded, base: &str) -> Option<Exchange> {
    let u = reqwest::Url::parse(&rec.url).ok()?;
    let b = reqwest::Url::parse(base).ok()?;
    if u.scheme() != b.scheme()
        || u.host_str() != b.host_str()
        || u.port_or_known_default() != b.port_or_known_default()
    {
        return None;
    }
    let prefix = b.path().trim_end_matches('/');
    let path = u.path().strip_prefix(prefix)?;
    if !path.starts_with('/') || Collection::of_path(path).is_none() {
        return None;
    }
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
    };
    Some(Exchange {
        path: path.to_string(),
        query: u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .filter(|(k, _)| !k.eq_ignore_ascii_case("aadOptscim062020"))
            .collect(),
        request_json: parse(&rec.request_body),
        response_json: parse(&rec.response_body),
        rec: rec.clone(),
    })
}

fn id_segment(path: &str) -> Option<(Collection, String)> {
    let (c, id) = Collection::of_path(path)?;
    if !matches!(c, Collection::Users | Collection::Groups) {
        return None;
    }
    Some((c, id?.to_string()))
}

/// Fills the table: created ids, ids never created (404 -> `{{ uuid }}`, otherwise foreign),
/// then the names, in order of appearance. Returns entry -> capture variable of each create.
pub fn learn(exchanges: &[Exchange], names: &mut Names) -> HashMap<usize, String> {
    let mut captures = HashMap::new();
    for x in exchanges {
        let created = x.rec.method == "POST" && (200..300).contains(&x.rec.status);
        if let (true, Some((c, None))) = (created, Collection::of_path(&x.path))
            && matches!(c, Collection::Users | Collection::Groups)
            && let Some(id) = x
                .response_json
                .as_ref()
                .and_then(|b| b.get("id"))
                .and_then(id_text)
            && !names.knows_id(&id)
        {
            captures.insert(x.rec.entry, names.created_id(&id, c.noun()));
        }
    }
    let mut unknown: Vec<(String, bool)> = vec![];
    for x in exchanges {
        if let Some((_, id)) = id_segment(&x.path)
            && !names.knows_id(&id)
        {
            let missing = x.rec.status == 404;
            match unknown.iter_mut().find(|(u, _)| *u == id) {
                Some((_, all)) => *all &= missing,
                None => unknown.push((id, missing)),
            }
        }
    }
    for (id, all_404) in unknown {
        if all_404 {
            names.missing_id(&id);
        } else {
            names.foreign.insert(id);
        }
    }
    for x in exchanges {
        for id in resource_ids(x) {
            if !names.knows_id(&id) {
                names.foreign.insert(id);
            }
        }
    }
    let mut found = vec![];
    for x in exchanges {
        if let Some(b) = &x.request_json {
            body_names(b, &mut found);
        }
        for (k, v) in &x.query {
            if k.eq_ignore_ascii_case("filter") {
                filter_names(v, &mut found);
            }
        }
    }
    names.add_names(&found);
    captures
}

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The user and group ids a response to a `/Users` or `/Groups` request names.
fn resource_ids(x: &Exchange) -> Vec<String> {
    match Collection::of_path(&x.path) {
        Some((Collection::Users | Collection::Groups, _)) => response_ids(x.response_json.as_ref()),
        _ => vec![],
    }
}

/// The resource ids a response names (`id`, `Resources[*].id`).
fn response_ids(body: Option<&Value>) -> Vec<String> {
    let Some(b) = body else { return vec![] };
    let is_resource = |r: &Value| {
        r.get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|u| u == urn::USER || u == urn::GROUP))
    };
    let mut out = vec![];
    if is_resource(b)
        && let Some(id) = b.get("id").and_then(id_text)
    {
        out.push(id);
    }
    for r in b
        .get("Resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(id) = r.get("id").and_then(id_text) {
            out.push(id);
        }
    }
    out
}

/// Why an exchange cannot be replayed, if it cannot: it refers to data the capture did not
/// create (scimcheck never writes to, and cannot expect to find, data it did not create).
pub fn foreign_reference(x: &Exchange, names: &Names) -> Option<String> {
    if let Some((c, id)) = id_segment(&x.path)
        && names.foreign.contains(&id)
    {
        return Some(format!(
            "it addresses the {} {id}, which the capture did not create",
            c.noun()
        ));
    }
    let mut strings = vec![];
    if let Some(b) = &x.request_json {
        collect_strings(b, &mut strings);
    }
    strings.extend(x.query.iter().map(|(_, v)| v.clone()));
    if let Some(id) = names.foreign.iter().find(|id| {
        strings
            .iter()
            .any(|s| s == *id || (id.len() >= 8 && s.contains(id.as_str())))
    }) {
        return Some(format!(
            "its request names {id}, which the capture did not create"
        ));
    }
    if let Some(id) = resource_ids(x)
        .into_iter()
        .find(|id| names.foreign.contains(id))
    {
        return Some(format!(
            "its response lists {id}, which the capture did not create"
        ));
    }
    None
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// The statuses Entra needs for a shape.
fn success(shape: &Shape) -> Value {
    match shape {
        Shape::Create(_) => json!(201),
        Shape::Patch { .. } | Shape::OtherPatch(_) => json!([200, 204]),
        Shape::Delete(_) => json!(204),
        _ => json!(200),
    }
}

/// The SCIM body kind a recorded response is, from its `schemas` (and the request shape).
fn body_kind(x: &Exchange) -> Option<Kind> {
    let b = x.response_json.as_ref()?;
    let schemas: Vec<&str> = b
        .get("schemas")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    [
        Kind::ListResponse,
        Kind::Error,
        Kind::User,
        Kind::Group,
        Kind::ServiceProviderConfig,
        Kind::ResourceType,
        Kind::Schema,
    ]
    .into_iter()
    .find(|k| schemas.contains(&k.urn()))
}

/// Attribute names (lower-case, top level) this request sends for its resource.
pub fn sent_attributes(x: &Exchange) -> Vec<String> {
    let Some(b) = x.request_json.as_ref().and_then(Value::as_object) else {
        return vec![];
    };
    let top = |p: &str| -> String {
        if p.to_ascii_lowercase().starts_with("urn:") {
            // `urn:...:User:employeeNumber` -> the extension object.
            match p.rsplit_once(':') {
                Some((u, _)) if u.matches(':').count() >= 6 => u.to_ascii_lowercase(),
                _ => p.to_ascii_lowercase(),
            }
        } else {
            p.split(['.', '['])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        }
    };
    match b.get("Operations").and_then(Value::as_array) {
        Some(ops) => ops
            .iter()
            .flat_map(|op| match op.get("path").and_then(Value::as_str) {
                Some(p) => vec![top(p)],
                None => op
                    .get("value")
                    .and_then(Value::as_object)
                    .map(|m| m.keys().map(|k| top(k)).collect())
                    .unwrap_or_default(),
            })
            .collect(),
        None => b.keys().map(|k| top(k)).collect(),
    }
}

const NEVER_EXPECTED: [&str; 4] = ["schemas", "meta", "password", "id"];

/// The recorded values of the attributes sent for this resource, for `expect.body`.
fn recorded_values(
    resp: &Map<String, Value>,
    sent: &[String],
    names: &Names,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in resp {
        let lk = k.to_ascii_lowercase();
        if NEVER_EXPECTED.contains(&lk.as_str()) || !sent.contains(&lk) {
            continue;
        }
        let v = if lk == "members" {
            // Only the member ids: `display` and `$ref` are the server's to choose.
            Value::Array(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.get("value").map(|id| json!({"value": names.value(id)})))
                    .collect(),
            )
        } else {
            names.value(v)
        };
        out.insert(k.clone(), v);
    }
    out
}

/// The step's `expect`, and notes on what was chosen.
pub fn expectation(
    x: &Exchange,
    shape: &Shape,
    names: &Names,
    sent_so_far: &[String],
    notes: &mut Vec<String>,
) -> Value {
    let mut expect = Map::new();
    let status = x.rec.status;
    let entra_shape = !matches!(shape, Shape::Other | Shape::OtherPatch(_));
    let rejected = status >= 500 || (status == 400 && entra_shape);
    if rejected {
        notes.push(format!(
            "entry {}: the app answered {status} to {}; the step expects what Entra needs ({})",
            x.rec.entry,
            shape.label(),
            success(shape)
        ));
        expect.insert("status".into(), success(shape));
    } else {
        expect.insert("status".into(), json!(status));
    }
    if let Some(ct) = x.rec.response_header("content-type")
        && x.rec.response_body.is_some()
        && !is_scim_json(ct)
    {
        notes.push(format!(
            "entry {}: the recorded response is `{ct}`; the step expects `application/scim+json`, as Entra does",
            x.rec.entry
        ));
    }
    if rejected {
        return Value::Object(expect);
    }
    let kind = body_kind(x).or(match (shape, status) {
        (Shape::Match { .. } | Shape::List(_) | Shape::TestConnection(_), 200) => {
            Some(Kind::ListResponse)
        }
        (_, 400..) if x.rec.response_body.is_some() => Some(Kind::Error),
        _ => None,
    });
    if let Some(k) = kind {
        expect.insert("schema".into(), json!(k.name()));
    }
    let mut body = Map::new();
    let mut asserts: Vec<Value> = vec![];
    let resp = x.response_json.as_ref().and_then(Value::as_object);
    match (kind, resp) {
        (Some(Kind::User | Kind::Group), Some(r)) if (200..300).contains(&status) => {
            // A create's id is what its capture reads: it is not known before.
            if let Some(id) = r.get("id").filter(|_| !matches!(shape, Shape::Create(_))) {
                body.insert("id".into(), names.value(id));
            }
            let sent: Vec<String> = if matches!(shape, Shape::Create(_)) {
                sent_attributes(x)
            } else {
                sent_so_far.to_vec()
            };
            if matches!(shape, Shape::Create(_))
                && let Some(req) = x.request_json.as_ref().and_then(Value::as_object)
            {
                // The values sent, as sent: Entra compares the echo with what it sent.
                for (k, v) in req {
                    let lk = k.to_ascii_lowercase();
                    if NEVER_EXPECTED.contains(&lk.as_str()) {
                        continue;
                    }
                    if let Some(v) = without_nulls(v) {
                        body.insert(k.clone(), names.value(&v));
                    }
                }
                if let Some(rt) = r.get("meta").and_then(|m| m.get("resourceType")) {
                    body.insert("meta".into(), json!({"resourceType": rt}));
                }
            } else {
                for (k, v) in recorded_values(r, &sent, names) {
                    body.insert(k, v);
                }
            }
        }
        (Some(Kind::ListResponse), Some(r)) if status == 200 => {
            let filter = x
                .query
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("filter"))
                .map(|(_, v)| v.as_str());
            // Only a filter on this replay's own values has a known number of results.
            let controlled = matches!(shape, Shape::TestConnection(_))
                || filter.is_some_and(|f| names.filter(f) != f);
            if controlled {
                for key in ["totalResults", "startIndex", "itemsPerPage"] {
                    let paged = key == "totalResults"
                        || x.query
                            .iter()
                            .any(|(k, _)| k == "startIndex" || k == "count");
                    if let Some(v) = r.get(key).filter(|_| paged) {
                        body.insert(key.into(), v.clone());
                    }
                }
                if let Some(items) = r.get("Resources").and_then(Value::as_array) {
                    let ids: Vec<Value> = items
                        .iter()
                        .filter_map(|i| i.get("id").map(|id| json!({"id": names.value(id)})))
                        .collect();
                    if ids.len() == items.len() && !ids.is_empty() {
                        body.insert("Resources".into(), Value::Array(ids));
                    } else {
                        asserts.push(json!({"pointer": "/Resources", "length": items.len()}));
                    }
                }
            }
        }
        _ => {}
    }
    excluded(x, resp, &mut asserts);
    if !body.is_empty() {
        expect.insert("body".into(), Value::Object(body));
    }
    if !asserts.is_empty() {
        expect.insert("assert".into(), Value::Array(asserts));
    }
    Value::Object(expect)
}

/// `excludedAttributes=a,b`: each one absent from the recorded response is asserted absent.
fn excluded(x: &Exchange, resp: Option<&Map<String, Value>>, asserts: &mut Vec<Value>) {
    let Some(r) = resp else { return };
    let list = r.contains_key("Resources");
    for (k, v) in &x.query {
        if !k.eq_ignore_ascii_case("excludedAttributes") {
            continue;
        }
        for attr in v.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let present = if list {
                r["Resources"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|i| i.get(attr).is_some())
            } else {
                r.contains_key(attr)
            };
            if !present {
                let pointer = if list {
                    format!("/Resources/*/{attr}")
                } else {
                    format!("/{attr}")
                };
                asserts.push(json!({"pointer": pointer, "absent": true}));
            }
        }
    }
}

/// The request part of a step: a dialect-neutral `patch` when the PATCH is one of Entra's
/// dialects, a raw `request` otherwise. Returns (key, value).
pub fn request(x: &Exchange, shape: &Shape, names: &Names) -> (&'static str, Value) {
    if let Shape::Patch { patch, .. } = shape {
        let mut p = Map::new();
        p.insert("resource".into(), json!(names.path(&x.path)));
        let obj = |m: &Map<String, Value>| {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), names.value(v))).collect())
        };
        if !patch.set.is_empty() {
            p.insert("set".into(), obj(&patch.set));
        }
        if !patch.add.is_empty() {
            p.insert("add".into(), obj(&patch.add));
        }
        if !patch.remove.is_empty() {
            p.insert("remove".into(), json!(patch.remove));
        }
        if !patch.add_members.is_empty() {
            p.insert(
                "add_members".into(),
                names.value(&Value::Array(patch.add_members.clone())),
            );
        }
        if !patch.remove_members.is_empty() {
            p.insert(
                "remove_members".into(),
                names.value(&Value::Array(patch.remove_members.clone())),
            );
        }
        return ("patch", Value::Object(p));
    }
    let mut r = Map::new();
    r.insert("method".into(), json!(x.rec.method));
    r.insert("path".into(), json!(names.path(&x.path)));
    if !x.query.is_empty() {
        let q: Map<String, Value> = x
            .query
            .iter()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("filter") {
                    names.filter(v)
                } else {
                    names.template_str(v).unwrap_or_else(|| v.clone())
                };
                (k.clone(), Value::String(v))
            })
            .collect();
        r.insert("query".into(), Value::Object(q));
    }
    if let Some(b) = &x.request_json {
        r.insert("body".into(), names.value(b));
    }
    // Credentials are never replayed: a request the app refused for its credentials is sent
    // with none (it had no Authorization header) or a wrong token; every other one with the
    // run's token. Sanitised HARs drop the header, so its absence alone means nothing.
    if matches!(x.rec.status, 401 | 403) {
        let had_auth = x.rec.request_header("authorization").is_some();
        r.insert(
            "auth".into(),
            json!(if had_auth { "wrong" } else { "none" }),
        );
    }
    ("request", Value::Object(r))
}
