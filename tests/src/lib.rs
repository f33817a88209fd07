//! Shared helpers of the cachex integration tests.
