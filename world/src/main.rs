//! `world`: generate and check datasets of episodes.
//!
//! ```text
//! cargo run -p world --release -- gen --seed 1 --episodes 1000 --out data/train
//! cargo run -p world --release -- check data/train
//! ```

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
