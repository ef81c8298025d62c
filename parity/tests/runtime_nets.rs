//! The runtime's CPU forward passes of the frame predictor and the state nets against burn's,
//! on the kept checkpoints (real weights, so every layer matters) and on frames of held-out
//! episodes: logits, readings and goal reads agree within 1e-3.

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Int, Tensor, TensorData};

use model::batches::frames_tensor;
use model::export::{frame_net_safetensors, state_safetensors};
use model::frame_net::{FrameNet, FrameNetConfig, Output, CLASSES, SIDE};
use model::prompt_net::{read_prompts, PromptNet};
use model::state_net::{Dynamics, GoalNet, Reader};
use world::episode::{generate_episode, EpisodeConfig};
use world::language::vocab::{tokenize, vocab_size};

fn load<M: Module>(m: M, path: &Path) -> M {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    m.load_record(ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).expect("record"))
}

/// The kept sentence reader (width 48).
fn prompt_net(device: &Device) -> PromptNet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../checkpoints/next/state");
    load(PromptNet::new(vocab_size(), 48, device), &dir.join("prompt.bin"))
}

/// The kept state checkpoints: reader (width 32), the three dynamics (hidden 64), goal net.
fn state_nets(device: &Device) -> (Reader, Vec<Dynamics>, GoalNet) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../checkpoints/next/state");
    let reader = load(Reader::new(32, device), &dir.join("reader.bin"));
    let ensemble = ["dynamics.bin", "dynamics-1.bin", "dynamics-2.bin"]
        .iter()
        .map(|f| load(Dynamics::new(64, device), &dir.join(f)))
        .collect();
    let goal = load(GoalNet::new(vocab_size(), 32, device), &dir.join("goal.bin"));
    (reader, ensemble, goal)
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

fn frames() -> Vec<Vec<u8>> {
    let cfg = EpisodeConfig {
        questions: false,
        steps: 8,
        ..EpisodeConfig::default()
    };
    let e = generate_episode(1_000_003, &cfg).unwrap();
    (0..4).map(|t| e.frame(t).to_vec()).collect()
}

fn worst(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// `[1]` of one move.
fn one_move(mv: u8, device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(vec![mv as i64], [1]), device)
}

/// The page's student: width 16, one block at 8x8, move biases by (last move, move).
fn student_config() -> FrameNetConfig {
    FrameNetConfig {
        bottleneck: 1,
        move_pairs: true,
        ..FrameNetConfig::new(16, Output::Palette)
    }
}

#[test]
fn runtime_frame_net_equals_burn() {
    let device = Device::flex();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../checkpoints/next");
    // The teacher (one bias row per move) and the page's student (one per pair of moves).
    for (file, c) in [
        ("frames/frames.bin", FrameNetConfig::new(32, Output::Palette)),
        ("student/frames.bin", student_config()),
    ] {
        let net = load(FrameNet::new(&c, &device), &root.join(file));
        let cpu = runtime::frame_net::FrameNet::from_safetensors(&frame_net_safetensors(&net), "test")
            .expect("the export loads");
        assert_eq!(cpu.parameters(), net.num_params());
        assert_eq!(cpu.move_rows, if c.move_pairs { 81 } else { 9 });
        let f = frames();
        for (t, last, mv) in [(1usize, 0u8, 0u8), (2, 3, 5), (3, 8, 8), (3, 1, 8)] {
            let out = net.forward(
                frames_tensor(&[&f[t - 1]], &device),
                frames_tensor(&[&f[t]], &device),
                one_move(last, &device),
                one_move(mv, &device),
            );
            // [1, K, 64, 64] -> pixel-major [64 * 64, K].
            let want = values(out.logits.permute([0, 2, 3, 1]).reshape([SIDE * SIDE * CLASSES]));
            let got = cpu.logits(&f[t - 1], &f[t], last, mv);
            let w = worst(&got, &want);
            assert!(w < 1e-3, "{file}: frame {t} moves {last}, {mv}: logits differ by {w}");
        }
    }
}

#[test]
fn runtime_state_nets_equal_burn() {
    let device = Device::flex();
    let (reader, ensemble, goal) = state_nets(&device);
    let prompt = prompt_net(&device);
    let cpu = runtime::state::StateNets::from_safetensors(
        &state_safetensors(&reader, &ensemble, &goal, Some(&prompt)),
        "test",
    )
    .expect("the export loads");
    assert_eq!(cpu.ensemble.len(), 3);
    let f = frames();
    let out = reader.forward(frames_tensor(&[&f[1]], &device), frames_tensor(&[&f[2]], &device));
    let got = cpu.read_out(&f[1], &f[2]);
    for (name, a, b) in [
        ("presence", &got.presence, values(out.presence)),
        ("pos", &got.pos, values(out.pos)),
        ("ab", &got.ab, values(out.ab)),
        ("size", &got.size, values(out.size)),
    ] {
        let w = worst(a, &b);
        assert!(w < 1e-3, "reader {name} differs by {w}");
    }
    // The dynamics, member by member, against the burn step on the read state.
    let r = cpu.read(&f[1], &f[2]);
    let target = runtime::state::Target::of(&r, None, 4, 0, layout::slots::FIRST_ZONE_SLOT, world::scene::View::TopDown);
    for (d, c) in ensemble.iter().zip(&cpu.ensemble) {
        let (mut a, mut o) = (target.agent, target.object);
        c.step(&mut a, &mut o, 0.0, 3);
        let t = |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [1, v.len()]), &device);
        let mut mv = vec![0f32; 9];
        mv[3] = 1.0;
        let (ba, bo) = d.step(t(&target.agent), t(&target.object), t(&[0.0]), t(&mv));
        assert!(worst(&a, &values(ba)) < 1e-4 && worst(&o, &values(bo)) < 1e-4);
    }
    // The goal net reads the same object and zone.
    for task in world::task::make_tasks(2_000_000, 4) {
        let sentence = task.goal_text();
        let words = tokenize(&sentence).expect("in the vocabulary");
        let w: Vec<i64> = words.iter().map(|&x| x as i64).collect();
        let (o, z) = goal.forward(Tensor::from_data(TensorData::new(w, [1, words.len()]), &device));
        let argmax = |v: Vec<f32>| v.iter().enumerate().fold((0, f32::MIN), |b, (i, &x)| if x > b.1 { (i, x) } else { b }).0;
        let want = (argmax(values(o)), layout::slots::OBJECT_SLOTS + 1 + argmax(values(z)));
        assert_eq!(cpu.goal.read(&words), want, "{sentence}");
    }
    // The sentence reader writes the same numbers, and so the same scene, for held-out scenes.
    let reader = cpu.prompt.as_ref().expect("the export has the sentence reader");
    for seed in 1_000_000..1_000_020u64 {
        let scene = world::scene::Scene::generate(world::scene::derive_seed(seed, 0));
        let sentence = world::language::prompt::ScenePrompt::describe(&scene).text();
        let words = tokenize(&sentence).expect("the world's own words");
        let (side, out) = reader.read(&words);
        let (want_side, want) = read_prompts(&prompt, &[&words], &device).remove(0);
        let w = worst(&out, &want).max((side - want_side).abs());
        assert!(w < 1e-3, "{sentence}: the sentence reader differs from burn by {w}");
        let (a, b) = (
            layout::prompt::scene_from_reading(side, &out),
            layout::prompt::scene_from_reading(want_side, &want),
        );
        assert_eq!((a.view, &a.zones, a.objects.len()), (b.view, &b.zones, b.objects.len()), "{sentence}");
        for (x, y) in a.objects.iter().zip(&b.objects) {
            assert_eq!((x.colour, x.shape, x.size), (y.colour, y.shape, y.size), "{sentence}");
            assert!(world::scene::dist(x.position, y.position) < 1e-3, "{sentence}");
        }
    }
}

/// Every `FIXTURE_STRIDE`-th logit of the page's frame predictor goes into the browser fixture.
const FIXTURE_STRIDE: usize = 37;

/// burn's outputs of the page's nets (the checkpoints `public/weights/frames.safetensors` and
/// `state.safetensors` were exported from) on frames 1 and 2 of held-out episode 1000003, kept
/// in `shaders/tests/fixtures/burn_nets.json` so the browser test (which has no burn) compares
/// the runtime in Chromium against burn itself. Fails when the shipped files are not the
/// export of these checkpoints, or the fixture no longer holds burn's outputs; rerun with
/// `UPDATE_FIXTURES=1` after exporting new ones.
#[test]
fn browser_fixture_holds_burns_outputs_for_the_page_nets() {
    let device = Device::flex();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let net = load(FrameNet::new(&student_config(), &device), &root.join("checkpoints/next/student/frames.bin"));
    let shipped = std::fs::read(root.join("public/weights/frames.safetensors")).unwrap();
    assert!(
        shipped == frame_net_safetensors(&net),
        "public/weights/frames.safetensors is not the export of checkpoints/next/student/frames.bin"
    );
    let (reader, ensemble, goal) = state_nets(&device);
    let shipped = std::fs::read(root.join("public/weights/state.safetensors")).unwrap();
    assert!(
        shipped == state_safetensors(&reader, &ensemble, &goal, Some(&prompt_net(&device))),
        "public/weights/state.safetensors is not the export of checkpoints/next/state"
    );
    let f = frames();
    let (last, mv) = (3u8, 5u8);
    let out = net.forward(
        frames_tensor(&[&f[1]], &device),
        frames_tensor(&[&f[2]], &device),
        one_move(last, &device),
        one_move(mv, &device),
    );
    let logits: Vec<f32> = values(out.logits.permute([0, 2, 3, 1]).reshape([SIDE * SIDE * CLASSES]))
        .into_iter()
        .step_by(FIXTURE_STRIDE)
        .collect();
    let r = reader.forward(frames_tensor(&[&f[1]], &device), frames_tensor(&[&f[2]], &device));
    let scene = world::scene::Scene::generate(world::scene::derive_seed(1_000_003, 0));
    let sentence = world::language::prompt::ScenePrompt::describe(&scene).text();
    let words = tokenize(&sentence).expect("the world's own words");
    let (side, slots) = read_prompts(&prompt_net(&device), &[&words], &device).remove(0);
    let now = serde_json::json!({
        "episode": 1_000_003, "frames": [1, 2], "last": last, "move": mv, "stride": FIXTURE_STRIDE,
        "logits": logits,
        "presence": values(r.presence), "pos": values(r.pos), "ab": values(r.ab), "size": values(r.size),
        "sentence": sentence, "words": words, "prompt_side": [side], "prompt_slots": slots,
    });
    let path = root.join("shaders/tests/fixtures/burn_nets.json");
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, serde_json::to_string(&now).unwrap()).unwrap();
    }
    let text = std::fs::read_to_string(&path).expect("fixture (create it with UPDATE_FIXTURES=1)");
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["logits", "presence", "pos", "ab", "size", "prompt_side", "prompt_slots"] {
        let a: Vec<f32> = serde_json::from_value(saved[key].clone()).unwrap();
        let b: Vec<f32> = serde_json::from_value(now[key].clone()).unwrap();
        let w = worst(&a, &b);
        assert!(w <= 1e-5, "{key}: the fixture differs from burn by {w:.2e}: rerun with UPDATE_FIXTURES=1");
    }
}
