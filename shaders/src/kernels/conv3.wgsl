// y = act(conv3x3(x) + b + addend), zero padding of one pixel, stride 1 or 2, as
// crate::maps::conv3: x [batch, side, side, cin] channel-last, W [9 cin, cout] (row
// (ky * 3 + kx) * cin + ci) stored with rows padded to n4 = 4 * ceil(cout / 4) columns
// (crate::gpu::padded_cols), b [cout], addend and y [batch, oside, oside, cout].
// Each invocation computes four neighbouring output channels of one output pixel: every input
// value it reads meets one vec4 of W, as in linear.wgsl.

struct Params { batch: u32, side: u32, cin: u32, cout: u32, stride: u32, act: u32, has_add: u32, oside: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> addend: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(4, 64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n4 = (p.cout + 3u) / 4u;
    let cq = gid.x;
    let o = gid.y + gid.z * 65535u * 64u;
    let opix = p.oside * p.oside;
    if (cq >= n4 || o >= p.batch * opix) {
        return;
    }
    let bi = o / opix;
    let oy = (o % opix) / p.oside;
    let ox = o % p.oside;
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < 3u; ky++) {
        let iy = i32(oy * p.stride + ky) - 1;
        if (iy < 0 || iy >= i32(p.side)) {
            continue;
        }
        for (var kx = 0u; kx < 3u; kx++) {
            let ix = i32(ox * p.stride + kx) - 1;
            if (ix < 0 || ix >= i32(p.side)) {
                continue;
            }
            let src = ((bi * p.side + u32(iy)) * p.side + u32(ix)) * p.cin;
            let tap = (ky * 3u + kx) * p.cin;
            for (var ci = 0u; ci < p.cin; ci++) {
                acc += x[src + ci] * w[(tap + ci) * n4 + cq];
            }
        }
    }
    for (var j = 0u; j < 4u; j++) {
        let c = cq * 4u + j;
        if (c < p.cout) {
            var v = acc[j] + b[c];
            if (p.has_add != 0u) {
                v += addend[o * p.cout + c];
            }
            y[o * p.cout + c] = activate(v, p.act);
        }
    }
}
