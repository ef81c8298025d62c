//! The playground page: the world simulated live in the browser, driven by keyboard and mouse,
//! with its events told in words as they happen.
//!
//! Logic that can be tested without a browser lives in plain modules that build everywhere;
//! the Leptos components and the browser glue build for `wasm32` only.

pub mod controls;
pub mod pacing;
pub mod session;
pub mod url_state;
