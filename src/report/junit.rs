//! The JUnit XML report (via `quick-junit`): a `<testsuite>` per scenario run, a `<testcase>`
//! per check. A failed check is a `<failure>` whose text holds the findings, the diff, the
//! exchange and the hint; a warned check passes with its warnings in `<system-out>`; a skipped
//! check is `<skipped>`, and so is a waived failure (`waived: <reason>`), so that CI test
//! reporters agree with the exit code.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::run::{CheckResult, CleanupOutcome, Outcome};

use super::record::{RunRecord, ScenarioRecord, check_details, finding_line};

fn secs(ms: f64) -> Duration {
    Duration::from_secs_f64((ms / 1000.0).max(0.0))
}

fn timestamp(rfc3339: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(rfc3339).ok()
}

fn case(c: &CheckResult, classname: &str) -> TestCase {
    let status = match c.outcome {
        Outcome::Pass | Outcome::Warn => TestCaseStatus::success(),
        Outcome::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            match c.findings.first() {
                Some(f) => {
                    s.set_message(finding_line(f)).set_type(f.kind);
                }
                None => {
                    s.set_message(c.note.clone().unwrap_or_else(|| "failed".into()));
                }
            }
            s.set_description(check_details(c));
            s
        }
        Outcome::Skip | Outcome::Waived | Outcome::Blocked => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(c.note.clone().unwrap_or_else(|| c.outcome.as_str().into()))
                .set_type(c.outcome.as_str());
            if c.outcome == Outcome::Waived {
                s.set_description(check_details(c));
            }
            s
        }
    };
    let mut t = TestCase::new(c.id.as_str(), status);
    t.set_classname(classname).set_time(secs(c.elapsed_ms));
    if c.outcome == Outcome::Warn {
        t.set_system_out(format!("warning\n{}", check_details(c)));
    } else if c.outcome == Outcome::Pass
        && let Some(note) = &c.note
    {
        t.set_system_out(note.as_str());
    }
    t
}

fn suite(s: &ScenarioRecord) -> TestSuite {
    let name = format!("{} [{}]", s.info.id, s.info.dialect.as_str());
    let mut suite = TestSuite::new(name.as_str());
    if let Some(ts) = s.started_at().and_then(timestamp) {
        suite.set_timestamp(ts);
    }
    suite.set_time(secs(s.elapsed_ms));
    suite.add_properties([
        ("scenario", s.info.name.as_str()),
        ("file", s.info.file.as_str()),
        ("dialect", s.info.dialect.as_str()),
        ("tags", &s.info.tags.join(",")),
    ]);
    suite.add_test_cases(s.checks.iter().map(|c| case(c, &name)));
    let cleanup: Vec<String> = s
        .cleanups
        .iter()
        .map(|c| {
            let what = match &c.outcome {
                CleanupOutcome::Deleted => "deleted".to_string(),
                CleanupOutcome::AlreadyGone => "already gone".to_string(),
                CleanupOutcome::Kept => "kept (--keep)".to_string(),
                CleanupOutcome::Failed(why) => format!("FAILED: {why}"),
                CleanupOutcome::Unverified(why) => format!("UNVERIFIED: {why}"),
            };
            format!("cleanup {} {} ({}): {what}", c.method, c.path, c.label)
        })
        .collect();
    if !cleanup.is_empty() {
        suite.set_system_out(cleanup.join("\n"));
    }
    suite
}

/// The JUnit XML text.
pub fn render(r: &RunRecord) -> String {
    let mut report = Report::new("scimcheck");
    if let Some(ts) = timestamp(&r.started_at) {
        report.set_timestamp(ts);
    }
    report.set_time(secs(r.summary().elapsed_ms));
    report.add_test_suites(r.scenarios.iter().map(suite));
    let mut xml = report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- the JUnit report could not be written: {e} -->"));
    if !xml.ends_with('\n') {
        xml.push('\n');
    }
    xml
}
