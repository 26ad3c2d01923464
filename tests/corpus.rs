//! The figures of the README's "Safe on production" section: over a generated corpus of 1,000
//! hostile responses (one run) and 500 mutated scenario files, scimcheck never panics, never
//! hangs past its timeouts, and its peak resident memory stays under 200 MiB at default limits.
//! Peak RSS is the kernel's high-water mark (`VmHWM`), sampled until the process exits.

use crate::common;
use crate::rogue;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TOKEN;
use rogue::{Answer, Rogue};
use serde_json::{Value, json};

/// Runs the binary, sampling its peak RSS; returns (exit code, output, peak KiB).
fn measured(args: &[&str], limit: Duration) -> (Option<i32>, String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(args)
        .env_remove("SCIMCHECK_TOKEN")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status_file = format!("/proc/{}/status", child.id());
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    // Both pipes are drained at once: a full stderr pipe must not stall the child.
    let stderr = std::thread::spawn(move || {
        let mut e = String::new();
        let _ = err.read_to_string(&mut e);
        e
    });
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s + &stderr.join().unwrap_or_default()
    });
    let started = Instant::now();
    let mut peak = 0u64;
    let code = loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kib) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (code, reader.join().expect("reader"), peak)
}

/// The `n`th hostile response of the corpus.
fn hostile(n: usize) -> Answer {
    let scim =
        |body: String| rogue::response(200, &[("Content-Type", "application/scim+json")], body);
    let list = |resources: Vec<Value>| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": resources.len(), "startIndex": 1, "itemsPerPage": resources.len(),
            "Resources": resources,
        })
        .to_string()
    };
    Answer::Bytes(match n % 12 {
        // Many empty resources.
        0 => scim(list((0..(50_000 + n * 100)).map(|_| json!({})).collect())),
        // Nesting far past any parser's depth.
        1 => scim("[".repeat(100_000 + n)),
        // Beyond the 10 MiB cap.
        2 => return Answer::Flood {
            head: rogue::head(200, &[("Content-Type", "application/scim+json")]),
            total: 11 * 1024 * 1024,
        },
        // Terminal escapes and control characters in every string.
        3 => scim(list(vec![json!({"id": format!("\u{1b}[2J\u{1b}]0;pwned\u{7}{n}"), "userName": "\r\u{202e}x", "schemas": ["\u{9b}31m"]})])),
        // Not UTF-8.
        4 => rogue::response(200, &[("Content-Type", "application/scim+json")], vec![0xff, 0xfe, b'{', 0xc3]),
        // Shorter than announced.
        5 => {
            let mut r = rogue::head(200, &[("Content-Type", "application/scim+json"), ("Content-Length", "100000")]);
            r.extend_from_slice(b"{\"Resources\": [");
            r
        }
        // A huge id and huge strings.
        6 => scim(list(vec![json!({"id": "i".repeat(2_000_000 + n), "userName": "u".repeat(100_000), "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]})])),
        // Not HTTP.
        7 => b"SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02".to_vec(),
        // Many headers, long ones.
        8 => {
            let long = "v".repeat(4000);
            let headers: Vec<(String, String)> = (0..60).map(|i| (format!("X-H{i}"), long.clone())).collect();
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            rogue::response(200, &refs, "{}")
        }
        // Wrong types everywhere.
        9 => scim(list((0..2000).map(|i| json!({"id": i, "userName": [i], "active": "maybe", "emails": {"value": i}, "schemas": i})).collect())),
        // Many findings per resource, many resources.
        10 => scim(list((0..5000).map(|i| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": format!("{i}"), "userName": i, "name": "x", "emails": "y", "meta": 7})).collect())),
        // A 5xx with an HTML page.
        _ => rogue::response(503, &[("Content-Type", "text/html")], "<html>".repeat(10_000)),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_hostile_responses_stay_under_200_mib_without_panic_or_hang() {
    let server = Rogue::start(|_, n| hostile(n)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("corpus.yaml"),
        r#"
id: corpus
name: Hostile corpus
description: A thousand lists.
steps:
  - name: List
    repeat: 1000
    request: { method: GET, path: /Users }
    expect: { status: 200, schema: ListResponse }
"#,
    )
    .expect("write");
    let url = server.url("/scim");
    let scenario = dir.path().join("corpus.yaml").display().to_string();
    let json = format!("json={}", dir.path().join("r.json").display());
    let har = format!("har={}", dir.path().join("r.har").display());
    let (code, out, peak) = tokio::task::spawn_blocking(move || {
        measured(
            &[
                "run",
                "--url",
                &url,
                "--token",
                TOKEN,
                "--timeout",
                "5",
                "--report",
                &json,
                "--report",
                &har,
                &scenario,
            ],
            Duration::from_secs(600),
        )
    })
    .await
    .expect("join");
    assert!(
        server.seen().len() >= 1000,
        "{} responses",
        server.seen().len()
    );
    assert_eq!(code, Some(1), "{}", &out[..out.len().min(3000)]);
    assert!(!out.contains("panicked"), "{}", &out[..out.len().min(3000)]);
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
    assert!(
        out.len() < 4 * 1024 * 1024,
        "terminal output {} bytes",
        out.len()
    );
    for r in ["r.json", "r.har"] {
        let size = std::fs::metadata(dir.path().join(r)).expect("report").len();
        assert!(size < 4 * 1024 * 1024, "{r} is {size} bytes");
    }
    eprintln!(
        "corpus: {} responses, peak RSS {} KiB",
        server.seen().len(),
        peak
    );
}

/// The `n`th mutation of `text`: deterministic edits that break structure, types and sizes.
fn mutate(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = (n * 7919) % lines.len().max(1);
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match n % 10 {
        0 => {
            out.remove(at);
        }
        1 => out.insert(at, out[at].clone()),
        2 => out[at] = out[at].replacen(':', "", 1),
        3 => out[at] = format!("  {}", out[at]),
        4 => out[at] = out[at].replace(|c: char| c.is_ascii_digit(), "18446744073709551616"),
        5 => out.insert(at, format!("    repeat: {}", u32::MAX - n as u32)),
        6 => out[at] = format!("{}{}", out[at], "{{ ".repeat(50)),
        7 => out[at] = out[at].chars().rev().collect(),
        8 => out.insert(at, format!("    id: {}", "x".repeat(10_000 + n))),
        _ => out[at] = format!("{}\u{0}\u{1b}[2J", out[at]),
    }
    out.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_mutated_scenario_files_are_diagnosed_under_200_mib_without_panic() {
    let builtin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/entra");
    let sources: Vec<String> = std::fs::read_dir(&builtin)
        .expect("scenarios")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    for n in 0..500 {
        let text = mutate(&sources[n % sources.len()], n);
        std::fs::write(dir.path().join(format!("m{n:03}.yaml")), text).expect("write");
    }
    let path = dir.path().display().to_string();
    let (code, out, peak) =
        tokio::task::spawn_blocking(move || measured(&["lint", &path], Duration::from_secs(300)))
            .await
            .expect("join");
    assert_eq!(code, Some(2), "{}", &out[..out.len().min(3000)]);
    assert!(!out.contains("panicked"), "{}", &out[..out.len().min(3000)]);
    assert!(!out.contains('\u{1b}'), "raw escapes reached the terminal");
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
    eprintln!(
        "mutated files: 500, peak RSS {peak} KiB, output {} bytes",
        out.len()
    );
}

/// A gzip body that never ends: the gzip header, then deflate blocks of 1 MiB of spaces each,
/// compressed about a thousand to one, for as long as the client reads. Returns the bytes up
/// to the first repeating block, and the block (every block after the first compresses to the
/// same bytes: same input, same window, each ended by a sync flush).
fn gzip_bomb() -> (Vec<u8>, Vec<u8>) {
    use flate2::{Compress, Compression, FlushCompress};
    let spaces = vec![b' '; 1 << 20];
    let mut c = Compress::new(Compression::best(), false);
    let block = |c: &mut Compress| {
        let mut out = Vec::with_capacity(8 * 1024);
        let before = c.total_in();
        while c.total_in() - before < spaces.len() as u64 {
            let done = (c.total_in() - before) as usize;
            c.compress_vec(&spaces[done..], &mut out, FlushCompress::None)
                .expect("deflate");
            if out.len() == out.capacity() {
                out.reserve(8 * 1024);
            }
        }
        loop {
            out.reserve(1024);
            c.compress_vec(&[], &mut out, FlushCompress::Sync)
                .expect("flush");
            if out.len() < out.capacity() {
                break;
            }
        }
        out
    };
    let first = block(&mut c);
    let second = block(&mut c);
    let third = block(&mut c);
    assert_eq!(second, third, "deflate blocks of the same input repeat");
    // Gzip header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
    let mut head = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    head.extend_from_slice(&first);
    head.extend_from_slice(&second);
    (head, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_cut_at_the_cap_after_decompression_streaming_in_bounded_memory() {
    let (start, block) = gzip_bomb();
    assert!(
        block.len() < 4096,
        "1 MiB compresses to {} bytes",
        block.len()
    );
    let server = Rogue::start(move |_, _| {
        let mut head = rogue::head(
            200,
            &[
                ("Content-Type", "application/scim+json"),
                ("Content-Encoding", "gzip"),
            ],
        );
        head.extend_from_slice(&start);
        Answer::Drip {
            head,
            chunk: block.clone(),
            every: Duration::from_millis(0),
        }
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bomb.yaml"),
        "id: bomb\nname: Gzip bomb\ndescription: A body that decompresses for ever.\nsteps:\n  - name: List\n    repeat: 5\n    request: { method: GET, path: /Users }\n    expect: { status: 200, schema: ListResponse }\n",
    )
    .expect("write");
    let url = server.url("/scim");
    let scenario = dir.path().join("bomb.yaml").display().to_string();
    let json = format!("json={}", dir.path().join("r.json").display());
    let started = Instant::now();
    let (code, out, peak) = tokio::task::spawn_blocking(move || {
        measured(
            &[
                "run", "--url", &url, "--token", TOKEN, "--report", &json, &scenario,
            ],
            Duration::from_secs(120),
        )
    })
    .await
    .expect("join");
    assert_eq!(code, Some(1), "{}", &out[..out.len().min(3000)]);
    assert!(
        out.contains("the response body exceeded the size cap (10485760 bytes read"),
        "{}",
        &out[..out.len().min(3000)]
    );
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB");
    let report = std::fs::metadata(dir.path().join("r.json"))
        .expect("report")
        .len();
    assert!(report < 1024 * 1024, "the JSON report is {report} bytes");
    eprintln!(
        "gzip bomb: 5 responses cut at 10 MiB decompressed, peak RSS {peak} KiB, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
