//! Loading profiles: parse YAML with positions, then check the mapping against RFC 7643; every
//! problem becomes a [`Diagnostic`] naming file, line and column.

use std::path::Path;

use serde_saphyr::{Location, Spanned};

use crate::diag::{Diagnostic, did_you_mean};
use crate::scenario::load::yaml_diagnostic;
use crate::scim::schema::{AttrType, Attribute, SchemaSet};
use crate::scim::urn;

use super::model::{AttrKind, Mapped, Object, Profile, ProfileFile};
use super::target::Target;

/// Where the built-in profiles live among [`crate::builtin::FILES`].
const BUILTIN_DIR: &str = "scenarios/profiles/";

fn at(file: &str, source: &str, loc: Location, message: impl Into<String>) -> Diagnostic {
    if loc == Location::UNKNOWN {
        Diagnostic::at(file, source, 1, 1, message)
    } else {
        Diagnostic::at(
            file,
            source,
            loc.line() as usize,
            loc.column() as usize,
            message,
        )
    }
}

fn spot<T>(s: &Spanned<T>) -> Location {
    s.referenced
}

/// The RFC 7643 definition of a target (core User or Enterprise User), when it has one.
pub fn rfc_attribute(t: &Target) -> Option<(&'static Attribute, Option<&'static Attribute>)> {
    let schema = SchemaSet::builtin().get(t.urn.as_deref().unwrap_or(urn::USER))?;
    let attr = schema.attribute(&t.name).or_else(|| {
        // `externalId` is a common attribute, not part of the User schema's list.
        crate::scim::schema::common_attributes()
            .iter()
            .filter(|_| t.urn.is_none())
            .find(|a| a.name.eq_ignore_ascii_case(&t.name))
    })?;
    let sub = t.sub.as_ref().and_then(|s| attr.sub_attribute(s));
    Some((attr, sub))
}

/// The portal type of an RFC 7643 attribute as Entra maps it.
fn kind_of(attr: &Attribute) -> AttrKind {
    match attr.kind {
        AttrType::Boolean => AttrKind::Boolean,
        AttrType::Integer => AttrKind::Integer,
        AttrType::Decimal => AttrKind::Decimal,
        AttrType::DateTime => AttrKind::DateTime,
        AttrType::Binary => AttrKind::Binary,
        AttrType::Reference => AttrKind::Reference,
        AttrType::Complex => AttrKind::Reference,
        AttrType::String => AttrKind::String,
    }
}

fn scim_type_name(t: AttrType) -> &'static str {
    match t {
        AttrType::String => "string",
        AttrType::Boolean => "boolean",
        AttrType::Decimal => "decimal",
        AttrType::Integer => "integer",
        AttrType::DateTime => "dateTime",
        AttrType::Binary => "binary",
        AttrType::Reference => "reference",
        AttrType::Complex => "complex",
    }
}

/// Checks one target against RFC 7643 and returns its portal type.
fn check_target(
    t: &Target,
    path: &str,
    given: Option<AttrKind>,
) -> Result<AttrKind, (String, Option<String>)> {
    let core = t.urn.is_none();
    let enterprise = t
        .urn
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case(urn::ENTERPRISE_USER));
    let Some((attr, sub)) = rfc_attribute(t) else {
        if core || enterprise {
            let schema = SchemaSet::builtin()
                .get(t.urn.as_deref().unwrap_or(urn::USER))
                .expect("built in");
            let names = schema
                .attributes
                .iter()
                .map(|a| a.name.as_str())
                .chain(core.then_some("externalId"));
            let help = match did_you_mean(&t.name, names) {
                Some(best) => format!("did you mean `{best}`?"),
                None if core => format!(
                    "a custom attribute needs its schema URN, as in `urn:ietf:params:scim:schemas:extension:<app>:2.0:User:{}`",
                    t.name
                ),
                None => "the Enterprise User extension defines employeeNumber, costCenter, organization, division, department and manager".into(),
            };
            let which = if core { "core User" } else { "Enterprise User" };
            return Err((
                format!(
                    "`{}` is not an attribute of the {which} schema (RFC 7643)",
                    t.name
                ),
                Some(help),
            ));
        }
        // A custom extension: nothing to check against; the type must be given.
        return given.ok_or_else(|| {
            (
                format!("`{path}` is not an RFC 7643 attribute, so its `type` must be given"),
                Some("add `type: String` (or Boolean, Integer, Decimal, DateTime, Reference, Binary)".into()),
            )
        });
    };
    if attr.multi_valued && attr.kind == AttrType::Complex && !t.is_multi() {
        return Err((
            format!(
                "`{}` is multi-valued: Entra maps one element of it",
                attr.name
            ),
            Some(format!(
                "name the element with a filter, as in `{}[type eq \"work\"].{}`",
                attr.name,
                t.sub.as_deref().unwrap_or("value")
            )),
        ));
    }
    if t.is_multi() && !attr.multi_valued {
        return Err((
            format!(
                "`{}` is single-valued; a value filter selects an element of a multi-valued attribute",
                attr.name
            ),
            None,
        ));
    }
    let target_attr = match (&t.sub, sub) {
        (Some(s), None) => {
            let names = attr.sub_attributes.iter().map(|a| a.name.as_str());
            let help = did_you_mean(s, names).map(|b| format!("did you mean `{b}`?"));
            return Err((format!("`{}` has no sub-attribute `{s}`", attr.name), help));
        }
        (Some(_), Some(sub)) => sub,
        (None, _) => attr,
    };
    if target_attr.kind == AttrType::Complex && !attr.name.eq_ignore_ascii_case("manager") {
        let subs: Vec<&str> = target_attr
            .sub_attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        return Err((
            format!("`{path}` is a complex attribute; map one of its sub-attributes"),
            Some(format!(
                "for example `{path}.{}`",
                subs.first().copied().unwrap_or("value")
            )),
        ));
    }
    if target_attr.mutability == crate::scim::schema::Mutability::ReadOnly {
        return Err((
            format!("`{path}` is read-only (RFC 7643): the app sets it, Entra cannot"),
            None,
        ));
    }
    let natural = kind_of(target_attr);
    match given {
        None => Ok(natural),
        Some(k)
            if k.compatible_scim_types()
                .contains(&scim_type_name(target_attr.kind)) =>
        {
            Ok(k)
        }
        Some(k) => Err((
            format!(
                "`{path}` is a {} attribute in RFC 7643, not {k}",
                scim_type_name(target_attr.kind)
            ),
            Some(format!("use `type: {natural}`")),
        )),
    }
}

/// Parses and checks one profile file; `name` is the profile's name (the file stem).
pub fn load_str(
    name: &str,
    file: &str,
    source: &str,
    builtin: bool,
) -> Result<Profile, Vec<Diagnostic>> {
    let parsed: ProfileFile =
        serde_saphyr::from_str(source).map_err(|e| vec![yaml_diagnostic(file, source, &e)])?;
    let mut problems = Vec::new();
    let mut attributes: Vec<Mapped> = Vec::new();
    if parsed.attributes.is_empty() {
        problems.push(Diagnostic::at(
            file,
            source,
            1,
            1,
            "`attributes` is empty: a profile maps at least the matching attribute",
        ));
    }
    for spec in &parsed.attributes {
        let s = &spec.value;
        let path = s.path.value.trim().to_string();
        let target = match Target::parse(&path) {
            Ok(t) => t,
            Err(m) => {
                problems.push(at(
                    file,
                    source,
                    spot(&s.path),
                    format!("invalid target attribute `{path}`: {m}"),
                ));
                continue;
            }
        };
        let given = s.kind.as_ref().map(|k| k.value);
        let kind = match check_target(&target, &path, given) {
            Ok(k) => k,
            Err((m, help)) => {
                let loc = match (&s.kind, m.contains(" attribute in RFC 7643, not ")) {
                    (Some(k), true) => spot(k),
                    _ => spot(&s.path),
                };
                let mut d = at(file, source, loc, m);
                d.help = help;
                problems.push(d);
                continue;
            }
        };
        if let Some(first) = attributes.iter().find(|a| a.target.same_as(&target)) {
            problems.push(at(
                file,
                source,
                spot(&s.path),
                format!("`{path}` is mapped twice (first as `{}`)", first.path),
            ));
            continue;
        }
        attributes.push(Mapped {
            path,
            target,
            kind,
            filterable: s.filterable,
            required: s.required,
        });
    }
    let matching = match &parsed.matching {
        Some(m) => {
            let wanted = m.value.trim();
            match attributes.iter().find(|a| {
                a.path == wanted || Target::parse(wanted).is_ok_and(|t| t.same_as(&a.target))
            }) {
                Some(a) => Some(a.path.clone()),
                None => {
                    let mut d = at(
                        file,
                        source,
                        spot(m),
                        format!(
                            "the matching attribute `{wanted}` is not one of the mapped attributes"
                        ),
                    );
                    d.help = did_you_mean(wanted, attributes.iter().map(|a| a.path.as_str()))
                        .map(|b| format!("did you mean `{b}`?"));
                    problems.push(d);
                    None
                }
            }
        }
        None => match attributes.iter().find(|a| a.path == "userName") {
            Some(a) => Some(a.path.clone()),
            None if !attributes.is_empty() => {
                problems.push(
                    Diagnostic::at(
                        file,
                        source,
                        1,
                        1,
                        "no `matching:` attribute, and `userName` (the default) is not mapped",
                    )
                    .with_help("add `matching: <one of the mapped attributes>`"),
                );
                None
            }
            None => None,
        },
    };
    if !parsed.objects.value.contains(&Object::Users) {
        problems.push(
            at(
                file,
                source,
                spot(&parsed.objects),
                "`objects` must include `users`: a profile maps user attributes",
            )
            .with_help("write `objects: [users]` or `objects: [users, groups]`"),
        );
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let matching = matching.expect("no problems, so the matching attribute was found");
    for a in &mut attributes {
        if a.path == matching {
            a.filterable = true;
        }
    }
    let mut objects = parsed.objects.value.clone();
    objects.dedup();
    Ok(Profile {
        name: name.to_string(),
        file: file.to_string(),
        builtin,
        app: parsed.app.trim().to_string(),
        notes: parsed.notes.trim().to_string(),
        objects,
        matching,
        groups_as: parsed.groups_as.map(|g| g.trim().to_string()),
        attributes,
    })
}

/// Loads a profile file from disk (its name is the file stem).
pub fn load_file(path: &Path) -> Result<Profile, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| vec![Diagnostic::at(&file, "", 1, 1, format!("cannot read: {e}"))])?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("profile")
        .to_string();
    load_str(&name, &file, &source, false)
}

/// The names of the built-in profiles, sorted.
pub fn builtin_names() -> Vec<&'static str> {
    crate::builtin::FILES
        .iter()
        .filter_map(|(path, _)| path.strip_prefix(BUILTIN_DIR))
        .filter_map(|f| f.strip_suffix(".yaml").or_else(|| f.strip_suffix(".yml")))
        .collect()
}

/// A built-in profile by name.
pub fn builtin(name: &str) -> Option<Profile> {
    crate::builtin::FILES.iter().find_map(|(path, text)| {
        let stem = path.strip_prefix(BUILTIN_DIR)?;
        let stem = stem
            .strip_suffix(".yaml")
            .or_else(|| stem.strip_suffix(".yml"))?;
        (stem == name).then(|| {
            load_str(stem, path, text, true).unwrap_or_else(|d| {
                let all: Vec<String> = d.iter().map(ToString::to_string).collect();
                panic!("built-in profile {path} is invalid:\n{}", all.join("\n"))
            })
        })
    })
}

/// Every built-in profile, by name.
pub fn builtins() -> Vec<Profile> {
    builtin_names().into_iter().filter_map(builtin).collect()
}

/// `--profile NAME|FILE`: a built-in name, else a file path.
pub fn resolve(name_or_file: &str) -> Result<Profile, Vec<Diagnostic>> {
    if let Some(p) = builtin(name_or_file) {
        return Ok(p);
    }
    let path = Path::new(name_or_file);
    if path.is_file() {
        return load_file(path);
    }
    let names = builtin_names();
    let mut d = Diagnostic::at(
        name_or_file,
        "",
        1,
        1,
        format!(
            "`{name_or_file}` is neither a built-in profile ({}) nor a profile file",
            names.join(", ")
        ),
    );
    if let Some(best) = did_you_mean(name_or_file, names.iter().copied()) {
        d = d.with_help(format!("did you mean `{best}`?"));
    } else {
        d = d.with_help("`scimcheck profiles` lists the built-in profiles");
    }
    Err(vec![d])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Profile, Vec<Diagnostic>> {
        load_str("t", "t.yaml", text, false)
    }

    fn first_error(text: &str) -> String {
        load(text).unwrap_err()[0].to_string()
    }

    #[test]
    fn every_builtin_profile_loads() {
        let names = builtin_names();
        assert_eq!(
            names,
            [
                "entra-default",
                "maptician",
                "mindtickle",
                "tap-app-security",
                "tic-tac-mobile",
                "tracktik"
            ]
        );
        for p in builtins() {
            assert!(!p.attributes.is_empty(), "{}", p.name);
            assert!(p.matching_attribute().filterable);
        }
    }

    #[test]
    fn types_default_to_the_rfc_type_and_matching_to_username() {
        let p = load("app: X\nattributes:\n  - path: userName\n  - path: active\n  - path: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager\n").unwrap();
        let kinds: Vec<AttrKind> = p.attributes.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [AttrKind::String, AttrKind::Boolean, AttrKind::Reference]
        );
        assert_eq!(p.matching, "userName");
        assert!(p.attributes[0].filterable);
        assert_eq!(p.objects, [Object::Users, Object::Groups]);
    }

    #[test]
    fn mistakes_are_pinned_to_their_line_with_a_suggestion() {
        let e = first_error("app: X\nattributes:\n  - path: userName\n  - path: titel\n");
        assert!(e.contains("t.yaml:4:11"), "{e}");
        assert!(e.contains("did you mean `title`?"), "{e}");
        let e = first_error("app: X\nattributes:\n  - { path: userName, typ: String }\n");
        assert!(
            e.contains("unknown field `typ`") && e.contains("did you mean `type`?"),
            "{e}"
        );
        let e = first_error(
            "app: X\nattributes:\n  - { path: active, type: String }\n  - path: userName\n",
        );
        assert!(
            e.contains("boolean attribute in RFC 7643, not String"),
            "{e}"
        );
        let e = first_error("app: X\nattributes:\n  - path: emails.value\n");
        assert!(e.contains("multi-valued"), "{e}");
        let e = first_error(
            "app: X\nmatching: extrnalId\nattributes:\n  - path: userName\n  - path: externalId\n",
        );
        assert!(e.contains("did you mean `externalId`?"), "{e}");
        let e = first_error("app: X\nobjects: [groups]\nattributes:\n  - path: userName\n");
        assert!(e.contains("must include `users`"), "{e}");
        let e = first_error(
            "app: X\nattributes:\n  - path: urn:x:custom:User:badge\n  - path: userName\n",
        );
        assert!(e.contains("`type` must be given"), "{e}");
        let e = first_error("app: X\nattributes:\n  - path: userName\n  - path: USERNAME\n");
        assert!(e.contains("mapped twice"), "{e}");
    }

    #[test]
    fn unknown_profile_names_suggest_a_builtin() {
        let e = resolve("maptican").unwrap_err()[0].to_string();
        assert!(e.contains("did you mean `maptician`?"), "{e}");
    }
}
