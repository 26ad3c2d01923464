//! `scimcheck profiles`: list, show, init.

use colored::Colorize;

use crate::exit;
use crate::http::{Client, TenantUrl};

use super::setup::{bad_input, credentials, print_diagnostics, warn_insecure};

/// `scimcheck profiles`: list, show, init.
pub(super) async fn profiles(args: crate::cli::ProfilesArgs) -> i32 {
    use crate::cli::ProfilesCommand;
    match args.command.unwrap_or(ProfilesCommand::List) {
        ProfilesCommand::List => {
            print!(
                "{}",
                crate::profile::show::list(&crate::profile::builtins())
            );
            exit::OK
        }
        ProfilesCommand::Show(a) => match crate::profile::resolve(&a.name) {
            Ok(p) => {
                print!("{}", crate::profile::show::table(&p));
                exit::OK
            }
            Err(d) => print_diagnostics(&d, "the profile", None),
        },
        ProfilesCommand::Init(a) => profiles_init(a).await,
    }
}

/// `scimcheck profiles init --from-schemas`.
pub(super) async fn profiles_init(a: crate::cli::ProfileInitArgs) -> i32 {
    let (credential, mut options) = match credentials(&a.target) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let secret = credential.secret().clone();
    if options.insecure {
        warn_insecure();
    }
    let target = match TenantUrl::parse_with(&a.target.url, a.target.allow_url_credentials) {
        Ok(t) => t,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    options.read_only = true;
    if let Some(out) = &a.out
        && out.exists()
    {
        return bad_input(&format!("{} exists; nothing was written", out.display()));
    }
    let base = target.base.clone();
    let app = a.app.clone().unwrap_or_else(|| {
        base.split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', ':']).next())
            .unwrap_or("My app")
            .to_string()
    });
    let client = match Client::new(target, credential, options) {
        Ok(c) => c,
        Err(e) => return bad_input(&secret.redact(&e)),
    };
    let discovery = crate::plan::Published::fetch(&client).await.discovery;
    let yaml = match crate::profile::init::starter(&discovery, &base, &app) {
        Ok(y) => y,
        Err(e) => {
            eprintln!(
                "{} {}",
                "error:".red().bold(),
                crate::escape::visible(&secret.redact(&e))
            );
            return if discovery.unreachable {
                exit::UNREACHABLE
            } else {
                exit::CHECK_FAILED
            };
        }
    };
    // The server's /Schemas text ends up in the file: a token it echoes does not.
    let yaml = secret.redact(&yaml);
    match &a.out {
        Some(path) => match std::fs::write(path, &yaml) {
            Ok(()) => {
                eprintln!(
                    "{} wrote {}; review it against the Entra portal's mapping, then run it with --profile {}",
                    "ok:".green().bold(),
                    path.display(),
                    path.display()
                );
                exit::OK
            }
            Err(e) => bad_input(&format!("cannot write {}: {e}", path.display())),
        },
        None => {
            print!("{yaml}");
            exit::OK
        }
    }
}
