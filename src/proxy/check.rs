//! Judging one proxied exchange against what Entra expects for that request: the status its
//! shape needs, the media type, the ListResponse and resource schemas, the echo of the values a
//! create sent, `excludedAttributes` honoured, and SCIM Error bodies for errors. Answers a
//! correct server gives when Entra's operation cannot succeed (401, 404 for a gone object, 409
//! for a duplicate) are notes, not failures.

use serde_json::{Value, json};
use serde_saphyr::{Location, Spanned};

use crate::http::Received;
use crate::run::Finding;
use crate::run::expect::check;
use crate::scenario::model::{Assertion, Expect, StatusSpec};
use crate::scim::json::without_nulls;
use crate::scim::schema::SchemaSet;
use crate::scim::shape::{Collection, Shape};
use crate::scim::validate::{Kind, Level};

/// How an exchange went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// What Entra expects.
    Pass,
    /// A correct answer, but Entra's operation did not succeed (credentials, gone, duplicate).
    Note,
    /// Something Entra cannot work with.
    Fail,
}

/// The verdict and the findings of one exchange.
#[derive(Debug, Clone)]
pub struct Judgement {
    pub verdict: Verdict,
    /// Findings (failures and warnings), each one sentence.
    pub findings: Vec<Finding>,
    /// For a note: what it means for Entra.
    pub note: Option<String>,
}

fn spanned<T>(v: T) -> Spanned<T> {
    Spanned::new(v, Location::UNKNOWN, Location::UNKNOWN)
}

/// The statuses Entra needs from a shape.
fn success(shape: &Shape) -> StatusSpec {
    match shape {
        Shape::Create(_) => StatusSpec::One(201),
        Shape::Patch { .. } | Shape::OtherPatch(_) => StatusSpec::Any(vec![200, 204]),
        Shape::Delete(_) => StatusSpec::One(204),
        _ => StatusSpec::One(200),
    }
}

/// Why a non-success status is a correct answer Entra copes with, if it is one.
fn legitimate(shape: &Shape, status: u16) -> Option<&'static str> {
    match (shape, status) {
        (_, 401 | 403) => Some(
            "the app refused the credentials; Entra shows \"You appear to have entered invalid credentials\"",
        ),
        (Shape::Get(_) | Shape::Delete(_) | Shape::Patch { .. } | Shape::OtherPatch(_), 404) => {
            Some("the object is not there; Entra treats it as deleted in the app")
        }
        (Shape::Create(_), 409) => {
            Some("the object exists already; Entra matches it instead of creating it")
        }
        _ => None,
    }
}

/// What Entra does after a failure of this status.
fn consequence(status: u16) -> &'static str {
    match status {
        500.. => {
            "Entra retries it in the next cycle (about 40 minutes) and logs the failure; an endpoint that keeps failing is quarantined"
        }
        404 => {
            "Entra reads a 404 here as a wrong Tenant URL or a missing object, logs the failure and retries"
        }
        _ => {
            "Entra logs the failure in the provisioning logs and retries the object in the next cycle"
        }
    }
}

fn schema_of(shape: &Shape, path: &str, status: u16) -> Option<Kind> {
    if status == 204 {
        return None;
    }
    let has_id = Collection::of_path(path).is_some_and(|(_, id)| id.is_some());
    Some(match shape {
        Shape::TestConnection(_) | Shape::Match { .. } | Shape::List(_) => Kind::ListResponse,
        Shape::Create(c) | Shape::Get(c) | Shape::Patch { collection: c, .. } => {
            if *c == Collection::Groups {
                Kind::Group
            } else {
                Kind::User
            }
        }
        Shape::Discovery(Collection::ServiceProviderConfig) => Kind::ServiceProviderConfig,
        Shape::Discovery(Collection::Schemas) if has_id => Kind::Schema,
        Shape::Discovery(Collection::ResourceTypes) if has_id => Kind::ResourceType,
        Shape::Discovery(_) => Kind::ListResponse,
        _ => return None,
    })
}

/// Judges `response` to a request of `shape` (`path` relative to the Tenant URL).
pub fn judge(
    shape: &Shape,
    path: &str,
    query: &[(String, String)],
    request: Option<&Value>,
    response: &Received,
    schemas: &SchemaSet,
) -> Judgement {
    let status = response.status;
    let mut expect = Expect::default();
    let wanted = success(shape);
    let ok = wanted.accepts(status);
    let note = (!ok).then(|| legitimate(shape, status)).flatten();
    let mut findings = vec![];
    if ok {
        expect.status = Some(wanted);
        expect.schema = schema_of(shape, path, status).map(|k| spanned(k.name().to_string()));
        if let (Shape::Create(_), Some(req)) = (shape, request.and_then(Value::as_object)) {
            let mut echo = serde_json::Map::new();
            for (k, v) in req {
                if ["schemas", "meta", "password", "id"].contains(&k.to_ascii_lowercase().as_str())
                {
                    continue;
                }
                if let Some(v) = without_nulls(v) {
                    echo.insert(k.clone(), v);
                }
            }
            expect.body = Some(Value::Object(echo));
        }
        if let Shape::TestConnection(_) = shape {
            expect.body = Some(json!({"totalResults": 0}));
        }
        for (k, v) in query {
            if !k.eq_ignore_ascii_case("excludedAttributes") || status == 204 {
                continue;
            }
            let list = matches!(
                expect.schema.as_ref().map(|s| s.value.as_str()),
                Some("ListResponse")
            );
            for attr in v.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                let pointer = if list {
                    format!("/Resources/*/{attr}")
                } else {
                    format!("/{attr}")
                };
                expect.assert.push(spanned(Assertion {
                    pointer,
                    absent: Some(true),
                    ..Assertion::default()
                }));
            }
        }
    } else {
        expect.status = Some(StatusSpec::One(status));
        if !response.body.trim().is_empty() || status >= 400 {
            expect.schema = Some(spanned("Error".to_string()));
        }
        if note.is_none() {
            findings.push(Finding::fail(
                "status",
                format!(
                    "{status} from the app (Entra expects {}){}; {}",
                    wanted.describe(),
                    response
                        .json()
                        .and_then(|j| j.get("detail").and_then(Value::as_str).map(str::to_string))
                        .map(|d| format!(", saying \"{}\"", crate::run::expect::excerpt(&d, 160)))
                        .unwrap_or_default(),
                    consequence(status)
                ),
            ));
        }
    }
    let projected = query
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("attributes"));
    findings.extend(check(&expect, response, schemas, false, projected));
    let verdict = if findings.iter().any(|f| f.level == Level::Fail) {
        Verdict::Fail
    } else if note.is_some() {
        Verdict::Note
    } else {
        Verdict::Pass
    };
    Judgement {
        verdict,
        findings,
        note: note.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::shape::recognise;

    fn received(status: u16, body: Value) -> Received {
        Received {
            status,
            headers: vec![("Content-Type".into(), "application/scim+json".into())],
            body: if body.is_null() {
                String::new()
            } else {
                body.to_string()
            },
            truncated: false,
            retries: vec![],
        }
    }

    #[test]
    fn a_rejected_disable_fails_and_names_entras_request_and_consequence() {
        let body = json!({"schemas": [crate::scim::urn::PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let shape = recognise("PATCH", "/Users/1", &[], Some(&body));
        let err =
            json!({"schemas": [crate::scim::urn::ERROR], "status": "400", "detail": "bad op"});
        let j = judge(
            &shape,
            "/Users/1",
            &[],
            Some(&body),
            &received(400, err),
            SchemaSet::builtin(),
        );
        assert_eq!(j.verdict, Verdict::Fail);
        assert_eq!(shape.label(), "Entra's disable (default dialect)");
        assert!(
            j.findings[0].message.starts_with(
                "400 from the app (Entra expects 200 or 204), saying \"bad op\"; Entra logs"
            ),
            "{}",
            j.findings[0].message
        );
    }

    #[test]
    fn a_duplicate_create_answered_409_with_a_scim_error_is_a_note() {
        let req = json!({"schemas": [crate::scim::urn::USER], "userName": "a@x"});
        let shape = recognise("POST", "/Users", &[], Some(&req));
        let err =
            json!({"schemas": [crate::scim::urn::ERROR], "status": "409", "detail": "exists"});
        let j = judge(
            &shape,
            "/Users",
            &[],
            Some(&req),
            &received(409, err),
            SchemaSet::builtin(),
        );
        assert_eq!(j.verdict, Verdict::Note, "{:?}", j.findings);
        let j = judge(
            &shape,
            "/Users",
            &[],
            Some(&req),
            &received(409, json!({"error": "x"})),
            SchemaSet::builtin(),
        );
        assert_eq!(j.verdict, Verdict::Fail, "a non-SCIM error body fails");
    }

    #[test]
    fn members_returned_despite_excluded_attributes_fail() {
        let q = vec![("excludedAttributes".to_string(), "members".to_string())];
        let shape = recognise("GET", "/Groups/g", &q, None);
        let group = |members: Value| json!({"schemas": [crate::scim::urn::GROUP], "id": "g", "displayName": "G", "members": members, "meta": {"resourceType": "Group"}});
        let verdict = |members: Value| {
            judge(
                &shape,
                "/Groups/g",
                &q,
                None,
                &received(200, group(members)),
                SchemaSet::builtin(),
            )
        };
        let j = verdict(json!([{"value": "u1"}]));
        assert_eq!(j.verdict, Verdict::Fail, "{:?}", j.findings);
        // An empty array carries no member: the same as none (RFC 7643 section 2.5).
        let j = verdict(json!([]));
        assert_ne!(j.verdict, Verdict::Fail, "{:?}", j.findings);
    }
}
