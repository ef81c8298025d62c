#![cfg(not(target_arch = "wasm32"))]
//! The page-facing `Runtime` on both paths: the same dream, first frame and plan on the GPU
//! (lavapipe here) and on the CPU path, and bad input refused with a message that names it.

use std::path::Path;

use layout::cem::CemConfig;
use runtime::gpu::GpuContext;
use runtime::{Prefer, Runtime, RuntimeError};
use world::episode::{generate_episode, EpisodeConfig};
use world::language::vocab::tokenize;

fn files() -> (String, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    (
        std::fs::read_to_string(dir.join("manifest.json")).unwrap(),
        std::fs::read(dir.join("student.safetensors")).unwrap(),
    )
}

fn both() -> (Runtime, Runtime) {
    let (m, w) = files();
    let gpu = pollster::block_on(Runtime::load(&m, &w, Prefer::Gpu)).unwrap();
    assert!(
        gpu.describe().starts_with("GPU"),
        "no GPU adapter: {:?}",
        gpu.fallback_reason
    );
    let cpu = pollster::block_on(Runtime::load(&m, &w, Prefer::Cpu)).unwrap();
    assert_eq!(cpu.describe(), "CPU");
    (gpu, cpu)
}

#[test]
fn auto_takes_a_hardware_gpu_and_leaves_a_software_one_for_the_cpu_path() {
    let (m, w) = files();
    let adapter = pollster::block_on(GpuContext::new()).expect("a GPU adapter (lavapipe in CI)");
    let rt = pollster::block_on(Runtime::load(&m, &w, Prefer::Auto)).unwrap();
    if adapter.info.device_type == wgpu::DeviceType::Cpu {
        assert_eq!(rt.describe(), "CPU");
        let reason = rt.fallback_reason.clone().unwrap_or_default();
        assert!(reason.contains("software"), "{reason}");
    } else {
        assert!(rt.describe().starts_with("GPU"), "{:?}", rt.fallback_reason);
    }
}

fn max_diff(a: &[Vec<u8>], b: &[Vec<u8>]) -> u8 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0)
}

#[test]
fn gpu_and_cpu_runtimes_dream_prompt_and_plan_alike() {
    let (mut gpu, mut cpu) = both();
    let ep = generate_episode(
        123,
        &EpisodeConfig {
            questions: false,
            ..Default::default()
        },
    )
    .unwrap();
    let context = [ep.frame(4), ep.frame(5)];
    let actions = &ep.actions[5..11];
    for (t, seed) in [(0.0, 0), (1.0, 3)] {
        let a = pollster::block_on(gpu.imagine(context, ep.actions[4], actions, t, seed)).unwrap();
        let b = pollster::block_on(cpu.imagine(context, ep.actions[4], actions, t, seed)).unwrap();
        assert_eq!(a.len(), actions.len());
        let d = max_diff(&a, &b);
        assert!(d <= 1, "dreams at temperature {t} differ by {d} levels");
    }
    let sentence = tokenize("a red ball").unwrap();
    let a = pollster::block_on(gpu.prompt_to_frame(&sentence)).unwrap();
    let b = pollster::block_on(cpu.prompt_to_frame(&sentence)).unwrap();
    assert!(max_diff(&[a], &[b]) <= 1);
    let goal = tokenize("the red ball enters the green zone .").unwrap();
    let cfg = CemConfig {
        population: 200,
        elites: 10,
        iterations: 3,
        ..Default::default()
    };
    let a = pollster::block_on(gpu.plan(context, &goal, &cfg, &[], 4)).unwrap();
    let b = pollster::block_on(cpu.plan(context, &goal, &cfg, &[], 4)).unwrap();
    assert_eq!(a.actions, b.actions);
    assert_eq!(a.iterations.len(), 3);
    assert_eq!(a.evaluated, 600);
}

#[test]
fn bad_input_is_refused_with_its_reason() {
    let (m, w) = files();
    let mut rt = pollster::block_on(Runtime::load(&m, &w, Prefer::Cpu)).unwrap();
    let frame = vec![0u8; 64 * 64 * 3];
    let short = vec![0u8; 100];
    let err = |r: Result<_, RuntimeError>| match r {
        Err(RuntimeError::Input(s)) => s,
        other => panic!("expected an input error, got {other:?}"),
    };
    let e = err(pollster::block_on(rt.imagine([&short, &frame], 0, &[0], 0.0, 0)).map(|_| ()));
    assert!(e.contains("100 bytes"), "{e}");
    let e = err(pollster::block_on(rt.imagine([&frame, &frame], 0, &[9], 0.0, 0)).map(|_| ()));
    assert!(e.contains("action 9"), "{e}");
    let e = err(pollster::block_on(rt.imagine([&frame, &frame], 12, &[0], 0.0, 0)).map(|_| ()));
    assert!(e.contains("led to the last frame, 12"), "{e}");
    let e = err(pollster::block_on(rt.imagine([&frame, &frame], 0, &[0], -1.0, 0)).map(|_| ()));
    assert!(e.contains("temperature"), "{e}");
    let e = err(pollster::block_on(rt.prompt_to_frame(&[])).map(|_| ()));
    assert!(e.contains("0 words"), "{e}");
    let e = err(pollster::block_on(rt.prompt_to_frame(&[60000])).map(|_| ()));
    assert!(e.contains("vocabulary"), "{e}");
    let bad = CemConfig {
        elites: 0,
        ..Default::default()
    };
    let e = err(pollster::block_on(rt.plan([&frame, &frame], &[1], &bad, &[], 0)).map(|_| ()));
    assert!(e.contains("elites"), "{e}");
    let huge = CemConfig {
        population: runtime::api::MAX_POPULATION + 1,
        ..Default::default()
    };
    let e = err(pollster::block_on(rt.plan([&frame, &frame], &[1], &huge, &[], 0)).map(|_| ()));
    assert!(e.contains("population") && e.contains("limit"), "{e}");
    let far = CemConfig {
        horizon: runtime::api::MAX_HORIZON + 1,
        ..Default::default()
    };
    let e = err(pollster::block_on(rt.plan([&frame, &frame], &[1], &far, &[], 0)).map(|_| ()));
    assert!(e.contains("horizon"), "{e}");
    // A damaged weights file is refused before anything runs.
    let mut broken = w.clone();
    broken[1000] ^= 1;
    let e = pollster::block_on(Runtime::load(&m, &broken, Prefer::Cpu))
        .err()
        .unwrap();
    assert!(e.to_string().contains("sha256"), "{e}");
}

#[test]
fn answers_and_captions_agree_on_both_paths() {
    let (mut gpu, mut cpu) = both();
    let ep = generate_episode(
        321,
        &EpisodeConfig {
            questions: false,
            ..Default::default()
        },
    )
    .unwrap();
    let frames: Vec<&[u8]> = (0..=20).map(|t| ep.frame(t)).collect();
    let actions = &ep.actions[..21];
    let q = tokenize("how many balls are there ?").unwrap();
    let a = pollster::block_on(gpu.answer(&frames, actions, &q)).unwrap();
    let b = pollster::block_on(cpu.answer(&frames, actions, &q)).unwrap();
    assert!(!b.is_empty(), "no answer");
    assert_eq!(
        a.iter().map(|w| w.0).collect::<Vec<_>>(),
        b.iter().map(|w| w.0).collect::<Vec<_>>()
    );
    for ((_, p), (_, r)) in a.iter().zip(&b) {
        assert!((p - r).abs() < 1e-4 && *r > 0.0 && *r <= 1.0);
    }
    // The first word's distribution: sums to 1, its greedy word is the reply's first word,
    // and both paths give the same one.
    let r = pollster::block_on(cpu.ask(&frames, actions, &q)).unwrap();
    assert_eq!(r.words, b);
    assert_eq!(r.first.len(), cpu.config().vocab);
    assert!((r.first.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    let top = r.alternatives(3);
    assert_eq!(top.len(), 3);
    assert_eq!(top[0].0, b[0].0);
    assert!((top[0].1 - b[0].1).abs() < 1e-6 && top[0].1 >= top[1].1 && top[1].1 >= top[2].1);
    assert_eq!(r.first_word(top[1].0), top[1].1);
    assert_eq!(r.first_word(u16::MAX), 0.0);
    let g = pollster::block_on(gpu.ask(&frames, actions, &q)).unwrap();
    for (x, y) in g.first.iter().zip(&r.first) {
        assert!((x - y).abs() < 1e-4);
    }
    let a = pollster::block_on(gpu.caption(&frames, actions)).unwrap();
    let b = pollster::block_on(cpu.caption(&frames, actions)).unwrap();
    assert!(!b.is_empty(), "empty caption");
    assert_eq!(
        a.iter().map(|w| w.0).collect::<Vec<_>>(),
        b.iter().map(|w| w.0).collect::<Vec<_>>()
    );
    let e = pollster::block_on(cpu.answer(&[], &[], &q)).unwrap_err();
    assert!(e.to_string().contains("at least one frame"), "{e}");
}

#[test]
fn a_lost_device_is_reported_and_the_runtime_rebuilds() {
    let (mut gpu, _) = both();
    let frame = vec![0u8; 64 * 64 * 3];
    pollster::block_on(gpu.imagine([&frame, &frame], 0, &[0], 0.0, 0)).unwrap();
    gpu.lose_device();
    let e = pollster::block_on(gpu.imagine([&frame, &frame], 0, &[0], 0.0, 0)).unwrap_err();
    eprintln!("after losing the device: {e}");
    assert!(matches!(e, RuntimeError::Gpu(_)), "{e:?}");
    assert!(gpu.gpu_lost(), "the loss was not recorded");
    pollster::block_on(gpu.rebuild());
    assert!(!gpu.gpu_lost());
    pollster::block_on(gpu.imagine([&frame, &frame], 0, &[0], 0.0, 0)).unwrap();
}

#[test]
fn explain_opens_up_the_same_step_the_dream_takes() {
    let (m, w) = files();
    let mut cpu = pollster::block_on(Runtime::load(&m, &w, Prefer::Cpu)).unwrap();
    let c = cpu.config().clone();
    let ep = generate_episode(
        8,
        &EpisodeConfig {
            questions: false,
            ..Default::default()
        },
    )
    .unwrap();
    let context = [ep.frame(3), ep.frame(4)];
    let inside = pollster::block_on(cpu.explain(context, 1, 0.5, 77, 0)).unwrap();
    let dreamed = pollster::block_on(cpu.imagine(context, ep.actions[3], &[1], 0.5, 77)).unwrap();
    assert_eq!(
        inside.frame, dreamed[0],
        "explain and imagine took different steps"
    );
    let p = inside.grid * inside.grid;
    assert_eq!(p, c.patches());
    assert_eq!(inside.tokens, 2 * p + 2);
    assert_eq!(inside.prev.len(), p * inside.latent);
    assert_eq!(inside.sample.len(), p * inside.latent);
    assert_eq!(inside.attention.len(), c.layers);
    let n = inside.tokens;
    for layer in &inside.attention {
        assert_eq!(layer.len(), inside.heads * n * n);
        for row in layer.chunks(n) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        }
        // The frame mask: the summary token does not see the action.
        for h in 0..inside.heads {
            assert_eq!(layer[(h * n + n - 1) * n + n - 2], 0.0);
        }
    }
    // At temperature 0 the sample is the mean.
    let still = pollster::block_on(cpu.explain(context, 1, 0.0, 77, 0)).unwrap();
    assert_eq!(still.sample, still.mean);
    let e = pollster::block_on(cpu.explain(context, 9, 0.5, 1, 0)).unwrap_err();
    assert!(e.to_string().contains("action 9"), "{e}");
}

/// The Explain demo's step: the same frame the page's dream draws, the net's stages on the way
/// down and up, a change probability and a class per pixel, and the state's places; stepping
/// again goes on with the same dream.
#[test]
fn explain_dream_opens_up_the_step_the_page_dreams() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let (m, w) = files();
    let load = || {
        let mut rt = pollster::block_on(Runtime::load(&m, &w, Prefer::Cpu)).unwrap();
        rt.attach(layout::weights::FRAMES_NET, &std::fs::read(dir.join("frames.safetensors")).unwrap()).unwrap();
        rt.attach(layout::weights::STATE_NET, &std::fs::read(dir.join("state.safetensors")).unwrap()).unwrap();
        rt
    };
    let ep = generate_episode(321, &EpisodeConfig { questions: false, ..Default::default() }).unwrap();
    let (context, last, moves) = ([ep.frame(4), ep.frame(5)], ep.actions[4], [ep.actions[5], ep.actions[6]]);
    let mut rt = load();
    let first = pollster::block_on(rt.explain_dream(context, last, moves[0], 0.0, 0)).unwrap();
    let second = pollster::block_on(rt.explain_dream([context[1], &first.frame], moves[0], moves[1], 0.0, 0)).unwrap();
    let dreamed = pollster::block_on(load().imagine(context, last, &moves, 0.0, 0)).unwrap();
    assert_eq!(first.frame, dreamed[0], "the explained step is not the dream's");
    assert_eq!(second.frame, dreamed[1], "the second explained step did not go on with the dream");

    let sides: Vec<(&str, usize)> = first.stages.iter().map(|s| (s.name.as_str(), s.side)).collect();
    assert_eq!(sides, [("32x32", 32), ("16x16", 16), ("8x8", 8), ("up 16x16", 16), ("up 32x32", 32)]);
    for s in &first.stages {
        assert_eq!(s.activity.len(), s.side * s.side);
        assert_eq!(s.colours.len(), 4 * s.side * s.side);
        assert!(s.activity.iter().all(|a| a.is_finite() && *a >= 0.0), "{}", s.name);
        assert!(s.activity.iter().any(|a| *a > 0.0), "{} is all zero", s.name);
    }
    let pixels = 64 * 64;
    assert_eq!((first.change.len(), first.likeliest.len(), first.frame.len()), (pixels, pixels, 3 * pixels));
    assert!(first.change.iter().all(|p| (0.0..=1.0).contains(p)));
    for ((p, top), px) in first.change.iter().zip(&first.likeliest).zip(context[1].chunks_exact(3)) {
        assert!(top[0].1 >= top[1].1 && top[1].1 >= top[2].1 && top[0].1 + top[1].1 + top[2].1 <= 1.0 + 1e-5);
        // A pixel unlikely to change keeps its class as the likeliest one.
        if *p < 0.5 {
            assert_eq!(top[0].0, world::render::palette_index([px[0], px[1], px[2]]));
        }
    }
    let agent = first.tracked.iter().find(|t| t.class == runtime::frame_net::AGENT_CLASS).expect("the agent is tracked");
    assert_eq!(agent.places.len(), rt.state.as_ref().unwrap().ensemble.len());
    assert!(agent.places.iter().flatten().all(|v| (-8.0..72.0).contains(v)), "{:?}", agent.places);
    assert!(first.pair && first.parameters > 0 && first.flops > 0.0);

    let e = pollster::block_on(rt.explain_dream(context, last, 9, 0.0, 0)).unwrap_err();
    assert!(e.to_string().contains("action 9"), "{e}");
    let mut bare = pollster::block_on(Runtime::load(&m, &w, Prefer::Cpu)).unwrap();
    let e = pollster::block_on(bare.explain_dream(context, last, 1, 0.0, 0)).unwrap_err();
    assert!(e.to_string().contains("no frame predictor"), "{e}");
}

/// The page's frame predictor on the GPU path: its logits equal burn's (recorded natively in
/// `tests/fixtures/burn_nets.json` by `parity/tests/runtime_nets.rs`) within 1e-3, its dreams
/// equal the CPU path's, and a lost device is rebuilt with it.
#[test]
fn the_frame_predictor_dreams_on_the_gpu_as_burn_and_the_cpu_path_do() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let bytes = std::fs::read(dir.join("frames.safetensors")).unwrap();
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/burn_nets.json")).unwrap();
    let cfg = EpisodeConfig {
        questions: false,
        steps: 8,
        ..Default::default()
    };
    let e = generate_episode(fixture["episode"].as_u64().unwrap(), &cfg).unwrap();
    let net = runtime::frame_net::FrameNet::from_safetensors(&bytes, "frames.safetensors").unwrap();
    let ctx = pollster::block_on(GpuContext::new()).expect("a GPU adapter (lavapipe in CI)");
    let mut on_gpu = runtime::frame_gpu::FrameGpu::new(std::sync::Arc::new(ctx), &net);
    let stride = fixture["stride"].as_u64().unwrap() as usize;
    let (last, mv) = (fixture["last"].as_u64().unwrap() as u8, fixture["move"].as_u64().unwrap() as u8);
    let logits = pollster::block_on(on_gpu.logits(e.frame(1), e.frame(2), last, mv)).unwrap();
    let want: Vec<f32> = serde_json::from_value(fixture["logits"].clone()).unwrap();
    let got: Vec<f32> = logits.into_iter().step_by(stride).collect();
    assert_eq!(got.len(), want.len());
    let worst = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    eprintln!("frame predictor on the GPU: worst logit difference from burn {worst:.2e}");
    assert!(worst < 1e-3, "GPU logits differ from burn by {worst}");

    let (mut gpu, mut cpu) = both();
    for rt in [&mut gpu, &mut cpu] {
        rt.attach(layout::weights::FRAMES_NET, &bytes).unwrap();
    }
    assert!(gpu.describe().starts_with("GPU"), "{}", gpu.describe());
    let ep = generate_episode(321, &EpisodeConfig { questions: false, ..Default::default() }).unwrap();
    let context = [ep.frame(4), ep.frame(5)];
    let actions = &ep.actions[5..13];
    let last = ep.actions[4];
    for (t, seed) in [(0.0, 0), (1.0, 3)] {
        let a = pollster::block_on(gpu.imagine(context, last, actions, t, seed)).unwrap();
        let b = pollster::block_on(cpu.imagine(context, last, actions, t, seed)).unwrap();
        assert_eq!(a.len(), actions.len());
        let d = max_diff(&a, &b);
        assert!(d <= 1, "frame predictor dreams at temperature {t} differ by {d} levels");
    }
    gpu.lose_device();
    let e = pollster::block_on(gpu.imagine(context, last, actions, 0.0, 0)).unwrap_err();
    assert!(matches!(e, RuntimeError::Gpu(_)), "{e:?}");
    pollster::block_on(gpu.rebuild());
    let a = pollster::block_on(gpu.imagine(context, last, actions, 0.0, 0)).unwrap();
    let b = pollster::block_on(cpu.imagine(context, last, actions, 0.0, 0)).unwrap();
    assert!(max_diff(&a, &b) <= 1, "after the rebuild the GPU dreams differently");
}

/// The page dreams a step or a few at a time, passing back the last two frames it was given.
/// Where the agent's tracked place is unsure those frames show its expected picture while the
/// dream goes on from crisp ones, so going on must take up the kept dream, not read the shown
/// frames afresh: a dream in two calls equals the same dream in one.
#[test]
fn a_dream_in_two_calls_equals_the_dream_in_one() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let (m, w) = files();
    let mut rt = pollster::block_on(Runtime::load(&m, &w, Prefer::Cpu)).unwrap();
    rt.attach(layout::weights::FRAMES_NET, &std::fs::read(dir.join("frames.safetensors")).unwrap()).unwrap();
    rt.attach(layout::weights::STATE_NET, &std::fs::read(dir.join("state.safetensors")).unwrap()).unwrap();
    let ep = generate_episode(321, &EpisodeConfig { questions: false, ..Default::default() }).unwrap();
    let (context, last, actions) = ([ep.frame(4), ep.frame(5)], ep.actions[4], &ep.actions[5..17]);
    let whole = pollster::block_on(rt.imagine(context, last, actions, 0.0, 0)).unwrap();
    let first = pollster::block_on(rt.imagine(context, last, &actions[..5], 0.0, 0)).unwrap();
    let rest = pollster::block_on(rt.imagine([&first[3], &first[4]], actions[4], &actions[5..], 0.0, 0)).unwrap();
    // A runtime that did not dream them reads those frames afresh, and dreams on differently:
    // the kept dream is what makes the two calls one dream.
    let mut fresh = pollster::block_on(Runtime::load(&m, &w, Prefer::Cpu)).unwrap();
    fresh.attach(layout::weights::FRAMES_NET, &std::fs::read(dir.join("frames.safetensors")).unwrap()).unwrap();
    fresh.attach(layout::weights::STATE_NET, &std::fs::read(dir.join("state.safetensors")).unwrap()).unwrap();
    let anew = pollster::block_on(fresh.imagine([&first[3], &first[4]], actions[4], &actions[5..], 0.0, 0)).unwrap();
    assert_ne!(anew, rest, "the second call did not depend on the kept dream");
    assert_eq!([first, rest].concat(), whole, "the dream went on differently");
}

/// The state nets plan on the GPU path (every candidate's rollouts under the whole ensemble in
/// `state_rollout.wgsl`, the search on the device) as on the CPU path: the same moves and
/// cost for the same seed, from two moments of an episode, and again after a lost device.
#[test]
fn the_state_nets_plan_on_the_gpu_as_on_the_cpu_path() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let state = std::fs::read(dir.join("state.safetensors")).unwrap();
    let (mut gpu, mut cpu) = both();
    for rt in [&mut gpu, &mut cpu] {
        rt.attach(layout::weights::STATE_NET, &state).unwrap();
    }
    assert!(gpu.describe().starts_with("GPU"), "{}", gpu.describe());
    let ep = generate_episode(321, &EpisodeConfig { questions: false, ..Default::default() }).unwrap();
    let goal = tokenize("the red ball enters the green zone .").unwrap();
    let settings = CemConfig::default();
    let mut plans = Vec::new();
    for (k, seed) in [(4, 1), (9, 2)] {
        let context = [ep.frame(k), ep.frame(k + 1)];
        let view = world::scene::View::TopDown;
        let a = pollster::block_on(gpu.plan_in(view, context, ep.actions[k], &goal, &settings, &[], seed)).unwrap();
        let b = pollster::block_on(cpu.plan_in(view, context, ep.actions[k], &goal, &settings, &[], seed)).unwrap();
        eprintln!("state plan from frame {}: GPU cost {:.5}, CPU {:.5}", k + 1, a.cost, b.cost);
        assert_eq!(a.actions, b.actions, "the GPU planned other moves");
        assert!((a.cost - b.cost).abs() <= 1e-4 * b.cost.abs().max(1.0), "costs {} and {}", a.cost, b.cost);
        assert_eq!(a.evaluated, b.evaluated);
        plans.push(b);
    }
    gpu.lose_device();
    let context = [ep.frame(4), ep.frame(5)];
    let view = world::scene::View::TopDown;
    let e = pollster::block_on(gpu.plan_in(view, context, ep.actions[4], &goal, &settings, &[], 1)).unwrap_err();
    assert!(matches!(e, RuntimeError::Gpu(_)), "{e:?}");
    pollster::block_on(gpu.rebuild());
    let a = pollster::block_on(gpu.plan_in(view, context, ep.actions[4], &goal, &settings, &[], 1)).unwrap();
    assert_eq!(a.actions, plans[0].actions, "after the rebuild the GPU plans differently");
}
