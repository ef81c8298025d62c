// Goal-cost features [z, g, z * g] per row, g [grows, zd] repeated down the rows, as
// crate::cpu::goal_features.

struct Params { n: u32, zd: u32, grows: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.n * p.zd) {
        return;
    }
    let r = i / p.zd;
    let j = i % p.zd;
    let zv = z[i];
    let gv = g[(r % p.grows) * p.zd + j];
    let o = r * 3u * p.zd;
    out[o + j] = zv;
    out[o + p.zd + j] = gv;
    out[o + 2u * p.zd + j] = zv * gv;
}
