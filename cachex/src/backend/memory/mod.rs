//! STUB for type-checking only.
use std::future::Future;
use super::command::Command;
use crate::{Error, Result};
pub(crate) const DEFAULT_MAX_ENTRIES: u64 = 10_000;
pub(crate) trait Apply: Command {
    fn apply(self, memory: &Memory) -> Result<Self::Output>;
    fn apply_waiting(self, memory: &Memory) -> impl Future<Output = Result<Self::Output>> + Send {
        std::future::ready(self.apply(memory))
    }
}
impl<C: Command> Apply for C {
    fn apply(self, _: &Memory) -> Result<Self::Output> { Err(Error::Server(String::new())) }
}
pub(crate) struct Memory;
impl Memory {
    pub(crate) fn new(_: u64) -> Self { Memory }
    pub(crate) async fn execute<C: Apply>(&self, command: C) -> Result<C::Output> { command.apply_waiting(self).await }
    pub(crate) async fn pipeline<C: Apply>(&self, commands: Vec<C>) -> Result<Vec<Result<C::Output>>> { Ok(commands.into_iter().map(|c| c.apply(self)).collect()) }
    pub(crate) async fn close(&self) -> Result<()> { Ok(()) }
}
