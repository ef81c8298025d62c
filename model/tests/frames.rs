//! The frame predictor and the state path: shapes, the exact-copy rule, the plain-Rust
//! dynamics against burn's, and short fits that must lower their losses.

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};

use layout::slots::{object_slot, zone_slot, FIRST_ZONE_SLOT, SLOTS};
use model::batches::Clips;
use model::frame_eval::{dream, score_dreams};
use model::frame_net::{
    compose_hard, Compose, compose_shift, palette_class, rolled, shuffle, unshuffle, FrameNet,
    FrameNetConfig, Output, CLASSES, OFFSETS, REACH, SIDE,
};
use model::losses::{step_loss, LossWeights};
use model::state_net::{Dynamics, GoalNet, Reader};
use model::state_train::{dynamics_loss, goal_loss, reader_loss, track_windows, RolloutLoss, Tracks};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use world::episode::{generate_episode, Episode, EpisodeConfig};
use world::language::vocab::{tokenize, vocab_size};
use world::render::{palette_index, PALETTE};

fn episodes(n: u64) -> Vec<Episode> {
    let cfg = EpisodeConfig {
        questions: false,
        steps: 12,
        ..EpisodeConfig::default()
    };
    (0..n).map(|s| generate_episode(s, &cfg).unwrap()).collect()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

#[test]
fn unshuffle_and_shuffle_are_inverse_and_keep_every_pixel() {
    let device = Device::flex();
    let v: Vec<f32> = (0..2 * 3 * 64 * 64).map(|i| i as f32).collect();
    let x = Tensor::<4>::from_data(TensorData::new(v.clone(), [2, 3, 64, 64]), &device);
    let u = unshuffle(x);
    assert_eq!(u.dims(), [2, 12, 32, 32]);
    // Channel 4c + 2i + j at (y, x) is pixel (2y + i, 2x + j) of channel c.
    let uv = values(u.clone());
    let at = |b: usize, c: usize, y: usize, x: usize| v[((b * 3 + c) * 64 + y) * 64 + x];
    assert_eq!(uv[((1 * 12 + 4 * 2 + 2 + 1) * 32 + 5) * 32 + 7], at(1, 2, 11, 15));
    assert_eq!(values(shuffle(u)), v);
}

#[test]
fn palette_classes_match_the_world_and_hard_frames_copy_kept_pixels_exactly() {
    let device = Device::flex();
    let e = &episodes(1)[0];
    let f = e.frame(3);
    let t = model::batches::frames_tensor(&[f], &device);
    let classes: Vec<i64> = palette_class(t)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .unwrap();
    let mut agree = 0;
    for (px, &k) in f.chunks_exact(3).zip(&classes) {
        agree += usize::from(palette_index([px[0], px[1], px[2]]) as i64 == k);
    }
    assert!(agree * 1000 >= 999 * classes.len(), "{agree} of {}", classes.len());
    // Keeping every class reproduces the frame bit for bit; changing one pixel paints it.
    let mut ks: Vec<u8> = f.chunks_exact(3).map(|p| palette_index([p[0], p[1], p[2]])).collect();
    assert_eq!(compose_hard(f, &ks), f);
    let k0 = ks[0];
    ks[0] = (k0 + 1) % CLASSES as u8;
    let out = compose_hard(f, &ks);
    assert_eq!(out[..3], PALETTE[ks[0] as usize]);
    assert_eq!(out[3..], f[3..]);
}

#[test]
fn an_untrained_frame_net_copies_the_last_frame() {
    for output in [Output::Palette, Output::Shift] {
        untrained_copies(output);
    }
}

fn untrained_copies(output: Output) {
    // The head starts at zero, so the keep prior wins everywhere: dreams start as copies.
    let device = Device::flex();
    device.seed(1);
    let net = FrameNet::new(&FrameNetConfig::new(8, output), &device);
    let eps = episodes(2);
    for compose in [Compose::Hard, Compose::Soft] {
        let d = dream(
            &net,
            vec![eps[0].frame(0).to_vec(), eps[1].frame(2).to_vec()],
            vec![eps[0].frame(1).to_vec(), eps[1].frame(3).to_vec()],
            vec![eps[0].actions[0], eps[1].actions[2]],
            &[vec![1, 2], vec![3, 4]],
            compose,
            &device,
        );
        assert_eq!(d.len(), 2);
        assert_eq!(d[1][0], eps[0].frame(1));
        assert_eq!(d[1][1], eps[1].frame(3));
        let s = score_dreams(&net, &eps, &[1, 5], 4, 8, compose, &device);
        assert_eq!(s.dreams, 4);
        assert!(s.min_gain().abs() < 1e-9, "a copy scores as copy-last: {}", s.summary());
        assert_eq!(s.whole, 1.0);
    }
}

#[test]
fn shifted_frames_copy_exact_bytes_from_their_offsets() {
    let e = &episodes(1)[0];
    let f = e.frame(2);
    let n = SIDE * SIDE;
    let still = vec![REACH as u8; n];
    assert_eq!(compose_shift(f, &still, &still), f);
    // Everything copies from one pixel to the left: the frame moves right by one, and the
    // first column repeats the edge.
    let left = vec![(REACH - 1) as u8; n];
    let moved = compose_shift(f, &left, &still);
    for y in 0..SIDE {
        for x in 0..SIDE {
            let sx = x.saturating_sub(1);
            assert_eq!(moved[(y * SIDE + x) * 3..][..3], f[(y * SIDE + sx) * 3..][..3]);
        }
    }
    assert_eq!(OFFSETS, 2 * REACH + 1);
}

#[test]
fn a_short_fit_lowers_the_frame_loss() {
    for output in [Output::Palette, Output::Shift] {
        short_fit(output);
    }
}

fn short_fit(output: Output) {
    let plain = Device::flex();
    let device = plain.clone().autodiff();
    device.seed(2);
    let clips = Clips::from_episodes(&episodes(3)).unwrap();
    let mut net = FrameNet::new(&FrameNetConfig::new(8, output), &device);
    let mut optim = AdamConfig::new().init();
    let win = vec![(0, 2), (1, 5), (2, 7)];
    let w = LossWeights::default();
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..15 {
        let prev = clips.frames_at(&win, -1, &device);
        let cur = clips.frames_at(&win, 0, &device);
        let out = net.forward(prev, cur.clone(), clips.last_moves_at(&win, 0, &device), clips.moves_at(&win, 0, &device));
        let rolled = rolled(&out, cur.clone());
        let (loss, _) = step_loss(&out, cur, rolled, clips.frames_at(&win, 1, &device), &w);
        let v = loss.clone().into_scalar::<f32>();
        first.get_or_insert(v);
        last = v;
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(3e-3, net, grads);
    }
    assert!(last < 0.8 * first.unwrap(), "{output:?}: {first:?} -> {last}");
    assert_eq!(SIDE, 64);
}

#[test]
fn contact_pushes_or_brakes_but_never_pulls() {
    use model::state_net::contact_change;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut r = || rng.random_range(-8.0f32..8.0);
    for _ in 0..10_000 {
        let a = r() * 0.4;
        let n = [a.cos(), a.sin()];
        let v = [r() * 0.5, r() * 0.5];
        let c = contact_change(r(), r(), r(), n, v);
        let (before, after) = (v[0] * n[0] + v[1] * n[1], (v[0] + c[0]) * n[0] + (v[1] + c[1]) * n[1]);
        // Moving away stays moving away (or stops); moving closer is slowed or turned.
        assert!(after >= before.min(0.0) - 1e-5, "{before} -> {after}");
        if before >= 0.0 {
            assert!(after >= -1e-5, "{before} -> {after}");
        }
        // A resting object is moved sideways by at most as much as it is pushed.
        let rest = contact_change(r(), r(), r(), n, [0.0, 0.0]);
        let along = rest[0] * n[0] + rest[1] * n[1];
        let across = rest[1] * n[0] - rest[0] * n[1];
        assert!(along >= 0.0 && across.abs() <= along + 1e-6, "{along} {across}");
    }
}

#[test]
fn the_plain_dynamics_equals_burn_and_the_state_losses_fall() {
    let plain = Device::flex();
    let device = plain.clone().autodiff();
    device.seed(3);
    let eps = episodes(4);
    let clips = Clips::from_episodes(&eps).unwrap();
    let tracks = Tracks::from_episodes(&eps);

    // Dynamics: a few steps of fitting, then the plain-Rust step against burn's.
    let windows = track_windows(&tracks, 4);
    assert!(!windows.is_empty());
    let batch: Vec<_> = windows.iter().copied().take(32).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut dynamics = Dynamics::new(16, &device);
    let mut optim = AdamConfig::new().init();
    let (mut first, mut last) = (None, 0.0);
    for _ in 0..30 {
        let (l, _) = dynamics_loss(&dynamics, &tracks, &clips, None, &batch, 4, RolloutLoss { noise_px: 0.0, ..RolloutLoss::default() }, &mut rng, &device);
        let v = l.clone().into_scalar::<f32>();
        first.get_or_insert(v);
        last = v;
        let grads = GradientsParams::from_grads(l.backward(), &dynamics);
        dynamics = optim.step(1e-2, dynamics, grads);
    }
    assert!(last < first.unwrap(), "{first:?} -> {last}");
    let d = dynamics.valid();
    let cpu = model::state_plan::dynamics_cpu(&d);
    let (mut a, mut o) = (
        [0.3f32, 0.4, 0.2, -0.1, 0.15, -0.05, 0.7, -0.7],
        [0.35f32, 0.45, 0.0, 0.1, 0.05, 0.1, 0.5, 1.0],
    );
    let t = |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [1, v.len()]), &plain);
    let mut oh = vec![0f32; 9];
    oh[2] = 1.0;
    let (ba, bo) = d.step(t(&a), t(&o), t(&[0.0]), t(&oh));
    cpu.step(&mut a, &mut o, 0.0, 2);
    for (x, y) in values(ba).iter().zip(&a).chain(values(bo).iter().zip(&o)) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }

    // Reader: the loss falls on a fixed batch.
    let mut reader = Reader::new(8, &device);
    let mut optim = AdamConfig::new().init();
    let picks = vec![(0, 1), (1, 4), (2, 7), (3, 10)];
    let (mut first, mut last) = (None, 0.0);
    for _ in 0..15 {
        let (l, _) = reader_loss(&reader, &clips, &tracks, &picks, &device);
        let v = l.clone().into_scalar::<f32>();
        first.get_or_insert(v);
        last = v;
        let grads = GradientsParams::from_grads(l.backward(), &reader);
        reader = optim.step(3e-3, reader, grads);
    }
    assert!(last < first.unwrap(), "{first:?} -> {last}");

    // Goal: two sentences learned.
    let s = |text: &str, o, z| (tokenize(text).unwrap(), o, z);
    let red_ball = object_slot(world::scene::Colour::Red, world::scene::Shape::Ball);
    let blue_box = object_slot(world::scene::Colour::Blue, world::scene::Shape::Box);
    let pink = zone_slot(world::scene::ZoneColour::Pink) - FIRST_ZONE_SLOT;
    let data = vec![
        s("the red ball enters the pink zone .", red_ball, pink),
        s("the blue box enters the green zone .", blue_box, 0),
    ];
    let mut goal = GoalNet::new(vocab_size(), 8, &device);
    let mut optim = AdamConfig::new().init();
    let mut v = f64::INFINITY;
    for _ in 0..60 {
        let (l, x) = goal_loss(&goal, &data, &device);
        v = x;
        let grads = GradientsParams::from_grads(l.backward(), &goal);
        goal = optim.step(3e-2, goal, grads);
    }
    assert!(v < 0.1, "goal loss {v}");
    assert_eq!(SLOTS, 15);
}
