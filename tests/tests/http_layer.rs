//! `cachex::tower::CacheLayer` through real HTTP: an axum service behind the layer, served on a
//! loopback port, asked by hyper's client, on the in-memory cache and on a real Redis. The
//! service counts how often each request reaches it, which is how a hit is told from a miss
//! besides the `x-cache` header.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use bytes::Bytes;
use cachex::prelude::*;
use cachex::tower::CacheLayer;
use cachex::{Cache, Ttl};
use cachex_tests::{ServerKind, memory_and_redis};
use http::header::{HeaderName, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// The size of the large bodies, and the layer's limit in the tests that use them.
const LARGE: usize = 64 * 1024;
const LIMIT: usize = 16 * 1024;

/// What the service behind the layer shares between its requests.
struct Backend {
    /// How many requests reached the service, by method and path.
    calls: Mutex<HashMap<String, usize>>,
    /// How many requests reached the layer (counted in front of it).
    arrived: AtomicUsize,
    /// `/slow` waits for a permit of this gate.
    gate: Semaphore,
}

impl Default for Backend {
    fn default() -> Self {
        Backend {
            calls: Mutex::default(),
            arrived: AtomicUsize::new(0),
            gate: Semaphore::new(0),
        }
    }
}

impl Backend {
    fn calls(&self, method: &str, path: &str) -> usize {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.get(&format!("{method} {path}")).copied().unwrap_or(0)
    }
}

/// The service: every path answers with the number of times it was called, and headers that
/// depend on the path.
async fn service(State(backend): State<Arc<Backend>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/slow" {
        drop(backend.gate.acquire().await);
    }
    let call = {
        let mut calls = backend.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let count = calls
            .entry(format!("{} {path}", request.method()))
            .or_default();
        *count += 1;
        *count
    };
    let mut builder = Response::builder();
    let mut body = Body::from(call.to_string());
    match path.as_str() {
        "/lang" => {
            let lang = request
                .headers()
                .get("accept-language")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
                .to_owned();
            builder = builder.header("vary", "Accept-Language");
            body = Body::from(format!("{lang}:{call}"));
        }
        "/no-store" => builder = builder.header("cache-control", "no-store"),
        "/private" => builder = builder.header("cache-control", "private, max-age=60"),
        "/max-age-zero" => builder = builder.header("cache-control", "max-age=0"),
        "/ttl" => builder = builder.header("cache-control", "max-age=1000, s-maxage=100"),
        "/max-age" => builder = builder.header("cache-control", "public, max-age=200"),
        "/large" => body = Body::from(large_body()),
        "/large-stream" | "/small-stream" => {
            let size = if path == "/large-stream" {
                LARGE
            } else {
                LIMIT / 2
            };
            let chunks: Vec<Result<Bytes, Infallible>> = large_body()[..size]
                .chunks(1000)
                .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
                .collect();
            body = Body::from_stream(futures::stream::iter(chunks));
        }
        _ => {}
    }
    if let Some(code) = path.strip_prefix("/status/") {
        let code = code.parse().expect("a status");
        builder = builder.status(StatusCode::from_u16(code).expect("a status"));
    }
    builder
        .header("connection", "keep-alive, x-hop")
        .header("x-hop", "not stored")
        .body(body)
        .expect("a response")
}

/// A body of `LARGE` bytes that differ from one position to the next.
fn large_body() -> Vec<u8> {
    (0..LARGE).map(|index| (index % 251) as u8).collect()
}

/// The service behind `layer`, served on a free loopback port.
struct Served {
    address: SocketAddr,
    backend: Arc<Backend>,
    client: Client<HttpConnector, Empty<Bytes>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A response as the client read it.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    x_cache: Option<String>,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a text body")
    }
}

async fn serve(layer: CacheLayer) -> Served {
    let backend = Arc::new(Backend::default());
    let arrivals = backend.clone();
    let app = Router::new()
        .fallback(service)
        .with_state(backend.clone())
        .layer(layer)
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            arrivals.arrived.fetch_add(1, Ordering::SeqCst);
            next.run(request)
        }));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("an address");
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serving");
    });
    let client = Client::builder(TokioExecutor::new()).build_http();
    Served {
        address,
        backend,
        client,
        server,
    }
}

impl Served {
    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[]).await
    }

    async fn send(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.address));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Empty::new()).expect("a request");
        let response = self.client.request(request).await.expect("a response");
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            x_cache: parts
                .headers
                .get(&X_CACHE)
                .map(|value| value.to_str().expect("text").to_owned()),
            headers: parts.headers,
            body: body.collect().await.expect("a body").to_bytes(),
        }
    }

    /// The user key the layer stores `path`'s GET under.
    fn key(&self, path: &str) -> String {
        format!("http:GET:{}{path}", self.address)
    }
}

fn layer(cache: &Cache) -> CacheLayer {
    CacheLayer::new(cache.clone()).status_header(X_CACHE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_is_served_from_the_cache_the_second_time() -> TestResult {
    for (backend, cache) in memory_and_redis("http-hit") {
        let served = serve(layer(&cache)).await;
        let first = served.get("/count").await;
        assert_eq!(
            (first.status, first.text()),
            (StatusCode::OK, "1"),
            "{backend}"
        );
        assert_eq!(first.x_cache.as_deref(), Some("miss"), "{backend}");
        let second = served.get("/count").await;
        assert_eq!(second.text(), "1", "{backend}: served from the cache");
        assert_eq!(second.x_cache.as_deref(), Some("hit"), "{backend}");
        assert_eq!(served.backend.calls("GET", "/count"), 1, "{backend}");
        // The stored copy has the response's headers, but the hop-by-hop ones.
        assert!(
            second.headers.get("x-hop").is_none(),
            "{backend}: {:?}",
            second.headers
        );
        assert!(
            first.headers.get("x-hop").is_some(),
            "{backend}: the live one has them"
        );
        assert!(cache.has_key(&served.key("/count"))?, "{backend}");

        // HEAD has its own entry; POST and a request with credentials are not for the cache.
        let head = served.send(Method::HEAD, "/count", &[]).await;
        assert_eq!(head.x_cache.as_deref(), Some("miss"), "{backend}");
        let head = served.send(Method::HEAD, "/count", &[]).await;
        assert_eq!(head.x_cache.as_deref(), Some("hit"), "{backend}");
        assert_eq!(served.backend.calls("HEAD", "/count"), 1, "{backend}");
        for _ in 0..2 {
            let post = served.send(Method::POST, "/count", &[]).await;
            assert_eq!(post.x_cache, None, "{backend}");
            let private = served
                .send(Method::GET, "/count", &[("authorization", "Bearer t")])
                .await;
            assert_eq!(private.x_cache, None, "{backend}");
        }
        assert_eq!(served.backend.calls("POST", "/count"), 2, "{backend}");
        assert_eq!(served.backend.calls("GET", "/count"), 3, "{backend}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_variant_named_by_vary_is_cached_on_its_own() -> TestResult {
    for (backend, cache) in memory_and_redis("http-vary") {
        let served = serve(layer(&cache)).await;
        let ask = |lang: &'static str| {
            let served = &served;
            async move {
                let headers: &[(&str, &str)] = if lang.is_empty() {
                    &[]
                } else {
                    &[("accept-language", lang)]
                };
                let reply = served.send(Method::GET, "/lang", headers).await;
                (reply.text().to_owned(), reply.x_cache.unwrap_or_default())
            }
        };
        assert_eq!(ask("en").await, ("en:1".into(), "miss".into()), "{backend}");
        assert_eq!(
            ask("fr; q=0.5").await,
            ("fr; q=0.5:2".into(), "miss".into())
        );
        assert_eq!(ask("en").await, ("en:1".into(), "hit".into()), "{backend}");
        assert_eq!(ask("fr; q=0.5").await, ("fr; q=0.5:2".into(), "hit".into()));
        assert_eq!(ask("").await, (":3".into(), "miss".into()), "{backend}");
        assert_eq!(ask("").await, (":3".into(), "hit".into()), "{backend}");
        assert_eq!(served.backend.calls("GET", "/lang"), 3, "{backend}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_store_private_and_max_age_zero_are_not_cached() -> TestResult {
    for (backend, cache) in memory_and_redis("http-no-store") {
        let served = serve(layer(&cache)).await;
        for path in ["/no-store", "/private", "/max-age-zero"] {
            for call in ["1", "2"] {
                let reply = served.get(path).await;
                assert_eq!(reply.text(), call, "{backend} {path}");
                assert_eq!(reply.x_cache.as_deref(), Some("miss"), "{backend} {path}");
            }
            assert!(!cache.has_key(&served.key(path))?, "{backend} {path}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_age_and_s_maxage_set_the_ttl_else_the_layers() -> TestResult {
    for (backend, cache) in memory_and_redis("http-ttl") {
        let served = serve(layer(&cache).ttl(Duration::from_secs(500))).await;
        for (path, ttl) in [("/ttl", 100), ("/max-age", 200), ("/count", 500)] {
            served.get(path).await;
            let Ttl::Expires(left) = cache.ttl(&served.key(path))? else {
                panic!("{backend} {path}: no expiry");
            };
            let left = left.as_secs();
            assert!(ttl - 10 < left && left <= ttl, "{backend} {path}: {left} s");
        }
        // Without a TTL of its own, the layer uses the cache's default timeout (300 s).
        let served = serve(layer(&cache)).await;
        served.get("/plain").await;
        let Ttl::Expires(left) = cache.ttl(&served.key("/plain"))? else {
            panic!("{backend}: no expiry");
        };
        assert!((290..=300).contains(&left.as_secs()), "{backend}: {left:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_statuses_asked_for_are_cached() -> TestResult {
    for (backend, cache) in memory_and_redis("http-status") {
        let served = serve(layer(&cache)).await;
        for (path, cached) in [
            ("/status/404", true),
            ("/status/500", false),
            ("/status/418", false),
        ] {
            let first = served.get(path).await;
            let second = served.get(path).await;
            assert_eq!(first.status.as_str(), &path[8..], "{backend}");
            assert_eq!(second.status, first.status, "{backend}");
            let expected = if cached { "hit" } else { "miss" };
            assert_eq!(
                second.x_cache.as_deref(),
                Some(expected),
                "{backend} {path}"
            );
        }
        let only_ok = serve(layer(&cache).statuses([StatusCode::OK])).await;
        for _ in 0..2 {
            let reply = only_ok.get("/status/404").await;
            assert_eq!(reply.x_cache.as_deref(), Some("miss"), "{backend}");
        }
        assert_eq!(only_ok.backend.calls("GET", "/status/404"), 2, "{backend}");
        assert_eq!(only_ok.get("/count").await.text(), "1");
        assert_eq!(only_ok.get("/count").await.x_cache.as_deref(), Some("hit"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_of_one_key_call_the_service_once() -> TestResult {
    const CALLERS: usize = 8;
    for (backend, cache) in memory_and_redis("http-flight") {
        let served = Arc::new(serve(layer(&cache)).await);
        let requests: Vec<_> = (0..CALLERS)
            .map(|_| {
                let served = served.clone();
                tokio::spawn(async move { served.get("/slow").await })
            })
            .collect();
        // The first caller waits at the gate; let it through once every caller reached the
        // layer: they are all behind it, in its flight or about to look the key up.
        let deadline = Instant::now() + Duration::from_secs(20);
        while served.backend.arrived.load(Ordering::SeqCst) < CALLERS {
            assert!(
                Instant::now() < deadline,
                "{backend}: the requests never arrived"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        served.backend.gate.add_permits(1);
        let mut statuses = Vec::new();
        for request in requests {
            let reply = request.await?;
            assert_eq!(reply.text(), "1", "{backend}");
            statuses.push(reply.x_cache.unwrap_or_default());
        }
        statuses.sort();
        let mut expected = vec!["hit"; CALLERS - 1];
        expected.push("miss");
        assert_eq!(statuses, expected, "{backend}");
        assert_eq!(served.backend.calls("GET", "/slow"), 1, "{backend}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_streamed_whole_and_not_stored() -> TestResult {
    for (backend, cache) in memory_and_redis("http-large") {
        let served = serve(layer(&cache).max_body_bytes(LIMIT)).await;
        // One with a known length (passed on unread), one streamed (read up to the limit).
        for path in ["/large", "/large-stream"] {
            for _ in 0..2 {
                let reply = served.get(path).await;
                assert_eq!(reply.body.len(), LARGE, "{backend} {path}");
                assert_eq!(&reply.body[..], &large_body()[..], "{backend} {path}");
                assert_eq!(reply.x_cache.as_deref(), Some("miss"), "{backend} {path}");
            }
            assert_eq!(served.backend.calls("GET", path), 2, "{backend} {path}");
            assert!(!cache.has_key(&served.key(path))?, "{backend} {path}");
        }
        // A streamed body within the limit is read whole and stored.
        let first = served.get("/small-stream").await;
        let second = served.get("/small-stream").await;
        assert_eq!(second.x_cache.as_deref(), Some("hit"), "{backend}");
        assert_eq!(second.body, first.body, "{backend}");
        assert_eq!(first.body.len(), LIMIT / 2, "{backend}");
        let length = second.headers.get("content-length");
        assert_eq!(length, Some(&HeaderValue::from(LIMIT / 2)), "{backend}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_cache_never_fails_a_request() -> TestResult {
    let mut server = cachex_tests::Server::start(ServerKind::Redis);
    let url = format!("{}?connect_timeout=0.2&response_timeout=0.5", server.url());
    let cache = Cache::from_url(&url)?;
    let served = serve(layer(&cache)).await;
    assert_eq!(served.get("/count").await.x_cache.as_deref(), Some("miss"));
    assert_eq!(served.get("/count").await.x_cache.as_deref(), Some("hit"));
    server.kill();
    for call in ["2", "3"] {
        let reply = served.get("/count").await;
        assert_eq!((reply.status, reply.text()), (StatusCode::OK, call));
        assert_eq!(reply.x_cache.as_deref(), Some("miss"));
    }
    Ok(())
}
