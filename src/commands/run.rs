//! `scimcheck run`: the suite against a target.

use crate::cli::RunArgs;
use crate::http::TenantUrl;

use super::check::execute;
use super::setup::{bad_input, credentials, load_scenarios, print_diagnostics};

/// `scimcheck run`.
pub(super) async fn run(args: RunArgs) -> i32 {
    let (credential, options) = match credentials(&args.target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secret = credential.secret().clone();
    let target = match TenantUrl::parse_with(&args.target.url, args.target.allow_url_credentials) {
        Ok(t) => t,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    let scenarios = match load_scenarios(&args.paths) {
        Ok(s) => s,
        // A diagnostic quotes the offending line, which may hold a pasted token.
        Err(d) => return print_diagnostics(&d, "scenario files", Some(&secret)),
    };
    execute(target, credential, scenarios, &args.check, options).await
}
