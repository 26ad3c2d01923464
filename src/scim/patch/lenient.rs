//! What Entra sends that a strict reading would refuse: string booleans (`"True"`, `"False"`)
//! where the schema says boolean, and the manager as a bare id, an object or a one-element array.

use serde_json::{Map, Value};

use super::error::{PatchError, invalid_value};
use crate::scim::json::get_ci;
use crate::scim::schema::{AttrType, Attribute};

/// Normalises a manager value: `"id"`, `{"value":"id","$ref":...}` or a one-element array of
/// that; `None` for an empty value (`""`, `null`, `{}`, `[]`), meaning remove the manager.
pub(super) fn manager_value(value: &Value) -> Result<Option<Value>, PatchError> {
    match value {
        Value::Null => Ok(None),
        Value::String(id) if id.trim().is_empty() => Ok(None),
        Value::String(_) => Ok(Some(Value::Object(Map::from_iter([(
            "value".to_string(),
            value.clone(),
        )])))),
        Value::Array(list) => match list.as_slice() {
            [] => Ok(None),
            [one] => manager_value(one),
            _ => Err(invalid_value(format!(
                "manager is single-valued, but {} values were sent",
                list.len()
            ))),
        },
        Value::Object(fields) => {
            let reference = get_ci(fields, "$ref").filter(|r| !r.is_null());
            match get_ci(fields, "value") {
                Some(Value::String(id)) if !id.trim().is_empty() => {
                    let mut manager =
                        Map::from_iter([("value".to_string(), Value::String(id.clone()))]);
                    if let Some(r) = reference {
                        manager.insert("$ref".into(), r.clone());
                    }
                    Ok(Some(Value::Object(manager)))
                }
                None | Some(Value::Null) | Some(Value::String(_)) if reference.is_none() => {
                    Ok(None)
                }
                _ => Err(invalid_value(
                    "manager needs a string `value` (the manager's id)",
                )),
            }
        }
        other => Err(invalid_value(format!(
            "manager must be an id or an object with `value`, not {other}"
        ))),
    }
}

/// Converts Entra's string booleans (`"True"`, `"false"`) where the schema says boolean, also
/// inside complex values. Without a definition, `active` and a sub-attribute `primary` are taken
/// as boolean. (`"$ref": null` and other nulls are dropped when values are stored.)
pub(super) fn coerce(
    value: &mut Value,
    def: Option<&Attribute>,
    name: &str,
    is_sub: bool,
) -> Result<(), PatchError> {
    let boolean = match def {
        Some(d) => d.kind == AttrType::Boolean,
        None if is_sub => name.eq_ignore_ascii_case("primary"),
        None => name.eq_ignore_ascii_case("active"),
    };
    match value {
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| coerce(v, def, name, is_sub)),
        Value::Null | Value::Bool(_) => Ok(()),
        Value::String(s) if boolean => {
            let b = match s.trim() {
                t if t.eq_ignore_ascii_case("true") => true,
                t if t.eq_ignore_ascii_case("false") => false,
                _ => {
                    return Err(invalid_value(format!(
                        "`{name}` is boolean, but `{s}` is neither true nor false"
                    )));
                }
            };
            *value = Value::Bool(b);
            Ok(())
        }
        _ if boolean => Err(invalid_value(format!(
            "`{name}` is boolean, but {value} is not"
        ))),
        Value::Object(fields) if !is_sub => fields
            .iter_mut()
            .try_for_each(|(k, v)| coerce(v, def.and_then(|d| d.sub_attribute(k)), k, true)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::scim::schema::SchemaSet;
    use crate::scim::urn;

    #[test]
    fn disable_user_default_dialect_sends_string_false() {
        let r = patch_user(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        assert_eq!(r["active"], json!(false));
        let r = patch_with(
            &r,
            urn::USER,
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
            &schemas(),
        );
        assert_eq!(r.unwrap()["active"], json!(true));
    }

    #[test]
    fn disable_user_compliant_dialect_sends_boolean() {
        let r = patch_user(json!([{"op": "replace", "path": "active", "value": false}]));
        assert_eq!(r["active"], json!(false));
    }

    #[test]
    fn string_booleans_work_without_any_schema() {
        let none = SchemaSet::default();
        let ops = json!([
            {"op": "Replace", "path": "active", "value": "FALSE"},
            {"op": "Add", "path": "roles", "value": [{"value": "Admin", "primary": "True"}]}
        ]);
        let r = patch_with(&user(), urn::USER, ops, &none).unwrap();
        assert_eq!(r["active"], json!(false));
        assert_eq!(r["roles"], json!([{"value": "Admin", "primary": true}]));
    }

    #[test]
    fn string_booleans_are_converted_inside_value_objects_and_arrays() {
        let r = patch_user(json!([
            {"op": "Add", "path": "roles", "value": [
                {"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"}
            ]},
            {"op": "Replace", "value": {"active": "false"}},
            {"op": "Replace", "path": "emails[type eq \"work\"].primary", "value": "False"},
            {"op": "Add", "path": "emails[type eq \"home\"]", "value": {"value": "b@home.org", "primary": "false"}}
        ]));
        assert_eq!(r["roles"][0]["primary"], json!(true));
        assert_eq!(r["active"], json!(false));
        assert_eq!(r["emails"][0]["primary"], json!(false));
        assert_eq!(
            r["emails"][1],
            json!({"type": "home", "value": "b@home.org", "primary": false})
        );
    }

    #[test]
    fn non_boolean_string_for_a_boolean_attribute_is_invalid_value() {
        assert_eq!(
            user_error(json!([{"op": "Replace", "path": "active", "value": "yes"}])).scim_type,
            "invalidValue"
        );
        let e = user_error(
            json!([{"op": "Add", "path": "roles", "value": [{"value": "A", "primary": "maybe"}]}]),
        );
        assert_eq!(e.scim_type, "invalidValue");
        assert_eq!(
            user_error(json!([{"op": "Replace", "path": "active", "value": 0}])).scim_type,
            "invalidValue"
        );
    }

    #[test]
    fn manager_as_a_bare_string_is_stored_as_an_object() {
        let r =
            patch_user(json!([{"op": "Add", "path": format!("{EXT}:manager"), "value": "mgr-1"}]));
        assert_eq!(r[EXT]["manager"], json!({"value": "mgr-1"}));
        assert_eq!(r["schemas"], json!([urn::USER, EXT]));
    }

    #[test]
    fn manager_as_a_one_element_array_on_a_bare_path_goes_to_the_extension() {
        let r = patch_user(json!([{"op": "Add", "path": "manager", "value": [
            {"$ref": "https://host/scim/Users/mgr-2", "value": "mgr-2"}
        ]}]));
        assert_eq!(
            r[EXT]["manager"],
            json!({"value": "mgr-2", "$ref": "https://host/scim/Users/mgr-2"})
        );
        assert!(r.get("manager").is_none());
        let r = patch_user(
            json!([{"op": "Add", "path": "manager", "value": {"$ref": null, "value": "mgr-3"}}]),
        );
        assert_eq!(r[EXT]["manager"], json!({"value": "mgr-3"}));
    }

    #[test]
    fn manager_can_be_replaced_and_removed_with_any_empty_value() {
        let with_manager =
            patch_user(json!([{"op": "Add", "path": format!("{EXT}:manager"), "value": "mgr-1"}]));
        let r = patch_with(
            &with_manager,
            urn::USER,
            json!([{"op": "Replace", "path": format!("{EXT}:manager"), "value": "mgr-2"}]),
            &schemas(),
        );
        assert_eq!(r.unwrap()[EXT]["manager"], json!({"value": "mgr-2"}));
        for empty in [
            json!(""),
            json!(null),
            json!({}),
            json!([]),
            json!({"value": ""}),
            json!([{"value": null}]),
        ] {
            let r = patch_with(
                &with_manager,
                urn::USER,
                json!([{"op": "Replace", "path": format!("{EXT}:manager"), "value": empty}]),
                &schemas(),
            )
            .unwrap();
            assert!(r.get(EXT).is_none(), "{empty}: {r}");
            assert_eq!(r["schemas"], json!([urn::USER]), "{empty}");
        }
        let r = patch_with(
            &with_manager,
            urn::USER,
            json!([{"op": "Remove", "path": "manager"}]),
            &schemas(),
        )
        .unwrap();
        assert!(r.get(EXT).is_none());
    }

    #[test]
    fn several_managers_are_invalid_value() {
        let e = user_error(
            json!([{"op": "Add", "path": "manager", "value": [{"value": "a"}, {"value": "b"}]}]),
        );
        assert_eq!(e.scim_type, "invalidValue");
    }
}
