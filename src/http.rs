//! The one HTTP client: Tenant URL joining, bearer auth, timeouts, body cap, `Retry-After`,
//! redirects reported (never followed), the token redacted from everything recorded, and the
//! ledger of resources this run created, which also guards writes: scimcheck never sends PATCH,
//! PUT or DELETE to a resource it did not create in this run.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::scenario::Dialect;
use crate::scenario::model::Auth;

/// The marker that replaces secrets in every output.
pub const REDACTED: &str = "REDACTED";

/// Secrets at least this long are redacted wherever they occur, even inside a longer word;
/// shorter ones only as whole words.
const LONG_TOKEN: usize = 12;

/// A secret token: it formats as `REDACTED`, never as itself. Redaction also covers the forms
/// a server may echo it back in (base64, percent-encoded, JSON-, XML- or HTML-escaped), the bare
/// token when it was pasted with its `Bearer ` prefix, and any other secret of the run (values
/// from the Tenant URL's query or userinfo), see [`Secret::also`]. Clones share one set of
/// redacted strings: a secret learnt later ([`Secret::register`], e.g. an OAuth access token
/// issued mid-run) is redacted by every reporter, hook and client holding a clone.
#[derive(Clone)]
pub struct Secret {
    token: String,
    /// Every string replaced by `REDACTED`, longest first.
    forms: Arc<std::sync::RwLock<Vec<String>>>,
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token && *self.forms() == *other.forms()
    }
}

impl Eq for Secret {}

/// Texts longer than this are not searched for a split token (the search costs five bytes of
/// memory per byte): every output is shorter at default limits (bodies are kept to 16 KiB in
/// events and reports); only a whole response body near `--max-body-mib` is longer, and it is
/// redacted whole-token, then cut to an excerpt that is searched.
const MAX_SPLIT_SCAN: usize = 4 << 20;

/// The shortest secret redacted: shorter strings would blank out ordinary text.
const MIN_SECRET: usize = 4;

impl Secret {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        let token = token.into();
        let s = Secret {
            token: token.clone(),
            forms: Arc::default(),
        };
        s.add(&token);
        if let Some(bare) = strip_scheme(&token) {
            s.add(bare);
        }
        s
    }

    /// Also redacts `value` (and its encoded forms) wherever the token is redacted.
    pub fn also(self, value: &str) -> Self {
        self.add(value);
        self
    }

    /// Redacts `value` (and its encoded forms) from now on, in every clone of this secret:
    /// for secrets learnt during a run, such as an issued OAuth access token.
    pub fn register(&self, value: &str) {
        self.add(value);
    }

    fn forms(&self) -> std::sync::RwLockReadGuard<'_, Vec<String>> {
        self.forms.read().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, value: &str) {
        use base64::Engine;
        if value.len() < MIN_SECRET {
            return;
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json.trim_matches('"').to_string();
        let forms = [
            value.to_string(),
            encode(value),
            encode(value).replace("%20", "+"),
            form_encode(value),
            json,
            xml_escape(value),
            xml_escape(value).replace("&apos;", "&#39;"),
            xml_escape(value).replace("&apos;", "&#x27;"),
            xml_escape(value).replace("&apos;", "'"),
            serde_json::to_string(value)
                .unwrap_or_default()
                .trim_matches('"')
                .replace('/', "\\/"),
            b64.encode(value),
            b64.encode(format!(":{value}")),
            b64.encode(format!("{value}:")),
        ];
        let mut known = self.forms.write().unwrap_or_else(|e| e.into_inner());
        for f in forms {
            if f.len() >= MIN_SECRET && !known.contains(&f) {
                known.push(f);
            }
        }
        known.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// The token itself, only for the `Authorization` header and for redaction.
    pub fn expose(&self) -> &str {
        &self.token
    }

    /// Replaces the token, in any of its forms, in `text` with `REDACTED`: every occurrence of
    /// a long form, and every whole occurrence (not inside a longer word) of a short one, so
    /// that a token such as `scim` or `Jensen` never rewrites `scimcheck` or `Jensen-Smith`.
    pub fn redact(&self, text: &str) -> String {
        let mut out: Option<String> = None;
        for f in self.forms().iter() {
            let cur = out.as_deref().unwrap_or(text);
            if cur.contains(f.as_str()) {
                out = Some(replace_form(cur, f));
            }
        }
        let out = out.unwrap_or_else(|| text.to_string());
        self.redact_split(out)
    }

    /// Redacts the long forms of the secret where breaks split them: whitespace (a line of a
    /// diff with the next line's marker and indentation, an excerpt that joined lines), or a
    /// line break escaped as `\n` / `\r` (once or more, as in a JSON report of a JSON body) or
    /// shown as `\x0d`. Each piece becomes `REDACTED`; the breaks stay.
    fn redact_split(&self, text: String) -> String {
        let forms = self.forms();
        if !forms.iter().any(|f| f.len() >= LONG_TOKEN) || text.len() > MAX_SPLIT_SCAN {
            return text;
        }
        // The text without its line breaks, and where each of its bytes is in `text`.
        let bytes = text.as_bytes();
        let mut squeezed = String::with_capacity(text.len());
        let mut at: Vec<u32> = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            let brk = line_break_len(bytes, i);
            if brk > 0 {
                i += brk;
                continue;
            }
            let c = text[i..].chars().next().unwrap_or_default();
            squeezed.push(c);
            at.extend((i..i + c.len_utf8()).map(|b| b as u32));
            i += c.len_utf8();
        }
        if squeezed.len() == text.len() {
            return text;
        }
        // Byte ranges of `text` to redact.
        let mut cuts: Vec<(usize, usize)> = Vec::new();
        for f in forms.iter().filter(|f| f.len() >= LONG_TOKEN) {
            for (start, _) in squeezed.match_indices(f.as_str()) {
                let (from, to) = (at[start] as usize, at[start + f.len() - 1] as usize + 1);
                if to - from > f.len() {
                    cuts.push((from, to));
                }
            }
        }
        if cuts.is_empty() {
            return text;
        }
        cuts.sort();
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (from, to) in cuts {
            if from < done {
                continue;
            }
            out.push_str(&text[done..from]);
            // Each piece between breaks becomes REDACTED; the breaks themselves are kept.
            let mut j = from;
            let mut piece = false;
            while j < to {
                let brk = line_break_len(bytes, j).min(to - j);
                if brk > 0 {
                    out.push_str(&text[j..j + brk]);
                    j += brk;
                    piece = false;
                } else {
                    if !piece {
                        out.push_str(REDACTED);
                        piece = true;
                    }
                    j += text[j..].chars().next().map_or(1, char::len_utf8);
                }
            }
            done = to;
        }
        out.push_str(&text[done..]);
        out
    }

    /// [`Secret::redact`] for text that was cut at its end: a tail that is the beginning of a
    /// secret is redacted too (truncate first, then redact, and nothing of a token survives).
    pub fn redact_cut(&self, text: &str) -> String {
        let mut out = self.redact(text);
        for f in self.forms().iter() {
            let max = f.len().min(out.len());
            if let Some(n) = (3..max)
                .rev()
                .find(|&n| f.is_char_boundary(n) && out.ends_with(&f[..n]))
            {
                let keep = out.len() - n;
                out.truncate(keep);
                out.push_str(REDACTED);
                break;
            }
        }
        out
    }
}

/// The length of the break at `i` in `text`, 0 when there is none: whitespace (a line break
/// with the next line's diff marker `+` / `-`), or a line break or tab escaped with one or
/// more backslashes (`\n`, `\\r`, `\x0d` as the terminal shows a carriage return).
fn line_break_len(text: &[u8], i: usize) -> usize {
    match text[i] {
        b'\n' | b'\r' if matches!(text.get(i + 1), Some(b'+' | b'-')) => 2,
        b' ' | b'\t' | b'\n' | b'\r' => 1,
        b'\\' => {
            let mut j = i;
            while j < text.len() && text[j] == b'\\' {
                j += 1;
            }
            let rest = &text[j..];
            if rest.starts_with(b"x0a") || rest.starts_with(b"x0d") || rest.starts_with(b"x09") {
                j + 3 - i
            } else if matches!(rest.first(), Some(b'n' | b'r' | b't')) {
                j + 1 - i
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// `Bearer abc` -> `abc` (a token pasted with its scheme).
fn strip_scheme(token: &str) -> Option<&str> {
    let (scheme, rest) = token.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty()).then(|| rest.trim())
}

/// `application/x-www-form-urlencoded`: spaces as `+`, everything else but `*-._` and
/// alphanumerics percent-encoded.
pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `&<>"'` as XML / HTML entities.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `text` with `form` replaced by `REDACTED`: everywhere for a long form, as a whole word only
/// for a short one.
fn replace_form(text: &str, form: &str) -> String {
    if form.len() >= LONG_TOKEN {
        return text.replace(form, REDACTED);
    }
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(form) {
        let prev = rest[..at].chars().next_back().or(before);
        let next = rest[at + form.len()..].chars().next();
        let whole = !prev.is_some_and(word) && !next.is_some_and(word);
        out.push_str(&rest[..at]);
        out.push_str(if whole { REDACTED } else { form });
        before = form.chars().next_back();
        rest = &rest[at + form.len()..];
    }
    out.push_str(rest);
    out
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The Tenant URL as Entra uses it: a base onto which `/Users` etc. are joined, and a query
/// string (`?aadOptscim062020`) that is remembered for the dialect but kept off joined paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantUrl {
    /// Scheme, host and path, without a trailing slash or query.
    pub base: String,
    /// The query string as given (without `?`), if any.
    pub query: Option<String>,
}

/// The query parameters of a Tenant URL that are flags, not secrets: shown as they are.
const DIALECT_FLAGS: [&str; 1] = ["aadOptscim062020"];

impl TenantUrl {
    /// Parses and checks an `http(s)://` Tenant URL; one that carries credentials
    /// (`https://user:pw@host/...`) is refused (see [`TenantUrl::parse_with`]).
    pub fn parse(input: &str) -> Result<TenantUrl, String> {
        TenantUrl::parse_with(input, false)
    }

    /// Parses and checks an `http(s)://` Tenant URL; userinfo is accepted only when
    /// `allow_credentials` (`--allow-url-credentials`).
    pub fn parse_with(input: &str, allow_credentials: bool) -> Result<TenantUrl, String> {
        let input = input.trim();
        let url = reqwest::Url::parse(input)
            .map_err(|e| format!("`{}` is not a valid URL: {e}", redact_url_text(input)))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!(
                "the Tenant URL must start with https:// (got `{}://`)",
                url.scheme()
            ));
        }
        if url.host_str().is_none() {
            return Err(format!(
                "the Tenant URL `{}` has no host",
                redact_url_text(input)
            ));
        }
        if (!url.username().is_empty() || url.password().is_some()) && !allow_credentials {
            return Err(
                "the Tenant URL carries credentials (`user:password@`): Entra sends the Secret Token as a bearer token, and credentials in a URL end up in logs. Remove them, or pass --allow-url-credentials to send them (as HTTP Basic auth, next to the token)"
                    .into(),
            );
        }
        let (base, query) = match input.split_once('?') {
            Some((b, q)) => (b, Some(q.split('#').next().unwrap_or(q).to_string())),
            None => (input, None),
        };
        let base = base
            .split('#')
            .next()
            .unwrap_or(base)
            .trim_end_matches('/')
            .to_string();
        Ok(TenantUrl { base, query })
    }

    /// The secrets this URL carries: userinfo, and every query value but the dialect flags'.
    /// They are redacted from all output like the token (see [`Secret::also`]).
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(url) = reqwest::Url::parse(&self.base) {
            if !url.username().is_empty() {
                out.push(url.username().to_string());
            }
            if let Some(p) = url.password() {
                out.push(p.to_string());
            }
        }
        for (k, v) in self.query_pairs() {
            if !v.is_empty() && !DIALECT_FLAGS.contains(&k) {
                out.push(v.to_string());
                if let Ok(decoded) = percent_decode(v) {
                    out.push(decoded);
                }
            }
        }
        out.retain(|s| !s.is_empty());
        out
    }

    /// Whether the URL carries userinfo (sent by the HTTP client as Basic auth).
    pub fn has_credentials(&self) -> bool {
        reqwest::Url::parse(&self.base)
            .is_ok_and(|u| !u.username().is_empty() || u.password().is_some())
    }

    fn query_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
    }

    /// The absolute URL of `path` (`/Users`, `Users/1`, ...).
    pub fn join(&self, path: &str) -> String {
        if path.is_empty() {
            return self.base.clone();
        }
        if path.starts_with('/') {
            format!("{}{path}", self.base)
        } else {
            format!("{}/{path}", self.base)
        }
    }

    /// The dialect Entra would use for this Tenant URL: compliant when the query carries
    /// `aadOptscim062020` (or the older `AzureAdScimPatch062020`), the default (legacy) dialect
    /// otherwise, and always when it carries `AzureAdScimPatch2017`, the documented roll-back
    /// flag (application-provisioning-config-problem-scim-compatibility). Flag names compare
    /// case-insensitively.
    pub fn dialect(&self) -> Dialect {
        let flags: Vec<&str> = self
            .query
            .as_deref()
            .map(|q| q.split('&').filter_map(|p| p.split('=').next()).collect())
            .unwrap_or_default();
        let has = |name: &str| flags.iter().any(|f| f.eq_ignore_ascii_case(name));
        if has("AzureAdScimPatch2017") {
            Dialect::Default
        } else if has("aadOptscim062020") || has("AzureAdScimPatch062020") {
            Dialect::Compliant
        } else {
            Dialect::Default
        }
    }
}

impl fmt::Display for TenantUrl {
    /// The URL as shown to people and in reports: userinfo and query values (but the dialect
    /// flags) replaced by `REDACTED`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url_text(&self.base))?;
        if self.query.is_some() {
            let q: Vec<String> = self
                .query
                .as_deref()
                .unwrap_or_default()
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, v)) if !v.is_empty() && !DIALECT_FLAGS.contains(&k) => {
                        format!("{k}={REDACTED}")
                    }
                    _ => p.to_string(),
                })
                .collect();
            write!(f, "/?{}", q.join("&"))?;
        }
        Ok(())
    }
}

/// `https://user:pw@host/x` -> `https://REDACTED@host/x` (text that may not parse as a URL).
fn redact_url_text(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{REDACTED}@{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

/// The media type of a `Content-Type` value, without parameters, lower-cased
/// (`Application/SCIM+JSON; charset=utf-8` -> `application/scim+json`).
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A form or query value: `%2B` -> `+`, `+` -> space; `Err` when the result is not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Result<String, std::str::Utf8Error> {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
}

/// A URL path (or query, as text): `%XX` escapes decoded, `+` kept, invalid escapes and
/// invalid UTF-8 kept as they are (lossy).
pub(crate) fn percent_decode_path(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Per-request timeout.
    pub timeout: Duration,
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Largest response body read; beyond it the rest is not buffered.
    pub max_body: usize,
    /// Turn TLS verification off (said loudly elsewhere).
    pub insecure: bool,
    /// Extra trusted root certificate (PEM).
    pub ca_cert: Option<Vec<u8>>,
    /// Explicit proxy URL (otherwise `HTTPS_PROXY` / `NO_PROXY` apply).
    pub proxy: Option<String>,
    /// Allow PATCH / PUT / DELETE on resources this run did not create.
    pub allow_foreign_writes: bool,
    /// How many times a 429 / 503 with `Retry-After` is retried.
    pub max_retries: u32,
    /// The longest `Retry-After` waited out.
    pub max_retry_wait: Duration,
    /// Refuse every request that could write (anything but GET and HEAD).
    pub read_only: bool,
    /// How long, in all, cleanup and the look-up of lost creates retry transient failures.
    pub cleanup_retry: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body: 10 * 1024 * 1024,
            insecure: false,
            ca_cert: None,
            proxy: None,
            allow_foreign_writes: false,
            max_retries: 3,
            max_retry_wait: Duration::from_secs(60),
            read_only: false,
            cleanup_retry: Duration::from_secs(30),
        }
    }
}

/// A request to send, relative to the Tenant URL.
#[derive(Debug, Clone)]
pub struct OutRequest {
    /// HTTP method, upper-case.
    pub method: String,
    /// Path relative to the Tenant URL.
    pub path: String,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<Value>,
    /// Which credentials to send.
    pub auth: Auth,
}

impl OutRequest {
    /// A request with no query, headers or body, carrying the token.
    pub fn new(method: &str, path: impl Into<String>) -> Self {
        OutRequest {
            method: method.into(),
            path: path.into(),
            query: vec![],
            headers: vec![],
            body: None,
            auth: Auth::Token,
        }
    }
}

/// The request as sent, secrets redacted.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// The response as received (body as text, possibly cut at the cap).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Received {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body was longer than the cap and was cut.
    pub truncated: bool,
    /// 429/503 responses waited out before this one: (status, seconds waited).
    pub retries: Vec<(u16, f64)>,
}

impl Received {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON nested at most `--limit json-depth` deep.
    pub fn json(&self) -> Option<Value> {
        let depth = crate::limits::JSON_DEPTH.get_usize();
        if self.body.len() > 2 * depth && crate::limits::json_depth(&self.body) > depth {
            return None;
        }
        serde_json::from_str(&self.body).ok()
    }
}

/// Why no response was received.
#[derive(Debug, Clone, Serialize, PartialEq, thiserror::Error)]
pub enum TransportError {
    #[error("could not resolve the host name: {0}")]
    Dns(String),
    #[error("connection refused: {0}")]
    Refused(String),
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    #[error("connection failed: {0}")]
    Connect(String),
    #[error("the response could not be read: {0}")]
    Body(String),
    #[error(
        "scimcheck refused to send {method} {path}: that resource was not created by this run (use --allow-foreign-writes to override)"
    )]
    ForeignWrite { method: String, path: String },
    #[error("scimcheck refused to send {0}: --read-only allows only GET requests")]
    ReadOnly(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("no access token from the OAuth token endpoint: {0}")]
    Token(String),
}

impl TransportError {
    /// Whether this means the host could not be reached at all (exit code 3).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            TransportError::Dns(_)
                | TransportError::Refused(_)
                | TransportError::Tls(_)
                | TransportError::Connect(_)
        ) || matches!(self, TransportError::Timeout(_))
    }
}

/// One request and what came back.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Exchange {
    pub request: SentRequest,
    pub response: Result<Received, TransportError>,
    /// Wall time from send to the last byte.
    pub elapsed: Duration,
}

/// A resource this run created.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Created {
    /// Resource path relative to the Tenant URL, e.g. `/Users/2819c223`.
    pub path: String,
    /// userName / displayName, for people reading the list.
    pub label: String,
    /// Which scenario run created it (index into the plan).
    pub owner: usize,
}

/// A create whose outcome is unknown (no answer, a 5xx from a gateway, a 2xx without an id): the
/// resource may exist, so it is looked up by its unique name before cleanup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pending {
    /// `Users` or `Groups`.
    pub collection: String,
    /// The unique attribute sent: `userName`, `displayName` or `externalId`.
    pub attribute: &'static str,
    /// Its value (always carries the run prefix).
    pub value: String,
    /// Which scenario run sent it.
    pub owner: usize,
    /// The ledger's epoch when it was sent ([`Ledger::epoch`]): what was seen up to then
    /// existed before it.
    #[serde(skip)]
    pub sent_at: u64,
}

impl Pending {
    /// The request that finds it: `GET /Users?filter=userName eq "…"`.
    pub fn lookup(&self) -> String {
        format!(
            "GET /{}?filter={} eq \"{}\"",
            self.collection, self.attribute, self.value
        )
    }
}

/// Every resource this run created, and which of them are gone.
#[derive(Debug, Default)]
pub struct Ledger {
    created: Mutex<CreatedSet>,
    /// Creates whose outcome is unknown, until a look-up resolves them.
    pending: Mutex<Vec<Pending>>,
    /// Creates sent and not answered yet.
    in_flight: Mutex<Vec<Pending>>,
    /// Creates whose look-up failed: they may exist, nobody could tell.
    unconfirmed: Mutex<Vec<Pending>>,
    /// Creates the server answered with a resource this run did not create (an "upsert"), with
    /// whether its id was already known to this run before the create, and whether the runner
    /// has reported it yet.
    foreign: Mutex<Vec<(Created, bool, bool)>>,
    /// Every resource path (`/Users/<id>`) the run has seen in an answer or created, and not
    /// seen deleted since, with the epoch it was first seen at: a create answered with one
    /// seen before the create was sent answered with an existing resource.
    seen: Mutex<HashMap<Box<str>, u64>>,
    /// Counts the answers whose resources were noted as seen.
    epoch: std::sync::atomic::AtomicU64,
}

/// At most this many resource paths are remembered as seen (a few MiB at most).
pub const MAX_SEEN: usize = 200_000;

/// The created resources, each path stored once (a load run records 100,000 of them): a list
/// in creation order plus an index for O(1) `owns` / `record` / `mark_deleted`.
#[derive(Debug, Default)]
struct CreatedSet {
    entries: Vec<Entry>,
    index: HashMap<Arc<str>, usize>,
}

#[derive(Debug)]
struct Entry {
    path: Arc<str>,
    label: Box<str>,
    owner: usize,
    deleted: bool,
    /// The epoch it was recorded at (see [`Ledger::known_before`]).
    seen_at: u64,
}

impl Ledger {
    /// Notes a create on its way: until [`Ledger::landed`], the resource may or may not exist.
    pub fn take_off(&self, p: Pending) {
        self.in_flight.lock().expect("ledger lock").push(p);
    }

    /// The create was answered (or failed): it is recorded as created or pending now.
    pub fn landed(&self, p: &Pending) {
        let mut all = self.in_flight.lock().expect("ledger lock");
        if let Some(i) = all.iter().position(|q| q == p) {
            all.remove(i);
        }
    }

    /// Creates sent but not answered yet (for a person finishing cleanup by hand).
    pub fn in_flight(&self) -> Vec<Pending> {
        self.in_flight.lock().expect("ledger lock").clone()
    }

    /// Remembers a create whose outcome is unknown.
    pub fn record_pending(&self, p: Pending) {
        let mut all = self.pending.lock().expect("ledger lock");
        if !all.contains(&p) {
            all.push(p);
        }
    }

    /// The unresolved creates of `owner` (they stay listed until [`Ledger::resolve`]).
    pub fn pending_of(&self, owner: usize) -> Vec<Pending> {
        let all = self.pending.lock().expect("ledger lock");
        all.iter().filter(|p| p.owner == owner).cloned().collect()
    }

    /// Every create whose outcome is still unknown: not resolved yet, or its look-up failed.
    pub fn unresolved(&self) -> Vec<Pending> {
        let mut out = self.pending.lock().expect("ledger lock").clone();
        out.extend(self.unconfirmed());
        out
    }

    /// A look-up answered: the create is either recorded as created, or was never made.
    pub fn resolve(&self, p: &Pending) {
        self.pending.lock().expect("ledger lock").retain(|q| q != p);
    }

    /// A look-up failed for good: the resource may exist, and a person has to look.
    pub fn unconfirm(&self, p: &Pending) {
        self.resolve(p);
        self.unconfirmed
            .lock()
            .expect("ledger lock")
            .push(p.clone());
    }

    /// Creates whose look-up failed.
    pub fn unconfirmed(&self) -> Vec<Pending> {
        self.unconfirmed.lock().expect("ledger lock").clone()
    }

    /// Notes a create answered with a resource this run did not create; `known` when its id
    /// was already known to this run before the create.
    pub fn record_foreign(&self, c: Created, known: bool) {
        self.foreign
            .lock()
            .expect("ledger lock")
            .push((c, known, false));
    }

    /// The foreign answers of `owner` that `only` picks and were not reported yet (each is
    /// returned once), each with whether its id was known before the create.
    pub fn take_new_foreign(
        &self,
        owner: usize,
        only: impl Fn(&Created) -> bool,
    ) -> Vec<(Created, bool)> {
        let mut all = self.foreign.lock().expect("ledger lock");
        all.iter_mut()
            .filter(|(c, _, reported)| c.owner == owner && !*reported && only(c))
            .map(|(c, known, reported)| {
                *reported = true;
                (c.clone(), *known)
            })
            .collect()
    }

    /// Every create answered with a resource this run did not create.
    pub fn foreign(&self) -> Vec<Created> {
        let all = self.foreign.lock().expect("ledger lock");
        all.iter().map(|(c, _, _)| c.clone()).collect()
    }

    /// The current epoch: a create sent now was sent after every answer noted so far.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Remembers resource paths (`/Users/<id>`) shown by one answer, or created (at most
    /// [`MAX_SEEN`]), at a new epoch; a path keeps the epoch it was first seen at.
    pub fn note_seen(&self, paths: impl IntoIterator<Item = String>) {
        let mut seen = self.seen.lock().expect("ledger lock");
        let at = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        for p in paths {
            if seen.len() >= MAX_SEEN {
                break;
            }
            seen.entry(p.into_boxed_str()).or_insert(at);
        }
    }

    /// The resource at `path` is gone (deleted, or answered 404): an id the server hands out
    /// again later names a new resource.
    pub fn forget_seen(&self, path: &str) {
        self.seen.lock().expect("ledger lock").remove(path);
    }

    /// Whether this run already knew the resource at `path` at epoch `at` (when a create was
    /// sent): it had created it, or seen it in an answer, and not seen it deleted since. A
    /// resource first seen later (another job listed it while its create was on its way) is
    /// not known before.
    pub fn known_before(&self, path: &str, at: u64) -> bool {
        let seen = self.seen.lock().expect("ledger lock");
        if seen.get(path).is_some_and(|&e| e <= at) {
            return true;
        }
        drop(seen);
        let c = self.created.lock().expect("ledger lock");
        c.index.get(path).is_some_and(|&i| {
            let e = &c.entries[i];
            !e.deleted && e.seen_at <= at
        })
    }

    /// Records a created resource.
    pub fn record(&self, created: Created) {
        let mut c = self.created.lock().expect("ledger lock");
        if c.index.contains_key(created.path.as_str()) {
            return;
        }
        let seen_at = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let path: Arc<str> = created.path.into();
        let at = c.entries.len();
        c.index.insert(path.clone(), at);
        c.entries.push(Entry {
            path,
            label: created.label.into(),
            owner: created.owner,
            deleted: false,
            seen_at,
        });
    }

    /// Records a successful delete.
    pub fn mark_deleted(&self, path: &str) {
        self.forget_seen(path);
        let mut c = self.created.lock().expect("ledger lock");
        if let Some(&i) = c.index.get(path) {
            c.entries[i].deleted = true;
        }
    }

    /// A delete that could not be confirmed: the resource is listed as remaining again.
    pub fn unmark_deleted(&self, path: &str) {
        let mut c = self.created.lock().expect("ledger lock");
        if let Some(&i) = c.index.get(path) {
            c.entries[i].deleted = false;
        }
    }

    /// Whether this run created the resource at `path`.
    pub fn owns(&self, path: &str) -> bool {
        self.created
            .lock()
            .expect("ledger lock")
            .index
            .contains_key(path)
    }

    /// Resources created by `owner` that are not known to be deleted, newest first.
    pub fn remaining(&self, owner: Option<usize>) -> Vec<Created> {
        let c = self.created.lock().expect("ledger lock");
        c.entries
            .iter()
            .rev()
            .filter(|e| !e.deleted && owner.is_none_or(|o| e.owner == o))
            .map(|e| Created {
                path: e.path.to_string(),
                label: e.label.to_string(),
                owner: e.owner,
            })
            .collect()
    }
}

/// `/Users/abc?x=1` -> (`Users`, Some(`abc`)); `/Users` -> (`Users`, None).
fn resource_of(path: &str) -> (String, Option<String>) {
    let p = path
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .trim_matches('/');
    let mut parts = p.splitn(2, '/');
    let collection = parts.next().unwrap_or_default().to_string();
    let id = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    (collection, id)
}

/// Normalised resource path `/Users/abc` for a request path.
pub fn resource_path(path: &str) -> Option<String> {
    match resource_of(path) {
        (c, Some(id)) if !c.is_empty() => Some(format!("/{c}/{id}")),
        _ => None,
    }
}

/// The one HTTP client of a run.
pub struct Client {
    inner: reqwest::Client,
    target: TenantUrl,
    /// Redacts every secret of `credential` (shared with it).
    token: Secret,
    /// Where the bearer token comes from: the Secret Token or an OAuth client.
    credential: crate::credential::Credential,
    options: ClientOptions,
    /// What this run created.
    pub ledger: Arc<Ledger>,
    minted: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    run_prefix: String,
    /// Set on Ctrl-C / `--deadline`: a `Retry-After` wait is cut short.
    stop: Arc<AtomicBool>,
    /// When cleanup first had to retry: all retries share one `cleanup_retry` budget.
    retrying_since: Mutex<Option<Instant>>,
    /// Paces every request (`--rate`) and holds them all back after a 429.
    pacer: Arc<crate::pace::Pacer>,
}

/// A token that is certainly wrong, for the auth checks.
pub const WRONG_TOKEN: &str = "scimcheck-deliberately-wrong-token";

impl Client {
    /// Builds the client. `minted` tells whether an id was generated by this run (such ids
    /// name nothing that exists, so writing to them cannot touch foreign data).
    pub fn new(
        target: TenantUrl,
        credential: impl Into<crate::credential::Credential>,
        options: ClientOptions,
        minted: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    ) -> Result<Client, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let credential = credential.into();
        let token = credential.secret().clone();
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("scimcheck/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(64)
            .tls_danger_accept_invalid_certs(options.insecure);
        if let Some(pem) = &options.ca_cert {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|_| {
                "--ca-cert: the file is not a valid PEM certificate (a `-----BEGIN CERTIFICATE-----` block is damaged)".to_string()
            })?;
            if certs.is_empty() {
                return Err(
                    "--ca-cert: the file holds no certificate (no `-----BEGIN CERTIFICATE-----` block)"
                        .into(),
                );
            }
            for cert in certs {
                b = b.add_root_certificate(cert);
            }
        }
        if let Some(p) = &options.proxy {
            b = b.proxy(reqwest::Proxy::all(p).map_err(|e| format!("--proxy: {e}"))?);
        }
        let inner = b
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Client {
            inner,
            target,
            token,
            credential,
            options,
            ledger: Arc::default(),
            minted,
            run_prefix: "scimcheck-".into(),
            stop: Arc::default(),
            retrying_since: Mutex::new(None),
            pacer: Arc::new(crate::pace::Pacer::new(crate::pace::Rate::Max)),
        })
    }

    /// Paces every request of this client at `rate` (`run --rate`); a 429 holds them all back
    /// whatever the rate.
    pub fn with_rate(mut self, rate: crate::pace::Rate) -> Self {
        self.pacer = Arc::new(crate::pace::Pacer::new(rate));
        self
    }

    /// Waits for this request's slot: the rate, and any hold a 429 put on the run. Ctrl-C /
    /// `--deadline` cut a hold short at once (cleanup still keeps to the rate).
    async fn pace(&self) {
        let stopped = || self.stop.load(Ordering::SeqCst);
        let slot = self.pacer.slot(tokio::time::Instant::now(), !stopped());
        loop {
            let now = tokio::time::Instant::now();
            if now >= slot || stopped() {
                return;
            }
            tokio::time::sleep((slot - now).min(Duration::from_millis(50))).await;
        }
    }

    /// A 429 holds back every request of the run: for its `Retry-After` when the run would
    /// wait that long (`--max-retry-wait`), otherwise for [`crate::pace::BACKOFF`].
    fn throttled(&self, r: &Received) {
        let wait = r
            .header("retry-after")
            .and_then(parse_retry_after)
            .filter(|w| *w <= self.options.max_retry_wait);
        self.pacer.throttled(tokio::time::Instant::now(), wait);
    }

    /// Sets the prefix every name this run creates carries (`scimcheck-<runid>-`); only
    /// resources with such names are ever adopted for cleanup after a lost create response.
    pub fn with_run_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.run_prefix = prefix.into();
        self
    }

    /// The client options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Shares the run's stop flag: once set, a `Retry-After` wait ends at once.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = stop;
        self
    }

    /// How long to wait before retry `attempt` (from 0) of a cleanup request, or `None` when
    /// the run's cleanup retry budget (`--cleanup-retry`) is spent. Exponential: 0.25 s,
    /// 0.5 s, 1 s ... at most 4 s.
    pub fn backoff(&self, attempt: u32) -> Option<Duration> {
        let budget = self.options.cleanup_retry;
        let since = *self
            .retrying_since
            .lock()
            .expect("retry lock")
            .get_or_insert_with(Instant::now);
        let left = budget.checked_sub(since.elapsed())?;
        if left.is_zero() {
            return None;
        }
        let wait = Duration::from_millis(250u64.saturating_mul(1 << attempt.min(4)));
        Some(wait.min(left))
    }

    /// Looks up, by their unique names, the creates of `owner` whose outcome is unknown (no
    /// answer, a 5xx, a 2xx without an id), retrying transient failures within the cleanup
    /// budget, and records those that exist in the ledger so cleanup removes them. A look-up
    /// that keeps failing leaves the create listed as unconfirmed. Returns the exchanges.
    pub async fn adopt_pending(&self, owner: usize) -> Vec<Exchange> {
        let mut exchanges = Vec::new();
        for p in self.ledger.pending_of(owner) {
            let filter = format!("{} eq {}", p.attribute, Value::String(p.value.clone()));
            let mut req = OutRequest::new("GET", format!("/{}", p.collection));
            req.query.push(("filter".into(), filter));
            let mut attempt = 0;
            loop {
                let ex = self.send_noting(&req, owner, false).await;
                let found = match &ex.response {
                    Ok(r) if r.status == 200 => r.json().and_then(|body| {
                        match body.get("Resources").and_then(Value::as_array) {
                            Some(list) => Some(list.clone()),
                            None => (body.get("totalResults").and_then(Value::as_u64) == Some(0))
                                .then(Vec::new),
                        }
                    }),
                    _ => None,
                };
                let transient = found.is_none() && is_transient(&ex.response)
                    || matches!(&ex.response, Ok(r) if r.status == 200);
                exchanges.push(ex);
                if let Some(resources) = found {
                    self.adopt_found(&p, &resources, owner);
                    self.ledger.resolve(&p);
                    break;
                }
                match transient.then(|| self.backoff(attempt)).flatten() {
                    Some(wait) => {
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    None => {
                        self.ledger.unconfirm(&p);
                        break;
                    }
                }
            }
        }
        exchanges
    }

    fn adopt_found(&self, p: &Pending, resources: &[Value], owner: usize) {
        for r in resources {
            if r.get(p.attribute).and_then(Value::as_str) != Some(p.value.as_str()) {
                continue;
            }
            let id = match r.get("id") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            let c = Created {
                path: format!("/{}/{id}", p.collection),
                label: p.value.clone(),
                owner,
            };
            if self.ledger.owns(&c.path) {
                continue;
            }
            if self.ledger.known_before(&c.path, p.sent_at) {
                // Seen before the create was sent: an existing resource renamed by an upsert.
                self.ledger.record_foreign(c, true);
            } else {
                self.ledger.record(c);
            }
        }
    }

    /// The Tenant URL.
    pub fn target(&self) -> &TenantUrl {
        &self.target
    }

    /// The token, for redaction by reporters.
    pub fn secret(&self) -> &Secret {
        &self.token
    }

    /// Where the bearer token comes from.
    pub fn credential(&self) -> &crate::credential::Credential {
        &self.credential
    }

    /// POSTs a form body to an absolute URL that is not a SCIM resource (the OAuth token
    /// endpoint): no ledger, no write guards, no retries, the same transport (TLS settings,
    /// timeouts, body cap) as every SCIM request. The record is redacted; the body is kept as
    /// received, for the caller to read (and to register the secrets it holds).
    pub async fn post_form(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: String,
    ) -> Exchange {
        let sent = SentRequest {
            method: "POST".into(),
            url: self.token.redact(url),
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), redact_header(k, v, &self.token)))
                .collect(),
            body: Some(self.token.redact(&body)),
        };
        let started = Instant::now();
        let response = self
            .send_once("POST", url, headers, Some(body))
            .await
            .map(|mut r| {
                r.headers = r
                    .headers
                    .into_iter()
                    .map(|(k, v)| {
                        let v = redact_header(&k, &v, &self.token);
                        (k, v)
                    })
                    .collect();
                r
            });
        Exchange {
            request: sent,
            response,
            elapsed: started.elapsed(),
        }
    }

    /// Sends `req` on behalf of scenario `owner`, records creates and deletes in the ledger,
    /// and returns the redacted exchange. Never panics on a misbehaving server.
    pub async fn send(&self, req: &OutRequest, owner: usize) -> Exchange {
        self.send_noting(req, owner, true).await
    }

    /// [`Client::send`]; `note` whether the resources the answer shows count as seen (not for
    /// the look-up of a lost create, whose finds are judged against what was known before it).
    async fn send_noting(&self, req: &OutRequest, owner: usize, note: bool) -> Exchange {
        let method = req.method.to_ascii_uppercase();
        let mut url = self.target.join(&req.path);
        if !req.query.is_empty() {
            let q: Vec<String> = req
                .query
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q.join("&"));
        }
        let body_text = req
            .body
            .as_ref()
            .map(|b| serde_json::to_string(b).unwrap_or_default());
        let mut headers: Vec<(String, String)> = Vec::new();
        // An OAuth access token is fetched only once the request passed the guards below.
        let oauth = self.credential.oauth_client().is_some();
        match req.auth {
            Auth::Token if oauth => headers.push(("Authorization".into(), "Bearer ".into())),
            Auth::Token => headers.push((
                "Authorization".into(),
                format!("Bearer {}", self.token.expose()),
            )),
            Auth::Wrong => headers.push(("Authorization".into(), format!("Bearer {WRONG_TOKEN}"))),
            Auth::None => {}
        }
        headers.push(("Accept".into(), "application/scim+json".into()));
        if body_text.is_some() {
            headers.push(("Content-Type".into(), "application/scim+json".into()));
        }
        headers.extend(req.headers.iter().cloned());
        // The HTTP client sends a URL's userinfo as Basic auth (`--allow-url-credentials`): the
        // record says so, next to whatever else was sent.
        let basic = self
            .target
            .has_credentials()
            .then(|| ("Authorization".to_string(), format!("Basic {REDACTED}")));
        let sent = SentRequest {
            method: method.clone(),
            url: self.token.redact(&url),
            headers: basic
                .into_iter()
                .chain(
                    headers
                        .iter()
                        .map(|(k, v)| (k.clone(), redact_header(k, v, &self.token))),
                )
                .collect(),
            body: body_text.as_ref().map(|b| self.token.redact(b)),
        };
        let started = Instant::now();

        let intents = intents(&method, req);
        if self.options.read_only
            && let Some((m, _)) = intents
                .iter()
                .find(|(m, _)| !matches!(m.as_str(), "GET" | "HEAD"))
        {
            let what = if *m == method {
                method.clone()
            } else {
                format!("{method} (as {m})")
            };
            return Exchange {
                request: sent,
                response: Err(TransportError::ReadOnly(format!("{what} {}", req.path))),
                elapsed: started.elapsed(),
            };
        }
        if !self.options.allow_foreign_writes {
            let foreign = intents.into_iter().find(|(m, path)| {
                matches!(m.as_str(), "PATCH" | "PUT" | "DELETE")
                    && !resource_path(path).is_some_and(|p| {
                        self.ledger.owns(&p)
                            || resource_of(&p).1.is_some_and(|id| (self.minted)(&id))
                    })
            });
            if let Some((method, path)) = foreign {
                let path = resource_path(&path).unwrap_or(path);
                return Exchange {
                    request: sent,
                    response: Err(TransportError::ForeignWrite { method, path }),
                    elapsed: started.elapsed(),
                };
            }
        }

        let mut bearer = None;
        if oauth && req.auth == Auth::Token {
            match self.credential.bearer(self).await {
                Ok(b) => {
                    headers[0].1 = format!("Bearer {}", b.token);
                    bearer = Some(b);
                }
                Err(e) => {
                    return Exchange {
                        request: sent,
                        response: Err(e),
                        elapsed: started.elapsed(),
                    };
                }
            }
        }

        let sent_at = self.ledger.epoch();
        let flying = (method == "POST")
            .then(|| self.create_intent(req, owner))
            .flatten();
        if let Some(p) = &flying {
            self.ledger.take_off(p.clone());
        }
        let mut response = self
            .send_with_retries(&method, &url, &headers, body_text.clone())
            .await;
        // A 401 to an access token that worked before: it expired or was revoked early. A new
        // one, and the request once more (a 401 means nothing was done).
        if let (Some(b), Ok(r)) = (&bearer, &response)
            && self.credential.answered(b, r.status).await
        {
            match self.credential.bearer(self).await {
                Ok(b) => {
                    headers[0].1 = format!("Bearer {}", b.token);
                    response = self
                        .send_with_retries(&method, &url, &headers, body_text)
                        .await;
                    if let Ok(r) = &response {
                        self.credential.answered(&b, r.status).await;
                    }
                }
                Err(e) => response = Err(e),
            }
        }
        // The body is kept as received: checks judge it, and reporters redact what they write
        // (a token that happens to be a word such as `scim` must never change a verdict).
        let response = response.map(|mut r| {
            // A body cut at the cap is not judged; its cut edge may hold part of the token.
            if r.truncated {
                r.body = self.token.redact_cut(&r.body);
            }
            r.headers = r
                .headers
                .into_iter()
                .map(|(k, v)| {
                    let v = redact_header(&k, &v, &self.token);
                    (k, v)
                })
                .collect();
            r
        });
        match (&response, &flying) {
            (Ok(r), Some(p)) => {
                if !self.track_create(req, r, owner, sent_at) {
                    self.ledger.record_pending(p.clone());
                }
            }
            (Ok(r), None) => {
                if method == "POST" {
                    self.track_create(req, r, owner, sent_at);
                } else {
                    self.track(&method, req, r);
                }
            }
            (Err(_), Some(p)) => self.ledger.record_pending(p.clone()),
            (Err(_), None) => {}
        }
        if let Ok(r) = &response
            && note
        {
            self.note_seen(&method, req, r);
        }
        if let Some(p) = &flying {
            self.ledger.landed(p);
        }
        Exchange {
            request: sent,
            response,
            elapsed: started.elapsed(),
        }
    }

    /// A create of a resource named with this run's prefix, as a [`Pending`] (which can be looked
    /// up by its unique name should the answer be lost).
    fn create_intent(&self, req: &OutRequest, owner: usize) -> Option<Pending> {
        let (collection, id) = resource_of(&req.path);
        if id.is_some() || collection.is_empty() {
            return None;
        }
        let body = req.body.as_ref()?;
        ["userName", "displayName", "externalId"]
            .into_iter()
            .find_map(|attribute| {
                let value = body.get(attribute).and_then(Value::as_str)?;
                value.starts_with(&self.run_prefix).then(|| Pending {
                    collection: collection.clone(),
                    attribute,
                    value: value.to_string(),
                    owner,
                    sent_at: self.ledger.epoch(),
                })
            })
    }

    /// Records the answer to a POST: a resource is adopted as this run's only when the RESPONSE
    /// proves it: the name it answers with (its userName, else displayName, else externalId)
    /// carries this run's prefix, AND its id is not one this run already knew before the create
    /// (created earlier, or seen in any answer, such as the match GET Entra sends first). A
    /// create answered with any other resource (an "upsert" that matched an existing user, and
    /// may even have renamed it with the name sent) is noted as foreign and never written to.
    /// Returns whether the outcome is known: `false` for a 5xx, 408 or 429, or a 2xx without
    /// an id (the resource may exist; look it up by name).
    fn track_create(&self, req: &OutRequest, r: &Received, owner: usize, sent_at: u64) -> bool {
        let (collection, id) = resource_of(&req.path);
        if id.is_some() || collection.is_empty() || collection.eq_ignore_ascii_case("Bulk") {
            return true;
        }
        if !(200..300).contains(&r.status) {
            return !(r.status >= 500 || matches!(r.status, 408 | 429));
        }
        let Some(body) = r.json() else { return false };
        let id = match body.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return false,
        };
        let name = ["userName", "displayName", "externalId"]
            .iter()
            .find_map(|k| body.get(*k).and_then(Value::as_str));
        let path = format!("/{collection}/{id}");
        let label = name.unwrap_or_default().to_string();
        let known = self.ledger.known_before(&path, sent_at);
        if name.is_some_and(|n| n.starts_with(&self.run_prefix)) && !known {
            self.ledger.record(Created { path, label, owner });
            return true;
        }
        if name.is_none() && self.create_intent(req, owner).is_some() {
            // Nothing in the answer names the resource: look it up by the name sent.
            return false;
        }
        self.ledger
            .record_foreign(Created { path, label, owner }, known);
        true
    }

    /// Remembers the resources an answer shows (its `id`, the ids of its `Resources`), and
    /// forgets one answered `404`, so that a later create answered with one of them is known
    /// to have been answered with an existing resource.
    fn note_seen(&self, method: &str, req: &OutRequest, r: &Received) {
        let (collection, id) = resource_of(&req.path);
        if collection.is_empty() || collection.eq_ignore_ascii_case("Bulk") {
            return;
        }
        if r.status == 404 && method == "GET" {
            if let Some(id) = id {
                self.ledger.forget_seen(&format!("/{collection}/{id}"));
            }
            return;
        }
        if !(200..300).contains(&r.status) || method == "DELETE" || !r.body.contains("\"id\"") {
            return;
        }
        let Some(body) = r.json() else { return };
        // An id longer than any real one (a hostile 2 MB id) is not remembered.
        let id_of = |v: &Value| match v.get("id") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 512 => {
                Some(format!("/{collection}/{s}"))
            }
            Some(Value::Number(n)) => Some(format!("/{collection}/{n}")),
            _ => None,
        };
        let listed = body
            .get("Resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(id_of);
        self.ledger
            .note_seen(id_of(&body).into_iter().chain(listed));
    }

    /// Whether the body of a create names the resource with this run's prefix.
    pub fn carries_run_prefix(&self, req: &OutRequest) -> bool {
        req.body.as_ref().is_some_and(|body| {
            ["userName", "displayName", "externalId"].iter().any(|a| {
                body.get(*a)
                    .and_then(Value::as_str)
                    .is_some_and(|v| v.starts_with(&self.run_prefix))
            })
        })
    }

    fn track(&self, method: &str, req: &OutRequest, r: &Received) {
        if method == "DELETE"
            && ((200..300).contains(&r.status) || r.status == 404)
            && let Some(p) = resource_path(&req.path)
        {
            self.ledger.mark_deleted(&p);
        }
    }

    async fn send_with_retries(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<String>,
    ) -> Result<Received, TransportError> {
        let mut retries = Vec::new();
        loop {
            self.pace().await;
            let mut r = self.send_once(method, url, headers, body.clone()).await?;
            if r.status == 429 {
                self.throttled(&r);
            }
            if matches!(r.status, 429 | 503)
                && (retries.len() as u32) < self.options.max_retries
                && let Some(wait) = r.header("retry-after").and_then(parse_retry_after)
                && wait <= self.options.max_retry_wait
            {
                let waited = self.wait_unless_stopped(wait).await;
                retries.push((r.status, waited.as_secs_f64()));
                if waited < wait {
                    // Ctrl-C or --deadline: this answer stands, cleanup comes next.
                    r.retries = retries;
                    return Ok(r);
                }
                continue;
            }
            r.retries = retries;
            return Ok(r);
        }
    }

    /// Sleeps `wait`, or less once the stop flag is set (checked every 50 ms); returns how long
    /// it slept.
    async fn wait_unless_stopped(&self, wait: Duration) -> Duration {
        let started = Instant::now();
        while started.elapsed() < wait {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let left = wait - started.elapsed();
            tokio::time::sleep(left.min(Duration::from_millis(50))).await;
        }
        started.elapsed().min(wait)
    }

    async fn send_once(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<String>,
    ) -> Result<Received, TransportError> {
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| TransportError::Invalid(e.to_string()))?;
        let mut rb = self.inner.request(m, url);
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        let mut resp = rb.send().await.map_err(|e| self.classify(&e))?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut bytes: Vec<u8> = Vec::new();
        let mut truncated = false;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = self.options.max_body.saturating_sub(bytes.len());
                    if chunk.len() > room {
                        bytes.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let why = self.body_error(&e, status, &headers, bytes.len());
                    return Err(TransportError::Body(why));
                }
            }
        }
        let body = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                return Err(TransportError::Body(format!(
                    "the body is not valid UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                )));
            }
        };
        Ok(Received {
            status,
            headers,
            body,
            truncated,
            retries: vec![],
        })
    }

    fn classify(&self, e: &reqwest::Error) -> TransportError {
        let chain = self.token.redact(&error_chain(e));
        let lower = chain.to_lowercase();
        if e.is_timeout() {
            TransportError::Timeout(self.options.timeout)
        } else if lower.contains("dns error")
            || lower.contains("failed to lookup")
            || lower.contains("name or service not known")
        {
            TransportError::Dns(chain)
        } else if lower.contains("connection refused") {
            TransportError::Refused(chain)
        } else if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
        {
            TransportError::Tls(tls_diagnosis(&chain))
        } else if e.is_connect() {
            TransportError::Connect(chain)
        } else if lower.contains("invalid http version") || lower.contains("invalid status") {
            TransportError::Body(format!(
                "the server did not answer in HTTP ({}): is the port right, or is it an https:// endpoint?",
                chain.rsplit(": ").next().unwrap_or(&chain)
            ))
        } else if lower.contains("connection closed before message completed") {
            TransportError::Body("the server closed the connection without answering".into())
        } else {
            TransportError::Body(chain)
        }
    }

    /// What went wrong reading a body whose status and headers did arrive, for people.
    fn body_error(
        &self,
        e: &reqwest::Error,
        status: u16,
        headers: &[(String, String)],
        read: usize,
    ) -> String {
        let chain = self.token.redact(&error_chain(e));
        let lower = chain.to_lowercase();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        // reqwest drops `Content-Encoding` from the headers it hands over when it decodes.
        let encoding = header("content-encoding")
            .filter(|v| !v.eq_ignore_ascii_case("identity"))
            .or_else(|| {
                ["gzip", "deflate", "brotli", "zstd"]
                    .into_iter()
                    .find(|enc| lower.contains(enc))
            });
        if e.is_timeout() || lower.contains("timed out") {
            format!(
                "the status ({status}) and headers arrived, but the body did not finish within {:?}: the server stalled mid-body or the body never ends",
                self.options.timeout
            )
        } else if lower.contains("end of file before message length reached")
            || lower.contains("unexpected eof")
        {
            let expected = header("content-length")
                .map(|n| format!(" of the {n} announced by Content-Length"))
                .unwrap_or_default();
            format!(
                "the connection closed after {read} body bytes{expected}: the body is truncated"
            )
        } else if let Some(enc) = encoding {
            let last = chain.rsplit(": ").next().unwrap_or(&chain);
            format!("the body is sent as `Content-Encoding: {enc}` but does not decode: {last}")
        } else {
            chain
        }
    }
}

/// A certificate problem in words a person can act on, with the TLS library's own words after.
fn tls_diagnosis(chain: &str) -> String {
    let detail = chain
        .find("invalid peer certificate")
        .map_or(chain, |i| &chain[i..]);
    let hint = if detail.contains("UnknownIssuer") {
        "the certificate is not signed by a trusted authority (self-signed, or a private CA): pass the issuing certificate with --ca-cert FILE, or use --insecure"
    } else if detail.contains("CaUsedAsEndEntity") {
        "the server presents a CA certificate as its own (as `openssl req -x509` makes by default), which is refused even with --ca-cert: issue a server certificate (basicConstraints CA:FALSE), or use --insecure"
    } else if detail.contains("NotValidForName") {
        "the certificate does not name this host: use the host name it was issued for"
    } else if detail.contains("Expired") {
        "the certificate has expired"
    } else if detail.contains("NotValidYet") {
        "the certificate is not valid yet (check the clocks)"
    } else {
        return detail.to_string();
    };
    format!("{hint} ({detail})")
}

/// Whether a failed request may succeed when sent again: no answer (refused, reset, timed out,
/// cut short), or a 5xx, 408 or 429.
pub fn is_transient(r: &Result<Received, TransportError>) -> bool {
    match r {
        Ok(r) => r.status >= 500 || matches!(r.status, 408 | 429),
        Err(e) => matches!(
            e,
            TransportError::Refused(_)
                | TransportError::Timeout(_)
                | TransportError::Connect(_)
                | TransportError::Body(_)
                | TransportError::Dns(_)
        ),
    }
}

/// Headers some servers honour to turn a POST (or GET) into another method.
const METHOD_OVERRIDES: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// Every (method, path) `req` asks the server to carry out: its own method (or the one a
/// method-override header names) on its path, and each operation of a SCIM bulk request. The
/// write guards judge all of them, so neither a header nor `/Bulk` gets around them.
fn intents(method: &str, req: &OutRequest) -> Vec<(String, String)> {
    let mut out = vec![(method.to_string(), req.path.clone())];
    for (k, v) in &req.headers {
        if METHOD_OVERRIDES.contains(&k.to_ascii_lowercase().as_str()) {
            out.push((v.trim().to_ascii_uppercase(), req.path.clone()));
        }
    }
    let bulk = resource_of(&req.path).0.eq_ignore_ascii_case("Bulk");
    if bulk
        && let Some(ops) = req
            .body
            .as_ref()
            .and_then(|b| b.get("Operations"))
            .and_then(Value::as_array)
    {
        for op in ops {
            let m = op.get("method").and_then(Value::as_str).unwrap_or_default();
            let p = op.get("path").and_then(Value::as_str).unwrap_or_default();
            out.push((m.trim().to_ascii_uppercase(), p.to_string()));
        }
    }
    out
}

/// Every message in an error's source chain, joined with `: `.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// Header values that may carry credentials are replaced by `REDACTED`.
pub fn redact_header(name: &str, value: &str, token: &Secret) -> String {
    let n = name.to_ascii_lowercase();
    if n == "authorization" || n == "proxy-authorization" {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_string(),
        }
    } else if n == "cookie"
        || n == "set-cookie"
        || n.contains("token")
        || n.contains("api-key")
        || n.contains("secret")
    {
        REDACTED.to_string()
    } else {
        token.redact(value)
    }
}

/// Seconds (`120`) or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// Percent-encodes a query component (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_and_percent_escapes_are_read_in_one_place() {
        assert_eq!(
            media_type("Application/SCIM+JSON ; charset=utf-8"),
            "application/scim+json"
        );
        assert_eq!(media_type(""), "");
        assert_eq!(percent_decode("a%2Bb+c").unwrap(), "a+b c");
        assert!(percent_decode("%ff").is_err());
        assert_eq!(percent_decode_path("/Users/a%20b+c%zz"), "/Users/a b+c%zz");
        // `%+f` is not an escape (from_str_radix would have read it as 0x0f).
        assert_eq!(percent_decode_path("%+f"), "%+f");
    }

    #[test]
    fn a_token_split_across_lines_is_redacted_piece_by_piece() {
        let s = Secret::new("s3cr3t-t0ken-0123456789");
        // A diff whose next line carries a marker and indentation.
        assert_eq!(
            s.redact("+  \"detail\": \"s3cr3t-t0k\n+    en-0123456789 was wrong\""),
            "+  \"detail\": \"REDACTED\n+    REDACTED was wrong\""
        );
        // Escaped once (a JSON body) and twice (that body inside a JSON report), CRLF too.
        assert_eq!(
            s.redact("a s3cr3t-\\nt0ken-0123456789 b"),
            "a REDACTED\\nREDACTED b"
        );
        assert_eq!(
            s.redact("a s3cr3t-t0\\\\r\\\\nken-0123456789"),
            "a REDACTED\\\\r\\\\nREDACTED"
        );
        assert_eq!(
            s.redact("s3cr3t-\r\nt0ken-\n0123456789"),
            "REDACTED\r\nREDACTED\nREDACTED"
        );
        // As the terminal shows a carriage return, and as an excerpt joins lines.
        assert_eq!(
            s.redact("s3cr3t-t0\\x0d\n  ken-0123456789"),
            "REDACTED\\x0d\n  REDACTED"
        );
        assert_eq!(
            s.redact("was s3cr3t-t0 ken-0123456789."),
            "was REDACTED REDACTED."
        );
        // Text that only shares a prefix, or has no break, is left alone.
        assert_eq!(s.redact("s3cr3t-t0\nother"), "s3cr3t-t0\nother");
        assert_eq!(s.redact("plain line\nnext"), "plain line\nnext");
    }

    #[test]
    fn tenant_urls_join_in_all_three_shapes() {
        let a = TenantUrl::parse("https://h/scim/v2").unwrap();
        assert_eq!(a.join("/Users"), "https://h/scim/v2/Users");
        assert_eq!(a.dialect(), Dialect::Default);
        let b = TenantUrl::parse("https://h/rest/scim/v2/").unwrap();
        assert_eq!(b.join("/Users/1"), "https://h/rest/scim/v2/Users/1");
        let c = TenantUrl::parse("https://h/scim/v2/?aadOptscim062020").unwrap();
        assert_eq!(c.join("/Groups"), "https://h/scim/v2/Groups");
        assert_eq!(c.dialect(), Dialect::Compliant);
        assert!(TenantUrl::parse("ftp://h/x").is_err());
        assert!(TenantUrl::parse("not a url").is_err());
    }

    #[test]
    fn the_dialect_flags_of_the_tenant_url_choose_the_dialect_as_entra_does() {
        let dialect = |url: &str| TenantUrl::parse(url).unwrap().dialect();
        assert_eq!(
            dialect("https://h/scim?AzureAdScimPatch062020"),
            Dialect::Compliant
        );
        // The roll-back flag wins, also next to an opt-in flag.
        assert_eq!(
            dialect("https://h/scim?AzureAdScimPatch2017"),
            Dialect::Default
        );
        assert_eq!(
            dialect("https://h/scim/?aadOptscim062020&AzureAdScimPatch2017"),
            Dialect::Default
        );
        assert_eq!(
            dialect("https://h/scim?AADOPTSCIM062020"),
            Dialect::Compliant
        );
        assert_eq!(dialect("https://h/scim?other=1"), Dialect::Default);
    }

    #[test]
    fn secrets_never_format_and_are_redacted_from_text() {
        let s = Secret::new("s3cr3t-token");
        assert_eq!(format!("{s} {s:?}"), "REDACTED REDACTED");
        assert_eq!(s.redact("a s3cr3t-token b"), "a REDACTED b");
        let short = Secret::new("scim");
        assert_eq!(
            short.redact("scimcheck-1 token scim, (scim)"),
            "scimcheck-1 token REDACTED, (REDACTED)"
        );
        let long = Secret::new("abcdefghijklmnop");
        assert_eq!(long.redact("xabcdefghijklmnopx"), "xREDACTEDx");
        assert_eq!(
            redact_header("Authorization", "Bearer xyz", &s),
            "Bearer REDACTED"
        );
        assert_eq!(redact_header("X-Api-Token", "xyz", &s), "REDACTED");
        assert_eq!(redact_header("Cookie", "a=b", &s), "REDACTED");
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn resource_paths_are_normalised() {
        assert_eq!(
            resource_path("/Users/abc?x=1").as_deref(),
            Some("/Users/abc")
        );
        assert_eq!(resource_path("Users/abc/").as_deref(), Some("/Users/abc"));
        assert_eq!(resource_path("/Users"), None);
    }

    #[test]
    fn the_ledger_lists_what_is_left_newest_first() {
        let l = Ledger::default();
        l.record(Created {
            path: "/Users/1".into(),
            label: "a".into(),
            owner: 0,
        });
        l.record(Created {
            path: "/Groups/2".into(),
            label: "g".into(),
            owner: 0,
        });
        l.record(Created {
            path: "/Users/3".into(),
            label: "b".into(),
            owner: 1,
        });
        l.mark_deleted("/Users/1");
        let left: Vec<String> = l.remaining(Some(0)).into_iter().map(|c| c.path).collect();
        assert_eq!(left, vec!["/Groups/2"]);
        assert!(l.owns("/Users/3"));
        assert!(!l.owns("/Users/9"));
    }
}
