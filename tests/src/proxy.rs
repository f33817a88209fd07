//! A TCP fault proxy: what production networks do to connections, on demand, between a client
//! under test and a real server.
//!
//! [`FaultProxy::start`] listens on a free port of 127.0.0.1 and forwards every connection it
//! accepts to the upstream address it was given (a loopback address only: the proxy never
//! reaches outside the machine). A client pointed at [`FaultProxy::url`] talks to the real server
//! through it. While the test runs, any thread can change what the proxy does:
//!
//! | control | what the client sees |
//! |---|---|
//! | [`set_latency`](FaultProxy::set_latency) | every chunk of bytes in one direction arrives that much later |
//! | [`reset_next`](FaultProxy::reset_next), [`reset_every`](FaultProxy::reset_every) | its connection reset (`RST`) at a [`ResetPoint`]: before a request reaches the server, after the server answered it but before the answer comes back, or in the middle of the answer |
//! | [`close_idle_after`](FaultProxy::close_idle_after) | a connection idle that long closed (`FIN` both ways), as a load balancer's idle reap or the server's `timeout` setting do |
//! | [`half_close_all`](FaultProxy::half_close_all) | end of stream on every open connection (the proxy shuts down its writing side toward the client); what the client still sends reaches the server, the answers are dropped |
//! | [`blackhole`](FaultProxy::blackhole), [`end_blackhole`](FaultProxy::end_blackhole) | nothing answered: bytes (and ends of stream) accepted and held, on old and new connections. The blackhole ends with the held bytes delivered ([`BlackholeEnd::Deliver`]), or with every connection open at that moment dead for good ([`BlackholeEnd::DeadForGood`]: nothing ever passes on them again and no `FIN` or `RST` tells the client; new connections work) |
//! | [`kill_all`](FaultProxy::kill_all) | every open connection closed or reset ([`Ending`]) at once |
//! | [`stats`](FaultProxy::stats) | (for the test) connections accepted and open, bytes each way, connections the proxy reset or reaped |
//!
//! A request is a chunk of bytes read from the client: one command, or several pipelined ones.
//! Resets count the chunks of every connection together, so [`reset_every`](FaultProxy::reset_every)
//! with 20 resets about one request in twenty under any concurrency.
//!
//! A reset is a real `RST`: the proxy sets `SO_LINGER` to zero on its socket toward the client
//! and closes it, so the client reads "connection reset by peer", not an end of stream.
//!
//! The proxy is bounded: at most [`MAX_CONNECTIONS`] connections at once (more are reset on
//! arrival), two threads each, every write toward a peer that does not read given up after
//! [`WRITE_TIMEOUT`]. Dropping the [`FaultProxy`] resets every connection, stops accepting and
//! joins all its threads.
//!
//! ```no_run
//! use std::time::Duration;
//! use cachex_tests::proxy::{BlackholeEnd, FaultProxy};
//! use cachex_tests::{Server, ServerKind};
//!
//! let server = Server::start(ServerKind::Redis);
//! let proxy = FaultProxy::start(server.addr());
//! let url = proxy.url(ServerKind::Redis); // redis://127.0.0.1:PORT, through the proxy
//! proxy.blackhole();
//! std::thread::sleep(Duration::from_secs(1));
//! proxy.end_blackhole(BlackholeEnd::DeadForGood);
//! println!("{url}: {:?}", proxy.stats());
//! ```

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::SockRef;

use crate::ServerKind;

/// How many connections the proxy carries at once; more are reset as they arrive.
pub const MAX_CONNECTIONS: usize = 256;

/// How long a write toward a peer that does not read may block before the proxy gives up on
/// that connection (and resets it).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long connecting to the upstream server may take; a refused or timed-out upstream
/// connection resets the client's.
const UPSTREAM_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How often the accepting thread looks for new connections and idle ones.
const POLL: Duration = Duration::from_millis(1);

/// The size of one read.
const CHUNK: usize = 64 * 1024;

/// Which way bytes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From the client to the server: requests.
    ToServer,
    /// From the server to the client: answers.
    ToClient,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

/// Where, in a request's round trip, a reset hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetPoint {
    /// The request is read from the client and dropped; the client's connection is reset. The
    /// server never sees it.
    BeforeRequest,
    /// The request is forwarded; the server's answer is read and dropped, then the client's
    /// connection is reset. The server applied the request; the client cannot know it.
    BeforeReply,
    /// The request is forwarded; the first half of the server's answer (at least one byte when
    /// the answer has two or more) reaches the client, then its connection is reset.
    MidReply,
}

/// How the proxy ends a connection itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// An orderly close: the client reads the end of the stream, the server too.
    Close,
    /// A reset: the client reads "connection reset by peer"; the server sees an orderly close.
    Reset,
}

/// How a blackhole ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlackholeEnd {
    /// The bytes held meanwhile are delivered, in order, both ways (a network that was only
    /// slow); connections carry on.
    Deliver,
    /// Every connection open at the end is dead for good (a lost NAT or load balancer flow, a
    /// failed-over address): the held bytes are dropped, nothing passes on it again, and the
    /// client is never told (no `FIN`, no `RST`). The server side is closed. New connections
    /// work.
    DeadForGood,
}

/// What the proxy has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted from clients since the start.
    pub accepted: u64,
    /// Connections open now (dead ones included, until their client closes them).
    pub open: u64,
    /// Bytes read from clients.
    pub bytes_to_server: u64,
    /// Bytes read from the server.
    pub bytes_to_client: u64,
    /// Connections the proxy reset ([`ResetPoint`]s, [`Ending::Reset`], refused arrivals).
    pub resets: u64,
    /// Connections closed by [`FaultProxy::close_idle_after`].
    pub idle_closed: u64,
}

/// A TCP proxy on 127.0.0.1 in front of a loopback server, injecting faults on demand (see the
/// module documentation). Dropping it stops it.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// What the accepting thread, the connections' threads and the controls share.
struct Shared {
    upstream: SocketAddr,
    stop: AtomicBool,
    faults: Mutex<Faults>,
    /// The connections, to act on all of them. Its lock also orders the end of a blackhole
    /// against new connections (see [`FaultProxy::end_blackhole`]).
    links: Mutex<Vec<Weak<Link>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    counters: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    open: AtomicU64,
    bytes: [AtomicU64; 2],
    resets: AtomicU64,
    idle_closed: AtomicU64,
}

/// The faults in force.
#[derive(Default)]
struct Faults {
    latency: [Duration; 2],
    resets: Option<ResetPlan>,
    idle_limit: Option<Duration>,
    blackhole: bool,
}

/// Which requests are hit by a reset, and where.
struct ResetPlan {
    every: u64,
    points: Vec<ResetPoint>,
    seen: u64,
    fired: u64,
    once: bool,
}

impl ResetPlan {
    /// Counts one request; the reset point that hits it, if any.
    fn next(&mut self) -> Option<ResetPoint> {
        self.seen += 1;
        if self.seen % self.every != 0 {
            return None;
        }
        let point = self.points[(self.fired % self.points.len() as u64) as usize];
        self.fired += 1;
        Some(point)
    }
}

/// What a blackhole holds in one direction: bytes, then maybe the end of the stream.
#[derive(Default)]
struct Held {
    bytes: Vec<u8>,
    closed: bool,
}

impl Held {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty() && !self.closed
    }
}

/// One proxied connection: the client's socket and the server's.
struct Link {
    client: TcpStream,
    server: TcpStream,
    /// The proxy ended it (a reset, a close): the pumps stop and pass nothing on.
    ended: AtomicBool,
    /// Dead for good after a blackhole: nothing passes, the client is never told.
    dead: AtomicBool,
    /// The proxy shut down its writing side toward the client.
    half_closed: AtomicBool,
    /// A reset waiting for the server's next answer.
    pending: Mutex<Option<ResetPoint>>,
    /// Per direction, what a blackhole holds; its lock orders every write that way.
    held: [Mutex<Held>; 2],
    last_active: Mutex<Instant>,
    counters: Arc<Counters>,
}

impl FaultProxy {
    /// Starts a proxy on a free port of 127.0.0.1 in front of `upstream`.
    ///
    /// # Panics
    ///
    /// When `upstream` is not a loopback address, or no port can be bound.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        assert!(
            upstream.ip().is_loopback(),
            "the fault proxy only forwards to loopback addresses, not {upstream}"
        );
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|err| panic!("cannot bind a free port on 127.0.0.1: {err}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|err| panic!("the proxy's own address: {err}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|err| panic!("a non-blocking listener: {err}"));
        let shared = Arc::new(Shared {
            upstream,
            stop: AtomicBool::new(false),
            faults: Mutex::default(),
            links: Mutex::default(),
            threads: Mutex::default(),
            counters: Arc::default(),
        });
        let acceptor = {
            let shared = shared.clone();
            thread::Builder::new()
                .name(format!("proxy-{}", addr.port()))
                .spawn(move || shared.accept_loop(&listener))
                .unwrap_or_else(|err| panic!("cannot start the proxy's thread: {err}"))
        };
        FaultProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The proxy's address, `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of a server of `kind` reached through the proxy: `redis://127.0.0.1:PORT` or
    /// `valkey://127.0.0.1:PORT`.
    pub fn url(&self, kind: ServerKind) -> String {
        format!("{}://{}", kind.scheme(), self.addr)
    }

    /// Delays every chunk of bytes going `direction` by `latency` (zero: none), from the moment
    /// the proxy read it. Applies to chunks read from now on.
    pub fn set_latency(&self, direction: Direction, latency: Duration) {
        self.shared.faults().latency[direction.index()] = latency;
    }

    /// Resets the connection of the next request, at `point`; then no more resets.
    pub fn reset_next(&self, point: ResetPoint) {
        self.plan_resets(1, &[point], true);
    }

    /// Resets the connection of every `requests`-th request (counted over all connections),
    /// at each of `points` in turn, until [`stop_resets`](FaultProxy::stop_resets).
    ///
    /// # Panics
    ///
    /// When `requests` is zero or `points` is empty.
    pub fn reset_every(&self, requests: u64, points: &[ResetPoint]) {
        self.plan_resets(requests, points, false);
    }

    /// No more resets (one armed by [`reset_next`](FaultProxy::reset_next) included). A reset
    /// already waiting for its answer still happens.
    pub fn stop_resets(&self) {
        self.shared.faults().resets = None;
    }

    fn plan_resets(&self, every: u64, points: &[ResetPoint], once: bool) {
        assert!(
            every > 0 && !points.is_empty(),
            "a reset plan needs a period and points"
        );
        self.shared.faults().resets = Some(ResetPlan {
            every,
            points: points.to_vec(),
            seen: 0,
            fired: 0,
            once,
        });
    }

    /// Closes (orderly, both ways) every connection on which nothing passed for `idle`;
    /// `None` stops it. Dead connections are left alone.
    pub fn close_idle_after(&self, idle: Option<Duration>) {
        self.shared.faults().idle_limit = idle;
    }

    /// Shuts down the proxy's writing side toward the client on every open connection: the
    /// client reads the end of the stream. What it sends afterwards still reaches the server;
    /// the server's answers are dropped.
    pub fn half_close_all(&self) {
        for link in self.shared.links() {
            let _held = lock(&link.held[Direction::ToClient.index()]);
            link.half_closed.store(true, Ordering::SeqCst);
            let _ = link.client.shutdown(Shutdown::Write);
        }
    }

    /// Starts a blackhole: from now on nothing passes either way, on open connections and on
    /// new ones (which are accepted); the bytes are held until
    /// [`end_blackhole`](FaultProxy::end_blackhole).
    pub fn blackhole(&self) {
        self.shared.faults().blackhole = true;
    }

    /// Ends a blackhole, as `end` says. Does nothing to the connections if none is in force.
    pub fn end_blackhole(&self, end: BlackholeEnd) {
        let links = lock(&self.shared.links);
        if !std::mem::take(&mut self.shared.faults().blackhole) {
            return;
        }
        for link in links.iter().filter_map(Weak::upgrade) {
            match end {
                BlackholeEnd::Deliver => link.deliver_held(),
                BlackholeEnd::DeadForGood => link.kill_quietly(),
            }
        }
    }

    /// Ends every open connection at once, as `how` says.
    pub fn kill_all(&self, how: Ending) {
        for link in self.shared.links() {
            link.end(how);
        }
    }

    /// What the proxy has done so far.
    pub fn stats(&self) -> Stats {
        let counters = &self.shared.counters;
        let read = |counter: &AtomicU64| counter.load(Ordering::SeqCst);
        Stats {
            accepted: read(&counters.accepted),
            open: read(&counters.open),
            bytes_to_server: read(&counters.bytes[Direction::ToServer.index()]),
            bytes_to_client: read(&counters.bytes[Direction::ToClient.index()]),
            resets: read(&counters.resets),
            idle_closed: read(&counters.idle_closed),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        self.kill_all(Ending::Reset);
        // A connection's first thread adds its second one before it ends: join until none is
        // left.
        loop {
            let threads = std::mem::take(&mut *lock(&self.shared.threads));
            if threads.is_empty() {
                break;
            }
            for thread in threads {
                let _ = thread.join();
            }
        }
    }
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    /// The connections still open.
    fn links(&self) -> Vec<Arc<Link>> {
        lock(&self.links).iter().filter_map(Weak::upgrade).collect()
    }

    /// Accepts connections and reaps idle ones until the proxy stops.
    fn accept_loop(self: &Arc<Self>, listener: &TcpListener) {
        while !self.stop.load(Ordering::SeqCst) {
            match listener.accept() {
                Ok((client, _)) => self.admit(client),
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    self.reap_idle();
                    thread::sleep(POLL);
                }
                Err(_) => thread::sleep(POLL),
            }
        }
    }

    /// Starts carrying a new client connection, on its own threads.
    fn admit(self: &Arc<Self>, client: TcpStream) {
        self.counters.accepted.fetch_add(1, Ordering::SeqCst);
        let mut threads = lock(&self.threads);
        threads.retain(|thread| !thread.is_finished());
        if self.counters.open.load(Ordering::SeqCst) >= MAX_CONNECTIONS as u64 {
            self.counters.resets.fetch_add(1, Ordering::SeqCst);
            reset(client);
            return;
        }
        let shared = self.clone();
        let spawned = thread::Builder::new()
            .name("proxy-link".to_owned())
            .spawn(move || shared.carry(client));
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(err) => eprintln!("fault proxy: cannot start a connection's thread: {err}"),
        }
    }

    /// Connects to the server for `client`, then pumps both ways (toward the server on this
    /// thread) until the connection ends.
    fn carry(self: Arc<Self>, client: TcpStream) {
        let server = match TcpStream::connect_timeout(&self.upstream, UPSTREAM_CONNECT_TIMEOUT) {
            Ok(server) => server,
            Err(_) => {
                self.counters.resets.fetch_add(1, Ordering::SeqCst);
                reset(client);
                return;
            }
        };
        let configured = [&client, &server].into_iter().try_for_each(|socket| {
            socket.set_nonblocking(false)?;
            socket.set_nodelay(true)?;
            socket.set_write_timeout(Some(WRITE_TIMEOUT))
        });
        if configured.is_err() {
            reset(client);
            return;
        }
        let link = Arc::new(Link {
            client,
            server,
            ended: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            half_closed: AtomicBool::new(false),
            pending: Mutex::new(None),
            held: Default::default(),
            last_active: Mutex::new(Instant::now()),
            counters: self.counters.clone(),
        });
        self.counters.open.fetch_add(1, Ordering::SeqCst);
        {
            let mut links = lock(&self.links);
            links.retain(|link| link.strong_count() > 0);
            links.push(Arc::downgrade(&link));
        }
        // Registered after the proxy's drop ended every connection: end this one too.
        if self.stop.load(Ordering::SeqCst) {
            link.end(Ending::Reset);
            return;
        }
        let answers = {
            let (shared, link) = (self.clone(), link.clone());
            thread::Builder::new()
                .name("proxy-answers".to_owned())
                .spawn(move || shared.pump(&link, Direction::ToClient))
        };
        match answers {
            Ok(thread) => lock(&self.threads).push(thread),
            Err(_) => {
                link.end(Ending::Reset);
                return;
            }
        }
        self.pump(&link, Direction::ToServer);
    }

    /// Reads what comes `direction`'s way and passes it on, with the faults in force, until
    /// the source closes or the proxy ends the connection.
    fn pump(&self, link: &Link, direction: Direction) {
        let (source, _) = link.ends(direction);
        let mut buffer = vec![0; CHUNK];
        loop {
            let read = match (&*source).read(&mut buffer) {
                Ok(0) | Err(_) => {
                    link.source_closed(self, direction);
                    return;
                }
                Ok(read) => read,
            };
            let bytes = &buffer[..read];
            let read_at = Instant::now();
            *lock(&link.last_active) = read_at;
            self.counters.bytes[direction.index()].fetch_add(read as u64, Ordering::SeqCst);
            if link.ended.load(Ordering::SeqCst) {
                return;
            }
            if link.dead.load(Ordering::SeqCst) {
                continue;
            }
            let (reset, latency) = match direction {
                Direction::ToServer => self.next_request(),
                Direction::ToClient => (
                    lock(&link.pending).take(),
                    self.faults().latency[direction.index()],
                ),
            };
            match (direction, reset) {
                (_, None) => {}
                (Direction::ToServer, Some(ResetPoint::BeforeRequest)) => {
                    link.end(Ending::Reset);
                    return;
                }
                (Direction::ToServer, Some(point)) => *lock(&link.pending) = Some(point),
                (Direction::ToClient, Some(point)) => {
                    if point == ResetPoint::MidReply {
                        let half = (bytes.len() / 2).max(1).min(bytes.len() - 1);
                        let _ = (&link.client).write_all(&bytes[..half]);
                    }
                    link.end(Ending::Reset);
                    return;
                }
            }
            let due = read_at + latency;
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if !link.pass(self, direction, bytes) {
                return;
            }
        }
    }

    /// Counts one request read from a client: the reset that hits it, if any (none during a
    /// blackhole, which holds it), and the latency toward the server.
    fn next_request(&self) -> (Option<ResetPoint>, Duration) {
        let mut faults = self.faults();
        let latency = faults.latency[Direction::ToServer.index()];
        if faults.blackhole {
            return (None, latency);
        }
        let Some(plan) = faults.resets.as_mut() else {
            return (None, latency);
        };
        let point = plan.next();
        if point.is_some() && plan.once {
            faults.resets = None;
        }
        (point, latency)
    }

    /// Closes the connections idle for longer than the limit, if one is set.
    fn reap_idle(&self) {
        let Some(limit) = self.faults().idle_limit else {
            return;
        };
        let now = Instant::now();
        for link in self.links() {
            let idle = now.saturating_duration_since(*lock(&link.last_active));
            if idle >= limit
                && !link.dead.load(Ordering::SeqCst)
                && !link.ended.load(Ordering::SeqCst)
            {
                self.counters.idle_closed.fetch_add(1, Ordering::SeqCst);
                link.end(Ending::Close);
            }
        }
    }
}

impl Link {
    /// The socket bytes going `direction` are read from, and the one they are written to.
    fn ends(&self, direction: Direction) -> (&TcpStream, &TcpStream) {
        match direction {
            Direction::ToServer => (&self.client, &self.server),
            Direction::ToClient => (&self.server, &self.client),
        }
    }

    /// Writes `bytes` toward their destination, or holds them (a blackhole, or earlier bytes
    /// still held), or drops them (dead, or half-closed toward the client). False when the
    /// connection is over.
    fn pass(&self, shared: &Shared, direction: Direction, bytes: &[u8]) -> bool {
        let mut held = lock(&self.held[direction.index()]);
        if self.ended.load(Ordering::SeqCst) {
            return false;
        }
        if self.dead.load(Ordering::SeqCst)
            || (direction == Direction::ToClient && self.half_closed.load(Ordering::SeqCst))
        {
            return true;
        }
        if shared.faults().blackhole || !held.is_empty() {
            held.bytes.extend_from_slice(bytes);
            return true;
        }
        let (_, mut destination) = self.ends(direction);
        if destination.write_all(bytes).is_err() {
            drop(held);
            self.end(Ending::Reset);
            return false;
        }
        true
    }

    /// Writes what a blackhole held, both ways, in order, the end of a stream last.
    fn deliver_held(&self) {
        for direction in [Direction::ToServer, Direction::ToClient] {
            let mut held = lock(&self.held[direction.index()]);
            let Held { bytes, closed } = std::mem::take(&mut *held);
            let (_, mut destination) = self.ends(direction);
            let dropped =
                direction == Direction::ToClient && self.half_closed.load(Ordering::SeqCst);
            if !bytes.is_empty() && !dropped && destination.write_all(&bytes).is_err() {
                drop(held);
                self.end(Ending::Reset);
                return;
            }
            if closed {
                let _ = destination.shutdown(Shutdown::Write);
            }
        }
    }

    /// Makes the connection dead for good: held bytes dropped, the server's side closed, the
    /// client's left open and never answered.
    fn kill_quietly(&self) {
        for held in &self.held {
            let mut held = lock(held);
            self.dead.store(true, Ordering::SeqCst);
            *held = Held::default();
        }
        let _ = self.server.shutdown(Shutdown::Both);
    }

    /// The source of `direction` closed (or failed): passes the end of stream on (after what a
    /// blackhole holds), unless the proxy ended the connection or it is dead (then the client
    /// is told nothing).
    fn source_closed(&self, shared: &Shared, direction: Direction) {
        let mut held = lock(&self.held[direction.index()]);
        if self.ended.load(Ordering::SeqCst) || self.dead.load(Ordering::SeqCst) {
            return;
        }
        if shared.faults().blackhole || !held.is_empty() {
            held.closed = true;
            return;
        }
        let (_, destination) = self.ends(direction);
        let _ = destination.shutdown(Shutdown::Write);
    }

    /// Ends the connection as `how` says. Both pumps stop; the sockets close when the last of
    /// them lets go (with `SO_LINGER` zero for a reset, so the close sends `RST`).
    fn end(&self, how: Ending) {
        if self.ended.swap(true, Ordering::SeqCst) {
            return;
        }
        match how {
            Ending::Reset => {
                self.counters.resets.fetch_add(1, Ordering::SeqCst);
                let _ = SockRef::from(&self.client).set_linger(Some(Duration::ZERO));
                // Wakes the pump reading the client without sending anything.
                let _ = self.client.shutdown(Shutdown::Read);
            }
            Ending::Close => {
                let _ = self.client.shutdown(Shutdown::Both);
            }
        }
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Resets a client connection that is not carried: `SO_LINGER` zero, then close.
fn reset(client: TcpStream) {
    let _ = SockRef::from(&client).set_linger(Some(Duration::ZERO));
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
