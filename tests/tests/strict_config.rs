//! Strict configuration: a mistake in a cache URL is refused with an error that names it, never
//! passed over in silence.
//!
//! - An unknown query option is refused on every scheme, naming the option and the closest
//!   known one; so is an option of another scheme.
//! - Option values are percent-decoded (`prefix=%7Bapp%7D` is the prefix `{app}`, the hash tag a
//!   cluster needs).
//! - A bad host, port or database names the bad part.
//! - Both django-cachex spellings of the serializer and compressor classes are accepted: 0.3's
//!   (`JSONSerializer`, `MessagePackSerializer`, `ZStdCompressor`) and 0.14.1's
//!   (`JsonSerializer`, `MsgpackSerializer`, `ZstdCompressor`), and the Django guide names
//!   classes that django-cachex 0.14.1 has.
//! - `Display` of a cache shows its effective options, never a secret.
//!
//! No server is needed: caches connect lazily, and every check here is about building one.

use std::time::Duration;

use cachex::codec::{Codec, Compressor, Serializer};
use cachex::{Cache, CacheBuilder, Error};

/// The message of the configuration error that `url` must give.
fn config_error(url: &str) -> Result<String, String> {
    match Cache::from_url(url) {
        Err(error @ Error::Config { .. }) => Ok(error.to_string()),
        Err(other) => Err(format!("{url}: not a configuration error: {other:?}")),
        Ok(cache) => Err(format!("{url}: accepted, as {cache}")),
    }
}

/// Checks `url` against `check`, which says what is wrong with its error message (if
/// anything); collects what failed, to report every case at once.
fn expect_refused(failures: &mut Vec<String>, url: &str, check: impl Fn(&str) -> Option<String>) {
    match config_error(url) {
        Ok(message) => {
            println!("{url}\n    -> {message}");
            if let Some(wrong) = check(&message) {
                failures.push(format!("{url}: {wrong}: {message:?}"));
            }
        }
        Err(failure) => failures.push(failure),
    }
}

/// `None` when `message` contains every one of `parts`; else what is missing.
fn names(message: &str, parts: &[&str]) -> Option<String> {
    let missing: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|part| !message.to_lowercase().contains(&part.to_lowercase()))
        .collect();
    (!missing.is_empty()).then(|| format!("does not name {missing:?}"))
}

fn assert_none_failed(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// One URL of each scheme, without a query; nothing listens at these addresses.
const SCHEMES: [&str; 11] = [
    "memory://",
    "redis://127.0.0.1:6379/0",
    "rediss://127.0.0.1:6379/0",
    "valkey://127.0.0.1:6379",
    "valkeys://127.0.0.1:6379",
    "redis+unix:///tmp/cachex-nothing-here.sock",
    "unix:///tmp/cachex-nothing-here.sock",
    "redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
    "valkey+cluster://127.0.0.1:7000",
    "redis+sentinel://127.0.0.1:26379/mymaster",
    "valkey+sentinel://127.0.0.1:26379/mymaster/0",
];

#[test]
fn an_unknown_option_is_refused_on_every_scheme_naming_it_and_the_closest_known_one() {
    let mut failures = Vec::new();
    for base in SCHEMES {
        for (typo, meant, value) in [
            ("prefx", "prefix", "app"),
            ("timout", "timeout", "60"),
            ("serialiser", "serializer", "json"),
            ("respone_timeout", "response_timeout", "1"),
        ] {
            // Alone, and after a valid option.
            for query in [
                format!("{typo}={value}"),
                format!("version=2&{typo}={value}"),
            ] {
                expect_refused(&mut failures, &format!("{base}?{query}"), |message| {
                    names(message, &[typo, meant])
                });
            }
        }
    }
    assert_none_failed("unknown options", &failures);
}

#[test]
fn an_option_of_another_scheme_is_refused_by_name() {
    let mut failures = Vec::new();
    for (url, option) in [
        ("redis://127.0.0.1:6379/0?max_entries=100", "max_entries"),
        ("memory://?connect_timeout=1", "connect_timeout"),
        ("memory://?replica_reads=true", "replica_reads"),
        (
            "redis://127.0.0.1:6379/0?replica_reads=true",
            "replica_reads",
        ),
        (
            "redis://127.0.0.1:6379/0?sentinel_password=pw",
            "sentinel_password",
        ),
    ] {
        expect_refused(&mut failures, url, |message| names(message, &[option]));
    }
    assert_none_failed("options of another scheme", &failures);
}

#[test]
fn the_known_options_of_each_scheme_are_still_accepted() {
    for url in [
        "memory://?prefix=app&version=2&timeout=none&strict_keys=1&fail_open=0&serializer=json\
         &compressor=zlib&compression_level=6&min_length=10&max_entries=50",
        "redis://user:pw@127.0.0.1:6379/2?prefix=app&connect_timeout=0.5&response_timeout=2\
         &retry_budget=1&connection_limit=64&protocol=resp3",
        "redis+unix:///tmp/cachex-nothing-here.sock?db=2&prefix=app",
        "redis+cluster://127.0.0.1:7000,127.0.0.1:7001?replica_reads=true&prefix=%7Bapp%7D",
        "redis+sentinel://127.0.0.1:26379/mymaster/1?sentinel_username=u&sentinel_password=p\
         &replica_reads=true&prefix=app",
    ] {
        if let Err(error) = Cache::from_url(url) {
            panic!("{url}: {error}");
        }
    }
}

#[test]
fn option_values_are_percent_decoded() {
    let mut failures = Vec::new();
    for (url, prefix, version) in [
        ("memory://?prefix=%7Bapp%7D", "{app}", 1),
        ("redis://127.0.0.1:6379/0?prefix=%7Bapp%7D", "{app}", 1),
        (
            "redis+cluster://127.0.0.1:7000?prefix=%7Bapp%7D",
            "{app}",
            1,
        ),
        (
            "redis+sentinel://127.0.0.1:26379/mymaster?prefix=%7Bapp%7D",
            "{app}",
            1,
        ),
        ("memory://?prefix=shop%3Aeu&version=%32", "shop:eu", 2),
        ("memory://?prefix=caf%C3%A9", "café", 1),
    ] {
        match Cache::from_url(url) {
            Ok(cache) => {
                let keys = cache.core().key_settings();
                if (keys.prefix(), keys.version()) != (prefix, version) {
                    failures.push(format!(
                        "{url}: prefix {:?} version {}, expected {prefix:?} version {version}",
                        keys.prefix(),
                        keys.version()
                    ));
                }
            }
            Err(error) => failures.push(format!("{url}: {error}")),
        }
    }
    // A broken escape is a mistake, named.
    for url in [
        "memory://?prefix=%zz",
        "redis://127.0.0.1:6379/0?prefix=app%",
    ] {
        expect_refused(&mut failures, url, |message| names(message, &["prefix"]));
    }
    assert_none_failed("percent-decoding", &failures);
}

/// The words that name a database in an error.
fn names_database(message: &str, bad: &str) -> Option<String> {
    let lower = message.to_lowercase();
    let named = lower.contains("database") || lower.contains(" db");
    match (named, lower.contains(&bad.to_lowercase())) {
        (true, true) => None,
        _ => Some(format!("does not name the database {bad:?}")),
    }
}

#[test]
fn a_bad_host_port_or_database_names_the_bad_part() {
    let mut failures = Vec::new();
    for (url, part, bad) in [
        ("redis://127.0.0.1:99999/0", "port", "99999"),
        ("redis://127.0.0.1:63x9/0", "port", "63x9"),
        ("valkey://127.0.0.1:-1/0", "port", "-1"),
        (
            "redis+cluster://127.0.0.1:7000,127.0.0.1:70001",
            "port",
            "70001",
        ),
        (
            "redis+sentinel://127.0.0.1:263790/mymaster",
            "port",
            "263790",
        ),
        ("redis://exa mple.com:6379/0", "host", "exa mple.com"),
        ("redis://[::1:6379/0", "host", "[::1"),
        ("redis://:6379/0", "host", ""),
    ] {
        expect_refused(&mut failures, url, |message| names(message, &[part, bad]));
    }
    for (url, bad) in [
        ("redis://127.0.0.1:6379/abc", "abc"),
        ("redis://127.0.0.1:6379/-1", "-1"),
        ("rediss://127.0.0.1:6379/0x", "0x"),
        ("redis+sentinel://127.0.0.1:26379/mymaster/x", "x"),
        ("redis+unix:///tmp/cachex-nothing-here.sock?db=two", "two"),
    ] {
        expect_refused(&mut failures, url, |message| names_database(message, bad));
    }
    assert_none_failed("bad host, port or database", &failures);
}

/// django-cachex's serializer classes, in 0.3 and in 0.14.1 (read in the sources of both
/// releases: `django_cachex/serializers/{json,msgpack}.py`).
const SERIALIZER_CLASSES: [(&str, Serializer); 5] = [
    (
        "django_cachex.serializers.json.JSONSerializer",
        Serializer::Json,
    ),
    (
        "django_cachex.serializers.msgpack.MessagePackSerializer",
        Serializer::MessagePack,
    ),
    (
        "django_cachex.serializers.json.JsonSerializer",
        Serializer::Json,
    ),
    (
        "django_cachex.serializers.msgpack.MsgpackSerializer",
        Serializer::MessagePack,
    ),
    // Django's default, spelled the same in 0.3 and 0.14.1 (feature `pickle`).
    (
        "django_cachex.serializers.pickle.PickleSerializer",
        Serializer::Pickle,
    ),
];

/// django-cachex's compressor classes, in 0.3 (`ZStdCompressor`) and in 0.14.1
/// (`ZstdCompressor`); the others are spelled the same in both
/// (`django_cachex/compressors/{zlib,gzip,zstd,lz4}.py`).
const COMPRESSOR_CLASSES: [(&str, Compressor); 5] = [
    (
        "django_cachex.compressors.zlib.ZlibCompressor",
        Compressor::Zlib,
    ),
    (
        "django_cachex.compressors.gzip.GzipCompressor",
        Compressor::Gzip,
    ),
    (
        "django_cachex.compressors.zstd.ZStdCompressor",
        Compressor::Zstd,
    ),
    (
        "django_cachex.compressors.zstd.ZstdCompressor",
        Compressor::Zstd,
    ),
    (
        "django_cachex.compressors.lz4.Lz4Compressor",
        Compressor::Lz4,
    ),
];

/// Every class of django-cachex 0.14.1 that cachex can stand in for.
const CLASSES_OF_0_14_1: [&str; 7] = [
    "django_cachex.serializers.json.JsonSerializer",
    "django_cachex.serializers.pickle.PickleSerializer",
    "django_cachex.serializers.msgpack.MsgpackSerializer",
    "django_cachex.compressors.zlib.ZlibCompressor",
    "django_cachex.compressors.gzip.GzipCompressor",
    "django_cachex.compressors.zstd.ZstdCompressor",
    "django_cachex.compressors.lz4.Lz4Compressor",
];

#[test]
fn both_django_cachex_spellings_of_the_codec_classes_are_accepted() {
    let mut failures = Vec::new();
    for (class, serializer) in SERIALIZER_CLASSES {
        for url in [
            format!("memory://?serializer={class}"),
            format!("redis://127.0.0.1:6379/0?serializer={class}"),
        ] {
            match Cache::from_url(&url) {
                Ok(cache) if cache.core().codec().serializer() == serializer => {}
                Ok(cache) => failures.push(format!(
                    "{url}: serializer {:?}",
                    cache.core().codec().serializer()
                )),
                Err(error) => failures.push(format!("{url}: {error}")),
            }
        }
        match class.parse::<Serializer>() {
            Ok(parsed) if parsed == serializer => {}
            other => failures.push(format!("{class}.parse(): {other:?}")),
        }
    }
    for (class, compressor) in COMPRESSOR_CLASSES {
        let url = format!("memory://?compressor={class}");
        match Cache::from_url(&url) {
            Ok(cache) if cache.core().codec().compressor() == Some(compressor) => {}
            Ok(cache) => failures.push(format!(
                "{url}: compressor {:?}",
                cache.core().codec().compressor()
            )),
            Err(error) => failures.push(format!("{url}: {error}")),
        }
        let built = class
            .parse::<Compressor>()
            .map(|parsed| Codec::builder().compressor(parsed))
            .and_then(|codec| Cache::builder().codec(codec).build());
        if let Err(error) = built {
            failures.push(format!("{class} through the builder: {error}"));
        }
    }
    // A misspelled class, or one cachex cannot stand in for, is named.
    for url in [
        "memory://?serializer=django_cachex.serializers.json.JSONSerialiser",
        "memory://?serializer=django_cachex.serializers.orjson.OrjsonSerializer",
        "memory://?compressor=django_cachex.compressors.lzma.LzmaCompressor",
    ] {
        let class = url.split_once('=').map_or(url, |(_, class)| class);
        expect_refused(&mut failures, url, |message| names(message, &[class]));
    }
    assert_none_failed("django-cachex class names", &failures);
}

#[test]
fn the_django_guide_names_classes_that_django_cachex_0_14_1_has() {
    let guide = include_str!("../../cachex/src/guide/django.md");
    let named: Vec<&str> = guide
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .filter(|word| {
            word.starts_with("django_cachex.")
                && (word.ends_with("Serializer") || word.ends_with("Compressor"))
        })
        .collect();
    println!("the Django guide names {named:?}");
    assert!(!named.is_empty(), "the guide shows a serializer class");
    let missing: Vec<&&str> = named
        .iter()
        .filter(|class| !CLASSES_OF_0_14_1.contains(class))
        .collect();
    assert!(
        missing.is_empty(),
        "the Django guide names classes django-cachex 0.14.1 does not have: {missing:?}"
    );
}

/// The seconds an option `name` shows in `shown` (a URL's query), if it shows it.
fn shown_seconds(shown: &str, name: &str) -> Option<f64> {
    let (_, query) = shown.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .and_then(|value| value.parse().ok())
}

/// Checks that `shown` carries each `name=value`, and each duration option with its seconds.
fn check_shown(
    failures: &mut Vec<String>,
    shown: &str,
    options: &[&str],
    durations: &[(&str, Duration)],
) {
    let query: Vec<&str> = shown
        .split_once('?')
        .map_or(Vec::new(), |(_, query)| query.split('&').collect());
    for option in options {
        if !query.contains(option) {
            failures.push(format!("{shown:?} does not show {option}"));
        }
    }
    for (name, duration) in durations {
        if shown_seconds(shown, name) != Some(duration.as_secs_f64()) {
            failures.push(format!("{shown:?} does not show {name}={duration:?}"));
        }
    }
}

#[test]
fn display_shows_the_effective_options_and_no_secret() {
    let mut failures = Vec::new();
    let url = "redis://user:s3cret-pw@127.0.0.1:6379/2?prefix=app&version=3&timeout=60\
               &serializer=msgpack&compressor=zstd&connect_timeout=0.25&response_timeout=0.5\
               &retry_budget=2";
    let cache = Cache::from_url(url).expect("a valid URL");
    let shown = cache.to_string();
    println!("{url}\n    shows as {shown}");
    if !shown.starts_with("redis://user:***@127.0.0.1:6379/2") {
        failures.push(format!(
            "{shown:?}: not the address with the password hidden"
        ));
    }
    check_shown(
        &mut failures,
        &shown,
        &[
            "prefix=app",
            "version=3",
            "timeout=60",
            "serializer=msgpack",
            "compressor=zstd",
        ],
        &[
            ("connect_timeout", Duration::from_millis(250)),
            ("response_timeout", Duration::from_millis(500)),
            ("retry_budget", Duration::from_secs(2)),
        ],
    );
    // What is shown configures the same cache again.
    match Cache::from_url(&shown) {
        Ok(again) if again.to_string() == shown => {}
        Ok(again) => failures.push(format!("{shown:?} builds a cache shown as {again}")),
        Err(error) => failures.push(format!("{shown:?} does not build: {error}")),
    }

    // The defaults in force are shown too.
    let defaults = Cache::from_url("redis://127.0.0.1:6379").expect("a valid URL");
    let shown = defaults.to_string();
    println!("redis://127.0.0.1:6379\n    shows as {shown}");
    check_shown(
        &mut failures,
        &shown,
        &["timeout=300", "serializer=json"],
        &[
            ("connect_timeout", Duration::from_secs(1)),
            ("response_timeout", Duration::from_secs(5)),
        ],
    );
    let memory = Cache::from_url("memory://?prefix=p&timeout=none").expect("a valid URL");
    let shown = memory.to_string();
    println!("memory://?prefix=p&timeout=none\n    shows as {shown}");
    check_shown(&mut failures, &shown, &["prefix=p", "timeout=none"], &[]);

    // Secrets never: the data nodes' password, the sentinels' own.
    let sentinel = "redis+sentinel://u:pw-data@127.0.0.1:26379/mymaster?sentinel_username=su\
                    &sentinel_password=pw-sentinel&prefix=x";
    for (text, what) in [
        (
            Cache::from_url(sentinel).expect("a valid URL").to_string(),
            "Display",
        ),
        (
            format!("{:?}", Cache::from_url(sentinel).expect("a valid URL")),
            "Debug",
        ),
        (
            format!(
                "{:?}",
                CacheBuilder::from_url(sentinel).expect("a valid URL")
            ),
            "the builder's Debug",
        ),
    ] {
        println!("{sentinel}\n    {what}: {text}");
        if text.contains("pw-data") || text.contains("pw-sentinel") {
            failures.push(format!("{what} shows a password: {text}"));
        }
    }
    assert_none_failed("Display", &failures);
}
