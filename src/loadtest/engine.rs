//! The load run: streams users and groups through Entra's initial-cycle sequence with bounded
//! concurrency and paced requests, then deletes everything it created.
//!
//! `concurrency` spawned workers take work items one at a time from a lazy iterator (`0..N`), so
//! only `concurrency` items are in flight. The client's ledger of created resources is what
//! cleanup deletes; past [`SPILL_AFTER`] it moves the oldest to a temporary file and takes them
//! back in batches, so nothing grows with N but the first ids that group memberships need
//! (kept end to end, `ids`).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Value, json};

use super::ids::Compact;
use super::report::{LoadReport, PhaseReport, Verdict};
use super::stats::{Kind, Stats};
use super::wire::Wire;
use crate::http::OutRequest;
use crate::pace::{Pacer, Rate};
use crate::run::{Owner, Tenant};
use crate::scenario::Dialect;
use crate::scenario::template::Generators;
use crate::scim::dialect::{NeutralPatch, render};
use crate::scim::urn;

/// What a load run sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Entra's initial cycle: users (match, create, optional update), then groups (match,
    /// create, add members in batches), then cleanup.
    Cycle,
    /// One cheap request repeated: a users filter that matches nothing. Measures the client and
    /// the endpoint's request overhead; creates nothing.
    Probe,
}

/// Settings of a load run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub mode: Mode,
    /// Users to provision (in probe mode: requests to send).
    pub users: u64,
    /// Groups to provision.
    pub groups: u64,
    /// Members of each group (taken from the users this run created).
    pub members_per_group: usize,
    /// Members added per group PATCH.
    pub batch: usize,
    /// Also send an update PATCH after each user create.
    pub update: bool,
    /// Target request rate.
    pub rate: Rate,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// The PATCH dialect.
    pub dialect: Dialect,
    /// Set to stop starting new work (Ctrl-C); cleanup still runs.
    pub stop: Arc<AtomicBool>,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            mode: Mode::Cycle,
            users: 100,
            groups: 10,
            members_per_group: 10,
            batch: 50,
            update: false,
            rate: Rate::PerSecond(25.0),
            concurrency: 8,
            dialect: Dialect::Default,
            stop: Arc::default(),
        }
    }
}

impl LoadConfig {
    /// Requests the cycle (or probe) phase is expected to send.
    pub fn expected_requests(&self) -> u64 {
        match self.mode {
            Mode::Probe => self.users,
            Mode::Cycle => {
                let members = (self.members_per_group as u64).min(self.users);
                let batches = members.div_ceil(self.batch.max(1) as u64);
                self.users * (2 + u64::from(self.update)) + self.groups * (2 + batches)
            }
        }
    }
}

/// Live progress: a phase starts with its expected number of requests; every request ticks.
pub trait Progress: Send + Sync {
    fn phase(&self, name: &'static str, expected: u64);
    fn request(&self);
    fn finish(&self);
}

/// Progress that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _: &'static str, _: u64) {}
    fn request(&self) {}
    fn finish(&self) {}
}

/// The first part of a ListResponse.
#[derive(Deserialize)]
struct ListHead {
    #[serde(rename = "totalResults")]
    total: Option<u64>,
}

/// The `id` of a created resource.
#[derive(Deserialize)]
struct IdOnly {
    id: Value,
}

struct Ctx {
    client: Arc<Tenant>,
    config: LoadConfig,
    prefix: String,
    pacer: Pacer,
    stats: Mutex<Stats>,
    progress: Arc<dyn Progress>,
    responses: AtomicU64,
    /// No response has ever come back and the last attempt could not connect.
    unreachable: AtomicBool,
}

fn is_2xx(s: u16) -> bool {
    (200..300).contains(&s)
}

fn is_200(s: u16) -> bool {
    s == 200
}

impl Ctx {
    fn stopped(&self) -> bool {
        self.config.stop.load(Ordering::SeqCst) || self.unreachable.load(Ordering::SeqCst)
    }

    /// Sends one paced request, records it, and returns the body of a successful response.
    async fn send(&self, kind: Kind, req: &OutRequest, ok: fn(u16) -> bool) -> Option<String> {
        self.pacer.wait().await;
        let ex = self.client.send(req, Owner::Command).await;
        self.note(kind, ex.elapsed, ex.response, ok)
    }

    /// Records one answer (or failure), and returns the body of a successful response.
    fn note(
        &self,
        kind: Kind,
        elapsed: std::time::Duration,
        response: Result<crate::http::Received, crate::http::TransportError>,
        ok: fn(u16) -> bool,
    ) -> Option<String> {
        let success = self
            .stats
            .lock()
            .expect("stats lock")
            .record_answer(kind, elapsed, &response, ok);
        self.progress.request();
        match response {
            Ok(r) => {
                self.responses.fetch_add(1, Ordering::Relaxed);
                success.then_some(r.body)
            }
            Err(e) => {
                if e.is_unreachable() && self.responses.load(Ordering::Relaxed) == 0 {
                    self.unreachable.store(true, Ordering::SeqCst);
                }
                None
            }
        }
    }

    fn user_name(&self, i: u64) -> String {
        format!("{}u{i}@example.com", self.prefix)
    }

    fn group_name(&self, g: u64) -> String {
        format!("{}g{g}", self.prefix)
    }

    /// Match, create and (optionally) update user `i`; the new id when it was created.
    async fn user(&self, i: u64) -> Option<Box<str>> {
        if self.stopped() {
            return None;
        }
        let upn = self.user_name(i);
        let mut m = OutRequest::new("GET", "/Users");
        m.query = vec![("filter".into(), format!("userName eq \"{upn}\""))];
        let body = self.send(Kind::UserMatch, &m, is_200).await?;
        if serde_json::from_str::<ListHead>(&body)
            .ok()?
            .total
            .unwrap_or(0)
            > 0
        {
            return None;
        }
        let mut c = OutRequest::new("POST", "/Users");
        c.body = Some(user_body(&upn, i));
        let created = self.send(Kind::UserCreate, &c, is_2xx).await?;
        let id = id_of(&created)?;
        if self.config.update && !self.stopped() {
            let mut set = serde_json::Map::new();
            set.insert("name.familyName".into(), json!(format!("Updated{i}")));
            set.insert("active".into(), json!(true));
            let patch = NeutralPatch {
                set,
                ..NeutralPatch::default()
            };
            let mut u = OutRequest::new("PATCH", format!("/Users/{id}"));
            u.body = Some(render(&patch, self.config.dialect));
            self.send(Kind::UserUpdate, &u, is_2xx).await;
        }
        Some(id)
    }

    /// Match, create and fill group `g` with `members` in batches; the new id when created.
    async fn group(&self, g: u64, members: Vec<Value>) -> Option<Box<str>> {
        if self.stopped() {
            return None;
        }
        let name = self.group_name(g);
        let mut m = OutRequest::new("GET", "/Groups");
        m.query = vec![
            ("excludedAttributes".into(), "members".into()),
            ("filter".into(), format!("displayName eq \"{name}\"")),
        ];
        let body = self.send(Kind::GroupMatch, &m, is_200).await?;
        if serde_json::from_str::<ListHead>(&body)
            .ok()?
            .total
            .unwrap_or(0)
            > 0
        {
            return None;
        }
        let mut c = OutRequest::new("POST", "/Groups");
        c.body = Some(group_body(&name));
        let created = self.send(Kind::GroupCreate, &c, is_2xx).await?;
        let id = id_of(&created)?;
        for batch in members.chunks(self.config.batch.max(1)) {
            if self.stopped() {
                break;
            }
            let patch = NeutralPatch {
                add_members: batch.to_vec(),
                ..NeutralPatch::default()
            };
            let mut p = OutRequest::new("PATCH", format!("/Groups/{id}"));
            p.body = Some(render(&patch, self.config.dialect));
            self.send(Kind::GroupMembers, &p, is_2xx).await;
        }
        Some(id)
    }

    /// Deletes the created resource at `path` (`/Users/<id>` or `/Groups/<id>`).
    async fn delete(&self, path: String) {
        let kind = if path.starts_with("/Users/") {
            Kind::UserDelete
        } else {
            Kind::GroupDelete
        };
        self.send(kind, &OutRequest::new("DELETE", path), is_2xx)
            .await;
    }

    fn phase_done(&self, name: &'static str, started: Instant, before: (u64, u64)) -> PhaseReport {
        let elapsed = started.elapsed();
        let stats = self.stats.lock().expect("stats lock");
        let requests = stats.total() - before.0;
        PhaseReport {
            name,
            requests,
            errors: stats.total_errors() - before.1,
            elapsed_s: super::stats::secs(elapsed),
            throughput: if elapsed.is_zero() {
                0.0
            } else {
                requests as f64 / elapsed.as_secs_f64()
            },
        }
    }

    fn counts(&self) -> (u64, u64) {
        let s = self.stats.lock().expect("stats lock");
        (s.total(), s.total_errors())
    }
}

/// The Entra create body for a user.
pub fn user_body(upn: &str, i: u64) -> Value {
    let family = format!("User{i}");
    json!({
        "schemas": [urn::USER, urn::ENTERPRISE_USER],
        "externalId": uuid::Uuid::new_v4().to_string(),
        "userName": upn,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": upn}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": format!("Load {family}"), "familyName": family, "givenName": "Load"},
        "roles": []
    })
}

/// The Entra create body for a group (with Entra's non-standard second schema URI).
pub fn group_body(name: &str) -> Value {
    json!({
        "schemas": [urn::GROUP, urn::ENTRA_GROUP],
        "externalId": uuid::Uuid::new_v4().to_string(),
        "displayName": name,
        "meta": {"resourceType": "Group"}
    })
}

fn id_of(body: &str) -> Option<Box<str>> {
    match serde_json::from_str::<IdOnly>(body).ok()?.id {
        Value::String(s) if !s.is_empty() => Some(s.into_boxed_str()),
        Value::Number(n) => Some(n.to_string().into_boxed_str()),
        _ => None,
    }
}

/// The members of group `g`: `k` consecutive of the `n` created users (wrapping), so
/// memberships spread evenly; `kept` holds the first of them (as many as the groups need).
fn members_of(kept: &Compact, n: u64, g: u64, k: usize) -> Vec<Value> {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    if n == 0 {
        return vec![];
    }
    let k = k.min(n);
    let start = (g as usize).wrapping_mul(k) % n;
    (0..k)
        .filter_map(|j| kept.get((start + j) % n))
        .map(|id| Value::String(id.to_string()))
        .collect()
}

/// Created resources the ledger keeps in memory at least (and fewer than twice as many); the
/// older ones wait for cleanup in a temporary file, which cleanup takes back this many at a
/// time.
pub const SPILL_AFTER: usize = 4_000;

/// Runs `work` on every item with `workers` spawned tasks (so requests are built and answers
/// parsed on all of the runtime's threads, not on the caller's), keeping the `Some` results.
/// Items are taken one at a time from the shared iterator: nothing is materialised up front.
async fn spawn_workers<I, T, F, Fut>(cx: &Arc<Ctx>, items: I, workers: usize, work: F) -> Vec<T>
where
    I: Iterator + Send + 'static,
    I::Item: Send,
    F: Fn(Arc<Ctx>, I::Item) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<T>> + Send,
    T: Send + 'static,
{
    let items = Arc::new(Mutex::new(items));
    let work = Arc::new(work);
    let handles: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (items, work, cx) = (items.clone(), work.clone(), cx.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let next = items.lock().expect("work lock").next();
                    let Some(item) = next else { break };
                    out.extend(work(cx.clone(), item).await);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        match h.await {
            Ok(out) => all.extend(out),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    all
}

/// Probe mode on its own transport: `workers` tasks, each with one kept-alive connection,
/// send the probe until `requests` were sent or the run stopped.
async fn probe_on_wire(cx: &Arc<Ctx>, wire: Arc<Wire>, requests: u64, workers: usize) {
    let left = Arc::new(AtomicU64::new(requests));
    let handles: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (cx, wire, left) = (cx.clone(), wire.clone(), left.clone());
            tokio::spawn(async move {
                let mut conn = None;
                let take = |n: u64| n.checked_sub(1);
                while !cx.stopped()
                    && left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, take)
                        .is_ok()
                {
                    cx.pacer.wait().await;
                    let stopped = || cx.config.stop.load(Ordering::SeqCst);
                    let throttle = |w| cx.pacer.throttled(tokio::time::Instant::now(), w);
                    let (response, elapsed) = wire.send(&mut conn, &stopped, &throttle).await;
                    cx.note(Kind::Probe, elapsed, response, is_200);
                }
            })
        })
        .collect();
    for h in handles {
        if let Err(e) = h.await
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
    }
}

/// Runs the load described by `config` against `client`'s target and reports what it measured.
/// Everything created is deleted before this returns (even when `config.stop` is set midway).
pub async fn run(
    client: Arc<Tenant>,
    generators: &Generators,
    config: &LoadConfig,
    progress: Arc<dyn Progress>,
) -> LoadReport {
    let conc = config.concurrency.max(1);
    let cx = Arc::new(Ctx {
        client: client.clone(),
        config: config.clone(),
        prefix: generators.prefix(),
        pacer: Pacer::new(config.rate),
        stats: Mutex::new(Stats::default()),
        progress: progress.clone(),
        responses: AtomicU64::new(0),
        unreachable: AtomicBool::new(false),
    });
    let mut phases = Vec::new();
    let mut created = (0u64, 0u64);
    let mut deleted = (0u64, 0u64);

    match config.mode {
        Mode::Probe => {
            progress.phase("probe", config.users);
            let mut req = OutRequest::new("GET", "/Users");
            req.query = vec![(
                "filter".into(),
                format!("userName eq \"{}probe@example.com\"", cx.prefix),
            )];
            let wire = Wire::new(&client, &req).map(Arc::new);
            let req = Arc::new(req);
            let (started, before) = (Instant::now(), cx.counts());
            if let Some(wire) = wire {
                probe_on_wire(&cx, wire, config.users, conc).await;
                phases.push(cx.phase_done("probe", started, before));
            } else {
                // Once stopped, no more work is handed out (not a billion no-op items either).
                let until_stopped = {
                    let cx = cx.clone();
                    (0..config.users).take_while(move |_| !cx.stopped())
                };
                spawn_workers(&cx, until_stopped, conc, move |cx, _| {
                    let req = req.clone();
                    async move {
                        if !cx.stopped() {
                            cx.send(Kind::Probe, &req, is_200).await;
                        }
                        None::<()>
                    }
                })
                .await;
                phases.push(cx.phase_done("probe", started, before));
            }
        }
        Mode::Cycle => {
            progress.phase("cycle", config.expected_requests());
            let (started, before) = (Instant::now(), cx.counts());
            let until_stopped = {
                let cx = cx.clone();
                (0..config.users).take_while(move |_| !cx.stopped())
            };
            // The ledger keeps every created resource for cleanup (the older ones in a
            // temporary file past SPILL_AFTER); the first ids, as many as the groups'
            // memberships need, are also kept here for the member PATCHes.
            client.ledger.spill_after(SPILL_AFTER);
            let k = config.members_per_group;
            let pool = usize::try_from(config.users)
                .unwrap_or(usize::MAX)
                .min((config.groups as usize).saturating_mul(k));
            let kept = Arc::new(Mutex::new((Compact::default(), 0u64)));
            {
                let kept = kept.clone();
                spawn_workers(&cx, until_stopped, conc, move |cx, i| {
                    let kept = kept.clone();
                    async move {
                        let id = cx.user(i).await?;
                        let mut kept = kept.lock().expect("ids lock");
                        if kept.0.len() < pool {
                            kept.0.push(&id);
                        }
                        kept.1 += 1;
                        None::<()>
                    }
                })
                .await;
            }
            let (members, n) = Arc::try_unwrap(kept)
                .expect("the workers are done")
                .into_inner()
                .expect("ids lock");
            let members = Arc::new(members);
            let groups = {
                let members = members.clone();
                spawn_workers(&cx, 0..config.groups, conc, move |cx, g| {
                    let members = members_of(&members, n, g, k);
                    async move { cx.group(g, members).await }
                })
                .await
            };
            drop(members);
            phases.push(cx.phase_done("cycle", started, before));
            created = (n, groups.len() as u64);

            // Cleanup deletes what the ledger lists, newest first from memory (the groups,
            // created last, before the users they reference), then the older users in
            // batches taken back from its file. Always runs.
            progress.phase("cleanup", created.0 + created.1);
            let (started, before) = (Instant::now(), cx.counts());
            let delete_all = |batch: Vec<crate::run::Created>| {
                spawn_workers(&cx, batch.into_iter(), conc, |cx, c| async move {
                    cx.delete(c.path).await;
                    None::<()>
                })
            };
            delete_all(client.ledger.in_memory(Some(Owner::Command))).await;
            loop {
                let batch = client.ledger.take_back(SPILL_AFTER);
                if batch.is_empty() {
                    break;
                }
                delete_all(batch).await;
            }
            // Creates whose response never arrived: found by their unique names, then deleted
            // (with any delete above that failed).
            client.adopt_pending(Owner::Command).await;
            for c in client.ledger.remaining(None) {
                if c.path.starts_with("/Users/") {
                    created.0 += 1;
                } else {
                    created.1 += 1;
                }
                cx.delete(c.path).await;
            }
            phases.push(cx.phase_done("cleanup", started, before));
        }
    }
    progress.finish();

    let leftovers = client.ledger.remaining(None);
    if config.mode == Mode::Cycle {
        let users_left = leftovers
            .iter()
            .filter(|c| c.path.starts_with("/Users/"))
            .count() as u64;
        let groups_left = leftovers.len() as u64 - users_left;
        deleted = (
            created.0.saturating_sub(users_left),
            created.1.saturating_sub(groups_left),
        );
    }
    let (throttling, kinds, statuses, errors, timeline) = {
        let stats = cx.stats.lock().expect("stats lock");
        (
            stats.throttling(),
            stats.kinds(),
            stats.statuses(),
            stats.errors(),
            stats.timeline(),
        )
    };
    let (measured, failed) = phases
        .first()
        .map_or((0.0, 0), |p| (p.throughput, p.errors));
    let interrupted = config.stop.load(Ordering::SeqCst);
    let unreachable = cx.unreachable.load(Ordering::SeqCst);
    let verdict = Verdict::judge(config.rate, measured, failed, throttling.responses_429)
        .override_for(interrupted, unreachable);
    let entra_estimate = (config.mode == Mode::Cycle).then(|| {
        let measuring: Vec<_> = kinds
            .iter()
            .filter(|k| !matches!(k.kind, Kind::UserDelete | Kind::GroupDelete))
            .collect();
        let count: u64 = measuring.iter().map(|k| k.requests).sum();
        let mean_ms = if count == 0 {
            0.0
        } else {
            measuring
                .iter()
                .map(|k| k.mean_ms * k.requests as f64)
                .sum::<f64>()
                / count as f64
        };
        let members = (config.members_per_group as u64).min(config.users);
        super::report::CycleEstimate::new(
            (config.users, config.groups, config.groups * members),
            config.expected_requests(),
            measured,
            mean_ms,
        )
    });
    LoadReport {
        entra_estimate,
        target: client.target().to_string(),
        run_id: generators.run_id().to_string(),
        mode: config.mode,
        dialect: config.dialect,
        rate: config.rate,
        concurrency: conc,
        users: config.users,
        groups: config.groups,
        members_per_group: config.members_per_group,
        batch: config.batch,
        update: config.update,
        phases,
        kinds,
        statuses,
        errors,
        throttling,
        timeline,
        created_users: created.0,
        created_groups: created.1,
        deleted_users: deleted.0,
        deleted_groups: deleted.1,
        leftovers,
        interrupted,
        unreachable,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_spread_over_the_created_users_and_wrap() {
        let mut users = Compact::default();
        for id in ["a", "b", "c", "d", "e"] {
            users.push(id);
        }
        assert_eq!(members_of(&users, 5, 0, 2), vec![json!("a"), json!("b")]);
        assert_eq!(members_of(&users, 5, 2, 2), vec![json!("e"), json!("a")]);
        assert_eq!(
            members_of(&users, 5, 0, 9).len(),
            5,
            "never more members than users"
        );
        assert!(members_of(&Compact::default(), 0, 3, 2).is_empty());
    }

    #[test]
    fn the_expected_request_count_follows_entras_sequence() {
        let c = LoadConfig {
            users: 100,
            groups: 10,
            members_per_group: 25,
            batch: 10,
            update: true,
            ..LoadConfig::default()
        };
        // users: match + create + update; groups: match + create + 3 member batches.
        assert_eq!(c.expected_requests(), 100 * 3 + 10 * 5);
        let p = LoadConfig {
            mode: Mode::Probe,
            users: 7,
            ..LoadConfig::default()
        };
        assert_eq!(p.expected_requests(), 7);
    }

    #[test]
    fn create_bodies_are_entras() {
        let u = user_body("scimcheck-ab-u1@example.com", 1);
        assert_eq!(u["schemas"][1], urn::ENTERPRISE_USER);
        assert_eq!(u["emails"][0]["type"], "work");
        assert_eq!(u["meta"]["resourceType"], "User");
        assert_eq!(u["roles"], json!([]));
        let g = group_body("scimcheck-ab-g1");
        assert_eq!(g["schemas"][1], urn::ENTRA_GROUP);
        assert!(g.get("members").is_none(), "Entra adds members with PATCH");
    }
}
