//! Hostile servers and broken files cannot exhaust the machine: what a response can make
//! scimcheck do (findings, resources examined, body kept in reports) and what a scenario can
//! (template expansion, `repeat`, check id length) is bounded, each limit named in the error;
//! numeric flags are range-checked; a `--ca-cert` with no certificate is refused.

use crate::common;
use crate::rogue;

use common::{TOKEN, args, output_text as text, scimcheck_async as scimcheck};
use rogue::{Answer, Rogue};
use serde_json::{Value, json};

const LIST: &str = r#"
id: list
name: List
description: One list.
steps:
  - name: List users
    id: list.users
    request: { method: GET, path: /Users }
    expect: { status: 200, schema: ListResponse }
"#;

fn dir_with(name: &str, body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), body).expect("write");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_200000_broken_resources_gives_bounded_findings_and_bounded_reports() {
    // 200,000 resources, each missing what a User needs: ~2.4 MB of JSON.
    let resources: Vec<Value> = (0..200_000).map(|_| json!({})).collect();
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": resources.len(), "startIndex": 1, "itemsPerPage": resources.len(),
        "Resources": resources,
    })
    .to_string();
    let server = Rogue::start(move |_, _| {
        Answer::Bytes(rogue::response(
            200,
            &[("Content-Type", "application/scim+json")],
            body.clone(),
        ))
    })
    .await;
    let dir = dir_with("list.yaml", LIST);
    let mut a = args(&["run", "--url", &server.url("/scim"), "--token", TOKEN]);
    for format in ["json", "har"] {
        a.push("--report".into());
        a.push(format!(
            "{format}={}",
            dir.path().join(format!("r.{format}")).display()
        ));
    }
    a.push(dir.path().join("list.yaml").display().to_string());
    let out = scimcheck(a).await;
    let out_text = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        &out_text[..out_text.len().min(2000)]
    );
    assert!(
        out_text.len() < 256 * 1024,
        "terminal output is {} bytes",
        out_text.len()
    );
    assert!(
        out_text.contains("more findings were not listed (at most 200 per check, scimcheck's limit; raise it with --limit findings=N)"),
        "{}",
        &out_text[..out_text.len().min(4000)]
    );
    for format in ["json", "har"] {
        let size = std::fs::metadata(dir.path().join(format!("r.{format}")))
            .expect("report")
            .len();
        assert!(size < 1024 * 1024, "{format} report is {size} bytes");
    }
    let har = std::fs::read_to_string(dir.path().join("r.har")).expect("har");
    assert!(
        har.contains("[scimcheck kept the first 16384 of"),
        "the HAR says the body was cut"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exponential_template_a_huge_repeat_and_a_huge_check_id_are_refused_naming_the_limit() {
    let mut vars = String::from("vars:\n  a0: \"xxxxxxxxxxxxxxxx\"\n");
    for i in 1..40 {
        vars.push_str(&format!(
            "  a{i}: \"{{{{ a{} }}}}{{{{ a{} }}}}\"\n",
            i - 1,
            i - 1
        ));
    }
    let bomb = format!(
        "id: bomb\nname: Bomb\ndescription: Grows.\n{vars}steps:\n  - name: Send\n    request: {{ method: GET, path: \"/Users/{{{{ a39 }}}}\" }}\n    expect: {{ status: 404 }}\n"
    );
    let server = common::server(&[]).await;
    let dir = dir_with("bomb.yaml", &bomb);
    let out = scimcheck(args(&[
        "run",
        "--url",
        &server.base_url(),
        "--token",
        TOKEN,
        &dir.path().display().to_string(),
    ]))
    .await;
    let out_text = text(&out);
    assert!(
        out_text.contains("expands to more than 1 MiB"),
        "{out_text}"
    );
    assert!(out_text.len() < 64 * 1024);

    let repeat = "id: r\nname: R\ndescription: Forever.\nsteps:\n  - name: Again\n    repeat: 4294967295\n    request: { method: GET, path: /Users }\n    expect: { status: 200 }\n";
    let dir = dir_with("repeat.yaml", repeat);
    let out = scimcheck(args(&["lint", &dir.path().display().to_string()])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("at most 10000 repetitions"),
        "{}",
        text(&out)
    );

    let long_id = format!(
        "id: l\nname: L\ndescription: Long.\nsteps:\n  - name: Step\n    id: {}\n    request: {{ method: GET, path: /Users }}\n    expect: {{ status: 200 }}\n",
        "x".repeat(70_000)
    );
    let dir = dir_with("long.yaml", &long_id);
    let out = scimcheck(args(&["lint", &dir.path().display().to_string()])).await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        &text(&out)[..200.min(text(&out).len())]
    );
    assert!(text(&out).contains("at most 200 are allowed"));
    assert!(!text(&out).contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numeric_flags_out_of_range_are_refused_not_panics() {
    for a in [
        vec!["load", "--embedded", "--rate", "1e-300"],
        vec!["load", "--embedded", "-c", "18446744073709551615"],
        vec![
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--token",
            TOKEN,
            "--max-body-mib",
            "17592186044416",
        ],
        vec![
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--token",
            TOKEN,
            "--jobs",
            "0",
        ],
    ] {
        let out = scimcheck(args(&a)).await;
        let out_text = text(&out);
        assert_eq!(out.status.code(), Some(2), "{a:?}: {out_text}");
        assert!(!out_text.contains("panicked"), "{a:?}: {out_text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_cert_file_with_no_certificate_or_a_broken_one_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "just some text\n").expect("write");
    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    for (file, says) in [
        (&empty, "holds no certificate"),
        (&broken, "not a valid PEM certificate"),
    ] {
        let out = scimcheck(args(&[
            "run",
            "--url",
            "https://127.0.0.1:9/scim",
            "--token",
            TOKEN,
            "--ca-cert",
            &file.display().to_string(),
        ]))
        .await;
        let out_text = text(&out);
        assert_eq!(out.status.code(), Some(2), "{out_text}");
        assert!(out_text.contains(says), "{out_text}");
        assert!(!out_text.contains("builder error"), "{out_text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_init_against_an_unreachable_server_exits_3() {
    let out = scimcheck(args(&[
        "profiles",
        "init",
        "--from-schemas",
        "--url",
        "http://127.0.0.1:9/scim",
        "--token",
        TOKEN,
    ]))
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_against_a_200_html_login_page_does_not_meet_the_bar() {
    let login = Rogue::start(|_, _| {
        Answer::Bytes(rogue::response(
            200,
            &[("Content-Type", "text/html")],
            "<html>Sign in</html>",
        ))
    })
    .await;
    let out = scimcheck(args(&[
        "load",
        "--url",
        &login.url("/scim"),
        "--token",
        TOKEN,
        "--mode",
        "probe",
        "-n",
        "30",
        "--rate",
        "max",
    ]))
    .await;
    let out_text = text(&out);
    assert_ne!(out.status.code(), Some(0), "{out_text}");
    assert!(!out_text.contains("meets the gallery"), "{out_text}");
    assert!(
        out_text.contains("200 with a body that is not a JSON object"),
        "{out_text}"
    );
}

/// Runs `scimcheck run` with `extra` flags and the one scenario `yaml` against `url`.
async fn run_one(url: &str, yaml: &str, extra: &[&str]) -> (Option<i32>, String) {
    let dir = dir_with("one.yaml", yaml);
    let mut a = args(&["run", "--url", url, "--token", TOKEN]);
    a.extend(args(extra));
    a.push(dir.path().display().to_string());
    let out = scimcheck(a).await;
    (out.status.code(), text(&out))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bound_names_itself_and_the_flag_that_raises_it_and_the_flag_does() {
    // What a response can cost: problems per response, resources per list, findings per check.
    let resources: Vec<Value> = (0..30).map(|_| json!({})).collect();
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 30, "startIndex": 1, "itemsPerPage": 30, "Resources": resources,
    })
    .to_string();
    let list = Rogue::start(move |_, _| {
        Answer::Bytes(rogue::response(
            200,
            &[("Content-Type", "application/scim+json")],
            body.clone(),
        ))
    })
    .await;
    let url = list.url("/scim");
    for (limit, says) in [
        (
            "list-resources=10",
            "only the first 10 were examined (Entra asks for pages of 100; scimcheck's limit; raise it with --limit list-resources=N)",
        ),
        (
            "problems=5",
            "more problems were not listed (at most 5 are reported per response, scimcheck's limit; raise it with --limit problems=N)",
        ),
    ] {
        let (code, out) = run_one(&url, LIST, &["--limit", limit, "-v"]).await;
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains(says), "`{says}` missing:\n{out}");
    }
    let (_, out) = run_one(&url, LIST, &["--limit", "findings=3", "-v"]).await;
    assert!(
        out.contains("more findings were not listed (at most 3 per check, scimcheck's limit; raise it with --limit findings=N)"),
        "{out}"
    );
    let (_, out) = run_one(&url, LIST, &["-v"]).await;
    assert!(
        !out.contains("were examined"),
        "30 resources are within the default:\n{out}"
    );

    // JSON depth: 100 levels are past the default 64, within 128.
    let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let nested = Rogue::start(move |_, _| {
        Answer::Bytes(rogue::response(
            200,
            &[("Content-Type", "application/scim+json")],
            deep.clone(),
        ))
    })
    .await;
    let (code, out) = run_one(&nested.url("/scim"), LIST, &[]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("the body nests 100 levels deep, more than the 64 allowed (scimcheck's limit; raise it with --limit json-depth=N)"),
        "{out}"
    );
    let (_, out) = run_one(&nested.url("/scim"), LIST, &["--limit", "json-depth=128"]).await;
    assert!(!out.contains("levels deep"), "{out}");
    assert!(
        out.contains("expected a JSON object, found an array"),
        "parsed, then judged:\n{out}"
    );

    // What a scenario can cost: template size, repeat, steps.
    let server = common::server(&[]).await;
    let big = format!(
        "id: t\nname: T\ndescription: A 2 MiB value.\nvars:\n  a0: \"{}\"\n  a1: \"{{{{ a0 }}}}{{{{ a0 }}}}\"\nsteps:\n  - name: Send\n    request: {{ method: GET, path: /Users, query: {{ x: \"{{{{ a1 }}}}\" }} }}\n    expect: {{ status: [200, 400, 414] }}\n",
        "x".repeat(700 * 1024)
    );
    let (code, out) = run_one(&server.base_url(), &big, &[]).await;
    assert!(
        out.contains("the template expands to more than 1 MiB, scimcheck's limit; raise it with --limit template-kib=N"),
        "{code:?} {}",
        &out[..out.len().min(3000)]
    );
    let (_, out) = run_one(
        &server.base_url(),
        &big,
        &["--limit", "template-kib=2048", "--max-body-mib", "8"],
    )
    .await;
    assert!(
        !out.contains("expands to more than"),
        "{}",
        &out[..out.len().min(3000)]
    );

    let repeat = "id: r\nname: R\ndescription: Often.\nsteps:\n  - name: Again\n    repeat: 20000\n    request: { method: GET, path: /Users }\n    expect: { status: 200 }\n";
    let steps = "id: s\nname: S\ndescription: Three steps.\nsteps:\n  - name: One\n    request: { method: GET, path: /Users }\n    expect: { status: 200 }\n  - name: Two\n    request: { method: GET, path: /Users }\n    expect: { status: 200 }\n  - name: Three\n    request: { method: GET, path: /Users }\n    expect: { status: 200 }\n";
    for (yaml, limit, says, raised) in [
        (
            repeat,
            None,
            "at most 10000 repetitions are allowed per step (scimcheck's limit; raise it with --limit repeat=N)",
            "repeat=20000",
        ),
        (
            steps,
            Some("steps=2"),
            "the scenario has 3 steps; at most 2 are allowed (scimcheck's limit; raise it with --limit steps=N)",
            "steps=3",
        ),
    ] {
        let dir = dir_with("s.yaml", yaml);
        let path = dir.path().display().to_string();
        let mut a = vec!["lint", path.as_str()];
        if let Some(l) = limit {
            a.extend(["--limit", l]);
        }
        let out = scimcheck(args(&a)).await;
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains(says),
            "`{says}` missing:\n{}",
            text(&out)
        );
        let out = scimcheck(args(&["lint", &path, "--limit", raised])).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }

    // A limit that does not exist, or out of range, is a usage error naming them all.
    let out = scimcheck(args(&["lint", "--limit", "repeats=5"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unknown limit `repeats`"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("template-kib"), "{}", text(&out));
}
