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
