//! Renders a connect [`Report`]: the verdict first, then the evidence (every probe), then the
//! diagnosis with its fixes; or all of it as JSON.

use std::fmt::Write;

use colored::Colorize;

use crate::connect::{Outcome, Probe, Report, Stage, duration, readable_path, reason};
use crate::diagnosis::Severity;

/// The report as pretty JSON (fields documented in the README), safe to print to a terminal.
pub fn json(report: &Report) -> String {
    crate::report::escape::json_text(
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
    )
}

/// A copy of the report with every string that may carry server text (errors, content types,
/// Location headers, details quoting a body) escaped for a terminal: control characters and
/// escape sequences as visible escapes, each on one line.
fn for_terminal(report: &Report) -> Report {
    use crate::report::escape::one_line_in_place as esc;
    let opt = |s: &mut Option<String>| s.iter_mut().for_each(esc);
    let mut r = report.clone();
    esc(&mut r.tenant_url);
    esc(&mut r.verdict.summary);
    if let Some(m) = &mut r.verdict.entra {
        esc(&mut m.text);
    }
    for f in &mut r.findings {
        esc(&mut f.title);
        f.details.iter_mut().for_each(esc);
        esc(&mut f.fix);
        if let Some(m) = &mut f.context.entra {
            esc(&mut m.text);
        }
        opt(&mut f.context.suggested_url);
    }
    for p in &mut r.probes {
        esc(&mut p.purpose);
        esc(&mut p.method);
        esc(&mut p.url);
        esc(&mut p.auth);
        opt(&mut p.content_type);
        opt(&mut p.location);
        opt(&mut p.error);
        p.notes.iter_mut().for_each(esc);
    }
    if let Some(j) = &mut r.token.jwt {
        opt(&mut j.iss);
        opt(&mut j.aud);
    }
    r
}

fn mark(ok: bool) -> String {
    if ok {
        "✓".green().to_string()
    } else {
        "✗".red().to_string()
    }
}

/// The mark of a finding's severity, shared with the `discover` report.
pub(super) fn severity_mark(s: Severity) -> String {
    match s {
        Severity::Error => "✗".red().bold().to_string(),
        Severity::Warning => "!".yellow().bold().to_string(),
        Severity::Info => "i".blue().to_string(),
    }
}

fn probe(out: &mut String, p: &Probe, show_purpose: bool) {
    let target = if matches!(p.method.as_str(), "TCP" | "TLS" | "POST") {
        p.url.clone()
    } else {
        readable_path(&p.url)
    };
    let auth = match p.auth.as_str() {
        _ if p.method == "TCP" || p.method == "TLS" => String::new(),
        "token" => String::new(),
        other => format!("  (auth: {other})"),
    };
    let _ = writeln!(out, "  [{}] {} {}{auth}", p.step, p.method.bold(), target);
    if show_purpose {
        let _ = writeln!(out, "      {}", p.purpose.dimmed());
    }
    let time = duration(p.elapsed_ms);
    let time = if p.slow {
        format!("{time} (slow)").yellow().to_string()
    } else {
        time
    };
    let line = match (p.status, &p.error) {
        (Some(s), _) => {
            let mut parts = vec![format!("{s} {}", reason(s))];
            if let Some(ct) = &p.content_type {
                parts.push(ct.clone());
            }
            parts.push(time);
            parts.join(" · ")
        }
        (None, Some(e)) if p.method == "TCP" || p.method == "TLS" => {
            format!("failed: {e} · {time}")
        }
        (None, Some(e)) if e.starts_with("no response") => format!("{e} · {time}"),
        (None, Some(e)) => format!("no response: {e} · {time}"),
        (None, None) => format!("ok · {time}"),
    };
    let _ = writeln!(out, "      {line}");
    if let Some(l) = &p.location {
        let _ = writeln!(out, "      Location: {l}");
    }
    if p.notes.is_empty() {
        if p.ok && p.status.is_some() {
            let _ = writeln!(out, "      {} as Entra expects", mark(true));
        }
    } else {
        for n in &p.notes {
            let _ = writeln!(out, "      {} {n}", mark(p.ok));
        }
    }
}

/// The report for people.
pub fn human(report: &Report) -> String {
    let report = &for_terminal(report);
    let mut out = String::new();
    let v = &report.verdict;
    let head = match v.outcome {
        Outcome::Pass => format!("{} {}", mark(true), v.summary.green().bold()),
        _ => format!("{} {}", mark(false), v.summary.red().bold()),
    };
    let _ = writeln!(out, "{head}");
    if let Some(m) = &v.entra {
        if let Some(code) = m.code {
            let _ = writeln!(out, "  Entra error code: {code}");
        }
        if !m.verbatim {
            let _ = writeln!(
                out,
                "  {}",
                "(scimcheck's description; the portal's wording may differ)".dimmed()
            );
        }
    }
    if v.outcome == Outcome::Unreachable {
        let _ = writeln!(out, "  The host could not be reached.");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "Tenant URL  {}", report.tenant_url);
    let mut token = Vec::new();
    if report.token.bearer_prefix {
        token.push("starts with `Bearer `".to_string());
    }
    if let Some(j) = &report.token.jwt {
        let mut s = "a JWT".to_string();
        if let Some(iss) = &j.iss {
            let _ = write!(s, " issued by {iss}");
        }
        if let Some(exp) = j.exp {
            let verb = if j.expired { "expired" } else { "expires" };
            let _ = write!(s, ", {verb} {}", exp.format("%Y-%m-%d %H:%M UTC"));
        }
        token.push(s);
    }
    if !token.is_empty() {
        let _ = writeln!(out, "Token       {}", token.join("; "));
    }
    if let Some(o) = &report.oauth {
        let _ = writeln!(out, "Token URL   {}", o.token_url);
        let mut client = o.client_id.clone();
        if let Some(scope) = &o.scope {
            let _ = write!(client, " (scope {scope})");
        }
        let _ = writeln!(out, "Client ID   {client}");
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "{}", "Evidence".bold());
    let token_probes: Vec<&Probe> = report
        .probes
        .iter()
        .filter(|p| p.stage == Stage::TokenEndpoint)
        .collect();
    if !token_probes.is_empty() {
        let _ = writeln!(
            out,
            "  Token endpoint: the access token Entra asks for first"
        );
        // The first is Entra's own request; a second one is scimcheck's follow-up.
        for (i, p) in token_probes.into_iter().enumerate() {
            probe(&mut out, p, i > 0);
        }
    }
    let tc: Vec<&Probe> = report
        .probes
        .iter()
        .filter(|p| p.stage == Stage::TestConnection)
        .collect();
    let follow: Vec<&Probe> = report
        .probes
        .iter()
        .filter(|p| p.stage == Stage::FollowUp)
        .collect();
    if !tc.is_empty() {
        let _ = writeln!(out, "  Test Connection: the requests Entra sends");
    }
    for p in tc {
        probe(&mut out, p, false);
    }
    if !follow.is_empty() {
        let _ = writeln!(out, "  Follow-up probes (read-only, same host)");
        for p in follow {
            probe(&mut out, p, true);
        }
    }
    let _ = writeln!(out);

    if report.findings.is_empty() {
        let _ = writeln!(out, "{} nothing to fix", mark(true));
        return out;
    }
    let _ = writeln!(out, "{}", "Diagnosis".bold());
    for f in &report.findings {
        let _ = writeln!(
            out,
            "  {} {}  {}",
            severity_mark(f.severity),
            f.code.as_str().bold(),
            f.title
        );
        for d in &f.details {
            let _ = writeln!(out, "      {d}");
        }
        if !f.context.probes.is_empty() {
            let refs: Vec<String> = f.context.probes.iter().map(|p| format!("[{p}]")).collect();
            let _ = writeln!(out, "      evidence: {}", refs.join(" "));
        }
        let _ = writeln!(out, "      {} {}", "fix:".bold(), f.fix);
    }
    let blocking = report
        .findings
        .iter()
        .filter(|f| f.context.blocks_test_connection)
        .count();
    let warnings = report.findings.len() - blocking;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{blocking} problem(s) that make Test Connection fail, {warnings} warning(s)"
    );
    out
}
