//! Embeds every file under `scenarios/` into the binary (see `src/builtin.rs`), and records the
//! git commit for `scimcheck --version` (`SCIMCHECK_GIT_COMMIT`): taken from the environment
//! when set (a Docker build without `.git`), else asked of a local `git` (no network), else
//! `unknown` (a source tarball). A checkout without `.git` or without `git` still builds.

use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The short commit hash, and the files whose change means a new one.
fn git_commit(root: &Path) -> (String, Vec<String>) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return ("unknown".into(), vec![]);
    };
    let mut watch = Vec::new();
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        watch.push(format!("{dir}/HEAD"));
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or(dir.clone());
            let common = if Path::new(&common).is_absolute() {
                common
            } else {
                root.join(common).display().to_string()
            };
            watch.push(format!("{common}/{r}"));
            watch.push(format!("{common}/packed-refs"));
        }
    }
    (commit, watch)
}

fn main() {
    println!("cargo:rerun-if-changed=scenarios");
    println!("cargo:rerun-if-env-changed=SCIMCHECK_GIT_COMMIT");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let commit = match std::env::var("SCIMCHECK_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            let (commit, watch) = git_commit(Path::new(&manifest));
            for f in watch.iter().filter(|f| Path::new(f).exists()) {
                println!("cargo:rerun-if-changed={f}");
            }
            commit
        }
    };
    println!("cargo:rustc-env=SCIMCHECK_GIT_COMMIT={commit}");
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let mut files = Vec::new();
    walk(&Path::new(&root).join("scenarios"), &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for f in &files {
        let rel = f.strip_prefix(&format!("{root}/")).unwrap_or(f);
        code.push_str(&format!("    ({rel:?}, include_str!({f:?})),\n"));
        println!("cargo:rerun-if-changed={f}");
    }
    code.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("builtin_files.rs");
    std::fs::write(out, code).expect("write builtin_files.rs");
}
