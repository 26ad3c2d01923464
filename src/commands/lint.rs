//! `scimcheck lint`: scenario files checked without sending anything.

use colored::Colorize;

use crate::cli::LintArgs;
use crate::exit;

use super::setup::print_diagnostics;

/// `scimcheck lint`.
pub(super) fn lint(args: LintArgs) -> i32 {
    match crate::scenario::load_paths(&args.paths) {
        Ok(loaded) => {
            let steps: usize = loaded.iter().map(|l| l.scenario.steps.len()).sum();
            println!(
                "{} {} scenario file(s), {steps} step(s): all valid",
                "ok:".green().bold(),
                loaded.len()
            );
            exit::OK
        }
        Err(d) => print_diagnostics(&d, "scenario files", None),
    }
}
