//! Entra's own words: the error codes an admin sees in the provisioning logs (or the Test
//! Connection banner) for the failures scimcheck finds, what each means, which checks reproduce
//! it, and what to fix. Every entry cites the public page (or captured report) it rests on; a
//! failure with no documented Entra equivalent gets none rather than a guess.
//!
//! [`for_check`] maps one check result to its code; [`explain`] finds the entry for a code or a
//! pasted log message (`scimcheck explain`).

use serde_json::Value;

use crate::http::{Received, TransportError};
use crate::run::{CheckResult, Outcome, Recorded};
use crate::scim::json::get_ci;

/// The provisioning-logs error-code table (Microsoft Learn).
const LOGS: &str = "https://learn.microsoft.com/entra/identity/monitoring-health/howto-analyze-provisioning-logs#error-codes";
/// "Why is my application in quarantine?" (Microsoft Learn).
const QUARANTINE: &str = "https://learn.microsoft.com/entra/identity/app-provisioning/application-provisioning-quarantine-status#why-is-my-application-in-quarantine";
/// The Get Group request with `excludedAttributes=members` (Microsoft Learn).
const GET_GROUP: &str = "https://learn.microsoft.com/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#get-group";
/// Captured Test Connection failures published by SCIM server authors (third-party).
const CAPTURED_TEST_CONNECTION: &str = "captured Test Connection reports of SCIM server authors (third-party): a /Groups 404 shows as InvalidCredentials wrapping this code; a 401 from the probe shows this code with the invalid-credentials banner";

/// An Entra provisioning error code scimcheck can reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    ServiceIncompatible,
    MultipleEntriesInResponse,
    CredentialValidationFailure,
    DuplicateTargetEntries,
    InvalidAnchor,
    Conflict,
    Unauthorized,
    MethodNotAllowed,
    UnprocessableEntity,
    TooManyRequests,
    InternalServerError,
    NotImplemented,
    Timeout,
}

impl Code {
    /// Every code, in the order `explain` lists them.
    pub const ALL: [Code; 13] = [
        Code::ServiceIncompatible,
        Code::MultipleEntriesInResponse,
        Code::CredentialValidationFailure,
        Code::DuplicateTargetEntries,
        Code::InvalidAnchor,
        Code::Conflict,
        Code::Unauthorized,
        Code::MethodNotAllowed,
        Code::UnprocessableEntity,
        Code::TooManyRequests,
        Code::InternalServerError,
        Code::NotImplemented,
        Code::Timeout,
    ];

    /// The code exactly as Entra writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::ServiceIncompatible => {
                "SystemForCrossDomainIdentityManagementServiceIncompatible"
            }
            Code::MultipleEntriesInResponse => {
                "SystemForCrossDomainIdentityManagementMultipleEntriesInResponse"
            }
            Code::CredentialValidationFailure => {
                "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
            }
            Code::DuplicateTargetEntries => "DuplicateTargetEntries",
            Code::InvalidAnchor => "InvalidAnchor",
            Code::Conflict => "Conflict",
            Code::Unauthorized => "Unauthorized",
            Code::MethodNotAllowed => "MethodNotAllowed",
            Code::UnprocessableEntity => "UnprocessableEntity",
            Code::TooManyRequests => "TooManyRequests",
            Code::InternalServerError => "InternalServerError",
            Code::NotImplemented => "NotImplemented",
            Code::Timeout => "Timeout",
        }
    }

    /// Its catalogue entry.
    pub fn entry(self) -> Entry {
        entry(self)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the catalogue says about one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub code: Code,
    /// Where the admin sees it.
    pub seen_in: &'static str,
    /// What Entra's documentation says it means (short).
    pub means: &'static str,
    /// Which scimcheck failures reproduce it, in words.
    pub reproduced_by: &'static str,
    /// The check ids that produce it by name (status- and transport-driven codes name none:
    /// any check can).
    pub checks: &'static [&'static str],
    /// What to change in the SCIM endpoint.
    pub fix: &'static str,
    /// Other words a pasted log line may carry instead of the code (lower case).
    pub phrases: &'static [&'static str],
    /// Where this is documented.
    pub sources: &'static [&'static str],
}

/// Filters Entra uses to match a user or group before it creates one; more than one hit is a
/// duplicate target entry.
const MATCH_CHECKS: &[&str] = &[
    "user.match",
    "user.filter.existing",
    "user.filter.different-case",
    "user.filter.external-id",
    "user.filter.work-email",
    "user.filter.unquoted",
    "user.update.username.filter",
    "group.match",
    "group.filter.existing",
    "group.filter.different-case",
];

/// Group reads Entra sends with `excludedAttributes=members`.
const EXCLUDED_MEMBERS_CHECKS: &[&str] = &[
    "connection.groups-probe",
    "group.match",
    "group.get.excluding-members",
    "group.filter.excluding-members",
];

/// Entra's id-and-manager lookup before a reference update: one user expected.
const SINGLE_GET_CHECKS: &[&str] = &["user.filter.id-and-manager"];

/// The Test Connection probes.
const TEST_CONNECTION_CHECKS: &[&str] = &["connection.users-probe", "connection.groups-probe"];

fn entry(code: Code) -> Entry {
    let e = |seen_in, means, reproduced_by, checks, fix, phrases, sources| Entry {
        code,
        seen_in,
        means,
        reproduced_by,
        checks,
        fix,
        phrases,
        sources,
    };
    match code {
        Code::ServiceIncompatible => e(
            "provisioning logs; Test Connection (as InvalidCredentials wrapping it); quarantine (\"SCIM Compliance issue\")",
            "Entra could not use the response: it could not parse it, or got HTTP/404 Not Found where it expected HTTP/200 OK.",
            "a Test Connection probe that answers 404 (on /Groups too, even for user-only apps) or a body that is not a ListResponse; any request on /Users or /Groups (no id) answered 404; any success response whose body is not JSON",
            TEST_CONNECTION_CHECKS,
            "Serve /Users and /Groups at the Tenant URL (a 404 there means a wrong path or a missing /Groups endpoint: answer an empty ListResponse instead), and answer every request with a JSON body of type application/scim+json.",
            &[
                "serviceincompatible",
                "http/404 not found response was returned rather than the expected http/200 ok",
                "unable to parse the response",
                "not able to deserialize",
                "scim compliance issue",
            ],
            &[LOGS, QUARANTINE, CAPTURED_TEST_CONNECTION],
        ),
        Code::MultipleEntriesInResponse => e(
            "provisioning logs",
            "A GET for one user or group received several in the response; for example members returned for a Get Group with excludedAttributes=members.",
            "a group read with excludedAttributes=members that still returns members, or the id-and-manager lookup answering more than one user",
            &[
                "connection.groups-probe",
                "group.match",
                "group.get.excluding-members",
                "group.filter.excluding-members",
                "user.filter.id-and-manager",
            ],
            "Honour excludedAttributes=members (leave the members attribute out entirely) and make filters on id return exactly the one resource.",
            &["multipleentriesinresponse"],
            &[LOGS, GET_GROUP],
        ),
        Code::CredentialValidationFailure => e(
            "Test Connection banner (\"You appear to have entered invalid credentials\"); quarantine (\"Invalid credentials\")",
            "The target answered Entra's credential test in a way that says the credentials are invalid.",
            "a Test Connection probe answered 401 or 403",
            TEST_CONNECTION_CHECKS,
            "Accept the Secret Token exactly as Entra sends it (`Authorization: Bearer <token>`), on /Users and on /Groups.",
            &[
                "credentialvalidationfailure",
                "invalid credentials",
                "encounteredquarantineexception",
            ],
            &[QUARANTINE, CAPTURED_TEST_CONNECTION],
        ),
        Code::DuplicateTargetEntries => e(
            "provisioning logs",
            "More than one user (or group) in the target application matched the configured matching attribute.",
            "a matching filter (userName, externalId, the work email, displayName) that answers more than one resource",
            MATCH_CHECKS,
            "Evaluate the filter exactly (attribute and value, `eq` only) so that a match returns at most one resource; do not ignore the filter and list everything.",
            &["duplicatetargetentries"],
            &[LOGS],
        ),
        Code::InvalidAnchor => e(
            "provisioning logs",
            "A user or group that Entra created or matched no longer exists in the target.",
            "a GET or PATCH of a resource this run created that answers 404",
            &[],
            "Keep the id returned by POST valid for GET, PATCH and DELETE on /Users/{id} and /Groups/{id}, and never change a resource's id.",
            &["invalidanchor"],
            &[LOGS],
        ),
        Code::Conflict => e(
            "provisioning logs (Conflict, EntryConflict)",
            "The target refused the change because of a conflicting attribute value.",
            "a create or update that should succeed answered 409",
            &[],
            "Answer 409 only for a real uniqueness clash (for example a duplicate userName); a create after an empty match must succeed.",
            &["entryconflict", "conflict"],
            &[LOGS],
        ),
        Code::Unauthorized => e(
            "provisioning logs (InsufficientRights, MethodNotAllowed, NotPermitted, Unauthorized)",
            "Entra reached the application but was not allowed to make the change.",
            "a request with the right token answered 401",
            &[],
            "Accept the configured bearer token on every endpoint and method Entra uses (GET, POST, PATCH, DELETE on /Users and /Groups).",
            &["unauthorized", "insufficientrights", "notpermitted"],
            &[LOGS],
        ),
        Code::MethodNotAllowed => e(
            "provisioning logs (InsufficientRights, MethodNotAllowed, NotPermitted, Unauthorized)",
            "Entra reached the application but the method was refused.",
            "a request answered 405 (usually PATCH or DELETE not routed)",
            &[],
            "Route PATCH and DELETE on /Users/{id} and /Groups/{id}: Entra updates with PATCH and never uses PUT.",
            &["methodnotallowed"],
            &[LOGS],
        ),
        Code::UnprocessableEntity => e(
            "provisioning logs",
            "The target application returned an unexpected response; its configuration may not be correct.",
            "a request that should succeed answered 422",
            &[],
            "Accept Entra's request shapes (see the check's request): capitalised ops, string booleans, filtered paths.",
            &["unprocessableentity"],
            &[LOGS],
        ),
        Code::TooManyRequests => e(
            "provisioning logs",
            "The target was overloaded and refused the request; Entra retries it later.",
            "any request answered 429 after scimcheck's retries (and `load` counts every 429)",
            &[],
            "Take at least the gallery's 25 requests/second per tenant; when you must throttle, send Retry-After.",
            &["toomanyrequests", "too many requests"],
            &[LOGS],
        ),
        Code::InternalServerError => e(
            "provisioning logs",
            "The target application returned an unexpected error; Entra retries in 40 minutes.",
            "any request answered 500",
            &[],
            "Find the crash in the endpoint's logs with the request shown; answer client mistakes with a 4xx SCIM Error, never 500.",
            &["internalservererror", "internal server error"],
            &[LOGS],
        ),
        Code::NotImplemented => e(
            "provisioning logs",
            "The target application returned an unexpected response; a feature Entra uses is missing.",
            "any request answered 501",
            &[],
            "Implement what the check sends (the PATCH op, the filter, the endpoint); Entra has no fallback.",
            &["notimplemented", "not implemented"],
            &[LOGS],
        ),
        Code::Timeout => e(
            "provisioning logs",
            "The target application took too long to respond; Entra retries in 40 minutes.",
            "any request with no response within scimcheck's timeout",
            &[],
            "Answer within the timeout; move slow work (downstream syncs) out of the request path.",
            &["timeout", "timed out", "took too long to respond"],
            &[LOGS],
        ),
    }
}

/// The Entra code an admin would see for this check's failure, where one is documented.
/// Passing, skipped and waived checks have none.
pub fn for_check(c: &CheckResult) -> Option<Code> {
    if !matches!(c.outcome, Outcome::Fail | Outcome::Warn) {
        return None;
    }
    let ex = c.exchange.as_ref()?;
    let r = match &ex.response {
        Err(TransportError::Timeout(_)) => return Some(Code::Timeout),
        Err(_) => return None,
        Ok(r) => r,
    };
    let id = c.id.as_str();
    let wrong_status = c.findings.iter().any(|f| f.kind == "status");
    if TEST_CONNECTION_CHECKS.contains(&id)
        && let Some(code) = test_connection(id, r)
    {
        return Some(code);
    }
    if wrong_status && let Some(code) = by_status(ex, r) {
        return Some(code);
    }
    if EXCLUDED_MEMBERS_CHECKS.contains(&id) && returns_members(r) {
        return Some(Code::MultipleEntriesInResponse);
    }
    if SINGLE_GET_CHECKS.contains(&id) && hits(r) > 1 {
        return Some(Code::MultipleEntriesInResponse);
    }
    if MATCH_CHECKS.contains(&id) && hits(r) > 1 {
        return Some(Code::DuplicateTargetEntries);
    }
    if (200..300).contains(&r.status) && !r.body.trim().is_empty() && r.json().is_none() {
        return Some(Code::ServiceIncompatible);
    }
    None
}

fn test_connection(id: &str, r: &Received) -> Option<Code> {
    match r.status {
        401 | 403 => Some(Code::CredentialValidationFailure),
        404 => Some(Code::ServiceIncompatible),
        200 => {
            let list = r.json().is_some_and(|j| {
                j.get("Resources").is_some_and(Value::is_array)
                    || j.get("totalResults").is_some_and(|t| t.as_u64() == Some(0))
            });
            // Members on the groups probe are their own code (MultipleEntriesInResponse).
            let members = id == "connection.groups-probe" && returns_members(r);
            (!list && !members).then_some(Code::ServiceIncompatible)
        }
        _ => None,
    }
}

/// The path of a URL, without query.
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path)
}

fn by_status(ex: &Recorded, r: &Received) -> Option<Code> {
    let path = path_of(&ex.request.url).trim_end_matches('/');
    let mut segments = path.rsplit('/');
    let last = segments.next().unwrap_or("");
    let before = segments.next().unwrap_or("");
    let collection = |s: &str| s.eq_ignore_ascii_case("Users") || s.eq_ignore_ascii_case("Groups");
    match r.status {
        404 if collection(before) && matches!(ex.request.method.as_str(), "GET" | "PATCH") => {
            Some(Code::InvalidAnchor)
        }
        404 if collection(last) => Some(Code::ServiceIncompatible),
        401 => Some(Code::Unauthorized),
        405 => Some(Code::MethodNotAllowed),
        409 => Some(Code::Conflict),
        422 => Some(Code::UnprocessableEntity),
        429 => Some(Code::TooManyRequests),
        500 => Some(Code::InternalServerError),
        501 => Some(Code::NotImplemented),
        _ => None,
    }
}

/// How many resources a response carries: a ListResponse's `Resources` (or `totalResults`
/// when larger), 1 for a single resource.
fn hits(r: &Received) -> u64 {
    let Some(j) = r.json() else { return 0 };
    match j.get("Resources").and_then(Value::as_array) {
        Some(list) => {
            let total = j.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
            total.max(list.len() as u64)
        }
        None => u64::from(j.get("id").is_some()),
    }
}

/// Whether a group read returned a `members` attribute (on the group or any listed group).
fn returns_members(r: &Received) -> bool {
    let Some(j) = r.json() else { return false };
    let has = |v: &Value| {
        v.as_object()
            .is_some_and(|o| get_ci(o, "members").is_some())
    };
    match j.get("Resources").and_then(Value::as_array) {
        Some(list) => list.iter().any(has),
        None => has(&j),
    }
}

/// The entries a code or a pasted log message names, best match first: an exact code (with or
/// without the `SystemForCrossDomainIdentityManagement` prefix), then codes inside the text,
/// then the phrases Entra's messages use.
pub fn explain(query: &str) -> Vec<Entry> {
    let q = query.trim().to_ascii_lowercase();
    if q.is_empty() {
        return vec![];
    }
    let short = |c: Code| {
        c.as_str()
            .trim_start_matches("SystemForCrossDomainIdentityManagement")
            .to_ascii_lowercase()
    };
    if let Some(c) = Code::ALL
        .iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(&q) || short(**c) == q)
    {
        return vec![c.entry()];
    }
    let squashed: String = q.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let mut found: Vec<(usize, Entry)> = Vec::new();
    for c in Code::ALL {
        let e = c.entry();
        // A code in the text counts more than a phrase; longer matches are more specific.
        let score = if squashed.contains(&short(c)) {
            1000 + short(c).len()
        } else {
            e.phrases
                .iter()
                .filter(|p| q.contains(*p) || squashed.contains(&p.replace(' ', "")))
                .map(|p| p.len())
                .max()
                .unwrap_or(0)
        };
        if score > 0 {
            found.push((score, e));
        }
    }
    // `Conflict` is inside `EntryConflict`, and the long codes contain shorter words.
    found.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    let best = found.first().map_or(0, |(s, _)| *s);
    found
        .into_iter()
        .filter(|(s, _)| *s >= 1000 || best < 1000)
        .map(|(_, e)| e)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::SentRequest;
    use crate::run::Finding;
    use crate::scenario::Severity;

    fn check(
        id: &str,
        method: &str,
        url: &str,
        status: u16,
        body: &str,
        wrong: bool,
    ) -> CheckResult {
        CheckResult {
            id: id.into(),
            name: id.into(),
            proves: None,
            severity: Severity::Fail,
            evidence: crate::scenario::Evidence::Entra,
            blocked_by: None,
            outcome: Outcome::Fail,
            findings: vec![if wrong {
                Finding::fail("status", "expected status 200, got something else")
            } else {
                Finding::fail("body", "not what was expected")
            }],
            hint: None,
            note: None,
            exchange: Some(Recorded {
                request: SentRequest {
                    method: method.into(),
                    url: url.into(),
                    headers: vec![],
                    body: None,
                },
                response: Ok(Received {
                    status,
                    headers: vec![("content-type".into(), "application/scim+json".into())],
                    body: body.into(),
                    truncated: false,
                    retries: vec![],
                }),
                elapsed_ms: 1.0,
            }),
            elapsed_ms: 1.0,
        }
    }

    const U: &str = "https://h/scim/v2/Users";
    const G: &str = "https://h/scim/v2/Groups";

    #[test]
    fn test_connection_404_on_groups_is_service_incompatible_and_401_is_invalid_credentials() {
        let c = check("connection.groups-probe", "GET", G, 404, "", true);
        assert_eq!(for_check(&c), Some(Code::ServiceIncompatible));
        let c = check("connection.users-probe", "GET", U, 401, "", true);
        assert_eq!(for_check(&c), Some(Code::CredentialValidationFailure));
        let c = check(
            "connection.users-probe",
            "GET",
            U,
            200,
            r#"{"id":"x"}"#,
            false,
        );
        assert_eq!(
            for_check(&c),
            Some(Code::ServiceIncompatible),
            "a resource where a ListResponse belongs"
        );
    }

    #[test]
    fn members_despite_excluded_attributes_are_multiple_entries_in_response() {
        let body = r#"{"Resources":[{"id":"g","members":[{"value":"u"}]}],"totalResults":1}"#;
        let c = check("group.filter.excluding-members", "GET", G, 200, body, false);
        assert_eq!(for_check(&c), Some(Code::MultipleEntriesInResponse));
        let c = check(
            "group.get.excluding-members",
            "GET",
            &format!("{G}/g?excludedAttributes=members"),
            200,
            r#"{"id":"g","members":[]}"#,
            false,
        );
        assert_eq!(for_check(&c), Some(Code::MultipleEntriesInResponse));
        let c = check(
            "group.filter.excluding-members",
            "GET",
            G,
            200,
            r#"{"Resources":[{"id":"g"}]}"#,
            false,
        );
        assert_eq!(for_check(&c), None, "no members: some other failure");
    }

    #[test]
    fn a_match_filter_with_two_hits_is_duplicate_target_entries_and_one_hit_is_not() {
        let two = r#"{"totalResults":2,"Resources":[{"id":"a"},{"id":"b"}]}"#;
        let c = check("user.filter.existing", "GET", U, 200, two, false);
        assert_eq!(for_check(&c), Some(Code::DuplicateTargetEntries));
        let one = r#"{"totalResults":1,"Resources":[{"id":"a"}]}"#;
        let c = check("user.filter.existing", "GET", U, 200, one, false);
        assert_eq!(for_check(&c), None);
        let c = check("user.filter.id-and-manager", "GET", U, 200, two, false);
        assert_eq!(for_check(&c), Some(Code::MultipleEntriesInResponse));
    }

    #[test]
    fn a_404_on_a_created_resource_is_invalid_anchor_and_on_a_collection_is_service_incompatible() {
        let c = check("user.get", "GET", &format!("{U}/abc"), 404, "", true);
        assert_eq!(for_check(&c), Some(Code::InvalidAnchor));
        let c = check("user.disable", "PATCH", &format!("{U}/abc/"), 404, "", true);
        assert_eq!(for_check(&c), Some(Code::InvalidAnchor));
        let c = check("user.match", "GET", &format!("{U}?filter=x"), 404, "", true);
        assert_eq!(for_check(&c), Some(Code::ServiceIncompatible));
        let c = check("user.delete", "DELETE", &format!("{U}/abc"), 404, "", true);
        assert_eq!(
            for_check(&c),
            None,
            "Entra's view of a 404 on DELETE is not documented"
        );
    }

    #[test]
    fn statuses_map_only_when_the_status_itself_was_wrong() {
        for (status, code) in [
            (401, Code::Unauthorized),
            (405, Code::MethodNotAllowed),
            (409, Code::Conflict),
            (422, Code::UnprocessableEntity),
            (429, Code::TooManyRequests),
            (500, Code::InternalServerError),
            (501, Code::NotImplemented),
        ] {
            let c = check("user.create", "POST", U, status, "", true);
            assert_eq!(for_check(&c), Some(code), "{status}");
        }
        // The duplicate create expects 409: a wrong body on a 409 is not Entra's Conflict.
        let c = check("user.create.duplicate", "POST", U, 409, "{}", false);
        assert_eq!(for_check(&c), None);
        let c = check("user.create", "POST", U, 400, "", true);
        assert_eq!(for_check(&c), None, "400 has no documented code");
    }

    #[test]
    fn a_timeout_is_timeout_and_a_non_json_success_body_is_service_incompatible() {
        let mut c = check("user.get", "GET", &format!("{U}/a"), 200, "<html>", false);
        assert_eq!(for_check(&c), Some(Code::ServiceIncompatible));
        c.exchange.as_mut().unwrap().response =
            Err(TransportError::Timeout(std::time::Duration::from_secs(30)));
        assert_eq!(for_check(&c), Some(Code::Timeout));
        c.outcome = Outcome::Pass;
        assert_eq!(for_check(&c), None, "a passing check names no error");
    }

    #[test]
    fn explain_finds_codes_with_or_without_prefix_and_inside_pasted_log_lines() {
        assert_eq!(explain("InvalidAnchor")[0].code, Code::InvalidAnchor);
        assert_eq!(
            explain("multipleentriesinresponse")[0].code,
            Code::MultipleEntriesInResponse
        );
        let pasted = "Error code: SystemForCrossDomainIdentity\nManagementServiceIncompatible. Details: An HTTP/404 Not Found response was returned";
        let found = explain(pasted);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::ServiceIncompatible);
        let found = explain("You appear to have entered invalid credentials.");
        assert_eq!(found[0].code, Code::CredentialValidationFailure);
        assert_eq!(explain("EntryConflict")[0].code, Code::Conflict);
        assert!(explain("something unrelated").is_empty());
    }

    #[test]
    fn every_code_has_a_complete_cited_entry_and_explain_finds_it_by_name() {
        for code in Code::ALL {
            let e = code.entry();
            assert_eq!(e.code, code);
            for (what, text) in [
                ("seen_in", e.seen_in),
                ("means", e.means),
                ("reproduced_by", e.reproduced_by),
                ("fix", e.fix),
            ] {
                assert!(!text.trim().is_empty(), "{code}: empty {what}");
            }
            assert!(!e.sources.is_empty(), "{code}: no source");
            assert_eq!(explain(code.as_str())[0].code, code);
        }
    }

    #[test]
    fn every_check_the_catalogue_names_is_a_built_in_check() {
        let ids: std::collections::BTreeSet<String> = crate::scenario::builtin()
            .iter()
            .flat_map(|l| {
                l.scenario
                    .steps
                    .iter()
                    .map(|s| crate::scenario::check_id(&l.id, &s.value))
                    .collect::<Vec<_>>()
            })
            .collect();
        let named = Code::ALL
            .iter()
            .flat_map(|c| c.entry().checks.iter())
            .chain(MATCH_CHECKS)
            .chain(EXCLUDED_MEMBERS_CHECKS)
            .chain(SINGLE_GET_CHECKS);
        for id in named {
            assert!(ids.contains(*id), "{id} is not a built-in check");
        }
    }
}
