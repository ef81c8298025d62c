//! The cross-entropy method's search distribution, shared by the planners: the model's
//! evaluation planner (`model::planner`, any scorer) and the browser runtime's (`runtime::plan`,
//! rollouts batched on the GPU). One independent categorical distribution over the nine actions
//! per time step; each iteration refits it to the elites' action frequencies with smoothing and
//! a floor.

use serde::{Deserialize, Serialize};
use world::action::DISCRETE_ACTIONS;

/// Number of discrete actions the planner chooses among.
pub const K: usize = DISCRETE_ACTIONS;

/// Share of probability a warm start puts on its own action at each step before the
/// [`CemConfig::min_prob`] floor; the rest is spread uniformly, so the search can still
/// leave the previous plan.
pub const WARM_START_WEIGHT: f32 = 0.5;

/// Settings of [`cem_plan`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CemConfig {
    /// Candidate sequences sampled (and scored) per iteration.
    pub population: usize,
    /// Lowest-cost candidates of an iteration that the distribution is refitted to.
    pub elites: usize,
    /// Sample-score-refit rounds.
    pub iterations: usize,
    /// Actions per candidate sequence.
    pub horizon: usize,
    /// Share of the old distribution kept at each refit, in [0, 1): `p <- smoothing * p +
    /// (1 - smoothing) * elite frequency`. 0 jumps straight to the elites' frequencies.
    pub smoothing: f32,
    /// Floor on every action's probability at every step, in [0, 1/9], so no action is ever
    /// ruled out for good. Applied after each refit: probabilities below it are raised to it
    /// and the others lowered in proportion to their excess over it, keeping the sum at 1.
    pub min_prob: f32,
}

impl Default for CemConfig {
    /// 256 candidates, 24 elites, 4 iterations (1024 sequences scored per plan), 12 steps
    /// (1.2 s of simulation at 10 frames per second), smoothing 0.5, floor 0.01.
    fn default() -> Self {
        CemConfig {
            population: 256,
            elites: 24,
            iterations: 4,
            horizon: 12,
            smoothing: 0.5,
            min_prob: 0.01,
        }
    }
}

impl CemConfig {
    /// Checks every setting; the error says which one is wrong and what it must be.
    pub fn validate(&self) -> Result<(), String> {
        if self.population == 0 {
            return Err("CEM population must be at least 1 candidate per iteration (got 0)".into());
        }
        if self.elites == 0 || self.elites > self.population {
            return Err(format!(
                "CEM elites must be between 1 and the population ({}), got {}",
                self.population, self.elites
            ));
        }
        if self.iterations == 0 {
            return Err("CEM iterations must be at least 1 (got 0)".into());
        }
        if self.horizon == 0 {
            return Err("CEM horizon must be at least 1 action (got 0)".into());
        }
        if !(self.smoothing.is_finite() && (0.0..1.0).contains(&self.smoothing)) {
            return Err(format!(
                "CEM smoothing must be in [0, 1): the share of the old distribution kept at each refit (got {})",
                self.smoothing
            ));
        }
        let most = 1.0 / K as f32;
        if !(self.min_prob.is_finite() && self.min_prob >= 0.0 && self.min_prob <= most) {
            return Err(format!(
                "CEM min_prob must be in [0, 1/{K} = {most:.4}]: the floor on each action's probability (got {})",
                self.min_prob
            ));
        }
        Ok(())
    }
}

/// A previous plan moved one step on, for the next decision: `prev[1..]`, then its last action
/// repeated until the sequence is `horizon` long (or cut to `horizon`). Empty when `prev` is.
pub fn shift_plan(prev: &[u8], horizon: usize) -> Vec<u8> {
    let Some(&last) = prev.last() else {
        return Vec::new();
    };
    (0..horizon)
        .map(|t| prev.get(t + 1).copied().unwrap_or(last))
        .collect()
}

/// Per-step categorical distributions over the actions.
pub type Dist = Vec<[f32; K]>;

/// Lifts every probability to at least `min_prob` and takes what that adds from the others in
/// proportion to how far they stand above the floor, so the sum stays 1 and a distribution
/// that already respects the floor is left as it is.
pub fn apply_floor(p: &mut [f32; K], min_prob: f32) {
    let above: f32 = p.iter().map(|&v| v.max(min_prob) - min_prob).sum();
    let room = 1.0 - K as f32 * min_prob;
    for v in p.iter_mut() {
        *v = if above > 0.0 {
            min_prob + (v.max(min_prob) - min_prob) * room / above
        } else {
            1.0 / K as f32
        };
    }
}

/// The starting distribution: uniform, or leaning toward a warm start at each step (actions
/// past 8 in the warm start are ignored: that step stays uniform).
pub fn initial(cfg: &CemConfig, warm: &[u8]) -> Dist {
    (0..cfg.horizon)
        .map(|t| {
            let mut p = [1.0 / K as f32; K];
            if let Some(&a) = warm.get(t).filter(|&&a| (a as usize) < K) {
                for v in p.iter_mut() {
                    *v *= 1.0 - WARM_START_WEIGHT;
                }
                p[a as usize] += WARM_START_WEIGHT;
                apply_floor(&mut p, cfg.min_prob);
            }
            p
        })
        .collect()
}

/// The action a uniform draw `u` in [0, 1) picks from `p` (the last action with any
/// probability when rounding leaves the draw past the end). The GPU kernel does the same sums
/// in the same order.
pub fn draw(p: &[f32; K], u: f32) -> u8 {
    let mut acc = 0.0;
    for (a, &v) in p.iter().enumerate() {
        acc += v;
        if u < acc {
            return a as u8;
        }
    }
    p.iter().rposition(|&v| v > 0.0).unwrap_or(0) as u8
}

/// Refits one step's distribution to the elites' action counts at that step:
/// `p <- smoothing p + (1 - smoothing) count / elites`, then the floor.
pub fn refit_step(p: &mut [f32; K], counts: &[u32; K], elites: usize, cfg: &CemConfig) {
    let share = 1.0 / elites as f32;
    for (v, &c) in p.iter_mut().zip(counts) {
        *v = cfg.smoothing * *v + (1.0 - cfg.smoothing) * (c as f32 * share);
    }
    apply_floor(p, cfg.min_prob);
}
