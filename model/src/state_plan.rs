//! Planning in the model's state: read the slots of the live frame, take the object and zone
//! the goal sentence names, imagine each candidate's future with the dynamics and score it
//! with the task's cost ([`world::task::PushTask::cost_at`]'s terms, from what was read), and
//! choose with CEM.
//!
//! The imagined steps, the cost and the reading's post-processing are the runtime's
//! ([`runtime::state`]): what is scored here is what the page plans with.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use layout::slots::{OBJECT_SLOTS, SLOTS};
use world::render::Renderer;
use world::sim::Simulator;
use world::task::PushTask;

use crate::batches::frames_tensor;
use crate::frame_net::MOVES;
use crate::infer::to_vec;
use crate::planner::{cem_plan, CemConfig};
use crate::state_net::{Dynamics, GoalNet, Reader};

pub use runtime::state::{
    dyn_agent, dyn_object, track_motion, Dense, Dynamics as DynamicsCpu, Reading, Target,
    ZONE_MARGIN,
};

/// [`Dynamics`] as plain numbers, for the runtime's arithmetic.
pub fn dynamics_cpu(d: &Dynamics) -> DynamicsCpu {
    let dense = |l: &burn::nn::Linear| {
        let [inp, out] = l.weight.val().dims();
        Dense {
            w: to_vec(l.weight.val()),
            b: l.bias.as_ref().map(|b| to_vec(b.val())).unwrap_or(vec![0.0; out]),
            inp,
            out,
        }
    };
    DynamicsCpu {
        layers: [dense(&d.l1), dense(&d.l2), dense(&d.l3)],
        free: dense(&d.free),
    }
}

/// Reads the slots of frames (each 64x64x3 bytes) with the frame before each.
pub fn read(reader: &Reader, prev: &[&[u8]], cur: &[&[u8]], device: &Device) -> Vec<Reading> {
    let out = reader.forward(frames_tensor(prev, device), frames_tensor(cur, device));
    let (p, pos, ab, size) = (to_vec(out.presence), to_vec(out.pos), to_vec(out.ab), to_vec(out.size));
    (0..cur.len())
        .map(|i| {
            let (s, s2) = (i * SLOTS..(i + 1) * SLOTS, 2 * i * SLOTS..2 * (i + 1) * SLOTS);
            runtime::state::ReadOut {
                presence: p[s.clone()].to_vec(),
                pos: pos[s2.clone()].to_vec(),
                ab: ab[s2].to_vec(),
                size: size[s].to_vec(),
            }
            .reading()
        })
        .collect()
}

/// The object slot and zone slot a goal sentence names, by the goal net.
pub fn read_goal(goal: &GoalNet, words: &[u16], device: &Device) -> (usize, usize) {
    let w: Vec<i64> = words.iter().map(|&x| x as i64).collect();
    let t: Tensor<2, Int> = Tensor::from_data(TensorData::new(w, [1, words.len()]), device);
    let (o, z) = goal.forward(t);
    let argmax = |v: Vec<f32>| {
        v.iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
            .0
    };
    (argmax(to_vec(o)), OBJECT_SLOTS + 1 + argmax(to_vec(z)))
}

/// Where [`model_policy`] gets the slots it plans from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sight {
    /// Read off the rendered frame by the reader (what the page does).
    Reader,
    /// Taken from the simulator's state: a diagnosis that leaves only the dynamics and the
    /// planner to blame for a miss.
    Truth,
}

/// The slots of the simulator's state as a [`Reading`] (presence 1 or 0).
pub fn truth_reading(
    scene: &world::scene::Scene,
    state: &world::sim::WorldState,
    before: Option<&world::sim::WorldState>,
) -> Reading {
    let l = layout::slots::labels(scene, state, before);
    Reading {
        slots: l.slots,
        presence: l.slots.map(|s| f32::from(u8::from(s.present))),
    }
}

/// A policy for [`world::task::run_task`]: before every move, render the live state, read it,
/// plan with CEM over imagined futures and take the plan's first move. The goal's object is
/// planned with wherever the reader places it, however unsure the reader is that it is there:
/// the sentence says it is, and staying put (what this did before) never reaches the goal.
pub fn model_policy<'a>(
    task: &'a PushTask,
    reader: &'a Reader,
    dynamics: &'a [DynamicsCpu],
    goal: (usize, usize),
    cfg: CemConfig,
    seed: u64,
    sight: Sight,
    device: &'a Device,
) -> impl FnMut(&Simulator, usize) -> u8 + 'a {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut renderer = Renderer::new(64, 64).expect("64x64 renderer");
    let mut last: Option<Vec<u8>> = None;
    let mut last_state: Option<world::sim::WorldState> = None;
    let mut last_reading: Option<Reading> = None;
    let mut previous: Option<Vec<u8>> = None;
    move |sim, _step| {
        let state = sim.state();
        let mut r = match sight {
            Sight::Reader => {
                let frame = renderer.draw_rgb(&task.scene, &state);
                let before = last.clone().unwrap_or_else(|| frame.clone());
                last = Some(frame.clone());
                read(reader, &[&before], &[&frame], device).remove(0)
            }
            Sight::Truth => truth_reading(&task.scene, &state, last_state.as_ref()),
        };
        last_state = Some(state);
        track_motion(&mut r, last_reading.as_ref());
        let last_move = previous.as_ref().map_or(0, |p| p[0]);
        let target = Target::of(&r, last_reading.as_ref(), last_move, goal.0, goal.1, task.scene.view);
        last_reading = Some(r);
        let plan = cem_plan(&cfg, &mut rng, previous.as_deref(), |pop| {
            pop.iter().map(|c| target.cost(dynamics, c)).collect()
        });
        let a = plan.actions[0];
        previous = Some(plan.actions);
        a
    }
}

/// Success of a uniformly random mover on `tasks` (for the baseline).
pub fn random_success(tasks: &[PushTask], steps: usize, seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let wins = tasks
        .iter()
        .filter(|t| world::task::run_task(t, steps, |_, _| rng.random_range(0..MOVES as u8)).success)
        .count();
    wins as f64 / tasks.len().max(1) as f64
}
