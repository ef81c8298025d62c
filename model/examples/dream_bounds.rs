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

use runtime::frame_net::{compose, keep_objects_from, Compose, Dreamer, Objects, Spread, AGENT_CLASS};
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
    // `--seed N`: other held-out episodes than `eval`'s (to tune a drawing without scoring it
    // on the episodes it is reported on).
    let seed = args.iter().position(|a| a == "--seed").and_then(|i| args.get(i + 1)).map_or(1_000_000, |s| s.parse().expect("--seed takes a number"));
    let eps = model::frame_eval::held_out(seed, 60);
    let picks: Vec<(usize, usize)> = (0..eps.len())
        .flat_map(|i| {
            let frames = eps[i].frame_count();
            STARTS.iter().filter(move |&&t| t >= 1 && t + HORIZON < frames).map(move |&t| (i, t))
        })
        .collect();
    // The page's own `Dreamer` on these dreams, set up by `configure`; prints its scores.
    let page_dreams = |name: String, configure: &dyn Fn(&mut Dreamer)| {
        let nets = rt.state.as_ref().expect("state nets");
        let scores = model::frame_eval::score_dreams_with(&eps, &STARTS, HORIZON, 1, |prev, cur, last, moves| {
            let mut d = Dreamer::new([&prev[0], &cur[0]], last[0], Compose::Track, 0.0, 0, Some(nets));
            configure(&mut d);
            let moves: Vec<u8> = moves.iter().map(|m| m[0]).collect();
            net.dream_from(&mut d, &moves).into_iter().map(|f| vec![f]).collect()
        });
        let gains: Vec<String> = scores.psnr.iter().zip(&scores.psnr_copy).map(|(a, b)| format!("{:+.2}", a - b)).collect();
        println!("{name}: {}", scores.summary());
        println!("  gain by horizon: {}", gains.join(" "));
    };
    let specs = |flag: &str| -> Option<Vec<Vec<f32>>> {
        let i = args.iter().position(|a| a == flag)?;
        Some(args[i + 1..].iter().take_while(|a| !a.starts_with("--")).map(|spec| spec.split(',').map(|x| x.parse().expect("numbers joined by commas")).collect()).collect())
    };
    // The page's drawing with other shares below which tracked things are redrawn
    // (`untracked,object,agent`).
    if let Some(specs) = specs("--below") {
        // `--no-whole`: nothing the net draws whole is redrawn crisp; `--no-whole objects` or
        // `agent`: only those.
        let whole = match args.iter().position(|a| a == "--no-whole").map(|i| args.get(i + 1).map(|s| s.as_str())) {
            None => [true; 2],
            Some(Some("objects")) => [false, true],
            Some(Some("agent")) => [true, false],
            Some(_) => [false; 2],
        };
        // `below` may carry a fourth number: the moves after which the agent is no longer
        // redrawn where the state has it.
        for v in specs {
            let below = [v[0], v[1], v[2]];
            let agent_moves = v.get(3).map_or(usize::MAX, |&m| m as usize);
            page_dreams(format!("below {v:?}"), &|d| {
                d.below = below;
                d.agent_moves = agent_moves;
                d.redraw_whole = whole;
            });
        }
        return;
    }
    // The page's drawing with other spreads of a tracked place: `object_px,object_power,
    // agent_px,agent_power` (`runtime::frame_net::Spread`).
    if let Some(specs) = specs("--spread") {
        for v in specs {
            let spread = [Spread { px: v[0], power: v[1] }, Spread { px: v[2], power: v[3] }];
            page_dreams(format!("spread {spread:?}"), &|d| d.spread = spread);
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
        // The agent at every horizon: (sum of errors, sum of squared errors, count).
        let mut agent_by_h = [(0f64, 0f64, 0usize); HORIZON];
        // Its squared error along and across its imagined path (the direction it moved), and
        // along and across its last move.
        let mut agent_axes = [[0f64; 4]; HORIZON];
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
                if let (Some(a), Some(b), Some(d)) = (true_place(e, AGENT_CLASS, t), true_place(e, AGENT_CLASS, t + h), tracker.moved(AGENT_CLASS)) {
                    let err = [d[0] - (b[0] - a[0]), d[1] - (b[1] - a[1])];
                    let off = (err[0] * err[0] + err[1] * err[1]) as f64;
                    let unit = |v: [f32; 2]| {
                        let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
                        (n > 1e-3).then(|| [v[0] / n, v[1] / n])
                    };
                    // The move's target velocity, y flipped to pixel rows.
                    let [vx, vy] = world::action::Action::from_discrete(e.actions[t + h - 1]).velocity();
                    for (k, dir) in [unit(d), unit([vx, -vy])].into_iter().enumerate() {
                        let u = dir.unwrap_or([1.0, 0.0]);
                        let along = err[0] * u[0] + err[1] * u[1];
                        let across = -err[0] * u[1] + err[1] * u[0];
                        agent_axes[h - 1][2 * k] += (along * along) as f64;
                        agent_axes[h - 1][2 * k + 1] += (across * across) as f64;
                    }
                    let cell = &mut agent_by_h[h - 1];
                    cell.0 += off.sqrt();
                    cell.1 += off;
                    cell.2 += 1;
                }
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
        let by_h: Vec<String> = agent_by_h.iter().map(|&(s, q, n)| format!("{:.2}/{:.2}", s / n.max(1) as f64, (q / n.max(1) as f64).sqrt())).collect();
        println!("agent by horizon, mean / rms px: {}", by_h.join(" "));
        let axes: Vec<String> = agent_axes
            .iter()
            .zip(&agent_by_h)
            .map(|(a, &(_, _, n))| {
                let r = |x: f64| (x / n.max(1) as f64).sqrt();
                format!("{:.2}/{:.2} {:.2}/{:.2}", r(a[0]), r(a[1]), r(a[2]), r(a[3]))
            })
            .collect();
        println!("agent rms px along/across its path, along/across its move: {}", axes.join(" | "));
        return;
    }
    // (name, true places?, redraw below [untracked, tracked object, agent] showing)
    let shipped = [runtime::frame_net::FADED, runtime::frame_net::FADED_TRACKED, runtime::frame_net::FADED_TRACKED];
    let always = [runtime::frame_net::FADED, 1.01, 1.01];
    let objects_always = [runtime::frame_net::FADED, 1.01, runtime::frame_net::FADED];
    // (name, true places for [objects, agent]?, thresholds)
    let tries: [(&str, [bool; 2], [f32; 3]); 6] = [
        ("imagined places, the page's thresholds", [false; 2], shipped),
        ("imagined places, objects always redrawn", [false; 2], objects_always),
        ("true places, the page's thresholds", [true; 2], shipped),
        ("true places, objects and agent always redrawn", [true; 2], always),
        ("true places for the objects, the agent imagined, the page's thresholds", [true, false], shipped),
        ("true place for the agent, the objects imagined, the page's thresholds", [false, true], shipped),
    ];
    for (name, truths, below) in tries {
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
                    o.at = if truths[usize::from(o.class == AGENT_CLASS)] {
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
