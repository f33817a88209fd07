//! Stampede prevention as a cache option, as django-cachex 0.14.1 does it (XFetch, Vattani et
//! al., VLDB 2015): values are stored for their timeout plus a buffer; a read that finds less
//! than the buffer left (the value's logical lifetime is over) misses, and before that a read
//! misses early with a probability that grows as the logical end nears, so that one caller
//! recomputes the value while the others still read it.

use std::fmt;
use std::time::Duration;

use crate::backend::Expiry;
use crate::backend::command::{outlives_buffer, ttl_secs};
use crate::{Error, Result};

/// The `stampede_prevention` option (django-cachex's `StampedeConfig`): a cache with it
/// stores each value for its timeout plus `buffer`, and its reads (`get`, `get_many`,
/// `get_or_set`, `has_key`) treat a value with at most `buffer` left as expired, and one
/// closer than about `beta × delta` to that point as expired now and then (XFetch), so that
/// the first caller to miss recomputes it before everyone misses at once. `add` and `touch`
/// treat a value inside its buffer as missing, as `get` does. `ttl`, `pttl` and `expiretime`
/// report the logical expiry (the buffer taken off) and the `expire` family adds the buffer,
/// as django-cachex 0.14.1's do; [`Cache::with_stampede_prevention(None)`](crate::Cache::with_stampede_prevention)
/// sees and sets the stored expiries.
///
/// The stored value is the same as without the option and its expiry is the timeout plus the
/// buffer, exactly what django-cachex writes with the same option: a Django process and a Rust
/// one with the same settings share the values and agree on when they expire.
///
/// ```
/// use cachex::{Cache, StampedePrevention};
/// use std::time::Duration;
///
/// let cache = Cache::builder()
///     .stampede_prevention(Some(StampedePrevention::default()))
///     .build()?;
/// // The same, by URL: memory://?stampede_prevention=buffer:60,beta:1,delta:1
/// let by_url = Cache::from_url("memory://?stampede_prevention=true")?;
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StampedePrevention {
    /// Added to every stored timeout: how long a value is kept after its logical end, so that
    /// reads can tell "logically expired" from "gone". Whole seconds, as Django's. 60 s by
    /// default.
    pub buffer: Duration,
    /// XFetch's β: higher recomputes earlier. 1 by default; 0 turns the early misses off.
    pub beta: f64,
    /// The expected time to recompute a value, in seconds. 1 by default; 0 turns the early
    /// misses off.
    pub delta: f64,
}

impl Default for StampedePrevention {
    fn default() -> Self {
        StampedePrevention {
            buffer: Duration::from_secs(60),
            beta: 1.0,
            delta: 1.0,
        }
    }
}

impl fmt::Display for StampedePrevention {
    /// The URL form: `buffer:60,beta:1,delta:1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let StampedePrevention {
            buffer,
            beta,
            delta,
        } = self;
        write!(f, "buffer:{},beta:{beta},delta:{delta}", buffer.as_secs())
    }
}

impl StampedePrevention {
    /// Refuses what django-cachex refuses: a buffer that is not whole seconds, a β or δ that
    /// is negative or not finite.
    pub(crate) fn check(self) -> Result<Self> {
        if self.buffer.subsec_nanos() != 0 {
            return Err(Error::config(format!(
                "the stampede buffer must be whole seconds, not {:?}",
                self.buffer
            )));
        }
        for (name, value) in [("beta", self.beta), ("delta", self.delta)] {
            if !value.is_finite() || value < 0.0 {
                return Err(Error::config(format!(
                    "the stampede {name} must be a finite number >= 0, not {value}"
                )));
            }
        }
        Ok(self)
    }

    /// The URL form: `true` (the defaults), `false` (off), or some of
    /// `buffer:SECONDS,beta:NUMBER,delta:NUMBER` (the others at their defaults).
    pub(crate) fn parse(value: &str) -> Result<Option<Self>> {
        match value {
            "true" | "True" | "1" => return Ok(Some(Self::default())),
            "false" | "False" | "0" | "" => return Ok(None),
            _ => {}
        }
        let mut config = Self::default();
        for part in value.split(',') {
            let (name, number) = part.split_once(':').unwrap_or((part, ""));
            let bad = || {
                Error::config(format!(
                    "stampede_prevention takes true, false or buffer:SECONDS,beta:NUMBER,\
                     delta:NUMBER; {part:?} is not one of those"
                ))
            };
            match name {
                "buffer" => config.buffer = Duration::from_secs(number.parse().map_err(|_| bad())?),
                "beta" => config.beta = number.parse().map_err(|_| bad())?,
                "delta" => config.delta = number.parse().map_err(|_| bad())?,
                _ => return Err(bad()),
            }
        }
        config.check().map(Some)
    }

    /// The buffer in whole seconds.
    pub(crate) fn buffer_secs(self) -> u64 {
        self.buffer.as_secs()
    }

    /// What is stored for an expiry: the timeout plus the buffer (django-cachex's
    /// `get_timeout_with_buffer`); no expiry stays none.
    pub(crate) fn stored(self, expiry: Expiry) -> Expiry {
        match expiry {
            Expiry::Never => Expiry::Never,
            Expiry::After(timeout) => Expiry::After(timeout.saturating_add(self.buffer)),
        }
    }

    /// A deadline for `expire_at` as stored: the buffer added to one in the future (Unix
    /// milliseconds), as django-cachex's `_buffered_when`; one already past stays, so that the
    /// key is deleted rather than kept for the buffer.
    pub(crate) fn stored_deadline(self, unix_millis: i64, now_unix_millis: i64) -> i64 {
        if unix_millis <= now_unix_millis {
            return unix_millis;
        }
        unix_millis.saturating_add(self.buffer_millis())
    }

    /// The logical time left (or deadline) of a stored one, in milliseconds, as
    /// django-cachex's `_logical_ttl`: the buffer taken off, never below 0; the codes for
    /// "missing" (-2) and "no expiry" (-1) pass through.
    pub(crate) fn logical_millis(self, stored: i64) -> i64 {
        if stored < 0 {
            return stored;
        }
        stored.saturating_sub(self.buffer_millis()).max(0)
    }

    fn buffer_millis(self) -> i64 {
        i64::try_from(self.buffer.as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether a value with `pttl` left (`PTTL`'s answer) counts as present: no expiry, or
    /// more than the buffer left (django-cachex's `outlives_buffer`, on `TTL`'s seconds).
    pub(crate) fn outlives(self, pttl: i64) -> bool {
        outlives_buffer(pttl, self.buffer_secs())
    }

    /// Whether a read that found a value with `pttl` left must miss, so that the caller
    /// recomputes it (django-cachex's `should_recompute`): never without expiry; always
    /// within the buffer; before it, with XFetch's probability.
    pub(crate) fn recompute(self, pttl: i64) -> bool {
        if pttl < 0 {
            return false;
        }
        let remaining = ttl_secs(pttl) as f64 - self.buffer.as_secs_f64();
        if remaining <= 0.0 {
            return true;
        }
        // delta × beta × -Exp(1): ln of a uniform draw in (0, 1].
        self.delta > 0.0 && remaining + self.delta * self.beta * (1.0 - fastrand::f64()).ln() <= 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_form_reads_back() {
        let parsed = StampedePrevention::parse("buffer:30,beta:2.5,delta:0.5").expect("parsed");
        let expected = StampedePrevention {
            buffer: Duration::from_secs(30),
            beta: 2.5,
            delta: 0.5,
        };
        assert_eq!(parsed, Some(expected));
        assert_eq!(
            StampedePrevention::parse(&expected.to_string()).expect("parsed"),
            Some(expected)
        );
        assert_eq!(
            StampedePrevention::parse("true").expect("parsed"),
            Some(StampedePrevention::default())
        );
        assert_eq!(StampedePrevention::parse("false").expect("parsed"), None);
        for bad in [
            "buffer:-1",
            "beta:-1",
            "delta:inf",
            "beta",
            "size:3",
            "buffer:1.5",
        ] {
            assert!(StampedePrevention::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expiries_are_stored_with_the_buffer_and_read_without_it() {
        let config = StampedePrevention::default();
        assert_eq!(config.logical_millis(-2), -2, "missing");
        assert_eq!(config.logical_millis(-1), -1, "no expiry");
        assert_eq!(config.logical_millis(160_000), 100_000);
        assert_eq!(config.logical_millis(30_000), 0, "inside the buffer");
        let now = 1_700_000_000_000;
        assert_eq!(config.stored_deadline(now + 1_000, now), now + 61_000);
        assert_eq!(
            config.stored_deadline(now - 1_000, now),
            now - 1_000,
            "past: deleted"
        );
    }

    #[test]
    fn reads_miss_within_the_buffer_and_sometimes_before() {
        let config = StampedePrevention::default();
        assert!(!config.recompute(-1), "no expiry");
        assert!(config.recompute(60_000), "at the buffer");
        assert!(config.recompute(30_000), "within the buffer");
        assert!(!config.outlives(60_000));
        assert!(config.outlives(61_000));
        assert!(config.outlives(-1));
        assert!(!config.outlives(-2));
        // Far from the end: never (Exp(1) > 1000 has probability e^-1000).
        assert!((0..10_000).all(|_| !config.recompute(1_060_000)));
        // One second (one delta) before the logical end: P(Exp(1) >= 1) = e^-1, about 37 %.
        let early = (0..10_000).filter(|_| config.recompute(61_000)).count();
        assert!(
            (3_200..4_200).contains(&early),
            "{early} early misses of 10,000"
        );
        let off = StampedePrevention {
            delta: 0.0,
            ..config
        };
        assert!(
            (0..1_000).all(|_| !off.recompute(61_000)),
            "delta 0: no early miss"
        );
    }
}
