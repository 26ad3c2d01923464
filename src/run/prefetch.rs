//! Independent steps sent ahead side by side: consecutive reads, or consecutive setup creates
//! marked `independent`; each is judged in order as if it had been sent on its own.

use serde_json::Value;

use crate::http::OutRequest;
use crate::scenario::check_id;

use super::blocking::blocking_dependency;
use super::step::StepRun;
use super::{Owner, Runner, event};

impl Runner {
    /// Sends the independent steps at the head of `steps` side by side, to be judged in order
    /// as if each had been sent on its own: either consecutive reads (GETs that create and
    /// clean up nothing: they read the same state in any order; what they capture is set when
    /// each is judged, so a read that uses an earlier read's capture ends the group) or consecutive
    /// setup creates marked `independent` (POSTs of distinct resources that capture their id
    /// and clean it up: each names a resource of its own, none uses another's capture; a
    /// scenario whose later checks read the order of creation does not mark them). Steps that build on an
    /// earlier one of the group (by `after:` or by id) end it; a step a failure blocks is not
    /// sent.
    pub(super) async fn prefetch(&self, run: &mut StepRun<'_>, steps: &[&crate::scenario::Step]) {
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
            // Captures are fresh names, set when the step is judged: a later step of the group
            // that uses one cannot be built yet (which ends the group), and none can be built
            // with an older value of it.
            let fresh = step
                .capture
                .keys()
                .all(|c| !run.vars.contains_key(c) && !captures.contains(&c));
            if kind == Independent::Read {
                if !fresh {
                    break;
                }
                captures.extend(step.capture.keys());
            }
            if kind == Independent::Create {
                // Each create captures names of its own and creates a resource of its own.
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
}

/// The kinds of steps [`Runner::prefetch`] sends side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Independent {
    /// A GET that creates and cleans up nothing (it may capture).
    Read,
    /// A POST marked `independent`, expected to create (2xx), that captures the new resource
    /// and cleans it up.
    Create,
}

/// Whether `step` may be sent side by side with its neighbours of the same kind (sent once).
pub(super) fn independent(step: &crate::scenario::Step) -> Option<Independent> {
    if step.patch.is_some() || step.repeat.is_some() {
        return None;
    }
    let method = &step.request.as_ref()?.value.method;
    if method.eq_ignore_ascii_case("GET") && step.cleanup.is_none() {
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
