//! The one error type of the cache.

use std::time::Duration;

/// What went wrong in a cache operation. Every variant says what happened and, where there is
/// one, names the key; none of them ever shows a password.
#[derive(Debug, thiserror::Error)]
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
    /// A key refused by strict key validation (Django's warnings, made errors).
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key as the caller gave it.
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// The server could not be reached, or the connection broke.
    #[error("connection to {server} failed: {reason}")]
    Connection {
        /// The server's address, without credentials.
        server: String,
        /// What failed.
        reason: String,
    },
    /// The server did not answer within the configured time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The configuration (a URL, a builder option) is not valid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The backend or topology cannot do this operation.
    #[error("{operation} is not supported here: {reason}")]
    Unsupported {
        /// The operation asked for.
        operation: &'static str,
        /// Why, and what to do instead.
        reason: String,
    },
    /// An argument the operation cannot take: a NaN score, a list index out of range, an
    /// expiry too far away.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The server answered with a reply of another shape than the command gives (a proxy or
    /// a server module in the way, or a bug).
    #[error("unexpected reply from the server: {0}")]
    UnexpectedReply(String),
    /// The server answered with an error not covered above.
    #[error("server error: {0}")]
    Server(String),
}

impl Error {
    /// The same error, about the caller's `key`: backends only know the stored key (with its
    /// prefix and version), the cache knows the one its caller gave.
    pub(crate) fn about(mut self, key: &str) -> Self {
        if let Error::NotFound { key: about }
        | Error::WrongType { key: about, .. }
        | Error::Decode { key: about, .. }
        | Error::InvalidKey { key: about, .. } = &mut self
        {
            key.clone_into(about);
        }
        self
    }
}

/// The result of a cache operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
