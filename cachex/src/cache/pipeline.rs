//! [`Pipeline`]: operations of the cache queued without I/O and run in one round trip, each
//! with its own typed result; as a transaction with [`CacheCore::transaction`].
//!
//! Each queued operation runs its direct call's own body ([`CacheCore`]'s [`CacheApi`]
//! implementation) against a core whose store is a [`Batch`]: the body makes its key and
//! encodes its values, the batch keeps its command, and after the round trip the body decodes
//! the reply as the direct call would (see [`crate::backend::batch`]). A method of the
//! pipeline is one row of `queue!`'s table.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::core::CacheCore;
use crate::api::{CacheApi, KeyType, Timeout, Ttl};
use crate::backend::Store;
use crate::backend::batch::{Batch, Reply};
use crate::ops::{
    ExpireCondition, ExpireTime, FieldExpiry, FieldsCondition, InsertAt, ListEnd, RawData,
    SetOptions, SetOutcome, ZaddOptions,
};
use crate::stream::{
    AutoClaim, ClaimOptions, ConsumerInfo, GroupInfo, PendingEntry, PendingRange, PendingSummary,
    ReadFrom, StreamEntry, StreamId, StreamInfo, Trim, XaddOptions,
};
use crate::{Error, FromScriptReply, Result, Script, ScriptArg, auto_async};

/// An operation's outcome (`Result<T>`), its type erased.
type Outcome = Box<dyn std::any::Any + Send>;

/// A queued operation: its body, waiting for its command's reply, or its outcome.
enum Operation<'a> {
    Waiting {
        body: Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>,
        /// Its outcome for an error, typed.
        failed: fn(Error) -> Outcome,
    },
    Done(Outcome),
}

/// Operations of a cache queued without I/O, run together in one round trip by
/// [`execute`](PipelineApi::execute) / `aexecute().await`: made by
/// [`pipeline`](CacheCore::pipeline) or, inside `MULTI`/`EXEC`,
/// [`transaction`](CacheCore::transaction).
///
/// Each method queues the operation of the cache's method of the same name, with the same
/// arguments (borrowed until the pipeline runs), and gives a [`Queued`] handle whose result,
/// typed as the cache's method returns it, is [taken](Replies::take) from the [`Replies`].
///
/// ```
/// use cachex::prelude::*;
///
/// let cache = Cache::default();
/// let mut pipe = cache.pipeline();
/// let stored = pipe.set("greeting", "hello", Timeout::Default);
/// let count = pipe.incr_or_create("visits", 1, Timeout::Default);
/// let greeting = pipe.get::<String>("greeting");
/// let mut replies = pipe.execute()?;
/// replies.take(stored)?;
/// assert_eq!(replies.take(count)?, 1);
/// assert_eq!(replies.take(greeting)?.as_deref(), Some("hello"));
/// # Ok::<(), cachex::Error>(())
/// ```
///
/// An operation's own failure (a key holding another type, a value that does not decode) is
/// its own result; a failure of the whole (the server cannot be reached, a cluster
/// transaction's keys on several slots) is `execute`'s error. Operations that need more than
/// one command in turn (`get_or_set`, `lock`, `clear`, ...) are not offered.
pub struct Pipeline<'a> {
    cache: &'a CacheCore,
    /// The core the operations are queued on: this cache's settings over a [`Batch`].
    queue: Arc<CacheCore>,
    operations: Vec<Operation<'a>>,
    atomic: bool,
    id: u64,
}

impl fmt::Debug for Pipeline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("operations", &self.operations.len())
            .field("transaction", &self.atomic)
            .finish_non_exhaustive()
    }
}

/// The handle of a queued operation: its result, typed `T`, is [taken](Replies::take) from
/// the [`Replies`] of its pipeline.
#[must_use = "a queued operation's result is taken with its handle"]
pub struct Queued<T> {
    index: usize,
    pipeline: u64,
    result: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Queued<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queued")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The results of a pipeline's operations, each taken once with its [`Queued`] handle.
pub struct Replies {
    outcomes: Vec<Option<Outcome>>,
    pipeline: u64,
}

impl fmt::Debug for Replies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replies")
            .field("operations", &self.outcomes.len())
            .finish_non_exhaustive()
    }
}

impl Replies {
    /// The result of the operation `handle` stands for, typed as the cache's method returns
    /// it. A handle of another pipeline is an [`Error::InvalidArgument`].
    pub fn take<T: 'static>(&mut self, handle: Queued<T>) -> Result<T> {
        let outcome = self
            .outcomes
            .get_mut(handle.index)
            .filter(|_| handle.pipeline == self.pipeline)
            .and_then(Option::take)
            .ok_or_else(|| {
                Error::invalid_argument("this handle is of another pipeline".to_owned())
            })?;
        let outcome = outcome.downcast::<Result<T>>().map_err(|_| {
            Error::invalid_argument("this handle is of another pipeline".to_owned())
        })?;
        *outcome
    }

    /// How many operations ran.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    /// Whether none ran.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }
}

impl CacheCore {
    /// A pipeline: operations queued without I/O and run in one round trip, each with its own
    /// result (see [`Pipeline`]). Other clients' commands may run between them; for none, see
    /// [`transaction`](Self::transaction). On a cluster, the commands go to their keys' nodes
    /// concurrently, the results back in order.
    pub fn pipeline(&self) -> Pipeline<'_> {
        self.batch(false)
    }

    /// A transaction: a [`Pipeline`] run inside `MULTI`/`EXEC`, so that no other command runs
    /// between its operations (in memory too: no other command of its keys runs or reads in
    /// between). As Redis's, it does not roll back: an operation that fails (a key of
    /// another type) has its error as its result, and the others are applied. On a cluster,
    /// all its keys must be on one slot (a common hash tag, `{user:1}:name`), or `execute`
    /// fails with [`Error::Unsupported`].
    pub fn transaction(&self) -> Pipeline<'_> {
        self.batch(true)
    }

    fn batch(&self, atomic: bool) -> Pipeline<'_> {
        static PIPELINES: AtomicU64 = AtomicU64::new(0);
        let queue = CacheCore::new(
            Arc::new(Store::Batch(Batch::default())),
            self.origin.clone(),
            self.keys.clone(),
            self.codec.clone(),
            self.default_timeout,
            false,
        );
        Pipeline {
            cache: self,
            queue: Arc::new(queue),
            operations: Vec::new(),
            atomic,
            id: PIPELINES.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl<'a> Pipeline<'a> {
    /// How many operations are queued.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Queues an operation's body: it runs until it hands its command to the batch (or ends,
    /// failing before any I/O).
    fn push<T: Send + 'static>(
        &mut self,
        body: impl Future<Output = Result<T>> + Send + 'a,
    ) -> Queued<T> {
        let failed: fn(Error) -> Outcome = |err| Box::new(Err::<T, Error>(err));
        let mut body: Pin<Box<dyn Future<Output = Outcome> + Send + 'a>> =
            Box::pin(async move { Box::new(body.await) as Outcome });
        let before = self.batch().map_or(0, Batch::count);
        let operation = match poll_once(&mut body) {
            Poll::Ready(outcome) => Operation::Done(outcome),
            Poll::Pending if self.batch().map_or(0, Batch::count) == before + 1 => {
                Operation::Waiting { body, failed }
            }
            Poll::Pending => Operation::Done(failed(not_one_command())),
        };
        self.operations.push(operation);
        Queued {
            index: self.operations.len() - 1,
            pipeline: self.id,
            result: PhantomData,
        }
    }

    fn batch(&self) -> Option<&Batch> {
        self.queue.store.as_batch()
    }
}

/// Polls a queued body once (it waits for nothing but its reply, which needs no waking).
fn poll_once(body: &mut Pin<Box<dyn Future<Output = Outcome> + Send + '_>>) -> Poll<Outcome> {
    body.as_mut().poll(&mut Context::from_waker(Waker::noop()))
}

/// An operation that does not hand one command to the batch and then wait for its reply.
fn not_one_command() -> Error {
    Error::Unsupported {
        operation: "pipeline",
        reason: "this operation does not run as one command: call it on the cache".to_owned(),
    }
}

/// What a [`Pipeline`] does, on both surfaces: `pipe.execute()` / `pipe.aexecute().await`.
/// Brought in by `cachex::prelude::*`.
#[auto_async(crate = crate)]
pub trait PipelineApi: Send {
    /// Runs the queued operations in one round trip (as a transaction for
    /// [`transaction`](CacheCore::transaction)): their results, each taken with its handle.
    /// The error is the whole's: the server could not be reached (a pipeline with an operation
    /// that is not safe to repeat is not sent again once it may have arrived), or a cluster
    /// transaction's keys are on several slots.
    async fn execute(self) -> Result<Replies>
    where
        Self: Sized;
}

impl PipelineApi for Pipeline<'_> {
    async fn aexecute(self) -> Result<Replies> {
        let batch = self.queue.store.as_batch().ok_or_else(not_one_command)?;
        let commands = batch.take();
        let replies = if commands.is_empty() {
            Vec::new()
        } else {
            self.cache.store.batch(commands, self.atomic).await?
        };
        Ok(self.answered(replies))
    }
}

impl Pipeline<'_> {
    /// Hands the batch its replies and collects every operation's outcome.
    fn answered(self, replies: Vec<Result<Reply>>) -> Replies {
        let Pipeline {
            queue,
            operations,
            id,
            ..
        } = self;
        if let Some(batch) = queue.store.as_batch() {
            batch.answer(replies);
        }
        let outcomes = operations
            .into_iter()
            .map(|operation| {
                Some(match operation {
                    Operation::Done(outcome) => outcome,
                    Operation::Waiting { mut body, failed } => match poll_once(&mut body) {
                        Poll::Ready(outcome) => outcome,
                        Poll::Pending => failed(not_one_command()),
                    },
                })
            })
            .collect();
        Replies {
            outcomes,
            pipeline: id,
        }
    }
}

/// The pipeline's methods, one row per operation of the cache: `name[generics](arguments)
/// -> result => the cache's async method`. Arguments are borrowed for `'a`, until the
/// pipeline runs.
macro_rules! queue {
    ($(
        $name:ident [$($generics:tt)*] ($($arg:ident : $type:ty),*) -> $output:ty => $method:ident;
    )*) => {
        impl<'a> Pipeline<'a> {$(
            #[doc = concat!(
                "Queues [`", stringify!($name), "`](crate::CacheApi::", stringify!($name), ")."
            )]
            pub fn $name<$($generics)*>(&mut self, $($arg: $type),*) -> Queued<$output> {
                let queue = self.queue.clone();
                self.push(async move { queue.$method($($arg),*).await })
            }
        )*}
    };
}

queue! {
    // --- strings, counters, keys ---
    get[V: DeserializeOwned + Send + 'static](key: &'a str) -> Option<V> => aget;
    set[V: Serialize + Sync + ?Sized](key: &'a str, value: &'a V, timeout: Timeout) -> () => aset;
    add[V: Serialize + Sync + ?Sized](key: &'a str, value: &'a V, timeout: Timeout) -> bool
        => aadd;
    replace[V: Serialize + Sync + ?Sized](key: &'a str, value: &'a V, timeout: Timeout) -> bool
        => areplace;
    swap[V: Serialize + DeserializeOwned + Send + Sync + 'static](
        key: &'a str, value: &'a V, timeout: Timeout
    ) -> Option<V> => aswap;
    delete[](key: &'a str) -> bool => adelete;
    get_many[V: DeserializeOwned + Send + 'static](keys: &'a [&'a str]) -> HashMap<String, V>
        => aget_many;
    delete_many[](keys: &'a [&'a str]) -> u64 => adelete_many;
    has_key[](key: &'a str) -> bool => ahas_key;
    incr[](key: &'a str, delta: i64) -> i64 => aincr;
    decr[](key: &'a str, delta: i64) -> i64 => adecr;
    incr_or_create[](key: &'a str, delta: i64, timeout: Timeout) -> i64 => aincr_or_create;
    incr_version[](key: &'a str, delta: i64) -> i64 => aincr_version;
    decr_version[](key: &'a str, delta: i64) -> i64 => adecr_version;
    rename[](from: &'a str, to: &'a str) -> () => arename;
    renamenx[](from: &'a str, to: &'a str) -> bool => arenamenx;
    key_type[](key: &'a str) -> Option<KeyType> => akey_type;
    // --- expiry ---
    touch[](key: &'a str, timeout: Timeout) -> bool => atouch;
    ttl[](key: &'a str) -> Ttl => attl;
    pttl[](key: &'a str) -> Ttl => apttl;
    expire[](key: &'a str, timeout: Timeout) -> bool => aexpire;
    pexpire[](key: &'a str, timeout: Timeout) -> bool => apexpire;
    expire_at[](key: &'a str, when: SystemTime) -> bool => aexpire_at;
    pexpire_at[](key: &'a str, when: SystemTime) -> bool => apexpire_at;
    persist[](key: &'a str) -> bool => apersist;
    // --- hashes ---
    hset[V: Serialize + Sync + ?Sized](key: &'a str, field: &'a str, value: &'a V) -> bool
        => ahset;
    hsetnx[V: Serialize + Sync + ?Sized](key: &'a str, field: &'a str, value: &'a V) -> bool
        => ahsetnx;
    hget[V: DeserializeOwned + Send + 'static](key: &'a str, field: &'a str) -> Option<V>
        => ahget;
    hmget[V: DeserializeOwned + Send + 'static](key: &'a str, fields: &'a [&'a str])
        -> Vec<Option<V>> => ahmget;
    hgetall[V: DeserializeOwned + Send + 'static](key: &'a str) -> HashMap<String, V>
        => ahgetall;
    hdel[](key: &'a str, fields: &'a [&'a str]) -> u64 => ahdel;
    hlen[](key: &'a str) -> u64 => ahlen;
    hkeys[](key: &'a str) -> Vec<String> => ahkeys;
    hvals[V: DeserializeOwned + Send + 'static](key: &'a str) -> Vec<V> => ahvals;
    hexists[](key: &'a str, field: &'a str) -> bool => ahexists;
    hincrby[](key: &'a str, field: &'a str, delta: i64) -> i64 => ahincrby;
    hincrbyfloat[](key: &'a str, field: &'a str, delta: f64) -> f64 => ahincrbyfloat;
    // --- lists ---
    lpush[V: Serialize + Sync](key: &'a str, values: &'a [V]) -> u64 => alpush;
    rpush[V: Serialize + Sync](key: &'a str, values: &'a [V]) -> u64 => arpush;
    lpop[V: DeserializeOwned + Send + 'static](key: &'a str) -> Option<V> => alpop;
    rpop[V: DeserializeOwned + Send + 'static](key: &'a str) -> Option<V> => arpop;
    lrange[V: DeserializeOwned + Send + 'static](key: &'a str, start: i64, stop: i64) -> Vec<V>
        => alrange;
    lindex[V: DeserializeOwned + Send + 'static](key: &'a str, index: i64) -> Option<V>
        => alindex;
    llen[](key: &'a str) -> u64 => allen;
    lrem[V: Serialize + Sync + ?Sized](key: &'a str, count: i64, value: &'a V) -> u64 => alrem;
    ltrim[](key: &'a str, start: i64, stop: i64) -> () => altrim;
    lset[V: Serialize + Sync + ?Sized](key: &'a str, index: i64, value: &'a V) -> () => alset;
    // --- sets ---
    sadd[V: Serialize + Sync](key: &'a str, members: &'a [V]) -> u64 => asadd;
    srem[V: Serialize + Sync](key: &'a str, members: &'a [V]) -> u64 => asrem;
    smembers[V: DeserializeOwned + Send + 'static](key: &'a str) -> Vec<V> => asmembers;
    sismember[V: Serialize + Sync + ?Sized](key: &'a str, member: &'a V) -> bool => asismember;
    scard[](key: &'a str) -> u64 => ascard;
    spop[V: DeserializeOwned + Send + 'static](key: &'a str) -> Option<V> => aspop;
    srandmember[V: DeserializeOwned + Send + 'static](key: &'a str, count: i64) -> Vec<V>
        => asrandmember;
    sinter[V: DeserializeOwned + Send + 'static](keys: &'a [&'a str]) -> Vec<V> => asinter;
    sunion[V: DeserializeOwned + Send + 'static](keys: &'a [&'a str]) -> Vec<V> => asunion;
    sdiff[V: DeserializeOwned + Send + 'static](keys: &'a [&'a str]) -> Vec<V> => asdiff;
    // --- sorted sets ---
    zadd[V: Serialize + Sync](key: &'a str, members: &'a [(V, f64)]) -> u64 => azadd;
    zrem[V: Serialize + Sync](key: &'a str, members: &'a [V]) -> u64 => azrem;
    zscore[V: Serialize + Sync + ?Sized](key: &'a str, member: &'a V) -> Option<f64> => azscore;
    zrank[V: Serialize + Sync + ?Sized](key: &'a str, member: &'a V) -> Option<u64> => azrank;
    zrevrank[V: Serialize + Sync + ?Sized](key: &'a str, member: &'a V) -> Option<u64>
        => azrevrank;
    zrange[V: DeserializeOwned + Send + 'static](key: &'a str, start: i64, stop: i64) -> Vec<V>
        => azrange;
    zrange_with_scores[V: DeserializeOwned + Send + 'static](
        key: &'a str, start: i64, stop: i64
    ) -> Vec<(V, f64)> => azrange_with_scores;
    zrevrange[V: DeserializeOwned + Send + 'static](key: &'a str, start: i64, stop: i64)
        -> Vec<V> => azrevrange;
    zrevrange_with_scores[V: DeserializeOwned + Send + 'static](
        key: &'a str, start: i64, stop: i64
    ) -> Vec<(V, f64)> => azrevrange_with_scores;
    zrangebyscore[V: DeserializeOwned + Send + 'static](key: &'a str, min: f64, max: f64)
        -> Vec<V> => azrangebyscore;
    zrangebyscore_with_scores[V: DeserializeOwned + Send + 'static](
        key: &'a str, min: f64, max: f64
    ) -> Vec<(V, f64)> => azrangebyscore_with_scores;
    zincrby[V: Serialize + Sync + ?Sized](key: &'a str, member: &'a V, delta: f64) -> f64
        => azincrby;
    zcard[](key: &'a str) -> u64 => azcard;
    zcount[](key: &'a str, min: f64, max: f64) -> u64 => azcount;
    zpopmin[V: DeserializeOwned + Send + 'static](key: &'a str, count: u64) -> Vec<(V, f64)>
        => azpopmin;
    zpopmax[V: DeserializeOwned + Send + 'static](key: &'a str, count: u64) -> Vec<(V, f64)>
        => azpopmax;
    // --- django-cachex 0.14.1's further operations ---
    expiretime[](key: &'a str) -> ExpireTime => aexpiretime;
    memory_usage[](key: &'a str, samples: Option<u64>) -> Option<u64> => amemory_usage;
    set_with[V: Serialize + DeserializeOwned + Send + Sync + 'static](
        key: &'a str, value: &'a V, timeout: Timeout, options: SetOptions
    ) -> SetOutcome<V> => aset_with;
    hset_many[V: Serialize + Sync](key: &'a str, fields: &'a [(&'a str, V)]) -> u64 => ahset_many;
    hexpire[](
        key: &'a str, ttl: Duration, fields: &'a [&'a str], condition: Option<ExpireCondition>
    ) -> Vec<FieldExpiry> => ahexpire;
    hpexpire[](
        key: &'a str, ttl: Duration, fields: &'a [&'a str], condition: Option<ExpireCondition>
    ) -> Vec<FieldExpiry> => ahpexpire;
    hexpire_at[](
        key: &'a str, when: SystemTime, fields: &'a [&'a str], condition: Option<ExpireCondition>
    ) -> Vec<FieldExpiry> => ahexpire_at;
    hpexpire_at[](
        key: &'a str, when: SystemTime, fields: &'a [&'a str], condition: Option<ExpireCondition>
    ) -> Vec<FieldExpiry> => ahpexpire_at;
    httl[](key: &'a str, fields: &'a [&'a str]) -> Vec<Ttl> => ahttl;
    hpttl[](key: &'a str, fields: &'a [&'a str]) -> Vec<Ttl> => ahpttl;
    hexpiretime[](key: &'a str, fields: &'a [&'a str]) -> Vec<ExpireTime> => ahexpiretime;
    hpersist[](key: &'a str, fields: &'a [&'a str]) -> Vec<FieldExpiry> => ahpersist;
    hsetex[V: Serialize + Sync](
        key: &'a str, fields: &'a [(&'a str, V)], timeout: Option<Timeout>,
        condition: Option<FieldsCondition>
    ) -> bool => ahsetex;
    hgetex[V: DeserializeOwned + Send + 'static](
        key: &'a str, fields: &'a [&'a str], timeout: Option<Timeout>
    ) -> Vec<Option<V>> => ahgetex;
    lpop_count[V: DeserializeOwned + Send + 'static](
        key: &'a str, count: u64
    ) -> Vec<V> => alpop_count;
    rpop_count[V: DeserializeOwned + Send + 'static](
        key: &'a str, count: u64
    ) -> Vec<V> => arpop_count;
    lpos[V: Serialize + Sync + ?Sized](
        key: &'a str, value: &'a V, rank: Option<i64>, maxlen: Option<u64>
    ) -> Option<u64> => alpos;
    lpos_count[V: Serialize + Sync + ?Sized](
        key: &'a str, value: &'a V, count: u64, rank: Option<i64>, maxlen: Option<u64>
    ) -> Vec<u64> => alpos_count;
    linsert[P: Serialize + Sync + ?Sized, V: Serialize + Sync + ?Sized](
        key: &'a str, at: InsertAt, pivot: &'a P, value: &'a V
    ) -> Option<u64> => alinsert;
    lmove[V: DeserializeOwned + Send + 'static](
        source: &'a str, destination: &'a str, from: ListEnd, to: ListEnd
    ) -> Option<V> => almove;
    smove[V: Serialize + Sync + ?Sized](
        source: &'a str, destination: &'a str, member: &'a V
    ) -> bool => asmove;
    smismember[V: Serialize + Sync](key: &'a str, members: &'a [V]) -> Vec<bool> => asmismember;
    sdiffstore[](destination: &'a str, keys: &'a [&'a str]) -> u64 => asdiffstore;
    sinterstore[](destination: &'a str, keys: &'a [&'a str]) -> u64 => asinterstore;
    sunionstore[](destination: &'a str, keys: &'a [&'a str]) -> u64 => asunionstore;
    zadd_with[V: Serialize + Sync](
        key: &'a str, members: &'a [(V, f64)], options: ZaddOptions
    ) -> u64 => azadd_with;
    zremrangebyscore[](key: &'a str, min: f64, max: f64) -> u64 => azremrangebyscore;
    zremrangebyrank[](key: &'a str, start: i64, stop: i64) -> u64 => azremrangebyrank;
    zrevrangebyscore[V: DeserializeOwned + Send + 'static](
        key: &'a str, max: f64, min: f64
    ) -> Vec<V> => azrevrangebyscore;
    zrevrangebyscore_with_scores[V: DeserializeOwned + Send + 'static](
        key: &'a str, max: f64, min: f64
    ) -> Vec<(V, f64)> => azrevrangebyscore_with_scores;
    zmscore[V: Serialize + Sync](key: &'a str, members: &'a [V]) -> Vec<Option<f64>> => azmscore;
    // --- streams ---
    xadd[V: Serialize + Sync](
        key: &'a str, fields: &'a [(&'a str, V)], options: XaddOptions
    ) -> Option<StreamId> => axadd;
    xlen[](key: &'a str) -> u64 => axlen;
    xrange[V: DeserializeOwned + Send + 'static](
        key: &'a str, start: StreamId, end: StreamId, count: Option<u64>
    ) -> Vec<StreamEntry<V>> => axrange;
    xrevrange[V: DeserializeOwned + Send + 'static](
        key: &'a str, end: StreamId, start: StreamId, count: Option<u64>
    ) -> Vec<StreamEntry<V>> => axrevrange;
    xtrim[](key: &'a str, trim: Trim) -> u64 => axtrim;
    xdel[](key: &'a str, ids: &'a [StreamId]) -> u64 => axdel;
    xack[](key: &'a str, group: &'a str, ids: &'a [StreamId]) -> u64 => axack;
    xgroup_create[](
        key: &'a str, group: &'a str, start: ReadFrom, mkstream: bool
    ) -> () => axgroup_create;
    xgroup_destroy[](key: &'a str, group: &'a str) -> bool => axgroup_destroy;
    xgroup_setid[](key: &'a str, group: &'a str, start: ReadFrom) -> () => axgroup_setid;
    xgroup_delconsumer[](
        key: &'a str, group: &'a str, consumer: &'a str
    ) -> u64 => axgroup_delconsumer;
    xpending[](key: &'a str, group: &'a str) -> PendingSummary => axpending;
    xpending_range[](
        key: &'a str, group: &'a str, range: PendingRange
    ) -> Vec<PendingEntry> => axpending_range;
    xclaim[V: DeserializeOwned + Send + 'static](
        key: &'a str, group: &'a str, consumer: &'a str, min_idle: Duration, ids: &'a [StreamId],
        options: ClaimOptions
    ) -> Vec<StreamEntry<V>> => axclaim;
    xautoclaim[V: DeserializeOwned + Send + 'static](
        key: &'a str, group: &'a str, consumer: &'a str, min_idle: Duration, start: StreamId,
        count: Option<u64>
    ) -> AutoClaim<V> => axautoclaim;
    xinfo_stream[V: DeserializeOwned + Send + 'static](
        key: &'a str
    ) -> StreamInfo<V> => axinfo_stream;
    xinfo_groups[](key: &'a str) -> Vec<GroupInfo> => axinfo_groups;
    xinfo_consumers[](key: &'a str, group: &'a str) -> Vec<ConsumerInfo> => axinfo_consumers;
    // --- scripts (sent with their source: see `Server::batch`) ---
    eval_script[T: FromScriptReply + Send + 'static](
        script: &'a Script, keys: &'a [&'a str], args: &'a [ScriptArg<'a>]
    ) -> T => aeval_script;
}

// --- admin ---

impl CacheCore {
    /// The raw content of `key` (its stored bytes, not decoded), `None` when it is missing:
    /// for tools that inspect keys (`cachex-admin`). In-memory backend only; on a server,
    /// read it with a script ([`eval_script`](crate::CacheApi::eval_script)), which is
    /// [`Error::Unsupported`] here.
    pub fn raw(&self, key: &str) -> Result<Option<RawData>> {
        let made = self.keys.make(key, None)?;
        self.store.raw(&made).map_err(|err| err.about(key))
    }
}

impl Pipeline<'_> {
    /// Runs the queued operations as a transaction only if `check` accepts the raw content
    /// of `key` ([`CacheCore::raw`]), read while the transaction holds its keys and `key`:
    /// no other command of them runs between the check and the last operation. `None` when
    /// `check` refused (nothing ran). A compare-and-swap for tools that edit keys
    /// (`cachex-admin`). In-memory backend only (on a server a script checks and applies:
    /// [`Error::Unsupported`] here).
    ///
    /// `check` runs while the backend holds those keys' stripes exclusively: it must not call
    /// the cache (any call on a key of a held stripe waits for the hold, which waits for
    /// `check`: a deadlock). Keep it to comparing the content it is given.
    ///
    /// ```
    /// use cachex::prelude::*;
    /// use cachex::RawData;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let cache = Cache::in_memory();
    /// cache.aset("n", &1, Timeout::Never).await?;
    /// let seen = cache.core().raw("n")?;
    /// let mut edit = cache.transaction();
    /// let _stored = edit.set("n", &2, Timeout::Never);
    /// let ran = edit.aexecute_if("n", |now| now == seen.as_ref()).await?;
    /// assert!(ran.is_some());
    /// let mut stale = cache.transaction();
    /// let _stored = stale.set("n", &3, Timeout::Never);
    /// assert!(stale.aexecute_if("n", |now| now == seen.as_ref()).await?.is_none());
    /// assert_eq!(cache.aget::<i64>("n").await?, Some(2));
    /// # Ok::<(), cachex::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn aexecute_if(
        self,
        key: &str,
        check: impl FnOnce(Option<&RawData>) -> bool + Send,
    ) -> Result<Option<Replies>> {
        let made = self.cache.keys.make(key, None)?;
        let batch = self.queue.store.as_batch().ok_or_else(not_one_command)?;
        let commands = batch.take();
        let Some(replies) = self
            .cache
            .store
            .batch_if(commands, &made, Box::new(check))
            .map_err(|err| err.about(key))?
        else {
            return Ok(None);
        };
        Ok(Some(self.answered(replies)))
    }
}
