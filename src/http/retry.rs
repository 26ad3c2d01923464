//! Retries and pace: `Retry-After` waited out on a 429 or 503 (within `--max-retries` and
//! `--max-retry-wait`, cut short by Ctrl-C / `--deadline`), `--rate`, and the run-wide hold a
//! 429 puts on every request.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::client::Client;
use super::error::TransportError;
use super::message::Received;

/// Seconds (`120`) or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

impl Client {
    /// Waits for this request's slot: the rate, and any hold a 429 put on the run. Ctrl-C /
    /// `--deadline` cut a hold short at once (cleanup still keeps to the rate).
    async fn pace(&self) {
        let stopped = || self.stop.load(Ordering::SeqCst);
        let slot = self.pacer.slot(tokio::time::Instant::now(), !stopped());
        loop {
            let now = tokio::time::Instant::now();
            if now >= slot || stopped() {
                return;
            }
            tokio::time::sleep((slot - now).min(Duration::from_millis(50))).await;
        }
    }

    /// A 429 holds back every request of the run: for its `Retry-After` when the run would
    /// wait that long (`--max-retry-wait`), otherwise for [`crate::pace::BACKOFF`].
    fn throttled(&self, r: &Received) {
        let wait = r
            .header("retry-after")
            .and_then(parse_retry_after)
            .filter(|w| *w <= self.options().max_retry_wait);
        self.pacer.throttled(tokio::time::Instant::now(), wait);
    }

    /// Sends one request, waiting out `Retry-After` answers as allowed; the answer records
    /// each wait.
    pub(super) async fn send_with_retries(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<String>,
    ) -> Result<Received, TransportError> {
        let mut retries = Vec::new();
        loop {
            self.pace().await;
            let mut r = self.send_once(method, url, headers, body.clone()).await?;
            if r.status == 429 {
                self.throttled(&r);
            }
            if matches!(r.status, 429 | 503)
                && (retries.len() as u32) < self.options().max_retries
                && let Some(wait) = r.header("retry-after").and_then(parse_retry_after)
                && wait <= self.options().max_retry_wait
            {
                let waited = self.wait_unless_stopped(wait).await;
                retries.push((r.status, waited.as_secs_f64()));
                if waited < wait {
                    // Ctrl-C or --deadline: this answer stands, cleanup comes next.
                    r.retries = retries;
                    return Ok(r);
                }
                continue;
            }
            r.retries = retries;
            return Ok(r);
        }
    }

    /// Sleeps `wait`, or less once the stop flag is set (checked every 50 ms); returns how long
    /// it slept.
    async fn wait_unless_stopped(&self, wait: Duration) -> Duration {
        let started = Instant::now();
        while started.elapsed() < wait {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let left = wait - started.elapsed();
            tokio::time::sleep(left.min(Duration::from_millis(50))).await;
        }
        started.elapsed().min(wait)
    }
}
