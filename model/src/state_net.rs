//! The model's compact state and what it does with it: read the slots of a frame
//! ([`Reader`]), imagine how the agent and an object move under a sequence of moves
//! ([`Dynamics`]), and tell from a sentence which object and zone a goal is about
//! ([`GoalNet`]). Planning imagines thousands of futures in this state, where one step costs
//! a few tens of thousands of FLOPs instead of a frame pass's hundreds of millions; the frame
//! predictor draws what is imagined.
//!
//! Slots are laid out in [`layout::slots`].

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{gelu, sigmoid, softmax, softplus, tanh};
use burn::tensor::{Device, Int, Tensor, TensorData};

use layout::slots::{OBJECT_SLOTS, SLOTS, SLOT_CHANNELS};

use crate::frame_net::{unshuffle, upsample, Res, GRID};

// The sizes of the state and the contact arithmetic are the runtime's, so that training,
// evaluation and the page imagine with one definition.
pub use runtime::state::{
    contact_change, contact_gate, move_direction, wall_gaps, AGENT_DIM, CONTACT_BIAS, CONTACT_DIM, DYN_IN, DYN_OUT, GATE_AT,
    GATE_WIDTH, OBJECT_DIM, POS_SCALE,
};
/// The agent's radius, world units (the units of `rel` and of the object's size input).
const AGENT_REACH: f32 = world::scene::AGENT_RADIUS;

/// Reads the slots of a frame: a small two-level U-Net over the same inputs as the frame
/// predictor (current and previous frame, their difference, unshuffled to 32x32; a 16x16
/// level sees whole objects, which telling a ball from a box of the same colour needs), then
/// per slot a heat map whose softmax says where the slot's thing is, whose log-sum-exp says
/// whether it is there at all, and whose weights pool the per-cell estimates of its motion
/// (or extent) and size.
#[derive(Module, Debug)]
pub struct Reader {
    pub stem: Conv2d,
    pub r1: Res,
    pub down: Conv2d,
    pub r2: Res,
    pub up: Conv2d,
    pub r3: Res,
    pub head: Conv2d,
}

/// What [`Reader::forward`] gives, per frame and slot.
pub struct ReadOut {
    /// `[B, SLOTS]`: presence logit.
    pub presence: Tensor<2>,
    /// `[B, SLOTS, 2]`: `(u, v)`.
    pub pos: Tensor<3>,
    /// `[B, SLOTS, 2]`: displacement times `MOTION_SCALE` (objects, agent) or half extents
    /// times `POS_SCALE` (zones).
    pub ab: Tensor<3>,
    /// `[B, SLOTS]`: size times `POS_SCALE`.
    pub size: Tensor<2>,
}

/// `[1, 1, GRID * GRID]` cell centres, u then v.
fn grid(device: &Device) -> (Tensor<3>, Tensor<3>) {
    let n = GRID * GRID;
    let (mut us, mut vs) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for r in 0..GRID {
        for c in 0..GRID {
            us.push((c as f32 + 0.5) / GRID as f32);
            vs.push((r as f32 + 0.5) / GRID as f32);
        }
    }
    let t = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [1, 1, n]), device);
    (t(us), t(vs))
}

impl Reader {
    pub fn new(width: usize, device: &Device) -> Reader {
        Reader {
            stem: Conv2dConfig::new([36, width], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            r1: Res::new(width, device),
            down: Conv2dConfig::new([width, 2 * width], [3, 3])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            r2: Res::new(2 * width, device),
            up: Conv2dConfig::new([3 * width, width], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            r3: Res::new(width, device),
            head: Conv2dConfig::new([width, SLOTS * SLOT_CHANNELS], [1, 1]).init(device),
        }
    }

    /// `prev`, `cur`: `[B, 3, 64, 64]` in 0..1.
    pub fn forward(&self, prev: Tensor<4>, cur: Tensor<4>) -> ReadOut {
        let [b, _, _, _] = cur.dims();
        let n = GRID * GRID;
        let x = unshuffle(Tensor::cat(vec![cur.clone(), prev.clone(), cur - prev], 1));
        let h1 = self.r1.forward(gelu(self.stem.forward(x)));
        let h2 = self.r2.forward(gelu(self.down.forward(h1.clone())));
        let h = self.r3.forward(gelu(
            self.up.forward(Tensor::cat(vec![upsample(h2), h1], 1)),
        ));
        let maps = self.head.forward(h).reshape([b, SLOTS, SLOT_CHANNELS, n]);
        let heat = maps.clone().narrow(2, 0, 1).reshape([b, SLOTS, n]);
        let top = heat.clone().max_dim(2); // [B, S, 1]
        let presence = (top.clone()
            + (heat.clone() - top).exp().sum_dim(2).log()
            - (n as f32).ln())
        .reshape([b, SLOTS]);
        let w = softmax(heat, 2);
        let (us, vs) = grid(&w.device());
        let u = (w.clone() * us).sum_dim(2);
        let v = (w.clone() * vs).sum_dim(2);
        let pool = |ch: usize| {
            (maps.clone().narrow(2, ch, 1).reshape([b, SLOTS, n]) * w.clone()).sum_dim(2)
        };
        ReadOut {
            presence,
            pos: Tensor::cat(vec![u, v], 2),
            ab: Tensor::cat(vec![pool(1), pool(2)], 2),
            size: pool(3).reshape([b, SLOTS]),
        }
    }
}

/// One imagined step of the agent and one object: an MLP that adds to both displacements
/// (semi-implicit: the new displacement moves the position).
///
/// The object's change is gated by contact: the MLP's share is weighted by
/// [`contact_gate`] of the gap between the agent and the object, and away from the agent the
/// object only slows down (`free`, a linear map of its own motion, size and shape). Without
/// the gate the MLP learned that a resting object drifts toward an agent two units away, and
/// the planner waited for that drift instead of pushing.
#[derive(Module, Debug)]
pub struct Dynamics {
    pub l1: Linear,
    pub l2: Linear,
    pub l3: Linear,
    pub free: Linear,
}

impl Dynamics {
    pub fn new(hidden: usize, device: &Device) -> Dynamics {
        Dynamics {
            l1: LinearConfig::new(DYN_IN, hidden).init(device),
            l2: LinearConfig::new(hidden, hidden).init(device),
            l3: LinearConfig::new(hidden, DYN_OUT)
                .with_initializer(Initializer::Zeros)
                .init(device),
            free: LinearConfig::new(4, 2)
                .with_initializer(Initializer::Zeros)
                .init(device),
        }
    }

    /// `agent` `[B, AGENT_DIM]` (u, v, du, dv, the previous du, dv; displacements times
    /// `MOTION_SCALE`; the last move's direction), `object` `[B, OBJECT_DIM]` (the same plus size times `POS_SCALE` and
    /// the box flag), `side` `[B, 1]`, `moves` `[B, 9]` one-hot -> the next `agent` and
    /// `object`.
    pub fn step(
        &self,
        agent: Tensor<2>,
        object: Tensor<2>,
        side: Tensor<2>,
        moves: Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>) {
        let rel = (object.clone().narrow(1, 0, 2) - agent.clone().narrow(1, 0, 2)) * POS_SCALE;
        let dist = (rel.clone().powi_scalar(2).sum_dim(1) + 1e-6).sqrt();
        let normal = rel.clone() / dist.clone();
        let gap = dist - object.clone().narrow(1, 6, 1) - AGENT_REACH;
        let gate = sigmoid((gap.clone().neg() + GATE_AT) / GATE_WIDTH);
        let free = self.free.forward(Tensor::cat(
            vec![object.clone().narrow(1, 2, 2), object.clone().narrow(1, 6, 2)],
            1,
        ));
        let closing = ((agent.clone().narrow(1, 2, 2) - object.clone().narrow(1, 2, 2))
            * normal.clone())
        .sum_dim(1);
        // `wall_gaps`, batched: the agent's, then the object's (its radius in world units).
        let gaps = |u: Tensor<2>, v: Tensor<2>, r: Tensor<2>| {
            use world::scene::{ARENA, WALL};
            let inner = ARENA - 2.0 * WALL;
            let x = u * ARENA - r.clone() - WALL;
            let y = v * ARENA - r.clone() - WALL;
            let far = r.neg() * 2.0 + inner;
            vec![x.clone(), far.clone() - x, y.clone(), far - y]
        };
        let reach = |t: &Tensor<2>| t.clone().narrow(1, 0, 1).ones_like() * AGENT_REACH;
        let mut walls = gaps(agent.clone().narrow(1, 0, 1), agent.clone().narrow(1, 1, 1), reach(&agent));
        walls.extend(gaps(object.clone().narrow(1, 0, 1), object.clone().narrow(1, 1, 1), object.clone().narrow(1, 6, 1)));
        let mut parts = vec![agent.clone(), object.clone(), rel, gap, normal.clone(), closing];
        parts.extend(walls);
        parts.extend([side, moves.clone()]);
        let x = Tensor::cat(parts, 1);
        let d = self
            .l3
            .forward(gelu(self.l2.forward(gelu(self.l1.forward(x)))));
        let s = layout::slots::MOTION_SCALE;
        let ad = agent.clone().narrow(1, 2, 2) + d.clone().narrow(1, 0, 2);
        // `contact_change`, batched.
        let v = object.clone().narrow(1, 2, 2);
        let (nu, nv) = (normal.clone().narrow(1, 0, 1), normal.narrow(1, 1, 1));
        let (vu, vv) = (v.clone().narrow(1, 0, 1), v.clone().narrow(1, 1, 1));
        let vn = vu.clone() * nu.clone() + vv.clone() * nv.clone();
        let vt = vv * nu.clone() - vu * nv.clone();
        let p = softplus(d.clone().narrow(1, 2, 1) - CONTACT_BIAS, 1.0);
        let b = sigmoid(d.clone().narrow(1, 3, 1) - CONTACT_BIAS);
        let along = p.clone() - b.clone() * vn;
        let across = tanh(d.narrow(1, 4, 1)) * p - b * vt;
        let contact = Tensor::cat(
            vec![
                nu.clone() * along.clone() - nv.clone() * across.clone(),
                nv * along + nu * across,
            ],
            1,
        );
        let od = v + contact * gate.clone() + free * (gate.neg() + 1.0);
        let ap = agent.clone().narrow(1, 0, 2) + ad.clone() / s;
        let op = object.clone().narrow(1, 0, 2) + od.clone() / s;
        let dirs: Vec<f32> = (0..crate::frame_net::MOVES as u8).flat_map(move_direction).collect();
        let dirs = Tensor::from_data(TensorData::new(dirs, [crate::frame_net::MOVES, 2]), &moves.device());
        (
            Tensor::cat(vec![ap, ad, agent.narrow(1, 2, 2), moves.matmul(dirs)], 1),
            Tensor::cat(vec![op, od, object.clone().narrow(1, 2, 2), object.narrow(1, 6, 2)], 1),
        )
    }
}

/// Which object slot and which zone a goal sentence names: word embeddings, averaged, and
/// two linear read-outs.
#[derive(Module, Debug)]
pub struct GoalNet {
    pub words: Embedding,
    pub object: Linear,
    pub zone: Linear,
}

impl GoalNet {
    pub fn new(vocab: usize, d: usize, device: &Device) -> GoalNet {
        GoalNet {
            words: EmbeddingConfig::new(vocab, d).init(device),
            object: LinearConfig::new(d, OBJECT_SLOTS).init(device),
            zone: LinearConfig::new(d, 2).init(device),
        }
    }

    /// `words` `[B, L]` (padding 0, ignored) -> object logits `[B, 12]`, zone logits `[B, 2]`.
    pub fn forward(&self, words: Tensor<2, Int>) -> (Tensor<2>, Tensor<2>) {
        let [b, l] = words.dims();
        let mask = words.clone().not_equal_elem(0).float().reshape([b, l, 1]);
        let e = self.words.forward(words) * mask.clone();
        let [_, _, d] = e.dims();
        let pooled = e.sum_dim(1).reshape([b, d]) / mask.sum_dim(1).reshape([b, 1]).clamp_min(1.0);
        (self.object.forward(pooled.clone()), self.zone.forward(pooled))
    }
}
