//! Configuration by URL: [`CacheBuilder::from_url`], and [`OPTIONS`], the one table of every
//! option a cache URL takes: which URLs take it, how it sets the builder, and how a built cache
//! shows it (the cache's `Display` is a URL that builds the same cache).

use std::fmt;
use std::time::Duration;

use super::builder::Location;
use super::stampede::StampedePrevention;
use super::{CacheBuilder, CacheCore};
use crate::backend::memory::Bound;
#[cfg(feature = "tls")]
use crate::backend::server::TlsRoots;
#[cfg(feature = "redis")]
use crate::backend::server::{bracketed, host_and_port};
use crate::keys::KeyValidation;
#[cfg(feature = "redis")]
use crate::url_text::database;
use crate::url_text::{QUERY_VALUE, closest, percent_decode, percent_encode};
use crate::{Error, Result};

impl CacheBuilder {
    /// A builder configured by a URL (see [`Cache::from_url`](super::Cache::from_url)).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the mistake: an unknown scheme, an option that no URL takes
    /// (with the closest known name) or that this URL's scheme does not take, an option given
    /// twice, a value the option cannot take or with a broken `%` escape. The address (host,
    /// port, database) is checked when the cache is built.
    pub fn from_url(url: &str) -> Result<Self> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            Error::config("not a cache URL: it must start with a scheme and `://`".to_owned())
        })?;
        let scheme = scheme.to_ascii_lowercase();
        let kind = Kind::of(&scheme).ok_or_else(|| {
            Error::config(format!(
                "unknown cache URL scheme {scheme:?}: expected memory, redis, rediss, valkey, \
                 valkeys, redis+unix, unix, redis+cluster or redis+sentinel"
            ))
        })?;
        // A fragment follows the query; the server refuses it, with a reason.
        let (rest, fragment) = match rest.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (rest, None),
        };
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut builder = CacheBuilder {
            location: location(&scheme, kind, address, fragment)?,
            ..CacheBuilder::default()
        };
        let mut given = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name)
                .map_err(|why| Error::config(format!("an option's name {why}")))?;
            let option = find(&scheme, kind, &name)?;
            if given.contains(&option.name) {
                return Err(Error::config(format!("the option {name} is given twice")));
            }
            given.push(option.name);
            let value = percent_decode(value)
                .map_err(|why| Error::config(format!("the value of the option {name} {why}")))?;
            (option.apply)(&mut builder, option.name, &value)?;
        }
        if given.contains(&"max_entries") && given.contains(&"max_bytes") {
            return Err(Error::config(
                "max_entries and max_bytes are both given: the in-memory cache is bounded by one \
                 of them",
            ));
        }
        Ok(builder)
    }
}

/// Where the values of a URL of `kind` live; `address` is what lies between `scheme://` and
/// the query.
fn location(scheme: &str, kind: Kind, address: &str, fragment: Option<&str>) -> Result<Location> {
    if kind == Kind::Memory {
        return match (address, fragment) {
            ("" | "/", None) => Ok(Location::Memory {
                bound: Bound::default(),
            }),
            _ => Err(Error::config(
                "memory:// has no address: memory://?option=value".to_owned(),
            )),
        };
    }
    #[cfg(feature = "redis")]
    {
        let fragment = fragment.map(|fragment| format!("#{fragment}"));
        Ok(Location::Server {
            url: format!("{scheme}://{address}{}", fragment.unwrap_or_default()),
            kind,
        })
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = (address, fragment);
        Err(Error::config(format!(
            "{scheme}:// is a server URL, which needs the `redis` feature of cachex"
        )))
    }
}

/// The kinds of cache URL, by scheme: each takes its own options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// `memory://`.
    Memory,
    /// `redis://`, `rediss://`, `valkey://`, `valkeys://`: one server over TCP.
    Tcp,
    /// `redis+unix://`, `unix://`: one server on a Unix socket.
    Unix,
    /// `redis+cluster://`, with its `rediss`, `valkey` and `valkeys` forms.
    Cluster,
    /// `redis+sentinel://`, with its `rediss`, `valkey` and `valkeys` forms.
    Sentinel,
}

impl Kind {
    /// The kind of a (lowercase) scheme; `None` if no cache URL has it.
    fn of(scheme: &str) -> Option<Kind> {
        let (base, topology) = scheme.split_once('+').unwrap_or((scheme, ""));
        let server = matches!(base, "redis" | "rediss" | "valkey" | "valkeys");
        match (base, topology) {
            ("memory", "") => Some(Kind::Memory),
            (_, "") if server => Some(Kind::Tcp),
            ("redis", "unix") | ("unix", "") => Some(Kind::Unix),
            (_, "cluster") if server => Some(Kind::Cluster),
            (_, "sentinel") if server => Some(Kind::Sentinel),
            _ => None,
        }
    }

    /// The URLs of this kind, for messages.
    fn named(self) -> &'static str {
        match self {
            Kind::Memory => "memory://",
            Kind::Tcp => "redis:// (rediss://, valkey://, valkeys://)",
            Kind::Unix => "redis+unix:// (unix://)",
            Kind::Cluster => "redis+cluster://",
            Kind::Sentinel => "redis+sentinel://",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The URLs that take an option: a set of [`Kind`]s.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Takes(u8);

impl Takes {
    const fn of(kinds: &[Kind]) -> Takes {
        let mut bits = 0;
        let mut index = 0;
        while index < kinds.len() {
            bits |= kinds[index].bit();
            index += 1;
        }
        Takes(bits)
    }

    fn has(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The URLs, for messages.
    fn named(self) -> String {
        if self == SERVERS {
            return "server URLs (redis://, redis+unix://, redis+cluster://, redis+sentinel:// \
                    and their forms)"
                .to_owned();
        }
        let kinds = [
            Kind::Memory,
            Kind::Tcp,
            Kind::Unix,
            Kind::Cluster,
            Kind::Sentinel,
        ];
        let named: Vec<&str> = kinds
            .into_iter()
            .filter(|kind| self.has(*kind))
            .map(Kind::named)
            .collect();
        format!("{} URLs", named.join(" and "))
    }
}

const EVERY: Takes = Takes::of(&[
    Kind::Memory,
    Kind::Tcp,
    Kind::Unix,
    Kind::Cluster,
    Kind::Sentinel,
]);
const MEMORY: Takes = Takes::of(&[Kind::Memory]);
const SERVERS: Takes = Takes::of(&[Kind::Tcp, Kind::Unix, Kind::Cluster, Kind::Sentinel]);
#[cfg(feature = "redis")]
const TCP: Takes = Takes::of(&[Kind::Tcp]);
#[cfg(feature = "redis")]
const ONE_SERVER: Takes = Takes::of(&[Kind::Tcp, Kind::Unix]);
#[cfg(feature = "redis")]
const UNIX: Takes = Takes::of(&[Kind::Unix]);
#[cfg(feature = "redis")]
const REPLICATED: Takes = Takes::of(&[Kind::Cluster, Kind::Sentinel]);
#[cfg(feature = "redis")]
const SENTINEL: Takes = Takes::of(&[Kind::Sentinel]);

/// One option of a cache URL's query.
struct UrlOption {
    /// Its name: `prefix` in `?prefix=app`.
    name: &'static str,
    /// The URLs that take it.
    takes: Takes,
    /// Sets the builder from a (percent-decoded) value; the name is for messages.
    apply: fn(&mut CacheBuilder, name: &str, value: &str) -> Result<()>,
    /// The value a built cache shows for it (before percent-encoding; a password as `***`);
    /// `None` leaves it out (not set, or not expressible in a URL).
    show: fn(&CacheCore) -> Option<String>,
}

/// Every option of a cache URL, in the order a cache shows them: the cache's own, the
/// in-memory backend's, the servers' (timeouts), then each topology's. Each says which URLs
/// take it; another URL refuses it by name.
const OPTIONS: &[UrlOption] = &[
    UrlOption {
        name: "prefix",
        takes: EVERY,
        apply: |builder, _, value| {
            builder.keys = builder.keys.clone().with_prefix(value);
            Ok(())
        },
        show: |core| Some(core.keys.prefix().to_owned()).filter(|prefix| !prefix.is_empty()),
    },
    UrlOption {
        name: "version",
        takes: EVERY,
        apply: |builder, name, value| {
            builder.keys = builder.keys.clone().with_version(number(name, value)?);
            Ok(())
        },
        show: |core| Some(core.keys.version().to_string()),
    },
    UrlOption {
        name: "timeout",
        takes: EVERY,
        apply: |builder, name, value| {
            // Django's: none for never, a negative timeout expires at once as 0 does.
            builder.default_timeout = match value {
                "none" | "None" => None,
                negative if negative.starts_with('-') => {
                    seconds(name, &negative[1..])?;
                    Some(Duration::ZERO)
                }
                value => Some(seconds(name, value)?),
            };
            Ok(())
        },
        show: |core| Some(core.default_timeout.map_or("none".to_owned(), seconds_text)),
    },
    UrlOption {
        name: "strict_keys",
        takes: EVERY,
        apply: |builder, name, value| {
            let validation = match flag(name, value)? {
                true => KeyValidation::Strict,
                false => KeyValidation::Warn,
            };
            builder.keys = builder.keys.clone().with_validation(validation);
            Ok(())
        },
        show: |core| match core.keys.validation() {
            KeyValidation::Strict => Some("true".to_owned()),
            KeyValidation::Warn => Some("false".to_owned()),
            // Only the builder turns the checks off.
            KeyValidation::Off => None,
        },
    },
    UrlOption {
        name: "fail_open",
        takes: EVERY,
        apply: |builder, name, value| {
            builder.fail_open = flag(name, value)?;
            Ok(())
        },
        show: |core| Some(core.fail_open.to_string()),
    },
    UrlOption {
        name: "stampede_prevention",
        takes: EVERY,
        apply: |builder, _, value| {
            builder.stampede = StampedePrevention::parse(value)?;
            Ok(())
        },
        show: |core| core.stampede.map(|stampede| stampede.to_string()),
    },
    UrlOption {
        name: "serializer",
        takes: EVERY,
        apply: |builder, _, value| {
            builder.codec = builder.codec.clone().serializer(value.parse()?);
            Ok(())
        },
        show: |core| Some(core.codec.serializer().name().to_owned()),
    },
    UrlOption {
        name: "compressor",
        takes: EVERY,
        apply: |builder, _, value| {
            builder.codec = builder.codec.clone().compressor(value.parse()?);
            Ok(())
        },
        show: |core| {
            core.codec
                .compressor()
                .map(|compressor| compressor.name().to_owned())
        },
    },
    UrlOption {
        name: "compression_level",
        takes: EVERY,
        apply: |builder, name, value| {
            builder.codec = builder
                .codec
                .clone()
                .compression_level(number(name, value)?);
            Ok(())
        },
        show: |core| {
            core.codec
                .compression_level()
                .map(|level| level.to_string())
        },
    },
    UrlOption {
        name: "min_length",
        takes: EVERY,
        apply: |builder, name, value| {
            builder.codec = builder.codec.clone().min_length(number(name, value)?);
            Ok(())
        },
        // It matters only to a compressor.
        show: |core| {
            core.codec
                .compressor()
                .map(|_| core.codec.min_length().to_string())
        },
    },
    UrlOption {
        name: "max_entries",
        takes: MEMORY,
        apply: |builder, name, value| set_bound(builder, Bound::Entries(number(name, value)?)),
        show: |core| match core.origin.location {
            Location::Memory {
                bound: Bound::Entries(max_entries),
            } => Some(max_entries.to_string()),
            _ => None,
        },
    },
    UrlOption {
        name: "max_bytes",
        takes: MEMORY,
        apply: |builder, name, value| set_bound(builder, Bound::Bytes(number(name, value)?)),
        show: |core| match core.origin.location {
            Location::Memory {
                bound: Bound::Bytes(max_bytes),
            } => Some(max_bytes.to_string()),
            _ => None,
        },
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "connect_timeout",
        takes: SERVERS,
        apply: |builder, name, value| {
            builder.server.connect_timeout = Some(seconds(name, value)?);
            Ok(())
        },
        show: |core| Some(seconds_text(core.origin.server.effective_connect_timeout())),
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "response_timeout",
        takes: SERVERS,
        apply: |builder, name, value| {
            builder.server.response_timeout = Some(seconds(name, value)?);
            Ok(())
        },
        show: |core| {
            Some(seconds_text(
                core.origin.server.effective_response_timeout(),
            ))
        },
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "retry_budget",
        takes: SERVERS,
        apply: |builder, name, value| {
            builder.server.retry_budget = Some(seconds(name, value)?);
            Ok(())
        },
        show: |core| {
            Some(seconds_text(
                core.origin.server.retry_budget.unwrap_or_default(),
            ))
        },
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "tracking",
        takes: SERVERS,
        apply: |builder, name, value| {
            let on = flag(name, value)?;
            builder.server.tracking = on.then(|| builder.server.tracking.unwrap_or_default());
            Ok(())
        },
        show: |core| core.origin.server.tracking.map(|_| "true".to_owned()),
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "tracking_max_staleness",
        takes: SERVERS,
        apply: |builder, name, value| {
            builder
                .server
                .tracking
                .get_or_insert_default()
                .max_staleness = seconds(name, value)?;
            Ok(())
        },
        show: |core| {
            core.origin
                .server
                .tracking
                .map(|tracking| seconds_text(tracking.max_staleness))
        },
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "tracking_max_bytes",
        takes: SERVERS,
        apply: |builder, name, value| {
            builder.server.tracking.get_or_insert_default().max_bytes = number(name, value)?;
            Ok(())
        },
        show: |core| {
            core.origin
                .server
                .tracking
                .map(|tracking| tracking.max_bytes.to_string())
        },
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "connection_limit",
        takes: SERVERS,
        apply: |builder, name, value| {
            let limit = number(name, value)?;
            if limit == 0 {
                return Err(invalid(name, value));
            }
            builder.server.connection_limit = Some(limit);
            Ok(())
        },
        show: |core| {
            core.origin
                .server
                .connection_limit
                .map(|limit| limit.to_string())
        },
    },
    #[cfg(feature = "tls")]
    UrlOption {
        name: "tls_ca",
        takes: SERVERS,
        apply: |builder, name, value| {
            if value.is_empty() {
                return Err(invalid(name, value));
            }
            builder.server.tls_roots = Some(TlsRoots::File(value.into()));
            Ok(())
        },
        // Certificates given to the builder have no URL form.
        show: |core| match &core.origin.server.tls_roots {
            Some(TlsRoots::File(path)) => Some(path.to_string_lossy().into_owned()),
            Some(TlsRoots::Pem(_)) | None => None,
        },
    },
    #[cfg(all(feature = "redis", not(feature = "tls")))]
    UrlOption {
        name: "tls_ca",
        takes: SERVERS,
        apply: |_, _, _| {
            Err(Error::config(
                "the option tls_ca needs TLS, which this build of cachex does not include: \
                 enable the `tls` feature of cachex"
                    .to_owned(),
            ))
        },
        show: |_| None,
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "db",
        takes: UNIX,
        apply: |builder, _, value| {
            builder.server.db =
                Some(database(value).map_err(|why| Error::config(format!("{why} (option db)")))?);
            Ok(())
        },
        show: |core| Some(core.origin.server.db.unwrap_or(0).to_string()),
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "user",
        takes: UNIX,
        apply: |builder, _, value| {
            builder.server.user = Some(value.to_owned());
            Ok(())
        },
        show: |core| core.origin.server.user.clone(),
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "pass",
        takes: UNIX,
        apply: |builder, _, value| {
            builder.server.password = Some(value.to_owned().into());
            Ok(())
        },
        show: |core| core.origin.server.password.as_ref().map(hidden),
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "protocol",
        takes: ONE_SERVER,
        apply: |builder, name, value| {
            builder.server.protocol = Some(match value {
                "2" | "resp2" => redis::ProtocolVersion::RESP2,
                "3" | "resp3" => redis::ProtocolVersion::RESP3,
                _ => return Err(invalid(name, value)),
            });
            Ok(())
        },
        show: |core| match core.origin.server.effective_protocol() {
            redis::ProtocolVersion::RESP2 => Some("resp2".to_owned()),
            _ => Some("resp3".to_owned()),
        },
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "replicas",
        takes: TCP,
        apply: |builder, name, value| {
            // django-cachex's LOCATION list: the URL's server is the primary, these replicas.
            builder.server.replicas = value
                .split(',')
                .map(|node| {
                    host_and_port(node.trim(), 6379)
                        .map_err(|why| Error::config(format!("{why} (option {name})")))
                })
                .collect::<Result<_>>()?;
            Ok(())
        },
        show: |core| {
            let replicas = &core.origin.server.replicas;
            let shown: Vec<String> = replicas
                .iter()
                .map(|(host, port)| format!("{}:{port}", bracketed(host)))
                .collect();
            Some(shown.join(",")).filter(|_| !replicas.is_empty())
        },
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "replica_reads",
        takes: REPLICATED,
        apply: |builder, name, value| {
            builder.server.replica_reads = flag(name, value)?;
            Ok(())
        },
        show: |core| Some(core.origin.server.replica_reads.to_string()),
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "sentinel_username",
        takes: SENTINEL,
        apply: |builder, _, value| {
            builder.server.sentinel_user = Some(value.to_owned());
            Ok(())
        },
        show: |core| core.origin.server.sentinel_user.clone(),
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "sentinel_user",
        takes: SENTINEL,
        apply: |builder, _, value| {
            builder.server.sentinel_user = Some(value.to_owned());
            Ok(())
        },
        // Shown as sentinel_username.
        show: |_| None,
    },
    #[cfg(feature = "redis")]
    UrlOption {
        name: "sentinel_password",
        takes: SENTINEL,
        apply: |builder, _, value| {
            builder.server.sentinel_password = Some(value.to_owned().into());
            Ok(())
        },
        show: |core| core.origin.server.sentinel_password.as_ref().map(hidden),
    },
];

/// The option `name` of a `scheme` URL (of `kind`), or the error that names the mistake: an
/// option of other URLs, or an unknown one with the closest known name.
fn find(scheme: &str, kind: Kind, name: &str) -> Result<&'static UrlOption> {
    if let Some(option) = OPTIONS.iter().find(|option| option.name == name) {
        return match option.takes.has(kind) {
            true => Ok(option),
            false => Err(Error::config(format!(
                "the option {name} is not one of {scheme}://'s: it is for {}",
                option.takes.named()
            ))),
        };
    }
    let own = || OPTIONS.iter().filter(|option| option.takes.has(kind));
    let meant = closest(name, own().map(|option| option.name))
        .or_else(|| closest(name, OPTIONS.iter().map(|option| option.name)))
        .and_then(|meant| OPTIONS.iter().find(|option| option.name == meant));
    let unknown = format!("unknown option {name:?} for a {scheme}:// URL");
    Err(Error::config(match meant {
        Some(meant) if meant.takes.has(kind) => format!("{unknown}: did you mean {}?", meant.name),
        Some(meant) => format!(
            "{unknown}: did you mean {}? It is an option of {}, not of {scheme}:// URLs",
            meant.name,
            meant.takes.named()
        ),
        None => {
            let names: Vec<&str> = own().map(|option| option.name).collect();
            format!("{unknown}; its options are {}", names.join(", "))
        }
    }))
}

/// Shows a built cache as a URL that builds the same cache: where it keeps its values (a
/// password as `***`), then every option in force that a URL can express, `name=value`,
/// percent-encoded, durations in seconds.
pub(super) fn show(core: &CacheCore, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&core.origin.address)?;
    let kind = core.origin.location.kind();
    let mut separator = '?';
    for option in OPTIONS.iter().filter(|option| option.takes.has(kind)) {
        if let Some(value) = (option.show)(core) {
            let value = percent_encode(&value, QUERY_VALUE);
            write!(f, "{separator}{}={value}", option.name)?;
            separator = '&';
        }
    }
    Ok(())
}

/// How a password shows.
#[cfg(feature = "redis")]
fn hidden<T>(_: &T) -> String {
    "***".to_owned()
}

/// The error for a value an option cannot take.
fn invalid(name: &str, value: &str) -> Error {
    Error::config(format!("invalid value {value:?} for the option {name}"))
}

/// Sets the in-memory backend's bound (`max_entries`, `max_bytes`).
fn set_bound(builder: &mut CacheBuilder, bound: Bound) -> Result<()> {
    builder.location = Location::Memory { bound };
    Ok(())
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

/// Seconds, in decimal, fractions allowed down to nanoseconds (`0.5`, `2`), read exactly.
fn seconds(name: &str, value: &str) -> Result<Duration> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |text: &str| text.bytes().all(|byte| byte.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 9
    {
        return Err(Error::config(format!(
            "invalid value {value:?} for the option {name}: expected seconds, such as 2 or 0.5"
        )));
    }
    let whole: u64 = match whole {
        "" => 0,
        whole => number(name, whole)?,
    };
    let nanos: u32 = match fraction {
        "" => 0,
        fraction => number::<u32>(name, fraction)? * 10u32.pow(9 - fraction.len() as u32),
    };
    Ok(Duration::new(whole, nanos))
}

/// A duration as [`seconds`] reads it: `2`, `0.25`.
fn seconds_text(duration: Duration) -> String {
    let (whole, nanos) = (duration.as_secs(), duration.subsec_nanos());
    if nanos == 0 {
        return whole.to_string();
    }
    let fraction = format!("{nanos:09}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// Hides the password of a URL's `user:password@` (and a userinfo without `:`, which may be a
/// misplaced password), for `Debug`.
#[cfg(feature = "redis")]
pub(super) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                // A user alone, or a password written without its `:`: hidden too.
                None => format!("{}***{}", &url[..scheme_end + 3], &url[at..]),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn seconds_are_read_and_shown_exactly() {
        for (text, duration) in [
            ("2", Duration::from_secs(2)),
            ("0.5", Duration::from_millis(500)),
            (".25", Duration::from_millis(250)),
            ("1.000000001", Duration::new(1, 1)),
            ("0", Duration::ZERO),
        ] {
            assert_eq!(seconds("t", text).ok(), Some(duration), "{text}");
        }
        for (duration, text) in [
            (Duration::from_secs(300), "300"),
            (Duration::from_millis(250), "0.25"),
            (Duration::new(1, 1), "1.000000001"),
        ] {
            assert_eq!(seconds_text(duration), text);
            assert_eq!(seconds("t", text).ok(), Some(duration), "{text}");
        }
        for bad in [
            "",
            ".",
            "-1",
            "1e3",
            "+1",
            "0.1234567891",
            "1.2.3",
            "inf",
            " 1",
        ] {
            assert!(seconds("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_memory_cache_is_bounded_by_entries_or_bytes() -> Result<()> {
        let cache = crate::Cache::from_url("memory://?max_bytes=1000000")?;
        assert!(cache.to_string().contains("max_bytes=1000000"), "{cache}");
        assert!(!cache.to_string().contains("max_entries"), "{cache}");
        let cache = crate::Cache::from_url("memory://?max_entries=5")?;
        assert!(cache.to_string().contains("max_entries=5"), "{cache}");
        let built = crate::Cache::builder().max_bytes(10).build()?.to_string();
        assert!(built.ends_with("&max_bytes=10"), "{built}");
        let both = crate::Cache::from_url("memory://?max_bytes=10&max_entries=5");
        assert!(matches!(both, Err(Error::Config { .. })), "{both:?}");
        Ok(())
    }

    #[test]
    fn every_option_is_named_once_and_taken_by_some_url() {
        for (index, option) in OPTIONS.iter().enumerate() {
            assert!(option.takes.0 != 0, "{}", option.name);
            assert!(
                OPTIONS[index + 1..]
                    .iter()
                    .all(|other| other.name != option.name),
                "{} twice",
                option.name
            );
        }
    }

    #[test]
    fn the_configuration_guide_lists_every_option() {
        let guide = include_str!("../guide/configuration.md");
        for option in OPTIONS {
            assert!(
                guide.contains(&format!("`{}`", option.name)),
                "the guide does not name {}",
                option.name
            );
        }
        // Without servers, the guide's server options are not in the table.
        #[cfg(feature = "redis")]
        {
            let (_, options) = guide.split_once("# Options").unwrap_or_default();
            let (table, _) = options.split_once("\n# ").unwrap_or((options, ""));
            for row in table.lines().filter(|line| line.starts_with("| `")) {
                let name = row.split('`').nth(1).unwrap_or_default();
                assert!(
                    OPTIONS.iter().any(|option| option.name == name),
                    "the guide lists {name}, which no URL takes"
                );
            }
        }
    }

    #[test]
    fn schemes_have_kinds() {
        for (scheme, kind) in [
            ("memory", Some(Kind::Memory)),
            ("redis", Some(Kind::Tcp)),
            ("valkeys", Some(Kind::Tcp)),
            ("redis+unix", Some(Kind::Unix)),
            ("unix", Some(Kind::Unix)),
            ("valkeys+cluster", Some(Kind::Cluster)),
            ("rediss+sentinel", Some(Kind::Sentinel)),
            ("valkey+unix", None),
            ("memory+cluster", None),
            ("http", None),
        ] {
            assert_eq!(Kind::of(scheme), kind, "{scheme}");
        }
    }

    #[test]
    #[cfg(feature = "redis")]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact("redis://:secret@host"), "redis://:***@host");
        assert_eq!(redact("redis://secret@host"), "redis://***@host");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
    }
}
