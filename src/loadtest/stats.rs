//! What a load run measured: one latency histogram per request kind (never per-request samples,
//! so memory does not grow with the number of requests), responses by status, errors by kind and
//! status, and the 429s with the waits they asked for.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::http::{Exchange, Received, TransportError, parse_retry_after};

/// Whether `body` is one well-formed JSON object (checked without building it).
fn is_json_object(body: &str) -> bool {
    body.trim_start().starts_with('{')
        && serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok()
}

/// Latencies are recorded in microseconds up to this bound (longer ones are clamped to it).
const MAX_LATENCY_US: u64 = 10 * 60 * 1_000_000;

/// The kind of one request of a load run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `GET /Users?filter=userName eq "<upn>"` before a create.
    UserMatch,
    /// `POST /Users`.
    UserCreate,
    /// `PATCH /Users/{id}` after the create.
    UserUpdate,
    /// `GET /Groups?excludedAttributes=members&filter=displayName eq "<name>"`.
    GroupMatch,
    /// `POST /Groups`.
    GroupCreate,
    /// `PATCH /Groups/{id}` adding a batch of members.
    GroupMembers,
    /// `DELETE /Groups/{id}` (cleanup).
    GroupDelete,
    /// `DELETE /Users/{id}` (cleanup).
    UserDelete,
    /// The probe mode's filter that matches nothing.
    Probe,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 9] = [
        Kind::UserMatch,
        Kind::UserCreate,
        Kind::UserUpdate,
        Kind::GroupMatch,
        Kind::GroupCreate,
        Kind::GroupMembers,
        Kind::GroupDelete,
        Kind::UserDelete,
        Kind::Probe,
    ];

    /// The name shown in reports.
    pub fn label(self) -> &'static str {
        match self {
            Kind::UserMatch => "user match",
            Kind::UserCreate => "user create",
            Kind::UserUpdate => "user update",
            Kind::GroupMatch => "group match",
            Kind::GroupCreate => "group create",
            Kind::GroupMembers => "group members",
            Kind::GroupDelete => "group delete",
            Kind::UserDelete => "user delete",
            Kind::Probe => "probe",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A short, stable name for a transport failure class.
pub fn transport_class(e: &TransportError) -> &'static str {
    match e {
        TransportError::Dns(_) => "dns",
        TransportError::Refused(_) => "connection refused",
        TransportError::Timeout(_) => "timeout",
        TransportError::Tls(_) => "tls",
        TransportError::Connect(_) => "connect",
        TransportError::Body(_) => "unreadable response",
        TransportError::ForeignWrite { .. } => "refused foreign write",
        TransportError::ReadOnly(_) => "refused by --read-only",
        TransportError::Invalid(_) => "invalid request",
        #[allow(unreachable_patterns)]
        _ => "other",
    }
}

/// Why a request counted as an error.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// An unexpected HTTP status.
    Status(u16),
    /// No response (the class, see [`transport_class`]).
    Transport(&'static str),
}

struct PerKind {
    latency: Histogram<u64>,
    errors: u64,
}

/// The running totals of a load run.
pub struct Stats {
    kinds: Vec<PerKind>,
    statuses: BTreeMap<u16, u64>,
    errors: BTreeMap<(Kind, Failure), u64>,
    /// One example message per transport failure class.
    transport_examples: BTreeMap<&'static str, String>,
    throttled: u64,
    waits_asked: u64,
    wait_total: f64,
    wait_max: f64,
    /// When recording started: the origin of [`Stats::timeline`].
    started: Instant,
    /// Requests, errors and 429s per second of the run (one entry per second, so it grows with
    /// the run's duration, never with its number of requests).
    seconds: Vec<Second>,
}

/// What happened in one second of a load run (counted when each request finished).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct Second {
    /// Seconds since the run started.
    pub t_s: u64,
    /// Requests that finished in this second.
    pub requests: u64,
    /// Of those, how many failed (unexpected status or no response).
    pub errors: u64,
    /// 429 responses received in this second (retried ones included).
    pub throttled: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            kinds: Kind::ALL
                .iter()
                .map(|_| PerKind {
                    latency: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                        .expect("valid histogram bounds"),
                    errors: 0,
                })
                .collect(),
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            transport_examples: BTreeMap::new(),
            throttled: 0,
            waits_asked: 0,
            wait_total: 0.0,
            wait_max: 0.0,
            started: Instant::now(),
            seconds: Vec::new(),
        }
    }
}

impl Stats {
    /// Records one exchange of `kind`; `ok` says which final statuses are success.
    /// Returns whether the request succeeded.
    pub fn record(&mut self, kind: Kind, ex: &Exchange, ok: fn(u16) -> bool) -> bool {
        self.record_answer(kind, ex.elapsed, &ex.response, ok)
    }

    /// Records one answer of `kind` (or its failure) that took `elapsed`; as [`Stats::record`].
    pub fn record_answer(
        &mut self,
        kind: Kind,
        elapsed: Duration,
        response: &Result<Received, TransportError>,
        ok: fn(u16) -> bool,
    ) -> bool {
        let throttled_before = self.throttled;
        let success = self.record_totals(kind, elapsed, response, ok);
        let second = self.second_now();
        second.requests += 1;
        second.errors += u64::from(!success);
        let throttled = self.throttled - throttled_before;
        self.second_now().throttled += throttled;
        success
    }

    /// The entry of the current second (created, with any silent seconds before it).
    fn second_now(&mut self) -> &mut Second {
        let t = self.started.elapsed().as_secs();
        while self.seconds.last().is_none_or(|s| s.t_s < t) {
            let next = self.seconds.last().map_or(0, |s| s.t_s + 1);
            self.seconds.push(Second {
                t_s: next,
                ..Second::default()
            });
        }
        self.seconds.last_mut().expect("just pushed")
    }

    /// Requests, errors and 429s per second since the run started.
    pub fn timeline(&self) -> Vec<Second> {
        self.seconds.clone()
    }

    fn record_totals(
        &mut self,
        kind: Kind,
        elapsed: Duration,
        response: &Result<Received, TransportError>,
        ok: fn(u16) -> bool,
    ) -> bool {
        let per = &mut self.kinds[kind.index()];
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        per.latency.saturating_record(us.clamp(1, MAX_LATENCY_US));
        let failure = match response {
            Ok(r) => {
                for (status, waited) in &r.retries {
                    *self.statuses.entry(*status).or_default() += 1;
                    if *status == 429 {
                        self.throttled += 1;
                        self.asked_to_wait(*waited);
                    }
                }
                *self.statuses.entry(r.status).or_default() += 1;
                if r.status == 429 {
                    self.throttled += 1;
                    if let Some(wait) = r.header("retry-after").and_then(parse_retry_after) {
                        self.asked_to_wait(wait.as_secs_f64());
                    }
                }
                if !ok(r.status) {
                    Some(Failure::Status(r.status))
                } else if !r.body.trim().is_empty() && !is_json_object(&r.body) {
                    // A 200 login page or a broken body is no success, however fast.
                    let class = "not a SCIM JSON answer";
                    self.transport_examples.entry(class).or_insert_with(|| {
                        format!(
                            "{} with a body that is not a JSON object (Content-Type: {})",
                            r.status,
                            r.header("content-type").unwrap_or("none")
                        )
                    });
                    Some(Failure::Transport(class))
                } else {
                    None
                }
            }
            Err(e) => {
                let class = transport_class(e);
                self.transport_examples
                    .entry(class)
                    .or_insert_with(|| e.to_string());
                Some(Failure::Transport(class))
            }
        };
        match failure {
            Some(f) => {
                self.kinds[kind.index()].errors += 1;
                *self.errors.entry((kind, f)).or_default() += 1;
                false
            }
            None => true,
        }
    }

    fn asked_to_wait(&mut self, seconds: f64) {
        self.waits_asked += 1;
        self.wait_total += seconds;
        self.wait_max = self.wait_max.max(seconds);
    }

    /// Requests of `kind` recorded so far.
    pub fn count(&self, kind: Kind) -> u64 {
        self.kinds[kind.index()].latency.len()
    }

    /// Every request recorded so far.
    pub fn total(&self) -> u64 {
        self.kinds.iter().map(|k| k.latency.len()).sum()
    }

    /// Every failed request recorded so far.
    pub fn total_errors(&self) -> u64 {
        self.kinds.iter().map(|k| k.errors).sum()
    }

    /// Per-kind latency summaries (kinds with no requests left out).
    pub fn kinds(&self) -> Vec<KindReport> {
        Kind::ALL
            .iter()
            .zip(&self.kinds)
            .filter(|(_, k)| !k.latency.is_empty())
            .map(|(kind, k)| {
                let ms = |q: f64| k.latency.value_at_quantile(q) as f64 / 1000.0;
                KindReport {
                    kind: *kind,
                    label: kind.label(),
                    requests: k.latency.len(),
                    errors: k.errors,
                    p50_ms: ms(0.50),
                    p90_ms: ms(0.90),
                    p99_ms: ms(0.99),
                    max_ms: k.latency.max() as f64 / 1000.0,
                    mean_ms: k.latency.mean() / 1000.0,
                }
            })
            .collect()
    }

    /// Responses by HTTP status (retried 429/503 responses included).
    pub fn statuses(&self) -> BTreeMap<String, u64> {
        self.statuses
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect()
    }

    /// Failed requests grouped by kind and cause.
    pub fn errors(&self) -> Vec<ErrorCount> {
        self.errors
            .iter()
            .map(|((kind, failure), n)| ErrorCount {
                kind: *kind,
                label: kind.label(),
                status: match failure {
                    Failure::Status(s) => Some(*s),
                    Failure::Transport(_) => None,
                },
                transport: match failure {
                    Failure::Transport(c) => self.transport_examples.get(c).cloned(),
                    Failure::Status(_) => None,
                },
                count: *n,
            })
            .collect()
    }

    /// The 429s and the waits they asked for.
    pub fn throttling(&self) -> Throttling {
        Throttling {
            responses_429: self.throttled,
            retry_after_given: self.waits_asked,
            retry_after_total_s: self.wait_total,
            retry_after_max_s: self.wait_max,
        }
    }
}

/// Latency summary of one request kind.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KindReport {
    pub kind: Kind,
    /// Human name (`user create`).
    #[serde(skip)]
    pub label: &'static str,
    pub requests: u64,
    /// Requests that failed (unexpected status or no response).
    pub errors: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Failed requests of one kind with one cause.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorCount {
    pub kind: Kind,
    #[serde(skip)]
    pub label: &'static str,
    /// The HTTP status, when there was a response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why there was no response (one example message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    pub count: u64,
}

/// 429 Too Many Requests responses and the `Retry-After` waits they asked for.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Throttling {
    /// 429 responses received (retried ones included).
    pub responses_429: u64,
    /// How many of them carried a usable `Retry-After`.
    pub retry_after_given: u64,
    /// The sum of the waits asked for, in seconds.
    pub retry_after_total_s: f64,
    /// The longest wait asked for, in seconds.
    pub retry_after_max_s: f64,
}

/// Seconds as reports show them.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Received, SentRequest};

    fn exchange(
        status: u16,
        ms: u64,
        retries: Vec<(u16, f64)>,
        headers: &[(&str, &str)],
    ) -> Exchange {
        Exchange {
            request: SentRequest {
                method: "GET".into(),
                url: "http://x/Users".into(),
                headers: vec![],
                body: None,
            },
            response: Ok(Received {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                body: String::new(),
                truncated: false,
                retries,
            }),
            elapsed: Duration::from_millis(ms),
        }
    }

    fn is_200(s: u16) -> bool {
        s == 200
    }

    #[test]
    fn latencies_summarise_per_kind_without_keeping_samples() {
        let mut s = Stats::default();
        for ms in 1..=100 {
            s.record(Kind::UserMatch, &exchange(200, ms, vec![], &[]), is_200);
        }
        let k = &s.kinds()[0];
        assert_eq!(k.kind, Kind::UserMatch);
        assert_eq!(k.requests, 100);
        assert_eq!(k.errors, 0);
        assert!((k.p50_ms - 50.0).abs() < 0.1, "{k:?}");
        assert!((k.p90_ms - 90.0).abs() < 0.1, "{k:?}");
        assert!((k.p99_ms - 99.0).abs() < 0.1, "{k:?}");
        assert!((k.max_ms - 100.0).abs() < 0.1, "{k:?}");
        assert_eq!(s.kinds().len(), 1, "kinds without requests are left out");
    }

    #[test]
    fn unexpected_statuses_and_transport_failures_count_as_errors() {
        let mut s = Stats::default();
        assert!(!s.record(Kind::UserCreate, &exchange(500, 1, vec![], &[]), is_200));
        assert!(!s.record(Kind::UserCreate, &exchange(500, 1, vec![], &[]), is_200));
        let mut timeout = exchange(200, 1, vec![], &[]);
        timeout.response = Err(TransportError::Timeout(Duration::from_secs(30)));
        assert!(!s.record(Kind::UserCreate, &timeout, is_200));
        assert!(s.record(Kind::UserCreate, &exchange(200, 1, vec![], &[]), is_200));
        assert_eq!(s.total(), 4);
        assert_eq!(s.total_errors(), 3);
        let errors = s.errors();
        assert_eq!(errors.len(), 2);
        assert_eq!((errors[0].status, errors[0].count), (Some(500), 2));
        assert_eq!(errors[1].status, None);
        assert_eq!(errors[1].count, 1);
        assert!(errors[1].transport.as_deref().unwrap().contains("30s"));
        assert_eq!(s.statuses().get("500"), Some(&2));
    }

    #[test]
    fn throttling_counts_retried_and_final_429s_with_their_waits() {
        let mut s = Stats::default();
        s.record(
            Kind::UserMatch,
            &exchange(200, 1, vec![(429, 2.0), (429, 3.0)], &[]),
            is_200,
        );
        s.record(
            Kind::UserMatch,
            &exchange(429, 1, vec![], &[("Retry-After", "120")]),
            is_200,
        );
        let t = s.throttling();
        assert_eq!(t.responses_429, 3);
        assert_eq!(t.retry_after_given, 3);
        assert_eq!(t.retry_after_total_s, 125.0);
        assert_eq!(t.retry_after_max_s, 120.0);
        assert_eq!(s.statuses().get("429"), Some(&3));
        assert_eq!(s.total_errors(), 1, "only the final 429 failed the request");
    }
}
