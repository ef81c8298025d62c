//! The world model: one transformer over frames, actions and text, trained with burn,
//! distilled into a browser-sized student and exported as safetensors.

pub mod batches;
pub mod checkpoint;
/// Sizes and token layout: the shared `layout` crate, re-exported.
pub use layout::config;
pub mod data;
pub mod eval;
pub mod eval_nets;
pub mod export;
pub mod frame_eval;
pub mod frame_net;
pub mod infer;
pub mod losses;
pub mod metrics;
pub mod net;
pub mod planner;
pub mod prompt_net;
pub mod report;
pub mod state_net;
pub mod state_plan;
pub mod state_train;
pub mod tasks;
pub mod train;
