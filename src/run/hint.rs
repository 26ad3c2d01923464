//! The hint shown with a failed check, chosen by what actually happened (no answer, the
//! token refused, a 404 for an empty filter, a server error, a rate limit, the media type),
//! and only otherwise the check's own hint, which speaks of values and shapes.

use crate::scim::validate::Level;

use super::event::{Finding, Recorded};

/// The hint for a failed check: a generic one that fits its first failing finding, or the
/// check's own `hint`.
/// `rejected`: the check's hint for a refusal (an unexpected 4xx), when it has one.
pub fn fitting(
    own: Option<&str>,
    rejected: Option<&str>,
    findings: &[Finding],
    exchange: Option<&Recorded>,
) -> Option<String> {
    let first = findings.iter().find(|f| f.level == Level::Fail)?;
    let status = exchange
        .and_then(|e| e.response.as_ref().ok())
        .map(|r| r.status);
    let filter = exchange.is_some_and(|e| {
        e.request.method == "GET" && e.request.url.to_ascii_lowercase().contains("filter=")
    });
    let no_token =
        exchange.is_some_and(|e| matches!(e.response, Err(crate::http::TransportError::Token(_))));
    let generic = match (first.kind, status) {
        ("transport", _) if no_token => Some(
            "The OAuth token endpoint gave no access token, so the request was never sent. Entra gets its token the same way and fails Test Connection and every cycle until it gets one; `scimcheck connect` diagnoses the token endpoint.".to_string(),
        ),
        ("transport", _) => Some(
            "No usable answer came back. Entra records the same as a timeout or connection failure and retries in about 40 minutes; a run of them quarantines the job. `scimcheck connect` diagnoses the connection.".to_string(),
        ),
        ("status", Some(401 | 403)) => Some(format!(
            "The endpoint refused the Secret Token ({}): Entra shows \"You appear to have entered invalid credentials\". Check that the token is current and belongs to this Tenant URL; `scimcheck connect` diagnoses it.",
            status.unwrap_or_default()
        )),
        ("status", Some(404)) if filter => Some(
            "The endpoint answered 404 to a filter that matches nothing. Entra expects 200 with an empty ListResponse (RFC 7644 section 3.4.2); a 404 makes it fail Test Connection or stop matching, since it cannot tell \"no such resource\" from a wrong Tenant URL.".to_string(),
        ),
        ("status", Some(429)) => Some(
            "The endpoint rate-limited the request (429). Entra backs off and retries; the gallery requires at least 25 requests per second per tenant, and `--jobs 1` makes scimcheck gentler.".to_string(),
        ),
        ("status", Some(501)) => Some(
            "The server answered 501 Not Implemented: it does not support this request at all. Entra sends it as part of its normal sequence, so the change never reaches the app and Entra counts a failure on every cycle; implement the operation (RFC 7644 section 3.5.2 for PATCH paths).".to_string(),
        ),
        ("status", Some(s)) if s >= 500 => Some(format!(
            "The server failed with {s}: its own logs say why. Entra counts it as a failure and retries in about 40 minutes; failures above 40% of a cycle quarantine the job."
        )),
        ("content-type", _) if findings.iter().filter(|f| f.level == Level::Fail).all(|f| f.kind == "content-type") => Some(
            "Send `Content-Type: application/scim+json` on every SCIM response, errors included (RFC 7644 section 8.1). Microsoft's SCIM Validator aborts its whole run on `application/json`.".to_string(),
        ),
        _ => None,
    };
    let refused = first.kind == "status" && status.is_some_and(|s| (400..500).contains(&s));
    generic
        .or_else(|| rejected.filter(|_| refused).map(str::to_string))
        .or_else(|| own.map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Received, SentRequest, TransportError};

    fn exchange(method: &str, url: &str, status: Option<u16>) -> Recorded {
        Recorded {
            request: SentRequest {
                method: method.into(),
                url: url.into(),
                headers: vec![],
                body: None,
            },
            response: match status {
                Some(status) => Ok(Received {
                    status,
                    headers: vec![],
                    body: String::new(),
                    truncated: false,
                    retries: vec![],
                }),
                None => Err(TransportError::Timeout(std::time::Duration::from_secs(30))),
            },
            elapsed_ms: 1.0,
        }
    }

    /// Every variant a person can see, in one snapshot.
    #[test]
    fn the_hint_follows_what_happened_not_the_check() {
        let own = Some("the check's own hint about values");
        let rejected = Some("the check's own hint for a refusal");
        let cases = [
            ("no answer", "transport", "GET", "/Users/1", None),
            ("token refused", "status", "GET", "/Users/1", Some(401)),
            ("forbidden", "status", "POST", "/Users", Some(403)),
            (
                "404 on an empty filter",
                "status",
                "GET",
                "/Users?filter=userName%20eq%20%22x%22",
                Some(404),
            ),
            ("404 by id", "status", "GET", "/Users/1", Some(404)),
            ("rate limited", "status", "PATCH", "/Users/1", Some(429)),
            ("server error", "status", "POST", "/Users", Some(502)),
            ("not implemented", "status", "PATCH", "/Users/1", Some(501)),
            ("bad request", "status", "PATCH", "/Users/1", Some(400)),
            (
                "media type only",
                "content-type",
                "GET",
                "/Users/1",
                Some(200),
            ),
            ("values differ", "body", "GET", "/Users/1", Some(200)),
        ];
        let text: Vec<String> = cases
            .iter()
            .map(|(name, kind, method, url, status)| {
                let f = Finding::fail(kind, "x");
                let hint = fitting(own, rejected, &[f], Some(&exchange(method, url, *status)));
                format!("{name}: {}", hint.unwrap_or_default())
            })
            .collect();
        insta::with_settings!({snapshot_path => "../../snapshots", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!("hint_variants", text.join("\n"));
        });
    }
}
