//! [`KeyScan`]: the keys of a cache that match a pattern, batch by batch, for async code (a
//! [`Stream`]) and for blocking code (an [`IntoIterator`], whose [`KeyIter`] is an
//! [`Iterator`]).

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use crate::backend::command::Scan;
use crate::backend::{SCAN_BATCH, Store};
use crate::keys::Keys;
use crate::{Error, Result};

/// One page of a scan: the cursor of the next page (0 at the end) and some keys.
type ScanPage = (u64, Vec<Vec<u8>>);

type Fetch = Pin<Box<dyn Future<Output = Result<ScanPage>> + Send>>;

/// The keys of a cache matching a pattern (from [`iter_keys`](crate::CacheApi::iter_keys)),
/// as the caller's keys, fetched with `SCAN` one batch at a time.
///
/// It is a [`Stream`] for async code and an [`IntoIterator`] for blocking code (one type for
/// both, so that both surfaces of the trait return it; being only *into* an iterator keeps
/// `StreamExt` and `Iterator` methods from clashing). As with `SCAN`,
/// a key that exists for the whole scan comes at least once; one that is added or deleted
/// meanwhile may or may not come, and a key may come twice when the server resizes its table
/// during the scan. An error (the server is down, say) is the last item.
///
/// ```
/// use cachex::prelude::*;
/// use std::pin::pin;
///
/// let cache = Cache::in_memory();
/// cache.set("a", &1, Timeout::Never)?;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let mut keys = pin!(cache.aiter_keys("*").await?);
/// let first = std::future::poll_fn(|cx| futures_core::Stream::poll_next(keys.as_mut(), cx)).await;
/// assert_eq!(first.transpose()?.as_deref(), Some("a"));
/// # Ok::<(), cachex::Error>(())
/// # })?;
/// # Ok::<(), cachex::Error>(())
/// ```
pub struct KeyScan {
    store: Arc<Store>,
    keys: Keys,
    pattern: String,
    /// Where the scan goes on; `None` once it is complete.
    next: Option<u64>,
    batch: VecDeque<Vec<u8>>,
    fetching: Option<Fetch>,
}

impl fmt::Debug for KeyScan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyScan")
            .field("pattern", &self.pattern)
            .field("buffered", &self.batch.len())
            .field("complete", &self.next.is_none())
            .finish()
    }
}

impl KeyScan {
    /// A scan of the stored keys matching `pattern` (already made: prefix and version in).
    pub(crate) fn new(store: Arc<Store>, keys: Keys, pattern: String) -> Self {
        KeyScan {
            store,
            keys,
            pattern,
            next: Some(0),
            batch: VecDeque::new(),
            fetching: None,
        }
    }

    /// The next buffered key, as the caller's key.
    fn buffered(&mut self) -> Option<Result<String>> {
        let made = self.batch.pop_front()?;
        Some(match String::from_utf8(made) {
            Ok(made) => Ok(self.keys.user_key(&made).to_owned()),
            Err(err) => Err(Error::Decode {
                key: String::from_utf8_lossy(err.as_bytes()).into_owned(),
                reason: "a stored key is not UTF-8".to_owned(),
            }),
        })
    }

    /// The request for the next page; `None` when the scan is complete.
    fn fetch(&self) -> Option<impl Future<Output = Result<ScanPage>> + Send + 'static> {
        let cursor = self.next?;
        let scan = Scan {
            cursor,
            pattern: self.pattern.clone(),
            count: SCAN_BATCH,
        };
        let store = self.store.clone();
        Some(async move { store.run("", scan).await })
    }

    /// Takes in a fetched page; an error ends the scan.
    fn receive(&mut self, page: Result<ScanPage>) -> Option<Error> {
        match page {
            Ok((next, keys)) => {
                self.batch.extend(keys);
                self.next = (next != 0).then_some(next);
                None
            }
            Err(err) => {
                self.next = None;
                Some(err)
            }
        }
    }
}

impl Stream for KeyScan {
    type Item = Result<String>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(key) = self.buffered() {
                return Poll::Ready(Some(key));
            }
            if self.fetching.is_none() {
                match self.fetch() {
                    Some(fetch) => self.fetching = Some(Box::pin(fetch)),
                    None => return Poll::Ready(None),
                }
            }
            let Some(fetching) = self.fetching.as_mut() else {
                return Poll::Ready(None);
            };
            let page = ready!(fetching.as_mut().poll(cx));
            self.fetching = None;
            if let Some(err) = self.receive(page) {
                return Poll::Ready(Some(Err(err)));
            }
        }
    }
}

/// Blocking code iterates: `for key in cache.iter_keys("user:*")? { .. }`.
impl IntoIterator for KeyScan {
    type Item = Result<String>;
    type IntoIter = KeyIter;

    fn into_iter(self) -> KeyIter {
        KeyIter(self)
    }
}

/// A [`KeyScan`] as a blocking [`Iterator`]: each `next()` that needs a new batch fetches it
/// with one `SCAN`, run as the cache's blocking calls are (see [`crate::bridge`]).
#[derive(Debug)]
pub struct KeyIter(KeyScan);

impl Iterator for KeyIter {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        let scan = &mut self.0;
        loop {
            if let Some(key) = scan.buffered() {
                return Some(key);
            }
            let page = crate::bridge::run(scan.fetch()?);
            if let Some(err) = scan.receive(page) {
                return Some(Err(err));
            }
        }
    }
}
