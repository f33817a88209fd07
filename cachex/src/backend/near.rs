//! [`Near`]: the near cache of a server backend with tracking on: local copies of values,
//! kept current by the server's invalidation messages (received by the link of
//! [`super::server::tracking`]).
//!
//! # When a copy may be served
//!
//! Only while the invalidation link is *confirmed live*: it is connected with tracking on, and
//! the last `PING` it sent was answered within the last `max_staleness`. The link's replies
//! and invalidation messages come in the order the server sent them, and the push handler
//! applies an invalidation before the reply after it is read, so a confirmed `PING` proves
//! that every invalidation the server sent before answering it has been applied. Once the
//! confirmation is older than `max_staleness`, or the link is lost, every copy is dropped and
//! reads go to the server until the link is confirmed again.
//!
//! # Fetch tokens
//!
//! A read that misses takes a token before asking the server (the drop epoch and the fetch
//! counter of the key's stripe), and installs the value only if neither moved meanwhile: an
//! invalidation of the key (from the server or from this process's own write) or a drop of
//! every copy that happened while the read was in flight makes its answer suspect. The
//! install is checked again after the insert (an invalidation bumps the counter before it
//! evicts), so that an invalidation racing with the insert cannot be missed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

// The clock of copies' expiries and the link's confirmations: the in-memory store's (quanta's,
// the CPU's time-stamp counter: about half the cost of `std`'s here, and a hit reads it).
pub(crate) use quanta::Instant;

use bytes::Bytes;

/// How many fetch counters keys are spread over: two keys share one with odds 1 in 4,096,
/// which costs a refused install, never a stale one.
const STRIPES: usize = 4096;

/// What each copy weighs besides its key and value: quick_cache's entry and its slot, the
/// key's and value's allocations (the tracking bench measured 267 bytes of resident memory per
/// copy of a 100-byte value and its 12-byte key: about 155 beyond them).
pub(crate) const COPY_OVERHEAD: u64 = 160;

/// How many shards the copies are spread over: each holds an eighth of the bound, so a copy of
/// up to an eighth of it fits (larger ones are not kept: see [`Near::install`]).
const SHARDS: usize = 8;

/// The copies: a concurrent map bounded by weight (quick_cache: its eviction keeps the keys
/// read again over those read once), hashed as the in-memory store's map.
type Copies = quick_cache::sync::Cache<String, Held, Weight, foldhash::fast::RandomState>;

/// A copy's weight: its key, its value and [`COPY_OVERHEAD`].
#[derive(Clone, Copy)]
struct Weight;

impl quick_cache::Weighter<String, Held> for Weight {
    fn weight(&self, key: &String, copy: &Held) -> u64 {
        let value = copy.value.as_ref().map_or(0, Bytes::len);
        u64::try_from(key.len() + value)
            .unwrap_or(u64::MAX)
            .saturating_add(COPY_OVERHEAD)
    }
}

/// The near cache's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tracking {
    /// How long copies may be served after the link's last confirmation.
    pub(crate) max_staleness: Duration,
    /// The bound on the copies' weight (keys, values, overhead).
    pub(crate) max_bytes: u64,
}

/// django-cachex's defaults: 1 s, 32 MiB.
impl Default for Tracking {
    fn default() -> Self {
        Tracking {
            max_staleness: Duration::from_secs(1),
            max_bytes: 32 << 20,
        }
    }
}

/// A local copy: the value (`None`: the key is missing) and when the key expires.
#[derive(Clone)]
struct Held {
    value: Option<Bytes>,
    expires: Option<Instant>,
}

/// The answer of a lookup.
pub(crate) enum Lookup {
    /// A copy: the value (`None` for a key known missing), and when the key expires (see
    /// [`pttl`]).
    Hit(Option<Bytes>, Option<Instant>),
    /// No copy: fetch the value and its time left, then [`Near::install`] it with this token
    /// (`None`: the link is not confirmed, nothing may be installed).
    Miss(Option<Token>),
}

/// What a fetch must find unchanged to install its answer (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    epoch: u64,
    stripe: usize,
    count: u64,
}

/// The counters of a near cache (see [`crate::CacheCore::tracking_stats`]).
#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    staleness_drops: AtomicU64,
    link_drops: AtomicU64,
}

/// The near cache of one server backend (see the module documentation).
pub(crate) struct Near {
    copies: Copies,
    /// Fetch counters, by key hash.
    stripes: Box<[AtomicU64]>,
    /// Bumped by every drop of all copies.
    epoch: AtomicU64,
    /// Whether the link is connected with tracking on.
    linked: AtomicBool,
    /// When the last confirmed `PING` was sent, in nanoseconds since `base`.
    confirmed: AtomicU64,
    /// Whether the copies were dropped since the last confirmation went stale.
    stale_dropped: AtomicBool,
    base: Instant,
    settings: Tracking,
    counters: Counters,
}

impl Near {
    /// An empty near cache, its link not confirmed.
    pub(crate) fn new(settings: Tracking) -> crate::Result<Near> {
        let mut options = quick_cache::OptionsBuilder::new();
        options
            .shards(SHARDS)
            .weight_capacity(settings.max_bytes)
            // A guess the map sizes its bookkeeping by: copies of about a hundred bytes.
            .estimated_items_capacity(
                usize::try_from(settings.max_bytes / (COPY_OVERHEAD + 100)).unwrap_or(usize::MAX),
            );
        let options = options.build().map_err(|err| {
            crate::Error::config(format!("the near cache's settings are refused: {err}"))
        })?;
        let copies = Copies::with_options(options, Weight, Default::default(), Default::default());
        Ok(Near {
            copies,
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            epoch: AtomicU64::new(0),
            linked: AtomicBool::new(false),
            confirmed: AtomicU64::new(0),
            stale_dropped: AtomicBool::new(false),
            base: Instant::now(),
            settings,
            counters: Counters::default(),
        })
    }

    /// The settings.
    pub(crate) fn settings(&self) -> Tracking {
        self.settings
    }

    /// How often the link sends its `PING`: four times per `max_staleness`, so that a live
    /// link is never found stale.
    pub(crate) fn heartbeat(&self) -> Duration {
        (self.settings.max_staleness / 4).max(Duration::from_millis(1))
    }

    /// The copy of `key`, or a token to fetch it with.
    pub(crate) fn lookup(&self, key: &str) -> Lookup {
        match self.served(key) {
            Ok((value, expires)) => Lookup::Hit(value, expires),
            Err(live) => {
                self.counters.misses.fetch_add(1, Ordering::Relaxed);
                // The token is taken before the fetch is sent: an invalidation received
                // earlier was for a write the fetch sees.
                Lookup::Miss(live.then(|| self.token(key.as_bytes())))
            }
        }
    }

    /// The copy of `key` and its expiry when one may be served, counted as a hit; `None`
    /// otherwise, counting nothing (a read then takes [`lookup`](Self::lookup)).
    pub(crate) fn hit(&self, key: &str) -> Option<(Option<Bytes>, Option<Instant>)> {
        self.served(key).ok()
    }

    /// The copy of `key` and its expiry when one may be served, counted as a hit; else whether
    /// the link is live (a fetch may then install a copy).
    fn served(&self, key: &str) -> Result<(Option<Bytes>, Option<Instant>), bool> {
        let now = Instant::now();
        if !self.live(now) {
            return Err(false);
        }
        let copy = self
            .copies
            .get(key)
            .filter(|copy| copy.expires.is_none_or(|at| now < at))
            .ok_or(true)?;
        self.counters.hits.fetch_add(1, Ordering::Relaxed);
        Ok((copy.value, copy.expires))
    }

    /// Keeps `value` of `key`, read with `token` while `pttl` was its time left (Redis's
    /// `PTTL`: -2 missing, -1 persistent), unless anything that makes it suspect happened
    /// since the token was taken. `fetched` is when the read was sent: the copy expires no
    /// later than the key.
    pub(crate) fn install(
        &self,
        key: &str,
        token: Token,
        value: Option<Bytes>,
        pttl: i64,
        fetched: Instant,
    ) {
        let expires = match (&value, pttl) {
            // Only a missing key is kept as missing: a nil with a time left is a key of
            // another type (`get_many`'s `MGET` reads it as nil).
            (None, -2) | (Some(_), -1) => None,
            (Some(_), millis) if millis > 0 => {
                fetched.checked_add(Duration::from_millis(millis.unsigned_abs()))
            }
            // Expiring now, or replies that do not fit together: nothing kept.
            _ => return,
        };
        // A value too large for an eighth of the bound would push out many others.
        let size = key.len() + value.as_ref().map_or(0, Bytes::len);
        if u64::try_from(size).unwrap_or(u64::MAX) > self.settings.max_bytes / 8 {
            return;
        }
        if !self.unchanged(token) || !self.live(Instant::now()) {
            return;
        }
        self.copies.insert(key.to_owned(), Held { value, expires });
        // An invalidation bumps the counter before it evicts: if it came after the check
        // above, it is seen here, and the copy goes.
        if !self.unchanged(token) {
            self.copies.remove(key);
        }
    }

    /// The server invalidated `keys` (`None`: every key, after a `FLUSHDB`/`FLUSHALL`).
    pub(crate) fn invalidated<'a>(&self, keys: Option<impl Iterator<Item = &'a [u8]>>) {
        match keys {
            Some(keys) => {
                let mut count = 0;
                for key in keys {
                    self.evict(key);
                    count += 1;
                }
                self.counters
                    .invalidations
                    .fetch_add(count, Ordering::Relaxed);
            }
            None => {
                self.counters.invalidations.fetch_add(1, Ordering::Relaxed);
                self.drop_all("the server flushed the database");
            }
        }
    }

    /// This process writes `key` (read your writes: called before the write is sent and
    /// after its answer came).
    pub(crate) fn evict(&self, key: &[u8]) {
        self.stripes[stripe(key)].fetch_add(1, Ordering::SeqCst);
        if let Ok(key) = std::str::from_utf8(key) {
            self.copies.remove(key);
        }
    }

    /// Drops every copy, and makes every fetch in flight refuse to install.
    pub(crate) fn drop_all(&self, why: &'static str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.copies.clear();
        if tracing::enabled!(target: "cachex::tracking", tracing::Level::DEBUG) {
            let stats = self.stats();
            tracing::debug!(
                target: "cachex::tracking",
                why,
                hits = stats.hits,
                misses = stats.misses,
                invalidations = stats.invalidations,
                staleness_drops = stats.staleness_drops,
                link_drops = stats.link_drops,
                "near cache dropped"
            );
        }
    }

    /// The link is connected, with tracking on since `since` (when it was asked).
    pub(crate) fn link_up(&self, since: Instant) {
        self.confirm(since);
        self.linked.store(true, Ordering::SeqCst);
        tracing::debug!(target: "cachex::tracking", "invalidation link confirmed");
    }

    /// A `PING` sent at `sent` was answered on the link.
    pub(crate) fn confirm(&self, sent: Instant) {
        let nanos =
            u64::try_from(sent.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX);
        self.confirmed.fetch_max(nanos, Ordering::SeqCst);
        self.stale_dropped.store(false, Ordering::SeqCst);
    }

    /// The link is lost (or was never confirmed): nothing is served until it is back.
    pub(crate) fn link_down(&self, why: &'static str) {
        if self.linked.swap(false, Ordering::SeqCst) {
            self.counters.link_drops.fetch_add(1, Ordering::Relaxed);
        }
        self.drop_all(why);
    }

    /// Whether copies may be served: the link is up and confirmed within `max_staleness`. A
    /// confirmation found stale drops every copy (once).
    fn live(&self, now: Instant) -> bool {
        if !self.linked.load(Ordering::SeqCst) {
            return false;
        }
        let confirmed = Duration::from_nanos(self.confirmed.load(Ordering::SeqCst));
        let since_base = now.saturating_duration_since(self.base);
        if since_base.saturating_sub(confirmed) <= self.settings.max_staleness {
            return true;
        }
        if !self.stale_dropped.swap(true, Ordering::SeqCst) {
            self.counters
                .staleness_drops
                .fetch_add(1, Ordering::Relaxed);
            self.drop_all("the invalidation link was silent past max_staleness");
        }
        false
    }

    fn token(&self, key: &[u8]) -> Token {
        let stripe = stripe(key);
        Token {
            epoch: self.epoch.load(Ordering::SeqCst),
            stripe,
            count: self.stripes[stripe].load(Ordering::SeqCst),
        }
    }

    fn unchanged(&self, token: Token) -> bool {
        self.epoch.load(Ordering::SeqCst) == token.epoch
            && self.stripes[token.stripe].load(Ordering::SeqCst) == token.count
    }

    /// The counters and the copies' size.
    pub(crate) fn stats(&self) -> TrackingStats {
        TrackingStats {
            hits: self.counters.hits.load(Ordering::Relaxed),
            misses: self.counters.misses.load(Ordering::Relaxed),
            invalidations: self.counters.invalidations.load(Ordering::Relaxed),
            staleness_drops: self.counters.staleness_drops.load(Ordering::Relaxed),
            link_drops: self.counters.link_drops.load(Ordering::Relaxed),
            copies: u64::try_from(self.copies.len()).unwrap_or(u64::MAX),
            bytes: self.copies.weight(),
            live: self.live(Instant::now()),
        }
    }
}

/// A copy's time left now, as `PTTL` says it: -2 missing, -1 persistent, else milliseconds,
/// counted from before the copy's fetch was sent, so never more than the server's.
pub(crate) fn pttl(value: &Option<Bytes>, expires: Option<Instant>) -> i64 {
    match (value, expires) {
        (None, _) => -2,
        (Some(_), None) => -1,
        (Some(_), Some(at)) => {
            i64::try_from(at.saturating_duration_since(Instant::now()).as_millis())
                .unwrap_or(i64::MAX)
        }
    }
}

/// The stripe of a key (FNV-1a).
fn stripe(key: &[u8]) -> usize {
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    usize::try_from(hash % STRIPES as u64).unwrap_or(0)
}

/// The counters of a cache's near cache (tracking), from [`Cache::tracking_stats`](crate::CacheCore::tracking_stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TrackingStats {
    /// Reads served from a local copy.
    pub hits: u64,
    /// Reads that went to the server (no copy, or none may be served).
    pub misses: u64,
    /// Keys the server invalidated (a flush counts one).
    pub invalidations: u64,
    /// Times every copy was dropped because the link was silent past `max_staleness`.
    pub staleness_drops: u64,
    /// Times the invalidation link was lost (every copy dropped).
    pub link_drops: u64,
    /// Copies held now.
    pub copies: u64,
    /// Their weight now: keys, values and an estimated overhead per copy.
    pub bytes: u64,
    /// Whether copies may be served now (the link is confirmed).
    pub live: bool,
}
