//! Why a PATCH was refused: the status and RFC 7644 `scimType` of each refusal.

use std::fmt;

use super::target::Target;

/// Why a PATCH was refused: HTTP status (always 400) and the RFC 7644 `scimType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    /// HTTP status code (400).
    pub status: u16,
    /// `invalidPath`, `noTarget`, `invalidValue`, `invalidSyntax` or `mutability`.
    pub scim_type: &'static str,
    /// Human-readable detail, naming the operation.
    pub detail: String,
}

impl PatchError {
    pub(super) fn new(scim_type: &'static str, detail: impl Into<String>) -> Self {
        PatchError {
            status: 400,
            scim_type,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.scim_type, self.detail)
    }
}

impl std::error::Error for PatchError {}

pub(super) fn invalid_path(detail: impl Into<String>) -> PatchError {
    PatchError::new("invalidPath", detail)
}

pub(super) fn invalid_value(detail: impl Into<String>) -> PatchError {
    PatchError::new("invalidValue", detail)
}

pub(super) fn multi_valued_sub(t: &Target, sub: &str) -> PatchError {
    invalid_path(format!(
        "`{0}` is multi-valued: select values with a filter, as in `{0}[type eq \"work\"].{sub}`",
        t.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_names_status_and_scim_type() {
        let e = PatchError::new("noTarget", "remove needs a `path`");
        assert_eq!(e.to_string(), "400 (noTarget): remove needs a `path`");
    }
}
