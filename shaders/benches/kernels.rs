//! `cargo bench -p runtime --bench kernels`: the GPU kernels that dominate planning and
//! dreaming, timed natively on the default adapter with the committed student's weights, each
//! printed as milliseconds and GFLOP/s beside the adapter's measured peak (`peak.wgsl`).
//! On a CPU adapter (lavapipe) read the ratios, not the absolute figures.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use layout::weights::{check_weights, parse_manifest};
use runtime::gpu::{Gpu, GpuContext};
use runtime::kernels::peak;
use runtime::{graph, Act, Exec};

fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    let manifest = parse_manifest(&text, "manifest.json").expect("manifest");
    let bytes = std::fs::read(dir.join(&manifest.weights_file)).expect("weights");
    let weights = check_weights(&manifest, &bytes).expect("weights");
    let c = manifest.config.clone();
    let ctx = match pollster::block_on(GpuContext::new()) {
        Ok(ctx) => Arc::new(ctx),
        Err(e) => {
            eprintln!("no GPU adapter: {e}");
            return;
        }
    };
    let mut g = Gpu::new(ctx.clone(), &weights);
    let start = Instant::now();
    let peak = pollster::block_on(peak::measure(&mut g, 3, || start.elapsed().as_secs_f64()))
        .expect("peak");
    println!("adapter: {}  peak {peak:.1} GFLOP/s", ctx.describe());
    let (z, h) = (c.state_latent, c.plan_hidden);
    let cost_hidden = weights.tensors["cost_in.weight"].0[1];
    let step_flop = 2.0 * (z * h + h * h + h * z + 3 * z * cost_hidden + cost_hidden) as f64;
    let horizon = 12;
    let z0 = g.input(&vec![0.1; z], 1, z);
    let goal = g.input(&vec![-0.2; z], 1, z);
    let chosen = g.cooperative_rollouts();
    for cooperative in [false, true] {
        g.set_cooperative_rollouts(cooperative);
        let kind = if cooperative {
            "workgroup per candidate"
        } else {
            "invocation per candidate"
        };
        for n in [1usize, 64, 1024, 4096] {
            let acts: Vec<u32> = (0..n * horizon).map(|i| (i * 7 % 9) as u32).collect();
            let ids = g.ids(&acts);
            let secs = median_secs(5, || {
                let cost = g.rollout_cost(&z0, &goal, &ids, n, horizon);
                pollster::block_on(g.read(&cost)).expect("read");
            });
            let flop = step_flop * (n * horizon) as f64;
            println!(
            "rollout ({kind}) n={n:5} h={horizon}: {:8.2} ms  {:9.0} transitions/s  {:6.2} GFLOP/s ({:.1}% of peak)",
            secs * 1e3,
            (n * horizon) as f64 / secs,
            flop / secs / 1e9,
            100.0 * flop / secs / 1e9 / peak
        );
        }
    }
    g.set_cooperative_rollouts(chosen);
    println!(
        "planning on this adapter uses: {}",
        if chosen {
            "workgroup per candidate"
        } else {
            "invocation per candidate"
        }
    );
    let (patches, pl) = (c.patches(), c.patch_latent);
    let prev = g.input(&vec![0.1; patches * pl], patches, pl);
    let cur = g.input(&vec![0.2; patches * pl], patches, pl);
    let action = g.ids(&[3]);
    let mask = g.input(&graph::frame_mask(&c), c.frame_tokens(), c.frame_tokens());
    let mut dispatches = 0;
    let step = median_secs(5, || {
        let (mean, _, _) = graph::frame_step(&mut g, &c, &prev, &cur, &action, &mask);
        dispatches = g.recorded;
        pollster::block_on(g.read(&mean)).expect("read");
    });
    println!(
        "frame step (batch 1): {:8.2} ms, {dispatches} dispatches",
        step * 1e3
    );
    let decode = median_secs(5, || {
        let pixels = graph::decode(&mut g, &cur);
        dispatches = g.recorded;
        pollster::block_on(g.read(&pixels)).expect("read");
    });
    println!(
        "decode (batch 1):     {:8.2} ms, {dispatches} dispatches",
        decode * 1e3
    );
    let (n, d) = (c.frame_tokens(), c.d_model);
    let qkv = g.input(&vec![0.05; n * d], n, d);
    let attention = median_secs(5, || {
        let y = g.attention(&qkv, &qkv, &qkv, 1, c.heads, &mask);
        pollster::block_on(g.read(&y)).expect("read");
    });
    println!("attention {n} tokens: {:8.2} ms", attention * 1e3);
    let ffn = median_secs(5, || {
        let y = g.linear(&qkv, "blocks.0.ff1", Act::Gelu, None);
        pollster::block_on(g.read(&y)).expect("read");
    });
    println!("linear {n}x{d} . ff1: {:8.2} ms", ffn * 1e3);
    for m in [64usize, 4096] {
        let x = g.input(&vec![0.3; m * z], m, z);
        let secs = median_secs(5, || {
            let y = g.linear(&x, "dyn_z", Act::Gelu, None);
            pollster::block_on(g.read(&y)).expect("read");
        });
        let flop = 2.0 * (m * z * h) as f64;
        println!(
            "linear {m}x{z} . {z}x{h}: {:8.3} ms  {:6.2} GFLOP/s",
            secs * 1e3,
            flop / secs / 1e9
        );
    }
}
