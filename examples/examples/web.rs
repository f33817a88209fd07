//! A web service and a blocking worker sharing one cache.
//!
//! Run with `cargo run --example web`, then, in another terminal:
//!
//! ```sh
//! curl -i localhost:3000/products/7             # x-cache: miss, then hit
//! curl -i localhost:3000/catalog                # the whole response cached by CacheLayer
//! curl -X POST 'localhost:3000/scores/ada?points=10'
//! curl -X POST localhost:3000/bonus/ada         # queued for the blocking worker
//! curl localhost:3000/leaderboard
//! curl localhost:3000/report                    # built by blocking code in spawn_blocking
//! curl localhost:3000/metrics                   # cachex's hits, misses, errors, latencies
//! ```
//!
//! It uses the embedded in-memory cache unless `CACHEX_URL` names a server, and listens on
//! `CACHEX_WEB_ADDR` (default `127.0.0.1:3000`).
//!
//! - The async handlers use the async surface: `cache.aget_or_set_with(..)`,
//!   `cache.a().incr_or_create(..)`, `cache.azincrby(..)`.
//! - The worker is a plain thread using the blocking surface of the same `Cache`: it waits on
//!   a list with `cache.blpop(..)` and awards bonuses with `cache.zincrby(..)`. The `/report`
//!   handler runs blocking code too, in `spawn_blocking`.
//! - `/catalog` is cached whole, response and headers, by `cachex::tower::CacheLayer` (the
//!   `tower` feature) in the same cache: its handler says `Cache-Control: max-age=30`, the
//!   layer adds `x-cache: hit|miss`.
//! - cachex's metrics (the `metrics` feature) go to a Prometheus recorder
//!   (`metrics-exporter-prometheus`, without its HTTP listener) that `/metrics` renders.
//!
//! [`app`] builds the router and [`Worker::spawn`] starts the worker, so that a test can serve
//! both on a free port (`examples/tests/examples.rs` does).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cachex::Ttl;
use cachex::prelude::*;
use cachex::tower::CacheLayer;
use metrics_exporter_prometheus::{BuildError, PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};

/// How many scores one player may post per [`RATE_WINDOW`].
pub const RATE_LIMIT: i64 = 5;
/// The rate limit's window.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);
/// The sorted set holding the scores.
pub const LEADERBOARD: &str = "leaderboard";
/// The list the handlers push bonus requests to, and the worker pops them from.
pub const BONUS_QUEUE: &str = "jobs:bonus";
/// The points a bonus is worth.
pub const BONUS: f64 = 100.0;

/// A product, as a slow database would return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Its id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Its price, in cents.
    pub price: u64,
}

/// One line of the leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The player.
    pub player: String,
    /// Their score.
    pub score: f64,
}

/// What the blocking `/report` job returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// How many players have a score.
    pub players: u64,
    /// The leader, if any.
    pub leader: Option<Entry>,
    /// How many bonuses the worker has awarded.
    pub bonuses_awarded: i64,
}

/// The service's routes, all sharing `cache`; `/metrics` renders `metrics`.
pub fn app(cache: Cache, metrics: PrometheusHandle) -> Router {
    // Whole responses cached by the layer, in the same cache as the handlers' values.
    let layer = CacheLayer::new(cache.clone())
        .ttl(Duration::from_secs(60))
        .status_header(HeaderName::from_static("x-cache"));
    let pages = Router::new().route("/catalog", get(catalog)).layer(layer);
    Router::new()
        .route("/products/{id}", get(product))
        .route("/scores/{player}", post(score))
        .route("/bonus/{player}", post(bonus))
        .route("/leaderboard", get(leaderboard))
        .route("/report", get(report))
        .with_state(cache)
        .merge(pages)
        .route(
            "/metrics",
            get(move || async move {
                metrics.run_upkeep();
                metrics.render()
            }),
        )
}

/// Installs the process's metrics recorder, a Prometheus one: cachex records into it; its
/// handle renders what was recorded, for `/metrics`.
pub fn install_metrics() -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    cachex::metrics::enable();
    Ok(handle)
}

/// An error as a response: 500 with the message (a real service would log it instead).
struct Failure(String);

impl From<cachex::Error> for Failure {
    fn from(error: cachex::Error) -> Self {
        Failure(error.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.0).into_response()
    }
}

/// The cached endpoint: the product is loaded once, then served from the cache for a minute.
/// The `x-cache` header says whether this request loaded it.
async fn product(
    State(cache): State<Cache>,
    Path(id): Path<u32>,
) -> Result<impl IntoResponse, Failure> {
    let loaded = AtomicBool::new(false);
    let product: Product = cache
        .aget_or_set_with(
            &format!("product:{id}"),
            || async {
                loaded.store(true, Ordering::Relaxed);
                load_product(id).await
            },
            Timeout::After(Duration::from_secs(60)),
        )
        .await?;
    let header = if loaded.into_inner() { "miss" } else { "hit" };
    Ok((
        [(HeaderName::from_static("x-cache"), header)],
        Json(product),
    ))
}

/// A page cached whole by the [`CacheLayer`]: the first request renders it (slowly), the next
/// ones for 30 s get the stored response (`x-cache: hit`).
async fn catalog() -> impl IntoResponse {
    let mut products = Vec::new();
    for id in 1..=3 {
        products.push(load_product(id).await);
    }
    let rendered_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let cache_control = HeaderValue::from_static("public, max-age=30");
    (
        [(header::CACHE_CONTROL, cache_control)],
        Json(serde_json::json!({ "products": products, "rendered_at": rendered_at })),
    )
}

/// The slow database.
async fn load_product(id: u32) -> Product {
    tokio::time::sleep(Duration::from_millis(50)).await;
    Product {
        id,
        name: format!("product {id}"),
        price: u64::from(id) * 100,
    }
}

#[derive(Deserialize)]
struct Points {
    points: f64,
}

/// Adds points to a player's score, at most [`RATE_LIMIT`] times per [`RATE_WINDOW`] per
/// player: a counter created with the window as its timeout, incremented atomically.
async fn score(
    State(cache): State<Cache>,
    Path(player): Path<String>,
    Query(Points { points }): Query<Points>,
) -> Result<Response, Failure> {
    let counter = format!("rate:scores:{player}");
    let posted = cache
        .a()
        .incr_or_create(&counter, 1, Timeout::After(RATE_WINDOW))
        .await?;
    if posted > RATE_LIMIT {
        let retry_after = match cache.attl(&counter).await? {
            Ttl::Expires(left) => left.as_secs().max(1),
            Ttl::Missing | Ttl::Persistent => RATE_WINDOW.as_secs(),
        };
        let headers = [(
            HeaderName::from_static("retry-after"),
            retry_after.to_string(),
        )];
        return Ok((StatusCode::TOO_MANY_REQUESTS, headers, "slow down").into_response());
    }
    let score = cache.azincrby(LEADERBOARD, player.as_str(), points).await?;
    Ok(Json(Entry { player, score }).into_response())
}

/// Queues a bonus for the blocking worker.
async fn bonus(
    State(cache): State<Cache>,
    Path(player): Path<String>,
) -> Result<StatusCode, Failure> {
    cache.arpush(BONUS_QUEUE, &[player]).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The top ten, highest score first.
async fn leaderboard(State(cache): State<Cache>) -> Result<Json<Vec<Entry>>, Failure> {
    let top: Vec<(String, f64)> = cache.azrevrange_with_scores(LEADERBOARD, 0, 9).await?;
    Ok(Json(entries(top)))
}

/// A report built by blocking code (say, a library without async support), run on tokio's
/// blocking threads with the blocking surface of the same cache.
async fn report(State(cache): State<Cache>) -> Result<Json<Report>, Failure> {
    let report = tokio::task::spawn_blocking(move || build_report(&cache))
        .await
        .map_err(|join| Failure(format!("the report failed: {join}")))??;
    Ok(Json(report))
}

/// Blocking code: plain calls, no `.await`.
pub fn build_report(cache: &Cache) -> cachex::Result<Report> {
    let players = cache.zcard(LEADERBOARD)?;
    let leader = entries(cache.zrevrange_with_scores(LEADERBOARD, 0, 0)?)
        .into_iter()
        .next();
    let bonuses_awarded = cache.get("stats:bonuses")?.unwrap_or(0);
    Ok(Report {
        players,
        leader,
        bonuses_awarded,
    })
}

fn entries(scores: Vec<(String, f64)>) -> Vec<Entry> {
    scores
        .into_iter()
        .map(|(player, score)| Entry { player, score })
        .collect()
}

/// The blocking worker: a plain thread that awards queued bonuses, with blocking calls on the
/// same cache as the web handlers.
pub struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<cachex::Result<()>>>,
}

impl Worker {
    /// Starts the worker thread.
    pub fn spawn(cache: Cache) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || {
                while !stop.load(Ordering::Relaxed) {
                    // Waits up to 200 ms for a job, so that it notices `stop`.
                    let job: Option<(String, String)> =
                        cache.blpop(&[BONUS_QUEUE], Some(Duration::from_millis(200)))?;
                    if let Some((_queue, player)) = job {
                        let score = cache.zincrby(LEADERBOARD, player.as_str(), BONUS)?;
                        cache.incr_or_create("stats:bonuses", 1, Timeout::Never)?;
                        println!("worker: {player} got a bonus, now at {score}");
                    }
                }
                Ok(())
            }
        });
        Worker {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the worker and waits for it; its error, if it stopped on one (a panic of the
    /// worker goes on in the caller).
    pub fn stop(mut self) -> cachex::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The cache named by `CACHEX_URL`, or the embedded in-memory one.
pub fn cache_from_env() -> cachex::Result<Cache> {
    match std::env::var("CACHEX_URL") {
        Ok(url) => Cache::from_url(&url),
        Err(_) => Ok(Cache::default()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let metrics = install_metrics()?;
    let cache = cache_from_env()?;
    let worker = Worker::spawn(cache.clone());
    let address = std::env::var("CACHEX_WEB_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("cache: {cache}");
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(cache, metrics)).await?;
    worker.stop()?;
    Ok(())
}
