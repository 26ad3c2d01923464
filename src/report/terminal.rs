//! Human output on the terminal: one line per scenario with its checks nested under it;
//! failures with what was expected, what arrived, the diff, the exchange and a hint; a summary.

use std::collections::BTreeMap;
use std::io::Write;

use colored::Colorize;
use serde_json::Value;

use crate::http::{Received, Secret};
use crate::run::{
    CheckResult, CleanupOutcome, Event, Outcome, Recorded, ScenarioInfo, Summary, WaiverState,
    WaiverStatus,
};

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
    /// Per area (a check id's first segment): counts and the checks that did not pass.
    areas: BTreeMap<String, Area>,
    dialects: usize,
    /// Finding signatures already printed in full -> the check that printed them.
    printed: std::collections::HashMap<String, String>,
    /// Scenario runs none of whose checks ran, by the reason: (note, scenario runs, checks).
    not_run: Vec<(String, usize, usize)>,
}

/// One area of the final summary.
#[derive(Default)]
struct Area {
    /// Count per outcome, in [`Outcome`] order (fail, waived, warn, blocked, skip, pass).
    counts: [usize; 6],
    /// The checks that failed, were waived or warned, one entry per distinct reason.
    notable: Vec<Notable>,
}

/// Checks of one area with one outcome and one reason.
struct Notable {
    outcome: Outcome,
    why: String,
    ids: Vec<String>,
}

impl Area {
    fn worst(&self) -> Outcome {
        [
            Outcome::Fail,
            Outcome::Waived,
            Outcome::Warn,
            Outcome::Blocked,
            Outcome::Skip,
            Outcome::Pass,
        ]
        .into_iter()
        .zip(self.counts)
        .find(|(_, n)| *n > 0)
        .map_or(Outcome::Pass, |(o, _)| o)
    }
}

fn outcome_slot(o: Outcome) -> usize {
    match o {
        Outcome::Fail => 0,
        Outcome::Waived => 1,
        Outcome::Warn => 2,
        Outcome::Blocked => 3,
        Outcome::Skip => 4,
        Outcome::Pass => 5,
    }
}

fn mark(o: Outcome) -> colored::ColoredString {
    match o {
        Outcome::Pass => "✓".green(),
        Outcome::Fail => "✗".red().bold(),
        Outcome::Warn => "!".yellow().bold(),
        Outcome::Skip => "-".dimmed(),
        Outcome::Waived => "~".cyan(),
        Outcome::Blocked => "⊘".yellow(),
    }
}

/// What a check's findings say, for telling one root cause printed many times from another.
fn signature(c: &CheckResult) -> String {
    // Distinct findings: a `repeat`ed step with the same finding in every repetition has the
    // cause of a check that has it once.
    let mut seen = std::collections::HashSet::new();
    c.findings
        .iter()
        .map(|f| format!("{}:{}", f.kind, f.message))
        .filter(|s| seen.insert(s.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Why a warned check did not fail the run, from its findings' evidence classes.
fn warn_reason(c: &CheckResult) -> Option<&'static str> {
    use crate::scenario::Evidence;
    let classes: Vec<Evidence> = c.findings.iter().map(|f| f.class(c.evidence)).collect();
    if classes.contains(&Evidence::Validator) {
        Some("the SCIM Validator would flag this; Entra provisioning does not need it")
    } else if classes.contains(&Evidence::Rfc) {
        Some("an RFC 7643/7644 requirement Entra does not rely on")
    } else {
        None
    }
}

/// `a, b, c` for at most `max` ids, then `… (N in all)`.
fn id_list(ids: &[String], max: usize) -> String {
    if ids.len() <= max {
        ids.join(", ")
    } else {
        format!("{}, … ({} in all)", ids[..max].join(", "), ids.len())
    }
}

/// Pretty-prints a body (JSON when it parses), cut to `max_lines`.
pub fn pretty_body(body: &str, max_lines: usize) -> String {
    // Bodies can be megabytes (a server streaming garbage up to the size cap): only a bounded
    // prefix is ever pretty-printed or shown, so one check can never flood the terminal.
    const PRETTY_LIMIT: usize = 64 * 1024;
    let max_chars = max_lines * 120;
    let pretty = if body.len() <= PRETTY_LIMIT {
        serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| body.to_string())
    } else {
        body[..body.floor_char_boundary(max_chars)].to_string()
    };
    let lines: Vec<&str> = pretty.lines().take(max_lines + 1).collect();
    let mut shown = lines[..lines.len().min(max_lines)].join("\n");
    if shown.len() > max_chars {
        shown.truncate(shown.floor_char_boundary(max_chars));
    }
    if shown.len() < pretty.trim_end().len() {
        shown.push_str(&format!(
            "\n… (body cut for display; {} bytes in all)",
            body.len()
        ));
    }
    shown
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
            areas: BTreeMap::new(),
            dialects: 1,
            printed: std::collections::HashMap::new(),
            not_run: vec![],
        }
    }

    /// Writes a line that may carry data from the exchange (redacted).
    fn write(&mut self, text: &str) {
        let text = self.redact(text);
        let _ = writeln!(self.out, "{text}");
    }

    /// Writes a line of scimcheck's own wording (check ids, names, what a check proves, hints):
    /// never rewritten by redaction, even when the token is an ordinary word.
    fn write_own(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    fn redact(&self, text: &str) -> String {
        match &self.secret {
            Some(s) => s.redact(text),
            None => text.to_string(),
        }
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
            return;
        }
        // A scenario run none of whose checks ran (the target went away, Test Connection
        // failed, the run was interrupted) is one line at the end, not one line per check.
        if self.verbosity < Verbosity::Verbose
            && !checks.is_empty()
            && checks.iter().all(|c| c.outcome == Outcome::Skip)
        {
            let note = checks[0].note.clone().unwrap_or_else(|| "skipped".into());
            match self.not_run.iter_mut().find(|(n, _, _)| *n == note) {
                Some((_, runs, n)) => {
                    *runs += 1;
                    *n += checks.len();
                }
                None => self.not_run.push((note, 1, checks.len())),
            }
            self.exchanges.clear();
            self.cleanups.clear();
            return;
        }
        let title = format!(
            "{} {}{} {}",
            mark(worst),
            info.name.bold(),
            dialect,
            format!("({}, {ms:.0} ms)", info.id).dimmed()
        );
        self.write_own(&title);
        let exchanges = std::mem::take(&mut self.exchanges);
        for line in &exchanges {
            self.write(&indent(line, 4));
        }
        let mut i = 0;
        while i < checks.len() {
            let c = &checks[i];
            // Consecutive checks with one cause print as one line: blocked by the same root,
            // or the same findings as a check already printed in full (`-v` prints each).
            let group_end = |same: &dyn Fn(&CheckResult) -> bool| {
                let mut j = i + 1;
                while j < checks.len() && same(&checks[j]) {
                    j += 1;
                }
                j
            };
            if self.verbosity < Verbosity::Verbose && c.outcome == Outcome::Blocked {
                let j = group_end(&|o: &CheckResult| {
                    o.outcome == Outcome::Blocked && o.blocked_by == c.blocked_by
                });
                if j - i > 1 {
                    let ids: Vec<String> = checks[i..j].iter().map(|c| c.id.clone()).collect();
                    let root = c.blocked_by.as_deref().unwrap_or("an earlier check");
                    self.write(&format!(
                        "    {} {}  {}",
                        mark(Outcome::Blocked),
                        id_list(&ids, 6),
                        format!("{} checks blocked by {root}", ids.len()).dimmed()
                    ));
                    i = j;
                    continue;
                }
            }
            let notable = matches!(c.outcome, Outcome::Fail | Outcome::Warn | Outcome::Waived);
            let sig = signature(c);
            if notable
                && self.verbosity < Verbosity::Verbose
                && let Some(first) = self.printed.get(&sig).cloned()
            {
                let j = group_end(&|o: &CheckResult| o.outcome == c.outcome && signature(o) == sig);
                let ids: Vec<String> = checks[i..j].iter().map(|c| c.id.clone()).collect();
                let what = c.findings.first().map(|f| f.message.as_str()).unwrap_or("");
                self.write(&format!(
                    "    {} {}  {}",
                    mark(c.outcome),
                    id_list(&ids, 6),
                    format!(
                        "same finding as {first}: {}",
                        crate::run::expect::excerpt(what, 100)
                    )
                    .dimmed()
                ));
                i = j;
                continue;
            }
            let mut line = format!("    {} {}  {}", mark(c.outcome), c.id, c.name.dimmed());
            if let Some(note) = &c.note {
                line.push_str(&format!("  {}", self.redact(note).dimmed()));
            }
            if c.outcome == Outcome::Warn
                && let Some(why) = warn_reason(c)
            {
                line.push_str(&format!("  {}", format!("({why})").dimmed()));
            }
            self.write_own(&line);
            if notable {
                self.write_details(c);
                self.printed.entry(sig).or_insert_with(|| c.id.clone());
            }
            i += 1;
        }
        let cleanups = std::mem::take(&mut self.cleanups);
        for line in &cleanups {
            self.write(&indent(line, 4));
        }
    }

    fn write_details(&mut self, c: &CheckResult) {
        if let Some(p) = &c.proves {
            self.write_own(&format!("        {} {p}", "proves:".dimmed()));
        }
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for f in &c.findings {
            // A repeated step reports the same finding once per iteration: show it once.
            if seen.contains(&(f.kind, f.message.as_str())) {
                continue;
            }
            seen.push((f.kind, f.message.as_str()));
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
            self.write_own(&format!("        {} {h}", "hint:".cyan().bold()));
        }
        if let Some(line) = entra_line(c) {
            self.write(&line);
        }
    }

    /// Counts a check into its area for the final summary.
    fn tally(&mut self, info: Option<&ScenarioInfo>, c: &CheckResult) {
        let area = self
            .areas
            .entry(c.id.split('.').next().unwrap_or(&c.id).to_string())
            .or_default();
        area.counts[outcome_slot(c.outcome)] += 1;
        if matches!(c.outcome, Outcome::Fail | Outcome::Waived | Outcome::Warn) {
            let dialect = match info {
                Some(i) if self.dialects > 1 => format!(" [{}]", i.dialect.as_str()),
                _ => String::new(),
            };
            let why = match (c.outcome, &c.note, c.findings.first()) {
                (Outcome::Waived, Some(note), _) => note.clone(),
                (_, _, Some(f)) => f.message.clone(),
                (_, Some(note), None) => note.clone(),
                _ => String::new(),
            };
            let id = format!("{}{dialect}", c.id);
            match area
                .notable
                .iter_mut()
                .find(|n| n.outcome == c.outcome && n.why == why)
            {
                Some(n) => n.ids.push(id),
                None => area.notable.push(Notable {
                    outcome: c.outcome,
                    why,
                    ids: vec![id],
                }),
            }
        }
    }

    /// The per-area summary: areas with failures first, then waived, warned, skipped, passed;
    /// under each area the checks that failed, were waived or warned.
    fn write_areas(&mut self) {
        if self.areas.is_empty() {
            return;
        }
        let mut areas: Vec<(String, Area)> = std::mem::take(&mut self.areas).into_iter().collect();
        areas.sort_by(|(a, x), (b, y)| x.worst().cmp(&y.worst()).then(a.cmp(b)));
        let width = areas
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(0)
            .min(60);
        self.write(&"Summary by area:".bold().to_string());
        for (name, area) in &areas {
            let names = [
                "failed", "waived", "warnings", "blocked", "skipped", "passed",
            ];
            let mut parts: Vec<String> = [5, 0, 1, 2, 3, 4]
                .into_iter()
                .filter(|i| area.counts[*i] > 0)
                .map(|i| format!("{} {}", area.counts[i], names[i]))
                .collect();
            if parts.is_empty() {
                parts.push("no checks".into());
            }
            self.write(&format!(
                "  {} {name:<width$}  {}",
                mark(area.worst()),
                parts.join(", ")
            ));
            let mut notable: Vec<&Notable> = area.notable.iter().collect();
            notable.sort_by_key(|n| n.outcome);
            for n in notable {
                let why = crate::run::expect::excerpt(&n.why, 160);
                let line = if n.ids.len() == 1 {
                    format!("{}: {why}", n.ids[0])
                } else {
                    format!("{} checks: {why} ({})", n.ids.len(), id_list(&n.ids, 4))
                };
                self.write(&format!("      {} {line}", mark(n.outcome)));
            }
        }
        self.write("");
    }

    fn write_waivers(&mut self, s: &Summary) {
        let stale: Vec<&WaiverStatus> = s
            .waivers
            .iter()
            .filter(|w| w.state == WaiverState::Stale)
            .collect();
        if !stale.is_empty() {
            self.write(
                &"Waivers no longer needed (their checks pass now; drop them):"
                    .yellow()
                    .bold()
                    .to_string(),
            );
            for w in stale {
                self.write(&format!("  {}  ({})", w.check, w.reason));
            }
            self.write("");
        }
        let unmatched: Vec<&WaiverStatus> = s
            .waivers
            .iter()
            .filter(|w| w.state == WaiverState::Unmatched)
            .collect();
        if !unmatched.is_empty() {
            self.write(
                &"Waivers that matched no check that ran:"
                    .yellow()
                    .to_string(),
            );
            for w in unmatched {
                self.write(&format!("  {}  ({})", w.check, w.reason));
            }
            self.write("");
        }
    }

    fn write_summary(&mut self, s: &Summary) {
        if self.verbosity > Verbosity::Quiet {
            for (note, runs, checks) in std::mem::take(&mut self.not_run) {
                self.write(&format!(
                    "{} {runs} scenario run{} ({checks} checks) not run: {}",
                    mark(Outcome::Skip),
                    if runs == 1 { "" } else { "s" },
                    note.trim_start_matches("skipped: ")
                ));
            }
            self.write("");
        }
        if !s.root_causes.is_empty() {
            self.write(&"Root causes (fix these first):".bold().to_string());
            for c in &s.root_causes {
                let dialect = if self.dialects > 1 {
                    format!(" [{}]", c.dialect.as_str())
                } else {
                    String::new()
                };
                self.write(&format!(
                    "  {} {}{dialect} blocked {} check{}: {}",
                    mark(Outcome::Fail),
                    c.check,
                    c.blocked,
                    if c.blocked == 1 { "" } else { "s" },
                    crate::run::expect::excerpt(&c.message, 160)
                ));
            }
            self.write("");
        }
        self.write_areas();
        self.write_waivers(s);
        if let Some(line) = &s.stopped_answering {
            self.write(&format!(
                "{} {line}: no new steps were sent, cleanup was tried",
                "!".red().bold()
            ));
            self.write("");
        }
        if !s.foreign.is_empty() {
            self.write(
                &"The server answered creates with resources this run did not create (nothing was written to them):"
                    .red()
                    .bold()
                    .to_string(),
            );
            for c in &s.foreign {
                self.write(&format!("  {}  ({})", c.path, c.label));
            }
            self.write("");
        }
        if !s.leftovers.is_empty() || !s.unconfirmed.is_empty() {
            self.write(
                &"Test data that could not be removed (delete it by hand):"
                    .yellow()
                    .bold()
                    .to_string(),
            );
            for c in &s.leftovers {
                self.write(&format!("  DELETE {}  ({})", c.path, c.label));
            }
            for p in &s.unconfirmed {
                self.write(&format!(
                    "  {}  (a create whose outcome is unknown: delete what this finds)",
                    p.lookup()
                ));
            }
            self.write("");
        }
        let mut counts = format!(
            "{} passed, {} failed, {} warnings",
            s.passed, s.failed, s.warned
        );
        if s.blocked > 0 {
            counts.push_str(&format!(", {} blocked", s.blocked));
        }
        counts.push_str(&format!(", {} skipped", s.skipped));
        if s.waived > 0 {
            counts.push_str(&format!(", {} waived", s.waived));
        }
        if s.validator_findings > 0 {
            self.write(&format!(
                "{} the SCIM Validator would flag {} check{} (warnings here; `--strict validator` makes them fail)",
                mark(Outcome::Warn),
                s.validator_findings,
                if s.validator_findings == 1 { "" } else { "s" }
            ));
        }
        if s.rfc_findings > 0 {
            self.write(&format!(
                "{} {} check{} found RFC 7643/7644 deviations Entra does not rely on (`--strict rfc` makes them fail)",
                mark(Outcome::Warn),
                s.rfc_findings,
                if s.rfc_findings == 1 { "" } else { "s" }
            ));
        }
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
                ..
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
            Event::CheckFinished { result, .. } => {
                let info = self.current.clone();
                self.tally(info.as_ref(), result);
                self.checks.push(result.clone());
            }
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
                    CleanupOutcome::Unverified(why) => format!(
                        "{} cleanup {method} {path} ({label}): {why}",
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

/// The Entra error code an admin would see for this failure, as one terminal line.
fn entra_line(c: &CheckResult) -> Option<String> {
    let code = crate::entra_error::for_check(c)?;
    Some(format!(
        "        {} {code} ({}; `scimcheck explain {code}`)",
        "entra:".magenta().bold(),
        code.entry().seen_in
    ))
}

/// `--color` values: whether output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Applies `--color auto|always|never` and `NO_COLOR` (`auto`: colour on a terminal `is_tty`).
pub fn set_color(choice: ColorChoice, is_tty: bool) {
    let on = match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    colored::control::set_override(on);
}

#[cfg(test)]
mod tests {
    use super::pretty_body;

    #[test]
    fn bodies_are_shown_pretty_and_bounded_in_lines_and_characters() {
        assert_eq!(pretty_body(r#"{"a":1}"#, 10), "{\n  \"a\": 1\n}");
        let many_lines = (0..100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        let shown = pretty_body(&many_lines, 5);
        assert_eq!(shown.lines().count(), 6);
        assert!(shown.ends_with("bytes in all)"));
        let huge = "x".repeat(10 * 1024 * 1024);
        assert!(pretty_body(&huge, 30).len() < 4000);
    }
}
