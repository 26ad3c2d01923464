//! Evaluating a filter against a JSON resource: attribute names case-insensitive, string
//! comparisons case-exact only where the schema says so, multi-valued attributes matching when
//! any element does, and bare names found inside extensions the way Entra writes them.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::{CompareOp, Filter};
use crate::scim::json::{first_ci, get_ci};
use crate::scim::path::AttrPath;
use crate::scim::schema::{AttrType, Attribute, SchemaSet};

/// What `matches` needs besides the resource: schemas (for `caseExact`) and the core schema URN.
pub struct MatchContext<'a> {
    /// Schemas consulted for `caseExact`; may be empty (everything but `id`/`externalId` is then
    /// case-insensitive).
    pub schemas: &'a SchemaSet,
    /// The resource's core schema URN: a path qualified with it means a top-level attribute.
    pub core_urn: &'a str,
    /// Compare every string case-sensitively (a server quirk scimcheck can simulate).
    pub force_case_exact: bool,
}

/// Whether `resource` (a JSON object) satisfies `filter`.
pub fn matches(filter: &Filter, resource: &Value, cx: &MatchContext) -> bool {
    eval(filter, resource, Scope::Root, cx)
}

/// Whether one element of the multi-valued attribute `parent_name` (in the schema `parent_urn`,
/// `None` for the core schema) satisfies a value filter such as the `type eq "work"` of
/// `emails[type eq "work"]`.
pub(crate) fn matches_element(
    filter: &Filter,
    element: &Value,
    parent_urn: Option<&str>,
    parent_name: &str,
    cx: &MatchContext,
) -> bool {
    eval(
        filter,
        element,
        Scope::Element {
            urn: parent_urn,
            name: parent_name,
        },
        cx,
    )
}

/// Where attribute paths are resolved: the resource itself, or one element of a multi-valued
/// attribute (inside a value filter), identified for schema look-ups.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Root,
    Element { urn: Option<&'a str>, name: &'a str },
}

/// An attribute's value and its schema: `urn` is `None` for the core schema.
struct Resolved<'a> {
    value: &'a Value,
    urn: Option<&'a str>,
    def: Option<&'a Attribute>,
}

fn eval<'a>(filter: &'a Filter, node: &'a Value, scope: Scope<'a>, cx: &MatchContext<'a>) -> bool {
    match filter {
        Filter::And(a, b) => eval(a, node, scope, cx) && eval(b, node, scope, cx),
        Filter::Or(a, b) => eval(a, node, scope, cx) || eval(b, node, scope, cx),
        Filter::Not(a) => !eval(a, node, scope, cx),
        Filter::Present(path) => is_present_at(node, path, scope, cx),
        Filter::Compare { path, op, value } => compare_at(node, path, *op, value, scope, cx),
        Filter::ValuePath { attr, filter, sub } => {
            let Some(found) = resolve(node, attr, scope, cx) else {
                return false;
            };
            let element_scope = Scope::Element {
                urn: found.urn,
                name: &attr.name,
            };
            let check = |element: &'a Value| {
                eval(filter, element, element_scope, cx)
                    && sub.as_ref().is_none_or(|(name, op, value)| {
                        let path = AttrPath::simple(name);
                        compare_at(element, &path, *op, value, element_scope, cx)
                    })
            };
            match found.value {
                Value::Array(items) => items.iter().any(check),
                other => check(other),
            }
        }
    }
}

/// Finds the attribute `path.name` (ignoring `path.sub`) from `node` in `scope`.
fn resolve<'a>(
    node: &'a Value,
    path: &'a AttrPath,
    scope: Scope<'a>,
    cx: &MatchContext<'a>,
) -> Option<Resolved<'a>> {
    if let Scope::Element { urn, name } = scope {
        let def = attr_def(cx, urn, name).and_then(|d| d.sub_attribute(&path.name));
        let value = match node {
            Value::Object(map) => get_ci(map, &path.name)?,
            // A simple multi-valued attribute's elements are their own `value`.
            scalar if path.name.eq_ignore_ascii_case("value") => scalar,
            _ => return None,
        };
        return Some(Resolved { value, urn, def });
    }
    let map = node.as_object()?;
    let found = match path.urn.as_deref() {
        Some(urn) if !urn.eq_ignore_ascii_case(cx.core_urn) => {
            let (key, ext) = first_ci(map, urn)?;
            Some((get_ci(ext.as_object()?, &path.name)?, Some(key.as_str())))
        }
        explicit_core => match get_ci(map, &path.name) {
            Some(v) if !v.is_null() => Some((v, None)),
            // Entra writes `manager eq "id"`: look inside the extensions too.
            _ if explicit_core.is_none() => map
                .iter()
                .filter(|(k, _)| k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")))
                .find_map(|(k, ext)| {
                    Some((get_ci(ext.as_object()?, &path.name)?, Some(k.as_str())))
                }),
            _ => None,
        },
    }?;
    let (value, urn) = found;
    Some(Resolved {
        value,
        urn,
        def: attr_def(cx, urn, &path.name),
    })
}

fn attr_def<'a>(cx: &MatchContext<'a>, urn: Option<&str>, name: &str) -> Option<&'a Attribute> {
    cx.schemas.get(urn.unwrap_or(cx.core_urn))?.attribute(name)
}

/// Whether strings of the compared attribute are case-sensitive. The compared attribute is
/// `sub` of `def`, or `def` itself, or its `value` sub-attribute when `def` is complex.
fn case_exact(cx: &MatchContext, found: &Resolved, path: &AttrPath, scope: Scope) -> bool {
    if cx.force_case_exact {
        return true;
    }
    let compared = match (&path.sub, found.def) {
        (Some(sub), Some(def)) => def.sub_attribute(sub),
        (None, Some(def)) if def.kind == AttrType::Complex => def.sub_attribute("value"),
        (_, def) => def,
    };
    match compared {
        Some(attr) => attr.case_exact,
        // RFC 7643 section 3.1: `id` and `externalId` are caseExact, whatever the schema lists.
        None => {
            matches!(scope, Scope::Root)
                && found.urn.is_none()
                && path.sub.is_none()
                && (path.name.eq_ignore_ascii_case("id")
                    || path.name.eq_ignore_ascii_case("externalId"))
        }
    }
}

/// The leaf values a path designates: `sub` of the object (of each element), or the element
/// itself, or a complex value's `value` sub-attribute.
fn any_leaf<'a>(
    value: &'a Value,
    sub: Option<&str>,
    test: &mut dyn FnMut(&'a Value) -> bool,
) -> bool {
    let leaf_of = |v: &'a Value| -> Option<&'a Value> {
        match (v, sub) {
            (Value::Object(map), Some(sub)) => get_ci(map, sub),
            (Value::Object(map), None) => get_ci(map, "value"),
            (_, Some(_)) => None,
            (scalar, None) => Some(scalar),
        }
    };
    let mut check = |v: &'a Value| match leaf_of(v) {
        Some(Value::Array(items)) => items.iter().any(&mut *test),
        Some(leaf) => test(leaf),
        None => false,
    };
    match value {
        Value::Array(items) => items.iter().any(check),
        single => check(single),
    }
}

/// `pr`: present, not null, not an empty string, array or object.
fn has_value(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(has_value),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn is_present_at<'a>(
    node: &'a Value,
    path: &'a AttrPath,
    scope: Scope<'a>,
    cx: &MatchContext<'a>,
) -> bool {
    let Some(found) = resolve(node, path, scope, cx) else {
        return false;
    };
    match &path.sub {
        None => has_value(found.value),
        Some(sub) => any_leaf(found.value, Some(sub), &mut |v| has_value(v)),
    }
}

fn compare_at<'a>(
    node: &'a Value,
    path: &'a AttrPath,
    op: CompareOp,
    value: &Value,
    scope: Scope<'a>,
    cx: &MatchContext<'a>,
) -> bool {
    match (op, value) {
        // `eq null` means unassigned; `ne` is the negation of `eq`, also for absent attributes.
        (CompareOp::Eq, Value::Null) => return !is_present_at(node, path, scope, cx),
        (CompareOp::Ne, _) => return !compare_at(node, path, CompareOp::Eq, value, scope, cx),
        _ => {}
    }
    let Some(found) = resolve(node, path, scope, cx) else {
        return false;
    };
    let exact = case_exact(cx, &found, path, scope);
    any_leaf(found.value, path.sub.as_deref(), &mut |leaf| {
        compare_scalar(leaf, op, value, exact)
    })
}

/// Text of a scalar, used to compare strings with numbers or booleans written unquoted.
fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

fn fold(s: &str, exact: bool) -> Cow<'_, str> {
    if exact {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

fn compare_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// Compares one attribute value with the filter's value (`ne` is handled by the caller).
fn compare_scalar(attr: &Value, op: CompareOp, wanted: &Value, exact: bool) -> bool {
    use CompareOp::*;
    match (attr, wanted) {
        (Value::Number(a), Value::Number(b)) => compare_numbers(a, b).is_some_and(|o| match op {
            Eq => o.is_eq(),
            Gt => o.is_gt(),
            Ge => o.is_ge(),
            Lt => o.is_lt(),
            Le => o.is_le(),
            Ne | Co | Sw | Ew => false,
        }),
        (Value::Bool(a), Value::Bool(b)) => op == Eq && a == b,
        (Value::String(a), Value::String(b)) if matches!(op, Gt | Ge | Lt | Le) => {
            let o = fold(a, exact).as_ref().cmp(fold(b, exact).as_ref());
            match op {
                Gt => o.is_gt(),
                Ge => o.is_ge(),
                Lt => o.is_lt(),
                _ => o.is_le(),
            }
        }
        (Value::String(_), _) | (_, Value::String(_)) => {
            let (Some(a), Some(b)) = (text(attr), text(wanted)) else {
                return false;
            };
            // Only string-to-string comparisons honour caseExact; `True` vs true never does.
            let exact = exact && attr.is_string() && wanted.is_string();
            match op {
                Eq if a.is_ascii() && b.is_ascii() && !exact => a.eq_ignore_ascii_case(&b),
                Eq => fold(&a, exact) == fold(&b, exact),
                Co => fold(&a, exact).contains(fold(&b, exact).as_ref()),
                Sw => fold(&a, exact).starts_with(fold(&b, exact).as_ref()),
                Ew => fold(&a, exact).ends_with(fold(&b, exact).as_ref()),
                Ne | Gt | Ge | Lt | Le => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse_filter;
    use crate::scim::schema::{Attribute, Mutability, Returned, Schema, Uniqueness};
    use crate::scim::urn;
    use serde_json::json;

    fn attr(name: &str, kind: AttrType, case_exact: bool, subs: Vec<Attribute>) -> Attribute {
        Attribute {
            name: name.into(),
            kind,
            multi_valued: false,
            description: String::new(),
            required: false,
            canonical_values: vec![],
            case_exact,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            reference_types: vec![],
            sub_attributes: subs,
        }
    }

    fn schemas() -> SchemaSet {
        let s = |name: &str, exact: bool| attr(name, AttrType::String, exact, vec![]);
        let user = Schema {
            id: urn::USER.into(),
            name: "User".into(),
            description: String::new(),
            attributes: vec![
                s("id", true),
                s("externalId", true),
                s("userName", false),
                s("title", false),
                attr(
                    "emails",
                    AttrType::Complex,
                    false,
                    vec![s("value", false), s("type", false)],
                ),
                attr(
                    "x509Certificates",
                    AttrType::Complex,
                    false,
                    vec![s("value", true)],
                ),
            ],
        };
        let enterprise = Schema {
            id: urn::ENTERPRISE_USER.into(),
            name: "EnterpriseUser".into(),
            description: String::new(),
            attributes: vec![
                s("employeeNumber", true),
                attr("manager", AttrType::Complex, false, vec![s("value", true)]),
            ],
        };
        SchemaSet {
            schemas: vec![user, enterprise],
        }
    }

    fn user() -> Value {
        json!({
            "schemas": [urn::USER, urn::ENTERPRISE_USER],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "Jyoung",
            "userName": "Bjensen@Example.com",
            "active": true,
            "title": null,
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "x509Certificates": [{"value": "MIIDQzCCAqy"}],
            "meta": {"lastModified": "2011-05-13T04:42:34Z"},
            "loginCount": 42,
            urn::ENTERPRISE_USER: {"employeeNumber": "E7", "manager": {"value": "mgr-1"}}
        })
    }

    fn check_with(filter: &str, resource: &Value, schemas: &SchemaSet, force: bool) -> bool {
        let f = parse_filter(filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        matches(
            &f,
            resource,
            &MatchContext {
                schemas,
                core_urn: urn::USER,
                force_case_exact: force,
            },
        )
    }

    fn check(filter: &str) -> bool {
        check_with(filter, &user(), &schemas(), false)
    }
    #[test]
    fn string_equality_is_case_insensitive_by_default() {
        assert!(check("userName eq \"bjensen@example.com\""));
        assert!(check("USERNAME eq \"BJENSEN@EXAMPLE.COM\""));
        assert!(!check("userName eq \"bjensen\""));
        assert!(check("name.familyName eq \"jensen\""));
    }

    #[test]
    fn case_exact_attributes_compare_exactly() {
        assert!(check("externalId eq \"Jyoung\""));
        assert!(!check("externalId eq \"jyoung\""));
        assert!(!check("externalId eq jyoung"));
        assert!(!check("id eq \"2819C223-7F76-453A-919D-413861904646\""));
        assert!(check("x509Certificates eq \"MIIDQzCCAqy\""));
        assert!(!check("x509Certificates.value eq \"miidqzccaqy\""));
        assert!(!check(&format!(
            "{}:employeeNumber eq \"e7\"",
            urn::ENTERPRISE_USER
        )));
    }

    #[test]
    fn without_schemas_id_and_external_id_stay_case_exact_and_the_rest_is_not() {
        let none = SchemaSet::default();
        assert!(check_with(
            "userName eq \"BJENSEN@example.com\"",
            &user(),
            &none,
            false
        ));
        assert!(!check_with(
            "externalId eq \"jyoung\"",
            &user(),
            &none,
            false
        ));
        assert!(check_with(
            "externalId eq \"Jyoung\"",
            &user(),
            &none,
            false
        ));
    }

    #[test]
    fn force_case_exact_makes_every_string_comparison_exact() {
        assert!(!check_with(
            "userName eq \"bjensen@example.com\"",
            &user(),
            &schemas(),
            true
        ));
        assert!(check_with(
            "userName eq \"Bjensen@Example.com\"",
            &user(),
            &schemas(),
            true
        ));
    }

    #[test]
    fn unicode_strings_fold_case() {
        let r = json!({"displayName": "ÉLODIE"});
        assert!(check_with(
            "displayName eq \"élodie\"",
            &r,
            &schemas(),
            false
        ));
        assert!(check_with("displayName sw \"él\"", &r, &schemas(), false));
    }

    #[test]
    fn substring_operators() {
        assert!(check("userName co \"JENSEN@\""));
        assert!(check("userName sw \"bjen\""));
        assert!(check("userName ew \".COM\""));
        assert!(!check("userName sw \"jensen\""));
        assert!(!check("externalId co \"young\" and externalId co \"jy\""));
    }

    #[test]
    fn ordering_compares_numbers_numerically_and_strings_lexicographically() {
        assert!(check("loginCount gt 9"));
        assert!(check("loginCount ge 42 and loginCount le 42.0"));
        assert!(!check("loginCount lt 42"));
        assert!(check("meta.lastModified gt \"2011-05-13T04:42:33Z\""));
        assert!(!check("meta.lastModified lt \"2011-01-01T00:00:00Z\""));
        assert!(!check("active gt false"), "booleans have no order");
        assert!(!check("loginCount gt \"1\""), "no ordering across types");
    }

    #[test]
    fn booleans_and_numbers_compare_with_their_unquoted_or_quoted_forms() {
        assert!(check("active eq true"));
        assert!(check("active eq True"));
        assert!(!check("active eq false"));
        assert!(check("active eq \"True\""));
        assert!(check("loginCount eq \"42\""));
    }

    #[test]
    fn presence_ignores_null_and_empty_values() {
        assert!(check("userName pr"));
        assert!(!check("title pr"));
        assert!(!check("nickName pr"));
        assert!(check("emails pr"));
        assert!(check("emails.type pr"));
        assert!(!check("emails.display pr"));
        let r = json!({"roles": [], "nickName": "", "addresses": {}});
        for f in ["roles pr", "nickName pr", "addresses pr"] {
            assert!(!check_with(f, &r, &schemas(), false), "{f}");
        }
    }

    #[test]
    fn eq_null_means_unassigned_and_ne_is_the_negation_of_eq() {
        assert!(check("title eq null"));
        assert!(check("nickName eq null"));
        assert!(!check("userName eq null"));
        assert!(check("userName ne null"));
        assert!(check("nickName ne \"x\""));
        assert!(!check("userName ne \"BJENSEN@example.com\""));
    }

    #[test]
    fn multi_valued_attributes_match_if_any_element_matches() {
        assert!(check("emails eq \"babs@jensen.org\""));
        assert!(check("emails.value eq \"BJENSEN@example.com\""));
        assert!(check("emails.type eq \"home\""));
        assert!(!check("emails.value eq \"nobody@example.com\""));
        assert!(check(
            "schemas eq \"urn:ietf:params:scim:schemas:core:2.0:User\""
        ));
    }

    #[test]
    fn value_filters_select_elements() {
        assert!(check(
            "emails[type eq \"work\" and value co \"@example.com\"]"
        ));
        assert!(!check(
            "emails[type eq \"home\" and value co \"@example.com\"]"
        ));
        assert!(check("emails[type eq \"work\" and primary eq true]"));
        assert!(check(
            "emails[type eq \"work\"].value eq \"bjensen@example.com\""
        ));
        assert!(!check(
            "emails[type eq \"home\"].value eq \"bjensen@example.com\""
        ));
        assert!(check(
            "emails[type eq \"home\"].value ne \"bjensen@example.com\""
        ));
        assert!(check("emails[not (type eq \"work\")]"));
        assert!(!check("addresses[type eq \"work\"]"));
        assert!(check(
            "schemas[value sw \"urn:ietf:params:scim:schemas:extension\"]"
        ));
    }

    #[test]
    fn urn_qualified_paths_look_inside_the_extension_and_core_urn_means_top_level() {
        let e = urn::ENTERPRISE_USER;
        assert!(check(&format!("{e}:employeeNumber eq \"E7\"")));
        assert!(check(&format!(
            "{}:employeeNumber eq \"E7\"",
            e.to_uppercase()
        )));
        assert!(check(&format!("{e}:manager.value eq \"mgr-1\"")));
        assert!(check(&format!(
            "{}:userName eq \"bjensen@example.com\"",
            urn::USER
        )));
        assert!(!check(&format!("{}:employeeNumber eq \"E7\"", urn::USER)));
        assert!(!check("urn:example:other:2.0:User:employeeNumber pr"));
    }

    #[test]
    fn bare_names_are_also_found_inside_extensions() {
        assert!(check("manager eq \"mgr-1\""));
        assert!(
            !check("manager eq \"MGR-1\""),
            "manager.value is caseExact in the extension schema"
        );
        assert!(check("employeeNumber eq \"E7\""));
        assert!(check(
            "id eq \"2819c223-7f76-453a-919d-413861904646\" and manager eq \"mgr-1\""
        ));
    }

    #[test]
    fn entra_match_filters() {
        assert!(check("userName eq \"bjensen@example.com\""));
        assert!(check("externalId eq \"Jyoung\""));
        assert!(check(
            "emails[type eq \"work\"].value eq \"bjensen@example.com\""
        ));
        assert!(!check(
            "userName eq \"8c2b7a9e-1d3f-4c6b-9a1e-2f3d4c5b6a7e\""
        ));
    }

    #[test]
    fn logical_operators_combine() {
        assert!(check("userName pr and (title pr or active eq true)"));
        assert!(!check("not (userName pr)"));
        assert!(check("nickName pr or not (nickName pr)"));
    }

    #[test]
    fn matches_element_uses_the_parent_schema() {
        let cx = MatchContext {
            schemas: &schemas(),
            core_urn: urn::USER,
            force_case_exact: false,
        };
        let f = parse_filter("value eq \"MGR-1\"").unwrap();
        let element = json!({"value": "mgr-1"});
        assert!(!matches_element(
            &f,
            &element,
            Some(urn::ENTERPRISE_USER),
            "manager",
            &cx
        ));
        assert!(matches_element(&f, &element, None, "members", &cx));
    }
}
