// CEM proposals, as crate::cpu::cem_sample: action (h, i) of n candidates is drawn from
// probs[h] with uniform(seed, stream, h * n + i) by the cumulative sums of layout::cem::draw.

struct Params { n: u32, horizon: u32, seed: u32, stream: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read_write> actions: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = flat(gid);
    if (t >= p.n * p.horizon) {
        return;
    }
    let h = t / p.n;
    let u = rng_uniform(p.seed, p.stream, t);
    var acc = 0.0;
    var last = 0u;
    var chosen = 9u;
    for (var a = 0u; a < 9u; a++) {
        let v = probs[h * 9u + a];
        if (v > 0.0) {
            last = a;
        }
        acc += v;
        if (chosen == 9u && u < acc) {
            chosen = a;
        }
    }
    if (chosen == 9u) {
        chosen = last;
    }
    actions[t] = chosen;
}
