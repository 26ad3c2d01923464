//! The SCIM layer of Test Connection: Entra's users and groups probes, each a filter on a
//! random value that must answer 200 and an empty ListResponse. One diagnosis serves both
//! collections; where Entra's probes differ (`excludedAttributes=members` on groups, the URL
//! search that only a failing users probe starts), the [`Collection`] says so.

use super::answer::{Answer, answer, describe_answer};
use super::journal::{
    Journal, entra, error, not_deserializable, not_found, reason, unexpected, warning,
};
use super::model::{EntraMessage, Stage};
use crate::diagnosis::Code;
use crate::http::{Client, OutRequest};

/// A collection Entra's Test Connection probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Collection {
    Users,
    Groups,
}

impl Collection {
    /// `/Users`, `/Groups`.
    pub(super) fn path(self) -> &'static str {
        match self {
            Collection::Users => "/Users",
            Collection::Groups => "/Groups",
        }
    }

    /// `users`, `groups`: as in "Entra's users probe".
    pub(super) fn what(self) -> &'static str {
        match self {
            Collection::Users => "users",
            Collection::Groups => "groups",
        }
    }

    /// The attribute Entra's probe filters on.
    fn filter_attribute(self) -> &'static str {
        match self {
            Collection::Users => "userName",
            Collection::Groups => "displayName",
        }
    }

    /// `code` for users, else `groups`.
    fn pick(self, users: Code, groups: Code) -> Code {
        match self {
            Collection::Users => users,
            Collection::Groups => groups,
        }
    }
}

/// Entra's users probe: a filter on a random GUID, expected to match nothing.
pub(super) fn users_probe() -> OutRequest {
    let mut r = OutRequest::new("GET", "/Users");
    r.query = vec![(
        "filter".into(),
        format!("userName eq \"{}\"", uuid::Uuid::new_v4()),
    )];
    r
}

/// Entra's groups probe.
pub(super) fn groups_probe(with_excluded: bool) -> OutRequest {
    let mut r = OutRequest::new("GET", "/Groups");
    if with_excluded {
        r.query
            .push(("excludedAttributes".into(), "members".into()));
    }
    r.query.push((
        "filter".into(),
        format!("displayName eq \"{}\"", uuid::Uuid::new_v4()),
    ));
    r
}

/// `GET /<collection>?count=1`: does the collection answer at all without a filter?
fn unfiltered(c: Collection) -> OutRequest {
    let mut r = OutRequest::new("GET", c.path());
    r.query = vec![("count".into(), "1".into())];
    r
}

impl Journal {
    /// Judges Entra's probe of collection `c` and follows up; returns whether the endpoint was
    /// reached and the token accepted (so that the groups probe is worth judging).
    pub(super) async fn collection(
        &mut self,
        c: Collection,
        client: &Client,
        step: usize,
        ans: &Answer,
        url: &str,
    ) -> bool {
        use Collection::{Groups, Users};
        match ans {
            Answer::List { total, problems } => {
                self.note(step, true, "");
                self.list_extras(c, step, *total, problems);
                true
            }
            Answer::Denied {
                status,
                detail,
                challenge,
            } => match c {
                Users => {
                    self.note(
                        step,
                        false,
                        format!("{status} {}: the token is rejected", reason(*status)),
                    );
                    self.denied(step, *status, detail.clone(), challenge.clone())
                        .await;
                    false
                }
                Groups => {
                    self.note(
                        step,
                        false,
                        format!(
                            "{status} {}: the token is rejected for /Groups",
                            reason(*status)
                        ),
                    );
                    self.add(
                        error(
                            Code::GroupsDenied,
                            format!(
                                "The token is accepted for /Users but rejected for /Groups ({status} {})",
                                reason(*status)
                            ),
                        )
                        .details(detail.as_ref().map(|d| format!("server says: {d}")))
                        .probe(step)
                        .entra(super::journal::credentials()),
                    );
                    true
                }
            },
            Answer::Redirect { status, location } => {
                self.redirect(c, step, *status, location.clone(), url).await;
                false
            }
            Answer::NotFound { detail, html } => {
                self.note(
                    step,
                    false,
                    "404 where Entra expects 200 and an empty ListResponse",
                );
                if c == Users && *html {
                    self.note(
                        step,
                        false,
                        "the 404 is an HTML page: the request may not reach the SCIM application",
                    );
                }
                if let Some(d) = detail {
                    self.note(step, false, format!("server says: {d}"));
                }
                let purpose = format!("does {} answer without a filter?", c.path());
                let (s2, ex) = self
                    .send(client, Stage::FollowUp, &purpose, "token", &unfiltered(c))
                    .await;
                let plain = answer(&ex);
                if plain.is_list() {
                    self.note(s2, true, "a ListResponse: the collection exists");
                    let title = match c {
                        Users => {
                            "A filter that matches no user answers 404 instead of an empty ListResponse"
                        }
                        Groups => {
                            "A group filter that matches nothing answers 404 instead of an empty ListResponse"
                        }
                    };
                    let code = c.pick(Code::UsersEmptyFilter404, Code::GroupsEmptyFilter404);
                    self.add(error(code, title).probe(step).probe(s2).entra(not_found()));
                    return true;
                }
                self.note(s2, false, describe_answer(&plain));
                match c {
                    Users => {
                        self.url_search(client, vec![step, s2], None).await;
                        false
                    }
                    Groups => {
                        self.add(
                            error(
                                Code::GroupsNotFound,
                                "/Groups answers 404: Test Connection fails even if the app only provisions users",
                            )
                            .probe(step)
                            .probe(s2)
                            .entra(Some(EntraMessage {
                                code: Some(entra::INCOMPATIBLE_CODE),
                                text: entra::NOT_FOUND.to_string(),
                                verbatim: true,
                            })),
                        );
                        true
                    }
                }
            }
            Answer::Html { title, login } => match c {
                Users => {
                    let what = if *login {
                        "an HTML sign-in page"
                    } else {
                        "an HTML page"
                    };
                    self.note(
                        step,
                        false,
                        format!(
                            "{what}{} instead of a SCIM ListResponse",
                            title
                                .as_ref()
                                .map(|t| format!(" (\"{t}\")"))
                                .unwrap_or_default()
                        ),
                    );
                    let html = error(
                        Code::ResponseHtml,
                        format!("The Tenant URL answers with {what}, not SCIM JSON: the request does not reach the SCIM endpoint"),
                    )
                    .fix(if *login {
                        "A sign-in page means a proxy, SSO gateway or web front end answers instead of the SCIM API: exempt the SCIM path from interactive sign-in (it authenticates with the bearer token), or use the API's own URL as the Tenant URL."
                    } else {
                        "A web page means the path belongs to a web front end (often a catch-all route), not the SCIM API: use the SCIM API's base URL as the Tenant URL."
                    })
                    .details(title.iter().map(|t| format!("page title: {t}")))
                    .probe(step)
                    .entra(not_deserializable());
                    self.url_search(client, vec![step], Some(html)).await;
                    false
                }
                Groups => {
                    self.note(step, false, "an HTML page instead of a SCIM ListResponse");
                    self.add(
                        error(
                            Code::GroupsHtml,
                            "/Groups answers with an HTML page, not SCIM JSON",
                        )
                        .details(title.iter().map(|t| format!("page title: {t}")))
                        .probe(step)
                        .entra(not_deserializable()),
                    );
                    true
                }
            },
            Answer::ServerError { status, detail } => {
                self.server_error(c, step, *status, detail.clone());
                true
            }
            Answer::ClientError { status, detail } => {
                self.client_error(c, client, step, *status, detail).await;
                true
            }
            Answer::Unparsable { why } => {
                self.note(step, false, why.clone());
                self.add(
                    error(Code::ResponseNotJson, "The response body is not valid JSON")
                        .detail(format!("{} probe: {why}", c.what()))
                        .probe(step)
                        .entra(not_deserializable()),
                );
                true
            }
            Answer::NotList { why } => {
                self.note(step, false, why.clone());
                let title = match c {
                    Users => "GET /Users with a filter does not answer a ListResponse",
                    Groups => "Entra's groups probe does not get a ListResponse",
                };
                let code = c.pick(Code::UsersNotListResponse, Code::GroupsNotListResponse);
                self.add(
                    error(code, title)
                        .detail(why.clone())
                        .probe(step)
                        .entra(not_deserializable()),
                );
                true
            }
            Answer::Transport(e) => match c {
                Users => false,
                Groups => {
                    let e = e.clone();
                    self.transport(&e, step, url).await;
                    true
                }
            },
        }
    }

    /// A 4xx other than 401/403/404: one follow-up tells apart the part of Entra's query that
    /// is refused (the filter on users, `excludedAttributes` on groups).
    async fn client_error(
        &mut self,
        c: Collection,
        client: &Client,
        step: usize,
        status: u16,
        detail: &Option<String>,
    ) {
        self.note(
            step,
            false,
            format!("{status} {} where Entra expects 200", reason(status)),
        );
        let (purpose, req, narrowed) = match c {
            Collection::Users => (
                "does /Users answer without a filter?",
                unfiltered(c),
                "a ListResponse: only the filter is rejected",
            ),
            Collection::Groups => (
                "is `excludedAttributes=members` the problem?",
                groups_probe(false),
                "a ListResponse without excludedAttributes",
            ),
        };
        let (s2, ex) = self
            .send(client, Stage::FollowUp, purpose, "token", &req)
            .await;
        let plain = answer(&ex);
        let d = detail.as_ref().map(|d| format!("server says: {d}"));
        let reason = reason(status);
        let f = if plain.is_list() {
            self.note(s2, true, narrowed);
            match c {
                Collection::Users => error(
                    Code::UsersFilterRejected,
                    format!(
                        "Entra's filter `userName eq \"...\"` is rejected with {status} {reason}"
                    ),
                ),
                Collection::Groups => error(
                    Code::GroupsExcludedAttributesRejected,
                    format!("`excludedAttributes=members` is rejected with {status} {reason}"),
                ),
            }
        } else {
            self.note(s2, false, describe_answer(&plain));
            match c {
                Collection::Users => error(
                    Code::UsersError,
                    format!("GET /Users answers {status} {reason}"),
                ),
                Collection::Groups => error(
                    Code::GroupsError,
                    format!("Entra's groups probe answers {status} {reason}"),
                ),
            }
        };
        self.add(f.details(d).probe(step).probe(s2).entra(unexpected(status)));
    }

    /// Warnings about a ListResponse that Entra accepts: hits for a random value, schema slips.
    fn list_extras(&mut self, c: Collection, step: usize, total: Option<u64>, problems: &[String]) {
        if let Some(n) = total.filter(|n| *n > 0) {
            self.note(
                step,
                true,
                format!("totalResults is {n} for a value that exists nowhere"),
            );
            self.add(
                warning(
                    c.pick(Code::UsersFilterIgnored, Code::GroupsFilterIgnored),
                    format!(
                        "The filter `{} eq \"<random GUID>\"` matched {n} resource(s): the filter is ignored",
                        c.filter_attribute()
                    ),
                )
                .probe(step),
            );
        }
        if !problems.is_empty() {
            let shown: Vec<String> = problems.iter().take(5).cloned().collect();
            self.add(
                warning(
                    c.pick(
                        Code::UsersListResponseProblems,
                        Code::GroupsListResponseProblems,
                    ),
                    format!(
                        "The {} ListResponse deviates from RFC 7644 in {} place(s)",
                        c.what(),
                        problems.len()
                    ),
                )
                .details(shown)
                .probe(step),
            );
        }
    }
}
