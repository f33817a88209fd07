//! Cache keys: Django's key function, its key warnings, and patterns that stay inside a prefix.
//!
//! Every operation of the cache takes the user's key; the prefix and the version are applied
//! here, uniformly, for plain values and data structures alike.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Django warns about keys longer than this (memcached's limit).
pub const MAX_KEY_LENGTH: usize = 250;

/// How a key is made from the user's key, the cache's prefix and a version.
///
/// The default is Django's `default_key_func`: `{prefix}:{version}:{key}`.
///
/// ```
/// use cachex::keys::KeyFunction;
///
/// assert_eq!(KeyFunction::default().make("user:1", "app", 2), "app:2:user:1");
/// let reversed = KeyFunction::new(|key, prefix, version| format!("{key}|{version}|{prefix}"));
/// assert_eq!(reversed.make("k", "p", 1), "k|1|p");
/// ```
#[derive(Clone)]
pub struct KeyFunction(Option<Arc<MakeKey>>);

/// `function(key, prefix, version)`.
type MakeKey = dyn Fn(&str, &str, i64) -> String + Send + Sync;

impl KeyFunction {
    /// A custom key function, called as `function(key, prefix, version)`, as in Django's
    /// `KEY_FUNCTION` setting.
    pub fn new(function: impl Fn(&str, &str, i64) -> String + Send + Sync + 'static) -> Self {
        KeyFunction(Some(Arc::new(function)))
    }

    /// Makes the stored key for `key`.
    pub fn make(&self, key: &str, prefix: &str, version: i64) -> String {
        match &self.0 {
            Some(function) => function(key, prefix, version),
            None => {
                let mut version_text = itoa::Buffer::new();
                let version = version_text.format(version);
                let mut made = String::with_capacity(prefix.len() + version.len() + key.len() + 2);
                for part in [prefix, ":", version, ":", key] {
                    made.push_str(part);
                }
                made
            }
        }
    }
}

impl Default for KeyFunction {
    /// Django's `default_key_func`.
    fn default() -> Self {
        KeyFunction(None)
    }
}

impl fmt::Debug for KeyFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "KeyFunction(custom)"
        } else {
            "KeyFunction(default)"
        })
    }
}

/// What happens to a key Django would warn about (longer than 250 characters, or holding
/// control characters or spaces).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyValidation {
    /// A `tracing` warning with target `cachex::keys`, as Django's `CacheKeyWarning`; the key
    /// is used as it is.
    #[default]
    Warn,
    /// The operation fails with [`Error::InvalidKey`].
    Strict,
    /// No check.
    Off,
}

/// The cache's key settings: prefix, version, key function and validation.
#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
    version: i64,
    function: KeyFunction,
    validation: KeyValidation,
    /// `{prefix}:{version}:`: what the default key function puts before every key at the
    /// default version, made once rather than on every call.
    head: String,
    /// Whether `head` holds a character Django warns about: looked at once, so that a key
    /// made with it needs only its own bytes looked at.
    head_suspicious: bool,
    /// Which `head` it is, unique in the process (0 for none): a thread's buffer that holds
    /// a key made with this head keeps it for the next key (see [`Keys::with_made`]).
    head_id: u64,
}

impl Default for Keys {
    /// No prefix, version 0, the default key function, warnings for suspicious keys.
    fn default() -> Self {
        Keys {
            prefix: String::new(),
            version: 0,
            function: KeyFunction::default(),
            validation: KeyValidation::default(),
            head: String::new(),
            head_suspicious: false,
            head_id: 0,
        }
        .with_head()
    }
}

impl Keys {
    /// Key settings with Django's defaults: no prefix, version 1, the default key function,
    /// warnings for suspicious keys.
    pub fn new() -> Self {
        Keys::default().with_version(1)
    }

    /// `head` made again after a change of prefix or version.
    fn with_head(mut self) -> Self {
        self.head = KeyFunction::default().make("", &self.prefix, self.version);
        self.head_suspicious = has_suspicious_bytes(&self.head);
        static HEADS: AtomicU64 = AtomicU64::new(0);
        self.head_id = HEADS.fetch_add(1, Ordering::Relaxed) + 1;
        self
    }

    /// Sets the prefix (Django's `KEY_PREFIX`).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self.with_head()
    }

    /// Sets the default version (Django's `VERSION`).
    pub fn with_version(mut self, version: i64) -> Self {
        self.version = version;
        self.with_head()
    }

    /// Sets the key function (Django's `KEY_FUNCTION`).
    pub fn with_function(mut self, function: KeyFunction) -> Self {
        self.function = function;
        self
    }

    /// Sets what happens to suspicious keys.
    pub fn with_validation(mut self, validation: KeyValidation) -> Self {
        self.validation = validation;
        self
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// What every made key starts with (`{prefix}:`), for Django's key function; `None` for a
    /// custom one, whose keys may start with anything.
    #[cfg(feature = "redis")]
    pub(crate) fn made_prefix(&self) -> Option<String> {
        self.function
            .0
            .is_none()
            .then(|| format!("{}:", self.prefix))
    }

    /// The default version.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// What happens to suspicious keys.
    pub fn validation(&self) -> KeyValidation {
        self.validation
    }

    /// Makes and validates the stored key for `key`, at `version` or the default one.
    ///
    /// ```
    /// use cachex::keys::{KeyValidation, Keys};
    ///
    /// let keys = Keys::new().with_prefix("app").with_validation(KeyValidation::Strict);
    /// assert_eq!(keys.make("user:1", None).unwrap(), "app:1:user:1");
    /// assert_eq!(keys.make("user:1", Some(3)).unwrap(), "app:3:user:1");
    /// assert!(keys.make("has space", None).is_err());
    /// ```
    pub fn make(&self, key: &str, version: Option<i64>) -> Result<String> {
        let version = version.unwrap_or(self.version);
        let made = if self.function.0.is_none() && version == self.version {
            // The usual case: one allocation, two copies.
            let mut made = String::with_capacity(self.head.len() + key.len());
            made.push_str(&self.head);
            made.push_str(key);
            made
        } else {
            self.function.make(key, &self.prefix, version)
        };
        self.validate(key, &made)?;
        Ok(made)
    }

    /// What `use_key` answers on [`make`](Self::make)'s key at the default version, made in a
    /// buffer this thread reuses rather than a new allocation: for a call that only looks the
    /// key up (the blocking `get`). A custom key function, a key Django would warn about, or
    /// a nested call (or one after the thread's buffer is gone) takes `make`'s way.
    #[inline]
    pub(crate) fn with_made<R>(&self, key: &str, use_key: impl Fn(&str) -> R) -> Result<R> {
        // The head's bytes were looked at when it was made: only the key's are here.
        let plain = self.function.0.is_none()
            && (self.validation == KeyValidation::Off
                || !(self.head_suspicious
                    || self.head.len() + key.len() > MAX_KEY_LENGTH
                    || has_suspicious_bytes(key)));
        if plain {
            let lent = REUSED.try_with(|reused| {
                let mut reused = reused.try_borrow_mut().ok()?;
                let (head, made) = &mut *reused;
                // The buffer still starts with this head when it made the last key.
                if *head == self.head_id {
                    made.truncate(self.head.len());
                } else {
                    made.clear();
                    made.push_str(&self.head);
                    *head = self.head_id;
                }
                made.push_str(key);
                let answer = use_key(made);
                if made.capacity() > REUSED_MAX {
                    *reused = (0, String::new());
                }
                Some(answer)
            });
            if let Ok(Some(answer)) = lent {
                return Ok(answer);
            }
        }
        self.make(key, None).map(|made| use_key(&made))
    }

    /// A `SCAN`/`KEYS` pattern for the user's `pattern`, inside this cache's prefix and version:
    /// glob characters in the prefix are escaped, so that no pattern reaches keys of another
    /// prefix; the user's own glob characters keep their meaning.
    ///
    /// ```
    /// use cachex::keys::Keys;
    ///
    /// let keys = Keys::new().with_prefix("a*b");
    /// assert_eq!(keys.pattern("user:*", None), r"a\*b:1:user:*");
    /// ```
    pub fn pattern(&self, pattern: &str, version: Option<i64>) -> String {
        self.function.make(
            pattern,
            &escape_glob(&self.prefix),
            version.unwrap_or(self.version),
        )
    }

    /// The caller's key of a stored key of the current version: without `{prefix}:{version}:`
    /// with the default key function. A custom key function cannot be reversed: its stored
    /// keys are returned as they are.
    ///
    /// ```
    /// use cachex::keys::Keys;
    ///
    /// let keys = Keys::new().with_prefix("app");
    /// assert_eq!(keys.user_key("app:1:user:7"), "user:7");
    /// ```
    pub fn user_key<'a>(&self, made: &'a str) -> &'a str {
        if self.function.0.is_some() {
            return made;
        }
        made.strip_prefix(self.head.as_str()).unwrap_or(made)
    }

    /// The pattern of this cache's keys in every integer version, `{prefix}:[-0-9]*:*` (as
    /// django-cachex's `clear_all_versions`: the keys of a prefix that extends this one stay
    /// out); `None` with a custom key function.
    pub(crate) fn every_version_pattern(&self) -> Option<String> {
        self.function
            .0
            .is_none()
            .then(|| format!("{}:[-0-9]*:*", escape_glob(&self.prefix)))
    }

    /// The pattern of every key of this cache, at every version: `{prefix}:*` with the default
    /// key function (the `:` keeps `app` from reaching `apple`'s keys; a cache prefixed `app:x`
    /// is inside it, though). A custom key function cannot say where the version goes, so
    /// there it is the current version's keys, and `None` when the function does not start
    /// its keys with a non-empty prefix: such keys cannot be told from other keys.
    ///
    /// ```
    /// use cachex::keys::{KeyFunction, Keys};
    ///
    /// assert_eq!(Keys::new().with_prefix("app*").all_versions_pattern().as_deref(), Some(r"app\*:*"));
    /// let hashed = Keys::new().with_prefix("app").with_function(KeyFunction::new(|key, _, _| key.len().to_string()));
    /// assert_eq!(hashed.all_versions_pattern(), None);
    /// ```
    pub fn all_versions_pattern(&self) -> Option<String> {
        let escaped = escape_glob(&self.prefix);
        match &self.function.0 {
            None => Some(format!("{escaped}:*")),
            Some(_) => {
                let pattern = self.pattern("*", None);
                (!escaped.is_empty() && pattern.starts_with(&escaped)).then_some(pattern)
            }
        }
    }

    /// Django's `memcache_key_warnings`, on the made key: warned about, refused, or let be.
    #[inline]
    fn validate(&self, key: &str, made: &str) -> Result<()> {
        // Bytes bound characters from above, and the characters refused are ASCII: most keys
        // are settled here, without decoding UTF-8; every byte is looked at (no early exit:
        // the loop is branch-free, vectorized on long keys).
        let suspicious = made.len() > MAX_KEY_LENGTH || has_suspicious_bytes(made);
        if self.validation == KeyValidation::Off || !suspicious {
            return Ok(());
        }
        self.refuse_or_warn(key, made)
    }

    /// [`validate`](Self::validate)'s answer for a key that may be one Django warns about.
    #[cold]
    fn refuse_or_warn(&self, key: &str, made: &str) -> Result<()> {
        let reason = if made.chars().count() > MAX_KEY_LENGTH {
            format!("longer than {MAX_KEY_LENGTH} characters")
        } else if made.bytes().any(|byte| byte < 33 || byte == 127) {
            "contains control characters or spaces".to_owned()
        } else {
            return Ok(());
        };
        match self.validation {
            KeyValidation::Strict => Err(Error::InvalidKey {
                key: key.to_owned(),
                reason,
            }),
            _ => {
                tracing::warn!(
                    target: "cachex::keys",
                    key = made,
                    "cache key will cause errors if used with memcached: {reason}"
                );
                Ok(())
            }
        }
    }
}

/// Whether `text` holds a byte of a character Django warns about in a key (control
/// characters and spaces). Bytes bound characters from above, and the characters refused are
/// ASCII: most keys are settled here, without decoding UTF-8. Eight bytes are looked at at
/// once (the last word overlapping the one before: looking at a byte twice changes nothing).
#[inline]
fn has_suspicious_bytes(text: &str) -> bool {
    let bytes = text.as_bytes();
    let seen = match bytes.len() {
        0..4 => {
            return bytes
                .iter()
                .fold(false, |seen, &byte| seen | (byte < 33) | (byte == 127));
        }
        4..8 => {
            let (first, last) = (word4(&bytes[..4]), word4(&bytes[bytes.len() - 4..]));
            suspicious_in(u64::from(first) | (u64::from(last) << 32))
        }
        len => {
            let last = suspicious_in(word8(&bytes[len - 8..]));
            bytes
                .chunks_exact(8)
                .fold(last, |seen, chunk| seen | suspicious_in(word8(chunk)))
        }
    };
    seen != 0
}

/// Eight bytes of a key as a word (`chunk` has eight).
#[inline]
fn word8(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default())
}

/// Four bytes of a key as a word (`chunk` has four).
#[inline]
fn word4(chunk: &[u8]) -> u32 {
    u32::from_le_bytes(<[u8; 4]>::try_from(chunk).unwrap_or_default())
}

/// Not 0 when one of the eight bytes of `word` is below 33 or is 127 (the high bit of such a
/// byte set; bytes above one that is may be marked too, which changes nothing here).
#[inline]
fn suspicious_in(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // A byte below 33 borrows into its high bit when 33 is taken from it, its own high bit
    // being clear; a byte of 127 is 0 once xored with 127.
    let delete = word ^ (ONES * 127);
    ((word.wrapping_sub(ONES * 33) & !word) | (delete.wrapping_sub(ONES) & !delete)) & (ONES * 0x80)
}

thread_local! {
    /// The buffer [`Keys::with_made`] makes keys in, kept by this thread between two calls,
    /// with the id of the head it starts with (0 for none).
    static REUSED: RefCell<(u64, String)> = const { RefCell::new((0, String::new())) };
}

/// A buffer longer than this goes back to the allocator rather than stay with its thread.
const REUSED_MAX: usize = 512;

/// Escapes the glob characters of Redis patterns (`*`, `?`, `[`, `]`, `\`).
///
/// ```
/// assert_eq!(cachex::keys::escape_glob("a*b?[c]\\"), r"a\*b\?\[c\]\\");
/// ```
pub fn escape_glob(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_keys_are_the_made_ones() {
        let keys = Keys::new().with_prefix("app");
        let made = |keys: &Keys, key: &str| keys.with_made(key, str::to_owned);
        // Made while the thread's buffer is lent: a key of its own.
        let (first, nested) = keys
            .with_made("user:1", |first| {
                (first.to_owned(), made(&keys, "user:22").expect("a key"))
            })
            .expect("a key");
        assert_eq!((&*first, &*nested), ("app:1:user:1", "app:1:user:22"));
        let long = "k".repeat(2 * REUSED_MAX);
        assert_eq!(
            made(&keys, &long).expect("a key"),
            keys.make(&long, None).expect("a key")
        );
        assert_eq!(made(&keys, "a").expect("a key"), "app:1:a");
        // Caches taking turns on one thread: each key starts with its own cache's head.
        let other = Keys::new().with_prefix("application");
        for _ in 0..2 {
            assert_eq!(made(&other, "b").expect("a key"), "application:1:b");
            assert_eq!(made(&keys, "bb").expect("a key"), "app:1:bb");
            assert_eq!(
                made(&keys.clone().with_version(7), "c").expect("a key"),
                "app:7:c"
            );
        }
        let custom = keys.with_function(KeyFunction::new(|key, _, _| format!("[{key}]")));
        assert_eq!(made(&custom, "a").expect("a key"), "[a]");
        // Only the key's bytes are looked at on the way that reuses the buffer: a prefix
        // Django warns about is seen all the same, and so is a key too long with it.
        let strict = Keys::new().with_validation(KeyValidation::Strict);
        assert!(made(&strict, "has space").is_err());
        assert!(made(&strict.clone().with_prefix("a b"), "k").is_err());
        let fits = "k".repeat(MAX_KEY_LENGTH - 3);
        assert!(made(&strict, &fits).is_ok());
        assert!(made(&strict.clone().with_prefix("p"), &fits).is_err());
        let off = Keys::new()
            .with_prefix("a b")
            .with_validation(KeyValidation::Off);
        assert_eq!(made(&off, "c d").expect("a key"), "a b:1:c d");
    }

    #[test]
    fn suspicious_bytes_are_found_at_every_length_and_place() {
        for len in 0..40 {
            assert!(!has_suspicious_bytes(&"k".repeat(len)), "{len}");
            assert!(!has_suspicious_bytes(&"é~!".repeat(len)), "{len}");
            for at in 0..len {
                for bad in [' ', '\0', '\t', '\x1f', '\x7f'] {
                    let mut key: Vec<char> = "k".repeat(len).chars().collect();
                    key[at] = bad;
                    let key: String = key.into_iter().collect();
                    assert!(has_suspicious_bytes(&key), "{key:?}");
                }
            }
        }
        // Every ASCII byte at every place of short keys (any length's word layout), against
        // the byte-by-byte rule: no byte Django warns about is missed, none other is seen.
        for len in 1..20 {
            for at in 0..len {
                for byte in 0..=127_u8 {
                    let mut key = vec![b'k'; len];
                    key[at] = byte;
                    let key = String::from_utf8(key).expect("ASCII");
                    assert_eq!(
                        has_suspicious_bytes(&key),
                        byte < 33 || byte == 127,
                        "{key:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn django_default_key_function() {
        let keys = Keys::new();
        assert_eq!(keys.make("k", None).ok().as_deref(), Some(":1:k"));
        let keys = Keys::new().with_prefix("p").with_version(-2);
        assert_eq!(keys.make("k", None).ok().as_deref(), Some("p:-2:k"));
        assert_eq!(keys.make("k", Some(0)).ok().as_deref(), Some("p:0:k"));
    }

    #[test]
    fn suspicious_keys_are_refused_in_strict_mode_only() {
        let strict = Keys::new().with_validation(KeyValidation::Strict);
        for bad in [
            "a b",
            "tab\t",
            "nul\0",
            "del\u{7f}",
            &"x".repeat(MAX_KEY_LENGTH),
        ] {
            assert!(
                matches!(strict.make(bad, None), Err(Error::InvalidKey { ref key, .. }) if key == bad),
                "{bad:?}"
            );
            assert!(Keys::new().make(bad, None).is_ok(), "warned only: {bad:?}");
            let off = Keys::new().with_validation(KeyValidation::Off);
            assert!(off.make(bad, None).is_ok());
        }
        // The limit counts the made key, in characters, as Django does.
        let fits = "é".repeat(MAX_KEY_LENGTH - 3);
        assert!(strict.make(&fits, None).is_ok());
        assert!(strict.make(&format!("{fits}x"), None).is_err());
        assert!(strict.make("unicode-ключ-🔑", None).is_ok());
    }

    #[test]
    fn patterns_stay_inside_the_prefix() {
        let keys = Keys::new().with_prefix("te[s]t?*");
        assert_eq!(keys.pattern("*", Some(2)), r"te\[s\]t\?\*:2:*");
        let custom = Keys::new()
            .with_prefix("p*")
            .with_function(KeyFunction::new(|key, prefix, version| {
                format!("{version}/{prefix}/{key}")
            }));
        assert_eq!(custom.pattern("a?", None), r"1/p\*/a?");
        assert_eq!(custom.make("a?", None).ok().as_deref(), Some("1/p*/a?"));
    }
}
