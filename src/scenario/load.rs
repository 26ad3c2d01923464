//! Loading scenario files: parse YAML with positions, then lint; any problem becomes a
//! [`Diagnostic`] naming file, line and column. Nothing is run unless every file loads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Diagnostic, did_you_mean};

use super::lint::lint;
use super::model::Scenario;

/// A scenario that parsed and passed lint, with its source kept for later diagnostics.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// File name as given (built-in files: `scenarios/entra/....yaml`).
    pub file: String,
    /// The file's text.
    pub source: Arc<str>,
    /// The scenario id (explicit `id:` or the file stem).
    pub id: String,
    /// The parsed scenario.
    pub scenario: Scenario,
    /// Whether it is one of the built-in scenarios.
    pub builtin: bool,
}

/// Turns a serde-saphyr error into a diagnostic, with a "did you mean" for unknown keys.
pub fn yaml_diagnostic(file: &str, source: &str, err: &serde_saphyr::Error) -> Diagnostic {
    let text = err.without_snippet().to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let (line, column) = err
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((1, 1));
    let message = explain(&message, source, line, column);
    let mut d = Diagnostic::at(file, source, line, column, message.clone());
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once("`, expected one of ")
    {
        let candidates = expected.split(", ").map(|c| c.trim_matches('`'));
        if let Some(best) = did_you_mean(field, candidates) {
            d = d.with_help(format!("did you mean `{best}`?"));
        }
    }
    d
}

/// serde-saphyr's terse messages for a value of the wrong shape, said as "expected X, found Y".
fn explain(message: &str, source: &str, line: usize, column: usize) -> String {
    let found = source
        .lines()
        .nth(line.saturating_sub(1))
        .and_then(|l| l.get(l.char_indices().nth(column.saturating_sub(1))?.0..))
        .map(|rest| {
            rest.split([',', '}', ']', '#'])
                .next()
                .unwrap_or_default()
                .trim()
        })
        .filter(|f| !f.is_empty())
        .map(|f| format!(", found `{f}`"))
        .unwrap_or_default();
    let expected = match message {
        "invalid u8" | "invalid u16" | "invalid u32" | "invalid u64" | "invalid usize" => {
            "a whole number"
        }
        "invalid i32" | "invalid i64" => "an integer",
        "invalid f32" | "invalid f64" => "a number",
        "invalid bool" | "invalid boolean" => "true or false",
        "expected sequence start" => "a list (`[a, b]`, or one `- item` per line)",
        "expected mapping start" => "a mapping (`key: value` pairs)",
        "expected string scalar" => "a string",
        _ => return message.to_string(),
    };
    format!("expected {expected}{found}")
}

/// Parses and lints one scenario file.
pub fn load_str(file: &str, source: &str, builtin: bool) -> Result<Loaded, Vec<Diagnostic>> {
    let scenario: Scenario =
        serde_saphyr::from_str(source).map_err(|e| vec![yaml_diagnostic(file, source, &e)])?;
    let id = scenario.id.clone().unwrap_or_else(|| {
        Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scenario")
            .to_string()
    });
    let problems = lint(file, source, &id, &scenario);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Loaded {
        file: file.to_string(),
        source: source.into(),
        id,
        scenario,
        builtin,
    })
}

/// Every `.yaml`/`.yml` file named, directories searched recursively, in a stable order.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| io_diag(p, &e))?;
            found.sort();
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(Diagnostic::at(
                &p.display().to_string(),
                "",
                1,
                1,
                "no such file or directory",
            ));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

fn io_diag(path: &Path, e: &std::io::Error) -> Diagnostic {
    Diagnostic::at(
        &path.display().to_string(),
        "",
        1,
        1,
        format!("cannot read: {e}"),
    )
}

/// Loads every file (directories recursively). Returns all diagnostics of all files if any
/// file fails, so one run shows every problem at once; scenario ids must be unique.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Loaded>, Vec<Diagnostic>> {
    let files = expand_paths(paths).map_err(|d| vec![d])?;
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        let name = f.display().to_string();
        match std::fs::read_to_string(&f) {
            Ok(text) => match load_str(&name, &text, false) {
                Ok(l) => loaded.push(l),
                Err(mut d) => problems.append(&mut d),
            },
            Err(e) => problems.push(io_diag(&f, &e)),
        }
    }
    check_unique_ids(&loaded, &mut problems);
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(problems)
    }
}

fn check_unique_ids(loaded: &[Loaded], problems: &mut Vec<Diagnostic>) {
    for (i, l) in loaded.iter().enumerate() {
        if let Some(first) = loaded[..i].iter().find(|o| o.id == l.id) {
            problems.push(Diagnostic::at(
                &l.file,
                &l.source,
                1,
                1,
                format!("scenario id `{}` is already used by {}", l.id, first.file),
            ));
        }
    }
}

/// The built-in scenarios embedded in the binary (`scenarios/entra/*.yaml`).
pub fn builtin() -> Vec<Loaded> {
    crate::builtin::FILES
        .iter()
        .filter(|(path, _)| path.starts_with("scenarios/entra/"))
        .map(|(path, text)| {
            load_str(path, text, true).unwrap_or_else(|d| {
                let all: Vec<String> = d.iter().map(ToString::to_string).collect();
                panic!("built-in scenario {path} is invalid:\n{}", all.join("\n"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::load_str;

    fn first_error(yaml: &str) -> String {
        load_str("t.yaml", yaml, false).expect_err("should not load")[0].to_string()
    }

    #[test]
    fn wrong_types_say_what_was_expected_and_what_was_found() {
        let step = "name: s\nsteps:\n  - name: p\n    request: { method: GET, path: /Users }\n";
        assert!(
            first_error(&format!("{step}    expect: {{ status: abc }}\n")).contains(
                "expected an HTTP status code such as 200, or a list of codes such as [200, 204]"
            )
        );
        assert!(
            first_error(&format!("{step}    expect: {{ status: 42 }}\n"))
                .contains("42 is not an HTTP status code")
        );
        assert!(
            first_error(&format!("{step}    repeat: many\n"))
                .contains("expected a whole number, found `many`")
        );
        assert!(
            first_error(&format!("name: s\ntags: users\n{}", &step[8..]))
                .contains("expected a list")
        );
    }

    /// `lint` rejects every template `run` could not resolve: bracket indexing, a name used as
    /// the index of a captured list, an empty field. `{{ ids.0 }}` is the documented form.
    #[test]
    fn templates_that_run_would_reject_fail_lint() {
        let file = |use_: &str| {
            format!(
                "name: s\nsteps:\n  - name: list\n    request: {{ method: GET, path: /Users }}\n    capture: {{ ids: /Resources/*/id }}\n  - name: use\n    request: {{ method: GET, path: \"/Users/{use_}\" }}\n"
            )
        };
        assert!(load_str("t.yaml", &file("{{ ids.0 }}"), false).is_ok());
        assert!(first_error(&file("{{ ids[0] }}")).contains("write `{{ ids.0 }}`"));
        assert!(first_error(&file("{{ ids.0x }}")).contains("`ids` is a list"));
        assert!(first_error(&file("{{ ids..0 }}")).contains("invalid field ``"));
    }

    #[test]
    fn unknown_keys_suggest_the_closest_known_one() {
        let e = first_error(
            "name: s\nsteps:\n  - name: p\n    requst: { method: GET, path: /Users }\n",
        );
        assert!(
            e.contains("unknown field `requst`") && e.contains("did you mean `request`?"),
            "{e}"
        );
        assert!(e.contains("t.yaml:4:5"), "{e}");
    }
}
