//! WGSL kernels, one file each, with the Rust that records them.
