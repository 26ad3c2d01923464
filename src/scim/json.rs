//! Small JSON helpers shared by the SCIM code, and the one home of case-insensitive member
//! access (RFC 7643 section 2.1: attribute names are case-insensitive).

use serde_json::{Map, Value};

/// The member `name` of `map`: the exact spelling first, then case-insensitively.
pub fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// [`get_ci`], for changing the member.
pub fn get_ci_mut<'a>(map: &'a mut Map<String, Value>, name: &str) -> Option<&'a mut Value> {
    let key = key_ci(map, name)?.clone();
    map.get_mut(&key)
}

/// The key of `map` that matches `name` case-insensitively, exact spelling preferred.
pub fn key_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a String> {
    match map.get_key_value(name) {
        Some((k, _)) => Some(k),
        None => map.keys().find(|k| k.eq_ignore_ascii_case(name)),
    }
}

/// The first member of `map`, in document order, whose name matches `name` case-insensitively,
/// even when a later one is spelt exactly: for the callers that have always taken the first
/// (where nothing prefers one spelling); [`get_ci`] and [`key_ci`] prefer the exact spelling.
pub fn first_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<(&'a String, &'a Value)> {
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))
}

/// [`get_ci`] on a value that may not be an object (`None` then).
pub fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    get_ci(v.as_object()?, name)
}

/// `v` without its nulls and empty arrays or objects (unassigned values are not returned,
/// RFC 7643 section 2.5); `None` when nothing is left.
pub fn without_nulls(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Array(a) if a.is_empty() => None,
        Value::Object(m) => {
            let kept: Map<String, Value> = m
                .iter()
                .filter_map(|(k, x)| Some((k.clone(), without_nulls(x)?)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_found_by_exact_spelling_first_then_in_any_case() {
        let v = json!({"userName": "a", "username": "b", "Emails": []});
        let m = v.as_object().unwrap();
        assert_eq!(get_ci(m, "username"), Some(&json!("b")));
        assert_eq!(get_ci(m, "USERNAME"), Some(&json!("a")));
        assert_eq!(key_ci(m, "emails").map(String::as_str), Some("Emails"));
        assert_eq!(member(&v, "EMAILS"), Some(&json!([])));
        assert_eq!(member(&json!(1), "x"), None);
        let (key, value) = first_ci(m, "USERNAME").unwrap();
        assert_eq!((key.as_str(), value), ("userName", &json!("a")));
        assert_eq!(
            first_ci(m, "username").map(|(k, _)| k.as_str()),
            Some("userName")
        );
        let mut v = v;
        *get_ci_mut(v.as_object_mut().unwrap(), "emails").unwrap() = json!(1);
        assert_eq!(v["Emails"], json!(1));
    }

    #[test]
    fn nulls_and_empty_containers_are_dropped() {
        assert_eq!(
            without_nulls(&json!({"a": null, "b": [], "c": {"d": null}, "e": 1})),
            Some(json!({"e": 1}))
        );
        assert_eq!(without_nulls(&json!(null)), None);
    }
}
