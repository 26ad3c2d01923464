//! Entra's request shapes: which of the requests Entra sends (Test Connection probe, match,
//! create, read, each PATCH of each dialect, delete, schema discovery) a request is, from its
//! method, path (relative to the Tenant URL), query and body. Used to name exchanges seen by
//! `scimcheck proxy` and steps written by `scimcheck import`.

use serde_json::Value;

use super::dialect::{self, Dialect, NeutralPatch};
use super::filter::{Filter, parse_filter};

/// The collection a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// `/Users`.
    Users,
    /// `/Groups`.
    Groups,
    /// `/Schemas`.
    Schemas,
    /// `/ResourceTypes`.
    ResourceTypes,
    /// `/ServiceProviderConfig`.
    ServiceProviderConfig,
}

impl Collection {
    /// The collection of a path's first segment (case-insensitive), e.g. `/Users/1` -> Users.
    pub fn of_path(path: &str) -> Option<(Collection, Option<&str>)> {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut segments = path.trim_start_matches('/').splitn(2, '/');
        let first = segments.next()?;
        let rest = segments
            .next()
            .map(|r| r.trim_end_matches('/'))
            .filter(|r| !r.is_empty());
        let c = [
            ("Users", Collection::Users),
            ("Groups", Collection::Groups),
            ("Schemas", Collection::Schemas),
            ("ResourceTypes", Collection::ResourceTypes),
            ("ServiceProviderConfig", Collection::ServiceProviderConfig),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(first))?
        .1;
        Some((c, rest))
    }

    /// `user`, `group`, ... as used in labels.
    pub fn noun(self) -> &'static str {
        match self {
            Collection::Users => "user",
            Collection::Groups => "group",
            Collection::Schemas => "schemas",
            Collection::ResourceTypes => "resource types",
            Collection::ServiceProviderConfig => "service provider config",
        }
    }

    /// The path segment: `Users`, `Groups`, ...
    pub fn segment(self) -> &'static str {
        match self {
            Collection::Users => "Users",
            Collection::Groups => "Groups",
            Collection::Schemas => "Schemas",
            Collection::ResourceTypes => "ResourceTypes",
            Collection::ServiceProviderConfig => "ServiceProviderConfig",
        }
    }
}

/// What a PATCH does, in Entra's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// `active` set to false.
    Disable,
    /// `active` set to true.
    Enable,
    /// Members added, nothing else.
    AddMembers,
    /// Members removed, nothing else.
    RemoveMembers,
    /// The manager set or removed (with anything else).
    Manager,
    /// Any other attribute change.
    Update,
    /// No operations at all.
    Empty,
}

impl PatchKind {
    fn of(p: &NeutralPatch) -> PatchKind {
        let only_set = p.add.is_empty()
            && p.remove.is_empty()
            && p.add_members.is_empty()
            && p.remove_members.is_empty()
            && p.ops.is_empty();
        let touches_manager = p
            .set
            .keys()
            .chain(p.add.keys())
            .chain(p.remove.iter())
            .any(|k| k.to_ascii_lowercase().ends_with("manager"));
        if only_set && p.set.len() == 1 && p.set.contains_key("active") {
            match p.set.get("active") {
                Some(Value::Bool(false)) => return PatchKind::Disable,
                Some(Value::Bool(true)) => return PatchKind::Enable,
                _ => {}
            }
        }
        let members_only = p.set.is_empty() && p.add.is_empty() && p.remove.is_empty();
        if members_only && !p.add_members.is_empty() && p.remove_members.is_empty() {
            PatchKind::AddMembers
        } else if members_only && p.add_members.is_empty() && !p.remove_members.is_empty() {
            PatchKind::RemoveMembers
        } else if touches_manager {
            PatchKind::Manager
        } else if p == &NeutralPatch::default() {
            PatchKind::Empty
        } else {
            PatchKind::Update
        }
    }

    fn describe(self) -> &'static str {
        match self {
            PatchKind::Disable => "disable",
            PatchKind::Enable => "enable",
            PatchKind::AddMembers => "member add",
            PatchKind::RemoveMembers => "member removal",
            PatchKind::Manager => "manager update",
            PatchKind::Update => "update",
            PatchKind::Empty => "empty PATCH",
        }
    }
}

/// One of Entra's request shapes (or none of them).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Test Connection: a filter on a random GUID (users), or the groups probe.
    TestConnection(Collection),
    /// A match before create: `filter=<attr> eq "<value>"` (groups with `excludedAttributes`).
    Match {
        /// The collection searched.
        collection: Collection,
        /// The attribute the filter matches on.
        attribute: String,
    },
    /// Any other list or filter read.
    List(Collection),
    /// POST of a new resource.
    Create(Collection),
    /// GET of one resource.
    Get(Collection),
    /// A PATCH in one of Entra's dialects (`dialects` has both for an empty PATCH).
    Patch {
        /// The collection of the patched resource.
        collection: Collection,
        /// What the PATCH does.
        kind: PatchKind,
        /// The dialects that render it exactly as sent.
        dialects: Vec<Dialect>,
        /// The PATCH, dialect-neutral.
        patch: Box<NeutralPatch>,
    },
    /// A PATCH that neither dialect renders.
    OtherPatch(Collection),
    /// DELETE of one resource.
    Delete(Collection),
    /// GET of a discovery document.
    Discovery(Collection),
    /// Anything else (PUT, /Bulk, /Me, other paths and methods).
    Other,
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

/// `attr eq "value"` of a filter that is exactly one equality comparison.
fn single_eq(filter: &str) -> Option<(String, String)> {
    match parse_filter(filter).ok()? {
        Filter::Compare { path, op, value } if op.as_str() == "eq" => {
            let attr = match &path.sub {
                Some(sub) => format!("{}.{sub}", path.name),
                None => path.name.clone(),
            };
            let v = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            Some((attr, v))
        }
        Filter::ValuePath {
            attr,
            filter,
            sub: Some((sub, op, value)),
        } if op.as_str() == "eq" => {
            let inner = match *filter {
                Filter::Compare { path, value, .. } => format!("{} eq {}", path.name, value),
                _ => return None,
            };
            Some((
                format!("{}[{inner}].{sub}", attr.name),
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_string),
            ))
        }
        _ => None,
    }
}

/// Recognises a request. `path` is relative to the Tenant URL (`/Users/1`); `query` holds the
/// decoded query parameters.
pub fn recognise(
    method: &str,
    path: &str,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Shape {
    let Some((collection, id)) = Collection::of_path(path) else {
        return Shape::Other;
    };
    let q = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let method = method.to_ascii_uppercase();
    let resource = matches!(collection, Collection::Users | Collection::Groups);
    match (method.as_str(), id, resource) {
        ("GET", _, false) => Shape::Discovery(collection),
        ("GET", None, true) => match q("filter").and_then(single_eq) {
            Some((_, value)) if is_guid(&value) => Shape::TestConnection(collection),
            Some((attribute, _)) => Shape::Match {
                collection,
                attribute,
            },
            None => Shape::List(collection),
        },
        ("GET", Some(_), true) => Shape::Get(collection),
        ("POST", None, true) => Shape::Create(collection),
        ("PATCH", Some(_), true) => match body.and_then(dialect::detect) {
            Some(d) => Shape::Patch {
                collection,
                kind: PatchKind::of(&d.patch),
                dialects: d.dialects,
                patch: Box::new(d.patch),
            },
            None => Shape::OtherPatch(collection),
        },
        ("DELETE", Some(_), true) => Shape::Delete(collection),
        _ => Shape::Other,
    }
}

impl Shape {
    /// A short stable name: `test-connection.users`, `user.match`, `user.disable`, ...
    pub fn id(&self) -> String {
        let slug = |s: &str| s.replace(' ', "-");
        match self {
            Shape::TestConnection(c) => format!("test-connection.{}", c.segment().to_lowercase()),
            Shape::Match { collection, .. } => format!("{}.match", collection.noun()),
            Shape::List(c) => format!("{}.list", c.noun()),
            Shape::Create(c) => format!("{}.create", c.noun()),
            Shape::Get(c) => format!("{}.get", c.noun()),
            Shape::Patch {
                collection, kind, ..
            } => format!("{}.{}", collection.noun(), slug(kind.describe())),
            Shape::OtherPatch(c) => format!("{}.patch", c.noun()),
            Shape::Delete(c) => format!("{}.delete", c.noun()),
            Shape::Discovery(c) => format!("discovery.{}", slug(c.noun())),
            Shape::Other => "other".into(),
        }
    }

    /// How a person would say it: `Entra's disable (default dialect)`, `a PATCH in neither of
    /// Entra's dialects`, ...
    pub fn label(&self) -> String {
        match self {
            Shape::TestConnection(c) => {
                format!(
                    "Entra's Test Connection probe ({})",
                    c.segment().to_lowercase()
                )
            }
            Shape::Match {
                collection,
                attribute,
            } => format!("Entra's {} match by {attribute}", collection.noun()),
            Shape::List(c) => format!("a {} list read", c.noun()),
            Shape::Create(c) => format!("Entra's {} create", c.noun()),
            Shape::Get(c) => format!("a {} read by id", c.noun()),
            Shape::Patch {
                collection,
                kind,
                dialects,
                ..
            } => {
                let dialect = match dialects.as_slice() {
                    [d] => format!(" ({} dialect)", d.as_str()),
                    _ => " (either dialect)".to_string(),
                };
                let what = match kind {
                    PatchKind::Update => format!("{} update", collection.noun()),
                    k => k.describe().to_string(),
                };
                format!("Entra's {what}{dialect}")
            }
            Shape::OtherPatch(c) => format!("a {} PATCH in neither of Entra's dialects", c.noun()),
            Shape::Delete(c) => format!("Entra's {} delete", c.noun()),
            Shape::Discovery(c) => format!("Entra's schema discovery ({})", c.segment()),
            Shape::Other => "not a request Entra sends".into(),
        }
    }

    /// The collection addressed, if any.
    pub fn collection(&self) -> Option<Collection> {
        match self {
            Shape::TestConnection(c)
            | Shape::List(c)
            | Shape::Create(c)
            | Shape::Get(c)
            | Shape::OtherPatch(c)
            | Shape::Delete(c)
            | Shape::Discovery(c) => Some(*c),
            Shape::Match { collection, .. } | Shape::Patch { collection, .. } => Some(*collection),
            Shape::Other => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn test_connection_match_and_create_are_told_apart() {
        let probe = recognise(
            "GET",
            "/Users",
            &q(&[(
                "filter",
                "userName eq \"7f3c0a52-2b5e-4a39-9d43-3a0a3d1e2f10\"",
            )]),
            None,
        );
        assert_eq!(probe.label(), "Entra's Test Connection probe (users)");
        let m = recognise(
            "GET",
            "/Users",
            &q(&[("filter", "userName eq \"a@b\"")]),
            None,
        );
        assert_eq!(m.label(), "Entra's user match by userName");
        let m = recognise(
            "GET",
            "/Users",
            &q(&[("filter", "emails[type eq \"work\"].value eq \"a@b\"")]),
            None,
        );
        assert_eq!(m.id(), "user.match");
        assert_eq!(recognise("POST", "/Groups", &[], None).id(), "group.create");
        assert_eq!(
            recognise("GET", "/Schemas", &[], None).id(),
            "discovery.schemas"
        );
        assert_eq!(recognise("PUT", "/Users/1", &[], None), Shape::Other);
    }

    #[test]
    fn patches_are_named_with_their_dialect() {
        let body = json!({"schemas": [crate::scim::urn::PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let s = recognise("PATCH", "/Users/1", &[], Some(&body));
        assert_eq!(s.label(), "Entra's disable (default dialect)");
        assert_eq!(s.id(), "user.disable");
        let body = json!({"schemas": [crate::scim::urn::PATCH_OP], "Operations": [{"op": "remove", "path": "members[value eq \"1\"]"}]});
        let s = recognise("PATCH", "/Groups/9", &[], Some(&body));
        assert_eq!(s.label(), "Entra's member removal (compliant dialect)");
        let body = json!({"schemas": [crate::scim::urn::PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": "False"}]});
        let s = recognise("PATCH", "/Users/1", &[], Some(&body));
        assert_eq!(s.label(), "a user PATCH in neither of Entra's dialects");
    }
}
