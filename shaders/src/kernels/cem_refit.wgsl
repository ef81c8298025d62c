// CEM refit, as crate::cpu::cem_refit (layout::cem::refit_step then apply_floor): one
// invocation per step h counts the elites' actions and moves probs[h] toward them.

struct Params { horizon: u32, k: u32, smoothing: f32, min_prob: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> elites: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let h = gid.x;
    if (h >= p.horizon) {
        return;
    }
    var counts: array<u32, 9>;
    for (var e = 0u; e < p.k; e++) {
        counts[min(elites[e * p.horizon + h], 8u)] += 1u;
    }
    let share = 1.0 / f32(p.k);
    var v: array<f32, 9>;
    var above = 0.0;
    for (var a = 0u; a < 9u; a++) {
        v[a] = p.smoothing * probs[h * 9u + a] + (1.0 - p.smoothing) * (f32(counts[a]) * share);
        above += max(v[a], p.min_prob) - p.min_prob;
    }
    let room = 1.0 - 9.0 * p.min_prob;
    for (var a = 0u; a < 9u; a++) {
        if (above > 0.0) {
            out[h * 9u + a] = p.min_prob + (max(v[a], p.min_prob) - p.min_prob) * room / above;
        } else {
            out[h * 9u + a] = 1.0 / 9.0;
        }
    }
}
