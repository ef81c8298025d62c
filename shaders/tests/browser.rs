//! The runtime inside headless Chromium with WebGPU (SwiftShader on a machine without a GPU):
//! the committed student through the WGSL kernels and through the CPU path, against burn's
//! own outputs recorded natively (`tests/fixtures/burn_frame_step.json`, kept current by
//! `parity/tests/runtime_equals_burn.rs`), plus sampling and planning parity between the paths.
//!
//!     CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test --target wasm32-unknown-unknown -p runtime
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use layout::cem::CemConfig;
use layout::weights::{check_weights, parse_manifest};
use runtime::cpu::Cpu;
use runtime::gpu::{Gpu, GpuContext};
use runtime::{graph, plan, rng, Exec};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MANIFEST: &str = include_str!("../../public/weights/manifest.json");
const WEIGHTS: &[u8] = include_bytes!("../../public/weights/student.safetensors");
const FIXTURE: &str = include_str!("fixtures/burn_frame_step.json");

fn rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
    a.iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

async fn gpu(weights: &layout::Weights) -> Gpu {
    let ctx = GpuContext::new().await.unwrap_or_else(|e| {
        panic!("{e}: run Chromium with the WebGPU flags in shaders/webdriver.json")
    });
    web_sys_log(&format!("adapter: {}", ctx.describe()));
    Gpu::new(Arc::new(ctx), weights)
}

fn web_sys_log(s: &str) {
    wasm_bindgen_test::console_log!("{s}");
}

#[wasm_bindgen_test]
async fn wgsl_and_cpu_paths_equal_burn_in_the_browser() {
    let manifest = parse_manifest(MANIFEST, "manifest.json").unwrap();
    let weights = check_weights(&manifest, WEIGHTS).unwrap();
    let c = manifest.config.clone();
    let fixture: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
    let want = |k: &str| -> Vec<f32> { serde_json::from_value(fixture[k].clone()).unwrap() };
    let per = 2 * c.patches() * c.patch_latent;
    let draw = |stream| {
        (0..per as u32)
            .map(|i| rng::normal(5, stream, i))
            .collect::<Vec<f32>>()
    };
    let (prev, cur) = (draw(0), draw(1));
    let actions = [2u32, 7];
    let mask = graph::frame_mask(&c);
    let n = c.frame_tokens();

    let mut g = gpu(&weights).await;
    let (tp, tc, ta, tm) = (
        g.input(&prev, 2 * c.patches(), c.patch_latent),
        g.input(&cur, 2 * c.patches(), c.patch_latent),
        g.ids(&actions),
        g.input(&mask, n, n),
    );
    let (m, lv, z) = graph::frame_step(&mut g, &c, &tp, &tc, &ta, &tm);
    for (name, t) in [("mean", &m), ("logvar", &lv), ("z", &z)] {
        let got = g.read(t).await.unwrap();
        let e = rel_err(&got, &want(name));
        web_sys_log(&format!("WGSL {name}: relative error {e:.2e} against burn"));
        assert!(e <= 1e-3, "WGSL {name} differs from burn by {e:.2e}");
    }

    let mut cpu = Cpu::new(weights);
    let (tp, tc, ta, tm) = (
        cpu.input(&prev, 2 * c.patches(), c.patch_latent),
        cpu.input(&cur, 2 * c.patches(), c.patch_latent),
        cpu.ids(&actions),
        cpu.input(&mask, n, n),
    );
    let (m, lv, z) = graph::frame_step(&mut cpu, &c, &tp, &tc, &ta, &tm);
    for (name, t) in [("mean", &m), ("logvar", &lv), ("z", &z)] {
        let e = rel_err(&t.data, &want(name));
        assert!(e <= 1e-4, "CPU path {name} differs from burn by {e:.2e}");
    }
}

#[wasm_bindgen_test]
async fn same_seed_same_samples_and_plans_on_both_paths() {
    let manifest = parse_manifest(MANIFEST, "manifest.json").unwrap();
    let weights = check_weights(&manifest, WEIGHTS).unwrap();
    let c = manifest.config.clone();
    let mut g = gpu(&weights).await;
    let mut cpu = Cpu::new(weights);

    let len = c.patches() * c.patch_latent;
    let mean: Vec<f32> = (0..len as u32).map(|i| rng::normal(8, 0, i)).collect();
    let logvar: Vec<f32> = (0..len as u32)
        .map(|i| rng::normal(8, 1, i) - 2.0)
        .collect();
    let (mg, lg) = (
        g.input(&mean, c.patches(), c.patch_latent),
        g.input(&logvar, c.patches(), c.patch_latent),
    );
    let (mc, lc) = (
        cpu.input(&mean, c.patches(), c.patch_latent),
        cpu.input(&logvar, c.patches(), c.patch_latent),
    );
    let sg = g.sample(&mg, &lg, 0.8, 42, 1);
    let sc = cpu.sample(&mc, &lc, 0.8, 42, 1);
    let got = g.read(&sg).await.unwrap();
    let e = rel_err(&got, &sc.data);
    web_sys_log(&format!(
        "samples: relative error {e:.2e} between WGSL and CPU"
    ));
    assert!(e <= 1e-5, "samples differ between WGSL and CPU by {e:.2e}");

    let cfg = CemConfig {
        population: 256,
        elites: 16,
        iterations: 3,
        horizon: 12,
        smoothing: 0.5,
        min_prob: 0.01,
    };
    let z: Vec<f32> = (0..c.state_latent as u32)
        .map(|i| rng::uniform(1, 0, i) * 2.0 - 1.0)
        .collect();
    let goal: Vec<f32> = (0..c.state_latent as u32)
        .map(|i| rng::uniform(1, 1, i) * 2.0 - 1.0)
        .collect();
    let (zg, gg) = (
        g.input(&z, 1, c.state_latent),
        g.input(&goal, 1, c.state_latent),
    );
    let rec = plan::record(&mut g, &c, &zg, &gg, &cfg, &[], 9);
    let mut read = Vec::new();
    for (s, k) in &rec.elites {
        read.push((g.read_ids(s).await.unwrap(), g.read(k).await.unwrap()));
    }
    let on_gpu = plan::finish(&cfg, read);
    let (zc, gc) = (
        cpu.input(&z, 1, c.state_latent),
        cpu.input(&goal, 1, c.state_latent),
    );
    let rec = plan::record(&mut cpu, &c, &zc, &gc, &cfg, &[], 9);
    let on_cpu = plan::finish(
        &cfg,
        rec.elites
            .iter()
            .map(|(s, k)| (s.to_vec(), k.data.to_vec()))
            .collect(),
    );
    assert_eq!(
        on_gpu.actions, on_cpu.actions,
        "plans differ between WGSL and CPU"
    );
}

const FRAMES_NET: &[u8] = include_bytes!("../../public/weights/frames.safetensors");
const STATE_NETS: &[u8] = include_bytes!("../../public/weights/state.safetensors");
const NETS_FIXTURE: &str = include_str!("fixtures/burn_nets.json");

/// The page's frame predictor and state nets on the CPU path in Chromium against burn's
/// outputs recorded natively (`tests/fixtures/burn_nets.json`, kept current by
/// `parity/tests/runtime_nets.rs`), on the same frames rendered here.
#[wasm_bindgen_test]
fn cpu_path_of_the_page_nets_equals_burn_in_the_browser() {
    let fixture: serde_json::Value = serde_json::from_str(NETS_FIXTURE).unwrap();
    let want = |k: &str| -> Vec<f32> { serde_json::from_value(fixture[k].clone()).unwrap() };
    let cfg = world::episode::EpisodeConfig {
        questions: false,
        steps: 8,
        ..world::episode::EpisodeConfig::default()
    };
    let e = world::episode::generate_episode(fixture["episode"].as_u64().unwrap(), &cfg).unwrap();
    let (prev, cur) = (e.frame(1), e.frame(2));
    let worst = |a: &[f32], b: &[f32]| {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max)
    };
    let net = runtime::frame_net::FrameNet::from_safetensors(FRAMES_NET, "frames.safetensors").unwrap();
    let stride = fixture["stride"].as_u64().unwrap() as usize;
    let (last, mv) = (fixture["last"].as_u64().unwrap() as u8, fixture["move"].as_u64().unwrap() as u8);
    let logits: Vec<f32> = net.logits(prev, cur, last, mv).into_iter().step_by(stride).collect();
    let w = worst(&logits, &want("logits"));
    web_sys_log(&format!("frame predictor logits: worst difference from burn {w:.2e}"));
    assert!(w < 1e-3, "frame predictor logits differ from burn by {w}");
    let nets = runtime::state::StateNets::from_safetensors(STATE_NETS, "state.safetensors").unwrap();
    let r = nets.read_out(prev, cur);
    for (k, got) in [("presence", &r.presence), ("pos", &r.pos), ("ab", &r.ab), ("size", &r.size)] {
        let w = worst(got, &want(k));
        assert!(w < 1e-3, "reader {k} differs from burn by {w}");
    }
    // The sentence reader (text -> first frame).
    let words: Vec<u16> = serde_json::from_value(fixture["words"].clone()).unwrap();
    let (side, slots) = nets.prompt.as_ref().expect("the page's state nets read sentences").read(&words);
    let w = worst(&slots, &want("prompt_slots")).max(worst(&[side], &want("prompt_side")));
    web_sys_log(&format!("sentence reader: worst difference from burn {w:.2e}"));
    assert!(w < 1e-3, "the sentence reader differs from burn by {w}");
}

/// The page's frame predictor through the WGSL kernels on the browser's WebGPU adapter
/// (SwiftShader here) against burn's outputs (`tests/fixtures/burn_nets.json`), and its dream
/// against the CPU path's.
#[wasm_bindgen_test]
async fn wgsl_path_of_the_frame_predictor_equals_burn_in_the_browser() {
    let fixture: serde_json::Value = serde_json::from_str(NETS_FIXTURE).unwrap();
    let want: Vec<f32> = serde_json::from_value(fixture["logits"].clone()).unwrap();
    let cfg = world::episode::EpisodeConfig {
        questions: false,
        steps: 8,
        ..world::episode::EpisodeConfig::default()
    };
    let e = world::episode::generate_episode(fixture["episode"].as_u64().unwrap(), &cfg).unwrap();
    let net = runtime::frame_net::FrameNet::from_safetensors(FRAMES_NET, "frames.safetensors").unwrap();
    let ctx = GpuContext::new().await.unwrap_or_else(|e| {
        panic!("{e}: run Chromium with the WebGPU flags in shaders/webdriver.json")
    });
    web_sys_log(&format!("adapter: {}", ctx.describe()));
    let mut g = runtime::frame_gpu::FrameGpu::new(Arc::new(ctx), &net);
    let stride = fixture["stride"].as_u64().unwrap() as usize;
    let (last, mv) = (fixture["last"].as_u64().unwrap() as u8, fixture["move"].as_u64().unwrap() as u8);
    let logits: Vec<f32> = g.logits(e.frame(1), e.frame(2), last, mv).await.unwrap().into_iter().step_by(stride).collect();
    assert_eq!(logits.len(), want.len());
    let w = logits.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    web_sys_log(&format!("frame predictor on WebGPU: worst logit difference from burn {w:.2e}"));
    assert!(w < 1e-3, "WGSL frame predictor logits differ from burn by {w}");
    let how = runtime::frame_net::Compose::Conserve;
    let actions = &e.actions[2..6];
    let a = g.dream([e.frame(1), e.frame(2)], last, actions, how, 0.0, 0).await.unwrap();
    let b = net.dream([e.frame(1), e.frame(2)], last, actions, how, 0.0, 0);
    let d = a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
    assert!(d <= 1, "WebGPU and CPU dreams differ by {d} levels");
}

/// The page's planner on the browser's WebGPU adapter: the reader's reading of a frame, every
/// candidate's imagined cost under the dynamics ensemble (`state_rollout.wgsl`), and a whole
/// plan at the page's settings, equal the CPU path's.
#[wasm_bindgen_test]
async fn wgsl_path_of_the_state_planner_equals_the_cpu_path_in_the_browser() {
    use runtime::state::{StateNets, Target};
    let manifest = parse_manifest(MANIFEST, "manifest.json").unwrap();
    let weights = check_weights(&manifest, WEIGHTS).unwrap();
    let nets = StateNets::from_safetensors(STATE_NETS, "state.safetensors").unwrap();
    let cfg = world::episode::EpisodeConfig {
        questions: false,
        steps: 8,
        ..world::episode::EpisodeConfig::default()
    };
    let e = world::episode::generate_episode(5, &cfg).unwrap();
    let (before, now) = (nets.read(e.frame(2), e.frame(3)), nets.read(e.frame(3), e.frame(4)));
    let zone = layout::slots::OBJECT_SLOTS + 1;
    let target = Target::of(&now, Some(&before), e.actions[3], 0, zone, e.scene.view);
    let mut g = gpu(&weights).await;
    let mut on_gpu = runtime::state_gpu::StateGpu::new(&g, &nets);
    let read = on_gpu.read_out(&nets, e.frame(3), e.frame(4)).await.unwrap();
    let err = reading_error(&read, &nets.read_out(e.frame(3), e.frame(4)));
    web_sys_log(&format!("the reader on WebGPU: worst difference from the CPU path {err:.2e}"));
    assert!(err <= 1e-3, "the WebGPU reader differs from the CPU path by {err:.2e}");
    let (n, horizon) = (257, 12);
    let actions: Vec<u32> = (0..n * horizon).map(|i| rng::bits(9, 1, i as u32) % 9).collect();
    let got = on_gpu.costs(&mut g, &target, &actions, n, horizon).await.unwrap();
    let want = target.costs(&nets.ensemble, &actions, n, horizon);
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    let err = got.iter().zip(&want).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale;
    web_sys_log(&format!("state rollouts on WebGPU: worst relative cost error {err:.2e}"));
    assert!(err <= 1e-4, "WebGPU state rollouts differ from the CPU path by {err:.2e}");
    let page = CemConfig { population: 256, elites: 32, iterations: 3, horizon, smoothing: 0.5, min_prob: 0.01 };
    let a = on_gpu.plan(&mut g, &nets.ensemble, &target, &page, &[], 7).await.unwrap();
    let b = runtime::state::plan(&nets.ensemble, &target, &page, &[], 7);
    assert_eq!(a.result.actions, b.result.actions, "WebGPU planned other moves");
    assert!((a.result.cost - b.result.cost).abs() <= 1e-4 * b.result.cost.abs().max(1.0));
}

/// The largest difference between two of the reader's raw outputs.
fn reading_error(a: &runtime::state::ReadOut, b: &runtime::state::ReadOut) -> f32 {
    [(&a.presence, &b.presence), (&a.pos, &b.pos), (&a.ab, &b.ab), (&a.size, &b.size)]
        .iter()
        .flat_map(|(x, y)| x.iter().zip(y.iter()).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}
