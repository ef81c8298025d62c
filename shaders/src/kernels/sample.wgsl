// Latent sampling with a temperature, as crate::cpu::sample:
// out[i] = mean[i] + temperature * exp(logvar[i] / 2) * rng_normal(seed, stream, i).

struct Params { len: u32, seed: u32, stream: u32, temperature: f32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read> logvar: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = flat(gid);
    if (i >= p.len) {
        return;
    }
    out[i] = mean[i] + p.temperature * exp(0.5 * logvar[i]) * rng_normal(p.seed, p.stream, i);
}
