//! Training of the state path: the [`Reader`] on frames with the simulator's slots as labels,
//! the [`Dynamics`] on multi-step rollouts of true tracks (as long as the planner's horizon,
//! from starts with reader-sized noise), and the [`GoalNet`] on goal sentences.

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::grad_clipping::GradientClippingConfig;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use layout::slots::{labels, SlotLabels, AGENT_SLOT, MOTION_SCALE, OBJECT_SLOTS, SLOTS};
use world::episode::Episode;
use world::scene::View;

use crate::batches::{frames_tensor, Clips};
use crate::frame_net::MOVES;
use crate::net::floats;
use crate::train::scalar;
use crate::state_net::{Dynamics, GoalNet, Reader, AGENT_DIM, OBJECT_DIM, POS_SCALE};
use crate::state_plan::{dyn_agent, dyn_object};

/// The slots of every frame of every episode, with the view.
pub struct Tracks {
    pub frames_per_episode: usize,
    /// `[episode][t]`.
    pub labels: Vec<Vec<SlotLabels>>,
    pub side: Vec<bool>,
}

impl Tracks {
    pub fn from_episodes(episodes: &[Episode]) -> Tracks {
        Tracks {
            frames_per_episode: episodes.first().map_or(0, |e| e.frame_count()),
            labels: episodes
                .iter()
                .map(|e| {
                    (0..e.frame_count())
                        .map(|t| {
                            labels(&e.scene, &e.states[t], t.checked_sub(1).map(|p| &e.states[p]))
                        })
                        .collect()
                })
                .collect(),
            side: episodes.iter().map(|e| e.scene.view == View::Side).collect(),
        }
    }
}

/// The reader's loss on a batch of frames `(episode, t)` (t >= 1): presence cross-entropy on
/// every usable slot; where the thing is present, squared error of its place in pixels, of
/// its motion or extent and of its size. Returns the loss and (presence, place px^2, rest).
pub fn reader_loss(
    reader: &Reader,
    clips: &Clips,
    tracks: &Tracks,
    picks: &[(usize, usize)],
    device: &Device,
) -> (Tensor<1>, [f64; 3]) {
    let b = picks.len();
    let prev: Vec<&[u8]> = picks.iter().map(|&(e, t)| clips.frame(e, t - 1)).collect();
    let cur: Vec<&[u8]> = picks.iter().map(|&(e, t)| clips.frame(e, t)).collect();
    let out = reader.forward(frames_tensor(&prev, device), frames_tensor(&cur, device));
    let (mut present, mut usable, mut there) = (vec![], vec![], vec![]);
    let (mut pos, mut ab, mut size) = (vec![], vec![], vec![]);
    for &(e, t) in picks {
        let l = &tracks.labels[e][t];
        for s in 0..SLOTS {
            let sl = l.slots[s];
            present.push(f32::from(u8::from(sl.present)));
            usable.push(f32::from(u8::from(l.usable[s])));
            there.push(f32::from(u8::from(l.usable[s] && sl.present)));
            pos.extend(sl.pos);
            let k = if s > AGENT_SLOT { POS_SCALE } else { MOTION_SCALE };
            ab.extend([sl.ab[0] * k, sl.ab[1] * k]);
            size.push(sl.size * POS_SCALE);
        }
    }
    let present = floats(present, [b, SLOTS], device);
    let usable = floats(usable, [b, SLOTS], device);
    let there = floats(there, [b, SLOTS], device);
    let n_there = there.clone().sum().clamp_min(1.0);
    // Binary cross-entropy with logits, stable form.
    let x = out.presence;
    let bce = (x.clone().clamp_min(0.0) - x.clone() * present
        + (x.abs().neg().exp() + 1.0).log())
        * usable.clone();
    let bce = bce.sum() / usable.sum().clamp_min(1.0);
    let there3 = there.clone().reshape([b, SLOTS, 1]);
    let px = 64.0;
    let place = ((out.pos - floats(pos, [b, SLOTS, 2], device)) * px).powi_scalar(2) * there3.clone();
    let place = place.sum() / n_there.clone();
    let rest = ((out.ab - floats(ab, [b, SLOTS, 2], device)).powi_scalar(2) * there3).sum()
        + ((out.size - floats(size, [b, SLOTS], device)).powi_scalar(2) * there).sum();
    let rest = rest / n_there;
    let total = bce.clone() + place.clone() * 0.1 + rest.clone();
    (total, [scalar(bce), scalar(place), scalar(rest)])
}

/// A window of a track for the dynamics: episode, object slot, first frame (t >= 1).
pub type TrackWindow = (usize, usize, usize);

/// Windows of `steps` moves in which the agent and the object (a usable slot) are present
/// throughout.
pub fn track_windows(tracks: &Tracks, steps: usize) -> Vec<TrackWindow> {
    let mut out = Vec::new();
    for (e, ls) in tracks.labels.iter().enumerate() {
        for s in 0..OBJECT_SLOTS {
            for t in 1..ls.len().saturating_sub(steps) {
                if (t..=t + steps).all(|u| ls[u].usable[s] && ls[u].slots[s].present) {
                    out.push((e, s, t));
                }
            }
        }
    }
    out
}

/// Extra distance, world units, within which the agent counts as touching an object.
const CONTACT_MARGIN: f32 = 0.3;

/// Whether the agent touches the window's object at some frame of it: the windows where
/// pushing happens, which the planner most needs imagined right and which are a small share
/// of all windows.
pub fn is_contact(tracks: &Tracks, w: TrackWindow, steps: usize) -> bool {
    let (e, s, t) = w;
    (t..=t + steps).any(|u| {
        let l = &tracks.labels[e][u];
        let (a, o) = (l.slots[AGENT_SLOT], l.slots[s]);
        let d = world::scene::dist(layout::slots::to_world(a.pos), layout::slots::to_world(o.pos));
        d < (o.size + a.size) * world::scene::ARENA + CONTACT_MARGIN
    })
}

/// The agent and object slot `s` at frame `t` of episode `e`'s track as [`Dynamics`] reads
/// them (with the displacements of frame `t - 1`, none before the first frame; and the move
/// that led to frame `t`, stay before the first).
pub fn dyn_state(tracks: &Tracks, clips: &Clips, e: usize, t: usize, s: usize) -> ([f32; AGENT_DIM], [f32; OBJECT_DIM]) {
    let ls = &tracks.labels[e];
    let l = &ls[t];
    let was = |k: usize| t.checked_sub(1).map_or([0.0; 2], |p| ls[p].slots[k].ab);
    let last = t.checked_sub(1).map_or(0, |p| clips.action(e, p));
    (
        dyn_agent(&l.slots[AGENT_SLOT], was(AGENT_SLOT), last),
        dyn_object(&l.slots[s], was(s), s),
    )
}

/// Where the reader places the agent and every object in every frame of every episode
/// (`[episode][t][slot]`, slots up to the agent's; frame `t` read with frame `t - 1` before it,
/// the first with itself): the starts dreams and plans really begin from.
pub struct Reads {
    pub pos: Vec<Vec<[[f32; 2]; AGENT_SLOT + 1]>>,
}

impl Reads {
    /// Reads every frame of the first `episodes` episodes of `clips` with `reader`, `batch`
    /// frames at a time (a frame costs the reader about 0.2 GFLOP).
    pub fn of(reader: &Reader, clips: &Clips, episodes: usize, batch: usize, device: &Device) -> Reads {
        let episodes = episodes.min(clips.episodes());
        let frames: Vec<(usize, usize)> = (0..episodes)
            .flat_map(|e| (0..clips.frames_per_episode).map(move |t| (e, t)))
            .collect();
        let mut pos = vec![Vec::with_capacity(clips.frames_per_episode); episodes];
        for chunk in frames.chunks(batch.max(1)) {
            let prev: Vec<&[u8]> = chunk.iter().map(|&(e, t)| clips.frame(e, t.saturating_sub(1))).collect();
            let cur: Vec<&[u8]> = chunk.iter().map(|&(e, t)| clips.frame(e, t)).collect();
            for (&(e, _), r) in chunk.iter().zip(crate::state_plan::read(reader, &prev, &cur, device)) {
                pos[e].push(std::array::from_fn(|s| r.slots[s].pos));
            }
        }
        Reads { pos }
    }

    /// The agent and object slot `s` at frame `t` of episode `e` as a dream or a plan starts
    /// from them: the read places, motions as their changes (the frame before's motion too
    /// with `history`, else the last frame's again, as a dream from two frames has it), sizes
    /// from the labels; and how far the read places are from the true ones (agent, object).
    pub fn start(&self, tracks: &Tracks, clips: &Clips, e: usize, t: usize, s: usize, history: bool) -> ([f32; AGENT_DIM], [f32; OBJECT_DIM], [[f32; 2]; 2]) {
        let (mut a, mut o) = dyn_state(tracks, clips, e, t, s);
        let p = &self.pos[e];
        let motion = |k: usize, u: usize| {
            let (now, was) = (p[u][k], p[u.saturating_sub(1)][k]);
            [(now[0] - was[0]) * MOTION_SCALE, (now[1] - was[1]) * MOTION_SCALE]
        };
        let mut offsets = [[0.0; 2]; 2];
        for (i, (x, k)) in [(&mut a[..], AGENT_SLOT), (&mut o[..], s)].into_iter().enumerate() {
            let before = if history { motion(k, t.saturating_sub(1)) } else { motion(k, t) };
            offsets[i] = [p[t][k][0] - x[0], p[t][k][1] - x[1]];
            x[..2].copy_from_slice(&p[t][k]);
            x[2..4].copy_from_slice(&motion(k, t));
            x[4..6].copy_from_slice(&before);
        }
        (a, o, offsets)
    }
}

/// One-hot moves `[B, 9]`.
pub fn moves_one_hot(moves: &[u8], device: &Device) -> Tensor<2> {
    let mut v = vec![0f32; moves.len() * MOVES];
    for (i, &m) in moves.iter().enumerate() {
        v[i * MOVES + (m as usize).min(MOVES - 1)] = 1.0;
    }
    floats(v, [moves.len(), MOVES], device)
}

/// How [`dynamics_loss`] weighs and starts its rollouts.
#[derive(Clone, Copy, Debug)]
pub struct RolloutLoss {
    /// Positions at the start perturbed by up to this many pixels, displacements by a tenth
    /// of that per frame.
    pub noise_px: f32,
    /// Weight of the agent's errors against the object's (1: equal).
    pub agent_weight: f32,
    /// Share of rollouts whose start takes the motion of the frame before as the last
    /// frame's, as a dream that starts from two frames must.
    pub no_history: f64,
    /// Count the agent's errors only where the window's object is the nearest to it.
    pub nearest_only: bool,
    /// Share of rollouts started from the reader's places ([`Reads`], in the episodes read;
    /// without added noise;
    /// half of them without the frame before's motion), scored on how far things move from
    /// there: the dynamics learns to take the reader's noisy motions as they come.
    pub read_share: f64,
}

impl Default for RolloutLoss {
    fn default() -> Self {
        RolloutLoss { noise_px: 0.5, agent_weight: 1.0, no_history: 0.0, nearest_only: false, read_share: 0.0 }
    }
}

/// The dynamics' loss over `steps`-step open-loop rollouts from the windows' first frames
/// (started as `how` says): squared error of both positions in pixels plus of both
/// displacements, averaged over steps. Returns the loss and the mean position error in
/// pixels at the last step of the object and of the agent.
pub fn dynamics_loss(
    dynamics: &Dynamics,
    tracks: &Tracks,
    clips: &Clips,
    reads: Option<&Reads>,
    windows: &[TrackWindow],
    steps: usize,
    how: RolloutLoss,
    rng: &mut ChaCha8Rng,
    device: &Device,
) -> (Tensor<1>, [f64; 2]) {
    let noise_px = how.noise_px;
    let b = windows.len();
    let (mut a0, mut o0, mut side) = (vec![], vec![], vec![]);
    // Per window, how far its start is from the truth (agent, object): the targets move by as
    // much, so that what is scored is how far things go from where they start.
    let (mut shift_a, mut shift_o) = (vec![], vec![]);
    let noise = |rng: &mut ChaCha8Rng, s: f32| (rng.random::<f32>() * 2.0 - 1.0) * s;
    for &(e, s, t) in windows {
        if let Some(r) = reads.filter(|r| e < r.pos.len() && rng.random::<f64>() < how.read_share) {
            let history = rng.random::<f64>() < 0.5;
            let (a, o, [da, dobj]) = r.start(tracks, clips, e, t, s, history);
            a0.extend(a);
            o0.extend(o);
            shift_a.extend(da);
            shift_o.extend(dobj);
            side.push(f32::from(u8::from(tracks.side[e])));
            continue;
        }
        shift_a.extend([0.0; 2]);
        shift_o.extend([0.0; 2]);
        let (mut a, mut o) = dyn_state(tracks, clips, e, t, s);
        if rng.random::<f64>() < how.no_history {
            // dyn_agent's layout: u, v, du, dv, then the frame before's du, dv (then the last
            // move, which a dream knows).
            a.copy_within(2..4, 4);
            o.copy_within(2..4, 4);
        }
        let np = noise_px / 64.0;
        let nd = noise_px / 64.0 * MOTION_SCALE * 0.5;
        for (i, v) in a.iter_mut().take(6).enumerate() {
            *v += noise(rng, if i < 2 { np } else { nd });
        }
        for (i, v) in o.iter_mut().take(6).enumerate() {
            *v += noise(rng, if i < 2 { np } else { nd });
        }
        a0.extend(a);
        o0.extend(o);
        side.push(f32::from(u8::from(tracks.side[e])));
    }
    let mut agent = floats(a0, [b, AGENT_DIM], device);
    let mut object = floats(o0, [b, OBJECT_DIM], device);
    let side = floats(side, [b, 1], device);
    let shift_a = floats(shift_a, [b, 2], device);
    let shift_o = floats(shift_o, [b, 2], device);
    let mut loss: Option<Tensor<1>> = None;
    let mut last_px = [0.0; 2];
    for k in 0..steps {
        let moves: Vec<u8> = windows.iter().map(|&(e, _, t)| clips.action(e, t + k)).collect();
        let (a, o) = dynamics.step(agent, object, side.clone(), moves_one_hot(&moves, device));
        agent = a;
        object = o;
        let (mut ta, mut to) = (vec![], vec![]);
        for &(e, s, t) in windows {
            let (a, o) = dyn_state(tracks, clips, e, t + k + 1, s);
            ta.extend(a);
            to.extend(o);
        }
        let shifted = |t: Tensor<2>, by: &Tensor<2>, dim: usize| {
            Tensor::cat(vec![t.clone().narrow(1, 0, 2) + by.clone(), t.narrow(1, 2, dim - 2)], 1)
        };
        let ta = shifted(floats(ta, [b, AGENT_DIM], device), &shift_a, AGENT_DIM);
        let to = shifted(floats(to, [b, OBJECT_DIM], device), &shift_o, OBJECT_DIM);
        let pos_err = |x: &Tensor<2>, t: &Tensor<2>| ((x.clone().narrow(1, 0, 2) - t.clone().narrow(1, 0, 2)) * 64.0).powi_scalar(2).sum_dim(1);
        let disp_err = |x: &Tensor<2>, t: &Tensor<2>| (x.clone().narrow(1, 2, 2) - t.clone().narrow(1, 2, 2)).powi_scalar(2).sum_dim(1);
        // The agent is stepped with one object; what it meets is the nearest one, so with
        // `nearest_only` its own errors count where the window's object is the nearest to it
        // (as the tracker pairs them).
        let w = if how.nearest_only {
            let nearest: Vec<f32> = windows
                .iter()
                .map(|&(e, s, t)| {
                    let l = &tracks.labels[e][t + k];
                    let d = |o: usize| {
                        let (p, q) = (l.slots[o].pos, l.slots[AGENT_SLOT].pos);
                        (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)
                    };
                    let mine = d(s);
                    f32::from(u8::from((0..OBJECT_SLOTS).all(|o| o == s || !l.slots[o].present || d(o) >= mine)))
                })
                .collect();
            floats(nearest, [b, 1], device) * how.agent_weight
        } else {
            Tensor::<2>::ones([b, 1], device) * how.agent_weight
        };
        let l = ((pos_err(&agent, &ta) * w.clone() + pos_err(&object, &to)) * 0.1
            + (disp_err(&agent, &ta) * w + disp_err(&object, &to)) * 10.0)
            .mean()
            / steps as f32;
        if k + 1 == steps {
            last_px = [&(&object, &to), &(&agent, &ta)].map(|(x, t)| scalar(pos_err(x, t).sqrt().mean()));
        }
        loss = Some(match loss {
            Some(x) => x + l,
            None => l,
        });
    }
    (loss.expect("at least one step"), last_px)
}

/// The goal net's loss: cross-entropy of the object slot and the zone of each sentence.
pub fn goal_loss(
    goal: &GoalNet,
    sentences: &[(Vec<u16>, usize, usize)],
    device: &Device,
) -> (Tensor<1>, f64) {
    let b = sentences.len();
    let l = sentences.iter().map(|s| s.0.len()).max().unwrap_or(1);
    let mut words = vec![0i64; b * l];
    for (i, s) in sentences.iter().enumerate() {
        for (j, &w) in s.0.iter().enumerate() {
            words[i * l + j] = w as i64;
        }
    }
    let words: Tensor<2, Int> = Tensor::from_data(TensorData::new(words, [b, l]), device);
    let (ol, zl) = goal.forward(words);
    let pick = |logits: Tensor<2>, idx: Vec<usize>, k: usize| {
        let mut oh = vec![0f32; b * k];
        for (i, &j) in idx.iter().enumerate() {
            oh[i * k + j] = 1.0;
        }
        (log_softmax(logits, 1) * floats(oh, [b, k], device)).sum_dim(1).mean().neg()
    };
    let loss = pick(ol, sentences.iter().map(|s| s.1).collect(), OBJECT_SLOTS)
        + pick(zl, sentences.iter().map(|s| s.2).collect(), 2);
    let v = scalar(loss.clone());
    (loss, v)
}

/// Runs `steps` AdamW steps of `loss` on `module` with a cosine schedule from `lr`.
pub fn fit<M, F>(mut module: M, steps: usize, lr: f64, mut loss: F, every: usize, name: &str) -> M
where
    M: Module,
    F: FnMut(&M, usize) -> (Tensor<1>, String),
{
    let mut optim = AdamWConfig::new()
        .with_weight_decay(1e-4)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let started = std::time::Instant::now();
    for step in 0..steps {
        let frac = step as f64 / steps.max(1) as f64;
        let lr_now = lr * ((step + 1) as f64 / 50.0).min(1.0)
            * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos()));
        let (l, msg) = loss(&module, step);
        let grads = GradientsParams::from_grads(l.backward(), &module);
        module = optim.step(lr_now, module, grads);
        if every > 0 && (step + 1) % every == 0 {
            eprintln!(
                "{name} step {} t={:.0}s {msg}",
                step + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    module
}
