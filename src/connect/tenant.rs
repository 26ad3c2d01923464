//! The shape of a Tenant URL: its parts, readable paths, and the sibling URLs worth trying
//! when it answers 404.

use crate::diagnosis::Code;
use crate::http::TenantUrl;
use crate::http::percent_decode_path;

/// The most URL variants tried when the Tenant URL answers 404.
pub(super) const MAX_VARIANTS: usize = 8;

/// The parts of a URL the diagnosis talks about.
pub(super) struct Place {
    pub(super) scheme: String,
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) origin: String,
    pub(super) path: String,
}

pub(super) fn place(url: &str) -> Option<Place> {
    let u = reqwest::Url::parse(url).ok()?;
    Some(Place {
        scheme: u.scheme().to_string(),
        host: u.host_str()?.to_string(),
        port: u.port_or_known_default()?,
        origin: u.origin().ascii_serialization(),
        path: u.path().to_string(),
    })
}

/// The path and query of a URL, percent-decoded, for people to read.
pub fn readable_path(url: &str) -> String {
    let Ok(u) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    let mut s = percent_decode_path(u.path());
    if let Some(q) = u.query() {
        s.push('?');
        s.push_str(&percent_decode_path(q));
    }
    s
}

/// The path of a base URL for people: `/scim/v2`, or `/` for the root.
pub(super) fn path_of(base: &str) -> String {
    let p = readable_path(&format!("{}/", base.trim_end_matches('/')));
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        "/".to_string()
    } else {
        p.to_string()
    }
}

/// What a URL variant changes, named as the finding code it leads to.
pub(super) fn variant_code(original: &[String], candidate: &[String]) -> Code {
    let n = original.len();
    let is_resource =
        |s: &String| s.eq_ignore_ascii_case("Users") || s.eq_ignore_ascii_case("Groups");
    if n > 0 && candidate == &original[..n - 1] && is_resource(&original[n - 1]) {
        return Code::UrlIncludesResourcePath;
    }
    if candidate.len() > n && candidate[..n] == *original {
        let added: Vec<String> = candidate[n..]
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        return match added.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["scim"] => Code::UrlMissingScimSegment,
            ["v2"] => Code::UrlMissingV2Segment,
            ["scim", "v2"] => Code::UrlMissingScimV2Segments,
            _ => Code::UrlWrongPath,
        };
    }
    if candidate.len() < n && original[..candidate.len()] == *candidate {
        return Code::UrlExtraPathSegment;
    }
    Code::UrlWrongPath
}

/// Sibling Tenant URLs worth trying when the given one answers 404, most likely first.
pub(super) fn url_variants(base: &str) -> Vec<(String, Code)> {
    let Some(p) = place(base) else {
        return vec![];
    };
    let segs: Vec<String> = p
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let mut paths: Vec<Vec<String>> = Vec::new();
    if segs
        .last()
        .is_some_and(|s| s.eq_ignore_ascii_case("Users") || s.eq_ignore_ascii_case("Groups"))
    {
        paths.push(segs[..segs.len() - 1].to_vec());
    }
    let mut stem = segs.clone();
    if stem
        .last()
        .is_some_and(|s| s.eq_ignore_ascii_case("Users") || s.eq_ignore_ascii_case("Groups"))
    {
        stem.pop();
    }
    if stem.last().is_some_and(|s| s.eq_ignore_ascii_case("v2")) {
        stem.pop();
    }
    if stem.last().is_some_and(|s| s.eq_ignore_ascii_case("scim")) {
        stem.pop();
    }
    let with = |prefix: &[String], tail: &[&str]| -> Vec<String> {
        prefix
            .iter()
            .cloned()
            .chain(tail.iter().map(|s| s.to_string()))
            .collect()
    };
    for tail in [&["scim", "v2"][..], &["scim"], &["v2"], &[]] {
        paths.push(with(&stem, tail));
    }
    if let Some((_, parent)) = stem.split_last() {
        for tail in [&["scim", "v2"][..], &["scim"]] {
            paths.push(with(parent, tail));
        }
    }
    if !stem.iter().any(|s| s.eq_ignore_ascii_case("api")) {
        let api = with(&stem, &["api"]);
        for tail in [&["scim", "v2"][..], &["scim"]] {
            paths.push(with(&api, tail));
        }
    }
    let mut out: Vec<(String, Code)> = Vec::new();
    let mut seen: Vec<Vec<String>> = vec![segs.clone()];
    for path in paths {
        if seen.contains(&path) {
            continue;
        }
        seen.push(path.clone());
        let url = if path.is_empty() {
            p.origin.clone()
        } else {
            format!("{}/{}", p.origin, path.join("/"))
        };
        out.push((url, variant_code(&segs, &path)));
    }
    out.truncate(MAX_VARIANTS);
    out
}

/// The Tenant URL to suggest for a base: the base plus the original query (the dialect flag).
pub(super) fn suggest(base: &str, original: &TenantUrl) -> String {
    match &original.query {
        Some(q) => format!("{base}/?{q}"),
        None => base.to_string(),
    }
}

/// A redirect target that names a collection, minus the collection: a Tenant URL.
pub(super) fn base_of_collection_url(url: &reqwest::Url) -> Option<String> {
    let path = url.path().trim_end_matches('/');
    let (head, last) = path.rsplit_once('/')?;
    if !(last.eq_ignore_ascii_case("Users") || last.eq_ignore_ascii_case("Groups")) {
        return None;
    }
    Some(format!("{}{}", url.origin().ascii_serialization(), head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(base: &str) -> Vec<(String, Code)> {
        url_variants(base)
            .into_iter()
            .map(|(u, c)| (readable_path(&u), c))
            .collect()
    }

    #[test]
    fn url_variants_add_and_remove_scim_and_v2_and_try_an_api_prefix() {
        let v = paths("https://h/scim/v2");
        assert_eq!(
            v,
            vec![
                ("/scim".to_string(), Code::UrlExtraPathSegment),
                ("/v2".to_string(), Code::UrlWrongPath),
                ("/".to_string(), Code::UrlExtraPathSegment),
                ("/api/scim/v2".to_string(), Code::UrlWrongPath),
                ("/api/scim".to_string(), Code::UrlWrongPath),
            ]
        );
        let root = paths("https://h");
        assert_eq!(
            root[0],
            ("/scim/v2".to_string(), Code::UrlMissingScimV2Segments)
        );
        assert_eq!(root[1], ("/scim".to_string(), Code::UrlMissingScimSegment));
        assert_eq!(root[2], ("/v2".to_string(), Code::UrlMissingV2Segment));
        let users = paths("https://h/scim/v2/Users");
        assert_eq!(
            users[0],
            ("/scim/v2".to_string(), Code::UrlIncludesResourcePath)
        );
        let api = paths("https://h/api/scim/v2");
        assert!(api.contains(&("/scim/v2".to_string(), Code::UrlWrongPath)));
        assert!(url_variants("https://h/a/b/c").len() <= MAX_VARIANTS);
    }

    #[test]
    fn readable_paths_are_percent_decoded() {
        assert_eq!(
            readable_path("https://h/scim/Users?filter=userName%20eq%20%22a%22"),
            "/scim/Users?filter=userName eq \"a\""
        );
    }
}
