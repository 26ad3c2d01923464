//! Small purpose-built HTTP servers for the safety tests. A [`Rogue`] answers every request with
//! exactly the bytes a test chooses (malformed, endless, redirecting, throttling, echoing), or
//! forwards it to the embedded reference server (a recording proxy), and records every request
//! it sees. [`TlsFront`] terminates TLS with a self-signed certificate in front of another server.
//! Everything binds 127.0.0.1 only.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A request as a rogue server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `METHOD target`, e.g. `DELETE /scim/v2/Users/1`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

/// What a rogue server does with one request.
pub enum Answer {
    /// Write these bytes, then close the connection.
    Bytes(Vec<u8>),
    /// Write these bytes, then keep the connection open, silent, until the client goes away.
    Hang(Vec<u8>),
    /// Write `head`, then `chunk` every `every`, forever (a body that never ends, slowly).
    Drip {
        head: Vec<u8>,
        chunk: Vec<u8>,
        every: Duration,
    },
    /// Write `head`, then `total` bytes as fast as the client reads them (a huge body).
    Flood { head: Vec<u8>, total: u64 },
    /// Forward the request to this server (one request per connection) and relay its answer.
    Forward(SocketAddr),
    /// Forward the request (the server carries it out), then answer with a fault instead of
    /// what the server said: a gateway's 502 after the create was stored, a dropped answer, an
    /// answer with its body removed.
    Relay(SocketAddr, Fault),
}

/// What a fault-injecting proxy does with the upstream server's answer.
pub enum Fault {
    /// Answer these bytes instead.
    Replace(Vec<u8>),
    /// Close the connection without answering.
    Drop,
    /// Answer `f(upstream's answer)`.
    Map(Box<dyn FnOnce(Vec<u8>) -> Vec<u8> + Send>),
}

type Responder = dyn Fn(&Seen, usize) -> Answer + Send + Sync;

/// A purpose-built server: `respond(request, n)` decides the answer to the `n`th request (from 0).
pub struct Rogue {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Rogue {
    /// Starts a server on a free 127.0.0.1 port.
    pub async fn start(respond: impl Fn(&Seen, usize) -> Answer + Send + Sync + 'static) -> Rogue {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let respond: Arc<Responder> = Arc::new(respond);
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, respond) = (log.clone(), respond.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, &log, respond.as_ref()).await;
                });
            }
        });
        Rogue { addr, seen, task }
    }

    /// A recording proxy in front of `upstream` (e.g. the embedded reference server).
    pub async fn proxy(upstream: SocketAddr) -> Rogue {
        Rogue::start(move |_, _| Answer::Forward(upstream)).await
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("log").clone()
    }
}

impl Drop for Rogue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    log: &Mutex<Vec<Seen>>,
    respond: &Responder,
) -> std::io::Result<()> {
    let Some(seen) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let n = {
        let mut log = log.lock().expect("log");
        log.push(seen.clone());
        log.len() - 1
    };
    match respond(&seen, n) {
        Answer::Bytes(bytes) => {
            stream.write_all(&bytes).await?;
            stream.shutdown().await?;
        }
        Answer::Hang(bytes) => {
            stream.write_all(&bytes).await?;
            // Wait until the client closes (a read of 0 bytes) or errors.
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
        }
        Answer::Drip { head, chunk, every } => {
            stream.write_all(&head).await?;
            loop {
                tokio::time::sleep(every).await;
                stream.write_all(&chunk).await?;
            }
        }
        Answer::Flood { head, total } => {
            stream.write_all(&head).await?;
            let block = vec![b'a'; 64 * 1024];
            let mut sent = 0u64;
            while sent < total {
                let n = block.len().min((total - sent) as usize);
                stream.write_all(&block[..n]).await?;
                sent += n as u64;
            }
            stream.shutdown().await?;
        }
        Answer::Relay(upstream, fault) => {
            let answer = forward(&seen, upstream).await?;
            match fault {
                Fault::Replace(bytes) => stream.write_all(&bytes).await?,
                Fault::Map(f) => stream.write_all(&f(answer)).await?,
                Fault::Drop => {}
            }
            stream.shutdown().await?;
        }
        Answer::Forward(upstream) => {
            let answer = forward(&seen, upstream).await?;
            stream.write_all(&answer).await?;
            stream.shutdown().await?;
        }
    }
    Ok(())
}

/// Sends `seen` to `upstream` (one request per connection) and reads its whole answer.
async fn forward(seen: &Seen, upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    let mut head = format!("{} {} HTTP/1.1\r\n", seen.method, seen.target);
    for (k, v) in &seen.headers {
        if !k.eq_ignore_ascii_case("connection") {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    head.push_str("Connection: close\r\n\r\n");
    up.write_all(head.as_bytes()).await?;
    up.write_all(seen.body.as_bytes()).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    Ok(answer)
}

/// The body of a raw HTTP answer (after the blank line).
pub fn body_of(answer: &[u8]) -> &[u8] {
    answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(&[][..], |i| &answer[i + 4..])
}

/// The status code of a raw HTTP answer.
pub fn status_of(answer: &[u8]) -> u16 {
    String::from_utf8_lossy(answer)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Reads one request head and its `Content-Length` body.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Seen>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok(Some(Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }))
}

/// A complete HTTP/1.1 response: status line, `headers`, `Content-Length`, `Connection: close`.
pub fn response(status: u16, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Vec<u8> {
    let body = body.as_ref();
    let mut out = head(status, headers);
    out.truncate(out.len() - 2);
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// A status line and headers (plus `Connection: close`), without a length: what comes next is
/// up to the caller.
pub fn head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

/// A SCIM JSON response.
pub fn scim(status: u16, body: &Value) -> Vec<u8> {
    response(
        status,
        &[("Content-Type", "application/scim+json")],
        body.to_string(),
    )
}

/// An empty SCIM ListResponse.
pub fn empty_list() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": []
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        307 => "Temporary Redirect",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// TLS in front of another server, with a self-signed certificate for `127.0.0.1` and
/// `localhost` made for this test run.
pub struct TlsFront {
    pub addr: SocketAddr,
    /// The self-signed certificate, PEM: what `--ca-cert` must be given to trust it.
    pub cert_pem: String,
    task: JoinHandle<()>,
}

impl TlsFront {
    /// Terminates TLS on a free 127.0.0.1 port and relays the plain bytes to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TlsFront {
        TlsFront::start_with(upstream, rcgen::IsCa::NoCa).await
    }

    /// Like [`TlsFront::start`], with a self-signed certificate that says it is a CA
    /// (`basicConstraints CA:TRUE`), as `openssl req -x509` makes by default.
    pub async fn start_as_ca(upstream: SocketAddr) -> TlsFront {
        let ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        TlsFront::start_with(upstream, ca).await
    }

    async fn start_with(upstream: SocketAddr, is_ca: rcgen::IsCa) -> TlsFront {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
                .expect("certificate parameters");
        params.is_ca = is_ca;
        let key = rcgen::KeyPair::generate().expect("key pair");
        let cert = params.self_signed(&key).expect("self-signed certificate");
        let cert_pem = cert.pem();
        let cert_der = cert.der().clone();
        let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der()),
        );
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert_der], key_der)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to relay.
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut up) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                });
            }
        });
        TlsFront {
            addr,
            cert_pem,
            task,
        }
    }

    /// `https://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
