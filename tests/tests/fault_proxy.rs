//! The fault proxy of the harness ([`FaultProxy`]) on its own: raw RESP connections through it
//! to a real server work and are counted, and each fault does what its documentation says, as
//! seen from the client's socket and checked on the server directly.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use cachex_tests::proxy::{BlackholeEnd, Direction, Ending, ResetPoint};
use cachex_tests::{FaultProxy, Server, ServerKind};

/// How long a read waits when an answer is expected: far above a loopback round trip.
const ANSWER: Duration = Duration::from_secs(5);

/// How long a read waits to show that nothing comes.
const SILENCE: Duration = Duration::from_millis(300);

/// How long a test waits for something that happens within milliseconds when all is well.
const SETTLE: Duration = Duration::from_secs(5);

/// A command as RESP: an array of bulk strings.
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

/// A raw client connection through the proxy.
fn connect(proxy: &FaultProxy) -> TcpStream {
    let stream = TcpStream::connect(proxy.addr()).expect("the proxy accepts");
    stream.set_read_timeout(Some(ANSWER)).expect("a timeout");
    stream
}

fn send(stream: &mut TcpStream, args: &[&str]) {
    stream.write_all(&resp(args)).expect("a write");
}

/// Reads until `expected.len()` bytes came, the stream ended, or an error; what came, and the
/// error if there was one.
fn read_up_to(stream: &mut TcpStream, len: usize) -> (Vec<u8>, Option<ErrorKind>) {
    let mut got = Vec::new();
    let mut buffer = [0; 4096];
    while got.len() < len {
        match stream.read(&mut buffer) {
            Ok(0) => return (got, None),
            Ok(read) => got.extend_from_slice(&buffer[..read]),
            Err(err) => return (got, Some(err.kind())),
        }
    }
    (got, None)
}

/// Sends a command and expects exactly `reply`.
fn round_trip(stream: &mut TcpStream, args: &[&str], reply: &str) {
    send(stream, args);
    let (got, error) = read_up_to(stream, reply.len());
    assert_eq!(
        (String::from_utf8_lossy(&got).as_ref(), error),
        (reply, None),
        "{args:?}"
    );
}

/// What the next read sees, waiting at most `wait`: `Ok(bytes)` (empty: end of stream) or the
/// error's kind (`WouldBlock` when nothing came).
fn next_read(stream: &mut TcpStream, wait: Duration) -> Result<Vec<u8>, ErrorKind> {
    stream.set_read_timeout(Some(wait)).expect("a timeout");
    let mut buffer = [0; 4096];
    let outcome = stream
        .read(&mut buffer)
        .map(|read| buffer[..read].to_vec())
        .map_err(|err| err.kind());
    stream.set_read_timeout(Some(ANSWER)).expect("a timeout");
    outcome
}

fn is_silence(outcome: &Result<Vec<u8>, ErrorKind>) -> bool {
    matches!(outcome, Err(ErrorKind::WouldBlock | ErrorKind::TimedOut))
}

/// Waits until `done` holds, for at most [`SETTLE`].
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + SETTLE;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(5));
    }
    true
}

fn rig() -> (Server, FaultProxy) {
    let server = Server::start(ServerKind::Redis);
    let proxy = FaultProxy::start(server.addr());
    (server, proxy)
}

#[test]
fn a_raw_connection_works_through_the_proxy_and_is_counted() {
    for kind in ServerKind::ALL {
        let server = Server::start(kind);
        let proxy = FaultProxy::start(server.addr());
        assert_eq!(
            proxy.url(kind),
            format!("{}://{}", kind.scheme(), proxy.addr())
        );
        let mut stream = connect(&proxy);
        round_trip(&mut stream, &["PING"], "+PONG\r\n");
        round_trip(&mut stream, &["SET", "k", "v"], "+OK\r\n");
        round_trip(&mut stream, &["GET", "k"], "$1\r\nv\r\n");
        assert_eq!(server.command(&["GET", "k"]), "$1\r\nv\r\n");
        let sent: usize = [
            resp(&["PING"]),
            resp(&["SET", "k", "v"]),
            resp(&["GET", "k"]),
        ]
        .iter()
        .map(Vec::len)
        .sum();
        let stats = proxy.stats();
        println!("{kind}: {stats:?}");
        assert_eq!((stats.accepted, stats.open), (1, 1));
        assert_eq!(stats.bytes_to_server, sent as u64);
        assert_eq!(
            stats.bytes_to_client,
            "+PONG\r\n+OK\r\n$1\r\nv\r\n".len() as u64
        );
        drop(stream);
        assert!(
            eventually(|| proxy.stats().open == 0),
            "{:?}",
            proxy.stats()
        );
    }
}

#[test]
fn latency_delays_each_direction() {
    let (_server, proxy) = rig();
    let mut stream = connect(&proxy);
    let latency = Duration::from_millis(100);
    for direction in [Direction::ToServer, Direction::ToClient] {
        proxy.set_latency(direction, latency);
        let started = Instant::now();
        round_trip(&mut stream, &["PING"], "+PONG\r\n");
        let took = started.elapsed();
        println!("latency {latency:?} {direction:?}: a PING took {took:?}");
        assert!(took >= latency, "{direction:?}: {took:?}");
        proxy.set_latency(direction, Duration::ZERO);
    }
    let started = Instant::now();
    round_trip(&mut stream, &["PING"], "+PONG\r\n");
    println!("no latency: a PING took {:?}", started.elapsed());
}

#[test]
fn a_reset_before_the_request_drops_it() {
    let (server, proxy) = rig();
    let mut stream = connect(&proxy);
    round_trip(&mut stream, &["PING"], "+PONG\r\n");
    proxy.reset_next(ResetPoint::BeforeRequest);
    send(&mut stream, &["INCR", "n"]);
    assert_eq!(
        read_up_to(&mut stream, 4),
        (Vec::new(), Some(ErrorKind::ConnectionReset))
    );
    assert_eq!(server.command(&["GET", "n"]), "$-1\r\n", "never applied");
    // One reset only: the next connection works.
    let mut stream = connect(&proxy);
    round_trip(&mut stream, &["INCR", "n"], ":1\r\n");
    assert_eq!(proxy.stats().resets, 1);
}

#[test]
fn a_reset_before_the_reply_comes_after_the_server_applied_the_request() {
    let (server, proxy) = rig();
    let mut stream = connect(&proxy);
    proxy.reset_next(ResetPoint::BeforeReply);
    send(&mut stream, &["INCR", "n"]);
    assert_eq!(
        read_up_to(&mut stream, 4),
        (Vec::new(), Some(ErrorKind::ConnectionReset))
    );
    assert_eq!(server.command(&["GET", "n"]), "$1\r\n1\r\n", "applied once");
}

#[test]
fn a_reset_in_the_middle_of_a_reply_cuts_it() {
    let (server, proxy) = rig();
    let value = "x".repeat(1000);
    server.command(&["SET", "big", &value]);
    let full = format!("$1000\r\n{value}\r\n");
    let mut stream = connect(&proxy);
    proxy.reset_next(ResetPoint::MidReply);
    send(&mut stream, &["GET", "big"]);
    let (got, error) = read_up_to(&mut stream, full.len());
    println!(
        "a reply cut after {} of its {} bytes",
        got.len(),
        full.len()
    );
    assert!(
        !got.is_empty() && got.len() < full.len(),
        "{} bytes",
        got.len()
    );
    assert!(full.as_bytes().starts_with(&got));
    assert_eq!(error, Some(ErrorKind::ConnectionReset));
}

#[test]
fn reset_every_hits_one_request_in_n_at_each_point_in_turn() {
    let (server, proxy) = rig();
    proxy.reset_every(5, &[ResetPoint::BeforeRequest, ResetPoint::BeforeReply]);
    let (mut answered, mut reset) = (0, 0);
    let mut stream = connect(&proxy);
    for _ in 0..40 {
        send(&mut stream, &["INCR", "n"]);
        match read_up_to(&mut stream, 4) {
            (_, None) => answered += 1,
            (got, Some(ErrorKind::ConnectionReset)) if got.is_empty() => {
                reset += 1;
                stream = connect(&proxy);
            }
            other => panic!("{other:?}"),
        }
    }
    proxy.stop_resets();
    round_trip(&mut stream, &["PING"], "+PONG\r\n");
    assert_eq!((answered, reset, proxy.stats().resets), (32, 8, 8));
    // Four were reset before reaching the server, four after it applied them.
    assert_eq!(server.command(&["GET", "n"]), "$2\r\n36\r\n");
}

#[test]
fn idle_connections_are_closed_and_busy_ones_kept() {
    let (_server, proxy) = rig();
    let mut idle = connect(&proxy);
    let mut busy = connect(&proxy);
    round_trip(&mut idle, &["PING"], "+PONG\r\n");
    let limit = Duration::from_millis(250);
    proxy.close_idle_after(Some(limit));
    let started = Instant::now();
    while started.elapsed() < limit * 3 {
        round_trip(&mut busy, &["PING"], "+PONG\r\n");
        thread::sleep(limit / 10);
    }
    assert_eq!(
        next_read(&mut idle, ANSWER),
        Ok(Vec::new()),
        "end of stream"
    );
    round_trip(&mut busy, &["PING"], "+PONG\r\n");
    proxy.close_idle_after(None);
    assert_eq!(proxy.stats().idle_closed, 1);
}

#[test]
fn a_half_close_ends_the_stream_toward_the_client_only() {
    let (server, proxy) = rig();
    let mut stream = connect(&proxy);
    round_trip(&mut stream, &["PING"], "+PONG\r\n");
    proxy.half_close_all();
    assert_eq!(
        next_read(&mut stream, ANSWER),
        Ok(Vec::new()),
        "end of stream"
    );
    // What the client still sends reaches the server; the answer does not come back.
    send(&mut stream, &["INCR", "n"]);
    assert!(eventually(|| server.command(&["GET", "n"]) == "$1\r\n1\r\n"));
    assert_eq!(next_read(&mut stream, SILENCE), Ok(Vec::new()));
}

#[test]
fn a_blackhole_holds_bytes_on_old_and_new_connections_then_delivers_them() {
    let (server, proxy) = rig();
    let mut old = connect(&proxy);
    round_trip(&mut old, &["PING"], "+PONG\r\n");
    proxy.blackhole();
    send(&mut old, &["INCR", "n"]);
    let mut new = connect(&proxy);
    send(&mut new, &["INCR", "n"]);
    // A client that gives up: its request and its close are held, in that order.
    let mut closing = connect(&proxy);
    send(&mut closing, &["INCR", "n"]);
    drop(closing);
    assert!(is_silence(&next_read(&mut old, SILENCE)));
    assert!(is_silence(&next_read(&mut new, SILENCE)));
    assert_eq!(server.command(&["GET", "n"]), "$-1\r\n", "nothing passed");
    proxy.end_blackhole(BlackholeEnd::Deliver);
    let replies = [
        String::from_utf8_lossy(&read_up_to(&mut old, 4).0).into_owned(),
        String::from_utf8_lossy(&read_up_to(&mut new, 4).0).into_owned(),
    ];
    assert!(
        replies[0] != replies[1]
            && replies
                .iter()
                .all(|reply| [":1\r\n", ":2\r\n", ":3\r\n"].contains(&reply.as_str())),
        "{replies:?}"
    );
    assert!(eventually(|| server.command(&["GET", "n"]) == "$1\r\n3\r\n"));
    round_trip(&mut old, &["PING"], "+PONG\r\n");
    round_trip(&mut new, &["PING"], "+PONG\r\n");
    assert!(
        eventually(|| proxy.stats().open == 2),
        "{:?}",
        proxy.stats()
    );
}

#[test]
fn after_a_blackhole_dead_for_good_old_connections_never_answer_and_new_ones_work() {
    let (server, proxy) = rig();
    let mut old = connect(&proxy);
    round_trip(&mut old, &["PING"], "+PONG\r\n");
    proxy.blackhole();
    send(&mut old, &["INCR", "n"]);
    let mut during = connect(&proxy);
    send(&mut during, &["INCR", "n"]);
    thread::sleep(Duration::from_millis(50));
    proxy.end_blackhole(BlackholeEnd::DeadForGood);
    for stream in [&mut old, &mut during] {
        // No answer, no end of stream, no reset: silence, even for what is sent afterwards.
        assert!(is_silence(&next_read(stream, SILENCE)));
        send(stream, &["INCR", "n"]);
        assert!(is_silence(&next_read(stream, SILENCE)));
    }
    assert_eq!(
        server.command(&["GET", "n"]),
        "$-1\r\n",
        "the held bytes dropped"
    );
    let mut new = connect(&proxy);
    round_trip(&mut new, &["INCR", "n"], ":1\r\n");
    assert_eq!(proxy.stats().open, 3);
    drop((old, during));
    assert!(
        eventually(|| proxy.stats().open == 1),
        "{:?}",
        proxy.stats()
    );
}

#[test]
fn kill_all_resets_or_closes_every_open_connection() {
    let (_server, proxy) = rig();
    for (how, expected) in [
        (Ending::Reset, Err(ErrorKind::ConnectionReset)),
        (Ending::Close, Ok(Vec::new())),
    ] {
        let mut streams = [connect(&proxy), connect(&proxy)];
        for stream in &mut streams {
            round_trip(stream, &["PING"], "+PONG\r\n");
        }
        proxy.kill_all(how);
        for stream in &mut streams {
            assert_eq!(next_read(stream, ANSWER), expected, "{how:?}");
        }
    }
    round_trip(&mut connect(&proxy), &["PING"], "+PONG\r\n");
}

#[test]
fn a_server_that_closes_or_is_down_is_passed_on() {
    let (mut server, proxy) = rig();
    let mut stream = connect(&proxy);
    round_trip(&mut stream, &["PING"], "+PONG\r\n");
    server.kill();
    assert_eq!(
        next_read(&mut stream, ANSWER),
        Ok(Vec::new()),
        "end of stream"
    );
    // A new connection is accepted, then reset: the upstream connection was refused.
    let mut refused = connect(&proxy);
    assert_eq!(
        next_read(&mut refused, ANSWER),
        Err(ErrorKind::ConnectionReset)
    );
    server.restart();
    round_trip(&mut connect(&proxy), &["PING"], "+PONG\r\n");
}

#[test]
fn dropping_the_proxy_ends_its_connections_and_frees_its_port() {
    let (_server, proxy) = rig();
    let addr = proxy.addr();
    let mut live = connect(&proxy);
    let mut dead = connect(&proxy);
    round_trip(&mut live, &["PING"], "+PONG\r\n");
    round_trip(&mut dead, &["PING"], "+PONG\r\n");
    proxy.blackhole();
    proxy.end_blackhole(BlackholeEnd::DeadForGood);
    proxy.set_latency(Direction::ToClient, Duration::from_millis(50));
    let started = Instant::now();
    drop(proxy);
    println!("the proxy stopped in {:?}", started.elapsed());
    for stream in [&mut live, &mut dead] {
        assert_eq!(next_read(stream, ANSWER), Err(ErrorKind::ConnectionReset));
    }
    assert_eq!(
        TcpStream::connect(addr).map_err(|err| err.kind()).err(),
        Some(ErrorKind::ConnectionRefused)
    );
}

#[test]
#[should_panic(expected = "only forwards to loopback addresses")]
fn the_proxy_only_forwards_to_loopback_addresses() {
    FaultProxy::start("192.0.2.1:6379".parse().expect("an address"));
}
