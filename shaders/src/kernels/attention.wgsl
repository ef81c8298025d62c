// Multi-head attention, as crate::cpu::attention: q, k, v [batch * n, d] with heads side by
// side in the columns, mask [mb * n, n] additive (mb = 1 shared, or batch). One invocation
// per query of one head of one sequence (workgroups: x over queries, y over heads, z over
// sequences); scores are folded into an online softmax (running maximum and sum), so nothing
// of size n is stored.
//
// The head width DH is a constant of the pipeline (crate::kernels::attention::header), and the
// generated `load_q`, `score` and `accumulate` walk its DH4 vec4s with constant indices, so
// the query and the running output stay in registers.

struct Params { n: u32, d: u32, mb: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    // Queries past the end repeat the last one and store nothing, so the loop stays uniform.
    let i = min(wg.x * 64u + li, p.n - 1u);
    let h = wg.y;
    let b = wg.z;
    let col = h * DH;
    let qrow = (b * p.n + i) * p.d + col;
    let mrow = ((b % p.mb) * p.n + i) * p.n;
    let qv = load_q(qrow);
    var acc: array<vec4<f32>, DH4>;
    var best = -3.0e38;
    var total = 0.0;
    for (var j = 0u; j < p.n; j++) {
        let krow = (b * p.n + j) * p.d + col;
        let s = score(qv, krow) * p.scale + mask[mrow + j];
        let m = max(best, s);
        let old = exp(best - m);
        let w = exp(s - m);
        total = total * old + w;
        acc = accumulate(acc, old, w, krow);
        best = m;
    }
    if (wg.x * 64u + li < p.n) {
        store(acc, 1.0 / total, qrow);
    }
}
