//! The HTML page of a `scimcheck load` run (`--report html=PATH`): the verdict against the
//! gallery's 25 req/s bar, latency percentiles per request kind, throughput over time with the
//! bar drawn in, and 429s and errors over time, as inline SVG; then the tables behind them.

use std::fmt::Write;

use crate::loadtest::{GALLERY_BAR, LoadReport, Mode, Second, VerdictStatus};

use super::html::{esc, page};

const WIDTH: f64 = 760.0;
const LEFT: f64 = 120.0;

/// A number of milliseconds as an axis label.
fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

/// Grouped horizontal bars: p50, p90 and p99 of each request kind on one scale.
fn latency_chart(r: &LoadReport) -> String {
    if r.kinds.is_empty() {
        return "<p>No request finished.</p>\n".into();
    }
    let max = r.kinds.iter().map(|k| k.p99_ms).fold(0.001_f64, f64::max);
    let row = 40.0;
    let height = r.kinds.len() as f64 * row + 30.0;
    let plot = WIDTH - LEFT - 90.0;
    let mut svg = format!(
        "<svg id=\"latency-chart\" role=\"img\" aria-label=\"Latency percentiles per request kind\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\n"
    );
    for (i, k) in r.kinds.iter().enumerate() {
        let y = i as f64 * row + 6.0;
        let _ = writeln!(
            svg,
            "<text x=\"0\" y=\"{:.1}\">{}</text>",
            y + 20.0,
            esc(k.label)
        );
        for (j, (name, v, colour)) in [
            ("p50", k.p50_ms, "#0969da"),
            ("p90", k.p90_ms, "#9a6700"),
            ("p99", k.p99_ms, "#cf222e"),
        ]
        .into_iter()
        .enumerate()
        {
            let by = y + j as f64 * 11.0;
            let w = (v / max * plot).max(1.0);
            let _ = writeln!(
                svg,
                "<rect class=\"{name}\" x=\"{LEFT}\" y=\"{by:.1}\" width=\"{w:.1}\" height=\"9\" fill=\"{colour}\"><title>{} {name}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{name} {}</text>",
                esc(k.label),
                ms(v),
                LEFT + w + 4.0,
                by + 8.5,
                ms(v),
            );
        }
    }
    let _ = writeln!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" y1=\"0\" x2=\"{LEFT}\" y2=\"{:.1}\"/><text x=\"{LEFT}\" y=\"{:.1}\">0</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        height - 18.0,
        height - 4.0,
        LEFT + plot,
        height - 4.0,
        ms(max)
    );
    svg.push_str("</svg>\n");
    svg
}

/// One stacked part of a per-second bar: its name (the CSS class), colour and value.
type Series = (&'static str, &'static str, fn(&Second) -> u64);

/// Bars per second of the run; `series` gives each bar's stacked parts.
fn time_chart(
    id: &str,
    label: &str,
    seconds: &[Second],
    series: &[Series],
    bar: Option<f64>,
) -> String {
    let height = 200.0;
    let top = 10.0;
    let bottom = 24.0;
    let plot_h = height - top - bottom;
    let plot_w = WIDTH - 50.0;
    let peak = seconds
        .iter()
        .map(|s| series.iter().map(|(_, _, f)| f(s)).sum::<u64>() as f64)
        .fold(bar.unwrap_or(1.0), f64::max)
        * 1.1;
    let n = seconds.len().max(1) as f64;
    let w = plot_w / n;
    let mut svg = format!(
        "<svg id=\"{id}\" role=\"img\" aria-label=\"{}\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        esc(label)
    );
    for (i, s) in seconds.iter().enumerate() {
        let mut y = top + plot_h;
        for (name, colour, f) in series {
            let v = f(s) as f64;
            if v == 0.0 {
                continue;
            }
            let h = v / peak * plot_h;
            y -= h;
            let _ = writeln!(
                svg,
                "<rect class=\"{name}\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>second {}: {} {name}</title></rect>",
                40.0 + i as f64 * w,
                (w - 1.0).max(1.0),
                s.t_s,
                f(s),
            );
        }
    }
    if let Some(b) = bar {
        let y = top + plot_h - b / peak * plot_h;
        let _ = writeln!(
            svg,
            "<line class=\"bar-line\" x1=\"40\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">gallery bar {b} req/s</text>",
            40.0 + plot_w,
            40.0 + plot_w,
            y - 3.0
        );
    }
    let _ = writeln!(
        svg,
        "<line class=\"axis\" x1=\"40\" y1=\"{0:.1}\" x2=\"{1:.1}\" y2=\"{0:.1}\"/><text x=\"40\" y=\"{2:.1}\">0 s</text><text x=\"{1:.1}\" y=\"{2:.1}\" text-anchor=\"end\">{3} s</text><text x=\"36\" y=\"{4:.1}\" text-anchor=\"end\">{5:.0}</text><text x=\"36\" y=\"{0:.1}\" text-anchor=\"end\">0</text>",
        top + plot_h,
        40.0 + plot_w,
        height - 6.0,
        seconds.len(),
        top + 10.0,
        peak,
    );
    svg.push_str("</svg>\n");
    svg
}

fn verdict_class(s: VerdictStatus) -> &'static str {
    match s {
        VerdictStatus::Meets => "meets",
        VerdictStatus::Below => "below",
        VerdictStatus::NotTested => "not-tested",
    }
}

/// The HTML page of a load run.
pub fn render(r: &LoadReport) -> String {
    let mut b = String::new();
    let what = match r.mode {
        Mode::Cycle => "Entra initial cycle",
        Mode::Probe => "probe (a users filter that matches nothing)",
    };
    let _ = writeln!(
        b,
        "<header class=\"verdict {}\" id=\"verdict\">\n<h1>scimcheck load: {}</h1>\n<p class=\"totals\">{}</p>\n<p class=\"meta\">{what} against <code>{}</code> · {} dialect · rate {} · concurrency {} · run <code>{}</code></p>\n</header>",
        verdict_class(r.verdict.status),
        match r.verdict.status {
            VerdictStatus::Meets => "meets the 25 req/s bar",
            VerdictStatus::Below => "below the 25 req/s bar",
            VerdictStatus::NotTested => "not tested against the 25 req/s bar",
        },
        esc(&r.verdict.text),
        esc(&r.target),
        esc(r.dialect.as_str()),
        esc(&r.rate.to_string()),
        r.concurrency,
        esc(&r.run_id),
    );
    if r.interrupted {
        b.push_str(
            "<p><strong>The run was interrupted; the numbers are incomplete.</strong></p>\n",
        );
    }

    b.push_str("<section id=\"latency\">\n<h2>Latency per request kind</h2>\n");
    b.push_str(&latency_chart(r));
    b.push_str("<table>\n<thead><tr><th>Request</th><th class=\"num\">Count</th><th class=\"num\">Errors</th><th class=\"num\">p50</th><th class=\"num\">p90</th><th class=\"num\">p99</th><th class=\"num\">Max</th><th class=\"num\">Mean</th></tr></thead>\n<tbody>\n");
    for k in &r.kinds {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\" data-ms>{}</td><td class=\"num\" data-ms>{}</td><td class=\"num\" data-ms>{}</td><td class=\"num\" data-ms>{}</td><td class=\"num\" data-ms>{}</td></tr>",
            esc(k.label),
            k.requests,
            k.errors,
            ms(k.p50_ms),
            ms(k.p90_ms),
            ms(k.p99_ms),
            ms(k.max_ms),
            ms(k.mean_ms)
        );
    }
    b.push_str("</tbody>\n</table>\n</section>\n");

    b.push_str("<section id=\"throughput\">\n<h2>Throughput over time</h2>\n<p class=\"meta\">Requests finished per second; the dashed line is the gallery's bar.</p>\n");
    b.push_str(&time_chart(
        "throughput-chart",
        "Requests per second over time",
        &r.timeline,
        &[
            ("requests", "#0969da", |s| s.requests - s.errors),
            ("errors", "#cf222e", |s| s.errors),
        ],
        Some(GALLERY_BAR),
    ));
    b.push_str("<table>\n<thead><tr><th>Phase</th><th class=\"num\">Requests</th><th class=\"num\">Errors</th><th class=\"num\">Elapsed</th><th class=\"num\">Throughput</th></tr></thead>\n<tbody>\n");
    for p in &r.phases {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\" data-ms>{:.3} s</td><td class=\"num\" data-ms>{:.1} req/s</td></tr>",
            esc(p.name),
            p.requests,
            p.errors,
            p.elapsed_s,
            p.throughput
        );
    }
    b.push_str("</tbody>\n</table>\n</section>\n");

    b.push_str("<section id=\"errors\">\n<h2>429s and errors over time</h2>\n");
    let any = r.timeline.iter().any(|s| s.errors > 0 || s.throttled > 0);
    if any {
        b.push_str(&time_chart(
            "errors-chart",
            "429 responses and failed requests per second",
            &r.timeline,
            &[
                ("errors", "#cf222e", |s| s.errors),
                ("throttled", "#9a6700", |s| s.throttled),
            ],
            None,
        ));
    } else {
        b.push_str("<p class=\"o-pass\">No failed request and no 429 response.</p>\n");
    }
    let t = &r.throttling;
    let _ = writeln!(
        b,
        "<p>429 Too Many Requests: {} (Retry-After given {} times, {:.1} s asked in all, longest {:.1} s).</p>",
        t.responses_429, t.retry_after_given, t.retry_after_total_s, t.retry_after_max_s
    );
    if !r.errors.is_empty() {
        b.push_str("<table>\n<thead><tr><th>Request</th><th>Cause</th><th class=\"num\">Count</th></tr></thead>\n<tbody>\n");
        for e in &r.errors {
            let cause = match (&e.status, &e.transport) {
                (Some(s), _) => format!("HTTP {s}"),
                (None, Some(t)) => t.clone(),
                (None, None) => "unknown".into(),
            };
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(e.label),
                esc(&cause),
                e.count
            );
        }
        b.push_str("</tbody>\n</table>\n");
    }
    let statuses: Vec<String> = r
        .statuses
        .iter()
        .map(|(s, n)| format!("{} × {n}", esc(s)))
        .collect();
    let _ = writeln!(b, "<p>Responses: {}</p>", statuses.join(", "));
    b.push_str("</section>\n");

    if !r.leftovers.is_empty() {
        b.push_str("<section id=\"leftovers\">\n<h2>Test data left behind</h2>\n<ul>\n");
        for c in &r.leftovers {
            let _ = writeln!(
                b,
                "<li><code>DELETE {}</code> ({})</li>",
                esc(&c.path),
                esc(&c.label)
            );
        }
        b.push_str("</ul>\n</section>\n");
    }
    let title = format!("scimcheck load: {} · {}", r.verdict.text, r.target);
    page(&title, &b, false)
}
