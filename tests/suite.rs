//! The built-in Entra suite against the embedded reference server.

mod common;

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
