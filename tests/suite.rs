//! The built-in Entra suite against the embedded reference server.

use crate::common;

use scimcheck::run::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_suite_passes_in_both_dialects_with_no_warnings() {
    let out = common::run_suite(&[]).await;
    let not_passing: Vec<String> = out
        .checks
        .iter()
        .filter(|(_, c)| c.outcome != Outcome::Pass)
        .map(|(d, c)| {
            format!(
                "[{}] {} {:?}: {:?} {:?}",
                d.as_str(),
                c.id,
                c.outcome,
                c.findings,
                c.note
            )
        })
        .collect();
    assert!(
        not_passing.is_empty(),
        "not passing:\n{}",
        not_passing.join("\n")
    );
    assert!(out.summary.passed > 0);
    assert!(out.summary.leftovers.is_empty());
}

#[test]
fn the_keepalive_probes_are_planned_halfway_through_and_last() {
    let scenarios: Vec<std::sync::Arc<scimcheck::scenario::Loaded>> =
        scimcheck::scenario::builtin()
            .into_iter()
            .map(std::sync::Arc::new)
            .collect();
    let dialects = [
        scimcheck::scenario::Dialect::Default,
        scimcheck::scenario::Dialect::Compliant,
    ];
    let plan = scimcheck::plan::plan(&scenarios, &dialects);
    let ids: Vec<&str> = plan.iter().map(|p| p.scenario.id.as_str()).collect();
    let middle = ids.iter().position(|i| *i == "keepalive-middle").unwrap();
    // Halfway through the others (the end probe is not counted among them).
    assert_eq!(middle, (ids.len() - 2) / 2, "{ids:?}");
    assert_eq!(ids.last(), Some(&"keepalive-end"), "{ids:?}");
    assert_eq!(ids.iter().filter(|i| i.starts_with("keepalive")).count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_probe_is_sent_after_every_other_request_of_the_run() {
    use scimcheck::run::Event;
    let out = common::run_suite(&[]).await;
    let sent = |end: bool| {
        out.events.iter().filter_map(move |e| match e {
            Event::RequestSent {
                check, started_at, ..
            } if (check == "connection.keepalive.end") == end => Some(started_at.clone()),
            _ => None,
        })
    };
    let probe = sent(true).next().expect("the end probe was sent");
    let last_other = sent(false).max().expect("other requests were sent");
    assert!(
        probe >= last_other,
        "the end probe ({probe}) went out before the last other request ({last_other})"
    );
}
