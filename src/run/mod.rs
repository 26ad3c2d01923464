//! The runner: executes planned scenarios against the target, judges every step, always cleans
//! up, and emits [`Event`]s in a deterministic order (plan order, whatever the concurrency).

mod advertised;
mod blocking;
mod build;
mod cleanup;
pub mod event;
pub mod expect;
pub mod hint;
pub mod location;
mod prefetch;
pub mod schedule;
mod send;
mod step;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use std::panic::AssertUnwindSafe;

use futures_util::{FutureExt, StreamExt};
use serde_json::Map;

use crate::http::Client;
use crate::plan::{Plan, PlanItem};
use crate::scenario::template::Generators;
use crate::scenario::{Dialect, Evidence, Severity, Strictness, check_id};

pub use event::{
    CheckResult, CleanupOutcome, Event, Finding, Outcome, Recorded, RootCause, ScenarioInfo,
    Summary, WaiverState, WaiverStatus,
};

pub use cleanup::CLEANUP_JOBS;
pub use send::MAX_KEPT_BODY;
pub use step::{MAX_RECORDED_REPEATS, outcome};

use step::StepRun;

/// Run settings.
#[derive(Clone)]
pub struct RunConfig {
    /// Scenarios run at once.
    pub jobs: usize,
    /// Leave created data in place.
    pub keep: bool,
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
    pub client: Arc<Client>,
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
            failing: std::sync::Mutex::new((0, None)),
            gone: std::sync::OnceLock::new(),
        }
    }

    /// Runs the plan, calling `sink` with every event in plan order, and returns the summary.
    pub async fn run(&self, plan: &Plan, sink: &mut dyn FnMut(&Event)) -> Summary {
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
        for part in [
            schedule::start_order(&plan.items, jobs),
            schedule::tail(&plan.items),
        ] {
            let mut stream = futures_util::stream::iter(part)
                .map(|i| async move { (i, self.run_scenario(plan, i).await) })
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

    async fn run_scenario(&self, plan: &Plan, index: usize) -> Vec<Event> {
        let started = Instant::now();
        let item = &plan.items[index];
        let total = plan.len();
        let s = &item.scenario;
        let mut run = StepRun {
            index,
            item,
            plan,
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
        // The steps of this dialect, with their places among the scenario's steps.
        let (places, steps): (Vec<usize>, Vec<&crate::scenario::Step>) = item
            .scenario
            .scenario
            .steps
            .iter()
            .map(|s| &s.value)
            .enumerate()
            .filter(|(_, s)| s.dialect.is_none_or(|d| d == item.dialect))
            .unzip();
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
            let not_applicable = run.plan.not_applicable(run.index, places[at]);
            let result = self.run_step(run, step, not_applicable).await;
            run.events.push(Event::CheckFinished {
                scenario: run.index,
                result,
            });
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
