//! The operations the model's forward pass is made of, implemented by the CPU path and the GPU
//! path alike. Every tensor is a row-major matrix `[rows, cols]`; a batch of token sequences
//! `[B, n, d]` is the matrix `[B * n, d]`.

/// Activation applied after a linear layer's bias (and its optional addend).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    None,
    /// Exact GELU, `x * Phi(x)`, with the error function of [`crate::cpu::erf`].
    Gelu,
    Sigmoid,
}

impl Act {
    /// The code the WGSL kernels switch on.
    pub fn code(self) -> u32 {
        match self {
            Act::None => 0,
            Act::Gelu => 1,
            Act::Sigmoid => 2,
        }
    }
}

/// Rows and columns of a matrix handle.
pub trait Shape {
    fn rows(&self) -> usize;
    fn cols(&self) -> usize;
}

/// An executor of the model's operations. Parameters are named as in `layout::tensors`
/// (`linear("blocks.0.q")` uses `blocks.0.q.weight` and `blocks.0.q.bias`).
pub trait Exec {
    /// A float matrix.
    type T: Clone + Shape;
    /// A vector of indices (actions, words, positions).
    type I: Clone;

    /// A matrix from row-major values.
    fn input(&mut self, values: &[f32], rows: usize, cols: usize) -> Self::T;
    /// An index vector.
    fn ids(&mut self, ids: &[u32]) -> Self::I;

    /// `act(x W + b + add)`: `x [M, K]`, `W [K, N]`, `add [M, N]` -> `[M, N]`.
    fn linear(&mut self, x: &Self::T, layer: &str, act: Act, add: Option<&Self::T>) -> Self::T;
    /// Layer norm of each row with the `gamma` and `beta` of `norm`.
    fn layer_norm(&mut self, x: &Self::T, norm: &str) -> Self::T;
    /// Multi-head scaled dot-product attention. `q, k, v: [B * n, d]` with heads side by side
    /// in the columns; `mask: [mb * n, n]` additive (0 or `MASKED`), `mb` 1 (shared) or `B`.
    fn attention(
        &mut self,
        q: &Self::T,
        k: &Self::T,
        v: &Self::T,
        batch: usize,
        heads: usize,
        mask: &Self::T,
    ) -> Self::T;
    /// Rows `ids` of the embedding table `table` -> `[ids, d]`.
    fn gather(&mut self, table: &str, ids: &Self::I) -> Self::T;
    /// `x [M, d] + y [m, d]` with `y` repeated down the rows (`m` divides `M`).
    fn add_rows(&mut self, x: &Self::T, y: &Self::T) -> Self::T;
    /// Concatenates token sequences along the token axis, batch by batch. Each part is
    /// `(matrix, shared)`: a shared part `[n_i, d]` is the same for every batch entry, an
    /// unshared one is `[batch * n_i, d]`. Returns `[batch * sum n_i, d]`.
    fn assemble(&mut self, batch: usize, parts: &[(&Self::T, bool)]) -> Self::T;
    /// Tokens `start..start + len` of each of `batch` sequences -> `[batch * len, d]`.
    fn select(&mut self, x: &Self::T, batch: usize, start: usize, len: usize) -> Self::T;
    /// Splits a Gaussian head's output `[M, 2L]` into `(base + first half, clamped second half)`
    /// = (mean, log-variance), each `[M, L]`.
    fn gaussian(&mut self, out: &Self::T, base: Option<&Self::T>) -> (Self::T, Self::T);
    /// Goal-cost features `[z, g, z * g]`: `z [N, Z]`, `g [G, Z]` repeated down the rows ->
    /// `[N, 3Z]`.
    fn goal_features(&mut self, z: &Self::T, g: &Self::T) -> Self::T;

    /// Draws latents `mean + temperature * exp(logvar / 2) * normal(seed, stream, i)` for
    /// element `i` ([`crate::rng::normal`]); temperature 0 returns the mean.
    fn sample(
        &mut self,
        mean: &Self::T,
        logvar: &Self::T,
        temperature: f32,
        seed: u32,
        stream: u32,
    ) -> Self::T;

    /// CEM: draws `n` action sequences from `probs [H, 9]`, returned step-major `[H * n]`;
    /// draw `(h, i)` uses `uniform(seed, stream, h * n + i)` and [`layout::cem::draw`].
    fn cem_sample(&mut self, probs: &Self::T, n: usize, seed: u32, stream: u32) -> Self::I;
    /// The actions of step `h` of step-major `actions [H * n]` -> `[n]`.
    fn cem_step(&mut self, actions: &Self::I, h: usize, n: usize) -> Self::I;
    /// The `k` cheapest of the `n` candidates (`cost [n, 1]`; NaN counts as +infinity, ties
    /// keep the lower index), cheapest first: their sequences `[k * H]` (candidate-major) and
    /// costs `[k, 1]`.
    fn cem_elites(
        &mut self,
        cost: &Self::T,
        actions: &Self::I,
        horizon: usize,
        k: usize,
    ) -> (Self::I, Self::T);
    /// Refits `probs [H, 9]` to elite sequences `[k * H]` ([`layout::cem::refit_step`]).
    fn cem_refit(
        &mut self,
        probs: &Self::T,
        elites: &Self::I,
        k: usize,
        smoothing: f32,
        min_prob: f32,
    ) -> Self::T;

    /// The planner's rollouts: from `z0 [1, Z]`, each of `n` candidates follows its actions
    /// (step-major `[horizon * n]`) through [`crate::graph::latent_step`], summing
    /// [`crate::graph::goal_cost`] toward `goal [1, Z]` -> `[n, 1]`. The default is
    /// [`layered_rollout_cost`]; the GPU overrides it with one fused kernel.
    fn rollout_cost(
        &mut self,
        z0: &Self::T,
        goal: &Self::T,
        actions: &Self::I,
        n: usize,
        horizon: usize,
    ) -> Self::T
    where
        Self: Sized,
    {
        layered_rollout_cost(self, z0, goal, actions, n, horizon)
    }
}

/// [`Exec::rollout_cost`] composed from the layer operations, a step at a time.
pub fn layered_rollout_cost<E: Exec>(
    e: &mut E,
    z0: &E::T,
    goal: &E::T,
    actions: &E::I,
    n: usize,
    horizon: usize,
) -> E::T {
    let mut state = e.assemble(n, &[(z0, true)]); // [N, Z]
    let mut cost: Option<E::T> = None;
    for h in 0..horizon {
        let ids = e.cem_step(actions, h, n);
        state = crate::graph::latent_step(e, &state, &ids);
        let step = crate::graph::goal_cost(e, &state, goal); // [N, 1]
        cost = Some(match cost {
            None => step,
            Some(total) => e.add_rows(&total, &step),
        });
    }
    cost.expect("horizon >= 1")
}
