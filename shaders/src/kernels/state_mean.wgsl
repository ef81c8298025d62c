// The ensemble's mean cost of each candidate: the members' costs from `state_rollout.wgsl`
// summed in order and divided by their count (crate::state::Target::cost).

struct Params { n: u32, members: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> per_member: array<f32>; // [members, n]
@group(0) @binding(2) var<storage, read_write> cost: array<f32>;  // [n]

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.n) {
        return;
    }
    var total = 0.0;
    for (var m = 0u; m < p.members; m++) {
        total += per_member[m * p.n + i];
    }
    cost[i] = total / f32(max(p.members, 1u));
}
