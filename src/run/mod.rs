//! The runner: executes a [`Plan`] against the target, judges every step, always cleans up, and
//! sends [`Event`]s as they happen ([`Runner::run_into`]); [`stream`] puts them back into plan
//! order and counts the totals, so what reporters see is deterministic whatever the
//! concurrency.

mod advertised;
mod blocking;
mod build;
mod cleanup;
pub mod event;
pub mod expect;
pub mod hint;
pub mod ledger;
pub mod location;
mod prefetch;
pub mod schedule;
mod send;
mod spill;
mod step;
pub mod stream;
pub mod tenant;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use std::panic::AssertUnwindSafe;

use futures_util::{FutureExt, StreamExt};
use serde_json::Map;

use crate::plan::{Plan, PlanItem};
use crate::scenario::template::Generators;
use crate::scenario::{Dialect, Evidence, Severity, Strictness, check_id};

pub use event::{
    CheckResult, CleanupOutcome, Event, Finding, Outcome, Recorded, RootCause, ScenarioInfo,
    Summary, WaiverState, WaiverStatus,
};
pub use ledger::{Created, Ledger, Owner, Pending};
pub use tenant::Tenant;

pub use cleanup::CLEANUP_JOBS;
pub use send::MAX_KEPT_BODY;
pub use step::{MAX_RECORDED_REPEATS, outcome};
pub use stream::{EventSender, InPlanOrder, Tally};

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
    pub fn new(client: Arc<Tenant>, generators: Arc<Generators>, config: RunConfig) -> Self {
        Runner {
            client,
            generators,
            config,
            responses: AtomicU64::new(0),
            unreachable: AtomicBool::new(false),
            failing: std::sync::Mutex::new((0, None)),
            gone: std::sync::OnceLock::new(),
        }
    }

    /// Runs the plan, sending every event into `events` as it happens. Scenario runs go side
    /// by side, so the events of different scenario runs interleave (each one's own are in
    /// order; [`InPlanOrder`] restores plan order); `RunStarted` comes first and `RunFinished`
    /// last. `RunFinished` carries what the run itself knows (time, leftovers, whether the
    /// target answered, interruption); the check totals are counted from the stream by
    /// [`Tally`].
    pub async fn run_into(&self, plan: &Plan, events: EventSender) {
        let started = Instant::now();
        let mut dialects: Vec<Dialect> = plan.iter().map(|p| p.dialect).collect();
        dialects.sort();
        dialects.dedup();
        let _ = events.send(Event::RunStarted {
            run_id: self.generators.run_id().to_string(),
            started_at: event::now(),
            target: self.client.target().to_string(),
            dialects,
            scenarios: plan.len(),
            profile: self.config.profile.clone(),
            insecure: self.config.insecure,
        });
        let jobs = self.config.jobs.max(1);
        // Scenarios start longest first (see `schedule`). `position: end` scenarios start only
        // once everything else finished.
        for part in [
            schedule::start_order(&plan.items, jobs),
            schedule::tail(&plan.items),
        ] {
            futures_util::stream::iter(part)
                .map(|i| self.run_scenario(plan, i, &events))
                .buffer_unordered(jobs)
                .collect::<()>()
                .await;
        }
        let mut summary = Summary {
            elapsed_ms: event::ms(started.elapsed()),
            ..Summary::default()
        };
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
        let _ = events.send(Event::RunFinished { summary });
    }

    /// Runs the plan, calling `sink` with every event in plan order and the totals counted
    /// ([`Runner::run_into`] through [`InPlanOrder`] and [`Tally`]), and returns the summary.
    pub async fn run(&self, plan: &Plan, sink: &mut dyn FnMut(&Event)) -> Summary {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut order = InPlanOrder::default();
        let mut tally = Tally::default();
        let consume = async {
            while let Some(live) = rx.recv().await {
                for e in order.push(live) {
                    sink(&tally.apply(Cow::Owned(e)));
                }
            }
        };
        tokio::join!(self.run_into(plan, tx), consume);
        tally.summary()
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

    /// Runs one scenario run, sending its events into `events` step by step.
    async fn run_scenario(&self, plan: &Plan, index: usize, events: &EventSender) {
        let started = Instant::now();
        let item = &plan.items[index];
        let s = &item.scenario;
        let mut run = StepRun {
            index,
            item,
            plan,
            sender: events,
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
        run.send_events();
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
        run.send_events();
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
            run.send_events();
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
