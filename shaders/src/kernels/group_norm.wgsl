// GroupNorm, as crate::maps::group_norm: x [batch, pixels, c] channel-last in `groups` groups of
// c / groups channels, each normalised over its channels and all pixels of its batch item
// (biased variance), then gamma and beta per channel, then the activation. One workgroup of 64
// per (item, group); the mean and then the variance are reduced through workgroup memory
// (`reduce`, from reduce.wgsl; two passes, as the CPU does).

struct Params { batch: u32, pixels: u32, c: u32, groups: u32, act: u32, eps: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let item = wg.x / p.groups;
    let g = wg.x % p.groups;
    // The whole workgroup leaves together (item is uniform), so barriers stay uniform.
    if (item >= p.batch) {
        return;
    }
    let per = p.c / p.groups;
    let n = p.pixels * per;
    let base = item * p.pixels * p.c + g * per;
    var s = 0.0;
    for (var e = lid; e < n; e += 64u) {
        s += x[base + (e / per) * p.c + e % per];
    }
    part[lid] = s;
    workgroupBarrier();
    let mean = reduce(lid) / f32(n);
    var q = 0.0;
    for (var e = lid; e < n; e += 64u) {
        let d = x[base + (e / per) * p.c + e % per] - mean;
        q += d * d;
    }
    part[lid] = q;
    workgroupBarrier();
    let inv = 1.0 / sqrt(reduce(lid) / f32(n) + p.eps);
    for (var e = lid; e < n; e += 64u) {
        let i = base + (e / per) * p.c + e % per;
        let ch = g * per + e % per;
        y[i] = activate((x[i] - mean) * inv * gamma[ch] + beta[ch], p.act);
    }
}
