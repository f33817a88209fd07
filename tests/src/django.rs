//! The real django-cachex, for the interoperability tests.

use std::path::{Path, PathBuf};

/// A Python that has django-cachex: `CACHEX_DJANGO_PYTHON`, or the environment `scripts/test`
/// makes in `.cache/django-venv`. When there is none, this panics with how to make one: the
/// interoperability tests fail rather than skip.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("CACHEX_DJANGO_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/django-venv/bin/python");
    assert!(
        venv.exists(),
        "no Python with django-cachex: run scripts/test (it makes .cache/django-venv), or make \
         one with Python >= 3.12 as tests/fixtures/django/README.md says and point \
         CACHEX_DJANGO_PYTHON at it"
    );
    venv
}

/// A file of `tests/fixtures/django/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/django")
        .join(name)
}
