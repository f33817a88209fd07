//! Reads served by a server backend's near cache, with tracking on (the copies, tokens and
//! liveness rules are [`crate::backend::near`]'s): a copy when one may be served, else the
//! value and its time left in one round trip, kept when the fetch's token is still good.

use bytes::Bytes;

use super::CacheCore;
use crate::Result;
use crate::backend::command::{Get, GetPttl, Mget, MgetPttl};
use crate::backend::near::{Lookup, Near};

/// `get`'s bytes: the copy, or the server's value (kept as a copy when sound).
pub(super) async fn get(
    core: &CacheCore,
    near: &Near,
    key: &str,
    made: String,
) -> Result<Option<Bytes>> {
    match near.lookup(&made) {
        Lookup::Hit(value) => Ok(value),
        Lookup::Miss(None) => core.run(key, Get { key: made }).await,
        Lookup::Miss(Some(token)) => {
            let fetched = std::time::Instant::now();
            let (value, pttl) = core.run(key, GetPttl { key: made.clone() }).await?;
            near.install(&made, token, value.clone(), pttl, fetched);
            Ok(value)
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
    let mut values = Vec::with_capacity(made.len());
    let mut missing = Vec::new();
    let mut tokens = Vec::new();
    for (at, made) in made.iter().enumerate() {
        match near.lookup(made) {
            Lookup::Hit(value) => values.push(value),
            Lookup::Miss(token) => {
                values.push(None);
                missing.push(at);
                tokens.push(token);
            }
        }
    }
    if missing.is_empty() {
        return Ok(values);
    }
    let keys: Vec<String> = missing.iter().map(|at| made[*at].clone()).collect();
    if tokens.iter().any(Option::is_none) {
        let fetched = core.run(key, Mget { keys }).await?;
        for (at, value) in missing.into_iter().zip(fetched) {
            values[at] = value;
        }
        return Ok(values);
    }
    let fetched_at = std::time::Instant::now();
    let fetched = core.run(key, MgetPttl { keys }).await?;
    for ((at, token), (value, pttl)) in missing.into_iter().zip(tokens).zip(fetched) {
        if let Some(token) = token {
            near.install(&made[at], token, value.clone(), pttl, fetched_at);
        }
        values[at] = value;
    }
    Ok(values)
}
