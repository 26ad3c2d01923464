//! Installing scimcheck like a tool: the GitHub Action's inputs are the ones the README
//! documents and its first step fails loudly without a URL or token, the README's workflow uses
//! the action, the Dockerfile's build stage runs the README's install command and its runtime
//! stage is not root, and `--version` names the commit. (Docker itself cannot run here: the
//! image build is not exercised.)

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("valid YAML")
}

/// The lines of the README section that starts with `heading`, up to the next heading of the
/// same or a higher level.
fn section(readme: &str, heading: &str) -> String {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = readme.lines().skip_while(|l| l.trim() != heading);
    let mut out = vec![lines.next().expect("the heading exists").to_string()];
    for l in lines {
        let hashes = l.chars().take_while(|c| *c == '#').count();
        if hashes > 0 && hashes <= level && l.chars().nth(hashes) == Some(' ') {
            break;
        }
        out.push(l.to_string());
    }
    out.join("\n")
}

/// The fenced code blocks of `text` with the given language.
fn code_blocks(text: &str, lang: &str) -> Vec<String> {
    let open = format!("```{lang}");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for l in text.lines() {
        match &mut current {
            None if l.trim() == open => current = Some(Vec::new()),
            Some(_) if l.trim() == "```" => blocks.push(current.take().unwrap().join("\n")),
            Some(b) => b.push(l),
            None => {}
        }
    }
    blocks
}

#[test]
fn the_action_has_exactly_the_inputs_the_readme_documents_and_url_and_token_are_required() {
    let action = yaml(&read("action.yml"));
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().expect("inputs");
    let names: BTreeSet<&str> = inputs.keys().map(String::as_str).collect();
    assert_eq!(names, BTreeSet::from(["url", "token", "dialect", "report"]));
    for name in ["url", "token"] {
        assert_eq!(inputs[name]["required"], true, "{name} is required");
    }
    let readme = read("README.md");
    let gh = section(&readme, "### GitHub Actions");
    let documented: BTreeSet<String> = gh
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    let names: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
    assert_eq!(documented, names, "the README's input table");
}

#[test]
fn the_readme_workflow_uses_the_action_with_url_and_token_from_secrets() {
    let readme = read("README.md");
    let gh = section(&readme, "### GitHub Actions");
    let blocks = code_blocks(&gh, "yaml");
    assert_eq!(blocks.len(), 1, "one workflow");
    let workflow = yaml(&blocks[0]);
    let steps = workflow["jobs"]["scimcheck"]["steps"]
        .as_array()
        .expect("steps");
    let step = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.ends_with("/scimcheck@v0.1.0"))
        })
        .expect("a step uses the action, pinned by tag");
    let with = step["with"].as_object().expect("with");
    assert_eq!(with["url"], "${{ secrets.SCIM_URL }}");
    assert_eq!(with["token"], "${{ secrets.SCIM_TOKEN }}");
    let action = yaml(&read("action.yml"));
    for key in with.keys() {
        assert!(action["inputs"].get(key).is_some(), "{key} is an input");
    }
    assert!(
        !blocks[0].contains("serve"),
        "the workflow never starts the embedded server"
    );
}

/// Runs the action's input check as the runner would, with these inputs.
fn input_check(url: &str, token: &str) -> (i32, String) {
    let action = yaml(&read("action.yml"));
    let step = &action["runs"]["steps"][0];
    assert_eq!(step["name"], "Check the inputs");
    assert_eq!(step["env"]["SCIM_URL"], "${{ inputs.url }}");
    assert_eq!(step["env"]["SCIM_TOKEN"], "${{ inputs.token }}");
    let out = Command::new("bash")
        .args(["-c", step["run"].as_str().expect("run")])
        .env("SCIM_URL", url)
        .env("SCIM_TOKEN", token)
        .output()
        .expect("bash runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_action_fails_loudly_when_the_url_or_the_token_is_missing() {
    let (code, out) = input_check("", "tok");
    assert_eq!(code, 1);
    assert!(
        out.contains("::error") && out.contains("url input is empty"),
        "{out}"
    );
    assert!(out.contains("does not fall back to its embedded server"));
    let (code, out) = input_check("https://h/scim", "");
    assert_eq!(code, 1);
    assert!(out.contains("token input is empty"), "{out}");
    let (code, out) = input_check("", "");
    assert_eq!(code, 1);
    assert_eq!(out.matches("::error").count(), 2, "both are named");
    let (code, out) = input_check("https://h/scim", "tok");
    assert_eq!((code, out.as_str()), (0, ""));
    let action = read("action.yml");
    assert!(
        !action.contains("--embedded")
            && !action.contains("scimcheck serve")
            && !action.contains("demo"),
        "no step can test the embedded server"
    );
}

/// The Dockerfile's stages: (FROM line, instructions).
fn stages(dockerfile: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for l in dockerfile.lines().map(str::trim) {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.starts_with("FROM ") {
            out.push((l.to_string(), Vec::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push(l.to_string());
        }
    }
    out
}

#[test]
fn the_dockerfile_builds_with_the_readmes_install_command_and_runs_as_a_non_root_user() {
    let dockerfile = read("Dockerfile");
    let stages = stages(&dockerfile);
    assert_eq!(stages.len(), 2, "multi-stage: build, then runtime");
    let (from, build) = &stages[0];
    assert!(from.ends_with(" AS build"), "{from}");
    let msrv = read("Cargo.toml")
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .map(|v| v.trim_matches('"').to_string())
        .expect("rust-version");
    assert!(
        from.contains(&format!("rust:{msrv}")),
        "the build stage uses the minimum Rust version {msrv}: {from}"
    );
    let runs: Vec<&str> = build
        .iter()
        .filter_map(|i| i.strip_prefix("RUN "))
        .collect();
    assert!(!runs.is_empty());
    let readme = read("README.md");
    let install = section(&readme, "## Install");
    for run in &runs {
        // The image installs into its own root; the command is otherwise the README's.
        let command = run.split(" --root ").next().unwrap();
        assert!(
            code_blocks(&install, "sh")
                .iter()
                .any(|b| b.lines().any(|l| l.trim_start().starts_with(command))),
            "the README's install section shows `{command}`"
        );
    }
    let docker = section(&readme, "### Docker");
    let arg = build
        .iter()
        .find_map(|i| i.strip_prefix("ARG "))
        .and_then(|a| a.split('=').next())
        .expect("the commit build argument");
    assert!(
        docker.contains(&format!("docker build --build-arg {arg}=")),
        "the README's docker build passes {arg}"
    );
    let (from, runtime) = &stages[1];
    assert!(
        !from.contains("rust:"),
        "the runtime image has no toolchain: {from}"
    );
    let user = runtime
        .iter()
        .filter_map(|i| i.strip_prefix("USER "))
        .next_back()
        .expect("the runtime stage sets a user");
    assert!(!matches!(user.trim(), "root" | "0"), "runs as {user}");
    assert!(
        runtime.iter().any(|i| i.starts_with("COPY --from=build ")),
        "only the binary comes from the build stage"
    );
}

#[test]
fn version_names_the_package_version_and_a_commit() {
    let out = common::scimcheck(&["--version"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let rest = text
        .trim()
        .strip_prefix(&format!("scimcheck {} (commit ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{text}"));
    let commit = rest.strip_suffix(')').expect("closing parenthesis");
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
}
