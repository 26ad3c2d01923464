//! The storage layer: quirks that change what is stored and what a search finds. The store calls
//! it between reading a request and storing the result; the routes delete and search through it.

use serde_json::{Map, Value, json};

use super::{Quirk, QuirkSet};
use crate::scim::filter::Filter;
use crate::scim::json::get_ci_mut;
use crate::scim::path::AttrPath;
use crate::server::project::is_extension_key;
use crate::server::store::{Kind, Store, clean};

/// Longest string `truncates-long-values` stores.
const MAX_STORED_CHARS: usize = 100;

/// `extension-needs-schemas-entry`: on create, drops the extension objects whose URN `schemas`
/// does not list.
pub(crate) fn on_create(q: &QuirkSet, obj: &mut Map<String, Value>) {
    if q.has(Quirk::ExtensionNeedsSchemasEntry) {
        drop_undeclared_extensions(obj);
    }
}

/// `drops-attribute` (and `unpublished-nickname`), `mangles-non-ascii`, `truncates-long-values`,
/// `ignores-username-change`: what a buggy storage does to the client-controlled part of a
/// create, PUT or PATCH (`old`: the resource before a PUT or PATCH), before the store's checks.
pub(crate) fn distort(q: &QuirkSet, kind: Kind, obj: &mut Map<String, Value>, old: Option<&Value>) {
    for path in &q.dropped {
        drop_attribute(obj, path, kind.core_urn());
    }
    let (ascii_only, truncate) = (
        q.has(Quirk::ManglesNonAscii),
        q.has(Quirk::TruncatesLongValues),
    );
    if ascii_only || truncate {
        for (k, v) in obj.iter_mut() {
            if !k.eq_ignore_ascii_case("schemas") {
                narrow_strings(v, ascii_only, truncate);
            }
        }
    }
    if kind == Kind::User
        && q.has(Quirk::IgnoresUsernameChange)
        && let Some(old_name) = old.and_then(|o| o.get("userName"))
    {
        obj.retain(|k, _| !k.eq_ignore_ascii_case("userName"));
        obj.insert("userName".into(), old_name.clone());
    }
}

/// `no-duplicate-check`: whether unique names are enforced.
pub(crate) fn checks_uniqueness(q: &QuirkSet) -> bool {
    !q.has(Quirk::NoDuplicateCheck)
}

/// `numeric-id`: the next id from `counter`, as stored and as answered (a JSON number); `None`
/// for the store's own ids.
pub(crate) fn numeric_id(q: &QuirkSet, counter: &mut u64) -> Option<(String, Value)> {
    if !q.has(Quirk::NumericId) {
        return None;
    }
    *counter += 1;
    Some((counter.to_string(), json!(*counter)))
}

/// `drops-patch-changes`: whether a PATCH is answered as applied but not stored.
pub(crate) fn drops_patch_changes(q: &QuirkSet) -> bool {
    q.has(Quirk::DropsPatchChanges)
}

/// `disable-deletes-user`: whether this PATCH (from `old` to `new`) deletes the user, because it
/// disables them.
pub(crate) fn deletes_on_disable(
    q: &QuirkSet,
    kind: Kind,
    old: &Value,
    new: &Map<String, Value>,
) -> bool {
    let disabled = kind == Kind::User
        && new.get("active") == Some(&Value::Bool(false))
        && old.get("active") != Some(&Value::Bool(false));
    disabled && q.has(Quirk::DisableDeletesUser)
}

/// DELETE, through `deleted-still-filtered`: a deleted user stays in the stale search index that
/// filters read ([`candidates`]). `false` when there is no such resource.
pub(crate) fn delete(q: &QuirkSet, store: &mut Store, kind: Kind, id: &str) -> bool {
    let ghost = (q.has(Quirk::DeletedStillFiltered) && keeps_ghosts(kind))
        .then(|| store.get(kind, id).cloned())
        .flatten();
    let deleted = store.delete(kind, id);
    store.ghosts.extend(ghost);
    deleted
}

/// The resources a search looks at: the store's candidates, plus (under
/// `deleted-still-filtered`, when there is a filter) the deleted users a stale index still holds.
pub(crate) fn candidates<'a>(
    q: &QuirkSet,
    store: &'a Store,
    kind: Kind,
    filter: Option<&Filter>,
) -> Vec<&'a Value> {
    let mut found = store.candidates(kind, filter);
    if filter.is_some() && q.has(Quirk::DeletedStillFiltered) && keeps_ghosts(kind) {
        found.extend(&store.ghosts);
    }
    found
}

/// `deleted-still-filtered`: the resource kinds whose deleted resources stay in filter results.
fn keeps_ghosts(kind: Kind) -> bool {
    kind == Kind::User
}

/// Removes the attribute at `path` (`drops-attribute` quirk).
fn drop_attribute(obj: &mut Map<String, Value>, path: &AttrPath, core: &str) {
    let container = match &path.urn {
        Some(u) if !u.eq_ignore_ascii_case(core) => match get_ci_mut(obj, u) {
            Some(Value::Object(inner)) => inner,
            _ => return,
        },
        _ => obj,
    };
    match &path.sub {
        None => container.retain(|k, _| !k.eq_ignore_ascii_case(&path.name)),
        Some(sub) => match get_ci_mut(container, &path.name) {
            Some(Value::Object(o)) => o.retain(|k, _| !k.eq_ignore_ascii_case(sub)),
            Some(Value::Array(items)) => {
                for o in items.iter_mut().filter_map(Value::as_object_mut) {
                    o.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
            }
            _ => {}
        },
    }
    let mut v = Value::Object(std::mem::take(obj));
    clean(&mut v);
    if let Value::Object(cleaned) = v {
        *obj = cleaned;
    }
}

/// `extension-needs-schemas-entry`: drops extension objects whose URN `schemas` does not list.
fn drop_undeclared_extensions(obj: &mut Map<String, Value>) {
    let declared: Vec<String> = obj
        .get("schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_ascii_lowercase)
        .collect();
    obj.retain(|k, v| !is_extension_key(k, v) || declared.contains(&k.to_ascii_lowercase()));
}

/// `mangles-non-ascii` and `truncates-long-values`: what a narrow database column does to every
/// stored string (`schemas` and attribute names are left alone).
fn narrow_strings(v: &mut Value, ascii_only: bool, truncate: bool) {
    match v {
        Value::String(s) => {
            if ascii_only && !s.is_ascii() {
                *s = s
                    .chars()
                    .map(|c| if c.is_ascii() { c } else { '?' })
                    .collect();
            }
            if truncate && s.chars().count() > MAX_STORED_CHARS {
                *s = s.chars().take(MAX_STORED_CHARS).collect();
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| narrow_strings(v, ascii_only, truncate)),
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if !k.eq_ignore_ascii_case("schemas") {
                    narrow_strings(v, ascii_only, truncate);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_columns_mangle_and_cut_strings_but_not_schemas() {
        let mut v =
            json!({"schemas": ["urn:é"], "name": {"givenName": "Zoë"}, "t": "x".repeat(120)});
        narrow_strings(&mut v, true, true);
        assert_eq!(v["schemas"][0], "urn:é");
        assert_eq!(v["name"]["givenName"], "Zo?");
        assert_eq!(v["t"].as_str().unwrap().len(), MAX_STORED_CHARS);
    }
}
