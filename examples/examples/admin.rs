//! The admin page (`cachex-admin`) over a cache with some data of each type:
//!
//! ```text
//! cargo run --example admin                                   # the in-memory cache
//! CACHEX_URL=redis://127.0.0.1:6379/0 cargo run --example admin
//! ```
//!
//! then open <http://127.0.0.1:8000/admin>. It listens on `CACHEX_ADMIN_ADDR` (default
//! `127.0.0.1:8000`) and lets in requests from loopback addresses only: its authorization hook
//! looks at the peer's address and at the `Host` header (against DNS rebinding). A service
//! would check its own users there.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::Redirect;
use axum::routing::get;
use cachex::prelude::*;
use cachex::stream::XaddOptions;
use cachex_admin::AdminRouter;
use serde_json::json;

/// Where the admin is mounted.
pub const BASE: &str = "/admin";

/// Stores some data of each type (replacing what these keys held).
pub async fn seed(cache: &Cache) -> cachex::Result<()> {
    cache
        .adelete_many(&[
            "greeting", "counter", "user:1", "queue", "tags", "scores", "events", "xss",
        ])
        .await?;
    cache
        .aset("greeting", "hello, admin", Timeout::Never)
        .await?;
    cache
        .aset(
            "counter",
            &41,
            Timeout::After(std::time::Duration::from_secs(3600)),
        )
        .await?;
    cache
        .aset("xss", "<script>alert('xss')</script>", Timeout::Never)
        .await?;
    cache
        .ahset_many(
            "user:1",
            &[
                ("name", json!("Ada")),
                ("email", json!("ada@example.com")),
                ("roles", json!(["admin", "dev"])),
            ],
        )
        .await?;
    cache.arpush("queue", &["job-1", "job-2", "job-3"]).await?;
    cache.asadd("tags", &["rust", "cache", "admin"]).await?;
    cache
        .azadd("scores", &[("alice", 12.0), ("bob", 7.5), ("carol", 30.0)])
        .await?;
    for (kind, id) in [("signup", 1), ("login", 1), ("logout", 1)] {
        cache
            .axadd(
                "events",
                &[("kind", json!(kind)), ("user", json!(id))],
                XaddOptions::default(),
            )
            .await?;
    }
    Ok(())
}

/// The service: the admin nested at [`BASE`] over the named caches, `/` sending to it.
pub fn app(
    caches: Vec<(&str, Cache)>,
    authorize: impl Fn(&http::request::Parts) -> bool + Send + Sync + 'static,
) -> Result<Router, cachex_admin::BuildError> {
    let admin = caches
        .into_iter()
        .fold(AdminRouter::new(BASE), |admin, (name, cache)| {
            admin.cache(name, cache)
        })
        .authorize(authorize)
        .build()?;
    Ok(Router::new()
        .route("/", get(|| async { Redirect::to(BASE) }))
        .route("/admin/", get(|| async { Redirect::to(BASE) }))
        .nest(BASE, admin))
}

/// The example's hook: requests from this machine only, naming it as their host (a page of
/// another site whose name was rebound to 127.0.0.1 comes from loopback too, with its own host).
pub fn from_loopback(request: &http::request::Parts) -> bool {
    cachex_admin::local_host(request)
        && request
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cache = match std::env::var("CACHEX_URL") {
        Ok(url) => Cache::from_url(&url)?,
        Err(_) => Cache::in_memory(),
    };
    seed(&cache).await?;
    let address =
        std::env::var("CACHEX_ADMIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    println!("cache: {cache}");
    println!("admin: http://{}{BASE}", listener.local_addr()?);
    let app = app(vec![("default", cache)], from_loopback)?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
