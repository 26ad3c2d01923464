//! `scimcheck import`: a capture becomes a scenario file.

use colored::Colorize;

use crate::exit;

use super::setup::{bad_input, print_diagnostics};

/// `scimcheck import FILE --out SCENARIO.yaml`: a capture becomes a scenario file.
pub(super) fn import(args: crate::cli::ImportArgs) -> i32 {
    let file = args.file.display().to_string();
    let source = match std::fs::read_to_string(&args.file) {
        Ok(s) => s,
        Err(e) => return bad_input(&format!("cannot read {file}: {e}")),
    };
    if args.out.exists() && !args.force {
        return bad_input(&format!(
            "{} exists; nothing was written (--force overwrites it)",
            args.out.display()
        ));
    }
    let id = args.id.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .and_then(|s| s.to_str())
            .map(crate::scenario::lint::slug)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "imported".into())
    });
    let opts = crate::import::ImportOptions {
        tenant_url: args.tenant_url.clone(),
        id,
        out_name: args.out.display().to_string(),
    };
    let imported = match crate::import::import(&file, &source, &opts) {
        Ok(i) => i,
        Err(crate::import::ImportError::Input(d)) => {
            return print_diagnostics(&d, "the capture", None);
        }
        Err(crate::import::ImportError::Unusable(why)) => {
            eprintln!("{} {why}", "error:".red().bold());
            eprintln!("nothing was written");
            return exit::BAD_INPUT;
        }
    };
    if let Err(e) = std::fs::write(&args.out, &imported.yaml) {
        return bad_input(&format!("cannot write {}: {e}", args.out.display()));
    }
    eprintln!(
        "{} wrote {} ({} step(s) from {file}, Tenant URL {})",
        "ok:".green().bold(),
        args.out.display(),
        imported.steps,
        imported.tenant_url
    );
    for n in &imported.notes {
        eprintln!("  - {n}");
    }
    exit::OK
}
