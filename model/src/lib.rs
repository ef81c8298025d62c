//! The world model: one transformer over frames, actions and text, trained with burn,
//! distilled into a browser-sized student and exported as safetensors.

pub mod checkpoint;
/// Sizes and token layout: the shared `layout` crate, re-exported.
pub use layout::config;
pub mod data;
pub mod eval;
pub mod export;
pub mod imagemetrics;
pub mod infer;
pub mod metrics;
pub mod net;
pub mod planner;
pub mod report;
pub mod tasks;
pub mod train;
