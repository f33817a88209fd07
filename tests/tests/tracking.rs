//! Tracking (the near cache), checked against real servers.
//!
//! The checker: writers (caches without tracking, and raw redis connections) and tracking
//! readers (which also write now and then) hammer a few keys for a bounded time, each call
//! recorded with when it began and when it was acknowledged. Afterwards every read is checked
//! against the history of acknowledged writes:
//!
//! - **bounded staleness**: a read must not return a value `v` when some write `w` of the key
//!   began after `v`'s write was acknowledged (so `w` came after `v` on the server) and `w` was
//!   acknowledged more than the bound before the read began. The bound is the guarantee the
//!   guide states: the invalidation delay, measured on the same server just before the run
//!   (its maximum), or `max_staleness` when that is longer (the link is confirmed by a `PING`
//!   at least that often, or nothing is served), plus [`MARGIN`]. With seven threads
//!   spinning on two cores, the invalidations' task is sometimes not scheduled for tens of
//!   milliseconds: staleness then reaches towards `max_staleness`, never past it. The
//!   stalest read of each run is printed;
//! - **read your writes**: for the reading cache's own writes the bound is zero;
//! - a read never returns a key missing while every write of it is kept (no restart).
//!
//! Each run happens on Redis and Valkey, undisturbed, with the invalidation link killed
//! (`CLIENT KILL`) mid-run, with the server paused (`SIGSTOP`) past `max_staleness`, and
//! with a restart. The counters prove each fault was met (a link drop, a staleness drop) and
//! that copies were served (hits), so that the check is not vacuous. Figures are printed
//! (`cargo test -p cachex-tests --test tracking -- --nocapture`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{CacheBuilder, StampedePrevention, TrackingStats};
use cachex_tests::topology::SERVICE;
use cachex_tests::{Cluster, ReplicaSet, SentinelGroup, Server, ServerKind};

/// The keys hammered.
const KEYS: usize = 4;
/// How long each run hammers them.
const RUN: Duration = Duration::from_secs(3);
/// Added to the bound: the time between a reader taking its clock and its call looking at the
/// copy, and between the server's answer to a writer and the writer's clock.
const MARGIN: Duration = Duration::from_millis(10);
/// `max_staleness` of the readers: short, so that a pause runs past it and the bound stays
/// below the quiet between bursts of writes (see [`PHASE`]).
const MAX_STALENESS: Duration = Duration::from_millis(100);
/// Reading caches, cache writers, raw writers.
const READERS: usize = 3;
const CACHE_WRITERS: usize = 2;
const RAW_WRITERS: usize = 2;

/// A fault met mid-run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    KillLink,
    Pause,
    Restart,
    /// A Sentinel failover (`SENTINEL FAILOVER`), on a Sentinel setup only.
    Failover,
    /// On a cluster: a slot moved to another primary, then a shard failed over by hand.
    Reshape,
}

/// Where a run happens.
enum Setup {
    /// One server.
    Single(Server),
    /// A primary, a replica and three sentinels (Redis); the caches use the Sentinel URL.
    Sentinel(SentinelGroup),
    /// Three primaries with a replica each (Redis); the caches use the cluster URL, and the
    /// writers are caches only (a raw connection would have to follow `MOVED` itself).
    Cluster(Cluster),
}

impl Setup {
    /// The caches' URL.
    fn url(&self) -> String {
        match self {
            Setup::Single(server) => server.url(),
            Setup::Sentinel(group) => group.url(),
            Setup::Cluster(cluster) => cluster.url(),
        }
    }

    /// How raw connections find the primary.
    fn primary(&self) -> Primary {
        match self {
            Setup::Single(server) => Primary::Fixed(server.url()),
            Setup::Sentinel(group) => Primary::Sentinel(
                group
                    .sentinels()
                    .iter()
                    .map(|sentinel| format!("redis://127.0.0.1:{}", sentinel.port()))
                    .collect(),
            ),
            Setup::Cluster(_) => Primary::Cluster,
        }
    }

    fn name(&self) -> String {
        match self {
            Setup::Single(server) => server.kind().to_string(),
            Setup::Sentinel(_) => "sentinel".to_owned(),
            Setup::Cluster(_) => "cluster".to_owned(),
        }
    }
}

/// How a raw connection finds the primary: a fixed URL, or by asking the sentinels (their
/// URLs). A raw write through Sentinel counts as acknowledged only once a replica has it
/// (`WAIT 1`): a failover loses what only the old primary had, and a lost write is not a stale
/// read.
#[derive(Clone, PartialEq)]
enum Primary {
    Fixed(String),
    Sentinel(Vec<String>),
    /// No raw writers (see [`Setup::Cluster`]).
    Cluster,
}

impl Primary {
    /// The primary's URL now, if a sentinel names it.
    fn url(&self) -> Option<String> {
        match self {
            Primary::Fixed(url) => Some(url.clone()),
            Primary::Sentinel(sentinels) => sentinels.iter().find_map(|sentinel| {
                let mut connection = redis::Client::open(sentinel.as_str())
                    .ok()?
                    .get_connection_with_timeout(Duration::from_secs(1))
                    .ok()?;
                let (host, port): (String, u16) = redis::cmd("SENTINEL")
                    .arg("GET-MASTER-ADDR-BY-NAME")
                    .arg(SERVICE)
                    .query(&mut connection)
                    .ok()?;
                Some(format!("redis://{host}:{port}"))
            }),
            Primary::Cluster => None,
        }
    }

    /// `SET key value` on `connection`, acknowledged (see [`Primary`]).
    fn set(&self, connection: &mut redis::Connection, key: &str, value: i64) -> bool {
        let set = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .query::<()>(connection)
            .is_ok();
        match self {
            Primary::Fixed(_) | Primary::Cluster => set,
            Primary::Sentinel(_) => {
                set && redis::cmd("WAIT")
                    .arg(1)
                    .arg(100)
                    .query::<u64>(connection)
                    .is_ok_and(|replicas| replicas >= 1)
            }
        }
    }
}

/// A write: the value (unique), who wrote it, when it began and when it was acknowledged
/// (`None`: it failed, it may or may not have been applied).
struct Write {
    value: i64,
    writer: usize,
    began: Duration,
    acked: Option<Duration>,
}

/// A read: by which cache (a writer id), of which key, when it began, what it returned.
struct Read {
    reader: usize,
    key: usize,
    began: Duration,
    value: Option<i64>,
}

/// Writes come in bursts of this long, with as long a quiet between: a stale copy left
/// behind by a write would be read through the quiet, past any bound.
const PHASE: Duration = Duration::from_millis(250);

/// Whether writers may write now (see [`PHASE`]); otherwise they wait a little.
fn writing(started: Instant) -> bool {
    let phase = started.elapsed().as_millis() / PHASE.as_millis();
    if phase % 2 == 0 {
        return true;
    }
    thread::sleep(Duration::from_millis(2));
    false
}

fn key_name(key: usize) -> String {
    format!("k{key}")
}

fn tracking_cache(url: &str) -> Cache {
    tracking_builder(url).build().expect("a tracking cache")
}

fn tracking_builder(url: &str) -> CacheBuilder {
    CacheBuilder::from_url(url)
        .expect("a URL")
        .prefix("chk")
        .tracking(true)
        .tracking_max_staleness(MAX_STALENESS)
        .response_timeout(Duration::from_secs(10))
}

fn plain_cache(url: &str) -> Cache {
    CacheBuilder::from_url(url)
        .expect("a URL")
        .prefix("chk")
        .response_timeout(Duration::from_secs(10))
        .build()
        .expect("a cache")
}

/// Waits until `cache`'s link is confirmed.
fn wait_live(cache: &Cache) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cache.tracking_stats().expect("tracking").live {
        assert!(
            Instant::now() < deadline,
            "the invalidation link never came up"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

/// The invalidation delay, `rounds` times: a raw write acknowledged until a tracking
/// cache's copy of the key is gone (its `get` returns the new value).
fn invalidation_delays(url: &str, raw_url: &str, rounds: usize) -> Vec<Duration> {
    let reader = tracking_cache(url);
    wait_live(&reader);
    let mut raw = redis::Client::open(raw_url)
        .expect("a client")
        .get_connection()
        .expect("a connection");
    let mut delays = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let round = i64::try_from(round).expect("small");
        let _: () = redis::cmd("SET")
            .arg("chk:1:delay")
            .arg(round)
            .query(&mut raw)
            .expect("SET");
        // Read until served from a copy.
        loop {
            let hits = reader.tracking_stats().expect("tracking").hits;
            let value: Option<i64> = reader.get("delay").expect("get");
            if value == Some(round) && reader.tracking_stats().expect("tracking").hits > hits {
                break;
            }
        }
        let _: () = redis::cmd("SET")
            .arg("chk:1:delay")
            .arg(-1)
            .query(&mut raw)
            .expect("SET");
        let acked = Instant::now();
        while reader.get::<i64>("delay").expect("get") != Some(-1) {}
        delays.push(acked.elapsed());
    }
    delays.sort();
    delays
}

/// The violations of `reads` against `writes` (per key), with `bound`; and the stalest read:
/// how long before it began its value had been overwritten. A read of a value is a violation
/// when a write that began after that value's was acknowledged was itself acknowledged more
/// than `bound` before the read began (no time at all for the reader's own writes).
fn violations(
    writes: &[Vec<Write>],
    reads: &[Read],
    bound: Duration,
    missing_allowed: bool,
) -> (Vec<String>, Duration) {
    let histories: Vec<History<'_>> = writes.iter().map(|writes| History::new(writes)).collect();
    let mut found = Vec::new();
    let mut stalest = Duration::ZERO;
    for read in reads {
        let history = &histories[read.key];
        let Some(value) = read.value else {
            if !missing_allowed {
                found.push(format!(
                    "reader {} read k{} missing at {:?}",
                    read.reader, read.key, read.began
                ));
            }
            continue;
        };
        let Some(written) = history.by_value.get(&value) else {
            found.push(format!(
                "reader {} read k{} = {value}, never written",
                read.reader, read.key
            ));
            continue;
        };
        // A value whose write failed cannot be placed: nothing to check.
        let Some(written_acked) = written.acked else {
            continue;
        };
        let later = history
            .by_start
            .partition_point(|write| write.began <= written_acked);
        if let Some(first) = history.first_acked(later, None) {
            stalest = stalest.max(read.began.saturating_sub(first.acked.unwrap_or_default()));
        }
        let own = history.first_acked(later, Some(read.reader));
        let other = history.first_acked_not_by(later, read.reader);
        let overwritten = [(own, Duration::ZERO), (other, bound)]
            .into_iter()
            .filter_map(|(write, allowed)| Some((write?, allowed)))
            .find(|(write, allowed)| write.acked.unwrap_or_default() + *allowed < read.began);
        if let Some((later, _)) = overwritten {
            let later_acked = later.acked.unwrap_or_default();
            found.push(format!(
                "reader {} read k{} = {value} at {:?}: overwritten by {} (writer {}) \
                 acknowledged at {later_acked:?}, {:?} before the read",
                read.reader,
                read.key,
                read.began,
                later.value,
                later.writer,
                read.began - later_acked
            ));
        }
    }
    (found, stalest)
}

/// One key's writes, indexed for the checker: by value, and by start time with the
/// earliest-acknowledged write of every suffix (overall and per writer), so that a read is
/// checked in logarithmic time however many writes there were.
struct History<'w> {
    by_value: std::collections::HashMap<i64, &'w Write>,
    by_start: Vec<&'w Write>,
    /// `first[i]`: the earliest-acknowledged write among `by_start[i..]`.
    first: Vec<Option<&'w Write>>,
    /// `first_by[writer][i]`: the same among that writer's writes.
    first_by: Vec<Vec<Option<&'w Write>>>,
    /// `second[i]`: the earliest-acknowledged write among `by_start[i..]` whose writer is not
    /// `first[i]`'s.
    second: Vec<Option<&'w Write>>,
}

impl<'w> History<'w> {
    fn new(writes: &'w [Write]) -> Self {
        let by_value = writes.iter().map(|write| (write.value, write)).collect();
        let mut by_start: Vec<&Write> = writes.iter().collect();
        by_start.sort_by_key(|write| write.began);
        let writers = writes
            .iter()
            .map(|write| write.writer + 1)
            .max()
            .unwrap_or(0);
        let earlier = |a: Option<&'w Write>, b: &'w Write| match (a, b.acked) {
            (_, None) => a,
            (Some(a), Some(at)) if a.acked.unwrap_or_default() <= at => Some(a),
            _ => Some(b),
        };
        let n = by_start.len();
        let (mut first, mut second) = (vec![None; n + 1], vec![None; n + 1]);
        let mut first_by = vec![vec![None; n + 1]; writers];
        for i in (0..n).rev() {
            let write = by_start[i];
            for (writer, suffix) in first_by.iter_mut().enumerate() {
                suffix[i] = if writer == write.writer {
                    earlier(suffix[i + 1], write)
                } else {
                    suffix[i + 1]
                };
            }
            // The best two of different writers: each writer's best, then the top two.
            let mut best: Vec<&Write> = first_by.iter().filter_map(|suffix| suffix[i]).collect();
            best.sort_by_key(|write| write.acked);
            first[i] = best.first().copied();
            second[i] = best.get(1).copied();
        }
        History {
            by_value,
            by_start,
            first,
            first_by,
            second,
        }
    }

    /// The earliest-acknowledged write from position `from` on, by `writer` or by anyone.
    fn first_acked(&self, from: usize, writer: Option<usize>) -> Option<&'w Write> {
        match writer {
            None => self.first[from],
            Some(writer) => self.first_by.get(writer).and_then(|suffix| suffix[from]),
        }
    }

    /// The earliest-acknowledged write from position `from` on by anyone but `writer`.
    fn first_acked_not_by(&self, from: usize, writer: usize) -> Option<&'w Write> {
        match self.first[from] {
            Some(first) if first.writer == writer => self.second[from],
            first => first,
        }
    }
}

/// The checker itself: a stale read past the bound is found, one within it is not, and a
/// reader's own overwrite allows no staleness at all.
#[test]
fn the_checker_finds_stale_reads() {
    let ms = Duration::from_millis;
    let write = |value, writer, began, acked| Write {
        value,
        writer,
        began: ms(began),
        acked: Some(ms(acked)),
    };
    let writes = vec![vec![
        write(1, 0, 0, 1),
        write(2, 3, 2, 3),
        write(3, 5, 300, 301),
    ]];
    let read = |reader, began, value| Read {
        reader,
        key: 0,
        began: ms(began),
        value: Some(value),
    };
    let bound = ms(110);
    // Value 1 read 50 ms after another writer overwrote it: within the bound.
    assert!(
        violations(&writes, &[read(5, 53, 1)], bound, false)
            .0
            .is_empty()
    );
    // 200 ms after: a violation.
    let (found, stalest) = violations(&writes, &[read(5, 203, 1)], bound, false);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(stalest, ms(200));
    // Value 2 read by writer 5 after its own overwrite (value 3) was acknowledged.
    assert_eq!(
        violations(&writes, &[read(5, 302, 2)], bound, false)
            .0
            .len(),
        1
    );
    // The same read by another reader is within the bound.
    assert!(
        violations(&writes, &[read(6, 302, 2)], bound, false)
            .0
            .is_empty()
    );
    // A value never written, and a miss where none is allowed.
    assert_eq!(
        violations(&writes, &[read(5, 10, 9)], bound, false).0.len(),
        1
    );
    let missing = Read {
        value: None,
        ..read(5, 10, 0)
    };
    assert_eq!(violations(&writes, &[missing], bound, false).0.len(), 1);
}

/// Kills every client with tracking on (flag `t` in `CLIENT LIST`): the readers' links, once
/// at least one is up (they reconnect after each kill); how many.
fn kill_links(server: &Server) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let killed = kill_tracking_clients(server);
        if killed > 0 || Instant::now() > deadline {
            return killed;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Sets the flag when dropped: a panic in the body of a scope stops its threads, so that the
/// scope ends and the panic is reported instead of a hang.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// [`kill_links`] once.
fn kill_tracking_clients(server: &Server) -> usize {
    let list = server.command(&["CLIENT", "LIST"]);
    let mut killed = 0;
    for line in list.lines() {
        let field = |name: &str| {
            line.split(' ')
                .find_map(|field| field.strip_prefix(name))
                .map(str::to_owned)
        };
        if let (Some(id), Some(flags)) = (field("id="), field("flags="))
            && flags.contains('t')
        {
            server.command(&["CLIENT", "KILL", "ID", id.as_str()]);
            killed += 1;
        }
    }
    killed
}

/// One checker run (see the module documentation).
fn check(mut place: Setup, fault: Fault) {
    let url = place.url();
    let primary = place.primary();
    let delays = match &place {
        Setup::Cluster(cluster) => {
            let node = cluster.primary_port_of("chk:1:delay");
            invalidation_delays(&url, &format!("redis://127.0.0.1:{node}"), 50)
        }
        _ => invalidation_delays(&url, &primary.url().expect("a primary"), 50),
    };
    let measured = *delays.last().expect("rounds");
    let bound = measured.max(MAX_STALENESS) + MARGIN;

    let started = Instant::now();
    let writes: Vec<Mutex<Vec<Write>>> = (0..KEYS).map(|_| Mutex::new(Vec::new())).collect();
    let reads = Mutex::new(Vec::new());
    // Reads that failed (recorded nowhere else: a fault makes some fail).
    let failed_reads = AtomicUsize::new(0);
    let record = |key: usize, write: Write| writes[key].lock().expect("lock").push(write);
    // Every key starts written (writer 0).
    let setup = plain_cache(&url);
    for key in 0..KEYS {
        let value = i64::try_from(key).expect("small");
        let began = started.elapsed();
        setup
            .set(&key_name(key), &value, Timeout::Never)
            .expect("set");
        record(
            key,
            Write {
                value,
                writer: 0,
                began,
                acked: Some(started.elapsed()),
            },
        );
    }
    // The last reader has stampede prevention too: its reads take the copies' expiries
    // (the values never expire, so the rule never misses a read, but the path is checked).
    let readers: Vec<Cache> = (0..READERS)
        .map(|at| {
            let stampede = (at + 1 == READERS).then(StampedePrevention::default);
            tracking_builder(&url)
                .stampede_prevention(stampede)
                .build()
                .expect("a tracking cache")
        })
        .collect();
    readers.iter().for_each(wait_live);
    let stop = AtomicBool::new(false);
    let mut killed = 0;
    let mut at_failover: Vec<u64> = Vec::new();
    let sequence = AtomicUsize::new(KEYS);
    // A unique value for `writer`.
    let next_value = |writer: usize| {
        let seq = sequence.fetch_add(1, Ordering::Relaxed);
        i64::try_from((writer << 32) | seq).expect("fits")
    };
    // Writes a new value of `key` as `writer` with `write` (true when acknowledged), recorded
    // with its times; whether acknowledged.
    let write_as = |writer: usize, key: usize, write: &mut dyn FnMut(i64) -> bool| {
        let value = next_value(writer);
        let began = started.elapsed();
        let acked = write(value).then(|| started.elapsed());
        record(
            key,
            Write {
                value,
                writer,
                began,
                acked,
            },
        );
        acked.is_some()
    };

    thread::scope(|scope| {
        // Cache writers: ids 1..
        for writer in 1..=CACHE_WRITERS {
            let (url, stop, write_as) = (&url, &stop, &write_as);
            scope.spawn(move || {
                let cache = plain_cache(url);
                let mut turn = writer;
                while !stop.load(Ordering::Relaxed) {
                    if !writing(started) {
                        continue;
                    }
                    turn += 1;
                    let key = turn % KEYS;
                    let set =
                        &mut |value| cache.set(&key_name(key), &value, Timeout::Never).is_ok();
                    if !write_as(writer, key, set) {
                        thread::sleep(Duration::from_millis(5));
                    }
                }
            });
        }
        // Raw writers.
        let raw_writers = if primary == Primary::Cluster {
            0
        } else {
            RAW_WRITERS
        };
        for raw in 0..raw_writers {
            let writer = 1 + CACHE_WRITERS + raw;
            let (primary, stop, write_as) = (&primary, &stop, &write_as);
            scope.spawn(move || {
                let mut connection = None;
                let mut turn = writer;
                while !stop.load(Ordering::Relaxed) {
                    if connection.is_none() {
                        connection = primary
                            .url()
                            .and_then(|url| redis::Client::open(url).ok())
                            .and_then(|client| {
                                client
                                    .get_connection_with_timeout(Duration::from_secs(1))
                                    .ok()
                            });
                        if connection.is_none() {
                            thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    }
                    let Some(live) = connection.as_mut() else {
                        continue;
                    };
                    if !writing(started) {
                        continue;
                    }
                    turn += 3;
                    let key = turn % KEYS;
                    let name = format!("chk:1:{}", key_name(key));
                    let set = &mut |value| primary.set(live, &name, value);
                    if !write_as(writer, key, set) {
                        connection = None;
                    }
                }
            });
        }
        // Tracking readers, which write now and then (read your writes).
        for (at, cache) in readers.iter().enumerate() {
            let reader = 1 + CACHE_WRITERS + RAW_WRITERS + at;
            let (stop, write_as, reads, failed_reads) = (&stop, &write_as, &reads, &failed_reads);
            scope.spawn(move || {
                let mut mine = Vec::new();
                let mut turn = reader * 7;
                while !stop.load(Ordering::Relaxed) {
                    turn += 1;
                    let key = (turn * 5 + turn / 7) % KEYS;
                    if turn % 16 == 0 && started.elapsed().as_millis() / PHASE.as_millis() % 2 == 0
                    {
                        let set =
                            &mut |value| cache.set(&key_name(key), &value, Timeout::Never).is_ok();
                        write_as(reader, key, set);
                        continue;
                    }
                    let began = started.elapsed();
                    if turn % 5 == 0 {
                        let other = (key + 1) % KEYS;
                        let names = [key_name(key), key_name(other)];
                        let asked: Vec<&str> = names.iter().map(String::as_str).collect();
                        match cache.get_many::<i64>(&asked) {
                            Ok(found) => {
                                for (key, name) in [(key, &names[0]), (other, &names[1])] {
                                    let value = found.get(name).copied();
                                    mine.push(Read {
                                        reader,
                                        key,
                                        began,
                                        value,
                                    });
                                }
                            }
                            Err(_) => {
                                failed_reads.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    } else {
                        match cache.get::<i64>(&key_name(key)) {
                            Ok(value) => mine.push(Read {
                                reader,
                                key,
                                began,
                                value,
                            }),
                            Err(_) => {
                                failed_reads.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
                reads.lock().expect("lock").extend(mine);
            });
        }
        // The fault, a third of the way in.
        let _stop = StopOnDrop(&stop);
        thread::sleep(RUN / 3);
        match (fault, &mut place) {
            (Fault::None, _) => {}
            (Fault::KillLink, Setup::Single(server)) => {
                for _ in 0..3 {
                    killed += kill_links(server);
                    thread::sleep(Duration::from_millis(200));
                }
            }
            (Fault::Pause, Setup::Single(server)) => {
                server.pause();
                thread::sleep(MAX_STALENESS * 3);
                server.resume();
            }
            (Fault::Restart, Setup::Single(server)) => server.restart(),
            (Fault::Failover, Setup::Sentinel(group)) => {
                let old = group.primary_port();
                group.failover();
                group.wait_primary_moved(old, FAILOVER_SETTLE);
                // The hits so far: the links must follow the new primary and serve again.
                at_failover = readers
                    .iter()
                    .map(|cache| cache.tracking_stats().expect("tracking").hits)
                    .collect();
            }
            (Fault::Reshape, Setup::Cluster(cluster)) => {
                // k0's slot moves to another primary, a key at a time (reads meet `ASK`).
                let from = cluster.primary_port_of("chk:1:k0");
                let to = cluster
                    .cluster_nodes()
                    .into_iter()
                    .find(|node| node.primary && !node.slots.is_empty() && node.port != from)
                    .expect("another primary")
                    .port;
                cluster.move_slot(
                    cluster.slot_of("chk:1:k0"),
                    to,
                    1,
                    Duration::from_millis(20),
                );
                // k1's shard fails over by hand (`CLUSTER FAILOVER` on its replica).
                let old = cluster.primary_port_of("chk:1:k1");
                let replica = cluster
                    .nodes()
                    .find(|node| {
                        let role = node.command(&["ROLE"]);
                        role.contains("slave") && role.contains(&format!(":{old}\r\n"))
                    })
                    .expect("a replica of k1's primary");
                replica.command(&["CLUSTER", "FAILOVER"]);
                let deadline = Instant::now() + FAILOVER_SETTLE;
                while cluster.primary_port_of("chk:1:k1") == old {
                    assert!(Instant::now() < deadline, "the manual failover never ended");
                    thread::sleep(Duration::from_millis(20));
                }
                at_failover = readers
                    .iter()
                    .map(|cache| cache.tracking_stats().expect("tracking").hits)
                    .collect();
            }
            (fault, _) => panic!("{fault:?} cannot happen on {}", url),
        }
        // The run goes on for at least a third of its length after the fault.
        let left = RUN.saturating_sub(started.elapsed()).max(RUN / 3);
        thread::sleep(left);
        stop.store(true, Ordering::Relaxed);
    });

    let writes: Vec<Vec<Write>> = writes
        .into_iter()
        .map(|history| history.into_inner().expect("lock"))
        .collect();
    let reads = reads.into_inner().expect("lock");
    let stats: Vec<TrackingStats> = readers
        .iter()
        .map(|cache| cache.tracking_stats().expect("tracking"))
        .collect();
    let (found, stalest) = violations(&writes, &reads, bound, fault == Fault::Restart);
    let hits: u64 = stats.iter().map(|stats| stats.hits).sum();
    let misses: u64 = stats.iter().map(|stats| stats.misses).sum();
    let link_drops: u64 = stats.iter().map(|stats| stats.link_drops).sum();
    let staleness_drops: u64 = stats.iter().map(|stats| stats.staleness_drops).sum();
    println!(
        "{} {fault:?}: invalidation delay p50 {:?} max {measured:?} (bound {bound:?}); \
         {} writes, {} reads ({hits} hits, {misses} misses), {link_drops} link drops, \
         {staleness_drops} staleness drops, stalest read {stalest:?}, {} failed reads, \
         {} violations",
        place.name(),
        delays[delays.len() / 2],
        writes.iter().map(Vec::len).sum::<usize>(),
        reads.len(),
        failed_reads.load(Ordering::Relaxed),
        found.len()
    );
    assert!(
        fault != Fault::None || failed_reads.load(Ordering::Relaxed) == 0,
        "reads failed with nothing disturbed"
    );
    assert!(
        found.is_empty(),
        "{} violations, the first: {:#?}",
        found.len(),
        &found[..found.len().min(10)]
    );
    assert!(
        hits > 0,
        "no read was served from a copy: the check proves nothing"
    );
    match fault {
        Fault::None => {}
        Fault::KillLink | Fault::Restart => {
            assert!(
                fault == Fault::Restart || killed >= READERS,
                "killed {killed} links"
            );
            assert!(
                link_drops >= READERS as u64,
                "the links were not lost: {stats:?}"
            )
        }
        Fault::Pause => assert!(
            staleness_drops >= READERS as u64,
            "no copies were dropped for staleness: {stats:?}"
        ),
        Fault::Reshape => {
            for (stats, before) in stats.iter().zip(&at_failover) {
                assert!(
                    stats.hits > *before,
                    "a reader served no copy after the changes: {stats:?}"
                );
            }
        }
        Fault::Failover => {
            // Every reader dropped its copies, and serves copies again: its link follows the
            // new primary.
            assert!(
                stats.iter().all(|stats| stats.link_drops >= 1),
                "a failover left copies in place: {stats:?}"
            );
            for (stats, before) in stats.iter().zip(&at_failover) {
                assert!(
                    stats.hits > *before,
                    "a reader served no copy after the failover: {stats:?}"
                );
            }
        }
    }
}

/// One test per server and fault.
macro_rules! checkers {
    ($($name:ident: $kind:ident, $fault:ident;)*) => {$(
        #[test]
        fn $name() {
            check(Setup::Single(Server::start(ServerKind::$kind)), Fault::$fault);
        }
    )*};
}

/// The checker on a cluster: a slot moves to another primary mid-run, then a shard fails over
/// by hand. The link covers every node, replicas too, so neither drops the copies.
#[test]
fn checker_cluster_reshaped() {
    check(Setup::Cluster(Cluster::start()), Fault::Reshape);
}

/// A liveness bound for a Sentinel failover to complete.
const FAILOVER_SETTLE: Duration = Duration::from_secs(30);

/// The checker on a Sentinel service, failed over mid-run: the readers' links drop every copy
/// and follow the new primary.
#[test]
fn checker_sentinel_failover() {
    check(
        Setup::Sentinel(SentinelGroup::start_for_failover()),
        Fault::Failover,
    );
}

checkers! {
    checker_redis: Redis, None;
    checker_redis_link_killed: Redis, KillLink;
    checker_redis_paused: Redis, Pause;
    checker_redis_restarted: Redis, Restart;
    checker_valkey: Valkey, None;
    checker_valkey_link_killed: Valkey, KillLink;
    checker_valkey_paused: Valkey, Pause;
    checker_valkey_restarted: Valkey, Restart;
}

// --- behaviour of the option ---

/// A tracking cache on a fresh Redis, its link confirmed.
fn live_tracking(server: &Server) -> Cache {
    live(
        steady_tracking(&server.url())
            .build()
            .expect("a tracking cache"),
    )
}

/// `max_staleness` of the behaviour tests' caches: long, so that a heartbeat delayed by a
/// starved CPU (other tests run alongside) does not drop the copies a test counts on.
const STEADY_STALENESS: Duration = Duration::from_secs(10);

/// A tracking cache's builder for the behaviour tests (see [`STEADY_STALENESS`]).
fn steady_tracking(url: &str) -> CacheBuilder {
    tracking_builder(url).tracking_max_staleness(STEADY_STALENESS)
}

/// `cache`, once its link is confirmed.
fn live(cache: Cache) -> Cache {
    wait_live(&cache);
    cache
}

/// A runtime for the async surface's reads in a blocking test.
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Reads `key` until a read is served from a copy; panics past a liveness bound.
fn until_hit(cache: &Cache, key: &str) -> Option<i64> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hits = cache.tracking_stats().expect("tracking").hits;
        let value = cache.get::<i64>(key).expect("get");
        if cache.tracking_stats().expect("tracking").hits > hits {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{key} is never served from a copy"
        );
    }
}

#[test]
fn copies_are_shared_by_both_surfaces_and_dropped_by_flush_and_clear() {
    let server = Server::start(ServerKind::Redis);
    let cache = live_tracking(&server);
    cache.set("a", &1, Timeout::Never).expect("set");
    assert_eq!(until_hit(&cache, "a"), Some(1));
    // The async surface reads the same copy.
    let runtime = current_thread();
    let hits = cache.tracking_stats().expect("tracking").hits;
    let value: Option<i64> = runtime.block_on(cache.aget("a")).expect("aget");
    assert_eq!(value, Some(1));
    assert_eq!(cache.tracking_stats().expect("tracking").hits, hits + 1);
    // Another client's FLUSHALL: the copy goes (a null invalidation).
    server.command(&["FLUSHALL"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.get::<i64>("a").expect("get").is_some() {
        assert!(Instant::now() < deadline, "the copy outlived FLUSHALL");
    }
    // `clear` drops every copy at once, missing keys' included.
    cache.set("b", &2, Timeout::Never).expect("set");
    assert_eq!(until_hit(&cache, "b"), Some(2));
    cache.clear().expect("clear");
    assert_eq!(cache.tracking_stats().expect("tracking").copies, 0);
    assert_eq!(cache.get::<i64>("b").expect("get"), None);
}

/// The copies' weight stays within `tracking_max_bytes` however many keys are read (the
/// near cache evicts), each read still answers the stored value, and a value larger than an
/// eighth of the bound is never copied.
#[test]
fn copies_stay_within_the_byte_bound() {
    const BOUND: u64 = 64 * 1024;
    let server = Server::start(ServerKind::Redis);
    let cache = live(
        steady_tracking(&server.url())
            .tracking_max_bytes(BOUND)
            .build()
            .expect("a tracking cache"),
    );
    let value = "v".repeat(1_000);
    for at in 0..200 {
        let key = format!("bound:{at}");
        cache.set(&key, &value, Timeout::Never).expect("set");
        for _ in 0..2 {
            let read: Option<String> = cache.get(&key).expect("get");
            assert_eq!(read.as_deref(), Some(value.as_str()), "{key}");
        }
        let stats = cache.tracking_stats().expect("tracking");
        assert!(
            stats.bytes <= BOUND,
            "{} bytes of copies after {key}",
            stats.bytes
        );
    }
    let stats = cache.tracking_stats().expect("tracking");
    // Copies were kept (the bound was met, not avoided), and evicted: 200 of them weigh
    // about four times the bound.
    assert!(stats.hits > 0 && stats.copies > 0, "{stats:?}");
    assert!(stats.copies < 200, "{stats:?}");
    let large = "w".repeat(usize::try_from(BOUND / 8).expect("small"));
    cache
        .set("bound:large", &large, Timeout::Never)
        .expect("set");
    let hits = cache.tracking_stats().expect("tracking").hits;
    for _ in 0..3 {
        let read: Option<String> = cache.get("bound:large").expect("get");
        assert_eq!(read.as_deref(), Some(large.as_str()));
    }
    assert_eq!(cache.tracking_stats().expect("tracking").hits, hits);
}

/// Every read counts one lookup, a hit or a miss, whichever path serves it (a blocking read
/// of a copy is answered on the caller's thread, the others through the call path).
#[test]
fn each_read_counts_one_hit_or_one_miss() {
    let server = Server::start(ServerKind::Redis);
    let cache = live_tracking(&server);
    cache.set("a", &1, Timeout::Never).expect("set");
    assert_eq!(until_hit(&cache, "a"), Some(1));
    let runtime = current_thread();
    let before = cache.tracking_stats().expect("tracking");
    for _ in 0..3 {
        assert_eq!(cache.get::<i64>("a").expect("get"), Some(1));
    }
    let value: Option<i64> = runtime.block_on(cache.aget("a")).expect("aget");
    assert_eq!(value, Some(1));
    let hit = cache.tracking_stats().expect("tracking");
    assert_eq!((hit.hits - before.hits, hit.misses - before.misses), (4, 0));
    // A key never read before: one miss, on either surface.
    assert_eq!(cache.get::<i64>("never").expect("get"), None);
    let value: Option<i64> = runtime.block_on(cache.aget("never either")).expect("aget");
    assert_eq!(value, None);
    let missed = cache.tracking_stats().expect("tracking");
    assert_eq!((missed.hits - hit.hits, missed.misses - hit.misses), (0, 2));
}

#[test]
fn a_copy_never_outlives_its_key() {
    let server = Server::start(ServerKind::Redis);
    let cache = live_tracking(&server);
    cache
        .set("short", &7, Timeout::After(Duration::from_millis(300)))
        .expect("set");
    assert_eq!(until_hit(&cache, "short"), Some(7));
    thread::sleep(Duration::from_millis(400));
    assert_eq!(cache.get::<i64>("short").expect("get"), None);
}

/// Stampede prevention judges a copy by its expiry as it judges the server's answer: a value
/// inside its buffer is a miss, whether read from a copy or from the server.
#[test]
fn stampede_prevention_applies_to_copies() {
    let server = Server::start(ServerKind::Redis);
    // A buffer of 10 s: the key outlives the checks below by several seconds.
    let stampede = StampedePrevention {
        buffer: Duration::from_secs(10),
        beta: 0.0,
        delta: 0.0,
    };
    let cache = live(
        steady_tracking(&server.url())
            .stampede_prevention(Some(stampede))
            .build()
            .expect("tracking with stampede prevention"),
    );
    let plain = CacheBuilder::from_url(&server.url())
        .expect("a URL")
        .prefix("chk")
        .stampede_prevention(Some(stampede))
        .build()
        .expect("a cache");
    let set = Instant::now();
    cache
        .set("s", &5, Timeout::After(Duration::from_secs(3)))
        .expect("set");
    assert_eq!(until_hit(&cache, "s"), Some(5));
    assert_eq!(
        cache.get_many::<i64>(&["s"]).expect("get_many").get("s"),
        Some(&5)
    );
    // Stored for 13 s; `TTL` rounds, so the value is logically over once less than 10.5 s are
    // left: well before 3 s after the write, while the copy (kept until the key's end) is
    // still there.
    thread::sleep(Duration::from_secs(3).saturating_sub(set.elapsed()));
    // The server agrees: the key is there, and a cache without tracking misses it too.
    assert_eq!(server.command(&["EXISTS", "chk:1:s"]).trim(), ":1");
    assert_eq!(plain.get::<i64>("s").expect("get"), None);
    // Every read finds it missing; until one is served by a copy (the invalidation of the
    // write above may have come late and evicted the first copy).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hits = cache.tracking_stats().expect("tracking").hits;
        assert_eq!(cache.get::<i64>("s").expect("get"), None);
        if cache.tracking_stats().expect("tracking").hits > hits {
            break;
        }
        assert!(Instant::now() < deadline, "never judged on a copy");
    }
    let hits = cache.tracking_stats().expect("tracking").hits;
    assert!(cache.get_many::<i64>(&["s"]).expect("get_many").is_empty());
    assert_eq!(
        cache.tracking_stats().expect("tracking").hits,
        hits + 1,
        "get_many was judged on the copy too"
    );
}

/// With `replicas=`, the link tracks the primary and a copy is only ever installed from a
/// read of the primary: a replica that falls behind (here: cut off from its primary) serves
/// the reads of a cache without tracking, never a tracking cache's copies.
#[test]
fn a_replicas_list_keeps_copies_read_on_the_primary_only() {
    let set = ReplicaSet::start(ServerKind::Valkey, 1);
    set.primary.command(&["SET", "chk:1:r", "1"]);
    set.wait_replicated();
    set.replicas[0].command(&["REPLICAOF", "NO", "ONE"]);
    set.primary.command(&["SET", "chk:1:r", "2"]);
    let url = set.url();
    let plain = CacheBuilder::from_url(&url)
        .expect("a URL")
        .prefix("chk")
        .build()
        .expect("a cache");
    assert_eq!(
        plain.get::<i64>("r").expect("get"),
        Some(1),
        "the replica is behind"
    );
    let cache = live(steady_tracking(&url).build().expect("a tracking cache"));
    assert_eq!(until_hit(&cache, "r"), Some(2));
    assert_eq!(
        cache.get_many::<i64>(&["r"]).expect("get_many").get("r"),
        Some(&2)
    );
    // The primary's invalidations reach the copies.
    set.primary.command(&["SET", "chk:1:r", "3"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.get::<i64>("r").expect("get") != Some(3) {
        assert!(Instant::now() < deadline, "the copy outlived the write");
    }
}

/// On Sentinel with `replica_reads=true`, the fetches that install copies read the primary:
/// the replica serves a cache without tracking's reads, and none of a tracking cache's while
/// its link is confirmed.
#[test]
fn sentinel_replica_reads_install_nothing_from_the_replica() {
    let group = SentinelGroup::start();
    let url = format!("{}?replica_reads=true", group.url());
    let primary_port = group.primary_port();
    let replica = group
        .data_nodes()
        .find(|node| node.port() != primary_port)
        .expect("a replica");
    let primary = group
        .data_nodes()
        .find(|node| node.port() == primary_port)
        .expect("the primary");
    let reads = |server: &Server| {
        ["get", "mget", "eval", "evalsha"]
            .iter()
            .map(|command| ReplicaSet::calls(server, command))
            .sum::<u64>()
    };
    let plain = CacheBuilder::from_url(&url)
        .expect("a URL")
        .prefix("chk")
        .build()
        .expect("a cache");
    let keys: Vec<String> = (0..20).map(|at| format!("rr{at}")).collect();
    for key in &keys {
        plain.set(key, &1, Timeout::Never).expect("set");
    }
    let before = reads(replica);
    for key in &keys {
        plain.get::<i64>(key).expect("get");
    }
    assert!(
        reads(replica) > before,
        "a cache without tracking reads the replica"
    );
    let cache = live(steady_tracking(&url).build().expect("a tracking cache"));
    let (replica_before, primary_before) = (reads(replica), reads(primary));
    for key in &keys {
        assert_eq!(cache.get::<i64>(key).expect("get"), Some(1));
    }
    let found = cache
        .get_many::<i64>(&["rr0", "rr1", "rr-missing"])
        .expect("get_many");
    assert_eq!(found.len(), 2);
    assert!(cache.tracking_stats().expect("tracking").live);
    assert_eq!(
        reads(replica),
        replica_before,
        "a tracked read went to the replica"
    );
    assert!(
        reads(primary) > primary_before,
        "the fetches read the primary"
    );
    assert_eq!(until_hit(&cache, "rr0"), Some(1));
}

/// On a cluster, `get_many` of keys on several slots fetches its misses (a script's keys
/// must share a slot: one `GET`+`PTTL` each, in a pipeline split by slot), then serves
/// them all from copies; a key of another type among them reads as missing.
#[test]
fn cluster_get_many_across_slots() {
    let cluster = cachex_tests::shared_cluster();
    let cache = live(
        steady_tracking(&cluster.url())
            .prefix("chk-cluster-many")
            .build()
            .expect("a tracking cache"),
    );
    let keys: Vec<String> = (0..12).map(|at| format!("m{at}")).collect();
    let names: Vec<&str> = keys.iter().map(String::as_str).collect();
    let slots: std::collections::BTreeSet<u16> = names
        .iter()
        .map(|key| cluster.slot_of(&format!("chk-cluster-many:1:{key}")))
        .collect();
    assert!(slots.len() > 1, "the keys share one slot");
    let pairs: Vec<(&str, i64)> = names.iter().map(|key| (*key, 7)).collect();
    cache.set_many(&pairs, Timeout::Never).expect("set_many");
    // Until one call is served from copies only (the invalidations of the writes above may
    // arrive after a fetch began, which then installs nothing).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hits = cache.tracking_stats().expect("tracking").hits;
        let found = cache.get_many::<i64>(&names).expect("get_many");
        assert_eq!(found.len(), keys.len());
        assert!(found.values().all(|value| *value == 7));
        if cache.tracking_stats().expect("tracking").hits == hits + keys.len() as u64 {
            break;
        }
        assert!(Instant::now() < deadline, "never served from copies only");
    }
    // A key of another type reads as missing, as `MGET` has it, not as an error of the call.
    cache.hset("h", "field", &1).expect("hset");
    let mut with_hash = names.clone();
    with_hash.push("h");
    let found = cache
        .get_many::<i64>(&with_hash)
        .expect("get_many with a hash");
    assert_eq!(found.len(), keys.len());
    assert!(!found.contains_key("h"));
}

/// On a cluster, nodes that join (here: a replica for each primary) end the link's session at
/// its next heartbeat: every copy is dropped, and the next session links them too.
#[test]
fn cluster_nodes_that_join_are_linked() {
    let mut cluster = Cluster::start_without_replicas();
    let cache = live(
        steady_tracking(&cluster.url())
            .build()
            .expect("a tracking cache"),
    );
    cache.set("j", &1, Timeout::Never).expect("set");
    assert_eq!(until_hit(&cache, "j"), Some(1));
    let before = cache.tracking_stats().expect("tracking");
    cluster.add_replicas();
    let deadline = Instant::now() + Duration::from_secs(30);
    while cache.tracking_stats().expect("tracking").link_drops == before.link_drops {
        assert!(
            Instant::now() < deadline,
            "the new nodes were never noticed"
        );
        thread::sleep(Duration::from_millis(10));
    }
    // Linked again, replicas included: copies are served again.
    let tracking_clients = |server: &Server| {
        server
            .command(&["CLIENT", "LIST"])
            .lines()
            .filter(|line| {
                line.split(' ').any(|field| {
                    field
                        .strip_prefix("flags=")
                        .is_some_and(|f| f.contains('t'))
                })
            })
            .count()
    };
    // (The harness flushes the primaries when nodes join.)
    cache.set("j", &2, Timeout::Never).expect("set");
    assert_eq!(until_hit(&cache, "j"), Some(2));
    let deadline = Instant::now() + Duration::from_secs(30);
    while cluster.nodes().any(|node| tracking_clients(node) == 0) {
        assert!(Instant::now() < deadline, "a node has no tracking link");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn get_many_mixes_copies_and_one_fetch() {
    let server = Server::start(ServerKind::Valkey);
    let cache = live_tracking(&server);
    cache
        .set_many(&[("x", 1), ("y", 2)], Timeout::Never)
        .expect("set_many");
    // The server's invalidations of these writes come on the link, maybe after a fetch:
    // wait for them, so that none evicts a copy this test counts.
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.tracking_stats().expect("tracking").invalidations < 2 {
        assert!(
            Instant::now() < deadline,
            "the writes' invalidations never came"
        );
        thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(until_hit(&cache, "x"), Some(1));
    let before = cache.tracking_stats().expect("tracking");
    let found = cache.get_many::<i64>(&["x", "y", "z"]).expect("get_many");
    assert_eq!(found.len(), 2);
    assert_eq!((found["x"], found["y"]), (1, 2));
    let after = cache.tracking_stats().expect("tracking");
    assert_eq!(after.hits, before.hits + 1, "x from its copy");
    assert_eq!(after.misses, before.misses + 2, "y and z fetched");
    // Now all three are copies, the missing one too.
    let found = cache.get_many::<i64>(&["x", "y", "z"]).expect("get_many");
    assert_eq!(found.len(), 2);
    assert_eq!(
        cache.tracking_stats().expect("tracking").hits,
        after.hits + 3
    );
}

#[test]
fn the_option_is_refused_where_it_cannot_hold() {
    let memory = CacheBuilder::from_url("memory://")
        .expect("a URL")
        .tracking(true)
        .build();
    assert!(
        matches!(&memory, Err(cachex::Error::Config { reason }) if reason.contains("tracking")),
        "{memory:?}"
    );
    assert!(Cache::from_url("memory://?tracking=true").is_err());
    for zero in ["tracking_max_staleness=0", "tracking_max_bytes=0"] {
        let refused = Cache::from_url(&format!("redis://127.0.0.1:1?{zero}"));
        assert!(
            matches!(&refused, Err(cachex::Error::Config { .. })),
            "{zero}: {refused:?}"
        );
    }
    // A cluster, Sentinel and a replicas= list: the link follows the topology.
    for url in [
        "redis+cluster://127.0.0.1:1,127.0.0.1:2?tracking=true",
        "redis+sentinel://127.0.0.1:1/service?tracking=true",
        "redis://127.0.0.1:1/0?replicas=127.0.0.1:2&tracking=true",
    ] {
        let cache = Cache::from_url(url).expect("a tracking cache");
        assert!(cache.tracking_stats().is_some(), "{url}");
    }
}

#[test]
fn the_url_options_show_as_they_were_given() {
    let cache = Cache::from_url(
        "redis://127.0.0.1:1?tracking=true&tracking_max_staleness=0.5&tracking_max_bytes=1000",
    )
    .expect("a cache");
    let shown = cache.to_string();
    assert!(
        shown.contains("tracking=true&tracking_max_staleness=0.5&tracking_max_bytes=1000"),
        "{shown}"
    );
    let plain = Cache::from_url("redis://127.0.0.1:1").expect("a cache");
    assert!(!plain.to_string().contains("tracking"));
    assert!(plain.tracking_stats().is_none());
}
