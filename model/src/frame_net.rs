//! The frame predictor: a small convolutional U-Net that reads the last two frames and the
//! agent's move and writes the next frame as a choice, per pixel, among the renderer's flat
//! colours ([`world::render::PALETTE`]), with a strong prior for "this pixel keeps its colour".
//!
//! Why this shape (docs/MODEL.md has the measurements):
//! - The world is drawn in 14 flat colours with anti-aliased edges. Predicting a palette class
//!   per pixel makes every predicted pixel an exact colour, so objects stay crisp over long
//!   dreams instead of blurring; a pixel whose predicted class is the class it has now is
//!   copied from the current frame exactly (anti-aliasing included), so the static scene is
//!   reproduced to the bit and only what changes is drawn ([`keep_soft`], [`compose_hard`]).
//! - Motion is read from the current frame, the previous one and their difference;
//!   pixel-unshuffling the 64x64 input to 32x32 keeps every pixel while the convolutions run
//!   at a quarter of the positions; two stride-2 levels (16x16, 8x8) see far enough for a
//!   collision a few pixels away.
//! - The move enters as a learned bias at every level, so the network can condition all of
//!   its features on it. With [`FrameNetConfig::move_pairs`] the bias is looked up by the
//!   pair (the move that led to the current frame, the move now): two frames give the agent's
//!   mean speed over the last frame, not its speed at the end of it, which its motor was
//!   still changing; the move that drove it says how.
//! - The head starts at zero: the untrained network predicts "nothing changes" (copying the
//!   last frame), and training moves it away from that only where it helps.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{
    Embedding, EmbeddingConfig, GroupNorm, GroupNormConfig, Initializer, PaddingConfig2d,
};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use world::render::{PALETTE, PALETTE_SIZE};

/// Palette classes the network chooses among.
pub const CLASSES: usize = PALETTE_SIZE;
/// The agent's discrete moves.
pub const MOVES: usize = world::action::DISCRETE_ACTIONS;
/// Frame side, pixels.
pub const SIDE: usize = world::render::FRAME_SIZE as usize;
/// Side of the unshuffled grid the convolutions run on.
pub const GRID: usize = SIDE / 2;
/// Logit added to each pixel's current class: "no change" is the default answer.
pub const KEEP_PRIOR: f32 = 4.0;
/// Channels of the input: current frame, previous frame, their difference (RGB each).
const INPUT_CHANNELS: usize = 9;
/// Spread of the move embeddings at the start: as large as the features they are added to,
/// so the move steers the network from the first step.
const ACTION_INIT_STD: f64 = 1.0;
/// Groups of every GroupNorm.
const NORM_GROUPS: usize = 8;

/// How the next frame is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    /// Each pixel chooses a palette colour; choosing its current colour keeps its exact bytes.
    #[default]
    Palette,
    /// Each pixel chooses where in the current frame to copy itself from: a horizontal and a
    /// vertical offset, each within [`REACH`] pixels. Objects move as wholes, keep their
    /// anti-aliased edges and cannot fade away; uncovered background is copied from nearby
    /// background.
    Shift,
}

/// Farthest a pixel copies from, pixels each way (the agent's top speed is 3.8 pixels a
/// frame).
pub const REACH: usize = 4;
/// Offsets per axis.
pub const OFFSETS: usize = 2 * REACH + 1;

impl Output {
    /// Logits per pixel.
    pub fn channels(self) -> usize {
        match self {
            Output::Palette => CLASSES,
            Output::Shift => 2 * OFFSETS,
        }
    }
}

/// The sizes of a [`FrameNet`]: the channel width at 32x32 (16x16 has twice as many, 8x8
/// three times), the residual blocks at 8x8 and the kind of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameNetConfig {
    pub width: usize,
    #[serde(default)]
    pub output: Output,
    /// Residual blocks at 8x8: 2 (the teacher) or 1 (the student, which then has under a
    /// quarter of the teacher's parameters at half its width: the stem's and the head's
    /// parameters grow with the width, not its square).
    #[serde(default = "two")]
    pub bottleneck: usize,
    /// The move biases are looked up by (last move, move) (`runtime::frame_net::move_row`):
    /// `MOVES * MOVES` rows instead of `MOVES`.
    #[serde(default)]
    pub move_pairs: bool,
}

fn two() -> usize {
    2
}

impl FrameNetConfig {
    /// The teacher's layout at this width.
    pub fn new(width: usize, output: Output) -> FrameNetConfig {
        FrameNetConfig {
            width,
            output,
            bottleneck: 2,
            move_pairs: false,
        }
    }
}

impl FrameNetConfig {
    /// Channels at 32x32, 16x16 and 8x8.
    pub fn widths(&self) -> [usize; 3] {
        [self.width, 2 * self.width, 3 * self.width]
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.width == 0 || self.width % NORM_GROUPS != 0 {
            return Err(format!(
                "frame net width {} must be a positive multiple of {NORM_GROUPS}",
                self.width
            ));
        }
        if !(1..=2).contains(&self.bottleneck) {
            return Err(format!(
                "frame net bottleneck must have 1 or 2 residual blocks, not {}",
                self.bottleneck
            ));
        }
        Ok(())
    }

    /// FLOPs of one forward pass for one frame (a multiply-add counts 2; convolutions only,
    /// which are all but a fraction of a percent of the work).
    pub fn flops_per_frame(&self) -> f64 {
        let [c1, c2, c3] = self.widths();
        let conv = |cin: usize, cout: usize, side: usize| 2.0 * (9 * cin * cout * side * side) as f64;
        let res = |c: usize, side: usize| 2.0 * conv(c, c, side);
        conv(4 * INPUT_CHANNELS, c1, GRID)
            + res(c1, GRID)
            + conv(c1, c2, GRID / 2)
            + res(c2, GRID / 2)
            + conv(c2, c3, GRID / 4)
            + self.bottleneck as f64 * res(c3, GRID / 4)
            + conv(c3 + c2, c2, GRID / 2)
            + res(c2, GRID / 2)
            + conv(c2 + c1, c1, GRID)
            + res(c1, GRID)
            + conv(c1, 4 * self.output.channels(), GRID)
    }
}

fn conv3(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

/// A pre-norm residual block: `x + conv(gelu(conv(gelu(norm(x)))))`.
#[derive(Module, Debug)]
pub struct Res {
    pub norm: GroupNorm,
    pub c1: Conv2d,
    pub c2: Conv2d,
}

impl Res {
    pub fn new(c: usize, device: &Device) -> Res {
        Res {
            norm: GroupNormConfig::new(NORM_GROUPS, c).init(device),
            c1: conv3(c, c, 1, device),
            c2: conv3(c, c, 1, device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let h = self.c1.forward(gelu(self.norm.forward(x.clone())));
        x + self.c2.forward(gelu(h))
    }
}

/// The U-Net. Tensor names (`stem.weight`, `r1.c1.weight`, ...) are the field paths.
#[derive(Module, Debug)]
pub struct FrameNet {
    pub stem: Conv2d,
    pub a1: Embedding,
    pub r1: Res,
    pub d1: Conv2d,
    pub a2: Embedding,
    pub r2: Res,
    pub d2: Conv2d,
    pub a3: Embedding,
    pub r3a: Res,
    pub r3b: Option<Res>,
    pub u2: Conv2d,
    pub r4: Res,
    pub u1: Conv2d,
    pub r5: Res,
    pub head: Conv2d,
    #[module(skip)]
    pub output: Output,
}

/// What one forward pass gives.
pub struct FrameOut {
    /// `[B, output.channels(), 64, 64]`: logits over the palette, or over the horizontal then
    /// the vertical offsets; the prior for "no change" included.
    pub logits: Tensor<4>,
    /// `[B, 1, 64, 64]`: the palette class of each pixel of the current frame.
    pub current_class: Tensor<4, Int>,
    pub output: Output,
}

impl FrameNet {
    pub fn new(c: &FrameNetConfig, device: &Device) -> FrameNet {
        let [c1, c2, c3] = c.widths();
        let emb = |d: usize| {
            EmbeddingConfig::new(if c.move_pairs { MOVES * MOVES } else { MOVES }, d)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: ACTION_INIT_STD,
                })
                .init(device)
        };
        FrameNet {
            stem: conv3(4 * INPUT_CHANNELS, c1, 1, device),
            a1: emb(c1),
            r1: Res::new(c1, device),
            d1: conv3(c1, c2, 2, device),
            a2: emb(c2),
            r2: Res::new(c2, device),
            d2: conv3(c2, c3, 2, device),
            a3: emb(c3),
            r3a: Res::new(c3, device),
            r3b: (c.bottleneck == 2).then(|| Res::new(c3, device)),
            u2: conv3(c3 + c2, c2, 1, device),
            r4: Res::new(c2, device),
            u1: conv3(c2 + c1, c1, 1, device),
            r5: Res::new(c1, device),
            head: Conv2dConfig::new([c1, 4 * c.output.channels()], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_initializer(Initializer::Zeros)
                .init(device),
            output: c.output,
        }
    }

    pub fn param_count(&self) -> usize {
        self.num_params()
    }

    /// The same net with move tables by (last move, move), every pair starting from the row
    /// of its move: it predicts exactly as before until training tells the pairs apart.
    pub fn with_move_pairs(mut self) -> FrameNet {
        let pairs = |e: Embedding| {
            let [rows, d] = e.weight.dims();
            if rows != MOVES {
                return e;
            }
            let w = e.weight.val();
            let device = w.device();
            let idx: Vec<i64> = (0..MOVES * MOVES).map(|r| (r % MOVES) as i64).collect();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [MOVES * MOVES]), &device);
            let mut out = EmbeddingConfig::new(MOVES * MOVES, d).init(&device);
            out.weight = burn::module::Param::from_tensor(w.select(0, idx).detach());
            out
        };
        self.a1 = pairs(self.a1);
        self.a2 = pairs(self.a2);
        self.a3 = pairs(self.a3);
        self
    }

    /// One step: `prev`, `cur` `[B, 3, 64, 64]` in 0..1, the moves that led to `cur` (`last`)
    /// and the moves now, `[B]` each -> the next frame's palette logits.
    pub fn forward(&self, prev: Tensor<4>, cur: Tensor<4>, last: Tensor<1, Int>, moves: Tensor<1, Int>) -> FrameOut {
        let [b, _, _, _] = cur.dims();
        let current_class = palette_class(cur.clone());
        let x = Tensor::cat(vec![cur.clone(), prev.clone(), cur - prev], 1);
        let x = unshuffle(x);
        let [rows, _] = self.a1.weight.dims();
        let rows = if rows == MOVES * MOVES { last * MOVES as i64 + moves } else { moves };
        let bias = |e: &Embedding| {
            let [_, d] = e.weight.dims();
            e.forward(rows.clone().reshape([b, 1])).reshape([b, d, 1, 1])
        };
        let h1 = self.r1.forward(gelu(self.stem.forward(x)) + bias(&self.a1));
        let h2 = self.r2.forward(gelu(self.d1.forward(h1.clone())) + bias(&self.a2));
        let h3 = gelu(self.d2.forward(h2.clone())) + bias(&self.a3);
        let h3 = self.r3a.forward(h3);
        let h3 = match &self.r3b {
            Some(r) => r.forward(h3),
            None => h3,
        };
        let u2 = self.r4.forward(gelu(
            self.u2.forward(Tensor::cat(vec![upsample(h3), h2], 1)),
        ));
        let u1 = self.r5.forward(gelu(
            self.u1.forward(Tensor::cat(vec![upsample(u2), h1], 1)),
        ));
        let raw = shuffle(self.head.forward(u1));
        let logits = match self.output {
            Output::Palette => raw + one_hot(current_class.clone()) * KEEP_PRIOR,
            Output::Shift => raw + shift_prior(&current_class.device()),
        };
        FrameOut {
            logits,
            current_class,
            output: self.output,
        }
    }
}

/// `[B, C, 64, 64]` -> `[B, 4C, 32, 32]`: channel `4c + 2i + j` holds pixel `(2y + i, 2x + j)`
/// of channel `c` (PyTorch's `pixel_unshuffle`).
pub fn unshuffle(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h / 2, 2, w / 2, 2])
        .permute([0, 1, 3, 5, 2, 4])
        .reshape([b, c * 4, h / 2, w / 2])
}

/// The inverse of [`unshuffle`].
pub fn shuffle(x: Tensor<4>) -> Tensor<4> {
    let [b, c4, h, w] = x.dims();
    let c = c4 / 4;
    x.reshape([b, c, 2, 2, h, w])
        .permute([0, 1, 4, 2, 5, 3])
        .reshape([b, c, h * 2, w * 2])
}

/// Nearest-neighbour 2x upsampling.
pub fn upsample(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, 2, w, 2])
        .reshape([b, c, h * 2, w * 2])
}

/// `[CLASSES, 3]`: the palette in 0..1.
pub fn palette_tensor(device: &Device) -> Tensor<2> {
    let v: Vec<f32> = PALETTE
        .iter()
        .flat_map(|p| p.iter().map(|&c| c as f32 / 255.0))
        .collect();
    Tensor::from_data(TensorData::new(v, [CLASSES, 3]), device)
}

/// `[B, 3, H, W]` in 0..1 -> `[B, 1, H, W]`: the nearest palette colour of each pixel (as
/// [`world::render::palette_index`], up to ties between equally distant colours).
pub fn palette_class(x: Tensor<4>) -> Tensor<4, Int> {
    let [b, _, h, w] = x.dims();
    let p = palette_tensor(&x.device()).reshape([1, CLASSES, 3, 1, 1]);
    let d = (x.reshape([b, 1, 3, h, w]) - p).powi_scalar(2).sum_dim(2); // [B, K, 1, H, W]
    d.reshape([b, CLASSES, h, w]).argmin(1)
}

/// `[B, 1, H, W]` classes -> `[B, CLASSES, H, W]` one-hot floats.
pub fn one_hot(classes: Tensor<4, Int>) -> Tensor<4> {
    let [b, _, h, w] = classes.dims();
    classes
        .reshape([b * h * w])
        .one_hot::<2>(CLASSES)
        .float()
        .reshape([b, h, w, CLASSES])
        .permute([0, 3, 1, 2])
}

/// The expected colour under the logits: `[B, CLASSES, H, W]` -> `[B, 3, H, W]`.
pub fn soft_image(logits: Tensor<4>) -> Tensor<4> {
    let [b, k, h, w] = logits.dims();
    let p = softmax(logits, 1).permute([0, 2, 3, 1]).reshape([b * h * w, k]);
    let palette = palette_tensor(&p.device());
    p.matmul(palette)
        .reshape([b, h, w, 3])
        .permute([0, 3, 1, 2])
}

/// The next frame as training rolls it (differentiable; see [`keep_soft`], [`shift_soft`]).
pub fn rolled(out: &FrameOut, cur: Tensor<4>) -> Tensor<4> {
    match out.output {
        Output::Palette => keep_soft(out, cur),
        Output::Shift => shift_soft(out.logits.clone(), cur),
    }
}

/// The next frame as training rolls it under [`Output::Palette`]: where the most likely
/// class is the pixel's current class the pixel is copied from `cur` (so gradients flow
/// through earlier steps), elsewhere it is the expected palette colour.
pub fn keep_soft(out: &FrameOut, cur: Tensor<4>) -> Tensor<4> {
    let [b, _, h, w] = cur.dims();
    let same = out
        .logits
        .clone()
        .argmax(1)
        .equal(out.current_class.clone())
        .expand([b, 3, h, w]);
    soft_image(out.logits.clone()).mask_where(same, cur)
}

/// The next frame as the page and `eval` draw it: `classes` is the argmax of each pixel's
/// logits (`SIDE * SIDE` values); a pixel whose class is its current class keeps its exact
/// bytes from `cur` (anti-aliasing included), any other takes its class's palette colour.
pub fn compose_hard(cur: &[u8], classes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cur.len());
    for (px, &k) in cur.chunks_exact(3).zip(classes) {
        if world::render::palette_index([px[0], px[1], px[2]]) == k {
            out.extend_from_slice(px);
        } else {
            out.extend_from_slice(&PALETTE[k as usize]);
        }
    }
    out
}

/// How a dreamed pixel is drawn: the runtime's rule, so that `eval` scores what the page draws.
pub use runtime::frame_net::Compose;

/// [`compose_hard`], except that a pixel whose class changes takes `soft`'s colour (the
/// expected colour, `64 * 64 * 3` bytes) instead of its class's flat colour.
pub fn compose_soft(cur: &[u8], classes: &[u8], soft: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cur.len());
    for ((px, &k), s) in cur.chunks_exact(3).zip(classes).zip(soft.chunks_exact(3)) {
        if world::render::palette_index([px[0], px[1], px[2]]) == k {
            out.extend_from_slice(px);
        } else {
            out.extend_from_slice(s);
        }
    }
    out
}

/// `[1, 2 * OFFSETS, 1, 1]`: [`KEEP_PRIOR`] on the zero offset of both axes.
fn shift_prior(device: &Device) -> Tensor<4> {
    let mut v = vec![0f32; 2 * OFFSETS];
    v[REACH] = KEEP_PRIOR;
    v[OFFSETS + REACH] = KEEP_PRIOR;
    Tensor::from_data(TensorData::new(v, [1, 2 * OFFSETS, 1, 1]), device)
}

/// `cur` `[B, 3, 64, 64]` padded by [`REACH`] pixels on every side by repeating the edge.
fn pad_edges(cur: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = cur.dims();
    let r = REACH;
    let rows = |t: Tensor<4>, at: usize| t.narrow(2, at, 1);
    let top = rows(cur.clone(), 0).repeat_dim(2, r);
    let bottom = rows(cur.clone(), h - 1).repeat_dim(2, r);
    let tall = Tensor::cat(vec![top, cur, bottom], 2);
    let left = tall.clone().narrow(3, 0, 1).repeat_dim(3, r);
    let right = tall.clone().narrow(3, w - 1, 1).repeat_dim(3, r);
    Tensor::cat(vec![left, tall, right], 3)
}

/// The next frame as training rolls it under [`Output::Shift`]: every pixel is the expected
/// colour over its offsets, `sum p(ox) p(oy) cur[y + oy, x + ox]` (edges repeated).
pub fn shift_soft(logits: Tensor<4>, cur: Tensor<4>) -> Tensor<4> {
    let [_, _, h, w] = cur.dims();
    let px = softmax(logits.clone().narrow(1, 0, OFFSETS), 1);
    let py = softmax(logits.narrow(1, OFFSETS, OFFSETS), 1);
    let padded = pad_edges(cur);
    let mut out: Option<Tensor<4>> = None;
    for oy in 0..OFFSETS {
        let band = padded.clone().narrow(2, oy, h);
        let mut row: Option<Tensor<4>> = None;
        for ox in 0..OFFSETS {
            let term = band.clone().narrow(3, ox, w) * px.clone().narrow(1, ox, 1);
            row = Some(match row {
                Some(r) => r + term,
                None => term,
            });
        }
        let term = row.expect("offsets") * py.clone().narrow(1, oy, 1);
        out = Some(match out {
            Some(o) => o + term,
            None => term,
        });
    }
    out.expect("offsets")
}

/// Under [`Output::Shift`], the log-probability that each pixel copies from a place in `cur`
/// whose colour is the true next colour (within 2/255 per channel): `[B, 1, 64, 64]`, and
/// which pixels have any such place at all (`[B, 1, 64, 64]`, 1 or 0).
pub fn shift_match(logits: Tensor<4>, cur: Tensor<4>, truth: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
    let [_, _, h, w] = cur.dims();
    let px = softmax(logits.clone().narrow(1, 0, OFFSETS), 1);
    let py = softmax(logits.narrow(1, OFFSETS, OFFSETS), 1);
    let padded = pad_edges(cur);
    let mut prob: Option<Tensor<4>> = None;
    let mut any: Option<Tensor<4>> = None;
    for oy in 0..OFFSETS {
        let band = padded.clone().narrow(2, oy, h);
        for ox in 0..OFFSETS {
            let src = band.clone().narrow(3, ox, w);
            let hit = (src - truth.clone())
                .abs()
                .max_dim(1)
                .lower_equal_elem(2.0 / 255.0)
                .float()
                .detach();
            let p = px.clone().narrow(1, ox, 1) * py.clone().narrow(1, oy, 1) * hit.clone();
            prob = Some(match prob {
                Some(q) => q + p,
                None => p,
            });
            any = Some(match any {
                Some(a) => a.max_pair(hit),
                None => hit,
            });
        }
    }
    ((prob.expect("offsets") + 1e-6).log(), any.expect("offsets"))
}

/// The next frame as the page and `eval` draw it under [`Output::Shift`]: `ox`, `oy` are each
/// pixel's most likely offsets (indices 0..OFFSETS, `REACH` = no move); every pixel copies
/// its source's exact bytes.
pub fn compose_shift(cur: &[u8], ox: &[u8], oy: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(cur.len());
    let s = SIDE as isize;
    for p in 0..SIDE * SIDE {
        let (y, x) = ((p / SIDE) as isize, (p % SIDE) as isize);
        let sy = (y + oy[p] as isize - REACH as isize).clamp(0, s - 1);
        let sx = (x + ox[p] as isize - REACH as isize).clamp(0, s - 1);
        let q = (sy * s + sx) as usize * 3;
        out.extend_from_slice(&cur[q..q + 3]);
    }
    out
}

/// A frame predictor of configuration `c` from its burn record at `path` (a `dream` run's
/// `frames.bin`).
pub fn load(path: &std::path::Path, c: &FrameNetConfig, device: &Device) -> Result<FrameNet, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rec = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
        .map_err(|e| format!("{}: not a frame predictor record: {e:?}", path.display()))?;
    Ok(burn::module::Module::load_record(FrameNet::new(c, device), rec))
}
