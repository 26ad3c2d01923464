//! Secrets and their redaction: a [`Secret`] never formats as itself, and every text recorded
//! or shown passes through [`Secret::redact`] (or [`redact_header`] for header values).

use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use super::encoding::{encode, form_encode};

/// The marker that replaces secrets in every output.
pub const REDACTED: &str = "REDACTED";

/// Secrets at least this long are redacted wherever they occur, even inside a longer word;
/// shorter ones only as whole words.
const LONG_TOKEN: usize = 12;

/// A secret token: it formats as `REDACTED`, never as itself. Redaction also covers the forms
/// a server may echo it back in (base64, percent-encoded, JSON-, XML- or HTML-escaped), the bare
/// token when it was pasted with its `Bearer ` prefix, and any other secret of the run (values
/// from the Tenant URL's query or userinfo), see [`Secret::also`]. Clones share one set of
/// redacted strings: a secret learnt later ([`Secret::register`], e.g. an OAuth access token
/// issued mid-run) is redacted by every reporter, hook and client holding a clone.
#[derive(Clone)]
pub struct Secret {
    token: String,
    /// Every string replaced by `REDACTED`, longest first.
    forms: Arc<RwLock<Vec<String>>>,
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.token == other.token && *self.forms() == *other.forms()
    }
}

impl Eq for Secret {}

/// Texts longer than this are not searched for a split token (the search costs five bytes of
/// memory per byte): every output is shorter at default limits (bodies are kept to 16 KiB in
/// events and reports); only a whole response body near `--max-body-mib` is longer, and it is
/// redacted whole-token, then cut to an excerpt that is searched.
const MAX_SPLIT_SCAN: usize = 4 << 20;

/// The shortest secret redacted: shorter strings would blank out ordinary text.
const MIN_SECRET: usize = 4;

impl Secret {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        let token = token.into();
        let s = Secret {
            token: token.clone(),
            forms: Arc::default(),
        };
        s.add(&token);
        if let Some(bare) = strip_scheme(&token) {
            s.add(bare);
        }
        s
    }

    /// Also redacts `value` (and its encoded forms) wherever the token is redacted.
    pub fn also(self, value: &str) -> Self {
        self.add(value);
        self
    }

    /// Redacts `value` (and its encoded forms) from now on, in every clone of this secret:
    /// for secrets learnt during a run, such as an issued OAuth access token.
    pub fn register(&self, value: &str) {
        self.add(value);
    }

    fn forms(&self) -> RwLockReadGuard<'_, Vec<String>> {
        self.forms.read().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self, value: &str) {
        use base64::Engine;
        if value.len() < MIN_SECRET {
            return;
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json.trim_matches('"').to_string();
        let forms = [
            value.to_string(),
            encode(value),
            encode(value).replace("%20", "+"),
            form_encode(value),
            json,
            xml_escape(value),
            xml_escape(value).replace("&apos;", "&#39;"),
            xml_escape(value).replace("&apos;", "&#x27;"),
            xml_escape(value).replace("&apos;", "'"),
            serde_json::to_string(value)
                .unwrap_or_default()
                .trim_matches('"')
                .replace('/', "\\/"),
            b64.encode(value),
            b64.encode(format!(":{value}")),
            b64.encode(format!("{value}:")),
        ];
        let mut known = self.forms.write().unwrap_or_else(|e| e.into_inner());
        for f in forms {
            if f.len() >= MIN_SECRET && !known.contains(&f) {
                known.push(f);
            }
        }
        known.sort_by_key(|f| std::cmp::Reverse(f.len()));
    }

    /// The token itself, only for the `Authorization` header and for redaction.
    pub fn expose(&self) -> &str {
        &self.token
    }

    /// Replaces the token, in any of its forms, in `text` with `REDACTED`: every occurrence of
    /// a long form, and every whole occurrence (not inside a longer word) of a short one, so
    /// that a token such as `scim` or `Jensen` never rewrites `scimcheck` or `Jensen-Smith`.
    pub fn redact(&self, text: &str) -> String {
        let mut out: Option<String> = None;
        for f in self.forms().iter() {
            let cur = out.as_deref().unwrap_or(text);
            if cur.contains(f.as_str()) {
                out = Some(replace_form(cur, f));
            }
        }
        let out = out.unwrap_or_else(|| text.to_string());
        self.redact_split(out)
    }

    /// Redacts the long forms of the secret where breaks split them: whitespace (a line of a
    /// diff with the next line's marker and indentation, an excerpt that joined lines), or a
    /// line break escaped as `\n` / `\r` (once or more, as in a JSON report of a JSON body) or
    /// shown as `\x0d`. Each piece becomes `REDACTED`; the breaks stay.
    fn redact_split(&self, text: String) -> String {
        let forms = self.forms();
        if !forms.iter().any(|f| f.len() >= LONG_TOKEN) || text.len() > MAX_SPLIT_SCAN {
            return text;
        }
        // The text without its line breaks, and where each of its bytes is in `text`.
        let bytes = text.as_bytes();
        let mut squeezed = String::with_capacity(text.len());
        let mut at: Vec<u32> = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            let brk = line_break_len(bytes, i);
            if brk > 0 {
                i += brk;
                continue;
            }
            let c = text[i..].chars().next().unwrap_or_default();
            squeezed.push(c);
            at.extend((i..i + c.len_utf8()).map(|b| b as u32));
            i += c.len_utf8();
        }
        if squeezed.len() == text.len() {
            return text;
        }
        // Byte ranges of `text` to redact.
        let mut cuts: Vec<(usize, usize)> = Vec::new();
        for f in forms.iter().filter(|f| f.len() >= LONG_TOKEN) {
            for (start, _) in squeezed.match_indices(f.as_str()) {
                let (from, to) = (at[start] as usize, at[start + f.len() - 1] as usize + 1);
                if to - from > f.len() {
                    cuts.push((from, to));
                }
            }
        }
        if cuts.is_empty() {
            return text;
        }
        cuts.sort();
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (from, to) in cuts {
            if from < done {
                continue;
            }
            out.push_str(&text[done..from]);
            // Each piece between breaks becomes REDACTED; the breaks themselves are kept.
            let mut j = from;
            let mut piece = false;
            while j < to {
                let brk = line_break_len(bytes, j).min(to - j);
                if brk > 0 {
                    out.push_str(&text[j..j + brk]);
                    j += brk;
                    piece = false;
                } else {
                    if !piece {
                        out.push_str(REDACTED);
                        piece = true;
                    }
                    j += text[j..].chars().next().map_or(1, char::len_utf8);
                }
            }
            done = to;
        }
        out.push_str(&text[done..]);
        out
    }

    /// [`Secret::redact`] for text that was cut at its end: a tail that is the beginning of a
    /// secret is redacted too (truncate first, then redact, and nothing of a token survives).
    pub fn redact_cut(&self, text: &str) -> String {
        let mut out = self.redact(text);
        for f in self.forms().iter() {
            let max = f.len().min(out.len());
            if let Some(n) = (3..max)
                .rev()
                .find(|&n| f.is_char_boundary(n) && out.ends_with(&f[..n]))
            {
                let keep = out.len() - n;
                out.truncate(keep);
                out.push_str(REDACTED);
                break;
            }
        }
        out
    }
}

/// The length of the break at `i` in `text`, 0 when there is none: whitespace (a line break
/// with the next line's diff marker `+` / `-`), or a line break or tab escaped with one or
/// more backslashes (`\n`, `\\r`, `\x0d` as the terminal shows a carriage return).
fn line_break_len(text: &[u8], i: usize) -> usize {
    match text[i] {
        b'\n' | b'\r' if matches!(text.get(i + 1), Some(b'+' | b'-')) => 2,
        b' ' | b'\t' | b'\n' | b'\r' => 1,
        b'\\' => {
            let mut j = i;
            while j < text.len() && text[j] == b'\\' {
                j += 1;
            }
            let rest = &text[j..];
            if rest.starts_with(b"x0a") || rest.starts_with(b"x0d") || rest.starts_with(b"x09") {
                j + 3 - i
            } else if matches!(rest.first(), Some(b'n' | b'r' | b't')) {
                j + 1 - i
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// `Bearer abc` -> `abc` (a token pasted with its scheme).
fn strip_scheme(token: &str) -> Option<&str> {
    let (scheme, rest) = token.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty()).then(|| rest.trim())
}

/// `application/x-www-form-urlencoded`: spaces as `+`, everything else but `*-._` and
/// alphanumerics percent-encoded.
/// `&<>"'` as XML / HTML entities.
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `text` with `form` replaced by `REDACTED`: everywhere for a long form, as a whole word only
/// for a short one.
fn replace_form(text: &str, form: &str) -> String {
    if form.len() >= LONG_TOKEN {
        return text.replace(form, REDACTED);
    }
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(form) {
        let prev = rest[..at].chars().next_back().or(before);
        let next = rest[at + form.len()..].chars().next();
        let whole = !prev.is_some_and(word) && !next.is_some_and(word);
        out.push_str(&rest[..at]);
        out.push_str(if whole { REDACTED } else { form });
        before = form.chars().next_back();
        rest = &rest[at + form.len()..];
    }
    out.push_str(rest);
    out
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Header values that may carry credentials are replaced by `REDACTED`.
pub fn redact_header(name: &str, value: &str, token: &Secret) -> String {
    let n = name.to_ascii_lowercase();
    if n == "authorization" || n == "proxy-authorization" {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_string(),
        }
    } else if n == "cookie"
        || n == "set-cookie"
        || n.contains("token")
        || n.contains("api-key")
        || n.contains("secret")
    {
        REDACTED.to_string()
    } else {
        token.redact(value)
    }
}
