//! Test fixtures shared by the validator's tests: realistic bodies, the default bounds, and
//! assertions on the violations found.

use serde_json::{Value, json};

use crate::scim::schema::SchemaSet;
use crate::scim::urn;

use super::{Bounds, Kind, Level, Violation, validate};

pub(super) const ENT: &str = urn::ENTERPRISE_USER;

/// A user as a server answers Entra's `POST /Users`, with the enterprise extension.
pub(super) fn user() -> Value {
    json!({
        "schemas": [urn::USER, ENT],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com",
        "active": true,
        "displayName": "Barbara Jensen",
        "emails": [{"primary": true, "type": "work", "value": "bjensen@contoso.com"}],
        "name": {"formatted": "Barbara Jensen", "familyName": "Jensen", "givenName": "Barbara"},
        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}],
        "addresses": [{"type": "work", "locality": "Redmond", "region": "WA", "primary": false}],
        "roles": [],
        ENT: {
            "employeeNumber": "701984",
            "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        },
        "meta": {
            "resourceType": "User",
            "created": "2024-01-23T04:56:22Z",
            "lastModified": "2024-01-23T04:56:22.123+00:00",
            "location": "https://scim.example.com/scim/v2/Users/2819c223-7f76-453a-919d-413861904646",
            "version": "W/\"3694e05e9dff590\""
        }
    })
}

/// A group as a server answers Entra's `POST /Groups` (with Entra's extra schema URI).
pub(super) fn group() -> Value {
    json!({
        "schemas": [urn::GROUP, urn::ENTRA_GROUP],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "Tour Guides",
        "members": [{
            "value": "2819c223-7f76-453a-919d-413861904646",
            "$ref": "https://scim.example.com/scim/v2/Users/2819c223-7f76-453a-919d-413861904646",
            "display": "Barbara Jensen"
        }],
        "meta": {"resourceType": "Group", "created": "2024-01-23T04:56:22Z", "lastModified": "2024-01-23T04:56:22Z"}
    })
}

pub(super) fn error_404() -> Value {
    json!({"schemas": [urn::ERROR], "status": "404", "detail": "Resource 42 not found"})
}

pub(super) fn list(resources: Vec<Value>) -> Value {
    json!({"schemas": [urn::LIST_RESPONSE], "totalResults": resources.len(), "Resources": resources,
           "startIndex": 1, "itemsPerPage": 20})
}

/// The default `--limit` bounds.
pub(super) fn bounds() -> Bounds {
    Bounds {
        problems: 1000,
        problems_hint: "scimcheck's limit; raise it with --limit problems=N".into(),
        list_resources: 1000,
        list_resources_hint: "scimcheck's limit; raise it with --limit list-resources=N".into(),
    }
}

pub(super) fn check(kind: Kind, body: &Value) -> Vec<Violation> {
    validate(kind, body, SchemaSet::builtin(), &bounds())
}

/// `base` changed by `edit` (at a JSON pointer: set, or remove with `None`).
pub(super) fn with(mut base: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/");
    let target = base.pointer_mut(parent).unwrap();
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key, v);
        }
        (Value::Object(map), None) => {
            map.shift_remove(&key);
        }
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
        (Value::Array(items), None) => {
            items.remove(key.parse::<usize>().unwrap());
        }
        _ => panic!("{pointer} has no parent container"),
    }
    base
}

/// Asserts exactly one violation, at `path` with `level`, whose message contains `needle`.
#[track_caller]
pub(super) fn only(kind: Kind, body: &Value, path: &str, level: Level, needle: &str) {
    let found = check(kind, body);
    assert_eq!(
        found.len(),
        1,
        "expected one violation at {path}, got {found:#?}"
    );
    assert_eq!(
        (found[0].path.as_str(), found[0].level),
        (path, level),
        "{found:#?}"
    );
    assert!(
        found[0].message.contains(needle),
        "message `{}` lacks `{needle}`",
        found[0].message
    );
}
