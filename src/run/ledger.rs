//! The cleanup ledger: every resource this run created (and who created it), the creates whose
//! outcome is unknown, the creates answered with a resource that is not this run's, and every
//! resource the run has seen, so that a create answered with an existing resource is told apart.
//!
//! A load run's ledger spills ([`Ledger::spill_after`]): past a threshold, the oldest
//! resources created by [`Owner::Command`] go to a temporary file ([`super::spill`]) and come
//! back in batches for cleanup ([`Ledger::take_back`]), so memory stays flat in the number of
//! users.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::spill::SpillFile;

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
    /// Every resource path (`/Users/<id>`) the run has seen in an answer (and not created),
    /// and not seen deleted since, with the epoch it was first seen at: a create answered with one
    /// seen before the create was sent answered with an existing resource.
    seen: Mutex<HashMap<Box<str>, u64>>,
    /// Counts the answers whose resources were noted as seen.
    epoch: AtomicU64,
}

/// At most this many resource paths are remembered as seen (a few MiB at most).
pub const MAX_SEEN: usize = 200_000;

/// The created resources, each path stored once (a load run records 1,000,000 of them): a
/// list in creation order plus an index for O(1) `owns` / `record` / `mark_deleted`; when it
/// spills, the oldest of [`Owner::Command`]'s go to a file and come back for cleanup.
#[derive(Debug, Default)]
struct CreatedSet {
    entries: Vec<Entry>,
    index: HashMap<Arc<str>, usize>,
    /// Keep at least this many (and fewer than twice as many) [`Owner::Command`] entries in
    /// memory, the older ones in `file`; `None`: everything stays in memory.
    spill_after: Option<usize>,
    /// [`Owner::Command`] entries in `entries`.
    commands: usize,
    /// Created resources (path, label) of [`Owner::Command`] moved out of memory, oldest
    /// first, not taken back yet.
    file: SpillFile<2>,
    /// Taken back from `file` and not deleted yet: path -> (when taken back, label).
    back: HashMap<Arc<str>, (u64, Box<str>)>,
    /// Entries taken back so far.
    taken: u64,
}

impl CreatedSet {
    /// The entries in memory of `owner` not deleted, newest first.
    fn in_memory(&self, owner: Option<Owner>) -> Vec<Created> {
        self.entries
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

    /// Whether `path` is here (in memory, or taken back), whether deleted or not.
    fn holds(&self, path: &str) -> bool {
        self.index.contains_key(path) || self.back.contains_key(path)
    }

    /// Moves the oldest [`Owner::Command`] entries to the file once there are twice
    /// `spill_after` of them, keeping the newest `spill_after` (a create's own update and the
    /// group's member PATCHes, which follow it at once, find it in memory). Deleted ones among
    /// them are just dropped. Should the file fail, everything stays in memory from then on.
    fn spill_if_due(&mut self) {
        let Some(keep) = self.spill_after else { return };
        if self.commands < keep.saturating_mul(2) {
            return;
        }
        let mut old = self.commands - keep;
        let out: Vec<bool> = self
            .entries
            .iter()
            .map(|e| {
                let go = old > 0 && e.owner == Owner::Command;
                old -= usize::from(go);
                go
            })
            .collect();
        let records = self
            .entries
            .iter()
            .zip(&out)
            .filter(|(e, go)| **go && !e.deleted)
            .map(|(e, _)| [&*e.path, &*e.label]);
        if self.file.append(records).is_err() {
            self.spill_after = None;
            return;
        }
        let mut go = out.into_iter();
        self.entries.retain(|_| !go.next().unwrap_or(false));
        self.commands = keep;
        self.index = (self.entries.iter().enumerate())
            .map(|(i, e)| (e.path.clone(), i))
            .collect();
    }
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
    /// From now on keeps at most about `2 * n` of [`Owner::Command`]'s created resources in
    /// memory and the older ones in a temporary file until [`Ledger::take_back`] (`load` sets
    /// it; a scenario run keeps everything in memory). A spilled resource is not
    /// [`Ledger::owns`]'d (so not written to) and not [`Ledger::known_before`] until it is
    /// taken back; [`Ledger::remaining`] lists it all along.
    pub fn spill_after(&self, n: usize) {
        let mut c = self.created.lock().expect("ledger lock");
        c.spill_after = Some(n.max(1));
        c.spill_if_due();
    }

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

    /// Remembers resource paths (`/Users/<id>`) shown by one answer (at most [`MAX_SEEN`]),
    /// at a new epoch; a path keeps the epoch it was first seen at. Paths this run created are
    /// left out: [`Ledger::known_before`] finds them among the created (a create's own answer
    /// would otherwise store every created path twice).
    pub fn note_seen(&self, paths: impl IntoIterator<Item = String>) {
        let paths: Vec<String> = {
            let c = self.created.lock().expect("ledger lock");
            paths.into_iter().filter(|p| !c.holds(p)).collect()
        };
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
        c.back.contains_key(path)
            || c.index.get(path).is_some_and(|&i| {
                let e = &c.entries[i];
                !e.deleted && e.seen_at <= at
            })
    }

    /// Records a created resource.
    pub fn record(&self, created: Created) {
        let mut c = self.created.lock().expect("ledger lock");
        if c.holds(&created.path) {
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
        if created.owner == Owner::Command {
            c.commands += 1;
            c.spill_if_due();
        }
    }

    /// Takes up to `n` spilled resources back from the file, oldest first, so that they can be
    /// deleted: until then they are listed as remaining; once deleted
    /// ([`Ledger::mark_deleted`]) they leave memory entirely. Empty when none are left.
    pub fn take_back(&self, n: usize) -> Vec<Created> {
        let mut c = self.created.lock().expect("ledger lock");
        let Ok(records) = c.file.take(n) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(records.len());
        for [path, label] in records {
            c.taken += 1;
            let at = c.taken;
            c.back
                .insert(path.as_str().into(), (at, label.as_str().into()));
            out.push(Created {
                path,
                label,
                owner: Owner::Command,
            });
        }
        out
    }

    /// Records a successful delete (a resource taken back from the spill file is forgotten).
    pub fn mark_deleted(&self, path: &str) {
        self.forget_seen(path);
        let mut c = self.created.lock().expect("ledger lock");
        if let Some(&i) = c.index.get(path) {
            c.entries[i].deleted = true;
        } else {
            c.back.remove(path);
        }
    }

    /// A delete that could not be confirmed: the resource is listed as remaining again (not
    /// one taken back from the spill file: that was forgotten when it was deleted).
    pub fn unmark_deleted(&self, path: &str) {
        let mut c = self.created.lock().expect("ledger lock");
        if let Some(&i) = c.index.get(path) {
            c.entries[i].deleted = false;
        }
    }

    /// Whether this run created the resource at `path`.
    pub fn owns(&self, path: &str) -> bool {
        self.created.lock().expect("ledger lock").holds(path)
    }

    /// Resources created by `owner` that are not known to be deleted, newest first: those in
    /// memory, then those still in the spill file, then those taken back from it.
    pub fn remaining(&self, owner: Option<Owner>) -> Vec<Created> {
        let mut c = self.created.lock().expect("ledger lock");
        let mut out = c.in_memory(owner);
        if owner.is_none_or(|o| o == Owner::Command) {
            let spilled = |[path, label]: [String; 2]| Created {
                path,
                label,
                owner: Owner::Command,
            };
            // An unreadable spill file lists nothing more: the counts still say how many.
            let left = c.file.peek_left().unwrap_or_default();
            out.extend(left.into_iter().rev().map(spilled));
            let mut back: Vec<_> = c.back.iter().collect();
            back.sort_by_key(|(_, (at, _))| std::cmp::Reverse(*at));
            out.extend(
                back.into_iter()
                    .map(|(p, (_, l))| spilled([p.to_string(), l.to_string()])),
            );
        }
        out
    }

    /// Resources created by `owner` that are not known to be deleted, newest first, leaving out
    /// those in the spill file and those taken back from it: what cleanup deletes before it
    /// takes the rest back (all of [`Ledger::remaining`] when nothing spilled).
    pub fn in_memory(&self, owner: Option<Owner>) -> Vec<Created> {
        self.created.lock().expect("ledger lock").in_memory(owner)
    }

    /// How many of the created resources are in the spill file (not taken back yet).
    pub fn spilled(&self) -> u64 {
        self.created.lock().expect("ledger lock").file.left()
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

    fn command(path: &str) -> Created {
        Created {
            path: path.into(),
            label: format!("label of {path}"),
            owner: Owner::Command,
        }
    }

    fn paths(list: Vec<Created>) -> Vec<String> {
        list.into_iter().map(|c| c.path).collect()
    }

    #[test]
    fn a_spilling_ledger_moves_the_oldest_to_the_file_and_lists_them_all() {
        let l = Ledger::default();
        l.spill_after(2);
        l.record(Created {
            owner: Owner::Setup,
            ..command("/Schemas/x")
        });
        for i in 0..5 {
            l.record(command(&format!("/Users/{i}")));
        }
        // At 4 commands the oldest 2 went to the file; the 5th stays in memory.
        assert_eq!(l.spilled(), 2);
        assert!(
            !l.owns("/Users/0") && !l.owns("/Users/1"),
            "spilled: not owned"
        );
        assert!(!l.known_before("/Users/0", u64::MAX));
        assert!(l.owns("/Users/2") && l.owns("/Users/4") && l.owns("/Schemas/x"));
        let all = l.remaining(None);
        assert_eq!(
            paths(all.clone()),
            [
                "/Users/4",
                "/Users/3",
                "/Users/2",
                "/Schemas/x",
                "/Users/1",
                "/Users/0"
            ]
        );
        assert_eq!(all[5], command("/Users/0"), "labels and owners survive");
        assert_eq!(l.remaining(Some(Owner::Setup)).len(), 1);
        assert_eq!(l.remaining(Some(Owner::Command)).len(), 5);
        assert_eq!(
            paths(l.in_memory(None)),
            ["/Users/4", "/Users/3", "/Users/2", "/Schemas/x"]
        );
    }

    #[test]
    fn taken_back_entries_are_owned_until_deleted_then_gone() {
        let l = Ledger::default();
        l.spill_after(1);
        for i in 0..4 {
            l.record(command(&format!("/Users/{i}")));
        }
        // Every record past the first moves the oldest one out.
        assert_eq!(l.spilled(), 3);
        let first = l.take_back(2);
        assert_eq!(first, vec![command("/Users/0"), command("/Users/1")]);
        assert_eq!(l.spilled(), 1);
        assert!(l.owns("/Users/0") && l.owns("/Users/1") && !l.owns("/Users/2"));
        assert!(l.known_before("/Users/1", 0), "taken back: known");
        l.mark_deleted("/Users/0");
        assert!(
            !l.owns("/Users/0"),
            "deleted after take-back: dropped from memory"
        );
        assert_eq!(
            paths(l.remaining(None)),
            ["/Users/3", "/Users/2", "/Users/1"],
            "in memory, still spilled, taken back and not deleted"
        );
        assert_eq!(l.take_back(5), vec![command("/Users/2")]);
        assert!(l.take_back(5).is_empty());
        for p in ["/Users/1", "/Users/2", "/Users/3"] {
            l.mark_deleted(p);
        }
        assert!(l.remaining(None).is_empty());
        assert_eq!(l.created.lock().unwrap().back.len(), 0);
    }

    #[test]
    fn a_ledger_without_spill_keeps_everything_in_memory() {
        let l = Ledger::default();
        for i in 0..50 {
            l.record(command(&format!("/Users/{i}")));
        }
        assert_eq!(l.spilled(), 0);
        assert!(l.owns("/Users/0"));
        assert!(l.take_back(10).is_empty());
    }

    #[test]
    fn created_paths_are_not_noted_as_seen_twice() {
        let l = Ledger::default();
        l.record(command("/Users/1"));
        let at = l.epoch();
        l.note_seen(["/Users/1".to_string(), "/Users/2".to_string()]);
        assert_eq!(l.seen.lock().unwrap().len(), 1, "only the one not created");
        assert!(l.known_before("/Users/1", at) && l.known_before("/Users/2", l.epoch()));
        l.mark_deleted("/Users/1");
        assert!(!l.known_before("/Users/1", l.epoch()));
    }

    #[test]
    fn owners_serialise_as_the_numbers_reports_always_showed() {
        let n = |o: Owner| serde_json::to_value(o).unwrap();
        assert_eq!(n(Owner::Scenario(3)), serde_json::json!(3));
        assert_eq!(n(Owner::Command), serde_json::json!(0));
        assert_eq!(n(Owner::Setup), serde_json::json!(usize::MAX));
    }
}
