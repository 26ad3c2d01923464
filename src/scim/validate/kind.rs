//! The kinds of body a response can be checked as, by the names scenario files use.

use std::fmt;
use std::str::FromStr;

use crate::scim::urn;

/// The kind of body a response is expected to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A User resource.
    User,
    /// A Group resource.
    Group,
    /// A list or query response.
    ListResponse,
    /// An error response.
    Error,
    /// A schema resource (`/Schemas`).
    Schema,
    /// A resource type (`/ResourceTypes`).
    ResourceType,
    /// The service provider configuration.
    ServiceProviderConfig,
}

impl Kind {
    /// Every kind, in the order of their names in error messages.
    pub const ALL: [Kind; 7] = [
        Kind::User,
        Kind::Group,
        Kind::ListResponse,
        Kind::Error,
        Kind::Schema,
        Kind::ResourceType,
        Kind::ServiceProviderConfig,
    ];

    /// The name as written in scenario files (`"ListResponse"`), also the `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
            Kind::ListResponse => "ListResponse",
            Kind::Error => "Error",
            Kind::Schema => "Schema",
            Kind::ResourceType => "ResourceType",
            Kind::ServiceProviderConfig => "ServiceProviderConfig",
        }
    }

    /// The URN the body's `schemas` must contain.
    pub fn urn(self) -> &'static str {
        match self {
            Kind::User => urn::USER,
            Kind::Group => urn::GROUP,
            Kind::ListResponse => urn::LIST_RESPONSE,
            Kind::Error => urn::ERROR,
            Kind::Schema => urn::SCHEMA,
            Kind::ResourceType => urn::RESOURCE_TYPE,
            Kind::ServiceProviderConfig => urn::SERVICE_PROVIDER_CONFIG,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown body kind `{s}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_parse_case_insensitively_and_errors_list_them() {
        for kind in Kind::ALL {
            assert_eq!(kind.name().parse::<Kind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!("listresponse".parse::<Kind>(), Ok(Kind::ListResponse));
        let err = "Users".parse::<Kind>().unwrap_err();
        assert!(
            err.contains(
                "User, Group, ListResponse, Error, Schema, ResourceType, ServiceProviderConfig"
            ),
            "{err}"
        );
    }
}
