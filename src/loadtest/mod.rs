//! `scimcheck load`: simulates an Entra initial provisioning cycle (match, create, optionally
//! update each user; match, create and fill each group in member batches) at a target rate or as
//! fast as the endpoint answers, with bounded concurrency, then deletes everything it created.
//! It reports throughput, latency percentiles per request kind, errors by status, 429s with the
//! waits they asked for, and a verdict against the gallery's 25 requests/second bar.
//!
//! Memory stays flat in the number of requests: latencies go into fixed-size histograms
//! ([`hdrhistogram`]), work items are streamed, the client's ledger of what cleanup deletes
//! spills to a temporary file past [`engine::SPILL_AFTER`] resources, and only the first ids
//! that group memberships need are kept here, end to end in one string (`ids`). Probe mode's
//! one read goes out on its own hyper transport (`wire`); everything that writes goes through
//! the conformance client.

mod engine;
mod ids;
mod report;
mod stats;
mod wire;

pub use crate::pace::{Pacer, Rate};
pub use engine::{LoadConfig, Mode, NoProgress, Progress, group_body, run, user_body};
pub use report::{
    CycleEstimate, GALLERY_BAR, LoadReport, MINUTES_PER_OBJECT, PhaseReport, Verdict, VerdictStatus,
};
pub use stats::{ErrorCount, Kind, KindReport, Second, Stats, Throttling};
