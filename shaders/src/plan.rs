//! Planning in the model's latent space with the cross-entropy method, every rollout of an
//! iteration in one batched pass: sample `population` action sequences on the device, roll the
//! latent dynamics `horizon` steps for all of them at once, sum the goal cost, pick the elites
//! and refit the distribution, all without reading anything back. After the last iteration
//! only each iteration's elites (sequences and costs) come back: `iterations x elites x
//! horizon` indices, what the page draws.
//!
//! The search distribution and its refit are `layout::cem`'s, shared with the evaluation
//! planner in `model`; random draws are [`crate::rng`]'s, so the CPU and GPU paths plan the same
//! sequences for the same seed (up to costs that tie within float rounding).

use layout::cem::{initial, shift_plan, CemConfig, K};
use layout::config::ModelConfig;

use crate::exec::{Exec, Shape};

/// Handles of one planning run, before read-back: per iteration, the elites' sequences
/// `[elites * horizon]` and costs `[elites, 1]`.
pub struct Recorded<E: Exec> {
    pub elites: Vec<(E::I, E::T)>,
}

/// Records a whole CEM run from state latent `z [1, Z]` toward goal vector `goal [1, Z]`.
/// `warm` (the previous plan) shifts by one step and tilts the first distribution toward it.
pub fn record<E: Exec>(
    e: &mut E,
    c: &ModelConfig,
    z: &E::T,
    goal: &E::T,
    cfg: &CemConfig,
    warm: &[u8],
    seed: u32,
) -> Recorded<E> {
    assert_eq!(
        (z.rows(), z.cols()),
        (1, c.state_latent),
        "plan: z must be [1, {}]",
        c.state_latent
    );
    let (n, horizon) = (cfg.population, cfg.horizon);
    record_with(e, cfg, warm, seed, |e, actions| e.rollout_cost(z, goal, actions, n, horizon))
}

/// Records a whole CEM run whose candidates `cost_of` scores (step-major actions
/// `[horizon * population]` -> costs `[population, 1]`): the latent planner's, and the state
/// planner's on the GPU ([`crate::state_gpu`]).
pub fn record_with<E: Exec>(
    e: &mut E,
    cfg: &CemConfig,
    warm: &[u8],
    seed: u32,
    mut cost_of: impl FnMut(&mut E, &E::I) -> E::T,
) -> Recorded<E> {
    if let Err(err) = cfg.validate() {
        panic!("plan: {err}");
    }
    let n = cfg.population;
    let dist: Vec<f32> = initial(cfg, &shift_plan(warm, cfg.horizon))
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    let mut probs = e.input(&dist, cfg.horizon, K);
    let mut elites = Vec::with_capacity(cfg.iterations);
    for it in 0..cfg.iterations {
        let actions = e.cem_sample(&probs, n, seed, it as u32);
        let cost = cost_of(e, &actions); // [N, 1]
        let (seqs, costs) = e.cem_elites(&cost, &actions, cfg.horizon, cfg.elites);
        probs = e.cem_refit(&probs, &seqs, cfg.elites, cfg.smoothing, cfg.min_prob);
        elites.push((seqs, costs));
    }
    Recorded { elites }
}

/// One iteration's elites, cheapest first.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Elites {
    pub actions: Vec<Vec<u8>>,
    pub costs: Vec<f32>,
}

/// A finished plan.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlanResult {
    /// The cheapest sequence seen in any iteration.
    pub actions: Vec<u8>,
    pub cost: f32,
    /// Every iteration's elites.
    pub iterations: Vec<Elites>,
    /// Sequences evaluated (population x iterations).
    pub evaluated: usize,
}

/// Assembles read-back elites (`(sequences, costs)` per iteration) into a [`PlanResult`].
pub fn finish(cfg: &CemConfig, read: Vec<(Vec<u32>, Vec<f32>)>) -> PlanResult {
    let iterations: Vec<Elites> = read
        .into_iter()
        .map(|(seqs, costs)| Elites {
            actions: seqs
                .chunks(cfg.horizon)
                .map(|s| s.iter().map(|&a| a as u8).collect())
                .collect(),
            costs,
        })
        .collect();
    let (mut actions, mut cost) = (Vec::new(), f32::INFINITY);
    for it in &iterations {
        if actions.is_empty() || it.costs[0] < cost {
            actions = it.actions[0].clone();
            cost = it.costs[0];
        }
    }
    PlanResult {
        actions,
        cost,
        evaluated: cfg.population * iterations.len(),
        iterations,
    }
}
