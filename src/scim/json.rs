//! Small JSON helpers shared by the SCIM code.

use serde_json::{Map, Value};

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
    fn nulls_and_empty_containers_are_dropped() {
        assert_eq!(
            without_nulls(&json!({"a": null, "b": [], "c": {"d": null}, "e": 1})),
            Some(json!({"e": 1}))
        );
        assert_eq!(without_nulls(&json!(null)), None);
    }
}
