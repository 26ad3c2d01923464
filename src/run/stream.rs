//! The live event stream of a run and the two stages every consumer of it needs: putting the
//! events back into plan order ([`InPlanOrder`]) and counting the totals ([`Tally`], the one
//! place the summary's counts come from). A front end reads the stream, lets the live
//! consumers (the progress bar) see each event as it comes, and hands the ordered events
//! through its transformers (waivers), the tally and on to the reporters.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::scenario::Dialect;

use super::{CheckResult, Event, Outcome, Summary};

/// Where a run sends its events as they happen ([`super::Runner::run_into`]).
pub type EventSender = tokio::sync::mpsc::UnboundedSender<Event>;

/// Puts a run's live events back into plan order: the events of the scenario run at the head of
/// the plan pass through as they come, the others wait until every earlier scenario run has
/// finished. Events of no scenario run (`RunStarted`, `RunFinished`) pass through.
#[derive(Debug, Default)]
pub struct InPlanOrder {
    /// The plan index whose events pass through.
    next: usize,
    /// Events of later scenario runs, by plan index.
    waiting: BTreeMap<usize, Vec<Event>>,
}

impl InPlanOrder {
    /// The events that are due now that `event` arrived, in plan order.
    pub fn push(&mut self, event: Event) -> Vec<Event> {
        let Some(index) = event.scenario() else {
            return vec![event];
        };
        if index != self.next {
            self.waiting.entry(index).or_default().push(event);
            return vec![];
        }
        let finished = matches!(event, Event::ScenarioFinished { .. });
        let mut due = vec![event];
        if finished {
            self.advance(&mut due);
        }
        due
    }

    /// The head finished: the next ones' waiting events are due, up to one still running.
    fn advance(&mut self, due: &mut Vec<Event>) {
        loop {
            self.next += 1;
            let Some(events) = self.waiting.remove(&self.next) else {
                return;
            };
            let finished = matches!(events.last(), Some(Event::ScenarioFinished { .. }));
            due.extend(events);
            if !finished {
                return;
            }
        }
    }
}

/// The totals of a run, counted from its events in plan order as the reporters see them (after
/// the waivers): every check's outcome, the evidence classes of warnings and the root causes
/// of blocked checks. At `RunFinished` they are written into the summary the runner sent (which
/// carries what only the runner knows: time, leftovers, reachability, interruption).
#[derive(Debug, Default)]
pub struct Tally {
    /// The counts so far.
    totals: Summary,
    /// Failed (or waived) checks and warnings, for the root causes' messages.
    failed: Vec<(Dialect, CheckResult)>,
    /// The dialect of each scenario run, by plan index.
    dialects: HashMap<usize, Dialect>,
    /// The summary of `RunFinished`, once it went by.
    finished: Option<Summary>,
}

impl Tally {
    /// Counts `event`; `RunFinished` comes back with the totals in its summary.
    pub fn apply<'e>(&mut self, event: Cow<'e, Event>) -> Cow<'e, Event> {
        match event.as_ref() {
            Event::ScenarioStarted(info) => {
                self.dialects.insert(info.index, info.dialect);
            }
            Event::CheckFinished { scenario, result } => {
                let d = self
                    .dialects
                    .get(scenario)
                    .copied()
                    .unwrap_or(Dialect::Default);
                self.totals.count_result(result, d);
                if matches!(
                    result.outcome,
                    Outcome::Fail | Outcome::Waived | Outcome::Warn
                ) {
                    self.failed.push((d, result.clone()));
                }
            }
            Event::RunFinished { summary } => {
                let summary = self.complete(summary);
                self.finished = Some(summary.clone());
                return Cow::Owned(Event::RunFinished { summary });
            }
            _ => {}
        }
        event
    }

    /// The run's summary: the one `RunFinished` carried, totals included (the totals alone
    /// before it went by).
    pub fn summary(&self) -> Summary {
        self.finished
            .clone()
            .unwrap_or_else(|| self.complete(&Summary::default()))
    }

    /// `run`'s own facts with the totals counted here.
    fn complete(&self, run: &Summary) -> Summary {
        let t = &self.totals;
        let mut s = Summary {
            passed: t.passed,
            failed: t.failed,
            warned: t.warned,
            skipped: t.skipped,
            waived: t.waived,
            blocked: t.blocked,
            validator_findings: t.validator_findings,
            rfc_findings: t.rfc_findings,
            root_causes: t.root_causes.clone(),
            ..run.clone()
        };
        s.finish_root_causes(&self.failed);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::ScenarioInfo;

    fn started(index: usize) -> Event {
        Event::ScenarioStarted(ScenarioInfo {
            index,
            id: format!("s{index}"),
            name: String::new(),
            file: String::new(),
            tags: vec![],
            dialect: Dialect::Default,
            description: String::new(),
            entra: String::new(),
        })
    }

    fn finished(index: usize) -> Event {
        Event::ScenarioFinished {
            scenario: index,
            elapsed_ms: 0.0,
        }
    }

    fn order(events: Vec<Event>) -> Vec<(&'static str, Option<usize>)> {
        let mut o = InPlanOrder::default();
        events
            .into_iter()
            .flat_map(|e| o.push(e))
            .map(|e| {
                let kind = match e {
                    Event::ScenarioStarted(_) => "started",
                    Event::ScenarioFinished { .. } => "finished",
                    _ => "other",
                };
                (kind, e.scenario())
            })
            .collect()
    }

    #[test]
    fn interleaved_scenario_runs_come_out_in_plan_order() {
        let out = order(vec![
            started(1),
            started(0),
            finished(1),
            started(2),
            finished(0),
            finished(2),
        ]);
        assert_eq!(
            out,
            [
                ("started", Some(0)),
                ("finished", Some(0)),
                ("started", Some(1)),
                ("finished", Some(1)),
                ("started", Some(2)),
                ("finished", Some(2)),
            ]
        );
    }

    #[test]
    fn the_head_passes_through_and_a_running_successor_streams_once_it_is_the_head() {
        let mut o = InPlanOrder::default();
        assert_eq!(o.push(started(0)).len(), 1, "the head passes at once");
        assert!(o.push(started(1)).is_empty(), "the second waits");
        assert_eq!(
            o.push(finished(0)).len(),
            2,
            "then comes out with the head's end"
        );
        assert_eq!(o.push(finished(1)).len(), 1, "and streams from then on");
    }
}
