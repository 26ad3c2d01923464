//! `scimcheck proxy`: forwards every request and response unchanged, checks each exchange
//! against what Entra expects, names Entra's request shapes, and writes reports without
//! credentials.

use crate::common;

use std::sync::{Arc, Mutex};

use common::{TOKEN, run_against, server};
use scimcheck::http::TenantUrl;
use scimcheck::proxy::check::Verdict;
use scimcheck::proxy::report::{Exchange, Reports, Summary};
use scimcheck::proxy::{Proxy, ProxyConfig, start};
use scimcheck::scenario::Dialect;

fn config(upstream: &str) -> ProxyConfig {
    ProxyConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        upstream: TenantUrl::parse(upstream).unwrap(),
        tls: None,
        timeout: std::time::Duration::from_secs(30),
        ca_cert: None,
        max_body: 1024 * 1024,
    }
}

/// Every exchange the proxy finished so far (waits until `n` arrived, bounded).
async fn drain(proxy: &mut Proxy, n: usize) -> Vec<Exchange> {
    let mut out = vec![];
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while out.len() < n {
        match tokio::time::timeout_at(deadline, proxy.exchanges.recv()).await {
            Ok(Some(e)) => out.push(e),
            _ => break,
        }
    }
    // The last exchanges are reported just after their response ends: wait until it is quiet.
    while let Ok(Some(e)) = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        proxy.exchanges.recv(),
    )
    .await
    {
        out.push(e);
    }
    out
}

type Seen = Arc<Mutex<Vec<(String, String, Vec<(String, Vec<u8>)>, Vec<u8>)>>>;

/// An upstream that records what it receives and answers fixed bytes.
async fn recording_upstream() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let s = s.clone();
        async move {
            let (parts, body) = req.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let headers = parts
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
                .collect();
            s.lock().unwrap().push((
                parts.method.to_string(),
                parts.uri.to_string(),
                headers,
                bytes.to_vec(),
            ));
            axum::response::Response::builder()
                .status(201)
                .header("content-type", "application/scim+json; charset=utf-8")
                .header("x-odd", "  spaced\tvalue ")
                .header("set-cookie", "a=1")
                .header("set-cookie", "b=2")
                .body(axum::body::Body::from(
                    b"{ \"schemas\" : [\"urn:ietf:params:scim:schemas:core:2.0:User\"],\n\"id\":\"1\", \"userName\":\"caf\xc3\xa9\" }\r\n".to_vec(),
                ))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/scim/v2"), seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_and_responses_pass_through_byte_for_byte() {
    let (upstream, seen) = recording_upstream().await;
    let mut proxy = start(config(&upstream)).await.unwrap();
    let client = reqwest::Client::builder().no_gzip().build().unwrap();
    let body = b"{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\":\"caf\xc3\xa9\"  }".to_vec();
    let send = |base: String| {
        let client = client.clone();
        let body = body.clone();
        async move {
            client
                .post(format!("{base}/Users?x=a%20b&y=%22q%22"))
                .header("Authorization", format!("Bearer {TOKEN}"))
                .header("Content-Type", "application/scim+json")
                .header("X-Trace", "t-1")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let direct = send(upstream.clone()).await;
    let proxied = send(format!("http://{}", proxy.addr)).await;

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    let strip_host = |h: &Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        h.iter().filter(|(k, _)| k != "host").cloned().collect()
    };
    assert_eq!(seen[0].0, seen[1].0, "method");
    assert_eq!(seen[0].1, seen[1].1, "path and query");
    assert_eq!(
        strip_host(&seen[0].2),
        strip_host(&seen[1].2),
        "request headers"
    );
    assert_eq!(seen[1].3, body, "request body");
    assert!(
        seen[1]
            .2
            .iter()
            .any(|(k, v)| k == "authorization" && v == format!("Bearer {TOKEN}").as_bytes()),
        "the Authorization header is forwarded"
    );

    assert_eq!(direct.status(), proxied.status());
    let headers = |r: &reqwest::Response| -> Vec<(String, Vec<u8>)> {
        r.headers()
            .iter()
            .filter(|(k, _)| k.as_str() != "date")
            .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
            .collect()
    };
    assert_eq!(headers(&direct), headers(&proxied), "response headers");
    assert_eq!(
        direct.bytes().await.unwrap(),
        proxied.bytes().await.unwrap(),
        "response body"
    );
    let ex = drain(&mut proxy, 1).await;
    assert_eq!(ex[0].shape, "Entra's user create");
    assert!(
        !format!("{:?}", ex[0].request).contains(TOKEN),
        "recorded without the token"
    );
    proxy.stop();
}

/// The built-in suite through the proxy to the reference server with `quirks`; the exchanges,
/// and the JSON and HAR reports as text.
async fn suite_through_proxy(quirks: &[&str]) -> (Vec<Exchange>, String, String) {
    let server = server(quirks).await;
    let mut proxy = start(config(&server.base_url())).await.unwrap();
    let out = run_against(
        &format!("http://{}", proxy.addr),
        scimcheck::scenario::builtin(),
        &[Dialect::Default],
    )
    .await;
    // Behind the proxy `meta.location` names the upstream host: a warning, still an answer.
    let sent: usize = out.summary.passed + out.summary.failed + out.summary.warned;
    assert!(sent > 50, "{:?}", out.summary);
    let exchanges = drain(&mut proxy, 100).await;
    proxy.stop();
    server.shutdown().await;
    let dir = tempfile::tempdir().unwrap();
    let specs = vec![
        format!("json={}", dir.path().join("p.json").display())
            .parse()
            .unwrap(),
        format!("har={}", dir.path().join("p.har").display())
            .parse()
            .unwrap(),
    ];
    let mut reports = Reports::open(&specs, "upstream").unwrap();
    let mut summary = Summary::default();
    for e in &exchanges {
        summary.count(e);
        reports.write(e).unwrap();
    }
    reports.finish(&summary).unwrap();
    let json = std::fs::read_to_string(dir.path().join("p.json")).unwrap();
    let har = std::fs::read_to_string(dir.path().join("p.har")).unwrap();
    let _: serde_json::Value = serde_json::from_str(&json).expect("the JSON report parses");
    let h: serde_json::Value = serde_json::from_str(&har).expect("the HAR parses");
    assert_eq!(
        h["log"]["entries"].as_array().unwrap().len(),
        exchanges.len()
    );
    (exchanges, json, har)
}

#[tokio::test(flavor = "multi_thread")]
async fn between_the_suite_and_a_good_server_nothing_fails_and_no_secret_is_written() {
    let (exchanges, json, har) = suite_through_proxy(&[]).await;
    let failed: Vec<String> = exchanges
        .iter()
        .filter(|e| e.verdict == Verdict::Fail)
        .map(Exchange::line)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(
        exchanges
            .iter()
            .any(|e| e.shape == "Entra's Test Connection probe (users)")
    );
    assert!(
        exchanges
            .iter()
            .any(|e| e.shape == "Entra's disable (default dialect)")
    );
    assert!(
        exchanges
            .iter()
            .any(|e| e.verdict == Verdict::Note && e.request.method == "POST"),
        "a duplicate create answered 409 is a note"
    );
    for text in [&json, &har] {
        assert!(!text.contains(TOKEN), "a report leaks the token");
    }
    assert!(har.contains("Bearer REDACTED"));
    assert!(
        json.contains("\"failed\":0"),
        "{}",
        &json[json.len() - 300..]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quirk_shows_up_in_the_proxys_report_as_entras_request_rejected() {
    let (exchanges, json, _) = suite_through_proxy(&["rejects-capitalised-ops"]).await;
    let disable = exchanges
        .iter()
        .find(|e| e.shape == "Entra's disable (default dialect)")
        .expect("the disable went through the proxy");
    assert_eq!(disable.verdict, Verdict::Fail);
    assert!(
        disable
            .line()
            .contains("400 from the app (Entra expects 200 or 204)"),
        "{}",
        disable.line()
    );
    assert!(json.contains("Entra's disable (default dialect)"));
    assert!(json.contains("\"verdict\":\"fail\""));
    let mut summary = Summary::default();
    let mut failed = vec![];
    for e in &exchanges {
        summary.count(e);
        if e.verdict == Verdict::Fail {
            failed.push(e.line());
        }
    }
    let filters = vec![
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "UUID",
        ),
        (r"  \d+ ms  ", "  N ms  "),
    ];
    // Scenarios run in parallel: order the lines as they read, ids and times left out.
    let ms = regex::Regex::new(r"  \d+ ms  ").unwrap();
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let mut failed: Vec<String> = failed
        .iter()
        .map(|l| {
            let l = uuid.replace_all(l, "UUID");
            ms.replace_all(&l, "  N ms  ").into_owned()
        })
        .collect();
    failed.sort();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, filters => filters}, {
        insta::assert_snapshot!(
            "proxy__proxy_rejects_capitalised_ops",
            format!("{}\n\n{}", failed.join("\n"), summary.text())
        );
    });

    let (exchanges, ..) = suite_through_proxy(&["ignores-excluded-attributes"]).await;
    assert!(
        exchanges
            .iter()
            .any(|e| e.verdict == Verdict::Fail
                && e.request.url.contains("excludedAttributes=members")),
        "members returned despite excludedAttributes fail"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_tls_serves_https_with_the_given_certificate() {
    let server = server(&[]).await;
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let mut c = config(&server.base_url());
    c.tls = Some((cert, key));
    let mut proxy = start(c).await.unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ck.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!(
            "https://127.0.0.1:{}/ServiceProviderConfig",
            proxy.addr.port()
        ))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ex = drain(&mut proxy, 1).await;
    assert_eq!(ex[0].verdict, Verdict::Pass, "{:?}", ex[0].findings);
    proxy.stop();
    server.shutdown().await;
}
