//! The message documents: ListResponse (paging fields, `Resources`, each listed resource checked
//! as the kind its own `schemas` names, within the bounds) and Error.

use serde_json::{Map, Value};

use super::checker::{Checker, Want, describe};
use super::{Kind, Level};
use crate::scim::json::get_ci as field;
use crate::scim::json_path::{child, index};

impl Checker<'_> {
    pub(super) fn list_response(&mut self, obj: &Map<String, Value>, path: &str) {
        let total = self
            .expect(obj, "totalResults", path, Want::UInt, Some(Level::Fail))
            .and_then(Value::as_u64);
        self.expect(obj, "startIndex", path, Want::Int, Some(Level::Warn));
        self.expect(obj, "itemsPerPage", path, Want::Int, Some(Level::Warn));
        let p = child(path, "Resources");
        match field(obj, "Resources") {
            None if total.unwrap_or(0) > 0 => {
                self.fail(
                    &p,
                    format!(
                        "`Resources` is missing; expected an array since totalResults is {}",
                        total.unwrap_or(0)
                    ),
                );
            }
            None => {}
            Some(Value::Array(items)) => {
                let examined = self.bounds.list_resources;
                for (i, item) in items.iter().enumerate().take(examined) {
                    if self.out.len() >= self.bounds.problems {
                        self.dropped += 1;
                        break;
                    }
                    self.list_item(item, &index(&p, i));
                }
                if items.len() > examined {
                    self.warn(
                        &p,
                        format!(
                            "the list holds {} resources; only the first {examined} were examined (Entra asks for pages of 100; {})",
                            items.len(),
                            self.bounds.list_resources_hint
                        ),
                    );
                }
            }
            Some(v) => self.fail(&p, format!("expected an array, found {}", describe(v))),
        }
    }

    /// A resource inside `Resources`, checked as the kind its own `schemas` names.
    fn list_item(&mut self, item: &Value, path: &str) {
        let Some(obj) = item.as_object() else {
            return self.fail(
                path,
                format!("expected a resource object, found {}", describe(item)),
            );
        };
        let listed = self.schemas_attr(obj, path, None);
        let kinds = [Kind::User, Kind::Group, Kind::Schema, Kind::ResourceType];
        match kinds
            .into_iter()
            .find(|k| listed.iter().any(|s| s.eq_ignore_ascii_case(k.urn())))
        {
            Some(kind) => self.dispatch(kind, obj, path, &listed),
            None => self.id(obj, path),
        }
    }

    pub(super) fn error(&mut self, obj: &Map<String, Value>, path: &str) {
        let p = child(path, "status");
        match field(obj, "status") {
            None => self.fail(&p, "`status` is missing; expected the HTTP status code as a string, e.g. \"404\""),
            Some(Value::String(s)) if s.parse::<u16>().is_ok_and(|n| (100..600).contains(&n)) => {}
            Some(Value::Number(n)) => self.warn(&p, format!("expected a string such as \"{n}\" (RFC 7644 section 3.12), found the number {n}; Entra tolerates it")),
            Some(v) => self.fail(&p, format!("expected the HTTP status code as a string, e.g. \"404\", found {}", describe(v))),
        }
        self.expect(obj, "detail", path, Want::Str, None);
        self.expect(obj, "scimType", path, Want::Str, None);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::fixtures::*;
    use crate::scim::urn;
    use crate::scim::validate::{Kind, Level};

    #[test]
    fn realistic_list_responses_pass() {
        let empty = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0, "Resources": [], "startIndex": 1, "itemsPerPage": 20});
        assert_eq!(check(Kind::ListResponse, &empty), []);
        assert_eq!(check(Kind::ListResponse, &list(vec![user(), group()])), []);
        let no_resources = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0});
        assert_eq!(check(Kind::ListResponse, &no_resources), []);
    }

    #[test]
    fn total_results_must_be_a_non_negative_integer() {
        let body = list(vec![user()]);
        only(
            Kind::ListResponse,
            &with(body.clone(), "/totalResults", Some(json!("1"))),
            "$.totalResults",
            Level::Fail,
            "non-negative integer",
        );
        only(
            Kind::ListResponse,
            &with(body.clone(), "/totalResults", Some(json!(-1))),
            "$.totalResults",
            Level::Fail,
            "found the number -1",
        );
        only(
            Kind::ListResponse,
            &with(body, "/totalResults", None),
            "$.totalResults",
            Level::Fail,
            "`totalResults` is missing",
        );
    }

    #[test]
    fn resources_must_be_an_array_and_present_when_there_are_results() {
        let body = list(vec![user()]);
        only(
            Kind::ListResponse,
            &with(body.clone(), "/Resources", Some(user())),
            "$.Resources",
            Level::Fail,
            "expected an array, found an object",
        );
        only(
            Kind::ListResponse,
            &with(body, "/Resources", None),
            "$.Resources",
            Level::Fail,
            "totalResults is 1",
        );
    }

    #[test]
    fn paging_fields_should_be_present_and_must_be_integers() {
        let body = list(vec![]);
        only(
            Kind::ListResponse,
            &with(body.clone(), "/startIndex", None),
            "$.startIndex",
            Level::Warn,
            "`startIndex` is missing",
        );
        only(
            Kind::ListResponse,
            &with(body, "/itemsPerPage", Some(json!("20"))),
            "$.itemsPerPage",
            Level::Fail,
            "expected an integer",
        );
    }

    #[test]
    fn listed_resources_are_checked_by_their_own_schemas() {
        let body = with(
            list(vec![user(), group()]),
            "/Resources/0/id",
            Some(json!(42)),
        );
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[0].id",
            Level::Fail,
            "found the number 42",
        );
        let body = with(
            list(vec![user(), group()]),
            "/Resources/1/members/0/value",
            Some(json!(1)),
        );
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[1].members[0].value",
            Level::Fail,
            "expected a string",
        );
        let body = with(list(vec![user()]), "/Resources/0", Some(json!("2819c223")));
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[0]",
            Level::Fail,
            "expected a resource object",
        );
        let body = with(list(vec![user()]), "/Resources/0/schemas", None);
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[0].schemas",
            Level::Fail,
            "`schemas` is missing",
        );
    }

    #[test]
    fn listed_resources_of_unknown_kinds_only_need_a_string_id() {
        let device = json!({"schemas": ["urn:acme:Device"], "id": "d1", "anything": [null, 1]});
        assert_eq!(check(Kind::ListResponse, &list(vec![device.clone()])), []);
        let body = with(list(vec![device]), "/Resources/0/id", Some(json!(5)));
        only(
            Kind::ListResponse,
            &body,
            "$.Resources[0].id",
            Level::Fail,
            "expected a string",
        );
    }

    // --- Error ----------------------------------------------------------------------------------

    #[test]
    fn realistic_errors_pass() {
        assert_eq!(check(Kind::Error, &error_404()), []);
        let conflict = json!({"schemas": [urn::ERROR], "status": "409", "scimType": "uniqueness", "detail": "userName is taken"});
        assert_eq!(check(Kind::Error, &conflict), []);
    }

    #[test]
    fn error_status_must_be_a_string_status_code() {
        only(
            Kind::Error,
            &with(error_404(), "/status", Some(json!(404))),
            "$.status",
            Level::Warn,
            "Entra tolerates it",
        );
        only(
            Kind::Error,
            &with(error_404(), "/status", None),
            "$.status",
            Level::Fail,
            "`status` is missing",
        );
        only(
            Kind::Error,
            &with(error_404(), "/status", Some(json!("Not Found"))),
            "$.status",
            Level::Fail,
            "found the string \"Not Found\"",
        );
    }

    #[test]
    fn error_detail_and_scim_type_must_be_strings() {
        only(
            Kind::Error,
            &with(error_404(), "/detail", Some(json!({"msg": "x"}))),
            "$.detail",
            Level::Fail,
            "expected a string, found an object",
        );
        only(
            Kind::Error,
            &with(error_404(), "/scimType", Some(json!(1))),
            "$.scimType",
            Level::Fail,
            "expected a string",
        );
        only(
            Kind::Error,
            &with(error_404(), "/schemas/0", Some(json!(urn::LIST_RESPONSE))),
            "$.schemas",
            Level::Fail,
            urn::ERROR,
        );
    }
}
