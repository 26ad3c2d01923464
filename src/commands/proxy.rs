//! `scimcheck proxy`: a checking proxy in front of a SCIM endpoint.

use std::io::IsTerminal;
use std::time::Duration;

use colored::Colorize;

use crate::exit;
use crate::http::TenantUrl;
use crate::report::terminal::set_color;

use super::setup::bad_input;

/// `scimcheck proxy`: forwards to `--upstream`, prints one line per exchange, writes the
/// reports as it goes, and prints the summary on Ctrl-C / SIGTERM.
pub(super) async fn proxy(args: crate::cli::ProxyArgs) -> i32 {
    let upstream = match TenantUrl::parse(&args.upstream) {
        Ok(t) => t,
        Err(e) => return bad_input(&e),
    };
    let ca_cert = match &args.ca_cert {
        Some(p) => match std::fs::read(p) {
            Ok(b) => Some(b),
            Err(e) => return bad_input(&format!("--ca-cert {}: {e}", p.display())),
        },
        None => None,
    };
    let mut reports =
        match crate::proxy::report::Reports::open(&args.reports, &upstream.to_string()) {
            Ok(r) => r,
            Err(e) => return bad_input(&e),
        };
    let config = crate::proxy::ProxyConfig {
        listen: args.listen,
        upstream: upstream.clone(),
        tls: args
            .listen_tls
            .as_ref()
            .map(|v| (v[0].clone(), v[1].clone())),
        timeout: Duration::from_secs(args.timeout.max(1)),
        ca_cert,
        max_body: args.max_body_mib.max(1) * 1024 * 1024,
    };
    set_color(args.color, std::io::stdout().is_terminal());
    let tls = config.tls.is_some();
    let mut proxy = match crate::proxy::start(config).await {
        Ok(p) => p,
        Err(e) => return bad_input(&e),
    };
    eprintln!(
        "scimcheck proxy on {}://{} -> {upstream}   (Ctrl-C to stop)",
        if tls { "https" } else { "http" },
        proxy.addr
    );
    let mut summary = crate::proxy::report::Summary::default();
    let stop = crate::session::shutdown_requested();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            e = proxy.exchanges.recv() => {
                let Some(e) = e else { break };
                summary.count(&e);
                let line = crate::escape::one_line(&e.line()).into_owned();
                match e.verdict {
                    crate::proxy::check::Verdict::Fail => println!("{} {line}", "✗".red().bold()),
                    _ if e.response.is_err() => println!("{} {line}", "✗".red().bold()),
                    crate::proxy::check::Verdict::Note => println!("{} {line}", "!".yellow().bold()),
                    crate::proxy::check::Verdict::Pass => println!("{} {line}", "✓".green()),
                }
                if let Err(err) = reports.write(&e) {
                    eprintln!("{} writing a report failed: {err}", "error:".red().bold());
                }
            }
            _ = &mut stop => break,
        }
    }
    proxy.stop();
    while let Ok(e) = proxy.exchanges.try_recv() {
        summary.count(&e);
        let _ = reports.write(&e);
    }
    if let Err(e) = reports.finish(&summary) {
        eprintln!("{} writing a report failed: {e}", "error:".red().bold());
    }
    eprint!("\n{}", summary.text());
    if summary.failed > 0 {
        exit::CHECK_FAILED
    } else {
        exit::OK
    }
}
