//! The one source of truth for the model's shape: sizes, token layout and tensor names.
//!
//! Training, export, the CPU reference path and the WGSL runtime all read [`ModelConfig`]
//! (it travels inside the exported manifest), so a size is never restated elsewhere.

use serde::{Deserialize, Serialize};

/// Bumped whenever the architecture or the tensor layout changes: a weights file with another
/// version is refused instead of misread.
pub const MODEL_VERSION: u32 = 1;

/// Frames the model reads and writes are this many pixels square (RGB).
pub const FRAME: usize = world::render::FRAME_SIZE as usize;

/// Discrete actions (world::Action::to_discrete): stay plus 8 directions.
pub const ACTIONS: usize = 9;

/// Added to attention scores a token may not look at.
pub const MASKED: f32 = -1e9;
/// Bounds of the predicted log-variance of a patch latent.
pub const LOGVAR_MIN: f32 = -8.0;
pub const LOGVAR_MAX: f32 = 4.0;
/// Epsilon of every layer norm (burn's `LayerNormConfig` default).
pub const LAYER_NORM_EPS: f32 = 1e-5;

/// Token roles added to frame tokens (rows of the `slot` embedding).
pub const SLOT_PREV: usize = 0;
pub const SLOT_CUR: usize = 1;
pub const SLOT_QUERY: usize = 2;
/// Rows of the `special` embedding.
pub const SPECIAL_SUMMARY: usize = 0;
pub const SPECIAL_GOAL: usize = 1;

/// Every size of the model. Linear weights are stored `[in, out]` (y = x W + b), row-major.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Side of a square patch in pixels; a frame is a `grid x grid` grid of patches.
    pub patch: usize,
    /// Continuous latent per patch (the frame tokenizer's code size).
    pub patch_latent: usize,
    /// Hidden width of the tokenizer's per-patch encoder and decoder.
    pub tokenizer_hidden: usize,
    /// Transformer width, depth, heads and MLP width.
    pub d_model: usize,
    pub layers: usize,
    pub heads: usize,
    pub d_ff: usize,
    /// Compact state latent for planning and understanding (one vector per frame).
    pub state_latent: usize,
    /// Hidden width of the latent dynamics and goal-score MLPs (the planning path).
    pub plan_hidden: usize,
    /// Vocabulary size (world::language::vocab::vocab_size()) and longest text in tokens.
    pub vocab: usize,
    pub max_text: usize,
    /// Longest clip, in frames, the understanding heads read.
    pub max_clip: usize,
}

impl ModelConfig {
    pub fn grid(&self) -> usize {
        FRAME / self.patch
    }
    /// Patch tokens per frame.
    pub fn patches(&self) -> usize {
        self.grid() * self.grid()
    }
    /// Values in one flattened RGB patch.
    pub fn patch_dim(&self) -> usize {
        self.patch * self.patch * 3
    }
    /// Tokens of one frame-mode sequence: previous frame, current frame, action, summary.
    pub fn frame_tokens(&self) -> usize {
        2 * self.patches() + 2
    }

    /// The teacher trained on this machine's CPU (`--preset default`).
    pub fn teacher() -> ModelConfig {
        ModelConfig {
            patch: 8,
            patch_latent: 32,
            tokenizer_hidden: 256,
            d_model: 128,
            layers: 4,
            heads: 4,
            d_ff: 512,
            state_latent: 64,
            plan_hidden: 192,
            vocab: world::language::vocab::vocab_size(),
            max_text: 96,
            max_clip: 20,
        }
    }

    /// The browser student: at most a quarter of the teacher's parameters.
    pub fn student() -> ModelConfig {
        ModelConfig {
            d_model: 64,
            layers: 2,
            heads: 2,
            d_ff: 128,
            plan_hidden: 96,
            ..Self::teacher()
        }
    }

    /// A few-second model for tests and the `tiny` preset.
    pub fn tiny() -> ModelConfig {
        ModelConfig {
            tokenizer_hidden: 32,
            d_model: 32,
            layers: 1,
            heads: 2,
            d_ff: 64,
            state_latent: 16,
            plan_hidden: 32,
            ..Self::teacher()
        }
    }

    /// A GPU teacher (`--preset full`).
    pub fn full() -> ModelConfig {
        ModelConfig {
            d_model: 256,
            layers: 8,
            heads: 8,
            d_ff: 768,
            plan_hidden: 256,
            ..Self::teacher()
        }
    }

    /// Checks the sizes fit together; every loader calls this before building anything.
    pub fn validate(&self) -> Result<(), String> {
        if self.patch == 0 || FRAME % self.patch != 0 {
            return Err(format!(
                "patch {} does not divide the {FRAME}-pixel frame",
                self.patch
            ));
        }
        if self.heads == 0 || self.d_model % self.heads != 0 {
            return Err(format!(
                "d_model {} is not a multiple of heads {}",
                self.d_model, self.heads
            ));
        }
        if self.vocab != world::language::vocab::vocab_size() {
            return Err(format!(
                "vocabulary of {} words, but this build's language has {}",
                self.vocab,
                world::language::vocab::vocab_size()
            ));
        }
        for (name, v) in [
            ("patch_latent", self.patch_latent),
            ("tokenizer_hidden", self.tokenizer_hidden),
            ("layers", self.layers),
            ("d_ff", self.d_ff),
            ("state_latent", self.state_latent),
            ("plan_hidden", self.plan_hidden),
            ("max_text", self.max_text),
            ("max_clip", self.max_clip),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        Ok(())
    }

    /// Multiply-adds x 2 for one imagined transition on the planning path: latent dynamics
    /// (state_latent + ACTIONS -> plan_hidden -> plan_hidden -> state_latent) plus the goal
    /// score (3 x state_latent -> plan_hidden -> 1).
    pub fn flops_per_transition(&self) -> u64 {
        let (z, h) = (self.state_latent as u64, self.plan_hidden as u64);
        let dynamics = (z + ACTIONS as u64) * h + h * h + h * z;
        let score = 3 * z * h + h;
        2 * (dynamics + score)
    }

    /// FLOPs of one dreamed frame: a frame-mode pass of the transformer over
    /// `frame_tokens()` tokens, plus decoding the new frame's patches for display (dreamed
    /// latents feed the next step directly, so nothing is re-encoded).
    pub fn flops_per_dream_frame(&self) -> u64 {
        let n = self.frame_tokens() as u64;
        let (d, f) = (self.d_model as u64, self.d_ff as u64);
        // q, k, v, o projections, attention scores and weighted sum, the MLP.
        let per_layer = n * (4 * d * d + 2 * d * f) + 2 * n * n * d;
        let embed = 2 * self.patches() as u64 * self.patch_latent as u64 * d;
        let head = self.patches() as u64 * d * 2 * self.patch_latent as u64;
        let (p, t, l) = (
            self.patch_dim() as u64,
            self.tokenizer_hidden as u64,
            self.patch_latent as u64,
        );
        let tokenizer = 2 * self.patches() as u64 * (p * t + t * l);
        2 * (self.layers as u64 * per_layer + embed + head) + tokenizer
    }
}

/// Additive attention mask `[batch, n, n]` (0 or [`MASKED`]) from a rule
/// `allow(sequence, query, key)`.
pub fn attention_mask(
    batch: usize,
    n: usize,
    allow: impl Fn(usize, usize, usize) -> bool,
) -> Vec<f32> {
    let mut m = vec![0.0f32; batch * n * n];
    for b in 0..batch {
        for i in 0..n {
            for j in 0..n {
                if !allow(b, i, j) {
                    m[(b * n + i) * n + j] = MASKED;
                }
            }
        }
    }
    m
}

/// Frame mode `[1, n, n]`: every token sees every token, except that SUMMARY does not see the
/// action, so `z` describes the state, not the choice about to be made.
pub fn frame_mask(c: &ModelConfig) -> Vec<f32> {
    let n = c.frame_tokens();
    let (action, summary) = (n - 2, n - 1);
    attention_mask(1, n, |_, i, j| !(i == summary && j == action))
}

/// Clip mode `[1, t + s, t + s]`: `t` clip tokens see each other; `s` words see the clip and
/// earlier words.
pub fn clip_mask(t: usize, s: usize) -> Vec<f32> {
    attention_mask(1, t + s, |_, i, j| j < t || (i >= t && j <= i))
}

/// Goal mode `[B, s + 1, s + 1]`: every token sees the words of its own sentence (not the
/// padding after `lengths[b]`) and the GOAL token.
pub fn goal_mask(lengths: &[usize], s: usize) -> Vec<f32> {
    attention_mask(lengths.len(), s + 1, |b, _, j| j == s || j < lengths[b])
}

/// Prompt mode `[B, s + p, s + p]`: every token sees its sentence's words and the `p` patch
/// queries.
pub fn prompt_mask(lengths: &[usize], s: usize, p: usize) -> Vec<f32> {
    attention_mask(lengths.len(), s + p, |b, _, j| j >= s || j < lengths[b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        for c in [
            ModelConfig::tiny(),
            ModelConfig::student(),
            ModelConfig::teacher(),
            ModelConfig::full(),
        ] {
            c.validate().unwrap();
        }
    }

    #[test]
    fn planning_path_fits_the_browser_budget() {
        // 120k imagined transitions in 100 ms at 2 TFLOP/s is 1.67 MFLOP each; keep 1.5.
        for c in [ModelConfig::student(), ModelConfig::teacher()] {
            assert!(
                c.flops_per_transition() <= 1_500_000,
                "{}",
                c.flops_per_transition()
            );
        }
    }

    #[test]
    fn bad_sizes_are_named() {
        let c = ModelConfig {
            patch: 7,
            ..ModelConfig::tiny()
        };
        assert!(c.validate().unwrap_err().contains("patch 7"));
        let c = ModelConfig {
            heads: 3,
            ..ModelConfig::tiny()
        };
        assert!(c.validate().unwrap_err().contains("multiple of heads"));
    }
}
