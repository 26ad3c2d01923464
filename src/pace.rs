//! Request pacing, shared by every request of a run (`run --rate`, `load --rate`): spaces
//! requests `1 / rate` apart across all concurrent tasks (a GCRA-style virtual schedule), with a
//! small catch-up allowance so a brief stall does not lower the long-run rate, and no burst
//! beyond it. A 429 holds back every later request of the run, not only the one that got it:
//! until its `Retry-After` (or [`BACKOFF`] without one).

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Serialize, Serializer};
use tokio::time::Instant;

/// How far behind schedule the pacer may catch up with back-to-back requests.
const CATCH_UP: Duration = Duration::from_millis(100);

/// The target request rate: `max` (as fast as the endpoint answers, bounded by concurrency) or
/// a number of requests per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// No pacing.
    Max,
    /// Requests per second (> 0).
    PerSecond(f64),
}

impl Rate {
    /// The requests per second, `None` for `max`.
    pub fn per_second(self) -> Option<f64> {
        match self {
            Rate::Max => None,
            Rate::PerSecond(r) => Some(r),
        }
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("max") {
            return Ok(Rate::Max);
        }
        match s.parse::<f64>() {
            Ok(r) if r.is_finite() && (0.01..=100_000.0).contains(&r) => Ok(Rate::PerSecond(r)),
            Ok(r) if r.is_finite() && r > 0.0 => Err(format!(
                "`{s}` is out of range: give between 0.01 and 100000 requests per second, or `max`"
            )),
            _ => Err(format!(
                "`{s}` is not a rate: give requests per second (e.g. 25) or `max`"
            )),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Max => f.write_str("max"),
            Rate::PerSecond(r) => write!(f, "{r} req/s"),
        }
    }
}

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Rate::Max => s.serialize_str("max"),
            Rate::PerSecond(r) => s.serialize_f64(*r),
        }
    }
}

/// How long a 429 without a usable `Retry-After` holds the run back.
pub const BACKOFF: Duration = Duration::from_secs(1);

/// Hands out send slots `1 / rate` apart; shared by every task of a run.
#[derive(Debug)]
pub struct Pacer {
    interval: Option<Duration>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The next free slot of the rate.
    next: Option<Instant>,
    /// No request goes out before this (a 429 asked the run to back off).
    held_until: Option<Instant>,
}

impl Pacer {
    /// A pacer for `rate`.
    pub fn new(rate: Rate) -> Self {
        Pacer {
            interval: rate.per_second().map(|r| Duration::from_secs_f64(1.0 / r)),
            state: Mutex::new(State::default()),
        }
    }

    /// Takes the next send slot for a request ready at `now`: when it may go out. With
    /// `held` false (the run was stopped: only cleanup is left) a 429's hold is ignored.
    pub fn slot(&self, now: Instant, held: bool) -> Instant {
        let mut state = self.state.lock().expect("pacer lock");
        let hold = state.held_until.filter(|h| held && *h > now);
        let Some(interval) = self.interval else {
            return hold.unwrap_or(now);
        };
        let slot = match (hold, state.next) {
            (Some(h), Some(n)) if n > h => n,
            // No catch-up burst right after a hold.
            (Some(h), _) => h,
            (None, Some(n)) => n.max(now.checked_sub(CATCH_UP).unwrap_or(now)),
            (None, None) => now,
        };
        state.next = Some(slot + interval);
        slot
    }

    /// A response was a 429 at `now`: every request of the run waits until `retry_after` has
    /// passed ([`BACKOFF`] when the server named no usable wait).
    pub fn throttled(&self, now: Instant, retry_after: Option<Duration>) {
        let until = now + retry_after.unwrap_or(BACKOFF);
        let mut state = self.state.lock().expect("pacer lock");
        if state.held_until.is_none_or(|h| h < until) {
            state.held_until = Some(until);
        }
    }

    /// Waits for the next send slot (at once for `Rate::Max` when nothing holds the run back).
    pub async fn wait(&self) {
        let now = Instant::now();
        let slot = self.slot(now, true);
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_as_numbers_or_max() {
        assert_eq!("max".parse::<Rate>(), Ok(Rate::Max));
        assert_eq!("MAX".parse::<Rate>(), Ok(Rate::Max));
        assert_eq!("25".parse::<Rate>(), Ok(Rate::PerSecond(25.0)));
        assert_eq!("0.5".parse::<Rate>(), Ok(Rate::PerSecond(0.5)));
        assert!("0".parse::<Rate>().is_err());
        assert!("-3".parse::<Rate>().is_err());
        assert!("fast".parse::<Rate>().is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn the_pacer_spaces_slots_by_the_interval() {
        let pacer = Pacer::new(Rate::PerSecond(10.0));
        let start = Instant::now();
        for _ in 0..11 {
            pacer.wait().await;
        }
        // 11 slots: the first at once, then ten 100 ms intervals.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_stall_the_pacer_catches_up_only_within_the_allowance() {
        let pacer = Pacer::new(Rate::PerSecond(100.0));
        pacer.wait().await;
        tokio::time::advance(Duration::from_secs(5)).await;
        let start = Instant::now();
        // 100 ms of allowance at 10 ms per slot: ten slots are free, the eleventh waits.
        for _ in 0..11 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        pacer.wait().await;
        assert_eq!(start.elapsed(), Duration::from_millis(10));
    }

    #[test]
    fn a_429_holds_back_every_later_slot_until_its_retry_after() {
        let pacer = Pacer::new(Rate::Max);
        let t0 = Instant::now();
        assert_eq!(pacer.slot(t0, true), t0, "unpaced: at once");
        pacer.throttled(t0, Some(Duration::from_secs(3)));
        // Every request of the run, whichever task sends it, waits for the same moment.
        let later = t0 + Duration::from_millis(500);
        assert_eq!(pacer.slot(later, true), t0 + Duration::from_secs(3));
        assert_eq!(pacer.slot(later, true), t0 + Duration::from_secs(3));
        // A shorter wait asked later does not shorten the hold; once it passed, no wait.
        pacer.throttled(later, Some(Duration::from_secs(1)));
        assert_eq!(pacer.slot(later, true), t0 + Duration::from_secs(3));
        let after = t0 + Duration::from_secs(4);
        assert_eq!(pacer.slot(after, true), after);
    }

    #[test]
    fn a_429_without_retry_after_holds_the_run_for_the_default_backoff() {
        let pacer = Pacer::new(Rate::Max);
        let t0 = Instant::now();
        pacer.throttled(t0, None);
        assert_eq!(pacer.slot(t0, true), t0 + BACKOFF);
    }

    #[test]
    fn a_stopped_run_ignores_the_hold_but_not_the_rate() {
        let pacer = Pacer::new(Rate::PerSecond(10.0));
        let t0 = Instant::now();
        pacer.throttled(t0, Some(Duration::from_secs(60)));
        // Cleanup after Ctrl-C goes out at once, still 100 ms apart.
        assert_eq!(pacer.slot(t0, false), t0);
        assert_eq!(pacer.slot(t0, false), t0 + Duration::from_millis(100));
    }

    #[test]
    fn a_paced_run_resumes_at_its_rate_after_the_hold() {
        let pacer = Pacer::new(Rate::PerSecond(10.0));
        let t0 = Instant::now();
        assert_eq!(pacer.slot(t0, true), t0);
        pacer.throttled(t0, Some(Duration::from_secs(2)));
        let held = t0 + Duration::from_secs(2);
        // No catch-up burst after the hold: the first slot at its end, then the rate.
        assert_eq!(pacer.slot(t0, true), held);
        assert_eq!(pacer.slot(t0, true), held + Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn max_never_waits() {
        let pacer = Pacer::new(Rate::Max);
        let start = Instant::now();
        for _ in 0..1000 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
