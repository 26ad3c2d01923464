//! The discovery documents read into the model, member names matched case-insensitively and
//! values kept as published.

use serde_json::Value;

use super::{AttributeInfo, AuthScheme, Extension, Features, ResourceType, SchemaInfo};
use crate::scim::json::member;

pub(super) fn string(v: &Value, name: &str) -> Option<String> {
    member(v, name).and_then(Value::as_str).map(str::to_string)
}

fn boolean(v: &Value, name: &str) -> Option<bool> {
    member(v, name).and_then(Value::as_bool)
}

fn int(v: &Value, name: &str) -> Option<i64> {
    member(v, name).and_then(Value::as_i64)
}

pub(super) fn features(spc: &Value) -> Features {
    let feature = |name: &str| member(spc, name).cloned().unwrap_or(Value::Null);
    let (patch, bulk, filter) = (feature("patch"), feature("bulk"), feature("filter"));
    Features {
        patch: boolean(&patch, "supported"),
        bulk: boolean(&bulk, "supported"),
        bulk_max_operations: int(&bulk, "maxOperations"),
        bulk_max_payload_size: int(&bulk, "maxPayloadSize"),
        filter: boolean(&filter, "supported"),
        filter_max_results: int(&filter, "maxResults"),
        sort: boolean(&feature("sort"), "supported"),
        etag: boolean(&feature("etag"), "supported"),
        change_password: boolean(&feature("changePassword"), "supported"),
        authentication_schemes: member(spc, "authenticationSchemes")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|s| AuthScheme {
                        kind: string(s, "type"),
                        name: string(s, "name"),
                        primary: boolean(s, "primary"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub(super) fn resource_type(rt: &Value) -> ResourceType {
    ResourceType {
        name: string(rt, "name").or_else(|| string(rt, "id")),
        endpoint: string(rt, "endpoint"),
        schema: string(rt, "schema"),
        extensions: member(rt, "schemaExtensions")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|e| Extension {
                        schema: string(e, "schema"),
                        required: boolean(e, "required"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn attribute(a: &Value) -> AttributeInfo {
    let raw = |name: &str| member(a, name).cloned();
    AttributeInfo {
        name: raw("name"),
        kind: raw("type"),
        multi_valued: raw("multiValued"),
        required: raw("required"),
        mutability: raw("mutability"),
        returned: raw("returned"),
        uniqueness: raw("uniqueness"),
        case_exact: raw("caseExact"),
        sub_attributes: member(a, "subAttributes")
            .and_then(Value::as_array)
            .map(|subs| subs.iter().map(attribute).collect())
            .unwrap_or_default(),
    }
}

pub(super) fn schema_info(s: &Value) -> SchemaInfo {
    SchemaInfo {
        id: string(s, "id"),
        name: string(s, "name"),
        attributes: member(s, "attributes")
            .and_then(Value::as_array)
            .map(|attrs| attrs.iter().map(attribute).collect())
            .unwrap_or_default(),
    }
}

/// The items of a ListResponse (or of a bare array).
pub(super) fn items(body: &Value) -> Vec<Value> {
    match body {
        Value::Array(items) => items.clone(),
        other => member(other, "Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    }
}
