//! `scimcheck proxy`: a checking reverse proxy in front of a Tenant URL. Every request is
//! forwarded unchanged (method, path, query, headers but the hop-by-hop ones and `Host`, body
//! bytes; `Authorization` included) and every response is returned unchanged, streamed in both
//! directions. At most `max_body` bytes of each body are kept, only until the exchange is
//! checked ([`check`]) and reported ([`report`]).

pub mod check;
pub mod report;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http_body_util::{BodyExt, BodyStream, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

use crate::http::{Received, Secret, SentRequest, TenantUrl, redact_header};
use crate::scim::schema::SchemaSet;
use crate::scim::shape::recognise;

use report::Exchange;

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub listen: SocketAddr,
    pub upstream: TenantUrl,
    /// `--listen-tls CERT KEY` (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    pub timeout: std::time::Duration,
    pub ca_cert: Option<Vec<u8>>,
    /// Bytes of a body kept for checking; larger bodies are forwarded unchecked.
    pub max_body: usize,
}

/// Headers that belong to one connection, not to the message (RFC 9110 section 7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

fn forwarded(name: &str) -> bool {
    !HOP_BY_HOP.contains(&name.to_ascii_lowercase().as_str())
}

struct State {
    client: reqwest::Client,
    upstream: TenantUrl,
    upstream_path: String,
    max_body: usize,
    events: mpsc::UnboundedSender<Exchange>,
}

type ProxyBody = BoxBody<Bytes, std::io::Error>;

/// A running proxy: its address, and the exchanges as they finish.
pub struct Proxy {
    pub addr: SocketAddr,
    pub exchanges: mpsc::UnboundedReceiver<Exchange>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Stops accepting connections.
    pub fn stop(&self) {
        self.task.abort();
    }
}

fn tls_acceptor(cert: &PathBuf, key: &PathBuf) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("--listen-tls {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--listen-tls {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "--listen-tls {}: no certificate in it",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--listen-tls {}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("--listen-tls: {e}"))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Binds and starts the proxy.
pub async fn start(config: ProxyConfig) -> Result<Proxy, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = match &config.tls {
        Some((c, k)) => Some(tls_acceptor(c, k)?),
        None => None,
    };
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_gzip()
        .no_proxy()
        .default_headers(reqwest::header::HeaderMap::new())
        .timeout(config.timeout);
    if let Some(pem) = &config.ca_cert {
        for cert in
            reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("--ca-cert: {e}"))?
        {
            b = b.add_root_certificate(cert);
        }
    }
    let client = b
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::unbounded_channel();
    let upstream_path = reqwest::Url::parse(&config.upstream.base)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    let state = Arc::new(State {
        client,
        upstream: config.upstream.clone(),
        upstream_path,
        max_body: config.max_body,
        events: tx,
    });
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            // Headers and body go out in separate writes: without this, Nagle's algorithm and
            // the client's delayed ACK add tens of milliseconds to every exchange.
            let _ = stream.set_nodelay(true);
            let state = state.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| handle(req, state.clone()));
                let http = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(acceptor) => {
                        if let Ok(s) = acceptor.accept(stream).await {
                            let _ = http.serve_connection(TokioIo::new(s), service).await;
                        }
                    }
                    None => {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            });
        }
    });
    Ok(Proxy {
        addr,
        exchanges: rx,
        task,
    })
}

/// Reads up to `cap` bytes of `body`; returns them, and the rest of the body when it is longer.
async fn read_capped(mut body: Incoming, cap: usize) -> (Bytes, Option<Incoming>) {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
            if buf.len() > cap {
                return (buf.freeze(), Some(body));
            }
        }
    }
    (buf.freeze(), None)
}

fn text_response(status: u16, text: &str) -> Response<ProxyBody> {
    let body = http_body_util::Full::new(Bytes::from(text.to_string()))
        .map_err(|never| match never {})
        .boxed();
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body)
        .expect("a static response builds")
}

async fn handle(req: Request<Incoming>, st: Arc<State>) -> Result<Response<ProxyBody>, Infallible> {
    let started = Instant::now();
    let started_at = crate::run::event::now();
    let (parts, body) = req.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let (raw_path, raw_query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (path_and_query.clone(), None),
    };
    // The Tenant URL Entra is given is the proxy's address, with or without the upstream's path.
    let rel = match raw_path.strip_prefix(st.upstream_path.as_str()) {
        Some(r) if !st.upstream_path.is_empty() && (r.is_empty() || r.starts_with('/')) => {
            r.to_string()
        }
        _ => raw_path.clone(),
    };
    let mut url = st.upstream.join(&rel);
    if let Some(q) = &raw_query {
        url.push('?');
        url.push_str(q);
    }
    let token = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_string()))
        .map(Secret::new)
        .unwrap_or_else(|| Secret::new(""));
    let (head, rest) = read_capped(body, st.max_body).await;
    let unchecked_request = rest.is_some();
    let kept_request = head.clone();
    let mut up = st.client.request(parts.method.clone(), &url);
    for (k, v) in &parts.headers {
        if forwarded(k.as_str()) {
            up = up.header(k, v);
        }
    }
    up = match rest {
        None => up.body(head),
        Some(rest) => {
            let first =
                futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(head) });
            let rest = BodyStream::new(rest).filter_map(|f| async move {
                match f {
                    Ok(frame) => frame.into_data().ok().map(Ok),
                    Err(e) => Some(Err(std::io::Error::other(e))),
                }
            });
            up.body(reqwest::Body::wrap_stream(first.chain(rest)))
        }
    };
    let redacted = |h: &hyper::HeaderMap| -> Vec<(String, String)> {
        h.iter()
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes());
                (
                    k.as_str().to_string(),
                    redact_header(k.as_str(), &v, &token),
                )
            })
            .collect()
    };
    let request_body =
        (!kept_request.is_empty()).then(|| token.redact(&String::from_utf8_lossy(&kept_request)));
    let sent = SentRequest {
        method: parts.method.to_string(),
        url: token.redact(&url),
        headers: redacted(&parts.headers),
        body: request_body.clone(),
    };
    let query: Vec<(String, String)> = reqwest::Url::parse(&url)
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let request_json: Option<serde_json::Value> = (!unchecked_request)
        .then(|| serde_json::from_slice(&kept_request).ok())
        .flatten();
    let shape = recognise(parts.method.as_str(), &rel, &query, request_json.as_ref());
    let finish = {
        let st = st.clone();
        let token = token.clone();
        move |response: Result<Received, String>, unchecked: bool, elapsed: f64| {
            let (verdict, findings, note) = match &response {
                Ok(r) if !unchecked => {
                    let j = check::judge(
                        &shape,
                        &rel,
                        &query,
                        request_json.as_ref(),
                        r,
                        SchemaSet::builtin(),
                    );
                    let findings = j.findings.iter().map(|f| f.message.clone()).collect();
                    (j.verdict, findings, j.note)
                }
                Ok(_) => (check::Verdict::Pass, vec![], None),
                Err(_) => (check::Verdict::Fail, vec![], None),
            };
            let _ = st.events.send(Exchange {
                started_at,
                elapsed_ms: elapsed,
                request: sent,
                path: token.redact(&rel),
                response: response.map(|mut r| {
                    r.body = token.redact(&r.body);
                    r
                }),
                shape_id: shape.id(),
                shape: shape.label(),
                verdict,
                findings,
                note,
                unchecked: unchecked || unchecked_request,
            });
        }
    };
    let resp = match up.send().await {
        Ok(r) => r,
        Err(e) => {
            let why = crate::http::error_chain(&e);
            let elapsed = started.elapsed().as_secs_f64() * 1000.0;
            finish(Err(why.clone()), false, elapsed);
            return Ok(text_response(
                502,
                &format!("scimcheck proxy: no response from the upstream: {why}\n"),
            ));
        }
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    let mut builder = Response::builder().status(status);
    for (k, v) in &headers {
        if forwarded(k.as_str()) {
            builder = builder.header(k, v);
        }
    }
    let recorded_headers = redacted(&headers);
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(8);
    let cap = st.max_body;
    tokio::spawn(async move {
        let mut resp = resp;
        let mut kept = BytesMut::new();
        let mut over = false;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if !over {
                        if kept.len() + chunk.len() > cap {
                            over = true;
                            kept.clear();
                        } else {
                            kept.extend_from_slice(&chunk);
                        }
                    }
                    if tx.send(Ok(Frame::data(chunk))).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    break;
                }
            }
        }
        drop(tx);
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        let received = Received {
            status: status.as_u16(),
            headers: recorded_headers,
            body: String::from_utf8_lossy(&kept).into_owned(),
            truncated: false,
            retries: vec![],
        };
        finish(Ok(received), over, elapsed);
    });
    let body = BodyExt::boxed(StreamBody::new(tokio_stream_from(rx)));
    Ok(builder.body(body).unwrap_or_else(|_| {
        text_response(
            502,
            "scimcheck proxy: the upstream's response headers cannot be forwarded\n",
        )
    }))
}

/// A stream of the frames sent into `rx`.
fn tokio_stream_from(
    rx: mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send + Sync + 'static
{
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) })
}
