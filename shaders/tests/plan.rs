#![cfg(not(target_arch = "wasm32"))]
//! Planning with the committed student on the CPU and GPU paths: the same seed gives the same
//! plan, and the search improves its own objective from the first iteration to the last.

use std::path::Path;
use std::sync::Arc;

use layout::cem::CemConfig;
use layout::config::ModelConfig;
use layout::weights::{check_weights, parse_manifest, Weights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use runtime::cpu::Cpu;
use runtime::gpu::{Gpu, GpuContext};
use runtime::plan::{finish, record, PlanResult};
use runtime::state::{StateNets, Target};
use runtime::state_gpu::StateGpu;
use runtime::Exec;

fn student() -> (ModelConfig, Weights) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let manifest = parse_manifest(&text, "manifest.json").unwrap();
    let bytes = std::fs::read(dir.join(&manifest.weights_file)).unwrap();
    (
        manifest.config.clone(),
        check_weights(&manifest, &bytes).unwrap(),
    )
}

fn settings() -> CemConfig {
    CemConfig {
        population: 500,
        elites: 20,
        iterations: 5,
        horizon: 12,
        smoothing: 0.5,
        min_prob: 0.01,
    }
}

#[test]
fn cpu_and_gpu_plan_alike_and_the_search_improves() {
    let (c, w) = student();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let z: Vec<f32> = (0..c.state_latent)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let g: Vec<f32> = (0..c.state_latent)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let cfg = settings();

    let mut cpu = Cpu::new(w.clone());
    let (zc, gc) = (
        cpu.input(&z, 1, c.state_latent),
        cpu.input(&g, 1, c.state_latent),
    );
    let rec = record(&mut cpu, &c, &zc, &gc, &cfg, &[], 77);
    let on_cpu: PlanResult = finish(
        &cfg,
        rec.elites
            .iter()
            .map(|(s, k)| (s.to_vec(), k.data.to_vec()))
            .collect(),
    );

    let ctx =
        Arc::new(pollster::block_on(GpuContext::new()).expect("a GPU adapter (lavapipe in CI)"));
    let mut gpu = Gpu::new(ctx, &w);
    let (zg, gg) = (
        gpu.input(&z, 1, c.state_latent),
        gpu.input(&g, 1, c.state_latent),
    );
    let rec = record(&mut gpu, &c, &zg, &gg, &cfg, &[], 77);
    let read: Vec<(Vec<u32>, Vec<f32>)> = rec
        .elites
        .iter()
        .map(|(s, k)| {
            (
                pollster::block_on(gpu.read_ids(s)).unwrap(),
                pollster::block_on(gpu.read(k)).unwrap(),
            )
        })
        .collect();
    let on_gpu = finish(&cfg, read);

    assert_eq!(on_gpu.actions, on_cpu.actions, "best sequences differ");
    assert!((on_gpu.cost - on_cpu.cost).abs() <= 1e-4 * on_cpu.cost.abs().max(1.0));
    assert_eq!(
        on_gpu.iterations[0].actions, on_cpu.iterations[0].actions,
        "first elites differ"
    );
    let mean =
        |p: &PlanResult, i: usize| p.iterations[i].costs.iter().sum::<f32>() / cfg.elites as f32;
    let (first, last) = (mean(&on_cpu, 0), mean(&on_cpu, cfg.iterations - 1));
    eprintln!(
        "mean elite cost: first iteration {first:.4}, last {last:.4}; best {:.4}",
        on_cpu.cost
    );
    assert!(
        last < first,
        "the search did not improve its objective: {first} -> {last}"
    );
}

#[test]
fn fused_gpu_rollouts_equal_the_layer_by_layer_cpu_ones() {
    let (c, w) = student();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let (n, horizon, zd) = (301, 12, c.state_latent);
    let z: Vec<f32> = (0..zd).map(|_| rng.random_range(-1.0..1.0)).collect();
    let g: Vec<f32> = (0..zd).map(|_| rng.random_range(-1.0..1.0)).collect();
    let actions: Vec<u32> = (0..n * horizon).map(|_| rng.random_range(0..9)).collect();
    let mut cpu = Cpu::new(w.clone());
    let (zc, gc, ac) = (
        cpu.input(&z, 1, zd),
        cpu.input(&g, 1, zd),
        cpu.ids(&actions),
    );
    let want = cpu.rollout_cost(&zc, &gc, &ac, n, horizon);
    let ctx =
        Arc::new(pollster::block_on(GpuContext::new()).expect("a GPU adapter (lavapipe in CI)"));
    let mut gpu = Gpu::new(ctx, &w);
    assert!(
        gpu.fused_rollouts(),
        "the student's planning weights should fit uniform bindings and run fused"
    );
    let (zg, gg, ag) = (
        gpu.input(&z, 1, zd),
        gpu.input(&g, 1, zd),
        gpu.ids(&actions),
    );
    // Both fused kernels: one invocation per candidate (CPU-emulated adapters) and one
    // workgroup per candidate (GPUs); each is forced here whatever the adapter.
    for cooperative in [false, true] {
        gpu.set_cooperative_rollouts(cooperative);
        assert_eq!(gpu.cooperative_rollouts(), cooperative);
        let cost = gpu.rollout_cost(&zg, &gg, &ag, n, horizon);
        let got = pollster::block_on(gpu.read(&cost)).unwrap();
        let scale = want.data.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let err = got
            .iter()
            .zip(want.data.iter())
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
            / scale;
        eprintln!(
            "fused rollout cost (cooperative: {cooperative}): relative error {err:.2e} over {n} candidates"
        );
        assert!(
            err <= 1e-5,
            "fused rollouts (cooperative: {cooperative}) differ from the layer-by-layer ones by {err:.2e}"
        );
    }
}

/// The state planner on the GPU against the CPU path, on the shipped state nets: the reader's
/// reading of real frames, and the fused rollouts (`state_rollout.wgsl`: each candidate under
/// every member of the dynamics ensemble) against [`Target::cost`], for targets read off those
/// frames (every object slot, present or not, toward either zone slot) and random move
/// sequences.
#[test]
fn the_state_nets_read_and_roll_out_on_the_gpu_as_on_the_cpu_path() {
    let (_, w) = student();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let bytes = std::fs::read(dir.join("state.safetensors")).unwrap();
    let nets = StateNets::from_safetensors(&bytes, "state.safetensors").unwrap();
    let ctx =
        Arc::new(pollster::block_on(GpuContext::new()).expect("a GPU adapter (lavapipe in CI)"));
    let mut gpu = Gpu::new(ctx, &w);
    let mut on_gpu = StateGpu::new(&gpu, &nets);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, horizon) = (301, 12);
    let cfg = world::episode::EpisodeConfig { questions: false, ..Default::default() };
    let (mut worst, mut reached) = (0f32, 0usize);
    for episode in [5u64, 17, 40] {
        let ep = world::episode::generate_episode(episode, &cfg).unwrap();
        let before = nets.read(ep.frame(2), ep.frame(3));
        let now = nets.read(ep.frame(3), ep.frame(4));
        // The reader on the GPU reads the same slots.
        let read = pollster::block_on(on_gpu.read_out(&nets, ep.frame(3), ep.frame(4))).unwrap();
        let want = nets.read_out(ep.frame(3), ep.frame(4));
        let read_err = [(&read.presence, &want.presence), (&read.pos, &want.pos), (&read.ab, &want.ab), (&read.size, &want.size)]
            .iter()
            .flat_map(|(x, y)| x.iter().zip(y.iter()).map(|(p, q)| (p - q).abs()))
            .fold(0.0f32, f32::max);
        eprintln!("the reader on the GPU, episode {episode}: worst difference from the CPU path {read_err:.2e}");
        assert!(read_err <= 1e-3, "the GPU reader differs from the CPU path by {read_err:.2e}");
        assert_eq!(read.reading().presence.map(|p| p > 0.5), now.presence.map(|p| p > 0.5));
        let view = ep.scene.view;
        for object in 0..layout::slots::OBJECT_SLOTS {
            let zone = layout::slots::OBJECT_SLOTS + 1 + object % 2;
            let target = Target::of(&now, Some(&before), ep.actions[3], object, zone, view);
            let actions: Vec<u32> = (0..n * horizon).map(|_| rng.random_range(0..9)).collect();
            let got = pollster::block_on(on_gpu.costs(&mut gpu, &target, &actions, n, horizon)).unwrap();
            let want = target.costs(&nets.ensemble, &actions, n, horizon);
            let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
            let err = got.iter().zip(&want).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / scale;
            worst = worst.max(err);
            reached += want.iter().filter(|c| **c < 0.0).count();
        }
    }
    eprintln!("state rollouts on the GPU: worst relative cost error {worst:.2e} ({reached} candidates imagined reaching their zone)");
    assert!(worst <= 1e-4, "GPU state rollouts differ from the CPU path by {worst:.2e}");
}
