//! The cleanup of a scenario run: adopt lost creates, run the explicit cleanups and then
//! whatever the ledger still lists, side by side, and verify each DELETE with a GET.

use futures_util::StreamExt;

use crate::http::{OutRequest, is_transient};

use super::ledger::resource_path;
use super::step::StepRun;
use super::{CleanupOutcome, Event, Owner, Runner, event};

impl Runner {
    pub(super) async fn cleanup(&self, run: &mut StepRun<'_>) {
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

    pub(super) async fn clean_all(
        &self,
        run: &mut StepRun<'_>,
        requests: Vec<(OutRequest, String)>,
    ) {
        let index = run.index;
        let mut done = futures_util::stream::iter(requests)
            .map(|(req, label)| self.clean_one(index, req, label))
            .buffered(CLEANUP_JOBS);
        while let Some(events) = done.next().await {
            run.events.extend(events);
            run.send_events();
        }
    }

    /// Sends a cleanup request, retrying transient failures (no answer, 5xx, 429) with
    /// exponential backoff within the run's cleanup budget, and verifies a DELETE with a GET.
    /// Returns its events.
    pub(super) async fn clean_one(
        &self,
        index: usize,
        req: OutRequest,
        label: String,
    ) -> Vec<Event> {
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
    pub(super) async fn verify_gone(
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
