//! Server-controlled text made safe for a terminal: control characters, escape sequences and
//! bidirectional overrides are shown as visible escapes (`\x1b`, `\u{202e}`), so a hostile
//! endpoint cannot move the cursor, recolour, hide or rewrite what the user sees.

use std::borrow::Cow;

/// `text` with every control character but newline and tab shown as a visible escape.
pub fn visible(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

/// `text` on one line: newlines and tabs escaped too.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

fn unsafe_char(c: char, multiline: bool) -> bool {
    match c {
        '\n' | '\t' => !multiline,
        c if c.is_control() => true,
        '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn escape(text: &str, multiline: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| unsafe_char(c, multiline)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !unsafe_char(c, multiline) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Escapes `s` in place with [`one_line`].
pub fn one_line_in_place(s: &mut String) {
    if let Cow::Owned(e) = one_line(s) {
        *s = e;
    }
}

/// JSON text (as `serde_json` writes it) with the characters it leaves raw that a terminal
/// would act on, C1 controls and bidirectional overrides, written as `\uXXXX` escapes: the
/// same JSON, safe to print. (They can only occur inside strings, where the escape is valid.)
pub fn json_text(json: String) -> String {
    if !json.chars().any(|c| unsafe_char(c, true)) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if unsafe_char(c, true) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A reporter in front of another (the terminal): every server-controlled string of an event
/// is escaped with [`visible`] / [`one_line`] before the inner reporter sees it.
pub struct Escaped<R>(pub R);

impl<R: crate::report::Reporter> crate::report::Reporter for Escaped<R> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_control_characters_become_visible() {
        assert_eq!(visible("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            visible("\x1b[2J\x1b[1A\rPASSED\x07"),
            "\\x1b[2J\\x1b[1A\\x0dPASSED\\x07"
        );
        assert_eq!(visible("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(visible("\u{9b}31m"), "\\x9b31m");
        assert_eq!(one_line("a\nPASSED"), "a\\x0aPASSED");
        assert_eq!(
            json_text("{\"a\":\"x\\u001b\u{9b}\u{202e}\"}".into()),
            r#"{"a":"x\u001b\u009b\u202e"}"#
        );
    }
}
