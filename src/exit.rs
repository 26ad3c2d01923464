//! Process exit codes, in one place.

/// Every check passed (waived failures and warnings included).
pub const OK: i32 = 0;
/// At least one check failed (or Test Connection would fail).
pub const CHECK_FAILED: i32 = 1;
/// Bad usage, or a scenario / profile / waiver file that does not load.
pub const BAD_INPUT: i32 = 2;
/// The target could not be reached at all.
pub const UNREACHABLE: i32 = 3;
/// Interrupted by Ctrl-C / SIGTERM (after cleaning up).
pub const INTERRUPTED: i32 = 130;

/// The exit code of a check run (`run`, `demo`), from its summary: interrupted, then
/// unreachable, then failed checks.
pub fn of_run(s: &crate::run::Summary) -> i32 {
    if s.interrupted {
        INTERRUPTED
    } else if s.unreachable {
        UNREACHABLE
    } else if s.failed > 0 {
        CHECK_FAILED
    } else {
        OK
    }
}

/// The exit code of `scimcheck load`: interrupted, then unreachable, then 1 when the gallery's
/// bar is not met, a request failed or something was left behind.
pub fn of_load(r: &crate::loadtest::LoadReport) -> i32 {
    let failed: u64 = r.kinds.iter().map(|k| k.errors).sum();
    if r.interrupted {
        INTERRUPTED
    } else if r.unreachable {
        UNREACHABLE
    } else if r.verdict.status == crate::loadtest::VerdictStatus::Below
        || failed > 0
        || !r.leftovers.is_empty()
    {
        CHECK_FAILED
    } else {
        OK
    }
}
