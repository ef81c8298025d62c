// The planner's rollouts for GPUs that run many invocations side by side: one workgroup of 64
// invocations per candidate. Each matrix-vector product is split across the workgroup, one
// output vec4 per invocation, with the vectors in workgroup memory, so the chain of dependent
// multiply-adds each invocation runs is about N4 times shorter than in rollout.wgsl (one
// invocation per candidate, everything in registers, which suits CPU-emulated adapters). Same
// arithmetic, same results. Every weight lives in one storage buffer `w` (vec4s; offsets O_*
// and the generated `mv_*` products come from crate::kernels::rollout_coop::header); for a
// given input k, neighbouring invocations read neighbouring vec4s.

struct Params { n: u32, horizon: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z0: array<f32>;
@group(0) @binding(2) var<storage, read> goal: array<f32>;
@group(0) @binding(3) var<storage, read> actions: array<u32>;
@group(0) @binding(4) var<storage, read_write> cost: array<f32>;  // [n]
@group(0) @binding(5) var<storage, read> w: array<vec4<f32>>;

var<workgroup> z: array<f32, Z4 * 4u>;
var<workgroup> g: array<f32, Z4 * 4u>;
var<workgroup> zg: array<f32, Z4 * 4u>;
var<workgroup> h1: array<f32, H4 * 4u>;
var<workgroup> h2: array<f32, H4 * 4u>;
var<workgroup> partial: array<f32, 64>;

fn gelu4(v: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(activate(v.x, 1u), activate(v.y, 1u), activate(v.z, 1u), activate(v.w, 1u));
}

fn z4(j: u32) -> vec4<f32> {
    return vec4<f32>(z[4u * j], z[4u * j + 1u], z[4u * j + 2u], z[4u * j + 3u]);
}

fn g4(j: u32) -> vec4<f32> {
    return vec4<f32>(g[4u * j], g[4u * j + 1u], g[4u * j + 2u], g[4u * j + 3u]);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let i = wid.x + wid.y * 65535u;
    // The same for every invocation of the group: the whole group leaves together.
    if (i >= p.n) {
        return;
    }
    for (var k = t; k < Z4 * 4u; k += 64u) {
        z[k] = select(0.0, z0[min(k, Z - 1u)], k < Z);
        g[k] = select(0.0, goal[min(k, Z - 1u)], k < Z);
    }
    workgroupBarrier();
    // The goal's share of the cost layer is the same at every step.
    var cg = vec4<f32>(0.0);
    if (t < C4) {
        cg = w[O_CIB + t] + mv_cg(t);
    }
    var total = 0.0;
    for (var s = 0u; s < p.horizon; s++) {
        let a = min(actions[s * p.n + i], 8u);
        // h1 = gelu(z Wdz + bdz + dyn_a[a])
        if (t < H4) {
            let v = gelu4(mv_dz(t) + w[O_DZB + t] + w[O_DAW + a * H4 + t]);
            h1[4u * t] = v.x;
            h1[4u * t + 1u] = v.y;
            h1[4u * t + 2u] = v.z;
            h1[4u * t + 3u] = v.w;
        }
        workgroupBarrier();
        // h2 = gelu(h1 Wdh + bdh)
        if (t < H4) {
            let v = gelu4(mv_dh(t) + w[O_DHB + t]);
            h2[4u * t] = v.x;
            h2[4u * t + 1u] = v.y;
            h2[4u * t + 2u] = v.z;
            h2[4u * t + 3u] = v.w;
        }
        workgroupBarrier();
        // z = z + h2 Wdo + bdo (each invocation reads and then writes only its own vec4 of z)
        if (t < Z4) {
            let v = z4(t) + (mv_do(t) + w[O_DOB + t]);
            let vg = v * g4(t);
            z[4u * t] = v.x;
            z[4u * t + 1u] = v.y;
            z[4u * t + 2u] = v.z;
            z[4u * t + 3u] = v.w;
            zg[4u * t] = vg.x;
            zg[4u * t + 1u] = vg.y;
            zg[4u * t + 2u] = vg.z;
            zg[4u * t + 3u] = vg.w;
        }
        workgroupBarrier();
        // cost += gelu([z, g, z * g] Wci + bci) Wco + bco
        var c = 0.0;
        if (t < C4) {
            let hv = gelu4(mv_cz(t) + mv_czg(t) + cg);
            c = dot(hv, w[O_COW + t]);
        }
        partial[t] = c;
        workgroupBarrier();
        if (t == 0u) {
            var sum = w[O_COB].x;
            for (var q = 0u; q < C4; q++) {
                sum += partial[q];
            }
            total += sum;
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        cost[i] = total;
    }
}
