//! The HTML reports in a real browser: headless Chromium renders the page, its DOM shows the
//! failing check with its Entra error code, and its screenshot is a PNG. Skipped, with the reason
//! printed, when no Chromium is installed (`.ci/run` installs Debian's `chromium` when it can).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium binary, if one is installed.
fn chromium() -> Option<PathBuf> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        let out = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .ok()?;
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
    })
}

/// Renders `page` headless: returns the DOM after load, and writes a screenshot to `png`.
fn render(browser: &Path, page: &Path, png: &Path) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let common_flags = |cmd: &mut Command| {
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let url = format!("file://{}", page.display());
    let mut shot = Command::new(browser);
    common_flags(&mut shot);
    let out = shot
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut dom = Command::new(browser);
    common_flags(&mut dom);
    let out = dom
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "--dump-dom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).expect("the screenshot was written");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is a PNG"
    );
    assert!(
        bytes.len() > 10_000,
        "the screenshot is not blank: {} bytes",
        bytes.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_report_opens_in_chromium_with_the_failing_check_and_its_entra_code_shown() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium installed (apt-get install chromium)");
        return;
    };
    // The disable deletes the user: the read-back gets 404, which Entra logs as InvalidAnchor.
    let server = common::server(&["disable-deletes-user"]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("report.html");
    let args = common::args(&[
        "run",
        "--url",
        &server.base_url(),
        "--token",
        common::TOKEN,
        "--report",
        &format!("html={}", page.display()),
        "tests/fixtures/reports",
    ]);
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::scimcheck(&args, &[])
    })
    .await
    .expect("scimcheck ran");
    server.shutdown().await;
    assert_eq!(out.status.code(), Some(1), "{}", common::output_text(&out));

    let png = dir.path().join("report.png");
    let dom = render(&browser, &page, &png);
    assert_png(&png);
    assert!(dom.contains("scimcheck: failed"), "the verdict is shown");
    let failing = dom
        .split("<details ")
        .skip(1)
        .find(|d| d.contains("fuser.disable.verified"))
        .expect("the failing check is in the DOM");
    assert!(
        failing.starts_with(r#"class="check fail""#) && failing.contains(" open"),
        "the failure is open: {failing}"
    );
    assert!(failing.contains("InvalidAnchor"), "its Entra code is shown");
    assert!(failing.contains("expected status 200, got 404"));
    assert!(!dom.contains(common::TOKEN), "the token is not in the page");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_report_opens_in_chromium_with_its_charts_and_verdict() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("load.html");
    let args = common::args(&[
        "load",
        "--embedded",
        "--users",
        "20",
        "--groups",
        "2",
        "--members",
        "3",
        "--rate",
        "max",
        "--report",
        &format!("html={}", page.display()),
    ]);
    let out = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::scimcheck(&args, &[])
    })
    .await
    .expect("scimcheck ran");
    assert_eq!(out.status.code(), Some(0), "{}", common::output_text(&out));
    let png = dir.path().join("load.png");
    let dom = render(&browser, &page, &png);
    assert_png(&png);
    for id in ["latency-chart", "throughput-chart"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} is rendered");
    }
    assert!(dom.contains("gallery bar 25 req/s"));
    assert!(dom.contains("scimcheck load: meets the 25 req/s bar"));
}
