//! Resolving a PATCH path to its target: the attribute's home (top level or an extension, where
//! Entra's bare `manager` lives), its schema definition, and the object that holds it.

use serde_json::{Map, Value};

use super::apply::Patcher;
use super::extensions::{declared_schemas, is_urn};
use crate::scim::filter::{Filter, PatchPath};
use crate::scim::json::{get_ci, key_ci};
use crate::scim::schema::Attribute;
use crate::scim::urn;

/// A resolved PATCH target: `urn` is `None` for a top-level (core) attribute.
pub(super) struct Target<'a> {
    pub(super) urn: Option<String>,
    pub(super) name: String,
    pub(super) def: Option<&'a Attribute>,
    pub(super) filter: Option<Filter>,
    pub(super) sub: Option<String>,
}

impl Target<'_> {
    pub(super) fn sub_def(&self) -> Option<&Attribute> {
        self.def.and_then(|d| d.sub_attribute(self.sub.as_deref()?))
    }

    pub(super) fn is_manager(&self) -> bool {
        self.urn
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(urn::ENTERPRISE_USER))
            && self.name.eq_ignore_ascii_case("manager")
    }
}

impl<'a> Patcher<'a> {
    /// Where a bare attribute name lives: top level, unless only an extension has it
    /// (Entra's bare `manager` means the enterprise extension's).
    fn home_of(&self, work: &Map<String, Value>, name: &str) -> Option<String> {
        if get_ci(work, name).is_some() || self.def(None, name).is_some() {
            return None;
        }
        let holder = work
            .iter()
            .find(|(k, v)| is_urn(k) && v.as_object().is_some_and(|m| get_ci(m, name).is_some()));
        if let Some((key, _)) = holder {
            return Some(key.clone());
        }
        let is_user = self.core.eq_ignore_ascii_case(urn::USER);
        let enterprise = is_user.then_some(urn::ENTERPRISE_USER);
        let defining = declared_schemas(work)
            .chain(enterprise)
            .filter(|u| !u.eq_ignore_ascii_case(self.core))
            .filter_map(|u| self.schemas.get(u))
            .find(|s| s.attribute(name).is_some());
        match defining {
            Some(schema) => Some(schema.id.clone()),
            None if is_user && name.eq_ignore_ascii_case("manager") => {
                Some(urn::ENTERPRISE_USER.to_string())
            }
            None => None,
        }
    }

    pub(super) fn target(
        &self,
        work: &Map<String, Value>,
        parsed: PatchPath,
        ext: Option<&str>,
    ) -> Target<'a> {
        let PatchPath { attr, filter, sub } = parsed;
        let urn = match (ext, attr.urn) {
            (Some(ext), _) => Some(ext.to_string()),
            (None, Some(u)) if u.eq_ignore_ascii_case(self.core) => None,
            (None, Some(u)) => Some(self.extension_named(work, &u).unwrap_or(u)),
            (None, None) => self.home_of(work, &attr.name),
        };
        let def = self.def(urn.as_deref(), &attr.name);
        let name = def.map_or(attr.name, |d| d.name.clone());
        Target {
            urn,
            name,
            def,
            filter,
            sub,
        }
    }
}

/// The object holding the target's attribute: the resource, or its extension object.
pub(super) fn container_mut<'w>(
    work: &'w mut Map<String, Value>,
    urn: Option<&str>,
    create: bool,
) -> Option<&'w mut Map<String, Value>> {
    let Some(urn) = urn else {
        return Some(work);
    };
    let key = match key_ci(work, urn) {
        Some(key) => key.clone(),
        None if create => urn.to_string(),
        None => return None,
    };
    let slot = work.entry(key).or_insert(Value::Null);
    if !slot.is_object() {
        if !create {
            return None;
        }
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
}

/// The target attribute's current value, if assigned.
pub(super) fn current<'w>(work: &'w Map<String, Value>, t: &Target) -> Option<&'w Value> {
    let container = match &t.urn {
        None => work,
        Some(u) => get_ci(work, u)?.as_object()?,
    };
    get_ci(container, &t.name).filter(|v| !v.is_null())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::scim::urn;

    #[test]
    fn pathless_core_urn_key_means_top_level_and_bare_manager_key_means_the_extension() {
        let r = patch_user(json!([{"op": "replace", "value": {
            urn::USER: {"displayName": "Core"},
            "manager": "mgr-9"
        }}]));
        assert_eq!(r["displayName"], json!("Core"));
        assert!(r.get(urn::USER).is_none());
        assert_eq!(r[EXT], json!({"manager": {"value": "mgr-9"}}));
    }
}
