//! What every command sets up from its arguments: the credentials and client options of a
//! target, the scenarios, the quirks, and how a bad input is printed (exit code 2).

use std::sync::Arc;
use std::time::Duration;

use colored::Colorize;

use crate::cli::TargetArgs;
use crate::credential::{Credential, OAuthConfig};
use crate::diag::Diagnostic;
use crate::exit;
use crate::http::{ClientOptions, Secret, TenantUrl};
use crate::scenario::Loaded;
use crate::server::Quirk;

/// Prints a usage / input error and returns exit code 2.
pub(super) fn bad_input(message: &str) -> i32 {
    eprintln!(
        "{} {}",
        "error:".red().bold(),
        crate::escape::visible(message)
    );
    exit::BAD_INPUT
}

pub(super) fn print_diagnostics(diags: &[Diagnostic], what: &str, secret: Option<&Secret>) -> i32 {
    // A diagnostic quotes the offending line, which may hold a pasted token.
    let redact = |text: String| {
        let text = secret.map_or(text.clone(), |s| s.redact(&text));
        crate::escape::visible(&text).into_owned()
    };
    for d in diags {
        eprintln!("{}\n", redact(d.to_string()));
    }
    eprintln!(
        "{} {} problem(s) in {what}; nothing was sent",
        "error:".red().bold(),
        diags.len()
    );
    exit::BAD_INPUT
}

/// The built-in suite, or the given files (all must load, or nothing runs).
pub(super) fn load_scenarios(
    paths: &[std::path::PathBuf],
) -> Result<Vec<Arc<Loaded>>, Vec<Diagnostic>> {
    let loaded = if paths.is_empty() {
        crate::scenario::builtin()
    } else {
        crate::scenario::load_paths(paths)?
    };
    Ok(loaded.into_iter().map(Arc::new).collect())
}

pub(super) fn parse_quirks(names: &[String]) -> Result<Vec<Quirk>, String> {
    names
        .iter()
        .map(|n| n.parse::<Quirk>().map_err(|e| e.to_string()))
        .collect()
}

/// Reads the token from `--token`, `SCIMCHECK_TOKEN` or `--token-file`. A token with a
/// newline or another control character inside (two lines in the file, a pasted line break)
/// is refused: it cannot go into an HTTP header. A UTF-8 byte order mark is dropped. Values
/// the Tenant URL carries (query values, userinfo) are redacted like the token.
pub(super) fn token(t: &TargetArgs) -> Result<Secret, String> {
    let (token, source) = if let Some(file) = &t.token_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("--token-file {}: {e}", file.display()))?;
        let text = text.trim_start_matches('\u{feff}').trim().to_string();
        if text.is_empty() {
            return Err(format!("--token-file {} is empty", file.display()));
        }
        (text, format!("--token-file {}", file.display()))
    } else {
        match &t.token {
            Some(tok) if !tok.trim().is_empty() => (
                tok.trim().to_string(),
                "the token (--token or SCIMCHECK_TOKEN)".to_string(),
            ),
            _ => {
                return Err(
                    "no token: pass --token, set SCIMCHECK_TOKEN, or use --token-file FILE".into(),
                );
            }
        }
    };
    printable(&token, &source, "a token")?;
    let mut secret = Secret::new(token);
    if let Ok(url) = TenantUrl::parse_with(&t.url, true) {
        for s in url.secrets() {
            secret = secret.also(&s);
        }
    }
    Ok(secret)
}

/// A secret with a newline or another control character inside cannot go into an HTTP
/// header or a form body as typed: refused, saying where.
pub(super) fn printable(value: &str, source: &str, what_it_is: &str) -> Result<(), String> {
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        let what = if c == '\n' || c == '\r' {
            "a line break: it holds more than one line".to_string()
        } else {
            format!("the control character U+{:04X}", c as u32)
        };
        return Err(format!(
            "{source} contains {what} (at character {}); {what_it_is} must be one line of printable characters",
            at + 1
        ));
    }
    Ok(())
}

/// The environment variable holding the OAuth client secret.
pub const CLIENT_SECRET_ENV: &str = "SCIMCHECK_CLIENT_SECRET";

/// The credentials of a command that talks to a target, from one of two sources, never both:
/// the Secret Token (`--token`, `SCIMCHECK_TOKEN`, `--token-file`), or OAuth2 client
/// credentials (`--oauth-token-url`, `--oauth-client-id`, the secret from
/// `SCIMCHECK_CLIENT_SECRET` or `--oauth-client-secret-file`, optionally `--oauth-scope`).
/// Values the Tenant URL or the token endpoint URL carry (query values, userinfo) are redacted
/// like the secrets.
pub(super) fn credential(t: &TargetArgs) -> Result<Credential, String> {
    if t.oauth_client_secret.is_some() {
        return Err(format!(
            "--oauth-client-secret is not accepted: a secret on the command line ends up in shell history and process lists. Set {CLIENT_SECRET_ENV} or use --oauth-client-secret-file FILE"
        ));
    }
    let oauth = t.oauth_token_url.is_some()
        || t.oauth_client_id.is_some()
        || t.oauth_client_secret_file.is_some()
        || t.oauth_scope.is_some();
    if !oauth {
        return token(t).map(Credential::from);
    }
    let token_given = [
        t.token_file.as_ref().map(|_| "--token-file"),
        t.token.as_ref().map(|_| "--token (or SCIMCHECK_TOKEN)"),
    ];
    if let Some(which) = token_given.into_iter().flatten().next() {
        return Err(format!(
            "both a Secret Token ({which}) and OAuth2 client credentials (--oauth-*) are given: Entra uses one or the other. Drop one (unset SCIMCHECK_TOKEN if it is set in the environment)"
        ));
    }
    let Some(url) = t.oauth_token_url.as_deref().map(str::trim) else {
        return Err(
            "OAuth2 client credentials need the Token Endpoint: --oauth-token-url URL".into(),
        );
    };
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => {}
        Ok(u) => {
            return Err(format!(
                "--oauth-token-url must be an http(s) URL, not `{}:`",
                u.scheme()
            ));
        }
        Err(e) => return Err(format!("--oauth-token-url is not a valid URL: {e}")),
    }
    let client_id = match t.oauth_client_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => {
            return Err(
                "OAuth2 client credentials need the Client Identifier: --oauth-client-id ID".into(),
            );
        }
    };
    printable(&client_id, "--oauth-client-id", "a client id")?;
    let env = std::env::var(CLIENT_SECRET_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let (secret, source) = match (&t.oauth_client_secret_file, env) {
        (Some(_), Some(_)) => {
            return Err(format!(
                "the client secret is given twice ({CLIENT_SECRET_ENV} and --oauth-client-secret-file): give it once"
            ));
        }
        (Some(file), None) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("--oauth-client-secret-file {}: {e}", file.display()))?;
            let text = text.trim_start_matches('\u{feff}').trim().to_string();
            if text.is_empty() {
                return Err(format!(
                    "--oauth-client-secret-file {} is empty",
                    file.display()
                ));
            }
            (
                text,
                format!("--oauth-client-secret-file {}", file.display()),
            )
        }
        (None, Some(v)) => (v.trim().to_string(), CLIENT_SECRET_ENV.to_string()),
        (None, None) => {
            return Err(format!(
                "OAuth2 client credentials need the Client Secret: set {CLIENT_SECRET_ENV} or use --oauth-client-secret-file FILE"
            ));
        }
    };
    printable(&secret, &source, "a client secret")?;
    let mut credential = Credential::oauth(OAuthConfig {
        token_url: url.to_string(),
        client_id,
        client_secret: secret,
        scope: t
            .oauth_scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    });
    for u in [t.url.as_str(), url] {
        if let Ok(u) = TenantUrl::parse_with(u, true) {
            for s in u.secrets() {
                credential = credential.also(&s);
            }
        }
    }
    Ok(credential)
}

/// The loud warning of `--insecure`, on stderr (also with `-q`).
pub(super) fn warn_insecure() {
    eprintln!(
        "{} TLS certificate verification is OFF (--insecure): anyone on the network path can read the token and the data",
        "WARNING:".red().bold()
    );
}

pub(super) fn client_options(t: &TargetArgs) -> Result<ClientOptions, String> {
    let ca_cert = match &t.ca_cert {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("--ca-cert {}: {e}", p.display()))?),
        None => None,
    };
    Ok(ClientOptions {
        timeout: Duration::from_secs(t.timeout.max(1)),
        connect_timeout: Duration::from_secs(t.connect_timeout.max(1)),
        max_body: t.max_body_mib.max(1) * 1024 * 1024,
        max_retries: t.max_retries,
        max_retry_wait: Duration::from_secs(t.max_retry_wait),
        insecure: t.insecure,
        ca_cert,
        proxy: t.proxy.clone(),
        allow_foreign_writes: t.allow_foreign_writes,
        cleanup_retry: Duration::from_secs(t.cleanup_retry),
        ..ClientOptions::default()
    })
}

/// The credentials and client options of a command that talks to a target, with the panic
/// hook that redacts the secrets installed; on bad input prints the problem and gives exit
/// code 2.
pub(super) fn credentials(t: &TargetArgs) -> Result<(Credential, ClientOptions), i32> {
    let credential = credential(t).map_err(|e| bad_input(&e))?;
    let options = client_options(t).map_err(|e| bad_input(&e))?;
    crate::session::redact_panics(credential.secret().clone());
    Ok((credential, options))
}
