//! The playground page: the world simulated live in the browser, driven by keyboard and mouse,
//! with its events told in words as they happen.
//!
//! Logic that can be tested without a browser lives in plain modules that build everywhere;
//! the Leptos components and the browser glue build for `wasm32` only.

pub mod ask;
pub mod controls;
pub mod dream;
pub mod explain;
pub mod pacing;
pub mod plan_demo;
pub mod prompt;
pub mod results;
pub mod session;
pub mod url_state;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod dreamer;
#[cfg(target_arch = "wasm32")]
pub mod engine;
#[cfg(target_arch = "wasm32")]
pub mod model;
#[cfg(target_arch = "wasm32")]
pub mod stage;
#[cfg(target_arch = "wasm32")]
pub mod worker;

#[cfg(target_arch = "wasm32")]
pub use components::{App, Playground};
