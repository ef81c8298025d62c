// y = act(x W + b + addend): x [m, k], W [k, n], b [n], addend [m, n] (when has_add), y [m, n].
// A 64x64 tile of y per workgroup of 16x16 invocations, each computing 4x4 outputs strided by
// 16 (rows lid.y + 16i, columns lid.x + 16j); k is walked in slices of 16 staged through
// workgroup memory (2 x 4 KiB).

struct Params { m: u32, k: u32, n: u32, act: u32, has_add: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> addend: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

var<workgroup> xs: array<f32, 1024>; // [64 rows][16 k]
var<workgroup> ws: array<f32, 1024>; // [16 k][64 columns]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let row0 = wg.y * 64u;
    let col0 = wg.x * 64u;
    let tid = lid.y * 16u + lid.x;
    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < p.k; k0 += 16u) {
        for (var i = 0u; i < 4u; i++) {
            let idx = tid + i * 256u;
            let r = row0 + idx / 16u;
            let kk = k0 + idx % 16u;
            var xv = 0.0;
            if (r < p.m && kk < p.k) {
                xv = x[r * p.k + kk];
            }
            xs[idx] = xv;
            let wk = k0 + idx / 64u;
            let c = col0 + idx % 64u;
            var wv = 0.0;
            if (wk < p.k && c < p.n) {
                wv = w[wk * p.n + c];
            }
            ws[idx] = wv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < 16u; kk++) {
            var a: array<f32, 4>;
            var bb: array<f32, 4>;
            for (var i = 0u; i < 4u; i++) {
                a[i] = xs[(lid.y + 16u * i) * 16u + kk];
                bb[i] = ws[kk * 64u + lid.x + 16u * i];
            }
            for (var i = 0u; i < 4u; i++) {
                for (var j = 0u; j < 4u; j++) {
                    acc[i * 4u + j] = fma(a[i], bb[j], acc[i * 4u + j]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let r = row0 + lid.y + 16u * i;
        for (var j = 0u; j < 4u; j++) {
            let c = col0 + lid.x + 16u * j;
            if (r < p.m && c < p.n) {
                var v = acc[i * 4u + j] + b[c];
                if (p.has_add != 0u) {
                    v += addend[r * p.n + c];
                }
                y[r * p.n + c] = activate(v, p.act);
            }
        }
    }
}
