//! The routes: reading pages are GETs, every change a POST checked for its CSRF token, and
//! the destructive ones answer a confirmation page first.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cachex::prelude::*;
use cachex::stream::StreamId;
use cachex::{Cache, Error, KeyType};
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderName, HeaderValue, REFERRER_POLICY, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{Method, StatusCode, Uri};
use maud::{Markup, html};
use serde_json::Value;

use crate::Authorize;
use crate::csrf::{self, Csrf};
use crate::pages::{self, Browser, CacheRow, Frame, KeyRow, Notice};
use crate::store::{self, Edit, Outcome, unhex};

/// The router's state.
pub(crate) struct Admin {
    pub(crate) base: String,
    pub(crate) caches: Vec<(String, Cache)>,
    pub(crate) authorize: Option<Authorize>,
    pub(crate) read_only: bool,
    pub(crate) csrf: Csrf,
}

/// This browser's CSRF nonce (from its cookie, or new).
#[derive(Clone)]
struct Nonce(String);

/// Keys per page of the browser.
const PAGE: usize = 50;

/// The POST route of a change: the handler `$handler(&Posted, $args) -> Answer` given the
/// request as a [`Posted`] (its CSRF token checked), its failure an error page.
macro_rules! posted {
    ($handler:ident $(, $arg:expr)?) => {
        post(|p: Posted| async move { p.answer($handler(&p $(, $arg)?).await) })
    };
}

/// The admin's routes behind its gate.
pub(crate) fn router(admin: Admin) -> Router {
    let admin = Arc::new(admin);
    Router::new()
        .route("/", get(index))
        .route("/{cache}/keys", get(keys))
        .route("/{cache}/key", get(key))
        .route("/{cache}/server", get(server))
        .route("/{cache}/edit", posted!(edited))
        .route("/{cache}/ttl", posted!(ttl_changed))
        .route("/{cache}/delete", posted!(deleted))
        .route("/{cache}/bulk-delete", posted!(bulk_deleted))
        .route("/{cache}/add", posted!(added))
        .route("/{cache}/clear", posted!(danger, false))
        .route("/{cache}/flush", posted!(danger, true))
        .layer(middleware::from_fn_with_state(admin.clone(), gate))
        .with_state(admin)
}

/// Every request passes here: [`admit`], then the security headers on whatever it answers.
async fn gate(state: State<Arc<Admin>>, request: Request, next: Next) -> Response {
    let mut response = admit(state, request, next).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Authorization, read-only refusal and the CSRF cookie.
async fn admit(State(admin): State<Arc<Admin>>, mut request: Request, next: Next) -> Response {
    if let Some(authorize) = &admin.authorize {
        let (parts, body) = request.into_parts();
        if !authorize(&parts) {
            return refusal(
                &admin,
                StatusCode::FORBIDDEN,
                "You are not authorized to use this admin.",
            );
        }
        request = Request::from_parts(parts, body);
    }
    if admin.read_only {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return refusal(&admin, StatusCode::FORBIDDEN, "This admin is read-only.");
        }
        // Served with the peer's address known (`into_make_service_with_connect_info`): local
        // use means a loopback peer.
        let remote = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| !peer.ip().is_loopback());
        // A page of another site whose name was rebound to this machine (DNS rebinding)
        // comes from a loopback peer too, but names its own host.
        if remote || !local_host(request.headers(), request.uri()) {
            return refusal(
                &admin,
                StatusCode::FORBIDDEN,
                "This admin is for local use only.",
            );
        }
    }
    let (nonce, new) = match csrf::nonce_of(request.headers()) {
        Some(nonce) => (nonce, false),
        None => match admin.csrf.nonce() {
            Some(nonce) => (nonce, true),
            None => {
                return refusal(&admin, StatusCode::INTERNAL_SERVER_ERROR, "No randomness.");
            }
        },
    };
    request.extensions_mut().insert(Nonce(nonce.clone()));
    let mut response = next.run(request).await;
    if new {
        let path = if admin.base.is_empty() {
            "/"
        } else {
            &admin.base
        };
        let cookie = format!(
            "{}={nonce}; Path={path}; HttpOnly; SameSite=Strict",
            csrf::COOKIE
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// Whether a request names this machine as its host (its `Host` header, else its URI's
/// authority): `localhost`, `127.0.0.1` or `[::1]`, with any port. A request naming no host is
/// not local.
pub(crate) fn local_host(headers: &http::HeaderMap, uri: &Uri) -> bool {
    let host = match headers.get(http::header::HOST) {
        Some(value) => value.to_str().ok(),
        None => uri.authority().map(http::uri::Authority::as_str),
    };
    host.is_some_and(local_name)
}

/// Whether `host` (a `Host` header's value) is `localhost`, `127.0.0.1` or `[::1]`, with or
/// without a port.
fn local_name(host: &str) -> bool {
    let port_ok = |port: &str| port.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = host.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, "")) => ip == "::1",
            Some((ip, tail)) => ip == "::1" && tail.strip_prefix(':').is_some_and(&port_ok),
            None => false,
        };
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port_ok(port) => name,
        Some(_) => return false,
        None => host,
    };
    name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1"
}

/// Headers on every answer: nothing but the inline stylesheet may load or run, forms post only
/// here, no other site may frame the pages (clickjacking), and nothing is cached.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (
        CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    ),
    (X_FRAME_OPTIONS, "DENY"),
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (REFERRER_POLICY, "same-origin"),
    (CACHE_CONTROL, "no-store"),
];

/// A page saying why a request was refused.
fn refusal(admin: &Admin, status: StatusCode, text: &str) -> Response {
    let frame = Frame {
        base: &admin.base,
        token: "",
        read_only: admin.read_only,
    };
    let body = pages::page(&frame, "Refused", &Notice::Error(text.to_owned()), html! {});
    (status, Html(body.into_string())).into_response()
}

/// A request's query or form fields.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(bytes: &[u8]) -> Self {
        Fields(form_urlencoded::parse(bytes).into_owned().collect())
    }

    fn of_query(uri: &Uri) -> Self {
        Fields::parse(uri.query().unwrap_or("").as_bytes())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    fn text(&self, name: &str) -> Result<&str, Failure> {
        self.get(name)
            .ok_or_else(|| Failure::bad(format!("the form has no {name}")))
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<T, Failure> {
        self.text(name)?
            .trim()
            .parse()
            .map_err(|_| Failure::bad(format!("{name} is not a number")))
    }

    /// A value typed in a form: JSON if it parses, else the text as a string.
    fn value(&self, name: &str) -> Result<Value, Failure> {
        let text = self.text(name)?;
        Ok(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())))
    }
}

/// A POST to a cache's route, once its CSRF token is checked: what every changing handler
/// starts from.
struct Posted {
    admin: Arc<Admin>,
    /// The cache's name (the path's segment).
    name: String,
    /// The CSRF token of this browser, for the forms of the page answered.
    token: String,
    form: Fields,
}

impl FromRequest<Arc<Admin>> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, admin: &Arc<Admin>) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Path(name) = Path::<String>::from_request_parts(&mut parts, admin)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(nonce) = parts.extensions.get::<Nonce>().cloned() else {
            return Err(refusal(admin, StatusCode::FORBIDDEN, "No CSRF cookie."));
        };
        let body = Bytes::from_request(Request::from_parts(parts, body), admin)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = admin
            .form(&nonce, &body)
            .map_err(|failure| refusal(admin, failure.status, &failure.text))?;
        Ok(Posted {
            admin: admin.clone(),
            name,
            token: admin.csrf.token(&nonce.0),
            form,
        })
    }
}

impl Posted {
    /// The handler's answer, a failure becoming an error page.
    fn answer(&self, result: Answer) -> Response {
        answer(&self.admin, result)
    }

    /// The admin, the cache's name, the page token, the form and the cache (or a 404 page).
    fn parts(&self) -> Result<(&Admin, &str, &str, &Fields, &Cache), Failure> {
        let cache = self.admin.cache(&self.name)?;
        Ok((&self.admin, &self.name, &self.token, &self.form, cache))
    }
}

/// Why a request failed, as a page.
struct Failure {
    status: StatusCode,
    text: String,
}

impl Failure {
    fn bad(text: impl Into<String>) -> Self {
        Failure {
            status: StatusCode::BAD_REQUEST,
            text: text.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            text: format!("The cache failed: {err}"),
        }
    }
}

/// What a handler answers.
type Answer = Result<Response, Failure>;

/// Runs a handler, a failure becoming an error page.
fn answer(admin: &Admin, result: Answer) -> Response {
    result.unwrap_or_else(|failure| refusal(admin, failure.status, &failure.text))
}

impl Admin {
    fn frame<'a>(&'a self, token: &'a str) -> Frame<'a> {
        Frame {
            base: &self.base,
            token,
            read_only: self.read_only,
        }
    }

    fn cache(&self, name: &str) -> Result<&Cache, Failure> {
        self.caches
            .iter()
            .find(|(cache, _)| cache == name)
            .map(|(_, cache)| cache)
            .ok_or_else(|| Failure {
                status: StatusCode::NOT_FOUND,
                text: format!("There is no cache {name:?}."),
            })
    }

    /// The form of a POST, once its CSRF token is checked.
    fn form(&self, nonce: &Nonce, body: &Bytes) -> Result<Fields, Failure> {
        let fields = Fields::parse(body);
        let token = fields.get(csrf::FIELD).unwrap_or("");
        if !self.csrf.verify(&nonce.0, token) {
            return Err(Failure {
                status: StatusCode::FORBIDDEN,
                text: "The form's CSRF token is missing or wrong: reload the page and try again."
                    .to_owned(),
            });
        }
        Ok(fields)
    }

    fn redirect(&self, cache: &str, page: &str) -> Response {
        Redirect::to(&format!("{}/{cache}/{page}", self.base)).into_response()
    }
}

fn html(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

/// A notice carried by a redirect: `?done=<code>` (and `&n=<count>` for counts), mapped to
/// fixed texts so that a link cannot make the page show text of its own as a success.
fn notice(query: &Fields) -> Notice {
    let count = || {
        query
            .get("n")
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let text = match query.get("done") {
        Some("saved") => "Saved.".to_owned(),
        Some("ttl-removed") => "The TTL was removed.".to_owned(),
        Some("ttl-set") => "The TTL was set.".to_owned(),
        Some("deleted") => "Deleted the key.".to_owned(),
        Some("deleted-n") => format!("Deleted {} keys.", count()),
        Some("added") => "Added.".to_owned(),
        Some("flushed") => "The database was flushed.".to_owned(),
        _ => return Notice::None,
    };
    Notice::Done(text)
}

async fn index(State(admin): State<Arc<Admin>>, nonce: axum::Extension<Nonce>) -> Response {
    let rows: Vec<CacheRow> = admin
        .caches
        .iter()
        .map(|(name, cache)| {
            // The URL that builds the cache, passwords shown as ***.
            let location = cache.to_string();
            CacheRow {
                name: name.clone(),
                backend: backend_of(&location),
                location,
            }
        })
        .collect();
    let token = admin.csrf.token(&nonce.0.0);
    html(pages::index(&admin.frame(&token), &rows))
}

/// The backend of a cache's URL: its scheme (`memory`, `redis`, `redis+cluster`, ...).
fn backend_of(location: &str) -> String {
    location.split("://").next().unwrap_or("").to_owned()
}

/// The glob of a search: as typed when it has wildcards, else the keys containing it.
fn glob(search: &str) -> String {
    if search.is_empty() {
        "*".to_owned()
    } else if search.contains(['*', '?', '[']) {
        search.to_owned()
    } else {
        format!("*{}*", cachex::keys::escape_glob(search))
    }
}

fn type_name(kind: &Option<KeyType>) -> String {
    match kind {
        None => "missing".to_owned(),
        Some(KeyType::String) => "string".to_owned(),
        Some(KeyType::Hash) => "hash".to_owned(),
        Some(KeyType::List) => "list".to_owned(),
        Some(KeyType::Set) => "set".to_owned(),
        Some(KeyType::SortedSet) => "zset".to_owned(),
        Some(KeyType::Stream) => "stream".to_owned(),
        Some(KeyType::Other(name)) => name.clone(),
        Some(_) => "other".to_owned(),
    }
}

async fn keys(
    State(admin): State<Arc<Admin>>,
    Path(name): Path<String>,
    nonce: axum::Extension<Nonce>,
    uri: Uri,
) -> Response {
    let query = Fields::of_query(&uri);
    let search = query.get("q").unwrap_or("");
    let kind = query.get("type").unwrap_or("");
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let result = async {
        let cache = admin.cache(&name)?;
        let (found, capped) = store::matching(cache, &glob(search)).await?;
        if kind.is_empty() {
            // Only the page's keys need their type and TTL.
            let matched = found.len();
            let shown: Vec<String> = found
                .into_iter()
                .skip(page.saturating_sub(1).saturating_mul(PAGE))
                .take(PAGE)
                .collect();
            let details = store::types_and_ttls(cache, &shown).await?;
            let rows = rows(shown, details).collect();
            return Ok::<_, Failure>((rows, matched, capped));
        }
        let details = store::types_and_ttls(cache, &found).await?;
        let rows: Vec<KeyRow> = rows(found, details)
            .filter(|row| row.kind == kind)
            .collect();
        let matched = rows.len();
        let rows = rows
            .into_iter()
            .skip(page.saturating_sub(1).saturating_mul(PAGE))
            .take(PAGE)
            .collect();
        Ok((rows, matched, capped))
    }
    .await;
    let result = result.map(|(rows, matched, capped)| {
        let token = admin.csrf.token(&nonce.0.0);
        html(pages::browser(
            &admin.frame(&token),
            &notice(&query),
            &Browser {
                cache: &name,
                search,
                kind,
                page,
                pages: matched.div_ceil(PAGE),
                matched,
                capped,
                rows,
            },
        ))
    });
    answer(&admin, result)
}

/// The browser's rows of keys and their types and TTLs.
fn rows(
    keys: Vec<String>,
    details: Vec<(Option<KeyType>, cachex::Ttl)>,
) -> impl Iterator<Item = KeyRow> {
    keys.into_iter()
        .zip(details)
        .map(|(key, (kind, ttl))| KeyRow {
            key,
            kind: type_name(&kind),
            ttl,
        })
}

/// A key's page with `notice`, or a page saying it is missing.
async fn key_page(
    admin: &Admin,
    name: &str,
    key: &str,
    token: &str,
    notice: Notice,
    status: StatusCode,
) -> Answer {
    let cache = admin.cache(name)?;
    let frame = admin.frame(token);
    match store::view(cache, key).await? {
        Some(view) => Ok((
            status,
            html(pages::key_page(&frame, name, key, &notice, &view)),
        )
            .into_response()),
        None => {
            let notice = match notice {
                Notice::None => {
                    Notice::Error(format!("The key {key:?} does not exist (any more)."))
                }
                other => other,
            };
            Ok((
                StatusCode::NOT_FOUND,
                html(pages::page(
                    &frame,
                    &format!("Key {key}"),
                    &notice,
                    html! {
                        a href={ (admin.base) "/" (name) "/keys" } { "Back to the keys" }
                    },
                )),
            )
                .into_response())
        }
    }
}

async fn key(
    State(admin): State<Arc<Admin>>,
    Path(name): Path<String>,
    nonce: axum::Extension<Nonce>,
    uri: Uri,
) -> Response {
    let query = Fields::of_query(&uri);
    let token = admin.csrf.token(&nonce.0.0);
    let result = match query.text("k") {
        Ok(key) => key_page(&admin, &name, key, &token, notice(&query), StatusCode::OK).await,
        Err(failure) => Err(failure),
    };
    answer(&admin, result)
}

/// The edit a key page's form asks for.
fn edit_of(fields: &Fields) -> Result<Edit, Failure> {
    let raw = || {
        unhex(fields.text("raw")?).ok_or_else(|| Failure::bad("the item is not named by hex bytes"))
    };
    Ok(match fields.text("op")? {
        "set" => Edit::SetString(fields.value("value")?),
        "hset" => Edit::HashSet(fields.text("field")?.to_owned(), fields.value("value")?),
        "hdel" => Edit::HashDelete(fields.text("field")?.to_owned()),
        "lpush" => Edit::Push {
            head: true,
            value: fields.value("value")?,
        },
        "rpush" => Edit::Push {
            head: false,
            value: fields.value("value")?,
        },
        "lpop" => Edit::Pop { head: true },
        "rpop" => Edit::Pop { head: false },
        "lrem" => Edit::ListRemove(raw()?),
        "ltrim" => Edit::ListTrim(fields.number("start")?, fields.number("stop")?),
        "lset" => Edit::ListSet(fields.number("index")?, fields.value("value")?),
        "sadd" => Edit::SetAdd(fields.value("value")?),
        "srem" => Edit::SetRemove(raw()?),
        "zadd" => {
            let score: f64 = fields.number("score")?;
            if score.is_nan() {
                return Err(Failure::bad("the score is not a number"));
            }
            Edit::ZsetAdd(fields.value("value")?, score)
        }
        "zrem" => Edit::ZsetRemove(raw()?),
        "xadd" => Edit::StreamAdd(fields.text("field")?.to_owned(), fields.value("value")?),
        "xdel" => Edit::StreamDelete(
            fields
                .text("id")?
                .parse::<StreamId>()
                .map_err(|_| Failure::bad("not a stream id"))?,
        ),
        "xtrim" => Edit::StreamTrim(fields.number("maxlen")?),
        other => return Err(Failure::bad(format!("unknown edit {other:?}"))),
    })
}

async fn edited(post: &Posted) -> Answer {
    let (admin, name, token, form, cache) = post.parts()?;
    let key = form.text("k")?;
    let seen = form.text("fp")?;
    let edit = edit_of(form)?;
    match store::apply(cache, key, seen, edit).await? {
        Outcome::Applied => {
            Ok(admin.redirect(name, &format!("key?k={}&done=saved", pages::key_query(key))))
        }
        Outcome::TooLarge => Err(Failure::bad(format!(
            "Not saved: this key holds more than {} items, too many to edit here (each \
             edit checks the whole content first).",
            store::EDITABLE
        ))),
        Outcome::Conflict => {
            let text = "Not saved: this key changed since you opened it (someone else edited \
                        it). Its current content is shown below; make your change again.";
            key_page(
                admin,
                name,
                key,
                token,
                Notice::Error(text.to_owned()),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

async fn ttl_changed(post: &Posted) -> Answer {
    let (admin, name, _, form, cache) = post.parts()?;
    let key = form.text("k")?;
    let (changed, done) = match form.text("op")? {
        "persist" => {
            // One answer: whether a TTL was removed (not when the key is missing or
            // already has none).
            if !cache.apersist(key).await? {
                return Err(Failure::bad(format!(
                    "the key {key:?} has no TTL to remove (or does not exist)"
                )));
            }
            (true, "ttl-removed")
        }
        "expire" => {
            let seconds: u64 = form.number("seconds")?;
            if seconds == 0 {
                return Err(Failure::bad(
                    "a TTL is at least 1 second (delete the key instead)",
                ));
            }
            let timeout = std::time::Duration::from_secs(seconds);
            (cache.aexpire(key, timeout).await?, "ttl-set")
        }
        other => return Err(Failure::bad(format!("unknown TTL change {other:?}"))),
    };
    if !changed {
        return Err(Failure::bad(format!("the key {key:?} does not exist")));
    }
    Ok(admin.redirect(
        name,
        &format!("key?k={}&done={done}", pages::key_query(key)),
    ))
}

async fn deleted(post: &Posted) -> Answer {
    let (admin, name, token, form, cache) = post.parts()?;
    let key = form.text("k")?;
    if form.get("confirmed") != Some("yes") {
        return Ok(html(pages::confirm(
            &admin.frame(token),
            name,
            "Delete this key?",
            html! { p { "The key " code { (key) } " and everything it holds will be deleted." } },
            "delete",
            &[("k", key)],
        )));
    }
    cache.adelete(key).await?;
    Ok(admin.redirect(name, "keys?done=deleted"))
}

async fn bulk_deleted(post: &Posted) -> Answer {
    let (admin, name, token, form, cache) = post.parts()?;
    let keys = form.all("key");
    if keys.is_empty() {
        return Err(Failure::bad("no key was selected"));
    }
    if form.get("confirmed") != Some("yes") {
        let fields: Vec<(&str, &str)> = keys.iter().map(|key| ("key", *key)).collect();
        return Ok(html(pages::confirm(
            &admin.frame(token),
            name,
            &format!("Delete {} keys?", keys.len()),
            html! { ul { @for key in &keys { li { code { (key) } } } } },
            "bulk-delete",
            &fields,
        )));
    }
    let deleted = cache.adelete_many(&keys).await?;
    Ok(admin.redirect(name, &format!("keys?done=deleted-n&n={deleted}")))
}

async fn added(post: &Posted) -> Answer {
    let (admin, name, _, form, cache) = post.parts()?;
    let key = form.text("k")?;
    let value = form.value("value")?;
    let field = form.get("field").unwrap_or("");
    let ttl = match form.get("ttl").unwrap_or("").trim() {
        "" => None,
        seconds => match seconds.parse::<u64>() {
            Ok(0) => {
                return Err(Failure::bad(
                    "a TTL is at least 1 second (leave it empty for none)",
                ));
            }
            Ok(seconds) => Some(std::time::Duration::from_secs(seconds)),
            Err(_) => return Err(Failure::bad("the TTL is not a number")),
        },
    };
    if key.is_empty() {
        return Err(Failure::bad("the key is empty"));
    }
    let new = match form.text("type")? {
        "string" => Edit::SetString(value),
        "hash" if !field.is_empty() => Edit::HashSet(field.to_owned(), value),
        "list" => Edit::Push { head: false, value },
        "set" => Edit::SetAdd(value),
        "zset" => {
            let score: f64 = field
                .trim()
                .parse()
                .map_err(|_| Failure::bad("the score is not a number"))?;
            if score.is_nan() {
                return Err(Failure::bad("the score is not a number"));
            }
            Edit::ZsetAdd(value, score)
        }
        "stream" if !field.is_empty() => Edit::StreamAdd(field.to_owned(), value),
        "hash" | "stream" => return Err(Failure::bad("a hash or stream needs a field")),
        other => return Err(Failure::bad(format!("unknown type {other:?}"))),
    };
    if !store::add(cache, key, new, ttl).await? {
        return Err(Failure::bad(format!("the key {key:?} exists already")));
    }
    Ok(admin.redirect(name, &format!("key?k={}&done=added", pages::key_query(key))))
}

async fn server(
    State(admin): State<Arc<Admin>>,
    Path(name): Path<String>,
    nonce: axum::Extension<Nonce>,
    uri: Uri,
) -> Response {
    let token = admin.csrf.token(&nonce.0.0);
    let result = async {
        let cache = admin.cache(&name)?;
        let info = cache.ainfo(None).await?;
        let commands_info = cache.ainfo(Some("commandstats")).await?;
        let sections = info
            .sections()
            .map(|sections| {
                sections
                    .iter()
                    .map(|(name, fields)| {
                        (
                            name.clone(),
                            fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let commands = commands_info
            .sections()
            .and_then(|sections| sections.get("commandstats"))
            .map(|fields| fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let location = cache.to_string();
        let settings = cache.core().key_settings();
        let view = pages::Server {
            cache: &name,
            backend: backend_of(&location),
            location: location.clone(),
            prefix: settings.prefix().to_owned(),
            version: settings.version(),
            hits: info.get("stats", "keyspace_hits").map(str::to_owned),
            misses: info.get("stats", "keyspace_misses").map(str::to_owned),
            sections,
            commands,
            slowlog: cache.aslowlog_get(20).await?,
            slowlog_len: cache.aslowlog_len().await?,
        };
        Ok(html(pages::server(
            &admin.frame(&token),
            &notice(&Fields::of_query(&uri)),
            &view,
        )))
    }
    .await;
    answer(&admin, result)
}

/// The danger zone's two actions, confirmed first.
async fn danger(post: &Posted, flush: bool) -> Answer {
    let (admin, name, token, form, cache) = post.parts()?;
    let action = if flush { "flush" } else { "clear" };
    if form.get("confirmed") != Some("yes") {
        let what = if flush {
            html! { p { strong { "Every key of the database" } ", this cache's or not, will be deleted (FLUSHDB)." } }
        } else {
            html! { p { "Every key of the cache " code { (name) } ", in every version, will be deleted." } }
        };
        let title = if flush {
            "Flush the whole database?"
        } else {
            "Clear this cache?"
        };
        return Ok(html(pages::confirm(
            &admin.frame(token),
            name,
            title,
            what,
            action,
            &[],
        )));
    }
    let done = if flush {
        cache.aflush_db().await?;
        "flushed".to_owned()
    } else {
        format!("deleted-n&n={}", cache.aclear_all_versions().await?)
    };
    Ok(admin.redirect(name, &format!("server?done={done}")))
}
