//! JSON paths, the one home: the `$.emails[0].value` notation findings are reported in (built
//! member by member, read back into tokens, or converted from a JSON pointer), and the walk of a
//! value by a JSON pointer with `*` wildcards (`/Resources/*/id`).

use serde_json::Value;

/// `path.key`, or `path['key']` when the key is not a plain name (URNs): the validator's paths,
/// which [`tokens`] reads back.
pub fn child(path: &str, key: &str) -> String {
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$' || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '$' || c == '_');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}['{}']", key.replace('\'', "\\'"))
    }
}

/// `path.key` with the key as it is spelt, URNs included (`$.urn:...:User.manager`): the paths
/// of a body diff, which read the way the expectation was written.
pub fn child_as_written(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

/// `path[i]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A JSON pointer (`/Resources/*/id`) as a path (`$.Resources[*].id`); `""` is `$`.
pub fn from_pointer(p: &str) -> String {
    if p.is_empty() {
        return "$".into();
    }
    let mut out = String::from("$");
    for t in p[1..].split('/') {
        if t.parse::<usize>().is_ok() || t == "*" {
            out.push_str(&format!("[{t}]"));
        } else {
            out.push('.');
            out.push_str(&t.replace("~1", "/").replace("~0", "~"));
        }
    }
    out
}

/// One step of a path: a member name or an array index.
#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    /// A member name (`.name` or `['urn:x']`).
    Key(String),
    /// An array index (`[0]`).
    Index(usize),
}

/// Splits `$.Resources[0]['urn:x'].name` into keys and indices.
pub fn tokens(path: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let s = path.strip_prefix('$').unwrap_or(path);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                out.push(Token::Key(key));
            }
            '[' => {
                let mut inner = String::new();
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    inner.push(c);
                }
                match inner.parse::<usize>() {
                    Ok(i) => out.push(Token::Index(i)),
                    Err(_) => out.push(Token::Key(inner.trim_matches('\'').replace("\\'", "'"))),
                }
            }
            _ => {}
        }
    }
    out
}

/// Every value at `pointer` (RFC 6901, exact member names); `*` fans out over array items (and
/// object values).
pub fn select<'a>(root: &'a Value, pointer: &str) -> Vec<&'a Value> {
    let mut current = vec![root];
    if pointer.is_empty() {
        return current;
    }
    for raw in pointer[1..].split('/') {
        let token = raw.replace("~1", "/").replace("~0", "~");
        let mut next = Vec::new();
        for v in current {
            match (v, token.as_str()) {
                (Value::Array(items), "*") => next.extend(items.iter()),
                (Value::Object(m), "*") => next.extend(m.values()),
                (Value::Array(items), t) => {
                    next.extend(t.parse::<usize>().ok().and_then(|i| items.get(i)))
                }
                (Value::Object(m), t) => next.extend(m.get(t)),
                _ => {}
            }
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_quote_urn_keys_and_read_back_into_tokens() {
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let p = child(&index(&child("$", "Resources"), 0), urn);
        let p = child(&p, "manager");
        assert_eq!(p, format!("$.Resources[0]['{urn}'].manager"));
        assert_eq!(
            tokens(&p),
            [
                Token::Key("Resources".into()),
                Token::Index(0),
                Token::Key(urn.into()),
                Token::Key("manager".into())
            ]
        );
        assert_eq!(child("$", "it's"), "$['it\\'s']");
        assert_eq!(tokens("$['it\\'s']"), [Token::Key("it's".into())]);
        assert_eq!(child_as_written("$", urn), format!("$.{urn}"));
        assert_eq!(
            tokens("$.a['urn:x:y'][2]"),
            vec![
                Token::Key("a".into()),
                Token::Key("urn:x:y".into()),
                Token::Index(2)
            ]
        );
    }

    #[test]
    fn pointers_become_paths_and_select_fans_out_on_wildcards() {
        assert_eq!(from_pointer(""), "$");
        assert_eq!(from_pointer("/Resources/*/a~1b"), "$.Resources[*].a/b");
        let body = json!({"Resources": [{"id": "a"}, {"id": "b"}], "x/y": 1});
        assert_eq!(select(&body, "/Resources/*/id"), [&json!("a"), &json!("b")]);
        assert_eq!(select(&body, "/x~1y"), [&json!(1)]);
        assert_eq!(select(&body, ""), [&body]);
        assert!(select(&body, "/Resources/7").is_empty());
    }
}
