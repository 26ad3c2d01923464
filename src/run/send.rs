//! Sending a request and recording the exchange as events (bodies cut to [`MAX_KEPT_BODY`]),
//! and noticing an endpoint that stopped answering ([`super::GONE_AFTER`]).

use std::sync::atomic::Ordering;

use crate::http::{Exchange, OutRequest};

use super::step::StepRun;
use super::{Event, GONE_AFTER, Owner, Runner, event};

impl Runner {
    pub(super) async fn send(
        &self,
        run: &mut StepRun<'_>,
        check: &str,
        req: &OutRequest,
    ) -> Exchange {
        self.send_to(run.index, &mut run.events, check, req).await
    }

    /// Sends `req` for scenario `index` and records the exchange in `events`.
    pub(super) async fn send_to(
        &self,
        index: usize,
        events: &mut Vec<Event>,
        check: &str,
        req: &OutRequest,
    ) -> Exchange {
        let started_at = event::now();
        let ex = self.client.send(req, Owner::Scenario(index)).await;
        self.note_answer(&ex);
        Self::record_to(events, index, check, started_at, &ex);
        ex
    }

    /// Counts answers, and notices an endpoint that stopped answering: [`GONE_AFTER`] requests
    /// in a row without any answer, after it had answered before.
    pub(super) fn note_answer(&self, ex: &Exchange) {
        let mut failing = self.failing.lock().expect("failing lock");
        match &ex.response {
            Ok(_) => {
                self.responses.fetch_add(1, Ordering::SeqCst);
                *failing = (0, None);
            }
            Err(e) if e.is_unreachable() => {
                self.unreachable.store(true, Ordering::SeqCst);
                if failing.0 == 0 {
                    failing.1 = Some(chrono::Local::now());
                }
                failing.0 += 1;
                let answered = self.responses.load(Ordering::SeqCst);
                if failing.0 >= GONE_AFTER
                    && answered > 0
                    && let Some(at) = failing.1
                {
                    let _ = self.gone.set(format!(
                        "the endpoint stopped answering at {} after {answered} answered requests",
                        at.format("%H:%M:%S")
                    ));
                }
            }
            Err(_) => {}
        }
    }

    pub(super) fn record(run: &mut StepRun<'_>, check: &str, started_at: String, ex: &Exchange) {
        Self::record_to(&mut run.events, run.index, check, started_at, ex);
    }

    pub(super) fn record_to(
        events: &mut Vec<Event>,
        index: usize,
        check: &str,
        started_at: String,
        ex: &Exchange,
    ) {
        events.push(Event::RequestSent {
            scenario: index,
            check: check.to_string(),
            started_at,
            request: kept_request(&ex.request),
        });
        events.push(Event::ResponseReceived {
            scenario: index,
            check: check.to_string(),
            response: kept_response(&ex.response),
            elapsed_ms: event::ms(ex.elapsed),
        });
    }
}

/// At most this much of a body is kept in events, and so in every report (HAR included): the
/// checks read the whole body (up to `--max-body-mib`), the record keeps an excerpt.
pub const MAX_KEPT_BODY: usize = 16 * 1024;

/// `body` cut to [`MAX_KEPT_BODY`] bytes, saying so.
pub(super) fn kept_body(body: &str) -> Option<String> {
    if body.len() <= MAX_KEPT_BODY {
        return None;
    }
    let mut cut = MAX_KEPT_BODY;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    Some(format!(
        "{}\n… [scimcheck kept the first {cut} of {} bytes]",
        &body[..cut],
        body.len()
    ))
}

pub(super) fn kept_request(r: &crate::http::SentRequest) -> crate::http::SentRequest {
    let mut r = r.clone();
    if let Some(b) = r.body.as_deref().and_then(kept_body) {
        r.body = Some(b);
    }
    r
}

pub(super) fn kept_response(
    r: &Result<crate::http::Received, crate::http::TransportError>,
) -> Result<crate::http::Received, crate::http::TransportError> {
    match r {
        Ok(rec) => match kept_body(&rec.body) {
            Some(body) => Ok(crate::http::Received {
                status: rec.status,
                headers: rec.headers.clone(),
                body,
                truncated: rec.truncated,
                retries: rec.retries.clone(),
            }),
            None => Ok(rec.clone()),
        },
        Err(e) => Err(e.clone()),
    }
}
