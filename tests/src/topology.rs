//! Real Redis Cluster and Sentinel topologies, started by the tests themselves on free loopback
//! ports, from the [`Server`] harness (so every process has its watchdog and folder, and dies
//! with the test process).
//!
//! - [`Cluster::start`]: 3 primaries with 1 replica each (`redis-server --cluster-enabled yes`,
//!   then `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`), returned once
//!   every node reports `cluster_state:ok`, knows all six nodes with no failure flag, every
//!   replica's link to its primary is up and every node lists every replica in `CLUSTER SLOTS`
//!   (as clients that read from replicas need). [`Cluster::start_without_replicas`] starts the
//!   primaries only, [`Cluster::add_replicas`] adds the replicas later, and
//!   [`Cluster::move_slot`] reshards one slot.
//! - [`SentinelGroup::start`]: a primary, a replica and 3 sentinels (`redis-server --sentinel`),
//!   returned once the replica is in sync and every sentinel knows the replica and the two
//!   other sentinels (`SENTINEL CKQUORUM`).
//!
//! Readiness is polled (every 20 ms), never waited for with fixed sleeps. [`shared_cluster`]
//! and [`shared_sentinel`] give one topology per test process for suites that do not change
//! it; the failover helpers ([`Cluster::kill_primary_of`], [`SentinelGroup::failover`],
//! [`SentinelGroup::kill_primary`]) are for topologies a test owns.
//!
//! Timeouts are short so that failovers take seconds: `cluster-node-timeout` and Sentinel's
//! `down-after-milliseconds` are [`FAILOVER_TIMEOUT_MS`] for topologies started by
//! [`Cluster::start_for_failover`] / [`SentinelGroup::start_for_failover`], and
//! [`STEADY_TIMEOUT_MS`] for the shared ones, which must not fail over because a loaded machine
//! stalled a node for a moment.

use std::net::{Ipv4Addr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use crate::{Server, ServerKind};

/// The node timeout (cluster) and down-after time (Sentinel) of topologies meant to fail over.
pub const FAILOVER_TIMEOUT_MS: u64 = 1000;

/// The same for the shared topologies, which should never fail over.
pub const STEADY_TIMEOUT_MS: u64 = 5_000;

/// How long a topology may take to become ready (it takes a few seconds).
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The Sentinel service name of [`SentinelGroup`].
pub const SERVICE: &str = "cachex-primary";

/// How often readiness is polled.
const POLL: Duration = Duration::from_millis(20);

/// A port of 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|err| panic!("cannot bind a free port on 127.0.0.1: {err}"))
}

/// Polls `check` until it gives `Some`, or panics after `timeout` with `what` and the last
/// reason `check` gave.
fn wait_for<T>(what: &str, timeout: Duration, check: impl FnMut() -> Result<T, String>) -> T {
    wait_for_or(what, timeout, String::new, check)
}

/// [`wait_for`], with `context()` (logs, say) in the panic message.
fn wait_for_or<T>(
    what: &str,
    timeout: Duration,
    context: impl FnOnce() -> String,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(value) => return value,
            Err(why) if Instant::now() >= deadline => {
                panic!("{what}: not after {timeout:?}: {why}\n{}", context())
            }
            Err(_) => thread::sleep(POLL),
        }
    }
}

/// `redis-cli`, found on `PATH` (`CACHEX_REDIS_CLI` first).
///
/// # Panics
///
/// When there is none, with the way to install it.
pub fn redis_cli() -> String {
    if let Some(path) = std::env::var_os("CACHEX_REDIS_CLI").filter(|path| !path.is_empty()) {
        return path.to_string_lossy().into_owned();
    }
    let found = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("redis-cli"))
        .any(|candidate| candidate.is_file());
    assert!(
        found,
        "redis-cli not found on PATH: install it with `apt-get install redis-tools` (Debian), \
         or run scripts/test, which installs it, or set CACHEX_REDIS_CLI"
    );
    "redis-cli".to_owned()
}

/// The text of a bulk-string reply of [`Server::command`] (`$N\r\n...\r\n`), or the reply as
/// it is.
pub fn bulk_text(reply: &str) -> &str {
    match reply.strip_prefix('$') {
        Some(rest) => rest
            .split_once("\r\n")
            .map_or(rest, |(_, text)| text.trim_end_matches("\r\n")),
        None => reply,
    }
}

/// The items of an array reply of bulk strings that hold no line break (`*2\r\n$1\r\na\r\n...`).
fn bulk_items(reply: &str) -> Vec<&str> {
    let mut lines = reply.split("\r\n");
    let mut items = Vec::new();
    while let Some(line) = lines.next() {
        if line.starts_with('$') {
            items.extend(lines.next());
        }
    }
    items
}

/// The `field:value` lines of an `INFO`-style reply.
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .map(str::trim)
}

// ------------------------------------------------------------------------------------------
// Cluster

/// One line of `CLUSTER NODES`.
#[derive(Clone, Debug)]
pub struct ClusterNode {
    /// The node's id.
    pub id: String,
    /// Its client port.
    pub port: u16,
    /// Whether it is a primary (`master` flag).
    pub primary: bool,
    /// Whether any failure flag (`fail`, `fail?`, `handshake`, `noaddr`) is set.
    pub failing: bool,
    /// Whether its cluster bus link is `connected`.
    pub connected: bool,
    /// The slot ranges it serves (primaries only).
    pub slots: Vec<(u16, u16)>,
}

/// Parses `CLUSTER NODES`.
fn parse_nodes(text: &str) -> Vec<ClusterNode> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let port = fields[1]
                .split('@')
                .next()?
                .rsplit_once(':')?
                .1
                .parse()
                .ok()?;
            let flags = fields[2];
            let slots = fields[8..]
                .iter()
                .filter(|range| !range.starts_with('['))
                .filter_map(|range| match range.split_once('-') {
                    Some((from, to)) => Some((from.parse().ok()?, to.parse().ok()?)),
                    None => {
                        let slot = range.parse().ok()?;
                        Some((slot, slot))
                    }
                })
                .collect();
            Some(ClusterNode {
                id: fields[0].to_owned(),
                port,
                primary: flags.split(',').any(|flag| flag == "master"),
                failing: flags
                    .split(',')
                    .any(|flag| matches!(flag, "fail" | "fail?" | "handshake" | "noaddr")),
                connected: fields[7] == "connected",
                slots,
            })
        })
        .collect()
}

/// A Redis Cluster of 3 primaries with 1 replica each (or none, see
/// [`Cluster::start_without_replicas`]); every process is killed on drop.
#[derive(Debug)]
pub struct Cluster {
    /// The nodes; `None` once killed.
    nodes: Vec<Option<Server>>,
    /// The ports of the nodes, in order.
    ports: Vec<u16>,
    /// The `cluster-node-timeout` of its nodes (ms), for nodes added later.
    node_timeout: String,
}

/// Starts a cluster-enabled node whose `cluster-node-timeout` is `node_timeout` (ms).
fn cluster_node(node_timeout: &str) -> Server {
    // The bus port would be port + 10000, which may not exist: give one.
    let bus_port = free_port().to_string();
    Server::start_with(
        ServerKind::Redis,
        &[
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            node_timeout,
            "--cluster-port",
            &bus_port,
            "--cluster-require-full-coverage",
            "no",
            "--cluster-allow-replica-migration",
            "no",
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
        ],
    )
}

/// Runs a `redis-cli --cluster` command.
///
/// # Panics
///
/// When it cannot run or fails, with its output.
fn run_cli(command: &mut Command) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {command:?}: {err}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Cluster {
    /// A cluster that should never fail over ([`STEADY_TIMEOUT_MS`]).
    ///
    /// # Panics
    ///
    /// When a server or `redis-cli` is missing, or the cluster is not ready within
    /// [`READY_TIMEOUT`].
    pub fn start() -> Cluster {
        Cluster::start_with_node_timeout(STEADY_TIMEOUT_MS)
    }

    /// A cluster that fails over quickly ([`FAILOVER_TIMEOUT_MS`]).
    ///
    /// # Panics
    ///
    /// As [`Cluster::start`].
    pub fn start_for_failover() -> Cluster {
        Cluster::start_with_node_timeout(FAILOVER_TIMEOUT_MS)
    }

    /// A cluster whose `cluster-node-timeout` is `node_timeout_ms`.
    ///
    /// # Panics
    ///
    /// As [`Cluster::start`].
    pub fn start_with_node_timeout(node_timeout_ms: u64) -> Cluster {
        Cluster::create(node_timeout_ms, 1)
    }

    /// A cluster of 3 primaries without replicas ([`STEADY_TIMEOUT_MS`]): clients that connect
    /// to it learn a slot map without replicas; [`Cluster::add_replicas`] gives it some later.
    ///
    /// # Panics
    ///
    /// As [`Cluster::start`].
    pub fn start_without_replicas() -> Cluster {
        Cluster::create(STEADY_TIMEOUT_MS, 0)
    }

    /// Starts 3 primaries with `replicas` replicas each and makes them a cluster.
    fn create(node_timeout_ms: u64, replicas: usize) -> Cluster {
        let node_timeout = node_timeout_ms.to_string();
        let nodes: Vec<Server> = (0..3 * (1 + replicas))
            .map(|_| cluster_node(&node_timeout))
            .collect();
        let ports: Vec<u16> = nodes.iter().map(Server::port).collect();
        run_cli(
            Command::new(redis_cli())
                .arg("--cluster")
                .arg("create")
                .args(ports.iter().map(|port| format!("127.0.0.1:{port}")))
                .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"]),
        );
        let cluster = Cluster {
            nodes: nodes.into_iter().map(Some).collect(),
            ports,
            node_timeout,
        };
        cluster.settle();
        cluster
    }

    /// Gives each primary one replica, new nodes joined to the cluster (`redis-cli --cluster
    /// add-node --cluster-slave`), and returns once every node lists them in `CLUSTER SLOTS`.
    ///
    /// # Panics
    ///
    /// When a node cannot join, or the cluster does not list the replicas within
    /// [`READY_TIMEOUT`].
    pub fn add_replicas(&mut self) {
        let seed = format!("127.0.0.1:{}", self.any_node().port());
        let primaries: Vec<ClusterNode> = self
            .cluster_nodes()
            .into_iter()
            .filter(|node| node.primary && !node.failing)
            .collect();
        for primary in primaries {
            let replica = cluster_node(&self.node_timeout);
            run_cli(
                Command::new(redis_cli())
                    .args(["--cluster", "add-node"])
                    .arg(format!("127.0.0.1:{}", replica.port()))
                    .arg(&seed)
                    .args(["--cluster-slave", "--cluster-master-id", &primary.id]),
            );
            self.ports.push(replica.port());
            self.nodes.push(Some(replica));
        }
        self.settle();
    }

    /// Waits until the cluster is healthy and every node lists every node in `CLUSTER SLOTS`.
    fn settle(&self) {
        // A node lists a replica in CLUSTER SLOTS (where clients learn of replicas) only once it
        // has heard, by gossip, that the replica has a replication offset: replicate something
        // now, while the nodes finish joining.
        for node in self.nodes() {
            if node.command(&["ROLE"]).contains("master") {
                node.command(&["FLUSHALL"]);
            }
        }
        self.wait_healthy(READY_TIMEOUT);
        let count = self.nodes().count();
        wait_for("replicas in CLUSTER SLOTS", READY_TIMEOUT, || {
            for node in self.nodes() {
                let slots = node.command(&["CLUSTER", "SLOTS"]);
                let listed = slots.matches("127.0.0.1").count();
                if listed != count {
                    return Err(format!("{} lists {listed} of {count} nodes", node.port()));
                }
            }
            Ok(())
        });
    }

    /// The cluster's URL: `redis+cluster://127.0.0.1:p1,...` with every node as a seed.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .ports
            .iter()
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// The nodes still running.
    pub fn nodes(&self) -> impl Iterator<Item = &Server> {
        self.nodes.iter().flatten()
    }

    /// A node still running, to send commands to.
    ///
    /// # Panics
    ///
    /// When every node was killed.
    pub fn any_node(&self) -> &Server {
        self.nodes().next().expect("a running node")
    }

    /// `CLUSTER NODES` as a running node sees it.
    pub fn cluster_nodes(&self) -> Vec<ClusterNode> {
        parse_nodes(bulk_text(&self.any_node().command(&["CLUSTER", "NODES"])))
    }

    /// The slot of `key` (`CLUSTER KEYSLOT`).
    ///
    /// # Panics
    ///
    /// When the reply is not a number.
    pub fn slot_of(&self, key: &str) -> u16 {
        let reply = self.any_node().command(&["CLUSTER", "KEYSLOT", key]);
        reply
            .trim()
            .trim_start_matches(':')
            .parse()
            .unwrap_or_else(|_| panic!("CLUSTER KEYSLOT {key}: {reply:?}"))
    }

    /// The port of the primary serving `key`'s slot now.
    ///
    /// # Panics
    ///
    /// When no healthy primary serves it.
    pub fn primary_port_of(&self, key: &str) -> u16 {
        let slot = self.slot_of(key);
        self.cluster_nodes()
            .into_iter()
            .find(|node| {
                node.primary
                    && !node.failing
                    && node
                        .slots
                        .iter()
                        .any(|(from, to)| (*from..=*to).contains(&slot))
            })
            .map(|node| node.port)
            .unwrap_or_else(|| panic!("no healthy primary serves slot {slot} ({key})"))
    }

    /// The running node listening on `port`.
    ///
    /// # Panics
    ///
    /// When there is none.
    pub fn node(&self, port: u16) -> &Server {
        self.nodes()
            .find(|node| node.port() == port)
            .unwrap_or_else(|| panic!("no running node on port {port}"))
    }

    /// Moves `slot` to the primary listening on `to`, as `redis-cli --cluster reshard` does:
    /// the target imports the slot, the source migrates it, its keys move `batch` at a time
    /// with `pause` between batches (so that requests meet the slot half moved and are
    /// redirected with `ASK`), then every primary learns the new owner (`MOVED` from then on).
    /// Returns the port of the primary it came from.
    ///
    /// # Panics
    ///
    /// When no healthy primary serves the slot, `to` is not a primary, or a step is refused.
    pub fn move_slot(&self, slot: u16, to: u16, batch: usize, pause: Duration) -> u16 {
        let nodes = self.cluster_nodes();
        let primaries: Vec<&ClusterNode> = nodes
            .iter()
            .filter(|node| node.primary && !node.failing)
            .collect();
        let source = primaries
            .iter()
            .find(|node| {
                node.slots
                    .iter()
                    .any(|(from, to)| (*from..=*to).contains(&slot))
            })
            .unwrap_or_else(|| panic!("no healthy primary serves slot {slot}"));
        let target = primaries
            .iter()
            .find(|node| node.port == to)
            .unwrap_or_else(|| panic!("{to} is not a healthy primary"));
        let (slot, to_port, count) = (slot.to_string(), to.to_string(), batch.to_string());
        let expect_ok = |reply: String, what: &str| {
            assert!(
                reply.starts_with("+OK") || reply.starts_with("+NOKEY"),
                "{what}: {reply}"
            );
        };
        let from = self.node(source.port);
        expect_ok(
            self.node(to)
                .command(&["CLUSTER", "SETSLOT", &slot, "IMPORTING", &source.id]),
            "SETSLOT IMPORTING",
        );
        expect_ok(
            from.command(&["CLUSTER", "SETSLOT", &slot, "MIGRATING", &target.id]),
            "SETSLOT MIGRATING",
        );
        loop {
            let reply = from.command(&["CLUSTER", "GETKEYSINSLOT", &slot, &count]);
            let keys = bulk_items(&reply);
            if keys.is_empty() {
                break;
            }
            let mut migrate = vec!["MIGRATE", "127.0.0.1", &to_port, "", "0", "5000", "KEYS"];
            migrate.extend(keys);
            expect_ok(from.command(&migrate), "MIGRATE");
            thread::sleep(pause);
        }
        // The target first, then the source, as redis-cli does.
        let mut owners = vec![target.port, source.port];
        owners.extend(
            primaries
                .iter()
                .map(|node| node.port)
                .filter(|port| *port != target.port && *port != source.port),
        );
        for port in owners {
            expect_ok(
                self.node(port)
                    .command(&["CLUSTER", "SETSLOT", &slot, "NODE", &target.id]),
                "SETSLOT NODE",
            );
        }
        source.port
    }

    /// Kills (`SIGKILL`) the primary serving `key`; returns its port.
    pub fn kill_primary_of(&mut self, key: &str) -> u16 {
        let port = self.primary_port_of(key);
        self.kill(port);
        port
    }

    /// Kills the node listening on `port`.
    ///
    /// # Panics
    ///
    /// When no running node does.
    pub fn kill(&mut self, port: u16) {
        let index = self
            .ports
            .iter()
            .position(|candidate| *candidate == port)
            .unwrap_or_else(|| panic!("no node on port {port}"));
        let mut node = self.nodes[index]
            .take()
            .unwrap_or_else(|| panic!("the node on port {port} was killed already"));
        node.kill();
    }

    /// Waits until every running node reports `cluster_state:ok`, sees every other running
    /// node connected without failure flags and every slot served by a healthy primary, and
    /// every running replica of a running primary has its replication link up.
    ///
    /// # Panics
    ///
    /// After `timeout`, with what was still missing.
    pub fn wait_healthy(&self, timeout: Duration) {
        wait_for("a healthy cluster", timeout, || self.health())
    }

    /// Why the cluster is not healthy yet, if it is not.
    fn health(&self) -> Result<(), String> {
        let running: Vec<u16> = self.nodes().map(Server::port).collect();
        for node in self.nodes() {
            let port = node.port();
            let info = node
                .try_command(&["CLUSTER", "INFO"], Duration::from_secs(2))
                .map_err(|err| format!("{port}: CLUSTER INFO: {err}"))?;
            if info_field(&info, "cluster_state") != Some("ok") {
                return Err(format!("{port}: not cluster_state:ok"));
            }
            let nodes = node
                .try_command(&["CLUSTER", "NODES"], Duration::from_secs(2))
                .map_err(|err| format!("{port}: CLUSTER NODES: {err}"))?;
            let nodes = parse_nodes(bulk_text(&nodes));
            for other in &running {
                let seen = nodes.iter().find(|seen| seen.port == *other);
                match seen {
                    Some(seen) if !seen.failing && (seen.connected || seen.port == port) => {}
                    _ => return Err(format!("{port} does not see {other} healthy")),
                }
            }
            let served: u32 = nodes
                .iter()
                .filter(|seen| seen.primary && !seen.failing && running.contains(&seen.port))
                .flat_map(|seen| &seen.slots)
                .map(|(from, to)| u32::from(to - from) + 1)
                .sum();
            if served != 16384 {
                return Err(format!("{port} sees {served} slots served"));
            }
            let replication = node
                .try_command(&["INFO", "replication"], Duration::from_secs(2))
                .map_err(|err| format!("{port}: INFO replication: {err}"))?;
            if info_field(&replication, "role") == Some("slave") {
                let primary: Option<u16> =
                    info_field(&replication, "master_port").and_then(|port| port.parse().ok());
                let alive = primary.is_some_and(|primary| running.contains(&primary));
                if alive && info_field(&replication, "master_link_status") != Some("up") {
                    return Err(format!("replica {port}: link to its primary not up"));
                }
            }
        }
        Ok(())
    }
}

/// One cluster for the whole test process, started on first use, that never fails over: for
/// suites that only need *a* cluster. Tests sharing it run concurrently: give each its own
/// prefix.
///
/// # Panics
///
/// As [`Cluster::start`].
pub fn shared_cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

// ------------------------------------------------------------------------------------------
// Sentinel

/// A primary, a replica and three sentinels monitoring them as [`SERVICE`]; every process is
/// killed on drop.
#[derive(Debug)]
pub struct SentinelGroup {
    /// The two data nodes (primary first at the start; roles change with failovers). `None`
    /// once killed.
    data: Vec<Option<Server>>,
    sentinels: Vec<Server>,
}

impl SentinelGroup {
    /// A group whose sentinels wait [`STEADY_TIMEOUT_MS`] before they call a node down.
    ///
    /// # Panics
    ///
    /// When a server is missing, or the group is not ready within [`READY_TIMEOUT`].
    pub fn start() -> SentinelGroup {
        SentinelGroup::start_with_down_after(STEADY_TIMEOUT_MS)
    }

    /// A group that fails over quickly ([`FAILOVER_TIMEOUT_MS`]).
    ///
    /// # Panics
    ///
    /// As [`SentinelGroup::start`].
    pub fn start_for_failover() -> SentinelGroup {
        SentinelGroup::start_with_down_after(FAILOVER_TIMEOUT_MS)
    }

    /// A group whose sentinels call a node down after `down_after_ms` without an answer.
    ///
    /// # Panics
    ///
    /// As [`SentinelGroup::start`].
    pub fn start_with_down_after(down_after_ms: u64) -> SentinelGroup {
        let replication = [
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
        ];
        let primary = Server::start_with(ServerKind::Redis, &replication);
        let primary_port = primary.port().to_string();
        let mut replica_args = vec!["--replicaof", "127.0.0.1", &primary_port];
        replica_args.extend(replication);
        let replica = Server::start_with(ServerKind::Redis, &replica_args);
        let config = format!(
            "sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n\
             sentinel down-after-milliseconds {SERVICE} {down_after_ms}\n\
             sentinel failover-timeout {SERVICE} {}\n\
             sentinel parallel-syncs {SERVICE} 1\n",
            (down_after_ms * 4).max(4000)
        );
        let sentinels = (0..3)
            .map(|_| Server::start_with_config(ServerKind::Redis, &config, &["--sentinel"]))
            .collect();
        let group = SentinelGroup {
            data: vec![Some(primary), Some(replica)],
            sentinels,
        };
        group.wait_ready(READY_TIMEOUT);
        group
    }

    /// The group's URL: `redis+sentinel://127.0.0.1:s1,127.0.0.1:s2,127.0.0.1:s3/SERVICE`.
    pub fn url(&self) -> String {
        let sentinels: Vec<String> = self
            .sentinels
            .iter()
            .map(|sentinel| format!("127.0.0.1:{}", sentinel.port()))
            .collect();
        format!("redis+sentinel://{}/{SERVICE}", sentinels.join(","))
    }

    /// The sentinels.
    pub fn sentinels(&self) -> &[Server] {
        &self.sentinels
    }

    /// The data nodes still running.
    pub fn data_nodes(&self) -> impl Iterator<Item = &Server> {
        self.data.iter().flatten()
    }

    /// The port of the primary, as the first sentinel that answers names it.
    ///
    /// # Panics
    ///
    /// When no sentinel answers.
    pub fn primary_port(&self) -> u16 {
        for sentinel in &self.sentinels {
            let Ok(reply) = sentinel.try_command(
                &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE],
                Duration::from_secs(2),
            ) else {
                continue;
            };
            // *2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n
            if let Some(port) = reply
                .lines()
                .filter(|line| !line.starts_with(['*', '$']))
                .nth(1)
                .and_then(|port| port.trim().parse().ok())
            {
                return port;
            }
        }
        panic!("no sentinel names the primary of {SERVICE}")
    }

    /// Asks a sentinel for a failover (`SENTINEL FAILOVER`): the replica is promoted without
    /// waiting for the primary to fail.
    ///
    /// # Panics
    ///
    /// When the sentinel refuses.
    pub fn failover(&self) {
        let reply = self.sentinels[0].command(&["SENTINEL", "FAILOVER", SERVICE]);
        assert!(reply.starts_with("+OK"), "SENTINEL FAILOVER: {reply}");
    }

    /// Kills (`SIGKILL`) the primary; returns its port.
    ///
    /// # Panics
    ///
    /// When the primary is not one of the group's running data nodes.
    pub fn kill_primary(&mut self) -> u16 {
        let port = self.primary_port();
        let node = self
            .data
            .iter_mut()
            .find(|node| node.as_ref().is_some_and(|node| node.port() == port))
            .and_then(Option::take);
        let mut node = node.unwrap_or_else(|| panic!("the primary {port} is not running"));
        node.kill();
        port
    }

    /// Waits until every sentinel names a primary other than `old_port`, and that node says it
    /// is a primary; returns its port.
    ///
    /// # Panics
    ///
    /// After `timeout`.
    pub fn wait_primary_moved(&self, old_port: u16, timeout: Duration) -> u16 {
        let logs = || {
            self.sentinels
                .iter()
                .map(|sentinel| format!("sentinel {}:\n{}", sentinel.port(), sentinel.log()))
                .collect::<Vec<_>>()
                .join("\n")
        };
        wait_for_or("a new primary", timeout, logs, || {
            let port = self.primary_port();
            if port == old_port {
                return Err(format!("the sentinels still name {old_port}"));
            }
            let node = self
                .data_nodes()
                .find(|node| node.port() == port)
                .ok_or_else(|| format!("{port} is not running"))?;
            let role = node
                .try_command(&["ROLE"], Duration::from_secs(2))
                .map_err(|err| format!("ROLE: {err}"))?;
            if role.contains("master") {
                Ok(port)
            } else {
                Err(format!("{port} is not a primary yet"))
            }
        })
    }

    /// Waits until the replica is in sync and every sentinel knows it, and knows enough other
    /// sentinels to authorize a failover.
    ///
    /// # Panics
    ///
    /// After `timeout`, with what was still missing.
    pub fn wait_ready(&self, timeout: Duration) {
        wait_for("a ready Sentinel group", timeout, || self.readiness())
    }

    fn readiness(&self) -> Result<(), String> {
        for node in self.data_nodes() {
            let info = node
                .try_command(&["INFO", "replication"], Duration::from_secs(2))
                .map_err(|err| format!("{}: {err}", node.port()))?;
            if info_field(&info, "role") == Some("slave")
                && info_field(&info, "master_link_status") != Some("up")
            {
                return Err(format!("replica {}: link not up", node.port()));
            }
        }
        for sentinel in &self.sentinels {
            let port = sentinel.port();
            let quorum = sentinel
                .try_command(&["SENTINEL", "CKQUORUM", SERVICE], Duration::from_secs(2))
                .map_err(|err| format!("sentinel {port}: {err}"))?;
            if !quorum.starts_with("+OK 3 usable") {
                return Err(format!("sentinel {port}: {}", quorum.trim()));
            }
            let replicas = sentinel
                .try_command(&["SENTINEL", "REPLICAS", SERVICE], Duration::from_secs(2))
                .map_err(|err| format!("sentinel {port}: {err}"))?;
            if !replicas.contains("master-link-status\r\n$2\r\nok\r\n")
                || replicas.contains("s_down")
                || replicas.contains("disconnected")
            {
                return Err(format!("sentinel {port} does not know a healthy replica"));
            }
        }
        Ok(())
    }
}

/// One Sentinel group for the whole test process, started on first use, that never fails over:
/// for suites that only need *a* Sentinel service. Tests sharing it run concurrently: give each
/// its own prefix.
///
/// # Panics
///
/// As [`SentinelGroup::start`].
pub fn shared_sentinel() -> &'static SentinelGroup {
    static GROUP: OnceLock<SentinelGroup> = OnceLock::new();
    GROUP.get_or_init(SentinelGroup::start)
}

// ------------------------------------------------------------------------------------------
// A primary and read replicas, without Sentinel

/// A primary and its replicas (`--replicaof`), listed in one URL
/// (`redis://primary/0?replicas=r1,r2`); every process is killed on drop.
#[derive(Debug)]
pub struct ReplicaSet {
    /// The primary.
    pub primary: Server,
    /// The replicas, in the URL's order.
    pub replicas: Vec<Server>,
}

impl ReplicaSet {
    /// A primary with `replicas` replicas of `kind`, each in sync with it.
    ///
    /// # Panics
    ///
    /// As [`Server::start`]; when a replica is not in sync within the harness's wait.
    pub fn start(kind: ServerKind, replicas: usize) -> ReplicaSet {
        let replication = [
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
        ];
        let primary = Server::start_with(kind, &replication);
        let primary_port = primary.port().to_string();
        let mut replica_args = vec!["--replicaof", "127.0.0.1", &primary_port];
        replica_args.extend(replication);
        let replicas = (0..replicas)
            .map(|_| Server::start_with(kind, &replica_args))
            .collect();
        let set = ReplicaSet { primary, replicas };
        for replica in &set.replicas {
            wait_for("a replica in sync", READY_TIMEOUT, || {
                let info = replica.command(&["INFO", "replication"]);
                match info_field(bulk_text(&info), "master_link_status") {
                    Some("up") => Ok(()),
                    other => Err(format!("master_link_status {other:?}")),
                }
            });
        }
        set
    }

    /// `redis://127.0.0.1:primary/0?replicas=127.0.0.1:r1,...` (the query may go on with `&`).
    pub fn url(&self) -> String {
        let replicas: Vec<String> = self
            .replicas
            .iter()
            .map(|replica| format!("127.0.0.1:{}", replica.port()))
            .collect();
        format!("{}/0?replicas={}", self.primary.url(), replicas.join(","))
    }

    /// Waits until every running replica has the primary's writes so far (their replication
    /// offsets reach the primary's).
    ///
    /// # Panics
    ///
    /// When they do not within the harness's wait.
    pub fn wait_replicated(&self) {
        let offset = |server: &Server, field: &str| -> u64 {
            let info = server.command(&["INFO", "replication"]);
            info_field(bulk_text(&info), field)
                .and_then(|offset| offset.parse().ok())
                .unwrap_or(0)
        };
        let target = offset(&self.primary, "master_repl_offset");
        for replica in self
            .replicas
            .iter()
            .filter(|replica| replica.pid().is_some())
        {
            wait_for(
                "a replica with the primary's writes",
                READY_TIMEOUT,
                || match offset(replica, "slave_repl_offset") {
                    reached if reached >= target => Ok(()),
                    reached => Err(format!("replica at offset {reached}, primary at {target}")),
                },
            );
        }
    }

    /// How many times `server` ran `command` (`INFO commandstats`), e.g. `get`.
    pub fn calls(server: &Server, command: &str) -> u64 {
        let info = server.command(&["INFO", "commandstats"]);
        info_field(bulk_text(&info), &format!("cmdstat_{command}"))
            .and_then(|stats| stats.strip_prefix("calls="))
            .and_then(|stats| stats.split(',').next())
            .and_then(|calls| calls.parse().ok())
            .unwrap_or(0)
    }
}
