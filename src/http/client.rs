//! The HTTP client: Tenant URL joining, the auth header (a static token or an OAuth access
//! token, refreshed once on a 401), TLS settings, timeouts, the body cap, redirects reported
//! (never followed), and every record redacted.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::credential::{Bearer, Credential};
use crate::pace::{Pacer, Rate};

use super::encoding::encode;
use super::error::{TransportError, body_error, classify};
use super::message::{Auth, Exchange, OutRequest, Received, SentRequest, read_capped};
use super::secret::{REDACTED, Secret, redact_header};
use super::tenant_url::TenantUrl;

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
    /// Allow PATCH / PUT / DELETE on resources this run did not create (the run's write guard,
    /// `run::Tenant`, reads it).
    pub allow_foreign_writes: bool,
    /// How many times a 429 / 503 with `Retry-After` is retried.
    pub max_retries: u32,
    /// The longest `Retry-After` waited out.
    pub max_retry_wait: Duration,
    /// Refuse every request that could write (anything but GET and HEAD).
    pub read_only: bool,
    /// How long, in all, cleanup and the look-up of lost creates retry transient failures
    /// (`run::Tenant` reads it).
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

/// The HTTP client of a command: one connection pool, one credential, one pace.
pub struct Client {
    inner: reqwest::Client,
    target: TenantUrl,
    /// Redacts every secret of `credential` (shared with it).
    token: Secret,
    /// Where the bearer token comes from: the Secret Token or an OAuth client.
    credential: Credential,
    options: ClientOptions,
    /// Set on Ctrl-C / `--deadline`: a `Retry-After` wait is cut short.
    pub(super) stop: Arc<AtomicBool>,
    /// Paces every request (`--rate`) and holds them all back after a 429.
    pub(super) pacer: Arc<Pacer>,
}

/// A token that is certainly wrong, for the auth checks.
pub const WRONG_TOKEN: &str = "scimcheck-deliberately-wrong-token";

/// A request built for sending: its absolute URL, headers and body, and the redacted record
/// of it. Only [`Client::authorize`] makes it one that can be sent.
pub struct Prepared {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    auth: Auth,
    sent: SentRequest,
    started: Instant,
}

impl Prepared {
    /// The method, upper-case.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The exchange of a request refused before it was sent: its record, and why.
    pub fn refuse(self, why: TransportError) -> Exchange {
        Exchange {
            request: self.sent,
            response: Err(why),
            elapsed: self.started.elapsed(),
        }
    }
}

/// A request that carries its credentials (an OAuth access token fetched when one is needed):
/// ready for [`Client::dispatch`].
pub struct Authorized {
    request: Prepared,
    bearer: Option<Bearer>,
}

/// The `--read-only` refusal of a request to `path` sent as `method` that would carry out the
/// `intended` methods, when one of them is anything but GET and HEAD.
pub fn read_only_refusal<'a>(
    method: &str,
    path: &str,
    intended: impl IntoIterator<Item = &'a str>,
) -> Option<TransportError> {
    let m = intended
        .into_iter()
        .find(|m| !matches!(*m, "GET" | "HEAD"))?;
    let what = if m == method {
        method.to_string()
    } else {
        format!("{method} (as {m})")
    };
    Some(TransportError::ReadOnly(format!("{what} {path}")))
}

impl Client {
    /// Builds the client.
    pub fn new(
        target: TenantUrl,
        credential: impl Into<Credential>,
        options: ClientOptions,
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
            stop: Arc::default(),
            pacer: Arc::new(Pacer::new(Rate::Max)),
        })
    }

    /// Paces every request of this client at `rate` (`run --rate`); a 429 holds them all back
    /// whatever the rate.
    pub fn with_rate(mut self, rate: Rate) -> Self {
        self.pacer = Arc::new(Pacer::new(rate));
        self
    }

    /// Shares the run's stop flag: once set, a `Retry-After` wait ends at once.
    pub fn with_stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = stop;
        self
    }

    /// The client options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
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
    pub fn credential(&self) -> &Credential {
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
                r.headers = redact_headers(r.headers, &self.token);
                r
            });
        Exchange {
            request: sent,
            response,
            elapsed: started.elapsed(),
        }
    }

    /// Sends `req` and returns the redacted exchange; under `--read-only`, a request that could
    /// write (by its method or a method-override header) is refused unsent. Never panics on a
    /// misbehaving server. Nothing is recorded about what it created: a run sends through
    /// `run::Tenant`, which keeps the ledger and guards writes.
    pub async fn send(&self, req: &OutRequest) -> Exchange {
        let prepared = self.prepare(req);
        let methods = req.methods();
        if self.options.read_only
            && let Some(refusal) = read_only_refusal(
                prepared.method(),
                &req.path,
                methods.iter().map(String::as_str),
            )
        {
            return prepared.refuse(refusal);
        }
        match self.authorize(prepared).await {
            Ok(ready) => self.dispatch(ready).await,
            Err(refused) => refused,
        }
    }

    /// Builds `req` for sending: the absolute URL with its query, the headers (credentials,
    /// `Accept`, `Content-Type`, the request's own) and the redacted record. The clock of the
    /// exchange starts here.
    pub fn prepare(&self, req: &OutRequest) -> Prepared {
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
        let body = req
            .body
            .as_ref()
            .map(|b| serde_json::to_string(b).unwrap_or_default());
        let mut headers: Vec<(String, String)> = Vec::new();
        // An OAuth access token is fetched only once the request passed the guards.
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
        if body.is_some() {
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
            body: body.as_ref().map(|b| self.token.redact(b)),
        };
        Prepared {
            method,
            url,
            headers,
            body,
            auth: req.auth,
            sent,
            started: Instant::now(),
        }
    }

    /// Puts the OAuth access token into a prepared request that carries the token (fetching
    /// one when there is none, or it is about to expire); the exchange of the failure when no
    /// token can be had.
    pub async fn authorize(&self, mut request: Prepared) -> Result<Authorized, Exchange> {
        let oauth = self.credential.oauth_client().is_some();
        let mut bearer = None;
        if oauth && request.auth == Auth::Token {
            match self.credential.bearer(self).await {
                Ok(b) => {
                    request.headers[0].1 = format!("Bearer {}", b.token);
                    bearer = Some(b);
                }
                Err(e) => return Err(request.refuse(e)),
            }
        }
        Ok(Authorized { request, bearer })
    }

    /// Sends an authorized request (waiting out `Retry-After` as allowed; once more with a new
    /// access token after a 401 to one that worked before) and returns the redacted exchange.
    pub async fn dispatch(&self, ready: Authorized) -> Exchange {
        let Authorized {
            request: mut p,
            bearer,
        } = ready;
        let mut response = self
            .send_with_retries(&p.method, &p.url, &p.headers, p.body.clone())
            .await;
        // A 401 to an access token that worked before: it expired or was revoked early. A new
        // one, and the request once more (a 401 means nothing was done).
        if let (Some(b), Ok(r)) = (&bearer, &response)
            && self.credential.answered(b, r.status).await
        {
            match self.credential.bearer(self).await {
                Ok(b) => {
                    p.headers[0].1 = format!("Bearer {}", b.token);
                    response = self
                        .send_with_retries(&p.method, &p.url, &p.headers, p.body.take())
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
            r.headers = redact_headers(r.headers, &self.token);
            r
        });
        Exchange {
            request: p.sent,
            response,
            elapsed: p.started.elapsed(),
        }
    }

    /// Sends one request as it is, and reads its answer up to the body cap.
    pub(super) async fn send_once(
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
        let mut resp = rb
            .send()
            .await
            .map_err(|e| classify(&e, &self.token, self.options.timeout))?;
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
        let (bytes, truncated) = read_capped(&mut resp, self.options.max_body)
            .await
            .map_err(|(e, read)| {
                let why = body_error(
                    &e,
                    &self.token,
                    self.options.timeout,
                    status,
                    &headers,
                    read,
                );
                TransportError::Body(why)
            })?;
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
}

/// Response headers with the token redacted from every value (and secret-bearing headers hidden).
fn redact_headers(headers: Vec<(String, String)>, token: &Secret) -> Vec<(String, String)> {
    headers
        .into_iter()
        .map(|(k, v)| {
            let v = redact_header(&k, &v, token);
            (k, v)
        })
        .collect()
}
