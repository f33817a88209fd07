//! Shared helpers of the cachex integration tests.
//!
//! [`server`]: real `redis-server` / `valkey-server` processes on free loopback ports, in
//! temporary folders, killed on drop ([`Server`]), or one per kind for the whole test process
//! ([`shared`]).
//!
//! [`topology`]: Redis Cluster (3 primaries, 1 replica each) and Sentinel (primary, replica, 3
//! sentinels) topologies made of such servers, with failover helpers ([`Cluster`],
//! [`SentinelGroup`]), or one of each for the whole test process ([`shared_cluster`],
//! [`shared_sentinel`]).
//!
//! [`proxy`]: a TCP fault proxy between a client and a real server ([`FaultProxy`]): latency,
//! resets at chosen points, idle reaps, half-closes, blackholes, killed connections.
//!
//! [`outcomes`]: what a stream of calls made under faults must find on the server afterwards.
//!
//! [`django`]: the real django-cachex, for the interoperability tests.
//!
//! [`logs`]: what cachex logs through `tracing`, captured for the tests to read.
//!
//! [`fuzzing`]: the checks the `cargo fuzz` targets of `fuzz/` run, for the corpus replay.

pub mod django;
pub mod fuzzing;
pub mod logs;
pub mod outcomes;
pub mod proxy;
mod resp;
pub mod server;
pub mod topology;

pub use proxy::FaultProxy;
pub use server::{Server, ServerKind, shared};
pub use topology::{Cluster, SentinelGroup, shared_cluster, shared_sentinel};

/// The key `cache` stores `key` under (prefix and version applied), for tests and benches that
/// read or write the server directly.
pub fn made_key(cache: &cachex::Cache, key: &str) -> String {
    cache
        .core()
        .key_settings()
        .make(key, None)
        .expect("a valid key")
}
