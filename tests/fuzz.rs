//! Property-based fuzzing (proptest) of everything that parses or judges untrusted input: the
//! scenario loader, the SCIM filter and PATCH-path parsers, the response validator and the PATCH
//! engine. None of them may panic, whatever the input.
//!
//! `cargo test` runs a few hundred cases per property. For a long run:
//!
//! ```sh
//! SCIMCHECK_FUZZ_CASES=100000 cargo test --release --test integration fuzz::
//! ```

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

use scimcheck::scenario::load_str;
use scimcheck::scim::filter::{MatchContext, matches, parse_filter, parse_patch_path};
use scimcheck::scim::patch::{PatchOperation, apply_patch};
use scimcheck::scim::schema::SchemaSet;
use scimcheck::scim::urn;
use scimcheck::scim::validate::{Kind, validate};

/// Runs `test` on `cases` inputs from `strategy` (or `SCIMCHECK_FUZZ_CASES`), shrinking and
/// panicking with the smallest failing input. Panics inside `test` count as failures.
fn fuzz<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let cases = std::env::var("SCIMCHECK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
}

/// Names the SCIM code looks for, so generated input reaches deep paths, plus random words.
const WORDS: &[&str] = &[
    "schemas",
    "id",
    "externalId",
    "userName",
    "name",
    "givenName",
    "familyName",
    "formatted",
    "displayName",
    "nickName",
    "title",
    "active",
    "emails",
    "phoneNumbers",
    "addresses",
    "value",
    "type",
    "primary",
    "display",
    "$ref",
    "members",
    "groups",
    "manager",
    "meta",
    "resourceType",
    "created",
    "lastModified",
    "location",
    "version",
    "Resources",
    "totalResults",
    "startIndex",
    "itemsPerPage",
    "status",
    "scimType",
    "detail",
    "attributes",
    "subAttributes",
    "mutability",
    "returned",
    "uniqueness",
    "multiValued",
    "required",
    "caseExact",
    "canonicalValues",
    "referenceTypes",
    "endpoint",
    "schemaExtensions",
    "patch",
    "bulk",
    "filter",
    "supported",
    "maxResults",
    "authenticationSchemes",
    "password",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:api:messages:2.0:ListResponse",
    "urn:ietf:params:scim:api:messages:2.0:Error",
    "urn:ietf:params:scim:api:messages:2.0:PatchOp",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(WORDS).prop_map(str::to_string),
        1 => "[a-zA-Z$._:\\[\\] \"-]{0,10}",
        1 => any::<String>(),
    ]
}

/// Arbitrary JSON, biased towards SCIM-shaped keys and values.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        word().prop_map(Value::from),
        Just(json!("True")),
        Just(json!("2011-05-13T04:42:34Z")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((word(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A valid user, to mutate.
fn alice() -> Value {
    json!({
        "schemas": [urn::USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223",
        "externalId": "alice",
        "userName": "alice@contoso.com",
        "active": true,
        "name": { "givenName": "Alice", "familyName": "Ng" },
        "emails": [{ "value": "alice@contoso.com", "type": "work", "primary": true }],
        "phoneNumbers": [{ "value": "555", "type": "mobile" }],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "7", "manager": { "value": "26118915" }
        },
        "meta": { "resourceType": "User", "created": "2011-05-13T04:42:34Z",
                  "lastModified": "2011-05-13T04:42:34Z", "location": "https://x/Users/2819c223" }
    })
}

/// Sets the value at a random place in `base` (object keys and array items picked by index).
fn mutate(mut base: Value, steps: &[usize], replacement: Value) -> Value {
    place(&mut base, steps, replacement);
    base
}

fn place(at: &mut Value, steps: &[usize], replacement: Value) {
    let child = match (steps.first(), &mut *at) {
        (Some(i), Value::Object(o)) if !o.is_empty() => {
            let key = o.keys().nth(i % o.len()).cloned().expect("key");
            o.get_mut(&key)
        }
        (Some(i), Value::Array(a)) if !a.is_empty() => {
            let n = a.len();
            a.get_mut(i % n)
        }
        _ => None,
    };
    match child {
        Some(c) => place(c, &steps[1..], replacement),
        None => *at = replacement,
    }
}

/// Filter-ish text: SCIM tokens glued together in random order.
fn filter_text() -> impl Strategy<Value = String> {
    const TOKENS: &[&str] = &[
        "userName",
        "emails",
        "emails[type eq \"work\"]",
        "emails[type eq \"work\"].value",
        "name.familyName",
        "meta.lastModified",
        "members[value eq \"1\"]",
        "members",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        "value",
        "eq",
        "ne",
        "co",
        "sw",
        "ew",
        "pr",
        "gt",
        "ge",
        "lt",
        "le",
        "EQ",
        "and",
        "or",
        "not",
        "AND",
        "(",
        ")",
        "[",
        "]",
        ".",
        "\"x\"",
        "\"\"",
        "\"a\\\"b\"",
        "\"\\u00e9\"",
        "\"",
        "\\",
        "true",
        "false",
        "null",
        "12",
        "-1.5e3",
        "\"2011-05-13T04:42:34Z\"",
        " ",
        "  ",
        "\t",
    ];
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(TOKENS).prop_map(str::to_string),
            1 => any::<String>(),
        ],
        0..12,
    )
    .prop_flat_map(|tokens| {
        let n = tokens.len();
        (Just(tokens), prop::collection::vec(any::<bool>(), n))
    })
    .prop_map(|(tokens, spaced)| {
        tokens
            .iter()
            .zip(spaced)
            .map(|(t, s)| if s { format!("{t} ") } else { t.clone() })
            .collect()
    })
}

#[test]
fn the_filter_parser_never_panics_and_what_it_accepts_round_trips() {
    let schemas = SchemaSet::builtin();
    let cx = MatchContext {
        schemas,
        core_urn: urn::USER,
        force_case_exact: false,
    };
    let user = alice();
    fuzz(
        "parse_filter",
        400,
        prop_oneof![filter_text(), any::<String>()],
        |input| {
            if let Ok(filter) = parse_filter(&input) {
                let _ = matches(&filter, &user, &cx);
                let canonical = filter.to_string();
                let again = parse_filter(&canonical);
                prop_assert_eq!(
                    again.as_ref(),
                    Ok(&filter),
                    "`{}` renders as `{}`, which parses differently",
                    input,
                    canonical
                );
            }
            let _ = parse_patch_path(&input);
            Ok(())
        },
    );
}

#[test]
fn the_validator_never_panics_on_arbitrary_json_for_any_kind() {
    let schemas = SchemaSet::builtin();
    fuzz("validate(arbitrary)", 300, json_value(), |body| {
        for kind in Kind::ALL {
            let _ = validate(kind, &body, schemas, &scimcheck::limits::validation());
        }
        Ok(())
    });
}

#[test]
fn the_validator_never_panics_on_mutated_resources() {
    let schemas = SchemaSet::builtin();
    let bases = vec![
        alice(),
        json!({"schemas": [urn::GROUP], "id": "g1", "displayName": "Sales",
               "members": [{"value": "2819c223", "$ref": "https://x/Users/2819c223", "type": "User"}],
               "meta": {"resourceType": "Group"}}),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 1,
               "startIndex": 1, "itemsPerPage": 1, "Resources": [alice()]}),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404",
               "scimType": "invalidValue", "detail": "x"}),
        scimcheck::scim::schema::service_provider_config().clone(),
        scimcheck::scim::schema::resource_types().clone(),
    ];
    fuzz(
        "validate(mutated)",
        300,
        (
            prop::sample::select(bases),
            prop::collection::vec(any::<usize>(), 0..5),
            json_value(),
        ),
        |(base, steps, replacement)| {
            let body = mutate(base, &steps, replacement);
            for kind in Kind::ALL {
                let _ = validate(kind, &body, schemas, &scimcheck::limits::validation());
            }
            Ok(())
        },
    );
}

fn patch_op() -> impl Strategy<Value = PatchOperation> {
    const PATHS: &[&str] = &[
        "active",
        "userName",
        "name.familyName",
        "name",
        "emails",
        "emails[type eq \"work\"]",
        "emails[type eq \"work\"].value",
        "emails[type eq \"home\"].value",
        "members",
        "members[value eq \"1\"]",
        "manager",
        "phoneNumbers[type eq \"mobile\"].value",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
        "id",
        "meta",
        "schemas",
        "emails[",
        "]",
        "x.y.z",
        "",
    ];
    (
        prop::sample::select(
            &[
                "add", "replace", "remove", "Add", "Replace", "Remove", "REPLACE", "copy", "",
            ][..],
        ),
        prop::option::of(prop_oneof![
            4 => prop::sample::select(PATHS).prop_map(str::to_string),
            1 => filter_text(),
        ]),
        prop::option::of(json_value()),
    )
        .prop_map(|(op, path, value)| {
            serde_json::from_value(json!({"op": op, "path": path, "value": value}))
                .or_else(|_| serde_json::from_value(json!({"op": op})))
                .expect("an op with no path or value deserialises")
        })
}

#[test]
fn patching_never_panics_and_a_failed_patch_changes_nothing() {
    let schemas = SchemaSet::builtin();
    let group = json!({"schemas": [urn::GROUP], "id": "g1", "displayName": "Sales",
                       "members": [{"value": "1"}, {"value": "2"}]});
    fuzz(
        "apply_patch",
        400,
        (prop::collection::vec(patch_op(), 0..5), any::<bool>()),
        |(ops, on_group)| {
            let (original, core) = if on_group {
                (group.clone(), urn::GROUP)
            } else {
                (alice(), urn::USER)
            };
            let mut resource = original.clone();
            if apply_patch(&mut resource, &ops, schemas, core).is_err() {
                prop_assert_eq!(&resource, &original, "a failed PATCH left changes behind");
            }
            Ok(())
        },
    );
}

/// Mutations of a scenario file's text: cut, insert, swap and duplicate lines, retype values.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Insert(usize, String),
    SwapLines(usize, usize),
    DuplicateLine(usize),
    Dedent(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    const SNIPPETS: &[&str] = &[
        ":",
        " ",
        "-",
        "{",
        "}",
        "[",
        "]",
        "{{ ",
        " }}",
        "{{",
        "}}",
        "\"",
        "'",
        "\n",
        "\n  - ",
        "\t",
        "#",
        "&a",
        "*a",
        "!!str ",
        "!!binary ",
        "? ",
        "|",
        ">",
        "~",
        "null",
        "1e999",
        "expect: ",
        "request: ",
        "capture: { x: /id }",
        "status: [200, 'x']",
        "body: ",
        "pointer: /a~2",
        "{{ undefined }}",
        "{{ uuid | nope }}",
        "all_match: 'userName eq'",
        "\u{feff}",
        "é",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(a, n)| Edit::Cut(a, n)),
        (
            any::<usize>(),
            prop_oneof![
                3 => prop::sample::select(SNIPPETS).prop_map(str::to_string),
                1 => any::<String>(),
            ]
        )
            .prop_map(|(a, s)| Edit::Insert(a, s)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        any::<usize>().prop_map(Edit::Dedent),
    ]
}

fn apply_edit(text: &str, e: &Edit) -> String {
    let boundary = |i: usize| {
        let mut i = i % (text.len() + 1);
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n = lines.len().max(1);
    match e {
        Edit::Cut(at, len) => {
            let a = boundary(*at);
            let b = boundary((a + len).min(text.len()));
            format!("{}{}", &text[..a], &text[b.max(a)..])
        }
        Edit::Insert(at, s) => {
            let a = boundary(*at);
            format!("{}{s}{}", &text[..a], &text[a..])
        }
        Edit::SwapLines(a, b) if !lines.is_empty() => {
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Edit::DuplicateLine(a) if !lines.is_empty() => {
            let l = lines[a % n].clone();
            lines.insert(a % n, l);
            lines.join("\n")
        }
        Edit::Dedent(a) if !lines.is_empty() => {
            let l = lines[a % n].trim_start().to_string();
            lines[a % n] = l;
            lines.join("\n")
        }
        _ => text.to_string(),
    }
}

#[test]
fn the_scenario_loader_never_panics_on_mutated_or_arbitrary_files() {
    let sources: Vec<(String, String)> = scimcheck::builtin::FILES
        .iter()
        .filter(|(p, _)| p.starts_with("scenarios/entra/"))
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .chain(std::iter::once((
            "tests/fixtures/ok/disable.yaml".to_string(),
            include_str!("fixtures/ok/disable.yaml").to_string(),
        )))
        .collect();
    fuzz(
        "load_str(mutated)",
        300,
        (
            prop::sample::select(sources),
            prop::collection::vec(edit(), 1..6),
        ),
        |((path, text), edits)| {
            let mutated = edits.iter().fold(text, |t, e| apply_edit(&t, e));
            if let Err(diags) = load_str(&path, &mutated, false) {
                for d in diags {
                    let _ = d.to_string();
                }
            }
            Ok(())
        },
    );
    fuzz("load_str(arbitrary)", 200, any::<String>(), |text| {
        let _ = load_str("arbitrary.yaml", &text, false)
            .map_err(|d| d.iter().map(ToString::to_string).count());
        Ok(())
    });
}

/// The parts of a valid scenario, to render as YAML.
#[derive(Debug, Clone)]
struct ValidStep {
    name: String,
    method: &'static str,
    path: &'static str,
    statuses: Vec<u16>,
}

#[test]
fn valid_scenarios_load_and_keep_what_was_written() {
    let step = (
        "[A-Za-z][A-Za-z0-9 ]{0,20}",
        prop::sample::select(&["GET", "POST", "PUT", "PATCH", "DELETE", "get"][..]),
        prop::sample::select(
            &[
                "/Users",
                "/Groups",
                "/Users/{{ uuid }}",
                "/Schemas",
                "ServiceProviderConfig",
            ][..],
        ),
        prop::collection::vec(200u16..600, 1..4),
    )
        .prop_map(|(name, method, path, statuses)| ValidStep {
            name: name.trim().to_string() + " step",
            method,
            path,
            statuses,
        });
    fuzz(
        "load_str(valid)",
        200,
        (
            "[a-z][a-z0-9-]{0,15}",
            "[A-Za-z][A-Za-z0-9 ,.]{0,30}",
            prop::collection::vec(step, 1..5),
        ),
        |(id, name, steps)| {
            let mut yaml = format!(
                "id: {id}\nname: \"{name}\"\ndescription: generated\ntags: [generated]\nsteps:\n"
            );
            for (i, s) in steps.iter().enumerate() {
                yaml.push_str(&format!(
                    "  - name: \"{}\"\n    id: {id}.s{i}\n    request: {{ method: {}, path: \"{}\" }}\n    expect: {{ status: {:?} }}\n",
                    s.name, s.method, s.path, s.statuses
                ));
            }
            let loaded = load_str("generated.yaml", &yaml, false).map_err(|d| {
                TestCaseError::fail(format!(
                    "a valid scenario was rejected:\n{yaml}\n{}",
                    d.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                ))
            })?;
            prop_assert_eq!(&loaded.id, &id);
            prop_assert_eq!(&loaded.scenario.name, &name);
            prop_assert_eq!(loaded.scenario.steps.len(), steps.len());
            for (got, want) in loaded.scenario.steps.iter().zip(&steps) {
                let got = &got.value;
                prop_assert_eq!(&got.name, &want.name);
                let req = &got.request.as_ref().expect("request").value;
                prop_assert_eq!(&req.method, want.method);
                prop_assert_eq!(&req.path, want.path);
            }
            Ok(())
        },
    );
}
