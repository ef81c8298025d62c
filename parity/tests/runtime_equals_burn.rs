//! The browser runtime against burn, on the committed student's weights: every mode of the
//! model on the same inputs, through the CPU path and through the WGSL kernels (natively, on
//! whatever adapter wgpu finds: lavapipe on a machine without a GPU).
//!
//! Error measure: `max |ours - burn| / max |burn|` per output. Bounds: 1e-4 for the CPU path,
//! 1e-3 for the GPU path (the bound on logits, applied to every output).

use std::path::Path;

use burn::tensor::Device;
use model::config::ModelConfig;
use model::export::{self, named_tensors};
use model::infer::to_vec;
use model::net::{floats, ints, WorldModel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

use runtime::cpu::Cpu;
use runtime::gpu::{Gpu, GpuContext};
use runtime::{graph, Exec};

/// `max |a - b| / max |b|`: the largest error relative to the tensor's scale.
fn rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
    a.iter()
        .zip(b)
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// Runs the runtime's graph on an executor and reads results back.
struct Under<'a, E: Exec> {
    e: E,
    read: &'a dyn Fn(&mut E, &E::T) -> Vec<f32>,
    label: &'static str,
    tol: f32,
}

impl<E: Exec> Under<'_, E> {
    fn check(&mut self, what: &str, ours: &E::T, burn: &[f32]) {
        let ours = (self.read)(&mut self.e, ours);
        let e = rel_err(&ours, burn);
        eprintln!(
            "{} {what}: relative error {e:.2e} over {} values",
            self.label,
            burn.len()
        );
        assert!(
            e <= self.tol,
            "{what}: the {} path differs from burn by {e:.2e} (> {:.0e})",
            self.label,
            self.tol
        );
    }
}

fn student() -> (WorldModel, ModelConfig, layout::Weights) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let device = Device::flex();
    let (model, manifest) = export::load(&dir, &device).expect("committed weights load");
    let bytes = std::fs::read(dir.join(&manifest.weights_file)).unwrap();
    let weights = layout::weights::check_weights(&manifest, &bytes).unwrap();
    (model, manifest.config, weights)
}

#[test]
fn layout_names_every_parameter_of_the_burn_model() {
    for c in [
        ModelConfig::tiny(),
        ModelConfig::student(),
        ModelConfig::teacher(),
    ] {
        let burn: Vec<(String, Vec<usize>)> = named_tensors(&WorldModel::new(&c, &Device::flex()))
            .into_iter()
            .map(|(n, s, _)| (n, s))
            .collect();
        let ours: Vec<(String, Vec<usize>)> = layout::tensors::tensor_specs(&c)
            .into_iter()
            .map(|s| (s.name, s.shape))
            .collect();
        assert_eq!(ours, burn);
    }
}

#[test]
fn cpu_path_equals_burn_in_every_mode() {
    let (model, c, weights) = student();
    let read = |_: &mut Cpu, m: &runtime::cpu::Mat| m.data.to_vec();
    every_mode(
        &model,
        &c,
        Under {
            e: Cpu::new(weights),
            read: &read,
            label: "CPU",
            tol: 1e-4,
        },
    );
}

#[test]
fn gpu_path_equals_burn_in_every_mode() {
    let (model, c, weights) = student();
    let ctx = pollster::block_on(GpuContext::new()).unwrap_or_else(|e| {
        panic!(
            "{e}: this test needs a Vulkan driver (apt-get install mesa-vulkan-drivers libvulkan1)"
        )
    });
    eprintln!("adapter: {}", ctx.describe());
    let read = |g: &mut Gpu, m: &runtime::gpu::GpuMat| pollster::block_on(g.read(m)).unwrap();
    let gpu = Gpu::new(Arc::new(ctx), &weights);
    every_mode(
        &model,
        &c,
        Under {
            e: gpu,
            read: &read,
            label: "GPU",
            tol: 1e-3,
        },
    );
}

fn every_mode<E: Exec>(model: &WorldModel, c: &ModelConfig, mut u: Under<'_, E>) {
    let c = c.clone();
    let model = model;
    let device = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (p, l, zd) = (c.patches(), c.patch_latent, c.state_latent);

    // Frame mode on real frames (3 sequences).
    let mut samples = model::data::generate(&c, 900, 3, 1).unwrap();
    model::train::encode_all(model, &c, &mut samples, &device);
    let per = p * l;
    let prev: Vec<f32> = samples
        .iter()
        .flat_map(|s| s.latents(4, per).to_vec())
        .collect();
    let cur: Vec<f32> = samples
        .iter()
        .flat_map(|s| s.latents(5, per).to_vec())
        .collect();
    let actions: Vec<u8> = vec![0, 3, 8];
    let (bm, bl, bz) = model::infer::step(model, &c, &prev, &cur, &actions, &device);
    let (tp, tc) = (u.e.input(&prev, 3 * p, l), u.e.input(&cur, 3 * p, l));
    let ta =
        u.e.ids(&actions.iter().map(|&a| a as u32).collect::<Vec<_>>());
    let mask = graph::frame_mask(&c);
    let tm = u.e.input(&mask, c.frame_tokens(), c.frame_tokens());
    let (m, lv, z) = graph::frame_step(&mut u.e, &c, &tp, &tc, &ta, &tm);
    u.check("frame mean", &m, &bm);
    u.check("frame logvar", &lv, &bl);
    u.check("frame z", &z, &bz);

    // Tokenizer.
    let pixels = to_vec(
        model
            .tokenizer
            .decode(floats(cur.clone(), [3 * p, l], &device)),
    );
    let ours = graph::decode(&mut u.e, &tc);
    u.check("decode", &ours, &pixels);
    let mut patches = Vec::new();
    model::data::patchify(samples[0].frame(5), c.patch, &mut patches);
    let burn_lat = to_vec(model.tokenizer.encode(floats(
        patches.clone(),
        [p, c.patch_dim()],
        &device,
    )));
    let tpatch = u.e.input(&patches, p, c.patch_dim());
    let enc = graph::encode(&mut u.e, &tpatch);
    u.check("encode", &enc, &burn_lat);

    // Clip mode: 2 clips of max_clip states, 11 words.
    let (b, t, s) = (2, c.max_clip, 11);
    let z: Vec<f32> = (0..b * t * zd)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let acts: Vec<u32> = (0..b * t).map(|_| rng.random_range(0..9)).collect();
    let words: Vec<u32> = (0..b * s)
        .map(|_| rng.random_range(0..c.vocab as u32))
        .collect();
    let burn_logits = to_vec(model.clip_words(
        &c,
        floats(z.clone(), [b, t, zd], &device),
        ints(acts.iter().map(|&a| a as i64).collect(), [b, t], &device),
        ints(words.iter().map(|&w| w as i64).collect(), [b, s], &device),
    ));
    let (tz, ta, tw) = (u.e.input(&z, b * t, zd), u.e.ids(&acts), u.e.ids(&words));
    let logits = graph::clip_words(&mut u.e, &c, &tz, &ta, &tw, b, s);
    u.check("clip logits", &logits, &burn_logits);

    // Goal and prompt modes with ragged lengths.
    let lengths = vec![s, 6];
    let wt = ints(words.iter().map(|&w| w as i64).collect(), [b, s], &device);
    let burn_goal = to_vec(model.goal(&c, wt.clone(), &lengths));
    let gl = graph::goal(&mut u.e, &c, &tw, &lengths, s);
    u.check("goal", &gl, &burn_goal);
    let (pm, pl) = model.prompt_frame(&c, wt, &lengths);
    let (om, ol) = graph::prompt_frame(&mut u.e, &c, &tw, &lengths, s);
    u.check("prompt mean", &om, &to_vec(pm));
    u.check("prompt logvar", &ol, &to_vec(pl));

    // Planning path: 37 rollouts (not a multiple of anything), one goal.
    let n = 37;
    let z: Vec<f32> = (0..n * zd).map(|_| rng.random_range(-1.0..1.0)).collect();
    let g: Vec<f32> = (0..zd).map(|_| rng.random_range(-1.0..1.0)).collect();
    let acts: Vec<u32> = (0..n).map(|_| rng.random_range(0..9)).collect();
    let zt = floats(z.clone(), [n, zd], &device);
    let next = model.latent_step(
        zt,
        ints(acts.iter().map(|&a| a as i64).collect(), [n], &device),
    );
    let gt = floats(
        g.iter().copied().cycle().take(n * zd).collect(),
        [n, zd],
        &device,
    );
    let burn_cost = to_vec(model.goal_cost(next.clone(), gt));
    let (tz, ta, tg) = (u.e.input(&z, n, zd), u.e.ids(&acts), u.e.input(&g, 1, zd));
    let ours = graph::latent_step(&mut u.e, &tz, &ta);
    u.check("latent step", &ours, &to_vec(next));
    let cost = graph::goal_cost(&mut u.e, &ours, &tg);
    u.check("goal cost", &cost, &burn_cost);
}

/// Inputs both sides can rebuild without a file: frame latents and actions for 2 sequences,
/// drawn with the runtime's counter-based RNG.
fn fixture_inputs(c: &ModelConfig) -> (Vec<f32>, Vec<f32>, Vec<u8>) {
    let per = 2 * c.patches() * c.patch_latent;
    let draw = |stream| {
        (0..per as u32)
            .map(|i| runtime::rng::normal(5, stream, i))
            .collect()
    };
    (draw(0), draw(1), vec![2, 7])
}

/// burn's frame-mode outputs on [`fixture_inputs`], kept in `shaders/tests/fixtures/` so the
/// browser test (which has no burn) compares the WGSL runtime in Chromium against burn itself.
/// Fails when the committed file no longer matches burn on the committed weights; rerun with
/// `UPDATE_FIXTURES=1` after retraining.
#[test]
fn browser_fixture_holds_burns_outputs() {
    let (model, c, _) = student();
    let (prev, cur, actions) = fixture_inputs(&c);
    let (mean, logvar, z) = model::infer::step(&model, &c, &prev, &cur, &actions, &Device::flex());
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shaders/tests/fixtures/burn_frame_step.json");
    let now =
        serde_json::json!({"seed": 5, "actions": actions, "mean": mean, "logvar": logvar, "z": z});
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, serde_json::to_string(&now).unwrap()).unwrap();
    }
    let text = std::fs::read_to_string(&path).expect("fixture (create it with UPDATE_FIXTURES=1)");
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["mean", "logvar", "z"] {
        let a: Vec<f32> = serde_json::from_value(saved[key].clone()).unwrap();
        let b: Vec<f32> = serde_json::from_value(now[key].clone()).unwrap();
        let e = rel_err(&a, &b);
        assert!(
            e <= 1e-5,
            "{key}: the fixture differs from burn by {e:.2e}: rerun with UPDATE_FIXTURES=1"
        );
    }
}
