//! The HTTP layer of Test Connection: the Tenant URL's scheme and path (a 404 searched for
//! the URL that answers, redirects), the token (401, 403, a pasted `Bearer ` prefix, an
//! expired JWT), 5xx, content types and slow answers.

use super::answer::{Answer, answer, describe_answer, media_type};
use super::journal::{
    Journal, credentials, described, error, not_found, reason, unexpected, warning,
};
use super::model::{Finding, Stage};
use super::scim::{Collection, users_probe};
use super::tenant::{base_of_collection_url, path_of, place, suggest, url_variants};
use super::{duration, readable_path};
use crate::diagnosis::Code;
use crate::http::{Client, Exchange, OutRequest, Secret, TenantUrl};

impl Journal {
    /// Checks that need no request: scheme, `Bearer ` prefix, JWT claims.
    pub(super) fn precheck(&mut self) {
        if let Some(p) = place(&self.target.base)
            && p.scheme == "http"
        {
            let https = format!("https{}", &self.input.trim()[4..]);
            self.add(
                warning(
                    Code::UrlNotHttps,
                    "The Tenant URL starts with http://: Entra only connects over HTTPS",
                )
                .blocking()
                .entra(described("Entra only connects to https:// Tenant URLs"))
                .suggest(https),
            );
        }
    }

    pub(super) async fn denied(
        &mut self,
        step: usize,
        status: u16,
        detail: Option<String>,
        challenge: Option<String>,
    ) {
        let mut facts: Vec<String> = Vec::new();
        if let Some(d) = &detail {
            facts.push(format!("server says: {d}"));
        }
        if let Some(c) = &challenge {
            facts.push(format!("WWW-Authenticate: {c}"));
        }
        let mut explained = false;
        if let Some(stripped) = self.stripped.clone() {
            explained = true;
            let mut f = error(Code::AuthBearerPrefix, "The Secret Token was pasted with a `Bearer ` prefix").fix("Paste only the token itself into Secret Token: Entra adds `Bearer ` on its own, so the endpoint receives `Authorization: Bearer Bearer ...`.")
            .probe(step)
            .entra(credentials())
            .details(facts.clone());
            match self.client(self.target.clone(), stripped) {
                Ok(c) => {
                    let (s2, ex) = self
                        .send(
                            &c,
                            Stage::FollowUp,
                            "does the token work without the pasted `Bearer ` prefix?",
                            "token without the `Bearer ` prefix",
                            &users_probe(),
                        )
                        .await;
                    let a = answer(&ex);
                    let wrong_place = matches!(a, Answer::NotFound { .. } | Answer::Html { .. });
                    if a.is_list() {
                        self.note(s2, true, "accepted: the prefix is the only problem");
                        f = f.detail("confirmed: without the prefix the same request answers 200 and a ListResponse");
                    } else if wrong_place {
                        self.note(
                            s2,
                            false,
                            format!(
                                "{}: the token gets past authentication, the path is wrong",
                                describe_answer(&a)
                            ),
                        );
                        f = f.detail("without the prefix the token gets past authentication, but the Tenant URL path is wrong too (see below)");
                    } else {
                        self.note(s2, false, describe_answer(&a));
                        f = f.detail(format!(
                            "without the prefix the request is still not accepted ({})",
                            describe_answer(&a)
                        ));
                    }
                    f = f.probe(s2);
                    self.add(f);
                    if wrong_place {
                        // Go on with the token as it should have been pasted.
                        self.token = Secret::new(c.secret().expose());
                        self.url_search(&c, vec![s2], None).await;
                    }
                }
                Err(e) => {
                    f = f.detail(e);
                    self.add(f);
                }
            }
        }
        if let Some(jwt) = self.jwt.clone() {
            let mut claims = Vec::new();
            if let Some(exp) = jwt.exp {
                claims.push(format!("exp: {}", exp.format("%Y-%m-%d %H:%M:%S UTC")));
            }
            if let Some(iss) = &jwt.iss {
                claims.push(format!("iss: {iss}"));
            }
            if let Some(aud) = &jwt.aud {
                claims.push(format!("aud: {aud}"));
            }
            if jwt.expired {
                explained = true;
                let when = jwt
                    .exp
                    .map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default();
                self.add(
                    error(Code::AuthJwtExpired, format!("The Secret Token is a JWT that expired on {when}")).fix("Generate a new token in the application and update Secret Token in Entra. If the application only issues short-lived tokens, ask for a long-lived provisioning token: Entra cannot refresh it.")
                    .details(claims)
                    .probe(step)
                    .entra(credentials()),
                );
            } else if jwt.nbf.is_some_and(|n| n > chrono::Utc::now()) {
                facts.push(
                    "the JWT is not valid yet (nbf is in the future): check the issuer's clock"
                        .into(),
                );
                facts.extend(claims);
            } else {
                facts.push("the token is a JWT that has not expired: check that it was issued for this endpoint (issuer and audience)".into());
                facts.extend(claims);
            }
        }
        if !explained {
            let f = if status == 403 {
                error(
                    Code::AuthForbidden,
                    "The token is recognised but not allowed to read users (403 Forbidden)",
                )
            } else if self.oauth.is_some() {
                error(
                    Code::AuthTokenRejected,
                    "The endpoint rejects the access token its token endpoint issued (401 Unauthorized)",
                )
                .fix("Make the SCIM endpoint accept the access tokens this token endpoint issues, sent as `Authorization: Bearer <access_token>`: the same issuer, audience and signing keys, and a client that is allowed to provision.")
            } else {
                error(
                    Code::AuthTokenRejected,
                    "The endpoint rejects the Secret Token (401 Unauthorized)",
                )
                .fix("Generate a new Secret Token in the application's admin console and paste it into Entra exactly: no quotes, no spaces, no `Bearer ` prefix. Make sure it belongs to the same tenant or environment as the Tenant URL.")
            };
            self.add(f.details(facts).probe(step).entra(credentials()));
        }
    }

    /// A 3xx: Entra does not follow it. Same-origin targets are probed once.
    pub(super) async fn redirect(
        &mut self,
        c: Collection,
        step: usize,
        status: u16,
        location: Option<String>,
        url: &str,
    ) {
        let fix_direct = format!(
            "Make the endpoint answer {} directly, without a redirect.",
            c.path()
        );
        let Some(raw) = location else {
            self.note(step, false, format!("{status} without a Location header"));
            self.add(
                error(
                    Code::UrlRedirect,
                    format!(
                        "The endpoint answers {status} {} without saying where to",
                        reason(status)
                    ),
                )
                .fix(fix_direct)
                .probe(step)
                .entra(unexpected(status)),
            );
            return;
        };
        let from = reqwest::Url::parse(url).ok();
        let Some(to) = from.as_ref().and_then(|f| f.join(&raw).ok()) else {
            self.note(
                step,
                false,
                format!("{status} to an unreadable Location `{raw}`"),
            );
            self.add(
                error(
                    Code::UrlRedirect,
                    format!("The endpoint redirects ({status}) to an invalid Location"),
                )
                .fix(fix_direct)
                .detail(format!("Location: {raw}"))
                .probe(step)
                .entra(unexpected(status)),
            );
            return;
        };
        let target_shown = self.clean(to.as_str());
        self.note(
            step,
            false,
            format!(
                "{status} {}: redirects to {target_shown}; Entra does not follow redirects",
                reason(status)
            ),
        );
        let same_origin = from.as_ref().is_some_and(|f| f.origin() == to.origin());
        let suggestion = base_of_collection_url(&to).map(|b| suggest(&b, &self.target));
        let mut f = error(Code::UrlRedirect, format!("The endpoint redirects ({status} {}) instead of answering; Entra does not follow redirects", reason(status))).fix(match &suggestion {
                Some(s) => format!("Set the Tenant URL to {s} (where the redirect points), or make the server answer without redirecting."),
                None => fix_direct.clone(),
            })
        .detail(format!("Location: {target_shown}"))
        .probe(step)
        .entra(unexpected(status));
        if same_origin {
            let mut base = to.clone();
            base.set_query(None);
            let target = TenantUrl {
                base: base.as_str().trim_end_matches('/').to_string(),
                query: None,
            };
            match self.client(target, self.token.clone()) {
                Ok(c) => {
                    let mut req = OutRequest::new("GET", "");
                    req.query = to
                        .query_pairs()
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    let (s2, ex) = self
                        .send(
                            &c,
                            Stage::FollowUp,
                            "does the redirect target answer Entra's request? (same origin)",
                            "token",
                            &req,
                        )
                        .await;
                    let a = answer(&ex);
                    if a.is_list() {
                        self.note(s2, true, "the redirect target answers a ListResponse");
                        f = f.detail("the redirect target answers Entra's request correctly");
                    } else {
                        self.note(s2, false, describe_answer(&a));
                        f = f.detail(format!(
                            "the redirect target does not work either: {}",
                            describe_answer(&a)
                        ));
                    }
                    f = f.probe(s2);
                }
                Err(e) => f = f.detail(e),
            }
        } else {
            f = f.detail("the target is on another origin: scimcheck did not follow it, so the token was not sent there");
        }
        if let Some(s) = suggestion {
            f = f.suggest(s);
        }
        self.add(f);
    }

    /// The given Tenant URL answers 404 (or a web page): tries a trailing slash and sibling
    /// URLs on the same origin and reports the one that answers.
    pub(super) async fn url_search(
        &mut self,
        client: &Client,
        evidence: Vec<usize>,
        fallback: Option<Finding>,
    ) {
        // A server that routes only `/Users/`.
        let mut slash = users_probe();
        slash.path = "/Users/".into();
        let (s, ex) = self
            .send(
                client,
                Stage::FollowUp,
                "does /Users/ (with a trailing slash) answer?",
                "token",
                &slash,
            )
            .await;
        let a = answer(&ex);
        if a.is_list() {
            self.note(s, true, "a ListResponse: only the trailing slash differs");
            self.add(
                error(
                    Code::UrlTrailingSlash,
                    "The endpoint answers /Users/ (with a trailing slash) but not /Users",
                )
                .probes(&evidence)
                .probe(s)
                .entra(not_found()),
            );
            return;
        }
        self.note(s, false, describe_answer(&a));
        let mut tried = evidence.clone();
        tried.push(s);
        for (base, code) in url_variants(&self.target.base) {
            let target = TenantUrl {
                base: base.clone(),
                query: None,
            };
            let Ok(c) = self.client(target, self.token.clone()) else {
                continue;
            };
            let purpose = format!("is the SCIM endpoint at {}?", path_of(&base));
            let (s, ex) = self
                .send(&c, Stage::FollowUp, &purpose, "token", &users_probe())
                .await;
            tried.push(s);
            let a = answer(&ex);
            match &a {
                Answer::List { .. } | Answer::Denied { .. } => {
                    let good = a.is_list();
                    self.note(
                        s,
                        good,
                        if good {
                            "a ListResponse: the SCIM endpoint is here".to_string()
                        } else {
                            format!(
                                "{}: the endpoint is probably here, but the token is rejected",
                                describe_answer(&a)
                            )
                        },
                    );
                    let found = path_of(&base);
                    let given = path_of(&self.target.base);
                    let url = suggest(&base, &self.target);
                    let what = match code {
                        Code::UrlIncludesResourcePath => {
                            "The Tenant URL includes /Users or /Groups; Entra appends those itself"
                                .to_string()
                        }
                        Code::UrlMissingScimSegment => {
                            "The Tenant URL lacks the /scim path segment".to_string()
                        }
                        Code::UrlMissingV2Segment => {
                            "The Tenant URL lacks the /v2 path segment".to_string()
                        }
                        Code::UrlMissingScimV2Segments => {
                            "The Tenant URL lacks the /scim/v2 path segments".to_string()
                        }
                        Code::UrlExtraPathSegment => {
                            "The Tenant URL has path segments too many".to_string()
                        }
                        _ => "The Tenant URL has the wrong path".to_string(),
                    };
                    let mut f = error(
                        code,
                        format!("{what}: the SCIM endpoint answers at {found}, not at {given}"),
                    )
                    .fix(format!("Set the Tenant URL to {url}"))
                    .entra(not_found())
                    .suggest(url);
                    for t in &tried {
                        f = f.probe(*t);
                    }
                    if !good {
                        f = f.detail("there the token is rejected too: see the auth findings after changing the URL");
                    }
                    self.add(f);
                    return;
                }
                Answer::Transport(_) => {
                    self.note(s, false, describe_answer(&a));
                    break;
                }
                _ => self.note(s, false, describe_answer(&a)),
            }
        }
        match fallback {
            Some(f) => {
                let f = tried.iter().fold(f, |f, t| f.probe(*t));
                self.add(f);
            }
            None => {
                let mut f = error(
                    Code::UsersNotFound,
                    "GET /Users answers 404 at the Tenant URL and at every common variant of it",
                )
                .entra(not_found());
                f = f.detail(format!(
                    "tried {} variant(s) of the path on the same host",
                    tried.len().saturating_sub(evidence.len())
                ));
                for t in tried {
                    f = f.probe(t);
                }
                self.add(f);
            }
        }
    }

    pub(super) fn server_error(
        &mut self,
        c: Collection,
        step: usize,
        status: u16,
        detail: Option<String>,
    ) {
        self.note(
            step,
            false,
            format!("{status} {}: the server failed", reason(status)),
        );
        let what = c.what();
        let d = detail.map(|d| format!("{what} probe: server says: {d}"));
        self.add(
            error(
                Code::ServerError,
                format!(
                    "The endpoint fails with {status} {} on Entra's {what} probe",
                    reason(status)
                ),
            )
            .details(d)
            .probe(step)
            .entra(unexpected(status)),
        );
    }

    /// Content types of the Test Connection answers that carried JSON.
    pub(super) fn content_types(&mut self, exchanges: &[(usize, &Exchange)]) {
        for (step, ex) in exchanges {
            let Ok(r) = &ex.response else { continue };
            if r.body.trim().is_empty() || r.json().is_none() {
                continue;
            }
            match media_type(r).as_deref() {
                Some("application/scim+json") => {}
                Some("application/json") => {
                    self.note(
                        *step,
                        self.probes[*step - 1].ok,
                        "Content-Type is application/json, not application/scim+json",
                    );
                    self.add(
                        warning(Code::ResponseJsonContentType, "Responses say `Content-Type: application/json` instead of `application/scim+json`").fix("Answer with `Content-Type: application/scim+json` (RFC 7644 section 8.1), errors included. Entra's provisioning tolerates application/json, but Microsoft's SCIM Validator stops at the first such response.")
                        .probe(*step),
                    );
                }
                other => {
                    let shown = other.unwrap_or("(none)").to_string();
                    self.note(
                        *step,
                        self.probes[*step - 1].ok,
                        format!("Content-Type is {shown}"),
                    );
                    self.add(
                        warning(
                            Code::ResponseWrongContentType,
                            format!("A JSON response says `Content-Type: {shown}`"),
                        )
                        .probe(*step),
                    );
                }
            }
        }
    }

    /// What the token looks like, when no probe said it already: a `Bearer ` prefix, an
    /// expired JWT. `accepted`: the endpoint accepted the token anyway.
    pub(super) fn token_notes(&mut self, accepted: bool, step: usize) {
        if self.stripped.is_some()
            && !self
                .findings
                .iter()
                .any(|f| f.code == Code::AuthBearerPrefix)
        {
            let title = if accepted {
                "The Secret Token starts with `Bearer `; this endpoint happens to accept `Bearer Bearer ...`"
            } else {
                "The Secret Token starts with `Bearer `: Entra adds its own, so the endpoint will receive `Bearer Bearer ...`"
            };
            self.add(
                warning(Code::AuthBearerPrefix, title).fix("Paste only the token itself into Secret Token: Entra adds `Bearer ` on its own.")
                .probe(step),
            );
        }
        if let Some(jwt) = self.jwt.clone().filter(|j| j.expired)
            && !self.findings.iter().any(|f| f.code == Code::AuthJwtExpired)
        {
            let when = jwt
                .exp
                .map(|e| e.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let (title, fix) = if accepted {
                (
                    format!(
                        "The Secret Token is a JWT that expired on {when}, yet the endpoint accepts it"
                    ),
                    "The endpoint does not check `exp`: fix the validation, and give Entra a token that has not expired.",
                )
            } else {
                (
                    format!("The Secret Token is a JWT that expired on {when}"),
                    "Generate a new token in the application and update Secret Token in Entra.",
                )
            };
            self.add(
                warning(Code::AuthJwtExpired, title)
                    .fix(fix)
                    .details(jwt.iss.map(|i| format!("iss: {i}")))
                    .probe(step),
            );
        }
    }

    pub(super) fn slow_responses(&mut self) {
        let slow: Vec<(usize, String)> = self
            .probes
            .iter()
            .filter(|p| p.slow)
            .map(|p| {
                (
                    p.step,
                    format!(
                        "[{}] {} {} took {}",
                        p.step,
                        p.method,
                        readable_path(&p.url),
                        duration(p.elapsed_ms)
                    ),
                )
            })
            .collect();
        if slow.is_empty() {
            return;
        }
        let limit = duration(self.slow.as_millis() as u64);
        let mut f = warning(
            Code::SlowResponse,
            format!("{} response(s) took longer than {limit}", slow.len()),
        );
        for (step, line) in slow {
            f = f.probe(step).detail(line);
        }
        self.add(f);
    }
}
