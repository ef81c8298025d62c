// Multi-head attention, as crate::cpu::attention: q, k, v [batch * n, d] with heads side by
// side in the columns, mask [mb * n, n] additive (mb = 1 shared, or batch). One invocation
// per (batch, head, query); scores are folded into an online softmax (running maximum and
// sum), so nothing of size n is stored. Head width dh <= 64.

struct Params { batch: u32, n: u32, d: u32, heads: u32, mb: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if (t >= p.batch * p.heads * p.n) {
        return;
    }
    let i = t % p.n;
    let h = (t / p.n) % p.heads;
    let b = t / (p.n * p.heads);
    let dh = p.d / p.heads;
    let col = h * dh;
    let qrow = (b * p.n + i) * p.d + col;
    let mrow = ((b % p.mb) * p.n + i) * p.n;
    var acc: array<f32, 64>;
    var best = -3.0e38;
    var total = 0.0;
    for (var j = 0u; j < p.n; j++) {
        let krow = (b * p.n + j) * p.d + col;
        var s = 0.0;
        for (var e = 0u; e < dh; e++) {
            s = fma(q[qrow + e], k[krow + e], s);
        }
        s = s * p.scale + mask[mrow + j];
        let m = max(best, s);
        let old = exp(best - m);
        let w = exp(s - m);
        total = total * old + w;
        for (var e = 0u; e < dh; e++) {
            acc[e] = acc[e] * old + w * v[krow + e];
        }
        best = m;
    }
    for (var e = 0u; e < dh; e++) {
        out[qrow + e] = acc[e] / total;
    }
}
