// The planner's rollouts in the model's state, fused: one invocation per (member of the
// dynamics ensemble, candidate) rolls the agent and the goal's object `horizon` steps with the
// candidate's own moves and sums its cost; `state_mean.wgsl` then averages the members. The
// arithmetic is crate::state::Dynamics::step's and crate::state::Target::cost_one's, each sum
// in the same order.
//
// Like rollout.wgsl, every vector lives in registers as vec4s and is only ever indexed by
// constants: the matrix-vector products `mv_*` are generated with their inputs unrolled
// (crate::kernels::state_rollout::header). A first version with the state in arrays indexed at
// run time, a loop over the members and a step function taking pointers ran correctly for a
// few steps and then stopped moving the agent on llvmpipe (lavapipe; Chromium's SwiftShader is
// built the same way). Sizes and offsets (in vec4s) come from the header: H4 (hidden width /
// 4), MEMBERS, MSTRIDE (vec4s per member in `w`), the offsets O_L1W .. O_FB inside a member,
// O_DIRS (the moves' target velocities after the last member), MOVES and the world's constants.

struct Params { n: u32, horizon: u32 }

@group(0) @binding(0) var<uniform> p: Params;
// crate::state::Target::values: agent [8], object [8], zone centre [2] and half extents [2]
// (world units), side, reach.
@group(0) @binding(1) var<storage, read> task: array<f32>;
@group(0) @binding(2) var<storage, read> actions: array<u32>;         // step-major [horizon * n]
@group(0) @binding(3) var<storage, read_write> per_member: array<f32>; // [MEMBERS, n]
@group(0) @binding(4) var<storage, read> w: array<vec4<f32>>;

fn gelu4(v: vec4<f32>) -> vec4<f32> {
    return vec4<f32>(activate(v.x, 1u), activate(v.y, 1u), activate(v.z, 1u), activate(v.w, 1u));
}

// crate::state::wall_gaps: left, right, top, bottom.
fn wall_gaps(u: f32, v: f32, r: f32) -> vec4<f32> {
    let inner = ARENA - 2.0 * WALL;
    let x = u * ARENA - WALL - r;
    let y = v * ARENA - WALL - r;
    return vec4<f32>(x, inner - 2.0 * r - x, y, inner - 2.0 * r - y);
}

// crate::state::contact_change.
fn contact_change(push: f32, brake: f32, slide: f32, n: vec2<f32>, v: vec2<f32>) -> vec2<f32> {
    let q = push - CONTACT_BIAS;
    let pushed = max(q, 0.0) + log(1.0 + exp(-abs(q)));
    let b = 1.0 / (1.0 + exp(CONTACT_BIAS - brake));
    let vn = v.x * n.x + v.y * n.y;
    let vt = v.y * n.x - v.x * n.y;
    let along = pushed - b * vn;
    // Clamped where tanh is 1 in f32 anyway: some backends overflow on large inputs.
    let across = tanh(clamp(slide, -15.0, 15.0)) * pushed - b * vt;
    return vec2<f32>(n.x * along - n.y * across, n.y * along + n.x * across);
}

// Candidate `i`'s cost under the member at `base` (its offset in `w`).
fn member_cost(base: u32, i: u32) -> f32 {
    // The agent: (u, v, du, dv), (previous du, dv, last move's direction); the object: the
    // same, then its size and whether it is a box in place of the move.
    var a0 = vec4<f32>(task[0], task[1], task[2], task[3]);
    var a1 = vec4<f32>(task[4], task[5], task[6], task[7]);
    var o0 = vec4<f32>(task[8], task[9], task[10], task[11]);
    var o1 = vec4<f32>(task[12], task[13], task[14], task[15]);
    let centre = vec2<f32>(task[16], task[17]);
    let half = vec2<f32>(task[18], task[19]);
    let side = task[20];
    let reach = task[21];
    var c = 0.0;
    var h1: array<vec4<f32>, H4>;
    var h2: array<vec4<f32>, H4>;
    for (var t = 0u; t < p.horizon; t++) {
        let mv = min(actions[t * p.n + i], MOVES - 1u);
        // The dynamics' input (crate::state::DYN_IN = 40), ten vec4s.
        let rel = vec2<f32>((o0.x - a0.x) * POS_SCALE, (o0.y - a0.y) * POS_SCALE);
        let d = sqrt(rel.x * rel.x + rel.y * rel.y + 1e-6);
        let normal = rel / d;
        let gap = d - o1.z - AGENT_RADIUS;
        let gate = 1.0 / (1.0 + exp((gap - GATE_AT) / GATE_WIDTH));
        let closing = (a0.z - o0.z) * normal.x + (a0.w - o0.w) * normal.y;
        let wa = wall_gaps(a0.x, a0.y, AGENT_RADIUS);
        let wo = wall_gaps(o0.x, o0.y, o1.z);
        var x: array<vec4<f32>, 10>;
        x[0] = a0;
        x[1] = a1;
        x[2] = o0;
        x[3] = o1;
        x[4] = vec4<f32>(rel.x, rel.y, gap, normal.x);
        x[5] = vec4<f32>(normal.y, closing, wa.x, wa.y);
        x[6] = vec4<f32>(wa.z, wa.w, wo.x, wo.y);
        x[7] = vec4<f32>(wo.z, wo.w, side, select(0.0, 1.0, mv == 0u));
        x[8] = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(mv) == vec4<u32>(1u, 2u, 3u, 4u));
        x[9] = select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(mv) == vec4<u32>(5u, 6u, 7u, 8u));
        for (var j = 0u; j < H4; j++) {
            h1[j] = gelu4(mv_l1(x, base, j));
        }
        for (var j = 0u; j < H4; j++) {
            h2[j] = gelu4(mv_l2(h1, base, j));
        }
        let out_a = mv_l3(h2, base, 0u); // agent's du, dv change; push, brake
        let out_b = mv_l3(h2, base, 1u); // slide
        // The object's own slowing down: a linear map of (its displacement, size, shape).
        let fw = base + O_FW;
        let free = w[base + O_FB] + o0.z * w[fw] + o0.w * w[fw + 1u] + o1.z * w[fw + 2u] + o1.w * w[fw + 3u];
        let dir = w[O_DIRS + mv];
        a1 = vec4<f32>(a0.z, a0.w, dir.x, dir.y);
        o1 = vec4<f32>(o0.z, o0.w, o1.z, o1.w);
        let ad = vec2<f32>(a0.z + out_a.x, a0.w + out_a.y);
        let contact = contact_change(out_a.z, out_a.w, out_b.x, normal, vec2<f32>(o1.x, o1.y));
        let od = vec2<f32>(o1.x + (contact.x * gate + free.x * (1.0 - gate)), o1.y + (contact.y * gate + free.y * (1.0 - gate)));
        a0 = vec4<f32>(a0.x + ad.x / MOTION_SCALE, a0.y + ad.y / MOTION_SCALE, ad.x, ad.y);
        o0 = vec4<f32>(o0.x + od.x / MOTION_SCALE, o0.y + od.y / MOTION_SCALE, od.x, od.y);
        // The step's cost (crate::state::Target::cost_one).
        let o = vec2<f32>(o0.x * ARENA, (1.0 - o0.y) * ARENA);
        let ag = vec2<f32>(a0.x * ARENA, (1.0 - a0.y) * ARENA);
        let dx = o.x - centre.x;
        let dy = o.y - centre.y;
        // Out of the arena, or not a number (every comparison with NaN is false).
        if (!(o.x >= 0.0 && o.x <= ARENA && o.y >= 0.0 && o.y <= ARENA)) {
            c += LOST_DISTANCE;
        } else if (abs(dx) <= half.x && abs(dy) <= half.y) {
            c -= SUCCESS_BONUS;
            break;
        } else {
            let len = max(sqrt(dx * dx + dy * dy), 1e-6);
            let spot = vec2<f32>(o.x + dx / len * reach, o.y + dy / len * reach);
            let to_spot = ag - spot;
            c += sqrt(dx * dx + dy * dy) / ARENA + APPROACH_WEIGHT * sqrt(to_spot.x * to_spot.x + to_spot.y * to_spot.y) / ARENA;
        }
    }
    return c;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let total = p.n * MEMBERS;
    // Invocations past the end repeat the last pair and store nothing.
    let q = min(flat(gid), total - 1u);
    let c = member_cost((q / p.n) * MSTRIDE, q % p.n);
    if (flat(gid) < total) {
        per_member[q] = c;
    }
}
