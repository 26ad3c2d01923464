//! The response layer: quirks that change what is sent back (statuses, headers, bodies, the
//! discovery documents, error pages). The routes call it after the store has answered.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Quirk, QuirkSet};
use crate::scim::urn;
use crate::server::routes::Reply;
use crate::server::store::{Kind, ScimError};

/// `slow-create=MS`: how long a successful create's response waits after storing.
pub(crate) fn create_delay(q: &QuirkSet) -> Option<Duration> {
    q.slow_create
}

/// `returns-password`: whether the stored password is answered (RFC 7643 section 4.1.1: it is
/// never returned).
pub(crate) fn returns_password(q: &QuirkSet) -> bool {
    q.has(Quirk::ReturnsPassword)
}

/// `omits-empty-members`: whether a group without members is answered without `members: []`.
pub(crate) fn omits_empty_members(q: &QuirkSet) -> bool {
    q.has(Quirk::OmitsEmptyMembers)
}

/// `missing-meta`, `minimal-group-meta`, `wrong-meta-location`: a resource as answered, after
/// the projection.
pub(crate) fn resource(q: &QuirkSet, kind: Kind, out: &mut Value, base_url: &str) {
    if q.has(Quirk::MissingMeta)
        && let Some(obj) = out.as_object_mut()
    {
        obj.remove("meta");
    }
    if kind == Kind::Group
        && q.has(Quirk::MinimalGroupMeta)
        && let Some(meta) = out.get_mut("meta").and_then(Value::as_object_mut)
    {
        meta.retain(|k, _| k == "resourceType" || k == "location");
    }
    if q.has(Quirk::WrongMetaLocation) {
        internal_location(out, base_url);
    }
}

/// `create-returns-200`: the status of a successful create.
pub(crate) fn create_status(q: &QuirkSet) -> StatusCode {
    if q.has(Quirk::CreateReturns200) {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

/// Whether a resource reply with this status carries `Location`: a create's 201, and under
/// `create-returns-200` every 200 (the server does not tell its creates from its reads).
pub(crate) fn carries_location(q: &QuirkSet, status: StatusCode) -> bool {
    status == StatusCode::CREATED || status == StatusCode::OK && q.has(Quirk::CreateReturns200)
}

/// `unknown-id-returns-200`: the body answered with 200 instead of a 404 for an unknown id.
pub(crate) fn unknown_id(q: &QuirkSet) -> Option<Value> {
    q.has(Quirk::UnknownIdReturns200).then(|| json!({}))
}

/// `delete-returns-200` and `delete-missing-returns-204`: the reply instead of a DELETE's 204
/// (`deleted`) or 404.
pub(crate) fn delete_reply(q: &QuirkSet, deleted: bool) -> Option<Reply> {
    match deleted {
        true if q.has(Quirk::DeleteReturns200) => Some(Reply::Json {
            status: StatusCode::OK,
            body: json!({}),
            location: None,
            etag: None,
        }),
        false if q.has(Quirk::DeleteMissingReturns204) => {
            Some(Reply::Empty(StatusCode::NO_CONTENT))
        }
        _ => None,
    }
}

/// `empty-filter-returns-404`: the error answered instead of an empty filter result.
pub(crate) fn empty_filter_result(q: &QuirkSet) -> Option<ScimError> {
    q.has(Quirk::EmptyFilterReturns404)
        .then(|| ScimError::plain(404, "no resource matches the filter"))
}

/// `wrong-total-results`: a list page's `totalResults`, from the number of matches and the page
/// size.
pub(crate) fn total_results(q: &QuirkSet, matched: usize, page: usize) -> usize {
    if q.has(Quirk::WrongTotalResults) {
        page
    } else {
        matched
    }
}

/// `omits-empty-resources`: a ListResponse whose `totalResults` is 0, as answered.
pub(crate) fn list(q: &QuirkSet, body: &mut Value, total: usize) {
    if total == 0
        && q.has(Quirk::OmitsEmptyResources)
        && let Some(obj) = body.as_object_mut()
    {
        obj.remove("Resources");
    }
}

/// `schemas-not-list-response`: whether `/Schemas` answers a bare JSON array.
pub(crate) fn schemas_as_array(q: &QuirkSet) -> bool {
    q.has(Quirk::SchemasNotListResponse)
}

/// `absolute-resource-type-endpoints`: a ResourceType document as answered.
pub(crate) fn resource_type(q: &QuirkSet, doc: &mut Value, base_url: &str) {
    if q.has(Quirk::AbsoluteResourceTypeEndpoints)
        && let Some(e) = doc["endpoint"].as_str()
    {
        doc["endpoint"] = Value::String(format!("{base_url}{e}"));
    }
}

/// `discovery-nulls`, `discovery-pascal-case`, `unpublished-nickname`: a `/Schemas` document as
/// published.
pub(crate) fn schema_document(q: &QuirkSet, doc: &mut Value) {
    if let Some(attrs) = doc.get_mut("attributes").and_then(Value::as_array_mut) {
        for attr in attrs {
            distort_attribute(attr, q);
        }
    }
    if q.has(Quirk::UnpublishedNickname)
        && doc["id"] == urn::USER
        && let Some(attrs) = doc.get_mut("attributes").and_then(Value::as_array_mut)
    {
        attrs.retain(|a| a["name"] != "nickName");
    }
}

/// `json-content-type`: the `Content-Type` of JSON responses.
pub(crate) fn content_type(q: &QuirkSet) -> &'static str {
    if q.has(Quirk::JsonContentType) {
        "application/json"
    } else {
        "application/scim+json"
    }
}

/// `missing-schemas`: a JSON body as sent.
pub(crate) fn body(q: &QuirkSet, body: &mut Value) {
    if q.has(Quirk::MissingSchemas) {
        strip_schemas(body);
    }
}

/// `non-scim-errors`: the HTML page sent instead of a SCIM Error.
pub(crate) fn error_page(q: &QuirkSet, e: &ScimError, status: StatusCode) -> Option<Response> {
    if !q.has(Quirk::NonScimErrors) {
        return None;
    }
    let page = format!(
        "<html><body><h1>Error {}</h1><p>{}</p></body></html>",
        e.status,
        html_escape(&e.detail)
    );
    let mut resp = (status, page).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Some(resp)
}

/// `error-status-number`: the `status` member of a SCIM Error (RFC 7644: a string).
pub(crate) fn error_status(q: &QuirkSet, status: u16) -> Value {
    if q.has(Quirk::ErrorStatusNumber) {
        json!(status)
    } else {
        json!(status.to_string())
    }
}

/// `wrong-meta-location`: `meta.location` names the server's internal address, as a server
/// behind a reverse proxy that builds it from its own bind address does.
fn internal_location(resource: &mut Value, base_url: &str) {
    let Some(Value::String(location)) = resource.pointer_mut("/meta/location") else {
        return;
    };
    let origin_end = base_url
        .find("://")
        .and_then(|i| base_url[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base_url.len());
    if let Some(rest) = location.strip_prefix(&base_url[..origin_end]) {
        *location = format!("http://scim-backend.internal:8080{rest}");
    }
}

/// The `/Schemas` quirks: `null` members and PascalCase characteristic values.
fn distort_attribute(attr: &mut Value, quirks: &QuirkSet) {
    let Some(obj) = attr.as_object_mut() else {
        return;
    };
    if quirks.has(Quirk::DiscoveryNulls) {
        for key in ["canonicalValues", "referenceTypes", "subAttributes"] {
            obj.entry(key).or_insert(Value::Null);
        }
    }
    if quirks.has(Quirk::DiscoveryPascalCase) {
        for key in ["mutability", "returned", "uniqueness"] {
            if let Some(Value::String(s)) = obj.get_mut(key) {
                let mut chars = s.chars();
                if let Some(first) = chars.next() {
                    *s = first.to_uppercase().chain(chars).collect();
                }
            }
        }
    }
    if let Some(Value::Array(subs)) = obj.get_mut("subAttributes") {
        subs.iter_mut().for_each(|s| distort_attribute(s, quirks));
    }
}

/// `missing-schemas`: removes `schemas` from a body and from a ListResponse's resources.
fn strip_schemas(body: &mut Value) {
    match body {
        Value::Object(obj) => {
            obj.remove("schemas");
            if let Some(Value::Array(items)) = obj.get_mut("Resources") {
                items.iter_mut().for_each(strip_schemas);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_schemas),
        _ => {}
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
