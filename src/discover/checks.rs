//! The checks of `discover`: one endpoint fetched and validated, its violations grouped into
//! problems (nulls, casing, other deviations) with readable places.

use serde_json::Value;

use super::published::string;
use super::{Endpoint, Problem, problem};
use crate::diagnosis::{Code, Severity};
use crate::http::{Client, OutRequest};
use crate::scim::json::member;
use crate::scim::json_path::{self, Token};
use crate::scim::schema::SchemaSet;
use crate::scim::validate::{Kind, Level, Violation, validate};

/// How many places a problem quotes.
const EXAMPLES: usize = 5;

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
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    /// Adds a problem.
    pub(super) fn push(&mut self, p: Problem) {
        self.0.push(p);
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
problem(Code::DiscoveryNulls, Severity::Error, endpoint, format!("{endpoint} contains null values, which Entra's schema discovery cannot parse"), nulls.len()).details(nulls.iter().take(EXAMPLES).map(|v| readable(body, &v.path))),
);
        }
        if !casing.is_empty() {
            self.push(
problem(Code::DiscoveryCasing, Severity::Error, endpoint, format!("{endpoint} spells characteristic values in the wrong case; Entra parses them case-sensitively"), casing.len()).details(casing
                    .iter()
                    .take(EXAMPLES)
                    .map(|v| format!("{}: {}", readable(body, &v.path), casing_note(&v.message)))),
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
                problem(
                    Code::DiscoveryInvalid,
                    severity,
                    endpoint,
                    format!(
                        "{endpoint} deviates from RFC 7643 / RFC 7644 in {} place(s)",
                        list.len()
                    ),
                    list.len(),
                )
                .details(
                    list.iter()
                        .take(EXAMPLES)
                        .map(|v| format!("{}: {}", readable(body, &v.path), v.message)),
                ),
            );
        }
    }
}

/// What came back from one endpoint.
pub(super) enum Fetched {
    Body(Value),
    Failed,
    Unreachable,
}

pub(super) async fn fetch(
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
                    problem(
                        Code::DiscoveryUnavailable,
                        Severity::Error,
                        path,
                        format!("GET {path} got no usable response: {e}"),
                        1,
                    )
                    .fix("Run `scimcheck connect` for a diagnosis of the connection."),
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
                problem(
                    Code::AuthTokenRejected,
                    Severity::Error,
                    path,
                    format!(
                        "GET {path} answers {} {reason}: the token is rejected",
                        r.status
                    ),
                    1,
                )
                .fix("Run `scimcheck connect` to find out why the token is rejected."),
            );
            return Fetched::Failed;
        }
        s => {
            problems.push(
problem(Code::DiscoveryUnavailable, Severity::Error, path, format!("GET {path} answers {s} {reason} instead of 200"), 1).fix("Implement the discovery endpoints (RFC 7644 section 4): Entra reads /Schemas when a provisioning configuration is saved or opened, and gallery review expects all three."),
);
            return Fetched::Failed;
        }
    }
    let media = r.header("content-type").map(crate::http::media_type);
    let body: Value = match serde_json::from_str(&r.body) {
        Ok(v) => v,
        Err(e) => {
            problems.push(problem(
                Code::DiscoveryNotJson,
                Severity::Error,
                path,
                format!("GET {path} does not answer JSON ({e})"),
                1,
            ));
            return Fetched::Failed;
        }
    };
    if media.as_deref() != Some("application/scim+json") {
        problems.push(
problem(Code::ResponseJsonContentType, Severity::Warning, path, format!(
                "GET {path} says `Content-Type: {}` instead of `application/scim+json`",
                media.as_deref().unwrap_or("(none)")
            ), 1).fix("Answer with `Content-Type: application/scim+json` (RFC 7644 section 8.1); Microsoft's SCIM Validator stops at the first application/json response."),
);
    }
    let schemas = SchemaSet::builtin();
    let found = match (&body, kind) {
        (Value::Array(list), item_kind) => {
            problems.push(problem(
                Code::DiscoveryNotListResponse,
                Severity::Error,
                path,
                format!("GET {path} answers a bare JSON array instead of a ListResponse"),
                1,
            ));
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
}
