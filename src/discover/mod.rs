//! `scimcheck discover`: fetches `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`,
//! validates them, and shows what the endpoint says it supports (features, resource types,
//! every attribute with its characteristics) and the problems Entra would trip over: nulls,
//! wrongly cased characteristic values, a missing enterprise extension, resource types naming
//! schemas that `/Schemas` lacks.

mod checks;
mod published;

use serde::Serialize;
use serde_json::Value;

use checks::{Fetched, Problems, fetch};
use published::{features, items, resource_type, schema_info};

use crate::diagnosis::{self, Code, Severity};
use crate::exit;
use crate::http::{Client, ClientOptions, TenantUrl};
use crate::scim::urn;
use crate::scim::validate::Kind;

/// One discovery endpoint fetched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// `/Schemas` etc.
    pub path: String,
    pub url: String,
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub elapsed_ms: u64,
    /// The transport error, when nothing came back.
    pub error: Option<String>,
}

/// What `/ServiceProviderConfig` says (absent members stay `None`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Features {
    pub patch: Option<bool>,
    pub bulk: Option<bool>,
    pub bulk_max_operations: Option<i64>,
    pub bulk_max_payload_size: Option<i64>,
    pub filter: Option<bool>,
    pub filter_max_results: Option<i64>,
    pub sort: Option<bool>,
    pub etag: Option<bool>,
    pub change_password: Option<bool>,
    pub authentication_schemes: Vec<AuthScheme>,
}

/// One `authenticationSchemes` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthScheme {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub primary: Option<bool>,
}

/// One resource type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceType {
    pub name: Option<String>,
    pub endpoint: Option<String>,
    pub schema: Option<String>,
    pub extensions: Vec<Extension>,
}

/// A schema extension of a resource type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extension {
    pub schema: Option<String>,
    pub required: Option<bool>,
}

/// One published schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub attributes: Vec<AttributeInfo>,
}

/// An attribute definition exactly as published: values are the raw JSON (absent members are
/// left out, `null`s kept), so wrong casing and nulls stay visible.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeInfo {
    pub name: Option<Value>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_valued: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutability: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uniqueness: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_exact: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<AttributeInfo>,
}

/// What a `discover` finding is about: the endpoint it was found in, and in how many places.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The endpoint it was found in (`/Schemas`, ...).
    pub endpoint: String,
    /// How many places.
    pub count: usize,
}

/// A problem `discover` found: a stable code (`discovery.nulls`, `discovery.casing`,
/// `discovery.schema-missing`, ...), the message, the first few places as details (readable
/// paths, with the message where it varies) and the fix. An `error` makes the exit code 1.
pub type Problem = diagnosis::Finding<Place>;

/// A problem of `code` found in `endpoint`, in `count` places.
pub(crate) fn problem(
    code: Code,
    severity: Severity,
    endpoint: &str,
    message: impl Into<String>,
    count: usize,
) -> Problem {
    diagnosis::Finding::new(
        code,
        severity,
        message,
        Place {
            endpoint: endpoint.to_string(),
            count,
        },
    )
}

/// The JSON form of a problem (documented in the README).
impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut p = s.serialize_struct("Problem", 7)?;
        p.serialize_field("code", &self.code)?;
        p.serialize_field("severity", &self.severity)?;
        p.serialize_field("endpoint", &self.context.endpoint)?;
        p.serialize_field("message", &self.title)?;
        p.serialize_field("fix", &self.fix)?;
        p.serialize_field("count", &self.context.count)?;
        p.serialize_field("examples", &self.details)?;
        p.end()
    }
}

/// Everything `discover` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscoverReport {
    pub tenant_url: String,
    pub endpoints: Vec<Endpoint>,
    pub service_provider_config: Option<Features>,
    pub resource_types: Option<Vec<ResourceType>>,
    pub schemas: Option<Vec<SchemaInfo>>,
    pub problems: Vec<Problem>,
    /// 0 well-formed (warnings allowed), 1 problems, 3 unreachable.
    pub exit_code: i32,
}

impl DiscoverReport {
    /// Whether a problem with this code is present.
    pub fn has(&self, code: &str) -> bool {
        self.problems.iter().any(|p| p.code.as_str() == code)
    }
}

/// Fetches and checks the three discovery documents of `target`.
/// Errors only for an unusable setup (a bad `--ca-cert`).
pub async fn discover(
    target: TenantUrl,
    token: impl Into<crate::credential::Credential>,
    options: ClientOptions,
) -> Result<DiscoverReport, String> {
    let mut options = options;
    options.read_only = true;
    let tenant_url = target.to_string();
    let client = Client::new(target, token, options)?;
    let mut endpoints = Vec::new();
    let mut problems = Problems(Vec::new());
    let mut report = DiscoverReport {
        tenant_url,
        endpoints: vec![],
        service_provider_config: None,
        resource_types: None,
        schemas: None,
        problems: vec![],
        exit_code: exit::OK,
    };

    let spc = fetch(
        &client,
        "/ServiceProviderConfig",
        Kind::ServiceProviderConfig,
        &mut endpoints,
        &mut problems,
    )
    .await;
    if matches!(spc, Fetched::Unreachable) {
        report.endpoints = endpoints;
        report.problems = problems.0;
        report.exit_code = exit::UNREACHABLE;
        return Ok(report);
    }
    if let Fetched::Body(b) = &spc {
        report.service_provider_config = Some(features(b));
    }
    let rts = fetch(
        &client,
        "/ResourceTypes",
        Kind::ResourceType,
        &mut endpoints,
        &mut problems,
    )
    .await;
    if let Fetched::Body(b) = &rts {
        report.resource_types = Some(items(b).iter().map(resource_type).collect());
    }
    let schemas = fetch(
        &client,
        "/Schemas",
        Kind::Schema,
        &mut endpoints,
        &mut problems,
    )
    .await;
    if let Fetched::Body(b) = &schemas {
        report.schemas = Some(items(b).iter().map(schema_info).collect());
    }

    // Entra's default user mapping writes the enterprise extension.
    if let Some(list) = &report.schemas {
        let has = list.iter().any(|s| {
            s.id.as_deref()
                .is_some_and(|id| id.eq_ignore_ascii_case(urn::ENTERPRISE_USER))
        });
        if !has {
            problems.push(
problem(Code::DiscoveryEnterpriseExtensionMissing, Severity::Warning, "/Schemas", "/Schemas does not publish the enterprise User extension", 1).fix(format!("Entra's default user mapping sends employeeNumber, department, costCenter, organization, division and manager in `{}`: publish that schema (and support it), or remove those mappings in Entra.", urn::ENTERPRISE_USER)),
);
        }
    }
    if let Some(list) = &report.resource_types {
        let user = list.iter().find(|rt| {
            rt.schema
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(urn::USER))
        });
        match user {
            None => problems.push(problem(
                Code::DiscoveryResourceTypeMissing,
                Severity::Warning,
                "/ResourceTypes",
                "/ResourceTypes lists no resource type for the core User schema",
                1,
            )),
            Some(rt)
                if !rt.extensions.iter().any(|e| {
                    e.schema
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(urn::ENTERPRISE_USER))
                }) =>
            {
                problems.push(
problem(Code::DiscoveryEnterpriseExtensionMissing, Severity::Warning, "/ResourceTypes", "The User resource type does not declare the enterprise User extension", 1).fix(format!("Add `{{\"schema\":\"{}\",\"required\":false}}` to the User resource type's schemaExtensions if the endpoint supports it; Entra's default mapping uses it.", urn::ENTERPRISE_USER)),
);
            }
            Some(_) => {}
        }
        if let Some(published) = &report.schemas {
            let known = |urn: &str| {
                published.iter().any(|s| {
                    s.id.as_deref()
                        .is_some_and(|id| id.eq_ignore_ascii_case(urn))
                })
            };
            let mut missing: Vec<String> = Vec::new();
            for rt in list {
                let named = rt
                    .schema
                    .iter()
                    .chain(rt.extensions.iter().filter_map(|e| e.schema.as_ref()));
                for urn in named {
                    if !known(urn) {
                        missing.push(format!(
                            "{} names {urn}",
                            rt.name.as_deref().unwrap_or("a resource type")
                        ));
                    }
                }
            }
            if !missing.is_empty() {
                problems.push(
                    problem(
                        Code::DiscoverySchemaMissing,
                        Severity::Error,
                        "/ResourceTypes",
                        format!(
                            "/ResourceTypes names {} schema(s) that /Schemas does not publish",
                            missing.len()
                        ),
                        missing.len(),
                    )
                    .details(missing.clone()),
                );
            }
        }
    }

    report.endpoints = endpoints;
    report.problems = problems.0;
    report
        .problems
        .sort_by_key(|p| (p.severity, endpoint_rank(&p.context.endpoint)));
    report.exit_code = if report
        .problems
        .iter()
        .any(|p| p.severity == Severity::Error)
    {
        exit::CHECK_FAILED
    } else {
        exit::OK
    };
    Ok(report)
}

fn endpoint_rank(e: &str) -> u8 {
    match e {
        "/ServiceProviderConfig" => 0,
        "/ResourceTypes" => 1,
        _ => 2,
    }
}
