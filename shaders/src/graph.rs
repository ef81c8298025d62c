//! The student's forward pass, once, over any [`Exec`]. It mirrors `model::net` mode for mode
//! (a test runs both on the same weights); shapes are in the comments, `B` the batch, `P` the
//! patches of a frame, `L` a patch latent, `d` the model width, `Z` the state latent.

use layout::config::{ModelConfig, SLOT_CUR, SLOT_PREV, SLOT_QUERY, SPECIAL_GOAL, SPECIAL_SUMMARY};

use crate::exec::{Act, Exec, Shape};

fn range(n: usize) -> Vec<u32> {
    (0..n as u32).collect()
}

/// The shared blocks and the final norm over `x [B * n, d]`.
fn transformer<E: Exec>(e: &mut E, c: &ModelConfig, x: E::T, batch: usize, mask: &E::T) -> E::T {
    let mut x = x;
    for i in 0..c.layers {
        let b = format!("blocks.{i}");
        let h = e.layer_norm(&x, &format!("{b}.ln1"));
        let q = e.linear(&h, &format!("{b}.q"), Act::None, None);
        let k = e.linear(&h, &format!("{b}.k"), Act::None, None);
        let v = e.linear(&h, &format!("{b}.v"), Act::None, None);
        let a = e.attention(&q, &k, &v, batch, c.heads, mask);
        x = e.linear(&a, &format!("{b}.o"), Act::None, Some(&x));
        let h = e.layer_norm(&x, &format!("{b}.ln2"));
        let f = e.linear(&h, &format!("{b}.ff1"), Act::Gelu, None);
        x = e.linear(&f, &format!("{b}.ff2"), Act::None, Some(&x));
    }
    e.layer_norm(&x, "ln_f")
}

/// Position plus role of each patch token: `[P, d]`.
fn patch_roles<E: Exec>(e: &mut E, c: &ModelConfig, slot: usize) -> E::T {
    let pos_ids = e.ids(&range(c.patches()));
    let pos = e.gather("patch_pos", &pos_ids);
    let slot_ids = e.ids(&[slot as u32]);
    let role = e.gather("slot", &slot_ids);
    e.add_rows(&pos, &role)
}

/// Words `[B * S]` -> tokens `[B * S, d]` with positions.
fn word_tokens<E: Exec>(e: &mut E, c: &ModelConfig, words: &E::I, s: usize) -> E::T {
    assert!(
        s <= c.max_text,
        "text of {s} tokens is longer than max_text {}",
        c.max_text
    );
    let w = e.gather("word", words);
    let pos_ids = e.ids(&range(s));
    let pos = e.gather("word_pos", &pos_ids);
    e.add_rows(&w, &pos)
}

pub use layout::config::frame_mask;

/// Frame mode: `prev, cur: [B * P, L]` latents of frames t-1 and t, `actions: [B]`, `mask`
/// from [`frame_mask`] -> next frame `(mean, logvar)` `[B * P, L]` and `z_t` `[B, Z]`.
pub fn frame_step<E: Exec>(
    e: &mut E,
    c: &ModelConfig,
    prev: &E::T,
    cur: &E::T,
    actions: &E::I,
    mask: &E::T,
) -> (E::T, E::T, E::T) {
    let p = c.patches();
    let batch = cur.rows() / p;
    let roles_prev = patch_roles(e, c, SLOT_PREV);
    let roles_cur = patch_roles(e, c, SLOT_CUR);
    let prev_t = e.linear(prev, "patch_in", Act::None, None);
    let prev_t = e.add_rows(&prev_t, &roles_prev); // [B * P, d]
    let cur_t = e.linear(cur, "patch_in", Act::None, None);
    let cur_t = e.add_rows(&cur_t, &roles_cur); // [B * P, d]
    let act = e.gather("action", actions); // [B, d]
    let summary_id = e.ids(&[SPECIAL_SUMMARY as u32]);
    let summary = e.gather("special", &summary_id); // [1, d], shared
    let x = e.assemble(
        batch,
        &[
            (&prev_t, false),
            (&cur_t, false),
            (&act, false),
            (&summary, true),
        ],
    );
    let y = transformer(e, c, x, batch, mask); // [B * (2P + 2), d]
    let patches = e.select(&y, batch, p, p); // [B * P, d]
    let out = e.linear(&patches, "frame_head", Act::None, None); // [B * P, 2L]
    let (mean, logvar) = e.gaussian(&out, Some(cur));
    let s = e.select(&y, batch, 2 * p + 1, 1); // [B, d]
    let z = e.linear(&s, "z_head", Act::None, None); // [B, Z]
    (mean, logvar, z)
}

/// Clip mode: `z: [B * T, Z]`, `actions: [B * T]`, `words: [B * S]` -> next-word logits
/// `[B * S, V]`. Clip tokens see each other; words see the clip and earlier words.
pub fn clip_words<E: Exec>(
    e: &mut E,
    c: &ModelConfig,
    z: &E::T,
    actions: &E::I,
    words: &E::I,
    batch: usize,
    s: usize,
) -> E::T {
    let t = z.rows() / batch;
    assert!(
        t <= c.max_clip,
        "clip of {t} frames is longer than max_clip {}",
        c.max_clip
    );
    let a = e.gather("action", actions);
    let clip = e.linear(z, "z_in", Act::None, Some(&a));
    let pos_ids = e.ids(&range(t));
    let pos = e.gather("clip_pos", &pos_ids);
    let clip = e.add_rows(&clip, &pos); // [B * T, d]
    let w = word_tokens(e, c, words, s); // [B * S, d]
    let x = e.assemble(batch, &[(&clip, false), (&w, false)]);
    let m = e.input(&layout::config::clip_mask(t, s), t + s, t + s);
    let y = transformer(e, c, x, batch, &m);
    let y = e.select(&y, batch, t, s);
    e.linear(&y, "word_head", Act::None, None)
}

/// Goal mode: sentences `[B * S]` (PAD after each one's `lengths[b]` words) -> `[B, Z]`.
pub fn goal<E: Exec>(
    e: &mut E,
    c: &ModelConfig,
    words: &E::I,
    lengths: &[usize],
    s: usize,
) -> E::T {
    let batch = lengths.len();
    let w = word_tokens(e, c, words, s);
    let goal_id = e.ids(&[SPECIAL_GOAL as u32]);
    let g = e.gather("special", &goal_id);
    let x = e.assemble(batch, &[(&w, false), (&g, true)]); // [B * (S + 1), d]
    let m = e.input(
        &layout::config::goal_mask(lengths, s),
        batch * (s + 1),
        s + 1,
    );
    let y = transformer(e, c, x, batch, &m);
    let y = e.select(&y, batch, s, 1);
    e.linear(&y, "z_head", Act::None, None)
}

/// Prompt mode: scene sentences `[B * S]` -> the first frame's `(mean, logvar)` `[B * P, L]`.
pub fn prompt_frame<E: Exec>(
    e: &mut E,
    c: &ModelConfig,
    words: &E::I,
    lengths: &[usize],
    s: usize,
) -> (E::T, E::T) {
    let (batch, p) = (lengths.len(), c.patches());
    let w = word_tokens(e, c, words, s);
    let queries = patch_roles(e, c, SLOT_QUERY); // [P, d], shared
    let x = e.assemble(batch, &[(&w, false), (&queries, true)]);
    let m = e.input(
        &layout::config::prompt_mask(lengths, s, p),
        batch * (s + p),
        s + p,
    );
    let y = transformer(e, c, x, batch, &m);
    let y = e.select(&y, batch, s, p);
    let out = e.linear(&y, "frame_head", Act::None, None);
    e.gaussian(&out, None)
}

/// Planning path, one imagined step: `z [N, Z]`, `actions [N]` -> `[N, Z]`.
pub fn latent_step<E: Exec>(e: &mut E, z: &E::T, actions: &E::I) -> E::T {
    let a = e.gather("dyn_a", actions); // [N, H]
    let h = e.linear(z, "dyn_z", Act::Gelu, Some(&a));
    let h = e.linear(&h, "dyn_hidden", Act::Gelu, None);
    e.linear(&h, "dyn_out", Act::None, Some(z))
}

/// Planning path, goal cost: `z [N, Z]`, `g [G, Z]` (repeated) -> `[N, 1]`.
pub fn goal_cost<E: Exec>(e: &mut E, z: &E::T, g: &E::T) -> E::T {
    let x = e.goal_features(z, g);
    let h = e.linear(&x, "cost_in", Act::Gelu, None);
    e.linear(&h, "cost_out", Act::None, None)
}

/// Tokenizer: pixels `[N * P, patch_dim]` in 0..1 -> latents `[N * P, L]`.
pub fn encode<E: Exec>(e: &mut E, patches: &E::T) -> E::T {
    let h = e.linear(patches, "tokenizer.enc1", Act::Gelu, None);
    e.linear(&h, "tokenizer.enc2", Act::None, None)
}

/// Tokenizer: latents `[N * P, L]` -> pixels `[N * P, patch_dim]` in 0..1.
pub fn decode<E: Exec>(e: &mut E, latents: &E::T) -> E::T {
    let h = e.linear(latents, "tokenizer.dec1", Act::Gelu, None);
    e.linear(&h, "tokenizer.dec2", Act::Sigmoid, None)
}
