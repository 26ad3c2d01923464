//! `reqwest-baseline URL TOKEN REQUESTS CONCURRENCY`: sends REQUESTS GETs to URL from
//! CONCURRENCY tasks with the same reqwest settings as scimcheck's client, reads every body, and
//! prints the requests per second.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, token, n, c] = args.as_slice() else {
        eprintln!("usage: reqwest-baseline URL TOKEN REQUESTS CONCURRENCY");
        std::process::exit(2);
    };
    let n: u64 = n.parse().expect("REQUESTS is a number");
    let c: usize = c.parse().expect("CONCURRENCY is a number");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent("reqwest-baseline")
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let auth = format!("Bearer {token}");
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..c)
        .map(|_| {
            let (client, next, url, auth) =
                (client.clone(), next.clone(), url.clone(), auth.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let r = client
                        .get(&url)
                        .header("Authorization", &auth)
                        .header("Accept", "application/scim+json")
                        .send()
                        .await
                        .expect("response");
                    let _ = r.bytes().await.expect("body");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    println!("{:.1}", n as f64 / started.elapsed().as_secs_f64());
}
