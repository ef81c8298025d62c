// out = x + y with y repeated down the rows: out[i] = x[i] + y[i % ylen], as crate::cpu::add_rows.

struct Params { len: u32, ylen: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if (t >= p.len) {
        return;
    }
    out[t] = x[t] + y[t % p.ylen];
}
