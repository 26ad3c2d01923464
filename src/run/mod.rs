//! The runner: executes planned scenarios against the target, judges every step, always cleans
//! up, and emits [`Event`]s in a deterministic order (plan order, whatever the concurrency).

pub mod event;
pub mod expect;
pub mod location;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use std::panic::AssertUnwindSafe;

use futures_util::{FutureExt, StreamExt};
use serde_json::{Map, Value};

use crate::http::{Client, Exchange, OutRequest, resource_path};
use crate::scenario::capture::{CaptureSpec, capture};
use crate::scenario::model::Position;
use crate::scenario::model::{Expect, PatchSpec, RequestSpec};
use crate::scenario::template::{Context, Generators, TemplateError};
use crate::scenario::{Dialect, Loaded, Severity, check_id};
use crate::scim::dialect::{NeutralPatch, render};
use crate::scim::schema::SchemaSet;
use crate::scim::validate::Level;

pub use event::{
    CheckResult, CleanupOutcome, Event, Finding, Outcome, Recorded, ScenarioInfo, Summary,
    WaiverState, WaiverStatus,
};

/// One scenario to run in one dialect.
#[derive(Debug, Clone)]
pub struct PlanItem {
    pub scenario: Arc<Loaded>,
    pub dialect: Dialect,
}

/// Every scenario in every requested dialect, dialects of one scenario side by side; a
/// dialect-neutral scenario runs once, in the first dialect. Scenarios with a `position` are
/// moved: `middle` halfway through the others, `end` after all of them.
pub fn plan(scenarios: &[Arc<Loaded>], dialects: &[Dialect]) -> Vec<PlanItem> {
    let items = in_order(scenarios, dialects);
    let at = |p: Position| {
        let p = Some(p);
        move |i: &PlanItem| i.scenario.scenario.position == p
    };
    let (middle, rest): (Vec<PlanItem>, Vec<PlanItem>) =
        items.into_iter().partition(at(Position::Middle));
    let (end, mut out): (Vec<PlanItem>, Vec<PlanItem>) =
        rest.into_iter().partition(at(Position::End));
    let half = out.len() / 2;
    out.splice(half..half, middle);
    out.extend(end);
    out
}

fn in_order(scenarios: &[Arc<Loaded>], dialects: &[Dialect]) -> Vec<PlanItem> {
    scenarios
        .iter()
        .flat_map(|s| {
            let n = if s.scenario.dialect_neutral {
                1
            } else {
                dialects.len()
            };
            dialects.iter().take(n).map(|d| PlanItem {
                scenario: s.clone(),
                dialect: *d,
            })
        })
        .collect()
}

/// Run settings.
#[derive(Clone)]
pub struct RunConfig {
    /// Scenarios run at once.
    pub jobs: usize,
    /// Leave created data in place.
    pub keep: bool,
    /// Schemas responses are validated against (built-in, plus the server's own when known).
    pub schemas: Arc<SchemaSet>,
    /// Profile name, for reports.
    pub profile: Option<String>,
    /// Set to stop sending new steps (Ctrl-C); cleanup still runs.
    pub stop: Arc<AtomicBool>,
    /// TLS verification is off (reported loudly).
    pub insecure: bool,
    /// Test hook: panic just before running the check with this id (proves cleanup survives a
    /// bug). Never set by the CLI.
    #[doc(hidden)]
    pub panic_at: Option<String>,
    /// Called as each scenario finishes: (done, total).
    pub on_progress: Option<Arc<dyn Fn(usize, usize) + Send + Sync>>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            jobs: 4,
            keep: false,
            schemas: Arc::new(SchemaSet::builtin().clone()),
            profile: None,
            stop: Arc::default(),
            insecure: false,
            panic_at: None,
            on_progress: None,
        }
    }
}

/// The runner of one run: one client, one set of generators.
pub struct Runner {
    pub client: Arc<Client>,
    pub generators: Arc<Generators>,
    pub config: RunConfig,
    responses: AtomicU64,
    unreachable: AtomicBool,
    done: AtomicUsize,
}

struct StepRun<'a> {
    index: usize,
    item: &'a PlanItem,
    vars: Map<String, Value>,
    events: Vec<Event>,
    cleanups: Vec<(OutRequest, String)>,
    /// Captures that a failed step did not produce: name -> step name.
    missing: Vec<(String, String)>,
    aborted: Option<String>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Runner {
    /// A runner for `client`.
    pub fn new(client: Arc<Client>, generators: Arc<Generators>, config: RunConfig) -> Self {
        Runner {
            client,
            generators,
            config,
            responses: AtomicU64::new(0),
            unreachable: AtomicBool::new(false),
            done: AtomicUsize::new(0),
        }
    }

    /// When the plan tests discovery (a scenario tagged `discovery`, as in the built-in suite),
    /// adds what the target publishes at `/Schemas` to the schemas responses are validated
    /// against: RFC 7643's definitions win, custom extensions are added and so validated too.
    /// One GET; any failure keeps the built-in definitions and is left for the discovery checks
    /// to report.
    pub async fn discover_schemas(&mut self, plan: &[PlanItem]) {
        if !plan
            .iter()
            .any(|p| p.scenario.scenario.tags.iter().any(|t| t == "discovery"))
        {
            return;
        }
        let ex = self
            .client
            .send(&OutRequest::new("GET", "/Schemas"), usize::MAX)
            .await;
        if let Ok(r) = &ex.response
            && r.status == 200
            && let Some(published) = r
                .json()
                .and_then(|b| SchemaSet::from_list_response(&b).ok())
        {
            self.config.schemas = Arc::new(self.config.schemas.with_published(&published));
        }
    }

    /// Runs the plan, calling `sink` with every event in plan order, and returns the summary.
    pub async fn run(&self, plan: &[PlanItem], sink: &mut dyn FnMut(&Event)) -> Summary {
        let started = Instant::now();
        let mut dialects: Vec<Dialect> = plan.iter().map(|p| p.dialect).collect();
        dialects.sort();
        dialects.dedup();
        sink(&Event::RunStarted {
            run_id: self.generators.run_id().to_string(),
            started_at: event::now(),
            target: self.client.target().to_string(),
            dialects,
            scenarios: plan.len(),
            profile: self.config.profile.clone(),
            insecure: self.config.insecure,
        });
        let mut summary = Summary::default();
        let jobs = self.config.jobs.max(1);
        // `position: end` scenarios (planned last) start only once everything else finished.
        let tail = plan
            .iter()
            .rev()
            .take_while(|p| p.scenario.scenario.position == Some(Position::End))
            .count();
        let split = plan.len() - tail;
        for (offset, part) in [(0, &plan[..split]), (split, &plan[split..])] {
            let mut stream = futures_util::stream::iter(part.iter().enumerate())
                .map(|(i, item)| self.run_scenario(offset + i, item, plan.len()))
                .buffered(jobs);
            while let Some(events) = stream.next().await {
                for e in &events {
                    if let Event::CheckFinished { result, .. } = e {
                        summary.count(result.outcome);
                    }
                    sink(e);
                }
            }
        }
        summary.elapsed_ms = event::ms(started.elapsed());
        summary.leftovers = if self.config.keep {
            vec![]
        } else {
            self.client.ledger.remaining(None)
        };
        summary.unreachable =
            self.unreachable.load(Ordering::SeqCst) && self.responses.load(Ordering::SeqCst) == 0;
        summary.interrupted = self.config.stop.load(Ordering::SeqCst);
        sink(&Event::RunFinished {
            summary: summary.clone(),
        });
        summary
    }

    async fn send(&self, run: &mut StepRun<'_>, check: &str, req: &OutRequest) -> Exchange {
        let started_at = event::now();
        let ex = self.client.send(req, run.index).await;
        match &ex.response {
            Ok(_) => {
                self.responses.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) if e.is_unreachable() => self.unreachable.store(true, Ordering::SeqCst),
            Err(_) => {}
        }
        run.events.push(Event::RequestSent {
            scenario: run.index,
            check: check.to_string(),
            started_at,
            request: ex.request.clone(),
        });
        run.events.push(Event::ResponseReceived {
            scenario: run.index,
            check: check.to_string(),
            response: ex.response.clone(),
            elapsed_ms: event::ms(ex.elapsed),
        });
        ex
    }

    fn give_up(&self) -> Option<String> {
        if self.config.stop.load(Ordering::SeqCst) {
            Some("the run was interrupted".into())
        } else if self.unreachable.load(Ordering::SeqCst)
            && self.responses.load(Ordering::SeqCst) == 0
        {
            Some("the target could not be reached".into())
        } else {
            None
        }
    }

    async fn run_scenario(&self, index: usize, item: &PlanItem, total: usize) -> Vec<Event> {
        let started = Instant::now();
        let s = &item.scenario;
        let mut run = StepRun {
            index,
            item,
            vars: Map::new(),
            events: Vec::new(),
            cleanups: Vec::new(),
            missing: Vec::new(),
            aborted: self.give_up(),
        };
        run.events.push(Event::ScenarioStarted(ScenarioInfo {
            index,
            id: s.id.clone(),
            name: s.scenario.name.clone(),
            file: s.file.clone(),
            tags: s.scenario.tags.clone(),
            dialect: item.dialect,
            description: s.scenario.description.clone(),
            entra: s.scenario.entra.clone(),
        }));
        if let Some(vars) = &s.scenario.vars {
            for (name, value) in &vars.value {
                let rendered = self.context(&run.vars, item.dialect).render_value(value);
                match rendered {
                    Ok(v) => {
                        run.vars.insert(name.clone(), v);
                    }
                    Err(e) => run.aborted = Some(format!("variable `{name}`: {e}")),
                }
            }
        }
        // A bug (a panic) in one step must not skip cleanup: the steps run unwind-safe, the
        // panic becomes a failed check, and cleanup still removes what the scenario created.
        let steps = AssertUnwindSafe(self.run_steps(&mut run))
            .catch_unwind()
            .await;
        if let Err(panic) = steps {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|m| m.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            run.events.push(Event::CheckFinished {
                scenario: index,
                result: internal_error(&s.id, &self.client.secret().redact(&message)),
            });
        }
        self.cleanup(&mut run).await;
        run.events.push(Event::ScenarioFinished {
            scenario: index,
            elapsed_ms: event::ms(started.elapsed()),
        });
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(p) = &self.config.on_progress {
            p(done, total);
        }
        run.events
    }

    async fn run_steps(&self, run: &mut StepRun<'_>) {
        let item = run.item;
        for step in &item.scenario.scenario.steps {
            let step = &step.value;
            if step.dialect.is_some_and(|d| d != item.dialect) {
                continue;
            }
            if run.aborted.is_none() {
                run.aborted = self.give_up();
            }
            let check = check_id(&item.scenario.id, step);
            if self.config.panic_at.as_deref() == Some(check.as_str()) {
                panic!("test hook: panic at {check}");
            }
            let result = self.run_step(run, step).await;
            run.events.push(Event::CheckFinished {
                scenario: run.index,
                result,
            });
        }
    }

    fn context<'a>(&'a self, vars: &'a Map<String, Value>, dialect: Dialect) -> Context<'a> {
        Context {
            vars,
            generators: &self.generators,
            dialect,
            base_url: &self.client.target().base,
        }
    }

    fn build_request(
        &self,
        run: &StepRun<'_>,
        req: &RequestSpec,
    ) -> Result<OutRequest, TemplateError> {
        let cx = self.context(&run.vars, run.item.dialect);
        Ok(OutRequest {
            method: req.method.to_ascii_uppercase(),
            path: cx.render_text(&req.path)?,
            query: req
                .query
                .iter()
                .map(|(k, v)| Ok((k.clone(), text(&cx.render_value(v)?))))
                .collect::<Result<_, TemplateError>>()?,
            headers: req
                .headers
                .iter()
                .map(|(k, v)| Ok((k.clone(), text(&cx.render_value(v)?))))
                .collect::<Result<_, TemplateError>>()?,
            body: req.body.as_ref().map(|b| cx.render_value(b)).transpose()?,
            auth: req.auth,
        })
    }

    fn build_patch(&self, run: &StepRun<'_>, p: &PatchSpec) -> Result<OutRequest, TemplateError> {
        let cx = self.context(&run.vars, run.item.dialect);
        let map = |m: &Map<String, Value>| match cx.render_value(&Value::Object(m.clone()))? {
            Value::Object(o) => Ok(o),
            _ => Ok(Map::new()),
        };
        let list = |l: &Vec<Value>| match cx.render_value(&Value::Array(l.clone()))? {
            Value::Array(a) => Ok::<_, TemplateError>(a),
            _ => Ok(vec![]),
        };
        let neutral = NeutralPatch {
            set: map(&p.set)?,
            add: map(&p.add)?,
            remove: p
                .remove
                .iter()
                .map(|r| cx.render_text(r))
                .collect::<Result<_, _>>()?,
            add_members: list(&p.add_members)?,
            remove_members: list(&p.remove_members)?,
            ops: list(&p.ops)?,
        };
        let mut req = OutRequest::new("PATCH", cx.render_text(&p.resource)?);
        req.body = Some(render(&neutral, run.item.dialect));
        Ok(req)
    }

    async fn run_step(&self, run: &mut StepRun<'_>, step: &crate::scenario::Step) -> CheckResult {
        let started = Instant::now();
        let id = check_id(&run.item.scenario.id, step);
        let mut result = CheckResult {
            id: id.clone(),
            name: step.name.clone(),
            proves: step.proves.clone(),
            severity: step.severity,
            outcome: Outcome::Pass,
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
        let iterations = step.repeat.unwrap_or(1).max(1);
        let default_expect = Expect::default();
        let expect_spec = step.expect.as_ref().map_or(&default_expect, |e| &e.value);
        let mut captured_lists: Map<String, Value> = Map::new();
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
                    result.outcome = Outcome::Skip;
                    result.note = Some(self.explain_skip(run, &e));
                    self.forget_captures(run, step);
                    return result;
                }
            };
            let ex = self.send(run, &id, &req).await;
            let findings = match &ex.response {
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
                        &self.config.schemas,
                        !step.capture.is_empty(),
                        projected,
                    );
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
            if let Some(c) = &step.cleanup
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
            result.findings.extend(findings);
            result.exchange = Some(Recorded {
                request: ex.request,
                response: ex.response,
                elapsed_ms: event::ms(ex.elapsed),
            });
        }
        for (k, v) in captured_lists {
            run.vars.insert(k, v);
        }
        for name in step.capture.keys() {
            if !run.vars.contains_key(name) {
                run.missing.push((name.clone(), step.name.clone()));
            }
        }
        result.elapsed_ms = event::ms(started.elapsed());
        result.outcome = outcome(&result.findings, step.severity);
        // The hint explains a failure in Entra terms; a warning's findings speak for themselves.
        if result.outcome == Outcome::Fail {
            result.hint = step.hint.clone();
        }
        result
    }

    /// Why a final 429 / 503 was not waited out, for the check's note.
    fn not_retried(&self, r: &crate::http::Received) -> Option<String> {
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

    fn forget_captures(&self, run: &mut StepRun<'_>, step: &crate::scenario::Step) {
        for name in step.capture.keys() {
            run.missing.push((name.clone(), step.name.clone()));
        }
    }

    fn explain_skip(&self, run: &StepRun<'_>, e: &TemplateError) -> String {
        if let TemplateError::Undefined { name } = e
            && let Some((_, step)) = run.missing.iter().find(|(n, _)| n == name)
        {
            return format!("skipped: needs `{name}`, which step \"{step}\" did not capture");
        }
        format!("skipped: {e}")
    }

    fn render_expect(&self, run: &StepRun<'_>, e: &Expect) -> Result<Expect, TemplateError> {
        let cx = self.context(&run.vars, run.item.dialect);
        let mut out = e.clone();
        out.body = e.body.as_ref().map(|b| cx.render_value(b)).transpose()?;
        if let Value::Object(h) = cx.render_value(&Value::Object(e.headers.clone()))? {
            out.headers = h;
        }
        for a in &mut out.assert {
            let a = &mut a.value;
            for v in [
                &mut a.equals,
                &mut a.contains,
                &mut a.not_contains,
                &mut a.disjoint,
            ]
            .into_iter()
            .flatten()
            {
                *v = cx.render_value(v)?;
            }
            if let Some(f) = &mut a.all_match {
                f.value = cx.render_text(&f.value)?;
            }
            if let Some(list) = &mut a.one_of {
                // `one_of: ["{{ ids }}"]` with a captured array means any of those ids.
                let mut flat = Vec::with_capacity(list.len());
                for v in list.iter() {
                    match cx.render_value(v)? {
                        Value::Array(items) => flat.extend(items),
                        other => flat.push(other),
                    }
                }
                *list = flat;
            }
        }
        Ok(out)
    }

    async fn cleanup(&self, run: &mut StepRun<'_>) {
        self.client.adopt_pending(run.index).await;
        if self.config.keep {
            for c in self.client.ledger.remaining(Some(run.index)) {
                run.events.push(Event::Cleanup {
                    scenario: run.index,
                    method: "DELETE".into(),
                    path: c.path,
                    label: c.label,
                    outcome: CleanupOutcome::Kept,
                });
            }
            return;
        }
        let explicit: Vec<(OutRequest, String)> = run.cleanups.drain(..).rev().collect();
        for (req, label) in explicit {
            self.clean_one(run, req, label).await;
        }
        for c in self.client.ledger.remaining(Some(run.index)) {
            self.clean_one(run, OutRequest::new("DELETE", c.path.clone()), c.label)
                .await;
        }
    }

    async fn clean_one(&self, run: &mut StepRun<'_>, req: OutRequest, label: String) {
        let ex = self.send(run, "cleanup", &req).await;
        let outcome = match &ex.response {
            Err(e) => CleanupOutcome::Failed(e.to_string()),
            Ok(r) if r.status == 404 && req.method == "DELETE" => CleanupOutcome::AlreadyGone,
            Ok(r) if !(200..300).contains(&r.status) => {
                CleanupOutcome::Failed(format!("{} answered {}", req.method, r.status))
            }
            Ok(_) => match (req.method.as_str(), resource_path(&req.path)) {
                ("DELETE", Some(path)) => self.verify_gone(run, &path).await,
                _ => CleanupOutcome::Deleted,
            },
        };
        run.events.push(Event::Cleanup {
            scenario: run.index,
            method: req.method.clone(),
            path: req.path.clone(),
            label,
            outcome,
        });
    }

    async fn verify_gone(&self, run: &mut StepRun<'_>, path: &str) -> CleanupOutcome {
        let ex = self
            .send(run, "cleanup", &OutRequest::new("GET", path))
            .await;
        match &ex.response {
            Ok(r) if r.status == 404 => CleanupOutcome::Deleted,
            Ok(r) => CleanupOutcome::Failed(format!(
                "DELETE succeeded but GET {path} still answers {}",
                r.status
            )),
            Err(e) => CleanupOutcome::Failed(format!("could not verify the delete: {e}")),
        }
    }
}

/// The failed check that stands for a panic inside a scenario.
fn internal_error(scenario_id: &str, message: &str) -> CheckResult {
    CheckResult {
        id: format!("{scenario_id}.internal-error"),
        name: "scimcheck internal error".into(),
        proves: None,
        severity: Severity::Fail,
        outcome: Outcome::Fail,
        findings: vec![Finding::fail(
            "internal",
            format!("scimcheck panicked while running this scenario: {message}; its remaining steps were not run, its test data was cleaned up"),
        )],
        hint: Some("This is a bug in scimcheck, not in your endpoint: please report it with the JSON report attached.".into()),
        note: None,
        exchange: None,
        elapsed_ms: 0.0,
    }
}

/// The outcome of a check from its findings and severity.
pub fn outcome(findings: &[Finding], severity: Severity) -> Outcome {
    if findings.iter().any(|f| f.level == Level::Fail) {
        match severity {
            Severity::Fail => Outcome::Fail,
            Severity::Warn => Outcome::Warn,
        }
    } else if findings.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Warn
    }
}
