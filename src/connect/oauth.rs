//! The first layer of Test Connection for OAuth2 client credentials: Entra asks the token
//! endpoint for an access token before it sends anything to the Tenant URL. The request is
//! Entra's (form body, credentials in `Authorization: Basic`); when it fails, at most one
//! follow-up to the same endpoint tells apart an endpoint that reads the credentials only from
//! the body. The answer's `expires_in` is held against Microsoft's 60-360 minute window.

use serde::Serialize;

use super::answer::short_error;
use super::journal::{Journal, credentials, described, entra, error, reason, verbatim, warning};
use super::model::{EntraMessage, Probe, Stage};
use crate::credential::{
    CredentialLocation, ENTRA_MAX_LIFETIME, ENTRA_MIN_LIFETIME, Issued, OAuthClient, TokenError,
    lifetime, read_answer,
};
use crate::diagnosis::Code;
use crate::http::{Client, Exchange, Secret, TransportError};

/// What Entra shows when the token endpoint does not take the credentials where Entra puts
/// them (captured by SCIM server authors; third-party).
const CREDENTIAL_LOCATION: &str = "Supported CredentialLocationInRequest is required. This parameter determines whether client credentials are included in the request header or body during token acquisition.";
const CREDENTIAL_LOCATION_CODE: &str = "CredentialValidationUnavailable";

/// What `connect` learnt about the token endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OAuthFacts {
    pub token_url: String,
    pub client_id: String,
    pub scope: Option<String>,
    /// `expires_in` of the access token used, in seconds.
    pub expires_in_secs: Option<u64>,
    pub token_type: Option<String>,
}

fn no_token(why: &str) -> Option<EntraMessage> {
    described(format!(
        "Entra cannot get an access token from the token endpoint: {why}"
    ))
}

impl Journal {
    /// Records a token request as a probe; returns its step number.
    fn record_token(&mut self, stage: Stage, purpose: &str, auth: &str, ex: &Exchange) -> usize {
        let step = self.probes.len() + 1;
        let (status, content_type, error) = match &ex.response {
            Ok(r) => (
                Some(r.status),
                r.header("content-type").map(|c| self.clean(c)),
                None,
            ),
            Err(e) => (None, None, Some(self.clean(&short_error(&e.to_string())))),
        };
        self.probes.push(Probe {
            step,
            stage,
            purpose: purpose.to_string(),
            method: "POST".into(),
            url: self.clean(&ex.request.url),
            auth: auth.to_string(),
            status,
            content_type,
            location: None,
            elapsed_ms: ex.elapsed.as_millis() as u64,
            slow: status.is_some() && ex.elapsed > self.slow,
            error,
            ok: false,
            notes: vec![],
        });
        step
    }

    /// Asks the token endpoint for an access token as Entra does and diagnoses the answer.
    /// Returns the access token to go on with (as a [`Secret`] also redacting it), or `None`
    /// when there is none: then Test Connection stops here.
    pub(super) async fn token_endpoint(
        &mut self,
        client: &Client,
        oauth: &OAuthClient,
    ) -> Option<Secret> {
        let cfg = oauth.config().clone();
        self.oauth = Some(OAuthFacts {
            token_url: self.clean(&cfg.token_url),
            client_id: cfg.client_id.clone(),
            scope: cfg.scope.clone(),
            expires_in_secs: None,
            token_type: None,
        });
        let secret = client.secret().clone();
        let (headers, body) = cfg.request(CredentialLocation::Header);
        let ex = client.post_form(&cfg.token_url, &headers, body).await;
        let step = self.record_token(
            Stage::TokenEndpoint,
            "Entra's token request: client credentials in `Authorization: Basic`, a form body with grant_type=client_credentials",
            "client id and secret (Basic)",
            &ex,
        );
        let r = match &ex.response {
            Err(e) => {
                self.token_unreachable(e, step, &cfg.token_url);
                return None;
            }
            Ok(r) => r.clone(),
        };
        let issued = match read_answer(&r, &secret) {
            Ok(i) => i,
            Err(
                e @ TokenError::Status {
                    status: 400 | 401, ..
                },
            ) => {
                return self.credentials_refused(client, step, &e).await;
            }
            Err(e) => {
                self.token_failed(step, &e);
                return None;
            }
        };
        self.note(step, true, "an access token, as Entra needs");
        Some(self.issued(step, &issued))
    }

    /// The token to go on with, after `step` gave it; `expires_in` judged.
    fn issued(&mut self, step: usize, issued: &Issued) -> Secret {
        if let Some(facts) = &mut self.oauth {
            facts.expires_in_secs = issued.expires_in.map(|d| d.as_secs());
            facts.token_type = issued.token_type.clone();
        }
        if let Some(t) = issued
            .token_type
            .as_deref()
            .filter(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            let t = self.clean(&crate::report::escape::one_line(t));
            self.note(
                step,
                true,
                format!("token_type is `{t}`: Entra sends the access token as `Bearer`"),
            );
        }
        match issued.expires_in {
            None => self.note(
                step,
                true,
                "no expires_in: how long the token lives is not said",
            ),
            Some(d) if !(ENTRA_MIN_LIFETIME..=ENTRA_MAX_LIFETIME).contains(&d) => {
                let (shape, fix) = if d < ENTRA_MIN_LIFETIME {
                    (
                        "shorter than",
                        "Issue access tokens that live 60 to 360 minutes: Entra fetches a new one when it expires, but every token request is one more call that can fail during a cycle.",
                    )
                } else {
                    (
                        "longer than",
                        "Issue access tokens that live 60 to 360 minutes: a long-lived token that leaks stays usable for longer, which is what client credentials are meant to avoid.",
                    )
                };
                self.note(
                    step,
                    true,
                    format!("expires_in {} ({})", d.as_secs(), lifetime(d)),
                );
                self.add(
                    warning(Code::OAuthExpiresInWindow, format!(
                            "The access token lives {} (expires_in {}), {shape} Microsoft's window of 60 to 360 minutes",
                            lifetime(d),
                            d.as_secs()
                        )).fix(fix)
                    .probe(step),
                );
            }
            Some(d) => self.note(step, true, format!("expires in {}", lifetime(d))),
        }
        let token = Secret::new(issued.access_token.clone());
        self.secrets.push(token.clone());
        token
    }

    fn token_unreachable(&mut self, e: &TransportError, step: usize, url: &str) {
        self.unreachable = e.is_unreachable();
        let url = self.clean(url);
        let why = match e {
            TransportError::Tls(m) => {
                format!("TLS handshake failed: {}", super::tls::tls_detail(m))
            }
            e => e.to_string(),
        };
        let why = self.clean(&short_error(&why));
        self.note(step, false, "no answer");
        self.add(
            error(
                Code::OAuthUnreachable,
                format!("The token endpoint {url} cannot be reached"),
            )
            .detail(why)
            .probe(step)
            .entra(no_token("it cannot be reached")),
        );
    }

    fn token_failed(&mut self, step: usize, e: &TokenError) {
        match e {
            TokenError::Status { status: 415, .. } => {
                self.note(step, false, "the form body is refused (415)");
                self.add(
                    error(
                        Code::OAuthFormRejected,
                        "The token endpoint refuses a form body (415 Unsupported Media Type)",
                    )
                    .detail(e.to_string())
                    .probe(step)
                    .entra(verbatim(Some(entra::CREDENTIALS_CODE), CREDENTIAL_LOCATION)),
                );
            }
            TokenError::Status { status, .. } => {
                self.note(step, false, format!("{status} {}", reason(*status)));
                self.add(
                    error(Code::OAuthError, format!(
                            "The token endpoint answers {status} {} instead of an access token",
                            reason(*status)
                        )).fix(if *status >= 500 {
                            "The token endpoint fails on Entra's request: check its logs for this request (POST, a form body with grant_type=client_credentials, Basic credentials)."
                        } else {
                            "Make the token endpoint grant `client_credentials` to this client (id and secret in `Authorization: Basic`, a form body) and answer 200 with a JSON `access_token`."
                        })
                    .detail(format!("server says: {e}"))
                    .probe(step)
                    .entra(no_token(&format!("HTTP {status}"))),
                );
            }
            TokenError::NotJson { .. } => {
                self.note(step, false, "not a JSON object");
                self.add(
                    error(
                        Code::OAuthNotJson,
                        "The token endpoint's answer is not JSON",
                    )
                    .detail(e.to_string())
                    .probe(step)
                    .entra(no_token("the answer is not JSON")),
                );
            }
            TokenError::NoAccessToken { .. } => {
                self.note(step, false, "no access_token in the answer");
                self.add(
                    error(
                        Code::OAuthNoAccessToken,
                        "The token endpoint answers without an `access_token`",
                    )
                    .detail(e.to_string())
                    .probe(step)
                    .entra(no_token("the answer has no access_token")),
                );
            }
        }
    }

    /// A 400/401 to Entra's request: does the endpoint take the credentials from the body?
    async fn credentials_refused(
        &mut self,
        client: &Client,
        step: usize,
        first: &TokenError,
    ) -> Option<Secret> {
        let secret = client.secret().clone();
        let cfg = client.credential().oauth_client()?.config().clone();
        let (headers, body) = cfg.request(CredentialLocation::Body);
        let ex = client.post_form(&cfg.token_url, &headers, body).await;
        let s2 = self.record_token(
            Stage::TokenEndpoint,
            "does the token endpoint take the credentials from the form body instead (client_secret_post)?",
            "client id and secret (form body)",
            &ex,
        );
        let second = ex.response.as_ref().map(|r| read_answer(r, &secret));
        let status = match first {
            TokenError::Status { status, .. } => *status,
            _ => 0,
        };
        self.note(
            step,
            false,
            format!(
                "{status} {}: the credentials in Basic are refused",
                reason(status)
            ),
        );
        match second {
            Ok(Ok(issued)) => {
                self.note(
                    s2,
                    true,
                    "an access token: the endpoint reads only the body",
                );
                self.add(
                    error(Code::OAuthCredentialsInBodyOnly, "The token endpoint reads the client credentials only from the form body, not from `Authorization: Basic` where Entra sends them")
                    .detail(format!("with Basic credentials: {first}"))
                    .detail("with the same credentials in the body: 200 and an access token")
                    .probe(step)
                    .probe(s2)
                    .entra(verbatim(Some(CREDENTIAL_LOCATION_CODE), CREDENTIAL_LOCATION)),
                );
                Some(self.issued(s2, &issued))
            }
            other => {
                let how = match &other {
                    Ok(Err(e)) => e.to_string(),
                    Err(e) => short_error(&e.to_string()),
                    Ok(Ok(_)) => unreachable!(),
                };
                self.note(s2, false, format!("refused too: {}", self.clean(&how)));
                self.add(
                    error(
                        Code::OAuthClientRejected,
                        format!(
                            "The token endpoint refuses the client credentials ({status} {})",
                            reason(status)
                        ),
                    )
                    .detail(format!("server says: {first}"))
                    .detail(format!(
                        "with the credentials in the form body instead: {}",
                        self.clean(&how)
                    ))
                    .probe(step)
                    .probe(s2)
                    .entra(credentials()),
                );
                None
            }
        }
    }
}
