//! `scimcheck demo`: the suite against the embedded reference server.

use std::time::Duration;

use crate::cli::{DemoArgs, DialectChoice};
use crate::credential::{Credential, OAuthConfig};
use crate::http::{ClientOptions, Secret, TenantUrl};
use crate::server::{Server, ServerOptions};

use super::check::execute;
use super::setup::{bad_input, load_scenarios, parse_quirks, print_diagnostics};

/// `scimcheck demo`.
pub(super) async fn demo(args: DemoArgs) -> i32 {
    let quirks = match parse_quirks(&args.quirks) {
        Ok(q) => q,
        Err(e) => return bad_input(&e),
    };
    let scenarios = match load_scenarios(&[]) {
        Ok(s) => s,
        Err(d) => return print_diagnostics(&d, "scenario files", None),
    };
    let token = format!("demo-{}", uuid::Uuid::new_v4().simple());
    // The embedded server stands in for the profile's app: it declares the app's required
    // attributes in /Schemas and enforces them.
    let required_attributes = match &args.check.profile {
        Some(name) => match crate::profile::resolve(name) {
            Ok(p) => crate::profile::server_required_attributes(&p),
            Err(d) => return print_diagnostics(&d, "the profile", Some(&Secret::new(&token))),
        },
        None => vec![],
    };
    // With --oauth the run authenticates as Entra does with client credentials; the server
    // accepts only the access tokens it issues.
    let oauth_secret = format!("demo-secret-{}", uuid::Uuid::new_v4().simple());
    let server = match Server::start(ServerOptions {
        token: token.clone(),
        quirks,
        required_attributes,
        latency: Duration::from_millis(args.latency_ms),
        oauth_client: args
            .oauth
            .then(|| ("scimcheck-demo".to_string(), oauth_secret.clone())),
        oauth_token_ttl: Duration::from_secs(args.oauth_token_ttl_secs.max(1)),
        ..ServerOptions::default()
    })
    .await
    {
        Ok(s) => s,
        Err(e) => return bad_input(&format!("cannot start the embedded server: {e}")),
    };
    let target = TenantUrl::parse(&server.base_url()).expect("the server's own URL parses");
    let mut check = args.check.clone();
    if check.dialect.is_none() {
        check.dialect = Some(DialectChoice::Both);
    }
    let credential = match server.token_url() {
        Some(token_url) => Credential::oauth(OAuthConfig {
            token_url,
            client_id: "scimcheck-demo".into(),
            client_secret: oauth_secret,
            scope: None,
        })
        .also(&token),
        None => Credential::from(Secret::new(token)),
    };
    let code = execute(
        target,
        credential,
        scenarios,
        &check,
        ClientOptions::default(),
    )
    .await;
    server.shutdown().await;
    code
}
