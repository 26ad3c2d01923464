//! Captures and JSON pointers: `/id`, `/Resources/0/id`, and `*` for every array item
//! (`/Resources/*/id` gives an array of ids).

use serde_json::Value;

use crate::scim::json_path::select;

/// A capture: where to read the value, and whether a missing value is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureSpec {
    /// JSON pointer (with `*` wildcards).
    pub pointer: String,
    /// A missing value is not a failure (e.g. the id of a duplicate that should not exist).
    pub optional: bool,
}

impl CaptureSpec {
    /// `"/id"` or `{ pointer: "/id", optional: true }`.
    pub fn from_value(v: &Value) -> Result<CaptureSpec, String> {
        match v {
            Value::String(p) => Ok(CaptureSpec {
                pointer: p.clone(),
                optional: false,
            }),
            Value::Object(m) => {
                for k in m.keys() {
                    if k != "pointer" && k != "optional" {
                        return Err(format!(
                            "unknown key `{k}` (expected `pointer` and `optional`)"
                        ));
                    }
                }
                let pointer = m
                    .get("pointer")
                    .and_then(Value::as_str)
                    .ok_or("expected `pointer: /json/pointer`")?
                    .to_string();
                let optional = match m.get("optional") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err("`optional` must be true or false".into()),
                };
                Ok(CaptureSpec { pointer, optional })
            }
            _ => Err(
                "expected a JSON pointer such as `/id`, or `{ pointer: /id, optional: true }`"
                    .into(),
            ),
        }
    }
}

/// Checks RFC 6901 syntax (plus `*`): empty or starting with `/`, `~` only as `~0` / `~1`.
pub fn validate_pointer(p: &str) -> Result<(), String> {
    if !p.is_empty() && !p.starts_with('/') {
        return Err(format!(
            "invalid JSON pointer `{p}`: it must start with `/` (e.g. `/id`, `/Resources/0/id`)"
        ));
    }
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(format!(
                "invalid JSON pointer `{p}`: `~` must be followed by 0 or 1"
            ));
        }
    }
    Ok(())
}

/// The captured value: one value for plain pointers, an array for wildcard pointers.
pub fn capture(root: &Value, pointer: &str) -> Option<Value> {
    let found = select(root, pointer);
    if pointer.contains('*') {
        Some(Value::Array(found.into_iter().cloned().collect()))
    } else {
        found.first().map(|v| (*v).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_collect_every_item() {
        let body = json!({"Resources": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(capture(&body, "/Resources/*/id"), Some(json!(["a", "b"])));
        assert_eq!(capture(&body, "/Resources/1/id"), Some(json!("b")));
        assert_eq!(capture(&body, "/nope"), None);
    }

    #[test]
    fn pointer_syntax_is_checked() {
        assert!(validate_pointer("/a/b~1c").is_ok());
        assert!(validate_pointer("id").is_err());
        assert!(validate_pointer("/a~2").is_err());
    }

    #[test]
    fn capture_specs_take_two_forms() {
        assert!(!CaptureSpec::from_value(&json!("/id")).unwrap().optional);
        assert!(
            CaptureSpec::from_value(&json!({"pointer": "/id", "optional": true}))
                .unwrap()
                .optional
        );
        assert!(CaptureSpec::from_value(&json!({"pointr": "/id"})).is_err());
    }
}
