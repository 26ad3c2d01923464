//! Which scenarios run: `--only` / `--skip`, `--mode on-demand` and `--read-only`.
//!
//! Selection is per scenario: a pattern (a glob: `*`, `?`, `[abc]`, `{a,b}`) matches a scenario
//! when it matches the scenario id, one of its tags, or one of its check ids. A scenario runs when
//! no `--only` is given or one matches it, and no `--skip` matches it. Steps depend on each
//! other's captures, so a check id selects (or skips) its whole scenario.

use std::sync::Arc;

use globset::{Glob, GlobBuilder, GlobMatcher};

use crate::scenario::Loaded;
use crate::scenario::check_id;

/// A compiled glob over ids (`*`, `?`, `[abc]`, `{a,b}`; `.` is not a separator).
pub fn glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g: Glob| g.compile_matcher())
}

/// One `--only` / `--skip` pattern.
#[derive(Debug, Clone)]
struct Pattern {
    text: String,
    matcher: GlobMatcher,
}

/// The scenarios a [`Selection`] picked, and the warnings to print (a `--skip` that matches
/// nothing).
#[derive(Debug, Clone)]
pub struct Picked {
    /// The selected scenarios, in their order.
    pub scenarios: Vec<Arc<Loaded>>,
    /// One line each, ready to print on stderr.
    pub warnings: Vec<String>,
}

/// The `--only` and `--skip` patterns of a run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    only: Vec<Pattern>,
    skip: Vec<Pattern>,
}

/// The names a scenario answers to: its id, its tags and its check ids.
pub fn scenario_keys(l: &Loaded) -> Vec<String> {
    let mut keys = vec![l.id.clone()];
    keys.extend(l.scenario.tags.iter().cloned());
    keys.extend(l.scenario.steps.iter().map(|s| check_id(&l.id, &s.value)));
    keys
}

impl Selection {
    /// Compiles the patterns; an invalid glob is an error naming the option.
    pub fn new(only: &[String], skip: &[String]) -> Result<Selection, String> {
        let compile = |option: &str, list: &[String]| {
            list.iter()
                .map(|p| {
                    glob(p)
                        .map(|matcher| Pattern {
                            text: p.clone(),
                            matcher,
                        })
                        .map_err(|e| format!("{option} `{p}` is not a valid pattern: {e}"))
                })
                .collect::<Result<Vec<_>, String>>()
        };
        Ok(Selection {
            only: compile("--only", only)?,
            skip: compile("--skip", skip)?,
        })
    }

    /// Whether no pattern was given (everything runs).
    pub fn is_empty(&self) -> bool {
        self.only.is_empty() && self.skip.is_empty()
    }

    fn matches(p: &Pattern, keys: &[String]) -> bool {
        keys.iter().any(|k| p.matcher.is_match(k))
    }

    /// Whether the scenario runs.
    pub fn selects(&self, l: &Loaded) -> bool {
        let keys = scenario_keys(l);
        (self.only.is_empty() || self.only.iter().any(|p| Self::matches(p, &keys)))
            && !self.skip.iter().any(|p| Self::matches(p, &keys))
    }

    /// The selected scenarios, in their order. An `--only` pattern that matches no scenario, tag
    /// or check id is an error (it is almost always a typo), and so is selecting nothing; a
    /// `--skip` pattern that matches nothing is a warning.
    pub fn apply(&self, scenarios: Vec<Arc<Loaded>>) -> Result<Picked, String> {
        let keys: Vec<Vec<String>> = scenarios.iter().map(|l| scenario_keys(l)).collect();
        for p in &self.only {
            if !keys.iter().any(|k| Self::matches(p, k)) {
                return Err(format!(
                    "--only `{}` matches no scenario id, tag or check id (`scimcheck list` shows them)",
                    p.text
                ));
            }
        }
        if scenarios.is_empty() {
            return Err(
                "no scenario to run: the given files and directories hold no scenario file".into(),
            );
        }
        let warnings = self
            .skip
            .iter()
            .filter(|p| !keys.iter().any(|k| Self::matches(p, k)))
            .map(|p| {
                format!(
                    "warning: --skip `{}` matches no scenario id, tag or check id (`scimcheck list` shows them)",
                    p.text
                )
            })
            .collect();
        let scenarios: Vec<Arc<Loaded>> =
            scenarios.into_iter().filter(|l| self.selects(l)).collect();
        if scenarios.is_empty() {
            return Err("--only / --skip left no scenario to run".into());
        }
        Ok(Picked {
            scenarios,
            warnings,
        })
    }
}

/// The built-in scenarios `--mode on-demand` replays: Test Connection, one user, one group with
/// its members (provision on demand handles one user, or a group of up to 5 members).
pub const ON_DEMAND_SCENARIOS: &[&str] = &["test-connection", "user-lifecycle", "group-lifecycle"];

/// `--mode on-demand`: only the scenarios provision on demand replays.
pub fn on_demand(scenarios: &mut Vec<Arc<Loaded>>) {
    scenarios.retain(|s| ON_DEMAND_SCENARIOS.contains(&s.id.as_str()));
}

/// `--read-only`: only the scenarios that send no writes; none left is an error.
pub fn read_only(scenarios: &mut Vec<Arc<Loaded>>) -> Result<(), String> {
    scenarios.retain(|s| !s.scenario.sends_writes());
    if scenarios.is_empty() {
        return Err(
            "--read-only left no scenario to run: every selected scenario writes (`scimcheck list` shows the `read-only` tag)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_selection_globs_are_rejected() {
        assert!(Selection::new(&["a[".into()], &[]).is_err());
        assert!(Selection::new(&["user.*".into()], &["*-slow".into()]).is_ok());
    }
}
