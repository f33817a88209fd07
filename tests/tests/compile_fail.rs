//! Every misuse of `#[auto_async]` is a compile error that points at the user's own tokens, and
//! the annotated trait is still emitted. The expected messages are checked in next to each case
//! in `ui/`; regenerate them with `TRYBUILD=overwrite` after a deliberate change.

#[test]
fn misuse_is_a_compile_error() {
    trybuild::TestCases::new().compile_fail("ui/*.rs");
}
