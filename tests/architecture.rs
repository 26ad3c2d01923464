//! The architecture as a test: which top-level modules of `src/` may use which (`crate::x` edges),
//! and which may print. ARCHITECTURE.md states the same rules in prose; when a rule must change,
//! change both. The scan reads source text, skipping comments, so doc links do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Leaf utilities any module may use: they use nothing of the crate themselves.
const LEAVES: &[&str] = &["pace", "diag", "builtin", "escape"];

/// For each top-level module, the other top-level modules it may use (besides [`LEAVES`]).
/// The flow is `scenario -> plan -> run -> (events) -> report`, with `commands` on top wiring
/// the stages together; `http` is transport only and `scim` is pure SCIM knowledge.
const MAY_USE: &[(&str, &[&str])] = &[
    // SCIM knowledge as data and pure functions: nothing else.
    ("scim", &[]),
    // Bounds: the validator's come from scim.
    ("limits", &["scim"]),
    // Transport: HTTP only (credential acquires OAuth tokens over it).
    ("http", &["credential", "limits"]),
    ("credential", &["http"]),
    // Load: scenario files and profiles.
    ("scenario", &["scim", "http", "limits", "profile"]),
    (
        "profile",
        &["scenario", "scim", "http", "limits", "credential"],
    ),
    // Plan: what runs, from one read of /Schemas.
    (
        "plan",
        &["scenario", "profile", "scim", "http", "credential", "run"],
    ),
    // Run: executes a plan and emits events.
    (
        "run",
        &[
            "plan",
            "scenario",
            "scim",
            "http",
            "limits",
            "credential",
            "entra_error",
        ],
    ),
    ("entra_error", &["scenario", "scim", "http", "run"]),
    // Reporters render events and the other commands' results; they send nothing.
    (
        "report",
        &[
            "run",
            "plan",
            "scenario",
            "scim",
            "http",
            "limits",
            "entra_error",
            "loadtest",
            "connect",
            "discover",
            "diagnosis",
            "profile",
            "proxy",
            "exit",
        ],
    ),
    // The other commands' engines.
    ("diagnosis", &[]),
    (
        "connect",
        &[
            "diagnosis",
            "credential",
            "entra_error",
            "exit",
            "http",
            "limits",
            "scenario",
            "scim",
        ],
    ),
    (
        "discover",
        &[
            "diagnosis",
            "connect",
            "credential",
            "exit",
            "http",
            "limits",
            "scim",
        ],
    ),
    ("import", &["scenario", "scim", "http", "run"]),
    ("loadtest", &["scenario", "scim", "http", "run", "exit"]),
    (
        "proxy",
        &["scenario", "scim", "http", "limits", "run", "report"],
    ),
    ("server", &["scim", "http", "credential", "limits"]),
    // Exit codes, decided in one place from the run's summary and load's report.
    ("exit", &["run", "loadtest"]),
    // The process: signals and the panic hook (it reports what is left to clean up).
    ("session", &["exit", "http", "run"]),
    ("cli", &["report", "loadtest", "limits", "pace"]),
    ("commands", &["*"]),
    ("main", &["*"]),
    ("lib", &["*"]),
];

/// Edges that break the rules today and are being removed. An entry that no longer matches the
/// code fails the test, so this list only shrinks.
const PENDING: &[(&str, &str)] = &[
    // The profile stage judges the scenarios it generates with the runner's expectation checker
    // (profile/generate.rs); the checker belongs in scim (pure) or the plan.
    ("profile", "run"),
];

/// Modules that may print (`print!`, `println!`, `eprint!`, `eprintln!`) or colour output.
const MAY_PRINT: &[&str] = &["commands", "report", "main", "session"];

/// Files outside [`MAY_PRINT`] that print today, with the reason; stale entries fail.
const PRINT_EXCEPTIONS: &[(&str, &str)] = &[];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file under `src/` belongs to (`src/run/step.rs` -> `run`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// Source text without comments (line comments, doc comments and block comments) and string
/// literal contents, so prose and messages mentioning `crate::x` or `println!` do not count.
fn code_only(text: &str) -> String {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let next = bytes.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < bytes.len() && bytes[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < bytes.len() {
                if bytes[i] == '/' && bytes.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if bytes[i] == '*' && bytes.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&bytes, i)
        {
            // Raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while bytes.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if bytes.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            'raw: while j < bytes.len() {
                if bytes[j] == '"' && (0..hashes).all(|h| bytes.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break 'raw;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && next.is_some() && bytes.get(i + 2) == Some(&'\'') {
            // A char literal such as '"'.
            out.push_str("' '");
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            while i < bytes.len() && !(bytes[i] == '\'' && i > 0 && bytes[i - 1] != '\\') {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(bytes: &[char], i: usize) -> bool {
    i > 0 && (bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_')
}

/// The top-level modules named by `crate::x` paths in `code`, including grouped imports
/// (`use crate::{a::B, c};`).
fn crate_edges(code: &str) -> BTreeSet<String> {
    let mut edges = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `mycrate::`, `$crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut name = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        at_start = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 1 && at_start {
                    if c.is_alphanumeric() || c == '_' {
                        name.push(c);
                        continue;
                    }
                    if !name.is_empty() {
                        edges.insert(std::mem::take(&mut name));
                        at_start = false;
                    }
                }
            }
            if !name.is_empty() {
                edges.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                edges.insert(name);
            }
        }
    }
    edges
}

fn prints(code: &str) -> bool {
    ["println!", "eprintln!", "print!", "eprint!", "use colored"]
        .iter()
        .any(|m| {
            code.match_indices(m).any(|(at, _)| {
                !code[..at]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
}

struct Scan {
    /// (from module, to module) -> files with that edge.
    edges: BTreeMap<(String, String), Vec<String>>,
    /// Files that print, with their module.
    printing: Vec<(String, String)>,
    modules: BTreeSet<String>,
}

fn scan() -> Scan {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut scan = Scan {
        edges: BTreeMap::new(),
        printing: Vec::new(),
        modules: BTreeSet::new(),
    };
    for file in files {
        let module = module_of(&src, &file);
        let rel = file
            .strip_prefix(src.parent().expect("root"))
            .expect("rel")
            .to_string_lossy()
            .replace('\\', "/");
        let code = code_only(&std::fs::read_to_string(&file).expect("read"));
        scan.modules.insert(module.clone());
        for to in crate_edges(&code) {
            if to != module {
                scan.edges
                    .entry((module.clone(), to))
                    .or_default()
                    .push(rel.clone());
            }
        }
        if prints(&code) {
            scan.printing.push((module.clone(), rel));
        }
    }
    scan
}

fn allowed(from: &str, to: &str) -> bool {
    if LEAVES.contains(&to) {
        return true;
    }
    MAY_USE
        .iter()
        .find(|(m, _)| *m == from)
        .is_some_and(|(_, may)| may.contains(&"*") || may.contains(&to))
}

#[test]
fn every_module_has_a_row_in_the_dependency_table() {
    let scan = scan();
    let missing: Vec<&String> = scan
        .modules
        .iter()
        .filter(|m| !LEAVES.contains(&m.as_str()) && !MAY_USE.iter().any(|(n, _)| n == *m))
        .collect();
    assert!(
        missing.is_empty(),
        "modules with no row in MAY_USE (tests/architecture.rs) or ARCHITECTURE.md: {missing:?}"
    );
    let stale: Vec<&str> = MAY_USE
        .iter()
        .map(|(m, _)| *m)
        .filter(|m| !scan.modules.contains(*m))
        .collect();
    assert!(
        stale.is_empty(),
        "MAY_USE rows for modules that no longer exist: {stale:?}"
    );
}

#[test]
fn leaf_modules_use_nothing_of_the_crate() {
    let scan = scan();
    let bad: Vec<String> = scan
        .edges
        .iter()
        .filter(|((from, _), _)| LEAVES.contains(&from.as_str()))
        .map(|((from, to), files)| format!("{from} -> {to} ({})", files.join(", ")))
        .collect();
    assert!(
        bad.is_empty(),
        "leaf modules must stay leaves:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_module_imports_across_a_forbidden_boundary() {
    let scan = scan();
    let mut bad = Vec::new();
    for ((from, to), files) in &scan.edges {
        let pending = PENDING.iter().any(|(f, t)| f == from && t == to);
        if !allowed(from, to) && !pending {
            bad.push(format!("{from} -> {to} (in {})", files.join(", ")));
        }
    }
    assert!(
        bad.is_empty(),
        "forbidden module edges (see ARCHITECTURE.md):\n{}",
        bad.join("\n")
    );
    let stale: Vec<String> = PENDING
        .iter()
        .filter(|(f, t)| allowed(f, t) || !scan.edges.contains_key(&(f.to_string(), t.to_string())))
        .map(|(f, t)| format!("{f} -> {t}"))
        .collect();
    assert!(
        stale.is_empty(),
        "PENDING entries that are fixed now; remove them: {stale:?}"
    );
}

#[test]
fn only_commands_and_reporters_print() {
    let scan = scan();
    let bad: Vec<String> = scan
        .printing
        .iter()
        .filter(|(module, file)| {
            !MAY_PRINT.contains(&module.as_str())
                && !PRINT_EXCEPTIONS.iter().any(|(f, _)| f == file)
        })
        .map(|(_, file)| file.clone())
        .collect();
    assert!(
        bad.is_empty(),
        "files that print outside commands/ and report/: {bad:?}"
    );
    let stale: Vec<&str> = PRINT_EXCEPTIONS
        .iter()
        .map(|(f, _)| *f)
        .filter(|f| !scan.printing.iter().any(|(_, p)| p == f))
        .collect();
    assert!(
        stale.is_empty(),
        "PRINT_EXCEPTIONS that no longer print: {stale:?}"
    );
}

#[test]
fn the_scanner_sees_grouped_imports_and_ignores_comments_and_strings() {
    let code = code_only(
        "use crate::{http::Client, run::{a, b}};\n// crate::report\n/// [`crate::plan`]\nlet s = \"crate::app println!\";\nuse crate::scim::x;\n",
    );
    let edges: Vec<String> = crate_edges(&code).into_iter().collect();
    assert_eq!(edges, ["http", "run", "scim"]);
    assert!(!prints(&code));
    assert!(prints("fn f() { eprintln!(\"x\"); }"));
    assert!(!prints("fn f() { writeln!(out); }"));
}
