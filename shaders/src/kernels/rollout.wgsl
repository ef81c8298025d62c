// The planner's rollouts, fused: one invocation per candidate rolls the latent dynamics
// `horizon` steps from z0 with its own actions and sums the goal cost, as graph::latent_step and
// graph::goal_cost composed (crate::exec::layered_rollout_cost, the CPU path's version).
//
// Every weight is read from a uniform buffer at an address that is the same in every
// invocation (a broadcast on GPUs, and the fast load path of CPU-emulated ones). The vectors
// live in registers as vec4s. The matrix-vector products `mv_*` are generated when the pipeline
// is built (crate::kernels::rollout::header) with the input dimension unrolled, so the inputs
// are only ever indexed by constants. Sizes: Z (state latent), H (dynamics hidden), C (cost
// hidden), each with its vec4 count Z4, H4, C4; O_* are offsets into `small`.

struct Params { n: u32, horizon: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z0: array<f32>;
@group(0) @binding(2) var<storage, read> goal: array<f32>;
@group(0) @binding(3) var<storage, read> actions: array<u32>;
@group(0) @binding(4) var<storage, read_write> cost: array<f32>;  // [n]
// Biases, the action embedding dyn_a [9, H4], and cost_out as C4 vec4s.
@group(0) @binding(5) var<uniform> small: array<vec4<f32>, SMALL>;
// Weights [K, N4] with rows padded to whole vec4s: dyn_z, dyn_hidden, dyn_out, and cost_in's
// three row blocks (for z, for the goal, for z * goal).
@group(0) @binding(6) var<uniform> w_dz: array<vec4<f32>, Z * H4>;
@group(0) @binding(7) var<uniform> w_dh: array<vec4<f32>, H * H4>;
@group(0) @binding(8) var<uniform> w_do: array<vec4<f32>, H * Z4>;
@group(0) @binding(9) var<uniform> w_cz: array<vec4<f32>, Z * C4>;
@group(0) @binding(10) var<uniform> w_cg: array<vec4<f32>, Z * C4>;
@group(0) @binding(11) var<uniform> w_czg: array<vec4<f32>, Z * C4>;

fn gelu4(v: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(activate(v.x, 1u), activate(v.y, 1u), activate(v.z, 1u), activate(v.w, 1u));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    // Invocations past the end repeat the last candidate and store nothing, so the loops
    // below stay uniform across the workgroup.
    let i = min(flat(gid), p.n - 1u);
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
    // The goal's share of the cost layer is the same at every step.
    var cg: array<vec4<f32>, C4>;
    for (var j = 0u; j < C4; j++) {
        cg[j] = small[O_CIB + j] + mv_cg(g, j);
    }
    var h1: array<vec4<f32>, H4>;
    var h2: array<vec4<f32>, H4>;
    var zg: array<vec4<f32>, Z4>;
    var total = 0.0;
    for (var t = 0u; t < p.horizon; t++) {
        let a = min(actions[t * p.n + i], 8u);
        // h1 = gelu(z Wdz + bdz + dyn_a[a])
        for (var j = 0u; j < H4; j++) {
            h1[j] = gelu4(mv_dz(z, j) + small[O_DZB + j] + small[O_DAW + a * H4 + j]);
        }
        // h2 = gelu(h1 Wdh + bdh)
        for (var j = 0u; j < H4; j++) {
            h2[j] = gelu4(mv_dh(h1, j) + small[O_DHB + j]);
        }
        // z = z + h2 Wdo + bdo
        var zn: array<vec4<f32>, Z4>;
        for (var j = 0u; j < Z4; j++) {
            zn[j] = z[j] + (mv_do(h2, j) + small[O_DOB + j]);
        }
        z = zn;
        for (var j = 0u; j < Z4; j++) {
            zg[j] = z[j] * g[j];
        }
        // cost += gelu([z, g, z * g] Wci + bci) Wco + bco
        var c = small[O_COB].x;
        for (var j = 0u; j < C4; j++) {
            let hv = gelu4(mv_cz(z, j) + mv_czg(zg, j) + cg[j]);
            c += dot(hv, small[O_COW + j]);
        }
        total += c;
    }
    if (flat(gid) < p.n) {
        cost[i] = total;
    }
}
