//! Encodings of the wire: media types, percent-encoding of query components and form bodies,
//! and percent-decoding of paths, queries and form values.

/// The media type of a `Content-Type` value, without parameters, lower-cased
/// (`Application/SCIM+JSON; charset=utf-8` -> `application/scim+json`).
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A form or query value: `%2B` -> `+`, `+` -> space; `Err` when the result is not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Result<String, std::str::Utf8Error> {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
}

/// A URL path (or query, as text): `%XX` escapes decoded, `+` kept, invalid escapes and
/// invalid UTF-8 kept as they are (lossy).
pub(crate) fn percent_decode_path(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Percent-encodes a query component (RFC 3986 unreserved characters kept).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded`: spaces as `+`, everything else but `*-._` and
/// alphanumerics percent-encoded.
pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                out.push(b as char)
            }
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
