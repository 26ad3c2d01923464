//! SCIM knowledge as plain data and pure functions, depending on nothing else in the crate:
//!
//! - `urn`, `schema`: the RFC 7643 schema URNs and definitions (built in, or as published).
//! - `json`, `json_path`: case-insensitive member access and the `$.a[0].b` paths of findings.
//! - `path`, `filter`: attribute paths, the filter and PATCH path grammar, filter evaluation.
//! - `validate`: a response body checked against the RFCs and what Entra can parse.
//! - `patch`: PATCH applied the lenient way Entra's two dialects need.
//! - `dialect`, `shape`: Entra's PATCH dialects, and which of Entra's requests a request is.

#![warn(missing_docs)]

pub mod dialect;
pub mod filter;
pub mod json;
pub mod json_path;
pub mod patch;
pub mod path;
pub mod schema;
pub mod shape;
pub mod urn;
pub mod validate;

mod syntax;

pub use syntax::{check_kind_name, validate_filter, validate_patch_path};
