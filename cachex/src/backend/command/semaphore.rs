//! The counting semaphore's scripts, on django-cachex's keys (so that a Django process and a
//! Rust one can share a semaphore).
//!
//! A semaphore on the made key `name` is kept in keys that all start with the hash tag
//! `{name}`, so that they live in one cluster slot:
//! - `{name}:state`: a hash whose field `used` is the weight held;
//! - `{name}:claims`: a hash of each holder's token to its weight;
//! - `{name}:queue`: a sorted set of the waiting tokens, scored by when they came (the
//!   server's clock, in milliseconds): only the first may be admitted, so that a heavy waiter
//!   is not starved by light ones;
//! - `{name}:state:claim:<token>`: a holder's lease (a key that expires with it): a holder
//!   whose lease key is gone is dead, and its weight is given back at the next acquire;
//! - `{name}:queue:waiter:<token>`: a waiter's heartbeat, renewed at each poll: a waiter that
//!   stopped polling leaves the queue.
//!
//! The three shared keys expire twice the longest lease after their last use, so that a
//! semaphore whose holders all died leaves nothing behind.

#[cfg(feature = "redis")]
use super::Script;
use super::commands;

commands! {
    /// Admits `token` with `weight` when the queue is empty or starts with it and the weight
    /// fits; queues it (and renews its heartbeat) otherwise. Whether admitted. A token that
    /// already holds is admitted again without counting twice, so a resend does no harm.
    SemaphoreAcquire {
        state: String, claims: String, queue: String, token: Vec<u8>, weight: u32,
        capacity: u32, lease_millis: u64, waiter_millis: u64,
    } -> bool,
        "semaphore acquire" script(
            SEMAPHORE_ACQUIRE; state, claims, queue;
            token, weight, capacity, lease_millis, waiter_millis
        ),
        keys [state, claims, queue], Writes, Safe;
    /// Gives back what `token` holds: whether it still held it (false: its lease ran out and
    /// its weight was given back already).
    SemaphoreRelease { state: String, claims: String, queue: String, token: Vec<u8>, lease_millis: u64 }
        -> bool,
        "semaphore release" script(
            SEMAPHORE_RELEASE; state, claims, queue; token, lease_millis
        ),
        keys [state, claims, queue], Writes, Safe;
    /// Adds `millis` to what is left of `token`'s lease: whether it still held.
    SemaphoreExtend { state: String, claims: String, token: Vec<u8>, millis: u64 } -> bool,
        "semaphore extend" script(SEMAPHORE_EXTEND; state, claims; token, millis),
        keys [state, claims], Writes, Never;
    /// Takes `token` out of the queue (a waiter that gives up).
    SemaphoreDequeue { queue: String, token: Vec<u8> } -> (),
        "semaphore dequeue" script(SEMAPHORE_DEQUEUE; queue; token),
        keys [queue], Writes, Safe;
}

/// See [`SemaphoreAcquire`]. `KEYS`: state, claims, queue; `ARGV`: token, weight, capacity,
/// lease and heartbeat in milliseconds.
#[cfg(feature = "redis")]
static SEMAPHORE_ACQUIRE: Script = Script::new(
    r"
local state, claims, queue = KEYS[1], KEYS[2], KEYS[3]
local token, weight, capacity = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local lease, heartbeat = tonumber(ARGV[4]), tonumber(ARGV[5])
local guard = math.max(lease, heartbeat) * 2
local function keep(key)
  if redis.call('PTTL', key) < guard then redis.call('PEXPIRE', key, guard) end
end
if redis.call('HEXISTS', claims, token) == 1 then
  return 1
end
local used = 0
local held = redis.call('HGETALL', claims)
for i = 1, #held, 2 do
  if redis.call('EXISTS', state .. ':claim:' .. held[i]) == 1 then
    used = used + tonumber(held[i + 1])
  else
    redis.call('HDEL', claims, held[i])
  end
end
for _, waiter in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
  if waiter ~= token and redis.call('EXISTS', queue .. ':waiter:' .. waiter) == 0 then
    redis.call('ZREM', queue, waiter)
  end
end
local first = redis.call('ZRANGE', queue, 0, 0)[1]
local admitted = (first == nil or first == token) and used + weight <= capacity
if admitted then
  used = used + weight
  redis.call('HSET', claims, token, weight)
  redis.call('SET', state .. ':claim:' .. token, '1', 'PX', lease)
  redis.call('ZREM', queue, token)
  redis.call('DEL', queue .. ':waiter:' .. token)
else
  if not redis.call('ZSCORE', queue, token) then
    local now = redis.call('TIME')
    redis.call('ZADD', queue, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000), token)
  end
  redis.call('SET', queue .. ':waiter:' .. token, '1', 'PX', heartbeat)
end
redis.call('HSET', state, 'used', used)
keep(state)
keep(claims)
keep(queue)
if admitted then return 1 end
return 0
",
);

/// See [`SemaphoreRelease`]. `KEYS`: state, claims, queue; `ARGV`: token, lease in
/// milliseconds (for the shared keys' expiry).
#[cfg(feature = "redis")]
static SEMAPHORE_RELEASE: Script = Script::new(
    r"
local state, claims, queue, token = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local weight = redis.call('HGET', claims, token)
if not weight then
  return 0
end
redis.call('HDEL', claims, token)
redis.call('DEL', state .. ':claim:' .. token)
local used = redis.call('HGET', state, 'used')
if not used then
  return 1
end
used = math.max(0, tonumber(used) - tonumber(weight))
if used == 0 and redis.call('HLEN', claims) == 0 then
  redis.call('DEL', state)
  return 1
end
redis.call('HSET', state, 'used', used)
local guard = tonumber(ARGV[2]) * 2
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) < guard then redis.call('PEXPIRE', key, guard) end
end
return 1
",
);

/// See [`SemaphoreExtend`]. `KEYS`: state, claims; `ARGV`: token, milliseconds to add.
#[cfg(feature = "redis")]
static SEMAPHORE_EXTEND: Script = Script::new(
    r"
local state, claims, token = KEYS[1], KEYS[2], ARGV[1]
if redis.call('HEXISTS', claims, token) == 0 then
  return 0
end
local claim = state .. ':claim:' .. token
local lease = math.max(redis.call('PTTL', claim), 0) + tonumber(ARGV[2])
redis.call('SET', claim, '1', 'PX', lease)
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) < lease * 2 then redis.call('PEXPIRE', key, lease * 2) end
end
return 1
",
);

/// See [`SemaphoreDequeue`]. `KEYS`: queue; `ARGV`: token.
#[cfg(feature = "redis")]
static SEMAPHORE_DEQUEUE: Script = Script::new(
    r"
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[1] .. ':waiter:' .. ARGV[1])
",
);
