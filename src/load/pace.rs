//! Request pacing: spaces requests `1 / rate` apart across all concurrent tasks (a GCRA-style
//! virtual schedule), with a small catch-up allowance so a brief stall does not lower the
//! long-run rate, and no burst beyond it.

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

/// Hands out send slots `1 / rate` apart; shared by every task of a run.
#[derive(Debug)]
pub struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer for `rate`.
    pub fn new(rate: Rate) -> Self {
        Pacer {
            interval: rate.per_second().map(|r| Duration::from_secs_f64(1.0 / r)),
            next: Mutex::new(None),
        }
    }

    /// Waits for the next send slot (returns at once for `Rate::Max`).
    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let now = Instant::now();
        let slot = {
            let mut next = self.next.lock().expect("pacer lock");
            let earliest = now.checked_sub(CATCH_UP).unwrap_or(now);
            let slot = match *next {
                Some(n) if n > earliest => n,
                Some(_) => earliest,
                None => now,
            };
            *next = Some(slot + interval);
            slot
        };
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
