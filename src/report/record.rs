//! The whole run as the file reporters render it, collected from the event stream: run
//! identity, every scenario run with its checks, exchanges (cleanup included) and cleanups, and
//! the summary. Each file format is a pure function of a [`RunRecord`].

use crate::http::{Received, SentRequest, TransportError};
use crate::run::{CheckResult, CleanupOutcome, Event, Outcome, ScenarioInfo, Summary};
use crate::scenario::Dialect;

/// One request and its response, with the check that sent it (`cleanup` for cleanup requests).
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeRecord {
    /// The check id, or `cleanup`.
    pub check: String,
    /// When the request was sent (RFC 3339).
    pub started_at: String,
    pub request: SentRequest,
    /// `None` until the response event arrives (never `None` in a finished run).
    pub response: Option<Result<Received, TransportError>>,
    /// Milliseconds.
    pub elapsed_ms: f64,
}

/// What cleanup did with one piece of test data.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupRecord {
    pub method: String,
    pub path: String,
    pub label: String,
    pub outcome: CleanupOutcome,
}

/// One scenario run (a scenario in one dialect).
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRecord {
    pub info: ScenarioInfo,
    pub checks: Vec<CheckResult>,
    pub exchanges: Vec<ExchangeRecord>,
    pub cleanups: Vec<CleanupRecord>,
    /// Milliseconds.
    pub elapsed_ms: f64,
}

impl ScenarioRecord {
    /// The worst outcome of its checks (`pass` when it has none).
    pub fn outcome(&self) -> Outcome {
        self.checks
            .iter()
            .map(|c| c.outcome)
            .min()
            .unwrap_or(Outcome::Pass)
    }

    /// When its first request was sent.
    pub fn started_at(&self) -> Option<&str> {
        self.exchanges.first().map(|e| e.started_at.as_str())
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunRecord {
    pub run_id: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The Tenant URL (secrets redacted).
    pub target: String,
    pub dialects: Vec<Dialect>,
    pub profile: Option<String>,
    pub insecure: bool,
    pub scenarios: Vec<ScenarioRecord>,
    /// Set by `RunFinished`.
    pub summary: Option<Summary>,
}

/// The area of a check: its id's first segment (`user` of `user.create.location`).
pub fn area(check_id: &str) -> &str {
    check_id.split('.').next().unwrap_or(check_id)
}

impl RunRecord {
    /// Adds one event.
    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::RunStarted {
                run_id,
                started_at,
                target,
                dialects,
                profile,
                insecure,
                ..
            } => {
                self.run_id = run_id.clone();
                self.started_at = started_at.clone();
                self.target = target.clone();
                self.dialects = dialects.clone();
                self.profile = profile.clone();
                self.insecure = *insecure;
            }
            Event::ScenarioStarted(info) => self.scenarios.push(ScenarioRecord {
                info: info.clone(),
                checks: vec![],
                exchanges: vec![],
                cleanups: vec![],
                elapsed_ms: 0.0,
            }),
            Event::RequestSent {
                scenario,
                check,
                started_at,
                request,
            } => {
                if let Some(s) = self.scenario(*scenario) {
                    s.exchanges.push(ExchangeRecord {
                        check: check.clone(),
                        started_at: started_at.clone(),
                        request: request.clone(),
                        response: None,
                        elapsed_ms: 0.0,
                    });
                }
            }
            Event::ResponseReceived {
                scenario,
                response,
                elapsed_ms,
                ..
            } => {
                if let Some(e) = self
                    .scenario(*scenario)
                    .and_then(|s| s.exchanges.iter_mut().rev().find(|e| e.response.is_none()))
                {
                    e.response = Some(response.clone());
                    e.elapsed_ms = *elapsed_ms;
                }
            }
            Event::CheckFinished { scenario, result } => {
                if let Some(s) = self.scenario(*scenario) {
                    s.checks.push(result.clone());
                }
            }
            Event::Cleanup {
                scenario,
                method,
                path,
                label,
                outcome,
            } => {
                if let Some(s) = self.scenario(*scenario) {
                    s.cleanups.push(CleanupRecord {
                        method: method.clone(),
                        path: path.clone(),
                        label: label.clone(),
                        outcome: outcome.clone(),
                    });
                }
            }
            Event::ScenarioFinished {
                scenario,
                elapsed_ms,
            } => {
                if let Some(s) = self.scenario(*scenario) {
                    s.elapsed_ms = *elapsed_ms;
                }
            }
            Event::RunFinished { summary } => self.summary = Some(summary.clone()),
        }
    }

    fn scenario(&mut self, index: usize) -> Option<&mut ScenarioRecord> {
        self.scenarios
            .iter_mut()
            .rev()
            .find(|s| s.info.index == index)
    }

    /// The summary, or one counted from the checks when the run did not finish.
    pub fn summary(&self) -> Summary {
        self.summary.clone().unwrap_or_else(|| {
            let mut s = Summary::default();
            for c in self.scenarios.iter().flat_map(|s| &s.checks) {
                s.count(c.outcome);
            }
            s
        })
    }

    /// Whether a run with more than one dialect is being reported (names then carry it).
    pub fn several_dialects(&self) -> bool {
        self.dialects.len() > 1
    }
}

/// `passed` / `failed` / `unreachable` / `interrupted`: the verdict of a summary.
pub fn verdict(s: &Summary) -> &'static str {
    if s.unreachable {
        "unreachable"
    } else if s.interrupted {
        "interrupted"
    } else if s.failed > 0 {
        "failed"
    } else {
        "passed"
    }
}

/// One finding as a line of plain text: `kind at path: message`.
pub fn finding_line(f: &crate::run::Finding) -> String {
    let at = f
        .path
        .as_ref()
        .filter(|_| f.kind != "body")
        .map(|p| format!(" at {p}"))
        .unwrap_or_default();
    format!("{}{at}: {}", f.kind, f.message)
}

/// The request line, status and bodies of the exchange a check judged, as plain text.
pub fn exchange_text(ex: &crate::run::Recorded, max_lines: usize) -> String {
    use super::terminal::pretty_body;
    let mut s = format!("request:  {} {}", ex.request.method, ex.request.url);
    if let Some(b) = &ex.request.body {
        s.push('\n');
        s.push_str(&pretty_body(b, max_lines));
    }
    match &ex.response {
        Ok(r) => {
            let ct = r.header("content-type").unwrap_or("no content type");
            s.push_str(&format!("\nresponse: {} ({ct})", r.status));
            if !r.body.trim().is_empty() {
                s.push('\n');
                s.push_str(&pretty_body(&r.body, max_lines));
            }
        }
        Err(e) => s.push_str(&format!("\nresponse: none ({e})")),
    }
    s
}

/// Everything about a check that did not pass, as plain text: what it proves, the findings with
/// their diffs, the exchange, the hint.
pub fn check_details(c: &CheckResult) -> String {
    let mut out = Vec::new();
    if let Some(note) = &c.note {
        out.push(note.clone());
    }
    if let Some(p) = &c.proves {
        out.push(format!("proves: {p}"));
    }
    for f in &c.findings {
        out.push(finding_line(f));
        if let Some(d) = &f.diff {
            out.push(d.trim_end().to_string());
        }
    }
    if let Some(ex) = &c.exchange {
        out.push(exchange_text(ex, 40));
    }
    if let Some(h) = &c.hint {
        out.push(format!("hint: {h}"));
    }
    out.join("\n")
}
