//! scimcheck: a SCIM 2.0 conformance tester that replays what Microsoft Entra ID sends.
//!
//! The flow: scenario files -> [`scenario`] (load, lint) -> [`run`] (plan, send, check,
//! clean up) -> events -> [`report`] (terminal and file reporters). [`server`] is the embedded
//! reference SCIM server used by `demo` and by the tests; [`scim`] holds the SCIM knowledge.

pub mod app;
pub mod builtin;
pub mod cli;
pub mod connect;
pub mod credential;
pub mod diag;
pub mod diagnosis;
pub mod discover;
pub mod entra_error;
pub mod exit;
pub mod http;
pub mod import;
pub mod limits;
pub mod load;
pub mod pace;
pub mod profile;
pub mod proxy;
pub mod report;
pub mod run;
pub mod scenario;
pub mod scim;
pub mod select;
pub mod server;
pub mod session;
