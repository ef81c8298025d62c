//! The frame predictor on the CPU: `model::frame_net::FrameNet`'s forward pass over
//! [`crate::maps`], on weights in the runtime's layout. It reads the last two frames and the
//! agent's move and gives, per pixel of the next frame, logits over the renderer's palette with
//! the "keep the current colour" prior added; [`compose`] turns them into the next frame.
//!
//! Tensor names are burn's field paths (`stem.weight`, `r1.norm.gamma`, ...); shapes follow
//! from the width, which the loader reads off `stem.bias`.

use layout::weights::{read_tensors, LoadError, Weights};
use world::render::{palette_index, FRAME_SIZE, PALETTE, PALETTE_SIZE};

use crate::exec::Act;
use crate::maps::{add_per_item, concat, conv3, frame_input, group_norm, shuffle, upsample2, Map};

/// Palette classes per pixel.
pub const CLASSES: usize = PALETTE_SIZE;
/// The agent's discrete moves.
pub const MOVES: usize = world::action::DISCRETE_ACTIONS;
/// Frame side, pixels.
pub const SIDE: usize = FRAME_SIZE as usize;
/// Logit added to each pixel's current class (`model::frame_net::KEEP_PRIOR`).
pub const KEEP_PRIOR: f32 = 4.0;
/// Groups of every GroupNorm.
pub const NORM_GROUPS: usize = 8;
/// Input channels after the unshuffle: (current, previous, difference) x RGB x 4.
pub const INPUT_CHANNELS: usize = 36;

/// The residual blocks' names and their width as a multiple of the net's width.
const BLOCKS: [(&str, usize); 6] = [("r1", 1), ("r2", 2), ("r3a", 3), ("r3b", 3), ("r4", 2), ("r5", 1)];

/// Every tensor of a frame net of this width with one or two residual blocks at 8x8
/// (`r3a`, and `r3b` when `bottleneck` is 2): name and shape (runtime layout).
pub fn frame_net_specs(width: usize, bottleneck: usize) -> Vec<(String, Vec<usize>)> {
    let (c1, c2, c3) = (width, 2 * width, 3 * width);
    let mut s: Vec<(String, Vec<usize>)> = Vec::new();
    let mut conv3 = |name: &str, cin: usize, cout: usize| {
        s.push((format!("{name}.weight"), vec![9 * cin, cout]));
        s.push((format!("{name}.bias"), vec![cout]));
    };
    conv3("stem", INPUT_CHANNELS, c1);
    conv3("d1", c1, c2);
    conv3("d2", c2, c3);
    conv3("u2", c3 + c2, c2);
    conv3("u1", c2 + c1, c1);
    conv3("head", c1, 4 * CLASSES);
    let blocks = || BLOCKS.iter().filter(move |b| bottleneck == 2 || b.0 != "r3b");
    for (name, m) in blocks() {
        let c = m * width;
        conv3(&format!("{name}.c1"), c, c);
        conv3(&format!("{name}.c2"), c, c);
    }
    for (name, m) in blocks() {
        let c = m * width;
        s.push((format!("{name}.norm.gamma"), vec![c]));
        s.push((format!("{name}.norm.beta"), vec![c]));
    }
    for (name, c) in [("a1", c1), ("a2", c2), ("a3", c3)] {
        s.push((format!("{name}.weight"), vec![MOVES, c]));
    }
    s
}

/// A residual block's forward: `x + c2(gelu(c1(gelu(norm(x)))))`.
pub fn res(w: &Weights, name: &str, x: &Map) -> Map {
    let n = group_norm(
        x,
        w.get(&format!("{name}.norm.gamma")),
        w.get(&format!("{name}.norm.beta")),
        NORM_GROUPS,
        Act::Gelu,
    );
    let h = conv(w, &format!("{name}.c1"), &n, 1, Act::Gelu, None);
    conv(w, &format!("{name}.c2"), &h, 1, Act::None, Some(x))
}

/// The 3x3 convolution `name`.
pub fn conv(w: &Weights, name: &str, x: &Map, stride: usize, act: Act, add: Option<&Map>) -> Map {
    conv3(
        x,
        w.get(&format!("{name}.weight")),
        w.get(&format!("{name}.bias")),
        stride,
        act,
        add,
    )
}

/// The frame predictor's weights, checked.
#[derive(Clone, Debug)]
pub struct FrameNet {
    pub width: usize,
    /// Residual blocks at 8x8 (1 or 2).
    pub bottleneck: usize,
    pub weights: Weights,
}

impl FrameNet {
    /// Reads and checks a safetensors file (`file` names it in errors).
    pub fn from_safetensors(bytes: &[u8], file: &str) -> Result<FrameNet, LoadError> {
        let width = stem_width(bytes, file, "stem.bias")?;
        if width == 0 || width % NORM_GROUPS != 0 {
            return Err(LoadError::Config(format!(
                "{file}: frame net width {width} is not a positive multiple of {NORM_GROUPS}"
            )));
        }
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| LoadError::Safetensors {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
        let bottleneck = if st.tensor("r3b.c1.bias").is_ok() { 2 } else { 1 };
        Ok(FrameNet {
            width,
            bottleneck,
            weights: read_tensors(bytes, file, &frame_net_specs(width, bottleneck))?,
        })
    }

    /// Parameters.
    pub fn parameters(&self) -> usize {
        self.weights.tensors.values().map(|(_, v)| v.len()).sum()
    }

    /// FLOPs of one forward pass (multiply-add = 2; convolutions only).
    pub fn flops(&self) -> f64 {
        let g = SIDE / 2;
        frame_net_specs(self.width, self.bottleneck)
            .iter()
            .filter(|(n, s)| n.ends_with(".weight") && s[0] != MOVES)
            .map(|(n, s)| {
                let side = match n.split('.').next().unwrap_or("") {
                    "d1" | "r2" | "u2" | "r4" => g / 2,
                    "d2" | "r3a" | "r3b" => g / 4,
                    _ => g,
                };
                2.0 * (s[0] * s[1] * side * side) as f64
            })
            .sum()
    }

    /// Dreams `actions.len()` frames after `context` (frames t-1 and t): each step's logits,
    /// then each pixel's class (temperature 0: the most likely, drawn soft as `eval` scores
    /// it; above: drawn from the tempered distribution with
    /// [`crate::rng::uniform`]`(seed, step, pixel)`).
    pub fn dream(&self, context: [&[u8]; 2], actions: &[u8], temperature: f32, seed: u32) -> Vec<Vec<u8>> {
        let (mut prev, mut cur) = (context[0].to_vec(), context[1].to_vec());
        let mut out = Vec::with_capacity(actions.len());
        for (t, &a) in actions.iter().enumerate() {
            let logits = self.logits(&prev, &cur, a);
            let next = compose(&cur, &logits, Compose::Soft, temperature, &mut |p| {
                crate::rng::uniform(seed, t as u32, p as u32)
            });
            prev = std::mem::replace(&mut cur, next);
            out.push(cur.clone());
        }
        out
    }

    /// Logits `[SIDE * SIDE, CLASSES]` of the next frame, row-major pixels, the prior for the
    /// current class included. `prev`, `cur`: `SIDE * SIDE * 3` bytes; `mv` < [`MOVES`].
    pub fn logits(&self, prev: &[u8], cur: &[u8], mv: u8) -> Vec<f32> {
        self.forward(prev, cur, mv, &mut |_, _| {})
    }

    /// [`FrameNet::logits`], handing every stage's map to `inspect` (name, map): what the
    /// Explain demo shows.
    pub fn forward(
        &self,
        prev: &[u8],
        cur: &[u8],
        mv: u8,
        inspect: &mut dyn FnMut(&str, &Map),
    ) -> Vec<f32> {
        let w = &self.weights;
        let mv = (mv as usize).min(MOVES - 1);
        let bias = |name: &str, c: usize| w.get(&format!("{name}.weight"))[mv * c..(mv + 1) * c].to_vec();
        let [c1, c2, c3] = [self.width, 2 * self.width, 3 * self.width];
        let x = frame_input(prev, cur, SIDE);
        let mut h = conv(w, "stem", &x, 1, Act::Gelu, None);
        add_per_item(&mut h, &bias("a1", c1));
        let h1 = res(w, "r1", &h);
        inspect("32x32", &h1);
        let mut h = conv(w, "d1", &h1, 2, Act::Gelu, None);
        add_per_item(&mut h, &bias("a2", c2));
        let h2 = res(w, "r2", &h);
        inspect("16x16", &h2);
        let mut h = conv(w, "d2", &h2, 2, Act::Gelu, None);
        add_per_item(&mut h, &bias("a3", c3));
        let mut h3 = res(w, "r3a", &h);
        if self.bottleneck == 2 {
            h3 = res(w, "r3b", &h3);
        }
        inspect("8x8", &h3);
        let u2 = res(w, "r4", &conv(w, "u2", &concat(&upsample2(&h3), &h2), 1, Act::Gelu, None));
        inspect("up 16x16", &u2);
        let u1 = res(w, "r5", &conv(w, "u1", &concat(&upsample2(&u2), &h1), 1, Act::Gelu, None));
        inspect("up 32x32", &u1);
        let mut logits = shuffle(&conv(w, "head", &u1, 1, Act::None, None));
        for (px, l) in cur.chunks_exact(3).zip(logits.chunks_exact_mut(CLASSES)) {
            l[palette_index([px[0], px[1], px[2]]) as usize] += KEEP_PRIOR;
        }
        logits
    }
}

/// The width a net was exported at: the length of its `bias` tensor `name`.
pub fn stem_width(bytes: &[u8], file: &str, name: &str) -> Result<usize, LoadError> {
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| LoadError::Safetensors {
        file: file.to_string(),
        reason: e.to_string(),
    })?;
    let t = st.tensor(name).map_err(|_| LoadError::Missing {
        name: name.to_string(),
    })?;
    Ok(t.shape().iter().product())
}

/// How a dreamed pixel is drawn from its logits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Compose {
    /// Most likely class: its flat colour, or the exact current bytes when it is the current
    /// class.
    Hard,
    /// As `Hard`, except that a pixel whose class changes takes the expected colour under its
    /// distribution (the mean prediction; what `eval` scores at temperature 0).
    #[default]
    Soft,
}

/// The next frame from [`FrameNet::logits`]: at temperature 0 each pixel takes its most likely
/// class (kept bytes when that is its current class, else as `compose` says); above 0 each
/// pixel's class is drawn from `softmax(logits / temperature)` with `uniform` (a number in
/// 0..1 per pixel) and drawn as its flat colour unless it is the current class.
pub fn compose(cur: &[u8], logits: &[f32], compose: Compose, temperature: f32, uniform: &mut dyn FnMut(usize) -> f32) -> Vec<u8> {
    let mut out = Vec::with_capacity(cur.len());
    for (p, (px, l)) in cur.chunks_exact(3).zip(logits.chunks_exact(CLASSES)).enumerate() {
        let now = palette_index([px[0], px[1], px[2]]) as usize;
        let top = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let k = if temperature > 0.0 {
            let e: Vec<f32> = l.iter().map(|&v| ((v - top) / temperature).exp()).collect();
            let mut r = uniform(p) * e.iter().sum::<f32>();
            let mut k = CLASSES - 1;
            for (i, &ei) in e.iter().enumerate() {
                if r < ei {
                    k = i;
                    break;
                }
                r -= ei;
            }
            k
        } else {
            l.iter().position(|&v| v == top).unwrap_or(now)
        };
        if k == now {
            out.extend_from_slice(px);
        } else if compose == Compose::Soft && temperature <= 0.0 {
            let e: Vec<f32> = l.iter().map(|&v| (v - top).exp()).collect();
            let z: f32 = e.iter().sum();
            for ch in 0..3 {
                let v: f32 = e.iter().zip(PALETTE.iter()).map(|(&ei, c)| ei * c[ch] as f32).sum::<f32>() / z;
                out.push(v.round().clamp(0.0, 255.0) as u8);
            }
        } else {
            out.extend_from_slice(&PALETTE[k]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_keeps_the_exact_bytes_of_pixels_that_keep_their_class() {
        // Two pixels: an anti-aliased one whose class stays, one that turns into class 3.
        let cur = [PALETTE[1][0].saturating_add(1), PALETTE[1][1], PALETTE[1][2], PALETTE[0][0], PALETTE[0][1], PALETTE[0][2]];
        let mut logits = vec![0f32; 2 * CLASSES];
        logits[palette_index([cur[0], cur[1], cur[2]]) as usize] = 9.0;
        logits[CLASSES + 3] = 30.0;
        for c in [Compose::Hard, Compose::Soft] {
            let out = compose(&cur, &logits, c, 0.0, &mut |_| 0.5);
            assert_eq!(&out[..3], &cur[..3], "{c:?}: the kept pixel changed");
            assert_eq!(&out[3..], &PALETTE[3], "{c:?}: a sure change is its class's colour");
        }
        // Sampling: a draw near 1 takes the last class with any weight.
        let out = compose(&cur, &logits, Compose::Soft, 1.0, &mut |_| 0.999_999);
        assert_eq!(&out[3..], &PALETTE[3]);
    }

    #[test]
    fn bad_files_are_refused_with_what_is_wrong() {
        let e = FrameNet::from_safetensors(b"not a safetensors file", "frames.safetensors").unwrap_err();
        assert!(e.to_string().contains("frames.safetensors"), "{e}");
        let e = crate::state::StateNets::from_safetensors(b"", "state.safetensors").unwrap_err();
        assert!(e.to_string().contains("state.safetensors"), "{e}");
    }
}
