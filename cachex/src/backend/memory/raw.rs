//! What `cachex-admin` needs of the in-memory backend: a key's raw content, and a transaction
//! run only if its content passes a check made under the transaction's exclusive hold.

use super::data::{Data, lock};
use super::{AnyCommand, Memory, Reply};
use crate::Result;

/// The check of [`Memory::batch_if`]: whether the transaction may run, given the key's content.
pub(crate) type Check<'a> = Box<dyn FnOnce(Option<&RawData>) -> bool + Send + 'a>;
use crate::ops::RawData;

impl Memory {
    /// The raw content of `key`, read outside any transaction on it.
    pub(crate) fn raw(&self, key: &str) -> Option<RawData> {
        let _shared = self.gate.shared(|visit| visit(key));
        self.raw_now(key)
    }

    fn raw_now(&self, key: &str) -> Option<RawData> {
        let entry = self.live(key)?;
        Some(match &entry.data {
            Data::Bytes(bytes) => RawData::String(bytes.to_vec()),
            Data::Hash(hash) => {
                let mut hash = lock(hash);
                super::data::Collection::tidy(&mut *hash);
                let mut fields: Vec<_> = hash
                    .iter()
                    .map(|(field, value)| (field.clone(), value.to_vec()))
                    .collect();
                fields.sort();
                RawData::Hash(fields)
            }
            Data::List(list) => {
                RawData::List(lock(list).iter().map(|item| item.to_vec()).collect())
            }
            Data::Set(set) => {
                let mut members: Vec<_> = lock(set).iter().map(|member| member.to_vec()).collect();
                members.sort();
                RawData::Set(members)
            }
            Data::Zset(zset) => RawData::SortedSet(
                lock(zset)
                    .ordered(false)
                    .map(|(score, member)| (member.to_vec(), score.0))
                    .collect(),
            ),
            Data::Stream(stream) => {
                let stream = lock(stream);
                let (length, last_id, entries_added) = stream.counts();
                RawData::Stream {
                    length,
                    last_id,
                    entries_added,
                }
            }
        })
    }

    /// Runs `commands` as a transaction if `check` accepts the raw content of `key`, read
    /// while the stripes of `key` and of every command's keys are held exclusively: `None`
    /// when it refused (nothing ran). `check` runs under the exclusive hold: a `check` that
    /// calls the cache deadlocks on a held stripe (said in `Pipeline::aexecute_if`'s docs).
    pub(crate) fn batch_if(
        &self,
        commands: Vec<Box<dyn AnyCommand>>,
        key: &str,
        check: Check<'_>,
    ) -> Option<Vec<Result<Reply>>> {
        let _exclusive = self.gate.exclusive(|visit| {
            visit(key);
            commands.iter().for_each(|command| command.each_key(visit));
        });
        if !check(self.raw_now(key).as_ref()) {
            return None;
        }
        Some(
            commands
                .into_iter()
                .map(|command| command.apply(self))
                .collect(),
        )
    }
}
