//! SCIM knowledge as data and pure functions: RFC 7643 schemas, resource validation, the filter
//! and PATCH path grammar, PATCH application, and Entra's two PATCH dialects.

pub mod dialect;
pub mod filter;
pub mod json;
pub mod json_path;
pub mod patch;
pub mod path;
pub mod schema;
pub mod shape;
pub mod validate;

/// Schema URNs used throughout (RFC 7643 / RFC 7644, plus Entra's non-standard group URI).
pub mod urn {
    pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
    pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
    pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    pub const SERVICE_PROVIDER_CONFIG: &str =
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    /// The extra schema URI Entra puts on every group it creates.
    pub const ENTRA_GROUP: &str =
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
}

/// Checks a schema name used in a scenario's `expect.schema`.
pub fn check_kind_name(name: &str) -> Result<(), String> {
    name.parse::<validate::Kind>().map(|_| ())
}

/// Checks the syntax of a SCIM filter used in a scenario.
pub fn validate_filter(f: &str) -> Result<(), String> {
    filter::parse_filter(f)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Checks the syntax of a PATCH attribute path used in a scenario (templates are allowed).
pub fn validate_patch_path(path: &str) -> Result<(), String> {
    if path.contains("{{") {
        return Ok(());
    }
    filter::parse_patch_path(path)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
