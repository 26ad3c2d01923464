//! `scimcheck load`: an initial provisioning cycle at scale (the engine is [`crate::loadtest`]).

use std::io::IsTerminal;
use std::sync::Arc;

use colored::Colorize;

use crate::cli::DialectChoice;
use crate::credential::Credential;
use crate::http::{Secret, TenantUrl};
use crate::report::terminal::set_color;
use crate::run::Tenant;
use crate::scenario::Dialect;
use crate::scenario::template::Generators;
use crate::server::{Server, ServerOptions};

use super::setup::{bad_input, client_options, credential, parse_quirks, warn_insecure};

/// `scimcheck load`.
pub(super) async fn load(args: crate::cli::LoadArgs) -> i32 {
    use crate::loadtest::{LoadConfig, Mode, NoProgress, Progress};
    use crate::report::loadtest_progress::Bar;
    let quirks = match parse_quirks(&args.quirks) {
        Ok(q) => q,
        Err(e) => return bad_input(&e),
    };
    let options = match client_options(&args.target) {
        Ok(o) => o,
        Err(e) => return bad_input(&e),
    };
    let (server, target, secret) = if args.embedded {
        // The embedded server has a token of its own: an OAuth client given for another
        // endpoint would be silently unused. (A SCIMCHECK_TOKEN in the environment is ignored.)
        let t = &args.target;
        if t.oauth_token_url.is_some() || t.oauth_client_id.is_some() {
            return bad_input(
                "--embedded runs its own server with its own token: leave out the --oauth-* flags",
            );
        }
        let token = format!("load-{}", uuid::Uuid::new_v4().simple());
        let server = match Server::start(ServerOptions {
            token: token.clone(),
            quirks,
            ..ServerOptions::default()
        })
        .await
        {
            Ok(s) => s,
            Err(e) => return bad_input(&format!("cannot start the embedded server: {e}")),
        };
        let target = TenantUrl::parse(&server.base_url()).expect("the server's own URL parses");
        (Some(server), target, Credential::from(Secret::new(token)))
    } else {
        if args.target.url.trim().is_empty() {
            return bad_input("give the Tenant URL with --url, or use --embedded");
        }
        let secret = match credential(&args.target) {
            Ok(c) => c,
            Err(e) => return bad_input(&e),
        };
        // The "Tenant URL" may be the token, pasted in the wrong place.
        match TenantUrl::parse_with(&args.target.url, args.target.allow_url_credentials) {
            Ok(t) => (None, t, secret),
            Err(e) => return bad_input(&secret.secret().redact(&e)),
        }
    };
    let mut report_files = match open_load_reports(&args.reports) {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    let dialect = match args.dialect {
        None => Dialect::of_tenant_url(&target),
        Some(DialectChoice::Default) => Dialect::Default,
        Some(DialectChoice::Compliant) => Dialect::Compliant,
        Some(DialectChoice::Both) => {
            return bad_input(
                "load runs one dialect: use --dialect default or --dialect compliant",
            );
        }
    };
    crate::session::redact_panics(secret.secret().clone());
    let load_secret = secret.secret().clone();
    let generators = Generators::new(Generators::random_run_id());
    if options.insecure {
        warn_insecure();
    }
    let stop: Arc<std::sync::atomic::AtomicBool> = Arc::default();
    let client = match Tenant::new(target, secret, options, Arc::new(|_: &str| false)) {
        Ok(c) => c
            .with_run_prefix(generators.prefix())
            .with_stop(stop.clone()),
        Err(e) => return bad_input(&e),
    };
    set_color(
        crate::cli::ColorChoice::Auto,
        std::io::stdout().is_terminal(),
    );
    let config = LoadConfig {
        mode: match args.mode {
            crate::cli::LoadMode::Cycle => Mode::Cycle,
            crate::cli::LoadMode::Probe => Mode::Probe,
        },
        users: args.users,
        groups: args.groups,
        members_per_group: args.members,
        batch: args.batch.max(1),
        update: args.update,
        rate: args.rate,
        concurrency: args.concurrency.max(1),
        dialect,
        stop,
    };

    crate::session::guard(config.stop.clone(), client.ledger.clone());
    let progress: Arc<dyn Progress> = match Bar::on_stderr() {
        Some(b) => Arc::new(b),
        None => Arc::new(NoProgress),
    };
    let report = crate::loadtest::run(Arc::new(client), &generators, &config, progress).await;
    if args.json {
        println!(
            "{}",
            crate::escape::json_text(serde_json::to_string_pretty(&report).unwrap_or_default())
        );
    } else {
        print!("{}", crate::report::loadtest::render(&report));
    }
    for (format, out) in report_files.iter_mut() {
        let text = match format {
            crate::report::ReportFormat::Html => crate::report::loadtest_html::render(&report),
            _ => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        };
        let text = crate::report::html::redact(&load_secret, &text);
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            eprintln!("{} writing a report failed: {e}", "error:".red().bold());
        }
    }
    if let Some(s) = server {
        s.shutdown().await;
    }
    report.exit_code()
}

/// One `--report` of `load`: its format and where it goes.
pub(super) type LoadReportFile = (crate::report::ReportFormat, Box<dyn std::io::Write>);

/// The `--report` files of `load` (html or json), opened before anything is sent.
pub(super) fn open_load_reports(
    specs: &[crate::report::ReportSpec],
) -> Result<Vec<LoadReportFile>, String> {
    use crate::report::{Destination, ReportFormat};
    let mut out: Vec<LoadReportFile> = Vec::new();
    for spec in specs {
        if !matches!(spec.format, ReportFormat::Html | ReportFormat::Json) {
            return Err(format!(
                "--report {spec}: load writes `html` or `json` reports"
            ));
        }
        let w: Box<dyn std::io::Write> = match &spec.destination {
            Destination::Stdout => Box::new(std::io::stdout()),
            Destination::File(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| format!("--report {spec}: {e}"))?;
                }
                Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).map_err(|e| format!("--report {spec}: {e}"))?,
                ))
            }
        };
        out.push((spec.format, w));
    }
    Ok(out)
}
