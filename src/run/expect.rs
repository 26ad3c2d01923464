//! Judging a response against a step's expectations: status, content type, SCIM schema, body
//! subset (with a diff and the JSON path of each difference), headers and assertions.

use serde_json::Value;
use similar::TextDiff;

use crate::http::{Received, TransportError};
use crate::scenario::Evidence;
use crate::scenario::model::{Assertion, Expect};
use crate::scim::filter::{MatchContext, matches, parse_filter};
use crate::scim::json::get_ci;
use crate::scim::json_path::{self, select};
use crate::scim::schema::SchemaSet;
use crate::scim::urn;
use crate::scim::validate::{Kind, validate_projected};

use super::event::Finding;

/// `application/scim+json` (parameters allowed), case-insensitive.
pub fn is_scim_json(content_type: &str) -> bool {
    crate::http::media_type(content_type) == "application/scim+json"
}

/// `application/json` (parameters allowed), case-insensitive.
fn is_plain_json(content_type: &str) -> bool {
    crate::http::media_type(content_type) == "application/json"
}

/// A short, single-line excerpt of a body for messages.
pub fn excerpt(body: &str, max: usize) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > max {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    } else {
        one_line
    }
}

/// What a non-JSON body most likely is, for people.
pub fn describe_non_json(r: &Received) -> String {
    let ct = r.header("content-type").unwrap_or("none");
    let lower = r.body.trim_start().to_lowercase();
    if r.body.trim().is_empty() {
        format!("the body is empty (Content-Type: {ct})")
    } else if lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || ct.contains("html")
    {
        let login =
            lower.contains("login") || lower.contains("sign in") || lower.contains("password");
        format!(
            "the body is an HTML page{} (Content-Type: {ct}): {}",
            if login {
                ", apparently a login page: the request did not reach the SCIM endpoint"
            } else {
                ""
            },
            excerpt(&r.body, 120)
        )
    } else if r.truncated {
        format!("the body was cut at the size cap and is incomplete JSON (Content-Type: {ct})")
    } else if crate::limits::json_depth(&r.body) > crate::limits::JSON_DEPTH.get_usize() {
        format!(
            "the body nests {} levels deep, more than the {} allowed ({}); a SCIM resource nests 3 or 4 (Content-Type: {ct})",
            crate::limits::json_depth(&r.body),
            crate::limits::JSON_DEPTH.get(),
            crate::limits::JSON_DEPTH.hint()
        )
    } else {
        let err = serde_json::from_str::<Value>(&r.body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        format!(
            "the body is not valid JSON ({err}; Content-Type: {ct}): {}",
            excerpt(&r.body, 120)
        )
    }
}

/// The evidence class of a schema violation. Entra needs what it reads back: the resource's
/// `id` (kept for every later call), a ListResponse's `totalResults` and `Resources`, and values
/// of the type the schema declares (otherwise "not able to deserialize the resource received
/// from your SCIM endpoint"). Everything else RFC 7643 requires (a missing `schemas` entry, a
/// required attribute left out, `meta` details) is an `rfc` finding.
fn schema_evidence(path: &str, message: &str) -> Option<Evidence> {
    let last = path.rsplit(['.', '[']).next().unwrap_or(path);
    let read_back = matches!(last, "id" | "totalResults" | "Resources");
    let wrong_type = message.starts_with("expected ") && message.contains(", found ");
    let schemas_attr = path == "$.schemas" || path.starts_with("$.schemas[");
    if read_back || (wrong_type && !schemas_attr) {
        None
    } else {
        Some(Evidence::Rfc)
    }
}

/// Findings for a transport failure (no response at all).
pub fn transport_finding(e: &TransportError) -> Finding {
    match e {
        // A response started but could not be read: saying "no response" would mislead.
        TransportError::Body(_) => Finding::fail("transport", e.to_string()),
        _ => Finding::fail("transport", format!("no response: {e}")),
    }
}

/// Judges `r` against `expect` (templates already rendered). `needs_json`: captures or other
/// consumers need a JSON body even when `expect` says nothing about it.
/// `projected`: the request asked for a subset of attributes (`attributes=`), so required
/// attributes may rightly be absent.
pub fn check(
    expect: &Expect,
    r: &Received,
    schemas: &SchemaSet,
    needs_json: bool,
    projected: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(s) = &expect.status
        && !s.accepts(r.status)
    {
        let detail = r
            .json()
            .and_then(|j| j.get("detail").and_then(Value::as_str).map(str::to_string))
            .map(|d| format!(" (server said: {})", excerpt(&d, 200)))
            .unwrap_or_else(|| {
                if r.body.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", excerpt(&r.body, 160))
                }
            });
        let detail = match (r.status, r.header("location")) {
            (300..=399, Some(loc)) => format!(
                " (a redirect to {loc}; Entra does not follow redirects, so the Tenant URL must be the final address)"
            ),
            _ => detail,
        };
        out.push(Finding::fail(
            "status",
            format!("expected status {}, got {}{detail}", s.describe(), r.status),
        ));
    }
    let has_body = !r.body.trim().is_empty();
    if expect.content_type.as_deref() != Some("any") && has_body {
        match r.header("content-type") {
            Some(ct) if is_scim_json(ct) => {}
            // RFC 7644 section 8.1 names `application/scim+json`; Entra's provisioning service
            // reads `application/json` too (Microsoft, MicrosoftDocs/azure-docs#94189), but the
            // SCIM Validator aborts on it: a `validator` finding. Other media types stay
            // failures of the check's own class.
            Some(ct) if !is_plain_json(ct) => out.push(Finding::fail(
                "content-type",
                format!("Content-Type is `{ct}`; SCIM responses must be `application/scim+json` (RFC 7644 section 8.1)"),
            )),
            Some(ct) => out.push(
                Finding::fail(
                    "content-type",
                    format!("Content-Type is `{ct}`; SCIM responses must be `application/scim+json` (RFC 7644 section 8.1; Microsoft's SCIM Validator aborts the whole run on `application/json`, Entra's provisioning service reads it)"),
                )
                .evidence(Evidence::Validator),
            ),
            None => out.push(
                Finding::fail(
                    "content-type",
                    "the response has a body but no Content-Type; SCIM responses must be `application/scim+json` (RFC 7644 section 8.1)",
                )
                .evidence(Evidence::Validator),
            ),
        }
    }
    // A wrong status is the root cause; judging the body of an unexpected reply only adds noise.
    if out.iter().any(|f| f.kind == "status") {
        return out;
    }
    let wants_json =
        needs_json || expect.schema.is_some() || expect.body.is_some() || !expect.assert.is_empty();
    if r.truncated {
        out.push(Finding::fail(
            "body",
            format!(
                "the response body exceeded the size cap ({} bytes read, scimcheck's limit; raise it with --max-body-mib N); the rest was not read",
                r.body.len()
            ),
        ));
        return out;
    }
    let json = r.json();
    let Some(json) = json else {
        if wants_json {
            out.push(Finding::fail("body", describe_non_json(r)));
        }
        return out;
    };
    if let Some(kind) = &expect.schema
        && let Ok(kind) = kind.value.parse::<Kind>()
    {
        for v in validate_projected(
            kind,
            &json,
            schemas,
            projected,
            &crate::limits::validation(),
        ) {
            let evidence = schema_evidence(&v.path, &v.message);
            out.push(Finding {
                kind: "schema",
                message: format!("{} schema: {}", kind.name(), v.message),
                path: Some(v.path),
                level: v.level,
                diff: None,
                evidence,
            });
        }
    }
    if let Some(expected) = &expect.body {
        let mut diffs = Vec::new();
        subset("$", expected, &json, &mut diffs);
        if !diffs.is_empty() {
            let projected = project(expected, &json);
            let mut f = Finding::fail(
                "body",
                diffs
                    .iter()
                    .map(|(p, m)| format!("{p}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
            .at(diffs[0].0.clone());
            f.diff = Some(unified(expected, &projected));
            out.push(f);
        }
    }
    for (name, want) in &expect.headers {
        match r.header(name) {
            None => out.push(Finding::fail(
                "header",
                format!("response header `{name}` is missing"),
            )),
            Some(v) => {
                if let Some(w) = want.as_str().filter(|w| !w.is_empty())
                    && !v.contains(w)
                {
                    out.push(Finding::fail(
                        "header",
                        format!("response header `{name}` is `{v}`, expected it to contain `{w}`"),
                    ));
                }
            }
        }
    }
    for a in &expect.assert {
        if let Some(mut f) = assertion(&a.value, &json, schemas) {
            f.evidence = f.evidence.or(a.value.evidence);
            out.push(f);
        }
    }
    out
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// `null` or an empty array: both mean "no value" (RFC 7643 section 2.5).
fn unassigned(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

/// Does a ResourceType `endpoint` value name the collection `want` (`/Users`)? RFC 7643
/// section 6 makes it relative to the Base URL, so `/Users` and `Users` do; so does the Base
/// URL's own path with `/Users` appended, absolute or as a full URL (`/scim/v2/Users`).
fn names_endpoint(value: &Value, want: &str) -> bool {
    let Some(v) = value.as_str() else {
        return false;
    };
    let want = want.trim_start_matches('/');
    let path = match v.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => v,
    };
    let path = path.trim_end_matches('/');
    path.trim_start_matches('/') == want
        || path
            .strip_suffix(want)
            .is_some_and(|head| head.ends_with('/'))
}

fn show(v: &Value) -> String {
    excerpt(&v.to_string(), 80)
}

/// Collects (JSON path, message) for every way `actual` fails to contain `expected`.
/// Objects: every expected key (attribute names case-insensitive); arrays: same length, each
/// expected item matching a distinct actual item in any order; `null`: absent or null.
fn subset(path: &str, expected: &Value, actual: &Value, out: &mut Vec<(String, String)>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = json_path::child_as_written(path, k);
                match get_ci(a, k) {
                    Some(av) => subset(&p, ev, av, out),
                    // Unassigned, null and an empty array are the same state (RFC 7643 section
                    // 2.5): expecting `null` or `[]` is met by an absent attribute.
                    None if unassigned(ev) => {}
                    None => out.push((
                        p,
                        format!("expected {}, but the attribute is missing", show(ev)),
                    )),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push((
                    path.to_string(),
                    format!("expected {} item(s), got {}", e.len(), a.len()),
                ));
                return;
            }
            let mut used = vec![false; a.len()];
            for (i, ev) in e.iter().enumerate() {
                let found = a.iter().enumerate().find(|(j, av)| {
                    let mut d = Vec::new();
                    subset("", ev, av, &mut d);
                    !used[*j] && d.is_empty()
                });
                match found {
                    Some((j, _)) => used[j] = true,
                    None => out.push((
                        json_path::index(path, i),
                        format!("no item matches {}", show(ev)),
                    )),
                }
            }
        }
        (e, a) if unassigned(e) && unassigned(a) => {}
        (e, a) if json_eq(e, a) => {}
        (e, a) => out.push((
            path.to_string(),
            format!("expected {}, got {}", show(e), show(a)),
        )),
    }
}

/// `actual` cut down to the shape of `expected`, so the diff shows only what matters.
fn project(expected: &Value, actual: &Value) -> Value {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut out = serde_json::Map::new();
            for (k, ev) in e {
                if let Some(av) = get_ci(a, k) {
                    out.insert(k.clone(), project(ev, av));
                }
            }
            Value::Object(out)
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            Value::Array(e.iter().zip(a).map(|(ev, av)| project(ev, av)).collect())
        }
        _ => actual.clone(),
    }
}

/// A unified diff of two JSON values, pretty-printed; lines start with `-`, `+` or ` `.
pub fn unified(expected: &Value, actual: &Value) -> String {
    let e = serde_json::to_string_pretty(expected).unwrap_or_default() + "\n";
    let a = serde_json::to_string_pretty(actual).unwrap_or_default() + "\n";
    let diff = TextDiff::from_lines(&e, &a);
    let mut out = String::from("--- expected\n+++ actual\n");
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        out.push(sign);
        out.push_str(change.value());
        if !change.value().ends_with('\n') {
            out.push('\n');
        }
    }
    out.trim_end().to_string()
}

fn assertion(a: &Assertion, json: &Value, schemas: &SchemaSet) -> Option<Finding> {
    let found = select(json, &a.pointer);
    let path = json_path::from_pointer(&a.pointer);
    let fail = |m: String| Some(Finding::fail("assert", m).at(path.clone()));
    let single = found.first().copied();
    let values: Vec<Value> = found.iter().map(|v| (*v).clone()).collect();
    let all = if a.pointer.contains('*') {
        Value::Array(values.clone())
    } else {
        single.cloned().unwrap_or(Value::Null)
    };
    if let Some(absent) = a.absent {
        let present = found.iter().any(|v| !unassigned(v));
        return match (absent, present) {
            (true, true) => fail(format!("expected no value, found {}", show(&all))),
            (false, false) => fail("expected a value, found none".into()),
            _ => None,
        };
    }
    if let Some(e) = &a.equals {
        return if json_eq(e, &all) {
            None
        } else {
            fail(format!("expected {}, got {}", show(e), show(&all)))
        };
    }
    if let Some(n) = a.length {
        let len = match &all {
            Value::Array(v) => Some(v.len()),
            Value::String(s) => Some(s.chars().count()),
            // An absent list holds nothing (RFC 7643 section 2.5): a ListResponse may leave
            // out `Resources` when totalResults is 0 (RFC 7644 section 3.4.2).
            Value::Null => Some(0),
            _ => None,
        };
        return if len == Some(n) {
            None
        } else {
            fail(format!(
                "expected length {n}, got {}",
                len.map_or("no array".into(), |l| l.to_string())
            ))
        };
    }
    if let Some(min) = a.min {
        let n = all.as_f64();
        return if n.is_some_and(|n| n >= min) {
            None
        } else {
            fail(format!("expected a number ≥ {min}, got {}", show(&all)))
        };
    }
    if let Some(c) = &a.contains {
        let ok = match &all {
            Value::Array(items) => items.iter().any(|i| json_eq(i, c)),
            Value::String(s) => c.as_str().is_some_and(|c| s.contains(c)),
            _ => false,
        };
        return if ok {
            None
        } else {
            fail(format!("expected {} to contain {}", show(&all), show(c)))
        };
    }
    if let Some(c) = &a.not_contains {
        let bad = matches!(&all, Value::Array(items) if items.iter().any(|i| json_eq(i, c)));
        return if bad {
            fail(format!(
                "expected {} not to contain {}",
                show(&all),
                show(c)
            ))
        } else {
            None
        };
    }
    if let Some(other) = &a.disjoint {
        let other: Vec<Value> = match other {
            Value::Array(o) => o.clone(),
            v => vec![v.clone()],
        };
        let shared: Vec<&Value> = values
            .iter()
            .filter(|v| other.iter().any(|o| json_eq(o, v)))
            .collect();
        return if shared.is_empty() {
            None
        } else {
            fail(format!(
                "expected no overlap with the earlier values, but {} appear(s) in both",
                shared
                    .iter()
                    .map(|v| show(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
    }
    if let Some(want) = &a.endpoint {
        return if values.iter().any(|v| names_endpoint(v, want)) {
            None
        } else {
            fail(format!(
                "expected an endpoint naming {want} relative to the Base URL, got {}",
                show(&all)
            ))
        };
    }
    if let Some(one_of) = &a.one_of {
        let bad: Vec<&Value> = values
            .iter()
            .filter(|v| !one_of.iter().any(|o| json_eq(o, v)))
            .collect();
        // A `null` among the choices also accepts nothing at all (absent means unassigned).
        let absent_ok = one_of.iter().any(Value::is_null);
        return if bad.is_empty() && (!values.is_empty() || absent_ok) {
            None
        } else {
            fail(format!(
                "expected one of {}, got {}",
                show(&Value::Array(one_of.clone())),
                show(&all)
            ))
        };
    }
    if let Some(f) = &a.all_match {
        let filter = match parse_filter(&f.value) {
            Ok(f) => f,
            Err(e) => return fail(format!("invalid filter `{}`: {e}", f.value)),
        };
        let items: Vec<&Value> = match single {
            Some(Value::Array(items)) if !a.pointer.contains('*') => items.iter().collect(),
            _ => found.clone(),
        };
        let cx = MatchContext {
            schemas,
            core_urn: urn::USER,
            force_case_exact: false,
        };
        let misses = items.iter().filter(|i| !matches(&filter, i, &cx)).count();
        return if misses == 0 {
            None
        } else {
            fail(format!(
                "{misses} of {} item(s) do not match `{}`",
                items.len(),
                f.value
            ))
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn received(status: u16, ct: &str, body: Value) -> Received {
        Received {
            status,
            headers: vec![("content-type".into(), ct.into())],
            body: body.to_string(),
            truncated: false,
            retries: vec![],
        }
    }

    fn expect(yaml: &str) -> Expect {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn a_matching_response_has_no_findings() {
        let e = expect("status: 200\nbody: { active: false, emails: [{ type: work }] }");
        let r = received(
            200,
            "application/scim+json; charset=utf-8",
            json!({"active": false, "id": "1", "emails": [{"type": "work", "value": "a@x"}]}),
        );
        assert_eq!(check(&e, &r, &SchemaSet::default(), false, false), vec![]);
    }

    #[test]
    fn wrong_status_and_content_type_are_named() {
        let e = expect("status: 201");
        let r = received(200, "application/json", json!({"detail": "ok"}));
        let f = check(&e, &r, &SchemaSet::default(), false, false);
        assert_eq!(
            f.iter().map(|f| f.kind).collect::<Vec<_>>(),
            vec!["status", "content-type"]
        );
        assert!(f[0].message.contains("expected status 201, got 200"));
    }

    #[test]
    fn body_mismatch_names_the_path_and_diffs_only_the_expected_shape() {
        let e = expect("body: { active: false, name: { familyName: Jensen } }");
        let r = received(
            200,
            "application/scim+json",
            json!({"active": true, "name": {"familyName": "Jensen", "givenName": "B"}, "id": "1"}),
        );
        let f = check(&e, &r, &SchemaSet::default(), false, false);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].path.as_deref(), Some("$.active"));
        assert!(f[0].message.contains("$.active: expected false, got true"));
        let diff = f[0].diff.as_deref().unwrap();
        assert!(diff.contains("-  \"active\": false") && diff.contains("+  \"active\": true"));
        assert!(!diff.contains("givenName"));
    }

    #[test]
    fn arrays_match_in_any_order_with_equal_length() {
        let mut d = Vec::new();
        subset(
            "$",
            &json!([{"value": "b"}, {"value": "a"}]),
            &json!([{"value": "a"}, {"value": "b"}]),
            &mut d,
        );
        assert!(d.is_empty());
        subset(
            "$",
            &json!([{"value": "b"}]),
            &json!([{"value": "a"}, {"value": "b"}]),
            &mut d,
        );
        assert_eq!(d[0].1, "expected 1 item(s), got 2");
    }

    #[test]
    fn non_json_bodies_are_diagnosed() {
        let r = Received {
            status: 200,
            headers: vec![("content-type".into(), "text/html".into())],
            body: "<html><form>Sign in</form></html>".into(),
            truncated: false,
            retries: vec![],
        };
        let f = check(&expect("body: {}"), &r, &SchemaSet::default(), false, false);
        assert!(f.iter().any(|f| f.message.contains("login page")));
    }

    #[test]
    fn assertions_cover_absence_length_overlap_and_filters() {
        let body = json!({"Resources": [{"id": "a", "active": true}, {"id": "b", "active": true}]});
        let r = received(200, "application/scim+json", body);
        let ok = expect(
            "assert:\n  - { pointer: /Resources, length: 2 }\n  - { pointer: /Resources/0/members, absent: true }\n  - { pointer: /Resources/*/id, disjoint: [c, d] }\n  - { pointer: /Resources, all_match: 'active eq true' }",
        );
        assert_eq!(check(&ok, &r, &SchemaSet::default(), false, false), vec![]);
        let bad = expect(
            "assert:\n  - { pointer: /Resources/*/id, disjoint: [b] }\n  - { pointer: /Resources, all_match: 'active eq false' }",
        );
        let f = check(&bad, &r, &SchemaSet::default(), false, false);
        assert_eq!(f.len(), 2);
        assert!(f[0].message.contains("\"b\" appear(s) in both"));
        assert!(f[1].message.contains("2 of 2 item(s) do not match"));
    }

    /// RFC 7643 section 2.5: an unassigned attribute, `null` and `[]` are one state, so a
    /// server may leave out an empty `members` or `Resources`; a value where none is expected
    /// still fails.
    #[test]
    fn an_absent_attribute_meets_an_expected_empty_list() {
        let r = received(
            200,
            "application/scim+json",
            json!({"totalResults": 0, "members": []}),
        );
        let ok = expect(
            "body: { members: [], Resources: [] }\nassert:\n  - { pointer: /Resources, length: 0 }\n  - { pointer: /members, absent: true }",
        );
        assert_eq!(check(&ok, &r, &SchemaSet::default(), false, false), vec![]);
        let full = received(
            200,
            "application/scim+json",
            json!({"members": [{"value": "1"}]}),
        );
        let f = check(&ok, &full, &SchemaSet::default(), false, false);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[0].message.contains("expected 0 item(s), got 1"), "{f:?}");
        assert!(f[1].message.contains("expected no value"), "{f:?}");
    }

    #[test]
    fn a_resource_type_endpoint_is_read_relative_to_the_base_url() {
        for good in [
            "/Users",
            "Users",
            "/scim/v2/Users",
            "https://h.example/scim/v2/Users/",
        ] {
            assert!(names_endpoint(&json!(good), "/Users"), "{good}");
        }
        for bad in [
            "/Groups",
            "/Userz",
            "/scim/v2/AllUsers",
            "https://h.example/",
            "",
        ] {
            assert!(!names_endpoint(&json!(bad), "/Users"), "{bad}");
        }
        let r = received(200, "application/scim+json", json!({"endpoint": "/Userz"}));
        let e = expect("assert:\n  - { pointer: /endpoint, endpoint: /Users, evidence: rfc }");
        let f = check(&e, &r, &SchemaSet::default(), false, false);
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("naming /Users"), "{f:?}");
        assert_eq!(f[0].evidence, Some(Evidence::Rfc));
    }
}
