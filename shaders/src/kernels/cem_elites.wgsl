// CEM elites, as crate::cpu::cem_elites: candidate i's rank is the number of candidates with a
// lower cost, or an equal one and a lower index (NaN counts as +infinity). Costs are compared
// as order-preserving integers, so no float comparison meets a NaN or an infinity. A candidate
// ranked below k writes its cost and its sequence into place.

struct Params { n: u32, horizon: u32, k: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> cost: array<f32>;
@group(0) @binding(2) var<storage, read> actions: array<u32>;
@group(0) @binding(3) var<storage, read_write> elite_actions: array<u32>;
@group(0) @binding(4) var<storage, read_write> elite_costs: array<u32>;

const INF_BITS: u32 = 0x7f800000u;

// The cost's bits with NaN replaced by +infinity.
fn clean(c: f32) -> u32 {
    let u = bitcast<u32>(c);
    if ((u & 0x7fffffffu) > INF_BITS) {
        return INF_BITS;
    }
    return u;
}

// Unsigned integers in the order of the floats they encode.
fn order_key(u: u32) -> u32 {
    if ((u & 0x80000000u) != 0u) {
        return ~u;
    }
    return u | 0x80000000u;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.n) {
        return;
    }
    let mine = order_key(clean(cost[i]));
    var rank = 0u;
    for (var j = 0u; j < p.n; j++) {
        let other = order_key(clean(cost[j]));
        if (other < mine || (other == mine && j < i)) {
            rank++;
        }
    }
    if (rank < p.k) {
        elite_costs[rank] = clean(cost[i]);
        for (var h = 0u; h < p.horizon; h++) {
            elite_actions[rank * p.horizon + h] = actions[h * p.n + i];
        }
    }
}
