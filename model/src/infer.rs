//! Using a trained model: dreaming frames, answering, captioning, making a first frame from a
//! sentence and planning in latent space. The reference CPU path for the browser runtime.

use burn::tensor::{Device, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::config::ModelConfig;
use crate::data::{self, clip_indices, pad};
use crate::net::{floats, ints, WorldModel};
use crate::planner::{cem_plan, CemConfig, Plan};

pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("f32 tensor")
}

/// Draws patch latents: `mean + temperature * sigma * noise`. Temperature 0 is the mean.
pub fn sample(mean: &[f32], logvar: &[f32], temperature: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    if temperature <= 0.0 {
        return mean.to_vec();
    }
    mean.iter()
        .zip(logvar)
        .map(|(m, lv)| {
            // Box-Muller from two uniforms: no extra dependency, same stream on every platform.
            let (u1, u2): (f32, f32) = (rng.random::<f32>().max(1e-7), rng.random());
            let n = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
            m + temperature * (0.5 * lv).exp() * n
        })
        .collect()
}

/// RGB frames -> patch latents `[N, P, L]` (flattened).
pub fn encode_frames(
    model: &WorldModel,
    c: &ModelConfig,
    frames: &[&[u8]],
    device: &Device,
) -> Vec<f32> {
    let mut patches = Vec::with_capacity(frames.len() * c.patches() * c.patch_dim());
    for f in frames {
        data::patchify(f, c.patch, &mut patches);
    }
    let x = floats(patches, [frames.len() * c.patches(), c.patch_dim()], device);
    to_vec(model.tokenizer.encode(x))
}

/// Patch latents `[N, P, L]` -> RGB frames.
pub fn decode_frames(
    model: &WorldModel,
    c: &ModelConfig,
    latents: &[f32],
    device: &Device,
) -> Vec<Vec<u8>> {
    let n = latents.len() / (c.patches() * c.patch_latent);
    let z = floats(latents.to_vec(), [n * c.patches(), c.patch_latent], device);
    let pixels = to_vec(model.tokenizer.decode(z));
    pixels
        .chunks(c.patches() * c.patch_dim())
        .map(|p| data::unpatchify(p, c.patch))
        .collect()
}

/// One frame-mode pass for N sequences: returns (mean, logvar) of the next latents and z.
pub fn step(
    model: &WorldModel,
    c: &ModelConfig,
    prev: &[f32],
    cur: &[f32],
    actions: &[u8],
    device: &Device,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let n = actions.len();
    let shape = [n, c.patches(), c.patch_latent];
    let acts = ints(actions.iter().map(|&a| a as i64).collect(), [n], device);
    let (mean, logvar, z) = model.frame_step(
        c,
        floats(prev.to_vec(), shape, device),
        floats(cur.to_vec(), shape, device),
        acts,
        WorldModel::frame_mask(c, device),
    );
    (to_vec(mean), to_vec(logvar), to_vec(z))
}

/// Open-loop dream of `actions.len()` frames for N rollouts at once from latents of two
/// context frames each; returns the latents of every imagined frame, `[steps][N * P * L]`.
pub fn dream(
    model: &WorldModel,
    c: &ModelConfig,
    prev: Vec<f32>,
    cur: Vec<f32>,
    actions: &[Vec<u8>],
    temperature: f32,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Vec<Vec<f32>> {
    let (mut prev, mut cur) = (prev, cur);
    let mut out = Vec::with_capacity(actions.len());
    for a in actions {
        let (mean, logvar, _) = step(model, c, &prev, &cur, a, device);
        let next = sample(&mean, &logvar, temperature, rng);
        prev = std::mem::replace(&mut cur, next.clone());
        out.push(next);
    }
    out
}

/// State latents `[frames, Z]` of a clip given its frame latents `[frames, P, L]`.
pub fn clip_states(
    model: &WorldModel,
    c: &ModelConfig,
    latents: &[f32],
    actions: &[u8],
    device: &Device,
) -> Vec<f32> {
    let per = c.patches() * c.patch_latent;
    let frames = latents.len() / per;
    let prev: Vec<f32> = (0..frames)
        .flat_map(|t| latents[t.saturating_sub(1) * per..(t.saturating_sub(1) + 1) * per].to_vec())
        .collect();
    let acts: Vec<u8> = (0..frames).map(|t| *actions.get(t).unwrap_or(&0)).collect();
    step(model, c, &prev, latents, &acts, device).2
}

/// Greedy continuation of word prefixes given each one's clip (`z` rows `[max_clip, Z]` and
/// actions). Stops at EOS or after `max_new` words; returns only the new words.
pub fn continue_text(
    model: &WorldModel,
    c: &ModelConfig,
    clips: &[(Vec<f32>, Vec<u8>)],
    prefixes: &[Vec<u16>],
    max_new: usize,
    device: &Device,
) -> Vec<Vec<u16>> {
    let n = prefixes.len();
    let mut seqs: Vec<Vec<u16>> = prefixes.to_vec();
    let mut done = vec![false; n];
    let z: Vec<f32> = clips.iter().flat_map(|(z, _)| z.clone()).collect();
    let acts: Vec<i64> = clips
        .iter()
        .flat_map(|(_, a)| a.iter().map(|&x| x as i64))
        .collect();
    let zt = floats(z, [n, c.max_clip, c.state_latent], device);
    let at = ints(acts, [n, c.max_clip], device);
    for _ in 0..max_new {
        if done.iter().all(|d| *d) {
            break;
        }
        let s = seqs
            .iter()
            .map(|q| q.len())
            .max()
            .unwrap_or(1)
            .min(c.max_text);
        let words: Vec<i64> = seqs.iter().flat_map(|q| pad(q, s)).collect();
        let logits =
            to_vec(model.clip_words(c, zt.clone(), at.clone(), ints(words, [n, s], device)));
        for (i, q) in seqs.iter_mut().enumerate() {
            if done[i] || q.len() >= c.max_text {
                done[i] = true;
                continue;
            }
            let row = &logits[(i * s + q.len() - 1) * c.vocab..(i * s + q.len()) * c.vocab];
            let best = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(k, _)| k as u16)
                .unwrap_or(0);
            q.push(best);
            if best == world::language::vocab::EOS {
                done[i] = true;
            }
        }
    }
    seqs.iter()
        .zip(prefixes)
        .map(|(q, p)| {
            q[p.len()..]
                .iter()
                .copied()
                .filter(|&t| t != world::language::vocab::EOS)
                .collect()
        })
        .collect()
}

/// The clip rows (z and actions at `max_clip` evenly spread frames) of a clip's first
/// `frames` frames, from the state latents of every frame.
pub fn clip_rows(
    c: &ModelConfig,
    states: &[f32],
    actions: &[u8],
    frames: usize,
) -> (Vec<f32>, Vec<u8>) {
    let idx = clip_indices(frames, c.max_clip);
    let z = idx
        .iter()
        .flat_map(|&t| states[t * c.state_latent..(t + 1) * c.state_latent].to_vec())
        .collect();
    let a = idx.iter().map(|&t| *actions.get(t).unwrap_or(&0)).collect();
    (z, a)
}

/// Goal vectors `[N, Z]` for goal sentences.
pub fn goal_vectors(
    model: &WorldModel,
    c: &ModelConfig,
    goals: &[Vec<u16>],
    device: &Device,
) -> Vec<f32> {
    let refs: Vec<&[u16]> = goals.iter().map(|g| g.as_slice()).collect();
    let (w, len) = crate::train::sentences(&refs, device);
    to_vec(model.goal(c, w, &len))
}

/// First-frame latents `[N, P, L]` (means) from scene sentences.
pub fn prompt_frames(
    model: &WorldModel,
    c: &ModelConfig,
    prompts: &[Vec<u16>],
    device: &Device,
) -> Vec<f32> {
    let refs: Vec<&[u16]> = prompts.iter().map(|g| g.as_slice()).collect();
    let (w, len) = crate::train::sentences(&refs, device);
    to_vec(model.prompt_frame(c, w, &len).0)
}

/// Plans in latent space: CEM over action sequences, each scored by rolling the latent
/// dynamics from `z` and summing the goal cost over the horizon.
pub fn plan(
    model: &WorldModel,
    c: &ModelConfig,
    z: &[f32],
    goal: &[f32],
    cem: &CemConfig,
    warm: Option<&[u8]>,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> Plan {
    let zd = c.state_latent;
    cem_plan(cem, rng, warm, |candidates: &[Vec<u8>]| {
        let n = candidates.len();
        let mut state = floats(
            z.iter().copied().cycle().take(n * zd).collect(),
            [n, zd],
            device,
        );
        let g = floats(
            goal.iter().copied().cycle().take(n * zd).collect(),
            [n, zd],
            device,
        );
        let mut cost = Tensor::<1>::zeros([n], device);
        for h in 0..cem.horizon {
            let a = ints(
                candidates.iter().map(|seq| seq[h] as i64).collect(),
                [n],
                device,
            );
            state = model.latent_step(state, a);
            cost = cost + model.goal_cost(state.clone(), g.clone());
        }
        to_vec(cost)
    })
}
