//! [`CacheLayer`]: a [tower](https://docs.rs/tower) layer caching HTTP responses in a
//! [`Cache`] (the `tower` feature), for axum, hyper or any tower stack.
//!
//! ```
//! use std::time::Duration;
//!
//! use cachex::Cache;
//! use cachex::tower::CacheLayer;
//! use http::header::HeaderName;
//!
//! let layer = CacheLayer::new(Cache::in_memory())
//!     .ttl(Duration::from_secs(30)) // when the response gives no max-age
//!     .max_body_bytes(256 * 1024) // larger bodies are streamed through, not cached
//!     .status_header(HeaderName::from_static("x-cache")); // hit or miss
//! // axum: Router::new().route(..).layer(layer)
//! # let _ = layer;
//! ```
//!
//! What is cached, and for how long (the [HTTP guide](crate::guide::http) says why):
//!
//! - only `GET` and `HEAD` requests without an `Authorization` header; the others go to the
//!   inner service untouched;
//! - only responses whose status is in [`CacheLayer::statuses`] (by default
//!   [`DEFAULT_STATUSES`]), without `Set-Cookie`, without `Cache-Control: no-store`,
//!   `private` or `no-cache`, and without `Vary: *`;
//! - for `s-maxage`, else `max-age` seconds, else [`CacheLayer::ttl`] (else the cache's default
//!   timeout); zero is not stored;
//! - with a body of at most [`CacheLayer::max_body_bytes`]: a larger one is streamed to the
//!   client as it comes, whole, and not stored.
//!
//! The key is `http:{method}:{host}{path and query}` (through the cache's own prefix and
//! version); a response naming request headers in `Vary` stores that list under this key and
//! itself under `{key}#{header}={value};...`, so each combination of those request headers has
//! its own copy. Stored are the status, the headers but the hop-by-hop ones, and the body,
//! through the cache's codec. Concurrent misses of one key in this process call the inner
//! service once; the others wait and are served the stored response (or, when it could not
//! be stored, call the inner service themselves, all at once). The cache failing (a server
//! down) never fails a request: the layer calls the inner service instead.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tower::{Layer, Service};
use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::cache::flight::Flights;
use crate::{Cache, CacheApi, Timeout};

/// The statuses cached unless [`CacheLayer::statuses`] says otherwise: those RFC 9110 calls
/// heuristically cacheable, but `206 Partial Content` (a part is not the resource).
pub const DEFAULT_STATUSES: [StatusCode; 11] = [
    StatusCode::OK,
    StatusCode::NON_AUTHORITATIVE_INFORMATION,
    StatusCode::NO_CONTENT,
    StatusCode::MULTIPLE_CHOICES,
    StatusCode::MOVED_PERMANENTLY,
    StatusCode::PERMANENT_REDIRECT,
    StatusCode::NOT_FOUND,
    StatusCode::METHOD_NOT_ALLOWED,
    StatusCode::GONE,
    StatusCode::URI_TOO_LONG,
    StatusCode::NOT_IMPLEMENTED,
];

/// The default of [`CacheLayer::max_body_bytes`]: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The longest key the layer makes (the cache's prefix and version come on top, within
/// Django's 250 characters): a request whose key would be longer is not cached.
const MAX_KEY_LEN: usize = 200;

/// The headers of one connection only (RFC 9110, 7.6.1), never stored.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// A [`Layer`] caching the responses of an HTTP service in a [`Cache`]: see the [module
/// documentation](self) for what it caches and how.
#[derive(Clone)]
pub struct CacheLayer {
    config: Config,
}

/// The layer's settings, shared by the services it makes.
#[derive(Clone)]
struct Config {
    cache: Cache,
    ttl: Option<Duration>,
    statuses: Vec<StatusCode>,
    max_body: usize,
    status_header: Option<HeaderName>,
    request_directives: bool,
    flights: Arc<Flights>,
}

impl CacheLayer {
    /// A layer storing responses in `cache`, with the defaults: [`DEFAULT_STATUSES`],
    /// bodies up to [`DEFAULT_MAX_BODY_BYTES`], the cache's default timeout when a response
    /// gives no `max-age`, no status header, request `Cache-Control` ignored.
    pub fn new(cache: Cache) -> Self {
        CacheLayer {
            config: Config {
                cache,
                ttl: None,
                statuses: DEFAULT_STATUSES.to_vec(),
                max_body: DEFAULT_MAX_BODY_BYTES,
                status_header: None,
                request_directives: false,
                flights: Arc::default(),
            },
        }
    }

    /// How long a response is kept when its `Cache-Control` gives no `s-maxage` or `max-age`
    /// (by default, the cache's default timeout).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.config.ttl = Some(ttl);
        self
    }

    /// The statuses whose responses are cached (by default [`DEFAULT_STATUSES`]).
    pub fn statuses(mut self, statuses: impl IntoIterator<Item = StatusCode>) -> Self {
        self.config.statuses = statuses.into_iter().collect();
        self
    }

    /// The largest body stored, in bytes (by default [`DEFAULT_MAX_BODY_BYTES`]): a response
    /// whose body is larger is streamed to the client whole, and not stored. Bodies up to this
    /// size are read whole before the response is passed on.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.config.max_body = max;
        self
    }

    /// Adds the header `name` to the responses of cacheable requests: `hit` when served from
    /// the cache, `miss` when the inner service answered (off by default). `x-cache` is the
    /// usual name.
    pub fn status_header(mut self, name: HeaderName) -> Self {
        self.config.status_header = Some(name);
        self
    }

    /// Whether the request's own `Cache-Control` counts (off by default, so that clients
    /// cannot make every request reach the inner service): `no-cache` (or `Pragma: no-cache`)
    /// skips the lookup and stores the fresh response, `no-store` bypasses the cache.
    pub fn request_cache_control(mut self, honour: bool) -> Self {
        self.config.request_directives = honour;
        self
    }
}

impl fmt::Debug for CacheLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheLayer")
            .field("cache", &self.cache)
            .field("ttl", &self.ttl)
            .field("statuses", &self.statuses)
            .field("max_body_bytes", &self.max_body)
            .field("status_header", &self.status_header)
            .field("request_cache_control", &self.request_directives)
            .finish()
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = CacheService<S>;

    fn layer(&self, inner: S) -> CacheService<S> {
        CacheService {
            inner,
            config: Arc::new(self.config.clone()),
        }
    }
}

/// The [`Service`] of a [`CacheLayer`]: answers cacheable requests from the cache, and the
/// others, and the misses, with the inner service `S`.
#[derive(Clone)]
pub struct CacheService<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S> fmt::Debug for CacheService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

/// The future of a [`CacheService`]'s response.
pub type ResponseFuture<B, E> =
    Pin<Box<dyn Future<Output = Result<Response<CacheBody<B>>, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CacheService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Body + Send + 'static,
    ResBody::Data: Send,
    ResBody::Error: Send,
{
    type Response = Response<CacheBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The service that was polled ready answers this request; a clone takes its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(respond(self.config.clone(), inner, request))
    }
}

/// Why a response was not stored: the callers waiting for it call the inner service
/// themselves, together.
struct NotStored;

/// What to do with a request.
enum Plan {
    /// Not for the cache: straight to the inner service.
    Bypass,
    /// Look it up under this key (unless `lookup` is false), and store the response.
    Cache { key: String, lookup: bool },
}

/// Answers one request: from the cache, or from `inner` (storing what may be stored).
async fn respond<S, ReqBody, ResBody>(
    config: Arc<Config>,
    mut inner: S,
    request: Request<ReqBody>,
) -> Result<Response<CacheBody<ResBody>>, S::Error>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body,
{
    let (key, lookup) = match config.plan(&request) {
        Plan::Bypass => return Ok(inner.call(request).await?.map(CacheBody::stream)),
        Plan::Cache { key, lookup } => (key, lookup),
    };
    let headers = request.headers().clone();
    let mut fill = key.clone();
    if lookup {
        match config.lookup(&key, &headers).await {
            Found::Hit(response) => return Ok(config.marked(response, "hit")),
            Found::Miss(variant) => fill = variant,
            Found::Uncacheable => return config.passed(inner.call(request).await),
        }
    }
    let flight = config.flights.join(&fill);
    let Ok(turn) = flight.turn::<NotStored>().await else {
        // The caller ahead could not store its response: no use waiting in line.
        return config.passed(inner.call(request).await);
    };
    if lookup {
        // Another caller of this process may have stored it meanwhile.
        if let Found::Hit(response) = config.lookup(&key, &headers).await {
            return Ok(config.marked(response, "hit"));
        }
    }
    let response = match inner.call(request).await {
        Ok(response) => response,
        Err(error) => {
            turn.fail(Arc::new(NotStored));
            return Err(error);
        }
    };
    let (parts, body) = response.into_parts();
    let Some(timeout) = config.storable(&parts.status, &parts.headers) else {
        turn.fail(Arc::new(NotStored));
        return Ok(config.marked(Response::from_parts(parts, CacheBody::stream(body)), "miss"));
    };
    match read_whole(body, config.max_body).await {
        Ok(bytes) => {
            config
                .store(
                    &key,
                    &headers,
                    &parts.status,
                    &parts.headers,
                    &bytes,
                    timeout,
                )
                .await;
            drop(turn); // the callers waiting find it stored
            let body = CacheBody::full(bytes);
            Ok(config.marked(Response::from_parts(parts, body), "miss"))
        }
        Err(body) => {
            turn.fail(Arc::new(NotStored));
            Ok(config.marked(Response::from_parts(parts, body), "miss"))
        }
    }
}

/// What a lookup found.
enum Found<B: Body> {
    /// The stored response.
    Hit(Response<CacheBody<B>>),
    /// Nothing: the key to store the response under (the variant's, when the stored entry
    /// says which request headers the response varies on).
    Miss(String),
    /// A variant whose key would be too long: not cached.
    Uncacheable,
}

impl Config {
    /// Whether and under which key to cache the answer to `request`.
    fn plan<B>(&self, request: &Request<B>) -> Plan {
        let safe = matches!(*request.method(), Method::GET | Method::HEAD);
        let headers = request.headers();
        if !safe || headers.contains_key(header::AUTHORIZATION) {
            return Plan::Bypass;
        }
        let mut lookup = true;
        if self.request_directives {
            let directives = Directives::of(headers);
            if directives.no_store {
                return Plan::Bypass;
            }
            let pragma = headers
                .get_all(header::PRAGMA)
                .iter()
                .any(|value| value.as_bytes().eq_ignore_ascii_case(b"no-cache"));
            lookup =
                !(directives.no_cache || pragma && !headers.contains_key(header::CACHE_CONTROL));
        }
        match base_key(request) {
            Some(key) => Plan::Cache { key, lookup },
            None => Plan::Bypass,
        }
    }

    /// The stored response for a request with these `headers`, if any.
    async fn lookup<B: Body>(&self, key: &str, headers: &HeaderMap) -> Found<B> {
        match self.read(key).await {
            Some(Entry::Response(stored)) => stored
                .response()
                .map_or(Found::Miss(key.to_owned()), Found::Hit),
            Some(Entry::Vary(names)) => {
                let Some(variant) = variant_key(key, &names, headers) else {
                    return Found::Uncacheable;
                };
                match self.read(&variant).await {
                    Some(Entry::Response(stored)) => {
                        stored.response().map_or(Found::Miss(variant), Found::Hit)
                    }
                    _ => Found::Miss(variant),
                }
            }
            None => Found::Miss(key.to_owned()),
        }
    }

    /// The entry under `key`; `None` when there is none or the cache failed (logged).
    async fn read(&self, key: &str) -> Option<Entry> {
        self.cache.aget::<Entry>(key).await.unwrap_or_else(|error| {
            tracing::debug!(target: "cachex::tower", %error, "lookup failed, calling the service");
            None
        })
    }

    /// How long a response with this status and these headers may be kept; `None` when it
    /// may not be stored.
    fn storable(&self, status: &StatusCode, headers: &HeaderMap) -> Option<Timeout> {
        if !self.statuses.contains(status) || headers.contains_key(header::SET_COOKIE) {
            return None;
        }
        let directives = Directives::of(headers);
        if directives.no_store || directives.private || directives.no_cache {
            return None;
        }
        // `Vary: *`: it varies on more than request headers.
        vary_names(headers)?;
        let timeout = match directives.s_maxage.or(directives.max_age) {
            Some(seconds) => Timeout::After(Duration::from_secs(seconds)),
            None => self.ttl.map_or(Timeout::Default, Timeout::After),
        };
        match timeout {
            Timeout::After(ttl) if ttl.is_zero() => None,
            timeout => Some(timeout),
        }
    }

    /// Stores a response to a request with `request_headers` (its variant's key when it has
    /// a `Vary`); a failure is logged, the response is served all the same.
    async fn store(
        &self,
        key: &str,
        request_headers: &HeaderMap,
        status: &StatusCode,
        headers: &HeaderMap,
        body: &Bytes,
        timeout: Timeout,
    ) {
        let Some(names) = vary_names(headers) else {
            return;
        };
        let stored = Entry::Response(Stored::of(
            status,
            headers,
            body,
            self.status_header.as_ref(),
        ));
        let result = if names.is_empty() {
            self.cache.aset(key, &stored, timeout).await
        } else {
            let Some(variant) = variant_key(key, &names, request_headers) else {
                return;
            };
            match self.cache.aset(key, &Entry::Vary(names), timeout).await {
                Ok(()) => self.cache.aset(&variant, &stored, timeout).await,
                Err(error) => Err(error),
            }
        };
        if let Err(error) = result {
            tracing::debug!(target: "cachex::tower", %error, "storing the response failed");
        }
    }

    /// `response` with the status header, if asked for, saying `status` (`hit` or `miss`).
    fn marked<B>(&self, mut response: Response<B>, status: &'static str) -> Response<B> {
        if let Some(name) = &self.status_header {
            response
                .headers_mut()
                .insert(name.clone(), HeaderValue::from_static(status));
        }
        response
    }

    /// The inner service's answer, streamed, marked as a miss.
    fn passed<B: Body, E>(
        &self,
        answer: Result<Response<B>, E>,
    ) -> Result<Response<CacheBody<B>>, E> {
        Ok(self.marked(answer?.map(CacheBody::stream), "miss"))
    }
}

/// The key of a request: `http:{method}:{host}{path and query}`; `None` (not cached) when
/// the host is not a valid authority or the key would be too long.
fn base_key<B>(request: &Request<B>) -> Option<String> {
    let uri = request.uri();
    let host = match uri.authority() {
        Some(authority) => authority.as_str(),
        None => match request.headers().get(header::HOST) {
            // A valid authority holds no `#`, `%` or space: the key's separators stay its own.
            Some(host) => {
                let host = host.to_str().ok()?;
                host.parse::<http::uri::Authority>().ok()?;
                host
            }
            None => "",
        },
    };
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let key = format!("http:{}:{host}{path}", request.method());
    (key.len() <= MAX_KEY_LEN && key.bytes().all(|byte| byte.is_ascii_graphic())).then_some(key)
}

/// The key of the variant of `key` for a request with `headers`, the response varying on the
/// request headers `names`: `{key}#{name}={value};...` (an absent header without `=`; values
/// percent-encoded, so that the key holds no space and no separator of its own); `None` when
/// it would be too long.
fn variant_key(key: &str, names: &[String], headers: &HeaderMap) -> Option<String> {
    let mut variant = format!("{key}#");
    for name in names {
        variant.push_str(name);
        let mut values = headers.get_all(name.as_str()).iter().peekable();
        if values.peek().is_some() {
            variant.push('=');
        }
        for (index, value) in values.enumerate() {
            if index > 0 {
                variant.push(',');
            }
            for &byte in value.as_bytes() {
                if byte.is_ascii_graphic() && !b"%#;=,".contains(&byte) {
                    variant.push(char::from(byte));
                } else {
                    variant.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        variant.push(';');
        if variant.len() > MAX_KEY_LEN {
            return None;
        }
    }
    Some(variant)
}

/// The request headers a response varies on, lowercase, sorted and deduplicated; `None` for
/// `Vary: *` (it varies on more than headers: not stored) or a header name that is not one.
fn vary_names(headers: &HeaderMap) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for value in headers.get_all(header::VARY) {
        for name in value.to_str().ok()?.split(',') {
            let name = name.trim();
            if name == "*" {
                return None;
            }
            if !name.is_empty() {
                names.push(
                    HeaderName::from_bytes(name.as_bytes())
                        .ok()?
                        .as_str()
                        .to_owned(),
                );
            }
        }
    }
    names.sort();
    names.dedup();
    Some(names)
}

/// The directives of `Cache-Control` headers this layer acts on.
#[derive(Default)]
struct Directives {
    no_store: bool,
    no_cache: bool,
    private: bool,
    max_age: Option<u64>,
    s_maxage: Option<u64>,
}

impl Directives {
    /// The directives of every `Cache-Control` header of `headers`; one given twice keeps
    /// its first value, a value that is not a number of seconds is ignored.
    fn of(headers: &HeaderMap) -> Directives {
        let mut directives = Directives::default();
        let values = headers.get_all(header::CACHE_CONTROL);
        for directive in values
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
        {
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
                None => (directive.trim(), None),
            };
            let seconds = || argument.and_then(|argument| argument.parse::<u64>().ok());
            match name.to_ascii_lowercase().as_str() {
                "no-store" => directives.no_store = true,
                // With or without a list of fields: the whole response, to be safe.
                "no-cache" => directives.no_cache = true,
                "private" => directives.private = true,
                "max-age" => directives.max_age = directives.max_age.or_else(seconds),
                "s-maxage" => directives.s_maxage = directives.s_maxage.or_else(seconds),
                _ => {}
            }
        }
        directives
    }
}

/// What the layer keeps under a key.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Entry {
    /// The response varies on these request headers: each variant has its own key.
    Vary(Vec<String>),
    /// The response.
    Response(Stored),
}

/// A stored response: status, headers (but the hop-by-hop ones) and body.
#[derive(Serialize, Deserialize)]
struct Stored {
    status: u16,
    headers: Vec<(String, Blob)>,
    body: Blob,
}

impl Stored {
    /// What to store of a response (the status header, if the layer adds one, left out).
    fn of(
        status: &StatusCode,
        headers: &HeaderMap,
        body: &Bytes,
        status_header: Option<&HeaderName>,
    ) -> Stored {
        let named_by_connection: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
            .collect();
        let kept = headers.iter().filter(|(name, _)| {
            !HOP_BY_HOP.contains(name)
                && !named_by_connection.contains(name)
                && Some(*name) != status_header
        });
        Stored {
            status: status.as_u16(),
            headers: kept
                .map(|(name, value)| {
                    (
                        name.as_str().to_owned(),
                        Blob(Bytes::copy_from_slice(value.as_bytes())),
                    )
                })
                .collect(),
            body: Blob(body.clone()),
        }
    }

    /// The response; `None` when what was stored is not one (a status out of range).
    fn response<B: Body>(self) -> Option<Response<CacheBody<B>>> {
        let mut response = Response::new(CacheBody::full(self.body.0));
        *response.status_mut() = StatusCode::from_u16(self.status).ok()?;
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
            headers.append(name, HeaderValue::from_maybe_shared(value.0).ok()?);
        }
        Some(response)
    }
}

/// Bytes through the cache's codec: a string when they are UTF-8 (compact in JSON), raw bytes
/// otherwise; read back from a string, bytes or a sequence of numbers.
struct Blob(Bytes);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => serializer.serialize_str(text),
            Err(_) => serializer.serialize_bytes(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BlobVisitor;

        impl<'de> Visitor<'de> for BlobVisitor {
            type Value = Blob;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or bytes")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Blob, E> {
                Ok(Blob(Bytes::copy_from_slice(text.as_bytes())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Blob, E> {
                Ok(Blob(Bytes::from(text)))
            }

            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Blob, E> {
                Ok(Blob(Bytes::copy_from_slice(bytes)))
            }

            fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(Bytes::from(bytes)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(byte) = seq.next_element::<u8>()? {
                    bytes.push(byte);
                }
                Ok(Blob(Bytes::from(bytes)))
            }
        }

        deserializer.deserialize_any(BlobVisitor)
    }
}

/// Reads `body` whole when it is at most `max` bytes, for storing; otherwise (or when it
/// fails, or has trailers), the body to stream instead: what was read, then the rest.
async fn read_whole<B: Body>(body: B, max: usize) -> Result<Bytes, CacheBody<B>> {
    if body.size_hint().lower() > max as u64 {
        return Err(CacheBody::stream(body));
    }
    let mut body = Box::pin(body);
    let mut read = VecDeque::new();
    let mut size = 0;
    loop {
        match body.frame().await {
            None => return Ok(concat(read)),
            Some(Err(error)) => {
                return Err(CacheBody {
                    pending: read,
                    rest: None,
                    error: Some(error),
                });
            }
            Some(Ok(frame)) => {
                let frame = frame.map_data(to_bytes);
                let data = frame.data_ref().map(Bytes::len);
                read.push_back(frame);
                size += data.unwrap_or(0);
                if data.is_none() || size > max {
                    return Err(CacheBody {
                        pending: read,
                        rest: Some(body),
                        error: None,
                    });
                }
            }
        }
    }
}

/// The data frames of `frames`, one after the other.
fn concat(frames: VecDeque<Frame<Bytes>>) -> Bytes {
    let mut frames = frames
        .into_iter()
        .filter_map(|frame| frame.into_data().ok());
    match (frames.next(), frames.next()) {
        (None, _) => Bytes::new(),
        (Some(only), None) => only,
        (Some(first), Some(second)) => {
            let mut whole = BytesMut::from(&first[..]);
            whole.extend_from_slice(&second);
            frames.for_each(|data| whole.extend_from_slice(&data));
            whole.freeze()
        }
    }
}

fn to_bytes<D: Buf>(mut data: D) -> Bytes {
    data.copy_to_bytes(data.remaining())
}

/// The body of a [`CacheService`]'s response: a stored body, or the inner service's, streamed
/// (after what the layer read of it, if it read some).
pub struct CacheBody<B: Body> {
    /// Frames to give first.
    pending: VecDeque<Frame<Bytes>>,
    /// The inner body's rest, if any.
    rest: Option<Pin<Box<B>>>,
    /// The inner body's error, met while reading it, given after `pending`.
    error: Option<B::Error>,
}

// Nothing is pinned in place: the inner body is boxed, the error never pinned.
impl<B: Body> Unpin for CacheBody<B> {}

impl<B: Body> CacheBody<B> {
    /// A whole body.
    fn full(bytes: Bytes) -> Self {
        CacheBody {
            pending: if bytes.is_empty() {
                VecDeque::new()
            } else {
                VecDeque::from([Frame::data(bytes)])
            },
            rest: None,
            error: None,
        }
    }

    /// The inner service's body, streamed.
    fn stream(body: B) -> Self {
        CacheBody {
            pending: VecDeque::new(),
            rest: Some(Box::pin(body)),
            error: None,
        }
    }
}

impl<B: Body> Body for CacheBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        if let Some(frame) = this.pending.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        if let Some(error) = this.error.take() {
            return Poll::Ready(Some(Err(error)));
        }
        let Some(rest) = &mut this.rest else {
            return Poll::Ready(None);
        };
        match rest.as_mut().poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame.map_data(to_bytes)))),
            Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
            Poll::Ready(None) => {
                this.rest = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_empty()
            && self.error.is_none()
            && self.rest.as_ref().is_none_or(|rest| rest.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        let pending: u64 = self
            .pending
            .iter()
            .filter_map(Frame::data_ref)
            .map(|data| data.len() as u64)
            .sum();
        let rest = self
            .rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |rest| rest.size_hint());
        // Upper bound first cleared (`new`), so that no step has the lower above the upper.
        let mut hint = SizeHint::new();
        hint.set_lower(rest.lower().saturating_add(pending));
        if let Some(upper) = rest.upper() {
            hint.set_upper(upper.saturating_add(pending));
        }
        hint
    }
}

impl<B: Body> fmt::Debug for CacheBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBody")
            .field("pending_frames", &self.pending.len())
            .field("streaming", &self.rest.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("a name"),
                HeaderValue::from_str(value).expect("a value"),
            );
        }
        map
    }

    #[test]
    fn cache_control_directives() {
        let d = Directives::of(&headers(&[
            ("cache-control", "public, Max-Age=\"60\""),
            ("cache-control", "s-maxage=10, max-age=5"),
        ]));
        assert_eq!((d.max_age, d.s_maxage), (Some(60), Some(10)));
        assert!(!d.no_store && !d.private && !d.no_cache);
        let d = Directives::of(&headers(&[(
            "cache-control",
            "private=\"set-cookie\", no-store",
        )]));
        assert!(d.private && d.no_store);
    }

    #[test]
    fn variant_keys_escape_their_separators() {
        let request = headers(&[("accept-language", "en; q=1#"), ("x-a", "1"), ("x-a", "2")]);
        let names = vec![
            "accept-language".to_owned(),
            "x-a".to_owned(),
            "x-b".to_owned(),
        ];
        assert_eq!(
            variant_key("http:GET:h/p", &names, &request).as_deref(),
            Some("http:GET:h/p#accept-language=en%3B%20q%3D1%23;x-a=1,2;x-b;")
        );
        assert_eq!(
            vary_names(&headers(&[
                ("vary", "X-B, accept-language"),
                ("vary", "x-b")
            ])),
            Some(vec!["accept-language".to_owned(), "x-b".to_owned()])
        );
        assert_eq!(vary_names(&headers(&[("vary", "accept, *")])), None);
    }

    #[test]
    fn blobs_round_trip_through_every_serializer() {
        use crate::codec::{Codec, Serializer};
        let serializers = [
            Serializer::Json,
            Serializer::MessagePack,
            Serializer::Pickle,
        ];
        for serializer in serializers.into_iter().filter(|s| s.is_available()) {
            let codec = Codec::builder()
                .serializer(serializer)
                .build()
                .expect("a codec");
            for bytes in [&b"text"[..], &[0xff, 0, 1][..], &[][..]] {
                let stored = codec
                    .encode(&Blob(Bytes::copy_from_slice(bytes)))
                    .expect("encoded");
                let back: Blob = codec.decode("k", &stored).expect("decoded");
                assert_eq!(&back.0[..], bytes, "{serializer}");
            }
        }
    }
}
