// y = the channels of upsample2(a) (nearest neighbour) then those of b, pixel by pixel, as
// crate::maps::concat(&crate::maps::upsample2(a), b): a [batch, s, s, ca], b [batch, 2s, 2s, cb]
// -> y [batch, 2s, 2s, ca + cb], all channel-last.

struct Params { len: u32, s: u32, ca: u32, cb: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.len) {
        return;
    }
    let c = p.ca + p.cb;
    let pix = i / c;
    let ch = i % c;
    if (ch >= p.ca) {
        y[i] = b[pix * p.cb + ch - p.ca];
        return;
    }
    let side = 2u * p.s;
    let bi = pix / (side * side);
    let r = pix % (side * side);
    y[i] = a[((bi * p.s + (r / side) / 2u) * p.s + (r % side) / 2u) * p.ca + ch];
}
