//! Reading a HAR 1.2 file (a browser's, a proxy's such as mitmproxy, or scimcheck's own
//! `--report har`) into the exchanges it recorded, in file order.

use base64::Engine;
use serde_json::Value;

/// One recorded request and its response, bodies as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// 1-based position in `log.entries`.
    pub entry: usize,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    /// 0 when no response was recorded.
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    /// The entry's `comment` (scimcheck writes `<scenario> [<dialect>]: <check id>`).
    pub comment: Option<String>,
}

impl Recorded {
    /// The first request header with this name (case-insensitive).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        header(&self.request_headers, name)
    }

    /// The first response header with this name (case-insensitive).
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(&self.response_headers, name)
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A HAR document's entries, and which tool wrote it.
#[derive(Debug, Clone)]
pub struct Har {
    /// `log.creator.name`.
    pub creator: String,
    pub entries: Vec<Recorded>,
    /// Entries that could not be read, with why (1-based entry number).
    pub unreadable: Vec<(usize, String)>,
}

/// Whether `doc` is a HAR document (`log.entries` is an array).
pub fn is_har(doc: &Value) -> bool {
    doc.pointer("/log/entries").is_some_and(Value::is_array)
}

fn headers(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|h| {
                    Some((
                        h.get("name")?.as_str()?.to_string(),
                        h.get("value")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `content.text`, decoded when `content.encoding` is `base64` (mitmproxy does that for
/// binary or compressed bodies).
fn text(content: Option<&Value>) -> Result<Option<String>, String> {
    let Some(c) = content else { return Ok(None) };
    let Some(t) = c.get("text").and_then(Value::as_str) else {
        return Ok(None);
    };
    if c.get("encoding").and_then(Value::as_str) == Some("base64") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t.trim())
            .map_err(|e| format!("its base64 body does not decode: {e}"))?;
        return String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "its body is not UTF-8 text".to_string());
    }
    Ok(Some(t.to_string()))
}

fn entry(n: usize, e: &Value) -> Result<Recorded, String> {
    let req = e.get("request").ok_or("it has no `request`")?;
    let method = req
        .get("method")
        .and_then(Value::as_str)
        .ok_or("its request has no `method`")?
        .to_ascii_uppercase();
    let url = req
        .get("url")
        .and_then(Value::as_str)
        .ok_or("its request has no `url`")?
        .to_string();
    let resp = e.get("response");
    let status = resp
        .and_then(|r| r.get("status"))
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0);
    Ok(Recorded {
        entry: n,
        method,
        url,
        request_headers: headers(req.get("headers")),
        request_body: text(req.get("postData"))?.filter(|b| !b.is_empty()),
        status,
        response_headers: headers(resp.and_then(|r| r.get("headers"))),
        response_body: text(resp.and_then(|r| r.get("content")))?.filter(|b| !b.is_empty()),
        comment: e.get("comment").and_then(Value::as_str).map(str::to_string),
    })
}

/// Reads the entries of a HAR document (see [`is_har`]).
pub fn read(doc: &Value) -> Har {
    let mut out = Har {
        creator: doc
            .pointer("/log/creator/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        entries: vec![],
        unreadable: vec![],
    };
    for (i, e) in doc
        .pointer("/log/entries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        match entry(i + 1, e) {
            Ok(r) => out.entries.push(r),
            Err(why) => out.unreadable.push((i + 1, why)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_are_read_with_base64_bodies_decoded_and_broken_ones_listed() {
        let doc = json!({"log": {"creator": {"name": "mitmproxy"}, "entries": [
            {"request": {"method": "get", "url": "https://h/scim/v2/Users", "headers": [{"name": "Authorization", "value": "Bearer x"}]},
             "response": {"status": 200, "headers": [], "content": {"text": "eyJhIjoxfQ==", "encoding": "base64"}}},
            {"request": {"url": "https://h/scim/v2/Users"}}
        ]}});
        assert!(is_har(&doc));
        let har = read(&doc);
        assert_eq!(har.creator, "mitmproxy");
        assert_eq!(har.entries.len(), 1);
        let e = &har.entries[0];
        assert_eq!((e.method.as_str(), e.status), ("GET", 200));
        assert_eq!(e.response_body.as_deref(), Some("{\"a\":1}"));
        assert_eq!(e.request_header("authorization"), Some("Bearer x"));
        assert_eq!(
            har.unreadable,
            vec![(2, "its request has no `method`".to_string())]
        );
    }
}
