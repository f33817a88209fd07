//! Runnable examples of cachex: see the `examples/` folder.
