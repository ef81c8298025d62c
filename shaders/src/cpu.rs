//! The CPU path: the same forward pass as the GPU in plain Rust, used when the browser grants
//! no WebGPU adapter and as the reference each WGSL kernel is tested against. Every function
//! here has a kernel of the same name in `kernels/` computing the same thing.

use std::collections::HashMap;
use std::rc::Rc;

use layout::config::{LAYER_NORM_EPS, LOGVAR_MAX, LOGVAR_MIN};
use layout::weights::Weights;

use crate::exec::{Act, Exec, Shape};

/// The error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7). The WGSL
/// kernels use the same formula, so the two paths agree to rounding.
pub fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * (-x * x).exp();
    y.copysign(x)
}

pub fn activate(v: f32, act: Act) -> f32 {
    match act {
        Act::None => v,
        Act::Gelu => 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2)),
        Act::Sigmoid => 1.0 / (1.0 + (-v).exp()),
    }
}

/// `act(x W + b + add)`: `x [m, k]`, `w [k, n]`, `b [n]`, `add [m, n]` -> `[m, n]`.
pub fn linear(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
    act: Act,
    add: Option<&[f32]>,
) -> Vec<f32> {
    assert_eq!(x.len(), m * k, "linear: x is not [{m}, {k}]");
    assert_eq!(w.len(), k * n, "linear: W is not [{k}, {n}]");
    let mut out = vec![0.0f32; m * n];
    for (i, row) in out.chunks_exact_mut(n).enumerate() {
        row.copy_from_slice(b);
        for (kk, &xv) in x[i * k..(i + 1) * k].iter().enumerate() {
            for (o, &wv) in row.iter_mut().zip(&w[kk * n..(kk + 1) * n]) {
                *o += xv * wv;
            }
        }
        if let Some(a) = add {
            for (o, &av) in row.iter_mut().zip(&a[i * n..(i + 1) * n]) {
                *o += av;
            }
        }
        if act != Act::None {
            for o in row.iter_mut() {
                *o = activate(*o, act);
            }
        }
    }
    out
}

/// Layer norm of each row of `x [m, d]` (biased variance, epsilon inside the root).
pub fn layer_norm(x: &[f32], gamma: &[f32], beta: &[f32], d: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; x.len()];
    for (row, o) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)) {
        let mean = row.iter().sum::<f32>() / d as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
        let inv = 1.0 / (var + LAYER_NORM_EPS).sqrt();
        for j in 0..d {
            o[j] = (row[j] - mean) * inv * gamma[j] + beta[j];
        }
    }
    out
}

/// Multi-head attention; see [`Exec::attention`]. `q, k, v: [batch * n, d]`,
/// `mask: [mb * n, n]`.
pub fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    batch: usize,
    n: usize,
    d: usize,
    heads: usize,
    mask: &[f32],
) -> Vec<f32> {
    let dh = d / heads;
    let mut out = vec![0.0f32; batch * n * d];
    let mut probs = vec![0.0f32; n];
    for b in 0..batch {
        for h in 0..heads {
            let col = h * dh;
            for i in 0..n {
                attention_row(q, k, n, d, heads, mask, (b, h, i), &mut probs);
                let o = &mut out[(b * n + i) * d + col..(b * n + i) * d + col + dh];
                for (j, &p) in probs.iter().enumerate() {
                    let vj = &v[(b * n + j) * d + col..(b * n + j) * d + col + dh];
                    for (oo, &vv) in o.iter_mut().zip(vj) {
                        *oo += p * vv;
                    }
                }
            }
        }
    }
    out
}

/// The attention weights of query `i` of head `h` in batch item `b` over all `n` keys (they sum
/// to 1), into `probs`. Shapes as in [`attention`].
#[allow(clippy::too_many_arguments)]
fn attention_row(
    q: &[f32],
    k: &[f32],
    n: usize,
    d: usize,
    heads: usize,
    mask: &[f32],
    (b, h, i): (usize, usize, usize),
    probs: &mut [f32],
) {
    let dh = d / heads;
    let scale = 1.0 / (dh as f32).sqrt();
    let mb = mask.len() / (n * n);
    let m = &mask[(b % mb) * n * n..(b % mb + 1) * n * n];
    let col = h * dh;
    let qi = &q[(b * n + i) * d + col..(b * n + i) * d + col + dh];
    let mut best = f32::NEG_INFINITY;
    for (j, s) in probs.iter_mut().enumerate() {
        let kj = &k[(b * n + j) * d + col..(b * n + j) * d + col + dh];
        *s = qi.iter().zip(kj).map(|(a, c)| a * c).sum::<f32>() * scale + m[i * n + j];
        best = best.max(*s);
    }
    let mut total = 0.0;
    for s in probs.iter_mut() {
        *s = (*s - best).exp();
        total += *s;
    }
    for s in probs.iter_mut() {
        *s /= total;
    }
}

/// Every attention weight of batch item 0: `[heads, n, n]`, row `i` of head `h` the weights of
/// query `i` over the keys. Shapes as in [`attention`].
pub fn attention_weights(
    q: &[f32],
    k: &[f32],
    n: usize,
    d: usize,
    heads: usize,
    mask: &[f32],
) -> Vec<f32> {
    let mut out = vec![0.0f32; heads * n * n];
    for h in 0..heads {
        for i in 0..n {
            let row = &mut out[(h * n + i) * n..(h * n + i + 1) * n];
            attention_row(q, k, n, d, heads, mask, (0, h, i), row);
        }
    }
    out
}

/// Rows `ids` of `table [rows, d]`.
pub fn gather(table: &[f32], d: usize, ids: &[u32]) -> Vec<f32> {
    let rows = table.len() / d;
    ids.iter()
        .flat_map(|&i| {
            assert!((i as usize) < rows, "gather: index {i} outside {rows} rows");
            table[i as usize * d..(i as usize + 1) * d].iter().copied()
        })
        .collect()
}

/// `x [M, d] + y [m, d]`, `y` repeated down the rows.
pub fn add_rows(x: &[f32], y: &[f32]) -> Vec<f32> {
    assert!(
        !y.is_empty() && x.len() % y.len() == 0,
        "add_rows: {} values do not repeat into {}",
        y.len(),
        x.len()
    );
    x.iter().zip(y.iter().cycle()).map(|(a, b)| a + b).collect()
}

/// See [`Exec::assemble`]: parts are `(values, rows per batch entry, shared)`.
pub fn assemble(batch: usize, d: usize, parts: &[(&[f32], usize, bool)]) -> Vec<f32> {
    let mut out = Vec::new();
    for b in 0..batch {
        for &(values, n, shared) in parts {
            let start = if shared { 0 } else { b * n * d };
            out.extend_from_slice(&values[start..start + n * d]);
        }
    }
    out
}

/// Tokens `start..start + len` of each of `batch` sequences of `x [batch * n, d]`.
pub fn select(x: &[f32], batch: usize, d: usize, start: usize, len: usize) -> Vec<f32> {
    let n = x.len() / (batch * d);
    assert!(
        start + len <= n,
        "select: tokens {start}..{} of {n}",
        start + len
    );
    (0..batch)
        .flat_map(|b| {
            x[(b * n + start) * d..(b * n + start + len) * d]
                .iter()
                .copied()
        })
        .collect()
}

/// See [`Exec::gaussian`]: `out [m, 2l]` -> (`base + out[:, :l]`, `clamp(out[:, l:])`).
pub fn gaussian(out: &[f32], base: Option<&[f32]>, l: usize) -> (Vec<f32>, Vec<f32>) {
    let m = out.len() / (2 * l);
    let mut mean = Vec::with_capacity(m * l);
    let mut logvar = Vec::with_capacity(m * l);
    for r in 0..m {
        for j in 0..l {
            let b = base.map_or(0.0, |b| b[r * l + j]);
            mean.push(out[r * 2 * l + j] + b);
            logvar.push(out[r * 2 * l + l + j].clamp(LOGVAR_MIN, LOGVAR_MAX));
        }
    }
    (mean, logvar)
}

/// `[z, g, z * g]` per row, `g` repeated down the rows.
pub fn goal_features(z: &[f32], g: &[f32], zd: usize) -> Vec<f32> {
    let gr = g.len() / zd;
    let mut out = Vec::with_capacity(z.len() * 3);
    for (r, zr) in z.chunks_exact(zd).enumerate() {
        let gg = &g[(r % gr) * zd..(r % gr + 1) * zd];
        out.extend_from_slice(zr);
        out.extend_from_slice(gg);
        out.extend(zr.iter().zip(gg).map(|(a, b)| a * b));
    }
    out
}

/// See [`Exec::sample`].
pub fn sample(mean: &[f32], logvar: &[f32], temperature: f32, seed: u32, stream: u32) -> Vec<f32> {
    if temperature <= 0.0 {
        return mean.to_vec();
    }
    mean.iter()
        .zip(logvar)
        .enumerate()
        .map(|(i, (m, lv))| {
            m + temperature * (0.5 * lv).exp() * crate::rng::normal(seed, stream, i as u32)
        })
        .collect()
}

/// See [`Exec::cem_sample`]: `probs [H, 9]` -> step-major actions `[H * n]`.
pub fn cem_sample(probs: &[f32], n: usize, seed: u32, stream: u32) -> Vec<u32> {
    let k = layout::cem::K;
    let horizon = probs.len() / k;
    let mut out = Vec::with_capacity(horizon * n);
    for h in 0..horizon {
        let p: [f32; 9] = probs[h * k..(h + 1) * k].try_into().expect("9 actions");
        for i in 0..n {
            let u = crate::rng::uniform(seed, stream, (h * n + i) as u32);
            out.push(layout::cem::draw(&p, u) as u32);
        }
    }
    out
}

/// See [`Exec::cem_elites`].
pub fn cem_elites(cost: &[f32], actions: &[u32], horizon: usize, k: usize) -> (Vec<u32>, Vec<f32>) {
    let n = cost.len();
    let key = |i: usize| {
        if cost[i].is_nan() {
            f32::INFINITY
        } else {
            cost[i]
        }
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| key(a).total_cmp(&key(b)).then(a.cmp(&b)));
    let top = &order[..k.min(n)];
    let seqs = top
        .iter()
        .flat_map(|&i| (0..horizon).map(move |h| actions[h * n + i]))
        .collect();
    (seqs, top.iter().map(|&i| key(i)).collect())
}

/// See [`Exec::cem_refit`].
pub fn cem_refit(
    probs: &[f32],
    elites: &[u32],
    k: usize,
    cfg: &layout::cem::CemConfig,
) -> Vec<f32> {
    let a = layout::cem::K;
    let horizon = probs.len() / a;
    let mut out = probs.to_vec();
    for h in 0..horizon {
        let mut counts = [0u32; 9];
        for e in 0..k {
            counts[(elites[e * horizon + h] as usize).min(a - 1)] += 1;
        }
        let p: &mut [f32; 9] = (&mut out[h * a..(h + 1) * a])
            .try_into()
            .expect("9 actions");
        layout::cem::refit_step(p, &counts, k, cfg);
    }
    out
}

/// A row-major matrix on the CPU (cheap to clone).
#[derive(Clone, Debug)]
pub struct Mat {
    pub rows: usize,
    pub cols: usize,
    pub data: Rc<Vec<f32>>,
}

impl Mat {
    pub fn new(data: Vec<f32>, rows: usize, cols: usize) -> Mat {
        assert_eq!(
            data.len(),
            rows * cols,
            "{} values are not [{rows}, {cols}]",
            data.len()
        );
        Mat {
            rows,
            cols,
            data: Rc::new(data),
        }
    }
}

impl Shape for Mat {
    fn rows(&self) -> usize {
        self.rows
    }
    fn cols(&self) -> usize {
        self.cols
    }
}

/// The CPU executor: runs each operation at once.
pub struct Cpu {
    weights: HashMap<String, (Vec<usize>, Vec<f32>)>,
    /// When set, every attention call appends its weights for batch item 0 (`[heads, n, n]`).
    trace: Option<Vec<Vec<f32>>>,
}

impl Cpu {
    pub fn new(weights: Weights) -> Cpu {
        Cpu {
            weights: weights.tensors.into_iter().collect(),
            trace: None,
        }
    }

    /// Starts recording the attention weights of every attention call (batch item 0), for
    /// showing what the model looks at; [`Cpu::take_trace`] returns them in call order.
    pub fn record_attention(&mut self) {
        self.trace = Some(Vec::new());
    }

    /// The attention weights recorded since [`Cpu::record_attention`], and stops recording.
    pub fn take_trace(&mut self) -> Vec<Vec<f32>> {
        self.trace.take().unwrap_or_default()
    }

    fn param(&self, name: &str) -> (&[usize], &[f32]) {
        match self.weights.get(name) {
            Some((shape, values)) => (shape, values),
            None => panic!("no parameter {name}: the graph asked for a tensor the layout lacks"),
        }
    }
}

impl Exec for Cpu {
    type T = Mat;
    type I = Rc<Vec<u32>>;

    fn input(&mut self, values: &[f32], rows: usize, cols: usize) -> Mat {
        Mat::new(values.to_vec(), rows, cols)
    }

    fn ids(&mut self, ids: &[u32]) -> Self::I {
        Rc::new(ids.to_vec())
    }

    fn linear(&mut self, x: &Mat, layer: &str, act: Act, add: Option<&Mat>) -> Mat {
        let (shape, w) = self.param(&format!("{layer}.weight"));
        let (k, n) = (shape[0], shape[1]);
        assert_eq!(
            x.cols, k,
            "{layer}: input has {} columns, weight is [{k}, {n}]",
            x.cols
        );
        let (_, b) = self.param(&format!("{layer}.bias"));
        let out = linear(
            &x.data,
            w,
            b,
            x.rows,
            k,
            n,
            act,
            add.map(|a| a.data.as_slice()),
        );
        Mat::new(out, x.rows, n)
    }

    fn layer_norm(&mut self, x: &Mat, norm: &str) -> Mat {
        let (_, gamma) = self.param(&format!("{norm}.gamma"));
        let (_, beta) = self.param(&format!("{norm}.beta"));
        Mat::new(layer_norm(&x.data, gamma, beta, x.cols), x.rows, x.cols)
    }

    fn attention(
        &mut self,
        q: &Mat,
        k: &Mat,
        v: &Mat,
        batch: usize,
        heads: usize,
        mask: &Mat,
    ) -> Mat {
        let n = q.rows / batch;
        let out = attention(
            &q.data, &k.data, &v.data, batch, n, q.cols, heads, &mask.data,
        );
        if let Some(trace) = &mut self.trace {
            trace.push(attention_weights(
                &q.data, &k.data, n, q.cols, heads, &mask.data,
            ));
        }
        Mat::new(out, q.rows, q.cols)
    }

    fn gather(&mut self, table: &str, ids: &Self::I) -> Mat {
        let (shape, values) = self.param(&format!("{table}.weight"));
        let d = shape[1];
        Mat::new(gather(values, d, ids), ids.len(), d)
    }

    fn add_rows(&mut self, x: &Mat, y: &Mat) -> Mat {
        Mat::new(add_rows(&x.data, &y.data), x.rows, x.cols)
    }

    fn assemble(&mut self, batch: usize, parts: &[(&Mat, bool)]) -> Mat {
        let d = parts[0].0.cols;
        let list: Vec<(&[f32], usize, bool)> = parts
            .iter()
            .map(|(m, shared)| {
                let n = if *shared { m.rows } else { m.rows / batch };
                (m.data.as_slice(), n, *shared)
            })
            .collect();
        let out = assemble(batch, d, &list);
        let rows = out.len() / d;
        Mat::new(out, rows, d)
    }

    fn select(&mut self, x: &Mat, batch: usize, start: usize, len: usize) -> Mat {
        Mat::new(
            select(&x.data, batch, x.cols, start, len),
            batch * len,
            x.cols,
        )
    }

    fn gaussian(&mut self, out: &Mat, base: Option<&Mat>) -> (Mat, Mat) {
        let l = out.cols / 2;
        let (m, lv) = gaussian(&out.data, base.map(|b| b.data.as_slice()), l);
        (Mat::new(m, out.rows, l), Mat::new(lv, out.rows, l))
    }

    fn goal_features(&mut self, z: &Mat, g: &Mat) -> Mat {
        Mat::new(goal_features(&z.data, &g.data, z.cols), z.rows, 3 * z.cols)
    }

    fn sample(
        &mut self,
        mean: &Mat,
        logvar: &Mat,
        temperature: f32,
        seed: u32,
        stream: u32,
    ) -> Mat {
        Mat::new(
            sample(&mean.data, &logvar.data, temperature, seed, stream),
            mean.rows,
            mean.cols,
        )
    }

    fn cem_sample(&mut self, probs: &Mat, n: usize, seed: u32, stream: u32) -> Self::I {
        Rc::new(cem_sample(&probs.data, n, seed, stream))
    }

    fn cem_step(&mut self, actions: &Self::I, h: usize, n: usize) -> Self::I {
        Rc::new(actions[h * n..(h + 1) * n].to_vec())
    }

    fn cem_elites(
        &mut self,
        cost: &Mat,
        actions: &Self::I,
        horizon: usize,
        k: usize,
    ) -> (Self::I, Mat) {
        let (seqs, costs) = cem_elites(&cost.data, actions, horizon, k);
        (Rc::new(seqs), Mat::new(costs, k, 1))
    }

    fn cem_refit(
        &mut self,
        probs: &Mat,
        elites: &Self::I,
        k: usize,
        smoothing: f32,
        min_prob: f32,
    ) -> Mat {
        let cfg = layout::cem::CemConfig {
            smoothing,
            min_prob,
            ..Default::default()
        };
        Mat::new(
            cem_refit(&probs.data, elites, k, &cfg),
            probs.rows,
            probs.cols,
        )
    }
}
