//! The result of a load run: a serialisable [`LoadReport`] (`--json`), the verdict against the
//! gallery's 25 requests/second bar, and the exit code (its human rendering is
//! [`crate::report::loadtest`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::engine::Mode;
use super::stats::{ErrorCount, KindReport, Second, Throttling};
use crate::exit;
use crate::pace::Rate;
use crate::run::Created;
use crate::scenario::Dialect;

/// The Entra gallery's requirement: at least 25 requests per second per tenant.
pub const GALLERY_BAR: f64 = 25.0;

/// A paced run "keeps the pace" when it achieves at least this share of the target rate.
const PACE_TOLERANCE: f64 = 0.95;

/// One phase of a run (`cycle`, `cleanup`, `probe`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhaseReport {
    pub name: &'static str,
    pub requests: u64,
    pub errors: u64,
    pub elapsed_s: f64,
    /// Requests per second over the phase.
    pub throughput: f64,
}

/// How the run compares with the gallery's bar.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictStatus {
    Meets,
    Below,
    /// The run could not say (paced below the bar, interrupted, unreachable).
    NotTested,
}

/// The verdict line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub status: VerdictStatus,
    /// Requests per second the bar asks for.
    pub bar: f64,
    /// The measured phase's throughput.
    pub throughput: f64,
    /// The sentence shown after `verdict:`.
    pub text: String,
}

impl Verdict {
    /// Judges the measured phase: `throughput` achieved at `rate`, with `errors` failed
    /// requests and `throttled` 429 responses.
    pub fn judge(rate: Rate, throughput: f64, errors: u64, throttled: u64) -> Verdict {
        let t = throughput;
        let (status, text) = if throttled > 0 {
            (
                VerdictStatus::Below,
                format!(
                    "below the gallery's 25 req/s bar: the endpoint answered 429 Too Many Requests {throttled} time(s) at {t:.1} req/s"
                ),
            )
        } else if errors > 0 {
            (
                VerdictStatus::Below,
                format!(
                    "below the gallery's 25 req/s bar: {errors} request(s) failed at {t:.1} req/s"
                ),
            )
        } else {
            match rate {
                Rate::Max if t >= GALLERY_BAR => (
                    VerdictStatus::Meets,
                    format!("meets the gallery's 25 req/s bar ({t:.1} req/s at full speed)"),
                ),
                Rate::Max => (
                    VerdictStatus::Below,
                    format!("below the gallery's 25 req/s bar ({t:.1} req/s at full speed)"),
                ),
                Rate::PerSecond(r) if r < GALLERY_BAR => (
                    VerdictStatus::NotTested,
                    format!(
                        "not tested against the gallery's 25 req/s bar: paced at {r} req/s (use --rate 25 or --rate max)"
                    ),
                ),
                Rate::PerSecond(r) if t >= r * PACE_TOLERANCE => (
                    VerdictStatus::Meets,
                    format!(
                        "meets the gallery's 25 req/s bar (kept the paced {r} req/s: {t:.1} req/s achieved)"
                    ),
                ),
                Rate::PerSecond(r) => (
                    VerdictStatus::Below,
                    format!(
                        "below the gallery's 25 req/s bar ({t:.1} req/s achieved of the paced {r} req/s)"
                    ),
                ),
            }
        };
        Verdict {
            status,
            bar: GALLERY_BAR,
            throughput,
            text,
        }
    }

    fn not_tested(why: &str, throughput: f64) -> Verdict {
        Verdict {
            status: VerdictStatus::NotTested,
            bar: GALLERY_BAR,
            throughput,
            text: format!("not tested against the gallery's 25 req/s bar: {why}"),
        }
    }

    /// The verdict of an interrupted or unreachable run.
    pub fn override_for(self, interrupted: bool, unreachable: bool) -> Verdict {
        if unreachable {
            Verdict::not_tested("the target could not be reached", self.throughput)
        } else if interrupted {
            Verdict::not_tested("the run was interrupted", self.throughput)
        } else {
            self
        }
    }
}

/// Everything a load run measured (`scimcheck load --json` prints this).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LoadReport {
    /// The Tenant URL (no secrets).
    pub target: String,
    pub run_id: String,
    pub mode: Mode,
    pub dialect: Dialect,
    pub rate: Rate,
    pub concurrency: usize,
    /// Users asked for (probe mode: requests).
    pub users: u64,
    pub groups: u64,
    pub members_per_group: usize,
    pub batch: usize,
    pub update: bool,
    /// The measured phase first (`cycle` or `probe`), then `cleanup`.
    pub phases: Vec<PhaseReport>,
    /// Latency per request kind.
    pub kinds: Vec<KindReport>,
    /// Responses by HTTP status.
    pub statuses: BTreeMap<String, u64>,
    /// Failed requests by kind and cause.
    pub errors: Vec<ErrorCount>,
    pub throttling: Throttling,
    /// Requests, errors and 429s per second of the run (the HTML report charts them).
    pub timeline: Vec<Second>,
    pub created_users: u64,
    pub created_groups: u64,
    pub deleted_users: u64,
    pub deleted_groups: u64,
    /// Created resources the cleanup could not delete.
    pub leftovers: Vec<Created>,
    pub interrupted: bool,
    pub unreachable: bool,
    pub verdict: Verdict,
    /// Entra's arithmetic for this many objects (cycle mode).
    pub entra_estimate: Option<CycleEstimate>,
}

/// Microsoft's published estimate of an initial cycle, in minutes per assigned user, group and
/// membership (application-provisioning-when-will-provisioning-finish-specific-user).
pub const MINUTES_PER_OBJECT: (f64, f64) = (0.01, 0.08);

/// How long an initial cycle of this run's users, groups and memberships would take, from what
/// the run measured, next to Microsoft's own estimate.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CycleEstimate {
    pub users: u64,
    pub groups: u64,
    pub memberships: u64,
    /// Users + groups + memberships: what Microsoft's per-object estimate counts.
    pub objects: u64,
    /// Requests Entra's sequence sends for them (match, create, member batches).
    pub requests: u64,
    /// At the throughput the cycle phase measured.
    pub at_measured_throughput_min: f64,
    /// One request at a time at the measured mean latency (the longest it could take).
    pub one_at_a_time_min: f64,
    /// At the gallery's 25 requests per second.
    pub at_gallery_bar_min: f64,
    /// Microsoft's 0.01 and 0.08 minutes per object.
    pub microsoft_min: (f64, f64),
}

impl CycleEstimate {
    /// The estimate for `objects` (users, groups, memberships) needing `requests`, from the
    /// measured `throughput` (req/s) and `mean_ms` latency per request.
    pub fn new(
        (users, groups, memberships): (u64, u64, u64),
        requests: u64,
        throughput: f64,
        mean_ms: f64,
    ) -> Self {
        let objects = users + groups + memberships;
        let minutes = |per_second: f64| {
            if per_second > 0.0 {
                requests as f64 / per_second / 60.0
            } else {
                f64::INFINITY
            }
        };
        CycleEstimate {
            users,
            groups,
            memberships,
            objects,
            requests,
            at_measured_throughput_min: minutes(throughput),
            one_at_a_time_min: requests as f64 * mean_ms / 1000.0 / 60.0,
            at_gallery_bar_min: minutes(GALLERY_BAR),
            microsoft_min: (
                objects as f64 * MINUTES_PER_OBJECT.0,
                objects as f64 * MINUTES_PER_OBJECT.1,
            ),
        }
    }
}

impl LoadReport {
    /// The exit code: 0 when the bar is met (or not tested) with no failed request and nothing
    /// left behind; 1 otherwise; 3 unreachable; 130 interrupted.
    pub fn exit_code(&self) -> i32 {
        exit::of_load(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entras_arithmetic_counts_objects_and_requests() {
        // 1000 users, 10 groups of 50 members: 1510 objects; 2000 + 10 * 3 requests.
        let e = CycleEstimate::new((1000, 10, 500), 2030, 203.0, 40.0);
        assert_eq!(e.objects, 1510);
        assert!((e.at_measured_throughput_min - 10.0 / 60.0).abs() < 1e-9);
        assert!((e.one_at_a_time_min - 2030.0 * 0.04 / 60.0).abs() < 1e-9);
        assert!((e.at_gallery_bar_min - 2030.0 / 25.0 / 60.0).abs() < 1e-9);
        assert!((e.microsoft_min.0 - 15.1).abs() < 1e-9);
        assert!((e.microsoft_min.1 - 120.8).abs() < 1e-9);
    }

    #[test]
    fn full_speed_runs_are_judged_by_their_throughput() {
        let v = Verdict::judge(Rate::Max, 80.0, 0, 0);
        assert_eq!(v.status, VerdictStatus::Meets);
        assert_eq!(
            v.text,
            "meets the gallery's 25 req/s bar (80.0 req/s at full speed)"
        );
        let v = Verdict::judge(Rate::Max, 12.5, 0, 0);
        assert_eq!(v.status, VerdictStatus::Below);
        assert!(v.text.starts_with("below the gallery's 25 req/s bar"));
    }

    #[test]
    fn paced_runs_meet_the_bar_when_they_keep_a_pace_at_or_above_it() {
        assert_eq!(
            Verdict::judge(Rate::PerSecond(25.0), 24.6, 0, 0).status,
            VerdictStatus::Meets
        );
        assert_eq!(
            Verdict::judge(Rate::PerSecond(25.0), 20.0, 0, 0).status,
            VerdictStatus::Below
        );
        assert_eq!(
            Verdict::judge(Rate::PerSecond(10.0), 10.0, 0, 0).status,
            VerdictStatus::NotTested
        );
    }

    #[test]
    fn throttling_or_failures_are_below_the_bar_whatever_the_speed() {
        let v = Verdict::judge(Rate::Max, 500.0, 0, 3);
        assert_eq!(v.status, VerdictStatus::Below);
        assert!(
            v.text.contains("429 Too Many Requests 3 time(s)"),
            "{}",
            v.text
        );
        let v = Verdict::judge(Rate::Max, 500.0, 2, 0);
        assert_eq!(v.status, VerdictStatus::Below);
        assert!(v.text.contains("2 request(s) failed"), "{}", v.text);
    }
}
