//! The state of one diagnosis: the probes sent so far, the findings made from them (merged by
//! code, redacted), and the verdict they add up to.

use std::time::Duration;

use super::answer::short_error;
use super::model::{
    EntraMessage, Evidence, Finding, Outcome, Probe, Report, Stage, TokenFacts, Verdict,
};
use super::oauth::OAuthFacts;
use super::tls;
use super::token::JwtInfo;
use crate::diagnosis::{self, Code, Severity};
use crate::exit;
use crate::http::{Client, ClientOptions, Exchange, OutRequest, Secret, TenantUrl, TransportError};
use crate::scenario::model::Auth;

/// The messages Entra shows, where known (the codes come from the catalogue in
/// [`crate::entra_error`]).
pub(super) mod entra {
    use crate::entra_error::Code;
    pub const CREDENTIALS_CODE: &str = Code::CredentialValidationFailure.as_str();
    pub const CREDENTIALS: &str = "You appear to have entered invalid credentials. Please confirm you are using the correct information for an administrative account.";
    pub const NOT_FOUND: &str = "An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response. To address this issue, ensure that the tenant URL is correct.";
    pub const INCOMPATIBLE_CODE: &str = Code::ServiceIncompatible.as_str();
}

/// Entra's own wording.
pub(super) fn verbatim(code: Option<&'static str>, text: &str) -> Option<EntraMessage> {
    Some(EntraMessage {
        code,
        text: text.to_string(),
        verbatim: true,
    })
}

/// scimcheck's description of what Entra shows.
pub(super) fn described(text: impl Into<String>) -> Option<EntraMessage> {
    Some(EntraMessage {
        code: None,
        text: text.into(),
        verbatim: false,
    })
}

/// Entra's message for rejected credentials.
pub(super) fn credentials() -> Option<EntraMessage> {
    verbatim(Some(entra::CREDENTIALS_CODE), entra::CREDENTIALS)
}

/// Entra's message for a 404.
pub(super) fn not_found() -> Option<EntraMessage> {
    verbatim(None, entra::NOT_FOUND)
}

/// What Entra says about a body it cannot read.
pub(super) fn not_deserializable() -> Option<EntraMessage> {
    described("Entra is not able to deserialize the response received from the SCIM endpoint")
}

/// What Entra says about an unexpected status.
pub(super) fn unexpected(status: u16) -> Option<EntraMessage> {
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

/// A finding that makes Test Connection fail.
pub(super) fn error(code: Code, title: impl Into<String>) -> Finding {
    diagnosis::Finding::new(
        code,
        Severity::Error,
        title,
        Evidence {
            blocks_test_connection: true,
            ..Evidence::default()
        },
    )
}

/// A finding that does not make Test Connection fail (unless made [`Finding::blocking`]).
pub(super) fn warning(code: Code, title: impl Into<String>) -> Finding {
    diagnosis::Finding::new(code, Severity::Warning, title, Evidence::default())
}

impl Finding {
    /// Based on these probes too.
    pub(super) fn probes(self, steps: &[usize]) -> Finding {
        steps.iter().fold(self, |f, s| f.probe(*s))
    }

    /// Based on this probe too.
    pub(super) fn probe(mut self, step: usize) -> Finding {
        if !self.context.probes.contains(&step) {
            self.context.probes.push(step);
        }
        self
    }

    /// What Entra shows for it.
    pub(super) fn entra(mut self, m: Option<EntraMessage>) -> Finding {
        self.context.entra = m;
        self
    }

    /// It makes Test Connection fail, whatever its severity.
    pub(super) fn blocking(mut self) -> Finding {
        self.context.blocks_test_connection = true;
        self
    }

    /// A Tenant URL that would work.
    pub(super) fn suggest(mut self, url: String) -> Finding {
        self.context.suggested_url = Some(url);
        self
    }
}

/// The state of one diagnosis.
pub(super) struct Journal {
    pub(super) input: String,
    pub(super) target: TenantUrl,
    pub(super) token: Secret,
    pub(super) secrets: Vec<Secret>,
    pub(super) stripped: Option<Secret>,
    pub(super) jwt: Option<JwtInfo>,
    pub(super) options: ClientOptions,
    pub(super) slow: Duration,
    pub(super) probes: Vec<Probe>,
    pub(super) findings: Vec<Finding>,
    pub(super) unreachable: bool,
    pub(super) oauth: Option<OAuthFacts>,
}

impl Journal {
    /// `s` with every secret redacted.
    pub(super) fn clean(&self, s: &str) -> String {
        self.secrets
            .iter()
            .fold(s.to_string(), |t, sec| sec.redact(&t))
    }

    /// Adds a finding, redacted; a second one with the same code adds its details and probes
    /// to the first.
    pub(super) fn add(&mut self, mut f: Finding) {
        debug_assert!(!f.fix.is_empty(), "{} has no fix", f.code);
        let details: Vec<String> = f.details.iter().map(|d| self.clean(d)).collect();
        if let Some(existing) = self.findings.iter_mut().find(|x| x.code == f.code) {
            for d in details {
                if !existing.details.contains(&d) {
                    existing.details.push(d);
                }
            }
            for p in f.context.probes {
                if !existing.context.probes.contains(&p) {
                    existing.context.probes.push(p);
                }
            }
            return;
        }
        f.title = self.clean(&f.title);
        f.details = details;
        f.fix = self.clean(&f.fix);
        self.findings.push(f);
    }

    /// A client for `target` with the probes' settings.
    pub(super) fn client(&self, target: TenantUrl, token: Secret) -> Result<Client, String> {
        Client::new(target, token, self.options.clone())
    }

    /// Marks probe `step` as Entra expects (or not), with a note.
    pub(super) fn note(&mut self, step: usize, ok: bool, note: impl Into<String>) {
        let note = self.clean(&note.into());
        if let Some(p) = self.probes.get_mut(step - 1) {
            p.ok = ok;
            if !note.is_empty() {
                p.notes.push(note);
            }
        }
    }

    /// Sends `req` with `client` and records the probe; returns its step number.
    pub(super) async fn send(
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

    /// Records the exchange of a probe sent by [`Journal::send`] (or side by side with another).
    pub(super) fn record(
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
    pub(super) fn record_connection(
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

    /// The verdict and the report.
    pub(super) fn finish(mut self) -> Report {
        self.findings
            .sort_by_key(|f| (!f.context.blocks_test_connection, f.severity, f.code.rank()));
        let first = self
            .findings
            .iter()
            .find(|f| f.context.blocks_test_connection);
        let outcome = if self.unreachable {
            Outcome::Unreachable
        } else if first.is_some() {
            Outcome::Fail
        } else {
            Outcome::Pass
        };
        let entra = first.and_then(|f| f.context.entra.clone());
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
