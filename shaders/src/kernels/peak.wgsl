// The adapter's arithmetic ceiling: every invocation runs `iterations` rounds of eight
// independent vec4 multiply-adds (64 FLOP a round) in registers, then stores one number so the
// work cannot be optimised away. Used by the benchmark to put achieved GFLOP/s beside it.

struct Params { iterations: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    let s = f32(i) * 1e-9;
    var a0 = vec4<f32>(s, s + 1e-3, s + 2e-3, s + 3e-3);
    var a1 = a0 + 0.1;
    var a2 = a0 + 0.2;
    var a3 = a0 + 0.3;
    var a4 = a0 + 0.4;
    var a5 = a0 + 0.5;
    var a6 = a0 + 0.6;
    var a7 = a0 + 0.7;
    let m = vec4<f32>(0.9999);
    let c = vec4<f32>(1e-4);
    for (var t = 0u; t < p.iterations; t++) {
        a0 = fma(a0, m, c);
        a1 = fma(a1, m, c);
        a2 = fma(a2, m, c);
        a3 = fma(a3, m, c);
        a4 = fma(a4, m, c);
        a5 = fma(a5, m, c);
        a6 = fma(a6, m, c);
        a7 = fma(a7, m, c);
    }
    let v = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    out[i] = v.x + v.y + v.z + v.w;
}
