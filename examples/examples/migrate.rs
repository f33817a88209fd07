//! Moving a blocking code base to async, one method at a time: the migration story of the
//! Django forum post that proposed `auto_async`.
//!
//! Run with `cargo run --example migrate`. Each step prints the calls that still cross the
//! bridge, as `cachex::bridge::report_bridged_calls(true)` reports them through `tracing`.
//!
//! 1. **Wrap.** The existing blocking trait gets `#[auto_async]`. Blocking callers do not
//!    change; async callers get `aget`/`aset` at once, which run the blocking code without
//!    stalling the runtime. Every async call is a bridged call.
//! 2. **Go native, one method at a time.** The implementation injects a native `async fn
//!    aget`, written with an async client; the trait does not change. `aget` stops crossing
//!    the bridge, `aset` still does.
//! 3. **Flip the default.** Once every method has its native async side, the definition says
//!    `async fn`, and `deprecated_sync` marks the blocking spelling: the compiler now warns at
//!    every blocking caller left, and at run time the report names those still running.
//! 4. **Done.** The last blocking caller moves to `aget`: nothing crosses the bridge.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use cachex::auto_async;

/// The database the settings live in, with a blocking client (the legacy code's) and an async
/// one (the migration's target). Both are simulated with a map and a short wait.
#[derive(Default)]
pub struct Db(Mutex<HashMap<String, String>>);

impl Db {
    fn blocking_read(&self, key: &str) -> Option<String> {
        std::thread::sleep(Duration::from_millis(2)); // a round trip, blocking the thread
        self.map().get(key).cloned()
    }

    fn blocking_write(&self, key: &str, value: &str) {
        std::thread::sleep(Duration::from_millis(2));
        self.map().insert(key.to_owned(), value.to_owned());
    }

    async fn async_read(&self, key: &str) -> Option<String> {
        tokio::time::sleep(Duration::from_millis(2)).await; // a round trip, yielding
        self.map().get(key).cloned()
    }

    async fn async_write(&self, key: &str, value: &str) {
        tokio::time::sleep(Duration::from_millis(2)).await;
        self.map().insert(key.to_owned(), value.to_owned());
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Step 1: the legacy trait, unchanged but for the attribute.
pub mod step1 {
    use super::*;

    /// The settings store, as the blocking code base defined it.
    #[auto_async]
    pub trait Settings: Send + Sync {
        /// A setting.
        fn get(&self, key: &str) -> Option<String>;
        /// Changes a setting.
        fn set(&self, key: &str, value: &str);
    }

    impl Settings for Db {
        fn get(&self, key: &str) -> Option<String> {
            self.blocking_read(key)
        }
        fn set(&self, key: &str, value: &str) {
            self.blocking_write(key, value)
        }
        // `aget` and `aset` are provided: they run `get` and `set` with `block_in_place`.
    }

    /// The application: an async request handler and a blocking job.
    pub async fn request(db: &Db) -> Option<String> {
        db.aset("theme", "dark").await;
        db.aget("theme").await
    }

    /// The blocking job.
    pub fn job(db: &Db) -> Option<String> {
        db.get("theme")
    }
}

/// Step 2: a native async `aget`, injected; the trait is the same.
pub mod step2 {
    use super::*;

    /// The same definition as step 1.
    #[auto_async]
    pub trait Settings: Send + Sync {
        /// A setting.
        fn get(&self, key: &str) -> Option<String>;
        /// Changes a setting.
        fn set(&self, key: &str, value: &str);
    }

    impl Settings for Db {
        fn get(&self, key: &str) -> Option<String> {
            self.blocking_read(key)
        }
        /// Injected: async callers of `get` now use the async client.
        async fn aget(&self, key: &str) -> Option<String> {
            self.async_read(key).await
        }
        fn set(&self, key: &str, value: &str) {
            self.blocking_write(key, value)
        }
    }

    /// The application, unchanged.
    pub async fn request(db: &Db) -> Option<String> {
        db.aset("theme", "dark").await;
        db.aget("theme").await
    }

    /// The blocking job, unchanged.
    pub fn job(db: &Db) -> Option<String> {
        db.get("theme")
    }
}

/// Step 3: async is the native side; the blocking spelling of `get` is deprecated.
pub mod step3 {
    use super::*;

    /// The definition now says `async fn`: implementors write `aget` and `aset`, and the
    /// blocking `get` and `set` are derived.
    #[auto_async]
    pub trait Settings: Send + Sync {
        /// A setting.
        #[auto_async(deprecated_sync = "blocking reads are going away: call `aget`")]
        async fn get(&self, key: &str) -> Option<String>;
        /// Changes a setting.
        async fn set(&self, key: &str, value: &str);
    }

    impl Settings for Db {
        async fn aget(&self, key: &str) -> Option<String> {
            self.async_read(key).await
        }
        async fn aset(&self, key: &str, value: &str) {
            self.async_write(key, value).await
        }
    }

    /// The application, unchanged.
    pub async fn request(db: &Db) -> Option<String> {
        db.aset("theme", "dark").await;
        db.aget("theme").await
    }

    /// The blocking job, unchanged. The compiler warns here now: "use of deprecated method
    /// `step3::Settings::get`: blocking reads are going away: call `aget`". The `allow`
    /// keeps this example's build clean; in a real migration the warnings are the to-do list.
    #[allow(deprecated)]
    pub fn job(db: &Db) -> Option<String> {
        db.get("theme")
    }

    /// Step 4: the job moved to async code.
    pub async fn async_job(db: &Db) -> Option<String> {
        db.aget("theme").await
    }
}

/// What one step did: the values its callers read, and the bridged calls reported.
#[derive(Debug)]
pub struct Step {
    /// The step's title.
    pub title: &'static str,
    /// What the request handler and the job read.
    pub read: (Option<String>, Option<String>),
    /// The reported bridged calls, as `Trait::method has no native ... side`.
    pub bridged: Vec<String>,
}

/// A `tracing` writer that prints to stdout and keeps a copy, to tell each step's reports.
#[derive(Clone, Default)]
struct Tee(Arc<Mutex<Vec<u8>>>);

impl Write for Tee {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        print!("{}", String::from_utf8_lossy(bytes));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Tee {
    /// The bridged calls reported since the last call.
    fn take_bridged(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|line| line.split_once("bridged call: "))
            // The message, without the event's fields (`trait_name=..`).
            .map(|(_, call)| call.split(" trait_name=").next().unwrap_or(call).to_owned())
            .collect()
    }
}

/// Runs the four steps, printing as it goes.
pub fn run() -> std::io::Result<Vec<Step>> {
    let tee = Tee::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer({
            let tee = tee.clone();
            move || tee.clone()
        })
        .without_time()
        .finish();
    let runtime = tokio::runtime::Runtime::new()?;
    let db = Db::default();
    // The report goes to the subscriber of the thread making the call: this one, here.
    let steps = tracing::subscriber::with_default(subscriber, || {
        cachex::bridge::report_bridged_calls(true);
        let mut steps = Vec::new();
        let mut step = |title: &'static str, read: (Option<String>, Option<String>)| {
            let bridged = tee.take_bridged();
            println!("  -> {} bridged call(s)\n", bridged.len());
            steps.push(Step {
                title,
                read,
                bridged,
            });
        };

        println!("step 1: the blocking trait, wrapped with #[auto_async]");
        let request = runtime.block_on(step1::request(&db));
        step("wrap", (request, step1::job(&db)));

        println!("step 2: a native async `aget` injected");
        let request = runtime.block_on(step2::request(&db));
        step("native aget", (request, step2::job(&db)));

        println!("step 3: `async fn` in the definition, blocking `get` deprecated");
        let request = runtime.block_on(step3::request(&db));
        step("flip the default", (request, step3::job(&db)));

        println!("step 4: the job moved to `aget`");
        let request = runtime.block_on(step3::request(&db));
        let job = runtime.block_on(step3::async_job(&db));
        step("done", (request, job));

        cachex::bridge::report_bridged_calls(false);
        steps
    });
    Ok(steps)
}

fn main() -> std::io::Result<()> {
    for step in run()? {
        println!(
            "{:<18} read {:?}, {} bridged call(s)",
            step.title,
            step.read,
            step.bridged.len()
        );
    }
    Ok(())
}
