//! The HAR report: HAR 1.2 (<http://www.softwareishard.com/blog/har-12-spec/>) of every exchange
//! of the run, cleanup included, one page per scenario run. Opens in browser dev tools
//! (Network > Import HAR) and in HAR viewers; suitable for support tickets. Secrets are already
//! `REDACTED` in what the client recorded, and are redacted again when the file is written.

use serde_json::{Value, json};

use crate::http::{Received, SentRequest};

use super::record::{ExchangeRecord, RunRecord, ScenarioRecord};

fn headers(h: &[(String, String)]) -> Value {
    Value::Array(
        h.iter()
            .map(|(name, value)| json!({ "name": name, "value": value }))
            .collect(),
    )
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn query_string(url: &str) -> Value {
    let pairs: Vec<Value> = reqwest::Url::parse(url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| json!({ "name": k, "value": v }))
                .collect()
        })
        .unwrap_or_default();
    Value::Array(pairs)
}

/// The HAR `request` object of a request (headers and body as recorded, already redacted).
pub fn request(r: &SentRequest) -> Value {
    let mut v = json!({
        "method": r.method,
        "url": r.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": headers(&r.headers),
        "queryString": query_string(&r.url),
        "headersSize": -1,
        "bodySize": r.body.as_ref().map_or(0, |b| b.len()),
    });
    if let Some(body) = &r.body {
        v["postData"] = json!({
            "mimeType": header(&r.headers, "content-type").unwrap_or("application/scim+json"),
            "text": body,
        });
    }
    v
}

/// The HAR `response` object of a response (headers and body as recorded, already redacted).
pub fn response(r: &Received) -> Value {
    let status_text = reqwest::StatusCode::from_u16(r.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let redirect = if (300..400).contains(&r.status) {
        header(&r.headers, "location").unwrap_or("")
    } else {
        ""
    };
    let mut v = json!({
        "status": r.status,
        "statusText": status_text,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": headers(&r.headers),
        "content": {
            "size": r.body.len(),
            "mimeType": header(&r.headers, "content-type").unwrap_or(""),
            "text": r.body,
        },
        "redirectURL": redirect,
        "headersSize": -1,
        "bodySize": if r.truncated { -1 } else { r.body.len() as i64 },
    });
    if r.truncated {
        v["content"]["comment"] = json!("the body was longer than scimcheck's cap and was cut");
    }
    v
}

fn page_id(s: &ScenarioRecord) -> String {
    format!("scenario-{}", s.info.index)
}

fn entry(s: &ScenarioRecord, e: &ExchangeRecord, several_dialects: bool) -> Value {
    let resp = match &e.response {
        Some(Ok(r)) => response(r),
        Some(Err(err)) => {
            let mut v = json!({
                "status": 0,
                "statusText": "",
                "httpVersion": "",
                "cookies": [],
                "headers": [],
                "content": { "size": 0, "mimeType": "x-unknown" },
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
            });
            v["_error"] = json!(err.to_string());
            v
        }
        None => json!({
            "status": 0,
            "statusText": "",
            "httpVersion": "",
            "cookies": [],
            "headers": [],
            "content": { "size": 0, "mimeType": "x-unknown" },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_error": "no response was recorded (the run was interrupted)",
        }),
    };
    let dialect = if several_dialects {
        format!(" [{}]", s.info.dialect.as_str())
    } else {
        String::new()
    };
    json!({
        "pageref": page_id(s),
        "startedDateTime": e.started_at,
        "time": e.elapsed_ms,
        "request": request(&e.request),
        "response": resp,
        "cache": {},
        "timings": { "send": 0, "wait": e.elapsed_ms, "receive": 0 },
        "comment": format!("{}{dialect}: {}", s.info.id, e.check),
    })
}

/// The HAR document.
pub fn render(r: &RunRecord) -> Value {
    let several = r.several_dialects();
    let pages: Vec<Value> = r
        .scenarios
        .iter()
        .map(|s| {
            let dialect = if several {
                format!(" [{}]", s.info.dialect.as_str())
            } else {
                String::new()
            };
            json!({
                "startedDateTime": s.started_at().unwrap_or(&r.started_at),
                "id": page_id(s),
                "title": format!("{}{dialect} ({})", s.info.name, s.info.id),
                "pageTimings": { "onContentLoad": -1, "onLoad": -1 },
            })
        })
        .collect();
    let entries: Vec<Value> = r
        .scenarios
        .iter()
        .flat_map(|s| s.exchanges.iter().map(move |e| entry(s, e, several)))
        .collect();
    json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "scimcheck", "version": env!("CARGO_PKG_VERSION") },
            "pages": pages,
            "entries": entries,
            "comment": format!("scimcheck run {} against {}", r.run_id, r.target),
        }
    })
}

/// The HAR as pretty-printed text, ending with a newline.
pub fn render_text(r: &RunRecord) -> String {
    let mut s = serde_json::to_string_pretty(&render(r)).unwrap_or_default();
    s.push('\n');
    s
}
