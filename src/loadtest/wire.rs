//! The probe's own transport: HTTP/1.1 straight on `hyper`, one kept-alive connection per
//! worker (as `oha` does), for the one cheap read probe mode repeats. Everything else `load`
//! sends (creates, updates, deletes, the look-up of lost creates) goes through the conformance
//! client ([`crate::run::Tenant`]) with its ledger and write guard; the probe writes nothing,
//! so it needs neither, and this path skips the per-request work they cost (building and
//! redacting the recorded request, reqwest's redirect and pool layers).
//!
//! Only for plain `http://` targets reached without a proxy; anything else (TLS, `--proxy`,
//! `HTTP_PROXY`, credentials in the URL) uses the conformance client.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{ACCEPT, AUTHORIZATION, HOST, HeaderValue, USER_AGENT};
use hyper_util::rt::TokioIo;

use crate::http::{
    Client, Failure, OutRequest, Received, TransportError, encode, parse_retry_after,
};

/// A read prepared once and sent many times.
pub struct Wire {
    /// `host:port` to connect to.
    addr: String,
    uri: hyper::Uri,
    host: HeaderValue,
    auth: HeaderValue,
    timeout: Duration,
    connect_timeout: Duration,
    max_body: usize,
    max_retries: u32,
    max_retry_wait: Duration,
}

/// One worker's connection.
pub type Conn = SendRequest<Empty<Bytes>>;

impl Wire {
    /// The probe `req` of `client`, when its target can be reached this way.
    pub fn new(client: &Client, req: &OutRequest) -> Option<Wire> {
        let options = client.options();
        let proxied = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
        let target = client.target();
        if options.proxy.is_some() || proxied || target.has_credentials() || req.method != "GET" {
            return None;
        }
        let mut url = target.join(&req.path);
        for (k, v) in &req.query {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&format!("{}={}", encode(k), encode(v)));
        }
        let uri: hyper::Uri = url.parse().ok()?;
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let authority = uri.authority()?.clone();
        let port = authority.port_u16().unwrap_or(80);
        let path: hyper::Uri = uri.path_and_query()?.as_str().parse().ok()?;
        Some(Wire {
            addr: format!("{}:{port}", authority.host()),
            uri: path,
            host: HeaderValue::from_str(authority.as_str()).ok()?,
            auth: {
                let mut v =
                    HeaderValue::from_str(&format!("Bearer {}", client.secret().expose())).ok()?;
                v.set_sensitive(true);
                v
            },
            timeout: options.timeout,
            connect_timeout: options.connect_timeout,
            max_body: options.max_body,
            max_retries: options.max_retries,
            max_retry_wait: options.max_retry_wait,
        })
    }

    /// Opens a connection (TCP_NODELAY, as every HTTP client does for request/response).
    pub async fn connect(&self) -> Result<Conn, TransportError> {
        let tcp = tokio::time::timeout(
            self.connect_timeout,
            tokio::net::TcpStream::connect(&self.addr),
        )
        .await
        .map_err(|_| TransportError::Timeout(self.connect_timeout))?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => TransportError::Refused(e.to_string()),
            _ => TransportError::Connect(Failure::text(e.to_string())),
        })?;
        let _ = tcp.set_nodelay(true);
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| TransportError::Connect(Failure::text(e.to_string())))?;
        tokio::spawn(conn);
        Ok(send)
    }

    /// Sends the read once on `conn` (opening it first when needed), waiting out a 429 / 503
    /// with `Retry-After` as the conformance client does (`on_throttle` is told of each 429
    /// first, so the whole run backs off). A connection that failed is dropped.
    pub async fn send(
        &self,
        conn: &mut Option<Conn>,
        stopped: &(dyn Fn() -> bool + Sync),
        on_throttle: &(dyn Fn(Option<Duration>) + Sync),
    ) -> (Result<Received, TransportError>, Duration) {
        let started = Instant::now();
        let mut retries = Vec::new();
        loop {
            let once = tokio::time::timeout(self.timeout, self.once(conn)).await;
            let mut r = match once {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    *conn = None;
                    return (Err(e), started.elapsed());
                }
                Err(_) => {
                    *conn = None;
                    return (
                        Err(TransportError::Timeout(self.timeout)),
                        started.elapsed(),
                    );
                }
            };
            let wait = r.header("retry-after").and_then(parse_retry_after);
            if r.status == 429 {
                on_throttle(wait.filter(|w| *w <= self.max_retry_wait));
            }
            if matches!(r.status, 429 | 503)
                && (retries.len() as u32) < self.max_retries
                && let Some(wait) = wait.filter(|w| *w <= self.max_retry_wait)
            {
                let t0 = Instant::now();
                while t0.elapsed() < wait && !stopped() {
                    tokio::time::sleep((wait - t0.elapsed()).min(Duration::from_millis(50))).await;
                }
                let waited = t0.elapsed().min(wait);
                retries.push((r.status, waited.as_secs_f64()));
                if waited < wait {
                    r.retries = retries;
                    return (Ok(r), started.elapsed());
                }
                continue;
            }
            r.retries = retries;
            return (Ok(r), started.elapsed());
        }
    }

    async fn once(&self, conn: &mut Option<Conn>) -> Result<Received, TransportError> {
        if conn.as_ref().is_none_or(|c| c.is_closed()) {
            *conn = Some(self.connect().await?);
        }
        let send = conn.as_mut().expect("connected");
        send.ready()
            .await
            .map_err(|e| TransportError::Connect(Failure::text(e.to_string())))?;
        let mut req = hyper::Request::new(Empty::<Bytes>::new());
        *req.uri_mut() = self.uri.clone();
        let h = req.headers_mut();
        h.insert(HOST, self.host.clone());
        h.insert(AUTHORIZATION, self.auth.clone());
        h.insert(ACCEPT, HeaderValue::from_static("application/scim+json"));
        h.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("scimcheck/", env!("CARGO_PKG_VERSION"))),
        );
        let resp = send
            .send_request(req)
            .await
            .map_err(|e| TransportError::Connect(Failure::text(e.to_string())))?;
        let status = resp.status().as_u16();
        // Only what the load statistics read: the media type and Retry-After.
        let headers: Vec<(String, String)> = ["content-type", "retry-after"]
            .iter()
            .filter_map(|k| {
                let v = resp.headers().get(*k)?;
                Some((
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                ))
            })
            .collect();
        let mut body = resp.into_body();
        let mut bytes: Vec<u8> = Vec::new();
        let mut truncated = false;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| TransportError::Body(e.to_string()))?;
            if let Ok(chunk) = frame.into_data() {
                let room = self.max_body.saturating_sub(bytes.len());
                if chunk.len() > room {
                    bytes.extend_from_slice(&chunk[..room]);
                    truncated = true;
                    break;
                }
                bytes.extend_from_slice(&chunk);
            }
        }
        if truncated {
            // The rest is not read: this connection cannot carry another request.
            *conn = None;
        }
        let body = String::from_utf8(bytes).map_err(|e| {
            TransportError::Body(format!(
                "the body is not valid UTF-8 (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Ok(Received {
            status,
            headers,
            body,
            truncated,
            retries: vec![],
        })
    }
}
