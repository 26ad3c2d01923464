//! `scimcheck discover`: fetches `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`,
//! validates them, and shows what the endpoint says it supports (features, resource types,
//! every attribute with its characteristics) and the problems Entra would trip over: nulls,
//! wrongly cased characteristic values, a missing enterprise extension, resource types naming
//! schemas that `/Schemas` lacks.

use std::fmt::Write;

use colored::Colorize;
use serde::Serialize;
use serde_json::Value;

use crate::exit;
use crate::http::{Client, ClientOptions, OutRequest, TenantUrl};
use crate::scim::json_path::{self, Token};
use crate::scim::schema::SchemaSet;
use crate::scim::urn;
use crate::scim::validate::{Kind, Level, Violation, validate};

/// One discovery endpoint fetched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// `/Schemas` etc.
    pub path: String,
    pub url: String,
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub elapsed_ms: u64,
    /// The transport error, when nothing came back.
    pub error: Option<String>,
}

/// What `/ServiceProviderConfig` says (absent members stay `None`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Features {
    pub patch: Option<bool>,
    pub bulk: Option<bool>,
    pub bulk_max_operations: Option<i64>,
    pub bulk_max_payload_size: Option<i64>,
    pub filter: Option<bool>,
    pub filter_max_results: Option<i64>,
    pub sort: Option<bool>,
    pub etag: Option<bool>,
    pub change_password: Option<bool>,
    pub authentication_schemes: Vec<AuthScheme>,
}

/// One `authenticationSchemes` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthScheme {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub primary: Option<bool>,
}

/// One resource type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceType {
    pub name: Option<String>,
    pub endpoint: Option<String>,
    pub schema: Option<String>,
    pub extensions: Vec<Extension>,
}

/// A schema extension of a resource type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub schema: Option<String>,
    pub required: Option<bool>,
}

/// One published schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub attributes: Vec<AttributeInfo>,
}

/// An attribute definition exactly as published: values are the raw JSON (absent members are
/// left out, `null`s kept), so wrong casing and nulls stay visible.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeInfo {
    pub name: Option<Value>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_valued: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutability: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uniqueness: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_exact: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<AttributeInfo>,
}

/// How serious a problem is: `error` makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found, with a stable code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// `discovery.nulls`, `discovery.casing`, `discovery.schema-missing`, ...
    pub code: String,
    pub severity: Severity,
    /// The endpoint it was found in.
    pub endpoint: String,
    pub message: String,
    pub fix: String,
    /// How many places.
    pub count: usize,
    /// The first few places (readable paths, with the message where it varies).
    pub examples: Vec<String>,
}

/// Everything `discover` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscoverReport {
    pub tenant_url: String,
    pub endpoints: Vec<Endpoint>,
    pub service_provider_config: Option<Features>,
    pub resource_types: Option<Vec<ResourceType>>,
    pub schemas: Option<Vec<SchemaInfo>>,
    pub problems: Vec<Problem>,
    /// 0 well-formed (warnings allowed), 1 problems, 3 unreachable.
    pub exit_code: i32,
}

impl DiscoverReport {
    /// Whether a problem with this code is present.
    pub fn has(&self, code: &str) -> bool {
        self.problems.iter().any(|p| p.code == code)
    }
}

const EXAMPLES: usize = 5;

use crate::scim::json::member;

fn string(v: &Value, name: &str) -> Option<String> {
    member(v, name).and_then(Value::as_str).map(str::to_string)
}

fn boolean(v: &Value, name: &str) -> Option<bool> {
    member(v, name).and_then(Value::as_bool)
}

fn int(v: &Value, name: &str) -> Option<i64> {
    member(v, name).and_then(Value::as_i64)
}

fn features(spc: &Value) -> Features {
    let feature = |name: &str| member(spc, name).cloned().unwrap_or(Value::Null);
    let (patch, bulk, filter) = (feature("patch"), feature("bulk"), feature("filter"));
    Features {
        patch: boolean(&patch, "supported"),
        bulk: boolean(&bulk, "supported"),
        bulk_max_operations: int(&bulk, "maxOperations"),
        bulk_max_payload_size: int(&bulk, "maxPayloadSize"),
        filter: boolean(&filter, "supported"),
        filter_max_results: int(&filter, "maxResults"),
        sort: boolean(&feature("sort"), "supported"),
        etag: boolean(&feature("etag"), "supported"),
        change_password: boolean(&feature("changePassword"), "supported"),
        authentication_schemes: member(spc, "authenticationSchemes")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|s| AuthScheme {
                        kind: string(s, "type"),
                        name: string(s, "name"),
                        primary: boolean(s, "primary"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn resource_type(rt: &Value) -> ResourceType {
    ResourceType {
        name: string(rt, "name").or_else(|| string(rt, "id")),
        endpoint: string(rt, "endpoint"),
        schema: string(rt, "schema"),
        extensions: member(rt, "schemaExtensions")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|e| Extension {
                        schema: string(e, "schema"),
                        required: boolean(e, "required"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn attribute(a: &Value) -> AttributeInfo {
    let raw = |name: &str| member(a, name).cloned();
    AttributeInfo {
        name: raw("name"),
        kind: raw("type"),
        multi_valued: raw("multiValued"),
        required: raw("required"),
        mutability: raw("mutability"),
        returned: raw("returned"),
        uniqueness: raw("uniqueness"),
        case_exact: raw("caseExact"),
        sub_attributes: member(a, "subAttributes")
            .and_then(Value::as_array)
            .map(|subs| subs.iter().map(attribute).collect())
            .unwrap_or_default(),
    }
}

fn schema_info(s: &Value) -> SchemaInfo {
    SchemaInfo {
        id: string(s, "id"),
        name: string(s, "name"),
        attributes: member(s, "attributes")
            .and_then(Value::as_array)
            .map(|attrs| attrs.iter().map(attribute).collect())
            .unwrap_or_default(),
    }
}

/// The items of a ListResponse (or of a bare array).
fn items(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.clone(),
        other => member(other, "Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    }
}

/// `$.Resources[0].attributes[3].subAttributes[1].mutability` in `/Schemas` becomes
/// `urn:...:User: name.givenName: mutability`; other paths are kept as they are.
fn readable(body: &Value, path: &str) -> String {
    let tokens = json_path::tokens(path);
    let mut node = body;
    let mut resource: Option<String> = None;
    let mut attr: Vec<String> = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match (&tokens[i], tokens.get(i + 1)) {
            (Token::Key(k), Some(Token::Index(n)))
                if rest.is_empty()
                    && (k.eq_ignore_ascii_case("Resources")
                        || k == "attributes"
                        || k == "subAttributes") =>
            {
                let Some(next) = member(node, k).and_then(|v| v.get(*n)) else {
                    return path.to_string();
                };
                node = next;
                if k.eq_ignore_ascii_case("Resources") {
                    resource = string(node, "id").or_else(|| string(node, "name"));
                } else {
                    attr.push(string(node, "name").unwrap_or_else(|| format!("#{n}")));
                }
                i += 2;
            }
            (Token::Index(n), _) if i == 0 && body.is_array() => {
                let Some(next) = body.get(*n) else {
                    return path.to_string();
                };
                node = next;
                resource = string(node, "id").or_else(|| string(node, "name"));
                i += 1;
            }
            (Token::Key(k), _) => {
                rest.push(k.clone());
                node = member(node, k).unwrap_or(&Value::Null);
                i += 1;
            }
            (Token::Index(n), _) => {
                rest.push(format!("[{n}]"));
                node = node.get(*n).unwrap_or(&Value::Null);
                i += 1;
            }
        }
    }
    if resource.is_none() && attr.is_empty() {
        return path.to_string();
    }
    let mut parts = Vec::new();
    parts.extend(resource);
    if !attr.is_empty() {
        parts.push(attr.join("."));
    }
    if !rest.is_empty() {
        parts.push(rest.join("."));
    }
    parts.join(": ")
}

/// `expected "readWrite" in exact camelCase (...), found "ReadWrite"` -> `"ReadWrite" should be
/// "readWrite"`.
fn casing_note(message: &str) -> String {
    let quoted: Vec<&str> = message.split('"').skip(1).step_by(2).collect();
    match quoted[..] {
        [expected, .., found] => format!("\"{found}\" should be \"{expected}\""),
        _ => message.to_string(),
    }
}

/// Collects the problems.
struct Problems(Vec<Problem>);

impl Problems {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        code: &str,
        severity: Severity,
        endpoint: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
        examples: Vec<String>,
        count: usize,
    ) {
        self.0.push(Problem {
            code: code.to_string(),
            severity,
            endpoint: endpoint.to_string(),
            message: message.into(),
            fix: fix.into(),
            count,
            examples,
        });
    }

    /// Groups validation violations into nulls, casing and other problems.
    fn violations(&mut self, endpoint: &str, body: &Value, found: &[Violation]) {
        let nulls: Vec<&Violation> = found
            .iter()
            .filter(|v| v.message.contains("found null"))
            .collect();
        let casing: Vec<&Violation> = found
            .iter()
            .filter(|v| v.message.contains("camelCase"))
            .collect();
        let other_fail: Vec<&Violation> = found
            .iter()
            .filter(|v| {
                v.level == Level::Fail
                    && !v.message.contains("found null")
                    && !v.message.contains("camelCase")
            })
            .collect();
        let other_warn: Vec<&Violation> = found
            .iter()
            .filter(|v| {
                v.level == Level::Warn
                    && !v.message.contains("found null")
                    && !v.message.contains("camelCase")
            })
            .collect();
        if !nulls.is_empty() {
            self.push(
                "discovery.nulls",
                Severity::Error,
                endpoint,
                format!("{endpoint} contains null values, which Entra's schema discovery cannot parse"),
                "Leave unassigned members out instead of sending `null` (RFC 7643 section 2.5), e.g. omit `canonicalValues`, `referenceTypes` and `subAttributes` when empty.",
                nulls.iter().take(EXAMPLES).map(|v| readable(body, &v.path)).collect(),
                nulls.len(),
            );
        }
        if !casing.is_empty() {
            self.push(
                "discovery.casing",
                Severity::Error,
                endpoint,
                format!("{endpoint} spells characteristic values in the wrong case; Entra parses them case-sensitively"),
                "Spell `mutability`, `returned`, `uniqueness` and `type` values exactly as RFC 7643 section 7 does: readOnly, readWrite, immutable, writeOnly; always, never, default, request; none, server, global; string, boolean, dateTime, complex, ...",
                casing
                    .iter()
                    .take(EXAMPLES)
                    .map(|v| format!("{}: {}", readable(body, &v.path), casing_note(&v.message)))
                    .collect(),
                casing.len(),
            );
        }
        for (list, severity) in [
            (other_fail, Severity::Error),
            (other_warn, Severity::Warning),
        ] {
            if list.is_empty() {
                continue;
            }
            self.push(
                "discovery.invalid",
                severity,
                endpoint,
                format!(
                    "{endpoint} deviates from RFC 7643 / RFC 7644 in {} place(s)",
                    list.len()
                ),
                "Publish the document exactly as RFC 7643 sections 5-7 define it.",
                list.iter()
                    .take(EXAMPLES)
                    .map(|v| format!("{}: {}", readable(body, &v.path), v.message))
                    .collect(),
                list.len(),
            );
        }
    }
}

/// What came back from one endpoint.
enum Fetched {
    Body(Value),
    Failed,
    Unreachable,
}

async fn fetch(
    client: &Client,
    path: &str,
    kind: Kind,
    endpoints: &mut Vec<Endpoint>,
    problems: &mut Problems,
) -> Fetched {
    let ex = client.send(&OutRequest::new("GET", path)).await;
    let mut ep = Endpoint {
        path: path.to_string(),
        url: ex.request.url.clone(),
        status: None,
        content_type: None,
        elapsed_ms: ex.elapsed.as_millis() as u64,
        error: None,
    };
    let r = match ex.response {
        Ok(r) => r,
        Err(e) => {
            ep.error = Some(e.to_string());
            endpoints.push(ep);
            let unreachable = e.is_unreachable();
            if !unreachable {
                problems.push(
                    "discovery.unavailable",
                    Severity::Error,
                    path,
                    format!("GET {path} got no usable response: {e}"),
                    "Run `scimcheck connect` for a diagnosis of the connection.",
                    vec![],
                    1,
                );
            }
            return if unreachable {
                Fetched::Unreachable
            } else {
                Fetched::Failed
            };
        }
    };
    ep.status = Some(r.status);
    ep.content_type = r.header("content-type").map(str::to_string);
    endpoints.push(ep);
    let reason = crate::connect::reason(r.status);
    match r.status {
        200 => {}
        401 | 403 => {
            problems.push(
                "auth.token-rejected",
                Severity::Error,
                path,
                format!(
                    "GET {path} answers {} {reason}: the token is rejected",
                    r.status
                ),
                "Run `scimcheck connect` to find out why the token is rejected.",
                vec![],
                1,
            );
            return Fetched::Failed;
        }
        s => {
            problems.push(
                "discovery.unavailable",
                Severity::Error,
                path,
                format!("GET {path} answers {s} {reason} instead of 200"),
                "Implement the discovery endpoints (RFC 7644 section 4): Entra reads /Schemas when a provisioning configuration is saved or opened, and gallery review expects all three.",
                vec![],
                1,
            );
            return Fetched::Failed;
        }
    }
    let media = r.header("content-type").map(crate::http::media_type);
    let body: Value = match serde_json::from_str(&r.body) {
        Ok(v) => v,
        Err(e) => {
            problems.push(
                "discovery.not-json",
                Severity::Error,
                path,
                format!("GET {path} does not answer JSON ({e})"),
                "Answer with the JSON document and `Content-Type: application/scim+json`.",
                vec![],
                1,
            );
            return Fetched::Failed;
        }
    };
    if media.as_deref() != Some("application/scim+json") {
        problems.push(
            "response.json-content-type",
            Severity::Warning,
            path,
            format!(
                "GET {path} says `Content-Type: {}` instead of `application/scim+json`",
                media.as_deref().unwrap_or("(none)")
            ),
            "Answer with `Content-Type: application/scim+json` (RFC 7644 section 8.1); Microsoft's SCIM Validator stops at the first application/json response.",
            vec![],
            1,
        );
    }
    let schemas = SchemaSet::builtin();
    let found = match (&body, kind) {
        (Value::Array(list), item_kind) => {
            problems.push(
                "discovery.not-list-response",
                Severity::Error,
                path,
                format!("GET {path} answers a bare JSON array instead of a ListResponse"),
                "Wrap the items in a ListResponse: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":N,\"Resources\":[...]}.",
                vec![],
                1,
            );
            list.iter()
                .enumerate()
                .flat_map(|(i, item)| {
                    validate(item_kind, item, schemas, &crate::limits::validation())
                        .into_iter()
                        .map(move |mut v| {
                            v.path = format!("$[{i}]{}", v.path.trim_start_matches('$'));
                            v
                        })
                })
                .collect()
        }
        (_, Kind::ServiceProviderConfig) => {
            validate(kind, &body, schemas, &crate::limits::validation())
        }
        _ => validate(
            Kind::ListResponse,
            &body,
            schemas,
            &crate::limits::validation(),
        ),
    };
    problems.violations(path, &body, &found);
    Fetched::Body(body)
}

/// Fetches and checks the three discovery documents of `target`.
/// Errors only for an unusable setup (a bad `--ca-cert`).
pub async fn discover(
    target: TenantUrl,
    token: impl Into<crate::credential::Credential>,
    options: ClientOptions,
) -> Result<DiscoverReport, String> {
    let mut options = options;
    options.read_only = true;
    let tenant_url = target.to_string();
    let client = Client::new(target, token, options)?;
    let mut endpoints = Vec::new();
    let mut problems = Problems(Vec::new());
    let mut report = DiscoverReport {
        tenant_url,
        endpoints: vec![],
        service_provider_config: None,
        resource_types: None,
        schemas: None,
        problems: vec![],
        exit_code: exit::OK,
    };

    let spc = fetch(
        &client,
        "/ServiceProviderConfig",
        Kind::ServiceProviderConfig,
        &mut endpoints,
        &mut problems,
    )
    .await;
    if matches!(spc, Fetched::Unreachable) {
        report.endpoints = endpoints;
        report.problems = problems.0;
        report.exit_code = exit::UNREACHABLE;
        return Ok(report);
    }
    if let Fetched::Body(b) = &spc {
        report.service_provider_config = Some(features(b));
    }
    let rts = fetch(
        &client,
        "/ResourceTypes",
        Kind::ResourceType,
        &mut endpoints,
        &mut problems,
    )
    .await;
    if let Fetched::Body(b) = &rts {
        report.resource_types = Some(items(b).iter().map(resource_type).collect());
    }
    let schemas = fetch(
        &client,
        "/Schemas",
        Kind::Schema,
        &mut endpoints,
        &mut problems,
    )
    .await;
    if let Fetched::Body(b) = &schemas {
        report.schemas = Some(items(b).iter().map(schema_info).collect());
    }

    // Entra's default user mapping writes the enterprise extension.
    if let Some(list) = &report.schemas {
        let has = list.iter().any(|s| {
            s.id.as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(urn::ENTERPRISE_USER))
        });
        if !has {
            problems.push(
                "discovery.enterprise-extension-missing",
                Severity::Warning,
                "/Schemas",
                "/Schemas does not publish the enterprise User extension",
                format!("Entra's default user mapping sends employeeNumber, department, costCenter, organization, division and manager in `{}`: publish that schema (and support it), or remove those mappings in Entra.", urn::ENTERPRISE_USER),
                vec![],
                1,
            );
        }
    }
    if let Some(list) = &report.resource_types {
        let user = list.iter().find(|rt| {
            rt.schema
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(urn::USER))
        });
        match user {
            None => problems.push(
                "discovery.resource-type-missing",
                Severity::Warning,
                "/ResourceTypes",
                "/ResourceTypes lists no resource type for the core User schema",
                "Publish the User resource type (endpoint /Users) in /ResourceTypes.",
                vec![],
                1,
            ),
            Some(rt)
                if !rt.extensions.iter().any(|e| {
                    e.schema
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(urn::ENTERPRISE_USER))
                }) =>
            {
                problems.push(
                    "discovery.enterprise-extension-missing",
                    Severity::Warning,
                    "/ResourceTypes",
                    "The User resource type does not declare the enterprise User extension",
                    format!("Add `{{\"schema\":\"{}\",\"required\":false}}` to the User resource type's schemaExtensions if the endpoint supports it; Entra's default mapping uses it.", urn::ENTERPRISE_USER),
                    vec![],
                    1,
                );
            }
            Some(_) => {}
        }
        if let Some(published) = &report.schemas {
            let known = |urn: &str| {
                published.iter().any(|s| {
                    s.id.as_deref()
                        .is_some_and(|id| id.eq_ignore_ascii_case(urn))
                })
            };
            let mut missing: Vec<String> = Vec::new();
            for rt in list {
                let named = rt
                    .schema
                    .iter()
                    .chain(rt.extensions.iter().filter_map(|e| e.schema.as_ref()));
                for urn in named {
                    if !known(urn) {
                        missing.push(format!(
                            "{} names {urn}",
                            rt.name.as_deref().unwrap_or("a resource type")
                        ));
                    }
                }
            }
            if !missing.is_empty() {
                problems.push(
                    "discovery.schema-missing",
                    Severity::Error,
                    "/ResourceTypes",
                    format!("/ResourceTypes names {} schema(s) that /Schemas does not publish", missing.len()),
                    "Publish every schema a resource type names (core schema and extensions) in /Schemas, or stop naming it.",
                    missing.clone(),
                    missing.len(),
                );
            }
        }
    }

    report.endpoints = endpoints;
    report.problems = problems.0;
    report
        .problems
        .sort_by_key(|p| (p.severity, endpoint_rank(&p.endpoint)));
    report.exit_code = if report
        .problems
        .iter()
        .any(|p| p.severity == Severity::Error)
    {
        exit::CHECK_FAILED
    } else {
        exit::OK
    };
    Ok(report)
}

fn endpoint_rank(e: &str) -> u8 {
    match e {
        "/ServiceProviderConfig" => 0,
        "/ResourceTypes" => 1,
        _ => 2,
    }
}

/// The report as pretty JSON.
pub fn json(report: &DiscoverReport) -> String {
    crate::report::escape::json_text(serde_json::to_string_pretty(report).unwrap_or_default())
}

/// A copy of the report with every string the server controls (ids, names, URNs, attribute
/// properties, errors, the examples quoted in problems) escaped for a terminal: control
/// characters and escape sequences as visible escapes, each on one line.
fn for_terminal(report: &DiscoverReport) -> DiscoverReport {
    use crate::report::escape::one_line_in_place as esc;
    fn opt(s: &mut Option<String>) {
        s.iter_mut().for_each(esc);
    }
    fn strings(v: &mut Value) {
        match v {
            Value::String(s) => esc(s),
            Value::Array(a) => a.iter_mut().for_each(strings),
            Value::Object(o) => {
                let escaped: serde_json::Map<String, Value> = std::mem::take(o)
                    .into_iter()
                    .map(|(mut k, mut v)| {
                        esc(&mut k);
                        strings(&mut v);
                        (k, v)
                    })
                    .collect();
                *o = escaped;
            }
            _ => {}
        }
    }
    fn value(v: &mut Option<Value>) {
        v.iter_mut().for_each(strings);
    }
    fn attributes(list: &mut [AttributeInfo]) {
        for a in list {
            for v in [
                &mut a.name,
                &mut a.kind,
                &mut a.multi_valued,
                &mut a.required,
                &mut a.mutability,
                &mut a.returned,
                &mut a.uniqueness,
                &mut a.case_exact,
            ] {
                value(v);
            }
            attributes(&mut a.sub_attributes);
        }
    }
    let mut r = report.clone();
    esc(&mut r.tenant_url);
    for e in &mut r.endpoints {
        esc(&mut e.path);
        esc(&mut e.url);
        opt(&mut e.content_type);
        opt(&mut e.error);
    }
    if let Some(f) = &mut r.service_provider_config {
        for a in &mut f.authentication_schemes {
            opt(&mut a.kind);
            opt(&mut a.name);
        }
    }
    for t in r.resource_types.iter_mut().flatten() {
        opt(&mut t.name);
        opt(&mut t.endpoint);
        opt(&mut t.schema);
        for x in &mut t.extensions {
            opt(&mut x.schema);
        }
    }
    for s in r.schemas.iter_mut().flatten() {
        opt(&mut s.id);
        opt(&mut s.name);
        attributes(&mut s.attributes);
    }
    for p in &mut r.problems {
        esc(&mut p.code);
        esc(&mut p.endpoint);
        esc(&mut p.message);
        esc(&mut p.fix);
        p.examples.iter_mut().for_each(esc);
    }
    r
}

fn yes_no(b: Option<bool>) -> String {
    match b {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => "-".into(),
    }
}

/// An attribute characteristic as shown in the table: yes/no, the string as published, `-`
/// when absent, `null` when null.
fn cell(v: &Option<Value>) -> String {
    match v {
        None => "-".into(),
        Some(Value::Null) => "null".into(),
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn rows(attrs: &[AttributeInfo], depth: usize, out: &mut Vec<[String; 8]>) {
    for a in attrs {
        out.push([
            format!("{}{}", "  ".repeat(depth), cell(&a.name)),
            cell(&a.kind),
            cell(&a.multi_valued),
            cell(&a.required),
            cell(&a.mutability),
            cell(&a.returned),
            cell(&a.uniqueness),
            cell(&a.case_exact),
        ]);
        rows(&a.sub_attributes, depth + 1, out);
    }
}

fn table(out: &mut String, indent: &str, rows: &[[String; 8]]) {
    let mut width = [0usize; 8];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    }
    for r in rows {
        let mut line = String::from(indent);
        for (i, c) in r.iter().enumerate() {
            if i == 7 {
                line.push_str(c);
            } else {
                let _ = write!(line, "{c:<w$}  ", w = width[i]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// The report for people.
pub fn human(report: &DiscoverReport) -> String {
    let report = &for_terminal(report);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        "Discovery documents of".bold(),
        report.tenant_url
    );
    let _ = writeln!(out);
    for e in &report.endpoints {
        let status = match (e.status, &e.error) {
            (Some(s), _) => format!("{s} {}", crate::connect::reason(s)),
            (None, Some(err)) => format!("no response: {err}"),
            (None, None) => "-".into(),
        };
        let mut parts = vec![status];
        if let Some(ct) = &e.content_type {
            parts.push(ct.clone());
        }
        parts.push(crate::connect::render_duration(e.elapsed_ms));
        let _ = writeln!(out, "  GET {:<24}{}", e.path, parts.join(" · "));
    }
    if report.exit_code == exit::UNREACHABLE {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{} the endpoint could not be reached; `scimcheck connect` diagnoses why",
            "✗".red()
        );
        return out;
    }

    if let Some(f) = &report.service_provider_config {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", "Supports (from /ServiceProviderConfig)".bold());
        let limit = |name: &str, v: Option<i64>| v.map(|n| format!("{name} {n}"));
        let with = |b: Option<bool>, limits: Vec<Option<String>>| {
            let limits: Vec<String> = limits.into_iter().flatten().collect();
            if limits.is_empty() {
                yes_no(b)
            } else {
                format!("{} ({})", yes_no(b), limits.join(", "))
            }
        };
        let lines = [
            ("PATCH", yes_no(f.patch)),
            (
                "filter",
                with(f.filter, vec![limit("maxResults", f.filter_max_results)]),
            ),
            (
                "bulk",
                with(
                    f.bulk,
                    vec![
                        limit("maxOperations", f.bulk_max_operations),
                        limit("maxPayloadSize", f.bulk_max_payload_size),
                    ],
                ),
            ),
            ("sort", yes_no(f.sort)),
            ("ETag", yes_no(f.etag)),
            ("change password", yes_no(f.change_password)),
        ];
        for (name, value) in lines {
            let _ = writeln!(out, "  {name:<17}{value}");
        }
        if f.authentication_schemes.is_empty() {
            let _ = writeln!(out, "  {:<17}-", "authentication");
        }
        for (i, s) in f.authentication_schemes.iter().enumerate() {
            let label = if i == 0 { "authentication" } else { "" };
            let primary = if s.primary == Some(true) {
                " (primary)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {label:<17}{} \"{}\"{primary}",
                s.kind.as_deref().unwrap_or("-"),
                s.name.as_deref().unwrap_or("")
            );
        }
    }

    if let Some(rts) = &report.resource_types {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", "Resource types (from /ResourceTypes)".bold());
        let name_w = rts
            .iter()
            .map(|r| r.name.as_deref().unwrap_or("-").len())
            .max()
            .unwrap_or(0);
        let ep_w = rts
            .iter()
            .map(|r| r.endpoint.as_deref().unwrap_or("-").len())
            .max()
            .unwrap_or(0);
        for rt in rts {
            let _ = writeln!(
                out,
                "  {:<name_w$}  {:<ep_w$}  {}",
                rt.name.as_deref().unwrap_or("-"),
                rt.endpoint.as_deref().unwrap_or("-"),
                rt.schema.as_deref().unwrap_or("-"),
            );
            for e in &rt.extensions {
                let req = match e.required {
                    Some(true) => "required",
                    Some(false) => "optional",
                    None => "required: -",
                };
                let _ = writeln!(
                    out,
                    "  {:<name_w$}  {:<ep_w$}  + extension {} ({req})",
                    "",
                    "",
                    e.schema.as_deref().unwrap_or("-"),
                );
            }
        }
    }

    if let Some(schemas) = &report.schemas {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", "Schemas (from /Schemas)".bold());
        for s in schemas {
            let _ = writeln!(
                out,
                "  {}{}",
                s.id.as_deref().unwrap_or("(no id)").bold(),
                s.name
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            );
            let mut table_rows = vec![[
                "attribute".to_string(),
                "type".into(),
                "multi".into(),
                "required".into(),
                "mutability".into(),
                "returned".into(),
                "uniqueness".into(),
                "caseExact".into(),
            ]];
            rows(&s.attributes, 0, &mut table_rows);
            table(&mut out, "    ", &table_rows);
        }
    }

    let _ = writeln!(out);
    if report.problems.is_empty() {
        let _ = writeln!(
            out,
            "{} no problems: the discovery documents are well-formed",
            "✓".green()
        );
        return out;
    }
    let _ = writeln!(out, "{}", "Problems Entra would trip over".bold());
    for p in &report.problems {
        let mark = match p.severity {
            Severity::Error => "✗".red().bold().to_string(),
            Severity::Warning => "!".yellow().bold().to_string(),
        };
        let _ = writeln!(out, "  {mark} {}  {}", p.code.bold(), p.message);
        for e in &p.examples {
            let _ = writeln!(out, "      {e}");
        }
        if p.count > p.examples.len() && !p.examples.is_empty() {
            let _ = writeln!(out, "      ... {} place(s) in all", p.count);
        }
        let _ = writeln!(out, "      {} {}", "fix:".bold(), p.fix);
    }
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{errors} problem(s), {} warning(s)",
        report.problems.len() - errors
    );
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schema_paths_are_made_readable_with_schema_ids_and_attribute_names() {
        let body = json!({"Resources": [{"id": "urn:x:User", "attributes": [
            {"name": "userName"},
            {"name": "name", "subAttributes": [{"name": "givenName", "mutability": "ReadWrite"}]}
        ]}]});
        assert_eq!(
            readable(
                &body,
                "$.Resources[0].attributes[1].subAttributes[0].mutability"
            ),
            "urn:x:User: name.givenName: mutability"
        );
        assert_eq!(readable(&body, "$.totalResults"), "$.totalResults");
        let bare = json!([{"id": "urn:y", "attributes": [{"name": "a"}]}]);
        assert_eq!(readable(&bare, "$[0].attributes[0].type"), "urn:y: a: type");
    }

    #[test]
    fn casing_messages_are_shortened_to_found_and_expected() {
        assert_eq!(
            casing_note(
                "expected \"readWrite\" in exact camelCase (Entra parses it case-sensitively), found \"ReadWrite\""
            ),
            "\"ReadWrite\" should be \"readWrite\""
        );
    }

    #[test]
    fn cells_show_published_values_as_they_are() {
        assert_eq!(cell(&None), "-");
        assert_eq!(cell(&Some(Value::Null)), "null");
        assert_eq!(cell(&Some(json!(true))), "yes");
        assert_eq!(cell(&Some(json!("ReadWrite"))), "ReadWrite");
    }
}
