//! The bridges of `#[auto_async]` in every runtime situation: outside any runtime, on a
//! multi-thread worker, on a current-thread runtime, in `spawn_blocking`, from many OS threads,
//! nested inside each other, across runtimes created and dropped, and under other executors.
//!
//! Deadlocks would hang rather than fail, so every wait that another task or thread must end is
//! bounded (`recv_timeout`) and turns into a failed assertion instead.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use cachex::auto_async;
use futures::FutureExt;
use tokio::runtime::{Builder, Runtime};

/// Long enough never to be reached when the bridge is right; only a deadlock waits this long.
const DEADLOCK: Duration = Duration::from_secs(20);

#[auto_async]
trait Probe: Send + Sync {
    /// Native async: needs a tokio timer and a spawned task to make progress.
    async fn tick(&self, n: u32) -> u32;
    /// Native async, ready at its first poll.
    async fn ready(&self) -> u32;
    /// Native async, calling a bridged blocking twin from inside (nesting).
    async fn nested(&self, n: u32) -> u32;
    /// Native blocking: waits until something else sends on the channel.
    fn wait_for(&self, signal: mpsc::Receiver<()>) -> bool;
    /// Native blocking, calling a bridged blocking twin from inside.
    fn tick_twice(&self, n: u32) -> u32;
    /// Cheap: answered inline.
    #[auto_async(nonblocking)]
    fn thread(&self) -> ThreadId;
}

struct Clock;

impl Probe for Clock {
    async fn atick(&self, n: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        tokio::spawn(async move { n + 1 })
            .await
            .expect("the spawned task ran")
    }

    async fn aready(&self) -> u32 {
        7
    }

    async fn anested(&self, n: u32) -> u32 {
        let once = self.tick(n);
        tokio::task::yield_now().await;
        self.atick(once).await
    }

    fn wait_for(&self, signal: mpsc::Receiver<()>) -> bool {
        signal.recv_timeout(DEADLOCK).is_ok()
    }

    fn tick_twice(&self, n: u32) -> u32 {
        self.tick(self.tick(n))
    }

    fn thread(&self) -> ThreadId {
        std::thread::current().id()
    }
}

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn outside_any_runtime() {
    assert_eq!(Clock.tick(1), 2);
    assert_eq!(Clock.ready(), 7);
    assert_eq!(Clock.nested(1), 3);
    assert_eq!(Clock.tick_twice(1), 3);
}

#[test]
fn on_a_multi_thread_worker_other_tasks_keep_running() {
    // One worker: if a blocking call held it, nothing else could run on this runtime.
    let runtime = multi_thread(1);
    runtime.block_on(async {
        let on_worker = tokio::spawn(async {
            // Blocking call of an async-native method: its future spawns onto this runtime.
            let ticked = Clock.tick(1);
            // Async call of a blocking method that only another task of this runtime ends.
            let (send, signal) = mpsc::channel();
            let sender = tokio::spawn(async move {
                tokio::task::yield_now().await;
                send.send(()).expect("the waiter is there");
            });
            let signalled = Clock.await_for(signal).await;
            sender.await.expect("the sender ran");
            (ticked, signalled, Clock.nested(1), Clock.anested(1).await)
        });
        assert_eq!(on_worker.await.expect("no panic"), (2, true, 3, 3));
    });
}

#[test]
fn in_the_main_future_of_a_multi_thread_runtime() {
    let runtime = multi_thread(1);
    let result = runtime.block_on(async { (Clock.tick(1), Clock.nested(1), Clock.ready()) });
    assert_eq!(result, (2, 3, 7));
}

#[tokio::test]
async fn on_a_current_thread_runtime() {
    // No panic ("Cannot start a runtime from within a runtime") and no deadlock: the future
    // runs here with the bridge runtime's context, which drives its timer and its task.
    assert_eq!(Clock.tick(1), 2);
    assert_eq!(Clock.nested(1), 3);
    assert_eq!(Clock.anested(1).await, 3);
    assert_eq!(Clock.atick_twice(1).await, 3);
    // The async twin of a blocking method runs inline here; the signal comes from a thread.
    let (send, signal) = mpsc::channel();
    let sender = std::thread::spawn(move || send.send(()));
    assert!(Clock.await_for(signal).await);
    sender.join().expect("no panic").expect("sent");
}

#[test]
fn in_spawn_blocking() {
    for runtime in [multi_thread(2), current_thread()] {
        let result = runtime.block_on(async {
            tokio::task::spawn_blocking(|| (Clock.tick(1), Clock.nested(1), Clock.tick_twice(1)))
                .await
                .expect("no panic")
        });
        assert_eq!(result, (2, 3, 3));
    }
}

#[test]
fn from_many_threads_at_once() {
    let threads: Vec<_> = (0..16u32)
        .map(|thread| {
            std::thread::spawn(move || (0..50).map(|i| Clock.tick(thread * i)).sum::<u32>())
        })
        .collect();
    let total: u32 = threads
        .into_iter()
        .map(|thread| thread.join().expect("no panic"))
        .sum::<u32>();
    let expected: u32 = (0..16u32)
        .flat_map(|thread| (0..50).map(move |i| thread * i + 1))
        .sum();
    assert_eq!(total, expected);
}

#[test]
fn from_many_threads_inside_a_multi_thread_runtime() {
    let runtime = multi_thread(2);
    let total = runtime.block_on(async {
        let tasks: Vec<_> = (0..32u32)
            .map(|i| tokio::spawn(async move { Clock.tick(i) + Clock.atick(i).await }))
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("no panic");
        }
        total
    });
    assert_eq!(total, (0..32u32).map(|i| 2 * (i + 1)).sum::<u32>());
}

#[test]
fn runtimes_created_and_dropped_never_break_later_calls() {
    for round in 0..3 {
        for runtime in [multi_thread(1), current_thread()] {
            let result = runtime.block_on(async {
                let blocking = tokio::task::spawn_blocking(|| Clock.tick(1))
                    .await
                    .expect("no panic");
                (blocking, Clock.atick(round).await, Clock.nested(round))
            });
            assert_eq!(result, (2, round + 1, round + 2));
            drop(runtime);
            assert_eq!(Clock.tick(round), round + 1, "outside, after a drop");
        }
    }
}

#[test]
fn under_another_executor() {
    // futures' executor provides no tokio context: the blocking twin still finds one.
    let (blocking, inline) = futures::executor::block_on(async {
        (
            Clock.tick(1),
            Clock.athread().await == std::thread::current().id(),
        )
    });
    assert_eq!(blocking, 2);
    assert!(inline);
}

#[test]
fn nonblocking_and_blocking_twins_are_ready_at_first_poll_on_the_calling_thread() {
    let here = std::thread::current().id();
    assert_eq!(Clock.athread().now_or_never(), Some(here));
    assert_eq!(Clock.a().thread().now_or_never(), Some(here));
    assert_eq!(Clock.atick_twice(1).now_or_never(), Some(3));
}

#[test]
fn a_future_ready_at_first_poll_never_leaves_the_worker() {
    // `block_in_place` hands the worker to a newly started thread; count the threads started.
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let runtime = Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .on_thread_start(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .expect("a runtime");
    let (before, after_ready, after_pending) = runtime.block_on(async move {
        tokio::spawn(async move {
            let before = started.load(Ordering::SeqCst);
            let sum: u32 = (0..100).map(|_| Clock.ready()).sum();
            assert_eq!(sum, 700);
            let after_ready = started.load(Ordering::SeqCst);
            assert_eq!(Clock.tick(1), 2); // pending at first: must hand the worker over
            (before, after_ready, started.load(Ordering::SeqCst))
        })
        .await
        .expect("no panic")
    });
    assert_eq!(after_ready, before, "a ready future started no thread");
    assert!(
        after_pending > after_ready,
        "a pending one did (the probe works)"
    );
}

/// Collects what a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

#[test]
fn bridged_calls_are_reported_when_asked() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        assert!(!cachex::bridge::reporting_bridged_calls(), "off by default");
        assert_eq!(Clock.ready(), 7);
        assert_eq!(captured.text(), "", "nothing is reported when off");

        cachex::bridge::report_bridged_calls(true);
        assert_eq!(Clock.ready(), 7);
        let (send, signal) = mpsc::channel();
        send.send(()).expect("the receiver is here");
        assert_eq!(Clock.await_for(signal).now_or_never(), Some(true));
        let _ = Clock.athread().now_or_never();
        cachex::bridge::report_bridged_calls(false);
    });
    let text = captured.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains("cachex::bridge"), "{text}");
    assert!(
        text.contains("Probe::ready has no native blocking side"),
        "{text}"
    );
    assert!(
        text.contains("Probe::wait_for has no native async side"),
        "{text}"
    );
    assert!(
        !text.contains("thread"),
        "nonblocking twins are not reported: {text}"
    );
}

mod local {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use tokio::task::LocalSet;

    /// `local` traits run where tokio refuses `block_in_place`: on a `LocalSet`.
    #[auto_async(local)]
    trait LocalCell {
        async fn get(&self) -> u32;
        fn put(&self, value: u32);
    }

    struct Shared(Rc<Cell<u32>>);

    impl LocalCell for Shared {
        async fn aget(&self) -> u32 {
            tokio::time::sleep(Duration::from_millis(1)).await;
            self.0.get()
        }
        fn put(&self, value: u32) {
            self.0.set(value);
        }
    }

    #[test]
    fn on_a_local_set_of_a_multi_thread_runtime() {
        let runtime = multi_thread(1);
        let result = runtime.block_on(LocalSet::new().run_until(async {
            let shared = Shared(Rc::default());
            shared.aput(3).await;
            let blocking = shared.get();
            let task = tokio::task::spawn_local(async move {
                shared.put(4);
                (shared.get(), shared.a().get().await)
            });
            (blocking, task.await.expect("no panic"))
        }));
        assert_eq!(result, (3, (4, 4)));
    }
}

/// A value whose `Drop` closes something through a bridged blocking call, held by a task that
/// is still pending when its runtime is dropped: the drop must not hang.
mod drop_during_shutdown {
    use super::*;

    #[auto_async]
    trait Conn: Send + Sync {
        async fn close(&self) -> u8;
    }

    struct Link;

    impl Conn for Link {
        async fn aclose(&self) -> u8 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            1
        }
    }

    struct Owner(Link, mpsc::Sender<u8>);

    impl Drop for Owner {
        fn drop(&mut self) {
            let _ = self.1.send(self.0.close());
        }
    }

    #[test]
    fn a_runtime_dropped_with_tasks_that_bridge_in_drop() {
        let (send, closed) = mpsc::channel();
        let runtime = multi_thread(2);
        runtime.spawn(async move {
            let _owner = Owner(Link, send);
            std::future::pending::<()>().await
        });
        runtime.block_on(tokio::task::yield_now());
        let dropper = std::thread::spawn(move || drop(runtime));
        assert_eq!(
            closed.recv_timeout(DEADLOCK),
            Ok(1),
            "the close ran to completion"
        );
        dropper.join().expect("the runtime dropped without a panic");
    }
}
