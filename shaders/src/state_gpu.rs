//! Planning in the model's state on the GPU: [`crate::state::plan`]'s cross-entropy method,
//! recorded with [`crate::plan::record_with`] like the latent planner's. Each iteration's
//! candidates are rolled out under the whole dynamics ensemble by one dispatch of
//! `state_rollout.wgsl`; sampling, elites and refit are the latent planner's kernels, and
//! only the elites come back. The same seed plans the same moves as the CPU path (their costs
//! agree to float rounding: `tests/plan.rs`, and in Chromium `tests/browser.rs`).

use layout::cem::CemConfig;

use crate::exec::Exec;
use crate::gpu::{Gpu, GpuError};
use crate::kernels::state_rollout::{self, EnsembleWeights};
use crate::plan::{finish, record_with};
use crate::state::{Dynamics, StatePlan, Target, TARGET_VALUES};

/// The dynamics ensemble on a GPU device.
pub struct StateGpu {
    weights: EnsembleWeights,
}

impl StateGpu {
    /// Uploads `ensemble` to `g`'s device.
    pub fn new(g: &Gpu, ensemble: &[Dynamics]) -> StateGpu {
        StateGpu {
            weights: EnsembleWeights::new(&g.ctx.device, ensemble),
        }
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
