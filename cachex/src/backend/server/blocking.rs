//! Blocking connections for blocking callers of a standalone server over plain TCP or a Unix
//! socket.
//!
//! A blocking call of the cache runs its (async) future on the caller's own thread when it
//! can (see [`crate::bridge::may_block`]). Through the runtime's multiplexed connection, each
//! request would then cross threads twice: to the connection's task, which writes and reads
//! the socket on a runtime worker, and back to the waiting caller. On a thread that is blocked
//! anyway, the request is better written and read right there, on a blocking socket: the same
//! two system calls as the redis crate's own blocking client. The connections are pooled, one
//! per concurrent blocking caller, and a thread takes back the connection it used last when it
//! is idle: like a connection per thread, each socket then stays in one core's caches (16
//! threads sharing a pool paid more per `send` in the kernel than a `Connection` each).
//!
//! The connections are cachex's own (the redis crate's parser over a `std` socket) so that the
//! pool can see what the redis crate's blocking connection hides:
//!
//! - **A stale connection is never used.** On checkout, an idle connection is checked without
//!   a round trip (a non-blocking `MSG_PEEK`): one the server or a middlebox closed (end of
//!   file, a reset, unexpected bytes) is dropped and the next one tried, so the first request
//!   after an idle reap, a `CLIENT KILL`, a half-close or a server restart goes out on a live
//!   connection. Connections idle for longer than [`IDLE_EXPIRY`] are closed instead of used:
//!   a flow that a middlebox forgot without telling anyone looks alive to the peek.
//! - **What may have been applied is known.** A request that failed while it was being
//!   written was not applied (a server runs only complete commands; a pipeline may have been
//!   in part); one that failed after it was written may have been. The call loop resends the
//!   first kind whatever the command.
//! - **Opening is bounded by the connect timeout as a whole**: TCP connect, `HELLO`/`AUTH`
//!   and `SELECT` share one deadline.
//!
//! TLS connections are not pooled here: blocking calls to a TLS server go through the bridge
//! runtime's multiplexed connection (see [`super`]).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::{
    Cmd, ConnectionAddr, ConnectionInfo, ErrorKind, FromRedisValue, Parser, Pipeline,
    ProtocolVersion, RedisError, RedisResult, Value,
};

use super::Reached;
use crate::error::Waiting;

/// How many idle connections a pool keeps; more are closed when they come back.
const MAX_IDLE: usize = 64;

/// How long a connection may stay idle in the pool and still be used.
pub(crate) const IDLE_EXPIRY: Duration = Duration::from_secs(30);

/// What a server backend writes in one call: a command or a pipeline.
#[derive(Clone, Copy)]
pub(crate) enum Packet<'a> {
    One(&'a Cmd),
    Many(&'a Pipeline),
}

impl Packet<'_> {
    /// Sends it on an async connection.
    pub(crate) async fn send<T, C>(self, connection: &mut C) -> RedisResult<T>
    where
        T: FromRedisValue,
        C: redis::aio::ConnectionLike + Send,
    {
        match self {
            Packet::One(command) => command.query_async(connection).await,
            Packet::Many(pipeline) => pipeline.query_async(connection).await,
        }
    }
}

/// Where a pooled connection goes.
enum Address {
    Tcp {
        host: String,
        port: u16,
    },
    #[cfg(unix)]
    Unix(PathBuf),
}

/// Blocking connections to one server.
pub(crate) struct BlockingPool {
    address: Address,
    settings: redis::RedisConnectionInfo,
    connect_timeout: Duration,
    response_timeout: Duration,
    idle: Mutex<Vec<Idle>>,
}

/// A connection waiting in the pool (boxed, so that taking one from the middle of the list
/// shifts only these few words under the lock).
struct Idle {
    /// The [`this_thread`] token of the thread that used it last.
    thread: usize,
    /// When the call that used it last started.
    since: Instant,
    connection: Box<Connection>,
}

impl BlockingPool {
    /// A pool for the server of `info`; `None` for a server this pool cannot reach itself
    /// (TLS).
    pub(crate) fn new(
        info: &ConnectionInfo,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Option<Self> {
        let address = match info.addr() {
            ConnectionAddr::Tcp(host, port) => Address::Tcp {
                host: host.clone(),
                port: *port,
            },
            #[cfg(unix)]
            ConnectionAddr::Unix(path) => Address::Unix(path.clone()),
            _ => return None,
        };
        Some(BlockingPool {
            address,
            settings: info.redis_settings().clone(),
            connect_timeout,
            response_timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Sends `packet` on a live idle connection, or a new one; `now` is when the call started
    /// (a connection's idle time counts from the start of the call that used it last, so it is
    /// never underestimated, and a call reads the clock once). The outer error is a timeout,
    /// saying what was waited for (after a response timeout the connection is closed: a late
    /// answer must never be read as the next request's); the inner result is the server's answer or the connection's failure, as the
    /// async path gets them, with whether the request may have reached the server. A
    /// connection that failed is closed, not pooled.
    pub(crate) fn send<T: FromRedisValue>(
        &self,
        packet: Packet<'_>,
        now: Instant,
    ) -> Result<(RedisResult<T>, Reached), Waiting> {
        let thread = this_thread();
        let mut connection = match self.checkout(thread, now) {
            Some(connection) => connection,
            None => match self.open() {
                Ok(connection) => Box::new(connection),
                Err(err) if err.is_timeout() => return Err(Waiting::Connect),
                Err(err) => return Ok((Err(err), Reached::No)),
            },
        };
        if let Err(err) = connection.write(packet) {
            // A command cut short is never run; the first commands of a pipeline may have been.
            let reached = match packet {
                Packet::One(_) => Reached::No,
                Packet::Many(_) => Reached::Maybe,
            };
            return Ok((Err(err.into()), reached));
        }
        match connection.read(packet) {
            Ok(value) => {
                // A pipeline's replies are each one's own: only a whole that failed fails.
                let checked = match (packet, value) {
                    (Packet::Many(_), Value::ServerError(err)) => Err(err.into()),
                    (Packet::Many(_), value) => Ok(value),
                    (Packet::One(_), value) => value.extract_error(),
                };
                let decoded = match checked {
                    Ok(value) => T::from_redis_value(value).map_err(RedisError::from),
                    Err(err) => Err(err),
                };
                self.checkin(connection, thread, now);
                Ok((decoded, Reached::Maybe))
            }
            Err(err) if err.is_timeout() => Err(Waiting::Response),
            Err(err) => Ok((Err(err), Reached::Maybe)),
        }
    }

    /// Closes every idle connection.
    pub(crate) fn close(&self) {
        self.idle().clear();
    }

    /// An idle connection that is still live at `now`: the one `thread` used last if it is
    /// idle, else the most recently used one (a thread that keeps its own socket keeps it warm
    /// in its core's caches, as a connection per thread does). Stale ones are closed.
    fn checkout(&self, thread: usize, now: Instant) -> Option<Box<Connection>> {
        loop {
            let idle = {
                let mut idle = self.idle();
                match idle.iter().rposition(|idle| idle.thread == thread) {
                    Some(own) => idle.remove(own),
                    None => idle.pop()?,
                }
            };
            if now.saturating_duration_since(idle.since) <= IDLE_EXPIRY && idle.connection.is_live()
            {
                return Some(idle.connection);
            }
        }
    }

    /// Puts a connection that answered back in the pool: `thread`'s, idle since `now`.
    fn checkin(&self, connection: Box<Connection>, thread: usize, now: Instant) {
        let mut idle = self.idle();
        if idle.len() < MAX_IDLE {
            idle.push(Idle {
                thread,
                since: now,
                connection,
            });
        }
    }

    /// Opens a connection: connect, `HELLO`/`AUTH`, `SELECT`, all within the connect timeout.
    fn open(&self) -> RedisResult<Connection> {
        let deadline = Instant::now() + self.connect_timeout;
        let stream = match &self.address {
            Address::Tcp { host, port } => Stream::Tcp(connect_tcp(host, *port, deadline)?),
            #[cfg(unix)]
            Address::Unix(path) => Stream::Unix(UnixStream::connect(path)?),
        };
        let mut connection = Connection {
            stream,
            parser: Parser::new(),
        };
        connection.set_timeouts(left(deadline)?)?;
        let settings = &self.settings;
        let resp3 = settings.protocol() != ProtocolVersion::RESP2;
        if resp3 {
            let mut hello = redis::cmd("HELLO");
            hello.arg(3);
            if let Some(password) = settings.password() {
                hello
                    .arg("AUTH")
                    .arg(settings.username().unwrap_or("default"))
                    .arg(password);
            }
            connection.handshake(&hello, deadline)?;
        } else if let Some(password) = settings.password() {
            let mut auth = redis::cmd("AUTH");
            if let Some(user) = settings.username() {
                auth.arg(user);
            }
            auth.arg(password);
            connection.handshake(&auth, deadline)?;
        }
        if settings.db() != 0 {
            let mut select = redis::cmd("SELECT");
            select.arg(settings.db());
            connection.handshake(&select, deadline).map_err(|err| {
                RedisError::from((
                    ErrorKind::InvalidClientConfig,
                    "Redis server refused to switch database",
                    err.to_string(),
                ))
            })?;
        }
        connection.set_timeouts(self.response_timeout)?;
        Ok(connection)
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

thread_local! {
    /// A byte whose address tells this thread from the others alive (see [`this_thread`]).
    static THREAD: u8 = const { 0 };
}

/// This thread's token: the address of its [`THREAD`], unique among live threads (a later
/// thread may get a dead one's, which only makes it prefer that thread's old connection).
fn this_thread() -> usize {
    THREAD.with(|byte| std::ptr::from_ref(byte).addr())
}

/// A TCP connection to `host:port` by `deadline` (each address the name resolves to in turn),
/// without Nagle's delay.
fn connect_tcp(host: &str, port: u16, deadline: Instant) -> RedisResult<TcpStream> {
    let mut last = None;
    for address in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&address, left(deadline)?) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(err) => last = Some(err),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "the host has no address"))
        .into())
}

/// The time left until `deadline`, or a timeout error when there is none.
fn left(deadline: Instant) -> RedisResult<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
        .ok_or_else(|| io::Error::from(io::ErrorKind::TimedOut).into())
}

/// A socket of either kind.
enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Stream {
    fn socket(&self) -> socket2::SockRef<'_> {
        match self {
            Stream::Tcp(stream) => socket2::SockRef::from(stream),
            #[cfg(unix)]
            Stream::Unix(stream) => socket2::SockRef::from(stream),
        }
    }
}

impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(stream) => (&*stream).read(buf),
            #[cfg(unix)]
            Stream::Unix(stream) => (&*stream).read(buf),
        }
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(stream) => (&*stream).write(buf),
            #[cfg(unix)]
            Stream::Unix(stream) => (&*stream).write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One blocking connection: a socket and the parser of its replies.
struct Connection {
    stream: Stream,
    parser: Parser,
}

impl Connection {
    /// Whether the peer has neither closed nor reset it, nor sent anything unasked: a
    /// non-blocking peek (one `recv` with `MSG_PEEK | MSG_DONTWAIT`) finds nothing to read.
    #[cfg(unix)]
    fn is_live(&self) -> bool {
        let mut byte = [std::mem::MaybeUninit::new(0u8)];
        let peeked = self
            .stream
            .socket()
            .recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT);
        matches!(peeked, Err(err) if err.kind() == io::ErrorKind::WouldBlock)
    }

    /// The same where `MSG_DONTWAIT` is missing: the socket made non-blocking for the peek.
    #[cfg(not(unix))]
    fn is_live(&self) -> bool {
        let socket = self.stream.socket();
        if socket.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [std::mem::MaybeUninit::new(0u8)];
        let nothing_to_read =
            matches!(socket.peek(&mut byte), Err(err) if err.kind() == io::ErrorKind::WouldBlock);
        socket.set_nonblocking(false).is_ok() && nothing_to_read
    }

    fn set_timeouts(&self, timeout: Duration) -> RedisResult<()> {
        let socket = self.stream.socket();
        socket.set_read_timeout(Some(timeout))?;
        socket.set_write_timeout(Some(timeout))?;
        Ok(())
    }

    /// Writes the whole packet.
    fn write(&mut self, packet: Packet<'_>) -> io::Result<()> {
        let bytes = match packet {
            Packet::One(command) => command.get_packed_command(),
            Packet::Many(pipeline) => pipeline.get_packed_pipeline(),
        };
        (&self.stream).write_all(&bytes)
    }

    /// Reads the packet's answer: one value, or an array of the pipeline's values (each
    /// command's own error in its place).
    fn read(&mut self, packet: Packet<'_>) -> RedisResult<Value> {
        match packet {
            Packet::One(_) => self.parser.parse_value(&self.stream),
            // `MULTI`'s `OK`, each command's `QUEUED`, then `EXEC`'s answer: the replies.
            Packet::Many(pipeline) if pipeline.is_transaction() => {
                let mut exec = Value::Nil;
                for _ in 0..pipeline.len() + 2 {
                    exec = self.parser.parse_value(&self.stream)?;
                }
                Ok(exec)
            }
            Packet::Many(pipeline) => (0..pipeline.len())
                .map(|_| self.parser.parse_value(&self.stream))
                .collect::<RedisResult<Vec<_>>>()
                .map(Value::Array),
        }
    }

    /// Sends a command of the opening and checks its answer, by `deadline`.
    fn handshake(&mut self, command: &Cmd, deadline: Instant) -> RedisResult<()> {
        self.set_timeouts(left(deadline)?)?;
        self.write(Packet::One(command))?;
        self.read(Packet::One(command))?.extract_error().map(drop)
    }
}
