//! Test fixtures shared by the PATCH tests: a few RFC 7643 schemas, a user and a group, and
//! helpers that apply operations and check a refusal leaves the resource unchanged.

use serde_json::{Value, json};

use super::{PatchError, PatchOperation, apply_patch};
use crate::scim::schema::{
    AttrType, Attribute, Mutability, Returned, Schema, SchemaSet, Uniqueness,
};
use crate::scim::urn;

pub(super) const EXT: &str = urn::ENTERPRISE_USER;

pub(super) fn attr(name: &str, kind: AttrType) -> Attribute {
    Attribute {
        name: name.into(),
        kind,
        multi_valued: false,
        description: String::new(),
        required: false,
        canonical_values: vec![],
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        reference_types: vec![],
        sub_attributes: vec![],
    }
}

pub(super) fn string(name: &str) -> Attribute {
    attr(name, AttrType::String)
}

pub(super) fn complex(name: &str, multi: bool, subs: Vec<Attribute>) -> Attribute {
    Attribute {
        multi_valued: multi,
        sub_attributes: subs,
        ..attr(name, AttrType::Complex)
    }
}

pub(super) fn schema(id: &str, attributes: Vec<Attribute>) -> Schema {
    Schema {
        id: id.into(),
        name: String::new(),
        description: String::new(),
        attributes,
    }
}

/// The few RFC 7643 attributes these tests need.
pub(super) fn schemas() -> SchemaSet {
    let exact = |name: &str| Attribute {
        case_exact: true,
        ..string(name)
    };
    let multi_complex = |name: &str| {
        complex(
            name,
            true,
            vec![
                string("value"),
                string("display"),
                string("type"),
                attr("primary", AttrType::Boolean),
            ],
        )
    };
    let user = schema(
        urn::USER,
        vec![
            Attribute {
                mutability: Mutability::ReadOnly,
                ..exact("id")
            },
            exact("externalId"),
            string("userName"),
            string("displayName"),
            string("nickName"),
            string("title"),
            attr("active", AttrType::Boolean),
            complex(
                "name",
                false,
                vec![
                    string("givenName"),
                    string("familyName"),
                    string("formatted"),
                ],
            ),
            multi_complex("emails"),
            multi_complex("roles"),
            multi_complex("addresses"),
            Attribute {
                mutability: Mutability::ReadOnly,
                ..multi_complex("groups")
            },
            Attribute {
                mutability: Mutability::Immutable,
                ..string("badge")
            },
        ],
    );
    let enterprise = schema(
        EXT,
        vec![
            string("employeeNumber"),
            string("department"),
            complex(
                "manager",
                false,
                vec![exact("value"), string("$ref"), string("displayName")],
            ),
        ],
    );
    let group = schema(
        urn::GROUP,
        vec![
            string("displayName"),
            complex(
                "members",
                true,
                vec![string("value"), string("$ref"), string("display")],
            ),
        ],
    );
    SchemaSet {
        schemas: vec![user, enterprise, group],
    }
}

pub(super) fn user() -> Value {
    json!({
        "schemas": [urn::USER],
        "id": "u1",
        "externalId": "ext-1",
        "userName": "bjensen@example.com",
        "active": true,
        "displayName": "Babs",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "meta": {"resourceType": "User"}
    })
}

pub(super) fn group() -> Value {
    json!({
        "schemas": [urn::GROUP, urn::ENTRA_GROUP],
        "id": "g1",
        "displayName": "Sales",
        "members": [{"value": "m1"}, {"value": "m2"}, {"value": "m3"}]
    })
}

pub(super) fn ops(v: Value) -> Vec<PatchOperation> {
    serde_json::from_value(v).expect("operations")
}

pub(super) fn patch_with(
    resource: &Value,
    core: &str,
    operations: Value,
    schemas: &SchemaSet,
) -> Result<Value, PatchError> {
    let mut r = resource.clone();
    apply_patch(&mut r, &ops(operations), schemas, core).map(|()| r)
}

pub(super) fn patch_user(operations: Value) -> Value {
    patch_with(&user(), urn::USER, operations, &schemas()).unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn patch_group(operations: Value) -> Value {
    patch_with(&group(), urn::GROUP, operations, &schemas()).unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn user_error(operations: Value) -> PatchError {
    let mut r = user();
    let e = apply_patch(&mut r, &ops(operations), &schemas(), urn::USER).expect_err("should fail");
    assert_eq!(
        r,
        user(),
        "a failed PATCH must leave the resource unchanged"
    );
    assert_eq!(e.status, 400);
    e
}

pub(super) fn member_ids(g: &Value) -> Vec<&str> {
    g["members"].as_array().map_or(vec![], |m| {
        m.iter().map(|m| m["value"].as_str().unwrap()).collect()
    })
}
