//! `scimcheck connect`: sends exactly the requests of Entra's Test Connection (a users probe and a
//! groups probe), and when something fails or looks risky, a few read-only follow-up probes that
//! find the cause: DNS, TCP, TLS, the shape of the Tenant URL, redirects, the token, the
//! response. The result is a [`Report`]: a verdict (what the admin would see in the portal),
//! every probe as evidence, and findings with stable codes and a concrete fix.
//!
//! Only GET requests are sent, the token only ever goes to the origin of the Tenant URL, and
//! every recorded string is redacted.

mod answer;
mod oauth;
mod render;
mod tenant;
pub mod tls;
pub mod token;

use std::time::Duration;

use serde::Serialize;

pub use oauth::OAuthFacts;
pub use render::{duration as render_duration, human, json};
pub use tenant::readable_path;
pub use token::JwtInfo;

use answer::{Answer, answer, describe_answer, media_type, short_error};
use tenant::{base_of_collection_url, path_of, place, suggest, url_variants};
use tls::tls_code;

use crate::exit;
use crate::http::{Client, ClientOptions, Exchange, OutRequest, Secret, TenantUrl, TransportError};
use crate::scenario::model::Auth;

/// Above this a probe's response time is reported as slow.
pub const DEFAULT_SLOW: Duration = Duration::from_secs(3);

/// What to check and how.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The Tenant URL exactly as typed in the portal.
    pub url: String,
    /// The Secret Token, or the OAuth2 client credentials, exactly as typed in the portal.
    pub credential: crate::credential::Credential,
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
    /// The token request Entra sends first, with OAuth2 client credentials.
    TokenEndpoint,
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
    /// The token endpoint, with OAuth2 client credentials.
    pub oauth: Option<OAuthFacts>,
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

/// The messages Entra shows, where known (the codes come from the catalogue in
/// [`crate::entra_error`]).
mod entra {
    use crate::entra_error::Code;
    pub const CREDENTIALS_CODE: &str = Code::CredentialValidationFailure.as_str();
    pub const CREDENTIALS: &str = "You appear to have entered invalid credentials. Please confirm you are using the correct information for an administrative account.";
    pub const NOT_FOUND: &str = "An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response. To address this issue, ensure that the tenant URL is correct.";
    pub const INCOMPATIBLE_CODE: &str = Code::ServiceIncompatible.as_str();
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
    oauth: Option<OAuthFacts>,
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

    fn probes(self, steps: &[usize]) -> F {
        steps.iter().fold(self, |f, s| f.probe(*s))
    }

    fn probe(mut self, step: usize) -> F {
        if !self.probes.contains(&step) {
            self.probes.push(step);
        }
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
        "net" | "tls" | "oauth" => 0,
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
        Client::new(target, token, self.options.clone())
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
        let ex = client.send(req).await;
        self.record(stage, purpose, auth, req, ex)
    }

    /// Records the exchange of a probe sent by [`Diag::send`] (or side by side with another).
    fn record(
        &mut self,
        stage: Stage,
        purpose: &str,
        auth: &str,
        req: &OutRequest,
        ex: Exchange,
    ) -> (usize, Exchange) {
        let step = self.probes.len() + 1;
        let (status, content_type, location, error) = match &ex.response {
            Ok(r) => (
                Some(r.status),
                r.header("content-type").map(str::to_string),
                r.header("location").map(|l| self.clean(l)),
                None,
            ),
            Err(e) => {
                let text = match e {
                    TransportError::Tls(m) => {
                        format!("TLS handshake failed: {}", tls::tls_detail(m))
                    }
                    e => e.to_string(),
                };
                (None, None, None, Some(self.clean(&short_error(&text))))
            }
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
                let msg = &tls::tls_detail(&short_error(msg));
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
                self.url_search(client, vec![step, s2], None).await;
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
                self.url_search(client, vec![step], Some(html)).await;
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
                        self.url_search(&c, vec![s2], None).await;
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
            } else if self.oauth.is_some() {
                (
                    "auth.token-rejected",
                    "The endpoint rejects the access token its token endpoint issued (401 Unauthorized)",
                    "Make the SCIM endpoint accept the access tokens this token endpoint issues, sent as `Authorization: Bearer <access_token>`: the same issuer, audience and signing keys, and a client that is allowed to provision.",
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
    async fn url_search(&mut self, client: &Client, evidence: Vec<usize>, fallback: Option<F>) {
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
                .probes(&evidence)
                .probe(s)
                .entra(not_found()),
            );
            return;
        }
        self.note(s, false, describe_answer(&a));
        let mut tried = evidence.clone();
        tried.push(s);
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
                    tried.len().saturating_sub(evidence.len())
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

    /// `--ca-cert` or `--insecure` let the probes through a certificate Entra may not accept:
    /// one more handshake, verified against the public CAs only as Entra's is, without a token.
    async fn verify_like_entra(&mut self, url: &str) {
        let mut options = self.options.clone();
        let why = if options.insecure {
            "--insecure"
        } else {
            "--ca-cert"
        };
        options.ca_cert = None;
        options.insecure = false;
        let Ok(client) = Client::new(
            self.target.clone(),
            Secret::new("scimcheck-no-token-is-sent"),
            options,
        ) else {
            return;
        };
        let mut req = users_probe();
        req.auth = Auth::None;
        let purpose =
            format!("is the certificate trusted without {why}, as Entra needs? (no token sent)");
        let (step, ex) = self
            .send(&client, Stage::FollowUp, &purpose, "none", &req)
            .await;
        match &ex.response {
            Err(e @ (TransportError::Tls(_) | TransportError::Connect(_))) => {
                let before = self.findings.len();
                let e = e.clone();
                self.transport(&e, step, url).await;
                for f in &mut self.findings[before..] {
                    f.details.insert(
                        0,
                        format!("the probes above passed only because of {why}: Entra verifies the certificate against the public CAs and has no such option"),
                    );
                }
            }
            Err(e) => {
                let e = e.to_string();
                self.note(step, false, short_error(&e));
            }
            Ok(_) => self.note(step, true, "the certificate is trusted by the public CAs"),
        }
    }

    /// What the token looks like, when no probe said it already: a `Bearer ` prefix, an
    /// expired JWT. `accepted`: the endpoint accepted the token anyway.
    fn token_notes(&mut self, accepted: bool, step: usize) {
        if self.stripped.is_some() && !self.findings.iter().any(|f| f.code == "auth.bearer-prefix")
        {
            let title = if accepted {
                "The Secret Token starts with `Bearer `; this endpoint happens to accept `Bearer Bearer ...`"
            } else {
                "The Secret Token starts with `Bearer `: Entra adds its own, so the endpoint will receive `Bearer Bearer ...`"
            };
            self.add(
                F::warning(
                    "auth.bearer-prefix",
                    title,
                    "Paste only the token itself into Secret Token: Entra adds `Bearer ` on its own.",
                )
                .probe(step),
            );
        }
        if let Some(jwt) = self.jwt.clone().filter(|j| j.expired)
            && !self.findings.iter().any(|f| f.code == "auth.jwt-expired")
        {
            let when = jwt
                .exp
                .map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let (title, fix) = if accepted {
                (
                    format!(
                        "The Secret Token is a JWT that expired on {when}, yet the endpoint accepts it"
                    ),
                    "The endpoint does not check `exp`: fix the validation, and give Entra a token that has not expired.",
                )
            } else {
                (
                    format!("The Secret Token is a JWT that expired on {when}"),
                    "Generate a new token in the application and update Secret Token in Entra.",
                )
            };
            self.add(
                F::warning("auth.jwt-expired", title, fix)
                    .details(jwt.iss.map(|i| format!("iss: {i}")))
                    .probe(step),
            );
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
            oauth: self.oauth,
            slow_threshold_ms: self.slow.as_millis() as u64,
            exit_code,
        }
    }
}

/// Runs Entra's Test Connection against `opts.url` and diagnoses what fails.
/// Errors only for unusable input (a Tenant URL that does not parse, a bad `--ca-cert`).
pub async fn diagnose(opts: ConnectOptions) -> Result<Report, String> {
    let target = TenantUrl::parse(&opts.url)?;
    let mut options = opts.client.clone();
    options.read_only = true;
    options.max_retries = 0;
    let mut d = Diag {
        input: opts.url.trim().to_string(),
        target: target.clone(),
        token: opts.credential.secret().clone(),
        secrets: vec![opts.credential.secret().clone()],
        stripped: None,
        jwt: None,
        options,
        slow: opts.slow,
        probes: vec![],
        findings: vec![],
        unreachable: false,
        oauth: None,
    };
    d.precheck();
    // With OAuth2 client credentials, Entra first asks the token endpoint for an access token,
    // and Test Connection goes no further without one.
    if let Some(oauth) = opts.credential.oauth_client() {
        let token_client = Client::new(target.clone(), opts.credential.clone(), d.options.clone())?;
        match d.token_endpoint(&token_client, oauth).await {
            Some(access) => d.token = access,
            None => return Ok(d.finish()),
        }
    }
    let raw = d.token.expose().to_string();
    d.stripped = token::strip_bearer_prefix(&raw).map(Secret::new);
    let jwt_source = d.stripped.as_ref().map_or(raw.as_str(), |s| s.expose());
    d.jwt = token::decode_jwt(jwt_source, chrono::Utc::now());
    d.secrets.extend(d.stripped.clone());
    let client = d.client(target.clone(), d.token.clone())?;

    // Entra's two probes go out side by side; the groups probe is judged only when the users
    // probe got an answer.
    let (users_req, groups_req) = (users_probe(), groups_probe(true));
    let (users_sent, groups_sent) = tokio::join!(client.send(&users_req), client.send(&groups_req));
    let (us, users_ex) = d.record(Stage::TestConnection, "Entra's users probe: a filter on a random userName, expecting 200 and an empty ListResponse", "token", &users_req, users_sent);
    let users = answer(&users_ex);
    let users_url = users_ex.request.url.clone();
    if let Answer::Transport(e) = &users {
        let e = e.clone();
        d.unreachable = !matches!(e, TransportError::Body(_));
        d.transport(&e, us, &users_url).await;
        d.token_notes(false, us);
        return Ok(d.finish());
    }
    let (gs, groups_ex) = d.record(Stage::TestConnection, "Entra's groups probe: a filter on a random displayName without members, expecting 200 and an empty ListResponse", "token", &groups_req, groups_sent);
    let groups = answer(&groups_ex);
    let groups_url = groups_ex.request.url.clone();
    let reached = d.users(&client, us, &users, &users_url).await;
    if reached {
        d.groups(&client, gs, &groups, &groups_url).await;
    } else {
        d.note(gs, false, "not judged: the users probe failed first");
    }
    d.token_notes(users.is_list(), us);
    if (d.options.ca_cert.is_some() || d.options.insecure) && users_url.starts_with("https:") {
        d.verify_like_entra(&users_url).await;
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
