//! What `connect` reports: the verdict, every probe as evidence, the findings.

use std::time::Duration;

use serde::Serialize;

use super::oauth::OAuthFacts;
use super::token::JwtInfo;
use crate::diagnosis;
use crate::http::ClientOptions;

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

/// What a `connect` finding is about: the probes it rests on and what Entra shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Whether this makes Entra's Test Connection fail.
    pub blocks_test_connection: bool,
    /// The probes (their `step` numbers) this is based on.
    pub probes: Vec<usize>,
    /// What Entra shows for it.
    pub entra: Option<EntraMessage>,
    /// A Tenant URL that would work, when one was found.
    pub suggested_url: Option<String>,
}

/// One diagnosis of `connect`: a stable code (`tls.self-signed`, `url.missing-scim-segment`,
/// `groups.not-found`, ...), what is wrong, the evidence and the fix.
pub type Finding = diagnosis::Finding<Evidence>;

/// The JSON form of a finding (documented in the README).
impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut f = s.serialize_struct("Finding", 9)?;
        f.serialize_field("code", &self.code)?;
        f.serialize_field("severity", &self.severity)?;
        f.serialize_field(
            "blocks_test_connection",
            &self.context.blocks_test_connection,
        )?;
        f.serialize_field("title", &self.title)?;
        f.serialize_field("details", &self.details)?;
        f.serialize_field("fix", &self.fix)?;
        f.serialize_field("probes", &self.context.probes)?;
        f.serialize_field("entra", &self.context.entra)?;
        f.serialize_field("suggested_url", &self.context.suggested_url)?;
        f.end()
    }
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
        self.findings.iter().any(|f| f.code.as_str() == code)
    }
}

/// `12 ms`, `3.4 s`.
pub fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}
