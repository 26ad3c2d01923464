//! Judging one answer to a list request (`GET /Users?filter=...`): which of the shapes a
//! diagnosis tells apart it has, and the server's own explanation where it gives one.

use serde_json::Value;

use crate::http::{Exchange, Received, TransportError};
use crate::scim::schema::SchemaSet;
use crate::scim::validate::{Kind, Level, validate};

use super::reason;

/// How a list probe was answered.
#[derive(Debug, Clone)]
pub(super) enum Answer {
    Transport(TransportError),
    Redirect {
        status: u16,
        location: Option<String>,
    },
    Denied {
        status: u16,
        detail: Option<String>,
        challenge: Option<String>,
    },
    NotFound {
        detail: Option<String>,
        html: bool,
    },
    ServerError {
        status: u16,
        detail: Option<String>,
    },
    ClientError {
        status: u16,
        detail: Option<String>,
    },
    /// A 2xx HTML page.
    Html {
        title: Option<String>,
        login: bool,
    },
    /// A 2xx body that is not JSON.
    Unparsable {
        why: String,
    },
    /// A 2xx JSON body that is not a ListResponse.
    NotList {
        why: String,
    },
    /// A ListResponse; `problems` are non-blocking schema deviations.
    List {
        total: Option<u64>,
        problems: Vec<String>,
    },
}

impl Answer {
    pub(super) fn is_list(&self) -> bool {
        matches!(self, Answer::List { .. })
    }
}

pub(super) fn media_type(r: &Received) -> Option<String> {
    r.header("content-type").map(crate::http::media_type)
}

pub(super) fn looks_html(r: &Received) -> bool {
    if media_type(r).is_some_and(|m| m == "text/html" || m == "application/xhtml+xml") {
        return true;
    }
    let head = r
        .body
        .trim_start()
        .get(..15)
        .unwrap_or_default()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

/// Text between `<tag ...>` and `</tag>`, whitespace collapsed.
pub(super) fn html_element(body: &str, tag: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find(&format!("<{tag}"))?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find(&format!("</{tag}"))?;
    let text = strip_tags(&body[open_end..close]);
    (!text.is_empty()).then_some(text)
}

pub(super) fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn looks_like_login(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("type=\"password\"")
        || lower.contains("type='password'")
        || ["sign in", "sign-in", "log in", "login", "signin"]
            .iter()
            .any(|w| lower.contains(w))
}

pub(super) fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}

pub(super) use crate::scim::json::member;

/// The server's own explanation in an error response: SCIM `detail`, common JSON error
/// members, an HTML title, or the first line of text.
pub(super) fn error_detail(r: &Received) -> Option<String> {
    if r.body.trim().is_empty() {
        return None;
    }
    if let Some(v) = r.json() {
        for key in ["detail", "message", "error_description", "error", "title"] {
            match member(&v, key) {
                Some(Value::String(s)) if !s.trim().is_empty() => return Some(shorten(s, 300)),
                Some(inner @ Value::Object(_)) => {
                    if let Some(Value::String(s)) = member(inner, "message") {
                        return Some(shorten(s, 300));
                    }
                }
                _ => {}
            }
        }
        return Some(shorten(&v.to_string(), 300));
    }
    if looks_html(r) {
        return html_element(&r.body, "title")
            .or_else(|| html_element(&r.body, "h1"))
            .or_else(|| Some(shorten(&strip_tags(&r.body), 200)))
            .filter(|s| !s.is_empty());
    }
    r.body
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| shorten(l, 300))
}

/// Judges the answer to a `GET /Users` or `GET /Groups` list request.
pub(super) fn answer(ex: &Exchange) -> Answer {
    let r = match &ex.response {
        Ok(r) => r,
        Err(e) => return Answer::Transport(e.clone()),
    };
    match r.status {
        300..=399 => Answer::Redirect {
            status: r.status,
            location: r.header("location").map(str::to_string),
        },
        401 | 403 => Answer::Denied {
            status: r.status,
            detail: error_detail(r),
            challenge: r.header("www-authenticate").map(str::to_string),
        },
        404 => Answer::NotFound {
            detail: error_detail(r),
            html: looks_html(r),
        },
        500..=599 => Answer::ServerError {
            status: r.status,
            detail: error_detail(r),
        },
        400..=499 => Answer::ClientError {
            status: r.status,
            detail: error_detail(r),
        },
        _ if looks_html(r) => Answer::Html {
            title: html_element(&r.body, "title").or_else(|| html_element(&r.body, "h1")),
            login: looks_like_login(&r.body),
        },
        200..=299 => list_answer(r),
        s => Answer::ClientError {
            status: s,
            detail: error_detail(r),
        },
    }
}

pub(super) fn list_answer(r: &Received) -> Answer {
    if r.body.trim().is_empty() {
        return Answer::Unparsable {
            why: format!("the {} response has an empty body", r.status),
        };
    }
    let body: Value = match serde_json::from_str(&r.body) {
        Ok(v) => v,
        Err(e) => {
            return Answer::Unparsable {
                why: format!(
                    "the body is not valid JSON ({e}); it starts with `{}`",
                    shorten(&r.body, 60)
                ),
            };
        }
    };
    if r.truncated {
        return Answer::Unparsable {
            why: "the body is larger than the read limit and was cut".into(),
        };
    }
    if !body.is_object() {
        let what = match &body {
            Value::Array(_) => "a bare JSON array",
            Value::String(_) => "a JSON string",
            Value::Number(_) => "a JSON number",
            Value::Bool(_) => "a JSON boolean",
            _ => "JSON null",
        };
        return Answer::NotList {
            why: format!("the body is {what}, not a ListResponse object"),
        };
    }
    let violations = validate(
        Kind::ListResponse,
        &body,
        SchemaSet::builtin(),
        &crate::limits::validation(),
    );
    let structural = violations.iter().find(|v| {
        v.level == Level::Fail
            && (v.path == "$" || v.path == "$.totalResults" || v.path == "$.Resources")
    });
    if let Some(v) = structural {
        return Answer::NotList {
            why: format!("not a ListResponse: {}: {}", v.path, v.message),
        };
    }
    let total = member(&body, "totalResults").and_then(Value::as_u64);
    let problems = violations
        .iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect();
    Answer::List { total, problems }
}

/// A transport error without reqwest's wrapping (`error sending request for url (...)`).
pub(super) fn short_error(s: &str) -> String {
    s.split(": ")
        .filter(|p| {
            !p.starts_with("error sending request for url") && *p != "client error (Connect)"
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// A few words on an answer, for a probe's notes.
pub(super) fn describe_answer(a: &Answer) -> String {
    match a {
        Answer::Transport(e) => format!("no response: {e}"),
        Answer::Redirect { status, location } => format!(
            "{status} {} to {}",
            reason(*status),
            location.as_deref().unwrap_or("nowhere")
        ),
        Answer::Denied { status, .. } => format!("{status} {}", reason(*status)),
        Answer::NotFound { .. } => "404 Not Found".into(),
        Answer::ServerError { status, .. } | Answer::ClientError { status, .. } => {
            format!("{status} {}", reason(*status))
        }
        Answer::Html { .. } => "an HTML page".into(),
        Answer::Unparsable { why } | Answer::NotList { why } => why.clone(),
        Answer::List { .. } => "a ListResponse".into(),
    }
}
