//! What a stream of calls made under faults must find on the server afterwards: every write it
//! saw acknowledged, and each counter counting acknowledged increments once and failed ones at
//! most once (a failed increment may have been applied, its answer lost, but never twice).

use std::collections::HashMap;

use cachex::prelude::*;

/// Checks that every key of `acknowledged` reads back, through `cache`, as the value whose
/// write was acknowledged.
///
/// # Panics
///
/// When a read fails or a value differs, naming the key.
pub fn acknowledged_writes_read_back(cache: &Cache, acknowledged: &HashMap<String, String>) {
    let keys: Vec<&str> = acknowledged.keys().map(String::as_str).collect();
    for chunk in keys.chunks(500) {
        let found = cache.get_many::<String>(chunk).expect("get_many");
        for key in chunk {
            assert_eq!(
                found.get(*key),
                acknowledged.get(*key),
                "acknowledged {key} lost"
            );
        }
    }
}

/// Checks that the counter `key` of `cache` (missing: 0) lies between the `acknowledged`
/// increments of 1 and those plus the `failed` ones.
///
/// # Panics
///
/// When the read fails or the counter is out of those bounds.
pub fn counted_at_most_once(cache: &Cache, key: &str, acknowledged: i64, failed: i64) {
    let count = cache.get::<i64>(key).expect("get").unwrap_or(0);
    assert!(
        acknowledged <= count && count <= acknowledged + failed,
        "{key}: counter {count}, {acknowledged} acknowledged, {failed} failed"
    );
}
