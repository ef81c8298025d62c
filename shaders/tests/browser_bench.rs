//! The runtime's benchmark inside headless Chromium: WGSL on the browser's WebGPU adapter
//! (SwiftShader on a machine without a GPU) against the CPU path compiled to wasm32, on the
//! committed student, printed as a markdown table. Not part of `cargo test` (`test = false` in
//! Cargo.toml); run it with
//!
//!     WASM_BINDGEN_TEST_TIMEOUT=1200 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test --release --target wasm32-unknown-unknown -p runtime --test browser_bench -- --nocapture
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use layout::cem::CemConfig;
use layout::config::ModelConfig;
use layout::weights::{check_weights, parse_manifest};
use runtime::api::Fetch;
use runtime::cpu::Cpu;
use runtime::gpu::{Gpu, GpuContext};
use runtime::kernels::peak;
use runtime::{graph, plan};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MANIFEST: &str = include_str!("../../public/weights/manifest.json");
const WEIGHTS: &[u8] = include_bytes!("../../public/weights/student.safetensors");
const HORIZON: usize = 12;
const REPS: usize = 3;

fn now() -> f64 {
    js_sys::Date::now() / 1e3
}

/// Median seconds of `REPS` runs after one warm-up.
async fn time<E: Fetch, F: AsyncFnMut(&mut E)>(e: &mut E, mut f: F) -> f64 {
    f(e).await;
    let mut t = Vec::new();
    for _ in 0..REPS {
        let s = now();
        f(e).await;
        t.push(now() - s);
    }
    t.sort_by(f64::total_cmp);
    t[REPS / 2]
}

/// Transitions/s at each batch, ms per dream frame, ms per plan.
async fn measure<E: Fetch>(e: &mut E, c: &ModelConfig) -> (Vec<f64>, f64, f64) {
    let zd = c.state_latent;
    let z0 = e.input(&vec![0.1; zd], 1, zd);
    let goal = e.input(&vec![-0.2; zd], 1, zd);
    let mut rates = Vec::new();
    for n in [1usize, 64, 1024, 4096] {
        let acts: Vec<u32> = (0..n * HORIZON).map(|i| (i * 7 % 9) as u32).collect();
        let ids = e.ids(&acts);
        let secs = time(e, async |e: &mut E| {
            let cost = e.rollout_cost(&z0, &goal, &ids, n, HORIZON);
            e.fetch(&cost).await.expect("read");
        })
        .await;
        rates.push((n * HORIZON) as f64 / secs);
    }
    let (p, l) = (c.patches(), c.patch_latent);
    let prev = e.input(&vec![0.1; p * l], p, l);
    let cur = e.input(&vec![0.2; p * l], p, l);
    let action = e.ids(&[3]);
    let mask = e.input(&graph::frame_mask(c), c.frame_tokens(), c.frame_tokens());
    let dream = time(e, async |e: &mut E| {
        let (mean, logvar, _) = graph::frame_step(e, c, &prev, &cur, &action, &mask);
        let next = e.sample(&mean, &logvar, 1.0, 1, 0);
        let pixels = graph::decode(e, &next);
        e.fetch(&pixels).await.expect("read");
    })
    .await;
    let cfg = CemConfig {
        population: 1000,
        elites: 100,
        iterations: 10,
        horizon: HORIZON,
        ..Default::default()
    };
    let plan = time(e, async |e: &mut E| {
        let rec = plan::record(e, c, &z0, &goal, &cfg, &[], 1);
        for (s, k) in &rec.elites {
            e.fetch_ids(s).await.expect("read");
            e.fetch(k).await.expect("read");
        }
    })
    .await;
    (rates, dream * 1e3, plan * 1e3)
}

#[wasm_bindgen_test]
async fn runtime_benchmark_in_the_browser() {
    let manifest = parse_manifest(MANIFEST, "manifest.json").unwrap();
    let weights = check_weights(&manifest, WEIGHTS).unwrap();
    let c = manifest.config.clone();
    let ctx = Arc::new(GpuContext::new().await.unwrap_or_else(|e| {
        panic!("{e}: run Chromium with the WebGPU flags in shaders/webdriver.json")
    }));
    let mut gpu = Gpu::new(ctx.clone(), &weights);
    let peak = peak::measure(&mut gpu, 3, now).await.expect("peak");
    let (g_rates, g_dream, g_plan) = measure(&mut gpu, &c).await;
    console_log!("WGSL: {g_rates:?} transitions/s, dream {g_dream:.1} ms, plan {g_plan:.0} ms");
    let mut cpu = Cpu::new(weights.clone());
    let (c_rates, c_dream, c_plan) = measure(&mut cpu, &c).await;
    let mut table = format!(
        "Chromium, WebGPU adapter {} (peak {peak:.1} GFLOP/s), CPU path in wasm32\n\n| | WGSL | CPU (wasm) | WGSL / CPU |\n|---|---:|---:|---:|\n",
        ctx.describe()
    );
    for (i, n) in [1, 64, 1024, 4096].iter().enumerate() {
        table += &format!(
            "| transitions/s, batch {n} | {:.0} | {:.0} | {:.2}x |\n",
            g_rates[i],
            c_rates[i],
            g_rates[i] / c_rates[i]
        );
    }
    table += &format!(
        "| dream frame, batch 1 (ms) | {g_dream:.1} | {c_dream:.1} | {:.2}x |\n",
        c_dream / g_dream
    );
    table += &format!(
        "| plan, 1000x10x12 (ms) | {g_plan:.0} | {c_plan:.0} | {:.2}x |\n",
        c_plan / g_plan
    );
    console_log!("{table}");
}

const FRAMES_NET: &[u8] = include_bytes!("../../public/weights/frames.safetensors");
const STATE_NETS: &[u8] = include_bytes!("../../public/weights/state.safetensors");

/// The page's frame predictor and state nets on the CPU path in wasm32, through the runtime's
/// own API as the page calls it: dreamed frames per second (16-frame dreams, drawn as the page
/// draws them) and milliseconds per planned move at 256 futures x 3 iterations x horizon 12
/// (the reading of the frame included). Targets: >= 20 frames/s, <= 150 ms a move.
#[wasm_bindgen_test]
async fn page_nets_benchmark_in_the_browser() {
    let mut rt = runtime::Runtime::load(MANIFEST, WEIGHTS, runtime::Prefer::Cpu).await.unwrap();
    rt.attach(layout::weights::FRAMES_NET, FRAMES_NET).unwrap();
    rt.attach(layout::weights::STATE_NET, STATE_NETS).unwrap();
    let cfg = world::episode::EpisodeConfig {
        questions: false,
        steps: 20,
        ..world::episode::EpisodeConfig::default()
    };
    let e = world::episode::generate_episode(1_000_000, &cfg).unwrap();
    let context = [e.frame(1), e.frame(2)];
    let actions: Vec<u8> = e.actions[2..18].to_vec();
    rt.imagine(context, e.actions[1], &actions, 0.0, 0).await.unwrap();
    let mut dream = Vec::new();
    for _ in 0..REPS {
        let s = now();
        rt.imagine(context, e.actions[1], &actions, 0.0, 0).await.unwrap();
        dream.push(actions.len() as f64 / (now() - s));
    }
    dream.sort_by(f64::total_cmp);
    let task = &world::task::make_tasks(2_000_000, 1)[0];
    let goal = world::language::vocab::tokenize(&task.goal_text()).unwrap();
    let settings = CemConfig {
        population: 256,
        elites: 32,
        iterations: 3,
        horizon: HORIZON,
        ..CemConfig::default()
    };
    let mut plan = Vec::new();
    let mut warm = Vec::new();
    for step in 0..=REPS {
        let frames = [e.frame(2 + step), e.frame(3 + step)];
        let s = now();
        let p = rt.plan_in(e.scene.view, frames, e.actions[2 + step], &goal, &settings, &warm, step as u32).await.unwrap();
        if step > 0 {
            plan.push(1e3 * (now() - s));
        }
        warm = p.actions;
    }
    plan.sort_by(f64::total_cmp);
    console_log!(
        "Page nets on the CPU path in wasm32 (median of {REPS}):\n\n| | measured | target |\n|---|---:|---:|\n| dream, frames/s | {:.1} | >= 20 |\n| plan a move, 256 x 3 futures x horizon 12 (ms) | {:.0} | <= 150 |\n",
        dream[REPS / 2],
        plan[REPS / 2]
    );
}
