//! Schema URNs used throughout (RFC 7643 / RFC 7644, plus Entra's non-standard group URI).

/// The core User schema.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// A list or query response.
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// An error response.
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// A PATCH request body.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// A schema resource (`/Schemas`).
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// A resource type (`/ResourceTypes`).
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// The service provider configuration.
pub const SERVICE_PROVIDER_CONFIG: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// The extra schema URI Entra puts on every group it creates.
pub const ENTRA_GROUP: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
