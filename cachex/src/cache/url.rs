//! Configuration by URL: [`CacheBuilder::from_url`], with one table of the cache's options
//! ([`OPTIONS`]); the others are the server's, passed on in its URL.

use std::time::Duration;

use super::CacheBuilder;
use super::builder::Location;
#[cfg(feature = "tls")]
use crate::backend::server::TlsRoots;
use crate::keys::KeyValidation;
use crate::{Error, Result};

impl CacheBuilder {
    /// A builder configured by a URL (see [`Cache::from_url`](super::Cache::from_url)).
    pub fn from_url(url: &str) -> Result<Self> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            Error::Config("not a cache URL: it must start with a scheme and `://`".to_owned())
        })?;
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        #[cfg(not(feature = "redis"))]
        let _ = address; // only server URLs have an address
        let mut builder = CacheBuilder::default();
        let mut server_query = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match OPTIONS.iter().find(|(option, _)| *option == name) {
                Some((_, apply)) => apply(&mut builder, name, value)?,
                None => server_query.push(pair),
            }
        }
        builder.location = match scheme.to_ascii_lowercase().as_str() {
            "memory" => match server_query.first() {
                Some(unknown) => {
                    let name = unknown.split_once('=').map_or(*unknown, |(name, _)| name);
                    return Err(Error::Config(format!("unknown cache option {name:?}")));
                }
                None => builder.location,
            },
            #[cfg(feature = "redis")]
            "redis" | "rediss" | "valkey" | "valkeys" | "redis+unix" | "unix" | "redis+cluster"
            | "rediss+cluster" | "valkey+cluster" | "valkeys+cluster" | "redis+sentinel"
            | "rediss+sentinel" | "valkey+sentinel" | "valkeys+sentinel" => {
                let query = server_query.join("&");
                let separator = if query.is_empty() { "" } else { "?" };
                Location::Server {
                    url: format!("{scheme}://{address}{separator}{query}"),
                }
            }
            other => {
                return Err(Error::Config(format!(
                    "unknown cache URL scheme {other:?}: expected {}",
                    if cfg!(feature = "redis") {
                        "memory, redis, rediss, valkey, valkeys, redis+unix, redis+cluster or \
                         redis+sentinel"
                    } else {
                        "memory (server URLs need the `redis` feature)"
                    }
                )));
            }
        };
        Ok(builder)
    }
}

/// Applies one option's value to a builder; `name` is for messages.
type Apply = fn(&mut CacheBuilder, name: &str, value: &str) -> Result<()>;

/// The cache's options in a URL's query string, each with what it does. Every other option
/// belongs to the server's URL (`db`, `user`, `pass`, `protocol`, the cluster's and Sentinel's).
const OPTIONS: &[(&str, Apply)] = &[
    ("prefix", |builder, _, value| {
        builder.keys = builder.keys.clone().with_prefix(value);
        Ok(())
    }),
    ("version", |builder, name, value| {
        builder.keys = builder.keys.clone().with_version(number(name, value)?);
        Ok(())
    }),
    ("timeout", |builder, name, value| {
        builder.default_timeout = match value {
            "none" | "None" => None,
            seconds => Some(Duration::from_secs(
                number::<i64>(name, seconds)?.max(0).unsigned_abs(),
            )),
        };
        Ok(())
    }),
    ("strict_keys", |builder, name, value| {
        if flag(name, value)? {
            builder.keys = builder.keys.clone().with_validation(KeyValidation::Strict);
        }
        Ok(())
    }),
    ("fail_open", |builder, name, value| {
        builder.fail_open = flag(name, value)?;
        Ok(())
    }),
    ("serializer", |builder, _, value| {
        builder.codec = builder.codec.clone().serializer(value.parse()?);
        Ok(())
    }),
    ("compressor", |builder, _, value| {
        builder.codec = builder.codec.clone().compressor(value.parse()?);
        Ok(())
    }),
    ("compression_level", |builder, name, value| {
        builder.codec = builder
            .codec
            .clone()
            .compression_level(number(name, value)?);
        Ok(())
    }),
    ("min_length", |builder, name, value| {
        builder.codec = builder.codec.clone().min_length(number(name, value)?);
        Ok(())
    }),
    ("max_entries", |builder, name, value| {
        builder.location = Location::Memory {
            max_entries: number(name, value)?,
        };
        Ok(())
    }),
    #[cfg(feature = "redis")]
    ("connect_timeout", |builder, name, value| {
        builder.server.connect_timeout = Some(seconds(name, value)?);
        Ok(())
    }),
    #[cfg(feature = "redis")]
    ("response_timeout", |builder, name, value| {
        builder.server.response_timeout = Some(seconds(name, value)?);
        Ok(())
    }),
    #[cfg(feature = "redis")]
    ("retry_budget", |builder, name, value| {
        builder.server.retry_budget = Some(seconds(name, value)?);
        Ok(())
    }),
    #[cfg(feature = "redis")]
    ("connection_limit", |builder, name, value| {
        builder.server.connection_limit = Some(number(name, value)?);
        Ok(())
    }),
    #[cfg(feature = "tls")]
    ("tls_ca", |builder, name, value| {
        if value.is_empty() {
            return Err(invalid(name, value));
        }
        builder.server.tls_roots = Some(TlsRoots::File(value.into()));
        Ok(())
    }),
    #[cfg(not(feature = "tls"))]
    ("tls_ca", |_, _, _| {
        Err(Error::Config(
            "the option tls_ca needs TLS, which this build of cachex does not include: enable \
             the `tls` feature of cachex"
                .to_owned(),
        ))
    }),
];

/// The error for a value an option cannot take.
fn invalid(name: &str, value: &str) -> Error {
    Error::Config(format!("invalid value {value:?} for the option {name}"))
}

/// A number.
fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T> {
    value.parse().map_err(|_| invalid(name, value))
}

/// A yes/no flag: `1`, `true`, `yes` (or nothing) and `0`, `false`, `no`.
fn flag(name: &str, value: &str) -> Result<bool> {
    match value {
        "" | "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(invalid(name, value)),
    }
}

/// Seconds, fractions allowed (`0.5`).
#[cfg(feature = "redis")]
fn seconds(name: &str, value: &str) -> Result<Duration> {
    let seconds = value.parse().map_err(|_| invalid(name, value))?;
    Duration::try_from_secs_f64(seconds).map_err(|_| invalid(name, value))
}

/// Hides the secrets of a URL, for messages: the password of `user:password@`, and the
/// values of query parameters that carry one (`pass`, `password`, anything with `token`).
#[cfg(feature = "redis")]
pub(super) fn redact(url: &str) -> String {
    let (address, query) = url.split_once('?').unwrap_or((url, ""));
    let address = match (address.find("://"), address.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &address[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => {
                    format!("{}{user}:***{}", &address[..scheme_end + 3], &address[at..])
                }
                None => format!("{}***{}", &address[..scheme_end + 3], &address[at..]),
            }
        }
        _ => address.to_owned(),
    };
    if query.is_empty() {
        return address;
    }
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret(name) => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{address}?{}", query.join("&"))
}

#[cfg(feature = "redis")]
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "pass" || name.contains("password") || name.contains("token") || name.contains("secret")
}
