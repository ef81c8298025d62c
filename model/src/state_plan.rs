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
use crate::state_net::{
    contact_change, contact_gate, Dynamics, GoalNet, Reader, AGENT_DIM, DYN_IN, DYN_OUT, OBJECT_DIM,
    POS_SCALE,
};

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
    pub free: Dense,
}

impl DynamicsCpu {
    pub fn of(d: &Dynamics) -> DynamicsCpu {
        DynamicsCpu {
            layers: [Dense::of(&d.l1), Dense::of(&d.l2), Dense::of(&d.l3)],
            free: Dense::of(&d.free),
        }
    }

    /// One imagined step, in place (the same arithmetic as [`Dynamics::step`]).
    pub fn step(&self, agent: &mut [f32; AGENT_DIM], object: &mut [f32; OBJECT_DIM], side: f32, mv: u8) {
        const REL: usize = AGENT_DIM + OBJECT_DIM;
        let mut x = [0f32; DYN_IN];
        x[..AGENT_DIM].copy_from_slice(agent);
        x[AGENT_DIM..REL].copy_from_slice(object);
        let rel = [(object[0] - agent[0]) * POS_SCALE, (object[1] - agent[1]) * POS_SCALE];
        let dist = (rel[0] * rel[0] + rel[1] * rel[1] + 1e-6).sqrt();
        let normal = [rel[0] / dist, rel[1] / dist];
        x[REL..REL + 2].copy_from_slice(&rel);
        let gap = dist - object[6] - world::scene::AGENT_RADIUS;
        let gate = contact_gate(gap);
        let mut free = [0f32; 2];
        self.free.apply(&[object[2], object[3], object[6], object[7]], &mut free, false);
        x[REL + 2] = gap;
        x[REL + 3..REL + 5].copy_from_slice(&normal);
        x[REL + 5] = (agent[2] - object[2]) * normal[0] + (agent[3] - object[3]) * normal[1];
        x[REL + 6] = side;
        x[REL + 7 + (mv as usize).min(MOVES - 1)] = 1.0;
        let h = self.layers[0].out;
        let (mut h1, mut h2, mut d) = (vec![0f32; h], vec![0f32; h], [0f32; DYN_OUT]);
        self.layers[0].apply(&x, &mut h1, true);
        self.layers[1].apply(&h1, &mut h2, true);
        self.layers[2].apply(&h2, &mut d, false);
        agent[4] = agent[2];
        agent[5] = agent[3];
        object[4] = object[2];
        object[5] = object[3];
        agent[2] += d[0];
        agent[3] += d[1];
        let contact = contact_change(d[2], d[3], d[4], normal, [object[4], object[5]]);
        object[2] += contact[0] * gate + free[0] * (1.0 - gate);
        object[3] += contact[1] * gate + free[1] * (1.0 - gate);
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

/// The agent as [`Dynamics`] reads it: its slot and its displacement over the frame before.
pub fn dyn_agent(a: &Slot, before: [f32; 2]) -> [f32; AGENT_DIM] {
    let m = MOTION_SCALE;
    [a.pos[0], a.pos[1], a.ab[0] * m, a.ab[1] * m, before[0] * m, before[1] * m]
}

/// Object slot `s` as [`Dynamics`] reads it (see [`crate::state_net::OBJECT_DIM`]).
pub fn dyn_object(o: &Slot, before: [f32; 2], s: usize) -> [f32; OBJECT_DIM] {
    let [a0, a1, a2, a3, a4, a5] = dyn_agent(o, before);
    let boxed = f32::from(u8::from(s % 2 == 1));
    [a0, a1, a2, a3, a4, a5, o.size * POS_SCALE, boxed]
}

/// How far inside the zone's read edges, world units (0.3 is about 2 pixels), an imagined
/// object must be to count as arrived. The reader places a zone's edges to within a pixel
/// or so; without the margin an object resting just outside its zone was read as inside, and
/// every plan looked like a success, so none moved it.
pub const ZONE_MARGIN: f32 = 0.3;

/// What a plan is scored against: the object's and the zone's slots as read.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub agent: [f32; AGENT_DIM],
    pub object: [f32; OBJECT_DIM],
    /// Zone centre and half extents, world units.
    pub zone_centre: [f32; 2],
    pub zone_half: [f32; 2],
    pub side: f32,
}

impl Target {
    /// The target from the live reading `r` and the one before it (`before`; none at the
    /// start, when nothing has moved yet).
    pub fn of(r: &Reading, before: Option<&Reading>, object: usize, zone: usize, view: View) -> Target {
        let z = r.slots[zone];
        let was = |s: usize| before.map_or([0.0; 2], |b| b.slots[s].ab);
        Target {
            agent: dyn_agent(&r.slots[AGENT_SLOT], was(AGENT_SLOT)),
            object: dyn_object(&r.slots[object], was(object), object),
            zone_centre: to_world(z.pos),
            zone_half: [
                (z.ab[0] * ARENA - ZONE_MARGIN).max(0.0),
                (z.ab[1] * ARENA - ZONE_MARGIN).max(0.0),
            ],
            side: f32::from(u8::from(view == View::Side)),
        }
    }

    /// The imagined cost of `moves`, averaged over the members of an ensemble of dynamics: a
    /// plan scores well only where they all agree it does, so the planner cannot pick the moves
    /// on which one member happens to be wrong in its favour.
    pub fn cost(&self, ensemble: &[DynamicsCpu], moves: &[u8]) -> f32 {
        let n = ensemble.len().max(1) as f32;
        ensemble.iter().map(|d| self.cost_one(d, moves)).sum::<f32>() / n
    }

    /// The imagined cost of `moves` under one dynamics: per step the object's distance to the
    /// zone's centre plus the agent's distance to the spot behind the object (over the arena
    /// side, weighted as the task weighs them); reaching the zone stops the sum and earns the
    /// task's bonus.
    pub fn cost_one(&self, dynamics: &DynamicsCpu, moves: &[u8]) -> f32 {
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

/// Replaces the motion the reader read for the agent and every object by the change of its
/// read place since `before` (none: no motion yet). The reader's own motion read-out is
/// noisy: it read a resting object as drifting 0.36 px a frame, and over 12 imagined moves
/// that drift carried the object into its zone, so the plan was to wait. Two readings of a
/// resting object in an unchanged frame agree exactly, and the reader's place error is mostly
/// a steady offset that the difference cancels.
pub fn track_motion(r: &mut Reading, before: Option<&Reading>) {
    for s in 0..=AGENT_SLOT {
        r.slots[s].ab = before.map_or([0.0; 2], |b| {
            [r.slots[s].pos[0] - b.slots[s].pos[0], r.slots[s].pos[1] - b.slots[s].pos[1]]
        });
    }
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
        let target = Target::of(&r, last_reading.as_ref(), goal.0, goal.1, task.scene.view);
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
