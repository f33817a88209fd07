//! Stored bytes decoded by every serializer × compressor configuration: see
//! `cachex_tests::fuzzing::decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cachex_tests::fuzzing::decode(data));
