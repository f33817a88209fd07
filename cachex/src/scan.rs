//! [`Scan`]: what a cursor command (`SCAN`, `SSCAN`) walks, batch by batch, for async code (a
//! [`Stream`]) and for blocking code (an [`IntoIterator`], whose [`ScanIter`] is an
//! [`Iterator`]): [`KeyScan`] the keys of a cache matching a pattern, [`MemberScan`] the
//! members of a set.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::backend::command::{Scan as ScanCommand, Sscan};
use crate::backend::{SCAN_BATCH, Store};
use crate::codec::Codec;
use crate::keys::Keys;
use crate::{Error, Result};

/// One page of a scan: the cursor of the next page (0 at the end) and some items.
type ScanPage = (u64, Vec<Vec<u8>>);

type Fetch = Pin<Box<dyn Future<Output = Result<ScanPage>> + Send>>;

/// Fetches the page at a cursor.
type FetchPage = Arc<dyn Fn(u64) -> Fetch + Send + Sync>;

/// Turns an item of a page into what the scan yields.
type Item<T> = Arc<dyn Fn(Vec<u8>) -> Result<T> + Send + Sync>;

/// The keys of a cache matching a pattern (from [`iter_keys`](crate::CacheApi::iter_keys)),
/// as the caller's keys: a [`Scan`] of `String`s.
pub type KeyScan = Scan<String>;

/// A [`KeyScan`] as a blocking [`Iterator`].
pub type KeyIter = ScanIter<String>;

/// The members of a set (from [`sscan`](crate::CacheApi::sscan)), decoded: a [`Scan`] of
/// `V`s.
pub type MemberScan<V> = Scan<V>;

/// A [`MemberScan`] as a blocking [`Iterator`].
pub type MemberIter<V> = ScanIter<V>;

/// Items fetched with a cursor command (`SCAN` for [`KeyScan`], `SSCAN` for [`MemberScan`])
/// one batch at a time.
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
pub struct Scan<T> {
    /// What it scans, for `Debug`.
    what: String,
    page: FetchPage,
    item: Item<T>,
    /// Where the scan goes on; `None` once it is complete.
    next: Option<u64>,
    batch: VecDeque<Vec<u8>>,
    fetching: Option<Fetch>,
}

impl<T> fmt::Debug for Scan<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scan")
            .field("of", &self.what)
            .field("buffered", &self.batch.len())
            .field("complete", &self.next.is_none())
            .finish()
    }
}

impl KeyScan {
    /// A scan of the stored keys matching `pattern` (already made: prefix and version in).
    pub(crate) fn new(store: Arc<Store>, keys: Keys, pattern: String) -> Self {
        let what = format!("keys {pattern}");
        let page: FetchPage = Arc::new(move |cursor| {
            let (store, pattern) = (store.clone(), pattern.clone());
            Box::pin(async move {
                let scan = ScanCommand {
                    cursor,
                    pattern,
                    count: SCAN_BATCH,
                };
                store.run("", scan).await
            })
        });
        let item: Item<String> = Arc::new(move |made| match String::from_utf8(made) {
            Ok(made) => Ok(keys.user_key(&made).to_owned()),
            Err(err) => Err(Error::Decode {
                key: String::from_utf8_lossy(err.as_bytes()).into_owned(),
                reason: "a stored key is not UTF-8".to_owned(),
            }),
        });
        Scan::over(what, page, item)
    }
}

impl<V: DeserializeOwned + 'static> Scan<V> {
    /// A scan of the members of the set at the stored key `made` (the caller's `key`),
    /// decoded with `codec`.
    pub(crate) fn members(store: Arc<Store>, codec: Codec, key: &str, made: String) -> Self {
        let user_key = key.to_owned();
        let page: FetchPage = Arc::new(move |cursor| {
            let (store, made, key) = (store.clone(), made.clone(), user_key.clone());
            Box::pin(async move {
                let scan = Sscan {
                    key: made,
                    cursor,
                    count: SCAN_BATCH,
                };
                store.run(&key, scan).await
            })
        });
        let what = format!("members of {key:?}");
        let key = key.to_owned();
        let item: Item<V> = Arc::new(move |member| codec.decode(&key, &member));
        Scan::over(what, page, item)
    }
}

impl<T> Scan<T> {
    /// A scan fetching pages with `page`, each item made by `item`.
    fn over(what: String, page: FetchPage, item: Item<T>) -> Self {
        Scan {
            what,
            page,
            item,
            next: Some(0),
            batch: VecDeque::new(),
            fetching: None,
        }
    }

    /// The next buffered item.
    fn buffered(&mut self) -> Option<Result<T>> {
        let raw = self.batch.pop_front()?;
        Some((self.item)(raw))
    }

    /// The request for the next page; `None` when the scan is complete.
    fn fetch(&self) -> Option<Fetch> {
        let cursor = self.next?;
        Some((self.page)(cursor))
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

impl<T> Stream for Scan<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(key) = self.buffered() {
                return Poll::Ready(Some(key));
            }
            if self.fetching.is_none() {
                match self.fetch() {
                    Some(fetch) => self.fetching = Some(fetch),
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
impl<T> IntoIterator for Scan<T> {
    type Item = Result<T>;
    type IntoIter = ScanIter<T>;

    fn into_iter(self) -> ScanIter<T> {
        ScanIter(self)
    }
}

/// A [`Scan`] as a blocking [`Iterator`]: each `next()` that needs a new batch fetches it
/// with one `SCAN`/`SSCAN`, run as the cache's blocking calls are (see [`crate::bridge`]).
#[derive(Debug)]
pub struct ScanIter<T>(Scan<T>);

impl<T> Iterator for ScanIter<T> {
    type Item = Result<T>;

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
