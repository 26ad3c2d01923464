//! Where the bearer token of every SCIM request comes from, in one place: the Secret Token as
//! typed in the portal, or an OAuth2 client-credentials client that gets access tokens from a
//! token endpoint exactly as Entra does (POST, `Content-Type: application/x-www-form-urlencoded`,
//! `grant_type=client_credentials` and an optional `scope` in the body, the client id and secret
//! in `Authorization: Basic`), refreshes them shortly before `expires_in` runs out, and once more
//! when the endpoint answers 401 to a token it had accepted before.
//!
//! Either way one [`Secret`] redacts everything secret: the Secret Token, or the client secret,
//! its Basic header value and every access token issued during the run (registered the moment
//! it is read, before any of it can reach an output).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::http::{Client, Received, Secret, TransportError, form_encode, percent_decode};

/// The shortest access-token lifetime Microsoft's gallery guidance asks for (60 minutes).
pub const ENTRA_MIN_LIFETIME: Duration = Duration::from_secs(60 * 60);
/// The longest (360 minutes).
pub const ENTRA_MAX_LIFETIME: Duration = Duration::from_secs(360 * 60);

/// What Entra is given for OAuth2 client credentials: Token Endpoint, Client Identifier,
/// Client Secret (and a scope, where the app needs one).
#[derive(Clone)]
pub struct OAuthConfig {
    /// The token endpoint, an absolute URL.
    pub token_url: String,
    pub client_id: String,
    /// Only ever sent inside the Basic header (or, for one diagnosis, the form body).
    pub client_secret: String,
    pub scope: Option<String>,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &crate::http::REDACTED)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Where the client credentials go in a token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialLocation {
    /// `Authorization: Basic` (RFC 6749 §2.3.1, `client_secret_basic`): what Entra sends.
    Header,
    /// `client_id` and `client_secret` in the form body (`client_secret_post`): only sent by
    /// `connect` to tell an endpoint that reads nothing else.
    Body,
}

impl OAuthConfig {
    /// The `Authorization: Basic` value: id and secret form-encoded (RFC 6749 §2.3.1), joined
    /// by `:`, base64.
    pub fn basic(&self) -> String {
        use base64::Engine;
        let pair = format!(
            "{}:{}",
            form_encode(&self.client_id),
            form_encode(&self.client_secret)
        );
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }

    /// The token request's headers and form body, with the credentials at `location`.
    pub fn request(&self, location: CredentialLocation) -> (Vec<(String, String)>, String) {
        let mut headers = vec![
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("Accept".to_string(), "application/json".to_string()),
        ];
        let mut body = vec![("grant_type", "client_credentials".to_string())];
        if let Some(scope) = &self.scope {
            body.push(("scope", scope.clone()));
        }
        match location {
            CredentialLocation::Header => headers.push(("Authorization".into(), self.basic())),
            CredentialLocation::Body => {
                body.push(("client_id", self.client_id.clone()));
                body.push(("client_secret", self.client_secret.clone()));
            }
        }
        let body = body
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        (headers, body)
    }

    /// A [`Secret`] redacting the client secret and its Basic header value.
    fn secret(&self) -> Secret {
        let basic = self.basic();
        let encoded = basic.trim_start_matches("Basic ").to_string();
        Secret::new(self.client_secret.clone()).also(&encoded)
    }
}

/// A token endpoint's answer, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Issued {
    pub access_token: String,
    /// `expires_in`, when the answer has one (a number, or a string of digits).
    pub expires_in: Option<Duration>,
    pub token_type: Option<String>,
}

/// Why a token endpoint's answer gives no access token.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenError {
    /// Not 2xx; with the OAuth `error` and `error_description` when the body has them
    /// (escaped, redacted, cut to one line).
    Status {
        status: u16,
        error: Option<String>,
        description: Option<String>,
    },
    /// 2xx, but the body is not a JSON object.
    NotJson { content_type: Option<String> },
    /// A JSON object without a non-empty `access_token` string; the keys it has.
    NoAccessToken { keys: Vec<String> },
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Status {
                status,
                error,
                description,
            } => {
                write!(f, "HTTP {status}")?;
                if let Some(e) = error {
                    write!(f, " {e}")?;
                }
                if let Some(d) = description {
                    write!(f, ": {d}")?;
                }
                Ok(())
            }
            TokenError::NotJson { content_type } => write!(
                f,
                "a 2xx whose body is not a JSON object (Content-Type: {})",
                content_type.as_deref().unwrap_or("none")
            ),
            TokenError::NoAccessToken { keys } => write!(
                f,
                "a JSON answer without `access_token` (it has: {})",
                if keys.is_empty() {
                    "nothing".to_string()
                } else {
                    keys.join(", ")
                }
            ),
        }
    }
}

/// Server text for a one-line message: escaped, redacted, at most 300 characters.
fn server_text(v: Option<&Value>, secret: &Secret) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    let s = secret.redact(&crate::escape::one_line(&s));
    Some(if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    })
}

/// Reads a token endpoint's answer. The access token is registered with `secret` before this
/// returns, so nothing printed afterwards can show it.
pub fn read_answer(r: &Received, secret: &Secret) -> Result<Issued, TokenError> {
    let json = r.json();
    if let Some(Value::Object(o)) = &json
        && let Some(Value::String(t)) = o.get("access_token")
        && !t.trim().is_empty()
    {
        secret.register(t);
        // The bare token, should a server prefix it with its scheme.
        if let Some((_, bare)) = t.split_once(' ') {
            secret.register(bare.trim());
        }
    }
    if !(200..300).contains(&r.status) {
        let o = json.as_ref().and_then(Value::as_object);
        return Err(TokenError::Status {
            status: r.status,
            error: server_text(o.and_then(|o| o.get("error")), secret),
            description: server_text(o.and_then(|o| o.get("error_description")), secret),
        });
    }
    let Some(Value::Object(o)) = json else {
        return Err(TokenError::NotJson {
            content_type: r
                .header("content-type")
                .map(|c| crate::escape::one_line(c).into_owned()),
        });
    };
    let token = match o.get("access_token") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            return Err(TokenError::NoAccessToken {
                keys: o
                    .keys()
                    .map(|k| secret.redact(&crate::escape::one_line(k)))
                    .collect(),
            });
        }
    };
    let expires_in = match o.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64().filter(|s| *s >= 0.0 && s.is_finite()),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok().filter(|s| *s >= 0.0),
        _ => None,
    }
    .map(|s| Duration::from_secs_f64(s.min(1e9)));
    Ok(Issued {
        access_token: token,
        expires_in,
        token_type: o
            .get("token_type")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// `N h`, `N min` or `N seconds` for a lifetime.
pub fn lifetime(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} h", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else if s == 1 {
        "1 second".to_string()
    } else {
        format!("{s} seconds")
    }
}

/// The credentials of a run: a static Secret Token or an OAuth client, and the one [`Secret`]
/// that redacts whatever is secret about them. Clones share the OAuth client (and its tokens).
#[derive(Clone)]
pub struct Credential {
    secret: Secret,
    oauth: Option<Arc<OAuthClient>>,
}

impl From<Secret> for Credential {
    fn from(secret: Secret) -> Self {
        Credential {
            secret,
            oauth: None,
        }
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.oauth {
            None => f.write_str("Credential::Token(REDACTED)"),
            Some(o) => write!(f, "Credential::OAuth({:?})", o.cfg),
        }
    }
}

impl Credential {
    /// An OAuth2 client-credentials client.
    pub fn oauth(cfg: OAuthConfig) -> Self {
        let secret = cfg.secret();
        Credential {
            secret: secret.clone(),
            oauth: Some(Arc::new(OAuthClient {
                cfg,
                secret,
                current: tokio::sync::Mutex::new(None),
                generation: AtomicU64::new(0),
            })),
        }
    }

    /// The redaction of every secret of this credential (shared with its clones).
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Also redacts `value` wherever the credential's secrets are redacted.
    pub fn also(self, value: &str) -> Self {
        self.secret.register(value);
        self
    }

    /// The OAuth client, when the credential is one.
    pub fn oauth_client(&self) -> Option<&OAuthClient> {
        self.oauth.as_deref()
    }

    /// The bearer to send: the static token, or a current access token (fetched when there is
    /// none or it is about to expire).
    pub async fn bearer(&self, client: &Client) -> Result<Bearer, TransportError> {
        match &self.oauth {
            None => Ok(Bearer {
                token: self.secret.expose().to_string(),
                generation: 0,
            }),
            Some(o) => o.bearer(client).await,
        }
    }

    /// Tells the credential how the endpoint took `bearer`: `status` is the answer's status.
    /// Returns whether the request should be sent once more with a new access token: a 401 to
    /// an OAuth token that was accepted before (it expired or was revoked early), or to one
    /// that another request has already replaced.
    pub async fn answered(&self, bearer: &Bearer, status: u16) -> bool {
        match &self.oauth {
            None => false,
            Some(o) => o.answered(bearer, status).await,
        }
    }
}

/// A bearer token as sent, with the generation of the access token (0 for a static token).
#[derive(Clone)]
pub struct Bearer {
    pub token: String,
    pub generation: u64,
}

/// An OAuth2 client-credentials client with its current access token.
pub struct OAuthClient {
    cfg: OAuthConfig,
    secret: Secret,
    current: tokio::sync::Mutex<Option<Current>>,
    /// How many access tokens were issued so far.
    generation: AtomicU64,
}

struct Current {
    token: String,
    generation: u64,
    /// When to fetch the next one: a little before `expires_in` runs out.
    refresh_at: Option<Instant>,
    /// The endpoint answered something other than 401 with it.
    accepted: bool,
}

/// How long before `expires_in` runs out a token is replaced: a quarter of its lifetime, at
/// most a minute.
fn margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(Duration::from_secs(60))
}

impl OAuthClient {
    /// The configuration.
    pub fn config(&self) -> &OAuthConfig {
        &self.cfg
    }

    /// How many access tokens were issued to this client so far.
    pub fn issued(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    async fn bearer(&self, client: &Client) -> Result<Bearer, TransportError> {
        let mut current = self.current.lock().await;
        if let Some(c) = current.as_ref()
            && c.refresh_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(Bearer {
                token: c.token.clone(),
                generation: c.generation,
            });
        }
        let issued = self.fetch(client).await?;
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let refresh_at = issued
            .expires_in
            .map(|l| Instant::now() + l.saturating_sub(margin(l)));
        *current = Some(Current {
            token: issued.access_token.clone(),
            generation,
            refresh_at,
            accepted: false,
        });
        Ok(Bearer {
            token: issued.access_token,
            generation,
        })
    }

    async fn answered(&self, bearer: &Bearer, status: u16) -> bool {
        let mut current = self.current.lock().await;
        let Some(c) = current.as_mut() else {
            return false;
        };
        if c.generation != bearer.generation {
            // Already replaced by another request: try the new one (once).
            return status == 401;
        }
        if status != 401 {
            c.accepted = true;
            return false;
        }
        if c.accepted {
            *current = None;
            return true;
        }
        false
    }

    /// One token request, as Entra sends it.
    async fn fetch(&self, client: &Client) -> Result<Issued, TransportError> {
        let (headers, body) = self.cfg.request(CredentialLocation::Header);
        let ex = client.post_form(&self.cfg.token_url, &headers, body).await;
        let url = self.secret.redact(&self.cfg.token_url);
        let r = ex
            .response
            .map_err(|e| TransportError::Token(format!("{url} could not be reached: {e}")))?;
        read_answer(&r, &self.secret).map_err(|e| TransportError::Token(format!("{url}: {e}")))
    }
}

/// Decodes an `application/x-www-form-urlencoded` body into its pairs (`+` is a space;
/// undecodable pairs are kept as they are).
pub fn form_decode(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let d = |s: &str| percent_decode(s).unwrap_or_else(|_| s.to_string());
            (d(k), d(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> OAuthConfig {
        OAuthConfig {
            token_url: "https://idp.example/oauth2/token".into(),
            client_id: "entra app".into(),
            client_secret: "s3cr3t:with&odd=chars".into(),
            scope: Some("scim.write scim.read".into()),
        }
    }

    fn answer(status: u16, body: &str) -> Received {
        Received {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            truncated: false,
            retries: vec![],
        }
    }

    #[test]
    fn the_token_request_is_entras_form_body_with_the_credentials_in_basic() {
        let (headers, body) = cfg().request(CredentialLocation::Header);
        assert_eq!(
            body,
            "grant_type=client_credentials&scope=scim.write+scim.read"
        );
        assert!(headers.contains(&(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into()
        )));
        let basic = &headers
            .iter()
            .find(|(k, _)| k == "Authorization")
            .unwrap()
            .1;
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.strip_prefix("Basic ").unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap(),
            "entra+app:s3cr3t%3Awith%26odd%3Dchars"
        );
        let pairs = form_decode(&body);
        assert_eq!(pairs[1], ("scope".into(), "scim.write scim.read".into()));
    }

    #[test]
    fn the_body_variant_carries_the_credentials_in_the_form_and_no_basic_header() {
        let (headers, body) = cfg().request(CredentialLocation::Body);
        assert!(!headers.iter().any(|(k, _)| k == "Authorization"));
        let pairs = form_decode(&body);
        assert!(pairs.contains(&("client_secret".into(), "s3cr3t:with&odd=chars".into())));
    }

    #[test]
    fn an_answer_gives_the_token_and_its_lifetime_and_the_token_is_redacted_at_once() {
        let secret = cfg().secret();
        let r = answer(
            200,
            r#"{"access_token":"at-0123456789abcdef","token_type":"Bearer","expires_in":"3600"}"#,
        );
        let issued = read_answer(&r, &secret).unwrap();
        assert_eq!(issued.expires_in, Some(Duration::from_secs(3600)));
        assert_eq!(secret.redact("x at-0123456789abcdef y"), "x REDACTED y");
        assert_eq!(secret.redact("s3cr3t:with&odd=chars"), "REDACTED");
    }

    #[test]
    fn errors_carry_the_oauth_error_escaped_and_redacted() {
        let secret = cfg().secret();
        let r = answer(
            401,
            r#"{"error":"invalid_client","error_description":"bad s3cr3t:with&odd=chars\u001b[2J"}"#,
        );
        let e = read_answer(&r, &secret).unwrap_err();
        assert_eq!(
            e.to_string(),
            "HTTP 401 invalid_client: bad REDACTED\\x1b[2J"
        );
        let e = read_answer(&answer(200, r#"{"token_type":"Bearer"}"#), &secret).unwrap_err();
        assert_eq!(
            e,
            TokenError::NoAccessToken {
                keys: vec!["token_type".into()]
            }
        );
        let e = read_answer(&answer(200, "<html>"), &secret).unwrap_err();
        assert!(matches!(e, TokenError::NotJson { .. }));
    }

    #[test]
    fn a_token_is_replaced_a_quarter_of_its_lifetime_early_at_most_a_minute() {
        assert_eq!(margin(Duration::from_secs(2)), Duration::from_millis(500));
        assert_eq!(margin(Duration::from_secs(3600)), Duration::from_secs(60));
        assert_eq!(lifetime(Duration::from_secs(3600)), "1 h");
        assert_eq!(lifetime(Duration::from_secs(90 * 60)), "90 min");
    }
}
