//! The browser runtime held to burn. Nothing to call: the equality tests are in `tests/`
//! (`runtime_equals_burn.rs`: every mode of the transformer student through the CPU path and
//! the WGSL kernels; `runtime_nets.rs`: the frame predictor and the state nets through the CPU
//! path, and the browser's fixtures), and the side-by-side benchmark is
//! `cargo run -p parity --release --bin bench_runtime [--features gpu]`.
//!
//! Training and `eval` build `runtime` without its `gpu` feature (the CPU path alone); this
//! crate turns it on, so only it and the page link wgpu.
