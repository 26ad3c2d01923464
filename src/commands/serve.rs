//! `scimcheck serve`: the embedded reference server on its own.

use std::time::Duration;

use crate::cli::ServeArgs;
use crate::exit;
use crate::server::{QUIRKS, Server, ServerOptions};

use super::setup::{bad_input, parse_quirks};

/// `scimcheck serve`.
pub(super) async fn serve(args: ServeArgs) -> i32 {
    if args.quirks.iter().any(|q| q == "list") {
        for (name, what) in QUIRKS {
            println!("{name:<28} {what}");
        }
        return exit::OK;
    }
    let quirks = match parse_quirks(&args.quirks) {
        Ok(q) => q,
        Err(e) => return bad_input(&e),
    };
    let oauth_client = match args.oauth_client.as_deref().map(|c| c.split_once(':')) {
        None => None,
        Some(Some((id, secret))) if !id.is_empty() && !secret.is_empty() => {
            Some((id.to_string(), secret.to_string()))
        }
        Some(_) => return bad_input("--oauth-client takes ID:SECRET (both non-empty)"),
    };
    let opts = ServerOptions {
        // With only an OAuth client, no static token works: a random one nobody knows.
        token: args
            .token
            .unwrap_or_else(|| format!("unused-{}", uuid::Uuid::new_v4().simple())),
        quirks,
        base_path: args.base_path,
        port: args.port,
        latency: Duration::from_millis(args.latency_ms),
        oauth_client,
        oauth_token_ttl: Duration::from_secs(args.oauth_token_ttl_secs.max(1)),
        ..ServerOptions::default()
    };
    let server = match Server::start(opts).await {
        Ok(s) => s,
        Err(e) => return bad_input(&format!("cannot listen on 127.0.0.1:{}: {e}", args.port)),
    };
    eprintln!(
        "scimcheck reference SCIM server listening on {}",
        server.base_url()
    );
    eprintln!("Tenant URL: {}   (Ctrl-C to stop)", server.base_url());
    if let Some(url) = server.token_url() {
        eprintln!(
            "Token endpoint: {url}   (OAuth2 client credentials; tokens live {} s)",
            args.oauth_token_ttl_secs.max(1)
        );
    }
    server.run_until(crate::session::shutdown_requested()).await;
    exit::OK
}
