//! Dataset generation speed, single-threaded: frames per second per core.
//!
//! `cargo bench -p world --bench generate` prints, for each case, the time per episode and
//! frames per second (criterion's "thrpt", in elements = frames). The target is
//! >= 2000 64x64 frames/s on one core including rendering ("episode, no questions").

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use world::action::Action;
use world::episode::{generate_episode, EpisodeConfig};
use world::render::Renderer;
use world::scene::Scene;
use world::sim::rollout;

fn generation(c: &mut Criterion) {
    let config = EpisodeConfig::default();
    let frames = (config.steps + 1) as u64;
    let mut g = c.benchmark_group("generate");
    g.throughput(Throughput::Elements(frames));
    g.sample_size(20);

    let mut seed = 0u64;
    g.bench_function("episode, no questions (simulate + render 64x64)", |b| {
        let cfg = EpisodeConfig {
            questions: false,
            ..config
        };
        b.iter(|| {
            seed += 1;
            black_box(generate_episode(seed, &cfg).expect("episode"))
        })
    });
    g.bench_function("episode with questions (plus re-simulation)", |b| {
        b.iter(|| {
            seed += 1;
            black_box(generate_episode(seed, &config).expect("episode"))
        })
    });
    g.bench_function("physics only", |b| {
        let actions: Vec<Action> = (0..config.steps)
            .map(|t| Action::from_discrete((t / 5 % 9) as u8))
            .collect();
        b.iter(|| {
            seed += 1;
            black_box(rollout(&Scene::generate(seed), &[], &actions))
        })
    });
    g.bench_function("render only (64x64)", |b| {
        let scene = Scene::generate(5);
        let state = world::sim::Simulator::new(&scene).state();
        let mut r = Renderer::new(64, 64).expect("renderer");
        b.iter(|| {
            for _ in 0..frames {
                black_box(r.draw_rgb(&scene, &state));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, generation);
criterion_main!(benches);
