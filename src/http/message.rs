//! The records of an exchange: the request to send, the request as sent (redacted), the
//! response as received (its body read up to the cap), and the two together.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::TransportError;

/// Which credentials a request carries.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    #[default]
    Token,
    /// No `Authorization` header at all.
    None,
    /// A syntactically valid but wrong bearer token.
    Wrong,
}

/// A request to send, relative to the Tenant URL.
#[derive(Debug, Clone)]
pub struct OutRequest {
    /// HTTP method, upper-case.
    pub method: String,
    /// Path relative to the Tenant URL.
    pub path: String,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Option<Value>,
    /// Which credentials to send.
    pub auth: Auth,
}

impl OutRequest {
    /// A request with no query, headers or body, carrying the token.
    pub fn new(method: &str, path: impl Into<String>) -> Self {
        OutRequest {
            method: method.into(),
            path: path.into(),
            query: vec![],
            headers: vec![],
            body: None,
            auth: Auth::Token,
        }
    }

    /// Every method this request asks the server to carry out on its path: its own
    /// (upper-case), then the one each method-override header names. Write guards judge all
    /// of them, so that a header does not get around them.
    pub fn methods(&self) -> Vec<String> {
        let mut out = vec![self.method.to_ascii_uppercase()];
        for (k, v) in &self.headers {
            if METHOD_OVERRIDES.contains(&k.to_ascii_lowercase().as_str()) {
                out.push(v.trim().to_ascii_uppercase());
            }
        }
        out
    }
}

/// Headers some servers honour to turn a POST (or GET) into another method.
const METHOD_OVERRIDES: [&str; 3] = [
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

/// The request as sent, secrets redacted.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SentRequest {
    /// HTTP method, upper-case.
    pub method: String,
    /// The absolute URL.
    pub url: String,
    /// Every header sent, credentials redacted.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Option<String>,
}

/// The response as received (body as text, possibly cut at the cap).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Received {
    /// The status code.
    pub status: u16,
    /// Every header received, in order (credentials redacted).
    pub headers: Vec<(String, String)>,
    /// The body as text, up to the cap.
    pub body: String,
    /// The body was longer than the cap and was cut.
    pub truncated: bool,
    /// 429/503 responses waited out before this one: (status, seconds waited).
    pub retries: Vec<(u16, f64)>,
}

impl Received {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON nested at most `--limit json-depth` deep.
    pub fn json(&self) -> Option<Value> {
        let depth = crate::limits::JSON_DEPTH.get_usize();
        if self.body.len() > 2 * depth && crate::limits::json_depth(&self.body) > depth {
            return None;
        }
        serde_json::from_str(&self.body).ok()
    }
}

/// One request and what came back.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Exchange {
    /// The request as sent.
    pub request: SentRequest,
    /// What came back, or why nothing did.
    pub response: Result<Received, TransportError>,
    /// Wall time from send to the last byte.
    pub elapsed: Duration,
}

/// Reads `resp`'s body, at most `max` bytes of it: the bytes, and whether the rest was cut
/// off (and left unread). On a read error, the error and how many bytes had arrived.
pub(super) async fn read_capped(
    resp: &mut reqwest::Response,
    max: usize,
) -> Result<(Vec<u8>, bool), (reqwest::Error, usize)> {
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = max.saturating_sub(bytes.len());
                if chunk.len() > room {
                    bytes.extend_from_slice(&chunk[..room]);
                    return Ok((bytes, true));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok((bytes, false)),
            Err(e) => {
                let read = bytes.len();
                return Err((e, read));
            }
        }
    }
}
