//! Counter-based random numbers, the same on the CPU and in WGSL (`kernels/common.wgsl`): a
//! draw is a pure function of (seed, stream, counter), so a GPU thread needs no state and both
//! paths draw identical numbers for the same seed. The mixer is a 32-bit integer hash
//! ("lowbias32", two multiply-xorshift rounds) applied three times.
//!
//! Normals are the sum of 12 uniforms minus 6 (mean 0, variance 1, within +-6): only
//! additions of exact multiples of 2^-24, which WGSL rounds as the CPU does, so both paths draw
//! the same normals. Box-Muller would go through WGSL's `log` and `cos`, whose allowed error
//! (2^-11 absolute for `cos`) made the two paths' samples differ by 1e-4 on SwiftShader.

pub fn hash(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// 24 random bits of (seed, stream, counter).
pub fn bits(seed: u32, stream: u32, counter: u32) -> u32 {
    hash(hash(hash(seed) ^ stream) ^ counter) >> 8
}

/// Uniform in [0, 1), a multiple of 2^-24 (exact in f32 on every platform).
pub fn uniform(seed: u32, stream: u32, counter: u32) -> f32 {
    bits(seed, stream, counter) as f32 * (1.0 / 16_777_216.0)
}

/// Approximately standard normal: uniforms `12i .. 12i + 11` summed, minus 6.
pub fn normal(seed: u32, stream: u32, i: u32) -> f32 {
    let mut s = 0.0f32;
    for k in 0..12 {
        s += uniform(seed, stream, 12 * i + k);
    }
    s - 6.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_draws_look_uniform_and_streams_differ() {
        let n = 100_000;
        let mean = (0..n).map(|i| uniform(7, 0, i) as f64).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        let same = (0..1000)
            .filter(|&i| uniform(7, 0, i) == uniform(7, 1, i))
            .count();
        assert!(same < 5);
        let z: Vec<f64> = (0..n).map(|i| normal(3, 2, i) as f64).collect();
        let m = z.iter().sum::<f64>() / n as f64;
        let v = z.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.02 && (v - 1.0).abs() < 0.03, "mean {m} var {v}");
    }
}
