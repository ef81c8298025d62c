// Shared by every kernel: the flat index of a 1-D dispatch, and the activations.

const ROW_THREADS: u32 = 16776960u; // 65535 workgroups x 256 invocations

fn flat(gid: vec3<u32>) -> u32 {
    return gid.x + gid.y * ROW_THREADS;
}

// Abramowitz & Stegun 7.1.26, as crate::cpu::erf.
fn erf_approx(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.3275911 * abs(x));
    let poly = t * (0.2548296 + t * (-0.28449674 + t * (1.4214137 + t * (-1.4531521 + t * 1.0614054))));
    let y = 1.0 - poly * exp(-x * x);
    return select(-y, y, x >= 0.0);
}

// 0: none, 1: GELU, 2: sigmoid (crate::exec::Act::code).
fn activate(v: f32, act: u32) -> f32 {
    if (act == 1u) {
        return 0.5 * v * (1.0 + erf_approx(v * 0.70710678));
    }
    if (act == 2u) {
        return 1.0 / (1.0 + exp(-v));
    }
    return v;
}

// crate::rng, bit for bit.
fn hash32(v: u32) -> u32 {
    var x = v;
    x ^= x >> 16u;
    x *= 0x7feb352du;
    x ^= x >> 15u;
    x *= 0x846ca68bu;
    x ^= x >> 16u;
    return x;
}

fn rng_bits(seed: u32, stream: u32, counter: u32) -> u32 {
    return hash32(hash32(hash32(seed) ^ stream) ^ counter) >> 8u;
}

fn rng_uniform(seed: u32, stream: u32, counter: u32) -> f32 {
    return f32(rng_bits(seed, stream, counter)) * (1.0 / 16777216.0);
}

fn rng_normal(seed: u32, stream: u32, i: u32) -> f32 {
    var s = 0.0;
    for (var k = 0u; k < 12u; k++) {
        s += rng_uniform(seed, stream, 12u * i + k);
    }
    return s - 6.0;
}
