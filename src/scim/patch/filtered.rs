//! Operations on selected values of a multi-valued attribute (`emails[type eq "work"].value`),
//! creating the element when nothing matches a filter of `x eq "y"` terms, as Entra expects.

use serde_json::{Map, Value};

use super::apply::{Kind, Patcher};
use super::elements::{merge, strip_nulls};
use super::error::{PatchError, invalid_path, invalid_value};
use super::target::{Target, container_mut, current};
use crate::scim::filter::{self, CompareOp, Filter, MatchContext};
use crate::scim::json::key_ci;

impl<'a> Patcher<'a> {
    /// `add`/`replace` of `attr[filter]` or `attr[filter].sub`. With no matching element and a
    /// filter made of `x eq "y"` terms, the element is created (Entra's `emails[type eq "work"].value`).
    pub(super) fn set_filtered(
        &self,
        work: &mut Map<String, Value>,
        kind: Kind,
        t: &Target,
        filter: &Filter,
        sub: Option<&str>,
        value: Value,
    ) -> Result<(), PatchError> {
        if value.is_null() {
            return self.remove(work, t, None);
        }
        if current(work, t).is_some_and(|v| !v.is_array()) {
            return Err(invalid_path(format!(
                "`{}` is not multi-valued, so it cannot take a value filter",
                t.name
            )));
        }
        let cx = MatchContext {
            schemas: self.schemas,
            core_urn: self.core,
            force_case_exact: false,
        };
        let container = container_mut(work, t.urn.as_deref(), true).expect("created");
        let key = key_ci(container, &t.name)
            .cloned()
            .unwrap_or_else(|| t.name.clone());
        let slot = container.entry(key).or_insert(Value::Null);
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        let items = slot.as_array_mut().expect("array");
        // Sub-attribute names are case-insensitive (RFC 7643 2.1): Entra's `.Formatted` and
        // `.Value` land on the schema's `formatted` and `value`.
        let sub = sub.map(|s| t.sub_def().map_or(s, |d| d.name.as_str()));
        let mut hit = false;
        for element in items.iter_mut() {
            if !filter::matches_element(filter, element, t.urn.as_deref(), &t.name, &cx) {
                continue;
            }
            hit = true;
            match (sub, element, &value) {
                (Some(sub), Value::Object(fields), v) => {
                    merge(fields, Map::from_iter([(sub.to_string(), v.clone())]))
                }
                (Some(_), _, _) => {}
                (None, Value::Object(fields), Value::Object(new)) if kind == Kind::Add => {
                    merge(fields, new.clone())
                }
                (None, element, v) => {
                    *element = v.clone();
                    strip_nulls(element);
                }
            }
        }
        if hit {
            return Ok(());
        }
        let mut element = Map::new();
        if !filter_template(filter, &mut element) {
            return Err(PatchError::new(
                "noTarget",
                format!("no value of `{}` matches the filter `{filter}`", t.name),
            ));
        }
        match (sub, value) {
            (Some(sub), v) => merge(&mut element, Map::from_iter([(sub.to_string(), v)])),
            (None, Value::Object(fields)) => merge(&mut element, fields),
            (None, _) => {
                return Err(invalid_value(format!(
                    "a value of `{}` must be an object",
                    t.name
                )));
            }
        }
        items.push(Value::Object(element));
        Ok(())
    }
}

/// Collects the `x eq "y"` terms of a filter made only of such terms joined by `and`.
fn filter_template(filter: &Filter, out: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.urn.is_none() && path.sub.is_none() && !value.is_null() => {
            out.insert(path.name.clone(), value.clone());
            true
        }
        Filter::And(a, b) => filter_template(a, out) && filter_template(b, out),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::scim::urn;

    #[test]
    fn filtered_replace_creates_the_element_when_nothing_matches() {
        let mut u = user();
        u.as_object_mut().unwrap().remove("emails");
        let r = patch_with(
            &u,
            urn::USER,
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "x@example.com"}]),
            &schemas(),
        )
        .unwrap();
        assert_eq!(
            r["emails"],
            json!([{"type": "work", "value": "x@example.com"}])
        );

        let r = patch_user(json!([
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"},
            {"op": "Add", "path": "addresses[type eq \"work\"].region", "value": "WA"},
            {"op": "Add", "path": "emails[type eq \"home\" and primary eq false].value", "value": "h@x.org"}
        ]));
        assert_eq!(
            r["addresses"],
            json!([{"type": "work", "locality": "Redmond", "region": "WA"}])
        );
        assert_eq!(
            r["emails"][1],
            json!({"type": "home", "primary": false, "value": "h@x.org"})
        );
    }

    #[test]
    fn capitalised_sub_attributes_land_on_the_schema_names() {
        // Entra's default mappings send `emails[type eq "other"].Value` and
        // `addresses[type eq "other"].Formatted`: names are case-insensitive (RFC 7643 2.1).
        let r = patch_user(json!([
            {"op": "Add", "path": "emails[type eq \"other\"].Value", "value": "o@x.org"},
            {"op": "Add", "path": "emails[type eq \"work\"].Value", "value": "w@x.org"}
        ]));
        assert_eq!(
            r["emails"],
            json!([
                {"value": "w@x.org", "type": "work", "primary": true},
                {"type": "other", "value": "o@x.org"}
            ])
        );
    }

    #[test]
    fn filtered_replace_with_a_complex_filter_and_no_match_is_no_target() {
        let e = user_error(json!([
            {"op": "replace", "path": "emails[type eq \"home\" or type eq \"other\"].value", "value": "x"}
        ]));
        assert_eq!(e.scim_type, "noTarget");
    }

    #[test]
    fn filtered_replace_sets_the_sub_attribute_on_every_match() {
        let mut u = user();
        u["emails"] = json!([
            {"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}, {"value": "c@x", "type": "WORK"}
        ]);
        let r = patch_with(
            &u,
            urn::USER,
            json!([{"op": "replace", "path": "emails[type eq \"work\"].display", "value": "Work"}]),
            &schemas(),
        )
        .unwrap();
        let displays: Vec<_> = r["emails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.get("display"))
            .collect();
        assert_eq!(displays, [Some(&json!("Work")), None, Some(&json!("Work"))]);
    }

    #[test]
    fn filtered_replace_without_sub_replaces_matching_elements_and_add_merges() {
        let r = patch_user(json!([
            {"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "n@x", "type": "work"}}
        ]));
        assert_eq!(r["emails"], json!([{"value": "n@x", "type": "work"}]));
        let r = patch_user(
            json!([{"op": "add", "path": "emails[type eq \"work\"]", "value": {"display": "W"}}]),
        );
        assert_eq!(r["emails"][0]["display"], json!("W"));
        assert_eq!(r["emails"][0]["value"], json!("bjensen@example.com"));
    }

    #[test]
    fn remove_of_a_filtered_sub_attribute_removes_it_from_matching_elements() {
        let r = patch_user(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
        assert_eq!(
            r["emails"],
            json!([{"value": "bjensen@example.com", "type": "work"}])
        );
        let r = patch_user(json!([{"op": "remove", "path": "emails[type eq \"home\"].primary"}]));
        assert_eq!(r, user());
    }
}
