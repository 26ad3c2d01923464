//! `scimcheck explain`: the catalogue of Entra's provisioning errors.

use crate::exit;

/// `scimcheck explain [CODE|MESSAGE]`: the catalogue entry (or entries) a code or a pasted log
/// message names; every code when nothing is given. Nothing found is a usage error (exit 2).
pub(super) fn explain(args: crate::cli::ExplainArgs) -> i32 {
    use crate::entra_error::{Code, explain};
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        print!("{}", crate::report::explain::list(&Code::ALL));
        return exit::OK;
    }
    let found = explain(&query);
    if found.is_empty() {
        eprint!("{}", crate::report::explain::not_found(&query));
        return exit::BAD_INPUT;
    }
    print!("{}", crate::report::explain::render(&found));
    exit::OK
}
