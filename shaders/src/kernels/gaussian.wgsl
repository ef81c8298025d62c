// Splits a Gaussian head's output [m, 2l] into mean = base + out[:, :l] and
// logvar = clamp(out[:, l:], lo, hi), as crate::cpu::gaussian.

struct Params { m: u32, l: u32, has_base: u32, lo: f32, hi: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> head: array<f32>;
@group(0) @binding(2) var<storage, read> base: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> logvar: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.m * p.l) {
        return;
    }
    let r = i / p.l;
    let j = i % p.l;
    var b = 0.0;
    if (p.has_base != 0u) {
        b = base[i];
    }
    mean[i] = head[r * 2u * p.l + j] + b;
    logvar[i] = clamp(head[r * 2u * p.l + p.l + j], p.lo, p.hi);
}
