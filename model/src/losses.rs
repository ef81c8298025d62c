//! The frame predictor's losses, for one predicted step.
//!
//! - `pixels`: mean squared error of the rolled frame (what PSNR measures), x100;
//! - `classes`: cross-entropy of the palette logits against the true frame's palette classes;
//! - `counts`: for each object colour, the agent and its dot, the difference between the
//!   predicted and the true number of pixels of that class, over 64: objects must neither
//!   vanish nor smear (an uncertain mover otherwise fades to background, which costs less
//!   squared error than drawing it in a slightly wrong place);
//! - `centroids`: for the same classes, wherever the truth has one, the distance between the
//!   predicted and the true centre of the class's pixels, in frame widths: the model must move
//!   objects, not freeze them.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Tensor, TensorData};

use crate::train::scalar;
use crate::frame_net::{one_hot, palette_class, shift_match, FrameOut, Output, SIDE};

/// The palette classes whose pixels are counted and located: the agent, its dot and the six
/// object colours (palette indices 4..12).
pub const TRACKED: std::ops::Range<usize> = 4..12;
/// Fewest true pixels of a class for its centre to be compared.
const MIN_PIXELS: f32 = 4.0;

/// Weights of the loss terms.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossWeights {
    pub pixels: f32,
    pub classes: f32,
    pub counts: f32,
    pub centroids: f32,
}

impl Default for LossWeights {
    fn default() -> Self {
        LossWeights {
            pixels: 100.0,
            classes: 1.0,
            counts: 1.0,
            centroids: 4.0,
        }
    }
}

/// Each term's value, for the log.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepTerms {
    pub pixels: f64,
    pub classes: f64,
    pub counts: f64,
    pub centroids: f64,
}

impl StepTerms {
    pub fn add(&mut self, o: &StepTerms, w: f64) {
        self.pixels += o.pixels * w;
        self.classes += o.classes * w;
        self.counts += o.counts * w;
        self.centroids += o.centroids * w;
    }
}

/// `[1, 1, 64, 64]` pixel-centre coordinates in frame widths: x (columns) and y (rows).
fn coordinates(device: &Device) -> (Tensor<4>, Tensor<4>) {
    let mut xs = Vec::with_capacity(SIDE * SIDE);
    let mut ys = Vec::with_capacity(SIDE * SIDE);
    for r in 0..SIDE {
        for c in 0..SIDE {
            xs.push((c as f32 + 0.5) / SIDE as f32);
            ys.push((r as f32 + 0.5) / SIDE as f32);
        }
    }
    let t = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [1, 1, SIDE, SIDE]), device);
    (t(xs), t(ys))
}

/// The loss of one predicted step: `out` the pass from `cur`, `rolled` the frame the rollout
/// continues from (`[B, 3, 64, 64]`), `truth` the true next frame. Returns the weighted sum
/// (a scalar tensor) and the unweighted terms.
pub fn step_loss(
    out: &FrameOut,
    cur: Tensor<4>,
    rolled: Tensor<4>,
    truth: Tensor<4>,
    w: &LossWeights,
) -> (Tensor<1>, StepTerms) {
    match out.output {
        Output::Palette => palette_loss(out.logits.clone(), rolled, truth, w),
        Output::Shift => shift_loss(out.logits.clone(), cur, rolled, truth, w),
    }
}

/// Under [`Output::Shift`]: squared error of the rolled frame, and (as `classes`) the negative
/// log-probability of copying each pixel from a place of the right colour, over the pixels
/// that have one.
fn shift_loss(
    logits: Tensor<4>,
    cur: Tensor<4>,
    rolled: Tensor<4>,
    truth: Tensor<4>,
    w: &LossWeights,
) -> (Tensor<1>, StepTerms) {
    let pixels = (rolled - truth.clone()).powi_scalar(2).mean();
    let (logp, any) = shift_match(logits, cur, truth);
    let classes = (logp * any.clone()).sum().neg() / (any.sum() + 1.0);
    let total = pixels.clone() * w.pixels + classes.clone() * w.classes;
    let terms = StepTerms {
        pixels: scalar(pixels),
        classes: scalar(classes),
        counts: 0.0,
        centroids: 0.0,
    };
    (total, terms)
}

fn palette_loss(
    logits: Tensor<4>,
    rolled: Tensor<4>,
    truth: Tensor<4>,
    w: &LossWeights,
) -> (Tensor<1>, StepTerms) {
    let device = logits.device();
    let target = one_hot(palette_class(truth.clone()));
    let pixels = (rolled - truth).powi_scalar(2).mean();
    let classes = (log_softmax(logits.clone(), 1) * target.clone())
        .sum_dim(1)
        .mean()
        .neg();
    let mut total = pixels.clone() * w.pixels + classes.clone() * w.classes;
    let mut terms = StepTerms {
        pixels: scalar(pixels),
        classes: scalar(classes),
        counts: 0.0,
        centroids: 0.0,
    };
    if w.counts == 0.0 && w.centroids == 0.0 {
        // Skipped, not weighted by zero: their backward pass would still cost time.
        return (total, terms);
    }
    let n = TRACKED.len();
    let p = softmax(logits, 1).narrow(1, TRACKED.start, n); // [B, n, H, W]
    let t = target.narrow(1, TRACKED.start, n);
    let p_mass = p.clone().sum_dims(&[2, 3]); // [B, n, 1, 1]
    let t_mass = t.clone().sum_dims(&[2, 3]);
    let counts = (p_mass.clone() - t_mass.clone()).abs().mean() / SIDE as f64;
    let (xs, ys) = coordinates(&device);
    let centre = |m: Tensor<4>, mass: Tensor<4>| {
        let cx = (m.clone() * xs.clone()).sum_dims(&[2, 3]) / (mass.clone() + 1e-3);
        let cy = (m * ys.clone()).sum_dims(&[2, 3]) / (mass + 1e-3);
        (cx, cy)
    };
    let (px, py) = centre(p, p_mass);
    let (tx, ty) = centre(t, t_mass.clone());
    let present = t_mass.greater_equal_elem(MIN_PIXELS).float();
    let centroids = (((px - tx).powi_scalar(2) + (py - ty).powi_scalar(2) + 1e-6).sqrt()
        * present.clone())
    .sum()
        / (present.sum() + 1.0);
    total = total + counts.clone() * w.counts + centroids.clone() * w.centroids;
    terms.counts = scalar(counts);
    terms.centroids = scalar(centroids);
    (total, terms)
}
