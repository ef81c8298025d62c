//! Planning in the model's state: read the slots of the live frame, take the object and zone
//! the goal sentence names, imagine each candidate's future with the dynamics and score it
//! with the task's cost ([`world::task::PushTask::cost_at`]'s terms, from what was read), and
//! choose with CEM.
//!
//! The imagined steps run in plain Rust ([`DynamicsCpu`]): a few tens of thousands of FLOPs
//! each, the same arithmetic as the browser runtime's CPU path.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand::SeedableRng;

use layout::slots::{to_world, Slot, AGENT_SLOT, MOTION_SCALE, OBJECT_SLOTS, SLOTS};
use world::render::Renderer;
use world::scene::{dist, View, AGENT_RADIUS, ARENA};
use world::sim::Simulator;
use world::task::{PushTask, APPROACH_WEIGHT, LOST_DISTANCE, SUCCESS_BONUS};

use crate::batches::frames_tensor;
use crate::frame_net::MOVES;
use crate::infer::to_vec;
use crate::planner::{cem_plan, CemConfig};
use crate::state_net::{Dynamics, GoalNet, Reader, DYN_IN, POS_SCALE};

/// A linear layer as plain numbers: `y = x W + b`, `W` `[inp, out]` row-major.
#[derive(Clone, Debug)]
pub struct Dense {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub inp: usize,
    pub out: usize,
}

impl Dense {
    fn of(l: &burn::nn::Linear) -> Dense {
        let [inp, out] = l.weight.val().dims();
        Dense {
            w: to_vec(l.weight.val()),
            b: l.bias.as_ref().map(|b| to_vec(b.val())).unwrap_or(vec![0.0; out]),
            inp,
            out,
        }
    }

    fn apply(&self, x: &[f32], y: &mut [f32], gelu: bool) {
        y.copy_from_slice(&self.b);
        for (i, &xi) in x.iter().enumerate() {
            if xi == 0.0 {
                continue;
            }
            let row = &self.w[i * self.out..(i + 1) * self.out];
            for (o, &w) in y.iter_mut().zip(row) {
                *o += xi * w;
            }
        }
        if gelu {
            for v in y.iter_mut() {
                *v = 0.5 * *v * (1.0 + runtime::cpu::erf(*v * std::f32::consts::FRAC_1_SQRT_2));
            }
        }
    }
}

/// [`Dynamics`] as plain numbers.
#[derive(Clone, Debug)]
pub struct DynamicsCpu {
    pub layers: [Dense; 3],
}

impl DynamicsCpu {
    pub fn of(d: &Dynamics) -> DynamicsCpu {
        DynamicsCpu {
            layers: [Dense::of(&d.l1), Dense::of(&d.l2), Dense::of(&d.l3)],
        }
    }

    /// One imagined step, in place (the same arithmetic as [`Dynamics::step`]).
    pub fn step(&self, agent: &mut [f32; 4], object: &mut [f32; 5], side: f32, mv: u8) {
        let mut x = [0f32; DYN_IN];
        x[..4].copy_from_slice(agent);
        x[4..9].copy_from_slice(object);
        x[9] = (object[0] - agent[0]) * POS_SCALE;
        x[10] = (object[1] - agent[1]) * POS_SCALE;
        x[11] = side;
        x[12 + (mv as usize).min(MOVES - 1)] = 1.0;
        let h = self.layers[0].out;
        let (mut h1, mut h2, mut d) = (vec![0f32; h], vec![0f32; h], [0f32; 4]);
        self.layers[0].apply(&x, &mut h1, true);
        self.layers[1].apply(&h1, &mut h2, true);
        self.layers[2].apply(&h2, &mut d, false);
        agent[2] += d[0];
        agent[3] += d[1];
        object[2] += d[2];
        object[3] += d[3];
        agent[0] += agent[2] / MOTION_SCALE;
        agent[1] += agent[3] / MOTION_SCALE;
        object[0] += object[2] / MOTION_SCALE;
        object[1] += object[3] / MOTION_SCALE;
    }

    /// FLOPs of one step (multiply-add = 2).
    pub fn flops_per_step(&self) -> usize {
        self.layers.iter().map(|l| 2 * l.inp * l.out).sum()
    }
}

/// Slots read off a frame; `presence` is a probability.
#[derive(Clone, Debug)]
pub struct Reading {
    pub slots: [Slot; SLOTS],
    pub presence: [f32; SLOTS],
}

/// Reads the slots of frames (each 64x64x3 bytes) with the frame before each.
pub fn read(reader: &Reader, prev: &[&[u8]], cur: &[&[u8]], device: &Device) -> Vec<Reading> {
    let out = reader.forward(frames_tensor(prev, device), frames_tensor(cur, device));
    let (p, pos, ab, size) = (to_vec(out.presence), to_vec(out.pos), to_vec(out.ab), to_vec(out.size));
    (0..cur.len())
        .map(|i| {
            let mut r = Reading {
                slots: [Slot::default(); SLOTS],
                presence: [0.0; SLOTS],
            };
            for s in 0..SLOTS {
                let j = i * SLOTS + s;
                let prob = 1.0 / (1.0 + (-p[j]).exp());
                let k = if s > AGENT_SLOT { POS_SCALE } else { MOTION_SCALE };
                r.presence[s] = prob;
                r.slots[s] = Slot {
                    present: prob > 0.5,
                    pos: [pos[2 * j], pos[2 * j + 1]],
                    ab: [ab[2 * j] / k, ab[2 * j + 1] / k],
                    size: size[j] / POS_SCALE,
                };
            }
            r
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

/// What a plan is scored against: the object's and the zone's slots as read.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub agent: [f32; 4],
    pub object: [f32; 5],
    /// Zone centre and half extents, world units.
    pub zone_centre: [f32; 2],
    pub zone_half: [f32; 2],
    pub side: f32,
}

impl Target {
    pub fn of(r: &Reading, object: usize, zone: usize, view: View) -> Target {
        let a = r.slots[AGENT_SLOT];
        let o = r.slots[object];
        let z = r.slots[zone];
        Target {
            agent: [a.pos[0], a.pos[1], a.ab[0] * MOTION_SCALE, a.ab[1] * MOTION_SCALE],
            object: [o.pos[0], o.pos[1], o.ab[0] * MOTION_SCALE, o.ab[1] * MOTION_SCALE, o.size * POS_SCALE],
            zone_centre: to_world(z.pos),
            zone_half: [z.ab[0] * ARENA, z.ab[1] * ARENA],
            side: f32::from(u8::from(view == View::Side)),
        }
    }

    /// The imagined cost of `moves`: per step the object's distance to the zone's centre plus
    /// the agent's distance to the spot behind the object (over the arena side, weighted as the
    /// task weighs them); reaching the zone stops the sum and earns the task's bonus.
    pub fn cost(&self, dynamics: &DynamicsCpu, moves: &[u8]) -> f32 {
        let (mut agent, mut object) = (self.agent, self.object);
        let reach = object[4] / POS_SCALE * ARENA + AGENT_RADIUS;
        let mut cost = 0.0;
        for &m in moves {
            dynamics.step(&mut agent, &mut object, self.side, m);
            let o = to_world([object[0], object[1]]);
            let a = to_world([agent[0], agent[1]]);
            if !o.iter().all(|v| v.is_finite() && (0.0..=ARENA).contains(v)) {
                cost += LOST_DISTANCE;
                continue;
            }
            let (dx, dy) = (o[0] - self.zone_centre[0], o[1] - self.zone_centre[1]);
            if dx.abs() <= self.zone_half[0] && dy.abs() <= self.zone_half[1] {
                return cost - SUCCESS_BONUS;
            }
            let len = (dx * dx + dy * dy).sqrt().max(1e-6);
            let spot = [o[0] + dx / len * reach, o[1] + dy / len * reach];
            cost += dist(o, self.zone_centre) / ARENA + APPROACH_WEIGHT * dist(a, spot) / ARENA;
        }
        cost
    }
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
/// plan with CEM over imagined futures and take the plan's first move. Falls back to staying
/// when the goal's object is not seen at all (the sentence says it is there, so a weak
/// reading is still used).
pub fn model_policy<'a>(
    task: &'a PushTask,
    reader: &'a Reader,
    dynamics: &'a DynamicsCpu,
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
    let mut previous: Option<Vec<u8>> = None;
    move |sim, _step| {
        let state = sim.state();
        let r = match sight {
            Sight::Reader => {
                let frame = renderer.draw_rgb(&task.scene, &state);
                let before = last.clone().unwrap_or_else(|| frame.clone());
                last = Some(frame.clone());
                read(reader, &[&before], &[&frame], device).remove(0)
            }
            Sight::Truth => truth_reading(&task.scene, &state, last_state.as_ref()),
        };
        last_state = Some(state);
        if r.presence[goal.0] < 0.05 {
            return 0;
        }
        let target = Target::of(&r, goal.0, goal.1, task.scene.view);
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
