//! The redis crate's errors as the cache's: one table maps the server's error texts to
//! variants; connection failures, timeouts and refused credentials are told apart first.

use redis::{ErrorKind, RedisError};

use std::sync::Arc;

use super::Server;
use crate::Error;
use crate::error::{Cause, Delivery, Waiting};

/// What a server error reply means for the caller.
#[derive(Clone, Copy)]
enum Meaning {
    /// The key must exist and does not (`RENAME` of a missing key).
    NotFound,
    /// An argument out of range (an index, a score, an expiry).
    InvalidArgument,
    /// The key holds another type, or a value that is not a number.
    WrongType,
    /// A stream's consumer group already exists (`BUSYGROUP`).
    GroupExists,
    /// A stream or its consumer group does not exist (`NOGROUP`).
    NoGroup,
    /// A cluster refused keys of several slots.
    CrossSlot,
    /// The server does not have the command (an older version).
    UnknownCommand,
    /// The server's ACL refused the user this command or key.
    NoPermission,
    /// The server wants a password.
    NoAuth,
    /// The server refused the user or password.
    WrongPassword,
    /// A cluster or a Sentinel service is changing its topology (a failover, a slot
    /// migration): the node refused the request, which may succeed once it settles.
    Topology,
}

/// How a server's error reply is recognised: its code (the first word) or a text in it.
#[derive(Clone, Copy)]
enum Pattern {
    Code(&'static str),
    Text(&'static str),
}

/// The server error replies the cache gives a meaning to, first match wins; anything else is
/// [`Error::Server`]. Redis and Valkey word these alike (tested against both).
const SERVER_ERRORS: &[(Pattern, Meaning)] = {
    use Meaning::*;
    use Pattern::*;
    &[
        (Code("CROSSSLOT"), CrossSlot),
        (Code("WRONGPASS"), WrongPassword),
        (Code("NOPERM"), NoPermission),
        (Code("NOAUTH"), NoAuth),
        (Code("MOVED"), Topology),
        (Code("ASK"), Topology),
        (Code("TRYAGAIN"), Topology),
        (Code("CLUSTERDOWN"), Topology),
        (Code("MASTERDOWN"), Topology),
        (Code("READONLY"), Topology),
        (Text("unknown command"), UnknownCommand),
        (Text("not compatible"), InvalidArgument),
        (Code("BUSYGROUP"), GroupExists),
        (Code("NOGROUP"), NoGroup),
        (Text("no such key"), NotFound),
        (Text("requires the key to exist"), NotFound),
        (Text("Invalid stream ID"), InvalidArgument),
        (
            Text("equal or smaller than the target stream top item"),
            InvalidArgument,
        ),
        (Text("must be greater than 0-0"), InvalidArgument),
        (
            Text("can be specified only when calling XREADGROUP"),
            InvalidArgument,
        ),
        (
            Text("is meaningless in the context of XREADGROUP"),
            InvalidArgument,
        ),
        (Text("LIMIT cannot be used without"), InvalidArgument),
        (Text("index out of range"), InvalidArgument),
        (Text("not a number"), InvalidArgument),
        (Text("not a valid float"), InvalidArgument),
        (Text("invalid expire time"), InvalidArgument),
        (Text("would produce NaN or Infinity"), InvalidArgument),
        (Text("is NaN or Infinity"), InvalidArgument),
        (Code("WRONGTYPE"), WrongType),
        (Text("WRONGTYPE"), WrongType),
        (Text("not an integer"), WrongType),
        (Text("is not a float"), WrongType),
        (Text("would overflow"), WrongType),
    ]
};

impl Server {
    /// Maps an error of the redis crate to the cache's error, without the password. Errors
    /// about a key name no key here: the cache attaches the caller's key.
    pub(super) fn error(&self, err: RedisError) -> Error {
        let message = self.scrub(err.to_string());
        let cause: Cause = Arc::new(err.clone());
        let connection = |reason: String| Error::Connection {
            server: self.location().to_owned(),
            reason,
            delivery: Delivery::Unknown,
            retry_safe: false,
            cause: Some(cause.clone()),
        };
        if err.is_timeout() {
            // Requests are timed by `call`: a timeout of the crate is an opening that took
            // longer than the connect timeout.
            return self.timeout(Waiting::Connect);
        }
        if err.is_io_error() {
            #[cfg(feature = "tls")]
            if message.contains("invalid peer certificate") {
                // Only an unknown issuer is cured by trusting the right CA.
                let hint = if message.contains("UnknownIssuer") {
                    ": a server whose certificate a private CA signed needs that CA \
                     (CacheBuilder::tls_root_certificate, or tls_ca=/path/to/ca.pem in the URL)"
                } else {
                    ""
                };
                return connection(format!(
                    "TLS handshake failed, the server's certificate was refused ({message}){hint}"
                ));
            }
            return connection(message);
        }
        if is_loading(&err) {
            return connection(format!(
                "the server is not serving yet, it is loading its data set ({message})"
            ));
        }
        if err.kind() == ErrorKind::AuthenticationFailed {
            return Meaning::WrongPassword.error(connection, message);
        }
        if matches!(
            err.kind(),
            ErrorKind::Parse | ErrorKind::UnexpectedReturnType
        ) {
            return Error::unexpected_reply(message);
        }
        let code = err.code().unwrap_or_default();
        let meaning = SERVER_ERRORS.iter().find_map(|(pattern, meaning)| {
            let found = match pattern {
                Pattern::Code(wanted) => code == *wanted,
                Pattern::Text(text) => message.contains(text),
            };
            found.then_some(*meaning)
        });
        match meaning {
            Some(meaning) => meaning.error(connection, message),
            None if err.kind() == ErrorKind::InvalidClientConfig => Error::config(message),
            None => Error::Server {
                reason: message,
                cause: Some(cause),
            },
        }
    }

    /// Replaces the password in a message, should any part of the stack ever echo it.
    fn scrub(&self, mut message: String) -> String {
        for secret in &self.secrets {
            if !secret.is_empty() && message.contains(secret.as_str()) {
                message = message.replace(secret.as_str(), "***");
            }
        }
        message
    }
}

impl Meaning {
    /// The cache's error for a server's `message` with this meaning.
    fn error(self, connection: impl FnOnce(String) -> Error, message: String) -> Error {
        match self {
            Meaning::NotFound => Error::NotFound { key: String::new() },
            Meaning::InvalidArgument => Error::invalid_argument(message),
            Meaning::WrongType => Error::WrongType {
                key: String::new(),
                detail: message,
            },
            Meaning::GroupExists => Error::GroupExists {
                key: String::new(),
                detail: message,
            },
            Meaning::NoGroup => Error::NoGroup {
                key: String::new(),
                detail: message,
            },
            Meaning::CrossSlot => Error::Unsupported {
                operation: "a command on keys of several cluster slots",
                reason: format!(
                    "the cluster refused it: {message}. Keys an operation uses together must \
                     hash to one slot: give them a common hash tag, e.g. `{{user42}}` in the \
                     keys, or a prefix with a hash tag (`prefix={{app}}`) so that every key of \
                     the cache shares one slot"
                ),
            },
            Meaning::UnknownCommand => Error::Unsupported {
                operation: "this command",
                reason: format!("the server does not have it, it is too old ({message})"),
            },
            Meaning::NoPermission => Error::server(format!(
                "permission denied: the server's ACL does not allow the URL's user this command \
                 or key ({message})"
            )),
            Meaning::NoAuth => connection(format!(
                "the server requires authentication: give the password in the URL ({message})"
            )),
            Meaning::WrongPassword => connection(format!(
                "authentication failed: the server refused the user or password of the URL \
                 ({message})"
            )),
            Meaning::Topology => connection(format!(
                "the node refused the request while the topology changes (a failover or a \
                 slot migration under way, or a replica named as the primary): {message}"
            )),
        }
    }
}

/// Whether an error leaves a connection unusable although no I/O failed: a connection whose
/// opening was refused by the server (credentials, database, protocol) would fail every later
/// call with the same error, so it is replaced.
pub(super) fn breaks_connection(err: &RedisError) -> bool {
    let code = err.code().unwrap_or_default();
    matches!(
        err.kind(),
        ErrorKind::AuthenticationFailed | ErrorKind::RESP3NotSupported
    ) || matches!(code, "NOAUTH" | "WRONGPASS")
        || is_loading(err)
        || err.to_string().contains("refused to switch database")
}

/// Whether a node refused the request because the topology is changing (`MOVED`, `ASK`,
/// `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `READONLY`; see [`Meaning::Topology`]).
pub(super) fn is_topology_change(err: &RedisError) -> bool {
    let code = err.code().unwrap_or_default();
    SERVER_ERRORS.iter().any(|(pattern, meaning)| {
        matches!((pattern, meaning), (Pattern::Code(wanted), Meaning::Topology) if *wanted == code)
    })
}

/// Whether the server answered `LOADING`: it restarted and is reading its data set back, and
/// refuses every command (none is applied) until it is done.
pub(super) fn is_loading(err: &RedisError) -> bool {
    err.kind() == ErrorKind::Server(redis::ServerErrorKind::BusyLoading)
}

/// Whether the server does not know a script (`NOSCRIPT`): it was not run.
pub(super) fn is_unknown_script(err: &RedisError) -> bool {
    err.kind() == ErrorKind::Server(redis::ServerErrorKind::NoScript)
}
