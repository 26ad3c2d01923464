//! Scenarios: the YAML model, loading with `file:line:col` diagnostics, lint, templates,
//! captures, and the built-in Entra suite embedded in the binary.

pub mod capture;
pub mod lint;
pub mod load;
pub mod model;
pub mod parity;
pub mod template;

pub use crate::scim::dialect::Dialect;
pub use lint::check_id;
pub use load::{Loaded, builtin, load_paths, load_str};
pub use model::{Evidence, Scenario, Severity, Step, Strictness};
