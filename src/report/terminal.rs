//! Human output on the terminal: one line per scenario with its checks nested under it;
//! failures with what was expected, what arrived, the diff, the exchange and a hint; a summary.

use std::io::Write;

use colored::{Color, Colorize};
use serde_json::Value;

use crate::http::{Received, Secret};
use crate::run::{CheckResult, CleanupOutcome, Event, Outcome, Recorded, ScenarioInfo, Summary};

use super::Reporter;

/// How much to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Only the summary.
    Quiet,
    /// Scenarios, checks, failures in detail.
    Normal,
    /// Also every request and response.
    Verbose,
}

/// The terminal reporter. Colours are decided globally (`colored::control`).
pub struct Terminal<W: Write> {
    out: W,
    verbosity: Verbosity,
    secret: Option<Secret>,
    /// Lines of the scenario being printed.
    current: Option<ScenarioInfo>,
    checks: Vec<CheckResult>,
    exchanges: Vec<String>,
    cleanups: Vec<String>,
    failures: Vec<(String, String)>,
    dialects: usize,
}

fn mark(o: Outcome) -> colored::ColoredString {
    match o {
        Outcome::Pass => "✓".green(),
        Outcome::Fail => "✗".red().bold(),
        Outcome::Warn => "!".yellow().bold(),
        Outcome::Skip => "-".dimmed(),
        Outcome::Waived => "~".cyan(),
    }
}

/// Pretty-prints a body (JSON when it parses), cut to `max_lines`.
pub fn pretty_body(body: &str, max_lines: usize) -> String {
    let pretty = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_string());
    let lines: Vec<&str> = pretty.lines().collect();
    if lines.len() > max_lines {
        let mut s = lines[..max_lines].join("\n");
        s.push_str(&format!("\n… ({} more lines)", lines.len() - max_lines));
        s
    } else {
        pretty
    }
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn colour_diff(diff: &str) -> String {
    diff.lines()
        .map(|l| {
            if l.starts_with("---") || l.starts_with("+++") {
                l.bold().to_string()
            } else if l.starts_with('-') {
                l.red().to_string()
            } else if l.starts_with('+') {
                l.green().to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn response_line(r: &Received) -> String {
    let ct = r.header("content-type").unwrap_or("no content type");
    format!("{} ({ct})", r.status)
}

impl<W: Write> Terminal<W> {
    /// A terminal reporter writing to `out`; `secret` is redacted from everything printed.
    pub fn new(out: W, verbosity: Verbosity, secret: Option<Secret>) -> Self {
        Terminal {
            out,
            verbosity,
            secret,
            current: None,
            checks: vec![],
            exchanges: vec![],
            cleanups: vec![],
            failures: vec![],
            dialects: 1,
        }
    }

    fn write(&mut self, text: &str) {
        let text = match &self.secret {
            Some(s) => s.redact(text),
            None => text.to_string(),
        };
        let _ = writeln!(self.out, "{text}");
    }

    fn exchange_text(ex: &Recorded) -> String {
        let mut s = format!("request:  {} {}", ex.request.method, ex.request.url);
        if let Some(b) = &ex.request.body {
            s.push('\n');
            s.push_str(&indent(&pretty_body(b, 30), 10));
        }
        match &ex.response {
            Ok(r) => {
                s.push_str(&format!("\nresponse: {}", response_line(r)));
                if !r.body.trim().is_empty() {
                    s.push('\n');
                    s.push_str(&indent(&pretty_body(&r.body, 30), 10));
                }
            }
            Err(e) => s.push_str(&format!("\nresponse: none ({e})")),
        }
        s
    }

    fn flush_scenario(&mut self) {
        let Some(info) = self.current.take() else {
            return;
        };
        let checks = std::mem::take(&mut self.checks);
        let worst = checks
            .iter()
            .map(|c| c.outcome)
            .min()
            .unwrap_or(Outcome::Pass);
        let ms: f64 = checks.iter().map(|c| c.elapsed_ms).sum();
        let dialect = if self.dialects > 1 {
            format!(" [{}]", info.dialect.as_str())
        } else {
            String::new()
        };
        if self.verbosity == Verbosity::Quiet {
            for c in checks.iter().filter(|c| c.outcome == Outcome::Fail) {
                self.failures.push((
                    c.id.clone(),
                    c.findings
                        .first()
                        .map(|f| f.message.clone())
                        .unwrap_or_default(),
                ));
            }
            return;
        }
        let title = format!(
            "{} {}{} {}",
            mark(worst),
            info.name.bold(),
            dialect,
            format!("({}, {ms:.0} ms)", info.id).dimmed()
        );
        self.write(&title);
        let exchanges = std::mem::take(&mut self.exchanges);
        for line in &exchanges {
            self.write(&indent(line, 4));
        }
        for c in &checks {
            let mut line = format!("    {} {}  {}", mark(c.outcome), c.id, c.name.dimmed());
            if let Some(note) = &c.note {
                line.push_str(&format!("  {}", note.dimmed()));
            }
            self.write(&line);
            if matches!(c.outcome, Outcome::Fail | Outcome::Warn | Outcome::Waived) {
                self.write_details(c);
            }
            if c.outcome == Outcome::Fail {
                self.failures.push((
                    c.id.clone(),
                    c.findings
                        .first()
                        .map(|f| f.message.clone())
                        .unwrap_or_default(),
                ));
            }
        }
        let cleanups = std::mem::take(&mut self.cleanups);
        for line in &cleanups {
            self.write(&indent(line, 4));
        }
    }

    fn write_details(&mut self, c: &CheckResult) {
        if let Some(p) = &c.proves {
            self.write(&format!("        {} {p}", "proves:".dimmed()));
        }
        for f in &c.findings {
            let kind = match f.level {
                crate::scim::validate::Level::Fail => f.kind.red(),
                crate::scim::validate::Level::Warn => f.kind.yellow(),
            };
            let at = f
                .path
                .as_ref()
                .filter(|_| f.kind != "body")
                .map(|p| format!(" at {p}"))
                .unwrap_or_default();
            self.write(&format!("        {kind}{at}: {}", f.message));
            if let Some(d) = &f.diff {
                self.write(&indent(&colour_diff(d), 10));
            }
        }
        if let Some(ex) = &c.exchange {
            self.write(&indent(&Self::exchange_text(ex), 8).dimmed().to_string());
        }
        if let Some(h) = &c.hint {
            self.write(&format!("        {} {h}", "hint:".cyan().bold()));
        }
    }

    fn write_summary(&mut self, s: &Summary) {
        self.write("");
        if !self.failures.is_empty() {
            self.write(&"Failed checks:".red().bold().to_string());
            let failures = std::mem::take(&mut self.failures);
            for (id, msg) in &failures {
                self.write(&format!("  {} {id}: {msg}", "✗".red()));
            }
            self.write("");
        }
        if !s.leftovers.is_empty() {
            self.write(
                &"Test data that could not be removed (delete it by hand):"
                    .yellow()
                    .bold()
                    .to_string(),
            );
            for c in &s.leftovers {
                self.write(&format!("  DELETE {}  ({})", c.path, c.label));
            }
            self.write("");
        }
        let counts = format!(
            "{} passed, {} failed, {} warnings, {} skipped{}",
            s.passed,
            s.failed,
            s.warned,
            s.skipped,
            if s.waived > 0 {
                format!(", {} waived", s.waived)
            } else {
                String::new()
            }
        );
        let verdict = if s.unreachable {
            "UNREACHABLE".red().bold()
        } else if s.interrupted {
            "INTERRUPTED".yellow().bold()
        } else if s.failed > 0 {
            "FAILED".red().bold()
        } else {
            "PASSED".green().bold()
        };
        self.write(&format!(
            "{verdict}: {counts} in {:.2} s",
            s.elapsed_ms / 1000.0
        ));
    }
}

impl<W: Write> Reporter for Terminal<W> {
    fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted {
                run_id,
                target,
                dialects,
                scenarios,
                profile,
                insecure,
            } => {
                self.dialects = dialects.len();
                let d: Vec<&str> = dialects.iter().map(|d| d.as_str()).collect();
                let mut head = format!(
                    "scimcheck {} · {target} · dialect {} · {scenarios} scenario run{} · run {run_id}",
                    env!("CARGO_PKG_VERSION"),
                    d.join("+"),
                    if *scenarios == 1 { "" } else { "s" }
                );
                if let Some(p) = profile {
                    head.push_str(&format!(" · profile {p}"));
                }
                if self.verbosity > Verbosity::Quiet {
                    self.write(&head.bold().to_string());
                    if *insecure {
                        self.write(
                            &"WARNING: TLS certificate verification is OFF (--insecure)"
                                .red()
                                .bold()
                                .to_string(),
                        );
                    }
                    self.write("");
                }
            }
            Event::ScenarioStarted(info) => {
                self.current = Some(info.clone());
            }
            Event::RequestSent { check, request, .. } if self.verbosity == Verbosity::Verbose => {
                let mut s = format!("→ [{check}] {} {}", request.method, request.url);
                for (k, v) in &request.headers {
                    s.push_str(&format!("\n    {k}: {v}"));
                }
                if let Some(b) = &request.body {
                    s.push('\n');
                    s.push_str(&indent(&pretty_body(b, 60), 4));
                }
                self.exchanges.push(s.dimmed().to_string());
            }
            Event::ResponseReceived {
                response,
                elapsed_ms,
                ..
            } if self.verbosity == Verbosity::Verbose => {
                let s = match response {
                    Ok(r) => {
                        let mut s = format!("← {} ({elapsed_ms:.0} ms)", response_line(r));
                        if !r.body.trim().is_empty() {
                            s.push('\n');
                            s.push_str(&indent(&pretty_body(&r.body, 60), 4));
                        }
                        s
                    }
                    Err(e) => format!("← no response: {e}"),
                };
                self.exchanges.push(s.dimmed().to_string());
            }
            Event::CheckFinished { result, .. } => self.checks.push(result.clone()),
            Event::Cleanup {
                method,
                path,
                label,
                outcome,
                ..
            } => {
                let line = match outcome {
                    CleanupOutcome::Failed(why) => format!(
                        "{} cleanup {method} {path} ({label}) failed: {why}",
                        "!".yellow().bold()
                    ),
                    CleanupOutcome::Kept => format!("{} kept {path} ({label})", "~".cyan()),
                    _ if self.verbosity == Verbosity::Verbose => {
                        format!("{} cleanup {method} {path}", "·".dimmed())
                    }
                    _ => return,
                };
                self.cleanups.push(line);
            }
            Event::ScenarioFinished { .. } => self.flush_scenario(),
            Event::RunFinished { summary } => self.write_summary(summary),
            _ => {}
        }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Applies `--color auto|always|never` and `NO_COLOR`.
pub fn set_color(choice: &str, is_tty: bool) {
    let on = match choice {
        "always" => true,
        "never" => false,
        _ => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    colored::control::set_override(on);
    let _ = Color::Red;
}
