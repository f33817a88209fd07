//! The real django-cachex, for the interoperability tests.

use std::path::{Path, PathBuf};

/// The django-cachex release the fixtures are written for and `scripts/django-cachex-venv`
/// installs (keep the three in step: that script, this and `fixtures/django/py313_compat.py`).
pub const DJANGO_CACHEX: &str = "0.14.1";

/// The Python of the environment `scripts/django-cachex-venv` makes (named after the version,
/// so an environment with an older django-cachex is not picked up).
pub fn venv_python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.cache")
        .join(format!("django-cachex-{DJANGO_CACHEX}"))
        .join("bin/python")
}

/// A Python that has django-cachex: `CACHEX_DJANGO_PYTHON`, or the environment
/// `scripts/django-cachex-venv` makes (`scripts/test` runs it). When there is none, this panics
/// with how to make one: the interoperability tests fail rather than skip.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("CACHEX_DJANGO_PYTHON") {
        return PathBuf::from(python);
    }
    let venv = venv_python();
    assert!(
        venv.exists(),
        "no Python with django-cachex {DJANGO_CACHEX}: run scripts/django-cachex-venv (scripts/test \
         runs it), or make one as tests/fixtures/django/README.md says and point \
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
