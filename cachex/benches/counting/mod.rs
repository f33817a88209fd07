//! The command line of the instruction-count benches: `SPELLING [CALLS]`.

/// The spelling to run (`none` by default) and how many calls to make (a million by default).
pub(crate) fn spelling_and_calls() -> (String, u64) {
    let mut args = std::env::args().skip(1).filter(|arg| arg != "--bench");
    let spelling = args.next().unwrap_or_else(|| "none".into());
    let calls = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    (spelling, calls)
}
