//! The reference server's OAuth2 token endpoint (`serve --oauth-client ID:SECRET`):
//! `POST /oauth2/token`, the client-credentials grant of RFC 6749 §4.4 with the client
//! authenticated by `Authorization: Basic` or by the form body (§2.3.1), answering short-lived
//! random access tokens that the SCIM endpoints accept until they expire. The `oauth-*` quirks
//! reproduce the token endpoints Entra cannot use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::quirks::{Quirk, QuirkSet};
use crate::credential::form_decode;

/// Where the token endpoint lives (at the server's root, beside the base path).
pub const TOKEN_PATH: &str = "/oauth2/token";

/// The lifetime `oauth-expires-in-out-of-window` issues (a day).
const OUT_OF_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The lifetime `oauth-short-lived-tokens` issues, and says.
const SHORT_LIVED: Duration = Duration::from_secs(2);
/// How long a token of `oauth-tokens-die-early` really works, whatever `expires_in` says.
const DIES_AFTER: Duration = Duration::from_secs(1);

/// The one client allowed, and the tokens issued to it.
pub(crate) struct TokenEndpoint {
    client_id: String,
    client_secret: String,
    ttl: Duration,
    /// Token -> when it stops being accepted.
    issued: Mutex<HashMap<String, Instant>>,
    count: AtomicU64,
}

impl TokenEndpoint {
    pub(crate) fn new(client_id: String, client_secret: String, ttl: Duration) -> Self {
        TokenEndpoint {
            client_id,
            client_secret,
            ttl,
            issued: Mutex::default(),
            count: AtomicU64::new(0),
        }
    }

    /// How many access tokens were issued.
    pub(crate) fn issued_count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Whether `token` was issued here and has not expired.
    pub(crate) fn accepts(&self, token: &str) -> bool {
        let mut issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        issued.retain(|_, until| *until > now);
        issued.contains_key(token)
    }

    /// Answers one request to [`TOKEN_PATH`].
    pub(crate) async fn handle(
        &self,
        q: &QuirkSet,
        method: &Method,
        headers: &HeaderMap,
        body: Body,
    ) -> Response {
        if method != Method::POST {
            return error(405, "invalid_request", "the token endpoint takes POST only");
        }
        let media = crate::http::media_type(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default(),
        );
        let form = media == "application/x-www-form-urlencoded";
        if q.has(Quirk::OauthRejectsForm) && form {
            // A SCIM content-type middleware in front of the token path.
            return json_reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                json!({"error": "invalid_request", "error_description": "Content-Type must be application/json or application/scim+json"}),
            );
        }
        let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
            return error(400, "invalid_request", "the body could not be read");
        };
        let text = String::from_utf8_lossy(&bytes);
        let params: Vec<(String, String)> = if form {
            form_decode(&text)
        } else if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&text) {
            o.into_iter()
                .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_default()))
                .collect()
        } else {
            return error(
                400,
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            );
        };
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if param("grant_type") != Some("client_credentials") {
            return error(
                400,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            );
        }
        let basic = if q.has(Quirk::OauthCredentialsInBodyOnly) {
            None
        } else {
            basic_credentials(headers)
        };
        let from_body = match (param("client_id"), param("client_secret")) {
            (Some(id), Some(secret)) => Some((id.to_string(), secret.to_string())),
            _ => None,
        };
        let Some((id, secret)) = basic.or(from_body) else {
            return unauthorized("client authentication is missing");
        };
        if id != self.client_id || secret != self.client_secret {
            return unauthorized("unknown client or wrong secret");
        }
        let (says, lives) = if q.has(Quirk::OauthExpiresInOutOfWindow) {
            (OUT_OF_WINDOW, OUT_OF_WINDOW)
        } else if q.has(Quirk::OauthShortLivedTokens) {
            (SHORT_LIVED, SHORT_LIVED)
        } else if q.has(Quirk::OauthTokensDieEarly) {
            (self.ttl, DIES_AFTER.min(self.ttl))
        } else {
            (self.ttl, self.ttl)
        };
        let token = format!(
            "rs-at-{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), Instant::now() + lives);
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut body = json!({"token_type": "Bearer", "expires_in": says.as_secs()});
        if !q.has(Quirk::OauthNoAccessToken) {
            body["access_token"] = json!(token);
        }
        json_reply(StatusCode::OK, body)
    }
}

/// The client id and secret of `Authorization: Basic`, each form-decoded (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let pair = String::from_utf8(decoded).ok()?;
    let (id, secret) = pair.split_once(':')?;
    let d = |s: &str| crate::http::percent_decode(s).unwrap_or_else(|_| s.to_string());
    Some((d(id), d(secret)))
}

fn json_reply(status: StatusCode, body: Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn error(status: u16, code: &str, description: &str) -> Response {
    json_reply(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        json!({"error": code, "error_description": description}),
    )
}

fn unauthorized(description: &str) -> Response {
    let mut resp = error(401, "invalid_client", description);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"oauth2\""),
    );
    resp
}
