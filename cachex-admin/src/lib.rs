//! An admin page for [cachex] caches, as an axum [`Router`]: a list of the caches with
//! their backend and location, a key browser (wildcard search, filter by type, TTL,
//! pagination, bulk delete, add a key), a page per key type (string, hash, list, set, sorted
//! set, stream) with its edits, and a server page (INFO, keyspace hits and misses, command
//! statistics, the slow log, and a danger zone that clears or flushes).
//!
//! Every content edit on a key's page is a compare-and-swap: the page carries a fingerprint of
//! the content it showed, and the edit applies only if the key still has it (on a server a Lua
//! script checks and applies at once; in memory a transaction checks under its exclusive hold
//! of the key), so that two people editing one key never silently overwrite each other. Edits
//! keep the key's TTL. The other changes are not checked against what the page showed: a TTL
//! change, a deletion (of a key or of the selected keys), clearing or flushing act on the key
//! or keys as they are then; adding a key creates it only if it does not exist, at once with
//! its TTL. A hash, list, set or sorted set of more than 10,000 items is shown but not
//! editable (the check would read it whole, holding the server): its size is read first.
//!
//! Safe by construction: [`AdminRouter::build`] refuses to build without an authorization
//! hook ([`AdminRouter::authorize`], or [`AdminRouter::authorized_upstream`] when the service
//! puts its own layer in front) unless the router is made
//! [read-only for local use](AdminRouter::read_only_for_local_use). State changes are POSTs
//! with a CSRF token (a signed double-submit cookie), every value is escaped, destructive
//! actions ask for a confirmation, and the caches' locations never show a password. Every
//! answer carries a Content-Security-Policy that lets nothing load or run but the inline
//! stylesheet and forbids framing, with `X-Frame-Options: DENY` and `Cache-Control: no-store`.
//!
//! ```
//! use cachex::Cache;
//! use cachex_admin::AdminRouter;
//!
//! let admin = AdminRouter::new("/admin")
//!     .cache("default", Cache::in_memory())
//!     .authorize(|request: &http::request::Parts| {
//!         request.headers.get("x-staff").is_some_and(|v| v == "yes")
//!     })
//!     .build()?;
//! let app: axum::Router = axum::Router::new().nest("/admin", admin);
//! # drop(app);
//! # Ok::<(), cachex_admin::BuildError>(())
//! ```

mod csrf;
mod handlers;
mod pages;
mod store;

use std::fmt;
use std::sync::Arc;

use axum::Router;
use cachex::Cache;

/// An authorization hook: whether a request may use the admin.
type Authorize = Arc<dyn Fn(&http::request::Parts) -> bool + Send + Sync>;

/// Who may use the admin.
#[derive(Clone)]
enum Access {
    /// Nobody said: the builder refuses to build.
    Unset,
    /// The hook decides for every request.
    Hook(Authorize),
    /// The service authorizes in a layer of its own in front of the router.
    Upstream,
    /// No edits at all, for a developer's own machine.
    ReadOnly,
}

/// Builds the admin [`Router`]: name the caches, say who may use it, then
/// [`build`](AdminRouter::build).
pub struct AdminRouter {
    base: String,
    caches: Vec<(String, Cache)>,
    access: Access,
}

impl fmt::Debug for AdminRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminRouter")
            .field("base", &self.base)
            .field(
                "caches",
                &self.caches.iter().map(|(name, _)| name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Why [`AdminRouter::build`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// Neither an authorization hook nor read-only mode was chosen.
    NoAuthorization,
    /// No cache was given.
    NoCache,
    /// A cache name is empty, repeated, or has characters other than ASCII letters, digits,
    /// `-` and `_` (it is a path segment).
    BadName(String),
    /// The mount path does not start with `/` (or ends with one).
    BadBase(String),
    /// The system gave no randomness for the CSRF secret.
    NoRandomness,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NoAuthorization => f.write_str(
                "the admin router needs an authorization hook (authorize, authorized_upstream) \
                 or read_only_for_local_use",
            ),
            BuildError::NoCache => f.write_str("the admin router has no cache"),
            BuildError::BadName(name) => write!(
                f,
                "the cache name {name:?} is empty, repeated, or not only ASCII letters, digits, - and _"
            ),
            BuildError::BadBase(base) => write!(
                f,
                "the mount path {base:?} must start with / and not end with one (or be empty)"
            ),
            BuildError::NoRandomness => f.write_str("no system randomness for the CSRF secret"),
        }
    }
}

impl std::error::Error for BuildError {}

/// Whether a request names this machine as its host: its `Host` header (else its URI's
/// authority) is `localhost`, `127.0.0.1` or `[::1]`, with any port. An authorization hook
/// that lets in loopback peers should check this too: a page of another site whose name was
/// rebound to 127.0.0.1 (DNS rebinding) reaches the admin from a loopback peer, but with its
/// own name as the host. Read-only mode checks it.
pub fn local_host(request: &http::request::Parts) -> bool {
    handlers::local_host(&request.headers, &request.uri)
}

impl AdminRouter {
    /// An admin to be mounted at `base` (`"/admin"`, or `""` at the root): the pages link to
    /// each other under it, so nest the built router there.
    pub fn new(base: impl Into<String>) -> Self {
        AdminRouter {
            base: base.into(),
            caches: Vec::new(),
            access: Access::Unset,
        }
    }

    /// Adds a cache under `name` (a path segment: ASCII letters, digits, `-`, `_`).
    pub fn cache(mut self, name: impl Into<String>, cache: Cache) -> Self {
        self.caches.push((name.into(), cache));
        self
    }

    /// Every request must pass `hook` (given the request's method, URI and headers, the
    /// extensions a layer in front put there); a refused one gets 403.
    pub fn authorize(
        mut self,
        hook: impl Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.access = Access::Hook(Arc::new(hook));
        self
    }

    /// The service authorizes every request in a layer of its own in front of this router
    /// (a tower layer, a reverse proxy): the admin then checks nothing itself.
    pub fn authorized_upstream(mut self) -> Self {
        self.access = Access::Upstream;
        self
    }

    /// No authorization, and no edits at all: every page reads, every form is gone, every
    /// POST is refused (403). For a developer's own machine: serve it on loopback. A request
    /// whose host is not this machine ([`local_host`]: against DNS rebinding) is refused, and
    /// when it is served with the peer's address
    /// (`into_make_service_with_connect_info::<SocketAddr>`), so is a peer that is not a
    /// loopback address.
    pub fn read_only_for_local_use(mut self) -> Self {
        self.access = Access::ReadOnly;
        self
    }

    /// The router, to nest at the mount path.
    ///
    /// # Errors
    ///
    /// [`BuildError`]: no authorization chosen, no cache, a bad name or mount path.
    pub fn build(self) -> Result<Router, BuildError> {
        let AdminRouter {
            base,
            caches,
            access,
        } = self;
        if (!base.is_empty() && !base.starts_with('/')) || base.ends_with('/') {
            return Err(BuildError::BadBase(base));
        }
        if caches.is_empty() {
            return Err(BuildError::NoCache);
        }
        for (index, (name, _)) in caches.iter().enumerate() {
            let good = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !caches[..index].iter().any(|(other, _)| other == name);
            if !good {
                return Err(BuildError::BadName(name.clone()));
            }
        }
        let (authorize, read_only) = match access {
            Access::Unset => return Err(BuildError::NoAuthorization),
            Access::Hook(hook) => (Some(hook), false),
            Access::Upstream => (None, false),
            Access::ReadOnly => (None, true),
        };
        let csrf = csrf::Csrf::new().ok_or(BuildError::NoRandomness)?;
        Ok(handlers::router(handlers::Admin {
            base,
            caches,
            authorize,
            read_only,
            csrf,
        }))
    }
}
