//! The model's compact state on the CPU, and planning in it: read the slots of a frame
//! ([`Reader`]), imagine how the agent and an object move under a sequence of moves with an
//! ensemble of [`Dynamics`], tell from a sentence which object and zone a goal is about
//! ([`GoalNet`]), and choose moves with the cross-entropy method ([`plan`]). The forward
//! passes are `model::state_net`'s, on weights in the runtime's layout (a test runs both on the
//! same weights); slots are laid out in [`layout::slots`].

use layout::cem::{initial, shift_plan, CemConfig, K};
use layout::slots::{argmax, to_world, Slot, AGENT_SLOT, MOTION_SCALE, OBJECT_SLOTS, SLOTS, SLOT_CHANNELS};
use layout::weights::{read_tensors, LoadError, Weights};
use world::scene::{dist, View, AGENT_RADIUS, ARENA, WALL};
use world::task::{APPROACH_WEIGHT, LOST_DISTANCE, SUCCESS_BONUS};

use crate::cpu::{activate, cem_elites, cem_refit, cem_sample};
use crate::exec::Act;
use crate::frame_net::{res_block, stem_width, CpuMaps, MapOps, INPUT_CHANNELS, MOVES, SIDE};
use crate::maps::{conv1, frame_input, Map};
use crate::plan::{finish, PlanResult};
use crate::prompt::{prompt_specs, PromptNet};

/// The agent as the dynamics carries it: u, v, its displacement over the last frame (du, dv)
/// and over the frame before (times [`MOTION_SCALE`]), and the move that drove it over the last
/// frame as a target velocity over the top speed ([`move_direction`]): two places give its
/// mean speed over the frame, not its speed at the end of it, which its motor was still
/// changing toward that target.
pub const AGENT_DIM: usize = 8;
/// Where [`AGENT_DIM`]'s last move starts.
const LAST_MOVE: usize = 6;
/// The object: the agent's first six numbers, then its size (times [`POS_SCALE`]) and whether
/// it is a box.
pub const OBJECT_DIM: usize = 8;
/// Contact features of a step: the gap between the agent's and the object's bounding circles
/// (world units), the unit normal from the agent to the object and the closing speed.
pub const CONTACT_DIM: usize = 4;
/// The gaps (world units) between the agent's bounding circle and the arena's four walls,
/// then the object's ([`wall_gaps`]): where a wall stops what moves toward it.
pub const WALL_DIM: usize = 8;
/// Inputs of a [`Dynamics`] step: the agent, the object, the object seen from the agent, the
/// contact features, the wall gaps, the view (1 from the side) and the move (one-hot).
pub const DYN_IN: usize = AGENT_DIM + OBJECT_DIM + 2 + CONTACT_DIM + WALL_DIM + 1 + MOVES;

/// The gaps (world units) between a circle of radius `r` (world units) at `(u, v)` and the
/// inner faces of the arena's walls: left, right, top, bottom (`v` runs down the frame).
pub fn wall_gaps(u: f32, v: f32, r: f32) -> [f32; 4] {
    let inner = ARENA - 2.0 * WALL;
    let (x, y) = (u * ARENA - WALL - r, v * ARENA - WALL - r);
    [x, inner - 2.0 * r - x, y, inner - 2.0 * r - y]
}

/// Outputs: the change of the agent's displacement (2), then push, brake and slide of the
/// object's contact response ([`contact_change`]).
pub const DYN_OUT: usize = 5;
/// Offset of the push and brake outputs, so both start near zero with the last layer at zero.
pub const CONTACT_BIAS: f32 = 4.0;
/// Relative positions and sizes are multiplied by this before the network sees them.
pub const POS_SCALE: f32 = 10.0;
/// Gap (world units) at which the contact gate is one half.
pub const GATE_AT: f32 = 0.6;
/// How sharply the gate closes with the gap, world units.
pub const GATE_WIDTH: f32 = 0.1;
/// How far inside the zone's read edges, world units, an imagined object must be to count as
/// arrived (the reader places a zone's edges to within a pixel or so).
pub const ZONE_MARGIN: f32 = 0.3;

/// How much of the dynamics' contact response an object takes at this gap:
/// `sigmoid((GATE_AT - gap) / GATE_WIDTH)`.
pub fn contact_gate(gap: f32) -> f32 {
    1.0 / (1.0 + ((gap - GATE_AT) / GATE_WIDTH).exp())
}

/// The change of an object's displacement that contact with the agent makes, from the
/// dynamics' outputs `push, brake, slide`, the unit normal `n` from the agent to the object
/// and the object's displacement `v` (`vn`, `vt` its parts along and across `n`): along the
/// normal `p - b * vn`, across it `tanh(slide) * p - b * vt`, where `p = softplus(push -
/// CONTACT_BIAS)` and `b = sigmoid(brake - CONTACT_BIAS)`. The agent pushes an object away or
/// slows it down but never pulls it, and moves it sideways at most as much as it pushes (a
/// friction cone): where its data were thin, an unconstrained head imagined a heavy box
/// sliding toward an agent that only brushed past it, and the planner chose exactly those
/// moves.
pub fn contact_change(push: f32, brake: f32, slide: f32, n: [f32; 2], v: [f32; 2]) -> [f32; 2] {
    let softplus = |x: f32| x.max(0.0) + (-x.abs()).exp().ln_1p();
    let p = softplus(push - CONTACT_BIAS);
    let b = 1.0 / (1.0 + (CONTACT_BIAS - brake).exp());
    let (vn, vt) = (v[0] * n[0] + v[1] * n[1], v[1] * n[0] - v[0] * n[1]);
    let along = p - b * vn;
    let across = slide.tanh() * p - b * vt;
    [n[0] * along - n[1] * across, n[1] * along + n[0] * across]
}

/// A linear layer: `y = x W + b`, `W` `[inp, out]` row-major.
#[derive(Clone, Debug)]
pub struct Dense {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub inp: usize,
    pub out: usize,
}

impl Dense {
    pub(crate) fn of(w: &Weights, name: &str) -> Dense {
        let (shape, values) = &w.tensors[&format!("{name}.weight")];
        Dense {
            w: values.clone(),
            b: w.get(&format!("{name}.bias")).to_vec(),
            inp: shape[0],
            out: shape[1],
        }
    }

    pub fn apply(&self, x: &[f32], y: &mut [f32], act: Act) {
        y.copy_from_slice(&self.b);
        for (i, &xi) in x.iter().enumerate() {
            if xi == 0.0 {
                continue;
            }
            for (o, &w) in y.iter_mut().zip(&self.w[i * self.out..(i + 1) * self.out]) {
                *o += xi * w;
            }
        }
        if act != Act::None {
            for v in y.iter_mut() {
                *v = activate(*v, act);
            }
        }
    }
}

/// One imagined step of the agent and one object: an MLP adds to both displacements
/// (semi-implicit: the new displacement moves the position); the object takes the MLP's
/// contact response weighted by [`contact_gate`] and, away from the agent, only slows down
/// (`free`, a linear map of its own motion, size and shape).
#[derive(Clone, Debug)]
pub struct Dynamics {
    pub layers: [Dense; 3],
    pub free: Dense,
}

impl Dynamics {
    /// Member `k` of an ensemble stored under `dynamics.{k}.`.
    pub fn of(w: &Weights, prefix: &str) -> Dynamics {
        Dynamics {
            layers: ["l1", "l2", "l3"].map(|l| Dense::of(w, &format!("{prefix}.{l}"))),
            free: Dense::of(w, &format!("{prefix}.free")),
        }
    }

    /// One imagined step, in place (`model::state_net::Dynamics::step`'s arithmetic).
    pub fn step(&self, agent: &mut [f32; AGENT_DIM], object: &mut [f32; OBJECT_DIM], side: f32, mv: u8) {
        const REL: usize = AGENT_DIM + OBJECT_DIM;
        let mut x = [0f32; DYN_IN];
        x[..AGENT_DIM].copy_from_slice(agent);
        x[AGENT_DIM..REL].copy_from_slice(object);
        let rel = [(object[0] - agent[0]) * POS_SCALE, (object[1] - agent[1]) * POS_SCALE];
        let d = (rel[0] * rel[0] + rel[1] * rel[1] + 1e-6).sqrt();
        let normal = [rel[0] / d, rel[1] / d];
        x[REL..REL + 2].copy_from_slice(&rel);
        let gap = d - object[6] - AGENT_RADIUS;
        let gate = contact_gate(gap);
        let mut free = [0f32; 2];
        self.free.apply(&[object[2], object[3], object[6], object[7]], &mut free, Act::None);
        x[REL + 2] = gap;
        x[REL + 3..REL + 5].copy_from_slice(&normal);
        x[REL + 5] = (agent[2] - object[2]) * normal[0] + (agent[3] - object[3]) * normal[1];
        const WALLS: usize = REL + 2 + CONTACT_DIM;
        x[WALLS..WALLS + 4].copy_from_slice(&wall_gaps(agent[0], agent[1], AGENT_RADIUS));
        x[WALLS + 4..WALLS + 8].copy_from_slice(&wall_gaps(object[0], object[1], object[6]));
        x[WALLS + WALL_DIM] = side;
        x[WALLS + WALL_DIM + 1 + (mv as usize).min(MOVES - 1)] = 1.0;
        let h = self.layers[0].out;
        let (mut h1, mut h2, mut out) = (vec![0f32; h], vec![0f32; h], [0f32; DYN_OUT]);
        self.layers[0].apply(&x, &mut h1, Act::Gelu);
        self.layers[1].apply(&h1, &mut h2, Act::Gelu);
        self.layers[2].apply(&h2, &mut out, Act::None);
        agent[4] = agent[2];
        agent[5] = agent[3];
        agent[LAST_MOVE..].copy_from_slice(&move_direction(mv));
        object[4] = object[2];
        object[5] = object[3];
        agent[2] += out[0];
        agent[3] += out[1];
        let contact = contact_change(out[2], out[3], out[4], normal, [object[4], object[5]]);
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

/// The reader's convolutions, from its input map ([`frame_input`]) to the last block's map at
/// 32 x 32: one block at 32 x 32, one at 16 x 16, up again with the 32 x 32 map joined in, one
/// more block. On any [`MapOps`]: the CPU path and the GPU ([`crate::state_gpu::ReaderGpu`]).
pub fn reader_body<E: MapOps>(e: &mut E, x: &E::M) -> E::M {
    let h = e.conv("reader.stem", x, 1, Act::Gelu, None);
    let h1 = res_block(e, "reader.r1", &h);
    let h = e.conv("reader.down", &h1, 2, Act::Gelu, None);
    let h2 = res_block(e, "reader.r2", &h);
    let u = e.up_concat(&h2, &h1);
    let up = e.conv("reader.up", &u, 1, Act::Gelu, None);
    res_block(e, "reader.r3", &up)
}

/// The reader's outputs from [`reader_body`]'s map `h`: its 1 x 1 head gives each slot a
/// location logit and three numbers per cell; each slot's place and numbers are their means
/// under the softmax of its logits over the cells, and its presence logit the log of the
/// logits' mean exponential.
pub fn read_out_of(h: &Map, w: &Weights) -> ReadOut {
    let maps = conv1(h, w.get("reader.head.weight"), w.get("reader.head.bias"));
    let (n, g) = (maps.pixels(), maps.side);
    let mut out = ReadOut {
        presence: vec![0.0; SLOTS],
        pos: vec![0.0; 2 * SLOTS],
        ab: vec![0.0; 2 * SLOTS],
        size: vec![0.0; SLOTS],
    };
    let cols = SLOTS * SLOT_CHANNELS;
    for s in 0..SLOTS {
        let at = |p: usize, ch: usize| maps.data[p * cols + s * SLOT_CHANNELS + ch];
        let top = (0..n).map(|p| at(p, 0)).fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = (0..n).map(|p| (at(p, 0) - top).exp()).collect();
        let z: f32 = e.iter().sum();
        out.presence[s] = top + z.ln() - (n as f32).ln();
        let mut acc = [0f32; 5];
        for (p, &ep) in e.iter().enumerate() {
            let wgt = ep / z;
            acc[0] += wgt * ((p % g) as f32 + 0.5) / g as f32;
            acc[1] += wgt * ((p / g) as f32 + 0.5) / g as f32;
            acc[2] += wgt * at(p, 1);
            acc[3] += wgt * at(p, 2);
            acc[4] += wgt * at(p, 3);
        }
        out.pos[2 * s] = acc[0];
        out.pos[2 * s + 1] = acc[1];
        out.ab[2 * s] = acc[2];
        out.ab[2 * s + 1] = acc[3];
        out.size[s] = acc[4];
    }
    out
}

/// Slots read off a frame; `presence` is a probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub slots: [Slot; SLOTS],
    pub presence: [f32; SLOTS],
}

/// The reader's per-slot outputs before any post-processing, as `model::state_net::ReadOut`:
/// presence logits `[SLOTS]`, places `[SLOTS, 2]`, `ab` `[SLOTS, 2]` (scaled) and sizes
/// `[SLOTS]` (scaled).
#[derive(Clone, Debug, PartialEq)]
pub struct ReadOut {
    pub presence: Vec<f32>,
    pub pos: Vec<f32>,
    pub ab: Vec<f32>,
    pub size: Vec<f32>,
}

impl ReadOut {
    /// The [`Reading`]: presence as a probability, `ab` and size unscaled.
    pub fn reading(&self) -> Reading {
        let mut r = Reading {
            slots: [Slot::default(); SLOTS],
            presence: [0.0; SLOTS],
        };
        for s in 0..SLOTS {
            let prob = 1.0 / (1.0 + (-self.presence[s]).exp());
            let k = if s > AGENT_SLOT { POS_SCALE } else { MOTION_SCALE };
            r.presence[s] = prob;
            r.slots[s] = Slot {
                present: prob > 0.5,
                pos: [self.pos[2 * s], self.pos[2 * s + 1]],
                ab: [self.ab[2 * s] / k, self.ab[2 * s + 1] / k],
                size: self.size[s] / POS_SCALE,
            };
        }
        r
    }
}

/// The move `mv` as the dynamics reads it: its target velocity over the agent's top speed
/// (`world::action::Action::from_discrete`; stay is zero). Moves past the last are the last.
pub fn move_direction(mv: u8) -> [f32; 2] {
    let a = world::action::Action::from_discrete((mv as usize).min(MOVES - 1) as u8);
    [a.x, a.y]
}

/// A slot's place and its displacements over the last frame and the frame before, as
/// [`Dynamics`] reads them.
fn dyn_motion(a: &Slot, before: [f32; 2]) -> [f32; 6] {
    let m = MOTION_SCALE;
    [a.pos[0], a.pos[1], a.ab[0] * m, a.ab[1] * m, before[0] * m, before[1] * m]
}

/// The agent as [`Dynamics`] reads it: its slot, its displacement over the frame before and
/// the move `last` that led to the frame it was read from (see [`AGENT_DIM`]).
pub fn dyn_agent(a: &Slot, before: [f32; 2], last: u8) -> [f32; AGENT_DIM] {
    let [a0, a1, a2, a3, a4, a5] = dyn_motion(a, before);
    let [l0, l1] = move_direction(last);
    [a0, a1, a2, a3, a4, a5, l0, l1]
}

/// Object slot `s` as [`Dynamics`] reads it (see [`OBJECT_DIM`]).
pub fn dyn_object(o: &Slot, before: [f32; 2], s: usize) -> [f32; OBJECT_DIM] {
    let [a0, a1, a2, a3, a4, a5] = dyn_motion(o, before);
    let boxed = f32::from(u8::from(s % 2 == 1));
    [a0, a1, a2, a3, a4, a5, o.size * POS_SCALE, boxed]
}

/// Replaces the motion read for the agent and every object by the change of its read place
/// since `before` (none: no motion yet). The reader's own motion read-out is noisy (it read a
/// resting object as drifting 0.36 px a frame, and twelve imagined moves of that carried it
/// into its zone, so the plan was to wait); two readings of a resting object agree exactly.
pub fn track_motion(r: &mut Reading, before: Option<&Reading>) {
    for s in 0..=AGENT_SLOT {
        r.slots[s].ab = before.map_or([0.0; 2], |b| {
            [r.slots[s].pos[0] - b.slots[s].pos[0], r.slots[s].pos[1] - b.slots[s].pos[1]]
        });
    }
}

/// How many numbers [`Target::values`] gives the GPU planner.
pub const TARGET_VALUES: usize = AGENT_DIM + OBJECT_DIM + 6;

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
    /// The target from the live reading `r`, the one before it (`before`; none at the start,
    /// when nothing has moved yet) and the move that led to `r`'s frame (`last`; stay at the
    /// start).
    pub fn of(r: &Reading, before: Option<&Reading>, last: u8, object: usize, zone: usize, view: View) -> Target {
        let z = r.slots[zone];
        let was = |s: usize| before.map_or([0.0; 2], |b| b.slots[s].ab);
        Target {
            agent: dyn_agent(&r.slots[AGENT_SLOT], was(AGENT_SLOT), last),
            object: dyn_object(&r.slots[object], was(object), object),
            zone_centre: to_world(z.pos),
            zone_half: [
                (z.ab[0] * ARENA - ZONE_MARGIN).max(0.0),
                (z.ab[1] * ARENA - ZONE_MARGIN).max(0.0),
            ],
            side: f32::from(u8::from(view == View::Side)),
        }
    }

    /// How far from the object's centre the agent pushes it from, world units.
    fn reach(&self) -> f32 {
        self.object[6] / POS_SCALE * ARENA + AGENT_RADIUS
    }

    /// The target as `state_rollout.wgsl` reads it: agent, object, zone centre and half
    /// extents, side, reach.
    pub fn values(&self) -> [f32; TARGET_VALUES] {
        let mut v = [0f32; TARGET_VALUES];
        v[..AGENT_DIM].copy_from_slice(&self.agent);
        v[AGENT_DIM..AGENT_DIM + OBJECT_DIM].copy_from_slice(&self.object);
        let rest = AGENT_DIM + OBJECT_DIM;
        v[rest..rest + 2].copy_from_slice(&self.zone_centre);
        v[rest + 2..rest + 4].copy_from_slice(&self.zone_half);
        v[rest + 4] = self.side;
        v[rest + 5] = self.reach();
        v
    }

    /// The imagined cost of `moves`, averaged over the members of an ensemble: a plan scores
    /// well only where they all agree it does, so the planner cannot pick the moves on which
    /// one member happens to be wrong in its favour.
    pub fn cost(&self, ensemble: &[Dynamics], moves: &[u8]) -> f32 {
        let n = ensemble.len().max(1) as f32;
        ensemble.iter().map(|d| self.cost_one(d, moves)).sum::<f32>() / n
    }

    /// [`Target::cost`] of each of `n` candidates whose moves are step-major in `actions`
    /// (`[horizon * n]`, as the planner samples them).
    pub fn costs(&self, ensemble: &[Dynamics], actions: &[u32], n: usize, horizon: usize) -> Vec<f32> {
        assert_eq!(actions.len(), n * horizon, "costs: {} moves for {n} x {horizon}", actions.len());
        let mut seq = vec![0u8; horizon];
        (0..n)
            .map(|i| {
                for (t, s) in seq.iter_mut().enumerate() {
                    *s = actions[t * n + i].min(K as u32 - 1) as u8;
                }
                self.cost(ensemble, &seq)
            })
            .collect()
    }

    /// The imagined cost of `moves` under one dynamics: per step the object's distance to the
    /// zone's centre plus the agent's distance to the spot behind the object (over the arena
    /// side, weighted as the task weighs them); reaching the zone stops the sum and earns the
    /// task's bonus.
    pub fn cost_one(&self, dynamics: &Dynamics, moves: &[u8]) -> f32 {
        let (mut agent, mut object) = (self.agent, self.object);
        let reach = self.reach();
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

/// Which object slot and zone a goal sentence names: word embeddings averaged over the words
/// (padding 0 ignored), two linear read-outs.
#[derive(Clone, Debug)]
pub struct GoalNet {
    pub words: Vec<f32>,
    pub d: usize,
    pub object: Dense,
    pub zone: Dense,
}

impl GoalNet {
    /// `(object slot, zone slot)`.
    pub fn read(&self, words: &[u16]) -> (usize, usize) {
        let mut pooled = vec![0f32; self.d];
        let mut n = 0usize;
        for &w in words.iter().filter(|&&w| w != 0) {
            let row = (w as usize) * self.d;
            if row + self.d <= self.words.len() {
                for (p, &e) in pooled.iter_mut().zip(&self.words[row..row + self.d]) {
                    *p += e;
                }
            }
            n += 1;
        }
        for p in pooled.iter_mut() {
            *p /= n.max(1) as f32;
        }
        let (mut o, mut z) = (vec![0f32; OBJECT_SLOTS], vec![0f32; 2]);
        self.object.apply(&pooled, &mut o, Act::None);
        self.zone.apply(&pooled, &mut z, Act::None);
        (argmax(&o), OBJECT_SLOTS + 1 + argmax(&z))
    }
}

/// The reader, the dynamics ensemble, the goal net and, where the file has one, the sentence
/// reader that makes a first frame from words ([`PromptNet`]), checked.
#[derive(Clone, Debug)]
pub struct StateNets {
    pub reader_width: usize,
    pub weights: Weights,
    pub ensemble: Vec<Dynamics>,
    pub goal: GoalNet,
    pub prompt: Option<PromptNet>,
}

/// Every tensor of the state nets: reader of this width, `members` dynamics of this hidden
/// width, goal net with `vocab` words of width `d` (runtime layout).
pub fn state_specs(reader: usize, members: usize, hidden: usize, vocab: usize, d: usize) -> Vec<(String, Vec<usize>)> {
    let mut s: Vec<(String, Vec<usize>)> = Vec::new();
    let mut conv3 = |name: &str, cin: usize, cout: usize| {
        s.push((format!("reader.{name}.weight"), vec![9 * cin, cout]));
        s.push((format!("reader.{name}.bias"), vec![cout]));
    };
    conv3("stem", INPUT_CHANNELS, reader);
    conv3("down", reader, 2 * reader);
    conv3("up", 3 * reader, reader);
    for (name, c) in [("r1", reader), ("r2", 2 * reader), ("r3", reader)] {
        conv3(&format!("{name}.c1"), c, c);
        conv3(&format!("{name}.c2"), c, c);
    }
    for (name, c) in [("r1", reader), ("r2", 2 * reader), ("r3", reader)] {
        s.push((format!("reader.{name}.norm.gamma"), vec![c]));
        s.push((format!("reader.{name}.norm.beta"), vec![c]));
    }
    s.push(("reader.head.weight".into(), vec![reader, SLOTS * SLOT_CHANNELS]));
    s.push(("reader.head.bias".into(), vec![SLOTS * SLOT_CHANNELS]));
    let mut dense = |name: String, i: usize, o: usize| {
        s.push((format!("{name}.weight"), vec![i, o]));
        s.push((format!("{name}.bias"), vec![o]));
    };
    for k in 0..members {
        dense(format!("dynamics.{k}.l1"), DYN_IN, hidden);
        dense(format!("dynamics.{k}.l2"), hidden, hidden);
        dense(format!("dynamics.{k}.l3"), hidden, DYN_OUT);
        dense(format!("dynamics.{k}.free"), 4, 2);
    }
    dense("goal.object".into(), d, OBJECT_SLOTS);
    dense("goal.zone".into(), d, 2);
    s.push(("goal.words.weight".into(), vec![vocab, d]));
    s
}

impl StateNets {
    /// Reads and checks a safetensors file (`file` names it in errors). The reader's width,
    /// the ensemble's size and hidden width and the goal net's sizes are read off the file.
    pub fn from_safetensors(bytes: &[u8], file: &str) -> Result<StateNets, LoadError> {
        let reader = stem_width(bytes, file, "reader.stem.bias")?;
        let hidden = stem_width(bytes, file, "dynamics.0.l1.bias")?;
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| LoadError::Safetensors {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
        let members = (0..).take_while(|k| st.tensor(&format!("dynamics.{k}.l1.bias")).is_ok()).count();
        let words = st
            .tensor("goal.words.weight")
            .map_err(|_| LoadError::Missing { name: "goal.words.weight".into() })?
            .shape()
            .to_vec();
        if words.len() != 2 {
            return Err(LoadError::Shape {
                name: "goal.words.weight".into(),
                found: words,
                expected: vec![0, 0],
            });
        }
        if reader == 0 || reader % crate::frame_net::NORM_GROUPS != 0 {
            return Err(LoadError::Config(format!(
                "{file}: reader width {reader} is not a positive multiple of {}",
                crate::frame_net::NORM_GROUPS
            )));
        }
        let mut specs = state_specs(reader, members, hidden, words[0], words[1]);
        // The sentence reader is optional; its width is its word table's.
        let prompt_width = st.tensor("prompt.words.weight").ok().map(|t| t.shape().to_vec());
        if let Some(shape) = &prompt_width {
            specs.extend(prompt_specs(words[0], shape.get(1).copied().unwrap_or(0)));
        }
        let weights = read_tensors(bytes, file, &specs)?;
        let ensemble = (0..members).map(|k| Dynamics::of(&weights, &format!("dynamics.{k}"))).collect();
        let goal = GoalNet {
            words: weights.get("goal.words.weight").to_vec(),
            d: words[1],
            object: Dense::of(&weights, "goal.object"),
            zone: Dense::of(&weights, "goal.zone"),
        };
        let prompt = prompt_width.map(|shape| PromptNet::of(&weights, shape[1]));
        Ok(StateNets {
            reader_width: reader,
            weights,
            ensemble,
            goal,
            prompt,
        })
    }

    /// The reader's raw outputs for frame `cur` after `prev` (each `SIDE * SIDE * 3` bytes).
    pub fn read_out(&self, prev: &[u8], cur: &[u8]) -> ReadOut {
        let x = frame_input(prev, cur, SIDE);
        read_out_of(&reader_body(&mut CpuMaps(&self.weights), &x), &self.weights)
    }

    /// The slots of frame `cur` after `prev`.
    pub fn read(&self, prev: &[u8], cur: &[u8]) -> Reading {
        self.read_out(prev, cur).reading()
    }
}

/// A finished plan in the model's state, with what it was planned from.
#[derive(Clone, Debug)]
pub struct StatePlan {
    pub result: PlanResult,
    /// The imagined track of the best plan under the ensemble's first member: per step the
    /// agent's and the object's places, normalised frame coordinates.
    pub track: Vec<([f32; 2], [f32; 2])>,
}

/// Plans toward `target` with CEM: each iteration samples `population` sequences from the
/// per-step distribution (draws by [`crate::rng`], as the GPU planner's), scores each by the
/// ensemble's mean imagined cost, keeps the elites and refits (`layout::cem`). `warm` (the
/// previous plan) shifts by one step and tilts the first distribution toward it.
pub fn plan(ensemble: &[Dynamics], target: &Target, cfg: &CemConfig, warm: &[u8], seed: u32) -> StatePlan {
    if let Err(err) = cfg.validate() {
        panic!("plan: {err}");
    }
    let (n, h) = (cfg.population, cfg.horizon);
    let mut probs: Vec<f32> = initial(cfg, &shift_plan(warm, h))
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    let mut read = Vec::with_capacity(cfg.iterations);
    for it in 0..cfg.iterations {
        let actions = cem_sample(&probs, n, seed, it as u32); // step-major [H * n]
        let cost = target.costs(ensemble, &actions, n, h);
        let (elites, costs) = cem_elites(&cost, &actions, h, cfg.elites);
        probs = cem_refit(&probs, &elites, cfg.elites, cfg);
        read.push((elites, costs));
    }
    StatePlan::of(finish(cfg, read), ensemble, target)
}

impl StatePlan {
    /// The plan `result` with the imagined track of its moves under the ensemble's first member.
    pub fn of(result: PlanResult, ensemble: &[Dynamics], target: &Target) -> StatePlan {
        let mut track = Vec::with_capacity(result.actions.len());
        if let Some(first) = ensemble.first() {
            let (mut a, mut o) = (target.agent, target.object);
            for &m in &result.actions {
                first.step(&mut a, &mut o, target.side, m);
                track.push(([a[0], a[1]], [o[0], o[1]]));
            }
        }
        StatePlan { result, track }
    }
}
