//! PATCH application (RFC 7644 section 3.5.2) accepting both Entra dialects: capitalised ops,
//! string booleans, path-less values with dotted and URN keys, member removal by value array or
//! by filter, `"$ref": null` members, and the manager's bare-string and array forms.

mod apply;
mod elements;
mod error;
mod extensions;
mod filtered;
#[cfg(test)]
mod fixtures;
mod lenient;
mod target;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

pub use apply::apply_patch;
pub use error::PatchError;

/// One PATCH operation (RFC 7644 section 3.5.2).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
pub struct PatchOperation {
    /// `add`, `replace` or `remove`, in any case (Entra's default dialect capitalises).
    pub op: String,
    /// The target; absent means the resource itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value: `Some(Value::Null)` when sent as `null`, `None` when absent.
    #[serde(
        default,
        deserialize_with = "present_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
}

/// Keeps an explicit `"value": null` apart from a missing `value`.
fn present_value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn operation_json_keeps_explicit_null_apart_from_missing_value() {
        let [a, b]: [PatchOperation; 2] = serde_json::from_value(
            json!([{"op": "replace", "path": "x", "value": null}, {"op": "remove", "path": "x"}]),
        )
        .unwrap();
        assert_eq!(a.value, Some(Value::Null));
        assert_eq!(b.value, None);
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            json!({"op": "remove", "path": "x"})
        );
        let c = PatchOperation {
            op: "replace".into(),
            path: None,
            value: Some(json!({"a": 1})),
        };
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({"op": "replace", "value": {"a": 1}})
        );
    }
}
