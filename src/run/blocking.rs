//! Cascades: a check whose request was not accepted blocks the checks that build on it (by
//! `after:`, by id prefix, or by a capture it did not produce), naming the root cause.

use crate::scenario::template::TemplateError;
use crate::scim::validate::Level;

use super::step::StepRun;
use super::{CheckResult, Outcome, Runner};

/// A check of a scenario run whose request was not accepted, or that was not judged itself.
pub(super) struct Rejected {
    /// Its id.
    pub(super) check: String,
    /// The failed check at the root of the cascade (itself when it failed).
    pub(super) root: String,
    /// What happened to its request ("answered 400"); `None` when it was blocked itself.
    pub(super) what: Option<String>,
    /// It was a PATCH: a check building on it verifies a change.
    pub(super) patch: bool,
}

/// What went wrong with a judged check's request when the server did not accept it: no
/// response, or an unexpected status that is not a success (a 200 where 201 was expected is
/// a failure of its own check, but the resource exists and later checks can judge it).
/// `None` when the server accepted it (other findings do not stop the checks that build on it).
pub(super) fn not_accepted(r: &CheckResult) -> Option<String> {
    let f = r
        .findings
        .iter()
        .find(|f| f.level == Level::Fail && matches!(f.kind, "status" | "transport"))?;
    match r.exchange.as_ref().map(|e| &e.response) {
        Some(Ok(resp)) if (200..300).contains(&resp.status) => None,
        Some(Ok(resp)) => Some(format!("answered {}", resp.status)),
        _ if f.kind == "transport" => Some("got no response".to_string()),
        _ => Some("was not accepted".to_string()),
    }
}

/// The earlier check of this scenario that `step` judges the effect of (its `after:` list, or
/// the check whose id is a prefix of its own: `user.disable` for `user.disable.still-found`),
/// when that check was not accepted: the root check id and the note to show.
pub(super) fn blocking_dependency(
    run: &StepRun<'_>,
    step: &crate::scenario::Step,
    id: &str,
) -> Option<(String, String)> {
    let implicit = run
        .rejected
        .iter()
        .filter(|r| id.starts_with(&format!("{}.", r.check)))
        .max_by_key(|r| r.check.len());
    let explicit = run.rejected.iter().find(|r| step.after.contains(&r.check));
    let dep = explicit.or(implicit)?;
    let (check, root) = (&dep.check, &dep.root);
    let note = match &dep.what {
        None => format!("blocked by {root}: {check}, which this check builds on, was not judged"),
        Some(what) if dep.patch && step.patch.is_none() => {
            format!("not verified: the PATCH ({check}) was rejected ({what})")
        }
        Some(what) => format!("blocked by {root}: {check}, which this check builds on, {what}"),
    };
    Some((root.clone(), note))
}

/// For a template naming a value an earlier failed step did not capture: the root check id and
/// the note to show.
pub(super) fn blocked_by_capture(run: &StepRun<'_>, e: &TemplateError) -> Option<(String, String)> {
    let TemplateError::Undefined { name } = e else {
        return None;
    };
    let (_, step, root) = run.missing.iter().rev().find(|(n, _, _)| n == name)?;
    Some((
        root.clone(),
        format!("blocked by {root}: needs `{name}`, which step \"{step}\" did not capture"),
    ))
}

impl Runner {
    /// Marks `result` blocked by `root`: not judged, its captures missing, and the checks
    /// building on it blocked in turn.
    pub(super) fn block(
        &self,
        run: &mut StepRun<'_>,
        step: &crate::scenario::Step,
        result: &mut CheckResult,
        root: String,
        note: String,
    ) {
        self.forget_captures(run, step, &root);
        run.rejected.push(Rejected {
            check: result.id.clone(),
            root: root.clone(),
            what: None,
            patch: step.patch.is_some(),
        });
        result.outcome = Outcome::Blocked;
        result.blocked_by = Some(root);
        result.note = Some(note);
    }

    pub(super) fn forget_captures(
        &self,
        run: &mut StepRun<'_>,
        step: &crate::scenario::Step,
        root: &str,
    ) {
        for name in step.capture.keys() {
            run.missing
                .push((name.clone(), step.name.clone(), root.to_string()));
        }
    }
}
