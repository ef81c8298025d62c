//! Trains the state path (reader, dynamics, goal) on a `world gen` dataset and scores it:
//! reading error on held-out frames, imagined-track error against simple baselines, and
//! push-to-goal success against random moves.
//!
//!     cargo run -p model --release --bin state -- --data data/train --out runs/state

use std::path::PathBuf;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use layout::slots::{object_slot, zone_slot, FIRST_ZONE_SLOT, SLOTS};
use model::batches::Clips;
use model::frame_eval::held_out;
use model::planner::CemConfig;
use model::state_net::{Dynamics, GoalNet, Reader};
use model::state_plan::{model_policy, random_success, read, read_goal, DynamicsCpu, Sight};
use model::state_train::{
    dyn_state, dynamics_loss, Reads, fit, goal_loss, is_contact, reader_loss, track_windows, RolloutLoss,
    TrackWindow, Tracks,
};
use world::dataset::Dataset;
use world::episode::Episode;
use world::language::vocab::{tokenize, vocab_size};
use world::sim::Simulator;
use world::task::{make_tasks, run_task};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "data/train")]
    data: PathBuf,
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, default_value_t = 32)]
    reader_width: usize,
    #[arg(long, default_value_t = 1500)]
    reader_steps: usize,
    #[arg(long, default_value_t = 32)]
    reader_batch: usize,
    /// Hidden width of each dynamics.
    #[arg(long, default_value_t = 64)]
    hidden: usize,
    #[arg(long, default_value_t = 8000)]
    dyn_steps: usize,
    #[arg(long, default_value_t = 256)]
    dyn_batch: usize,
    #[arg(long, default_value_t = 12)]
    horizon: usize,
    #[arg(long, default_value_t = 0.5)]
    noise_px: f32,
    /// Weight of the agent's imagined errors against the object's in the dynamics' loss.
    #[arg(long, default_value_t = 1.0)]
    agent_weight: f32,
    /// Share of dynamics rollouts started without the motion of the frame before (taken as
    /// the last frame's), as a dream from two frames starts.
    #[arg(long, default_value_t = 0.0)]
    no_history: f64,
    /// Count the agent's imagined errors only where the window's object is the nearest to it.
    #[arg(long)]
    nearest_only: bool,
    /// Share of the dynamics' rollouts started from the reader's places (`RolloutLoss::read_share`;
    /// needs `--reader-from`).
    #[arg(long, default_value_t = 0.0)]
    read_share: f64,
    /// Episodes whose frames are read for `--read-share` (0.2 GFLOP a frame).
    #[arg(long, default_value_t = 500)]
    read_episodes: usize,
    /// Push-to-goal tasks scored (from the evaluation's seed, 2000000).
    #[arg(long, default_value_t = 100)]
    tasks: usize,
    #[arg(long, default_value_t = 256)]
    population: usize,
    #[arg(long, default_value_t = 3)]
    iterations: usize,
    #[arg(long, default_value = "runs/state")]
    out: PathBuf,
    /// Take the reader from this folder's `reader.bin` instead of training one.
    #[arg(long)]
    reader_from: Option<PathBuf>,
    /// Load the parts from `--out` instead of training them.
    #[arg(long)]
    eval_only: bool,
    /// Plan from the simulator's true slots instead of the reader's (a diagnosis).
    #[arg(long)]
    truth_reads: bool,
    /// Share of each dynamics batch drawn from windows where the agent touches the object.
    #[arg(long, default_value_t = 0.5)]
    contact_share: f64,
    /// Follow this task step by step (true slots): what the plan imagines and what happens.
    #[arg(long)]
    trace: Option<usize>,
    /// Print each task's outcome.
    #[arg(long)]
    per_task: bool,
    /// Train (or load) this many dynamics from different seeds and plan with the mean of
    /// their imagined costs.
    #[arg(long, default_value_t = 3)]
    ensemble: usize,
}

/// File of ensemble member `k`.
fn dynamics_file(k: usize) -> String {
    if k == 0 {
        "dynamics.bin".into()
    } else {
        format!("dynamics-{k}.bin")
    }
}

fn save<M: Module>(m: &M, path: PathBuf) {
    let bytes = m.clone().into_record().into_bytes().expect("record");
    std::fs::write(path, &bytes[..]).expect("write");
}

fn load<M: Module>(m: M, path: PathBuf) -> M {
    let bytes = std::fs::read(&path).expect("model file");
    m.load_record(ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).expect("record"))
}

fn main() {
    let a = Args::parse();
    let plain = Device::flex();
    let device = plain.clone().autodiff();
    device.seed(0);
    std::fs::create_dir_all(&a.out).unwrap();

    let (reader, dynamics, goal) = if a.eval_only {
        (
            load(Reader::new(a.reader_width, &plain), a.out.join("reader.bin")),
            (0..a.ensemble)
                .map(|k| load(Dynamics::new(a.hidden, &plain), a.out.join(dynamics_file(k))))
                .collect(),
            load(GoalNet::new(vocab_size(), 32, &plain), a.out.join("goal.bin")),
        )
    } else {
        let ds = Dataset::open(&a.data).unwrap();
        let episodes: Vec<Episode> = ds
            .episodes()
            .take(a.limit.unwrap_or(usize::MAX))
            .map(|e| e.unwrap())
            .collect();
        let clips = Clips::from_episodes(&episodes).unwrap();
        let tracks = Tracks::from_episodes(&episodes);
        drop(episodes);
        eprintln!("{} episodes", clips.episodes());

        // Goal sentences of training tasks.
        let sentences: Vec<(Vec<u16>, usize, usize)> = make_tasks(0, 2000)
            .iter()
            .map(|t| {
                let o = &t.scene.objects[t.object];
                (
                    tokenize(&t.goal_text()).unwrap(),
                    object_slot(o.colour, o.shape),
                    zone_slot(t.scene.zones[t.zone].colour) - FIRST_ZONE_SLOT,
                )
            })
            .collect();
        let mut g_rng = ChaCha8Rng::seed_from_u64(1);
        let goal = fit(
            GoalNet::new(vocab_size(), 32, &device),
            300,
            1e-2,
            |m, _| {
                let batch: Vec<_> = (0..64)
                    .map(|_| sentences[g_rng.random_range(0..sentences.len())].clone())
                    .collect();
                let (l, v) = goal_loss(m, &batch, &device);
                (l, format!("ce {v:.4}"))
            },
            100,
            "goal",
        );
        save(&goal, a.out.join("goal.bin"));

        let windows = track_windows(&tracks, a.horizon);
        let contact: Vec<TrackWindow> = windows
            .iter()
            .copied()
            .filter(|&w| is_contact(&tracks, w, a.horizon))
            .collect();
        eprintln!(
            "{} track windows of {} moves, {} with contact",
            windows.len(),
            a.horizon,
            contact.len()
        );
        let reads = match (&a.reader_from, a.read_share > 0.0) {
            (Some(dir), true) => {
                let t0 = std::time::Instant::now();
                let reader = load(Reader::new(a.reader_width, &plain), dir.join("reader.bin"));
                let r = Reads::of(&reader, &clips, a.read_episodes, 64, &plain);
                eprintln!("read {} episodes' frames in {:.0}s", r.pos.len(), t0.elapsed().as_secs_f64());
                Some(r)
            }
            (None, true) => panic!("--read-share needs --reader-from: the reader whose places the rollouts start from"),
            _ => None,
        };
        let mut ensemble = Vec::new();
        for member in 0..a.ensemble as u64 {
            device.seed(member);
            let mut d_rng = ChaCha8Rng::seed_from_u64(2 + 10 * member);
            let mut n_rng = ChaCha8Rng::seed_from_u64(3 + 10 * member);
            let dynamics = fit(
                Dynamics::new(a.hidden, &device),
                a.dyn_steps,
                3e-3,
                |m, step| {
                    // Rollouts grow from 2 moves to the horizon over the first half.
                    let k = (2 + step * a.horizon * 2 / a.dyn_steps.max(1)).min(a.horizon);
                    let batch: Vec<_> = (0..a.dyn_batch)
                        .map(|_| {
                            if !contact.is_empty() && d_rng.random::<f64>() < a.contact_share {
                                contact[d_rng.random_range(0..contact.len())]
                            } else {
                                windows[d_rng.random_range(0..windows.len())]
                            }
                        })
                        .collect();
                    let how = RolloutLoss {
                        noise_px: a.noise_px,
                        agent_weight: a.agent_weight,
                        no_history: a.no_history,
                        nearest_only: a.nearest_only,
                        read_share: a.read_share,
                    };
                    let (l, [px, apx]) = dynamics_loss(m, &tracks, &clips, reads.as_ref(), &batch, k, how, &mut n_rng, &device);
                    (l, format!("K={k} error at the last step: object {px:.2} px, agent {apx:.2} px"))
                },
                100,
                "dynamics",
            );
            save(&dynamics, a.out.join(dynamics_file(member as usize)));
            ensemble.push(dynamics.valid());
        }

        let mut r_rng = ChaCha8Rng::seed_from_u64(4);
        if let Some(dir) = &a.reader_from {
            let reader = load(Reader::new(a.reader_width, &plain), dir.join("reader.bin"));
            save(&reader, a.out.join("reader.bin"));
            return finish(&a, reader, ensemble, goal.valid());
        }
        let reader = fit(
            Reader::new(a.reader_width, &device),
            a.reader_steps,
            2e-3,
            |m, _| {
                let picks: Vec<(usize, usize)> = (0..a.reader_batch)
                    .map(|_| {
                        (
                            r_rng.random_range(0..clips.episodes()),
                            r_rng.random_range(1..clips.frames_per_episode),
                        )
                    })
                    .collect();
                let (l, [bce, place, rest]) = reader_loss(m, &clips, &tracks, &picks, &device);
                (l, format!("presence {bce:.4} place {place:.3} px^2 rest {rest:.4}"))
            },
            50,
            "reader",
        );
        save(&reader, a.out.join("reader.bin"));
        (reader.valid(), ensemble, goal.valid())
    };
    finish(&a, reader, dynamics, goal);
}

/// Scores the three parts on held-out data.
fn finish(a: &Args, reader: Reader, ensemble: Vec<Dynamics>, goal: GoalNet) {
    let plain = Device::flex();

    // Held-out scores.
    let held = held_out(1_000_000, 60);
    let clips = Clips::from_episodes(&held).unwrap();
    let tracks = Tracks::from_episodes(&held);
    // Reading error.
    let (mut pos_err, mut presence_ok, mut n_pres, mut n_pos) = (0f64, 0usize, 0usize, 0usize);
    for e in 0..held.len() {
        let prev: Vec<&[u8]> = (1..41).map(|t| clips.frame(e, t - 1)).collect();
        let cur: Vec<&[u8]> = (1..41).map(|t| clips.frame(e, t)).collect();
        let reads = read(&reader, &prev, &cur, &plain);
        for (i, r) in reads.iter().enumerate() {
            let l = &tracks.labels[e][i + 1];
            for s in 0..SLOTS {
                if !l.usable[s] {
                    continue;
                }
                n_pres += 1;
                presence_ok += usize::from(r.slots[s].present == l.slots[s].present);
                if l.slots[s].present {
                    let (du, dv) = (r.slots[s].pos[0] - l.slots[s].pos[0], r.slots[s].pos[1] - l.slots[s].pos[1]);
                    pos_err += ((du * du + dv * dv).sqrt() * 64.0) as f64;
                    n_pos += 1;
                }
            }
        }
    }
    println!(
        "reader: presence right {:.2}%, place error {:.3} px (mean over {n_pos} present slots)",
        100.0 * presence_ok as f64 / n_pres as f64,
        pos_err / n_pos as f64
    );
    // Imagined tracks from true starts, against staying put and constant motion.
    let members: Vec<DynamicsCpu> = ensemble.iter().map(model::state_plan::dynamics_cpu).collect();
    // Tracks are scored for the first member.
    let dcpu = &members[0];
    let windows = track_windows(&tracks, a.horizon);
    let (mut e_model, mut e_stay, mut e_const, mut e_agent) = (0f64, 0f64, 0f64, 0f64);
    let (mut c_model, mut c_stay, mut c_n) = (0f64, 0f64, 0usize);
    for &(e, s, t) in &windows {
        let touch = is_contact(&tracks, (e, s, t), a.horizon);
        let (mut ag, mut ob) = dyn_state(&tracks, &clips, e, t, s);
        let side = f32::from(u8::from(tracks.side[e]));
        for k in 0..a.horizon {
            dcpu.step(&mut ag, &mut ob, side, clips.action(e, t + k));
        }
        let (agent_truth, truth) = dyn_state(&tracks, &clips, e, t + a.horizon, s);
        e_agent += (((ag[0] - agent_truth[0]).powi(2) + (ag[1] - agent_truth[1]).powi(2)).sqrt() * 64.0) as f64;
        let (_, start) = dyn_state(&tracks, &clips, e, t, s);
        let d = |p: [f32; 2]| (((p[0] - truth[0]).powi(2) + (p[1] - truth[1]).powi(2)).sqrt() * 64.0) as f64;
        e_model += d([ob[0], ob[1]]);
        e_stay += d([start[0], start[1]]);
        if touch {
            c_model += d([ob[0], ob[1]]);
            c_stay += d([start[0], start[1]]);
            c_n += 1;
        }
        let h = a.horizon as f32 / layout::slots::MOTION_SCALE;
        e_const += d([start[0] + start[2] * h, start[1] + start[3] * h]);
    }
    let n = windows.len().max(1) as f64;
    println!(
        "dynamics: object place after {} moves, from true starts: {:.2} px (staying put {:.2}, constant motion {:.2}); {} FLOP per step",
        a.horizon,
        e_model / n,
        e_stay / n,
        e_const / n,
        dcpu.flops_per_step()
    );
    println!(
        "dynamics: agent place after {} moves, from true starts, stepped with the window's object (whichever is nearest): {:.2} px",
        a.horizon,
        e_agent / n
    );
    let c = c_n.max(1) as f64;
    println!(
        "dynamics, the {c_n} windows with contact: {:.2} px (staying put {:.2})",
        c_model / c,
        c_stay / c
    );
    // Goal reading.
    let tasks = make_tasks(2_000_000, a.tasks);
    let goal_ok = tasks
        .iter()
        .filter(|t| {
            let o = &t.scene.objects[t.object];
            read_goal(&goal, &tokenize(&t.goal_text()).unwrap(), &plain)
                == (object_slot(o.colour, o.shape), zone_slot(t.scene.zones[t.zone].colour))
        })
        .count();
    println!("goal: {goal_ok} of {} sentences read right", tasks.len());
    // Planning.
    let cem = CemConfig {
        population: a.population,
        elites: (a.population / 8).max(2),
        iterations: a.iterations,
        horizon: a.horizon,
        ..CemConfig::default()
    };
    if let Some(n) = a.trace {
        return trace(&tasks[n], n as u64, (!a.truth_reads).then_some(&reader), &goal, &members, &cem, &plain);
    }
    let sight = if a.truth_reads { Sight::Truth } else { Sight::Reader };
    let started = std::time::Instant::now();
    let mut wins = 0;
    for (i, t) in tasks.iter().enumerate() {
        let g = read_goal(&goal, &tokenize(&t.goal_text()).unwrap(), &plain);
        let out = run_task(t, 40, model_policy(t, &reader, &members, g, cem.clone(), i as u64, sight, &plain));
        wins += usize::from(out.success);
        if a.per_task {
            let o = &t.scene.objects[t.object];
            println!(
                "task {i}: {} in {} moves, final distance {:.3} (start {:.3}); {:?} {:?} {:?} {:?} {:?} at {:.1?}",
                if out.success { "reached" } else { "missed" },
                out.actions.len(),
                out.final_distance,
                t.distance(&Simulator::new(&t.scene).state()),
                o.shape,
                o.size,
                o.mass,
                o.friction,
                o.bounce,
                o.position
            );
        }
    }
    let model_s = started.elapsed().as_secs_f64();
    println!(
        "planning: {wins} of {} tasks reached ({:.0}%) with {}x{} imagined futures per move and {} dynamics, {:.0} s; random moves {:.0}%",
        tasks.len(),
        100.0 * wins as f64 / tasks.len() as f64,
        cem.population,
        cem.iterations,
        members.len(),
        model_s,
        100.0 * random_success(&tasks, 40, 7)
    );
}

/// Runs `task` as the planning score does (plans from the reader's slots, or from the true
/// ones without a reader) and prints, for every move, the true agent and object, what was
/// read of them, the plan's imagined cost and object end point, and the plan's true cost.
fn trace(
    task: &world::task::PushTask,
    seed: u64,
    reader: Option<&Reader>,
    goal: &GoalNet,
    members: &[DynamicsCpu],
    cem: &CemConfig,
    plain: &Device,
) {
    use model::state_plan::{truth_reading, Target};
    let mut renderer = world::render::Renderer::new(64, 64).unwrap();
    let mut last_frame: Option<Vec<u8>> = None;
    let g = read_goal(goal, &tokenize(&task.goal_text()).unwrap(), plain);
    let mut sim = Simulator::new(&task.scene);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut before_state, mut before_read, mut warm): (Option<world::sim::WorldState>, Option<model::state_plan::Reading>, Option<Vec<u8>>) = (None, None, None);
    let mut history = Vec::new();
    println!("zone centre {:?} rect {:?}", task.zone_centre(), task.zone_rect());
    for step in 0..40 {
        let state = sim.state();
        let mut r = match reader {
            Some(reader) => {
                let frame = renderer.draw_rgb(&task.scene, &state);
                let before = last_frame.replace(frame.clone()).unwrap_or_else(|| frame.clone());
                read(reader, &[&before], &[&frame], plain).remove(0)
            }
            None => truth_reading(&task.scene, &state, before_state.as_ref()),
        };
        model::state_plan::track_motion(&mut r, before_read.as_ref());
        let t = Target::of(&r, before_read.as_ref(), history.last().copied().unwrap_or(0), g.0, g.1, task.scene.view);
        let plan = model::planner::cem_plan(cem, &mut rng, warm.as_deref(), |pop| {
            pop.iter().map(|c| t.cost(members, c)).collect()
        });
        let (mut ag, mut ob) = (t.agent, t.object);
        for &m in &plan.actions {
            members[0].step(&mut ag, &mut ob, t.side, m);
        }
        let truth_cost = world::task::rollout_cost(task, world::task::replay(task, &history), &plan.actions);
        let o = &state.objects[task.object];
        println!(
            "step {step}: agent {:.2?} object {:.2?} read {:.2?} {:.2?} p {:.2} move {} plan {:?} imagined cost {:.2} (true {:.2}) object ends {:.2?}",
            state.agent.position,
            o.position,
            layout::slots::to_world(r.slots[layout::slots::AGENT_SLOT].pos),
            (layout::slots::to_world(r.slots[g.0].pos), r.slots[g.0].ab.map(|v| v * 64.0)),
            r.presence[g.0],
            plan.actions[0],
            plan.actions,
            plan.cost,
            truth_cost,
            layout::slots::to_world([ob[0], ob[1]]),
        );
        let a = plan.actions[0];
        sim.step(world::action::Action::from_discrete(a));
        history.push(a);
        warm = Some(plan.actions);
        before_state = Some(state);
        before_read = Some(r);
        if task.success(&sim.state()) {
            println!("reached after {} moves", step + 1);
            return;
        }
    }
    println!("missed");
}
