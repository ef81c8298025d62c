// Tokens start..start + len of each of batch sequences of n tokens, as crate::cpu::select.

struct Params { batch: u32, n: u32, start: u32, len: u32, d: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.batch * p.len * p.d) {
        return;
    }
    let c = i % p.d;
    let t = (i / p.d) % p.len;
    let b = i / (p.d * p.len);
    out[i] = x[(b * p.n + p.start + t) * p.d + c];
}
