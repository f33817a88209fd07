//! The store both micro-benchmarks measure: a few nanoseconds of work per call, so that any
//! per-call cost of a spelling or a bridge shows.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use cachex::auto_async;

#[auto_async]
pub(crate) trait Store: Send + Sync {
    async fn get(&self, key: &str) -> Option<u64>;
    async fn get_after_yield(&self, key: &str) -> Option<u64>;
    fn size(&self, key: &str) -> Option<u64>;
}

pub(crate) struct Table(Vec<u64>);

impl Table {
    pub(crate) fn new() -> Self {
        Table((0..64).collect())
    }

    /// The baseline of the blocking side: the body every native side runs.
    #[inline(never)]
    pub(crate) fn lookup(&self, key: &str) -> Option<u64> {
        self.0.get(key.len()).copied()
    }

    /// The baseline of the async spellings: a hand-written async method.
    pub(crate) async fn direct(&self, key: &str) -> Option<u64> {
        self.lookup(key)
    }
}

impl Store for Table {
    async fn aget(&self, key: &str) -> Option<u64> {
        self.lookup(key)
    }

    async fn aget_after_yield(&self, key: &str) -> Option<u64> {
        YieldOnce(false).await;
        self.lookup(key)
    }

    fn size(&self, key: &str) -> Option<u64> {
        self.lookup(key)
    }
}

/// Pending once (waking itself), then ready: the smallest future that needs an executor.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Opts in to method handles, as `cachex::Cache` does.
pub(crate) struct App(pub(crate) Arc<StoreHandles<Arc<Table>>>);

impl App {
    pub(crate) fn new(table: Arc<Table>) -> Self {
        App(Arc::new(StoreHandles::new(table)))
    }
}

impl std::ops::Deref for App {
    type Target = StoreHandles<Arc<Table>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Polls a future once with a no-op waker; the benchmarked futures are ready at once.
#[inline(always)]
pub(crate) fn ready<F: Future>(future: F) -> Option<F::Output> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
