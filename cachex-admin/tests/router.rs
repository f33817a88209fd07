//! The admin router through HTTP requests (tower's `oneshot`, no socket), on the in-memory
//! cache and on a real Redis started by the harness: the builder's refusals, read-only mode,
//! CSRF without a cookie, every edit of every type with its compare-and-swap, the add form.

use axum::Router;
use axum::body::Body;
use cachex::prelude::*;
use cachex::{Cache, Ttl};
use cachex_admin::{AdminRouter, BuildError};
use cachex_tests::{ServerKind, shared};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use std::time::Duration;
use tower::ServiceExt;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A browser's state: its CSRF cookie and the token its pages carry.
struct Session {
    router: Router,
    cookie: String,
    token: String,
}

/// Sends a request; the status, the `Location` header and the body.
async fn send(
    router: &Router,
    request: Request<Body>,
) -> Result<(StatusCode, String, String), Box<dyn std::error::Error>> {
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

impl Session {
    /// Opens the cache list once, keeping the cookie and token it gives.
    async fn start(router: Router) -> Result<Session, Box<dyn std::error::Error>> {
        let response = router
            .clone()
            .oneshot(Request::get("/admin").body(Body::empty())?)
            .await?;
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .ok_or("no CSRF cookie")?
            .to_owned();
        let router2 = router.clone();
        let page = router2
            .oneshot(
                Request::get("/admin/c/keys")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())?,
            )
            .await?;
        let body = page.into_body().collect().await?.to_bytes();
        let body = String::from_utf8_lossy(&body);
        let at = body
            .find("name=\"csrf\" value=\"")
            .ok_or("no token in the page")?
            + 19;
        let token = body[at..at + 64].to_owned();
        Ok(Session {
            router,
            cookie,
            token,
        })
    }

    async fn get(
        &self,
        path: &str,
    ) -> Result<(StatusCode, String, String), Box<dyn std::error::Error>> {
        let request = Request::get(path)
            .header(header::COOKIE, &self.cookie)
            .body(Body::empty())?;
        send(&self.router, request).await
    }

    async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<(StatusCode, String, String), Box<dyn std::error::Error>> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("csrf", &self.token);
        for (name, value) in fields {
            form.append_pair(name, value);
        }
        let request = Request::post(path)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.finish()))?;
        send(&self.router, request).await
    }

    /// The fingerprint the key's page shows.
    async fn fingerprint(&self, key: &str) -> Result<String, Box<dyn std::error::Error>> {
        let (status, _, body) = self.get(&format!("/admin/c/key?k={key}")).await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        let at = body.find("name=\"fp\" value=\"").ok_or("no fingerprint")? + 17;
        Ok(body[at..at + 40].to_owned())
    }

    /// Applies one edit with the page's current fingerprint: the status.
    async fn edit(
        &self,
        key: &str,
        fields: &[(&str, &str)],
    ) -> Result<StatusCode, Box<dyn std::error::Error>> {
        let fp = self.fingerprint(key).await?;
        let mut all = vec![("k", key), ("fp", fp.as_str())];
        all.extend_from_slice(fields);
        let (status, _, body) = self.post("/admin/c/edit", &all).await?;
        assert!(
            status == StatusCode::SEE_OTHER || status.is_success(),
            "{status}: {body}"
        );
        Ok(status)
    }
}

fn app(cache: Cache) -> Result<Router, BuildError> {
    let admin = AdminRouter::new("/admin")
        .cache("c", cache)
        .authorized_upstream()
        .build()?;
    Ok(Router::new().nest("/admin", admin))
}

#[test]
fn the_builder_refuses_without_authorization_and_bad_names() {
    let cache = Cache::in_memory();
    let refused = AdminRouter::new("/admin").cache("c", cache.clone()).build();
    assert_eq!(refused.err(), Some(BuildError::NoAuthorization));
    let bad = AdminRouter::new("/admin")
        .cache("a/b", cache.clone())
        .read_only_for_local_use()
        .build();
    assert_eq!(bad.err(), Some(BuildError::BadName("a/b".to_owned())));
    let twice = AdminRouter::new("/admin")
        .cache("c", cache.clone())
        .cache("c", cache.clone())
        .authorized_upstream()
        .build();
    assert_eq!(twice.err(), Some(BuildError::BadName("c".to_owned())));
    assert_eq!(
        AdminRouter::new("admin/")
            .cache("c", cache)
            .authorized_upstream()
            .build()
            .err(),
        Some(BuildError::BadBase("admin/".to_owned()))
    );
    assert_eq!(
        AdminRouter::new("").read_only_for_local_use().build().err(),
        Some(BuildError::NoCache)
    );
}

#[tokio::test]
async fn read_only_refuses_every_post_and_shows_no_form() -> TestResult {
    let cache = Cache::in_memory();
    cache.aset("k", &1, Timeout::Never).await?;
    let admin = AdminRouter::new("/admin")
        .cache("c", cache.clone())
        .read_only_for_local_use()
        .build()?;
    let router = Router::new().nest("/admin", admin);
    let (status, _, body) = send(
        &router,
        Request::get("/admin/c/key?k=k")
            .header(header::HOST, "localhost:8000")
            .body(Body::empty())?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("Read-only") && !body.contains("<form method=\"post\""),
        "{body}"
    );
    let (status, _, body) = send(
        &router,
        Request::post("/admin/c/delete")
            .header(header::HOST, "127.0.0.1")
            .body(Body::from("k=k&confirmed=yes"))?,
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(cache.ahas_key("k").await?);
    // A peer that is not this machine is refused, even to read.
    let mut remote = Request::get("/admin/c/key?k=k")
        .header(header::HOST, "localhost")
        .body(Body::empty())?;
    remote
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [192, 0, 2, 1],
            4000,
        ))));
    let (status, _, body) = send(&router, remote).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("local use only"), "{body}");
    Ok(())
}

/// A read-only admin on this machine with `host` as the request's `Host`, from a loopback peer:
/// the status.
async fn read_only_with_host(host: Option<&str>) -> Result<StatusCode, Box<dyn std::error::Error>> {
    let cache = Cache::in_memory();
    cache.aset("k", &1, Timeout::Never).await?;
    let admin = AdminRouter::new("/admin")
        .cache("c", cache)
        .read_only_for_local_use()
        .build()?;
    let router = Router::new().nest("/admin", admin);
    let mut request = Request::get("/admin/c/key?k=k");
    if let Some(host) = host {
        request = request.header(header::HOST, host);
    }
    let mut request = request.body(Body::empty())?;
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            4000,
        ))));
    let (status, _, body) = send(&router, request).await?;
    if status == StatusCode::FORBIDDEN {
        assert!(body.contains("local use only"), "{body}");
    }
    Ok(status)
}

#[tokio::test]
async fn read_only_refuses_a_foreign_host_dns_rebinding() -> TestResult {
    for host in [
        "localhost",
        "localhost:8000",
        "127.0.0.1:1",
        "[::1]",
        "[::1]:8000",
        "LOCALHOST",
    ] {
        assert_eq!(
            read_only_with_host(Some(host)).await?,
            StatusCode::OK,
            "{host}"
        );
    }
    for host in [
        "attacker.example",
        "attacker.example:8000",
        "localhost.attacker.example",
        "127.0.0.1.nip.io:8000",
        "[::2]:8000",
        "localhost:80x",
        "[::1]x",
    ] {
        assert_eq!(
            read_only_with_host(Some(host)).await?,
            StatusCode::FORBIDDEN,
            "{host}"
        );
    }
    assert_eq!(read_only_with_host(None).await?, StatusCode::FORBIDDEN);
    Ok(())
}

#[tokio::test]
async fn a_refusing_hook_answers_403_and_no_cookie() -> TestResult {
    let cache = Cache::in_memory();
    cache.aset("k", &1, Timeout::Never).await?;
    let admin = AdminRouter::new("/admin")
        .cache("c", cache.clone())
        .authorize(|_| false)
        .build()?;
    let router = Router::new().nest("/admin", admin);
    let requests = [
        Request::get("/admin/c/key?k=k").body(Body::empty())?,
        Request::post("/admin/c/delete")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("k=k&confirmed=yes"))?,
    ];
    for request in requests {
        let response = router.clone().oneshot(request).await?;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.headers().get(header::SET_COOKIE).is_none());
    }
    assert!(cache.ahas_key("k").await?);
    Ok(())
}

#[tokio::test]
async fn persist_answers_from_its_own_reply() -> TestResult {
    let cache = Cache::in_memory();
    cache
        .aset("t", &1, Timeout::After(Duration::from_secs(300)))
        .await?;
    cache.aset("p", &1, Timeout::Never).await?;
    let session = Session::start(app(cache.clone())?).await?;
    let (status, location, body) = session
        .post("/admin/c/ttl", &[("k", "t"), ("op", "persist")])
        .await?;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(location.ends_with("done=ttl-removed"), "{location}");
    assert_eq!(cache.attl("t").await?, Ttl::Persistent);
    // No TTL to remove, or no key: not answered "removed".
    for key in ["p", "missing"] {
        let (status, _, body) = session
            .post("/admin/c/ttl", &[("k", key), ("op", "persist")])
            .await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}: {body}");
        assert!(body.contains("no TTL to remove"), "{body}");
    }
    Ok(())
}

#[tokio::test]
async fn a_huge_page_number_and_a_forged_notice_are_harmless() -> TestResult {
    let cache = Cache::in_memory();
    cache.aset("k", &1, Timeout::Never).await?;
    let session = Session::start(app(cache)?).await?;
    let (status, _, body) = session
        .get("/admin/c/keys?page=18446744073709551615")
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = session
        .get("/admin/c/keys?page=18446744073709551615&type=string")
        .await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A link's own text is not shown as a success; a known code is.
    let (_, _, body) = session
        .get("/admin/c/key?k=k&done=Your+password+was+reset")
        .await?;
    assert!(!body.contains("password"), "{body}");
    let (_, _, body) = session.get("/admin/c/key?k=k&done=saved").await?;
    assert!(body.contains("Saved."), "{body}");
    Ok(())
}

#[tokio::test]
async fn a_post_without_the_csrf_cookie_or_token_is_refused() -> TestResult {
    let cache = Cache::in_memory();
    cache.aset("k", &1, Timeout::Never).await?;
    let session = Session::start(app(cache.clone())?).await?;
    // No cookie at all: the token alone is not enough.
    let body = format!("csrf={}&k=k&confirmed=yes", session.token);
    let (status, _, text) = send(
        &session.router,
        Request::post("/admin/c/delete").body(Body::from(body))?,
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    // The cookie without a token.
    let (status, _, _) = send(
        &session.router,
        Request::post("/admin/c/delete")
            .header(header::COOKIE, &session.cookie)
            .body(Body::from("k=k&confirmed=yes"))?,
    )
    .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(cache.ahas_key("k").await?);
    // Both: deleted.
    let (status, _, _) = session
        .post("/admin/c/delete", &[("k", "k"), ("confirmed", "yes")])
        .await?;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!cache.ahas_key("k").await?);
    Ok(())
}

/// Every edit of every type, then a stale fingerprint refused, on one cache.
async fn every_edit(cache: Cache) -> TestResult {
    let session = Session::start(app(cache.clone())?).await?;
    cache
        .adelete_many(&["s", "h", "l", "set", "z", "x", "new"])
        .await?;

    // A string keeps its TTL through an edit.
    cache
        .aset("s", "one", Timeout::After(Duration::from_secs(300)))
        .await?;
    session
        .edit("s", &[("op", "set"), ("value", "{\"two\":2}")])
        .await?;
    assert_eq!(
        cache.aget::<serde_json::Value>("s").await?,
        Some(serde_json::json!({"two": 2}))
    );
    assert!(matches!(cache.attl("s").await?, Ttl::Expires(_)));

    cache.ahset("h", "a", &1).await?;
    session
        .edit("h", &[("op", "hset"), ("field", "b"), ("value", "2")])
        .await?;
    session.edit("h", &[("op", "hdel"), ("field", "a")]).await?;
    assert_eq!(cache.ahkeys("h").await?, ["b"]);

    cache.arpush("l", &["b"]).await?;
    session
        .edit("l", &[("op", "lpush"), ("value", "a")])
        .await?;
    session
        .edit("l", &[("op", "rpush"), ("value", "c")])
        .await?;
    session
        .edit("l", &[("op", "rpush"), ("value", "d")])
        .await?;
    session
        .edit("l", &[("op", "lset"), ("index", "1"), ("value", "B")])
        .await?;
    assert_eq!(
        cache.alrange::<String>("l", 0, -1).await?,
        ["a", "B", "c", "d"]
    );
    session.edit("l", &[("op", "lpop")]).await?;
    session.edit("l", &[("op", "rpop")]).await?;
    let c = cachex_admin_hex(&cache, "\"c\"");
    session.edit("l", &[("op", "lrem"), ("raw", &c)]).await?;
    assert_eq!(cache.alrange::<String>("l", 0, -1).await?, ["B"]);
    session
        .edit("l", &[("op", "rpush"), ("value", "e")])
        .await?;
    session
        .edit("l", &[("op", "ltrim"), ("start", "1"), ("stop", "-1")])
        .await?;
    assert_eq!(cache.alrange::<String>("l", 0, -1).await?, ["e"]);

    cache.asadd("set", &["x"]).await?;
    session
        .edit("set", &[("op", "sadd"), ("value", "y")])
        .await?;
    let x = cachex_admin_hex(&cache, "\"x\"");
    session.edit("set", &[("op", "srem"), ("raw", &x)]).await?;
    assert_eq!(cache.asmembers::<String>("set").await?, ["y"]);

    cache.azadd("z", &[("p", 1.0)]).await?;
    session
        .edit("z", &[("op", "zadd"), ("value", "q"), ("score", "2.5")])
        .await?;
    let p = cachex_admin_hex(&cache, "\"p\"");
    session.edit("z", &[("op", "zrem"), ("raw", &p)]).await?;
    assert_eq!(
        cache.azrange_with_scores::<String>("z", 0, -1).await?,
        [("q".to_owned(), 2.5)]
    );

    cache
        .axadd("x", &[("f", 1)], cachex::stream::XaddOptions::default())
        .await?;
    session
        .edit("x", &[("op", "xadd"), ("field", "g"), ("value", "2")])
        .await?;
    session
        .edit("x", &[("op", "xadd"), ("field", "h"), ("value", "3")])
        .await?;
    assert_eq!(cache.axlen("x").await?, 3);
    session
        .edit("x", &[("op", "xtrim"), ("maxlen", "2")])
        .await?;
    let first = cache
        .axrange::<i64>(
            "x",
            cachex::stream::StreamId::MIN,
            cachex::stream::StreamId::MAX,
            Some(1),
        )
        .await?;
    let id = first.first().ok_or("an entry")?.id.to_string();
    session.edit("x", &[("op", "xdel"), ("id", &id)]).await?;
    assert_eq!(cache.axlen("x").await?, 1);

    // A stale fingerprint: 409 and nothing changed.
    let fp = session.fingerprint("h").await?;
    cache.ahset("h", "c", &3).await?;
    let (status, _, body) = session
        .post(
            "/admin/c/edit",
            &[("k", "h"), ("fp", &fp), ("op", "hdel"), ("field", "b")],
        )
        .await?;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("Not saved"), "{body}");
    assert!(cache.ahexists("h", "b").await?);

    // The add form.
    let (status, location, body) = session
        .post(
            "/admin/c/add",
            &[
                ("k", "new"),
                ("type", "zset"),
                ("field", "4"),
                ("value", "m"),
                ("ttl", "60"),
            ],
        )
        .await?;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(location.starts_with("/admin/c/key?k=new"), "{location}");
    assert_eq!(cache.azscore("new", "m").await?, Some(4.0));
    assert!(matches!(cache.attl("new").await?, Ttl::Expires(_)));
    let (status, _, _) = session
        .post(
            "/admin/c/add",
            &[("k", "new"), ("type", "string"), ("value", "1")],
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an existing key is not replaced"
    );
    let (status, _, _) = session
        .post(
            "/admin/c/add",
            &[("k", "new"), ("type", "list"), ("value", "1")],
        )
        .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "nor merged into");
    assert_eq!(
        cache.akey_type("new").await?,
        Some(cachex::KeyType::SortedSet)
    );
    // A TTL of 0 would keep nothing: refused, nothing added.
    for kind in ["string", "list"] {
        let (status, _, body) = session
            .post(
                "/admin/c/add",
                &[("k", "zero"), ("type", kind), ("value", "1"), ("ttl", "0")],
            )
            .await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("at least 1 second"), "{body}");
        assert!(!cache.ahas_key("zero").await?);
    }
    // Every type, with its TTL set in the same step.
    cache
        .adelete_many(&["a-s", "a-h", "a-l", "a-set", "a-x"])
        .await?;
    for (key, kind, field) in [
        ("a-s", "string", ""),
        ("a-h", "hash", "f"),
        ("a-l", "list", ""),
        ("a-set", "set", ""),
        ("a-x", "stream", "f"),
    ] {
        let (status, _, body) = session
            .post(
                "/admin/c/add",
                &[
                    ("k", key),
                    ("type", kind),
                    ("field", field),
                    ("value", "7"),
                    ("ttl", "60"),
                ],
            )
            .await?;
        assert_eq!(status, StatusCode::SEE_OTHER, "{kind}: {body}");
        assert!(matches!(cache.attl(key).await?, Ttl::Expires(_)), "{kind}");
    }
    assert_eq!(cache.aget::<i64>("a-s").await?, Some(7));
    assert_eq!(cache.ahget::<i64>("a-h", "f").await?, Some(7));
    assert_eq!(cache.alrange::<i64>("a-l", 0, -1).await?, [7]);
    assert!(cache.asismember("a-set", &7).await?);
    assert_eq!(cache.axlen("a-x").await?, 1);
    cache
        .adelete_many(&["a-s", "a-h", "a-l", "a-set", "a-x"])
        .await?;
    too_large_to_edit(&session, &cache).await
}

/// Collections of more items than the admin edits: shown (500 items) without their edit
/// forms, an edit refused.
async fn too_large_to_edit(session: &Session, cache: &Cache) -> TestResult {
    cache
        .adelete_many(&["big", "big-h", "big-s", "big-z"])
        .await?;
    let items: Vec<u64> = (0..=10_000).collect();
    cache.arpush("big", &items).await?;
    let fields: Vec<(String, u64)> = items.iter().map(|i| (format!("f{i}"), *i)).collect();
    let fields: Vec<(&str, u64)> = fields.iter().map(|(f, i)| (f.as_str(), *i)).collect();
    cache.ahset_many("big-h", &fields).await?;
    cache.asadd("big-s", &items).await?;
    let scored: Vec<(u64, f64)> = items.iter().map(|i| (*i, *i as f64)).collect();
    cache.azadd("big-z", &scored).await?;
    // (key, an edit, value cells shown: a hash shows its fields too)
    for (key, op, cells) in [
        ("big", "rpop", 500),
        ("big-h", "hdel", 1000),
        ("big-s", "srem", 500),
        ("big-z", "zrem", 500),
    ] {
        let (status, _, body) = session.get(&format!("/admin/c/key?k={key}")).await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.contains("10001 items") && body.contains("not editable here"),
            "{body}"
        );
        assert!(!body.contains("name=\"fp\""), "{key}: no edit form: {body}");
        assert_eq!(body.matches("<td class=\"v\">").count(), cells, "{key}");
        let (status, _, body) = session
            .post(
                "/admin/c/edit",
                &[
                    ("k", key),
                    ("fp", ""),
                    ("op", op),
                    ("field", "f1"),
                    ("raw", "31"),
                ],
            )
            .await?;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}: {body}");
        assert!(body.contains("too many to edit"), "{key}: {body}");
    }
    assert_eq!(cache.allen("big").await?, 10_001);
    assert_eq!(cache.ahlen("big-h").await?, 10_001);
    assert_eq!(cache.ascard("big-s").await?, 10_001);
    assert_eq!(cache.azcard("big-z").await?, 10_001);
    cache
        .adelete_many(&["big", "big-h", "big-s", "big-z"])
        .await?;
    Ok(())
}

/// The hex of what the cache stores for the JSON value `json`.
fn cachex_admin_hex(cache: &Cache, json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
    let bytes = cache.core().codec().encode(&value).expect("encodable");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn every_edit_on_memory() -> TestResult {
    every_edit(Cache::in_memory()).await
}

#[tokio::test]
async fn every_edit_on_redis() -> TestResult {
    let url = format!("{}?prefix=admin-router", shared(ServerKind::Redis).url());
    every_edit(Cache::from_url(&url)?).await
}

#[tokio::test]
async fn bytes_that_do_not_decode_show_raw_and_are_removed_exactly() -> TestResult {
    let server = shared(ServerKind::Redis);
    let url = format!("{}?prefix=admin-raw", server.url());
    let cache = Cache::from_url(&url)?;
    let session = Session::start(app(cache.clone())?).await?;
    let made = cachex_tests::made_key(&cache, "bin");
    server.command(&[b"DEL".as_slice(), made.as_bytes()]);
    server.command(&[
        b"SADD".as_slice(),
        made.as_bytes(),
        b"\xff\xfe<b>",
        b"\"ok\"",
    ]);
    let (status, _, body) = session.get("/admin/c/key?k=bin").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("raw (not decodable)"), "{body}");
    assert!(body.contains("hex: fffe3c623e"), "{body}");
    assert!(
        body.contains("&lt;b&gt;") && !body.contains("<b>"),
        "escaped: {body}"
    );
    session
        .edit("bin", &[("op", "srem"), ("raw", "fffe3c623e")])
        .await?;
    assert_eq!(cache.asmembers::<String>("bin").await?, ["ok"]);
    Ok(())
}

#[tokio::test]
async fn the_server_page_hides_the_slow_logs_arguments() -> TestResult {
    // A server of its own that logs every command as slow.
    let server =
        cachex_tests::Server::start_with(ServerKind::Redis, &["--slowlog-log-slower-than", "0"]);
    let cache = Cache::from_url(&format!("{}?prefix=p&version=3", server.url()))?;
    cache.aset("k", "topsecret", Timeout::Never).await?;
    let session = Session::start(app(cache)?).await?;
    let (status, _, body) = session.get("/admin/c/server").await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("arguments hidden"), "{body}");
    assert!(!body.contains("topsecret"), "{body}");
    assert!(
        body.contains("<code>p</code>") && body.contains("<td>3</td>"),
        "{body}"
    );
    assert!(body.contains("cmdstat_set"), "{body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_edit_on_a_cluster() -> TestResult {
    let url = format!(
        "{}?prefix=admin-cluster",
        cachex_tests::shared_cluster().url()
    );
    every_edit(Cache::from_url(&url)?).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_edit_through_sentinel() -> TestResult {
    let url = format!(
        "{}?prefix=admin-sentinel",
        cachex_tests::shared_sentinel().url()
    );
    every_edit(Cache::from_url(&url)?).await
}

#[tokio::test]
async fn the_browser_pages_filters_and_stops_its_scan() -> TestResult {
    let cache = Cache::in_memory();
    let keys: Vec<String> = (0..120).map(|n| format!("item:{n:03}")).collect();
    let items: Vec<(&str, i64)> = keys.iter().map(|key| (key.as_str(), 1)).collect();
    cache.aset_many(&items, Timeout::Never).await?;
    cache.ahset("item:hash", "f", &1).await?;
    let session = Session::start(app(cache.clone())?).await?;
    let (_, _, page1) = session.get("/admin/c/keys?q=item").await?;
    assert!(page1.contains("121 keys, page 1 of 3"), "{page1}");
    assert!(
        page1.contains(">item:000<") && !page1.contains(">item:050<"),
        "{page1}"
    );
    assert!(page1.contains("rel=\"next\""), "{page1}");
    let (_, _, page3) = session.get("/admin/c/keys?q=item&page=3").await?;
    assert!(
        page3.contains(">item:119<") && page3.contains(">item:hash<"),
        "{page3}"
    );
    assert!(!page3.contains("rel=\"next\""), "{page3}");
    let (_, _, hashes) = session.get("/admin/c/keys?q=item&type=hash").await?;
    assert!(
        hashes.contains("1 keys, page 1 of 1") && hashes.contains(">item:hash<"),
        "{hashes}"
    );
    let (_, _, glob) = session.get("/admin/c/keys?q=item%3A00%3F").await?;
    assert!(glob.contains("10 keys"), "a wildcard search: {glob}");

    // More keys than the browser looks at: it says so.
    let many: Vec<String> = (0..10_001).map(|n| format!("many:{n}")).collect();
    let items: Vec<(&str, i64)> = many.iter().map(|key| (key.as_str(), 1)).collect();
    let big = Cache::builder().max_entries(20_000).build()?;
    big.aset_many(&items, Timeout::Never).await?;
    let session = Session::start(app(big)?).await?;
    let (_, _, body) = session.get("/admin/c/keys").await?;
    assert!(
        body.contains("10000 keys") && body.contains("the scan stopped at 10000"),
        "{}",
        &body[..2000.min(body.len())]
    );
    Ok(())
}
