//! The order in which planned scenarios START (events are still emitted in plan order): the
//! longest chains of dependent requests first, so the run's wall time is bounded by its longest
//! scenario rather than by whichever long scenario happened to be planned last. `position:
//! middle` scenarios start halfway through the others, `position: end` ones after all of them
//! (the runner waits for everything else to finish before starting those).

use crate::scenario::model::Position;

use super::PlanItem;

/// Round trips a scenario run costs at least, one after another: each applicable step (a
/// `repeat` counts each repetition), plus the cleanup of what it created (a DELETE and the GET
/// that verifies it; a scenario's cleanups run side by side). An estimate for ordering only:
/// steps a failure blocks send nothing, and independent GETs may overlap.
pub fn cost(item: &PlanItem) -> usize {
    let steps = item
        .scenario
        .scenario
        .steps
        .iter()
        .map(|s| &s.value)
        .filter(|s| s.dialect.is_none_or(|d| d == item.dialect));
    let mut requests = 0usize;
    let mut cleans = false;
    for s in steps {
        requests += s.repeat.unwrap_or(1).max(1) as usize;
        cleans |= s.cleanup.is_some()
            || s.request
                .as_ref()
                .is_some_and(|r| r.value.method.eq_ignore_ascii_case("POST"));
    }
    requests + if cleans { 2 } else { 0 }
}

/// The plan indices in start order, `position: end` scenarios left out (they start once the
/// others finished): longest [`cost`] first, ties in plan order, and the `position: middle`
/// ones in the middle of that order.
pub fn start_order(plan: &[PlanItem]) -> Vec<usize> {
    let at = |i: &usize| plan[*i].scenario.scenario.position;
    let mut rest: Vec<usize> = (0..plan.len()).filter(|i| at(i).is_none()).collect();
    rest.sort_by_key(|i| std::cmp::Reverse(cost(&plan[*i])));
    let middle: Vec<usize> = (0..plan.len())
        .filter(|i| at(i) == Some(Position::Middle))
        .collect();
    let half = rest.len() / 2;
    rest.splice(half..half, middle);
    rest
}

/// The plan indices of the `position: end` scenarios, in plan order.
pub fn tail(plan: &[PlanItem]) -> Vec<usize> {
    (0..plan.len())
        .filter(|i| plan[*i].scenario.scenario.position == Some(Position::End))
        .collect()
}
