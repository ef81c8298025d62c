//! The world the model learns from: a seeded 2D physics simulator (rapier2d), a renderer to
//! RGB frames (tiny-skia), language generated from the simulator's ground truth, and the
//! on-disk dataset format. Builds for native and `wasm32-unknown-unknown` alike.
//!
//! Data flow: [`scene`] -> [`sim`] (+ [`action`], [`events`]) -> [`render`] -> [`episode`]
//! (with [`policy`] and [`language`]) -> [`dataset`]; [`task`] sets push-to-goal tasks; [`scores`]
//! measures frames (PSNR, SSIM, where each object is) for the evaluation and the page alike.

pub mod action;
pub mod dataset;
pub mod episode;
pub mod events;
pub mod language;
pub mod scores;
pub mod policy;
pub mod render;
pub mod scene;
pub mod sim;
pub mod task;
