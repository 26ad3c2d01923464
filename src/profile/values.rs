//! Realistic values for mapped attributes: what a real directory would send for each target
//! (emails that look like emails, E.164 phone numbers, BCP 47 locales, IANA time zones, employee
//! numbers, cities...), in two variants (create and update) that differ in every attribute.
//!
//! Values that identify a user (userName, externalId, emails, the matching attribute) are
//! templates that produce a new run-prefixed value on every use (`{{ unique.userName }}`), so
//! the data-safety rules and cleanup recognise everything a profile run creates.

use serde_json::{Value, json};

use super::model::{AttrKind, Mapped};

/// Whether the attribute's value identifies the user and so must be unique and run-prefixed.
pub fn identifies(a: &Mapped, matching: &str) -> bool {
    let name = a.target.name.to_ascii_lowercase();
    a.path == matching
        || (a.target.urn.is_none()
            && (name == "username" || name == "externalid" || name == "emails"))
}

/// The template of a fresh identifying value (new on every use, run-prefixed).
pub fn unique_template(a: &Mapped) -> &'static str {
    let name = a.target.name.to_ascii_lowercase();
    if a.target.urn.is_none() && name == "username" {
        "{{ unique.userName }}"
    } else if a.target.urn.is_none() && name == "emails" {
        "{{ unique.email }}"
    } else {
        "{{ unique.externalId }}"
    }
}

/// A realistic literal value of a non-identifying attribute; `variant` 0 is for create, 1 for
/// update (every attribute differs between the two).
pub fn realistic(a: &Mapped, variant: usize) -> Value {
    let v = variant.min(1);
    let t = &a.target;
    let name = t.name.to_ascii_lowercase();
    let sub = t.sub.as_deref().map(str::to_ascii_lowercase);
    let kind_of_element = t
        .select
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("type"))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_ascii_lowercase);
    let pick = |a: &str, b: &str| json!([a, b][v]);
    let known = match (name.as_str(), sub.as_deref()) {
        ("displayname", None) => Some(pick("Barbara Jensen", "Barbara Jensen-Lee")),
        ("nickname", None) => Some(pick("Babs", "Bee")),
        ("title", None) => Some(pick("Solutions Architect", "Principal Solutions Architect")),
        ("usertype", None) => Some(pick("Employee", "Contractor")),
        ("preferredlanguage", None) => Some(pick("en-US", "fr-CA")),
        ("locale", None) => Some(pick("en-US", "de-DE")),
        ("timezone", None) => Some(pick("America/Los_Angeles", "Europe/Berlin")),
        ("profileurl", None) => Some(pick(
            "https://contoso.example.com/people/bjensen",
            "https://contoso.example.com/people/barbara.jensen-lee",
        )),
        ("password", None) => Some(pick("Sc1mcheck!Pass-one", "Sc1mcheck!Pass-two")),
        ("active", None) => Some(json!([true, false][v])),
        ("name", Some("givenname")) => Some(pick("Barbara", "Babs")),
        ("name", Some("familyname")) => Some(pick("Jensen", "Jensen-Lee")),
        ("name", Some("formatted")) => Some(pick("Barbara Jensen", "Babs Jensen-Lee")),
        ("name", Some("middlename")) => Some(pick("Jane", "Joan")),
        ("name", Some("honorificprefix")) => Some(pick("Ms.", "Dr.")),
        ("name", Some("honorificsuffix")) => Some(pick("III", "PhD")),
        ("phonenumbers", Some("value")) => Some(match kind_of_element.as_deref() {
            Some("work") => pick("+14255550100", "+14255550111"),
            Some("mobile") => pick("+14255550123", "+14255550134"),
            Some("fax") => pick("+14255550199", "+14255550188"),
            Some("home") => pick("+12065550142", "+12065550153"),
            _ => pick("+14255550150", "+14255550161"),
        }),
        ("addresses", Some("formatted")) => Some(pick(
            "1 Microsoft Way, Redmond, WA 98052, US",
            "745 Thurlow St, Vancouver, BC V6E 0C5, CA",
        )),
        ("addresses", Some("streetaddress")) => Some(pick("1 Microsoft Way", "745 Thurlow St")),
        ("addresses", Some("locality")) => Some(pick("Redmond", "Vancouver")),
        ("addresses", Some("region")) => Some(pick("WA", "BC")),
        ("addresses", Some("postalcode")) => Some(pick("98052", "V6E 0C5")),
        ("addresses", Some("country")) => Some(pick("US", "CA")),
        ("ims", Some("value")) => Some(pick("bjensen@im.example.com", "babs@im.example.com")),
        ("photos", Some("value")) => Some(pick(
            "https://photos.example.com/bjensen.jpg",
            "https://photos.example.com/babs.jpg",
        )),
        ("roles" | "entitlements", Some("value")) => {
            Some(pick("Field Supervisor", "Regional Manager"))
        }
        ("employeenumber", None) => Some(pick("701984", "702113")),
        ("costcenter", None) => Some(pick("CC-4410", "CC-5120")),
        ("organization", None) => Some(pick("Contoso", "Fabrikam")),
        ("division", None) => Some(pick("Cloud Services", "Devices")),
        ("department", None) => Some(pick("Tour Operations", "Customer Success")),
        (_, Some("display")) => Some(pick("Barbara Jensen (work)", "Babs Jensen-Lee (work)")),
        (_, Some("primary")) => Some(json!([true, false][v])),
        _ => None,
    };
    let known = known.filter(|value| value_fits(value, a.kind));
    known.unwrap_or_else(|| by_kind(a, v))
}

/// Whether a known realistic value has the mapped type (a profile may type an attribute
/// differently from RFC 7643, e.g. a custom extension reusing a name).
fn value_fits(value: &Value, kind: AttrKind) -> bool {
    match kind {
        AttrKind::Boolean => value.is_boolean(),
        AttrKind::Integer | AttrKind::Decimal => value.is_number(),
        _ => value.is_string(),
    }
}

/// A value of the right type for an attribute nothing more is known about.
fn by_kind(a: &Mapped, v: usize) -> Value {
    let label = a.target.sub.as_deref().unwrap_or(&a.target.name);
    match a.kind {
        AttrKind::String => json!(format!("{label} {}", ["A", "B"][v])),
        AttrKind::Boolean => json!([true, false][v]),
        AttrKind::Integer => json!([42, 43][v]),
        AttrKind::Decimal => json!([4.5, 5.25][v]),
        AttrKind::DateTime => json!(["2024-01-15T09:30:00Z", "2025-06-01T17:45:00Z"][v]),
        AttrKind::Reference => json!(format!(
            "https://contoso.example.com/{}/{}",
            label.to_ascii_lowercase(),
            v + 1
        )),
        AttrKind::Binary => json!(["c2NpbWNoZWNr", "c2NpbWNoZWNrLTI="][v]),
    }
}

/// Whether a Reference target holds the id of another user (Entra's `manager`), rather than a
/// URL.
pub fn references_a_user(a: &Mapped) -> bool {
    a.kind == super::model::AttrKind::Reference
        && a.target.sub.is_none()
        && a.target.name.eq_ignore_ascii_case("manager")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::target::Target;

    fn mapped(path: &str, kind: AttrKind) -> Mapped {
        Mapped {
            path: path.into(),
            target: Target::parse(path).unwrap(),
            kind,
            filterable: false,
            required: false,
        }
    }

    #[test]
    fn values_have_realistic_shapes_and_differ_between_create_and_update() {
        let cases = [
            (
                r#"phoneNumbers[type eq "mobile"].value"#,
                AttrKind::String,
                "+14255550123",
            ),
            ("locale", AttrKind::String, "en-US"),
            ("timezone", AttrKind::String, "America/Los_Angeles"),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                AttrKind::String,
                "701984",
            ),
            (
                r#"addresses[type eq "work"].locality"#,
                AttrKind::String,
                "Redmond",
            ),
        ];
        for (path, kind, want) in cases {
            let a = mapped(path, kind);
            assert_eq!(realistic(&a, 0), json!(want), "{path}");
            assert_ne!(realistic(&a, 0), realistic(&a, 1), "{path}");
        }
        let custom = mapped("urn:x:custom:2.0:User:badgeCount", AttrKind::Integer);
        assert_eq!(realistic(&custom, 0), json!(42));
    }

    #[test]
    fn identifying_attributes_use_run_prefixed_templates() {
        let user = mapped("userName", AttrKind::String);
        let mail = mapped(r#"emails[type eq "work"].value"#, AttrKind::String);
        let title = mapped("title", AttrKind::String);
        assert!(identifies(&user, "userName") && identifies(&mail, "userName"));
        assert!(!identifies(&title, "userName") && identifies(&title, "title"));
        assert_eq!(unique_template(&mail), "{{ unique.email }}");
        assert_eq!(unique_template(&title), "{{ unique.externalId }}");
    }
}
