//! HTTP: one handler that authenticates, dispatches on method and path under the base path, and
//! renders every reply (content type, SCIM Error bodies) in one place. The quirks act through the
//! [`request`], [`storage`] and [`response`] layers, called at fixed points.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Shared;
use super::project::Projection;
use super::quirks::{QuirkSet, request, response, storage};
use super::store::{Kind, ScimError, id_string};
use crate::http::percent_decode_path;
use crate::scim::filter::{MatchContext, matches, parse_filter};
use crate::scim::json::get_ci;
use crate::scim::urn;

/// Largest page (`filter.maxResults` in the ServiceProviderConfig) and the default `count`.
pub(crate) const MAX_RESULTS: usize = 200;
/// Largest accepted request body.
const MAX_BODY: usize = 4 << 20;

/// A handler's answer before rendering.
pub(crate) enum Reply {
    /// A JSON body with optional `Location` and `ETag` headers.
    Json {
        status: StatusCode,
        body: Value,
        location: Option<String>,
        etag: Option<String>,
    },
    /// No body (204).
    Empty(StatusCode),
    /// A SCIM Error.
    Error(ScimError),
}

impl From<ScimError> for Reply {
    fn from(e: ScimError) -> Self {
        Reply::Error(e)
    }
}

fn ok(body: Value) -> Reply {
    Reply::Json {
        status: StatusCode::OK,
        body,
        location: None,
        etag: None,
    }
}

/// The single axum handler.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    if !shared.latency.is_zero() {
        tokio::time::sleep(shared.latency).await;
    }
    if let Some(delay) = request::delay(&shared.cfg.quirks) {
        tokio::time::sleep(delay).await;
    }
    if let Some(o) = &shared.oauth
        && req.uri().path() == super::TOKEN_PATH
    {
        let (parts, body) = req.into_parts();
        return o
            .handle(&shared.cfg.quirks, &parts.method, &parts.headers, body)
            .await;
    }
    let create = req.method() == Method::POST;
    let reply = dispatch(&shared, req).await;
    if let (true, Some(delay), Reply::Json { status, .. }) =
        (create, response::create_delay(&shared.cfg.quirks), &reply)
        && status.is_success()
    {
        tokio::time::sleep(delay).await;
    }
    render(reply, &shared.cfg.quirks)
}

async fn dispatch(sh: &Shared, req: Request) -> Reply {
    let q = &sh.cfg.quirks;
    let (parts, body) = req.into_parts();
    let issued = |h: &HeaderMap| {
        sh.oauth
            .as_ref()
            .is_some_and(|o| bearer(h).is_some_and(|t| o.accepts(t)))
    };
    if !request::accepts_any_token(q)
        && !authorized(&parts.headers, &sh.token)
        && !issued(&parts.headers)
    {
        return ScimError::plain(401, "missing or invalid bearer token").into();
    }
    let Some(rest) = strip_base(parts.uri.path(), &sh.base_path) else {
        return ScimError::plain(404, format!("no such endpoint {}", parts.uri.path())).into();
    };
    let decoded: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode_path)
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let params: Vec<(String, String)> = match Query::try_from_uri(&parts.uri) {
        Ok(Query(p)) => p,
        Err(e) => {
            return ScimError::typed(400, "invalidValue", format!("bad query string: {e}")).into();
        }
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let base_url = format!(
        "http://{}{}",
        host.map_or_else(|| sh.addr.to_string(), str::to_string),
        sh.base_path
    );
    let req = Ctx {
        sh,
        params: &params,
        base_url: &base_url,
    };
    let kind = match segments.first().copied() {
        Some("Users") => Some(Kind::User),
        Some("Groups") => Some(Kind::Group),
        _ => None,
    };
    if let Some(e) = request::unsupported_endpoint(q, segments.first().copied()) {
        return e.into();
    }
    let method = parts.method.clone();
    let body = if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        match read_json(&parts.headers, body).await {
            Ok(v) => Some(v),
            Err(e) => return e.into(),
        }
    } else {
        None
    };
    match (kind, &segments[..], method, body) {
        (Some(k), [_], Method::GET, _) => req.list(k),
        (Some(k), [_], Method::POST, Some(b)) => req.create(k, b),
        (Some(k), [_, id], Method::GET, _) => req.get(k, id),
        (Some(k), [_, id], Method::PUT, Some(b)) => req.replace(k, id, b),
        (Some(k), [_, id], Method::PATCH, Some(b)) => req.patch(k, id, b),
        (Some(k), [_, id], Method::DELETE, _) => req.delete(k, id),
        (Some(_), [_] | [_, _], m, _) => method_not_allowed(&m),
        (None, ["Schemas"], Method::GET, _) => req.schemas(None),
        (None, ["Schemas", id], Method::GET, _) => req.schemas(Some(id)),
        (None, ["ResourceTypes"], Method::GET, _) => req.resource_types(None),
        (None, ["ResourceTypes", id], Method::GET, _) => req.resource_types(Some(id)),
        (None, ["ServiceProviderConfig"], Method::GET, _) => req.service_provider_config(),
        (
            None,
            ["Schemas" | "ResourceTypes"]
            | ["Schemas" | "ResourceTypes", _]
            | ["ServiceProviderConfig"],
            m,
            _,
        ) => method_not_allowed(&m),
        _ => ScimError::plain(404, format!("no such endpoint {}", parts.uri.path())).into(),
    }
}

fn method_not_allowed(m: &Method) -> Reply {
    ScimError::plain(405, format!("method {m} is not supported here")).into()
}

/// `Authorization: Bearer <token>`, scheme case-insensitive, token exact.
fn authorized(headers: &HeaderMap, token: &str) -> bool {
    bearer(headers) == Some(token)
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive), if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let mut parts = value.trim().splitn(2, ' ');
    let scheme = parts.next().unwrap_or_default();
    let given = parts.next().unwrap_or_default().trim();
    scheme.eq_ignore_ascii_case("bearer").then_some(given)
}

/// The part of `path` after the base path, if it is under it.
fn strip_base<'a>(path: &'a str, base: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(base)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// Reads a JSON body sent as `application/scim+json` or `application/json` (or without type).
async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, ScimError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let media = crate::http::media_type(ct.to_str().unwrap_or_default());
        if media != "application/scim+json" && media != "application/json" {
            return Err(ScimError::typed(
                415,
                "invalidSyntax",
                format!("unsupported Content-Type `{media}`"),
            ));
        }
    }
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
        ScimError::typed(
            400,
            "invalidSyntax",
            format!("could not read the body: {e}"),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::typed(
            400,
            "invalidSyntax",
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// One request's context.
struct Ctx<'a> {
    sh: &'a Shared,
    params: &'a [(String, String)],
    base_url: &'a str,
}

impl Ctx<'_> {
    fn quirks(&self) -> &QuirkSet {
        &self.sh.cfg.quirks
    }

    /// A query parameter by case-insensitive name.
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn number_param(&self, name: &str) -> Result<Option<i64>, ScimError> {
        self.param(name)
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().parse::<i64>())
            .transpose()
            .map_err(|_| {
                ScimError::typed(400, "invalidValue", format!("`{name}` must be an integer"))
            })
    }

    fn projection(&self, kind: Kind) -> Result<Option<Projection>, ScimError> {
        if request::ignores_projection(self.quirks()) {
            return Ok(None);
        }
        Projection::parse(
            self.param("attributes"),
            self.param("excludedAttributes"),
            &self.sh.cfg.schemas,
            kind.core_urn(),
        )
        .map_err(|e| ScimError::typed(400, "invalidValue", e))
    }

    /// A stored resource as answered: no password, `members: []`, projection, `meta` quirks.
    fn present(&self, kind: Kind, stored: &Value, projection: Option<&Projection>) -> Value {
        let q = self.quirks();
        let mut out = stored.clone();
        if let Some(obj) = out.as_object_mut() {
            if !response::returns_password(q) {
                obj.retain(|k, _| !k.eq_ignore_ascii_case("password"));
            }
            if kind == Kind::Group
                && !response::omits_empty_members(q)
                && get_ci(obj, "members").is_none()
            {
                let meta = obj.remove("meta");
                obj.insert("members".into(), json!([]));
                obj.extend(meta.map(|m| ("meta".to_string(), m)));
            }
        }
        if let Some(p) = projection {
            out = p.apply(&out, &self.sh.cfg.schemas, kind.core_urn());
        }
        response::resource(q, kind, &mut out, self.base_url);
        out
    }

    fn resource_reply(
        &self,
        kind: Kind,
        status: StatusCode,
        stored: &Value,
        projection: Option<&Projection>,
    ) -> Reply {
        let meta = stored.get("meta");
        let etag = meta
            .and_then(|m| m.get("version"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let location = response::carries_location(self.quirks(), status)
            .then(|| {
                meta.and_then(|m| m.get("location"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .flatten();
        Reply::Json {
            status,
            body: self.present(kind, stored, projection),
            location,
            etag,
        }
    }

    fn list(&self, kind: Kind) -> Reply {
        match self.try_list(kind) {
            Ok(r) => r,
            Err(e) => e.into(),
        }
    }

    fn try_list(&self, kind: Kind) -> Result<Reply, ScimError> {
        let q = self.quirks();
        let projection = self.projection(kind)?;
        let filter_text = self
            .param("filter")
            .filter(|f| !f.trim().is_empty())
            .map(|f| request::filter_text(q, f));
        let filter = match filter_text.as_deref() {
            None => None,
            Some(f) => {
                request::screen_filter_text(q, f)?;
                Some(parse_filter(f).map_err(|e| {
                    ScimError::typed(
                        400,
                        "invalidFilter",
                        format!("{} (at offset {})", e.message, e.offset),
                    )
                })?)
            }
        };
        if let Some(f) = &filter {
            request::screen_filter(q, f)?;
        }
        let start = self.number_param("startIndex")?.unwrap_or(1).max(1) as usize;
        let count = self
            .number_param("count")?
            .map_or(MAX_RESULTS, |c| c.clamp(0, MAX_RESULTS as i64) as usize);
        let (start, count) = request::page(q, start, count);
        let cfg = &self.sh.cfg;
        let ctx = MatchContext {
            schemas: &cfg.schemas,
            core_urn: kind.core_urn(),
            force_case_exact: request::case_exact_filters(q),
        };
        let store = self.sh.store.read().unwrap_or_else(|e| e.into_inner());
        let mut matched = storage::candidates(q, &store, kind, filter.as_ref());
        if let Some(f) = &filter {
            matched.retain(|r| matches(f, r, &ctx));
        }
        if filter.is_some()
            && matched.is_empty()
            && let Some(e) = response::empty_filter_result(q)
        {
            return Err(e);
        }
        let page: Vec<Value> = matched
            .iter()
            .skip(start - 1)
            .take(count)
            .map(|r| self.present(kind, r, projection.as_ref()))
            .collect();
        let total = response::total_results(q, matched.len(), page.len());
        let mut body = list_response(total, start, page);
        response::list(q, &mut body, total);
        Ok(ok(body))
    }

    fn create(&self, kind: Kind, body: Value) -> Reply {
        let projection = match self.projection(kind) {
            Ok(p) => p,
            Err(e) => return e.into(),
        };
        if let Err(e) = request::screen_post(self.quirks(), kind, &body) {
            return e.into();
        }
        let created = self
            .sh
            .store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .create(&self.sh.cfg, kind, body, self.base_url);
        let status = response::create_status(self.quirks());
        match created {
            Ok(resource) => self.resource_reply(kind, status, &resource, projection.as_ref()),
            Err(e) => e.into(),
        }
    }

    fn get(&self, kind: Kind, id: &str) -> Reply {
        let projection = match self.projection(kind) {
            Ok(p) => p,
            Err(e) => return e.into(),
        };
        let store = self.sh.store.read().unwrap_or_else(|e| e.into_inner());
        match store.get(kind, id) {
            Some(r) => self.resource_reply(kind, StatusCode::OK, r, projection.as_ref()),
            None => match response::unknown_id(self.quirks()) {
                Some(body) => ok(body),
                None => ScimError::not_found(kind, id).into(),
            },
        }
    }

    fn replace(&self, kind: Kind, id: &str, body: Value) -> Reply {
        let projection = match self.projection(kind) {
            Ok(p) => p,
            Err(e) => return e.into(),
        };
        let replaced = self
            .sh
            .store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .replace(&self.sh.cfg, kind, id, body);
        match replaced {
            Ok(r) => self.resource_reply(kind, StatusCode::OK, &r, projection.as_ref()),
            Err(e) => e.into(),
        }
    }

    fn patch(&self, kind: Kind, id: &str, body: Value) -> Reply {
        let projection = match self.projection(kind) {
            Ok(p) => p,
            Err(e) => return e.into(),
        };
        let patched = self
            .sh
            .store
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .patch(&self.sh.cfg, kind, id, body);
        match (patched, kind) {
            (Ok(p), Kind::User) => {
                self.resource_reply(kind, StatusCode::OK, &p, projection.as_ref())
            }
            (Ok(_), Kind::Group) => Reply::Empty(StatusCode::NO_CONTENT),
            (Err(e), _) => e.into(),
        }
    }

    fn delete(&self, kind: Kind, id: &str) -> Reply {
        let q = self.quirks();
        let mut store = self.sh.store.write().unwrap_or_else(|e| e.into_inner());
        let deleted = storage::delete(q, &mut store, kind, id);
        drop(store);
        if let Some(reply) = response::delete_reply(q, deleted) {
            return reply;
        }
        match deleted {
            true => Reply::Empty(StatusCode::NO_CONTENT),
            false => ScimError::not_found(kind, id).into(),
        }
    }

    /// A discovery document with its absolute `meta.location`.
    fn located(&self, doc: &Value, path: &str) -> Value {
        let mut doc = doc.clone();
        if let Some(obj) = doc.as_object_mut() {
            let meta = obj.entry("meta").or_insert_with(|| json!({}));
            if let Some(meta) = meta.as_object_mut() {
                meta.insert(
                    "location".into(),
                    Value::String(format!("{}/{path}", self.base_url)),
                );
            }
        }
        doc
    }

    fn schemas(&self, id: Option<&str>) -> Reply {
        let docs = &self.sh.discovery.schemas;
        let located = |d: &Value| {
            self.located(
                d,
                &format!("Schemas/{}", d["id"].as_str().unwrap_or_default()),
            )
        };
        match id {
            Some(id) => match docs
                .iter()
                .find(|d| d["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
            {
                Some(d) => ok(located(d)),
                None => ScimError::plain(404, format!("schema {id} not found")).into(),
            },
            None => {
                let all: Vec<Value> = docs.iter().map(located).collect();
                if response::schemas_as_array(self.quirks()) {
                    ok(Value::Array(all))
                } else {
                    ok(list_response(all.len(), 1, all))
                }
            }
        }
    }

    fn resource_types(&self, id: Option<&str>) -> Reply {
        let docs = &self.sh.discovery.resource_types;
        let located = |d: &Value| {
            let mut d = self.located(
                d,
                &format!("ResourceTypes/{}", d["id"].as_str().unwrap_or_default()),
            );
            response::resource_type(self.quirks(), &mut d, self.base_url);
            d
        };
        match id {
            Some(id) => match docs
                .iter()
                .find(|d| d["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
            {
                Some(d) => ok(located(d)),
                None => ScimError::plain(404, format!("resource type {id} not found")).into(),
            },
            None => {
                let all: Vec<Value> = docs.iter().map(located).collect();
                ok(list_response(all.len(), 1, all))
            }
        }
    }

    fn service_provider_config(&self) -> Reply {
        ok(self.located(
            &self.sh.discovery.service_provider_config,
            "ServiceProviderConfig",
        ))
    }
}

/// A ListResponse (RFC 7644 section 3.4.2).
fn list_response(total: usize, start: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [urn::LIST_RESPONSE],
        "totalResults": total,
        "Resources": resources,
        "startIndex": start,
        "itemsPerPage": resources.len(),
    })
}

/// Renders a reply: content type, quirks on bodies, SCIM Error (or HTML error page) bodies.
pub(crate) fn render(reply: Reply, q: &QuirkSet) -> Response {
    let content_type = response::content_type(q);
    let json_response = |status: StatusCode, mut body: Value| {
        response::body(q, &mut body);
        let mut resp = (status, body.to_string()).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        resp
    };
    match reply {
        Reply::Json {
            status,
            body,
            location,
            etag,
        } => {
            let mut resp = json_response(status, body);
            let headers = resp.headers_mut();
            for (name, value) in [(header::LOCATION, location), (header::ETAG, etag)] {
                if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    headers.insert(name, v);
                }
            }
            resp
        }
        Reply::Empty(status) => status.into_response(),
        Reply::Error(e) => {
            let status =
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = if let Some(page) = response::error_page(q, &e, status) {
                page
            } else {
                let mut body = Map::new();
                body.insert("schemas".into(), json!([urn::ERROR]));
                body.insert("status".into(), response::error_status(q, e.status));
                if let Some(t) = e.scim_type {
                    body.insert("scimType".into(), json!(t));
                }
                body.insert("detail".into(), json!(e.detail));
                json_response(status, Value::Object(body))
            };
            if e.status == 401 {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            resp
        }
    }
}

/// The id a stored resource answers with, as a string (for `seed_*`).
pub(crate) fn resource_id(resource: &Value) -> String {
    resource.get("id").map(id_string).unwrap_or_default()
}
