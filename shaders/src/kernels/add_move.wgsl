// y = x + row `mv` of a move table at every pixel, as crate::maps::add_per_item with the same
// row for every item: x and y [rows, c], table [moves, c] stored with rows padded to n4 columns.

struct Params { len: u32, c: u32, n4: u32, mv: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> table: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.len) {
        return;
    }
    y[i] = x[i] + table[p.mv * p.n4 + i % p.c];
}
