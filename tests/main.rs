//! The one integration test crate (as ripgrep does): every file in tests/ is a module of this
//! binary, so the suite links once and runs in one process. Run one area with
//! `cargo test --test integration cli::`.

mod common;
mod rogue;

mod architecture;
mod bounds;
mod browser;
mod cli;
mod connect;
mod corpus;
mod detection_matrix;
mod discover;
mod faults;
mod fuzz;
mod hostile;
mod import;
mod install;
mod jobs;
mod load;
mod oauth;
mod profiles;
mod proxy;
mod reports;
mod safety;
mod secrets;
mod selection;
mod suite;
