//! The bounds on what one response or one scenario can cost, in one place. Each has a name, a
//! default and a ceiling, and is raised with `--limit NAME=N` (on any command); every message
//! that says a bound was reached names it and that flag ([`Limit::hint`]). The body cap has its
//! own flag, `--max-body-mib`, because it is a transport setting.

use std::sync::atomic::{AtomicU64, Ordering};

/// One bound.
#[derive(Debug)]
pub struct Limit {
    /// The `NAME` of `--limit NAME=N`.
    pub name: &'static str,
    /// What it counts, for `--limit` errors and the README.
    pub what: &'static str,
    pub default: u64,
    /// The largest value `--limit` accepts.
    pub max: u64,
    /// The value set by `--limit` (0: the default).
    value: AtomicU64,
}

impl Limit {
    const fn new(name: &'static str, what: &'static str, default: u64, max: u64) -> Limit {
        Limit {
            name,
            what,
            default,
            max,
            value: AtomicU64::new(0),
        }
    }

    /// The value in force.
    pub fn get(&self) -> u64 {
        match self.value.load(Ordering::Relaxed) {
            0 => self.default,
            v => v,
        }
    }

    /// The value in force, as a `usize`.
    pub fn get_usize(&self) -> usize {
        usize::try_from(self.get()).unwrap_or(usize::MAX)
    }

    /// `scimcheck's limit; raise it with --limit NAME=N`, for messages.
    pub fn hint(&self) -> String {
        format!("scimcheck's limit; raise it with --limit {}=N", self.name)
    }
}

/// Problems reported for one response (the rest are counted).
pub static PROBLEMS: Limit = Limit::new(
    "problems",
    "problems reported per response",
    1000,
    1_000_000,
);
/// Resources of one ListResponse that are examined.
pub static LIST_RESOURCES: Limit = Limit::new(
    "list-resources",
    "resources of one ListResponse examined",
    1000,
    10_000_000,
);
/// Findings kept for one check.
pub static FINDINGS: Limit = Limit::new("findings", "findings kept per check", 200, 100_000);
/// Levels of nesting of a JSON body (serde_json refuses more than 128 whatever is set).
pub static JSON_DEPTH: Limit =
    Limit::new("json-depth", "levels of nesting of a JSON body", 64, 128);
/// KiB one template may expand to.
pub static TEMPLATE_KIB: Limit = Limit::new(
    "template-kib",
    "KiB one template may expand to",
    1024,
    64 * 1024,
);
/// Repetitions of one step (`repeat:`).
pub static REPEAT: Limit = Limit::new("repeat", "repetitions of one step", 10_000, 1_000_000);
/// Steps of one scenario.
pub static STEPS: Limit = Limit::new("steps", "steps of one scenario", 1000, 100_000);

/// Every bound `--limit` can set.
pub static ALL: [&Limit; 7] = [
    &PROBLEMS,
    &LIST_RESOURCES,
    &FINDINGS,
    &JSON_DEPTH,
    &TEMPLATE_KIB,
    &REPEAT,
    &STEPS,
];

/// Parses `NAME=N` (a `--limit` value) without setting anything.
pub fn parse(spec: &str) -> Result<(&'static Limit, u64), String> {
    let names = || {
        ALL.iter()
            .map(|l| format!("{} ({}, default {})", l.name, l.what, l.default))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((name, value)) = spec.split_once('=') else {
        return Err(format!(
            "`{spec}` is not NAME=N; the limits are: {}",
            names()
        ));
    };
    let Some(limit) = ALL.iter().find(|l| l.name == name.trim()) else {
        return Err(format!(
            "unknown limit `{name}`; the limits are: {}",
            names()
        ));
    };
    match value.trim().parse::<u64>() {
        Ok(n) if (1..=limit.max).contains(&n) => Ok((limit, n)),
        _ => Err(format!(
            "--limit {name}: expected a whole number from 1 to {} ({}), got `{value}`",
            limit.max, limit.what
        )),
    }
}

/// The bounds in force on what the SCIM body validator examines and reports for one response.
pub fn validation() -> crate::scim::validate::Bounds {
    crate::scim::validate::Bounds {
        problems: PROBLEMS.get_usize(),
        problems_hint: PROBLEMS.hint(),
        list_resources: LIST_RESOURCES.get_usize(),
        list_resources_hint: LIST_RESOURCES.hint(),
    }
}

/// Sets the limits given with `--limit` (once, before anything runs).
pub fn set(specs: &[String]) -> Result<(), String> {
    for spec in specs {
        let (limit, n) = parse(spec)?;
        limit.value.store(n, Ordering::Relaxed);
    }
    Ok(())
}

/// How deeply `text` (JSON) nests: the most `[` / `{` open at once outside strings.
pub fn json_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_set_by_name_within_its_range_and_errors_name_every_limit() {
        assert_eq!(
            parse("repeat=20").map(|(l, n)| (l.name, n)),
            Ok(("repeat", 20))
        );
        let unknown = parse("repeats=20").unwrap_err();
        assert!(unknown.contains("unknown limit `repeats`"), "{unknown}");
        assert!(unknown.contains("json-depth"), "{unknown}");
        assert!(
            parse("json-depth=129")
                .unwrap_err()
                .contains("from 1 to 128")
        );
        assert!(parse("steps=0").is_err());
        assert!(parse("steps").is_err());
    }

    #[test]
    fn json_depth_counts_brackets_outside_strings() {
        assert_eq!(json_depth(r#"{"a":[1,{"b":"[[[{"}]}"#), 3);
        assert_eq!(json_depth(r#""\"[""#), 0);
        assert_eq!(json_depth(&"[".repeat(500)), 500);
    }
}
