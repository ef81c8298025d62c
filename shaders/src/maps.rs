//! Feature maps for the convolutional nets (the frame predictor and the slot reader), on the
//! CPU. A map is channel-last: row `(b * side + y) * side + x` holds the `channels` values of
//! pixel `(y, x)` of batch item `b`. A 3x3 convolution is then, at every output pixel, the sum
//! over its nine taps of a linear layer applied to the tap's row, so it runs as the same inner
//! loop as [`crate::cpu::linear`] (a row of the output accumulated a weight row at a time,
//! which vectorises over the output channels).
//!
//! Weights are in the runtime's layout, written by the export: a 3x3 convolution's weight is
//! `[9 * cin, cout]`, row `(ky * 3 + kx) * cin + ci` (burn's `[cout, cin, 3, 3]` transposed), a
//! 1x1 convolution's `[cin, cout]`.

use crate::cpu::activate;
use crate::exec::Act;

/// GroupNorm's epsilon (burn's default).
pub const GROUP_NORM_EPS: f32 = 1e-5;

/// A batch of square feature maps, channel-last.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    pub batch: usize,
    pub side: usize,
    pub channels: usize,
    pub data: Vec<f32>,
}

impl Map {
    pub fn new(data: Vec<f32>, batch: usize, side: usize, channels: usize) -> Map {
        assert_eq!(
            data.len(),
            batch * side * side * channels,
            "{} values are not {batch} maps of {side}x{side}x{channels}",
            data.len()
        );
        Map {
            batch,
            side,
            channels,
            data,
        }
    }

    /// Pixels per batch item.
    pub fn pixels(&self) -> usize {
        self.side * self.side
    }
}

/// `act(conv3x3(x) + b + add)` with zero padding of one pixel and the given stride (1 or 2; the
/// side must be even for 2): `w [9 * cin, cout]`, `b [cout]` -> `[batch, side / stride, cout]`.
pub fn conv3(x: &Map, w: &[f32], b: &[f32], stride: usize, act: Act, add: Option<&Map>) -> Map {
    let (cin, cout) = (x.channels, b.len());
    assert_eq!(w.len(), 9 * cin * cout, "conv3: weight is not [9 * {cin}, {cout}]");
    assert!(stride == 1 || (stride == 2 && x.side % 2 == 0), "conv3: stride {stride} on side {}", x.side);
    let (side, out_side) = (x.side, x.side / stride);
    let mut out = vec![0f32; x.batch * out_side * out_side * cout];
    for bi in 0..x.batch {
        let src = &x.data[bi * side * side * cin..(bi + 1) * side * side * cin];
        for oy in 0..out_side {
            for ox in 0..out_side {
                let o = (bi * out_side + oy) * out_side + ox;
                let row = &mut out[o * cout..(o + 1) * cout];
                row.copy_from_slice(b);
                for ky in 0..3 {
                    let iy = (oy * stride + ky) as isize - 1;
                    if iy < 0 || iy >= side as isize {
                        continue;
                    }
                    for kx in 0..3 {
                        let ix = (ox * stride + kx) as isize - 1;
                        if ix < 0 || ix >= side as isize {
                            continue;
                        }
                        let p = iy as usize * side + ix as usize;
                        let xs = &src[p * cin..(p + 1) * cin];
                        let tap = (ky * 3 + kx) * cin;
                        for (ci, &xv) in xs.iter().enumerate() {
                            let wr = &w[(tap + ci) * cout..(tap + ci + 1) * cout];
                            for (r, &wv) in row.iter_mut().zip(wr) {
                                *r += xv * wv;
                            }
                        }
                    }
                }
                if let Some(a) = add {
                    for (r, &av) in row.iter_mut().zip(&a.data[o * cout..(o + 1) * cout]) {
                        *r += av;
                    }
                }
                if act != Act::None {
                    for r in row.iter_mut() {
                        *r = activate(*r, act);
                    }
                }
            }
        }
    }
    Map::new(out, x.batch, out_side, cout)
}

/// A 1x1 convolution: `w [cin, cout]`, `b [cout]`.
pub fn conv1(x: &Map, w: &[f32], b: &[f32]) -> Map {
    let rows = x.batch * x.pixels();
    let out = crate::cpu::linear(&x.data, w, b, rows, x.channels, b.len(), Act::None, None);
    Map::new(out, x.batch, x.side, b.len())
}

/// GroupNorm over `groups` groups of channels (each normalised over its channels and all
/// pixels of its batch item, biased variance), then `gamma`, `beta` per channel, then `act`.
pub fn group_norm(x: &Map, gamma: &[f32], beta: &[f32], groups: usize, act: Act) -> Map {
    let c = x.channels;
    assert!(groups > 0 && c % groups == 0, "group_norm: {c} channels in {groups} groups");
    assert_eq!((gamma.len(), beta.len()), (c, c), "group_norm: gamma and beta must have {c} values");
    let per = c / groups;
    let n = x.pixels();
    let mut out = vec![0f32; x.data.len()];
    for bi in 0..x.batch {
        let src = &x.data[bi * n * c..(bi + 1) * n * c];
        let dst = &mut out[bi * n * c..(bi + 1) * n * c];
        let (mut sum, mut sq) = (vec![0f64; groups], vec![0f64; groups]);
        for px in src.chunks_exact(c) {
            for (ch, &v) in px.iter().enumerate() {
                sum[ch / per] += v as f64;
            }
        }
        let count = (n * per) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        for px in src.chunks_exact(c) {
            for (ch, &v) in px.iter().enumerate() {
                let d = v as f64 - mean[ch / per];
                sq[ch / per] += d * d;
            }
        }
        let inv: Vec<f32> = sq
            .iter()
            .map(|s| 1.0 / ((s / count) as f32 + GROUP_NORM_EPS).sqrt())
            .collect();
        for (px, o) in src.chunks_exact(c).zip(dst.chunks_exact_mut(c)) {
            for ch in 0..c {
                let g = ch / per;
                let v = (px[ch] - mean[g] as f32) * inv[g] * gamma[ch] + beta[ch];
                o[ch] = activate(v, act);
            }
        }
    }
    Map::new(out, x.batch, x.side, c)
}

/// Adds row `b` of `rows [batch, channels]` to every pixel of batch item `b`, in place.
pub fn add_per_item(x: &mut Map, rows: &[f32]) {
    let (c, n) = (x.channels, x.pixels());
    assert_eq!(rows.len(), x.batch * c, "add_per_item: rows are not [{}, {c}]", x.batch);
    for (bi, item) in x.data.chunks_exact_mut(n * c).enumerate() {
        let r = &rows[bi * c..(bi + 1) * c];
        for px in item.chunks_exact_mut(c) {
            for (v, &a) in px.iter_mut().zip(r) {
                *v += a;
            }
        }
    }
}

/// Nearest-neighbour 2x upsampling.
pub fn upsample2(x: &Map) -> Map {
    let (c, s) = (x.channels, x.side);
    let mut out = Vec::with_capacity(x.data.len() * 4);
    for bi in 0..x.batch {
        for y in 0..2 * s {
            for xx in 0..2 * s {
                let p = (bi * s + y / 2) * s + xx / 2;
                out.extend_from_slice(&x.data[p * c..(p + 1) * c]);
            }
        }
    }
    Map::new(out, x.batch, 2 * s, c)
}

/// The channels of `a` then those of `b`, pixel by pixel.
pub fn concat(a: &Map, b: &Map) -> Map {
    assert_eq!((a.batch, a.side), (b.batch, b.side), "concat: maps of different sizes");
    let mut out = Vec::with_capacity(a.data.len() + b.data.len());
    for (pa, pb) in a.data.chunks_exact(a.channels).zip(b.data.chunks_exact(b.channels)) {
        out.extend_from_slice(pa);
        out.extend_from_slice(pb);
    }
    Map::new(out, a.batch, a.side, a.channels + b.channels)
}

/// The nets' input from two frames (`side * side * 3` bytes each, RGB): the current frame,
/// the previous one and their difference (nine channels in 0..1), pixel-unshuffled to half the
/// side: channel `4c + 2i + j` of pixel `(y, x)` is channel `c` of pixel `(2y + i, 2x + j)`
/// (as `model::frame_net::unshuffle`) -> one map `[side / 2, 36]`.
pub fn frame_input(prev: &[u8], cur: &[u8], side: usize) -> Map {
    assert_eq!(cur.len(), side * side * 3, "frame_input: the frame is not {side}x{side} RGB");
    assert_eq!(prev.len(), cur.len(), "frame_input: the two frames differ in size");
    let half = side / 2;
    let mut out = vec![0f32; half * half * 36];
    for y in 0..side {
        for x in 0..side {
            let p = (y * side + x) * 3;
            let o = ((y / 2) * half + x / 2) * 36 + 2 * (y % 2) + (x % 2);
            for ch in 0..3 {
                let (c, pr) = (cur[p + ch] as f32 / 255.0, prev[p + ch] as f32 / 255.0);
                out[o + 4 * ch] = c;
                out[o + 4 * (ch + 3)] = pr;
                out[o + 4 * (ch + 6)] = c - pr;
            }
        }
    }
    Map::new(out, 1, half, 36)
}

/// The inverse of the unshuffle for a head's output `[half, 4 * k]` (channel `4c + 2i + j` ->
/// channel `c` of pixel `(2y + i, 2x + j)`) -> `[(2 * half)^2, k]` row-major pixels.
pub fn shuffle(x: &Map) -> Vec<f32> {
    assert_eq!(x.batch, 1, "shuffle: one map at a time");
    let (h, k) = (x.side, x.channels / 4);
    let side = 2 * h;
    let mut out = vec![0f32; side * side * k];
    for (p, px) in x.data.chunks_exact(x.channels).enumerate() {
        let (y, xx) = (p / h, p % h);
        for c in 0..k {
            for i in 0..2 {
                for j in 0..2 {
                    out[((2 * y + i) * side + 2 * xx + j) * k + c] = px[4 * c + 2 * i + j];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct convolution over burn's weight layout, `[cout, cin, 3, 3]`.
    fn reference_conv(x: &Map, w: &[f32], b: &[f32], stride: usize) -> Vec<f32> {
        let (cin, cout, s) = (x.channels, b.len(), x.side);
        let os = s / stride;
        let mut out = vec![0f32; os * os * cout];
        for oy in 0..os {
            for ox in 0..os {
                for co in 0..cout {
                    let mut acc = b[co];
                    for ci in 0..cin {
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) = ((oy * stride + ky) as isize - 1, (ox * stride + kx) as isize - 1);
                                if iy < 0 || ix < 0 || iy >= s as isize || ix >= s as isize {
                                    continue;
                                }
                                let xv = x.data[(iy as usize * s + ix as usize) * cin + ci];
                                acc += xv * w[((co * cin + ci) * 3 + ky) * 3 + kx];
                            }
                        }
                    }
                    out[(oy * os + ox) * cout + co] = acc;
                }
            }
        }
        out
    }

    fn to_runtime(w: &[f32], cin: usize, cout: usize) -> Vec<f32> {
        let mut out = vec![0f32; w.len()];
        for co in 0..cout {
            for ci in 0..cin {
                for t in 0..9 {
                    out[(t * cin + ci) * cout + co] = w[(co * cin + ci) * 9 + t];
                }
            }
        }
        out
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn conv3_matches_a_direct_convolution_at_both_strides() {
        let (cin, cout, side) = (5, 7, 6);
        let x = Map::new(values(side * side * cin, 1), 1, side, cin);
        let w = values(cout * cin * 9, 2);
        let b = values(cout, 3);
        for stride in [1, 2] {
            let got = conv3(&x, &to_runtime(&w, cin, cout), &b, stride, Act::None, None);
            let want = reference_conv(&x, &w, &b, stride);
            assert_eq!(got.side, side / stride);
            for (g, r) in got.data.iter().zip(&want) {
                assert!((g - r).abs() < 1e-4, "stride {stride}: {g} vs {r}");
            }
        }
    }

    #[test]
    fn group_norm_gives_each_group_zero_mean_and_unit_variance() {
        let x = Map::new(values(2 * 4 * 4 * 8, 5), 2, 4, 8);
        let y = group_norm(&x, &[1.0; 8], &[0.0; 8], 2, Act::None);
        for item in y.data.chunks_exact(16 * 8) {
            for g in 0..2 {
                let v: Vec<f32> = item.chunks_exact(8).flat_map(|p| p[4 * g..4 * g + 4].to_vec()).collect();
                let m = v.iter().sum::<f32>() / v.len() as f32;
                let var = v.iter().map(|a| (a - m) * (a - m)).sum::<f32>() / v.len() as f32;
                assert!(m.abs() < 1e-5 && (var - 1.0).abs() < 1e-3, "mean {m} var {var}");
            }
        }
    }

    #[test]
    fn shuffle_inverts_the_input_unshuffle() {
        let side = 8;
        let cur: Vec<u8> = (0..side * side * 3).map(|i| (i * 7 % 256) as u8).collect();
        let prev = vec![0u8; cur.len()];
        let m = frame_input(&prev, &cur, side);
        // Channels 0..12 are the current frame's R, G, B unshuffled.
        let first = Map::new(
            m.data.chunks_exact(36).flat_map(|p| p[..12].to_vec()).collect(),
            1,
            side / 2,
            12,
        );
        let back = shuffle(&first);
        for (b, &c) in back.iter().zip(&cur) {
            assert!((b - c as f32 / 255.0).abs() < 1e-6);
        }
    }

    #[test]
    fn upsample_and_concat_keep_every_value_in_place() {
        let a = Map::new(values(2 * 2 * 2 * 3, 9), 2, 2, 3);
        let u = upsample2(&a);
        assert_eq!(u.side, 4);
        // Pixel (3, 2) of item 1 comes from pixel (1, 1).
        let p = (4 + 3) * 4 + 2;
        assert_eq!(&u.data[p * 3..p * 3 + 3], &a.data[(4 + 3) * 3..(4 + 3) * 3 + 3]);
        let c = concat(&u, &u);
        assert_eq!(c.channels, 6);
        assert_eq!(&c.data[p * 6 + 3..p * 6 + 6], &u.data[p * 3..p * 3 + 3]);
    }
}
