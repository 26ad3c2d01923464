//! Attributes the server does not advertise. Entra maps only attributes that the app's schema
//! offers (schema discovery reads `/Schemas`); a value check on an attribute the server's own
//! `/Schemas` leaves out, and that no profile maps, proves nothing about Entra's traffic. Such
//! a finding becomes a warning that says so, rather than a failure.

use crate::scim::schema::{SchemaSet, common_attributes};
use crate::scim::urn;
use crate::scim::validate::Level;

use super::event::Finding;

/// Turns failing value findings (`body`, `assert`) on attributes that `advertised` does not
/// define into warnings. `collection`: the request path, to tell Users from Groups.
pub fn demote(findings: &mut [Finding], advertised: &SchemaSet, collection: &str) {
    let core = if collection.contains("/Groups") {
        urn::GROUP
    } else if collection.contains("/Users") {
        urn::USER
    } else {
        return;
    };
    if advertised.get(core).is_none() {
        // The server publishes nothing about this resource: no basis to judge.
        return;
    }
    for f in findings.iter_mut() {
        if f.level != Level::Fail || !matches!(f.kind, "body" | "assert") {
            continue;
        }
        let Some(path) = f.path.as_deref() else {
            continue;
        };
        // A body finding lists every difference (`$.a: ...; $.b: ...`): all of them must be
        // on unadvertised attributes, or a real difference would hide behind a warning.
        let others_advertised = f.kind == "body"
            && f.message.split("; ").any(|part| {
                part.split_once(": ")
                    .is_none_or(|(p, _)| unadvertised(p, core, advertised).is_none())
            });
        if others_advertised {
            continue;
        }
        if let Some(what) = unadvertised(path, core, advertised) {
            f.level = Level::Warn;
            f.message = format!(
                "{} (not a failure: the server's /Schemas does not advertise {what} and no profile maps it, so Entra would not send it)",
                f.message
            );
        }
    }
}

/// `$.nickName`, `$.name.givenName`, `$.emails[0].value`, `$.urn:...:User.employeeNumber`:
/// the attribute (or extension) the path starts at, when `advertised` does not define it.
fn unadvertised(path: &str, core: &str, advertised: &SchemaSet) -> Option<String> {
    let mut rest = path.strip_prefix("$.")?;
    // A ListResponse: the attribute inside one of its resources; the list's own attributes
    // (`totalResults`, `Resources` itself) are not resource attributes.
    if let Some(inner) = rest.strip_prefix("Resources[") {
        rest = inner.split_once("].")?.1;
    } else if ["Resources", "totalResults", "startIndex", "itemsPerPage"]
        .iter()
        .any(|l| first_name(rest).eq_ignore_ascii_case(l))
    {
        return None;
    }
    if rest.len() >= 4 && rest[..4].eq_ignore_ascii_case("urn:") {
        // The extension's URN ends at the first `.` after its last `:` (`...:2.0:User.x`).
        let colon = rest.rfind(':').unwrap_or(0);
        let urn_end = rest[colon..]
            .find(['.', '['])
            .map_or(rest.len(), |i| colon + i);
        let (urn, tail) = rest.split_at(urn_end);
        let Some(schema) = advertised.get(urn) else {
            return Some(format!("the extension `{urn}`"));
        };
        let tail = tail.strip_prefix('.')?;
        let attr = first_name(tail);
        return schema
            .attribute(attr)
            .is_none()
            .then(|| format!("`{}:{attr}`", schema.id));
    }
    let attr = first_name(rest);
    // `schemas` and the common attributes (id, externalId, meta: RFC 7643 section 3.1) belong
    // to every resource, whatever a schema lists.
    if attr.eq_ignore_ascii_case("schemas")
        || common_attributes()
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(attr))
    {
        return None;
    }
    let schema = advertised.get(core)?;
    schema
        .attribute(attr)
        .is_none()
        .then(|| format!("`{attr}`"))
}

fn first_name(s: &str) -> &str {
    let end = s.find(['.', '[']).unwrap_or(s.len());
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn published() -> SchemaSet {
        SchemaSet::from_list_response(&json!({"Resources": [{
            "id": urn::USER,
            "name": "User",
            "attributes": [
                {"name": "userName", "type": "string", "multiValued": false},
                {"name": "name", "type": "complex", "multiValued": false, "subAttributes": [
                    {"name": "givenName", "type": "string", "multiValued": false}
                ]}
            ]
        }]}))
        .expect("a schema list")
    }

    #[test]
    fn a_value_finding_on_an_attribute_the_server_does_not_publish_is_a_warning() {
        let mut f = vec![
            Finding::fail(
                "body",
                "$.nickName: expected \"Babs\", but the attribute is missing",
            )
            .at("$.nickName"),
            Finding::fail("body", "$.name.givenName: expected \"B\", got \"C\"")
                .at("$.name.givenName"),
            Finding::fail("assert", "expected a value")
                .at(format!("$.{}.employeeNumber", urn::ENTERPRISE_USER)),
            Finding::fail("status", "expected status 200, got 400"),
        ];
        f.push(Finding::fail("assert", "expected no value").at("$.Resources[0].nickName"));
        f.push(Finding::fail("assert", "expected no value").at("$.Resources[0].userName"));
        f.push(Finding::fail("assert", "expected length 1").at("$.Resources"));
        demote(&mut f, &published(), "/Users/1");
        assert_eq!(
            f[4..].iter().map(|f| f.level).collect::<Vec<_>>(),
            [Level::Warn, Level::Fail, Level::Fail],
            "inside a ListResponse"
        );
        f.truncate(4);
        let ent = urn::ENTERPRISE_USER;
        let mut whole = vec![
            Finding::fail("body", format!("$.{ent}: expected an object")).at(format!("$.{ent}")),
        ];
        demote(&mut whole, &published(), "/Users/1");
        assert!(
            whole[0]
                .message
                .contains(&format!("the extension `{ent}` ")),
            "{}",
            whole[0].message
        );
        let levels: Vec<Level> = f.iter().map(|f| f.level).collect();
        assert_eq!(levels, [Level::Warn, Level::Fail, Level::Warn, Level::Fail]);
        assert!(
            f[0].message.contains("does not advertise `nickName`"),
            "{}",
            f[0].message
        );
        assert!(
            f[2].message
                .contains(&format!("the extension `{}`", urn::ENTERPRISE_USER)),
            "{}",
            f[2].message
        );
    }

    #[test]
    fn a_body_finding_that_also_differs_on_a_published_attribute_stays_a_failure() {
        let mut f = vec![Finding::fail(
            "body",
            "$.nickName: expected \"Babs\", but the attribute is missing; $.userName: expected \"a\", got \"b\"",
        )
        .at("$.nickName")];
        demote(&mut f, &published(), "/Users/1");
        assert_eq!(f[0].level, Level::Fail);
    }

    #[test]
    fn nothing_changes_when_the_server_publishes_no_schema_for_the_resource() {
        let mut f = vec![Finding::fail("body", "x").at("$.nickName")];
        demote(&mut f, &published(), "/Groups/1");
        assert_eq!(f[0].level, Level::Fail);
    }
}
