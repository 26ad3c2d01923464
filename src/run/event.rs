//! The structured events a run emits. Reporters are fed only by these, so adding an output
//! format never touches the runner.

use std::time::Duration;

use serde::Serialize;

use crate::http::{Received, SentRequest, TransportError};
use crate::run::ledger::{Created, Pending};
use crate::scenario::{Dialect, Evidence, Severity};
use crate::scim::validate::Level;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It failed and fails the run.
    Fail,
    /// It failed, but a waiver says it is expected to.
    Waived,
    /// A finding that does not fail the run: a `validator` or `rfc` class finding (without
    /// `--strict`), or a deviation Entra tolerates.
    Warn,
    /// Not judged: a check it depends on was not accepted (`blocked_by` names the root cause).
    Blocked,
    /// Not run (a value it needed was not captured, or the target went away).
    Skip,
    /// It passed.
    Pass,
}

impl Outcome {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Fail => "fail",
            Outcome::Waived => "waived",
            Outcome::Warn => "warn",
            Outcome::Blocked => "blocked",
            Outcome::Skip => "skip",
            Outcome::Pass => "pass",
        }
    }
}

/// One thing found wrong with a response.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    /// `status`, `content-type`, `schema`, `body`, `header`, `assert`, `capture`, `transport`.
    pub kind: &'static str,
    /// What was expected and what arrived, in one sentence.
    pub message: String,
    /// JSON path of the difference, when there is one (`$.emails[0].value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Fail or Warn.
    pub level: Level,
    /// Unified diff of expected against actual (lines prefixed `-`, `+`, ` `), for body mismatches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The evidence class of this finding when it differs from its check's (a wrong media type
    /// is a `validator` finding in any check; an RFC-only schema rule is `rfc`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

impl Finding {
    /// A failing finding.
    pub fn fail(kind: &'static str, message: impl Into<String>) -> Self {
        Finding {
            kind,
            message: message.into(),
            path: None,
            level: Level::Fail,
            diff: None,
            evidence: None,
        }
    }

    /// A warning finding.
    pub fn warn(kind: &'static str, message: impl Into<String>) -> Self {
        Finding {
            kind,
            message: message.into(),
            path: None,
            level: Level::Warn,
            diff: None,
            evidence: None,
        }
    }

    /// Sets the evidence class of this finding.
    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence = Some(e);
        self
    }

    /// This finding's evidence class, given its check's.
    pub fn class(&self, check: Evidence) -> Evidence {
        self.evidence.unwrap_or(check)
    }

    /// Sets the JSON path.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}

/// A request and its response, as recorded for reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recorded {
    pub request: SentRequest,
    pub response: Result<Received, TransportError>,
    /// Milliseconds.
    pub elapsed_ms: f64,
}

/// The result of one check (one step of a scenario).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckResult {
    /// Stable id, e.g. `user.disable.still-listed`.
    pub id: String,
    /// The step's name.
    pub name: String,
    /// What the check proves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proves: Option<String>,
    pub severity: Severity,
    /// Why the check exists: `entra`, `validator` or `rfc`.
    pub evidence: Evidence,
    pub outcome: Outcome,
    /// For a `blocked` check: the id of the failed check at the root of the cascade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<String>,
    /// Why it did not pass (empty when it passed).
    pub findings: Vec<Finding>,
    /// The consequence in Entra terms and what to change (shown when it did not pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Why it was skipped / waived, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The exchange the check judged (the last one for repeated steps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Recorded>,
    /// Milliseconds spent on the step.
    pub elapsed_ms: f64,
}

/// Identity of one scenario run (a scenario in one dialect).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScenarioInfo {
    /// Position in the plan (reports are in this order).
    pub index: usize,
    pub id: String,
    pub name: String,
    pub file: String,
    pub tags: Vec<String>,
    pub dialect: Dialect,
    pub description: String,
    pub entra: String,
}

/// What happened to one piece of test data at cleanup.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "kebab-case", tag = "status", content = "detail")]
pub enum CleanupOutcome {
    /// Deleted, and a follow-up GET confirmed it is gone.
    Deleted,
    /// Already gone (404) before cleanup reached it.
    AlreadyGone,
    /// Left in place because of `--keep`.
    Kept,
    /// Could not be deleted; a person has to finish it.
    Failed(String),
    /// The DELETE was accepted, but the GET that should confirm it kept failing (a 5xx, no
    /// answer): it may still exist, so it is listed with the leftovers.
    Unverified(String),
}

/// The totals of a run.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub warned: usize,
    pub skipped: usize,
    pub waived: usize,
    /// Checks not judged because a check they depend on was not accepted.
    pub blocked: usize,
    /// Warned checks whose findings the SCIM Validator would flag (`validator` class).
    pub validator_findings: usize,
    /// Warned checks whose findings are RFC requirements Entra does not rely on (`rfc` class).
    pub rfc_findings: usize,
    /// The failed checks that blocked others, with how many each blocked, most first.
    pub root_causes: Vec<RootCause>,
    /// Milliseconds.
    pub elapsed_ms: f64,
    /// Test data that could not be removed (method DELETE on these paths finishes it).
    pub leftovers: Vec<Created>,
    /// Creates whose outcome stayed unknown (their look-up by unique name failed): each may
    /// exist; its `lookup()` finds it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unconfirmed: Vec<Pending>,
    /// Creates the server answered with a resource this run did not create (an "upsert"):
    /// nothing was written to them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign: Vec<Created>,
    /// `the endpoint stopped answering at 12:03:07 after 84 requests`, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_answering: Option<String>,
    /// No response at all was received from the target.
    pub unreachable: bool,
    /// The run was interrupted (Ctrl-C / SIGTERM).
    pub interrupted: bool,
    /// How each waiver of `--waivers` fared (empty without a waiver file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<WaiverStatus>,
}

/// A failed check that other checks depended on.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RootCause {
    /// The failed check's id.
    pub check: String,
    /// Its dialect, when the run used more than one.
    pub dialect: Dialect,
    /// Its first finding, in one line.
    pub message: String,
    /// How many checks it blocked.
    pub blocked: usize,
}

/// How one waiver fared in a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaiverStatus {
    /// The check id or glob the waiver names.
    pub check: String,
    /// Why the failure is accepted.
    pub reason: String,
    /// What became of it.
    pub state: WaiverState,
    /// Check results it turned from fail into waived.
    pub waived: usize,
    /// Check results it matched that passed.
    pub passed: usize,
}

/// What became of a waiver in a run.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum WaiverState {
    /// It turned at least one failure into `waived`.
    Used,
    /// Nothing it names failed and at least one of its checks passed: it can be dropped.
    Stale,
    /// It matched no check that ran (a typo, or the check was not selected).
    Unmatched,
    /// Its checks ran but were only skipped or warned: nothing can be said.
    Inconclusive,
}

impl WaiverState {
    /// Lower-case name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            WaiverState::Used => "used",
            WaiverState::Stale => "stale",
            WaiverState::Unmatched => "unmatched",
            WaiverState::Inconclusive => "inconclusive",
        }
    }
}

impl Summary {
    /// Adds one check outcome to the totals.
    pub fn count(&mut self, o: Outcome) {
        match o {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail => self.failed += 1,
            Outcome::Warn => self.warned += 1,
            Outcome::Skip => self.skipped += 1,
            Outcome::Waived => self.waived += 1,
            Outcome::Blocked => self.blocked += 1,
        }
    }

    /// Adds one check result to the totals: its outcome, the evidence classes of a warning,
    /// and the root cause it was blocked by.
    pub fn count_result(&mut self, r: &CheckResult, dialect: Dialect) {
        self.count(r.outcome);
        if r.outcome == Outcome::Warn {
            let classes: Vec<Evidence> = r.findings.iter().map(|f| f.class(r.evidence)).collect();
            if classes.contains(&Evidence::Validator) {
                self.validator_findings += 1;
            } else if classes.contains(&Evidence::Rfc) {
                self.rfc_findings += 1;
            }
        }
        if let Some(root) = &r.blocked_by {
            match self
                .root_causes
                .iter_mut()
                .find(|c| &c.check == root && c.dialect == dialect)
            {
                Some(c) => c.blocked += 1,
                None => self.root_causes.push(RootCause {
                    check: root.clone(),
                    dialect,
                    message: String::new(),
                    blocked: 1,
                }),
            }
        }
    }

    /// Fills in the root causes' messages from the failed checks and orders them, most
    /// blocked first.
    pub fn finish_root_causes(&mut self, failed: &[(Dialect, CheckResult)]) {
        for c in &mut self.root_causes {
            if let Some((_, r)) = failed
                .iter()
                .find(|(d, r)| r.id == c.check && *d == c.dialect)
            {
                c.message = r
                    .findings
                    .first()
                    .map(|f| f.message.clone())
                    .unwrap_or_default();
            }
        }
        self.root_causes
            .sort_by(|a, b| b.blocked.cmp(&a.blocked).then(a.check.cmp(&b.check)));
    }
}

/// Everything a run reports, in order.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "kebab-case")]
// `RunFinished` carries the summary, and there is one per run: boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    RunStarted {
        run_id: String,
        /// When the run started (RFC 3339, UTC, milliseconds).
        started_at: String,
        /// The Tenant URL (secrets redacted).
        target: String,
        dialects: Vec<Dialect>,
        scenarios: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        profile: Option<String>,
        /// TLS verification is off.
        insecure: bool,
    },
    ScenarioStarted(ScenarioInfo),
    RequestSent {
        scenario: usize,
        check: String,
        /// When the request was sent (RFC 3339, UTC, milliseconds).
        started_at: String,
        request: SentRequest,
    },
    ResponseReceived {
        scenario: usize,
        check: String,
        response: Result<Received, TransportError>,
        elapsed_ms: f64,
    },
    CheckFinished {
        scenario: usize,
        result: CheckResult,
    },
    Cleanup {
        scenario: usize,
        method: String,
        path: String,
        label: String,
        outcome: CleanupOutcome,
    },
    ScenarioFinished {
        scenario: usize,
        elapsed_ms: f64,
    },
    RunFinished {
        summary: Summary,
    },
}

/// The current time as events carry it: RFC 3339, UTC, milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Milliseconds of a duration, as reports show them.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 100.0).round() / 100.0
}
