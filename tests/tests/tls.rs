//! TLS (`rediss://`, `valkeys://`, the `tls` feature) against a real `redis-server` listening
//! on a TLS port, with certificates this test makes itself (rcgen): a private CA and a server
//! certificate for 127.0.0.1 and localhost, signed by it.
//!
//! The harness keeps its plain port (for its own health check, and here to look at what the
//! cache stored); the cache talks to the TLS port only, which speaks nothing but TLS.

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cachex::prelude::*;
use cachex::{CacheBuilder, Error};
use cachex_tests::{Server, ServerKind};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tempfile::TempDir;

/// A certificate authority: its certificate (PEM) and what signs with it.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("a CA key");
        let certificate = params.self_signed(&key).expect("a CA certificate");
        Ca {
            pem: certificate.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for 127.0.0.1 and localhost, and its key, both PEM, with its
    /// parameters changed by `adjust` first.
    fn server_certificate_with(
        &self,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> (String, String) {
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, "cachex test server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        adjust(&mut params);
        let key = KeyPair::generate().expect("a server key");
        let certificate = params
            .signed_by(&key, &self.issuer)
            .expect("a server certificate");
        (certificate.pem(), key.serialize_pem())
    }
}

/// A `redis-server` with a TLS port, and the CA that signed its certificate.
struct TlsServer {
    server: Server,
    tls_port: u16,
    ca: Ca,
    /// The PEM files (CA, server certificate, key); dropped after the server.
    files: TempDir,
}

impl TlsServer {
    fn start() -> TlsServer {
        TlsServer::start_with(&[])
    }

    fn start_with(extra_args: &[&str]) -> TlsServer {
        TlsServer::start_with_certificate(extra_args, |_| {})
    }

    /// A server whose certificate's parameters `adjust` changed (say, expired).
    fn start_with_certificate(
        extra_args: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> TlsServer {
        let ca = Ca::new("cachex test CA");
        let (certificate, key) = ca.server_certificate_with(adjust);
        let files = tempfile::Builder::new()
            .prefix("cachex-tls-")
            .tempdir()
            .expect("a temporary folder");
        let write = |name: &str, pem: &str| {
            let path = files.path().join(name);
            fs::write(&path, pem).expect("a PEM file");
            path.to_str().expect("a UTF-8 path").to_owned()
        };
        let ca_file = write("ca.pem", &ca.pem);
        let certificate_file = write("server.pem", &certificate);
        let key_file = write("server.key", &key);
        // A port that was free a moment ago; the harness picks its own plain port.
        let tls_port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port()
            .to_string();
        let mut args = vec![
            "--tls-port",
            &tls_port,
            "--tls-cert-file",
            &certificate_file,
            "--tls-key-file",
            &key_file,
            "--tls-ca-cert-file",
            &ca_file,
            "--tls-auth-clients",
            "no",
        ];
        args.extend_from_slice(extra_args);
        let server = Server::start_with(ServerKind::Redis, &args);
        TlsServer {
            server,
            tls_port: tls_port.parse().expect("a port"),
            ca,
            files,
        }
    }

    /// `{scheme}://{host}:{tls port}/0` plus `rest` (a query string, say).
    fn url(&self, scheme: &str, host: &str, rest: &str) -> String {
        format!("{scheme}://{host}:{}/0{rest}", self.tls_port)
    }

    /// A cache on the TLS port that trusts the server's CA.
    fn trusting(&self, url: &str) -> Cache {
        CacheBuilder::from_url(url)
            .expect("a valid URL")
            .tls_root_certificate(self.ca.pem.as_bytes())
            .build()
            .expect("a cache")
    }

    fn ca_file(&self) -> PathBuf {
        self.files.path().join("ca.pem")
    }
}

/// set, get, incr and friends, blocking then async, on one cache; checked on the server.
fn exercise(cache: &Cache, server: &Server, prefix: &str) {
    cache
        .set("text", "over TLS", Timeout::Default)
        .expect("set");
    assert_eq!(
        cache.get::<String>("text").expect("get").as_deref(),
        Some("over TLS")
    );
    assert_eq!(
        cache.incr_or_create("n", 2, Timeout::Never).expect("incr"),
        2
    );
    assert_eq!(cache.incr("n", 3).expect("incr"), 5);
    assert!(
        cache
            .add("text", "again", Timeout::Default)
            .is_ok_and(|added| !added)
    );
    // What the cache stored is on the server, seen through the plain port.
    assert_eq!(
        server.command(&["GET", &format!("{prefix}:1:n")]),
        "$1\r\n5\r\n"
    );

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        cache
            .aset("async", &[1, 2, 3], Timeout::seconds(60))
            .await
            .expect("aset");
        assert_eq!(
            cache.aget::<Vec<i32>>("async").await.expect("aget"),
            Some(vec![1, 2, 3])
        );
        assert_eq!(cache.a().incr("n", 10).await.expect("aincr"), 15);
        assert_eq!(
            cache.get.as_async::<String>("text").await.expect("aget"),
            Some("over TLS".to_owned())
        );
        assert!(cache.adelete("async").await.expect("adelete"));
    });
    assert_eq!(cache.get::<i64>("n").expect("get"), Some(15));
    assert_eq!(cache.clear().expect("clear"), 2);
}

#[test]
fn rediss_and_valkeys_trusting_the_ca_serve_both_surfaces() {
    let tls = TlsServer::start();
    for (scheme, host) in [
        ("rediss", "127.0.0.1"),
        ("valkeys", "127.0.0.1"),
        ("rediss", "localhost"),
    ] {
        let prefix = format!("{scheme}-{host}");
        let cache = tls.trusting(&tls.url(scheme, host, &format!("?prefix={prefix}")));
        assert!(
            cache
                .to_string()
                .starts_with(&format!("{scheme}://{host}:")),
            "{cache}"
        );
        exercise(&cache, &tls.server, &prefix);
    }
}

#[test]
fn the_ca_can_come_from_a_file_named_in_the_url() {
    let tls = TlsServer::start();
    let ca = tls.ca_file();
    let url = tls.url(
        "rediss",
        "127.0.0.1",
        &format!("?prefix=file&tls_ca={}", ca.display()),
    );
    let cache = Cache::from_url(&url).expect("a cache");
    exercise(&cache, &tls.server, "file");

    // The builder's certificate, set after the URL, wins over the file.
    let other = Ca::new("another CA");
    let overridden = CacheBuilder::from_url(&url)
        .expect("a valid URL")
        .tls_root_certificate(other.pem)
        .build()
        .expect("a cache");
    assert!(matches!(
        overridden.get::<i32>("k"),
        Err(Error::Connection { .. })
    ));
}

#[test]
fn bad_tls_configuration_is_a_config_error_at_build() {
    let tls = TlsServer::start();
    let missing = tls.files.path().join("missing.pem");
    let not_pem = tls.files.path().join("server.key");
    let cases = [
        (
            tls.url(
                "rediss",
                "127.0.0.1",
                &format!("?tls_ca={}", missing.display()),
            ),
            "missing.pem",
        ),
        (
            tls.url(
                "rediss",
                "127.0.0.1",
                &format!("?tls_ca={}", not_pem.display()),
            ),
            "no PEM certificate",
        ),
        (tls.url("rediss", "127.0.0.1", "?tls_ca="), "tls_ca"),
        (
            format!(
                "redis://127.0.0.1:{}?tls_ca={}",
                tls.server.port(),
                tls.ca_file().display()
            ),
            "does not use TLS",
        ),
        (tls.url("rediss", "127.0.0.1", "#insecure"), "#insecure"),
    ];
    for (url, expected) in cases {
        match Cache::from_url(&url) {
            Err(Error::Config { reason: message }) => {
                assert!(message.contains(expected), "{url}: {message}")
            }
            other => panic!("{url}: expected a configuration error, got {other:?}"),
        }
    }
    let garbage = CacheBuilder::from_url(&tls.url("valkeys", "127.0.0.1", ""))
        .expect("a valid URL")
        .tls_root_certificate("not a certificate")
        .build();
    assert!(
        matches!(&garbage, Err(Error::Config { reason: message }) if message.contains("no PEM certificate")),
        "{garbage:?}"
    );
}

#[test]
fn an_untrusted_certificate_is_a_connection_error() {
    let tls = TlsServer::start_with(&["--bind", "127.0.0.1", "127.0.0.2"]);
    let url = tls.url("rediss", "127.0.0.1", "?connect_timeout=5");
    // The system's roots (the default) do not know the test CA; nor does another CA.
    let untrusted = [
        Cache::from_url(&url).expect("a cache"),
        CacheBuilder::from_url(&url)
            .expect("a valid URL")
            .tls_root_certificate(Ca::new("another CA").pem)
            .build()
            .expect("a cache"),
    ];
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for cache in &untrusted {
        let blocking = cache.get::<i32>("k");
        let not_stored = cache.set("k", &1, Timeout::Default);
        let asynchronous = runtime.block_on(cache.aget::<i32>("k"));
        for outcome in [blocking.map(drop), not_stored, asynchronous.map(drop)] {
            match outcome {
                Err(Error::Connection { server, reason, .. }) => {
                    assert!(server.starts_with("rediss://127.0.0.1:"), "{server}");
                    assert!(reason.contains("certificate was refused"), "{reason}");
                    assert!(reason.contains("UnknownIssuer"), "{reason}");
                    assert!(reason.contains("tls_root_certificate"), "{reason}");
                }
                other => panic!("expected a connection error, got {other:?}"),
            }
        }
    }
    // A trusted CA, but a certificate for another address.
    let wrong_name = tls.trusting(&tls.url("rediss", "127.0.0.2", ""));
    match wrong_name.get::<i32>("k") {
        Err(Error::Connection { reason, .. }) => {
            assert!(reason.contains("certificate"), "{reason}");
            assert!(reason.contains("not valid for name"), "{reason}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    // Nothing was stored, and the server is fine.
    assert_eq!(tls.server.command(&["DBSIZE"]), ":0\r\n");
    let trusted = tls.trusting(&url);
    trusted.set("k", &1, Timeout::Default).expect("set");
    assert_eq!(trusted.get::<i32>("k").expect("get"), Some(1));
}

#[test]
fn passwords_in_tls_urls_stay_redacted() {
    let tls = TlsServer::start();
    assert_eq!(
        tls.server.command(&[
            "ACL",
            "SETUSER",
            "alice",
            "on",
            ">alice-s3cret",
            "~*",
            "+@all"
        ]),
        "+OK\r\n"
    );
    let url = tls.url("rediss", "alice:alice-s3cret@127.0.0.1", "?prefix=pw");
    let builder = CacheBuilder::from_url(&url).expect("a valid URL");
    let cache = tls.trusting(&url);
    cache.set("k", "v", Timeout::Default).expect("set");
    assert_eq!(cache.get::<String>("k").expect("get").as_deref(), Some("v"));
    let port = tls.tls_port;
    for shown in [
        format!("{cache:?}"),
        cache.to_string(),
        format!("{builder:?}"),
    ] {
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains(&format!("rediss://alice:***@127.0.0.1:{port}")),
            "{shown}"
        );
    }

    // Refused passwords, and certificates, never show the password either.
    let wrong_password = tls.trusting(&tls.url("valkeys", "alice:wrong-s3cret@127.0.0.1", ""));
    let untrusted =
        Cache::from_url(&tls.url("rediss", "alice:alice-s3cret@127.0.0.1", "")).expect("a cache");
    for (cache, expected) in [
        (&wrong_password, "authentication failed"),
        (&untrusted, "certificate"),
    ] {
        let error = cache.get::<String>("k").expect_err("refused");
        let shown = format!("{error} {error:?} {cache:?} {cache}");
        assert!(matches!(error, Error::Connection { .. }), "{shown}");
        assert!(shown.contains(expected), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains(":***@127.0.0.1"), "{shown}");
    }
}

#[test]
fn an_expired_certificate_is_refused() {
    let tls = TlsServer::start_with_certificate(&[], |params| {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    });
    let cache = tls.trusting(&tls.url("rediss", "127.0.0.1", ""));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    for outcome in [
        cache.set("k", &1, Timeout::Default),
        runtime.block_on(cache.aget::<i32>("k")).map(drop),
    ] {
        match outcome {
            Err(Error::Connection { reason, .. }) => {
                assert!(reason.contains("certificate was refused"), "{reason}");
                assert!(reason.contains("certificate expired"), "{reason}");
                assert!(!reason.contains("tls_root_certificate"), "{reason}");
            }
            other => panic!("expected a connection error, got {other:?}"),
        }
    }
    assert_eq!(tls.server.command(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn a_protocol_mismatch_is_a_typed_error_not_a_hang() {
    let tls = TlsServer::start();
    let plain_port = tls.server.port();
    let connect_timeout = Duration::from_millis(500);
    let cases = [
        // TLS to a port that speaks plain RESP.
        CacheBuilder::from_url(&format!("rediss://127.0.0.1:{plain_port}/0"))
            .expect("a valid URL")
            .tls_root_certificate(tls.ca.pem.as_bytes())
            .connect_timeout(connect_timeout)
            .build()
            .expect("a cache"),
        // Plain RESP to a port that speaks TLS only.
        CacheBuilder::from_url(&format!("redis://127.0.0.1:{}/0", tls.tls_port))
            .expect("a valid URL")
            .connect_timeout(connect_timeout)
            .build()
            .expect("a cache"),
    ];
    for cache in &cases {
        let started = Instant::now();
        let outcome = cache.set("k", &1, Timeout::Default);
        let took = started.elapsed();
        println!("{cache}: {outcome:?} after {took:?}");
        assert!(
            matches!(
                outcome,
                Err(Error::Connection { .. } | Error::Timeout { .. })
            ),
            "{cache}: {outcome:?}"
        );
        assert!(took < Duration::from_secs(10), "{cache} took {took:?}");
    }
    assert_eq!(tls.server.command(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn a_server_that_requires_a_client_certificate_refuses_the_cache_clearly() {
    // cachex does not present client certificates (mutual TLS): such a server refuses it.
    let tls = TlsServer::start_with(&["--tls-auth-clients", "yes"]);
    let cache = tls.trusting(&tls.url("rediss", "127.0.0.1", "?connect_timeout=2"));
    let outcome = cache.get::<i32>("k");
    println!("a server requiring a client certificate: {outcome:?}");
    assert!(
        matches!(
            outcome,
            Err(Error::Connection { .. } | Error::Timeout { .. })
        ),
        "{outcome:?}"
    );
    assert_eq!(tls.server.command(&["DBSIZE"]), ":0\r\n");
}
