//! `scimcheck connect`: sends exactly the requests of Entra's Test Connection (a users probe and a
//! groups probe), and when something fails or looks risky, a few read-only follow-up probes that
//! find the cause: DNS, TCP, TLS, the shape of the Tenant URL, redirects, the token, the
//! response. The result is a [`Report`]: a verdict (what the admin would see in the portal),
//! every probe as evidence, and findings with stable codes and a concrete fix.
//!
//! Only GET requests are sent, the token only ever goes to the origin of the Tenant URL, and
//! every recorded string is redacted.

mod render;
pub mod tls;
pub mod token;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

pub use render::{duration as render_duration, human, json};
pub use token::JwtInfo;

use crate::exit;
use crate::http::{
    Client, ClientOptions, Exchange, OutRequest, Received, Secret, TenantUrl, TransportError,
};
use crate::scenario::model::Auth;
use crate::scim::schema::SchemaSet;
use crate::scim::validate::{Kind, Level, validate};

/// Above this a probe's response time is reported as slow.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(3);

/// The most URL variants tried when the Tenant URL answers 404.
const MAX_VARIANTS: usize = 8;

/// What to check and how.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The Tenant URL exactly as typed in the portal.
    pub url: String,
    /// The Secret Token exactly as typed in the portal.
    pub token: Secret,
    /// HTTP client settings (timeout, extra CA, proxy, `insecure`).
    pub client: ClientOptions,
    /// Responses slower than this are reported.
    pub slow: Duration,
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Entra's Test Connection would pass.
    Pass,
    /// It would fail.
    Fail,
    /// It would fail because the host cannot be reached at all.
    Unreachable,
}

/// What the admin would see in the Entra portal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntraMessage {
    /// Entra's error code, where it is known.
    pub code: Option<&'static str>,
    /// The message, or a description of it.
    pub text: String,
    /// `text` is Entra's own wording (otherwise it is scimcheck's description).
    pub verbatim: bool,
}

/// The verdict, printed first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub outcome: Outcome,
    /// One line: "Entra's Test Connection would pass" / "... would fail: <message>".
    pub summary: String,
    /// What the portal would show, when it would fail.
    pub entra: Option<EntraMessage>,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// One diagnosis: a stable code, what is wrong, the evidence and the fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable code, e.g. `tls.self-signed`, `url.missing-scim-segment`, `groups.not-found`.
    pub code: String,
    pub severity: Severity,
    /// Whether this makes Entra's Test Connection fail.
    pub blocks_test_connection: bool,
    /// One line: what is wrong.
    pub title: String,
    /// Supporting facts.
    pub details: Vec<String>,
    /// What to change.
    pub fix: String,
    /// The probes (their `step` numbers) this is based on.
    pub probes: Vec<usize>,
    /// What Entra shows for it.
    pub entra: Option<EntraMessage>,
    /// A Tenant URL that would work, when one was found.
    pub suggested_url: Option<String>,
}

/// Whether a probe is one of Entra's own requests or a follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    TestConnection,
    FollowUp,
}

/// One request (or TCP / TLS handshake) sent, and what came back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    /// 1-based number, referenced by findings.
    pub step: usize,
    pub stage: Stage,
    /// Why it was sent.
    pub purpose: String,
    /// `GET`, or `TCP` / `TLS` for a bare connection.
    pub method: String,
    /// The full URL (or `host:port`).
    pub url: String,
    /// Which credentials went with it.
    pub auth: String,
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub elapsed_ms: u64,
    /// Slower than the threshold.
    pub slow: bool,
    /// The transport error, when nothing came back.
    pub error: Option<String>,
    /// The answer is what Entra expects.
    pub ok: bool,
    /// What was wrong (or notable) about the answer.
    pub notes: Vec<String>,
}

/// What was learnt about the token locally.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenFacts {
    /// The token starts with `Bearer `.
    pub bearer_prefix: bool,
    /// The claims, when the token is a JWT.
    pub jwt: Option<JwtInfo>,
}

/// Everything `connect` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The Tenant URL as given.
    pub tenant_url: String,
    pub verdict: Verdict,
    /// Blocking findings first.
    pub findings: Vec<Finding>,
    pub probes: Vec<Probe>,
    pub token: TokenFacts,
    pub slow_threshold_ms: u64,
    /// 0 pass, 1 fail, 3 unreachable.
    pub exit_code: i32,
}

impl Report {
    /// Whether a finding with this code is present.
    pub fn has(&self, code: &str) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }
}

/// The messages Entra shows, where known.
mod entra {
    pub const CREDENTIALS_CODE: &str =
        "SystemForCrossDomainIdentityManagementCredentialValidationFailure";
    pub const CREDENTIALS: &str = "You appear to have entered invalid credentials. Please confirm you are using the correct information for an administrative account.";
    pub const NOT_FOUND: &str = "An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response. To address this issue, ensure that the tenant URL is correct.";
    pub const INCOMPATIBLE_CODE: &str = "SystemForCrossDomainIdentityManagementServiceIncompatible";
}

fn verbatim(code: Option<&'static str>, text: &str) -> Option<EntraMessage> {
    Some(EntraMessage {
        code,
        text: text.to_string(),
        verbatim: true,
    })
}

fn described(text: impl Into<String>) -> Option<EntraMessage> {
    Some(EntraMessage {
        code: None,
        text: text.into(),
        verbatim: false,
    })
}

fn credentials() -> Option<EntraMessage> {
    verbatim(Some(entra::CREDENTIALS_CODE), entra::CREDENTIALS)
}

fn not_found() -> Option<EntraMessage> {
    verbatim(None, entra::NOT_FOUND)
}

fn not_deserializable() -> Option<EntraMessage> {
    described("Entra is not able to deserialize the response received from the SCIM endpoint")
}

fn unexpected(status: u16) -> Option<EntraMessage> {
    described(format!(
        "Entra received an unexpected response (HTTP {} {}) while validating its access",
        status,
        reason(status)
    ))
}

/// The standard reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// How a list probe was answered.
#[derive(Debug, Clone)]
enum Answer {
    Transport(TransportError),
    Redirect {
        status: u16,
        location: Option<String>,
    },
    Denied {
        status: u16,
        detail: Option<String>,
        challenge: Option<String>,
    },
    NotFound {
        detail: Option<String>,
        html: bool,
    },
    ServerError {
        status: u16,
        detail: Option<String>,
    },
    ClientError {
        status: u16,
        detail: Option<String>,
    },
    /// A 2xx HTML page.
    Html {
        title: Option<String>,
        login: bool,
    },
    /// A 2xx body that is not JSON.
    Unparsable {
        why: String,
    },
    /// A 2xx JSON body that is not a ListResponse.
    NotList {
        why: String,
    },
    /// A ListResponse; `problems` are non-blocking schema deviations.
    List {
        total: Option<u64>,
        problems: Vec<String>,
    },
}

impl Answer {
    fn is_list(&self) -> bool {
        matches!(self, Answer::List { .. })
    }
}

fn media_type(r: &Received) -> Option<String> {
    r.header("content-type").map(|v| {
        v.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

fn looks_html(r: &Received) -> bool {
    if media_type(r).is_some_and(|m| m == "text/html" || m == "application/xhtml+xml") {
        return true;
    }
    let head = r
        .body
        .trim_start()
        .get(..15)
        .unwrap_or_default()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// Text between `<tag ...>` and `</tag>`, whitespace collapsed.
fn html_element(body: &str, tag: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find(&format!("<{tag}"))?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find(&format!("</{tag}"))?;
    let text = strip_tags(&body[open_end..close]);
    (!text.is_empty()).then_some(text)
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn looks_like_login(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("type=\"password\"")
        || lower.contains("type='password'")
        || ["sign in", "sign-in", "log in", "login", "signin"]
            .iter()
            .any(|w| lower.contains(w))
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}

/// A JSON member by name, case-insensitively.
fn member<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    let obj = v.as_object()?;
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The server's own explanation in an error response: SCIM `detail`, common JSON error
/// members, an HTML title, or the first line of text.
fn error_detail(r: &Received) -> Option<String> {
    if r.body.trim().is_empty() {
        return None;
    }
    if let Some(v) = r.json() {
        for key in ["detail", "message", "error_description", "error", "title"] {
            match member(&v, key) {
                Some(Value::String(s)) if !s.trim().is_empty() => return Some(shorten(s, 300)),
                Some(inner @ Value::Object(_)) => {
                    if let Some(Value::String(s)) = member(inner, "message") {
                        return Some(shorten(s, 300));
                    }
                }
                _ => {}
            }
        }
        return Some(shorten(&v.to_string(), 300));
    }
    if looks_html(r) {
        return html_element(&r.body, "title")
            .or_else(|| html_element(&r.body, "h1"))
            .or_else(|| Some(shorten(&strip_tags(&r.body), 200)))
            .filter(|s| !s.is_empty());
    }
    r.body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| shorten(l, 300))
}

/// Judges the answer to a `GET /Users` or `GET /Groups` list request.
fn answer(ex: &Exchange) -> Answer {
    let r = match &ex.response {
        Ok(r) => r,
        Err(e) => return Answer::Transport(e.clone()),
    };
    match r.status {
        300..=399 => Answer::Redirect {
            status: r.status,
            location: r.header("location").map(str::to_string),
        },
        401 | 403 => Answer::Denied {
            status: r.status,
            detail: error_detail(r),
            challenge: r.header("www-authenticate").map(str::to_string),
        },
        404 => Answer::NotFound {
            detail: error_detail(r),
            html: looks_html(r),
        },
        500..=599 => Answer::ServerError {
            status: r.status,
            detail: error_detail(r),
        },
        400..=499 => Answer::ClientError {
            status: r.status,
            detail: error_detail(r),
        },
        _ if looks_html(r) => Answer::Html {
            title: html_element(&r.body, "title").or_else(|| html_element(&r.body, "h1")),
            login: looks_like_login(&r.body),
        },
        200..=299 => list_answer(r),
        s => Answer::ClientError {
            status: s,
            detail: error_detail(r),
        },
    }
}

fn list_answer(r: &Received) -> Answer {
    if r.body.trim().is_empty() {
        return Answer::Unparsable {
            why: format!("the {} response has an empty body", r.status),
        };
    }
    let body: Value = match serde_json::from_str(&r.body) {
        Ok(v) => v,
        Err(e) => {
            return Answer::Unparsable {
                why: format!(
                    "the body is not valid JSON ({e}); it starts with `{}`",
                    shorten(&r.body, 60)
                ),
            };
        }
    };
    if r.truncated {
        return Answer::Unparsable {
            why: "the body is larger than the read limit and was cut".into(),
        };
    }
    if !body.is_object() {
        let what = match &body {
            Value::Array(_) => "a bare JSON array",
            Value::String(_) => "a JSON string",
            Value::Number(_) => "a JSON number",
            Value::Bool(_) => "a JSON boolean",
            _ => "JSON null",
        };
        return Answer::NotList {
            why: format!("the body is {what}, not a ListResponse object"),
        };
    }
    let violations = validate(Kind::ListResponse, &body, SchemaSet::builtin());
    let structural = violations.iter().find(|v| {
        v.level == Level::Fail
            && (v.path == "$" || v.path == "$.totalResults" || v.path == "$.Resources")
    });
    if let Some(v) = structural {
        return Answer::NotList {
            why: format!("not a ListResponse: {}: {}", v.path, v.message),
        };
    }
    let total = member(&body, "totalResults").and_then(Value::as_u64);
    let problems = violations
        .iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect();
    Answer::List { total, problems }
}

/// Entra's users probe: a filter on a random GUID, expected to match nothing.
fn users_probe() -> OutRequest {
    let mut r = OutRequest::new("GET", "/Users");
    r.query = vec![(
        "filter".into(),
        format!("userName eq \"{}\"", uuid::Uuid::new_v4()),
    )];
    r
}

/// Entra's groups probe.
fn groups_probe(with_excluded: bool) -> OutRequest {
    let mut r = OutRequest::new("GET", "/Groups");
    if with_excluded {
        r.query
            .push(("excludedAttributes".into(), "members".into()));
    }
    r.query.push((
        "filter".into(),
        format!("displayName eq \"{}\"", uuid::Uuid::new_v4()),
    ));
    r
}

/// `GET /<collection>?count=1`: does the collection answer at all without a filter?
fn unfiltered(collection: &str) -> OutRequest {
    let mut r = OutRequest::new("GET", format!("/{collection}"));
    r.query = vec![("count".into(), "1".into())];
    r
}

/// The parts of a URL the diagnosis talks about.
struct Place {
    scheme: String,
    host: String,
    port: u16,
    origin: String,
    path: String,
}

fn place(url: &str) -> Option<Place> {
    let u = reqwest::Url::parse(url).ok()?;
    Some(Place {
        scheme: u.scheme().to_string(),
        host: u.host_str()?.to_string(),
        port: u.port_or_known_default()?,
        origin: u.origin().ascii_serialization(),
        path: u.path().to_string(),
    })
}

/// The path and query of a URL, percent-decoded, for people to read.
pub fn readable_path(url: &str) -> String {
    let Ok(u) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    let mut s = percent_decode(u.path());
    if let Some(q) = u.query() {
        s.push('?');
        s.push_str(&percent_decode(q));
    }
    s
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(h) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(h);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The path of a base URL for people: `/scim/v2`, or `/` for the root.
fn path_of(base: &str) -> String {
    let p = readable_path(&format!("{}/", base.trim_end_matches('/')));
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        "/".to_string()
    } else {
        p.to_string()
    }
}

/// What a URL variant changes, named as the finding code it leads to.
fn variant_code(original: &[String], candidate: &[String]) -> &'static str {
    let n = original.len();
    let is_resource =
        |s: &String| s.eq_ignore_ascii_case("Users") || s.eq_ignore_ascii_case("Groups");
    if n > 0 && candidate == &original[..n - 1] && is_resource(&original[n - 1]) {
        return "url.includes-resource-path";
    }
    if candidate.len() > n && candidate[..n] == *original {
        let added: Vec<String> = candidate[n..]
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        return match added.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["scim"] => "url.missing-scim-segment",
            ["v2"] => "url.missing-v2-segment",
            ["scim", "v2"] => "url.missing-scim-v2-segments",
            _ => "url.wrong-path",
        };
    }
    if candidate.len() < n && original[..candidate.len()] == *candidate {
        return "url.extra-path-segment";
    }
    "url.wrong-path"
}

/// Sibling Tenant URLs worth trying when the given one answers 404, most likely first.
fn url_variants(base: &str) -> Vec<(String, &'static str)> {
    let Some(p) = place(base) else {
        return vec![];
    };
    let segs: Vec<String> = p
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut paths: Vec<Vec<String>> = Vec::new();
    if segs
        .last()
        .is_some_and(|s| s.eq_ignore_ascii_case("Users") || s.eq_ignore_ascii_case("Groups"))
    {
        paths.push(segs[..segs.len() - 1].to_vec());
    }
    let mut stem = segs.clone();
    if stem
        .last()
        .is_some_and(|s| s.eq_ignore_ascii_case("Users") || s.eq_ignore_ascii_case("Groups"))
    {
        stem.pop();
    }
    if stem.last().is_some_and(|s| s.eq_ignore_ascii_case("v2")) {
        stem.pop();
    }
    if stem.last().is_some_and(|s| s.eq_ignore_ascii_case("scim")) {
        stem.pop();
    }
    let with = |prefix: &[String], tail: &[&str]| -> Vec<String> {
        prefix
            .iter()
            .cloned()
            .chain(tail.iter().map(|s| s.to_string()))
            .collect()
    };
    for tail in [&["scim", "v2"][..], &["scim"], &["v2"], &[]] {
        paths.push(with(&stem, tail));
    }
    if let Some((_, parent)) = stem.split_last() {
        for tail in [&["scim", "v2"][..], &["scim"]] {
            paths.push(with(parent, tail));
        }
    }
    if !stem.iter().any(|s| s.eq_ignore_ascii_case("api")) {
        let api = with(&stem, &["api"]);
        for tail in [&["scim", "v2"][..], &["scim"]] {
            paths.push(with(&api, tail));
        }
    }
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut seen: Vec<Vec<String>> = vec![segs.clone()];
    for path in paths {
        if seen.contains(&path) {
            continue;
        }
        seen.push(path.clone());
        let url = if path.is_empty() {
            p.origin.clone()
        } else {
            format!("{}/{}", p.origin, path.join("/"))
        };
        out.push((url, variant_code(&segs, &path)));
    }
    out.truncate(MAX_VARIANTS);
    out
}

/// The Tenant URL to suggest for a base: the base plus the original query (the dialect flag).
fn suggest(base: &str, original: &TenantUrl) -> String {
    match &original.query {
        Some(q) => format!("{base}/?{q}"),
        None => base.to_string(),
    }
}

/// A redirect target that names a collection, minus the collection: a Tenant URL.
fn base_of_collection_url(url: &reqwest::Url) -> Option<String> {
    let path = url.path().trim_end_matches('/');
    let (head, last) = path.rsplit_once('/')?;
    if !(last.eq_ignore_ascii_case("Users") || last.eq_ignore_ascii_case("Groups")) {
        return None;
    }
    Some(format!("{}{}", url.origin().ascii_serialization(), head))
}

/// Classifies a TLS failure from the client's error text and the unverified handshake.
fn tls_code(error: &str, facts: Option<&tls::TlsFacts>) -> Option<&'static str> {
    let mut text = error.to_ascii_lowercase();
    if let Some(e) = facts.and_then(|f| f.error.as_deref()) {
        text.push(' ');
        text.push_str(&e.to_ascii_lowercase());
    }
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if has(&[
        "unknownissuer",
        "unknown issuer",
        "self-signed",
        "self signed",
    ]) {
        return Some(match facts.and_then(|f| f.leaf.as_ref()) {
            Some(leaf) if leaf.self_issued => "tls.self-signed",
            _ => "tls.untrusted",
        });
    }
    if has(&["expired"]) {
        return Some("tls.expired");
    }
    if has(&["notvalidforname", "not valid for name"]) {
        return Some("tls.wrong-host");
    }
    if has(&["notvalidyet", "not valid yet"]) {
        return Some("tls.not-yet-valid");
    }
    if has(&[
        "protocolversion",
        "protocol version",
        "peer is incompatible",
        "peerincompatible",
        "tls12notoffered",
        "unsupported protocol",
        "supportedversions",
    ]) {
        return Some("tls.old-version");
    }
    if has(&[
        "invalidcontenttype",
        "corrupt message",
        "invalid content type",
    ]) {
        return Some("tls.not-tls");
    }
    if has(&["certificate", "tls", "handshake", "alert"]) {
        return Some("tls.failed");
    }
    None
}

/// The state of one diagnosis.
struct Diag {
    input: String,
    target: TenantUrl,
    token: Secret,
    secrets: Vec<Secret>,
    stripped: Option<Secret>,
    jwt: Option<JwtInfo>,
    options: ClientOptions,
    slow: Duration,
    probes: Vec<Probe>,
    findings: Vec<Finding>,
    unreachable: bool,
}

/// A finding under construction.
struct F {
    code: &'static str,
    severity: Severity,
    blocks: bool,
    title: String,
    details: Vec<String>,
    fix: String,
    probes: Vec<usize>,
    entra: Option<EntraMessage>,
    suggested_url: Option<String>,
}

impl F {
    fn error(code: &'static str, title: impl Into<String>, fix: impl Into<String>) -> F {
        F {
            code,
            severity: Severity::Error,
            blocks: true,
            title: title.into(),
            details: vec![],
            fix: fix.into(),
            probes: vec![],
            entra: None,
            suggested_url: None,
        }
    }

    fn warning(code: &'static str, title: impl Into<String>, fix: impl Into<String>) -> F {
        F {
            severity: Severity::Warning,
            blocks: false,
            ..F::error(code, title, fix)
        }
    }

    fn detail(mut self, d: impl Into<String>) -> F {
        self.details.push(d.into());
        self
    }

    fn details(mut self, d: impl IntoIterator<Item = String>) -> F {
        self.details.extend(d);
        self
    }

    fn probe(mut self, step: usize) -> F {
        self.probes.push(step);
        self
    }

    fn entra(mut self, m: Option<EntraMessage>) -> F {
        self.entra = m;
        self
    }

    fn blocking(mut self) -> F {
        self.blocks = true;
        self
    }

    fn suggest(mut self, url: String) -> F {
        self.suggested_url = Some(url);
        self
    }
}

/// Orders findings by where in the chain they sit: the earliest cause first.
fn rank(code: &str) -> u8 {
    match code.split('.').next().unwrap_or_default() {
        "net" | "tls" => 0,
        "url" if code == "url.not-https" => 1,
        "url" => 2,
        "auth" => 3,
        "users" => 4,
        "response" | "server" => 5,
        "groups" => 6,
        _ => 7,
    }
}

impl Diag {
    fn clean(&self, s: &str) -> String {
        self.secrets
            .iter()
            .fold(s.to_string(), |t, sec| sec.redact(&t))
    }

    fn add(&mut self, f: F) {
        let details: Vec<String> = f.details.iter().map(|d| self.clean(d)).collect();
        let title = self.clean(&f.title);
        if let Some(existing) = self.findings.iter_mut().find(|x| x.code == f.code) {
            for d in details {
                if !existing.details.contains(&d) {
                    existing.details.push(d);
                }
            }
            for p in f.probes {
                if !existing.probes.contains(&p) {
                    existing.probes.push(p);
                }
            }
            return;
        }
        self.findings.push(Finding {
            code: f.code.to_string(),
            severity: f.severity,
            blocks_test_connection: f.blocks,
            title,
            details,
            fix: self.clean(&f.fix),
            probes: f.probes,
            entra: f.entra,
            suggested_url: f.suggested_url,
        });
    }

    fn client(&self, target: TenantUrl, token: Secret) -> Result<Client, String> {
        Client::new(
            target,
            token,
            self.options.clone(),
            Arc::new(|_: &str| false),
        )
    }

    fn note(&mut self, step: usize, ok: bool, note: impl Into<String>) {
        let note = self.clean(&note.into());
        if let Some(p) = self.probes.get_mut(step - 1) {
            p.ok = ok;
            if !note.is_empty() {
                p.notes.push(note);
            }
        }
    }

    /// Sends `req` with `client` and records the probe; returns its step number.
    async fn send(
        &mut self,
        client: &Client,
        stage: Stage,
        purpose: &str,
        auth: &str,
        req: &OutRequest,
    ) -> (usize, Exchange) {
        let ex = client.send(req, 0).await;
        let step = self.probes.len() + 1;
        let (status, content_type, location, error) = match &ex.response {
            Ok(r) => (
                Some(r.status),
                r.header("content-type").map(str::to_string),
                r.header("location").map(|l| self.clean(l)),
                None,
            ),
            Err(e) => (
                None,
                None,
                None,
                Some(self.clean(&short_error(&e.to_string()))),
            ),
        };
        let auth = if req.auth == Auth::None { "none" } else { auth };
        self.probes.push(Probe {
            step,
            stage,
            purpose: purpose.to_string(),
            method: req.method.clone(),
            url: self.clean(&ex.request.url),
            auth: auth.to_string(),
            status,
            content_type,
            location,
            elapsed_ms: ex.elapsed.as_millis() as u64,
            slow: status.is_some() && ex.elapsed > self.slow,
            error,
            ok: false,
            notes: vec![],
        });
        (step, ex)
    }

    /// Records a bare TCP or TLS connection attempt as a probe.
    fn record_connection(
        &mut self,
        method: &str,
        purpose: &str,
        target: &str,
        elapsed: Duration,
        error: Option<String>,
        notes: Vec<String>,
    ) -> usize {
        let step = self.probes.len() + 1;
        let ok = error.is_none();
        let notes = notes.iter().map(|n| self.clean(n)).collect();
        self.probes.push(Probe {
            step,
            stage: Stage::FollowUp,
            purpose: purpose.to_string(),
            method: method.to_string(),
            url: target.to_string(),
            auth: "none".into(),
            status: None,
            content_type: None,
            location: None,
            elapsed_ms: elapsed.as_millis() as u64,
            slow: false,
            error: error.map(|e| self.clean(&e)),
            ok,
            notes,
        });
        step
    }

    /// Checks that need no request: scheme, `Bearer ` prefix, JWT claims.
    fn precheck(&mut self) {
        if let Some(p) = place(&self.target.base)
            && p.scheme == "http"
        {
            let https = format!("https{}", &self.input.trim()[4..]);
            self.add(
                F::warning(
                    "url.not-https",
                    "The Tenant URL starts with http://: Entra only connects over HTTPS",
                    "Serve the SCIM endpoint over HTTPS (TLS 1.2 or later, with a certificate from a publicly trusted CA) and use an https:// Tenant URL. scimcheck still probed the http:// URL so the rest could be diagnosed.",
                )
                .blocking()
                .entra(described("Entra only connects to https:// Tenant URLs"))
                .suggest(https),
            );
        }
    }

    /// Transport failures of a probe: DNS, TCP, timeouts, TLS.
    async fn transport(&mut self, e: &TransportError, step: usize, url: &str) {
        let Some(p) = place(url) else {
            return;
        };
        let hostport = format!("{}:{}", p.host, p.port);
        let cannot = |why: &str| described(format!("Entra cannot connect to {hostport}: {why}"));
        match e {
            TransportError::Dns(msg) => {
                let msg = &short_error(msg);
                self.note(
                    step,
                    false,
                    format!("the host name {} does not resolve", p.host),
                );
                self.add(
                    F::error(
                        "net.dns",
                        format!("The host name `{}` does not resolve", p.host),
                        "Check the host name in the Tenant URL for typos. It must resolve in public DNS: Entra connects from Microsoft's cloud, not from your network.",
                    )
                    .detail(msg.clone())
                    .probe(step)
                    .entra(cannot("the host name does not resolve")),
                );
            }
            TransportError::Refused(msg) => {
                let msg = &short_error(msg);
                self.note(
                    step,
                    false,
                    format!("nothing accepts connections on {hostport}"),
                );
                self.add(
                    F::error(
                        "net.refused",
                        format!("Nothing accepts connections on {hostport} (connection refused)"),
                        "Check the port in the Tenant URL, that the SCIM service is running, and that the load balancer or firewall forwards HTTPS to it.",
                    )
                    .detail(msg.clone())
                    .probe(step)
                    .entra(cannot("the connection is refused")),
                );
            }
            TransportError::Timeout(d) => {
                let limit = (*d).min(Duration::from_secs(5));
                let started = std::time::Instant::now();
                let tcp = tokio::time::timeout(
                    limit,
                    tokio::net::TcpStream::connect((p.host.trim_matches(['[', ']']), p.port)),
                )
                .await;
                let elapsed = started.elapsed();
                let secs = d.as_secs_f64();
                match tcp {
                    Ok(Ok(_)) => {
                        let tcp_step = self.record_connection(
                            "TCP",
                            "does the TCP connection itself succeed?",
                            &hostport,
                            elapsed,
                            None,
                            vec!["connected".into()],
                        );
                        self.note(step, false, format!("no response within {secs} s"));
                        self.add(
                            F::error(
                                "net.timeout",
                                format!("{hostport} accepts the TCP connection but sends no response within {secs} s"),
                                "Something accepts connections but never answers: check the application behind the port (hung workers, a proxy waiting on a dead backend) and its logs for this request. Entra gives up on endpoints that do not answer in time.",
                            )
                            .probe(step)
                            .probe(tcp_step)
                            .entra(cannot("the request times out")),
                        );
                    }
                    Ok(Err(err)) => {
                        let tcp_step = self.record_connection(
                            "TCP",
                            "does the TCP connection itself succeed?",
                            &hostport,
                            elapsed,
                            Some(err.to_string()),
                            vec![],
                        );
                        self.note(step, false, format!("no response within {secs} s"));
                        self.add(
                            F::error(
                                "net.connect",
                                format!("Cannot connect to {hostport}"),
                                "Check that the host and port are reachable from the internet.",
                            )
                            .detail(err.to_string())
                            .probe(step)
                            .probe(tcp_step)
                            .entra(cannot("the connection fails")),
                        );
                    }
                    Err(_) => {
                        let tcp_step = self.record_connection(
                            "TCP",
                            "does the TCP connection itself succeed?",
                            &hostport,
                            elapsed,
                            Some(format!(
                                "no TCP connection within {} s",
                                limit.as_secs_f64()
                            )),
                            vec![],
                        );
                        self.note(step, false, format!("no connection within {secs} s"));
                        self.add(
                            F::error(
                                "net.connect-timeout",
                                format!("The TCP connection to {hostport} does not complete"),
                                "Packets are probably dropped by a firewall: allow inbound HTTPS from Entra's provisioning service (the AzureActiveDirectory service tag) to this host and port.",
                            )
                            .probe(step)
                            .probe(tcp_step)
                            .entra(cannot("the connection times out")),
                        );
                    }
                }
            }
            TransportError::Tls(msg) | TransportError::Connect(msg) => {
                let msg = &short_error(msg);
                let facts = if p.scheme == "https" {
                    let started = std::time::Instant::now();
                    let facts = tls::inspect(&p.host, p.port, self.options.connect_timeout).await;
                    let mut notes = vec![];
                    if let Some(v) = &facts.version {
                        notes.push(format!("handshake completes without verification ({v})"));
                    }
                    if let Some(leaf) = &facts.leaf {
                        notes.push(format!(
                            "{} certificate(s) presented; the server certificate is {}{}",
                            facts.chain_len,
                            if leaf.self_issued {
                                "self-signed"
                            } else {
                                "issued by a CA"
                            },
                            leaf.not_after
                                .map(|t| format!(
                                    ", valid until {}",
                                    t.format("%Y-%m-%d %H:%M UTC")
                                ))
                                .unwrap_or_default()
                        ));
                    }
                    let step = self.record_connection(
                        "TLS",
                        "which certificate does the server present? (unverified handshake, nothing sent)",
                        &hostport,
                        started.elapsed(),
                        facts.error.clone(),
                        notes,
                    );
                    Some((facts, step))
                } else {
                    None
                };
                let code = if p.scheme == "https" {
                    tls_code(msg, facts.as_ref().map(|f| &f.0))
                } else {
                    None
                };
                let Some(code) = code else {
                    self.note(step, false, "the connection failed");
                    let mut f = F::error(
                        "net.connect",
                        format!("Cannot connect to {hostport}"),
                        "Check that the host and port are reachable from the internet and speak HTTPS.",
                    )
                    .detail(msg.clone())
                    .probe(step)
                    .entra(cannot("the connection fails"));
                    if let Some((_, s)) = facts {
                        f = f.probe(s);
                    }
                    self.add(f);
                    return;
                };
                let leaf = facts.as_ref().and_then(|f| f.0.leaf.clone());
                let until = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                };
                let host = &p.host;
                let (title, fix) = match code {
                    "tls.self-signed" => (
                        format!("The server at {hostport} presents a self-signed certificate"),
                        "Entra only trusts certificates issued by a publicly trusted CA: install one (for example from Let's Encrypt or your CA vendor). `--ca-cert` or `--insecure` let scimcheck go on, but Entra has no such option.".to_string(),
                    ),
                    "tls.untrusted" => (
                        format!("The certificate of {hostport} is not issued by a trusted CA"),
                        match &facts {
                            Some((f, _)) if f.chain_len == 1 => "The server sends only its own certificate: if it was issued by an intermediate CA, configure the server to send the full chain (leaf and intermediates). Otherwise use a certificate from a publicly trusted CA.".to_string(),
                            _ => "Use a certificate from a publicly trusted CA and serve the full chain (leaf and intermediates); Entra does not trust private CAs.".to_string(),
                        },
                    ),
                    "tls.expired" => (
                        match until(leaf.as_ref().and_then(|l| l.not_after)) {
                            Some(t) => format!("The certificate of {hostport} expired on {t}"),
                            None => format!("The certificate of {hostport} has expired"),
                        },
                        "Renew the certificate and install the new one on the server (and on every node behind the load balancer).".to_string(),
                    ),
                    "tls.wrong-host" => (
                        format!("The certificate of {hostport} is not valid for the host name `{host}`"),
                        format!("Use a certificate whose subject alternative names include `{host}`, or use the host name the certificate was issued for in the Tenant URL."),
                    ),
                    "tls.not-yet-valid" => (
                        format!("The certificate of {hostport} is not valid yet"),
                        "Check the server's clock and the certificate's notBefore date.".to_string(),
                    ),
                    "tls.old-version" => (
                        format!("{hostport} does not speak TLS 1.2 or 1.3"),
                        "Enable TLS 1.2 (and preferably 1.3) on the server: Entra does not connect with TLS 1.0 or 1.1.".to_string(),
                    ),
                    "tls.not-tls" => (
                        format!("{hostport} does not speak TLS: it probably serves plain HTTP"),
                        "Use the port that serves HTTPS in the Tenant URL, or enable TLS on this one.".to_string(),
                    ),
                    _ => (
                        format!("The TLS handshake with {hostport} fails"),
                        "Check the server's TLS configuration: TLS 1.2 or later, a certificate from a publicly trusted CA for this host name, the full chain.".to_string(),
                    ),
                };
                self.note(
                    step,
                    false,
                    format!("TLS failed: {}", code.trim_start_matches("tls.")),
                );
                let mut f = F::error(code, title, fix)
                    .detail(msg.clone())
                    .probe(step)
                    .entra(cannot("the TLS handshake fails"));
                if let Some((facts, s)) = &facts {
                    f = f.probe(*s);
                    if let Some(leaf) = &facts.leaf
                        && let (Some(a), Some(b)) = (until(leaf.not_before), until(leaf.not_after))
                    {
                        f = f.detail(format!("certificate valid from {a} to {b}"));
                    }
                }
                if self.options.insecure {
                    f = f.detail("(--insecure was given, yet the handshake still failed)");
                }
                self.add(f);
            }
            TransportError::Body(msg) => {
                let msg = &short_error(msg);
                self.note(step, false, "the response could not be read");
                self.add(
                    F::error(
                        "response.unreadable",
                        "The response could not be read to the end",
                        "Check the server logs: the connection broke or the body is not valid UTF-8.",
                    )
                    .detail(msg.clone())
                    .probe(step)
                    .entra(not_deserializable()),
                );
            }
            other => {
                self.note(step, false, other.to_string());
                self.add(
                    F::error(
                        "net.connect",
                        format!("The request to {hostport} was not sent"),
                        "See the detail.",
                    )
                    .detail(other.to_string())
                    .probe(step),
                );
            }
        }
    }

    /// Judges the users probe and follows up; returns whether the endpoint was reached and the
    /// token accepted (so that the groups probe is worth judging).
    async fn users(&mut self, client: &Client, step: usize, ans: &Answer, url: &str) -> bool {
        match ans {
            Answer::List { total, problems } => {
                self.note(step, true, "");
                self.list_extras("users", step, *total, problems);
                true
            }
            Answer::Denied {
                status,
                detail,
                challenge,
            } => {
                self.note(
                    step,
                    false,
                    format!("{status} {}: the token is rejected", reason(*status)),
                );
                self.denied(step, *status, detail.clone(), challenge.clone())
                    .await;
                false
            }
            Answer::Redirect { status, location } => {
                self.redirect("users", step, *status, location.clone(), url)
                    .await;
                false
            }
            Answer::NotFound { detail, html } => {
                self.note(
                    step,
                    false,
                    "404 where Entra expects 200 and an empty ListResponse",
                );
                if *html {
                    self.note(
                        step,
                        false,
                        "the 404 is an HTML page: the request may not reach the SCIM application",
                    );
                }
                if let Some(d) = detail {
                    self.note(step, false, format!("server says: {d}"));
                }
                let (s2, ex) = self
                    .send(
                        client,
                        Stage::FollowUp,
                        "does /Users answer without a filter?",
                        "token",
                        &unfiltered("Users"),
                    )
                    .await;
                let plain = answer(&ex);
                if plain.is_list() {
                    self.note(s2, true, "a ListResponse: the collection exists");
                    self.add(
                        F::error(
                            "users.empty-filter-404",
                            "A filter that matches no user answers 404 instead of an empty ListResponse",
                            "Answer a filter query with 200 and a ListResponse, also when nothing matches: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":0,\"Resources\":[]} (RFC 7644 section 3.4.2). Entra reads a 404 as a wrong Tenant URL and quarantines the job.",
                        )
                        .probe(step)
                        .probe(s2)
                        .entra(not_found()),
                    );
                    return true;
                }
                self.note(s2, false, describe_answer(&plain));
                self.url_search(client, step, None).await;
                false
            }
            Answer::Html { title, login } => {
                let what = if *login {
                    "an HTML sign-in page"
                } else {
                    "an HTML page"
                };
                self.note(
                    step,
                    false,
                    format!(
                        "{what}{} instead of a SCIM ListResponse",
                        title
                            .as_ref()
                            .map(|t| format!(" (\"{t}\")"))
                            .unwrap_or_default()
                    ),
                );
                let html = F::error(
                    "response.html",
                    format!("The Tenant URL answers with {what}, not SCIM JSON: the request does not reach the SCIM endpoint"),
                    if *login {
                        "A sign-in page means a proxy, SSO gateway or web front end answers instead of the SCIM API: exempt the SCIM path from interactive sign-in (it authenticates with the bearer token), or use the API's own URL as the Tenant URL."
                    } else {
                        "A web page means the path belongs to a web front end (often a catch-all route), not the SCIM API: use the SCIM API's base URL as the Tenant URL."
                    },
                )
                .details(title.iter().map(|t| format!("page title: {t}")))
                .probe(step)
                .entra(not_deserializable());
                self.url_search(client, step, Some(html)).await;
                false
            }
            Answer::ServerError { status, detail } => {
                self.server_error("users", step, *status, detail.clone());
                true
            }
            Answer::ClientError { status, detail } => {
                self.note(
                    step,
                    false,
                    format!("{status} {} where Entra expects 200", reason(*status)),
                );
                let (s2, ex) = self
                    .send(
                        client,
                        Stage::FollowUp,
                        "does /Users answer without a filter?",
                        "token",
                        &unfiltered("Users"),
                    )
                    .await;
                let plain = answer(&ex);
                let d = detail.as_ref().map(|d| format!("server says: {d}"));
                if plain.is_list() {
                    self.note(s2, true, "a ListResponse: only the filter is rejected");
                    self.add(
                        F::error(
                            "users.filter-rejected",
                            format!("Entra's filter `userName eq \"...\"` is rejected with {status} {}", reason(*status)),
                            "Support the `eq` filter on userName (and `and`), with the value in double quotes, and answer an empty ListResponse when nothing matches.",
                        )
                        .details(d)
                        .probe(step)
                        .probe(s2)
                        .entra(unexpected(*status)),
                    );
                } else {
                    self.note(s2, false, describe_answer(&plain));
                    self.add(
                        F::error(
                            "users.error",
                            format!("GET /Users answers {status} {}", reason(*status)),
                            "GET /Users with a filter must answer 200 and a ListResponse; see the server's detail and logs.",
                        )
                        .details(d)
                        .probe(step)
                        .probe(s2)
                        .entra(unexpected(*status)),
                    );
                }
                true
            }
            Answer::Unparsable { why } => {
                self.note(step, false, why.clone());
                self.add(
                    F::error(
                        "response.not-json",
                        "The response body is not valid JSON",
                        "Answer with a JSON ListResponse and `Content-Type: application/scim+json`.",
                    )
                    .detail(format!("users probe: {why}"))
                    .probe(step)
                    .entra(not_deserializable()),
                );
                true
            }
            Answer::NotList { why } => {
                self.note(step, false, why.clone());
                self.add(
                    F::error(
                        "users.not-list-response",
                        "GET /Users with a filter does not answer a ListResponse",
                        "A filter query always answers a ListResponse, even with no hits: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":0,\"Resources\":[],\"startIndex\":1,\"itemsPerPage\":0}.",
                    )
                    .detail(why.clone())
                    .probe(step)
                    .entra(not_deserializable()),
                );
                true
            }
            Answer::Transport(_) => false,
        }
    }

    /// Warnings about a ListResponse that Entra accepts: hits for a random value, schema slips.
    fn list_extras(&mut self, what: &str, step: usize, total: Option<u64>, problems: &[String]) {
        let (code, attr) = if what == "users" {
            ("users.filter-ignored", "userName")
        } else {
            ("groups.filter-ignored", "displayName")
        };
        if let Some(n) = total.filter(|n| *n > 0) {
            self.note(
                step,
                true,
                format!("totalResults is {n} for a value that exists nowhere"),
            );
            self.add(
                F::warning(
                    code,
                    format!("The filter `{attr} eq \"<random GUID>\"` matched {n} resource(s): the filter is ignored"),
                    format!("Apply the filter. Entra uses this query to find out whether a {} already exists before creating it: ignoring it makes Entra match (and update) the wrong one.", if what == "users" { "user" } else { "group" }),
                )
                .probe(step),
            );
        }
        if !problems.is_empty() {
            let code = if what == "users" {
                "users.list-response-problems"
            } else {
                "groups.list-response-problems"
            };
            let shown: Vec<String> = problems.iter().take(5).cloned().collect();
            self.add(
                F::warning(
                    code,
                    format!("The {what} ListResponse deviates from RFC 7644 in {} place(s)", problems.len()),
                    "Entra tolerates these, but they break other clients and the SCIM Validator: answer the ListResponse exactly as RFC 7644 section 3.4.2 shows.",
                )
                .details(shown)
                .probe(step),
            );
        }
    }

    async fn denied(
        &mut self,
        step: usize,
        status: u16,
        detail: Option<String>,
        challenge: Option<String>,
    ) {
        let mut facts: Vec<String> = Vec::new();
        if let Some(d) = &detail {
            facts.push(format!("server says: {d}"));
        }
        if let Some(c) = &challenge {
            facts.push(format!("WWW-Authenticate: {c}"));
        }
        let mut explained = false;
        if let Some(stripped) = self.stripped.clone() {
            explained = true;
            let mut f = F::error(
                "auth.bearer-prefix",
                "The Secret Token was pasted with a `Bearer ` prefix",
                "Paste only the token itself into Secret Token: Entra adds `Bearer ` on its own, so the endpoint receives `Authorization: Bearer Bearer ...`.",
            )
            .probe(step)
            .entra(credentials())
            .details(facts.clone());
            match self.client(self.target.clone(), stripped) {
                Ok(c) => {
                    let (s2, ex) = self
                        .send(
                            &c,
                            Stage::FollowUp,
                            "does the token work without the pasted `Bearer ` prefix?",
                            "token without the `Bearer ` prefix",
                            &users_probe(),
                        )
                        .await;
                    let a = answer(&ex);
                    let wrong_place = matches!(a, Answer::NotFound { .. } | Answer::Html { .. });
                    if a.is_list() {
                        self.note(s2, true, "accepted: the prefix is the only problem");
                        f = f.detail("confirmed: without the prefix the same request answers 200 and a ListResponse");
                    } else if wrong_place {
                        self.note(
                            s2,
                            false,
                            format!(
                                "{}: the token gets past authentication, the path is wrong",
                                describe_answer(&a)
                            ),
                        );
                        f = f.detail("without the prefix the token gets past authentication, but the Tenant URL path is wrong too (see below)");
                    } else {
                        self.note(s2, false, describe_answer(&a));
                        f = f.detail(format!(
                            "without the prefix the request is still not accepted ({})",
                            describe_answer(&a)
                        ));
                    }
                    f = f.probe(s2);
                    self.add(f);
                    if wrong_place {
                        // Go on with the token as it should have been pasted.
                        self.token = Secret::new(c.secret().expose());
                        self.url_search(&c, s2, None).await;
                    }
                }
                Err(e) => {
                    f = f.detail(e);
                    self.add(f);
                }
            }
        }
        if let Some(jwt) = self.jwt.clone() {
            let mut claims = Vec::new();
            if let Some(exp) = jwt.exp {
                claims.push(format!("exp: {}", exp.format("%Y-%m-%d %H:%M:%S UTC")));
            }
            if let Some(iss) = &jwt.iss {
                claims.push(format!("iss: {iss}"));
            }
            if let Some(aud) = &jwt.aud {
                claims.push(format!("aud: {aud}"));
            }
            if jwt.expired {
                explained = true;
                let when = jwt
                    .exp
                    .map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default();
                self.add(
                    F::error(
                        "auth.jwt-expired",
                        format!("The Secret Token is a JWT that expired on {when}"),
                        "Generate a new token in the application and update Secret Token in Entra. If the application only issues short-lived tokens, ask for a long-lived provisioning token: Entra cannot refresh it.",
                    )
                    .details(claims)
                    .probe(step)
                    .entra(credentials()),
                );
            } else if jwt.nbf.is_some_and(|n| n > chrono::Utc::now()) {
                facts.push(
                    "the JWT is not valid yet (nbf is in the future): check the issuer's clock"
                        .into(),
                );
                facts.extend(claims);
            } else {
                facts.push("the token is a JWT that has not expired: check that it was issued for this endpoint (issuer and audience)".into());
                facts.extend(claims);
            }
        }
        if !explained {
            let (code, title, fix) = if status == 403 {
                (
                    "auth.forbidden",
                    "The token is recognised but not allowed to read users (403 Forbidden)",
                    "Give the token (or the account it belongs to) the provisioning or admin permission the application requires for SCIM, then test again.",
                )
            } else {
                (
                    "auth.token-rejected",
                    "The endpoint rejects the Secret Token (401 Unauthorized)",
                    "Generate a new Secret Token in the application's admin console and paste it into Entra exactly: no quotes, no spaces, no `Bearer ` prefix. Make sure it belongs to the same tenant or environment as the Tenant URL.",
                )
            };
            self.add(
                F::error(code, title, fix)
                    .details(facts)
                    .probe(step)
                    .entra(credentials()),
            );
        }
    }

    /// A 3xx: Entra does not follow it. Same-origin targets are probed once.
    async fn redirect(
        &mut self,
        what: &str,
        step: usize,
        status: u16,
        location: Option<String>,
        url: &str,
    ) {
        let fix_direct = format!(
            "Make the endpoint answer {} directly, without a redirect.",
            if what == "users" { "/Users" } else { "/Groups" }
        );
        let Some(raw) = location else {
            self.note(step, false, format!("{status} without a Location header"));
            self.add(
                F::error(
                    "url.redirect",
                    format!(
                        "The endpoint answers {status} {} without saying where to",
                        reason(status)
                    ),
                    fix_direct,
                )
                .probe(step)
                .entra(unexpected(status)),
            );
            return;
        };
        let from = reqwest::Url::parse(url).ok();
        let Some(to) = from.as_ref().and_then(|f| f.join(&raw).ok()) else {
            self.note(
                step,
                false,
                format!("{status} to an unreadable Location `{raw}`"),
            );
            self.add(
                F::error(
                    "url.redirect",
                    format!("The endpoint redirects ({status}) to an invalid Location"),
                    fix_direct,
                )
                .detail(format!("Location: {raw}"))
                .probe(step)
                .entra(unexpected(status)),
            );
            return;
        };
        let target_shown = self.clean(to.as_str());
        self.note(
            step,
            false,
            format!(
                "{status} {}: redirects to {target_shown}; Entra does not follow redirects",
                reason(status)
            ),
        );
        let same_origin = from.as_ref().is_some_and(|f| f.origin() == to.origin());
        let suggestion = base_of_collection_url(&to).map(|b| suggest(&b, &self.target));
        let mut f = F::error(
            "url.redirect",
            format!("The endpoint redirects ({status} {}) instead of answering; Entra does not follow redirects", reason(status)),
            match &suggestion {
                Some(s) => format!("Set the Tenant URL to {s} (where the redirect points), or make the server answer without redirecting."),
                None => fix_direct.clone(),
            },
        )
        .detail(format!("Location: {target_shown}"))
        .probe(step)
        .entra(unexpected(status));
        if same_origin {
            let mut base = to.clone();
            base.set_query(None);
            let target = TenantUrl {
                base: base.as_str().trim_end_matches('/').to_string(),
                query: None,
            };
            match self.client(target, self.token.clone()) {
                Ok(c) => {
                    let mut req = OutRequest::new("GET", "");
                    req.query = to
                        .query_pairs()
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    let (s2, ex) = self
                        .send(
                            &c,
                            Stage::FollowUp,
                            "does the redirect target answer Entra's request? (same origin)",
                            "token",
                            &req,
                        )
                        .await;
                    let a = answer(&ex);
                    if a.is_list() {
                        self.note(s2, true, "the redirect target answers a ListResponse");
                        f = f.detail("the redirect target answers Entra's request correctly");
                    } else {
                        self.note(s2, false, describe_answer(&a));
                        f = f.detail(format!(
                            "the redirect target does not work either: {}",
                            describe_answer(&a)
                        ));
                    }
                    f = f.probe(s2);
                }
                Err(e) => f = f.detail(e),
            }
        } else {
            f = f.detail("the target is on another origin: scimcheck did not follow it, so the token was not sent there");
        }
        if let Some(s) = suggestion {
            f = f.suggest(s);
        }
        self.add(f);
    }

    /// The given Tenant URL answers 404 (or a web page): tries a trailing slash and sibling
    /// URLs on the same origin and reports the one that answers.
    async fn url_search(&mut self, client: &Client, step: usize, fallback: Option<F>) {
        // A server that routes only `/Users/`.
        let mut slash = users_probe();
        slash.path = "/Users/".into();
        let (s, ex) = self
            .send(
                client,
                Stage::FollowUp,
                "does /Users/ (with a trailing slash) answer?",
                "token",
                &slash,
            )
            .await;
        let a = answer(&ex);
        if a.is_list() {
            self.note(s, true, "a ListResponse: only the trailing slash differs");
            self.add(
                F::error(
                    "url.trailing-slash",
                    "The endpoint answers /Users/ (with a trailing slash) but not /Users",
                    "Entra requests /Users and /Groups without a trailing slash: make the server route both forms.",
                )
                .probe(step)
                .probe(s)
                .entra(not_found()),
            );
            return;
        }
        self.note(s, false, describe_answer(&a));
        let mut tried = vec![step, s];
        for (base, code) in url_variants(&self.target.base) {
            let target = TenantUrl {
                base: base.clone(),
                query: None,
            };
            let Ok(c) = self.client(target, self.token.clone()) else {
                continue;
            };
            let purpose = format!("is the SCIM endpoint at {}?", path_of(&base));
            let (s, ex) = self
                .send(&c, Stage::FollowUp, &purpose, "token", &users_probe())
                .await;
            tried.push(s);
            let a = answer(&ex);
            match &a {
                Answer::List { .. } | Answer::Denied { .. } => {
                    let good = a.is_list();
                    self.note(
                        s,
                        good,
                        if good {
                            "a ListResponse: the SCIM endpoint is here".to_string()
                        } else {
                            format!(
                                "{}: the endpoint is probably here, but the token is rejected",
                                describe_answer(&a)
                            )
                        },
                    );
                    let found = path_of(&base);
                    let given = path_of(&self.target.base);
                    let url = suggest(&base, &self.target);
                    let what = match code {
                        "url.includes-resource-path" => {
                            "The Tenant URL includes /Users or /Groups; Entra appends those itself"
                                .to_string()
                        }
                        "url.missing-scim-segment" => {
                            "The Tenant URL lacks the /scim path segment".to_string()
                        }
                        "url.missing-v2-segment" => {
                            "The Tenant URL lacks the /v2 path segment".to_string()
                        }
                        "url.missing-scim-v2-segments" => {
                            "The Tenant URL lacks the /scim/v2 path segments".to_string()
                        }
                        "url.extra-path-segment" => {
                            "The Tenant URL has path segments too many".to_string()
                        }
                        _ => "The Tenant URL has the wrong path".to_string(),
                    };
                    let mut f = F::error(
                        code,
                        format!("{what}: the SCIM endpoint answers at {found}, not at {given}"),
                        format!("Set the Tenant URL to {url}"),
                    )
                    .entra(not_found())
                    .suggest(url);
                    for t in &tried {
                        f = f.probe(*t);
                    }
                    if !good {
                        f = f.detail("there the token is rejected too: see the auth findings after changing the URL");
                    }
                    self.add(f);
                    return;
                }
                Answer::Transport(_) => {
                    self.note(s, false, describe_answer(&a));
                    break;
                }
                _ => self.note(s, false, describe_answer(&a)),
            }
        }
        match fallback {
            Some(f) => {
                let f = tried.iter().fold(f, |f, t| f.probe(*t));
                self.add(f);
            }
            None => {
                let mut f = F::error(
                    "users.not-found",
                    "GET /Users answers 404 at the Tenant URL and at every common variant of it",
                    "Find the SCIM base URL in the application's documentation or admin console: the Tenant URL is the path under which /Users and /Groups live (often ending in /scim or /scim/v2).",
                )
                .entra(not_found());
                f = f.detail(format!(
                    "tried {} variant(s) of the path on the same host",
                    tried.len().saturating_sub(2)
                ));
                for t in tried {
                    f = f.probe(t);
                }
                self.add(f);
            }
        }
    }

    fn server_error(&mut self, what: &str, step: usize, status: u16, detail: Option<String>) {
        self.note(
            step,
            false,
            format!("{status} {}: the server failed", reason(status)),
        );
        let d = detail.map(|d| format!("{what} probe: server says: {d}"));
        self.add(
            F::error(
                "server.error",
                format!("The endpoint fails with {status} {} on Entra's {what} probe", reason(status)),
                "Fix the server error (see its logs for this request); Entra's probes are plain filter queries that must answer 200.",
            )
            .details(d)
            .probe(step)
            .entra(unexpected(status)),
        );
    }

    async fn groups(&mut self, client: &Client, step: usize, ans: &Answer, url: &str) {
        match ans {
            Answer::List { total, problems } => {
                self.note(step, true, "");
                self.list_extras("groups", step, *total, problems);
            }
            Answer::NotFound { detail, .. } => {
                self.note(
                    step,
                    false,
                    "404 where Entra expects 200 and an empty ListResponse",
                );
                if let Some(d) = detail {
                    self.note(step, false, format!("server says: {d}"));
                }
                let (s2, ex) = self
                    .send(
                        client,
                        Stage::FollowUp,
                        "does /Groups answer without a filter?",
                        "token",
                        &unfiltered("Groups"),
                    )
                    .await;
                let plain = answer(&ex);
                if plain.is_list() {
                    self.note(s2, true, "a ListResponse: the collection exists");
                    self.add(
                        F::error(
                            "groups.empty-filter-404",
                            "A group filter that matches nothing answers 404 instead of an empty ListResponse",
                            "Answer a filter query with 200 and a ListResponse, also when nothing matches (RFC 7644 section 3.4.2).",
                        )
                        .probe(step)
                        .probe(s2)
                        .entra(not_found()),
                    );
                } else {
                    self.note(s2, false, describe_answer(&plain));
                    self.add(
                        F::error(
                            "groups.not-found",
                            "/Groups answers 404: Test Connection fails even if the app only provisions users",
                            "Implement GET /Groups: at least answer Entra's filter query with 200 and an empty ListResponse, even if the application has no groups. Then turn off group provisioning in the Entra mappings if groups are not wanted.",
                        )
                        .probe(step)
                        .probe(s2)
                        .entra(Some(EntraMessage {
                            code: Some(entra::INCOMPATIBLE_CODE),
                            text: entra::NOT_FOUND.to_string(),
                            verbatim: true,
                        })),
                    );
                }
            }
            Answer::ClientError { status, detail } => {
                self.note(
                    step,
                    false,
                    format!("{status} {} where Entra expects 200", reason(*status)),
                );
                let d = detail.as_ref().map(|d| format!("server says: {d}"));
                let (s2, ex) = self
                    .send(
                        client,
                        Stage::FollowUp,
                        "is `excludedAttributes=members` the problem?",
                        "token",
                        &groups_probe(false),
                    )
                    .await;
                let plain = answer(&ex);
                if plain.is_list() {
                    self.note(s2, true, "a ListResponse without excludedAttributes");
                    self.add(
                        F::error(
                            "groups.excluded-attributes-rejected",
                            format!("`excludedAttributes=members` is rejected with {status} {}", reason(*status)),
                            "Accept the `excludedAttributes` query parameter (RFC 7644 section 3.4.2.5); at the very least ignore it rather than failing.",
                        )
                        .details(d)
                        .probe(step)
                        .probe(s2)
                        .entra(unexpected(*status)),
                    );
                } else {
                    self.note(s2, false, describe_answer(&plain));
                    self.add(
                        F::error(
                            "groups.error",
                            format!("Entra's groups probe answers {status} {}", reason(*status)),
                            "GET /Groups?excludedAttributes=members&filter=displayName eq \"...\" must answer 200 and a ListResponse.",
                        )
                        .details(d)
                        .probe(step)
                        .probe(s2)
                        .entra(unexpected(*status)),
                    );
                }
            }
            Answer::ServerError { status, detail } => {
                self.server_error("groups", step, *status, detail.clone())
            }
            Answer::Denied { status, detail, .. } => {
                self.note(
                    step,
                    false,
                    format!(
                        "{status} {}: the token is rejected for /Groups",
                        reason(*status)
                    ),
                );
                self.add(
                    F::error(
                        "groups.denied",
                        format!("The token is accepted for /Users but rejected for /Groups ({status} {})", reason(*status)),
                        "Give the token permission to read groups too: Entra probes /Groups on every Test Connection.",
                    )
                    .details(detail.as_ref().map(|d| format!("server says: {d}")))
                    .probe(step)
                    .entra(credentials()),
                );
            }
            Answer::Redirect { status, location } => {
                self.redirect("groups", step, *status, location.clone(), url)
                    .await
            }
            Answer::Html { title, .. } => {
                self.note(step, false, "an HTML page instead of a SCIM ListResponse");
                self.add(
                    F::error(
                        "groups.html",
                        "/Groups answers with an HTML page, not SCIM JSON",
                        "Route /Groups to the SCIM API and answer a ListResponse.",
                    )
                    .details(title.iter().map(|t| format!("page title: {t}")))
                    .probe(step)
                    .entra(not_deserializable()),
                );
            }
            Answer::Unparsable { why } => {
                self.note(step, false, why.clone());
                self.add(
                    F::error("response.not-json", "The response body is not valid JSON", "Answer with a JSON ListResponse and `Content-Type: application/scim+json`.")
                        .detail(format!("groups probe: {why}"))
                        .probe(step)
                        .entra(not_deserializable()),
                );
            }
            Answer::NotList { why } => {
                self.note(step, false, why.clone());
                self.add(
                    F::error(
                        "groups.not-list-response",
                        "Entra's groups probe does not get a ListResponse",
                        "A filter query always answers a ListResponse, even with no hits.",
                    )
                    .detail(why.clone())
                    .probe(step)
                    .entra(not_deserializable()),
                );
            }
            Answer::Transport(e) => {
                let e = e.clone();
                self.transport(&e, step, url).await;
            }
        }
    }

    /// Content types of the Test Connection answers that carried JSON.
    fn content_types(&mut self, exchanges: &[(usize, &Exchange)]) {
        for (step, ex) in exchanges {
            let Ok(r) = &ex.response else { continue };
            if r.body.trim().is_empty() || r.json().is_none() {
                continue;
            }
            match media_type(r).as_deref() {
                Some("application/scim+json") => {}
                Some("application/json") => {
                    self.note(
                        *step,
                        self.probes[*step - 1].ok,
                        "Content-Type is application/json, not application/scim+json",
                    );
                    self.add(
                        F::warning(
                            "response.json-content-type",
                            "Responses say `Content-Type: application/json` instead of `application/scim+json`",
                            "Answer with `Content-Type: application/scim+json` (RFC 7644 section 8.1), errors included. Entra's provisioning tolerates application/json, but Microsoft's SCIM Validator stops at the first such response.",
                        )
                        .probe(*step),
                    );
                }
                other => {
                    let shown = other.unwrap_or("(none)").to_string();
                    self.note(
                        *step,
                        self.probes[*step - 1].ok,
                        format!("Content-Type is {shown}"),
                    );
                    self.add(
                        F::warning(
                            "response.wrong-content-type",
                            format!("A JSON response says `Content-Type: {shown}`"),
                            "Answer with `Content-Type: application/scim+json` (RFC 7644 section 8.1).",
                        )
                        .probe(*step),
                    );
                }
            }
        }
    }

    fn slow_responses(&mut self) {
        let slow: Vec<(usize, String)> = self
            .probes
            .iter()
            .filter(|p| p.slow)
            .map(|p| {
                (
                    p.step,
                    format!(
                        "[{}] {} {} took {}",
                        p.step,
                        p.method,
                        readable_path(&p.url),
                        render::duration(p.elapsed_ms)
                    ),
                )
            })
            .collect();
        if slow.is_empty() {
            return;
        }
        let limit = render::duration(self.slow.as_millis() as u64);
        let mut f = F::warning(
            "slow.response",
            format!("{} response(s) took longer than {limit}", slow.len()),
            "Make the filter queries fast (index userName, externalId and displayName): Entra sends one for every user and group it provisions, and slow answers make provisioning cycles time out.",
        );
        for (step, line) in slow {
            f = f.probe(step).detail(line);
        }
        self.add(f);
    }

    fn finish(mut self) -> Report {
        self.findings
            .sort_by_key(|f| (!f.blocks_test_connection, f.severity, rank(&f.code)));
        let first = self.findings.iter().find(|f| f.blocks_test_connection);
        let outcome = if self.unreachable {
            Outcome::Unreachable
        } else if first.is_some() {
            Outcome::Fail
        } else {
            Outcome::Pass
        };
        let entra = first.and_then(|f| f.entra.clone());
        let summary = match (&outcome, &entra) {
            (Outcome::Pass, _) => "Entra's Test Connection would pass".to_string(),
            (_, Some(m)) => format!("Entra's Test Connection would fail: {}", m.text),
            (_, None) => format!(
                "Entra's Test Connection would fail: {}",
                first.map(|f| f.title.clone()).unwrap_or_default()
            ),
        };
        let exit_code = match outcome {
            Outcome::Pass => exit::OK,
            Outcome::Fail => exit::CHECK_FAILED,
            Outcome::Unreachable => exit::UNREACHABLE,
        };
        Report {
            tenant_url: self.clean(&self.input),
            verdict: Verdict {
                outcome,
                summary,
                entra,
            },
            findings: self.findings,
            probes: self.probes,
            token: TokenFacts {
                bearer_prefix: self.stripped.is_some(),
                jwt: self.jwt,
            },
            slow_threshold_ms: self.slow.as_millis() as u64,
            exit_code,
        }
    }
}

/// A transport error without reqwest's wrapping (`error sending request for url (...)`).
fn short_error(s: &str) -> String {
    s.split(": ")
        .filter(|p| {
            !p.starts_with("error sending request for url") && *p != "client error (Connect)"
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// A few words on an answer, for a probe's notes.
fn describe_answer(a: &Answer) -> String {
    match a {
        Answer::Transport(e) => format!("no response: {e}"),
        Answer::Redirect { status, location } => format!(
            "{status} {} to {}",
            reason(*status),
            location.as_deref().unwrap_or("nowhere")
        ),
        Answer::Denied { status, .. } => format!("{status} {}", reason(*status)),
        Answer::NotFound { .. } => "404 Not Found".into(),
        Answer::ServerError { status, .. } | Answer::ClientError { status, .. } => {
            format!("{status} {}", reason(*status))
        }
        Answer::Html { .. } => "an HTML page".into(),
        Answer::Unparsable { why } | Answer::NotList { why } => why.clone(),
        Answer::List { .. } => "a ListResponse".into(),
    }
}

/// Runs Entra's Test Connection against `opts.url` and diagnoses what fails.
/// Errors only for unusable input (a Tenant URL that does not parse, a bad `--ca-cert`).
pub async fn diagnose(opts: ConnectOptions) -> Result<Report, String> {
    let target = TenantUrl::parse(&opts.url)?;
    let raw = opts.token.expose().to_string();
    let stripped = token::strip_bearer_prefix(&raw).map(Secret::new);
    let jwt_source = stripped.as_ref().map_or(raw.as_str(), |s| s.expose());
    let jwt = token::decode_jwt(jwt_source, chrono::Utc::now());
    let mut secrets = vec![opts.token.clone()];
    secrets.extend(stripped.clone());
    let mut options = opts.client.clone();
    options.read_only = true;
    options.max_retries = 0;
    let mut d = Diag {
        input: opts.url.trim().to_string(),
        target: target.clone(),
        token: opts.token.clone(),
        secrets,
        stripped,
        jwt,
        options,
        slow: opts.slow,
        probes: vec![],
        findings: vec![],
        unreachable: false,
    };
    let client = d.client(target.clone(), opts.token.clone())?;
    d.precheck();

    let (us, users_ex) = d
        .send(&client, Stage::TestConnection, "Entra's users probe: a filter on a random userName, expecting 200 and an empty ListResponse", "token", &users_probe())
        .await;
    let users = answer(&users_ex);
    let users_url = users_ex.request.url.clone();
    if let Answer::Transport(e) = &users {
        let e = e.clone();
        d.unreachable = !matches!(e, TransportError::Body(_));
        d.transport(&e, us, &users_url).await;
        return Ok(d.finish());
    }
    let (gs, groups_ex) = d
        .send(&client, Stage::TestConnection, "Entra's groups probe: a filter on a random displayName without members, expecting 200 and an empty ListResponse", "token", &groups_probe(true))
        .await;
    let groups = answer(&groups_ex);
    let groups_url = groups_ex.request.url.clone();
    let reached = d.users(&client, us, &users, &users_url).await;
    if reached {
        d.groups(&client, gs, &groups, &groups_url).await;
    } else {
        d.note(gs, false, "not judged: the users probe failed first");
    }
    if users.is_list() {
        if d.stripped.is_some() {
            d.add(
                F::warning(
                    "auth.bearer-prefix",
                    "The Secret Token starts with `Bearer `; this endpoint happens to accept `Bearer Bearer ...`",
                    "Paste only the token itself into Secret Token: Entra adds `Bearer ` on its own.",
                )
                .probe(us),
            );
        }
        if let Some(jwt) = d.jwt.clone().filter(|j| j.expired) {
            let when = jwt
                .exp
                .map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            d.add(
                F::warning(
                    "auth.jwt-expired",
                    format!("The Secret Token is a JWT that expired on {when}, yet the endpoint accepts it"),
                    "The endpoint does not check `exp`: fix the validation, and give Entra a token that has not expired.",
                )
                .details(jwt.iss.map(|i| format!("iss: {i}")))
                .probe(us),
            );
        }
    }
    d.content_types(&[(us, &users_ex), (gs, &groups_ex)]);
    d.slow_responses();
    Ok(d.finish())
}

/// Replaces the token, and the token without a pasted `Bearer ` prefix, in `text`.
pub fn redact_output(text: &str, token: &Secret) -> String {
    let once = token.redact(text);
    match token::strip_bearer_prefix(token.expose()) {
        Some(bare) => Secret::new(bare).redact(&once),
        None => once,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(base: &str) -> Vec<(String, &'static str)> {
        url_variants(base)
            .into_iter()
            .map(|(u, c)| (readable_path(&u), c))
            .collect()
    }

    #[test]
    fn url_variants_add_and_remove_scim_and_v2_and_try_an_api_prefix() {
        let v = paths("https://h/scim/v2");
        assert_eq!(
            v,
            vec![
                ("/scim".to_string(), "url.extra-path-segment"),
                ("/v2".to_string(), "url.wrong-path"),
                ("/".to_string(), "url.extra-path-segment"),
                ("/api/scim/v2".to_string(), "url.wrong-path"),
                ("/api/scim".to_string(), "url.wrong-path"),
            ]
        );
        let root = paths("https://h");
        assert_eq!(
            root[0],
            ("/scim/v2".to_string(), "url.missing-scim-v2-segments")
        );
        assert_eq!(root[1], ("/scim".to_string(), "url.missing-scim-segment"));
        assert_eq!(root[2], ("/v2".to_string(), "url.missing-v2-segment"));
        let users = paths("https://h/scim/v2/Users");
        assert_eq!(
            users[0],
            ("/scim/v2".to_string(), "url.includes-resource-path")
        );
        let api = paths("https://h/api/scim/v2");
        assert!(api.contains(&("/scim/v2".to_string(), "url.wrong-path")));
        assert!(url_variants("https://h/a/b/c").len() <= MAX_VARIANTS);
    }

    #[test]
    fn tls_failures_are_told_apart_by_the_error_text() {
        assert_eq!(
            tls_code("invalid peer certificate: UnknownIssuer", None),
            Some("tls.untrusted")
        );
        assert_eq!(
            tls_code(
                "invalid peer certificate: certificate expired: verification time",
                None
            ),
            Some("tls.expired")
        );
        assert_eq!(
            tls_code("certificate not valid for name \"x\"", None),
            Some("tls.wrong-host")
        );
        assert_eq!(
            tls_code("received fatal alert: ProtocolVersion", None),
            Some("tls.old-version")
        );
        assert_eq!(
            tls_code("received corrupt message of type InvalidContentType", None),
            Some("tls.not-tls")
        );
        assert_eq!(tls_code("connection reset by peer", None), None);
    }

    #[test]
    fn readable_paths_are_percent_decoded() {
        assert_eq!(
            readable_path("https://h/scim/Users?filter=userName%20eq%20%22a%22"),
            "/scim/Users?filter=userName eq \"a\""
        );
    }
}
