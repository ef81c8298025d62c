//! Planning in the model's state on the GPU: [`crate::state::plan`]'s cross-entropy method,
//! recorded with [`crate::plan::record_with`] like the latent planner's. Each iteration's
//! candidates are rolled out under the whole dynamics ensemble by one dispatch of
//! `state_rollout.wgsl`; sampling, elites and refit are the latent planner's kernels, and
//! only the elites come back. The same seed plans the same moves as the CPU path (their costs
//! agree to float rounding: `tests/plan.rs`, and in Chromium `tests/browser.rs`).
//!
//! The frames the planner starts from are read into the state there too: the reader's
//! convolutions ([`reader_body`]) run on the feature-map kernels the frame predictor uses, and
//! only their last map comes back (128 KB) for the head and the slots' softmax pooling
//! ([`read_out_of`], a few thousand multiply-adds).

use layout::cem::CemConfig;

use crate::exec::Exec;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::maps::GpuMap;
use crate::kernels::state_rollout::{self, EnsembleWeights};
use crate::plan::{finish, record_with};
use crate::state::{read_out_of, reader_body, Dynamics, ReadOut, Reading, StateNets, StatePlan, Target, TARGET_VALUES};

/// The state nets on a GPU device: the dynamics ensemble and the reader.
pub struct StateGpu {
    weights: EnsembleWeights,
    /// The reader's weights (the state nets' file, uploaded whole).
    reader: Gpu,
}

impl StateGpu {
    /// Uploads `nets` to `g`'s device.
    pub fn new(g: &Gpu, nets: &StateNets) -> StateGpu {
        StateGpu {
            weights: EnsembleWeights::new(&g.ctx.device, &nets.ensemble),
            reader: Gpu::new(g.ctx.clone(), &nets.weights),
        }
    }

    /// [`StateNets::read_out`] on the device; `nets` are the ones uploaded (their head
    /// finishes the reading on the CPU).
    pub async fn read_out(&mut self, nets: &StateNets, prev: &[u8], cur: &[u8]) -> Result<ReadOut, GpuError> {
        self.reader.ctx.check()?;
        let input = GpuMap::frame_input(&mut self.reader, prev, cur);
        let h = reader_body(&mut self.reader, &input);
        Ok(read_out_of(&h.read(&mut self.reader).await?, &nets.weights))
    }

    /// [`StateNets::read`] on the device.
    pub async fn read(&mut self, nets: &StateNets, prev: &[u8], cur: &[u8]) -> Result<Reading, GpuError> {
        Ok(self.read_out(nets, prev, cur).await?.reading())
    }

    /// The ensemble's mean imagined cost toward `target` of each of `n` candidates (`actions`,
    /// step-major `[horizon * n]`), read back: what [`Target::cost`] gives each on the CPU.
    pub async fn costs(
        &self,
        g: &mut Gpu,
        target: &Target,
        actions: &[u32],
        n: usize,
        horizon: usize,
    ) -> Result<Vec<f32>, GpuError> {
        let task = g.input(&target.values(), 1, TARGET_VALUES);
        let ids = g.ids(actions);
        let cost = state_rollout::record(g, &self.weights, &task, &ids, n, horizon)?;
        g.read(&cost).await
    }

    /// [`crate::state::plan`] on the device; `ensemble` is the one uploaded (the imagined track
    /// of the best plan is drawn from its first member on the CPU).
    pub async fn plan(
        &self,
        g: &mut Gpu,
        ensemble: &[Dynamics],
        target: &Target,
        cfg: &CemConfig,
        warm: &[u8],
        seed: u32,
    ) -> Result<StatePlan, GpuError> {
        let task = g.input(&target.values(), 1, TARGET_VALUES);
        let (n, horizon) = (cfg.population, cfg.horizon);
        // The cost buffer is population x 4 bytes, far below any device's limit once the API
        // has bounded the population (`MAX_POPULATION`).
        let rec = record_with(g, cfg, warm, seed, |g, actions| {
            state_rollout::record(g, &self.weights, &task, actions, n, horizon)
                .unwrap_or_else(|e| panic!("{e}"))
        });
        let mut read = Vec::with_capacity(rec.elites.len());
        for (seqs, costs) in &rec.elites {
            read.push((g.read_ids(seqs).await?, g.read(costs).await?));
        }
        Ok(StatePlan::of(finish(cfg, read), ensemble, target))
    }
}
