//! The `cargo fuzz` corpus of `fuzz/`, replayed through the very checks the fuzz targets run
//! (`cachex_tests::fuzzing`), so that a regression on any input the fuzzer once found
//! interesting fails the normal test suite. Inputs that once crashed a target are kept in
//! `fuzz/regressions/<target>/` and replayed too.
//!
//! The fuzzing itself (`cargo fuzz run`, see `fuzz/README.md`) is not part of the test suite.

use std::fs;
use std::path::{Path, PathBuf};

/// The files of `fuzz/{folder}/{target}/`, sorted; none if the folder does not exist.
fn inputs(folder: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(folder)
        .join(target);
    let mut files: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|entry| entry.expect("a readable folder").path())
            .filter(|path| path.is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// Feeds every corpus and regression input of `target` to `check`.
fn replay(target: &str, check: fn(&[u8])) {
    let corpus = inputs("corpus", target);
    assert!(
        corpus.len() >= 5,
        "fuzz/corpus/{target} holds {} inputs: the checked-in corpus is missing",
        corpus.len()
    );
    let regressions = inputs("regressions", target);
    for path in corpus.iter().chain(&regressions) {
        let data = fs::read(path).expect("a readable input");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{} fails its check", path.display());
    }
    println!(
        "{target}: {} corpus inputs and {} regressions replayed",
        corpus.len(),
        regressions.len()
    );
}

#[test]
fn the_decode_corpus_replays_cleanly() {
    replay("decode", cachex_tests::fuzzing::decode);
}

#[test]
fn the_keys_corpus_replays_cleanly() {
    replay("keys", cachex_tests::fuzzing::keys);
}
