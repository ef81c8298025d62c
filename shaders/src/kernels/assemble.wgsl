// Copies one part of a token-axis concatenation into place, as crate::cpu::assemble: for each
// batch entry b, tokens t < n of the part go to token offset + t of a total-token sequence.
// A shared part is the same [n, d] for every b.

struct Params { batch: u32, n: u32, total: u32, offset: u32, d: u32, shared_part: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.batch * p.n * p.d) {
        return;
    }
    let c = i % p.d;
    let t = (i / p.d) % p.n;
    let b = i / (p.d * p.n);
    var src = i;
    if (p.shared_part != 0u) {
        src = t * p.d + c;
    }
    out[(b * p.total + p.offset + t) * p.d + c] = part[src];
}
