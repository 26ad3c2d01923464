//! scimcheck: a SCIM 2.0 conformance tester that replays what Microsoft Entra ID sends.
//!
//! The flow: scenario files -> [`scenario`] (load, lint) -> [`plan`] (what runs, in which
//! dialects, against what the server publishes) -> [`run`] (send, check, clean up) -> live
//! events -> [`report`] (terminal and file reporters). [`commands`] wires the stages together
//! for each command. [`server`] is the embedded reference SCIM server used by `demo` and by the
//! tests; [`scim`] holds the SCIM knowledge.

pub mod builtin;
pub mod cli;
pub mod commands;
pub mod connect;
pub mod credential;
pub mod diag;
pub mod diagnosis;
pub mod discover;
pub mod entra_error;
pub mod escape;
pub mod exit;
pub mod http;
pub mod import;
pub mod limits;
pub mod loadtest;
pub mod pace;
pub mod plan;
pub mod profile;
pub mod proxy;
pub mod report;
pub mod run;
pub mod scenario;
pub mod scim;

pub mod server;
pub mod session;
