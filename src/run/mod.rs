//! The runner: executes planned scenarios against the target, judges every step, always cleans
//! up, and emits [`Event`]s in a deterministic order (plan order, whatever the concurrency).

mod advertised;
pub mod event;
pub mod expect;
pub mod hint;
pub mod ledger;
pub mod location;
pub mod schedule;
mod spill;
pub mod tenant;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use std::panic::AssertUnwindSafe;

use futures_util::{FutureExt, StreamExt};
use serde_json::{Map, Value};

use crate::http::{Exchange, OutRequest, is_transient};
use crate::scenario::capture::{CaptureSpec, capture};
use crate::scenario::model::Position;
use crate::scenario::model::{Auth, Expect, PatchSpec, RequestSpec};
use crate::scenario::template::{Context, Generators, TemplateError};
use crate::scenario::{Dialect, Evidence, Loaded, Severity, Strictness, check_id};
use crate::scim::dialect::{NeutralPatch, render};
use crate::scim::schema::SchemaSet;
use crate::scim::validate::Level;

pub use event::{
    CheckResult, CleanupOutcome, Event, Finding, Outcome, Recorded, RootCause, ScenarioInfo,
    Summary, WaiverState, WaiverStatus,
};
pub use ledger::{Created, Ledger, Owner, Pending};
pub use tenant::Tenant;

use ledger::resource_path;

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
    /// What the server itself publishes at `/Schemas`, when it was read: value checks on
    /// attributes it does not advertise are warnings (Entra would not map them).
    pub advertised: Option<Arc<SchemaSet>>,
    /// Profile name, for reports.
    pub profile: Option<String>,
    /// Set to stop sending new steps (Ctrl-C); cleanup still runs.
    pub stop: Arc<AtomicBool>,
    /// TLS verification is off (reported loudly).
    pub insecure: bool,
    /// Which evidence classes fail the run (`--strict`).
    pub strict: Strictness,
    /// Set when Entra's Test Connection fails: every scenario but the `test-connection` ones is
    /// skipped with this reason (`--keep-going` leaves it unset).
    pub gate: Option<String>,
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
            advertised: None,
            profile: None,
            stop: Arc::default(),
            insecure: false,
            strict: Strictness::default(),
            gate: None,
            panic_at: None,
            on_progress: None,
        }
    }
}

/// The runner of one run: one client, one set of generators.
pub struct Runner {
    pub client: Arc<Tenant>,
    pub generators: Arc<Generators>,
    pub config: RunConfig,
    responses: AtomicU64,
    unreachable: AtomicBool,
    done: AtomicUsize,
    /// Requests in a row that got no answer at all, and when the first of them was sent.
    failing: std::sync::Mutex<(usize, Option<chrono::DateTime<chrono::Local>>)>,
    /// Set once the endpoint stopped answering mid-run: the one line that says so.
    gone: std::sync::OnceLock<String>,
}

/// Consecutive requests without any answer (refused, reset, timed out) after which the
/// endpoint is taken as gone: no new steps are sent, cleanup is tried, the run exits 3.
pub const GONE_AFTER: usize = 5;

struct StepRun<'a> {
    index: usize,
    item: &'a PlanItem,
    vars: Map<String, Value>,
    events: Vec<Event>,
    cleanups: Vec<(OutRequest, String)>,
    /// Captures that a failed step did not produce: (name, step name, check id at the root).
    missing: Vec<(String, String, String)>,
    /// Checks of this scenario that later checks cannot build on.
    rejected: Vec<Rejected>,
    aborted: Option<String>,
    /// Exchanges of independent reads sent ahead side by side (see `Runner::prefetch`), by
    /// check id: the request as built, when it was sent, and the exchange.
    prefetched: std::collections::HashMap<String, (OutRequest, String, Exchange)>,
}

/// A check of a scenario run whose request was not accepted, or that was not judged itself.
struct Rejected {
    /// Its id.
    check: String,
    /// The failed check at the root of the cascade (itself when it failed).
    root: String,
    /// What happened to its request ("answered 400"); `None` when it was blocked itself.
    what: Option<String>,
    /// It was a PATCH: a check building on it verifies a change.
    patch: bool,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Runner {
    /// A runner for `client`.
    pub fn new(client: Arc<Tenant>, generators: Arc<Generators>, config: RunConfig) -> Self {
        Runner {
            client,
            generators,
            config,
            responses: AtomicU64::new(0),
            unreachable: AtomicBool::new(false),
            done: AtomicUsize::new(0),
            failing: std::sync::Mutex::new((0, None)),
            gone: std::sync::OnceLock::new(),
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
            .send(&OutRequest::new("GET", "/Schemas"), Owner::Setup)
            .await;
        if let Ok(r) = &ex.response
            && r.status == 200
            && let Some(published) = r
                .json()
                .and_then(|b| SchemaSet::from_list_response(&b).ok())
        {
            self.config.schemas = Arc::new(self.config.schemas.with_published(&published));
            self.config.advertised = Some(Arc::new(published));
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
        let mut failed: Vec<(Dialect, CheckResult)> = Vec::new();
        let jobs = self.config.jobs.max(1);
        // Scenarios start longest first (see `schedule`); their events are emitted in plan
        // order as soon as every earlier scenario has finished. `position: end` scenarios start
        // only once everything else finished.
        let mut slots: Vec<Option<Vec<Event>>> = (0..plan.len()).map(|_| None).collect();
        let mut next = 0;
        for part in [schedule::start_order(plan, jobs), schedule::tail(plan)] {
            let mut stream = futures_util::stream::iter(part)
                .map(|i| async move { (i, self.run_scenario(i, &plan[i], plan.len()).await) })
                .buffer_unordered(jobs);
            while let Some((i, events)) = stream.next().await {
                slots[i] = Some(events);
                while let Some(events) = slots.get_mut(next).and_then(Option::take) {
                    next += 1;
                    Self::emit(&events, &mut summary, &mut failed, sink);
                }
            }
        }
        summary.finish_root_causes(&failed);
        summary.elapsed_ms = event::ms(started.elapsed());
        summary.leftovers = if self.config.keep {
            vec![]
        } else {
            self.client.ledger.remaining(None)
        };
        summary.unconfirmed = self.client.ledger.unresolved();
        summary.foreign = self.client.ledger.foreign();
        summary.stopped_answering = self.gone.get().cloned();
        summary.unreachable = self.unreachable.load(Ordering::SeqCst)
            && self.responses.load(Ordering::SeqCst) == 0
            || summary.stopped_answering.is_some();
        summary.interrupted = self.config.stop.load(Ordering::SeqCst);
        sink(&Event::RunFinished {
            summary: summary.clone(),
        });
        summary
    }

    /// Counts one finished scenario's results and hands its events to the sink.
    fn emit(
        events: &[Event],
        summary: &mut Summary,
        failed: &mut Vec<(Dialect, CheckResult)>,
        sink: &mut dyn FnMut(&Event),
    ) {
        let dialect = events.iter().find_map(|e| match e {
            Event::ScenarioStarted(info) => Some(info.dialect),
            _ => None,
        });
        for e in events {
            if let Event::CheckFinished { result, .. } = e {
                let d = dialect.unwrap_or(Dialect::Default);
                summary.count_result(result, d);
                if matches!(result.outcome, Outcome::Fail | Outcome::Warn) {
                    failed.push((d, result.clone()));
                }
            }
            sink(e);
        }
    }

    async fn send(&self, run: &mut StepRun<'_>, check: &str, req: &OutRequest) -> Exchange {
        self.send_to(run.index, &mut run.events, check, req).await
    }

    /// Sends `req` for scenario `index` and records the exchange in `events`.
    async fn send_to(
        &self,
        index: usize,
        events: &mut Vec<Event>,
        check: &str,
        req: &OutRequest,
    ) -> Exchange {
        let started_at = event::now();
        let ex = self.client.send(req, Owner::Scenario(index)).await;
        self.note_answer(&ex);
        Self::record_to(events, index, check, started_at, &ex);
        ex
    }

    /// Counts answers, and notices an endpoint that stopped answering: [`GONE_AFTER`] requests
    /// in a row without any answer, after it had answered before.
    fn note_answer(&self, ex: &Exchange) {
        let mut failing = self.failing.lock().expect("failing lock");
        match &ex.response {
            Ok(_) => {
                self.responses.fetch_add(1, Ordering::SeqCst);
                *failing = (0, None);
            }
            Err(e) if e.is_unreachable() => {
                self.unreachable.store(true, Ordering::SeqCst);
                if failing.0 == 0 {
                    failing.1 = Some(chrono::Local::now());
                }
                failing.0 += 1;
                let answered = self.responses.load(Ordering::SeqCst);
                if failing.0 >= GONE_AFTER
                    && answered > 0
                    && let Some(at) = failing.1
                {
                    let _ = self.gone.set(format!(
                        "the endpoint stopped answering at {} after {answered} answered requests",
                        at.format("%H:%M:%S")
                    ));
                }
            }
            Err(_) => {}
        }
    }

    fn record(run: &mut StepRun<'_>, check: &str, started_at: String, ex: &Exchange) {
        Self::record_to(&mut run.events, run.index, check, started_at, ex);
    }

    fn record_to(
        events: &mut Vec<Event>,
        index: usize,
        check: &str,
        started_at: String,
        ex: &Exchange,
    ) {
        events.push(Event::RequestSent {
            scenario: index,
            check: check.to_string(),
            started_at,
            request: kept_request(&ex.request),
        });
        events.push(Event::ResponseReceived {
            scenario: index,
            check: check.to_string(),
            response: kept_response(&ex.response),
            elapsed_ms: event::ms(ex.elapsed),
        });
    }

    fn give_up(&self) -> Option<String> {
        if self.config.stop.load(Ordering::SeqCst) {
            Some("the run was interrupted".into())
        } else if self.gone.get().is_some() {
            Some("the endpoint stopped answering".into())
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
            rejected: Vec::new(),
            prefetched: Default::default(),
            aborted: self.give_up().or_else(|| {
                let probe = s.scenario.tags.iter().any(|t| t == "test-connection");
                self.config.gate.clone().filter(|_| !probe)
            }),
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
                    Err(e) => {
                        run.aborted = Some(format!("variable `{name}`: {e}"));
                        break;
                    }
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
        let steps: Vec<&crate::scenario::Step> = item
            .scenario
            .scenario
            .steps
            .iter()
            .map(|s| &s.value)
            .filter(|s| s.dialect.is_none_or(|d| d == item.dialect))
            .collect();
        for (at, step) in steps.iter().enumerate() {
            if run.aborted.is_none() {
                run.aborted = self.give_up();
            }
            let check = check_id(&item.scenario.id, step);
            if self.config.panic_at.as_deref() == Some(check.as_str()) {
                panic!("test hook: panic at {check}");
            }
            if !run.prefetched.contains_key(&check) {
                self.prefetch(run, &steps[at..]).await;
            }
            let result = self.run_step(run, step).await;
            run.events.push(Event::CheckFinished {
                scenario: run.index,
                result,
            });
        }
    }

    /// Sends the independent steps at the head of `steps` side by side, to be judged in order
    /// as if each had been sent on its own: either consecutive reads (GETs that capture,
    /// create and clean up nothing: they read the same state in any order) or consecutive
    /// setup creates marked `independent` (POSTs of distinct resources that capture their id
    /// and clean it up: each names a resource of its own, none uses another's capture; a
    /// scenario whose later checks read the order of creation does not mark them). Steps that build on an
    /// earlier one of the group (by `after:` or by id) end it; a step a failure blocks is not
    /// sent.
    async fn prefetch(&self, run: &mut StepRun<'_>, steps: &[&crate::scenario::Step]) {
        if run.aborted.is_some() || self.config.panic_at.is_some() {
            return;
        }
        let Some(kind) = steps.first().and_then(|s| independent(s)) else {
            return;
        };
        let scenario = &run.item.scenario.id;
        let mut requests: Vec<(String, OutRequest)> = Vec::new();
        let mut ids: Vec<String> = Vec::new();
        let mut captures: Vec<&String> = Vec::new();
        let mut names: Vec<Value> = Vec::new();
        for step in steps.iter().copied() {
            if independent(step) != Some(kind) {
                break;
            }
            let id = check_id(scenario, step);
            if ids
                .iter()
                .any(|g| id.starts_with(&format!("{g}.")) || step.after.contains(g))
            {
                break;
            }
            ids.push(id.clone());
            if blocking_dependency(run, step, &id).is_some() {
                continue;
            }
            let Some(Ok(req)) = step
                .request
                .as_ref()
                .map(|r| self.build_request(run, &r.value))
            else {
                break;
            };
            if kind == Independent::Create {
                // Each create captures names of its own and creates a resource of its own.
                let fresh = step
                    .capture
                    .keys()
                    .all(|c| !run.vars.contains_key(c) && !captures.contains(&c));
                let own: Vec<Value> = ["userName", "displayName", "externalId"]
                    .iter()
                    .filter_map(|k| req.body.as_ref()?.get(*k).cloned())
                    .collect();
                if !fresh || own.is_empty() || own.iter().any(|n| names.contains(n)) {
                    break;
                }
                captures.extend(step.capture.keys());
                names.extend(own);
            }
            requests.push((id, req));
        }
        if requests.len() < 2 {
            return;
        }
        let index = run.index;
        let sent =
            futures_util::future::join_all(requests.into_iter().map(|(id, req)| async move {
                let started_at = event::now();
                let ex = self.client.send(&req, Owner::Scenario(index)).await;
                (id, (req, started_at, ex))
            }))
            .await;
        run.prefetched.extend(sent);
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
        // Before dependencies: a check that does not apply is not blocked by anything.
        if let Some(published) = &self.config.advertised
            && let Some(urn) = step.requires.iter().find(|u| published.get(u).is_none())
        {
            result.outcome = Outcome::Skip;
            result.note = Some(format!(
                "skipped: the server's /Schemas does not publish `{urn}`, and Entra sends such attributes only to apps that offer them"
            ));
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
                        &self.config.schemas,
                        !step.capture.is_empty(),
                        projected,
                    );
                    // A profile's checks are for attributes it maps: those stay failures.
                    if let Some(published) = &self.config.advertised
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

    /// Marks `result` blocked by `root`: not judged, its captures missing, and the checks
    /// building on it blocked in turn.
    fn block(
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

    fn forget_captures(&self, run: &mut StepRun<'_>, step: &crate::scenario::Step, root: &str) {
        for name in step.capture.keys() {
            run.missing
                .push((name.clone(), step.name.clone(), root.to_string()));
        }
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
        let started_at = event::now();
        for ex in self.client.adopt_pending(Owner::Scenario(run.index)).await {
            self.note_answer(&ex);
            Self::record(run, "cleanup", started_at.clone(), &ex);
        }
        if self.config.keep {
            for c in self
                .client
                .ledger
                .remaining(Some(Owner::Scenario(run.index)))
            {
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
        // The scenario's cleanups run side by side (at most CLEANUP_JOBS at once; their events
        // in the order they were planned: newest first): first the explicit ones, then whatever
        // the ledger still lists.
        let explicit: Vec<(OutRequest, String)> = run.cleanups.drain(..).rev().collect();
        self.clean_all(run, explicit).await;
        let rest = self
            .client
            .ledger
            .remaining(Some(Owner::Scenario(run.index)))
            .into_iter()
            .map(|c| (OutRequest::new("DELETE", c.path), c.label))
            .collect();
        self.clean_all(run, rest).await;
    }

    async fn clean_all(&self, run: &mut StepRun<'_>, requests: Vec<(OutRequest, String)>) {
        let index = run.index;
        let mut done = futures_util::stream::iter(requests)
            .map(|(req, label)| self.clean_one(index, req, label))
            .buffered(CLEANUP_JOBS);
        while let Some(events) = done.next().await {
            run.events.extend(events);
        }
    }

    /// Sends a cleanup request, retrying transient failures (no answer, 5xx, 429) with
    /// exponential backoff within the run's cleanup budget, and verifies a DELETE with a GET.
    /// Returns its events.
    async fn clean_one(&self, index: usize, req: OutRequest, label: String) -> Vec<Event> {
        let mut events = Vec::new();
        let mut attempt = 0;
        let outcome = loop {
            let ex = self.send_to(index, &mut events, "cleanup", &req).await;
            if is_transient(&ex.response)
                && let Some(wait) = self.client.backoff(attempt)
            {
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            break match &ex.response {
                Err(e) => CleanupOutcome::Failed(e.to_string()),
                Ok(r) if r.status == 404 && req.method == "DELETE" => CleanupOutcome::AlreadyGone,
                Ok(r) if !(200..300).contains(&r.status) => {
                    CleanupOutcome::Failed(format!("{} answered {}", req.method, r.status))
                }
                Ok(_) => match (req.method.as_str(), resource_path(&req.path)) {
                    ("DELETE", Some(path)) => self.verify_gone(index, &mut events, &path).await,
                    _ => CleanupOutcome::Deleted,
                },
            };
        };
        events.push(Event::Cleanup {
            scenario: index,
            method: req.method.clone(),
            path: req.path.clone(),
            label,
            outcome,
        });
        events
    }

    /// GETs a deleted resource until it answers 404 (deleted) or 2xx (still there); a 5xx or
    /// no answer proves nothing, so after the retries it is "could not verify", and the
    /// resource stays listed with the leftovers.
    async fn verify_gone(
        &self,
        index: usize,
        events: &mut Vec<Event>,
        path: &str,
    ) -> CleanupOutcome {
        let mut attempt = 0;
        loop {
            let ex = self
                .send_to(index, events, "cleanup", &OutRequest::new("GET", path))
                .await;
            let why = match &ex.response {
                Ok(r) if r.status == 404 => return CleanupOutcome::Deleted,
                Ok(r) if (200..300).contains(&r.status) => {
                    self.client.ledger.unmark_deleted(path);
                    return CleanupOutcome::Failed(format!(
                        "DELETE succeeded but GET {path} still answers {}",
                        r.status
                    ));
                }
                Ok(r) => format!("GET {path} answered {}", r.status),
                Err(e) => format!("GET {path}: {e}"),
            };
            if is_transient(&ex.response)
                && let Some(wait) = self.client.backoff(attempt)
            {
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            self.client.ledger.unmark_deleted(path);
            return CleanupOutcome::Unverified(format!(
                "the DELETE was accepted but could not verify that it is gone ({why})"
            ));
        }
    }
}

/// A scenario's cleanup requests in flight at once.
pub const CLEANUP_JOBS: usize = 4;

/// The kinds of steps [`Runner::prefetch`] sends side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Independent {
    /// A GET that captures, creates and cleans up nothing.
    Read,
    /// A POST marked `independent`, expected to create (2xx), that captures the new resource
    /// and cleans it up.
    Create,
}

/// Whether `step` may be sent side by side with its neighbours of the same kind (sent once).
fn independent(step: &crate::scenario::Step) -> Option<Independent> {
    if step.patch.is_some() || step.repeat.is_some() {
        return None;
    }
    let method = &step.request.as_ref()?.value.method;
    if method.eq_ignore_ascii_case("GET") && step.capture.is_empty() && step.cleanup.is_none() {
        return Some(Independent::Read);
    }
    let creates = match step.expect.as_ref().and_then(|e| e.value.status.as_ref()) {
        None => true,
        Some(crate::scenario::model::StatusSpec::One(c)) => (200..300).contains(c),
        Some(crate::scenario::model::StatusSpec::Any(cs)) => {
            cs.iter().all(|c| (200..300).contains(c))
        }
    };
    (step.independent
        && method.eq_ignore_ascii_case("POST")
        && creates
        && !step.capture.is_empty()
        && step.cleanup.is_some())
    .then_some(Independent::Create)
}

/// The finding of a create answered with a resource this run did not create.
fn foreign_answer(c: &Created, named_with_prefix: bool, known: bool) -> Finding {
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
fn inconclusive_auth(findings: &mut Vec<Finding>, ex: &Exchange) {
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

/// The exchanges of at most this many repetitions of a step are recorded (and the last one).
pub const MAX_RECORDED_REPEATS: u32 = 20;

/// At most this much of a body is kept in events, and so in every report (HAR included): the
/// checks read the whole body (up to `--max-body-mib`), the record keeps an excerpt.
pub const MAX_KEPT_BODY: usize = 16 * 1024;

/// `body` cut to [`MAX_KEPT_BODY`] bytes, saying so.
fn kept_body(body: &str) -> Option<String> {
    if body.len() <= MAX_KEPT_BODY {
        return None;
    }
    let mut cut = MAX_KEPT_BODY;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(format!(
        "{}\n… [scimcheck kept the first {cut} of {} bytes]",
        &body[..cut],
        body.len()
    ))
}

fn kept_request(r: &crate::http::SentRequest) -> crate::http::SentRequest {
    let mut r = r.clone();
    if let Some(b) = r.body.as_deref().and_then(kept_body) {
        r.body = Some(b);
    }
    r
}

fn kept_response(
    r: &Result<crate::http::Received, crate::http::TransportError>,
) -> Result<crate::http::Received, crate::http::TransportError> {
    match r {
        Ok(rec) => match kept_body(&rec.body) {
            Some(body) => Ok(crate::http::Received {
                status: rec.status,
                headers: rec.headers.clone(),
                body,
                truncated: rec.truncated,
                retries: rec.retries.clone(),
            }),
            None => Ok(rec.clone()),
        },
        Err(e) => Err(e.clone()),
    }
}

/// The failed check that stands for a panic inside a scenario.
fn internal_error(scenario_id: &str, message: &str) -> CheckResult {
    CheckResult {
        id: format!("{scenario_id}.internal-error"),
        name: "scimcheck internal error".into(),
        proves: None,
        severity: Severity::Fail,
        evidence: Evidence::Entra,
        outcome: Outcome::Fail,
        blocked_by: None,
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

/// What went wrong with a judged check's request when the server did not accept it: no
/// response, or an unexpected status that is not a success (a 200 where 201 was expected is
/// a failure of its own check, but the resource exists and later checks can judge it).
/// `None` when the server accepted it (other findings do not stop the checks that build on it).
fn not_accepted(r: &CheckResult) -> Option<String> {
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
fn blocking_dependency(
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
fn blocked_by_capture(run: &StepRun<'_>, e: &TemplateError) -> Option<(String, String)> {
    let TemplateError::Undefined { name } = e else {
        return None;
    };
    let (_, step, root) = run.missing.iter().rev().find(|(n, _, _)| n == name)?;
    Some((
        root.clone(),
        format!("blocked by {root}: needs `{name}`, which step \"{step}\" did not capture"),
    ))
}
