// y = act(x W + b + addend): x [m, k], W [k, n] stored with rows padded to n4 = 4 * ceil(n / 4)
// columns (crate::gpu::padded_cols), b [n], addend [m, n] (when has_add), y [m, n].
// Each invocation computes a 4 x 4 block of y: four rows, four neighbouring columns read as one
// vec4 of W per k, so every k costs four scalar loads of x, one vec4 load of W and four vec4
// multiply-adds, with no workgroup memory or barriers.

struct Params { m: u32, k: u32, n: u32, act: u32, has_add: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
// Binding 2, the weights `w` as vec4s, is declared by the pipeline's header
// (crate::kernels::linear::header): a uniform array when W fits one uniform binding (read at
// the same address by neighbouring invocations, a broadcast), read-only storage otherwise.
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> addend: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

fn store(r: u32, c0: u32, v: vec4<f32>) {
    if (r >= p.m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let c = c0 + j;
        if (c < p.n) {
            var o = v[j] + b[c];
            if (p.has_add != 0u) {
                o += addend[r * p.n + c];
            }
            y[r * p.n + c] = activate(o, p.act);
        }
    }
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n4 = (p.n + 3u) / 4u;
    let cq = gid.x;
    let r0 = (gid.y + gid.z * 65535u * 8u) * 4u;
    if (cq >= n4 || r0 >= p.m) {
        return;
    }
    // Rows past the end repeat the last row (their results are not stored).
    let last = p.m - 1u;
    let x0 = min(r0, last) * p.k;
    let x1 = min(r0 + 1u, last) * p.k;
    let x2 = min(r0 + 2u, last) * p.k;
    let x3 = min(r0 + 3u, last) * p.k;
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var kk = 0u; kk < p.k; kk++) {
        let wv = w[kk * n4 + cq];
        a0 += x[x0 + kk] * wv;
        a1 += x[x1 + kk] * wv;
        a2 += x[x2 + kk] * wv;
        a3 += x[x3 + kk] * wv;
    }
    let c0 = cq * 4u;
    store(r0, c0, a0);
    store(r0 + 1u, c0, a1);
    store(r0 + 2u, c0, a2);
    store(r0 + 3u, c0, a3);
}
