//! The student world model in the browser: the project's own WGSL kernels, driven by wgpu
//! (WebGPU on the web, Vulkan, Metal or DX12 natively), and a plain-Rust CPU path used when no
//! GPU adapter is granted and as the reference every kernel is tested against.
//!
//! The model's forward pass is written once, in [`graph`], over the [`Exec`] trait: a handful
//! of operations on row-major matrices (`linear`, `layer_norm`, `attention`, gathers and row
//! copies). [`cpu::Cpu`] runs them immediately on `Vec<f32>`; [`gpu::Gpu`] records one WGSL
//! dispatch each into a command encoder and reads nothing back until asked, so a whole
//! planning iteration is one submission. Sizes, tensor names and the weights format come from
//! the `layout` crate, shared with training and export: nothing here restates the architecture.
//!
//! The frame predictor the page dreams with is written the same way, once, in
//! [`frame_net::body`] over [`frame_net::MapOps`] (convolutions, GroupNorm, the move bias,
//! upsample-and-concatenate on channel-last feature maps): [`frame_net::CpuMaps`] runs it on
//! [`maps`], and [`frame_gpu::FrameGpu`] records one WGSL dispatch per operation.

pub mod api;
pub mod cpu;
pub mod error;
pub mod exec;
#[cfg(feature = "gpu")]
pub mod frame_gpu;
pub mod frame_net;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod graph;
#[cfg(feature = "gpu")]
pub mod kernels;
pub mod maps;
pub mod plan;
pub mod prompt;
pub mod rng;
pub mod state;
#[cfg(feature = "gpu")]
pub mod state_gpu;
pub mod track;

pub use api::{DreamInside, Inside, Prefer, Reply, Runtime, RuntimeError};
pub use error::GpuError;
pub use exec::{Act, Exec, Shape};
