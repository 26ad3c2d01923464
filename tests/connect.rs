//! `scimcheck connect`: every diagnosis against a local server that reproduces the condition.
//! Each test asserts the finding's stable code in the JSON output, not just a failure.

use crate::common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use common::TOKEN;
use scimcheck::server::{Quirk, Server, ServerOptions};

/// Runs the binary off the async runtime (the test servers keep serving meanwhile).
async fn scimcheck(args: Vec<String>, env: Vec<(String, String)>) -> (i32, String) {
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        common::scimcheck(&args, &env)
    })
    .await
    .expect("binary ran");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr.is_empty() || !stderr.contains("panicked"),
        "{stderr}"
    );
    (out.status.code().unwrap_or(-1), stdout)
}

/// `scimcheck connect --url URL --token TOKEN [extra] --json`: exit code and parsed report.
async fn connect_json(url: &str, token: &str, extra: &[&str]) -> (i32, Value, String) {
    connect_json_env(url, token, extra, &[]).await
}

/// The same with environment variables (`SSL_CERT_FILE` makes a test CA a system CA).
async fn connect_json_env(
    url: &str,
    token: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, Value, String) {
    let mut args: Vec<String> = ["connect", "--url", url, "--token", token, "--json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let (code, out) = scimcheck(args, env).await;
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["exit_code"], json!(code), "{out}");
    (code, report, out)
}

/// The human output.
async fn connect_human(url: &str, token: &str, extra: &[&str]) -> (i32, String) {
    connect_human_env(url, token, extra, &[]).await
}

async fn connect_human_env(
    url: &str,
    token: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, String) {
    let mut args: Vec<String> = ["connect", "--url", url, "--token", token]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    let env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    scimcheck(args, env).await
}

fn codes(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == code)
        .unwrap_or_else(|| panic!("no finding {code} in {:#}", report["findings"]))
}

#[track_caller]
fn assert_has(report: &Value, code: &str) {
    assert!(
        codes(report).iter().any(|c| c == code),
        "expected {code} among {:?}\n{report:#}",
        codes(report)
    );
}

fn outcome(report: &Value) -> &str {
    report["verdict"]["outcome"].as_str().unwrap()
}

async fn reference(quirks: &[&str], base_path: &str) -> Server {
    let quirks: Vec<Quirk> = quirks.iter().map(|q| q.parse().unwrap()).collect();
    Server::start(ServerOptions {
        token: TOKEN.into(),
        quirks,
        base_path: base_path.into(),
        ..ServerOptions::default()
    })
    .await
    .expect("server starts")
}

async fn spawn(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

fn scim_json(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

fn empty_list() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
           "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 0})
}

/// A tiny server answering every request with `reply`.
async fn answering(reply: fn(&str) -> Response) -> SocketAddr {
    spawn(Router::new().fallback(move |req: Request| async move { reply(req.uri().path()) })).await
}

// ---------------------------------------------------------------------------------------------
// TLS: certificates generated here, a TLS listener that forwards to a plain backend.

struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_file: tempfile::NamedTempFile,
}

fn pki() -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "scimcheck test CA");
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca.pem()).unwrap();
    Pki { ca, ca_file }
}

type Identity = (CertificateDer<'static>, PrivateKeyDer<'static>);

fn key_der(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

impl Pki {
    fn leaf(&self, names: &[&str], expired: bool) -> Identity {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        (cert.der().clone(), key_der(&key))
    }

    fn ca_path(&self) -> String {
        self.ca_file.path().display().to_string()
    }
}

fn self_signed() -> Identity {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    (ck.cert.der().clone(), key_der(&ck.signing_key))
}

/// A TLS listener with `identity`; forwards each connection to `backend` when given.
async fn tls_listener(identity: Identity, backend: Option<SocketAddr>) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![identity.0], identity.1)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                if let Some(b) = backend
                    && let Ok(mut up) = TcpStream::connect(b).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                }
            });
        }
    });
    addr
}

/// The reference server (with `quirks`) behind HTTPS with a certificate from a test CA.
/// Returns the https Tenant URL and the CA (keep it alive: it holds the CA file, to be passed
/// as `SSL_CERT_FILE` so that the CA counts as a system CA, as a public one would).
async fn https_reference(quirks: &[&str]) -> (String, Pki, Server) {
    let server = reference(quirks, "/scim/v2").await;
    let pki = pki();
    let front = tls_listener(pki.leaf(&["127.0.0.1"], false), Some(server.addr())).await;
    (format!("https://{front}/scim/v2"), pki, server)
}

fn jwt(claims: Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode("not-a-real-signature-but-secret")
    )
}

/// Human output with ports, uuids and times normalised.
macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            snapshot_path => "../snapshots",
            prepend_module_to_snapshot => false,
            filters => vec![
                (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
                (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[UUID]"),
                (r"\b\d+(\.\d+)? m?s\b", "[TIME]"),
            ],
        }, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

// ---------------------------------------------------------------------------------------------
// The verdict.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conformant_https_endpoint_passes_test_connection_with_exit_0() {
    let (url, pki, server) = https_reference(&[]).await;
    let ca = pki.ca_path();
    let (code, report, _) = connect_json_env(&url, TOKEN, &[], &[("SSL_CERT_FILE", &ca)]).await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(outcome(&report), "pass");
    assert_eq!(codes(&report), Vec::<String>::new());
    let probes = report["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 2, "no follow-up probes when all is well");
    assert!(
        probes[0]["url"]
            .as_str()
            .unwrap()
            .contains("/Users?filter=userName%20eq%20%22")
    );
    assert!(
        probes[1]["url"]
            .as_str()
            .unwrap()
            .contains("/Groups?excludedAttributes=members&filter=displayName%20eq%20%22")
    );
    let (code, text) = connect_human_env(&url, TOKEN, &[], &[("SSL_CERT_FILE", &ca)]).await;
    assert_eq!(code, 0);
    snapshot!("connect_pass", text);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_fails_the_verdict_but_the_endpoint_is_still_probed() {
    let server = reference(&[], "/scim/v2").await;
    let (code, report, _) = connect_json(&server.base_url(), TOKEN, &[]).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["url.not-https"]);
    let f = finding(&report, "url.not-https");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["blocks_test_connection"], true);
    assert!(
        f["suggested_url"]
            .as_str()
            .unwrap()
            .starts_with("https://127.0.0.1:")
    );
    assert_eq!(report["probes"][0]["status"], 200);
    assert_eq!(report["probes"][1]["status"], 200);
}

// ---------------------------------------------------------------------------------------------
// Reaching the host.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unresolvable_host_name_is_a_dns_failure_with_exit_3() {
    let (code, report, _) = connect_json(
        "https://scimcheck-no-such-host.invalid/scim/v2",
        TOKEN,
        &["--timeout", "5"],
    )
    .await;
    assert_eq!(code, 3);
    assert_eq!(outcome(&report), "unreachable");
    assert_has(&report, "net.dns");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_connection_refused_with_exit_3() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (code, report, _) =
        connect_json(&format!("https://127.0.0.1:{port}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 3);
    assert_eq!(codes(&report), vec!["net.refused"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_never_answers_is_a_timeout_after_a_tcp_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            keep.lock().unwrap().push(s); // accepted, never answered
        }
    });
    let (code, report, _) = connect_json(
        &format!("http://{addr}/scim/v2"),
        TOKEN,
        &["--timeout", "1"],
    )
    .await;
    assert_eq!(code, 3);
    assert_has(&report, "net.timeout");
    let tcp = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["method"] == "TCP")
        .expect("a TCP follow-up");
    assert_eq!(tcp["ok"], true, "the TCP connect itself succeeds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_is_named_as_such() {
    let addr = tls_listener(self_signed(), None).await;
    let url = format!("https://{addr}/scim/v2");
    let (code, report, _) = connect_json(&url, TOKEN, &[]).await;
    assert_eq!(code, 3);
    assert_eq!(codes(&report), vec!["tls.self-signed"]);
    let tls_probe = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["method"] == "TLS")
        .expect("an unverified handshake follow-up");
    assert_eq!(tls_probe["auth"], "none");
    let (_, text) = connect_human(&url, TOKEN, &[]).await;
    snapshot!("connect_tls_self_signed", text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_an_unknown_ca_is_untrusted() {
    let pki = pki();
    let addr = tls_listener(pki.leaf(&["127.0.0.1"], false), None).await;
    let (code, report, _) = connect_json(&format!("https://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 3);
    assert_eq!(codes(&report), vec!["tls.untrusted"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_reported_with_its_expiry_date() {
    let pki = pki();
    let addr = tls_listener(pki.leaf(&["127.0.0.1"], true), None).await;
    let (code, report, _) = connect_json(
        &format!("https://{addr}/scim/v2"),
        TOKEN,
        &["--ca-cert", &pki.ca_path()],
    )
    .await;
    assert_eq!(code, 3);
    assert_eq!(codes(&report), vec!["tls.expired"]);
    assert!(
        finding(&report, "tls.expired")["title"]
            .as_str()
            .unwrap()
            .contains("2020-01-01"),
        "{report:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_host_name_is_a_wrong_host() {
    let pki = pki();
    let addr = tls_listener(pki.leaf(&["scim.example.test"], false), None).await;
    let (code, report, _) = connect_json(
        &format!("https://{addr}/scim/v2"),
        TOKEN,
        &["--ca-cert", &pki.ca_path()],
    )
    .await;
    assert_eq!(code, 3);
    assert_eq!(codes(&report), vec!["tls.wrong-host"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_tls_1_2_and_1_3_is_below_the_minimum_version() {
    // Answers every ClientHello with a fatal `protocol_version` alert, as a TLS 1.0-only server does.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])
                    .await;
            });
        }
    });
    let (code, report, _) = connect_json(&format!("https://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 3);
    assert_eq!(codes(&report), vec!["tls.old-version"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_to_a_plain_http_port_is_told_apart() {
    let server = reference(&[], "/scim/v2").await;
    let url = server.base_url().replace("http://", "https://");
    let (code, report, _) = connect_json(&url, TOKEN, &[]).await;
    assert_eq!(code, 3);
    assert_eq!(codes(&report), vec!["tls.not-tls"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_given_with_ca_cert_lets_the_probes_through_but_fails_as_for_entra() {
    let (url, pki, server) = https_reference(&[]).await;
    let (code, report, _) = connect_json(&url, TOKEN, &["--ca-cert", &pki.ca_path()]).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["tls.untrusted"]);
    assert_eq!(
        report["probes"][0]["status"], 200,
        "the rest is still diagnosed"
    );
    assert!(
        finding(&report, "tls.untrusted")["details"]
            .to_string()
            .contains("--ca-cert")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_diagnoses_the_rest_and_still_names_the_self_signed_certificate() {
    let server = reference(&["groups-not-found"], "/scim/v2").await;
    let front = tls_listener(self_signed(), Some(server.addr())).await;
    let (code, report, _) =
        connect_json(&format!("https://{front}/scim/v2"), TOKEN, &["--insecure"]).await;
    assert_eq!(code, 1);
    assert_has(&report, "tls.self-signed");
    assert_has(&report, "groups.not-found");
    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The Tenant URL's shape.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_path_prefix_is_found_and_the_working_tenant_url_suggested() {
    let server = reference(&[], "/api/scim/v2").await;
    let typed = format!("http://{}/scim/v2", server.addr());
    let (code, report, _) = connect_json(&typed, TOKEN, &[]).await;
    assert_eq!(code, 1);
    assert_has(&report, "url.wrong-path");
    let f = finding(&report, "url.wrong-path");
    assert_eq!(
        f["suggested_url"],
        format!("http://{}/api/scim/v2", server.addr())
    );
    assert_eq!(
        report["verdict"]["entra"]["text"].as_str().unwrap(),
        "An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response. To address this issue, ensure that the tenant URL is correct."
    );
    let (_, text) = connect_human(&typed, TOKEN, &[]).await;
    snapshot!("connect_wrong_path_prefix", text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_path_prefix_is_found_too() {
    let server = reference(&[], "/scim/v2").await;
    let typed = format!("http://{}/api/scim/v2", server.addr());
    let (_, report, _) = connect_json(&typed, TOKEN, &[]).await;
    assert_has(&report, "url.wrong-path");
    assert_eq!(
        finding(&report, "url.wrong-path")["suggested_url"],
        format!("http://{}/scim/v2", server.addr())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_scim_segment_is_named() {
    let server = reference(&[], "/scim").await;
    let typed = format!("http://{}/?aadOptscim062020", server.addr());
    let (_, report, _) = connect_json(&typed, TOKEN, &[]).await;
    assert_has(&report, "url.missing-scim-segment");
    assert_eq!(
        finding(&report, "url.missing-scim-segment")["suggested_url"],
        format!("http://{}/scim/?aadOptscim062020", server.addr()),
        "the dialect flag is kept in the suggestion"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_extra_v2_segment_is_named() {
    let server = reference(&[], "/scim").await;
    let (_, report, _) =
        connect_json(&format!("http://{}/scim/v2", server.addr()), TOKEN, &[]).await;
    assert_has(&report, "url.extra-path-segment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_url_that_includes_users_is_named() {
    let server = reference(&[], "/scim/v2").await;
    let (_, report, _) = connect_json(&format!("{}/Users", server.base_url()), TOKEN, &[]).await;
    assert_has(&report, "url.includes-resource-path");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_only_routes_a_trailing_slash_is_named() {
    let addr = answering(|path| match path {
        "/scim/Users/" | "/scim/Groups/" => scim_json(StatusCode::OK, empty_list()),
        _ => scim_json(StatusCode::NOT_FOUND, json!({"detail": "no route"})),
    })
    .await;
    let (_, report, _) = connect_json(&format!("http://{addr}/scim"), TOKEN, &[]).await;
    assert_has(&report, "url.trailing-slash");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_url_that_matches_nothing_nearby_is_users_not_found() {
    let addr =
        answering(|_| scim_json(StatusCode::NOT_FOUND, json!({"detail": "nothing here"}))).await;
    let (code, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 1);
    assert_has(&report, "users.not-found");
    let follow_ups = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["stage"] == "follow-up")
        .count();
    assert!(
        (3..=11).contains(&follow_ups),
        "a bounded search: {follow_ups}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_port_is_reported_and_the_token_is_not_sent_there() {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let record = seen.clone();
    let target = spawn(Router::new().fallback(move |req: Request| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push(req.headers().clone());
            scim_json(StatusCode::OK, empty_list())
        }
    }))
    .await;
    let redirector = spawn(Router::new().fallback(move |req: Request| async move {
        let to = format!("http://{target}{}", req.uri().path_and_query().unwrap());
        (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()
    }))
    .await;
    let (code, report, _) = connect_json(&format!("http://{redirector}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 1);
    assert_has(&report, "url.redirect");
    let f = finding(&report, "url.redirect");
    assert_eq!(f["suggested_url"], format!("http://{target}/scim/v2"));
    assert!(
        f["details"]
            .to_string()
            .contains(&format!("Location: http://{target}/scim/v2/Users"))
    );
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().all(|h| !h.contains_key(header::AUTHORIZATION)),
        "the token was sent to the redirect target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_origin_redirect_is_probed_once_to_say_whether_its_target_works() {
    let addr = answering(|path| {
        if let Some(rest) = path.strip_prefix("/old") {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, format!("/scim/v2{rest}"))],
            )
                .into_response()
        } else {
            scim_json(StatusCode::OK, empty_list())
        }
    })
    .await;
    let (_, report, _) = connect_json(&format!("http://{addr}/old"), TOKEN, &[]).await;
    let f = finding(&report, "url.redirect");
    assert_eq!(f["suggested_url"], format!("http://{addr}/scim/v2"));
    assert!(
        f["details"]
            .to_string()
            .contains("answers Entra's request correctly"),
        "{f:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// The token.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_rejected_with_the_portal_message() {
    let (url, pki, server) = https_reference(&[]).await;
    let (code, report, _) = connect_json_env(
        &url,
        "some-other-token",
        &[],
        &[("SSL_CERT_FILE", &pki.ca_path())],
    )
    .await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["auth.token-rejected"]);
    assert_eq!(
        report["verdict"]["entra"]["code"],
        "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_bearer_prefix_is_found_confirmed_and_never_printed() {
    let (url, pki, server) = https_reference(&[]).await;
    let pasted = format!("Bearer {TOKEN}");
    let ca = pki.ca_path();
    let (code, report, raw) = connect_json_env(&url, &pasted, &[], &[("SSL_CERT_FILE", &ca)]).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["auth.bearer-prefix"]);
    assert!(
        finding(&report, "auth.bearer-prefix")["details"]
            .to_string()
            .contains("confirmed")
    );
    assert_eq!(report["token"]["bearer_prefix"], true);
    let (_, text) = connect_human_env(&url, &pasted, &[], &[("SSL_CERT_FILE", &ca)]).await;
    for out in [&raw, &text] {
        assert!(!out.contains(TOKEN), "the token leaked:\n{out}");
    }
    snapshot!("connect_bearer_prefix", text);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_jwt_is_decoded_locally_and_neither_token_nor_signature_is_printed() {
    let (url, pki, server) = https_reference(&[]).await;
    let token =
        jwt(json!({"iss": "https://issuer.example.com/", "aud": "scim", "exp": 1_600_000_000}));
    let signature = token.rsplit('.').next().unwrap().to_string();
    let ca = pki.ca_path();
    let (code, report, raw) = connect_json_env(&url, &token, &[], &[("SSL_CERT_FILE", &ca)]).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["auth.jwt-expired"]);
    assert_eq!(report["token"]["jwt"]["exp"], "2020-09-13T12:26:40Z");
    assert_eq!(report["token"]["jwt"]["iss"], "https://issuer.example.com/");
    assert!(
        finding(&report, "auth.jwt-expired")["title"]
            .as_str()
            .unwrap()
            .contains("2020-09-13 12:26 UTC")
    );
    let (_, text) = connect_human_env(&url, &token, &[], &[("SSL_CERT_FILE", &ca)]).await;
    for out in [&raw, &text] {
        assert!(!out.contains(&token), "the token leaked");
        assert!(!out.contains(&signature), "the JWT signature leaked");
    }
    assert!(text.contains("issued by https://issuer.example.com/, expired 2020-09-13 12:26 UTC"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_is_a_token_without_permission() {
    let addr = answering(|_| {
        scim_json(
            StatusCode::FORBIDDEN,
            json!({"detail": "scope scim.read missing"}),
        )
    })
    .await;
    let (code, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 1);
    assert_has(&report, "auth.forbidden");
    assert!(
        finding(&report, "auth.forbidden")["details"]
            .to_string()
            .contains("scope scim.read missing")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_prefix_is_still_flagged_when_something_else_fails_first() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_, report, raw) = connect_json(
        &format!("https://127.0.0.1:{port}/scim/v2"),
        &format!("Bearer {TOKEN}"),
        &[],
    )
    .await;
    assert_eq!(codes(&report), vec!["net.refused", "auth.bearer-prefix"]);
    assert!(!raw.contains(TOKEN));
}

// ---------------------------------------------------------------------------------------------
// The answers.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_not_found_fails_test_connection_as_service_incompatible() {
    let (url, pki, server) = https_reference(&["groups-not-found"]).await;
    let ca = pki.ca_path();
    let (code, report, _) = connect_json_env(&url, TOKEN, &[], &[("SSL_CERT_FILE", &ca)]).await;
    assert_eq!(code, 1);
    assert_eq!(codes(&report), vec!["groups.not-found"]);
    assert_eq!(
        report["verdict"]["entra"]["code"],
        "SystemForCrossDomainIdentityManagementServiceIncompatible"
    );
    let (_, text) = connect_human_env(&url, TOKEN, &[], &[("SSL_CERT_FILE", &ca)]).await;
    snapshot!("connect_groups_not_found", text);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_for_an_empty_filter_result_is_told_apart_from_a_wrong_url() {
    let (url, pki, server) = https_reference(&["empty-filter-returns-404"]).await;
    let (_, report, _) =
        connect_json_env(&url, TOKEN, &[], &[("SSL_CERT_FILE", &pki.ca_path())]).await;
    assert_has(&report, "users.empty-filter-404");
    assert_has(&report, "groups.empty-filter-404");
    assert!(!codes(&report).iter().any(|c| c.starts_with("url.")));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_error_pages_on_a_404_are_noted_on_the_probe() {
    let (url, pki, server) =
        https_reference(&["empty-filter-returns-404", "non-scim-errors"]).await;
    let (_, report, _) =
        connect_json_env(&url, TOKEN, &[], &[("SSL_CERT_FILE", &pki.ca_path())]).await;
    assert_has(&report, "users.empty-filter-404");
    assert!(
        report["probes"][0]["notes"]
            .to_string()
            .contains("HTML page")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_json_is_a_warning_that_does_not_fail_test_connection() {
    let (url, pki, server) = https_reference(&["json-content-type"]).await;
    let (code, report, _) =
        connect_json_env(&url, TOKEN, &[], &[("SSL_CERT_FILE", &pki.ca_path())]).await;
    assert_eq!(code, 0);
    assert_eq!(codes(&report), vec!["response.json-content-type"]);
    assert_eq!(
        finding(&report, "response.json-content-type")["severity"],
        "warning"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_html_sign_in_page_means_the_request_did_not_reach_the_scim_endpoint() {
    let addr = answering(|_| {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Sign in to Contoso</title></head><body><form><input type=\"password\"></form></body></html>",
        )
            .into_response()
    })
    .await;
    let (code, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 1);
    assert_has(&report, "response.html");
    let f = finding(&report, "response.html");
    assert!(f["title"].as_str().unwrap().contains("sign-in page"));
    assert!(f["details"].to_string().contains("Sign in to Contoso"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_reported_with_the_servers_error_detail() {
    let addr = answering(|_| {
        scim_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500",
                   "detail": "database connection pool exhausted"}),
        )
    })
    .await;
    let (code, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 1);
    assert_has(&report, "server.error");
    assert!(
        finding(&report, "server.error")["details"]
            .to_string()
            .contains("database connection pool exhausted")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_parse_is_not_json() {
    let addr = answering(|_| {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/scim+json")],
            "{\"schemas\": [",
        )
            .into_response()
    })
    .await;
    let (_, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_has(&report, "response.not-json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_array_is_not_a_list_response() {
    let addr = answering(|_| scim_json(StatusCode::OK, json!([]))).await;
    let (_, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_has(&report, "users.not-list-response");
    assert_has(&report, "groups.not-list-response");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_that_matches_a_random_guid_is_flagged_as_ignored() {
    let addr = answering(|_| {
        scim_json(
            StatusCode::OK,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1,
                   "startIndex": 1, "itemsPerPage": 1,
                   "Resources": [{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": "alice"}]}),
        )
    })
    .await;
    let (_, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_has(&report, "users.filter-ignored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_filter_is_told_apart_from_a_broken_collection() {
    let addr = spawn(Router::new().fallback(|req: Request| async move {
        if req.uri().query().unwrap_or_default().contains("filter") {
            scim_json(
                StatusCode::BAD_REQUEST,
                json!({"scimType": "invalidFilter", "detail": "filters are not supported"}),
            )
        } else {
            scim_json(StatusCode::OK, empty_list())
        }
    }))
    .await;
    let (code, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_eq!(code, 1);
    assert_has(&report, "users.filter-rejected");
    assert!(
        finding(&report, "users.filter-rejected")["details"]
            .to_string()
            .contains("filters are not supported")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_excluded_attributes_on_groups_are_pinned_down() {
    let addr = spawn(Router::new().fallback(|req: Request| async move {
        let query = req.uri().query().unwrap_or_default().to_string();
        if query.contains("excludedAttributes") {
            scim_json(
                StatusCode::BAD_REQUEST,
                json!({"detail": "unknown parameter excludedAttributes"}),
            )
        } else {
            scim_json(StatusCode::OK, empty_list())
        }
    }))
    .await;
    let (_, report, _) = connect_json(&format!("http://{addr}/scim/v2"), TOKEN, &[]).await;
    assert_has(&report, "groups.excluded-attributes-rejected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_responses_are_reported_with_their_times() {
    let addr = spawn(Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_millis(250)).await;
        scim_json(StatusCode::OK, empty_list())
    }))
    .await;
    let (_, report, _) = connect_json(
        &format!("http://{addr}/scim/v2"),
        TOKEN,
        &["--slow-ms", "100"],
    )
    .await;
    assert_has(&report, "slow.response");
    assert_eq!(finding(&report, "slow.response")["severity"], "warning");
    assert_eq!(report["probes"][0]["slow"], true);
    assert_eq!(report["slow_threshold_ms"], 100);
}
