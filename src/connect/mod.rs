//! `scimcheck connect`: sends exactly the requests of Entra's Test Connection (a users probe and a
//! groups probe), and when something fails or looks risky, a few read-only follow-up probes that
//! find the cause: DNS, TCP, TLS, the shape of the Tenant URL, redirects, the token, the
//! response. The result is a [`Report`]: a verdict (what the admin would see in the portal),
//! every probe as evidence, and findings with stable codes and a concrete fix.
//!
//! Only GET requests are sent, the token only ever goes to the origin of the Tenant URL, and
//! every recorded string is redacted.

mod answer;
mod http;
mod journal;
mod model;
mod net;
mod oauth;
mod scim;
mod tenant;
pub mod tls;
pub mod token;

pub use journal::reason;
pub use model::{
    ConnectOptions, DEFAULT_SLOW, EntraMessage, Evidence, Finding, Outcome, Probe, Report, Stage,
    TokenFacts, Verdict, duration,
};
pub use oauth::OAuthFacts;
pub use tenant::readable_path;
pub use token::JwtInfo;

use answer::{Answer, answer};
use journal::Journal;
use scim::{Collection, groups_probe, users_probe};

use crate::http::{Client, Secret, TenantUrl, TransportError};

/// Runs Entra's Test Connection against `opts.url` and diagnoses what fails.
/// Errors only for unusable input (a Tenant URL that does not parse, a bad `--ca-cert`).
pub async fn diagnose(opts: ConnectOptions) -> Result<Report, String> {
    let target = TenantUrl::parse(&opts.url)?;
    let mut options = opts.client.clone();
    options.read_only = true;
    options.max_retries = 0;
    let mut d = Journal {
        input: opts.url.trim().to_string(),
        target: target.clone(),
        token: opts.credential.secret().clone(),
        secrets: vec![opts.credential.secret().clone()],
        stripped: None,
        jwt: None,
        options,
        slow: opts.slow,
        probes: vec![],
        findings: vec![],
        unreachable: false,
        oauth: None,
    };
    d.precheck();
    // With OAuth2 client credentials, Entra first asks the token endpoint for an access token,
    // and Test Connection goes no further without one.
    if let Some(oauth) = opts.credential.oauth_client() {
        let token_client = Client::new(target.clone(), opts.credential.clone(), d.options.clone())?;
        match d.token_endpoint(&token_client, oauth).await {
            Some(access) => d.token = access,
            None => return Ok(d.finish()),
        }
    }
    let raw = d.token.expose().to_string();
    d.stripped = token::strip_bearer_prefix(&raw).map(Secret::new);
    let jwt_source = d.stripped.as_ref().map_or(raw.as_str(), |s| s.expose());
    d.jwt = token::decode_jwt(jwt_source, chrono::Utc::now());
    d.secrets.extend(d.stripped.clone());
    let client = d.client(target.clone(), d.token.clone())?;

    // Entra's two probes go out side by side; the groups probe is judged only when the users
    // probe got an answer.
    let (users_req, groups_req) = (users_probe(), groups_probe(true));
    let (users_sent, groups_sent) = tokio::join!(client.send(&users_req), client.send(&groups_req));
    let (us, users_ex) = d.record(Stage::TestConnection, "Entra's users probe: a filter on a random userName, expecting 200 and an empty ListResponse", "token", &users_req, users_sent);
    let users = answer(&users_ex);
    let users_url = users_ex.request.url.clone();
    if let Answer::Transport(e) = &users {
        let e = e.clone();
        d.unreachable = !matches!(e, TransportError::Body(_));
        d.transport(&e, us, &users_url).await;
        d.token_notes(false, us);
        return Ok(d.finish());
    }
    let (gs, groups_ex) = d.record(Stage::TestConnection, "Entra's groups probe: a filter on a random displayName without members, expecting 200 and an empty ListResponse", "token", &groups_req, groups_sent);
    let groups = answer(&groups_ex);
    let groups_url = groups_ex.request.url.clone();
    let reached = d
        .collection(Collection::Users, &client, us, &users, &users_url)
        .await;
    if reached {
        d.collection(Collection::Groups, &client, gs, &groups, &groups_url)
            .await;
    } else {
        d.note(gs, false, "not judged: the users probe failed first");
    }
    d.token_notes(users.is_list(), us);
    if (d.options.ca_cert.is_some() || d.options.insecure) && users_url.starts_with("https:") {
        d.verify_like_entra(&users_url).await;
    }
    d.content_types(&[(us, &users_ex), (gs, &groups_ex)]);
    d.slow_responses();
    Ok(d.finish())
}

/// Replaces the token, and the token without a pasted `Bearer ` prefix, in `text`.
pub fn redact_output(text: &str, token: &Secret) -> String {
    let once = token.redact(text);
    match token::strip_bearer_prefix(token.expose()) {
        Some(bare) => Secret::new(bare).redact(&once),
        None => once,
    }
}
