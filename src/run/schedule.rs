//! The order in which planned scenarios START (events are still emitted in plan order): the
//! longest chains of dependent requests first, so the run's wall time is bounded by its longest
//! scenario rather than by whichever long scenario happened to be planned last. `position:
//! middle` scenarios start halfway through the others, `position: end` ones after all of them
//! (the runner waits for everything else to finish before starting those).

use crate::scenario::model::Position;

use crate::plan::PlanItem;

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
/// ones in the middle of that order. With one job at a time the order cannot shorten the run,
/// so it stays the plan's.
pub fn start_order(plan: &[PlanItem], jobs: usize) -> Vec<usize> {
    let at = |i: &usize| plan[*i].scenario.scenario.position;
    if jobs <= 1 {
        return (0..plan.len())
            .filter(|i| at(i) != Some(Position::End))
            .collect();
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Dialect;

    fn builtin_plan() -> Vec<PlanItem> {
        let scenarios: Vec<std::sync::Arc<crate::scenario::Loaded>> = crate::scenario::builtin()
            .into_iter()
            .map(std::sync::Arc::new)
            .collect();
        crate::plan::plan(&scenarios, &[Dialect::Default, Dialect::Compliant]).items
    }

    #[test]
    fn the_longest_scenarios_start_first_and_keepalives_keep_their_places() {
        let plan = builtin_plan();
        let order = start_order(&plan, 8);
        let id = |i: usize| plan[i].scenario.id.as_str();
        assert_eq!(
            id(order[0]),
            "group-lifecycle",
            "the longest chain starts first"
        );
        let middle = order
            .iter()
            .position(|&i| id(i) == "keepalive-middle")
            .expect("the middle keepalive starts");
        assert_eq!(middle, (order.len() - 1) / 2, "halfway through the others");
        let costs: Vec<usize> = order
            .iter()
            .filter(|&&i| id(i) != "keepalive-middle")
            .map(|&i| cost(&plan[i]))
            .collect();
        assert!(costs.windows(2).all(|w| w[0] >= w[1]), "{costs:?}");
        let ends: Vec<&str> = tail(&plan).into_iter().map(id).collect();
        assert_eq!(ends, ["keepalive-end"], "after everything else");
        let mut all: Vec<usize> = order.iter().copied().chain(tail(&plan)).collect();
        all.sort();
        assert_eq!(all, (0..plan.len()).collect::<Vec<_>>(), "every run once");
    }

    #[test]
    fn one_job_at_a_time_runs_in_plan_order() {
        let plan = builtin_plan();
        let order = start_order(&plan, 1);
        assert_eq!(order, (0..plan.len() - 1).collect::<Vec<_>>());
    }

    #[test]
    fn the_cost_counts_repetitions_and_the_cleanup() {
        let plan = builtin_plan();
        let pagination = plan
            .iter()
            .find(|p| p.scenario.id == "user-pagination")
            .unwrap();
        // 5 creates (repeat: 5), 3 page reads, then a DELETE and its verifying GET.
        assert_eq!(cost(pagination), 5 + 3 + 2);
        let probe = plan
            .iter()
            .find(|p| p.scenario.id == "keepalive-end")
            .unwrap();
        assert_eq!(cost(probe), 1, "a read-only scenario has no cleanup");
    }
}
