// Embedding rows: out[r, c] = table[ids[r], c], as crate::cpu::gather. An index past the
// table reads row 0 (the CPU path refuses it; GPU-made indices are always in range).

struct Params { count: u32, d: u32, rows: u32, stride: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if (t >= p.count * p.d) {
        return;
    }
    let r = t / p.d;
    var id = ids[r];
    if (id >= p.rows) {
        id = 0u;
    }
    out[t] = table[id * p.stride + t % p.d];
}
