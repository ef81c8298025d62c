//! The compact state the model reads off a frame and plans in: one slot per kind of thing the
//! world can show. Object slots are keyed by colour and shape (what a sentence names), then
//! the agent, then the two zones.
//!
//! Coordinates are the frame's, normalised: `u` runs left to right and `v` top to bottom, both
//! 0 to 1 across the arena (a world point `(x, y)`, y up, is `(x / ARENA, 1 - y / ARENA)`).
//! A slot carries where its thing is, a pair of numbers `ab` and a size:
//! - objects and the agent: `ab` is the displacement since the previous frame (normalised
//!   units per frame), `size` the bounding radius over the arena side;
//! - zones: `ab` is the rectangle's half width and half height, `size` 0.
//!
//! The simulator's state only supplies these as training labels; the model reads them from
//! pixels.

use world::scene::{Colour, Scene, Shape, ZoneColour, AGENT_RADIUS, ARENA};
use world::sim::WorldState;

/// Object slots: six colours times two shapes.
pub const OBJECT_SLOTS: usize = 12;
/// The agent's slot.
pub const AGENT_SLOT: usize = OBJECT_SLOTS;
/// The first zone slot (green, then pink).
pub const FIRST_ZONE_SLOT: usize = OBJECT_SLOTS + 1;
/// All slots.
pub const SLOTS: usize = OBJECT_SLOTS + 1 + 2;
/// Numbers the reader writes per slot and grid cell: a presence/location logit, `a`, `b`,
/// size.
pub const SLOT_CHANNELS: usize = 4;
/// Displacements are multiplied by this before a network sees them (an agent at full speed
/// moves about 0.06 of the arena a frame).
pub const MOTION_SCALE: f32 = 10.0;

/// The slot of an object of this colour and shape.
pub fn object_slot(colour: Colour, shape: Shape) -> usize {
    let c = Colour::ALL
        .iter()
        .position(|&x| x == colour)
        .expect("every colour is listed");
    c * 2 + usize::from(shape == Shape::Box)
}

/// The slot of a zone of this colour.
pub fn zone_slot(colour: ZoneColour) -> usize {
    FIRST_ZONE_SLOT
        + ZoneColour::ALL
            .iter()
            .position(|&x| x == colour)
            .expect("every zone colour is listed")
}

/// The index of the largest of `v` (the first on a tie, 0 when empty): how a slot's class
/// logits are read.
pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |b, (i, &x)| if x > b.1 { (i, x) } else { b })
        .0
}

/// A world point in normalised frame coordinates.
pub fn to_frame(p: [f32; 2]) -> [f32; 2] {
    [p[0] / ARENA, 1.0 - p[1] / ARENA]
}

/// A normalised frame point in world units.
pub fn to_world(uv: [f32; 2]) -> [f32; 2] {
    [uv[0] * ARENA, (1.0 - uv[1]) * ARENA]
}

/// What one slot holds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Slot {
    pub present: bool,
    /// `[u, v]`.
    pub pos: [f32; 2],
    pub ab: [f32; 2],
    pub size: f32,
}

/// A frame's slots as labels, with whether each can be learned from: a slot that two objects
/// of the scene share (same colour and shape) is ambiguous and not used.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotLabels {
    pub slots: [Slot; SLOTS],
    pub usable: [bool; SLOTS],
}

fn in_arena(p: [f32; 2]) -> bool {
    p.iter().all(|v| v.is_finite() && (0.0..=ARENA).contains(v))
}

/// The slots of `state` (frame `t`), with displacements from `before` (frame `t - 1`; zero
/// displacement when `None`).
pub fn labels(scene: &Scene, state: &WorldState, before: Option<&WorldState>) -> SlotLabels {
    let mut slots = [Slot::default(); SLOTS];
    let mut usable = [true; SLOTS];
    let mut owners = [0usize; SLOTS];
    let disp = |now: [f32; 2], then: Option<[f32; 2]>| match then {
        Some(p) => {
            let (a, b) = (to_frame(now), to_frame(p));
            [a[0] - b[0], a[1] - b[1]]
        }
        None => [0.0, 0.0],
    };
    for (i, o) in scene.objects.iter().enumerate() {
        let s = object_slot(o.colour, o.shape);
        owners[s] += 1;
        let body = &state.objects[i];
        if body.present && in_arena(body.position) {
            let then = before
                .and_then(|b| b.objects.get(i))
                .filter(|b| b.present)
                .map(|b| b.position);
            slots[s] = Slot {
                present: true,
                pos: to_frame(body.position),
                ab: disp(body.position, then),
                size: o.bounding_radius() / ARENA,
            };
        }
    }
    for s in 0..OBJECT_SLOTS {
        usable[s] = owners[s] <= 1;
    }
    slots[AGENT_SLOT] = Slot {
        present: true,
        pos: to_frame(state.agent.position),
        ab: disp(state.agent.position, before.map(|b| b.agent.position)),
        size: AGENT_RADIUS / ARENA,
    };
    for z in &scene.zones {
        let s = zone_slot(z.colour);
        let r = z.rect(scene.view);
        let centre = [(r.min[0] + r.max[0]) / 2.0, (r.min[1] + r.max[1]) / 2.0];
        slots[s] = Slot {
            present: true,
            pos: to_frame(centre),
            ab: [
                (r.max[0] - r.min[0]) / 2.0 / ARENA,
                (r.max[1] - r.min[1]) / 2.0 / ARENA,
            ],
            size: 0.0,
        };
    }
    SlotLabels { slots, usable }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_distinct_and_labels_follow_the_state() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Colour::ALL {
            for s in [Shape::Ball, Shape::Box] {
                assert!(seen.insert(object_slot(c, s)));
            }
        }
        for z in ZoneColour::ALL {
            assert!(seen.insert(zone_slot(z)));
        }
        seen.insert(AGENT_SLOT);
        assert_eq!(seen.len(), SLOTS);
        assert_eq!(to_world(to_frame([2.5, 7.0])), [2.5, 7.0]);

        let scene = Scene::generate(3);
        let mut sim = world::sim::Simulator::new(&scene);
        let s0 = sim.state();
        sim.step(world::action::Action::from_discrete(1));
        let s1 = sim.state();
        let l = labels(&scene, &s1, Some(&s0));
        assert!(l.slots[AGENT_SLOT].present);
        assert!(l.slots[AGENT_SLOT].ab[0] > 0.0, "moving east moves right");
        for (i, o) in scene.objects.iter().enumerate() {
            let s = object_slot(o.colour, o.shape);
            if l.usable[s] && s1.objects[i].present {
                assert_eq!(l.slots[s].pos, to_frame(s1.objects[i].position));
            }
        }
    }
}
