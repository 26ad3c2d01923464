//! The HTML report: one self-contained file (inline CSS, no remote assets, a few lines of inline
//! JS for expand/collapse all) to open offline or attach to a ticket. The verdict and what failed
//! on top (with the Entra error code each failure shows), then every check grouped by area and
//! scenario (failures expand to the exact request, response, diff and hint), then a waterfall of
//! every request with its latency.
//!
//! Every piece of text that came from the server, the scenario files or the command line goes
//! through [`esc`]; the token is redacted by the file reporter, escaped forms included
//! ([`redact`]).

use std::fmt::Write;

use crate::entra_error;
use crate::http::{REDACTED, Secret};
use crate::run::{CheckResult, Outcome, Recorded};

use super::record::{ExchangeRecord, RunRecord, ScenarioRecord, area, finding_line, verdict};
use super::terminal::pretty_body;

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Redacts the token from an HTML page, in its plain and its escaped form.
pub fn redact(secret: &Secret, html: &str) -> String {
    let text = secret.redact(html);
    let escaped = esc(secret.expose());
    if escaped != secret.expose() && text.contains(&escaped) {
        text.replace(&escaped, REDACTED)
    } else {
        text
    }
}

/// The styles both HTML reports share.
pub const CSS: &str = r#"
:root{--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--skip:#6e7781;--waived:#8250df;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--code:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1200px;padding:0 24px 48px}
h1{font-size:26px;margin:0}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}h4{font-size:14px;margin:10px 0 4px}
header.verdict{padding:18px 20px;margin:16px 0;border-radius:8px;border-left:8px solid var(--skip);background:var(--code)}
header.verdict.passed,header.verdict.meets{border-color:var(--pass)}header.verdict.failed,header.verdict.below{border-color:var(--fail)}
.meta{color:var(--muted);margin:4px 0 0}.totals{font-size:16px;margin:6px 0 0}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--code);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow:auto;max-height:480px;margin:4px 0 8px;white-space:pre-wrap;word-break:break-word}
.o-pass{color:var(--pass)}.o-fail{color:var(--fail)}.o-warn{color:var(--warn)}.o-skip{color:var(--skip)}.o-waived{color:var(--waived)}
.badge{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;border:1px solid currentColor}
.entra{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;margin:6px 0}
.hint{border-left:4px solid #0969da;padding:4px 10px;margin:6px 0;background:#ddf4ff}
details.check{border:1px solid var(--line);border-radius:6px;margin:4px 0;padding:0 10px}
details.check>summary{cursor:pointer;padding:5px 0;list-style-position:outside}
details.check[open]>summary{border-bottom:1px solid var(--line);margin-bottom:6px}
details.check.fail{border-color:var(--fail)}
.check-id{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600}
.findings li{margin:2px 0}
.diff .add{color:var(--pass)}.diff .del{color:var(--fail)}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:3px 6px;border-bottom:1px solid var(--line);vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.waterfall td.bar{width:45%;position:relative;padding:0}
.waterfall .track{position:relative;height:14px;margin:4px 0}
.waterfall .span{position:absolute;top:0;height:14px;min-width:2px;border-radius:2px;background:#0969da}
.waterfall .span.s4,.waterfall .span.err{background:var(--fail)}.waterfall .span.s3{background:var(--warn)}.waterfall .span.cleanup{background:var(--skip)}
.waterfall td.path{max-width:380px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.toolbar button{font:inherit;margin-right:6px;padding:2px 10px;border:1px solid var(--line);border-radius:6px;background:var(--code);cursor:pointer}
svg text{font:11px system-ui,sans-serif;fill:var(--fg)}svg .axis{stroke:var(--line)}svg .bar-line{stroke:var(--fail);stroke-dasharray:5 4}
"#;

/// Expand-all / collapse-all for the check details (the only script in the page).
const SCRIPT: &str = r#"document.querySelectorAll('[data-toggle]').forEach(function(b){b.addEventListener('click',function(){var open=b.getAttribute('data-toggle')==='open';document.querySelectorAll('details.check').forEach(function(d){d.open=open;});});});"#;

/// A whole page around `body`.
pub fn page(title: &str, body: &str, script: bool) -> String {
    let script = if script {
        format!("<script>{SCRIPT}</script>\n")
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"scimcheck version {}\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}{script}</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title)
    )
}

fn mark(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✓",
        Outcome::Fail => "✗",
        Outcome::Warn => "!",
        Outcome::Skip => "–",
        Outcome::Waived => "~",
        Outcome::Blocked => "⊘",
    }
}

fn outcome_badge(o: Outcome) -> String {
    format!(
        "<span class=\"badge o-{0}\">{1} {0}</span>",
        o.as_str(),
        mark(o)
    )
}

/// The anchor of one check result (scenario runs repeat check ids across dialects).
fn anchor(s: &ScenarioRecord, i: usize) -> String {
    format!("c{}-{i}", s.info.index)
}

fn entra_block(c: &CheckResult) -> String {
    match entra_error::for_check(c) {
        None => String::new(),
        Some(code) => {
            let e = code.entry();
            format!(
                "<div class=\"entra\"><strong>In Entra:</strong> <code class=\"entra-code\">{}</code> · {} · {}<br>{}<br><em>Fix:</em> {} (<code>scimcheck explain {}</code>)</div>\n",
                esc(code.as_str()),
                esc(e.seen_in),
                source_link(e.sources[0]),
                esc(e.means),
                esc(e.fix),
                esc(code.as_str()),
            )
        }
    }
}

fn source_link(s: &str) -> String {
    if s.starts_with("https://") {
        format!("<a href=\"{0}\">{0}</a>", esc(s))
    } else {
        esc(s)
    }
}

fn diff_block(d: &str) -> String {
    let mut out = String::from("<pre class=\"diff\">");
    for line in d.trim_end().lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            ""
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else {
            ""
        };
        if class.is_empty() {
            let _ = writeln!(out, "{}", esc(line));
        } else {
            let _ = writeln!(out, "<span class=\"{class}\">{}</span>", esc(line));
        }
    }
    out.push_str("</pre>\n");
    out
}

fn headers_text(h: &[(String, String)]) -> String {
    h.iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn exchange_block(ex: &Recorded) -> String {
    let mut req = format!("{} {}", ex.request.method, ex.request.url);
    if !ex.request.headers.is_empty() {
        req.push('\n');
        req.push_str(&headers_text(&ex.request.headers));
    }
    if let Some(b) = &ex.request.body {
        req.push_str("\n\n");
        req.push_str(&pretty_body(b, 200));
    }
    let resp = match &ex.response {
        Ok(r) => {
            let mut s = format!("{}", r.status);
            if !r.headers.is_empty() {
                s.push('\n');
                s.push_str(&headers_text(&r.headers));
            }
            if !r.body.trim().is_empty() {
                s.push_str("\n\n");
                s.push_str(&pretty_body(&r.body, 200));
            }
            s
        }
        Err(e) => format!("no response: {e}"),
    };
    format!(
        "<h4>Request</h4>\n<pre class=\"request\">{}</pre>\n<h4>Response <span class=\"muted\" data-ms>({:.1} ms)</span></h4>\n<pre class=\"response\">{}</pre>\n",
        esc(&req),
        ex.elapsed_ms,
        esc(&resp)
    )
}

/// One check: a line for a pass, an expandable block (open) for anything else.
fn check_html(out: &mut String, s: &ScenarioRecord, i: usize, c: &CheckResult) {
    let code = entra_error::for_check(c)
        .map(|code| format!(" <code class=\"entra-code\">{}</code>", esc(code.as_str())))
        .unwrap_or_default();
    let open = if c.outcome == Outcome::Fail {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details class=\"check {}\" id=\"{}\"{open}><summary>{} <span class=\"check-id\">{}</span> {}{code}</summary>",
        c.outcome.as_str(),
        anchor(s, i),
        outcome_badge(c.outcome),
        esc(&c.id),
        esc(&c.name),
    );
    let _ = writeln!(
        out,
        "<p><em>Evidence:</em> <code class=\"evidence\">{}</code></p>",
        c.evidence.as_str()
    );
    if let Some(p) = &c.proves {
        let _ = writeln!(out, "<p><em>Proves:</em> {}</p>", esc(p));
    }
    if let Some(n) = &c.note {
        let _ = writeln!(out, "<p><em>{}</em></p>", esc(n));
    }
    if !c.findings.is_empty() {
        out.push_str("<ul class=\"findings\">\n");
        for f in &c.findings {
            let _ = writeln!(out, "<li>{}</li>", esc(&finding_line(f)));
        }
        out.push_str("</ul>\n");
    }
    for d in c.findings.iter().filter_map(|f| f.diff.as_ref()) {
        out.push_str(&diff_block(d));
    }
    if c.outcome != Outcome::Pass
        && let Some(ex) = &c.exchange
    {
        out.push_str(&exchange_block(ex));
    }
    if c.outcome != Outcome::Pass
        && let Some(h) = &c.hint
    {
        let _ = writeln!(
            out,
            "<p class=\"hint\"><strong>Hint:</strong> {}</p>",
            esc(h)
        );
    }
    out.push_str(&entra_block(c));
    out.push_str("</details>\n");
}

fn totals(r: &RunRecord) -> String {
    let s = r.summary();
    let mut t = format!(
        "<span class=\"o-pass\">{} passed</span> · <span class=\"o-fail\">{} failed</span> · <span class=\"o-warn\">{} warnings</span> · <span class=\"o-skip\">{} skipped</span>",
        s.passed, s.failed, s.warned, s.skipped
    );
    if s.waived > 0 {
        let _ = write!(t, " · <span class=\"o-waived\">{} waived</span>", s.waived);
    }
    let _ = write!(t, " <span data-ms>in {:.2} s</span>", s.elapsed_ms / 1000.0);
    t
}

fn header(r: &RunRecord) -> String {
    let s = r.summary();
    let v = verdict(&s);
    let dialects: Vec<&str> = r.dialects.iter().map(|d| d.as_str()).collect();
    let mut notes = String::new();
    if s.unreachable {
        notes.push_str(
            "<p><strong>The target could not be reached: no response was received.</strong></p>\n",
        );
    }
    if s.interrupted {
        notes
            .push_str("<p><strong>The run was interrupted; results are incomplete.</strong></p>\n");
    }
    if r.insecure {
        notes.push_str("<p><strong>TLS certificate verification was off (<code>--insecure</code>).</strong></p>\n");
    }
    format!(
        "<header class=\"verdict {v}\" id=\"verdict\">\n<h1>scimcheck: {v}</h1>\n<p class=\"totals\">{}</p>\n<p class=\"meta\">target <code>{}</code> · dialect {} · run <code>{}</code> · started <span data-time>{}</span>{}</p>\n{notes}</header>\n",
        totals(r),
        esc(&r.target),
        esc(&dialects.join(" + ")),
        esc(&r.run_id),
        esc(&r.started_at),
        r.profile
            .as_ref()
            .map(|p| format!(" · profile <code>{}</code>", esc(p)))
            .unwrap_or_default(),
    )
}

/// What failed, one line each, linking to the check: the first thing to read.
fn failures(r: &RunRecord) -> String {
    let mut rows = String::new();
    for s in &r.scenarios {
        for (i, c) in s.checks.iter().enumerate() {
            if c.outcome != Outcome::Fail {
                continue;
            }
            let first = c
                .findings
                .first()
                .map(|f| esc(&finding_line(f)))
                .unwrap_or_default();
            let code = entra_error::for_check(c)
                .map(|code| format!("<code class=\"entra-code\">{}</code>", esc(code.as_str())))
                .unwrap_or_else(|| "<span class=\"o-skip\">none documented</span>".into());
            let _ = writeln!(
                rows,
                "<tr><td><a href=\"#{}\" class=\"check-id\">{}</a></td><td>{}</td><td>{first}</td><td>{code}</td></tr>",
                anchor(s, i),
                esc(&c.id),
                esc(s.info.dialect.as_str()),
            );
        }
    }
    let summary = r.summary();
    let mut roots = String::new();
    for c in &summary.root_causes {
        let _ = writeln!(
            roots,
            "<li><code class=\"check-id\">{}</code> ({}) blocked {} check{}: {}</li>",
            esc(&c.check),
            esc(c.dialect.as_str()),
            c.blocked,
            if c.blocked == 1 { "" } else { "s" },
            esc(&c.message)
        );
    }
    let roots = if roots.is_empty() {
        String::new()
    } else {
        format!(
            "<h3>Root causes (fix these first)</h3>\n<ul class=\"root-causes\">\n{roots}</ul>\n"
        )
    };
    if rows.is_empty() {
        return "<section id=\"failures\">\n<h2>What failed</h2>\n<p class=\"o-pass\">Nothing failed.</p>\n</section>\n".into();
    }
    format!(
        "<section id=\"failures\">\n<h2>What failed</h2>\n{roots}<table>\n<thead><tr><th>Check</th><th>Dialect</th><th>First finding</th><th>Entra error</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n</section>\n"
    )
}

/// Every check, grouped by area (in order of first appearance), then scenario run.
fn checks(r: &RunRecord) -> String {
    let mut areas: Vec<&str> = Vec::new();
    for c in r.scenarios.iter().flat_map(|s| &s.checks) {
        let a = area(&c.id);
        if !areas.contains(&a) {
            areas.push(a);
        }
    }
    let several = r.several_dialects();
    let mut out = String::from(
        "<section id=\"checks\">\n<h2>Checks</h2>\n<p class=\"toolbar\"><button type=\"button\" data-toggle=\"open\">Expand all</button><button type=\"button\" data-toggle=\"close\">Collapse all</button></p>\n",
    );
    for a in areas {
        let _ = writeln!(
            out,
            "<section class=\"area\" id=\"area-{0}\">\n<h3>{0}</h3>",
            esc(a)
        );
        for s in &r.scenarios {
            let mine: Vec<(usize, &CheckResult)> = s
                .checks
                .iter()
                .enumerate()
                .filter(|(_, c)| area(&c.id) == a)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let dialect = if several {
                format!(", {} dialect", s.info.dialect.as_str())
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "<div class=\"scenario\">\n<h4>{} (<code>{}</code>{}) <span class=\"muted\">{}</span></h4>",
                esc(&s.info.name),
                esc(&s.info.id),
                esc(&dialect),
                esc(&s.info.file),
            );
            for (i, c) in mine {
                check_html(&mut out, s, i, c);
            }
            out.push_str("</div>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</section>\n");
    out
}

/// Milliseconds between two RFC 3339 timestamps (0 when either does not parse).
fn offset_ms(from: &str, to: &str) -> f64 {
    match (
        chrono::DateTime::parse_from_rfc3339(from),
        chrono::DateTime::parse_from_rfc3339(to),
    ) {
        (Ok(a), Ok(b)) => (b - a).num_microseconds().unwrap_or(0) as f64 / 1000.0,
        _ => 0.0,
    }
}

/// The path and query of a URL (the host is the same for every request).
fn short_url(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or(rest, |i| &rest[i..])
}

fn bar_class(e: &ExchangeRecord) -> String {
    let status = match &e.response {
        Some(Ok(r)) => format!("s{}", r.status / 100),
        Some(Err(_)) | None => "err".into(),
    };
    if e.check == "cleanup" {
        format!("{status} cleanup")
    } else {
        status
    }
}

/// Every request of the run on one time axis: when it started and how long it took.
fn waterfall(r: &RunRecord) -> String {
    // The run starts before its first request; every offset is measured from it.
    let start = r.started_at.as_str();
    let rows: Vec<(&ScenarioRecord, &ExchangeRecord, f64)> = r
        .scenarios
        .iter()
        .flat_map(|s| {
            s.exchanges
                .iter()
                .map(move |e| (s, e, offset_ms(start, &e.started_at).max(0.0)))
        })
        .collect();
    if rows.is_empty() {
        return "<section id=\"waterfall\">\n<h2>Requests</h2>\n<p>No request was sent.</p>\n</section>\n".into();
    }
    let span = rows
        .iter()
        .map(|(_, e, at)| at + e.elapsed_ms)
        .fold(1.0_f64, f64::max);
    let mut out = format!(
        "<section id=\"waterfall\">\n<h2>Requests</h2>\n<p class=\"meta\">{} requests on one time axis of <span data-ms>{:.0} ms</span>; grey bars are cleanup.</p>\n<table class=\"waterfall\">\n<thead><tr><th class=\"num\">#</th><th>Check</th><th>Request</th><th class=\"num\">Status</th><th class=\"num\">ms</th><th>Timeline</th></tr></thead>\n<tbody>\n",
        rows.len(),
        span
    );
    for (n, (s, e, at)) in rows.iter().enumerate() {
        let status = match &e.response {
            Some(Ok(r)) => r.status.to_string(),
            Some(Err(_)) => "—".into(),
            None => "…".into(),
        };
        let check = if e.check == "cleanup" {
            format!("{} cleanup", s.info.id)
        } else {
            e.check.clone()
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"num\">{}</td><td class=\"check-id\">{}</td><td class=\"path\" title=\"{url}\">{} {url}</td><td class=\"num\">{status}</td><td class=\"num\" data-ms>{:.1}</td><td class=\"bar\"><div class=\"track\"><div class=\"span {}\" style=\"left:{:.2}%;width:{:.2}%\"></div></div></td></tr>",
            n + 1,
            esc(&check),
            esc(&e.request.method),
            e.elapsed_ms,
            bar_class(e),
            at / span * 100.0,
            (e.elapsed_ms / span * 100.0).max(0.2),
            url = esc(short_url(&e.request.url)),
        );
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
    out
}

/// The HTML page of a run.
pub fn render(r: &RunRecord) -> String {
    let s = r.summary();
    let title = format!("scimcheck: {} · {}", verdict(&s), r.target);
    let body = format!("{}{}{}{}", header(r), failures(r), checks(r), waterfall(r));
    page(&title, &body, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_every_character_that_could_open_markup_or_leave_an_attribute() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn the_token_is_redacted_in_its_escaped_form_too() {
        let s = Secret::new("a&b<c>token");
        let html = format!("plain a&b<c>token, escaped {}", esc("a&b<c>token"));
        let out = redact(&s, &html);
        assert!(!out.contains("a&b<c>token") && !out.contains(&esc("a&b<c>token")));
        assert_eq!(out.matches(REDACTED).count(), 2);
    }

    /// A run whose server answered markup everywhere it could: a failing check's response
    /// body, a header, the Location, and a detail message.
    fn hostile_run() -> RunRecord {
        use crate::http::{Received, SentRequest};
        use crate::run::{Event, Finding, ScenarioInfo, Summary};
        let evil = "<script>alert('x')</script><img src=x onerror=alert(1)>";
        let mut r = RunRecord::default();
        let exchange = Recorded {
            request: SentRequest {
                method: "GET".into(),
                url: format!("https://h/scim/Users?filter=\"{evil}\""),
                headers: vec![],
                body: None,
            },
            response: Ok(Received {
                status: 404,
                headers: vec![("x-evil".into(), evil.into())],
                body: format!("{{\"detail\":\"{evil}\"}}"),
                truncated: false,
                retries: vec![],
            }),
            elapsed_ms: 2.0,
        };
        for e in [
            Event::RunStarted {
                run_id: "r".into(),
                started_at: "2024-01-01T00:00:00.000Z".into(),
                target: format!("https://h/{evil}"),
                dialects: vec![crate::scenario::Dialect::Default],
                scenarios: 1,
                profile: None,
                insecure: false,
            },
            Event::ScenarioStarted(ScenarioInfo {
                index: 0,
                id: "s".into(),
                name: evil.into(),
                file: "s.yaml".into(),
                tags: vec![],
                dialect: crate::scenario::Dialect::Default,
                description: String::new(),
                entra: String::new(),
            }),
            Event::RequestSent {
                scenario: 0,
                check: "user.get".into(),
                started_at: "2024-01-01T00:00:00.010Z".into(),
                request: exchange.request.clone(),
            },
            Event::ResponseReceived {
                scenario: 0,
                check: "user.get".into(),
                response: exchange.response.clone(),
                elapsed_ms: 2.0,
            },
            Event::CheckFinished {
                scenario: 0,
                result: CheckResult {
                    id: "user.get".into(),
                    name: evil.into(),
                    proves: Some(evil.into()),
                    severity: crate::scenario::Severity::Fail,
                    evidence: crate::scenario::Evidence::Entra,
                    blocked_by: None,
                    outcome: Outcome::Fail,
                    findings: vec![Finding::fail(
                        "status",
                        format!("expected 200, got 404 ({evil})"),
                    )],
                    hint: Some(evil.into()),
                    note: None,
                    exchange: Some(exchange.clone()),
                    elapsed_ms: 2.0,
                },
            },
            Event::ScenarioFinished {
                scenario: 0,
                elapsed_ms: 3.0,
            },
            Event::RunFinished {
                summary: Summary {
                    failed: 1,
                    ..Summary::default()
                },
            },
        ] {
            r.on_event(&e);
        }
        r
    }

    #[test]
    fn server_controlled_text_never_becomes_markup() {
        let html = render(&hostile_run());
        assert!(
            !html.contains("<script>alert"),
            "no injected script element"
        );
        assert!(!html.contains("<img"), "no injected element");
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)"),
            "shown as text"
        );
        assert_eq!(
            html.matches("<script>").count(),
            1,
            "the page's own expand/collapse script only"
        );
    }

    #[test]
    fn a_failure_shows_its_entra_code_in_the_summary_table_and_its_details() {
        // GET /Users/{id} answered 404 where 200 was expected: the resource Entra created is gone.
        let mut r = hostile_run();
        let c = &mut r.scenarios[0].checks[0];
        c.exchange.as_mut().unwrap().request.url = "https://h/scim/Users/abc".into();
        let html = render(&r);
        assert_eq!(
            html.matches("<code class=\"entra-code\">InvalidAnchor</code>")
                .count(),
            3
        );
        assert!(html.contains("id=\"failures\""));
        assert!(html.contains("<details class=\"check fail\" id=\"c0-0\" open>"));
    }

    #[test]
    fn offsets_between_timestamps_are_in_milliseconds() {
        assert_eq!(
            offset_ms("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:01.250Z"),
            1250.0
        );
        assert_eq!(offset_ms("junk", "2024-01-01T00:00:01.250Z"), 0.0);
    }
}
