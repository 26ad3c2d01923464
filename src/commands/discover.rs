//! `scimcheck discover`: the discovery documents, tabulated and checked.

use std::io::IsTerminal;

use crate::http::TenantUrl;
use crate::report::terminal::set_color;

use super::setup::{bad_input, credentials, warn_insecure};

/// `scimcheck discover`: the discovery documents, tabulated and checked.
pub(super) async fn discover(args: crate::cli::DiscoverArgs) -> i32 {
    let (credential, options) = match credentials(&args.target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secret = credential.secret().clone();
    if options.insecure {
        warn_insecure();
    }
    let target = match TenantUrl::parse_with(&args.target.url, args.target.allow_url_credentials) {
        Ok(t) => t,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    set_color(args.color, std::io::stdout().is_terminal());
    let report = match crate::discover::discover(target, credential, options).await {
        Ok(r) => r,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    let text = if args.json {
        crate::report::discover::json(&report) + "\n"
    } else {
        crate::report::discover::human(&report)
    };
    print!("{}", crate::connect::redact_output(&text, &secret));
    report.exit_code
}
