//! The plan stage, between loading and running: which scenarios run ([`select`]: `--only`,
//! `--skip`, `--mode on-demand`, `--read-only`), in which dialects and in which order
//! ([`plan`]), and what the server publishes ([`discovery`]: the one read of `/Schemas`, shared
//! by a profile's checks and the runner). The result is a [`Plan`]: what the runner runs and
//! which of its checks do not apply.

pub mod discovery;
pub mod select;

use std::collections::HashMap;
use std::sync::Arc;

use crate::scenario::model::Position;
use crate::scenario::{Dialect, Loaded};
use crate::scim::schema::SchemaSet;

pub use discovery::Published;
pub use select::{Picked, Selection, scenario_keys};

/// One scenario to run in one dialect.
#[derive(Debug, Clone)]
pub struct PlanItem {
    /// The scenario.
    pub scenario: Arc<Loaded>,
    /// The PATCH dialect it runs in.
    pub dialect: Dialect,
}

/// What a run does: the scenario runs in the order they are reported, the schemas responses are
/// judged against, and the checks that do not apply to this server.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The scenario runs, in plan order (events are reported in this order).
    pub items: Vec<PlanItem>,
    /// Schemas responses are validated against: RFC 7643's, plus the custom extensions the
    /// server publishes when the plan read them.
    pub schemas: Arc<SchemaSet>,
    /// What the server itself publishes at `/Schemas`, when the plan read it: value checks on
    /// attributes it does not advertise are warnings (Entra would not map them).
    pub advertised: Option<Arc<SchemaSet>>,
    /// Steps that do not apply, by (plan index, index in the scenario's steps): the skip note.
    not_applicable: HashMap<(usize, usize), String>,
}

/// Every scenario in every requested dialect, dialects of one scenario side by side; a
/// dialect-neutral scenario runs once, in the first dialect. Scenarios with a `position` are
/// moved: `middle` halfway through the others, `end` after all of them.
pub fn plan(scenarios: &[Arc<Loaded>], dialects: &[Dialect]) -> Plan {
    let items = in_order(scenarios, dialects);
    let at = |p: Position| {
        let p = Some(p);
        move |i: &PlanItem| i.scenario.scenario.position == p
    };
    let (middle, rest): (Vec<PlanItem>, Vec<PlanItem>) =
        items.into_iter().partition(at(Position::Middle));
    let (end, mut out): (Vec<PlanItem>, Vec<PlanItem>) =
        rest.into_iter().partition(at(Position::End));
    let half = out.len() / 2;
    out.splice(half..half, middle);
    out.extend(end);
    Plan {
        items: out,
        schemas: Arc::new(SchemaSet::builtin().clone()),
        advertised: None,
        not_applicable: HashMap::new(),
    }
}

fn in_order(scenarios: &[Arc<Loaded>], dialects: &[Dialect]) -> Vec<PlanItem> {
    scenarios
        .iter()
        .flat_map(|s| {
            let n = if s.scenario.dialect_neutral {
                1
            } else {
                dialects.len()
            };
            dialects.iter().take(n).map(|d| PlanItem {
                scenario: s.clone(),
                dialect: *d,
            })
        })
        .collect()
}

impl Plan {
    /// The scenario runs, in plan order.
    pub fn iter(&self) -> std::slice::Iter<'_, PlanItem> {
        self.items.iter()
    }

    /// How many scenario runs the plan holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the plan runs nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether a scenario carries `tag` (`discovery`, `test-connection`...).
    pub fn has_tag(&self, tag: &str) -> bool {
        self.items
            .iter()
            .any(|p| p.scenario.scenario.tags.iter().any(|t| t == tag))
    }

    /// Whether the run reads what the server publishes at `/Schemas` and judges against it:
    /// when it runs a built-in scenario or one tagged `discovery`. A built-in check's verdict
    /// must not depend on which other scenarios were selected: with `--only user-lifecycle`, a
    /// value check on an attribute the server does not advertise is demoted to a warning
    /// exactly as in the whole suite. A run of only custom scenarios sends only their requests
    /// (plus Test Connection), unless one of them tests discovery.
    pub fn reads_published(&self) -> bool {
        self.has_tag("discovery") || self.items.iter().any(|p| p.scenario.builtin)
    }

    /// The plan with what the server publishes at `/Schemas` (an empty plan is returned
    /// unchanged): RFC 7643's definitions win, custom extensions are
    /// added and so validated too; value checks on attributes the server does not advertise
    /// become warnings; a step that `requires:` a schema the server does not publish does not
    /// apply. A `/Schemas` that could not be read keeps the built-in definitions and is left
    /// for the discovery checks to report.
    pub fn with_published(mut self, published: &Published) -> Plan {
        if !self.reads_published() {
            return self;
        }
        let Some(set) = &published.schemas else {
            return self;
        };
        self.schemas = Arc::new(self.schemas.with_published(set));
        self.advertised = Some(set.clone());
        for (i, item) in self.items.iter().enumerate() {
            for (s, step) in item.scenario.scenario.steps.iter().enumerate() {
                if let Some(urn) = step.value.requires.iter().find(|u| set.get(u).is_none()) {
                    self.not_applicable.insert(
                        (i, s),
                        format!(
                            "skipped: the server's /Schemas does not publish `{urn}`, and Entra sends such attributes only to apps that offer them"
                        ),
                    );
                }
            }
        }
        self
    }

    /// Why step `step` (its index in the scenario's steps) of plan item `item` does not apply to
    /// this server, when it does not.
    pub fn not_applicable(&self, item: usize, step: usize) -> Option<&str> {
        self.not_applicable.get(&(item, step)).map(String::as_str)
    }
}
