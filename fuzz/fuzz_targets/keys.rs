//! Key making, validation and prefix isolation: see `cachex_tests::fuzzing::keys`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cachex_tests::fuzzing::keys(data));
