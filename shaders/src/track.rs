//! Where a dream's objects go, imagined in the model's state: the reader reads the slots of
//! the frames a dream starts from, and the planner's dynamics ensemble carries the agent and
//! every object through the dream's moves. [`crate::frame_net::Compose::Track`] draws an object
//! the frame predictor has let fade out at the place imagined here (the frame predictor alone
//! knows little of where pushed objects go: its most likely place 16 steps ahead is barely
//! better than leaving them where they were, while the dynamics, trained on object tracks, is
//! much closer).

use layout::slots::{AGENT_SLOT, OBJECT_SLOTS};
use world::render::palette_index;

use crate::frame_net::{AGENT_CLASS, SIDE};
use crate::state::{dyn_agent, dyn_object, track_motion, Reading, StateNets, AGENT_DIM, OBJECT_DIM};

/// First palette class of the six object colours (`world::render::PALETTE[6 + i]` is
/// `Colour::ALL[i]`); object slot `2 i` is colour `i`'s ball, `2 i + 1` its box.
const FIRST_OBJECT_CLASS: usize = 6;
/// Share of a frame's pixels of the sky colour above which it is the side view.
const SIDE_VIEW_SKY: f32 = 0.05;
/// The sky's palette class (`world::render::PALETTE[1]`).
const SKY_CLASS: u8 = 1;

/// The view a frame shows, as the dynamics reads it: 1 from the side (more than
/// [`SIDE_VIEW_SKY`] of its pixels are sky), 0 from above.
pub fn side_view(frame: &[u8]) -> f32 {
    let sky = frame.chunks_exact(3).filter(|p| palette_index([p[0], p[1], p[2]]) == SKY_CLASS).count();
    f32::from(u8::from(sky as f32 > SIDE_VIEW_SKY * (SIDE * SIDE) as f32))
}

/// The agent and the objects of a dream, one copy per member of the dynamics ensemble.
#[derive(Clone, Debug)]
pub struct Tracker {
    agents: Vec<[f32; AGENT_DIM]>,
    /// Where the agent was read at the start.
    agent_start: [f32; 2],
    /// Per tracked object: its palette class, where it was read at the start and its state
    /// under each member.
    objects: Vec<(u8, [f32; 2], Vec<[f32; OBJECT_DIM]>)>,
    side: f32,
    /// Moves imagined since the start.
    moves: usize,
}

impl Tracker {
    /// Reads the dream's two context frames (t-1, t; `last` the move that led to t). An object
    /// is tracked when exactly one slot of its colour is read present; its motion is the
    /// change of its read place between the two frames (as the planner takes it), and so is
    /// the motion before that.
    pub fn new(nets: &StateNets, context: [&[u8]; 2], last: u8) -> Tracker {
        let before = nets.read(context[0], context[0]);
        let mut now = nets.read(context[0], context[1]);
        track_motion(&mut now, Some(&before));
        Tracker::from_reading(nets, &now, None, last, context[1])
    }

    /// The tracker from the slots of the dream's last context frame (`now`, its motions the
    /// changes of place since the frame before, `last` the move that led to it) and, when
    /// known, the motions of the frame before (`was`; else taken as `now`'s), that frame
    /// itself telling the view.
    pub fn from_reading(nets: &StateNets, now: &Reading, was: Option<&Reading>, last: u8, frame: &[u8]) -> Tracker {
        let members = nets.ensemble.len().max(1);
        let before = |s: usize| was.map_or(now.slots[s].ab, |w| w.slots[s].ab);
        let a = &now.slots[AGENT_SLOT];
        let agents = vec![dyn_agent(a, before(AGENT_SLOT), last); members];
        let mut objects = Vec::new();
        for colour in 0..OBJECT_SLOTS / 2 {
            let present: Vec<usize> = [2 * colour, 2 * colour + 1].into_iter().filter(|&s| now.slots[s].present).collect();
            if let [s] = present[..] {
                let o = &now.slots[s];
                objects.push(((FIRST_OBJECT_CLASS + colour) as u8, o.pos, vec![dyn_object(o, before(s), s); members]));
            }
        }
        Tracker { agents, agent_start: a.pos, objects, side: side_view(frame), moves: 0 }
    }


    /// One move: each member steps every object with the agent as it was, and the agent with
    /// the object nearest to it (the one it may be touching).
    pub fn step(&mut self, nets: &StateNets, mv: u8) {
        self.moves += 1;
        for (k, dynamics) in nets.ensemble.iter().enumerate() {
            let agent = self.agents[k];
            let mut nearest = (f32::INFINITY, None);
            for (_, _, states) in self.objects.iter_mut() {
                let o = &mut states[k];
                let d = (o[0] - agent[0]).powi(2) + (o[1] - agent[1]).powi(2);
                let mut a = agent;
                dynamics.step(&mut a, o, self.side, mv);
                if d < nearest.0 {
                    nearest = (d, Some(a));
                }
            }
            self.agents[k] = match nearest.1 {
                Some(a) => a,
                None => {
                    // No object in view: the agent with a stand-in at rest in the arena's far
                    // corner, where the dynamics has seen objects (the walls are inputs too).
                    let mut a = agent;
                    let corner = |c: f32| if c < 0.5 { 0.85 } else { 0.15 };
                    let mut far = [corner(agent[0]), corner(agent[1]), 0.0, 0.0, 0.0, 0.0, 0.5, 0.0];
                    dynamics.step(&mut a, &mut far, self.side, mv);
                    a
                }
            };
        }
    }

    /// Moves imagined since the start.
    pub fn moves(&self) -> usize {
        self.moves
    }

    /// How far, in pixels, the object of palette class `class` (or the agent,
    /// [`AGENT_CLASS`]) has moved since the start, by the ensemble's mean; `None` when it is
    /// not tracked.
    pub fn moved(&self, class: u8) -> Option<[f32; 2]> {
        let each = self.moved_by_member(class)?;
        let n = each.len() as f32;
        let mean = |i: usize| each.iter().map(|d| d[i]).sum::<f32>() / n;
        Some([mean(0), mean(1)])
    }

    /// [`Tracker::moved`] under each member of the ensemble: where they disagree is how unsure
    /// the state is (the Explain demo draws one dot per member).
    pub fn moved_by_member(&self, class: u8) -> Option<Vec<[f32; 2]>> {
        // Each member's place (u, v): the first two numbers of its state.
        let (start, places): (_, Vec<&[f32]>) = if class == AGENT_CLASS {
            (self.agent_start, self.agents.iter().map(|a| &a[..2]).collect())
        } else {
            let (_, start, states) = self.objects.iter().find(|o| o.0 == class)?;
            (*start, states.iter().map(|s| &s[..2]).collect())
        };
        Some(places.iter().map(|p| [(p[0] - start[0]) * SIDE as f32, (p[1] - start[1]) * SIDE as f32]).collect())
    }
}
