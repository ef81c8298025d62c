//! The GPU executor.
