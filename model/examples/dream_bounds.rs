//! How far better imagined places could take the page's dreams: the page's frame predictor,
//! drawn by the page's rule (`Compose::Track`), once with the places the model's state imagines
//! (as the page dreams) and once with the true places from the simulator in their stead (an
//! upper bound for dynamics that knew exactly where everything goes; the simulator's places
//! are never an input to the page). Same 180 held-out dreams and scores as `eval --nets-only`.
//!
//!     cargo run -p model --release --example dream_bounds [-- --weights DIR]
//!
//! `--places` prints instead how far the imagined places are from the true ones (the agent,
//! still and moving objects, each view; `--true-starts` starts the tracker from the true slots,
//! `--true-before` with the true motion of the frame before too).

use std::path::Path;

use runtime::frame_net::{compose, keep_objects_from, Compose, Objects, AGENT_CLASS};
use runtime::track::Tracker;
use world::episode::Episode;
use world::scene::{Colour, ARENA};

const STARTS: [usize; 3] = [1, 12, 23];
const HORIZON: usize = 16;
/// First palette class of the six object colours (`world::render::PALETTE[6 + i]`).
const FIRST_OBJECT_CLASS: u8 = 6;

/// Where the thing of palette class `class` truly is at frame `t`, pixels; `None` when no
/// single object of that colour is present.
fn true_place(e: &Episode, class: u8, t: usize) -> Option<[f32; 2]> {
    let px = 64.0 / ARENA;
    let pos = if class == AGENT_CLASS {
        e.states[t].agent.position
    } else {
        let colour = Colour::ALL[(class - FIRST_OBJECT_CLASS) as usize];
        let mine: Vec<usize> = (0..e.scene.objects.len()).filter(|&i| e.scene.objects[i].colour == colour).collect();
        let [i] = mine[..] else { return None };
        let b = &e.states[t].objects[i];
        if !b.present {
            return None;
        }
        b.position
    };
    Some([pos[0] * px, (ARENA - pos[1]) * px])
}

fn main() {
    // `--weights DIR`: another export than the page's.
    let args: Vec<String> = std::env::args().collect();
    let weights = args.iter().position(|a| a == "--weights").and_then(|i| args.get(i + 1)).map_or("public/weights", |s| s.as_str());
    let rt = model::eval_nets::load_runtime(Path::new(weights)).expect("the nets to score");
    let net = rt.frames.as_ref().expect("a frame predictor");
    let eps = model::frame_eval::held_out(1_000_000, 60);
    let picks: Vec<(usize, usize)> = (0..eps.len())
        .flat_map(|i| {
            let frames = eps[i].frame_count();
            STARTS.iter().filter(move |&&t| t >= 1 && t + HORIZON < frames).map(move |&t| (i, t))
        })
        .collect();
    // The page's drawing with other shares below which tracked things are redrawn.
    if let Some(i) = std::env::args().position(|a| a == "--below") {
        let nets = rt.state.as_ref().expect("state nets");
        let arg: Vec<String> = std::env::args().collect();
        for spec in arg[i + 1..].iter().filter(|a| !a.starts_with("--")) {
            let v: Vec<f32> = spec.split(',').map(|x| x.parse().expect("shares like 0.3,0.6,0.3")).collect();
            let below = [v[0], v[1], v[2]];
            let scores = model::frame_eval::score_dreams_with(&eps, &STARTS, HORIZON, 1, |prev, cur, last, moves| {
                let mut d = runtime::frame_net::Dreamer::new([&prev[0], &cur[0]], last[0], Compose::Track, 0.0, 0, Some(nets));
                d.below = below;
                d.redraw_whole = !std::env::args().any(|a| a == "--no-whole");
                let moves: Vec<u8> = moves.iter().map(|m| m[0]).collect();
                net.dream_from(&mut d, &moves).into_iter().map(|f| vec![f]).collect()
            });
            let gains: Vec<String> = scores.psnr.iter().zip(&scores.psnr_copy).map(|(a, b)| format!("{:+.2}", a - b)).collect();
            println!("below {below:?}: {}", scores.summary());
            println!("  gain by horizon: {}", gains.join(" "));
        }
        return;
    }
    // How far the imagined places are from the true ones, 4 and 16 moves on: the agent, objects
    // that stay within half a pixel of where they were, and objects that move.
    if std::env::args().any(|a| a == "--places") {
        let from_truth = std::env::args().any(|a| a == "--true-starts");
        let with_before = std::env::args().any(|a| a == "--true-before");
        let nets = rt.state.as_ref().expect("state nets");
        // [agent, still, moving] x [h4, h16]: (sum of errors, sum of staying-put errors, count)
        let mut err = [[(0f64, 0f64, 0usize); 3]; 6];
        // [touching an object, only a wall, nothing]
        let mut free_err = [[(0f64, 0f64, 0usize); 3]; 3];
        for &(i, t) in &picks {
            let e = &eps[i];
            let mut tracker = if from_truth {
                let l = layout::slots::labels(&e.scene, &e.states[t], Some(&e.states[t - 1]));
                let now = runtime::state::Reading { slots: l.slots, presence: [1.0; layout::slots::SLOTS] };
                let w = layout::slots::labels(&e.scene, &e.states[t - 1], t.checked_sub(2).map(|u| &e.states[u]));
                let was = runtime::state::Reading { slots: w.slots, presence: [1.0; layout::slots::SLOTS] };
                Tracker::from_reading(nets, &now, with_before.then_some(&was), e.actions[t - 1], e.frame(t))
            } else {
                Tracker::new(nets, [e.frame(t - 1), e.frame(t)], e.actions[t - 1])
            };
            let classes: Vec<u8> = Objects::of(e.frame(t)).0.iter().map(|o| o.class).collect();
            for h in 1..=HORIZON {
                tracker.step(nets, e.actions[t + h - 1]);
                let Some(k) = [1, 4, 16].iter().position(|&x| x == h) else { continue };
                let view = 3 * usize::from(e.scene.view == world::scene::View::Side);
                for &class in &classes {
                    let (Some(a), Some(b), Some(d)) = (true_place(e, class, t), true_place(e, class, t + h), tracker.moved(class)) else { continue };
                    let truth = [b[0] - a[0], b[1] - a[1]];
                    let moved = (truth[0].powi(2) + truth[1].powi(2)).sqrt();
                    let off = ((d[0] - truth[0]).powi(2) + (d[1] - truth[1]).powi(2)).sqrt();
                    let bucket = if class == AGENT_CLASS { 0 } else if moved < 0.5 { 1 } else { 2 };
                    if class == AGENT_CLASS {
                        // Free: no wall or object within reach at any frame so far.
                        let r = world::scene::AGENT_RADIUS + 0.3;
                        let walls = (t..=t + h).all(|u| e.states[u].agent.position.iter().all(|&c| c > r && c < ARENA - r));
                        let objects = (t..=t + h).all(|u| {
                            let s = &e.states[u];
                            let p = s.agent.position;
                            e.scene.objects.iter().zip(&s.objects).all(|(o, b)| !b.present || world::scene::dist(p, b.position) > r + o.bounding_radius())
                        });
                        let bucket = if !objects { 0 } else if !walls { 1 } else { 2 };
                        let cell = &mut free_err[bucket][k];
                        cell.0 += off as f64;
                        cell.1 += moved as f64;
                        cell.2 += 1;
                    }
                    let cell = &mut err[view + bucket][k];
                    cell.0 += off as f64;
                    cell.1 += moved as f64;
                    cell.2 += 1;
                }
            }
        }
        let names = ["top: agent", "top: still objects", "top: moving objects", "side: agent", "side: still objects", "side: moving objects"];
        for (name, row) in ["agent touching an object", "agent touching only a wall", "agent free"].iter().zip(free_err).chain(names.iter().zip(err)) {
            let f = |(s, c, n): (f64, f64, usize)| format!("{:.2} px (staying put {:.2}; {n})", s / n.max(1) as f64, c / n.max(1) as f64);
            println!("{name}: h1 {}, h4 {}, h16 {}", f(row[0]), f(row[1]), f(row[2]));
        }
        return;
    }
    // (name, true places?, redraw below [untracked, tracked object, agent] showing)
    let shipped = [runtime::frame_net::FADED, runtime::frame_net::FADED_TRACKED, runtime::frame_net::FADED_TRACKED];
    let always = [runtime::frame_net::FADED, 1.01, 1.01];
    let objects_always = [runtime::frame_net::FADED, 1.01, runtime::frame_net::FADED];
    let tries: [(&str, bool, [f32; 3]); 4] = [
        ("imagined places, the page's thresholds", false, shipped),
        ("imagined places, objects always redrawn", false, objects_always),
        ("true places, the page's thresholds", true, shipped),
        ("true places, objects and agent always redrawn", true, always),
    ];
    for (name, truth, below) in tries {
        let mut next = picks.iter();
        let scores = model::frame_eval::score_dreams_with(&eps, &STARTS, HORIZON, 1, |prev, cur, last, moves| {
            let &(i, t) = next.next().expect("the same dreams in the same order");
            let e = &eps[i];
            let moves: Vec<u8> = moves.iter().map(|m| m[0]).collect();
            let nets = rt.state.as_ref().expect("state nets");
            let mut tracker = Tracker::new(nets, [&prev[0], &cur[0]], last[0]);
            let mut last = last[0];
            let mut objects = Objects::of(&cur[0]);
            let (mut p, mut c) = (prev[0].clone(), cur[0].clone());
            let mut out = Vec::new();
            for (h, &mv) in moves.iter().enumerate() {
                tracker.step(nets, mv);
                for o in objects.0.iter_mut() {
                    o.at = if truth {
                        match (true_place(e, o.class, t), true_place(e, o.class, t + h + 1)) {
                            (Some(a), Some(b)) => Some([o.centre[0] + (b[0] - a[0]).round() as i32, o.centre[1] + (b[1] - a[1]).round() as i32]),
                            _ => None,
                        }
                    } else {
                        tracker.moved(o.class).map(|d| [o.centre[0] + d[0].round() as i32, o.centre[1] + d[1].round() as i32])
                    };
                }
                let logits = net.logits(&p, &c, last, mv);
                last = mv;
                let mut f = compose(&c, &logits, Compose::Soft, &objects, 0.0, &mut |_| 0.5);
                keep_objects_from(&objects, &c, &logits, &mut f, below);
                p = std::mem::replace(&mut c, f);
                out.push(vec![c.clone()]);
            }
            out
        });
        let gains: Vec<String> = scores.psnr.iter().zip(&scores.psnr_copy).map(|(a, b)| format!("{:+.2}", a - b)).collect();
        println!("{name}: {}", scores.summary());
        println!("  gain by horizon: {}", gains.join(" "));
    }
}
