//! Reads served by a server backend's near cache, with tracking on (the copies, tokens and
//! liveness rules are [`crate::backend::near`]'s): a copy when one may be served, else the
//! value and its time left in one round trip, kept when the fetch's token is still good.
//!
//! Under stampede prevention the reads also need each value's time left: a copy knows it (its
//! expiry, counted from before its fetch was sent, so never later than the server's), and
//! the stampede rules apply to it exactly as to the server's answer.

use bytes::Bytes;

use super::CacheCore;
use crate::backend::command::{Get, GetPttl, Mget, MgetPttl};
use crate::backend::near::{Instant, Lookup, Near, pttl as left_of};
use crate::{Error, Result};

/// `get`'s bytes when the copy was not there (`missed`: its lookup): the server's value, kept
/// as a copy when sound.
pub(super) async fn get_missed(
    core: &CacheCore,
    near: &Near,
    key: &str,
    made: String,
    missed: Lookup,
) -> Result<Option<Bytes>> {
    Ok(read(core, near, key, made, missed, false).await?.0)
}

/// A read of the key (a lookup, then [`get_missed`]'s read), with its time left (`PTTL`'s
/// answer), for stampede prevention.
pub(super) async fn get_pttl(
    core: &CacheCore,
    near: &Near,
    key: &str,
    made: String,
) -> Result<(Option<Bytes>, i64)> {
    let looked = near.lookup(&made);
    let (value, pttl) = read(core, near, key, made, looked, true).await?;
    Ok((value, pttl.unwrap_or(-2)))
}

/// A read of one key after its lookup, `looked`; its time left too when `pttl` is asked (else
/// `None` when not known).
async fn read(
    core: &CacheCore,
    near: &Near,
    key: &str,
    made: String,
    looked: Lookup,
    pttl: bool,
) -> Result<(Option<Bytes>, Option<i64>)> {
    match looked {
        Lookup::Hit(value, expires) => {
            let left = pttl.then(|| left_of(&value, expires));
            Ok((value, left))
        }
        Lookup::Miss(None) if !pttl => Ok((core.run(key, Get { key: made }).await?, None)),
        Lookup::Miss(None) => {
            let (value, left) = core.run(key, GetPttl { key: made }).await?;
            Ok((value, Some(left)))
        }
        Lookup::Miss(Some(token)) => {
            let fetched = Instant::now();
            let (value, left) = core.run(key, GetPttl { key: made.clone() }).await?;
            near.install(&made, token, value.clone(), left, fetched);
            Ok((value, Some(left)))
        }
    }
}

/// `get_many`'s bytes, in the order of `made`: copies where present, the rest in one round
/// trip.
pub(super) async fn get_many(
    core: &CacheCore,
    near: &Near,
    key: &str,
    made: Vec<String>,
) -> Result<Vec<Option<Bytes>>> {
    let read = read_many(core, near, key, made, false).await?;
    Ok(read.into_iter().map(|(value, _)| value).collect())
}

/// [`get_many`] with each key's time left (`PTTL`'s answers), for stampede prevention.
pub(super) async fn get_many_pttl(
    core: &CacheCore,
    near: &Near,
    key: &str,
    made: Vec<String>,
) -> Result<Vec<(Option<Bytes>, i64)>> {
    let read = read_many(core, near, key, made, true).await?;
    Ok(read
        .into_iter()
        .map(|(value, left)| (value, left.unwrap_or(-2)))
        .collect())
}

/// A read of several keys; their times left too when `pttl` is asked.
async fn read_many(
    core: &CacheCore,
    near: &Near,
    key: &str,
    made: Vec<String>,
    pttl: bool,
) -> Result<Vec<(Option<Bytes>, Option<i64>)>> {
    let mut values = Vec::with_capacity(made.len());
    let mut missing = Vec::new();
    let mut tokens = Vec::new();
    for (at, made) in made.iter().enumerate() {
        match near.lookup(made) {
            Lookup::Hit(value, expires) => {
                let left = pttl.then(|| left_of(&value, expires));
                values.push((value, left));
            }
            Lookup::Miss(token) => {
                values.push((None, None));
                missing.push(at);
                tokens.push(token);
            }
        }
    }
    if missing.is_empty() {
        return Ok(values);
    }
    let keys: Vec<String> = missing.iter().map(|at| made[*at].clone()).collect();
    if !pttl && tokens.iter().any(Option::is_none) {
        let fetched = core.run(key, Mget { keys }).await?;
        for (at, value) in missing.into_iter().zip(fetched) {
            values[at] = (value, None);
        }
        return Ok(values);
    }
    let fetched_at = Instant::now();
    let fetched = if core.store.is_cluster() {
        // A script's keys must share a slot on a cluster: one key's `MGET`+`PTTL` per key (a
        // key of another type reads as nil, as `MGET` has it), in one pipeline (which the
        // cluster link splits by slot).
        let asks = keys
            .into_iter()
            .map(|key| MgetPttl { keys: vec![key] })
            .collect();
        let mut fetched = Vec::with_capacity(missing.len());
        for answer in core.store.pipeline(asks).await? {
            let one = answer?.pop().ok_or_else(|| {
                Error::unexpected_reply("no value in the answer to one key's MGET+PTTL")
            })?;
            fetched.push(one);
        }
        fetched
    } else {
        core.run(key, MgetPttl { keys }).await?
    };
    for ((at, token), (value, left)) in missing.into_iter().zip(tokens).zip(fetched) {
        if let Some(token) = token {
            near.install(&made[at], token, value.clone(), left, fetched_at);
        }
        values[at] = (value, Some(left));
    }
    Ok(values)
}
