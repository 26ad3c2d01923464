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
