//! The admin example in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which `scripts/test` installs) driven over WebDriver by fantoccini,
//! against the example's router served on a free port, over the in-memory cache and over a
//! real Redis started by the harness. Each test browses and searches, opens every type, edits
//! a hash field, has a conflicting concurrent edit refused, changes and removes a TTL, bulk
//! deletes, is refused without authorization and with a wrong CSRF token, and shows a
//! `<script>` value as text. Screenshots of each page go to
//! `$CARGO_TARGET_DIR/admin-screenshots` (or `target/admin-screenshots`).

use std::error::Error;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use cachex::prelude::*;
use cachex::{Cache, Ttl};
use cachex_tests::{ServerKind, shared};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/admin.rs"]
mod admin;

type TestResult = Result<(), Box<dyn Error>>;

/// The browser is one process per test: two tests at a time on two cores is enough.
static TWO_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Where the screenshots go.
fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("admin-screenshots")
}

/// A free loopback port.
fn free_port() -> std::io::Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// chromedriver on a free port, and a headless Chromium session through it.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    name: &'static str,
}

impl Browser {
    async fn start(name: &'static str) -> Result<Browser, Box<dyn Error>> {
        let port = free_port()?;
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| {
                format!("cannot start chromedriver (apt-get install chromium-driver): {err}")
            })?;
        // chromedriver listens within a few hundred milliseconds; give it up to 20 s.
        let mut up = false;
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !up {
            return Err("chromedriver did not listen".into());
        }
        let profile = tempfile::tempdir()?;
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": chromium(),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await?;
        Ok(Browser {
            client,
            driver,
            _profile: profile,
            name,
        })
    }

    /// Saves a screenshot of the page as `<test>-<step>.png`.
    async fn shot(&self, step: &str) -> TestResult {
        let png = self.client.screenshot().await?;
        let dir = screenshots();
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}-{step}.png", self.name)), png)?;
        Ok(())
    }

    /// The page's visible text (read again if the page was replaced meanwhile).
    async fn text(&self) -> Result<String, Box<dyn Error>> {
        let mut last = None;
        for _ in 0..50 {
            match self.client.find(Locator::Css("body")).await {
                Ok(body) => match body.text().await {
                    Ok(text) => return Ok(text),
                    Err(err) => last = Some(err),
                },
                Err(err) => last = Some(err),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("no page text: {last:?}").into())
    }

    /// Clicks what `xpath` finds, which loads a new page, and waits until the page's text
    /// holds `expected` (up to 30 s): that text.
    async fn click(&self, xpath: &str, expected: &str) -> Result<String, Box<dyn Error>> {
        self.client
            .find(Locator::XPath(xpath))
            .await
            .map_err(|err| format!("{xpath}: {err}"))?
            .click()
            .await
            .map_err(|err| format!("clicking {xpath}: {err}"))?;
        let mut text = String::new();
        for _ in 0..300 {
            text = self.text().await?;
            if text.contains(expected) {
                return Ok(text);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("after clicking {xpath}, no {expected:?} in: {text}").into())
    }

    /// Ticks a checkbox (no page load).
    async fn tick(&self, xpath: &str) -> TestResult {
        self.client
            .find(Locator::XPath(xpath))
            .await?
            .click()
            .await?;
        Ok(())
    }

    async fn fill(&self, xpath: &str, text: &str) -> TestResult {
        let input = self
            .client
            .find(Locator::XPath(xpath))
            .await
            .map_err(|err| format!("{xpath}: {err}"))?;
        input
            .clear()
            .await
            .map_err(|err| format!("clearing {xpath}: {err}"))?;
        input
            .send_keys(text)
            .await
            .map_err(|err| format!("typing in {xpath}: {err}"))?;
        Ok(())
    }

    async fn stop(mut self) -> TestResult {
        self.client.close().await?;
        self.driver.kill().await?;
        Ok(())
    }
}

/// The Chromium binary: `CHROMIUM` or Debian's.
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// Serves the example's app over `cache` on a free port; the hook lets in requests with the
/// `staff=yes` cookie only.
async fn serve(cache: Cache) -> Result<SocketAddr, Box<dyn Error>> {
    // A second cache whose URL holds a password (never connected to: only listed).
    let locked = Cache::from_url("redis://admin:sekrit@127.0.0.1:1/0")?;
    let caches = vec![("default", cache), ("locked", locked)];
    let app = admin::app(caches, |request: &http::request::Parts| {
        request
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|cookies| {
                cookies
                    .split(';')
                    .any(|cookie| cookie.trim() == "staff=yes")
            })
    })?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}

/// Everything the issue lists, on one cache.
async fn walk_through(name: &'static str, cache: Cache) -> TestResult {
    let _turn = TWO_AT_A_TIME.acquire().await?;
    admin::seed(&cache).await?;
    let address = serve(cache.clone()).await?;
    let base = format!("http://{address}{}", admin::BASE);
    let browser = Browser::start(name).await?;
    let result = steps(&browser, &cache, &base).await;
    browser.stop().await?;
    result
}

async fn steps(browser: &Browser, cache: &Cache, base: &str) -> TestResult {
    let client = &browser.client;

    // Authorization: without the staff cookie, every page is refused.
    client.goto(base).await?;
    let text = browser.text().await?;
    assert!(text.contains("You are not authorized"), "{text}");
    assert!(
        !text.contains("default"),
        "nothing of the caches shows: {text}"
    );
    browser.shot("refused").await?;
    // The staff cookie, set by the page itself (WebDriver's add-cookie wants a domain name).
    client
        .execute("document.cookie = 'staff=yes; path=/';", vec![])
        .await?;

    // The list of caches: backend and location, never a password.
    client.goto(base).await?;
    let text = browser.text().await?;
    assert!(text.contains("default"), "{text}");
    let backend = if browser.name == "memory" {
        "memory"
    } else {
        "redis"
    };
    assert!(text.contains(&format!("{backend}://")), "{text}");
    assert!(text.contains("redis://admin:***@127.0.0.1:1/0"), "{text}");
    assert!(!text.contains("sekrit"), "no password: {text}");
    browser.shot("caches").await?;

    // Browse, search, filter by type.
    let text = browser
        .click(
            "//tr[td[1][normalize-space()='default']]//a[normalize-space()='Keys']",
            "8 keys",
        )
        .await?;
    for key in [
        "greeting", "counter", "user:1", "queue", "tags", "scores", "events", "xss",
    ] {
        assert!(text.contains(key), "{key} listed: {text}");
    }
    assert!(text.contains("8 keys"), "{text}");
    browser.shot("keys").await?;
    browser.fill("//input[@name='q']", "user").await?;
    let text = browser
        .click("//button[normalize-space()='Search']", "1 keys")
        .await?;
    assert!(
        text.contains("user:1") && !text.contains("greeting"),
        "{text}"
    );
    assert!(text.contains("1 keys"), "{text}");
    client
        .goto(&format!("{base}/default/keys?q=&type=zset"))
        .await?;
    let text = browser.text().await?;
    assert!(
        text.contains("scores") && !text.contains("user:1"),
        "{text}"
    );
    browser.shot("keys-zset").await?;

    // Each type's page.
    for (key, kind, shown) in [
        ("greeting", "string", "\"hello, admin\""),
        ("counter", "string", "41"),
        ("user:1", "hash", "\"ada@example.com\""),
        ("queue", "list", "\"job-2\""),
        ("tags", "set", "\"rust\""),
        ("scores", "zset", "\"carol\""),
        ("events", "stream", "kind = \"signup\""),
    ] {
        client
            .goto(&format!(
                "{base}/default/keys?q={}",
                key.replace(':', "%3A")
            ))
            .await?;
        let text = browser
            .click(
                &format!("//a[normalize-space()='{key}']"),
                &format!("Key {key}"),
            )
            .await?;
        assert!(text.contains(&format!("Key {key}")), "{text}");
        assert!(text.contains(&format!("Type {kind}")), "{key}: {text}");
        assert!(text.contains(shown), "{key} shows {shown}: {text}");
        browser
            .shot(&format!("key-{}", key.replace(':', "-")))
            .await?;
    }

    // Edit a hash field; the key keeps its TTL.
    cache.aexpire("user:1", Duration::from_secs(600)).await?;
    client
        .goto(&format!("{base}/default/key?k=user%3A1"))
        .await?;
    let name_row = "//tr[td[1][normalize-space()='name']]";
    browser
        .fill(
            &format!("{name_row}//form[input[@name='op'][@value='hset']]//input[@name='value']"),
            "Grace",
        )
        .await?;
    let text = browser
        .click(
            &format!("{name_row}//form[input[@name='op'][@value='hset']]//button"),
            "Saved.",
        )
        .await?;
    assert!(text.contains("\"Grace\""), "{text}");
    assert_eq!(
        cache.ahget::<String>("user:1", "name").await?.as_deref(),
        Some("Grace")
    );
    assert!(
        matches!(cache.attl("user:1").await?, Ttl::Expires(_)),
        "the edit kept the TTL"
    );
    browser.shot("hash-edited").await?;

    // A conflicting concurrent edit: someone changes the key after the page was shown.
    cache.ahset("user:1", "email", "grace@example.com").await?;
    browser
        .fill(
            &format!("{name_row}//form[input[@name='op'][@value='hset']]//input[@name='value']"),
            "Mallory",
        )
        .await?;
    let text = browser
        .click(
            &format!("{name_row}//form[input[@name='op'][@value='hset']]//button"),
            "Not saved: this key changed since you opened it",
        )
        .await?;
    assert!(
        text.contains("grace@example.com"),
        "the current content is shown: {text}"
    );
    assert_eq!(
        cache.ahget::<String>("user:1", "name").await?.as_deref(),
        Some("Grace")
    );
    browser.shot("conflict").await?;

    // Change, then remove, a TTL.
    client
        .goto(&format!("{base}/default/key?k=greeting"))
        .await?;
    browser.fill("//input[@name='seconds']", "120").await?;
    let text = browser
        .click("//button[@value='expire']", "The TTL was set.")
        .await?;
    assert!(
        text.contains("TTL 120 s") || text.contains("TTL 119 s"),
        "{text}"
    );
    assert!(
        matches!(cache.attl("greeting").await?, Ttl::Expires(left) if left > Duration::from_secs(100))
    );
    browser
        .click("//button[@value='persist']", "TTL never expires")
        .await?;
    assert_eq!(cache.attl("greeting").await?, Ttl::Persistent);
    browser.shot("ttl-removed").await?;

    // Bulk delete, after a confirmation.
    client.goto(&format!("{base}/default/keys")).await?;
    browser
        .tick("//input[@type='checkbox'][@value='queue']")
        .await?;
    browser
        .tick("//input[@type='checkbox'][@value='tags']")
        .await?;
    browser
        .click(
            "//button[starts-with(normalize-space(), 'Delete selected')]",
            "Delete 2 keys?",
        )
        .await?;
    assert!(
        cache.ahas_key("queue").await?,
        "nothing deleted before the confirmation"
    );
    browser.shot("bulk-delete-confirm").await?;
    browser
        .click(
            "//button[normalize-space()='Yes, do it']",
            "Deleted 2 keys.",
        )
        .await?;
    assert!(!cache.ahas_key("queue").await? && !cache.ahas_key("tags").await?);
    assert!(cache.ahas_key("scores").await?);

    // CSRF: a form whose token is not this browser's is refused.
    client
        .goto(&format!("{base}/default/key?k=counter"))
        .await?;
    client
        .execute(
            "document.querySelectorAll('input[name=csrf]').forEach(i => i.value = '00');",
            vec![],
        )
        .await?;
    browser
        .fill("//form[input[@value='set']]//input[@name='value']", "99")
        .await?;
    browser
        .click(
            "//form[input[@value='set']]//button",
            "CSRF token is missing or wrong",
        )
        .await?;
    assert_eq!(cache.aget::<i64>("counter").await?, Some(41));
    browser.shot("csrf-refused").await?;

    // A value holding <script> shows as text and runs nothing.
    client.goto(&format!("{base}/default/key?k=xss")).await?;
    let text = browser.text().await?;
    assert!(text.contains("<script>alert('xss')</script>"), "{text}");
    let scripts = client
        .execute("return document.querySelectorAll('script').length;", vec![])
        .await?;
    assert_eq!(scripts, json!(0));
    assert!(client.get_alert_text().await.is_err(), "no alert opened");
    browser.shot("xss-as-text").await?;

    // The server page, and the danger zone's confirmation (cancelled: the Redis is shared).
    client.goto(&format!("{base}/default/server")).await?;
    let text = browser.text().await?;
    assert!(
        text.contains("Keyspace hits and misses") && text.contains("Danger zone"),
        "{text}"
    );
    browser.shot("server").await?;
    browser
        .click(
            "//button[starts-with(normalize-space(), 'Flush the whole database')]",
            "Flush the whole database?",
        )
        .await?;
    browser
        .click("//a[normalize-space()='Cancel']", "6 keys")
        .await?;
    assert!(
        cache.ahas_key("scores").await?,
        "cancelled: nothing flushed"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_in_a_browser_on_memory() -> TestResult {
    walk_through("memory", Cache::in_memory()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_in_a_browser_on_redis() -> TestResult {
    let url = format!("{}?prefix=admin-browser", shared(ServerKind::Redis).url());
    let cache = Cache::from_url(&url)?;
    cache.aclear().await?;
    walk_through("redis", cache).await
}

/// The example's hook without a browser: a loopback peer naming this machine as the host is
/// let in; one naming another host (a page whose name was rebound to 127.0.0.1: DNS
/// rebinding), or a remote peer, is not.
#[test]
fn the_examples_hook_wants_a_loopback_peer_and_a_local_host() -> TestResult {
    let parts = |host: &str, peer: [u8; 4]| -> Result<http::request::Parts, Box<dyn Error>> {
        let mut request = http::Request::get("/admin")
            .header(http::header::HOST, host)
            .body(())?;
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::from((peer, 4000))));
        Ok(request.into_parts().0)
    };
    assert!(admin::from_loopback(&parts(
        "127.0.0.1:8000",
        [127, 0, 0, 1]
    )?));
    assert!(admin::from_loopback(&parts(
        "localhost:8000",
        [127, 0, 0, 1]
    )?));
    assert!(!admin::from_loopback(&parts(
        "attacker.example:8000",
        [127, 0, 0, 1]
    )?));
    assert!(!admin::from_loopback(&parts(
        "127.0.0.1:8000",
        [192, 0, 2, 1]
    )?));
    Ok(())
}
