//! The frame predictor on the GPU: [`crate::frame_net::body`] over the feature-map kernels
//! ([`crate::kernels::maps`]), one WGSL dispatch per operation and one read-back per frame (the
//! head's output, 57 KB). The input map is made and the logits finished on the CPU
//! ([`crate::maps::frame_input`], [`head_logits`]), and each dreamed frame is drawn there
//! ([`Dreamer`]), since drawing it keeps the dream's objects.

use std::sync::Arc;

use crate::exec::Act;
use crate::frame_net::{body, head_logits, move_row, Compose, Dreamer, FrameNet, MapOps, NORM_GROUPS};
use crate::gpu::{Gpu, GpuContext, GpuError};
use crate::kernels::maps::{self, GpuMap};

impl MapOps for Gpu {
    type M = GpuMap;
    fn conv(&mut self, name: &str, x: &GpuMap, stride: usize, act: Act, add: Option<&GpuMap>) -> GpuMap {
        ok(maps::conv3(self, x, name, stride, act, add))
    }
    fn norm(&mut self, norm: &str, x: &GpuMap, act: Act) -> GpuMap {
        ok(maps::group_norm(self, x, norm, NORM_GROUPS, act))
    }
    fn add_move(&mut self, x: &GpuMap, table: &str, mv: usize) -> GpuMap {
        ok(maps::add_move(self, x, table, mv))
    }
    fn up_concat(&mut self, a: &GpuMap, b: &GpuMap) -> GpuMap {
        ok(maps::up_concat(self, a, b))
    }
}

/// The operations are infallible by signature, as [`Exec`]'s are: a frame's maps are far below
/// any device's buffer limits.
fn ok<T>(r: Result<T, GpuError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A frame predictor with its weights on a GPU device.
pub struct FrameGpu {
    pub gpu: Gpu,
    pub bottleneck: usize,
    /// Rows of the move tables ([`FrameNet::move_rows`]).
    pub move_rows: usize,
}

impl FrameGpu {
    /// Uploads `net`'s weights to the context's device.
    pub fn new(ctx: Arc<GpuContext>, net: &FrameNet) -> FrameGpu {
        FrameGpu {
            gpu: Gpu::new(ctx, &net.weights),
            bottleneck: net.bottleneck,
            move_rows: net.move_rows,
        }
    }

    /// [`FrameNet::logits`] on the GPU.
    pub async fn logits(&mut self, prev: &[u8], cur: &[u8], last: u8, mv: u8) -> Result<Vec<f32>, GpuError> {
        self.gpu.ctx.check()?;
        let row = move_row(self.move_rows, last, mv);
        let input = GpuMap::frame_input(&mut self.gpu, prev, cur);
        let head = body(&mut self.gpu, self.bottleneck, &input, row, &mut |_, _| {});
        Ok(head_logits(&head.read(&mut self.gpu).await?, cur))
    }

    /// [`FrameNet::dream`] with each step's logits from the GPU.
    pub async fn dream(
        &mut self,
        context: [&[u8]; 2],
        last: u8,
        actions: &[u8],
        how: Compose,
        temperature: f32,
        seed: u32,
    ) -> Result<Vec<Vec<u8>>, GpuError> {
        self.dream_from(&mut Dreamer::new(context, last, how, temperature, seed, None), actions).await
    }

    /// Dreams on from `d` with `actions`; returns the frames drawn.
    pub async fn dream_from(&mut self, d: &mut Dreamer<'_>, actions: &[u8]) -> Result<Vec<Vec<u8>>, GpuError> {
        for &a in actions {
            let logits = self.logits(&d.prev, &d.cur, d.last, a).await?;
            d.draw(&logits, a);
        }
        Ok(std::mem::take(&mut d.frames))
    }
}
