//! The world model's shape, written once and shared by everything that touches weights:
//! training and export (burn, in `model`), and the browser runtime's CPU and WGSL paths
//! (`shaders`). Nothing here depends on a tensor library, so it builds for wasm32 as is.
//!
//! - [`config`]: every size, the token layout of each mode and the FLOP counts;
//! - [`tensors`]: the name and shape of every parameter, in the order the model declares them;
//! - [`weights`]: the exported format (safetensors + manifest) and the checks a loader runs.

pub mod cem;
pub mod config;
pub mod frames;
pub mod prompt;
pub mod slots;
pub mod tensors;
pub mod weights;

pub use config::ModelConfig;
pub use weights::{LoadError, Manifest, Weights};
