//! The scenarios a profile adds to a run, generated as scenario documents and loaded through
//! [`crate::scenario::load_str`] (so they get the same lint as hand-written files):
//!
//! - `profile-schema`: every mapped attribute exists in the server's `/Schemas` with a
//!   compatible type (`profile.schema.<attr>`), Entra's "discover schema" step;
//! - `profile-attributes`: match on the matching attribute, create a user with exactly the
//!   mapped attributes, read each one back (`profile.attr.readback.<attr>`), an `eq` filter per
//!   filterable attribute (`profile.filter.<attr>`), update every attribute in the run's PATCH
//!   dialect, read each one back again (`profile.attr.readback-update.<attr>`);
//! - `profile-required`: a create without each required attribute is rejected with 400 when the
//!   server declares it required (`profile.required.<attr>`; skipped with a note otherwise).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::scenario::Loaded;
use crate::scenario::template::ProfileValues;
use crate::scim::schema::Returned;
use crate::scim::urn;

use super::discover::{Discovery, Lookup};
use super::load::rfc_attribute;
use super::model::{AttrKind, Mapped, Profile};
use super::values::{identifies, realistic, references_a_user, unique_template};

/// The scenarios and template values a profile adds to a run.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Loaded scenarios, in the order they should run.
    pub scenarios: Vec<Loaded>,
    /// `{{ profile.* }}` values and the skip reasons of checks that cannot apply.
    pub values: ProfileValues,
}

/// Create (0) or update (1).
const CREATE: usize = 0;
const UPDATE: usize = 1;

fn var_name(a: &Mapped, variant: usize) -> String {
    format!(
        "{}_{}",
        ["c", "u"][variant],
        a.target.slug().replace('-', "_")
    )
}

fn ref_name(a: &Mapped, variant: usize) -> String {
    format!("ref_{}_{}", a.target.slug().replace('-', "_"), variant + 1)
}

/// The template that stands for the attribute's value in a step.
fn value_ref(a: &Mapped, variant: usize) -> Value {
    if references_a_user(a) {
        Value::String(format!("{{{{ {} }}}}", ref_name(a, variant)))
    } else {
        Value::String(format!("{{{{ {} }}}}", var_name(a, variant)))
    }
}

/// What goes into a resource body for the attribute: the value, or `{value: id}` for a
/// reference held in a complex attribute (`manager`).
fn body_value(a: &Mapped, value: Value) -> Value {
    let complex = rfc_attribute(&a.target).is_some_and(|(attr, sub)| {
        sub.is_none() && attr.kind == crate::scim::schema::AttrType::Complex
    });
    if references_a_user(a) && complex {
        json!({ "value": value })
    } else {
        value
    }
}

/// The value as it appears in a filter: quoted for strings, bare for booleans and numbers.
fn filter_literal(a: &Mapped, value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match a.kind {
        AttrKind::Boolean | AttrKind::Integer | AttrKind::Decimal => text,
        _ => format!("\"{text}\""),
    }
}

fn filter_eq(a: &Mapped, variant: usize) -> String {
    format!(
        "{} eq {}",
        a.path,
        filter_literal(a, &value_ref(a, variant))
    )
}

/// Whether a read-back can see the attribute (`password` is never returned).
fn readable(a: &Mapped) -> bool {
    !rfc_attribute(&a.target).is_some_and(|(attr, sub)| {
        sub.unwrap_or(attr).returned == Returned::Never || attr.returned == Returned::Never
    })
}

/// The `schemas` of a user with these attributes: core, plus every extension URN used.
fn schemas_for(attrs: &[&Mapped]) -> Value {
    let mut out = vec![urn::USER.to_string()];
    for a in attrs {
        if let Some(u) = &a.target.urn
            && !out.iter().any(|o| o.eq_ignore_ascii_case(u))
        {
            out.push(u.clone());
        }
    }
    json!(out)
}

/// A user body with the given attributes, each value from `value`.
fn user_body(attrs: &[&Mapped], value: impl Fn(&Mapped) -> Value) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("schemas".into(), schemas_for(attrs));
    for a in attrs {
        a.target.insert(&mut body, body_value(a, value(a)));
    }
    body
}

fn fmt_path(path: &str) -> String {
    format!("`{path}`")
}

/// Turns a scenario document into a loaded scenario; a failure is a bug in this module.
fn load(profile: &Profile, part: &str, doc: Value) -> Loaded {
    let text = serde_json::to_string_pretty(&doc).expect("a JSON value serialises");
    let file = format!("{}#{part}", profile.file);
    let mut loaded = crate::scenario::load_str(&file, &text, profile.builtin).unwrap_or_else(|d| {
        let all: Vec<String> = d.iter().map(ToString::to_string).collect();
        panic!(
            "the generated {part} scenario of profile {} is invalid:\n{}\n{text}",
            profile.name,
            all.join("\n")
        )
    });
    loaded.builtin = profile.builtin;
    loaded
}

/// The `/Schemas` checks: one per mapped attribute.
fn schema_scenario(profile: &Profile, discovery: &Discovery) -> Value {
    let app = &profile.app;
    let mut steps = Vec::new();
    if let Some(why) = &discovery.unavailable {
        steps.push(json!({
            "name": "The server publishes /Schemas",
            "id": "profile.schema.discovery",
            "severity": "warn",
            "proves": "GET /Schemas answers a ListResponse of schemas, so the mapping can be compared with what the app publishes",
            "hint": format!("{why}. Without /Schemas, scimcheck cannot check the {app} mapping against the attributes the app publishes, and Entra's schema discovery (used by gallery apps to add attributes) finds nothing."),
            "request": { "method": "GET", "path": "/Schemas" },
            "expect": { "status": 200, "schema": "ListResponse" },
        }));
    } else {
        for a in &profile.attributes {
            let kinds: Vec<&str> = a.kind.compatible_scim_types().to_vec();
            let assert = match discovery.lookup(&a.target) {
                Lookup::Found { pointer, .. } if pointer.is_empty() => vec![],
                Lookup::Found { pointer, name, .. } => vec![
                    json!({ "pointer": format!("{pointer}/name"), "equals": name }),
                    json!({ "pointer": format!("{pointer}/type"), "one_of": kinds }),
                ],
                Lookup::NoSchema { ids, urn } => {
                    vec![json!({ "pointer": ids, "contains": urn })]
                }
                Lookup::NoAttribute { names, name } => {
                    vec![json!({ "pointer": names, "contains": name })]
                }
                Lookup::NoSubAttribute { names, sub } => {
                    vec![json!({ "pointer": names, "contains": sub })]
                }
            };
            let mut expect = json!({ "status": 200 });
            if !assert.is_empty() {
                expect["assert"] = json!(assert);
            }
            steps.push(json!({
                "name": format!("/Schemas defines {} ({})", fmt_path(&a.path), a.kind),
                "id": format!("profile.schema.{}", a.target.slug()),
                "proves": format!("the server's /Schemas defines the mapped target attribute {} with a type that holds a {} value", fmt_path(&a.path), a.kind),
                "hint": format!("The {app} mapping sends {}, but the app's /Schemas does not define it (or gives it an incompatible type). Entra's schema discovery lists only published attributes as targets, and values sent to an attribute the app does not know are dropped or rejected on every cycle. Publish the attribute in /Schemas with a compatible type ({}), or remove it from the mapping.", fmt_path(&a.path), kinds.join(", ")),
                "request": { "method": "GET", "path": "/Schemas" },
                "expect": expect,
            }));
        }
    }
    json!({
        "id": "profile-schema",
        "name": format!("{app} mapping: schema discovery"),
        "description": format!("Every attribute of the {app} mapping exists in the server's /Schemas with a compatible type."),
        "entra": "Schema discovery: Entra reads /Schemas when a provisioning configuration is saved or opened, and offers only published attributes as mapping targets.",
        "tags": ["users", "profile", "discovery", "read-only"],
        "steps": steps,
    })
}

/// Create, read back, filter, update, read back again.
fn attribute_scenario(profile: &Profile) -> Value {
    let app = &profile.app;
    let matching = profile.matching_attribute();
    let attrs: Vec<&Mapped> = profile.attributes.iter().collect();
    let mut vars = Map::new();
    for a in &attrs {
        if references_a_user(a) {
            continue;
        }
        for variant in [CREATE, UPDATE] {
            let v = if identifies(a, &profile.matching) {
                json!(unique_template(a))
            } else {
                realistic(a, variant)
            };
            vars.insert(var_name(a, variant), v);
        }
    }
    let created = user_body(&attrs, |a| value_ref(a, CREATE));
    let updated = user_body(&attrs, |a| value_ref(a, UPDATE));
    let mut steps = Vec::new();
    steps.push(json!({
        "name": format!("Match on {} before create", matching.path),
        "id": "profile.match",
        "proves": format!("GET /Users?filter={} eq \"<new value>\" answers 200 with an empty ListResponse", matching.path),
        "hint": format!("Entra matches {app} users on {} before every create. Anything but 200 with an empty ListResponse stops the create (or makes Entra update the wrong user).", fmt_path(&matching.path)),
        "request": { "method": "GET", "path": "/Users", "query": { "filter": filter_eq(matching, CREATE) } },
        "expect": { "status": 200, "schema": "ListResponse", "body": { "totalResults": 0 } },
    }));
    // Users that Reference targets (`manager`) point at, one per variant.
    for a in attrs.iter().filter(|a| references_a_user(a)) {
        for variant in [CREATE, UPDATE] {
            let helper = helper_user_body(profile);
            steps.push(json!({
                "name": format!("Create the user {} points at ({})", a.path, ["before create", "before update"][variant]),
                "id": format!("profile.reference.{}.{}", a.target.slug(), variant + 1),
                "proves": "POST /Users creates the user a Reference attribute will point at",
                "request": { "method": "POST", "path": "/Users", "body": helper },
                "expect": { "status": 201 },
                "capture": { ref_name(a, variant): "/id" },
                "cleanup": { "method": "DELETE", "path": format!("/Users/{{{{ {} }}}}", ref_name(a, variant)) },
            }));
        }
    }
    steps.push(json!({
        "name": format!("Create a user with every {app} attribute"),
        "id": "profile.create",
        "proves": format!("POST /Users with exactly the attributes of the {app} mapping answers 201 with a User"),
        "hint": format!("This is the body Entra sends to {app} for a new user: the mapped attributes and nothing else. A rejection means no user is ever provisioned; read the server's detail for the attribute it objects to."),
        "request": { "method": "POST", "path": "/Users", "body": Value::Object(created.clone()) },
        "expect": { "status": 201, "schema": "User" },
        "capture": { "user_id": "/id" },
        "cleanup": { "method": "DELETE", "path": "/Users/{{ user_id }}" },
    }));
    for a in attrs.iter().filter(|a| readable(a)) {
        steps.push(readback(profile, a, &created, CREATE));
    }
    let mut filterable: Vec<&&Mapped> = attrs.iter().filter(|a| a.filterable).collect();
    filterable.sort_by_key(|a| a.path != profile.matching);
    for a in filterable {
        let unique = identifies(a, &profile.matching);
        let (filter, miss) = if unique {
            (filter_eq(a, CREATE), None)
        } else {
            let and = filter_eq(matching, CREATE);
            (
                format!("{} and {and}", filter_eq(a, CREATE)),
                Some(format!("{} and {and}", filter_eq(a, UPDATE))),
            )
        };
        steps.push(json!({
            "name": format!("Filter on {}", a.path),
            "id": format!("profile.filter.{}", a.target.slug()),
            "proves": format!("GET /Users?filter={} eq <value> finds exactly the created user", a.path),
            "hint": format!("{app} marks {} as supported for filtering: Entra finds users with an `eq` filter on it (matching). A filter that misses the user makes Entra create a duplicate; one that returns other users makes it update the wrong one.", fmt_path(&a.path)),
            "request": { "method": "GET", "path": "/Users", "query": { "filter": filter } },
            "expect": {
                "status": 200,
                "schema": "ListResponse",
                "body": { "totalResults": 1 },
                "assert": [{ "pointer": "/Resources/0/id", "equals": "{{ user_id }}" }],
            },
        }));
        if let Some(miss) = miss {
            steps.push(json!({
                "name": format!("Filter on {} with another value", a.path),
                "id": format!("profile.filter.{}.miss", a.target.slug()),
                "proves": format!("an `eq` filter on {} with a value the user does not have finds nothing (the comparison is really evaluated)", a.path),
                "hint": format!("A server that ignores the {} comparison answers every filter on it with the wrong users.", fmt_path(&a.path)),
                "request": { "method": "GET", "path": "/Users", "query": { "filter": miss } },
                "expect": { "status": 200, "schema": "ListResponse", "body": { "totalResults": 0 } },
            }));
        }
    }
    let mut set = Map::new();
    for a in &attrs {
        set.insert(a.path.clone(), value_ref(a, UPDATE));
    }
    steps.push(json!({
        "name": format!("Update every {app} attribute"),
        "id": "profile.update",
        "proves": "PATCH /Users/{id} replacing every mapped attribute (in the run's Entra dialect) answers 200 or 204",
        "hint": format!("This is how Entra sends a change to any of the {app} attributes. A rejection means changes in Entra never reach the app; read the server's detail for the operation it objects to."),
        "patch": { "resource": "/Users/{{ user_id }}", "set": set },
        "expect": { "status": [200, 204] },
    }));
    for a in attrs.iter().filter(|a| readable(a)) {
        steps.push(readback(profile, a, &updated, UPDATE));
    }
    steps.push(json!({
        "name": format!("Match on {} after update", matching.path),
        "id": "profile.match.after-update",
        "proves": format!("an `eq` filter on {} with its new value finds the updated user", matching.path),
        "hint": format!("On the next cycle Entra matches the user on the new {} value; if the filter misses it, Entra creates a duplicate.", fmt_path(&matching.path)),
        "request": { "method": "GET", "path": "/Users", "query": { "filter": filter_eq(matching, UPDATE) } },
        "expect": {
            "status": 200,
            "schema": "ListResponse",
            "body": { "totalResults": 1 },
            "assert": [{ "pointer": "/Resources/0/id", "equals": "{{ user_id }}" }],
        },
    }));
    json!({
        "id": "profile-attributes",
        "name": format!("{app} mapping: attributes"),
        "description": format!("Every attribute of the {app} mapping is stored and returned exactly as sent, after create and after update; filterable attributes answer eq filters."),
        "entra": format!("Provisioning one user to {app} with its attribute mapping: match on {}, create with every mapped attribute, update every mapped attribute, and match again.", matching.path),
        "tags": ["users", "profile", "write"],
        "vars": vars,
        "steps": steps,
    })
}

/// A user Reference targets point at: a fresh userName plus every required attribute.
fn helper_user_body(profile: &Profile) -> Value {
    let mut attrs: Vec<&Mapped> = profile
        .attributes
        .iter()
        .filter(|a| a.required && !references_a_user(a))
        .collect();
    let username = profile
        .attributes
        .iter()
        .find(|a| a.target.urn.is_none() && a.target.name.eq_ignore_ascii_case("userName"));
    if let Some(u) = username
        && !attrs.contains(&u)
    {
        attrs.push(u);
    }
    let mut body = user_body(&attrs, |a| fresh_value(profile, a));
    if username.is_none() {
        body.insert("userName".into(), json!("{{ unique.userName }}"));
    }
    Value::Object(body)
}

/// A literal value, or a fresh identifying template (new on every use).
fn fresh_value(profile: &Profile, a: &Mapped) -> Value {
    if identifies(a, &profile.matching) {
        json!(unique_template(a))
    } else {
        realistic(a, CREATE)
    }
}

fn readback(profile: &Profile, a: &Mapped, body: &Map<String, Value>, variant: usize) -> Value {
    let app = &profile.app;
    let expected = a
        .target
        .expectation(body, &body_value(a, value_ref(a, variant)));
    let (when, id) = match variant {
        CREATE => ("create", "readback"),
        _ => ("update", "readback-update"),
    };
    json!({
        "name": format!("Read back {} after {when}", a.path),
        "id": format!("profile.attr.{id}.{}", a.target.slug()),
        "proves": format!("GET /Users/{{id}} returns {} exactly as the {when} sent it", fmt_path(&a.path)),
        "hint": format!("Entra sends {} to {app} on every create and update. A value that is dropped or changed differs from Entra's on every cycle: Entra keeps re-sending it and {app} never holds the right data. Store it and return it exactly as sent.", fmt_path(&a.path)),
        "request": { "method": "GET", "path": "/Users/{{ user_id }}" },
        "expect": { "status": 200, "body": expected },
    })
}

/// A create without each required attribute must fail when the server declares it required.
fn required_scenario(
    profile: &Profile,
    discovery: &Discovery,
    skips: &mut HashMap<String, String>,
) -> Option<Value> {
    let app = &profile.app;
    let required: Vec<&Mapped> = profile.attributes.iter().filter(|a| a.required).collect();
    if required.is_empty() {
        return None;
    }
    let mut steps = Vec::new();
    for r in required {
        let key = format!("required-{}", r.target.slug());
        if let Some(why) = &discovery.unavailable {
            skips.insert(
                key.clone(),
                format!(
                    "{why}, so nothing says the server requires {}",
                    fmt_path(&r.path)
                ),
            );
        } else if !discovery.declares_required(r) {
            skips.insert(
                key.clone(),
                format!("the server's /Schemas does not declare {} required, so a create without it need not fail", fmt_path(&r.path)),
            );
        }
        let others: Vec<&Mapped> = profile
            .attributes
            .iter()
            .filter(|a| a.path != r.path && !references_a_user(a))
            .collect();
        let body = user_body(&others, |a| fresh_value(profile, a));
        steps.push(json!({
            "name": format!("A create without {} is rejected", r.path),
            "id": format!("profile.required.{}", r.target.slug()),
            "proves": format!("POST /Users without {}, which the server declares required in /Schemas, answers 400", fmt_path(&r.path)),
            "hint": format!("{app} requires {} and says so in /Schemas, yet accepted a user without it. Entra relies on the error to report the user as failed (and the admin to fix the source attribute); a silently accepted incomplete user breaks {app} later.", fmt_path(&r.path)),
            "request": { "method": "POST", "path": format!("/Users{{{{ profile.skip.{key} }}}}"), "body": body },
            "expect": { "status": 400 },
        }));
    }
    Some(json!({
        "id": "profile-required",
        "name": format!("{app} mapping: required attributes"),
        "description": format!("A user missing an attribute {app} requires (and declares required in /Schemas) is rejected with 400."),
        "entra": "Creating a user whose source attribute is empty: Entra omits the target attribute, and the app must refuse the incomplete user.",
        "tags": ["users", "profile", "write"],
        "steps": steps,
    }))
}

/// The scenarios a profile adds to a run, given what the server's `/Schemas` said.
pub fn scenarios(profile: &Profile, discovery: &Discovery) -> Generated {
    let mut skips = HashMap::new();
    let mut scenarios = vec![
        load(profile, "schema", schema_scenario(profile, discovery)),
        load(profile, "attributes", attribute_scenario(profile)),
    ];
    if let Some(doc) = required_scenario(profile, discovery, &mut skips) {
        scenarios.push(load(profile, "required", doc));
    }
    let mut values = Map::new();
    values.insert("name".into(), json!(profile.name));
    values.insert("app".into(), json!(profile.app));
    values.insert("matching".into(), json!(profile.matching));
    Generated {
        scenarios,
        values: ProfileValues { values, skips },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Received;
    use crate::scim::schema::{SchemaSet, schema_resource};

    fn rfc_discovery() -> (Discovery, Value) {
        let resources: Vec<Value> = SchemaSet::builtin()
            .schemas
            .iter()
            .map(schema_resource)
            .collect();
        let body = json!({ "schemas": [urn::LIST_RESPONSE], "totalResults": resources.len(), "Resources": resources });
        (Discovery::from_reply(200, Some(&body)), body)
    }

    fn step<'a>(l: &'a Loaded, id: &str) -> &'a crate::scenario::Step {
        l.scenario
            .steps
            .iter()
            .map(|s| &s.value)
            .find(|s| s.id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no step {id}"))
    }

    #[test]
    fn the_create_body_holds_exactly_the_mapped_attributes() {
        let p = crate::profile::builtin("maptician").unwrap();
        let g = scenarios(&p, &rfc_discovery().0);
        let attrs = &g.scenarios[1];
        let body = step(attrs, "profile.create")
            .request
            .as_ref()
            .unwrap()
            .value
            .body
            .clone()
            .unwrap();
        let body = body.as_object().unwrap();
        let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "active",
                "addresses",
                "emails",
                "externalId",
                "name",
                "phoneNumbers",
                "schemas",
                "title",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "userName",
                "userType"
            ]
        );
        for a in &p.attributes {
            assert!(a.target.get(body).is_some(), "{} missing", a.path);
        }
        assert_eq!(
            body["addresses"],
            json!([{ "type": "work", "locality": "{{ c_addresses_work_locality }}", "region": "{{ c_addresses_work_region }}" }])
        );
        let set = &step(attrs, "profile.update")
            .patch
            .as_ref()
            .unwrap()
            .value
            .set;
        assert_eq!(
            set.len(),
            p.attributes.len(),
            "the update changes every mapped attribute"
        );
    }

    #[test]
    fn a_published_attribute_of_an_incompatible_type_fails_its_schema_check_naming_both_types() {
        let p = crate::profile::builtin("maptician").unwrap();
        let (discovery, mut body) = rfc_discovery();
        let g = scenarios(&p, &discovery);
        let Lookup::Found { pointer, .. } =
            discovery.lookup(&crate::profile::Target::parse("title").unwrap())
        else {
            panic!("title is published")
        };
        *body.pointer_mut(&format!("{pointer}/type")).unwrap() = json!("boolean");
        let received = Received {
            status: 200,
            headers: vec![("content-type".into(), "application/scim+json".into())],
            body: body.to_string(),
            truncated: false,
            retries: vec![],
        };
        let check = step(&g.scenarios[0], "profile.schema.title");
        let findings = crate::run::expect::check(
            &check.expect.as_ref().unwrap().value,
            &received,
            SchemaSet::builtin(),
            false,
            false,
        );
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0]
                .message
                .contains(r#"expected one of ["string","reference","binary"], got "boolean""#),
            "{}",
            findings[0].message
        );
        assert!(
            findings[0]
                .path
                .as_deref()
                .is_some_and(|p| p.ends_with(".type"))
        );
    }

    #[test]
    fn without_schemas_a_warning_replaces_the_schema_checks_and_required_checks_are_skipped() {
        let p = crate::profile::builtin("tap-app-security").unwrap();
        let g = scenarios(&p, &Discovery::from_reply(404, None));
        let schema = &g.scenarios[0];
        assert_eq!(schema.scenario.steps.len(), 1);
        assert_eq!(
            step(schema, "profile.schema.discovery").severity,
            crate::scenario::Severity::Warn
        );
        assert_eq!(g.values.skips.len(), 4, "{:?}", g.values.skips);
        assert!(g.values.skips["required-title"].contains("GET /Schemas answered 404"));
    }
}
