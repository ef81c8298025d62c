// The planner's rollouts, fused: one invocation per candidate rolls the latent dynamics
// `horizon` steps from z0 with its own actions and sums the goal cost, as graph::latent_step and
// graph::goal_cost composed (crate::cpu path of Exec::rollout_cost). The state and hidden
// layers live in registers as vec4s; weights are read as vec4 rows (padded on the device), the
// same addresses in every invocation, so one pass does a whole CEM iteration's imagination.
//
// Sizes are substituted when the pipeline is built: Z (state latent), H (dynamics hidden),
// C (cost hidden), each with its vec4 count Z4, H4, C4.

struct Params { n: u32, horizon: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z0: array<f32>;
@group(0) @binding(2) var<storage, read> goal: array<f32>;
@group(0) @binding(3) var<storage, read> actions: array<u32>;
// Every planning-path weight, packed into one buffer of vec4s (WebGPU allows 8 storage
// buffers per stage); O_* are offsets in vec4s, rows padded to a multiple of 4 columns:
// dyn_z.weight [Z, H4], dyn_z.bias [H4], dyn_a.weight [9, H4], dyn_hidden [H, H4] + [H4],
// dyn_out [H, Z4] + [Z4], cost_in [3Z, C4] + [C4], cost_out [C, 1 -> 4] + [1 -> 4].
@group(0) @binding(4) var<storage, read> wp: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> cost: array<f32>;  // [n]

fn gelu4(v: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(activate(v.x, 1u), activate(v.y, 1u), activate(v.z, 1u), activate(v.w, 1u));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.n) {
        return;
    }
    var z: array<vec4<f32>, Z4>;
    var g: array<vec4<f32>, Z4>;
    for (var q = 0u; q < Z4; q++) {
        var zz = vec4<f32>(0.0);
        var gg = vec4<f32>(0.0);
        for (var e = 0u; e < 4u; e++) {
            let k = q * 4u + e;
            if (k < Z) {
                zz[e] = z0[k];
                gg[e] = goal[k];
            }
        }
        z[q] = zz;
        g[q] = gg;
    }
    var h1: array<vec4<f32>, H4>;
    var h2: array<vec4<f32>, H4>;
    var hc: array<vec4<f32>, C4>;
    var total = 0.0;
    for (var t = 0u; t < p.horizon; t++) {
        let a = min(actions[t * p.n + i], 8u);
        // h1 = gelu(z Wdz + bdz + dyn_a[a])
        for (var j = 0u; j < H4; j++) {
            h1[j] = wp[O_DZB + j] + wp[O_DAW + a * H4 + j];
        }
        for (var k = 0u; k < Z; k++) {
            let s = z[k / 4u][k % 4u];
            for (var j = 0u; j < H4; j++) {
                h1[j] += s * wp[O_DZW + k * H4 + j];
            }
        }
        for (var j = 0u; j < H4; j++) {
            h1[j] = gelu4(h1[j]);
        }
        // h2 = gelu(h1 Wdh + bdh)
        for (var j = 0u; j < H4; j++) {
            h2[j] = wp[O_DHB + j];
        }
        for (var k = 0u; k < H; k++) {
            let s = h1[k / 4u][k % 4u];
            for (var j = 0u; j < H4; j++) {
                h2[j] += s * wp[O_DHW + k * H4 + j];
            }
        }
        for (var j = 0u; j < H4; j++) {
            h2[j] = gelu4(h2[j]);
        }
        // z = z + h2 Wdo + bdo
        for (var j = 0u; j < Z4; j++) {
            z[j] += wp[O_DOB + j];
        }
        for (var k = 0u; k < H; k++) {
            let s = h2[k / 4u][k % 4u];
            for (var j = 0u; j < Z4; j++) {
                z[j] += s * wp[O_DOW + k * Z4 + j];
            }
        }
        // cost += gelu([z, g, z * g] Wci + bci) Wco + bco
        for (var j = 0u; j < C4; j++) {
            hc[j] = wp[O_CIB + j];
        }
        for (var k = 0u; k < Z; k++) {
            let zk = z[k / 4u][k % 4u];
            let gk = g[k / 4u][k % 4u];
            let pk = zk * gk;
            for (var j = 0u; j < C4; j++) {
                hc[j] += zk * wp[O_CIW + k * C4 + j] + gk * wp[O_CIW + (Z + k) * C4 + j] + pk * wp[O_CIW + (2u * Z + k) * C4 + j];
            }
        }
        var c = wp[O_COB].x;
        for (var j = 0u; j < C4; j++) {
            let hv = gelu4(hc[j]);
            for (var e = 0u; e < 4u; e++) {
                let k = j * 4u + e;
                if (k < C) {
                    c += hv[e] * wp[O_COW + k].x;
                }
            }
        }
        total += c;
    }
    cost[i] = total;
}
