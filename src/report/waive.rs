//! Which failures are accepted (`--waivers`): a transformation of the event stream between the
//! runner and the reporters ([`WaiverApplier::apply`]): a failing check a waiver names becomes
//! [`Outcome::Waived`] with the waiver's reason, and how every waiver fared goes into the
//! run's summary.

use std::borrow::Cow;
use std::path::Path;

use globset::GlobMatcher;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diag::Diagnostic;
use crate::plan::select::glob;
use crate::run::{Event, Outcome, WaiverState, WaiverStatus};
use crate::scenario::load::yaml_diagnostic;

/// The waiver file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverFile {
    waivers: Vec<Spanned<WaiverEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverEntry {
    /// A check id, or a glob over check ids.
    check: Spanned<String>,
    /// Why the failure is accepted (required: a waiver without a reason is a silent skip).
    reason: Spanned<String>,
}

/// One accepted failure.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// The check id or glob, as written.
    pub check: String,
    /// Why the failure is accepted.
    pub reason: String,
    matcher: GlobMatcher,
}

impl Waiver {
    /// Whether this waiver names check `id`.
    pub fn matches(&self, id: &str) -> bool {
        self.matcher.is_match(id)
    }
}

/// The waivers of a run, in file order (the first that matches a check applies).
#[derive(Debug, Clone, Default)]
pub struct Waivers {
    /// The waivers, in file order.
    pub list: Vec<Waiver>,
}

impl Waivers {
    /// Reads and parses a waiver file; problems come back as `file:line:col` diagnostics.
    pub fn load(path: &Path) -> Result<Waivers, Vec<Diagnostic>> {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|e| {
            vec![Diagnostic {
                file: file.clone(),
                line: 1,
                column: 1,
                message: format!("cannot read the waiver file: {e}"),
                source_line: String::new(),
                help: None,
            }]
        })?;
        Waivers::parse(&file, &source)
    }

    /// Parses waiver YAML: `waivers: [{check: ID_OR_GLOB, reason: "..."}]`.
    pub fn parse(file: &str, source: &str) -> Result<Waivers, Vec<Diagnostic>> {
        let parsed: WaiverFile =
            serde_saphyr::from_str(source).map_err(|e| vec![yaml_diagnostic(file, source, &e)])?;
        let mut list = Vec::new();
        let mut problems = Vec::new();
        let at = |s: &Spanned<String>, message: String| {
            Diagnostic::at(
                file,
                source,
                s.referenced.line() as usize,
                s.referenced.column() as usize,
                message,
            )
        };
        for entry in parsed.waivers {
            let WaiverEntry { check, reason } = entry.value;
            if reason.value.trim().is_empty() {
                problems.push(
                    at(&reason, "the waiver's `reason` is empty".into())
                        .with_help("say why the failure is accepted, and until when"),
                );
            }
            if check.value.trim().is_empty() {
                problems.push(at(&check, "the waiver's `check` is empty".into()));
                continue;
            }
            match glob(&check.value) {
                Ok(matcher) => list.push(Waiver {
                    check: check.value.clone(),
                    reason: reason.value.trim().to_string(),
                    matcher,
                }),
                Err(e) => problems.push(at(
                    &check,
                    format!("`{}` is not a valid check id or glob: {e}", check.value),
                )),
            }
        }
        if problems.is_empty() {
            Ok(Waivers { list })
        } else {
            Err(problems)
        }
    }

    /// A fresh event transformation for one run.
    pub fn applier(&self) -> WaiverApplier<'_> {
        WaiverApplier {
            waivers: self,
            waived: vec![0; self.list.len()],
            passed: vec![0; self.list.len()],
            matched: vec![0; self.list.len()],
        }
    }
}

/// Applies waivers to a run's events, in order; see [`WaiverApplier::apply`].
#[derive(Debug)]
pub struct WaiverApplier<'a> {
    waivers: &'a Waivers,
    waived: Vec<usize>,
    passed: Vec<usize>,
    matched: Vec<usize>,
}

impl WaiverApplier<'_> {
    /// The event as reporters see it. A failed check named by a waiver becomes `waived` with a
    /// `waived: <reason>` note; a passing check named by one gets a note saying the waiver can be
    /// dropped; `RunFinished` gets every waiver's [`WaiverStatus`] (the counts follow from the
    /// outcomes: [`crate::run::Tally`] counts the events after this).
    /// Other events pass through unchanged.
    pub fn apply<'e>(&mut self, event: &'e Event) -> Cow<'e, Event> {
        match event {
            Event::CheckFinished { scenario, result } => {
                let Some(i) = self.waivers.list.iter().position(|w| w.matches(&result.id)) else {
                    return Cow::Borrowed(event);
                };
                let w = &self.waivers.list[i];
                self.matched[i] += 1;
                let mut result = result.clone();
                match result.outcome {
                    Outcome::Fail => {
                        self.waived[i] += 1;
                        result.outcome = Outcome::Waived;
                        result.note = Some(format!("waived: {}", w.reason));
                    }
                    Outcome::Pass => {
                        self.passed[i] += 1;
                        result.note = Some(format!(
                            "passes: the waiver `{}` is no longer needed",
                            w.check
                        ));
                    }
                    _ => return Cow::Borrowed(event),
                }
                Cow::Owned(Event::CheckFinished {
                    scenario: *scenario,
                    result,
                })
            }
            Event::RunFinished { summary } => {
                let mut summary = summary.clone();
                summary.waivers = self.statuses();
                Cow::Owned(Event::RunFinished { summary })
            }
            _ => Cow::Borrowed(event),
        }
    }

    /// How every waiver fared so far.
    pub fn statuses(&self) -> Vec<WaiverStatus> {
        self.waivers
            .list
            .iter()
            .enumerate()
            .map(|(i, w)| WaiverStatus {
                check: w.check.clone(),
                reason: w.reason.clone(),
                state: if self.waived[i] > 0 {
                    WaiverState::Used
                } else if self.passed[i] > 0 {
                    WaiverState::Stale
                } else if self.matched[i] == 0 {
                    WaiverState::Unmatched
                } else {
                    WaiverState::Inconclusive
                },
                waived: self.waived[i],
                passed: self.passed[i],
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{CheckResult, Summary};
    use crate::scenario::Severity;

    fn check(id: &str, outcome: Outcome) -> Event {
        Event::CheckFinished {
            scenario: 0,
            result: CheckResult {
                id: id.into(),
                name: id.into(),
                proves: None,
                severity: Severity::Fail,
                evidence: crate::scenario::Evidence::Entra,
                blocked_by: None,
                outcome,
                findings: vec![],
                hint: None,
                note: None,
                exchange: None,
                elapsed_ms: 0.0,
            },
        }
    }

    fn outcome_of(e: &Event) -> (Outcome, Option<String>) {
        match e {
            Event::CheckFinished { result, .. } => (result.outcome, result.note.clone()),
            _ => panic!("not a check"),
        }
    }

    #[test]
    fn a_waived_failure_becomes_waived_with_its_reason_and_leaves_the_failed_count() {
        let w = Waivers::parse(
            "w.yaml",
            "waivers:\n  - check: user.patch.*\n    reason: vendor bug 123\n",
        )
        .unwrap();
        // The tally after the waivers counts the totals, as a run's reporters see them.
        let mut a = w.applier();
        let mut tally = crate::run::Tally::default();
        let e = tally
            .apply(a.apply(&check("user.patch.disable", Outcome::Fail)))
            .into_owned();
        assert_eq!(
            outcome_of(&e),
            (Outcome::Waived, Some("waived: vendor bug 123".into()))
        );
        let other = check("group.create", Outcome::Fail);
        let passed_through = a.apply(&other);
        assert!(matches!(passed_through, Cow::Borrowed(_)));
        tally.apply(passed_through);
        let finished = Event::RunFinished {
            summary: Summary::default(),
        };
        let Event::RunFinished { summary } = tally.apply(a.apply(&finished)).into_owned() else {
            panic!()
        };
        assert_eq!((summary.failed, summary.waived), (1, 1));
        assert_eq!(summary.waivers[0].state, WaiverState::Used);
    }

    #[test]
    fn a_waiver_whose_check_passes_is_stale_and_one_that_matches_nothing_is_unmatched() {
        let w = Waivers::parse(
            "w.yaml",
            "waivers:\n  - { check: a.b, reason: fixed? }\n  - { check: nope.*, reason: typo }\n",
        )
        .unwrap();
        let mut a = w.applier();
        let e = a.apply(&check("a.b", Outcome::Pass)).into_owned();
        assert_eq!(
            outcome_of(&e),
            (
                Outcome::Pass,
                Some("passes: the waiver `a.b` is no longer needed".into())
            )
        );
        let s = a.statuses();
        assert_eq!(s[0].state, WaiverState::Stale);
        assert_eq!(s[1].state, WaiverState::Unmatched);
    }

    #[test]
    fn broken_waiver_files_are_rejected_with_file_line_and_column() {
        let e = Waivers::parse("w.yaml", "waivers:\n  - check: a\n    reasn: x\n").unwrap_err();
        assert_eq!((e[0].file.as_str(), e[0].line), ("w.yaml", 3));
        assert!(e[0].message.contains("unknown field `reasn`"), "{}", e[0]);
        assert_eq!(e[0].help.as_deref(), Some("did you mean `reason`?"));

        let e =
            Waivers::parse("w.yaml", "waivers:\n  - check: 'a[b'\n    reason: x\n").unwrap_err();
        assert_eq!((e[0].line, e[0].column), (2, 12));
        let e = Waivers::parse("w.yaml", "waivers:\n  - check: a\n    reason: ''\n").unwrap_err();
        assert_eq!(e[0].line, 3);
    }
}
