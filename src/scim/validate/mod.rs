//! Checks a SCIM response body against the RFC 7643 / RFC 7644 definitions and what Entra ID can
//! parse. Resources are checked by walking the schema definitions (data-driven); the message and
//! discovery documents (ListResponse, Error, Schema, ResourceType, ServiceProviderConfig) by a few
//! explicit rules. Every violation names a JSON path (`$.emails[0].value`, `$` for the root).

mod checker;
mod discovery;
#[cfg(test)]
mod fixtures;
mod kind;
mod message;
mod resource;

use std::fmt;

use serde::Serialize;

pub use checker::{Bounds, validate, validate_projected};
pub use kind::Kind;

/// How serious a violation is: `Fail` breaks Entra or the RFC, `Warn` is a tolerated deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Level {
    /// Breaks Entra or the RFC: the check fails.
    Fail,
    /// A tolerated deviation: reported, does not fail.
    Warn,
}

/// One problem found in a body: where, what was expected and found, and how serious it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// JSON path of the offending value, like `$.emails[0].value` (`$` is the root).
    pub path: String,
    /// What was expected and what was found.
    pub message: String,
    /// Fail or Warn.
    pub level: Level,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Fail => "FAIL",
            Level::Warn => "WARN",
        };
        write!(f, "{level} {}: {}", self.path, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_display_level_path_and_message() {
        let v = Violation {
            path: "$.id".into(),
            message: "expected a string".into(),
            level: Level::Fail,
        };
        assert_eq!(v.to_string(), "FAIL $.id: expected a string");
        assert_eq!(serde_json::to_value(&v).unwrap()["level"], "Fail");
    }
}
