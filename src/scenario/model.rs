//! The scenario file model: what a YAML scenario may say, as serde types.
//!
//! Positions are kept (`Spanned`) wherever a later semantic check may need to point at the
//! source: template strings, captures, expectations.

use serde::Deserialize;
use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use crate::http::TenantUrl;
use crate::scim::dialect::Dialect;

/// One scenario file: a named, ordered sequence of steps that replays one Entra call sequence.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Stable identifier, used by `--only`/`--skip`; defaults to the file stem.
    #[serde(default)]
    pub id: Option<String>,
    /// Human-readable title.
    pub name: String,
    /// What the scenario proves.
    #[serde(default)]
    pub description: String,
    /// Which Entra provisioning behaviour it mimics.
    #[serde(default)]
    pub entra: String,
    /// Tags for selection (`users`, `groups`, `core`, `read-only`, ...).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The scenario sends nothing that depends on the PATCH dialect (probes, discovery, auth):
    /// with `--dialect both` it runs once, not once per dialect.
    #[serde(default)]
    pub dialect_neutral: bool,
    /// Where the scenario runs in the plan: `middle` (halfway through the other scenarios) or
    /// `end` (after every other scenario has finished), for keepalive probes; default: in order.
    #[serde(default)]
    pub position: Option<Position>,
    /// Variables, evaluated once in order at scenario start; values may use templates.
    #[serde(default)]
    pub vars: Option<Spanned<Map<String, Value>>>,
    /// The steps, run in order.
    pub steps: Vec<Spanned<Step>>,
}

impl Scenario {
    /// Whether any step (or cleanup) sends something other than GET / HEAD.
    pub fn sends_writes(&self) -> bool {
        self.steps.iter().any(|s| {
            let s = &s.value;
            s.patch.is_some()
                || s.cleanup.is_some()
                || s.request.as_ref().is_some_and(|r| {
                    !matches!(r.value.method.to_ascii_uppercase().as_str(), "GET" | "HEAD")
                })
        })
    }
}

/// A scenario's place in the plan (see [`Scenario::position`]).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// Halfway through the other scenarios.
    Middle,
    /// After every other scenario has finished.
    End,
}

/// Check severity: `fail` means Entra provisioning breaks or the gallery review rejects it;
/// `warn` is an RFC deviation that Entra tolerates.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq, Default, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Fail,
    Warn,
}

/// Why a check exists, and so whether its failure fails the run.
///
/// By default only `entra` findings fail a run; `validator` and `rfc` findings are warnings
/// unless `--strict` names their class.
#[derive(
    Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq, Default, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// Entra provisioning sends this and breaks (or drifts, or quarantines) without it.
    #[default]
    Entra,
    /// Only Microsoft's SCIM Validator (or the Logic App harness) exercises it.
    Validator,
    /// An RFC 7643/7644 requirement that Entra does not rely on.
    Rfc,
}

impl Evidence {
    /// The name used in `list`, reports and `--strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Entra => "entra",
            Evidence::Validator => "validator",
            Evidence::Rfc => "rfc",
        }
    }
}

/// Which evidence classes fail the run (`entra` always; `--strict` adds the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Strictness {
    /// `validator` findings fail the run.
    pub validator: bool,
    /// `rfc` findings fail the run.
    pub rfc: bool,
}

impl Strictness {
    /// Whether a failing finding of this class fails the run.
    pub fn fails(self, e: Evidence) -> bool {
        match e {
            Evidence::Entra => true,
            Evidence::Validator => self.validator,
            Evidence::Rfc => self.rfc,
        }
    }
}

impl Dialect {
    /// The dialect Entra would use for this Tenant URL: compliant when the query carries
    /// `aadOptscim062020` (or the older `AzureAdScimPatch062020`), the default (legacy) dialect
    /// otherwise, and always when it carries `AzureAdScimPatch2017`, the documented roll-back
    /// flag (application-provisioning-config-problem-scim-compatibility). Flag names compare
    /// case-insensitively.
    pub fn of_tenant_url(url: &TenantUrl) -> Dialect {
        if url.has_flag("AzureAdScimPatch2017") {
            Dialect::Default
        } else if url.has_flag("aadOptscim062020") || url.has_flag("AzureAdScimPatch062020") {
            Dialect::Compliant
        } else {
            Dialect::Default
        }
    }
}

/// One step: a request (raw or a dialect-neutral PATCH), what to expect, what to capture.
/// Every step is also a check with a stable id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Human-readable step name.
    pub name: String,
    /// Stable check id (e.g. `user.disable.still-listed`); defaults to `<scenario-id>.<slug of name>`.
    #[serde(default)]
    pub id: Option<String>,
    /// One line: what this check proves.
    #[serde(default)]
    pub proves: Option<String>,
    /// Shown on failure: the consequence in Entra terms and what to change.
    #[serde(default)]
    pub hint: Option<String>,
    /// Shown instead of `hint` when the server refused the request (an unexpected 4xx): the
    /// likely cause of a refusal differs from the cause of a wrong value.
    #[serde(default)]
    pub hint_rejected: Option<String>,
    /// `fail` (default) or `warn` (never fails the run, whatever `--strict` says).
    #[serde(default)]
    pub severity: Severity,
    /// Why the check exists: `entra` (default), `validator` or `rfc`; cite the source in
    /// `proves`.
    #[serde(default)]
    pub evidence: Evidence,
    /// Schema URNs the server must publish at `/Schemas` for this check to apply (a custom
    /// extension, which Entra sends only to apps that offer it). When the server's own
    /// `/Schemas` was read and lacks one, the check is skipped with that reason.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Check ids of earlier steps this one judges the effect of (a verification GET after a
    /// PATCH, a duplicate create after the create). When one of them was not accepted, this
    /// check is `blocked` rather than failed. `<id>.suffix` implicitly depends on `<id>`.
    #[serde(default)]
    pub after: Vec<String>,
    /// Run this step only in this dialect.
    #[serde(default)]
    pub dialect: Option<Dialect>,
    /// A setup create that does not depend on the order of creation (no later check reads the
    /// order in which it and its neighbours were created): consecutive `independent` creates of
    /// distinct resources may be sent side by side.
    #[serde(default)]
    pub independent: bool,
    /// Repeat the step N times; `{{ i }}` is 1..=N; captures become arrays.
    #[serde(default)]
    pub repeat: Option<u32>,
    /// A raw request.
    #[serde(default)]
    pub request: Option<Spanned<RequestSpec>>,
    /// A dialect-neutral PATCH, rendered in the run's Entra dialect.
    #[serde(default)]
    pub patch: Option<Spanned<PatchSpec>>,
    /// Expectations on the response.
    #[serde(default)]
    pub expect: Option<Spanned<Expect>>,
    /// Values to remember: name -> JSON pointer into the response body.
    #[serde(default)]
    pub capture: Map<String, Value>,
    /// A request that undoes this step; runs at scenario end in reverse order, always.
    #[serde(default)]
    pub cleanup: Option<Spanned<RequestSpec>>,
}

/// Which credentials a request carries (at home in the HTTP layer).
pub use crate::http::Auth;

/// An HTTP request relative to the Tenant URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// HTTP method (GET, POST, PUT, PATCH, DELETE).
    pub method: String,
    /// Path relative to the Tenant URL, e.g. `/Users/{{ user_id }}`.
    pub path: String,
    /// Query parameters (values are templates).
    #[serde(default)]
    pub query: Map<String, Value>,
    /// Extra headers (values are templates).
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// JSON body (strings are templates).
    #[serde(default)]
    pub body: Option<Value>,
    /// `token` (default), `none` or `wrong`.
    #[serde(default)]
    pub auth: Auth,
}

/// A dialect-neutral PATCH of one resource.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PatchSpec {
    /// The resource path, e.g. `/Users/{{ user_id }}`.
    pub resource: String,
    /// Attributes to replace: path -> value.
    #[serde(default)]
    pub set: Map<String, Value>,
    /// Attributes to add: path -> value.
    #[serde(default)]
    pub add: Map<String, Value>,
    /// Attribute paths to remove.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Member ids to add to a group (one op).
    #[serde(default)]
    pub add_members: Vec<Value>,
    /// Member ids to remove from a group (dialect-specific form).
    #[serde(default)]
    pub remove_members: Vec<Value>,
    /// Raw operations appended as written; `{{ op.add }}` etc. render the dialect's op casing.
    #[serde(default)]
    pub ops: Vec<Value>,
}

/// Expected status: one code or a list of acceptable codes.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusSpec {
    One(u16),
    Any(Vec<u16>),
}

impl<'de> Deserialize<'de> for StatusSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StatusSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "an HTTP status code such as 200, or a list of codes such as [200, 204]",
                )
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<StatusSpec, E> {
                u16::try_from(v)
                    .ok()
                    .filter(|c| (100..=599).contains(c))
                    .map(StatusSpec::One)
                    .ok_or_else(|| {
                        E::custom(format!("{v} is not an HTTP status code (100 to 599)"))
                    })
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<StatusSpec, E> {
                self.visit_u64(u64::try_from(v).unwrap_or(0))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StatusSpec, A::Error> {
                let mut codes = Vec::new();
                while let Some(c) = seq.next_element::<u16>()? {
                    codes.push(c);
                }
                if codes.is_empty() {
                    return Err(serde::de::Error::custom(
                        "an empty list of status codes accepts nothing",
                    ));
                }
                Ok(StatusSpec::Any(codes))
            }
        }
        d.deserialize_any(V)
    }
}

impl StatusSpec {
    /// Whether `code` is acceptable.
    pub fn accepts(&self, code: u16) -> bool {
        match self {
            StatusSpec::One(c) => *c == code,
            StatusSpec::Any(cs) => cs.contains(&code),
        }
    }

    /// `201` or `200 or 204`.
    pub fn describe(&self) -> String {
        match self {
            StatusSpec::One(c) => c.to_string(),
            StatusSpec::Any(cs) => cs
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
        }
    }
}

/// What the response must look like.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Acceptable status code(s).
    #[serde(default)]
    pub status: Option<StatusSpec>,
    /// SCIM definition the body must satisfy: User, Group, ListResponse, Error, Schema,
    /// ResourceType, ServiceProviderConfig.
    #[serde(default)]
    pub schema: Option<Spanned<String>>,
    /// Subset of the body that must match (strings are templates).
    #[serde(default)]
    pub body: Option<Value>,
    /// Response headers that must be present; a value is a substring the header must contain.
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// `scim` (default: `application/scim+json` whenever there is a body) or `any`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Assertions on parts of the body, addressed by JSON pointer (`*` matches every array item).
    #[serde(default)]
    pub assert: Vec<Spanned<Assertion>>,
}

/// One assertion on the value(s) at a JSON pointer. Exactly one predicate should be given.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// JSON pointer, `*` for every array item (e.g. `/Resources/*/id`).
    pub pointer: String,
    /// The value must equal this.
    #[serde(default)]
    pub equals: Option<Value>,
    /// `true`: nothing may be at the pointer; `false`: something must be.
    #[serde(default)]
    pub absent: Option<bool>,
    /// Array (or string) length.
    #[serde(default)]
    pub length: Option<usize>,
    /// Number at least this.
    #[serde(default)]
    pub min: Option<f64>,
    /// The array must contain (or the string include) this value.
    #[serde(default)]
    pub contains: Option<Value>,
    /// The array must not contain this value.
    #[serde(default)]
    pub not_contains: Option<Value>,
    /// The values at the pointer must share nothing with this array.
    #[serde(default)]
    pub disjoint: Option<Value>,
    /// Every element of the array at the pointer must match this SCIM filter.
    #[serde(default)]
    pub all_match: Option<Spanned<String>>,
    /// The value must be one of these (`null` among them also accepts an absent value).
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
    /// A ResourceType `endpoint` (RFC 7643 section 6, relative to the Base URL): the value
    /// (some value, for a `*` pointer) must name this collection, as `/Users`, `Users`, the Base
    /// URL's own path plus `/Users`, or an absolute URL of it.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The evidence class of this one assertion, when it differs from the step's (an RFC detail
    /// inside an Entra check).
    #[serde(default)]
    pub evidence: Option<Evidence>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialect_flags_of_the_tenant_url_choose_the_dialect_as_entra_does() {
        let dialect = |url: &str| Dialect::of_tenant_url(&TenantUrl::parse(url).unwrap());
        assert_eq!(dialect("https://h/scim/v2"), Dialect::Default);
        assert_eq!(
            dialect("https://h/scim/v2/?aadOptscim062020"),
            Dialect::Compliant
        );
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
}
