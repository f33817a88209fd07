//! `EVALSHA` of a caller's script ([`crate::Script`]): not a row of the table, as its source
//! is the caller's, not a `static`.

use std::sync::Arc;

use super::{Command, KeyCount, Resend, Route};
use crate::script::ScriptReply;

/// `EVALSHA sha numkeys key... arg...` of a caller's script, loaded on `NOSCRIPT`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Eval {
    pub(crate) source: Arc<str>,
    pub(crate) hash: Arc<str>,
    pub(crate) keys: Vec<String>,
    pub(crate) args: Vec<Vec<u8>>,
}

impl Command for Eval {
    type Output = ScriptReply;
    const NAME: &'static str = "EVALSHA";
    // A script may write, and may do anything twice.
    const ROUTE: Route = Route::Writes;
    const RESEND: Resend = Resend::Never;

    fn key_count(&self) -> usize {
        self.keys.count()
    }

    fn each_key(&self, visit: &mut dyn FnMut(&str)) {
        self.keys.each(visit);
    }

    #[cfg(feature = "redis")]
    fn request(&self) -> super::Request {
        let mut eval = redis::cmd("EVALSHA");
        eval.arg(&*self.hash).arg(self.keys.len());
        for key in &self.keys {
            eval.arg(key);
        }
        for arg in &self.args {
            eval.arg(arg);
        }
        super::Request::Script {
            source: super::ScriptSource::Shared(self.source.clone()),
            eval,
        }
    }
}
