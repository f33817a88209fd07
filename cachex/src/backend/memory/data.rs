//! What a key holds: Redis's types, and the collections changed in place under a key's
//! compute.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use super::Instant;
use super::stream::Stream;

/// A collection, changed in place under its key's compute.
pub(super) type Shared<T> = Arc<Mutex<T>>;

/// A hash: field names to values (it dereferences to that map), and the deadlines of the
/// fields that expire (hash-field expiry, `HPEXPIRE`). Expired fields are removed before
/// every command sees the hash ([`Collection::tidy`]).
#[derive(Default)]
pub(super) struct Hash {
    fields: HashMap<Vec<u8>, Bytes>,
    pub(super) deadlines: HashMap<Vec<u8>, Instant>,
}

impl Deref for Hash {
    type Target = HashMap<Vec<u8>, Bytes>;

    fn deref(&self) -> &Self::Target {
        &self.fields
    }
}

impl DerefMut for Hash {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.fields
    }
}

impl Hash {
    /// Whether every field has expired at `now` (the key is then gone, as on a server).
    pub(super) fn all_expired(&self, now: Instant) -> bool {
        !self.deadlines.is_empty()
            && self
                .fields
                .keys()
                .all(|field| self.deadlines.get(field).is_some_and(|at| *at <= now))
    }
}

/// A list of values.
pub(super) type List = VecDeque<Bytes>;

/// A set of members.
pub(super) type Set = HashSet<Bytes>;

/// What a key holds: Redis's types. Stored values are [`Bytes`], so that reads share them
/// instead of copying them.
#[derive(Clone)]
pub(super) enum Data {
    Bytes(Bytes),
    Hash(Shared<Hash>),
    List(Shared<List>),
    Set(Shared<Set>),
    Zset(Shared<SortedSet>),
    Stream(Shared<Stream>),
}

impl Data {
    /// The bytes it stores: a string's value; a collection's members, fields and values (a
    /// sorted set's scores as 8 bytes each).
    pub(super) fn size(&self) -> usize {
        match self {
            Data::Bytes(bytes) => bytes.len(),
            Data::Hash(hash) => lock(hash)
                .iter()
                .map(|(field, value)| field.len() + value.len())
                .sum(),
            Data::List(list) => lock(list).iter().map(Bytes::len).sum(),
            Data::Set(set) => lock(set).iter().map(Bytes::len).sum(),
            Data::Zset(zset) => lock(zset)
                .scores
                .keys()
                .map(|member| member.len() + size_of::<f64>())
                .sum(),
            Data::Stream(stream) => lock(stream).size(),
        }
    }

    /// `TYPE`'s name of it.
    pub(super) fn type_name(&self) -> &'static str {
        match self {
            Data::Bytes(_) => "string",
            Data::Hash(_) => "hash",
            Data::List(_) => "list",
            Data::Set(_) => "set",
            Data::Zset(_) => "zset",
            Data::Stream(_) => "stream",
        }
    }
}

/// A score, ordered as Redis orders them (never NaN: the cache refuses NaN scores, and
/// `-0.0` is stored as `0.0`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Score(pub(super) f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A sorted set: members by score, ties by member bytes (Redis's order), and each member's
/// score.
#[derive(Default)]
pub(super) struct SortedSet {
    pub(super) order: BTreeSet<(Score, Bytes)>,
    pub(super) scores: HashMap<Bytes, f64>,
}

impl SortedSet {
    /// Sets a member's score; whether the member is new.
    pub(super) fn insert(&mut self, score: f64, member: Bytes) -> bool {
        let score = if score == 0.0 { 0.0 } else { score };
        let old = self.scores.insert(member.clone(), score);
        if let Some(old) = old {
            self.order.remove(&(Score(old), member.clone()));
        }
        self.order.insert((Score(score), member));
        old.is_none()
    }

    /// Removes a member; whether it was there.
    pub(super) fn remove(&mut self, member: &[u8]) -> bool {
        match self.scores.remove_entry(member) {
            Some((member, score)) => self.order.remove(&(Score(score), member)),
            None => false,
        }
    }

    /// Members in order, lowest score first or (`reverse`) highest first.
    pub(super) fn ordered(&self, reverse: bool) -> Box<dyn Iterator<Item = &(Score, Bytes)> + '_> {
        if reverse {
            Box::new(self.order.iter().rev())
        } else {
            Box::new(self.order.iter())
        }
    }
}

/// A collection type a key can hold.
pub(super) trait Collection: Default + Send + 'static {
    /// The data of a key holding it.
    fn wrap(shared: Shared<Self>) -> Data;
    /// It, when the data is of its type.
    fn of(data: &Data) -> Option<&Shared<Self>>;
    /// Whether it is empty (Redis then removes the key).
    fn is_empty(&self) -> bool;
    /// Drops what has expired inside it (a hash's fields), before a command sees it.
    fn tidy(&mut self) {}
}

/// Implements [`Collection`] for the type held by one variant of [`Data`].
macro_rules! collection {
    ($type:ty, $variant:ident, $empty:expr $(, $tidy:expr)?) => {
        impl Collection for $type {
            fn wrap(shared: Shared<Self>) -> Data {
                Data::$variant(shared)
            }
            fn of(data: &Data) -> Option<&Shared<Self>> {
                match data {
                    Data::$variant(shared) => Some(shared),
                    _ => None,
                }
            }
            fn is_empty(&self) -> bool {
                let empty: fn(&Self) -> bool = $empty;
                empty(self)
            }
            $(fn tidy(&mut self) {
                let tidy: fn(&mut Self) = $tidy;
                tidy(self)
            })?
        }
    };
}

collection!(Hash, Hash, |hash| hash.fields.is_empty(), |hash| {
    if hash.deadlines.is_empty() {
        return;
    }
    let now = Instant::now();
    let Hash { fields, deadlines } = hash;
    // A deadline outlives its field only until here (`HDEL` removes fields, not deadlines).
    deadlines.retain(|field, at| {
        let keep = *at > now && fields.contains_key(field);
        if !keep {
            fields.remove(field);
        }
        keep
    });
});
collection!(List, List, VecDeque::is_empty);
collection!(Set, Set, HashSet::is_empty);
collection!(SortedSet, Zset, |set| set.scores.is_empty());
// A stream is kept when empty, as Redis keeps it.
collection!(Stream, Stream, |_| false);

/// Locks a collection; a panic of another thread while it held the lock left it usable.
pub(super) fn lock<T>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}
