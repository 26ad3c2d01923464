//! The Tenant URL: parsed and checked once, joined with request paths, shown redacted.

use std::fmt;

use super::encoding::percent_decode;
use super::secret::REDACTED;

/// The Tenant URL as Entra uses it: a base onto which `/Users` etc. are joined, and a query
/// string (`?aadOptscim062020`) that is remembered for the dialect but kept off joined paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantUrl {
    /// Scheme, host and path, without a trailing slash or query.
    pub base: String,
    /// The query string as given (without `?`), if any.
    pub query: Option<String>,
}

/// The query parameters of a Tenant URL that are flags, not secrets: shown as they are.
const DIALECT_FLAGS: [&str; 1] = ["aadOptscim062020"];

impl TenantUrl {
    /// Parses and checks an `http(s)://` Tenant URL; one that carries credentials
    /// (`https://user:pw@host/...`) is refused (see [`TenantUrl::parse_with`]).
    pub fn parse(input: &str) -> Result<TenantUrl, String> {
        TenantUrl::parse_with(input, false)
    }

    /// Parses and checks an `http(s)://` Tenant URL; userinfo is accepted only when
    /// `allow_credentials` (`--allow-url-credentials`).
    pub fn parse_with(input: &str, allow_credentials: bool) -> Result<TenantUrl, String> {
        let input = input.trim();
        let url = reqwest::Url::parse(input)
            .map_err(|e| format!("`{}` is not a valid URL: {e}", redact_url_text(input)))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!(
                "the Tenant URL must start with https:// (got `{}://`)",
                url.scheme()
            ));
        }
        if url.host_str().is_none() {
            return Err(format!(
                "the Tenant URL `{}` has no host",
                redact_url_text(input)
            ));
        }
        if (!url.username().is_empty() || url.password().is_some()) && !allow_credentials {
            return Err(
                "the Tenant URL carries credentials (`user:password@`): Entra sends the Secret Token as a bearer token, and credentials in a URL end up in logs. Remove them, or pass --allow-url-credentials to send them (as HTTP Basic auth, next to the token)"
                    .into(),
            );
        }
        let (base, query) = match input.split_once('?') {
            Some((b, q)) => (b, Some(q.split('#').next().unwrap_or(q).to_string())),
            None => (input, None),
        };
        let base = base
            .split('#')
            .next()
            .unwrap_or(base)
            .trim_end_matches('/')
            .to_string();
        Ok(TenantUrl { base, query })
    }

    /// The secrets this URL carries: userinfo, and every query value but the dialect flags'.
    /// They are redacted from all output like the token (see [`Secret::also`]).
    pub fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(url) = reqwest::Url::parse(&self.base) {
            if !url.username().is_empty() {
                out.push(url.username().to_string());
            }
            if let Some(p) = url.password() {
                out.push(p.to_string());
            }
        }
        for (k, v) in self.query_pairs() {
            if !v.is_empty() && !DIALECT_FLAGS.contains(&k) {
                out.push(v.to_string());
                if let Ok(decoded) = percent_decode(v) {
                    out.push(decoded);
                }
            }
        }
        out.retain(|s| !s.is_empty());
        out
    }

    /// Whether the URL carries userinfo (sent by the HTTP client as Basic auth).
    pub fn has_credentials(&self) -> bool {
        reqwest::Url::parse(&self.base)
            .is_ok_and(|u| !u.username().is_empty() || u.password().is_some())
    }

    fn query_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
    }

    /// The absolute URL of `path` (`/Users`, `Users/1`, ...).
    pub fn join(&self, path: &str) -> String {
        if path.is_empty() {
            return self.base.clone();
        }
        if path.starts_with('/') {
            format!("{}{path}", self.base)
        } else {
            format!("{}/{path}", self.base)
        }
    }

    /// Whether the query carries the flag `name` (a parameter name, with or without a value),
    /// compared case-insensitively, as Entra reads its flags.
    pub fn has_flag(&self, name: &str) -> bool {
        self.query
            .as_deref()
            .unwrap_or_default()
            .split('&')
            .filter_map(|p| p.split('=').next())
            .any(|f| f.eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for TenantUrl {
    /// The URL as shown to people and in reports: userinfo and query values (but the dialect
    /// flags) replaced by `REDACTED`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url_text(&self.base))?;
        if self.query.is_some() {
            let q: Vec<String> = self
                .query
                .as_deref()
                .unwrap_or_default()
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, v)) if !v.is_empty() && !DIALECT_FLAGS.contains(&k) => {
                        format!("{k}={REDACTED}")
                    }
                    _ => p.to_string(),
                })
                .collect();
            write!(f, "/?{}", q.join("&"))?;
        }
        Ok(())
    }
}

/// `https://user:pw@host/x` -> `https://REDACTED@host/x` (text that may not parse as a URL).
fn redact_url_text(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{REDACTED}@{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}
