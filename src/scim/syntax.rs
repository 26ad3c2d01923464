//! The SCIM syntax a scenario file may use, checked when it is linted: body kind names, filters
//! and PATCH paths.

use super::{filter, validate};

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
