//! The command table: every command a backend runs, described once.
//!
//! Each family (keys, strings, hashes, lists, sets, sorted sets, streams) lists its commands in one
//! [`commands!`] invocation, as redis-rs lists its own in `implement_commands!`. A row gives
//! the command's struct and fields, the Redis command and its arguments in order, which fields
//! are keys, where it may be served ([`Route`]), whether it may be sent again after a broken
//! connection ([`Resend`]) and the type of its reply. From that row come the struct, its
//! [`Command`] implementation (name, key count, route, resend rule), the `redis::Cmd` a
//! server backend sends, and the typed decoding of the server's reply (the reply type's
//! `redis::FromRedisValue`). The in-memory backend gives each command its Redis semantics
//! beside the row, in `memory/<family>.rs`, returning the same typed reply.
//!
//! Two escape hatches for commands that are not one plain command:
//! - `script(SCRIPT; keys...; args...)`: a Lua script, sent as `EVALSHA` (loaded on the
//!   server's `NOSCRIPT`, see `Script`);
//! - `blocking(wait; args...)`: a command that blocks the connection (`BLPOP`), sent on a
//!   connection of its own, with its own wait added to the response timeout.
//!
//! Commands hold made keys (prefix and version applied) and encoded values: the cache layer
//! above makes them.

mod eval;
mod hash;
mod keys;
mod list;
mod semaphore;
mod set;
mod stream;
mod strings;
mod zset;

pub(crate) use eval::Eval;
pub(crate) use hash::*;
pub(crate) use keys::*;
pub(crate) use list::*;
pub(crate) use semaphore::*;
pub(crate) use set::*;
pub(crate) use stream::*;
pub(crate) use strings::*;
pub(crate) use zset::*;

/// Where a command may be served (servers only: the memory backend has one copy).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// It only reads: a replica may serve it when the cache reads from replicas.
    Reads,
    /// It only reads, but must see the primary's latest state (`SCAN`, whose keys are then
    /// deleted by `clear`).
    Primary,
    /// It writes: the primary only.
    Writes,
}

/// Whether a command may be sent again when its connection broke before the answer came
/// (servers only).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Sending it twice does no harm (a read, a plain `SET`, ...). A `DEL` sent again after
    /// its first answer was lost may count fewer keys than it deleted; nothing worse.
    Safe,
    /// Sending it twice could apply it twice or change its answer (`SET NX`, `INCRBY`, ...):
    /// only when it provably never left (a refused connection).
    Never,
}

/// A command of the table (see the module documentation).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) trait Command: Send + Sized + 'static {
    /// The typed reply.
    #[cfg(feature = "redis")]
    type Output: Send + 'static + redis::FromRedisValue;
    /// The typed reply.
    #[cfg(not(feature = "redis"))]
    type Output: Send + 'static;
    /// The Redis command's name (a script's, for logs, is the command it stands for).
    const NAME: &'static str;
    /// Where it may be served.
    const ROUTE: Route;
    /// Whether it may be sent again after a broken connection.
    const RESEND: Resend;
    /// How many keys it touches.
    fn key_count(&self) -> usize;
    /// Calls `visit` with each key it touches (made keys), in order.
    fn each_key(&self, visit: &mut dyn FnMut(&str));
    /// What a server backend sends.
    #[cfg(feature = "redis")]
    fn request(&self) -> Request;
}

/// What a server backend sends for one command.
#[cfg(feature = "redis")]
pub(crate) enum Request {
    /// One plain command.
    Plain(redis::Cmd),
    /// `EVALSHA` of a script; on `NOSCRIPT` the script is loaded and the call sent again.
    Script {
        source: ScriptSource,
        eval: redis::Cmd,
    },
    /// A command that blocks its connection for up to `wait` (`None`: forever), sent on a
    /// connection of its own.
    Blocking {
        command: redis::Cmd,
        wait: Option<std::time::Duration>,
    },
}

/// A Lua script of the table: its source, and its SHA-1 computed on first use (the memory
/// backend gives the same semantics in Rust).
#[cfg(feature = "redis")]
pub(crate) struct Script {
    pub(crate) source: &'static str,
    hash: std::sync::OnceLock<String>,
}

#[cfg(feature = "redis")]
impl Script {
    /// A script of this source.
    pub(crate) const fn new(source: &'static str) -> Script {
        Script {
            source,
            hash: std::sync::OnceLock::new(),
        }
    }

    /// The SHA-1 `EVALSHA` names it by.
    pub(crate) fn hash(&self) -> &str {
        self.hash
            .get_or_init(|| redis::Script::new(self.source).get_hash().to_owned())
    }
}

/// The source of a script a request runs: one of the table's, or a caller's
/// ([`crate::Script`]), shared.
#[cfg(feature = "redis")]
#[derive(Clone)]
pub(crate) enum ScriptSource {
    Table(&'static str),
    Shared(std::sync::Arc<str>),
}

#[cfg(feature = "redis")]
impl ScriptSource {
    /// The Lua text.
    pub(crate) fn text(&self) -> &str {
        match self {
            ScriptSource::Table(text) => text,
            ScriptSource::Shared(text) => text,
        }
    }
}

/// The keys a key field holds.
pub(crate) trait KeyCount {
    fn count(&self) -> usize;
    fn each(&self, visit: &mut dyn FnMut(&str));
}

impl KeyCount for String {
    fn count(&self) -> usize {
        1
    }

    fn each(&self, visit: &mut dyn FnMut(&str)) {
        visit(self);
    }
}

impl KeyCount for Vec<String> {
    fn count(&self) -> usize {
        self.len()
    }

    fn each(&self, visit: &mut dyn FnMut(&str)) {
        self.iter().for_each(|key| visit(key));
    }
}

/// When a stored value expires. A zero timeout never reaches a backend: the cache layer turns
/// it into a delete, as Django does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Expiry {
    Never,
    After(std::time::Duration),
}

/// The longest `PX` sent to a server, in milliseconds (about 146 million years). Redis refuses
/// an expiry whose deadline overflows; anything longer is stored without expiry, as the
/// in-memory backend does with a deadline it cannot represent.
const MAX_EXPIRY_MILLIS: u64 = 1 << 62;

/// The `PX` of an expiry in milliseconds, rounded up (a server refuses 0); `None` for no
/// expiry, or one too long for a server (see [`MAX_EXPIRY_MILLIS`]).
pub(crate) fn expiry_millis(expiry: Expiry) -> Option<u64> {
    match expiry {
        Expiry::Never => None,
        Expiry::After(duration) => u64::try_from(duration.as_nanos().div_ceil(1_000_000))
            .ok()
            .filter(|millis| *millis <= MAX_EXPIRY_MILLIS)
            .map(|millis| millis.max(1)),
    }
}

/// `PX ms` for an expiry, nothing for none: an optional pair of arguments.
#[cfg(feature = "redis")]
fn px(expiry: &Expiry) -> Option<(&'static str, u64)> {
    expiry_millis(*expiry).map(|millis| ("PX", millis))
}

/// Describes commands (see the module documentation). A row:
///
/// ```text
/// /// `HGET key field`: the field's value.
/// Hget { key: String, field: Vec<u8> } -> Option<Bytes>,
///     "HGET" cmd(key, field), keys [key], Reads, Safe;
/// ```
///
/// The arguments are expressions over the fields (each bound by reference), in the order the
/// server takes them; `Option` arguments are left out when `None`.
macro_rules! commands {
    ($(
        $(#[doc = $doc:expr])*
        $command:ident { $($field:ident : $type:ty),* $(,)? } -> $output:ty,
            $name:literal $how:ident ( $($send:tt)* ), keys [$($key:ident),*], $route:ident,
            $resend:ident;
    )*) => {$(
        $(#[doc = $doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub(crate) struct $command {
            $(pub(crate) $field: $type,)*
        }

        impl $crate::backend::command::Command for $command {
            type Output = $output;
            const NAME: &'static str = $name;
            const ROUTE: $crate::backend::command::Route = $crate::backend::command::Route::$route;
            const RESEND: $crate::backend::command::Resend =
                $crate::backend::command::Resend::$resend;

            fn key_count(&self) -> usize {
                0 $(+ $crate::backend::command::KeyCount::count(&self.$key))*
            }

            #[allow(unused_variables)]
            fn each_key(&self, visit: &mut dyn FnMut(&str)) {
                $($crate::backend::command::KeyCount::each(&self.$key, visit);)*
            }

            #[cfg(feature = "redis")]
            #[allow(unused_variables)]
            fn request(&self) -> $crate::backend::command::Request {
                let Self { $($field),* } = self;
                commands!(@send $name $how ($($send)*))
            }
        }
    )*};
    (@send $name:literal cmd ($($arg:expr),* $(,)?)) => {{
        #[allow(unused_mut)]
        let mut command = redis::cmd($name);
        $(command.arg($arg);)*
        $crate::backend::command::Request::Plain(command)
    }};
    (@send $name:literal script ($script:ident; $($key:expr),*; $($arg:expr),*)) => {{
        let mut eval = redis::cmd("EVALSHA");
        eval.arg($script.hash());
        eval.arg(0usize $(+ $crate::backend::command::KeyCount::count($key))*);
        $(eval.arg($key);)*
        $(eval.arg($arg);)*
        $crate::backend::command::Request::Script {
            source: $crate::backend::command::ScriptSource::Table($script.source),
            eval,
        }
    }};
    (@send $name:literal blocking ($wait:expr; $($arg:expr),*)) => {{
        let mut command = redis::cmd($name);
        $(command.arg($arg);)*
        $crate::backend::command::Request::Blocking { command, wait: $wait }
    }};
}
use commands;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Expiry, expiry_millis};

    #[test]
    fn expiries_become_whole_milliseconds() {
        assert_eq!(expiry_millis(Expiry::Never), None);
        assert_eq!(expiry_millis(Expiry::After(Duration::ZERO)), Some(1));
        assert_eq!(
            expiry_millis(Expiry::After(Duration::from_micros(10))),
            Some(1)
        );
        assert_eq!(
            expiry_millis(Expiry::After(Duration::from_micros(1500))),
            Some(2)
        );
        assert_eq!(
            expiry_millis(Expiry::After(Duration::from_secs(300))),
            Some(300_000)
        );
        assert_eq!(expiry_millis(Expiry::After(Duration::MAX)), None);
    }
}
