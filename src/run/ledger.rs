//! The cleanup ledger: every resource this run created (and who created it), the creates whose
//! outcome is unknown, the creates answered with a resource that is not this run's, and every
//! resource the run has seen, so that a create answered with an existing resource is told apart.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// Who a ledger entry belongs to: the part of the run that cleans it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A scenario run: its index in the plan.
    Scenario(usize),
    /// The run's own requests before the plan runs (the read of `/Schemas`).
    Setup,
    /// A command that runs no scenario (`load`).
    Command,
}

impl Owner {
    /// The number reports show for it (the `scenario` of a JSON report's created resources):
    /// the scenario's index, `0` for a command, `usize::MAX` for setup.
    pub fn number(self) -> usize {
        match self {
            Owner::Scenario(i) => i,
            Owner::Command => 0,
            Owner::Setup => usize::MAX,
        }
    }
}

impl Serialize for Owner {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.number() as u64)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Created {
    /// Resource path relative to the Tenant URL, e.g. `/Users/2819c223`.
    pub path: String,
    /// userName / displayName, for people reading the list.
    pub label: String,
    /// Who created it.
    pub owner: Owner,
}

/// A create whose outcome is unknown (no answer, a 5xx from a gateway, a 2xx without an id): the
/// resource may exist, so it is looked up by its unique name before cleanup.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pending {
    /// `Users` or `Groups`.
    pub collection: String,
    /// The unique attribute sent: `userName`, `displayName` or `externalId`.
    pub attribute: &'static str,
    /// Its value (always carries the run prefix).
    pub value: String,
    /// Who sent it.
    pub owner: Owner,
    /// The ledger's epoch when it was sent ([`Ledger::epoch`]): what was seen up to then
    /// existed before it.
    #[serde(skip)]
    pub sent_at: u64,
}

impl Pending {
    /// The request that finds it: `GET /Users?filter=userName eq "…"`.
    pub fn lookup(&self) -> String {
        format!(
            "GET /{}?filter={} eq \"{}\"",
            self.collection, self.attribute, self.value
        )
    }
}

/// Every resource this run created, and which of them are gone.
#[derive(Debug, Default)]
pub struct Ledger {
    created: Mutex<CreatedSet>,
    /// Creates whose outcome is unknown, until a look-up resolves them.
    pending: Mutex<Vec<Pending>>,
    /// Creates sent and not answered yet.
    in_flight: Mutex<Vec<Pending>>,
    /// Creates whose look-up failed: they may exist, nobody could tell.
    unconfirmed: Mutex<Vec<Pending>>,
    /// Creates the server answered with a resource this run did not create (an "upsert"), with
    /// whether its id was already known to this run before the create, and whether the runner
    /// has reported it yet.
    foreign: Mutex<Vec<(Created, bool, bool)>>,
    /// Every resource path (`/Users/<id>`) the run has seen in an answer or created, and not
    /// seen deleted since, with the epoch it was first seen at: a create answered with one
    /// seen before the create was sent answered with an existing resource.
    seen: Mutex<HashMap<Box<str>, u64>>,
    /// Counts the answers whose resources were noted as seen.
    epoch: AtomicU64,
}

/// At most this many resource paths are remembered as seen (a few MiB at most).
pub const MAX_SEEN: usize = 200_000;

/// The created resources, each path stored once (a load run records 100,000 of them): a list
/// in creation order plus an index for O(1) `owns` / `record` / `mark_deleted`.
#[derive(Debug, Default)]
struct CreatedSet {
    entries: Vec<Entry>,
    index: HashMap<Arc<str>, usize>,
}

#[derive(Debug)]
struct Entry {
    path: Arc<str>,
    label: Box<str>,
    owner: Owner,
    deleted: bool,
    /// The epoch it was recorded at (see [`Ledger::known_before`]).
    seen_at: u64,
}

impl Ledger {
    /// Notes a create on its way: until [`Ledger::landed`], the resource may or may not exist.
    pub fn take_off(&self, p: Pending) {
        self.in_flight.lock().expect("ledger lock").push(p);
    }

    /// The create was answered (or failed): it is recorded as created or pending now.
    pub fn landed(&self, p: &Pending) {
        let mut all = self.in_flight.lock().expect("ledger lock");
        if let Some(i) = all.iter().position(|q| q == p) {
            all.remove(i);
        }
    }

    /// Creates sent but not answered yet (for a person finishing cleanup by hand).
    pub fn in_flight(&self) -> Vec<Pending> {
        self.in_flight.lock().expect("ledger lock").clone()
    }

    /// Remembers a create whose outcome is unknown.
    pub fn record_pending(&self, p: Pending) {
        let mut all = self.pending.lock().expect("ledger lock");
        if !all.contains(&p) {
            all.push(p);
        }
    }

    /// The unresolved creates of `owner` (they stay listed until [`Ledger::resolve`]).
    pub fn pending_of(&self, owner: Owner) -> Vec<Pending> {
        let all = self.pending.lock().expect("ledger lock");
        all.iter().filter(|p| p.owner == owner).cloned().collect()
    }

    /// Every create whose outcome is still unknown: not resolved yet, or its look-up failed.
    pub fn unresolved(&self) -> Vec<Pending> {
        let mut out = self.pending.lock().expect("ledger lock").clone();
        out.extend(self.unconfirmed());
        out
    }

    /// A look-up answered: the create is either recorded as created, or was never made.
    pub fn resolve(&self, p: &Pending) {
        self.pending.lock().expect("ledger lock").retain(|q| q != p);
    }

    /// A look-up failed for good: the resource may exist, and a person has to look.
    pub fn unconfirm(&self, p: &Pending) {
        self.resolve(p);
        self.unconfirmed
            .lock()
            .expect("ledger lock")
            .push(p.clone());
    }

    /// Creates whose look-up failed.
    pub fn unconfirmed(&self) -> Vec<Pending> {
        self.unconfirmed.lock().expect("ledger lock").clone()
    }

    /// Notes a create answered with a resource this run did not create; `known` when its id
    /// was already known to this run before the create.
    pub fn record_foreign(&self, c: Created, known: bool) {
        self.foreign
            .lock()
            .expect("ledger lock")
            .push((c, known, false));
    }

    /// The foreign answers of `owner` that `only` picks and were not reported yet (each is
    /// returned once), each with whether its id was known before the create.
    pub fn take_new_foreign(
        &self,
        owner: Owner,
        only: impl Fn(&Created) -> bool,
    ) -> Vec<(Created, bool)> {
        let mut all = self.foreign.lock().expect("ledger lock");
        all.iter_mut()
            .filter(|(c, _, reported)| c.owner == owner && !*reported && only(c))
            .map(|(c, known, reported)| {
                *reported = true;
                (c.clone(), *known)
            })
            .collect()
    }

    /// Every create answered with a resource this run did not create.
    pub fn foreign(&self) -> Vec<Created> {
        let all = self.foreign.lock().expect("ledger lock");
        all.iter().map(|(c, _, _)| c.clone()).collect()
    }

    /// The current epoch: a create sent now was sent after every answer noted so far.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Remembers resource paths (`/Users/<id>`) shown by one answer, or created (at most
    /// [`MAX_SEEN`]), at a new epoch; a path keeps the epoch it was first seen at.
    pub fn note_seen(&self, paths: impl IntoIterator<Item = String>) {
        let mut seen = self.seen.lock().expect("ledger lock");
        let at = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        for p in paths {
            if seen.len() >= MAX_SEEN {
                break;
            }
            seen.entry(p.into_boxed_str()).or_insert(at);
        }
    }

    /// The resource at `path` is gone (deleted, or answered 404): an id the server hands out
    /// again later names a new resource.
    pub fn forget_seen(&self, path: &str) {
        self.seen.lock().expect("ledger lock").remove(path);
    }

    /// Whether this run already knew the resource at `path` at epoch `at` (when a create was
    /// sent): it had created it, or seen it in an answer, and not seen it deleted since. A
    /// resource first seen later (another job listed it while its create was on its way) is
    /// not known before.
    pub fn known_before(&self, path: &str, at: u64) -> bool {
        let seen = self.seen.lock().expect("ledger lock");
        if seen.get(path).is_some_and(|&e| e <= at) {
            return true;
        }
        drop(seen);
        let c = self.created.lock().expect("ledger lock");
        c.index.get(path).is_some_and(|&i| {
            let e = &c.entries[i];
            !e.deleted && e.seen_at <= at
        })
    }

    /// Records a created resource.
    pub fn record(&self, created: Created) {
        let mut c = self.created.lock().expect("ledger lock");
        if c.index.contains_key(created.path.as_str()) {
            return;
        }
        let seen_at = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let path: Arc<str> = created.path.into();
        let at = c.entries.len();
        c.index.insert(path.clone(), at);
        c.entries.push(Entry {
            path,
            label: created.label.into(),
            owner: created.owner,
            deleted: false,
            seen_at,
        });
    }

    /// Records a successful delete.
    pub fn mark_deleted(&self, path: &str) {
        self.forget_seen(path);
        let mut c = self.created.lock().expect("ledger lock");
        if let Some(&i) = c.index.get(path) {
            c.entries[i].deleted = true;
        }
    }

    /// A delete that could not be confirmed: the resource is listed as remaining again.
    pub fn unmark_deleted(&self, path: &str) {
        let mut c = self.created.lock().expect("ledger lock");
        if let Some(&i) = c.index.get(path) {
            c.entries[i].deleted = false;
        }
    }

    /// Whether this run created the resource at `path`.
    pub fn owns(&self, path: &str) -> bool {
        self.created
            .lock()
            .expect("ledger lock")
            .index
            .contains_key(path)
    }

    /// Resources created by `owner` that are not known to be deleted, newest first.
    pub fn remaining(&self, owner: Option<Owner>) -> Vec<Created> {
        let c = self.created.lock().expect("ledger lock");
        c.entries
            .iter()
            .rev()
            .filter(|e| !e.deleted && owner.is_none_or(|o| e.owner == o))
            .map(|e| Created {
                path: e.path.to_string(),
                label: e.label.to_string(),
                owner: e.owner,
            })
            .collect()
    }
}

/// `/Users/abc?x=1` -> (`Users`, Some(`abc`)); `/Users` -> (`Users`, None).
pub(crate) fn resource_of(path: &str) -> (String, Option<String>) {
    let p = path
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .trim_matches('/');
    let mut parts = p.splitn(2, '/');
    let collection = parts.next().unwrap_or_default().to_string();
    let id = parts.next().filter(|s| !s.is_empty()).map(str::to_string);
    (collection, id)
}

/// Normalised resource path `/Users/abc` for a request path.
pub fn resource_path(path: &str) -> Option<String> {
    match resource_of(path) {
        (c, Some(id)) if !c.is_empty() => Some(format!("/{c}/{id}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths_are_normalised() {
        assert_eq!(
            resource_path("/Users/abc?x=1").as_deref(),
            Some("/Users/abc")
        );
        assert_eq!(resource_path("Users/abc/").as_deref(), Some("/Users/abc"));
        assert_eq!(resource_path("/Users"), None);
    }

    #[test]
    fn the_ledger_lists_what_is_left_newest_first() {
        let l = Ledger::default();
        l.record(Created {
            path: "/Users/1".into(),
            label: "a".into(),
            owner: Owner::Scenario(0),
        });
        l.record(Created {
            path: "/Groups/2".into(),
            label: "g".into(),
            owner: Owner::Scenario(0),
        });
        l.record(Created {
            path: "/Users/3".into(),
            label: "b".into(),
            owner: Owner::Scenario(1),
        });
        l.mark_deleted("/Users/1");
        let left: Vec<String> = l
            .remaining(Some(Owner::Scenario(0)))
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(left, vec!["/Groups/2"]);
        assert!(l.owns("/Users/3"));
        assert!(!l.owns("/Users/9"));
    }

    #[test]
    fn owners_serialise_as_the_numbers_reports_always_showed() {
        let n = |o: Owner| serde_json::to_value(o).unwrap();
        assert_eq!(n(Owner::Scenario(3)), serde_json::json!(3));
        assert_eq!(n(Owner::Command), serde_json::json!(0));
        assert_eq!(n(Owner::Setup), serde_json::json!(usize::MAX));
    }
}
