//! Where a dream's squared error is: on the agent, on the objects, or elsewhere, at a few
//! horizons, for the page's nets drawn as the page draws (and soft), against copying the last
//! frame. Regions come from the true poses (a disc a little wider than the thing) and from the
//! dream's own pixels of the thing's colour.
//!
//!     cargo run -p model --release --example dream_errors [-- --weights DIR] [--seed N]
//!
//! (`--seed`: other held-out episodes than `eval`'s.)

use std::path::Path;

use runtime::frame_net::Compose;
use world::scene::{AGENT_RADIUS, ARENA};

const AGENT_RGB: [u8; 3] = [35, 35, 45];
const HORIZONS: [usize; 4] = [1, 4, 8, 16];

fn near(p: &[u8], rgb: [u8; 3]) -> bool {
    p.iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) <= 40)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let weights = args.iter().position(|a| a == "--weights").and_then(|i| args.get(i + 1)).map_or("public/weights", |s| s.as_str());
    let mut rt = model::eval_nets::load_runtime(Path::new(weights)).expect("the page's nets");
    let seed = args.iter().position(|a| a == "--seed").and_then(|i| args.get(i + 1)).map_or(1_000_000, |s| s.parse().expect("--seed takes a number"));
    let eps = model::frame_eval::held_out(seed, 60);
    let side = 64usize;
    let px = side as f32 / ARENA;
    for how in [Compose::Track, Compose::Soft] {
        rt.compose = how;
        // [horizon][agent, objects, rest] sums of squared error, dream and copy.
        let mut dream = vec![[0f64; 3]; HORIZONS.len()];
        let mut copy = vec![[0f64; 3]; HORIZONS.len()];
        for e in &eps {
            for t in [1usize, 12, 23] {
                let frames = pollster::block_on(rt.imagine([e.frame(t - 1), e.frame(t)], e.actions[t - 1], &e.actions[t..t + 16], 0.0, 0)).unwrap();
                for (k, &h) in HORIZONS.iter().enumerate() {
                    let truth = e.frame(t + h);
                    let state = &e.states[t + h];
                    let d = &frames[h - 1];
                    for y in 0..side {
                        for x in 0..side {
                            let i = 3 * (y * side + x);
                            let centre = [(x as f32 + 0.5) / px, ARENA - (y as f32 + 0.5) / px];
                            let within = |p: [f32; 2], r: f32| world::scene::dist(p, centre) <= r + 0.2;
                            let region = if within(state.agent.position, AGENT_RADIUS) || near(&d[i..i + 3], AGENT_RGB) {
                                0
                            } else if e.scene.objects.iter().zip(&state.objects).any(|(o, b)| {
                                (b.present && within(b.position, o.bounding_radius())) || near(&d[i..i + 3], o.colour.rgb())
                            }) {
                                1
                            } else {
                                2
                            };
                            let sq = |f: &[u8]| (0..3).map(|c| ((f[i + c] as f64 - truth[i + c] as f64) / 255.0).powi(2)).sum::<f64>();
                            dream[k][region] += sq(d);
                            copy[k][region] += sq(e.frame(t));
                        }
                    }
                }
            }
        }
        println!("{how:?}: mean squared error per frame byte (x 1e-4) by region, dream (copy-last)");
        let n = (eps.len() * 3 * side * side * 3) as f64 / 1e4;
        for (k, &h) in HORIZONS.iter().enumerate() {
            let (a, c) = (dream[k], copy[k]);
            println!(
                "  h{h:<2}: agent {:.2} ({:.2}), objects {:.2} ({:.2}), rest {:.2} ({:.2}); all {:.2} ({:.2})",
                a[0] / n, c[0] / n, a[1] / n, c[1] / n, a[2] / n, c[2] / n,
                a.iter().sum::<f64>() / n, c.iter().sum::<f64>() / n
            );
        }
    }
}
