//! The world model: a per-patch frame tokenizer and ONE transformer that reads and writes
//! frame patches, actions and words, with small heads for the compact planning path.
//!
//! Every mode below runs the same [`Block`]s; only the token sequence and the attention mask
//! differ:
//! - **frame**: `[prev patches | cur patches | action | SUMMARY]` -> the next frame's patch
//!   latents (a Gaussian per value) and the state latent `z` of the current frame;
//! - **clip**: `[z_1 + a_1, ..., z_T + a_T | text]` -> next-word logits (answers, captions);
//! - **goal**: `[text | GOAL]` -> a goal vector in the same space as `z`;
//! - **prompt**: `[text | 64 patch queries]` -> the first frame's patch latents.
//! The planning path (`latent_step`, `goal_cost`) is two MLPs over `z`, cheap enough to imagine
//! 120k transitions in a browser frame budget.

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, sigmoid, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::{self, ModelConfig, ACTIONS};

pub use crate::config::{
    LOGVAR_MAX, LOGVAR_MIN, MASKED, SLOT_CUR, SLOT_PREV, SLOT_QUERY, SPECIAL_GOAL, SPECIAL_SUMMARY,
};

/// Per-patch autoencoder: an 8x8 RGB patch (values 0..1) <-> `patch_latent` numbers.
#[derive(Module, Debug)]
pub struct Tokenizer {
    pub enc1: Linear,
    pub enc2: Linear,
    pub dec1: Linear,
    pub dec2: Linear,
}

impl Tokenizer {
    fn new(c: &ModelConfig, device: &Device) -> Tokenizer {
        let (p, h, l) = (c.patch_dim(), c.tokenizer_hidden, c.patch_latent);
        Tokenizer {
            enc1: LinearConfig::new(p, h).init(device),
            enc2: LinearConfig::new(h, l).init(device),
            dec1: LinearConfig::new(l, h).init(device),
            dec2: LinearConfig::new(h, p).init(device),
        }
    }

    /// `[..., patch_dim]` pixels in 0..1 -> `[..., patch_latent]`.
    pub fn encode<const D: usize>(&self, patches: Tensor<D>) -> Tensor<D> {
        self.enc2.forward(gelu(self.enc1.forward(patches)))
    }

    /// `[..., patch_latent]` -> `[..., patch_dim]` pixels in 0..1.
    pub fn decode<const D: usize>(&self, latents: Tensor<D>) -> Tensor<D> {
        sigmoid(self.dec2.forward(gelu(self.dec1.forward(latents))))
    }
}

/// A pre-norm transformer block with explicit q, k, v, o projections (so the WGSL runtime can
/// mirror it tensor for tensor).
#[derive(Module, Debug)]
pub struct Block {
    pub ln1: LayerNorm,
    pub q: Linear,
    pub k: Linear,
    pub v: Linear,
    pub o: Linear,
    pub ln2: LayerNorm,
    pub ff1: Linear,
    pub ff2: Linear,
}

impl Block {
    fn new(c: &ModelConfig, device: &Device) -> Block {
        let d = c.d_model;
        Block {
            ln1: LayerNormConfig::new(d).init(device),
            q: LinearConfig::new(d, d).init(device),
            k: LinearConfig::new(d, d).init(device),
            v: LinearConfig::new(d, d).init(device),
            o: LinearConfig::new(d, d).init(device),
            ln2: LayerNormConfig::new(d).init(device),
            ff1: LinearConfig::new(d, c.d_ff).init(device),
            ff2: LinearConfig::new(c.d_ff, d).init(device),
        }
    }

    /// `x: [B, n, d]`, `mask: [B or 1, n, n]` additive (0 or [`MASKED`]) -> `[B, n, d]`.
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<3>, heads: usize) -> Tensor<3> {
        let [b, n, d] = x.dims();
        let dh = d / heads;
        let h = self.ln1.forward(x.clone());
        // [B, n, d] -> [B, n, heads, dh] -> [B, heads, n, dh]
        let split = |t: Tensor<3>| t.reshape([b, n, heads, dh]).swap_dims(1, 2);
        let q = split(self.q.forward(h.clone()));
        let k = split(self.k.forward(h.clone()));
        let v = split(self.v.forward(h));
        // [B, heads, n, n]; the mask [B|1, n, n] -> [B|1, 1, n, n] broadcasts over heads.
        let scores =
            q.matmul(k.swap_dims(2, 3)).div_scalar((dh as f32).sqrt()) + mask.unsqueeze_dim::<4>(1);
        let attended = softmax(scores, 3).matmul(v);
        // [B, heads, n, dh] -> [B, n, heads, dh] -> [B, n, d]
        let attended = attended.swap_dims(1, 2).reshape([b, n, d]);
        let x = x + self.o.forward(attended);
        let h = self
            .ff2
            .forward(gelu(self.ff1.forward(self.ln2.forward(x.clone()))));
        x + h
    }
}

/// The whole model. Field names are the exported tensor names (see `export.rs`).
#[derive(Module, Debug)]
pub struct WorldModel {
    pub tokenizer: Tokenizer,
    /// Patch latent -> token.
    pub patch_in: Linear,
    /// Patch position within the frame (`patches` rows).
    pub patch_pos: Embedding,
    /// Frame role: previous, current, query (see SLOT_*).
    pub slot: Embedding,
    pub action: Embedding,
    /// SUMMARY and GOAL query tokens.
    pub special: Embedding,
    pub word: Embedding,
    pub word_pos: Embedding,
    /// State latent -> token, and its time position in a clip.
    pub z_in: Linear,
    pub clip_pos: Embedding,
    pub blocks: Vec<Block>,
    pub ln_f: LayerNorm,
    /// Token -> (mean delta, log-variance) of a patch latent.
    pub frame_head: Linear,
    /// SUMMARY / GOAL token -> state latent / goal vector.
    pub z_head: Linear,
    /// Token -> next word.
    pub word_head: Linear,
    /// Planning path: z' = z + dyn_out(gelu(dyn_hidden(gelu(dyn_z(z) + dyn_a[a])))).
    pub dyn_z: Linear,
    pub dyn_a: Embedding,
    pub dyn_hidden: Linear,
    pub dyn_out: Linear,
    /// Goal cost: cost_out(gelu(cost_in([z, g, z*g]))) ~ object-to-zone distance / arena.
    pub cost_in: Linear,
    pub cost_out: Linear,
}

/// An additive attention mask `[batch, n, n]` from `layout::config`'s rules, as a tensor.
fn mask_tensor(values: Vec<f32>, batch: usize, n: usize, device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(values, [batch, n, n]), device)
}

/// A float tensor of `shape` from row-major values.
pub fn floats<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// An integer tensor of `shape` from row-major values.
pub fn ints<const D: usize>(
    values: Vec<i64>,
    shape: [usize; D],
    device: &Device,
) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

impl WorldModel {
    pub fn new(c: &ModelConfig, device: &Device) -> WorldModel {
        let d = c.d_model;
        let z = c.state_latent;
        let h = c.plan_hidden;
        WorldModel {
            tokenizer: Tokenizer::new(c, device),
            patch_in: LinearConfig::new(c.patch_latent, d).init(device),
            patch_pos: EmbeddingConfig::new(c.patches(), d).init(device),
            slot: EmbeddingConfig::new(3, d).init(device),
            action: EmbeddingConfig::new(ACTIONS, d).init(device),
            special: EmbeddingConfig::new(2, d).init(device),
            word: EmbeddingConfig::new(c.vocab, d).init(device),
            word_pos: EmbeddingConfig::new(c.max_text, d).init(device),
            z_in: LinearConfig::new(z, d).init(device),
            clip_pos: EmbeddingConfig::new(c.max_clip, d).init(device),
            blocks: (0..c.layers).map(|_| Block::new(c, device)).collect(),
            ln_f: LayerNormConfig::new(d).init(device),
            frame_head: LinearConfig::new(d, 2 * c.patch_latent).init(device),
            z_head: LinearConfig::new(d, z).init(device),
            word_head: LinearConfig::new(d, c.vocab).init(device),
            dyn_z: LinearConfig::new(z, h).init(device),
            dyn_a: EmbeddingConfig::new(ACTIONS, h).init(device),
            dyn_hidden: LinearConfig::new(h, h).init(device),
            dyn_out: LinearConfig::new(h, z).init(device),
            cost_in: LinearConfig::new(3 * z, h).init(device),
            cost_out: LinearConfig::new(h, 1).init(device),
        }
    }

    fn device(&self) -> Device {
        self.patch_in.weight.val().device()
    }

    fn transformer(&self, c: &ModelConfig, x: Tensor<3>, mask: Tensor<3>) -> Tensor<3> {
        let x = self
            .blocks
            .iter()
            .fold(x, |x, block| block.forward(x, mask.clone(), c.heads));
        self.ln_f.forward(x)
    }

    /// Embedding rows `[n]` of `table` for fixed indices, as `[1, n, d]`.
    fn rows(table: &Embedding, indices: Vec<i64>, device: &Device) -> Tensor<3> {
        let n = indices.len();
        table.forward(ints(indices, [1, n], device))
    }

    /// Patch tokens of a frame: `[B, P, L]` latents -> `[B, P, d]` with position and role.
    fn frame_tokens(&self, c: &ModelConfig, latents: Tensor<3>, slot: usize) -> Tensor<3> {
        let device = latents.device();
        let p = c.patches();
        let pos = Self::rows(&self.patch_pos, (0..p as i64).collect(), &device); // [1, P, d]
        let role = Self::rows(&self.slot, vec![slot as i64], &device); // [1, 1, d]
        self.patch_in.forward(latents) + pos + role
    }

    /// Words `[B, S]` -> `[B, S, d]` with positions.
    fn word_tokens(&self, c: &ModelConfig, words: Tensor<2, Int>) -> Tensor<3> {
        let [_, s] = words.dims();
        assert!(
            s <= c.max_text,
            "text of {s} tokens is longer than max_text {}",
            c.max_text
        );
        let device = words.device();
        self.word.forward(words) + Self::rows(&self.word_pos, (0..s as i64).collect(), &device)
    }

    /// The attention rule of frame mode: everything sees everything, except that SUMMARY
    /// does not see the action, so `z` describes the state, not the choice about to be made.
    pub fn frame_mask(c: &ModelConfig, device: &Device) -> Tensor<3> {
        mask_tensor(config::frame_mask(c), 1, c.frame_tokens(), device)
    }

    /// Frame mode. `prev`, `cur`: `[B, P, L]` patch latents of frames t-1 and t; `actions`:
    /// `[B]` discrete action taken at t. Returns the next frame's `(mean, logvar)`, each
    /// `[B, P, L]`, and `z_t`: `[B, Z]`.
    pub fn frame_step(
        &self,
        c: &ModelConfig,
        prev: Tensor<3>,
        cur: Tensor<3>,
        actions: Tensor<1, Int>,
        mask: Tensor<3>,
    ) -> (Tensor<3>, Tensor<3>, Tensor<2>) {
        let [b, p, l] = cur.dims();
        let device = cur.device();
        let act = self.action.forward(actions.reshape([b, 1])); // [B, 1, d]
        let summary = Self::rows(&self.special, vec![SPECIAL_SUMMARY as i64], &device)
            .expand([b, 1, c.d_model]); // [B, 1, d]
        let x = Tensor::cat(
            vec![
                self.frame_tokens(c, prev, SLOT_PREV),
                self.frame_tokens(c, cur.clone(), SLOT_CUR),
                act,
                summary,
            ],
            1,
        ); // [B, 2P + 2, d]
        let y = self.transformer(c, x, mask);
        let out = self.frame_head.forward(y.clone().narrow(1, p, p)); // [B, P, 2L]
        let mean = cur + out.clone().narrow(2, 0, l);
        let logvar = out.narrow(2, l, l).clamp(LOGVAR_MIN, LOGVAR_MAX);
        let z = self
            .z_head
            .forward(y.narrow(1, 2 * p + 1, 1))
            .reshape([b, c.state_latent]); // [B, 1, Z] -> [B, Z]
        (mean, logvar, z)
    }

    /// Clip mode. `z`: `[B, T, Z]` state latents, `actions`: `[B, T]`, `words`: `[B, S]`
    /// (BOS, question, ANS, answer, EOS, PAD...). Returns next-word logits `[B, S, V]`.
    /// Clip tokens see each other, words see the clip and earlier words.
    pub fn clip_words(
        &self,
        c: &ModelConfig,
        z: Tensor<3>,
        actions: Tensor<2, Int>,
        words: Tensor<2, Int>,
    ) -> Tensor<3> {
        let [_, t, _] = z.dims();
        let [_, s] = words.dims();
        assert!(
            t <= c.max_clip,
            "clip of {t} frames is longer than max_clip {}",
            c.max_clip
        );
        let device = z.device();
        let clip = self.z_in.forward(z)
            + self.action.forward(actions)
            + Self::rows(&self.clip_pos, (0..t as i64).collect(), &device); // [B, T, d]
        let x = Tensor::cat(vec![clip, self.word_tokens(c, words)], 1); // [B, T + S, d]
        let mask = mask_tensor(config::clip_mask(t, s), 1, t + s, &device);
        let y = self.transformer(c, x, mask).narrow(1, t, s); // [B, S, d]
        self.word_head.forward(y)
    }

    /// Goal mode: a sentence `[B, S]` (PAD after its end) -> goal vector `[B, Z]`.
    pub fn goal(&self, c: &ModelConfig, words: Tensor<2, Int>, lengths: &[usize]) -> Tensor<2> {
        let [b, s] = words.dims();
        let device = words.device();
        let goal =
            Self::rows(&self.special, vec![SPECIAL_GOAL as i64], &device).expand([b, 1, c.d_model]);
        let x = Tensor::cat(vec![self.word_tokens(c, words), goal], 1); // [B, S + 1, d]
        let mask = mask_tensor(config::goal_mask(lengths, s), b, s + 1, &device);
        let y = self.transformer(c, x, mask).narrow(1, s, 1); // [B, 1, d]
        self.z_head.forward(y).reshape([b, c.state_latent])
    }

    /// Prompt mode: a scene sentence `[B, S]` -> the first frame's `(mean, logvar)` `[B, P, L]`.
    pub fn prompt_frame(
        &self,
        c: &ModelConfig,
        words: Tensor<2, Int>,
        lengths: &[usize],
    ) -> (Tensor<3>, Tensor<3>) {
        let [b, s] = words.dims();
        let (p, l) = (c.patches(), c.patch_latent);
        let device = words.device();
        let queries = Self::rows(&self.patch_pos, (0..p as i64).collect(), &device)
            + Self::rows(&self.slot, vec![SLOT_QUERY as i64], &device); // [1, P, d]
        let x = Tensor::cat(
            vec![
                self.word_tokens(c, words),
                queries.expand([b, p, c.d_model]),
            ],
            1,
        ); // [B, S + P, d]
        let mask = mask_tensor(config::prompt_mask(lengths, s, p), b, s + p, &device);
        let out = self
            .frame_head
            .forward(self.transformer(c, x, mask).narrow(1, s, p)); // [B, P, 2L]
        (
            out.clone().narrow(2, 0, l),
            out.narrow(2, l, l).clamp(LOGVAR_MIN, LOGVAR_MAX),
        )
    }

    /// Planning path, one imagined step: `z: [N, Z]`, `actions: [N]` -> `[N, Z]`.
    pub fn latent_step(&self, z: Tensor<2>, actions: Tensor<1, Int>) -> Tensor<2> {
        let [n] = actions.dims();
        let a = self
            .dyn_a
            .forward(actions.reshape([n, 1]))
            .reshape([n, self.dyn_z.weight.val().dims()[1]]); // [N, 1, H] -> [N, H]
        let h = gelu(self.dyn_z.forward(z.clone()) + a);
        z + self.dyn_out.forward(gelu(self.dyn_hidden.forward(h)))
    }

    /// Planning path, goal cost: `z, g: [N, Z]` -> `[N]`, the predicted object-to-zone
    /// distance in arena widths (lower is closer to done).
    pub fn goal_cost(&self, z: Tensor<2>, g: Tensor<2>) -> Tensor<1> {
        let [n, _] = z.dims();
        let x = Tensor::cat(vec![z.clone(), g.clone(), z * g], 1); // [N, 3Z]
        self.cost_out
            .forward(gelu(self.cost_in.forward(x)))
            .reshape([n])
    }

    pub fn param_count(&self) -> usize {
        self.num_params()
    }

    /// The device the parameters live on.
    pub fn on_device(&self) -> Device {
        self.device()
    }
}

/// Gaussian negative log-likelihood per value (constant dropped), averaged.
pub fn gaussian_nll(mean: Tensor<3>, logvar: Tensor<3>, target: Tensor<3>) -> Tensor<1> {
    let err = (target - mean).powi_scalar(2);
    ((logvar.clone() + err * logvar.neg().exp()) * 0.5).mean()
}
