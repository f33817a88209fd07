//! Every example runs here, so that none of them rots: each example file is included as a
//! module and its `run` (or, for `web`, its router and worker) is called, on the embedded
//! in-memory cache. The web service is served on a free port and exercised with real HTTP/1.1
//! requests over TCP.

use std::error::Error;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use cachex::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// The examples are binaries: what they make `pub` for these tests is unreachable from here, and
// their `main` is not called.
#[allow(dead_code, unreachable_pub)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/own_trait.rs"]
mod own_trait;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/migrate.rs"]
mod migrate;

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/web.rs"]
mod web;

type TestResult = Result<(), Box<dyn Error>>;

/// The examples' tests run one at a time: `migrate` turns on the process-wide report of
/// bridged calls and counts what its own subscriber captures, which the bridged calls of a
/// test running beside it (the web service's worker, say) can disturb.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits for this test's turn (a test that failed before does not stop the others).
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn quickstart_runs_and_clears_its_keys() -> TestResult {
    let _turn = one_at_a_time();
    let cache = Cache::in_memory().with_prefix("quickstart");
    quickstart::run(&cache)?;
    assert_eq!(cache.keys("*")?, Vec::<String>::new());
    Ok(())
}

#[test]
fn own_trait_every_spelling_and_the_injected_side() -> TestResult {
    let _turn = one_at_a_time();
    let seen = own_trait::run()?;
    let expected = [
        ("get", "Some(\"hello\")"),
        ("get.as_sync", "Some(\"hello\")"),
        ("aget", "Some(\"bye\")"),
        ("a().get", "Some(\"bye\")"),
        ("get.as_async", "Some(\"hello\")"),
        ("acount", "2"),
        ("spawn_blocking get", "Some(\"hello\")"),
        ("injected get", "Some(\"hi\")"),
    ];
    let seen: Vec<(&str, &str)> = seen.iter().map(|(s, r)| (*s, r.as_str())).collect();
    assert_eq!(seen, expected);
    Ok(())
}

#[test]
fn migrate_bridged_calls_go_down_step_by_step() -> TestResult {
    let _turn = one_at_a_time();
    let steps = migrate::run()?;
    let titles: Vec<&str> = steps.iter().map(|step| step.title).collect();
    assert_eq!(titles, ["wrap", "native aget", "flip the default", "done"]);
    for step in &steps {
        let dark = Some("dark".to_owned());
        assert_eq!(step.read, (dark.clone(), dark), "{}", step.title);
    }
    let bridged: Vec<Vec<&str>> = steps
        .iter()
        .map(|step| step.bridged.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        bridged,
        [
            // Step 1: every async call runs the blocking code.
            vec![
                "Settings::set has no native async side",
                "Settings::get has no native async side",
            ],
            // Step 2: `aget` is native.
            vec!["Settings::set has no native async side"],
            // Step 3: the blocking job crosses the other way.
            vec!["Settings::get has no native blocking side"],
            // Step 4: nothing left.
            vec![],
        ]
    );
    Ok(())
}

/// An HTTP response, as read off the socket.
#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.body)
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`, so the response ends with
/// the stream).
async fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
) -> Result<Response, Box<dyn Error>> {
    let mut stream = TcpStream::connect(address).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let raw = String::from_utf8(raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .ok_or_else(|| format!("not an HTTP/1.1 status line: {status_line:?}"))?
        .parse()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The body of a `Transfer-Encoding: chunked` response.
fn dechunk(mut rest: &str) -> Result<String, Box<dyn Error>> {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").ok_or("truncated chunk")?;
        let size = usize::from_str_radix(size.trim(), 16)?;
        if size == 0 {
            return Ok(body);
        }
        body.push_str(after.get(..size).ok_or("truncated chunk")?);
        rest = after.get(size + 2..).ok_or("truncated chunk")?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// The guard only orders this binary's tests; nothing else in this runtime takes it.
#[allow(clippy::await_holding_lock)]
async fn web_service_over_http_with_a_blocking_worker() -> TestResult {
    let _turn = one_at_a_time();
    let cache = Cache::in_memory();
    let worker = web::Worker::spawn(cache.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = web::app(cache.clone(), web::install_metrics()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // The cached endpoint: loaded once, then served from the cache.
    let first = request(address, "GET", "/products/7").await?;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.header("x-cache"), Some("miss"));
    let product: web::Product = first.json()?;
    assert_eq!(product.id, 7);
    assert_eq!(product.price, 700);
    let second = request(address, "GET", "/products/7").await?;
    assert_eq!(second.header("x-cache"), Some("hit"));
    assert_eq!(second.json::<web::Product>()?, product);
    assert!(
        cache.has_key("product:7")?,
        "the blocking surface sees it too"
    );

    // The page cached whole by CacheLayer: the same response, from the cache the second time.
    let first = request(address, "GET", "/catalog").await?;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.header("x-cache"), Some("miss"));
    assert_eq!(first.header("cache-control"), Some("public, max-age=30"));
    let second = request(address, "GET", "/catalog").await?;
    assert_eq!(second.header("x-cache"), Some("hit"));
    assert_eq!(second.body, first.body, "rendered once");
    let catalog: serde_json::Value = first.json()?;
    assert_eq!(catalog["products"][2]["id"], 3);

    // The rate limit: RATE_LIMIT posts per window per player, then 429 with Retry-After.
    for posted in 1..=web::RATE_LIMIT {
        let reply = request(address, "POST", "/scores/ada?points=10").await?;
        assert_eq!(reply.status, 200, "{reply:?}");
        let entry: web::Entry = reply.json()?;
        assert_eq!(entry.score, 10.0 * posted as f64);
    }
    let limited = request(address, "POST", "/scores/ada?points=10").await?;
    assert_eq!(limited.status, 429, "{limited:?}");
    let retry_after: u64 = limited
        .header("retry-after")
        .ok_or("no retry-after")?
        .parse()?;
    assert!((1..=web::RATE_WINDOW.as_secs()).contains(&retry_after));
    let other = request(address, "POST", "/scores/bob?points=5").await?;
    assert_eq!(
        other.status, 200,
        "another player has their own limit: {other:?}"
    );

    // The leaderboard, from the sorted set.
    let board: Vec<web::Entry> = request(address, "GET", "/leaderboard").await?.json()?;
    let board: Vec<(&str, f64)> = board.iter().map(|e| (e.player.as_str(), e.score)).collect();
    assert_eq!(board, [("ada", 50.0), ("bob", 5.0)]);

    // The blocking worker: the handler queues a bonus, the worker thread awards it.
    let queued = request(address, "POST", "/bonus/bob").await?;
    assert_eq!(queued.status, 202, "{queued:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let board = loop {
        let board: Vec<web::Entry> = request(address, "GET", "/leaderboard").await?.json()?;
        if board.first().is_some_and(|entry| entry.player == "bob") {
            break board;
        }
        assert!(
            Instant::now() < deadline,
            "the worker never awarded the bonus: {board:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let board: Vec<(&str, f64)> = board.iter().map(|e| (e.player.as_str(), e.score)).collect();
    assert_eq!(board, [("bob", 105.0), ("ada", 50.0)]);

    // The report, built by blocking code in spawn_blocking.
    let report: web::Report = request(address, "GET", "/report").await?.json()?;
    assert_eq!(
        report,
        web::Report {
            players: 2,
            leader: Some(web::Entry {
                player: "bob".to_owned(),
                score: 105.0
            }),
            bonuses_awarded: 1,
        }
    );

    // cachex's metrics, rendered for Prometheus: the lookups above, by operation and backend.
    let metrics = request(address, "GET", "/metrics").await?;
    assert_eq!(metrics.status, 200, "{metrics:?}");
    for line in [
        r#"cachex_hits_total{operation="get_or_set",backend="memory"} 1"#,
        r#"cachex_misses_total{operation="get_or_set",backend="memory"} 1"#,
        // The layer's lookups of /catalog are gets.
        r#"cachex_hits_total{operation="get",backend="memory"} "#,
    ] {
        assert!(metrics.body.contains(line), "{line} in {}", metrics.body);
    }
    assert!(metrics.body.contains("cachex_call_duration_seconds"));

    server.abort();
    tokio::task::spawn_blocking(move || worker.stop()).await??;
    Ok(())
}
