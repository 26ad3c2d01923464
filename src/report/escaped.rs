//! The escaping reporter: a reporter in front of another (the terminal) that makes every
//! server-controlled string of an event safe to show (see [`crate::escape`]).

use std::borrow::Cow;

use crate::escape::escape;

/// A reporter in front of another (the terminal): every server-controlled string of an event
/// is escaped with [`crate::escape::visible`] / [`crate::escape::one_line`] before the inner reporter sees it.
pub struct Escaped<R>(pub R);

impl<R: super::Reporter> super::Reporter for Escaped<R> {
    fn on_event(&mut self, event: &crate::run::Event) {
        self.0.on_event(&escape_event(event));
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.0.finish()
    }
}

fn own(s: &mut String, multiline: bool) {
    let escaped = escape(s, multiline);
    if let Cow::Owned(e) = escaped {
        *s = e;
    }
}

fn response(r: &mut Result<crate::http::Received, crate::http::TransportError>) {
    use crate::http::TransportError as T;
    match r {
        Ok(r) => {
            own(&mut r.body, true);
            for (k, v) in &mut r.headers {
                own(k, false);
                own(v, false);
            }
        }
        Err(
            T::Tls(crate::http::Failure { text: s, .. })
            | T::Connect(crate::http::Failure { text: s, .. })
            | T::Dns(s)
            | T::Refused(s)
            | T::Body(s)
            | T::ReadOnly(s)
            | T::Invalid(s)
            | T::Token(s),
        ) => own(s, false),
        Err(T::ForeignWrite { method, path }) => {
            own(method, false);
            own(path, false);
        }
        Err(T::Timeout(_)) => {}
    }
}

/// The event with its server-controlled text escaped.
pub fn escape_event(event: &crate::run::Event) -> crate::run::Event {
    use crate::run::{CleanupOutcome, Event};
    let mut e = event.clone();
    match &mut e {
        Event::RunStarted { target, .. } => own(target, false),
        Event::ResponseReceived { response: r, .. } => response(r),
        Event::RequestSent { request, .. } => {
            own(&mut request.url, false);
            if let Some(b) = &mut request.body {
                own(b, true);
            }
        }
        Event::CheckFinished { result, .. } => {
            for f in &mut result.findings {
                own(&mut f.message, true);
                if let Some(d) = &mut f.diff {
                    own(d, true);
                }
                if let Some(p) = &mut f.path {
                    own(p, false);
                }
            }
            if let Some(n) = &mut result.note {
                own(n, true);
            }
            if let Some(x) = &mut result.exchange {
                own(&mut x.request.url, false);
                if let Some(b) = &mut x.request.body {
                    own(b, true);
                }
                response(&mut x.response);
            }
        }
        Event::Cleanup {
            path,
            label,
            outcome,
            ..
        } => {
            own(path, false);
            own(label, false);
            if let CleanupOutcome::Failed(w) | CleanupOutcome::Unverified(w) = outcome {
                own(w, false);
            }
        }
        Event::RunFinished { summary } => {
            for c in summary
                .leftovers
                .iter_mut()
                .chain(summary.foreign.iter_mut())
            {
                own(&mut c.path, false);
                own(&mut c.label, false);
            }
            for p in &mut summary.unconfirmed {
                own(&mut p.value, false);
            }
        }
        _ => {}
    }
    e
}
