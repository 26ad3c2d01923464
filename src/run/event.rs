//! The structured events a run emits. Reporters are fed only by these, so adding an output
//! format never touches the runner.

use std::time::Duration;

use serde::Serialize;

use crate::http::{Created, Pending, Received, SentRequest, TransportError};
use crate::scenario::{Dialect, Severity};
use crate::scim::validate::Level;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It failed and fails the run.
    Fail,
    /// It failed, but a waiver says it is expected to.
    Waived,
    /// An RFC deviation Entra tolerates.
    Warn,
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
        }
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
    pub outcome: Outcome,
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
        }
    }
}

/// Everything a run reports, in order.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "event", rename_all = "kebab-case")]
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
