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

pub(crate) fn escape(text: &str, multiline: bool) -> Cow<'_, str> {
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
