//! [`LoadError`]: the error of the fallible `get_or_set` family, which keeps the cache's errors
//! and the loader's apart.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::Error;

/// Why a fallible `get_or_set` ([`try_get_or_set`](crate::CacheApi::try_get_or_set),
/// [`atry_get_or_set_with`](crate::CacheApi::atry_get_or_set_with),
/// [`try_get_or_set_early`](crate::CacheApi::try_get_or_set_early)) gave no value: the cache
/// failed, or the loader did.
///
/// The loader's error is shared: concurrent misses of a key in one process run one loader, and
/// when it fails every one of them gets its error, the same `Arc` (the error need not be
/// `Clone`). Nothing is stored, so the next call runs a loader again. `Display` and `source`
/// are the wrapped error's own (this type adds no text: the variant says which side failed).
///
/// ```
/// use cachex::prelude::*;
/// use cachex::LoadError;
///
/// let cache = Cache::in_memory();
/// let loaded = cache.try_get_or_set::<u32, String, _>(
///     "user:1",
///     || Err("the database is down".to_owned()),
///     Timeout::Default,
/// );
/// match loaded {
///     Err(LoadError::Loader(error)) => assert_eq!(*error, "the database is down"),
///     other => panic!("expected the loader's error, got {other:?}"),
/// }
/// assert!(!cache.has_key("user:1")?, "an error is never stored");
/// # Ok::<(), cachex::Error>(())
/// ```
#[derive(Debug)]
pub enum LoadError<E> {
    /// The cache failed (reading the key, or storing the loaded value).
    Cache(Error),
    /// The loader returned this error; nothing was stored.
    Loader(Arc<E>),
}

impl<E> From<Error> for LoadError<E> {
    fn from(error: Error) -> Self {
        LoadError::Cache(error)
    }
}

// Not `From`: a second `From` impl for `Error` would break the inference of `?` in callers.
impl LoadError<Infallible> {
    /// The cache's error of a load whose loader cannot fail.
    pub(crate) fn into_cache(self) -> Error {
        match self {
            LoadError::Cache(error) => error,
            LoadError::Loader(never) => match *never {},
        }
    }
}

impl<E: fmt::Display> fmt::Display for LoadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Cache(error) => fmt::Display::fmt(error, f),
            LoadError::Loader(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl<E: StdError + 'static> StdError for LoadError<E> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            LoadError::Cache(error) => error.source(),
            LoadError::Loader(error) => error.source(),
        }
    }
}
