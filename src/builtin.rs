//! Files embedded from `scenarios/` at build time: `(path relative to the crate, contents)`.

/// Every built-in scenario and profile file, sorted by path.
pub static FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_files.rs"));
