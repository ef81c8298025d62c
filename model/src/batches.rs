//! Training clips for the frame predictor, read from a dataset folder that `world gen` wrote
//! (world -> dataset -> training), and the batches of rollout windows drawn from them.

use std::path::Path;

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;

use world::dataset::Dataset;
use world::episode::Episode;

use crate::frame_net::SIDE;

/// Bytes of one RGB frame.
pub const FRAME_BYTES: usize = SIDE * SIDE * 3;

/// Frames and moves of many episodes, packed: what the frame predictor trains on.
pub struct Clips {
    /// Frames per episode (actions + 1).
    pub frames_per_episode: usize,
    /// `[episodes, frames_per_episode, 64, 64, 3]` bytes.
    pub frames: Vec<u8>,
    /// `[episodes, frames_per_episode - 1]` discrete moves.
    pub moves: Vec<u8>,
}

impl Clips {
    /// Reads every episode of the dataset in `dir` (at most `limit`).
    pub fn load(dir: &Path, limit: Option<usize>) -> Result<Clips, String> {
        let ds = Dataset::open(dir).map_err(|e| format!("dataset {}: {e}", dir.display()))?;
        let mut episodes = Vec::new();
        for e in ds.episodes() {
            if limit.is_some_and(|l| episodes.len() >= l) {
                break;
            }
            episodes.push(e.map_err(|e| format!("dataset {}: {e}", dir.display()))?);
        }
        Clips::from_episodes(&episodes)
            .map_err(|e| format!("dataset {}: {e}", dir.display()))
    }

    /// Packs episodes that all have 64x64 frames and the same length.
    pub fn from_episodes(episodes: &[Episode]) -> Result<Clips, String> {
        let first = episodes.first().ok_or("no episodes")?;
        let n = first.frame_count();
        if n < 4 {
            return Err(format!("episodes of {n} frames are too short to learn motion from"));
        }
        let mut c = Clips {
            frames_per_episode: n,
            frames: Vec::with_capacity(episodes.len() * n * FRAME_BYTES),
            moves: Vec::with_capacity(episodes.len() * (n - 1)),
        };
        for e in episodes {
            if e.width as usize != SIDE || e.height as usize != SIDE {
                return Err(format!(
                    "episode {} has {}x{} frames; the model reads {SIDE}x{SIDE}",
                    e.seed, e.width, e.height
                ));
            }
            if e.frame_count() != n || e.actions.len() != n - 1 {
                return Err(format!(
                    "episode {} has {} frames, the first had {n}: use one episode length",
                    e.seed,
                    e.frame_count()
                ));
            }
            c.frames.extend_from_slice(&e.frames);
            c.moves.extend_from_slice(&e.actions);
        }
        Ok(c)
    }

    pub fn episodes(&self) -> usize {
        self.moves.len() / (self.frames_per_episode - 1)
    }

    /// Frame `t` of episode `e`.
    pub fn frame(&self, e: usize, t: usize) -> &[u8] {
        let at = (e * self.frames_per_episode + t) * FRAME_BYTES;
        &self.frames[at..at + FRAME_BYTES]
    }

    /// The move made after frame `t` of episode `e`.
    pub fn action(&self, e: usize, t: usize) -> u8 {
        self.moves[e * (self.frames_per_episode - 1) + t]
    }

    /// `count` windows of `steps` moves: for each, the episode and the frame `t >= 1` the
    /// rollout starts from (frames `t - 1` and `t` are given, `t + 1 ..= t + steps` predicted).
    pub fn draw(&self, rng: &mut impl Rng, count: usize, steps: usize) -> Vec<(usize, usize)> {
        let last_start = self.frames_per_episode - 1 - steps;
        (0..count)
            .map(|_| {
                (
                    rng.random_range(0..self.episodes()),
                    rng.random_range(1..=last_start),
                )
            })
            .collect()
    }

    /// Frame `t + offset` of every window as `[B, 3, 64, 64]` in 0..1.
    pub fn frames_at(&self, windows: &[(usize, usize)], offset: isize, device: &Device) -> Tensor<4> {
        let frames: Vec<&[u8]> = windows
            .iter()
            .map(|&(e, t)| self.frame(e, (t as isize + offset) as usize))
            .collect();
        frames_tensor(&frames, device)
    }

    /// The move after frame `t + offset` of every window, `[B]`.
    pub fn moves_at(&self, windows: &[(usize, usize)], offset: usize, device: &Device) -> Tensor<1, Int> {
        let m: Vec<i64> = windows
            .iter()
            .map(|&(e, t)| self.action(e, t + offset) as i64)
            .collect();
        moves_tensor(&m, device)
    }

    /// The move that led to frame `t + offset` of every window (the one after frame
    /// `t + offset - 1`), `[B]`.
    pub fn last_moves_at(&self, windows: &[(usize, usize)], offset: usize, device: &Device) -> Tensor<1, Int> {
        let m: Vec<i64> = windows
            .iter()
            .map(|&(e, t)| self.action(e, t + offset - 1) as i64)
            .collect();
        moves_tensor(&m, device)
    }
}

/// RGB frames (64x64x3 bytes each) -> `[B, 3, 64, 64]` in 0..1.
pub fn frames_tensor(frames: &[&[u8]], device: &Device) -> Tensor<4> {
    let plane = SIDE * SIDE;
    let mut v = vec![0f32; frames.len() * 3 * plane];
    for (i, f) in frames.iter().enumerate() {
        let base = i * 3 * plane;
        for (p, px) in f.chunks_exact(3).enumerate() {
            for c in 0..3 {
                v[base + c * plane + p] = px[c] as f32 / 255.0;
            }
        }
    }
    Tensor::from_data(TensorData::new(v, [frames.len(), 3, SIDE, SIDE]), device)
}

/// Discrete moves -> `[B]`.
pub fn moves_tensor(moves: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(moves.to_vec(), [moves.len()]), device)
}
