//! `scimcheck connect`: Entra's Test Connection, diagnosed.

use std::io::IsTerminal;
use std::time::Duration;

use crate::report::terminal::set_color;

use super::setup::{bad_input, credentials, warn_insecure};

/// `scimcheck connect`: Entra's Test Connection, diagnosed.
pub(super) async fn connect(args: crate::cli::ConnectArgs) -> i32 {
    let (credential, options) = match credentials(&args.target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secret = credential.secret().clone();
    if options.insecure {
        warn_insecure();
    }
    set_color(args.color, std::io::stdout().is_terminal());
    let opts = crate::connect::ConnectOptions {
        url: args.target.url.clone(),
        credential,
        client: options,
        slow: Duration::from_millis(args.slow_ms.max(1)),
    };
    let report = match crate::connect::diagnose(opts).await {
        Ok(r) => r,
        // The "Tenant URL" may be the token, pasted in the wrong place.
        Err(e) => return bad_input(&crate::connect::redact_output(&e, &secret)),
    };
    let text = if args.json {
        crate::report::connect::json(&report) + "\n"
    } else {
        crate::report::connect::human(&report)
    };
    print!("{}", crate::connect::redact_output(&text, &secret));
    report.exit_code
}
