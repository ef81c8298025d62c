//! Dreams scored against the simulator: open-loop rollouts of the frame predictor with the
//! true moves, compared with the true frames and with copying the last true frame.
//!
//! Scores: PSNR at every horizon ([`psnr`], capped at [`world::scores::PSNR_CAP`]); the
//! distance between each object's colour blob in the dream and in the truth at chosen
//! horizons ([`centroid_error`], an object missing from the dream costs the frame's diagonal);
//! and the share of dreams in which no object that the truth shows is missing at any horizon.

use burn::tensor::{Device, Int, Tensor};

use world::episode::Episode;

use crate::batches::{frames_tensor, moves_tensor};
use crate::frame_net::{
    compose_hard, compose_shift, compose_soft, soft_image, Compose, FrameNet, Output, CLASSES, OFFSETS,
    SIDE,
};
use crate::infer::to_vec;
use runtime::frame_net::Objects;
use crate::eval::mean;
use world::scores::{centroid_error, missing_penalty, psnr};

/// Horizons at which object centroids are compared.
pub const CENTROID_AT: [usize; 3] = [1, 4, 16];

/// What [`score_dreams`] measures; `*_copy` are the same measures for copying the last frame.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DreamScores {
    pub dreams: usize,
    /// Mean PSNR at horizons 1..=H.
    pub psnr: Vec<f64>,
    pub psnr_copy: Vec<f64>,
    /// Mean centroid error, pixels, at [`CENTROID_AT`].
    pub centroid_px: Vec<f64>,
    pub centroid_px_copy: Vec<f64>,
    /// Share of dreams with every object the truth shows present at every horizon.
    pub whole: f64,
}

impl DreamScores {
    /// The smallest PSNR gain over copying the last frame, across horizons.
    pub fn min_gain(&self) -> f64 {
        self.psnr
            .iter()
            .zip(&self.psnr_copy)
            .map(|(a, b)| a - b)
            .fold(f64::INFINITY, f64::min)
    }

    /// One line for logs.
    pub fn summary(&self) -> String {
        let at = |v: &[f64], h: usize| v.get(h - 1).copied().unwrap_or(f64::NAN);
        format!(
            "psnr h1 {:.2} ({:.2}) h4 {:.2} ({:.2}) h8 {:.2} ({:.2}) h16 {:.2} ({:.2}) min gain {:+.2} | centroid px h1 {:.2} ({:.2}) h4 {:.2} ({:.2}) h16 {:.2} ({:.2}) | whole {:.1}%",
            at(&self.psnr, 1), at(&self.psnr_copy, 1),
            at(&self.psnr, 4), at(&self.psnr_copy, 4),
            at(&self.psnr, 8), at(&self.psnr_copy, 8),
            at(&self.psnr, 16), at(&self.psnr_copy, 16),
            self.min_gain(),
            self.centroid_px[0], self.centroid_px_copy[0],
            self.centroid_px[1], self.centroid_px_copy[1],
            self.centroid_px[2], self.centroid_px_copy[2],
            100.0 * self.whole,
        )
    }
}

/// Rolls `net` open loop from frames `t - 1, t` (reached by the moves `last`) for
/// `moves.len()` steps, for a batch of starts; returns the dreamed frames, `[step][dream]`,
/// each 64x64x3 bytes.
pub fn dream(
    net: &FrameNet,
    prev: Vec<Vec<u8>>,
    cur: Vec<Vec<u8>>,
    last: Vec<u8>,
    moves: &[Vec<u8>],
    compose: Compose,
    device: &Device,
) -> Vec<Vec<Vec<u8>>> {
    let objects: Vec<Objects> = cur.iter().map(|f| Objects::of(f)).collect();
    let (mut prev, mut cur, mut last) = (prev, cur, last);
    let mut out = Vec::with_capacity(moves.len());
    for m in moves {
        let next = next_frames(net, &prev, &cur, &last, m, compose, &objects, device);
        prev = std::mem::replace(&mut cur, next.clone());
        last.clone_from(m);
        out.push(next);
    }
    out
}

/// The argmax over `logits`' channels `from..from + n`, per pixel, `[dream][64 * 64]`.
fn argmax_channels(logits: &Tensor<4>, from: usize, n: usize) -> Vec<u8> {
    let am: Tensor<4, Int> = logits.clone().narrow(1, from, n).argmax(1);
    am.into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("indices")
        .into_iter()
        .map(|k| k as u8)
        .collect()
}

/// The next frame of each dream, as the page draws it (most likely choice per pixel;
/// `objects`: each dream's objects for [`Compose::Conserve`], from the true frame it started
/// at).
pub fn next_frames(
    net: &FrameNet,
    prev: &[Vec<u8>],
    cur: &[Vec<u8>],
    last: &[u8],
    moves: &[u8],
    compose: Compose,
    objects: &[Objects],
    device: &Device,
) -> Vec<Vec<u8>> {
    let p: Vec<&[u8]> = prev.iter().map(|f| f.as_slice()).collect();
    let c: Vec<&[u8]> = cur.iter().map(|f| f.as_slice()).collect();
    let ints = |v: &[u8]| moves_tensor(&v.iter().map(|&a| a as i64).collect::<Vec<_>>(), device);
    let out = net.forward(frames_tensor(&p, device), frames_tensor(&c, device), ints(last), ints(moves));
    let n = SIDE * SIDE;
    match out.output {
        Output::Palette => {
            let classes = argmax_channels(&out.logits, 0, CLASSES);
            match compose {
                Compose::Hard => cur
                    .iter()
                    .zip(classes.chunks_exact(n))
                    .map(|(c, k)| compose_hard(c, k))
                    .collect(),
                Compose::Soft => {
                    let soft = to_bytes(soft_image(out.logits.clone()));
                    cur.iter()
                        .zip(classes.chunks_exact(n))
                        .zip(soft.chunks_exact(3 * n))
                        .map(|((c, k), s)| compose_soft(c, k, s))
                        .collect()
                }
                Compose::Conserve | Compose::Track => {
                    // Channel-last logits per dream, drawn by the runtime's own rule (without
                    // the state nets, Track draws as Conserve).
                    let b = cur.len();
                    let l = to_vec(out.logits.permute([0, 2, 3, 1]).reshape([b * n * CLASSES]));
                    cur.iter()
                        .zip(l.chunks_exact(n * CLASSES))
                        .zip(objects)
                        .map(|((c, l), o)| runtime::frame_net::compose(c, l, Compose::Conserve, o, 0.0, &mut |_| 0.0))
                        .collect()
                }
            }
        }
        Output::Shift => {
            let ox = argmax_channels(&out.logits, 0, OFFSETS);
            let oy = argmax_channels(&out.logits, OFFSETS, OFFSETS);
            cur.iter()
                .enumerate()
                .map(|(i, c)| compose_shift(c, &ox[i * n..(i + 1) * n], &oy[i * n..(i + 1) * n]))
                .collect()
        }
    }
}

/// `[B, 3, 64, 64]` in 0..1 -> packed RGB bytes, frame after frame (rounded, as the runtime
/// rounds).
fn to_bytes(x: Tensor<4>) -> Vec<u8> {
    let [b, _, h, w] = x.dims();
    let v = to_vec(x.permute([0, 2, 3, 1]).reshape([b * h * w * 3]));
    v.into_iter().map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8).collect()
}

/// Objects whose colour no other object of the scene has: the ones a colour blob locates.
pub fn unique_colour_objects(e: &Episode) -> Vec<[u8; 3]> {
    let objs = &e.scene.objects;
    objs.iter()
        .filter(|o| objs.iter().filter(|p| p.colour == o.colour).count() == 1)
        .map(|o| o.colour.rgb())
        .collect()
}

/// Held-out episodes `seed..seed + n` (without questions), generated as `eval` generates
/// them.
pub fn held_out(seed: u64, n: u64) -> Vec<Episode> {
    let cfg = world::episode::EpisodeConfig {
        questions: false,
        ..world::episode::EpisodeConfig::default()
    };
    (seed..seed + n)
        .map(|s| world::episode::generate_episode(s, &cfg).expect("64x64 frames render"))
        .collect()
}

/// Dreams `horizon` steps from each start of each episode (in batches of `batch`) and scores
/// them.
pub fn score_dreams(
    net: &FrameNet,
    episodes: &[Episode],
    starts: &[usize],
    horizon: usize,
    batch: usize,
    compose: Compose,
    device: &Device,
) -> DreamScores {
    score_dreams_with(episodes, starts, horizon, batch, |prev, cur, last, moves| {
        dream(net, prev, cur, last, moves, compose, device)
    })
}

/// [`score_dreams`] for any dreamer: `dream(prev, cur, last, moves)` rolls a batch of starts
/// open loop (`last[dream]` the move that led to `cur`, `moves[step][dream]`) and returns
/// `[step][dream]` frames.
pub fn score_dreams_with(
    episodes: &[Episode],
    starts: &[usize],
    horizon: usize,
    batch: usize,
    mut dream: impl FnMut(Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<u8>, &[Vec<u8>]) -> Vec<Vec<Vec<u8>>>,
) -> DreamScores {
    let picks: Vec<(usize, usize)> = episodes
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            starts
                .iter()
                .filter(move |&&t| t >= 1 && t + horizon < e.frame_count())
                .map(move |&t| (i, t))
        })
        .collect();
    let mut ps = vec![Vec::new(); horizon];
    let mut pc = vec![Vec::new(); horizon];
    let mut cen = vec![Vec::new(); CENTROID_AT.len()];
    let mut cen_copy = vec![Vec::new(); CENTROID_AT.len()];
    let mut whole = 0usize;
    let missing = missing_penalty(SIDE, SIDE);
    for chunk in picks.chunks(batch.max(1)) {
        let prev = chunk.iter().map(|&(i, t)| episodes[i].frame(t - 1).to_vec()).collect();
        let cur = chunk.iter().map(|&(i, t)| episodes[i].frame(t).to_vec()).collect();
        let moves: Vec<Vec<u8>> = (0..horizon)
            .map(|h| chunk.iter().map(|&(i, t)| episodes[i].actions[t + h]).collect())
            .collect();
        let last = chunk.iter().map(|&(i, t)| episodes[i].actions[t - 1]).collect();
        let dreamed = dream(prev, cur, last, &moves);
        for (k, &(i, t)) in chunk.iter().enumerate() {
            let e = &episodes[i];
            let colours = unique_colour_objects(e);
            let mut lost = false;
            for h in 0..horizon {
                let truth = e.frame(t + h + 1);
                let d = &dreamed[h][k];
                ps[h].push(psnr(truth, d));
                pc[h].push(psnr(truth, e.frame(t)));
                let slot = CENTROID_AT.iter().position(|&x| x == h + 1);
                for &rgb in &colours {
                    if let Some(err) = centroid_error(truth, d, SIDE, SIDE, rgb) {
                        lost |= err >= missing;
                        if let Some(s) = slot {
                            cen[s].push(err as f64);
                            if let Some(c) = centroid_error(truth, e.frame(t), SIDE, SIDE, rgb) {
                                cen_copy[s].push(c as f64);
                            }
                        }
                    }
                }
            }
            whole += usize::from(!lost);
        }
    }
    DreamScores {
        dreams: picks.len(),
        psnr: ps.iter().map(|v| mean(v)).collect(),
        psnr_copy: pc.iter().map(|v| mean(v)).collect(),
        centroid_px: cen.iter().map(|v| mean(v)).collect(),
        centroid_px_copy: cen_copy.iter().map(|v| mean(v)).collect(),
        whole: whole as f64 / picks.len().max(1) as f64,
    }
}
