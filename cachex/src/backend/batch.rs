//! Pipelines and transactions below the cache layer: commands of the table queued with their
//! types erased ([`AnyCommand`]), and [`Batch`], the store a pipeline's operations run against
//! while they are queued.
//!
//! A pipeline (`cache/pipeline.rs`) runs each queued operation's own body, the one its direct
//! call runs, against a [`Batch`]: the body makes its key, encodes its values and hands its
//! command to the batch, which keeps it and leaves the body waiting. The backend then runs
//! every kept command in one go ([`Store::batch`](super::Store::batch)), the batch hands each
//! body its reply, and each body decodes it as the direct call would. No operation's encoding
//! or decoding is written twice.

use std::any::Any;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Poll;

use super::command::{Command, Resend, Route};
use super::memory::{Apply, Memory};
use crate::{Error, Result};

/// A command's typed reply, its type erased.
pub(crate) type Reply = Box<dyn Any + Send>;

/// A command of the table with its type erased, as a pipeline holds it.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) trait AnyCommand: Send {
    /// The command's name, for errors.
    fn name(&self) -> &'static str;
    /// Where it may be served.
    fn route(&self) -> Route;
    /// Whether it may be sent again after a broken connection.
    fn resend(&self) -> Resend;
    /// Calls `visit` with each of its keys.
    fn each_key(&self, visit: &mut dyn FnMut(&str));
    /// Runs it on the in-memory store (the caller holds whatever isolation it needs).
    fn apply(self: Box<Self>, memory: &Memory) -> Result<Reply>;
    /// What a server backend sends.
    #[cfg(feature = "redis")]
    fn request(&self) -> super::command::Request;
    /// Its typed reply, from a server's.
    #[cfg(feature = "redis")]
    fn decode(&self, reply: redis::Value) -> redis::RedisResult<Reply>;
}

impl<C: Apply> AnyCommand for C {
    fn name(&self) -> &'static str {
        C::NAME
    }

    fn route(&self) -> Route {
        C::ROUTE
    }

    fn resend(&self) -> Resend {
        C::RESEND
    }

    fn each_key(&self, visit: &mut dyn FnMut(&str)) {
        Command::each_key(self, visit);
    }

    fn apply(self: Box<Self>, memory: &Memory) -> Result<Reply> {
        Apply::apply(*self, memory).map(|output| Box::new(output) as Reply)
    }

    #[cfg(feature = "redis")]
    fn request(&self) -> super::command::Request {
        Command::request(self)
    }

    #[cfg(feature = "redis")]
    fn decode(&self, reply: redis::Value) -> redis::RedisResult<Reply> {
        <C::Output as redis::FromRedisValue>::from_redis_value(reply)
            .map(|output| Box::new(output) as Reply)
            .map_err(Into::into)
    }
}

/// A reply back to its type.
pub(crate) fn typed<T: 'static>(reply: Reply) -> Result<T> {
    reply
        .downcast::<T>()
        .map(|typed| *typed)
        .map_err(|_| Error::unexpected_reply("a pipelined reply of another type".to_owned()))
}

/// The store a pipeline's operations run against while queued (see the module documentation):
/// each command is kept, and its caller waits until [`answer`](Batch::answer) gives the replies.
#[derive(Default)]
pub(crate) struct Batch {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The commands kept, in order (taken out when the pipeline runs).
    queued: Vec<Box<dyn AnyCommand>>,
    /// How many were kept in all.
    count: usize,
    /// The replies, by position, once answered; each taken by its caller.
    replies: Vec<Option<Result<Reply>>>,
    /// Answered: a command asked for now is one too many.
    answered: bool,
}

impl Batch {
    /// Keeps `command`, and waits for its reply. After the answer, a command is refused: an
    /// operation of a pipeline runs one command, sent with the others.
    pub(crate) async fn execute<C: Apply>(&self, command: C) -> Result<C::Output> {
        let slot = {
            let mut state = self.state();
            if state.answered {
                return Err(Error::Unsupported {
                    operation: C::NAME,
                    reason: "an operation of a pipeline runs one command, and this one needs \
                             another after the first one's reply: call it on the cache"
                        .to_owned(),
                });
            }
            state.queued.push(Box::new(command));
            state.count += 1;
            state.count - 1
        };
        let reply = std::future::poll_fn(|_| {
            match self.state().replies.get_mut(slot).and_then(Option::take) {
                Some(reply) => Poll::Ready(reply),
                None => Poll::Pending,
            }
        })
        .await?;
        typed(reply)
    }

    /// Commands of one kind together: not inside a pipeline.
    pub(crate) async fn pipeline<C: Apply>(&self, _: Vec<C>) -> Result<Vec<Result<C::Output>>> {
        Err(Error::Unsupported {
            operation: C::NAME,
            reason: "an operation that runs a pipeline of its own (set_many) cannot be queued \
                     in a pipeline"
                .to_owned(),
        })
    }

    /// A pipeline inside a pipeline: never asked by the cache layer.
    pub(crate) async fn batch(
        &self,
        _: Vec<Box<dyn AnyCommand>>,
        _: bool,
    ) -> Result<Vec<Result<Reply>>> {
        Err(Error::Unsupported {
            operation: "pipeline",
            reason: "a pipeline cannot run inside a pipeline".to_owned(),
        })
    }

    /// Nothing to close.
    pub(crate) async fn close(&self) -> Result<()> {
        Ok(())
    }

    /// How many commands were kept so far.
    pub(crate) fn count(&self) -> usize {
        self.state().count
    }

    /// The commands kept, taken out to be run.
    pub(crate) fn take(&self) -> Vec<Box<dyn AnyCommand>> {
        std::mem::take(&mut self.state().queued)
    }

    /// Hands the replies, in the commands' order, to their callers; later commands are refused.
    pub(crate) fn answer(&self, replies: Vec<Result<Reply>>) {
        let mut state = self.state();
        state.replies = replies.into_iter().map(Some).collect();
        state.answered = true;
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
