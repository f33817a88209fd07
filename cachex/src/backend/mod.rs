//! Backends: where the bytes live. The cache layer above makes keys and encodes values; a
//! backend runs the commands of the [`command`] table on made keys and encoded bytes, natively
//! async, with Redis semantics.
//!
//! - [`command`]: the table, one description per command (name, arguments, keys, route,
//!   resend rule, typed reply);
//! - [`memory`]: the embedded in-memory backend, each family's Redis semantics beside it;
//! - `server`: Redis and Valkey (standalone, Cluster, Sentinel) over the redis crate;
//! - `near`: a server backend's near cache (tracking): local copies the server invalidates;
//! - [`Store`]: the one the cache uses, dispatched statically, traced;
//! - [`batch`]: pipelines and transactions (commands with their types erased, the store a
//!   pipeline's operations are queued on).

pub(crate) mod batch;
pub(crate) mod command;
pub(crate) mod glob;
pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod near;
#[cfg(feature = "redis")]
pub(crate) mod server;
mod store;

pub(crate) use command::Expiry;
pub(crate) use store::{SCAN_BATCH, Store};
