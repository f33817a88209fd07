//! Every backend call is traced at debug level for target `cachex`: a span with the operation,
//! its key count and the backend, and an event with the duration and the outcome. This binary
//! installs its own subscriber (debug level) and reads what it wrote.

use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};

use cachex::prelude::*;
use cachex_tests::{ServerKind, shared};

static LOG: Mutex<String> = Mutex::new(String::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut log = LOG.lock().unwrap_or_else(PoisonError::into_inner);
        log.push_str(&String::from_utf8_lossy(bytes));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn lines_with(needles: &[&str]) -> Vec<String> {
    let log = LOG.lock().unwrap_or_else(PoisonError::into_inner);
    log.lines()
        .filter(|line| needles.iter().all(|needle| line.contains(needle)))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_backend_call_is_a_span_with_its_duration_and_outcome() {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(|| Capture)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let server = shared(ServerKind::Redis);
    let caches = [
        (
            "memory",
            Cache::builder().prefix("traced").build().expect("a cache"),
        ),
        (
            "redis",
            Cache::from_url(&format!("{}?prefix=traced", server.url())).expect("a cache"),
        ),
    ];
    for (backend, cache) in caches {
        let backend_field = format!("backend=\"{backend}\"");
        cache.set("one", &1, Timeout::Default).expect("set");
        assert_eq!(cache.get::<i32>("one").expect("get"), Some(1));
        cache
            .get_many::<i32>(&["one", "two", "three"])
            .expect("get_many");
        cache.hset("hash", "field", &1).expect("hset");
        assert!(cache.get::<i32>("hash").is_err(), "WRONGTYPE");

        for (operation, keys) in [("SET", 1), ("GET", 1), ("MGET", 3), ("HSET", 1)] {
            let done = lines_with(&[
                "cachex",
                &format!("operation=\"{operation}\""),
                &format!("keys={keys}"),
                &backend_field,
                "elapsed_us=",
                "done",
            ]);
            assert!(!done.is_empty(), "no {operation} event on {backend}");
        }
        let failed = lines_with(&["operation=\"GET\"", &backend_field, "failed", "wrong type"]);
        assert!(!failed.is_empty(), "no failed GET event on {backend}");
        cache.clear().expect("clear");
    }
}
