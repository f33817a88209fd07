//! What a program can ask an error, rather than match its text: whether the request may have
//! been applied ([`Error::delivery`]), whether trying again is safe ([`Error::is_retryable`]),
//! what a timeout waited for, and the underlying cause ([`std::error::Error::source`]). Real
//! servers, and the harness's fault proxy for failures at a chosen point of a request.

use std::error::Error as _;
use std::net::TcpListener;
use std::time::Duration;

use cachex::prelude::*;
use cachex::{CacheBuilder, Delivery, Error, Waiting};
use cachex_tests::proxy::ResetPoint;
use cachex_tests::{FaultProxy, Server, ServerKind};

/// A cache through `proxy` that never retries on its own beyond the immediate replay.
fn cache_through(proxy: &FaultProxy) -> Cache {
    CacheBuilder::from_url(&format!("{}?prefix=errors", proxy.url(ServerKind::Redis)))
        .and_then(CacheBuilder::build)
        .expect("a cache")
}

#[test]
fn a_refused_connection_was_not_sent_and_may_be_retried() {
    // A port nobody listens on: bind one, then free it.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let cache = Cache::from_url(&format!("redis://127.0.0.1:{port}/0")).expect("a cache");
    for err in [
        cache
            .incr_or_create("n", 1, Timeout::Never)
            .expect_err("refused"),
        cache.get::<String>("k").expect_err("refused"),
    ] {
        assert!(matches!(err, Error::Connection { .. }), "{err:?}");
        assert_eq!(err.delivery(), Some(Delivery::NotSent), "{err:?}");
        assert!(err.is_retryable(), "{err:?}");
        assert!(
            err.source().is_some(),
            "the underlying error is kept: {err:?}"
        );
    }
}

#[test]
fn a_request_lost_in_flight_may_have_been_applied() {
    let server = Server::start(ServerKind::Redis);
    let proxy = FaultProxy::start(server.addr());
    let cache = cache_through(&proxy);
    cache.set("k", "v", Timeout::Never).expect("a first call");
    // The counter's script is loaded by its first call.
    assert_eq!(
        cache.incr_or_create("n", 1, Timeout::Never).expect("incr"),
        1
    );

    // The server applies the increment; its answer never comes back.
    proxy.reset_next(ResetPoint::BeforeReply);
    let err = cache
        .incr_or_create("n", 1, Timeout::Never)
        .expect_err("the answer was lost");
    assert_eq!(err.delivery(), Some(Delivery::Unknown), "{err:?}");
    assert!(
        !err.is_retryable(),
        "an increment is not harmless twice: {err:?}"
    );
    assert_eq!(
        server.command(&["GET", "errors:1:n"]),
        "$1\r\n2\r\n",
        "it was applied, once"
    );

    // A read lost the same way is sent again on a new connection, and succeeds.
    proxy.reset_next(ResetPoint::BeforeReply);
    assert_eq!(
        cache.get::<String>("k").expect("a read is resent"),
        Some("v".to_owned())
    );
}

#[test]
fn a_timeout_says_what_it_waited_for() {
    let mut server = Server::start(ServerKind::Redis);
    let (connect, response) = (Duration::from_millis(200), Duration::from_millis(300));
    let url = server.url();
    let build = || {
        CacheBuilder::from_url(&url)
            .expect("a valid URL")
            .connect_timeout(connect)
            .response_timeout(response)
            .build()
            .expect("a cache")
    };
    let open = build();
    open.set("k", "v", Timeout::Never).expect("connected");
    server.pause();

    let err = open.get::<String>("k").expect_err("no answer");
    match &err {
        Error::Timeout {
            waiting_for, after, ..
        } => {
            assert_eq!(*waiting_for, Waiting::Response);
            assert_eq!(*after, response);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(err.delivery(), Some(Delivery::Unknown));
    assert!(err.is_retryable(), "a read is harmless twice");
    assert!(err.to_string().contains("answer"), "{err}");

    let fresh = build();
    let err = fresh.get::<String>("k").expect_err("no connection");
    match &err {
        Error::Timeout {
            waiting_for, after, ..
        } => {
            assert_eq!(*waiting_for, Waiting::Connect);
            assert_eq!(*after, connect);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(err.delivery(), Some(Delivery::NotSent));
    assert!(err.to_string().contains("connecting"), "{err}");
    server.resume();
}

#[test]
fn errors_about_the_data_are_not_retryable() {
    let cache = Cache::in_memory();
    cache
        .set("text", "not a number", Timeout::Never)
        .expect("set");
    let err = cache.incr("text", 1).expect_err("not an integer");
    assert!(matches!(err, Error::WrongType { .. }), "{err:?}");
    assert_eq!(err.delivery(), None);
    assert!(!err.is_retryable());
    let err = cache.incr("missing", 1).expect_err("missing");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(!err.is_retryable());
}
