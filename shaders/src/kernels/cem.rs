//! Records the planner's kernels: `cem_sample.wgsl`, `cem_elites.wgsl`, `cem_refit.wgsl`, and
//! the latent sampler `sample.wgsl` (each as the function of the same name in `crate::cpu`).

use crate::gpu::{groups_1d, Gpu, GpuError, GpuIds, GpuMat};
use crate::kernels::Kernel;

pub fn sample(
    g: &mut Gpu,
    mean: &GpuMat,
    logvar: &GpuMat,
    temperature: f32,
    seed: u32,
    stream: u32,
) -> Result<GpuMat, GpuError> {
    let out = g.output("sample", mean.rows, mean.cols)?;
    let len = mean.rows * mean.cols;
    g.dispatch(
        Kernel::Sample,
        &[len as u32, seed, stream, temperature.to_bits()],
        &[&mean.buffer, &logvar.buffer, &out.buffer],
        groups_1d(len),
    );
    Ok(out)
}

pub fn cem_sample(
    g: &mut Gpu,
    probs: &GpuMat,
    n: usize,
    seed: u32,
    stream: u32,
) -> Result<GpuIds, GpuError> {
    let horizon = probs.rows;
    let out = g.output_ids("cem actions", horizon * n)?;
    g.dispatch(
        Kernel::CemSample,
        &[n as u32, horizon as u32, seed, stream],
        &[&probs.buffer, &out.buffer],
        groups_1d(horizon * n),
    );
    Ok(out)
}

pub fn cem_elites(
    g: &mut Gpu,
    cost: &GpuMat,
    actions: &GpuIds,
    horizon: usize,
    k: usize,
) -> Result<(GpuIds, GpuMat), GpuError> {
    let n = cost.rows;
    assert!(k <= n, "cem_elites: {k} elites of {n} candidates");
    let seqs = g.output_ids("elite actions", k * horizon)?;
    let costs = g.output("elite costs", k, 1)?;
    g.dispatch(
        Kernel::CemElites,
        &[n as u32, horizon as u32, k as u32],
        &[&cost.buffer, &actions.buffer, &seqs.buffer, &costs.buffer],
        groups_1d(n),
    );
    Ok((seqs, costs))
}

pub fn cem_refit(
    g: &mut Gpu,
    probs: &GpuMat,
    elites: &GpuIds,
    k: usize,
    smoothing: f32,
    min_prob: f32,
) -> Result<GpuMat, GpuError> {
    let out = g.output("probs", probs.rows, probs.cols)?;
    g.dispatch(
        Kernel::CemRefit,
        &[
            probs.rows as u32,
            k as u32,
            smoothing.to_bits(),
            min_prob.to_bits(),
        ],
        &[&probs.buffer, &elites.buffer, &out.buffer],
        [probs.rows.div_ceil(64) as u32, 1, 1],
    );
    Ok(out)
}
