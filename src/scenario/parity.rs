//! The Microsoft SCIM Validator's tests side by side with the scimcheck checks that cover them
//! (`scenarios/validator-parity.yaml`, printed by `scimcheck list --validator`).

use serde::Deserialize;

/// The parity table: the validator's mandatory and preview tests, in its order.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Parity {
    pub mandatory: Vec<ParityRow>,
    pub preview: Vec<ParityRow>,
}

/// One validator test and the check ids that cover it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParityRow {
    pub name: String,
    pub checks: Vec<String>,
}

/// The embedded parity table.
pub fn validator_parity() -> Parity {
    let (path, text) = crate::builtin::FILES
        .iter()
        .find(|(path, _)| *path == "scenarios/validator-parity.yaml")
        .expect("scenarios/validator-parity.yaml is embedded");
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{path} is invalid: {e}"))
}

/// Microsoft's SCIM Validation Logic App, test by test (`scenarios/logic-app-parity.yaml`,
/// printed by `scimcheck list --logic-app`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogicAppParity {
    pub tests: Vec<LogicAppRow>,
}

/// One Logic App test, the checks covering it, and what scimcheck does not replay of it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogicAppRow {
    pub name: String,
    /// `mandatory` or `optional` (an optional failure is a warning in the Logic App).
    pub category: String,
    pub checks: Vec<String>,
    /// What is not covered; with `checks`, the coverage is partial.
    #[serde(default)]
    pub gap: Option<String>,
}

/// The embedded Logic App table.
pub fn logic_app_parity() -> LogicAppParity {
    let (path, text) = crate::builtin::FILES
        .iter()
        .find(|(path, _)| *path == "scenarios/logic-app-parity.yaml")
        .expect("scenarios/logic-app-parity.yaml is embedded");
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{path} is invalid: {e}"))
}
