//! The browser runtime's CPU path against burn, on the committed student's weights: every mode
//! of the model on the same inputs. This is the reference the WGSL kernels are tested against
//! in turn, so the chain burn = CPU path = GPU path holds.

use std::path::Path;

use burn::tensor::Device;
use model::config::ModelConfig;
use model::export::{self, named_tensors};
use model::infer::to_vec;
use model::net::{floats, ints, WorldModel};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use runtime::cpu::Cpu;
use runtime::{graph, Exec};

/// `max |a - b| / max |b|`: the largest error relative to the tensor's scale.
fn rel_err(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
    a.iter().zip(b).fold(0.0f32, |m, (x, y)| m.max((x - y).abs())) / scale
}

const TOL: f32 = 1e-4;

fn check(what: &str, ours: &[f32], burn: &[f32]) {
    let e = rel_err(ours, burn);
    eprintln!("{what}: relative error {e:.2e} over {} values", burn.len());
    assert!(e <= TOL, "{what}: CPU path differs from burn by {e:.2e} (> {TOL:.0e})");
}

fn student() -> (WorldModel, ModelConfig, Cpu) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights");
    let device = Device::flex();
    let (model, manifest) = export::load(&dir, &device).expect("committed weights load");
    let bytes = std::fs::read(dir.join(&manifest.weights_file)).unwrap();
    let weights = layout::weights::check_weights(&manifest, &bytes).unwrap();
    (model, manifest.config, Cpu::new(weights))
}

#[test]
fn layout_names_every_parameter_of_the_burn_model() {
    for c in [ModelConfig::tiny(), ModelConfig::student(), ModelConfig::teacher()] {
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
    let (model, c, mut cpu) = student();
    let device = Device::flex();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (p, l, zd) = (c.patches(), c.patch_latent, c.state_latent);

    // Frame mode on real frames (3 sequences).
    let mut samples = model::data::generate(&c, 900, 3, 1).unwrap();
    model::train::encode_all(&model, &c, &mut samples, &device);
    let per = p * l;
    let prev: Vec<f32> = samples.iter().flat_map(|s| s.latents(4, per).to_vec()).collect();
    let cur: Vec<f32> = samples.iter().flat_map(|s| s.latents(5, per).to_vec()).collect();
    let actions: Vec<u8> = vec![0, 3, 8];
    let (bm, bl, bz) = model::infer::step(&model, &c, &prev, &cur, &actions, &device);
    let (tp, tc) = (cpu.input(&prev, 3 * p, l), cpu.input(&cur, 3 * p, l));
    let ta = cpu.ids(&actions.iter().map(|&a| a as u32).collect::<Vec<_>>());
    let mask = graph::frame_mask(&c);
    let tm = cpu.input(&mask, c.frame_tokens(), c.frame_tokens());
    let (m, lv, z) = graph::frame_step(&mut cpu, &c, &tp, &tc, &ta, &tm);
    check("frame mean", &m.data, &bm);
    check("frame logvar", &lv.data, &bl);
    check("frame z", &z.data, &bz);

    // Tokenizer.
    let pixels = to_vec(model.tokenizer.decode(floats(cur.clone(), [3 * p, l], &device)));
    let ours = graph::decode(&mut cpu, &tc);
    check("decode", &ours.data, &pixels);
    let mut patches = Vec::new();
    model::data::patchify(samples[0].frame(5), c.patch, &mut patches);
    let burn_lat = to_vec(model.tokenizer.encode(floats(patches.clone(), [p, c.patch_dim()], &device)));
    let tpatch = cpu.input(&patches, p, c.patch_dim());
    check("encode", &graph::encode(&mut cpu, &tpatch).data, &burn_lat);

    // Clip mode: 2 clips of max_clip states, 11 words.
    let (b, t, s) = (2, c.max_clip, 11);
    let z: Vec<f32> = (0..b * t * zd).map(|_| rng.random_range(-1.0..1.0)).collect();
    let acts: Vec<u32> = (0..b * t).map(|_| rng.random_range(0..9)).collect();
    let words: Vec<u32> = (0..b * s).map(|_| rng.random_range(0..c.vocab as u32)).collect();
    let burn_logits = to_vec(model.clip_words(
        &c,
        floats(z.clone(), [b, t, zd], &device),
        ints(acts.iter().map(|&a| a as i64).collect(), [b, t], &device),
        ints(words.iter().map(|&w| w as i64).collect(), [b, s], &device),
    ));
    let (tz, ta, tw) = (cpu.input(&z, b * t, zd), cpu.ids(&acts), cpu.ids(&words));
    let logits = graph::clip_words(&mut cpu, &c, &tz, &ta, &tw, b, s);
    check("clip logits", &logits.data, &burn_logits);

    // Goal and prompt modes with ragged lengths.
    let lengths = vec![s, 6];
    let wt = ints(words.iter().map(|&w| w as i64).collect(), [b, s], &device);
    let burn_goal = to_vec(model.goal(&c, wt.clone(), &lengths));
    check("goal", &graph::goal(&mut cpu, &c, &tw, &lengths, s).data, &burn_goal);
    let (pm, pl) = model.prompt_frame(&c, wt, &lengths);
    let (om, ol) = graph::prompt_frame(&mut cpu, &c, &tw, &lengths, s);
    check("prompt mean", &om.data, &to_vec(pm));
    check("prompt logvar", &ol.data, &to_vec(pl));

    // Planning path: 37 rollouts (not a multiple of anything), one goal.
    let n = 37;
    let z: Vec<f32> = (0..n * zd).map(|_| rng.random_range(-1.0..1.0)).collect();
    let g: Vec<f32> = (0..zd).map(|_| rng.random_range(-1.0..1.0)).collect();
    let acts: Vec<u32> = (0..n).map(|_| rng.random_range(0..9)).collect();
    let zt = floats(z.clone(), [n, zd], &device);
    let next = model.latent_step(zt, ints(acts.iter().map(|&a| a as i64).collect(), [n], &device));
    let gt = floats(g.iter().copied().cycle().take(n * zd).collect(), [n, zd], &device);
    let burn_cost = to_vec(model.goal_cost(next.clone(), gt));
    let (tz, ta, tg) = (cpu.input(&z, n, zd), cpu.ids(&acts), cpu.input(&g, 1, zd));
    let ours = graph::latent_step(&mut cpu, &tz, &ta);
    check("latent step", &ours.data, &to_vec(next));
    check("goal cost", &graph::goal_cost(&mut cpu, &ours, &tg).data, &burn_cost);
}
