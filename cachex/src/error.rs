//! The one error type of the cache.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The underlying cause of an error, kept as its [`source`](std::error::Error::source).
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// What went wrong in a cache operation. Every variant says what happened and, where there is
/// one, names the key; none of them ever shows a password. The questions a program acts on
/// are answered by methods rather than by the text: [`is_retryable`](Error::is_retryable) and
/// [`delivery`](Error::delivery).
///
/// ```
/// use cachex::{Delivery, Error};
///
/// fn report(err: &Error) -> &'static str {
///     match err.delivery() {
///         Some(Delivery::NotSent) => "nothing was applied: safe to try again",
///         Some(Delivery::Unknown) if err.is_retryable() => "may have been applied, but harmless twice",
///         Some(Delivery::Unknown) => "may have been applied: check before trying again",
///         None => "not a delivery failure",
///     }
/// }
/// # let _ = report;
/// ```
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operation needs the key to exist (`incr`, `decr`, `incr_version`, ...) and it does
    /// not: Django's `ValueError`.
    #[error("key {key:?} not found")]
    NotFound {
        /// The key as the caller gave it.
        key: String,
    },
    /// The stored value has a type the operation cannot work on (a Redis `WRONGTYPE`, or
    /// `incr` on a value that is not an integer).
    #[error("wrong type for key {key:?}: {detail}")]
    WrongType {
        /// The key as the caller gave it.
        key: String,
        /// What was found instead.
        detail: String,
    },
    /// The stored bytes of a key could not be turned into the requested type: corrupt or
    /// truncated data, an unknown compression, or a value of another shape.
    #[error("cannot decode the value of key {key:?}: {reason}")]
    Decode {
        /// The key as the caller gave it.
        key: String,
        /// Why every configured decoder refused the bytes.
        reason: String,
    },
    /// A value could not be serialized.
    #[error("cannot encode a value: {reason}")]
    Encode {
        /// What the serializer said.
        reason: String,
    },
    /// A stream's consumer group already exists (`xgroup_create`; Redis's `BUSYGROUP`).
    #[error("consumer group of stream {key:?} already exists: {detail}")]
    GroupExists {
        /// The stream's key as the caller gave it.
        key: String,
        /// The server's words.
        detail: String,
    },
    /// A stream or its consumer group does not exist (Redis's `NOGROUP`): create the group
    /// with `xgroup_create` (its `mkstream` makes the stream too).
    #[error("no such stream or consumer group for key {key:?}: {detail}")]
    NoGroup {
        /// The stream's key as the caller gave it.
        key: String,
        /// The server's words.
        detail: String,
    },
    /// A key refused by strict key validation (Django's warnings, made errors).
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key as the caller gave it.
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// An argument the operation cannot take: a NaN score, a list index out of range, an
    /// expiry too far away.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("connection to {server} failed: {reason}")]
    Connection {
        /// The server's address, without credentials.
        server: String,
        /// What failed.
        reason: String,
        /// Whether the request may have reached the server.
        delivery: Delivery,
        /// Whether trying the call again can succeed without applying anything twice.
        retry_safe: bool,
        /// The underlying error, if any.
        #[source]
        cause: Option<Cause>,
    },
    /// The server did not answer within the configured time.
    #[error("{waiting_for} {server} took longer than {after:?}")]
    Timeout {
        /// The server's address, without credentials.
        server: String,
        /// What the call was waiting for.
        waiting_for: Waiting,
        /// How long it waited.
        after: Duration,
        /// Whether the request may have reached the server.
        delivery: Delivery,
        /// Whether trying the call again can succeed without applying anything twice.
        retry_safe: bool,
    },
    /// The configuration (a URL, a builder option) is not valid.
    #[error("invalid configuration: {reason}")]
    Config {
        /// What is wrong, naming the option.
        reason: String,
    },
    /// The backend or topology cannot do this operation.
    #[error("{operation} is not supported here: {reason}")]
    Unsupported {
        /// The operation asked for.
        operation: &'static str,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The server answered with a reply of another shape than the command gives (a proxy or
    /// a server module in the way, or a bug).
    #[error("unexpected reply from the server: {reason}")]
    UnexpectedReply {
        /// What came instead.
        reason: String,
    },
    /// The server answered with an error not covered above.
    #[error("server error: {reason}")]
    Server {
        /// The server's error.
        reason: String,
        /// The underlying error, if any.
        #[source]
        cause: Option<Cause>,
    },
}

/// Whether a request that failed may have been applied by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// It provably never reached the server (the connection was refused or could not be
    /// opened, or broke before the request was written whole): nothing was applied.
    NotSent,
    /// It was sent and its answer did not come: it may have been applied.
    Unknown,
}

/// What a call that timed out was waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Waiting {
    /// Opening a connection (TCP connect, TLS, `HELLO`/`AUTH`, `SELECT`): `connect_timeout`.
    Connect,
    /// The answer to a request: `response_timeout`.
    Response,
    /// The answer of a blocking command (`BLPOP`), its own wait plus `response_timeout`.
    BlockingCommand,
}

impl fmt::Display for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Waiting::Connect => "connecting to",
            Waiting::Response => "the answer of",
            Waiting::BlockingCommand => "the blocking command's answer from",
        })
    }
}

impl Error {
    /// Whether the request may have reached the server, for failures of delivery
    /// ([`Connection`](Error::Connection) and [`Timeout`](Error::Timeout)); `None` for the
    /// others, which the server answered or which never left.
    pub fn delivery(&self) -> Option<Delivery> {
        match self {
            Error::Connection { delivery, .. } | Error::Timeout { delivery, .. } => Some(*delivery),
            _ => None,
        }
    }

    /// Whether the same call may succeed if tried again and cannot apply anything twice: a
    /// connection failure or timeout of a request that never left, or of one that is harmless
    /// twice (a read, a plain `set`, a `delete`). Errors about the data or the call itself
    /// (`NotFound`, `WrongType`, `Config`, ...) are not retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connection { retry_safe, .. } | Error::Timeout { retry_safe, .. } => *retry_safe,
            _ => false,
        }
    }

    /// The variant's name in snake case (`not_found`, `wrong_type`, `decode`, `encode`,
    /// `invalid_key`, `invalid_argument`, `group_exists`, `no_group`, `connection`, `timeout`, `config`, `unsupported`,
    /// `unexpected_reply`, `server`): a stable label for logs and metrics (the `kind` label of
    /// `cachex_errors_total`, see the [observability guide](crate::guide::observability)).
    ///
    /// ```
    /// let err = cachex::Error::NotFound { key: "k".into() };
    /// assert_eq!(err.kind(), "not_found");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound { .. } => "not_found",
            Error::WrongType { .. } => "wrong_type",
            Error::Decode { .. } => "decode",
            Error::Encode { .. } => "encode",
            Error::InvalidKey { .. } => "invalid_key",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::GroupExists { .. } => "group_exists",
            Error::NoGroup { .. } => "no_group",
            Error::Connection { .. } => "connection",
            Error::Timeout { .. } => "timeout",
            Error::Config { .. } => "config",
            Error::Unsupported { .. } => "unsupported",
            Error::UnexpectedReply { .. } => "unexpected_reply",
            Error::Server { .. } => "server",
        }
    }

    /// The same error, about the caller's `key`: backends only know the stored key (with its
    /// prefix and version), the cache knows the one its caller gave.
    pub(crate) fn about(mut self, key: &str) -> Self {
        if let Error::NotFound { key: about }
        | Error::WrongType { key: about, .. }
        | Error::Decode { key: about, .. }
        | Error::InvalidKey { key: about, .. }
        | Error::GroupExists { key: about, .. }
        | Error::NoGroup { key: about, .. } = &mut self
        {
            key.clone_into(about);
        }
        self
    }

    /// A configuration error.
    pub(crate) fn config(reason: impl Into<String>) -> Self {
        Error::Config {
            reason: reason.into(),
        }
    }

    /// An invalid argument.
    pub(crate) fn invalid_argument(reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            reason: reason.into(),
        }
    }

    /// A reply of the wrong shape.
    pub(crate) fn unexpected_reply(reason: impl Into<String>) -> Self {
        Error::UnexpectedReply {
            reason: reason.into(),
        }
    }

    /// A server error without an underlying cause.
    pub(crate) fn server(reason: impl Into<String>) -> Self {
        Error::Server {
            reason: reason.into(),
            cause: None,
        }
    }

    /// The same failure of delivery, saying whether the request may have reached the server
    /// and whether trying again is safe (other errors are returned as they are).
    #[cfg(feature = "redis")]
    pub(crate) fn delivered(mut self, reached: Delivery, safe_to_repeat: bool) -> Self {
        if let Error::Connection {
            delivery,
            retry_safe,
            ..
        }
        | Error::Timeout {
            delivery,
            retry_safe,
            ..
        } = &mut self
        {
            *delivery = reached;
            *retry_safe = reached == Delivery::NotSent || safe_to_repeat;
        }
        self
    }
}

/// The result of a cache operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
