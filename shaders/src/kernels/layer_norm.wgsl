// Layer norm of each row of x [rows, d]: (x - mean) / sqrt(var + eps) * gamma + beta, with the
// biased variance, as crate::cpu::layer_norm. One workgroup of 64 per row; the mean and then
// the variance are reduced through workgroup memory (`reduce`, from reduce.wgsl; two passes, as
// the CPU does).

struct Params { rows: u32, d: u32, eps: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let row = wg.x + wg.y * 65535u;
    // The whole workgroup leaves together (row is uniform), so barriers stay uniform.
    if (row >= p.rows) {
        return;
    }
    let base = row * p.d;
    var s = 0.0;
    for (var j = lid; j < p.d; j += 64u) {
        s += x[base + j];
    }
    part[lid] = s;
    workgroupBarrier();
    let mean = reduce(lid) / f32(p.d);
    var q = 0.0;
    for (var j = lid; j < p.d; j += 64u) {
        let c = x[base + j] - mean;
        q += c * c;
    }
    part[lid] = q;
    workgroupBarrier();
    let inv = 1.0 / sqrt(reduce(lid) / f32(p.d) + p.eps);
    for (var j = lid; j < p.d; j += 64u) {
        y[base + j] = (x[base + j] - mean) * inv * gamma[j] + beta[j];
    }
}
