//! One step: build, send (or take the exchange sent ahead), judge, capture, and decide the
//! outcome and hint.

use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::http::{Exchange, OutRequest};
use crate::scenario::capture::{CaptureSpec, capture};
use crate::scenario::model::{Auth, Expect};
use crate::scenario::template::TemplateError;
use crate::scenario::{Evidence, Severity, Strictness, check_id};
use crate::scim::validate::Level;

use super::blocking::{Rejected, blocked_by_capture, blocking_dependency, not_accepted};
use super::ledger::Created;
use super::send::{kept_request, kept_response};
use super::{
    CheckResult, Event, EventSender, Finding, Outcome, Owner, Plan, PlanItem, Recorded, Runner,
    advertised, event, expect, hint, location,
};

/// The state of one scenario run while its steps go: captured values, pending events and
/// cleanups, and what later steps cannot build on.
pub(super) struct StepRun<'a> {
    /// Its plan index.
    pub(super) index: usize,
    /// The scenario and dialect it runs.
    pub(super) item: &'a PlanItem,
    /// The plan it is part of.
    pub(super) plan: &'a Plan,
    /// Where its events go once a step (or the scenario's start, or its cleanup) is done.
    pub(super) sender: &'a EventSender,
    /// Variables and captured values, by name.
    pub(super) vars: Map<String, Value>,
    /// Events not sent yet.
    pub(super) events: Vec<Event>,
    /// The explicit cleanups of its steps so far, with the step's name.
    pub(super) cleanups: Vec<(OutRequest, String)>,
    /// Captures that a failed step did not produce: (name, step name, check id at the root).
    pub(super) missing: Vec<(String, String, String)>,
    /// Checks of this scenario that later checks cannot build on.
    pub(super) rejected: Vec<Rejected>,
    /// Why its remaining steps are skipped, once they are.
    pub(super) aborted: Option<String>,
    /// Exchanges of independent reads sent ahead side by side (see `Runner::prefetch`), by
    /// check id: the request as built, when it was sent, and the exchange.
    pub(super) prefetched: std::collections::HashMap<String, (OutRequest, String, Exchange)>,
}

impl StepRun<'_> {
    /// Sends the events recorded so far (a step's exchanges stay here until it is judged: a
    /// long `repeat` drops some of them).
    pub(super) fn send_events(&mut self) {
        for e in self.events.drain(..) {
            let _ = self.sender.send(e);
        }
    }
}

/// The exchanges of at most this many repetitions of a step are recorded (and the last one).
pub const MAX_RECORDED_REPEATS: u32 = 20;

/// The finding of a create answered with a resource this run did not create.
pub(super) fn foreign_answer(c: &Created, named_with_prefix: bool, known: bool) -> Finding {
    let label = if c.label.is_empty() {
        String::new()
    } else {
        format!(" `{}`", c.label)
    };
    let why = if known {
        "the server answered the create with an existing resource that this run did not create (its id was already known to this run before the create: an \"upsert\" that matched an existing resource, whatever name it answers with)"
    } else if named_with_prefix {
        "the server answered the create with an existing resource that this run did not create"
    } else {
        "the create did not name the resource with this run's prefix (use `{{ unique.userName }}`), so nothing proves the resource the server answered with is this run's"
    };
    Finding::fail(
        "create",
        format!(
            "{why} ({}{label}): scimcheck will not change or delete it, and stops this scenario",
            c.path
        ),
    )
}

/// A request sent with a wrong or no token that was not answered 2xx proves no hole: a 5xx, a
/// redirect or no answer at all is inconclusive, so its failure is only a warning (and the
/// check's SECURITY hint, which says the endpoint let the request in, is not shown).
pub(super) fn inconclusive_auth(findings: &mut Vec<Finding>, ex: &Exchange) {
    let answer = match &ex.response {
        Ok(r) if (200..300).contains(&r.status) => return,
        Ok(r) if matches!(r.status, 401 | 403) => return,
        Ok(r) => format!("answered {}", r.status),
        Err(e) => format!("did not answer ({e})"),
    };
    if findings.iter().all(|f| f.level != Level::Fail) {
        return;
    }
    findings.clear();
    findings.push(Finding::warn(
        "auth",
        format!(
            "inconclusive: the endpoint {answer}, which shows neither that it refuses nor that it accepts this request; Entra needs a 401"
        ),
    ));
}

/// The outcome of a check from its findings, its severity and evidence class, and `--strict`:
/// it fails when a failing finding's class fails the run; any other finding is a warning.
pub fn outcome(
    findings: &[Finding],
    severity: Severity,
    evidence: Evidence,
    strict: Strictness,
) -> Outcome {
    let fails = findings
        .iter()
        .any(|f| f.level == Level::Fail && strict.fails(f.class(evidence)));
    if fails && severity == Severity::Fail {
        Outcome::Fail
    } else if findings.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Warn
    }
}

impl Runner {
    pub(super) async fn run_step(
        &self,
        run: &mut StepRun<'_>,
        step: &crate::scenario::Step,
        not_applicable: Option<&str>,
    ) -> CheckResult {
        let started = Instant::now();
        let id = check_id(&run.item.scenario.id, step);
        let mut result = CheckResult {
            id: id.clone(),
            name: step.name.clone(),
            proves: step.proves.clone(),
            severity: step.severity,
            evidence: step.evidence,
            outcome: Outcome::Pass,
            blocked_by: None,
            findings: vec![],
            hint: None,
            note: None,
            exchange: None,
            elapsed_ms: 0.0,
        };
        if let Some(why) = &run.aborted {
            result.outcome = Outcome::Skip;
            result.note = Some(format!("skipped: {why}"));
            return result;
        }
        // Before dependencies: a check that does not apply (the plan says why) is not blocked
        // by anything.
        if let Some(note) = not_applicable {
            result.outcome = Outcome::Skip;
            result.note = Some(note.to_string());
            self.forget_captures(run, step, &id);
            return result;
        }
        if let Some((root, note)) = blocking_dependency(run, step, &id) {
            self.block(run, step, &mut result, root, note);
            return result;
        }
        let iterations = step.repeat.unwrap_or(1).max(1);
        let default_expect = Expect::default();
        let expect_spec = step.expect.as_ref().map_or(&default_expect, |e| &e.value);
        let mut captured_lists: Map<String, Value> = Map::new();
        let mut unrecorded = 0usize;
        for i in 1..=iterations {
            if step.repeat.is_some() {
                run.vars.insert("i".into(), Value::from(i));
            }
            let built = match (&step.request, &step.patch) {
                (Some(r), _) => self.build_request(run, &r.value),
                (None, Some(p)) => self.build_patch(run, &p.value),
                (None, None) => unreachable!("lint requires a request or a patch"),
            };
            let expect = built.and_then(|req| Ok((req, self.render_expect(run, expect_spec)?)));
            let (req, expect) = match expect {
                Ok(x) => x,
                Err(e) => {
                    match blocked_by_capture(run, &e) {
                        Some((root, note)) => self.block(run, step, &mut result, root, note),
                        None if matches!(e, TemplateError::Skipped { .. }) => {
                            // A profile marks the step as not applicable, with the reason.
                            result.outcome = Outcome::Skip;
                            result.note = Some(format!("skipped: {e}"));
                            self.forget_captures(run, step, &id);
                        }
                        None => {
                            // A template that cannot be resolved is a failure of this step.
                            result.outcome = Outcome::Fail;
                            result.findings.push(Finding::fail(
                                "template",
                                format!("the step could not be built: {e}"),
                            ));
                            self.forget_captures(run, step, &id);
                            run.rejected.push(Rejected {
                                check: id.clone(),
                                root: id,
                                what: Some("not sent".into()),
                                patch: step.patch.is_some(),
                            });
                        }
                    }
                    return result;
                }
            };
            if i > 1
                && let Some(why) = self.give_up()
            {
                result.note = Some(format!(
                    "stopped after {} of {iterations} repetitions: {why}",
                    i - 1
                ));
                break;
            }
            // A read sent ahead is judged as sent (a `{{ uuid }}` in it was rendered then).
            let (req, ex, prefetched) = match run.prefetched.remove(&id) {
                Some((sent, started_at, ex)) if iterations == 1 => {
                    self.note_answer(&ex);
                    Self::record(run, &id, started_at, &ex);
                    (sent, ex, true)
                }
                _ => {
                    let ex = self.send(run, &id, &req).await;
                    (req, ex, false)
                }
            };
            if i > MAX_RECORDED_REPEATS && i < iterations {
                // The exchanges of a long `repeat` are not all kept: the first ones and the last.
                run.events.truncate(run.events.len().saturating_sub(2));
                unrecorded += 1;
            }
            let mut findings = match &ex.response {
                Err(e) => {
                    if e.is_unreachable() && self.responses.load(Ordering::SeqCst) == 0 {
                        run.aborted = Some("the target could not be reached".into());
                    }
                    vec![expect::transport_finding(e)]
                }
                Ok(r) => {
                    let projected = req
                        .query
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("attributes"));
                    let mut f = expect::check(
                        &expect,
                        r,
                        &run.plan.schemas,
                        !step.capture.is_empty(),
                        projected,
                    );
                    // A profile's checks are for attributes it maps: those stay failures.
                    if let Some(published) = &run.plan.advertised
                        && !run
                            .item
                            .scenario
                            .scenario
                            .tags
                            .iter()
                            .any(|t| t == "profile")
                    {
                        advertised::demote(&mut f, published, &req.path);
                    }
                    let json = r.json().unwrap_or(Value::Null);
                    if !f.iter().any(|x| x.kind == "status") {
                        f.extend(location::check(&json, &self.client.target().base));
                    }
                    for (name, spec) in &step.capture {
                        let spec = CaptureSpec::from_value(spec).expect("lint checked captures");
                        match capture(&json, &spec.pointer) {
                            Some(v) if step.repeat.is_some() => {
                                // This iteration's value, for this iteration's cleanup; the
                                // array of all iterations replaces it after the loop.
                                run.vars.insert(name.clone(), v.clone());
                                if let Value::Array(a) = captured_lists
                                    .entry(name.clone())
                                    .or_insert(Value::Array(vec![]))
                                {
                                    a.push(v);
                                }
                            }
                            Some(v) => {
                                run.vars.insert(name.clone(), v);
                            }
                            None if spec.optional => {}
                            None => f.push(Finding::fail(
                                "capture",
                                format!(
                                    "could not capture `{name}`: nothing at `{}` in the response",
                                    spec.pointer
                                ),
                            )),
                        }
                    }
                    f
                }
            };
            // A create sent side by side with others reports only the foreign answer it got.
            let answered = match &ex.response {
                Ok(r) if prefetched => r.json().and_then(|b| match b.get("id") {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                }),
                _ => None,
            };
            let mine = |c: &Created| {
                !prefetched
                    || answered
                        .as_ref()
                        .is_some_and(|id| c.path.rsplit('/').next() == Some(id.as_str()))
            };
            let mut answered_foreign = false;
            for (c, known) in self
                .client
                .ledger
                .take_new_foreign(Owner::Scenario(run.index), mine)
            {
                findings.push(foreign_answer(
                    &c,
                    self.client.carries_run_prefix(&req),
                    known,
                ));
                run.aborted = Some(format!(
                    "the server answered a create with {}, a resource this run did not create: nothing more is sent to it",
                    c.path
                ));
                answered_foreign = true;
            }
            if req.auth != Auth::Token {
                inconclusive_auth(&mut findings, &ex);
            }
            // The step's cleanup would remove what the create answered with: not this run's.
            if let Some(c) = step.cleanup.as_ref().filter(|_| !answered_foreign)
                && let Ok(req) = self.build_request(run, &c.value)
            {
                run.cleanups.push((req, step.name.clone()));
            }
            if let Ok(r) = &ex.response {
                let mut notes = Vec::new();
                if !r.retries.is_empty() {
                    let waits: Vec<String> = r
                        .retries
                        .iter()
                        .map(|(status, secs)| format!("{status} (waited {secs:.1} s)"))
                        .collect();
                    notes.push(format!(
                        "the server asked to back off: {}",
                        waits.join(", ")
                    ));
                }
                notes.extend(self.not_retried(r));
                if !notes.is_empty() {
                    result.note = Some(notes.join("; "));
                }
            }
            let room = crate::limits::FINDINGS
                .get_usize()
                .saturating_sub(result.findings.len());
            if findings.len() > room {
                let level = if findings.iter().any(|f| f.level == Level::Fail) {
                    Level::Fail
                } else {
                    Level::Warn
                };
                result.findings.extend(findings.into_iter().take(room));
                if room > 0 {
                    result.findings.push(Finding {
                        level,
                        ..Finding::fail(
                            "limit",
                            format!(
                                "… more findings were not listed (at most {} per check, {})",
                                crate::limits::FINDINGS.get(),
                                crate::limits::FINDINGS.hint()
                            ),
                        )
                    });
                }
            } else {
                result.findings.extend(findings);
            }
            result.exchange = Some(Recorded {
                request: kept_request(&ex.request),
                response: kept_response(&ex.response),
                elapsed_ms: event::ms(ex.elapsed),
            });
        }
        for (k, v) in captured_lists {
            run.vars.insert(k, v);
        }
        if unrecorded > 0 {
            let kept = format!(
                "the exchanges of {unrecorded} repetitions are not in the reports (the first {MAX_RECORDED_REPEATS} and the last are)"
            );
            result.note = Some(match result.note.take() {
                Some(n) => format!("{n}; {kept}"),
                None => kept,
            });
        }
        for name in step.capture.keys() {
            if !run.vars.contains_key(name) {
                run.missing
                    .push((name.clone(), step.name.clone(), id.clone()));
            }
        }
        result.elapsed_ms = event::ms(started.elapsed());
        result.outcome = outcome(
            &result.findings,
            step.severity,
            step.evidence,
            self.config.strict,
        );
        if let Some(what) = not_accepted(&result) {
            run.rejected.push(Rejected {
                check: id.clone(),
                root: id.clone(),
                what: Some(what),
                patch: step.patch.is_some(),
            });
        }
        // The hint explains a failure in Entra terms; a warning's findings speak for themselves.
        if result.outcome == Outcome::Fail {
            result.hint = hint::fitting(
                step.hint.as_deref(),
                step.hint_rejected.as_deref(),
                &result.findings,
                result.exchange.as_ref(),
            );
        }
        result
    }

    /// Why a final 429 / 503 was not waited out, for the check's note.
    pub(super) fn not_retried(&self, r: &crate::http::Received) -> Option<String> {
        if !matches!(r.status, 429 | 503) {
            return None;
        }
        let options = self.client.options();
        Some(match r.header("retry-after") {
            None => format!("{} without Retry-After: not retried", r.status),
            Some(v) => match crate::http::parse_retry_after(v) {
                None => {
                    format!("Retry-After `{v}` is neither seconds nor an HTTP date: not retried")
                }
                Some(wait) if wait > options.max_retry_wait => format!(
                    "the server asked to wait {} s, longer than --max-retry-wait ({} s): not retried",
                    wait.as_secs(),
                    options.max_retry_wait.as_secs()
                ),
                Some(_) => format!(
                    "still {} after {} retries (--max-retries {})",
                    r.status,
                    r.retries.len(),
                    options.max_retries
                ),
            },
        })
    }
}
