//! What the code under test logs through `tracing`, captured for the tests to read.
//!
//! [`capture`] installs, once per test process, a global `tracing` subscriber that writes every
//! event (level INFO and up, no colours) into a buffer; [`Logs::since`] reads what was logged
//! after a mark. Tests of one binary run concurrently and share the buffer: look for lines that
//! only your test can have caused (its prefix, its key, its port).

use std::io::{self, Write};
use std::sync::{Mutex, OnceLock, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

/// Everything logged so far in this process.
static BUFFER: Mutex<String> = Mutex::new(String::new());

/// The capture, and a mark in it.
#[derive(Clone, Copy, Debug)]
pub struct Logs {
    mark: usize,
}

/// Installs the capturing subscriber (the first call of the process does) and returns a mark at
/// the end of what was logged so far.
///
/// # Panics
///
/// When another global subscriber was installed first by something else.
pub fn capture() -> Logs {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(Capture)
            .with_target(true)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other global tracing subscriber");
    });
    Logs {
        mark: BUFFER.lock().unwrap_or_else(PoisonError::into_inner).len(),
    }
}

impl Logs {
    /// What was logged since this mark.
    pub fn since(&self) -> String {
        let buffer = BUFFER.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.get(self.mark..).unwrap_or_default().to_owned()
    }

    /// The lines logged since this mark that contain every one of `needles`.
    pub fn lines_with(&self, needles: &[&str]) -> Vec<String> {
        self.since()
            .lines()
            .filter(|line| needles.iter().all(|needle| line.contains(needle)))
            .map(str::to_owned)
            .collect()
    }
}

/// The subscriber's writer: appends to [`BUFFER`].
struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        BUFFER
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_str(&String::from_utf8_lossy(bytes));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Capture {
        Capture
    }
}
