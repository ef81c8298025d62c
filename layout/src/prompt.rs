//! A scene sentence read into the model's state: for every slot ([`crate::slots`]) whether the
//! sentence puts its thing in the first frame, where, how big (objects) or on which side
//! (zones), and how many of it; and whether the scene is seen from the side. Training labels
//! come from the scene the sentence describes; the read slots become a scene the renderer
//! draws. The network that reads the words is `model::prompt_net` (trained) and
//! `runtime::prompt` (the page); both write [`PROMPT_OUT`] numbers per slot laid out as below,
//! and [`scene_from_reading`] is the one place those numbers become a scene.

use world::scene::{
    Anchor, Bounce, Colour, Friction, Mass, Object, Relation, Scene, Shape, Size, View, Zone, ZoneColour,
    AGENT_RADIUS, ARENA, MAX_OBJECTS,
};

use world::language::prompt::ScenePrompt;

use crate::slots::{argmax, object_slot, to_frame, to_world, zone_slot, AGENT_SLOT, FIRST_ZONE_SLOT, OBJECT_SLOTS, SLOTS};

/// Numbers per slot: presence logit, `u`, `v`, four class logits (an object's size, small to
/// large, in the first three; a zone's anchor, [`ANCHORS`] order), five count logits (one to
/// five objects of this colour and shape), then the log-variance of `u` and of `v` (how sure
/// the reader is of the place: a lone ball anywhere on the table, or resting on the floor).
pub const PROMPT_OUT: usize = 14;
/// Offsets in a slot's numbers.
pub const PRESENCE: usize = 0;
pub const POS: usize = 1;
pub const CLASS: usize = 3;
pub const CLASSES: usize = 4;
pub const COUNT: usize = 7;
pub const COUNTS: usize = 5;
pub const SPREAD: usize = 12;
/// Longest sentence the reader takes, in words (the grammar's limit).
pub const PROMPT_WORDS: usize = 80;
/// Zone anchors in class order.
pub const ANCHORS: [Anchor; 4] = [Anchor::Left, Anchor::Right, Anchor::Top, Anchor::Bottom];

/// What a sentence's scene says about one slot, for training.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PromptSlot {
    pub present: bool,
    /// Whether `pos` is a target: the slot holds exactly one thing.
    pub placed: bool,
    pub pos: [f32; 2],
    /// Size (objects) or anchor (zones) class.
    pub class: usize,
    /// Objects of this slot, minus one.
    pub count: usize,
    /// How far another thing's centre must stay from this one's (an object's bounding radius
    /// from above, its half width from the side; the agent's radius), over the arena side.
    pub reach: f32,
}

/// A relation the sentence states between the things of two slots: the first slot's place
/// minus the second's, dotted with `axis`, must be negative ("to the left of": `axis` is
/// `[1, 0]` in frame coordinates, u right and v down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlotRelation {
    pub subject: usize,
    pub reference: usize,
    pub axis: [f32; 2],
}

/// Training targets for the sentence describing `scene`'s first frame.
#[derive(Clone, Debug, PartialEq)]
pub struct PromptLabels {
    pub side: bool,
    pub slots: [PromptSlot; SLOTS],
    /// The relations the sentence states between slots that hold one thing each.
    pub relations: Vec<SlotRelation>,
}

/// The targets for a sentence about `scene` (objects where the scene places them, before any
/// move): `said` is the sentence's prompt and the scene's index of each object it names
/// ([`ScenePrompt::describe_in_order`], [`ScenePrompt::paraphrase`]).
pub fn prompt_labels(scene: &Scene, said: (&ScenePrompt, &[usize])) -> PromptLabels {
    let mut slots = [PromptSlot::default(); SLOTS];
    for o in &scene.objects {
        let s = &mut slots[object_slot(o.colour, o.shape)];
        if s.present {
            s.count += 1;
            s.placed = false;
            continue;
        }
        let reach = match scene.view {
            View::TopDown => o.bounding_radius(),
            View::Side => o.size.half_extent(),
        };
        *s = PromptSlot {
            present: true,
            placed: true,
            pos: to_frame(o.position),
            class: Size::ALL.iter().position(|&z| z == o.size).unwrap_or(0),
            count: 0,
            reach: reach / ARENA,
        };
    }
    slots[AGENT_SLOT] = PromptSlot {
        present: true,
        placed: true,
        pos: to_frame(scene.agent_start),
        reach: AGENT_RADIUS / ARENA,
        ..PromptSlot::default()
    };
    let (prompt, order) = said;
    let relations = prompt
        .relations
        .iter()
        .filter_map(|&(a, r, b)| {
            let slot = |k: usize| {
                let o = &scene.objects[order[k]];
                object_slot(o.colour, o.shape)
            };
            let (subject, reference) = (slot(a), slot(b));
            let axis = match r {
                Relation::LeftOf => [1.0, 0.0],
                Relation::RightOf => [-1.0, 0.0],
                Relation::Above => [0.0, 1.0],
                Relation::Below => [0.0, -1.0],
            };
            (slots[subject].placed && slots[reference].placed).then_some(SlotRelation { subject, reference, axis })
        })
        .collect();
    for z in &scene.zones {
        let r = z.rect(scene.view);
        slots[zone_slot(z.colour)] = PromptSlot {
            present: true,
            placed: true,
            pos: to_frame([(r.min[0] + r.max[0]) / 2.0, (r.min[1] + r.max[1]) / 2.0]),
            class: ANCHORS.iter().position(|&a| a == z.anchor).unwrap_or(0),
            count: 0,
            reach: 0.0,
        };
    }
    PromptLabels {
        side: scene.view == View::Side,
        slots,
        relations,
    }
}

/// The scene a reading describes: `side` the view logit, `out` `SLOTS * PROMPT_OUT` numbers.
/// Every object slot read as present gives its count of objects of that colour, shape and
/// size, the first at the read place and the others beside it, left and right in turn; each
/// zone read as present lies on its most likely side (the side view has zones left and right
/// only, and two zones never share a side); the agent starts at its read place. Places are
/// kept inside the walls. Hidden properties are not in a sentence and take their first value.
pub fn scene_from_reading(side: f32, out: &[f32]) -> Scene {
    assert_eq!(out.len(), SLOTS * PROMPT_OUT, "a reading has {} numbers", SLOTS * PROMPT_OUT);
    let view = if side > 0.0 { View::Side } else { View::TopDown };
    let slot = |s: usize| &out[s * PROMPT_OUT..(s + 1) * PROMPT_OUT];
    let inside = |p: [f32; 2], r: f32| {
        let lo = world::scene::WALL + r;
        [p[0].clamp(lo, ARENA - lo), p[1].clamp(lo, ARENA - lo)]
    };
    let mut objects = Vec::new();
    for s in 0..OBJECT_SLOTS {
        let o = slot(s);
        if o[PRESENCE] <= 0.0 {
            continue;
        }
        let size = Size::ALL[argmax(&o[CLASS..CLASS + 3])];
        let count = 1 + argmax(&o[COUNT..COUNT + COUNTS]);
        let mut object = Object {
            shape: if s % 2 == 1 { Shape::Box } else { Shape::Ball },
            colour: Colour::ALL[s / 2],
            size,
            mass: Mass::Light,
            friction: Friction::Slippery,
            bounce: Bounce::Dull,
            position: [0.0; 2],
            angle: 0.0,
        };
        let r = object.size.half_extent();
        let at = to_world([o[POS], o[POS + 1]]);
        for k in 0..count {
            if objects.len() == MAX_OBJECTS {
                break;
            }
            // 0, +1, -1, +2, -2 times one and a half widths along x.
            let step = k.div_ceil(2) as f32 * if k % 2 == 1 { 1.0 } else { -1.0 };
            object.position = inside([at[0] + step * 3.0 * r, at[1]], r);
            objects.push(object);
        }
    }
    let mut zones: Vec<Zone> = Vec::new();
    for (i, colour) in ZoneColour::ALL.into_iter().enumerate() {
        let z = slot(FIRST_ZONE_SLOT + i);
        if z[PRESENCE] <= 0.0 {
            continue;
        }
        let allowed = |a: Anchor| {
            (view == View::TopDown || matches!(a, Anchor::Left | Anchor::Right))
                && zones.iter().all(|other| other.anchor != a)
        };
        let best = (0..ANCHORS.len())
            .filter(|&k| allowed(ANCHORS[k]))
            .max_by(|&a, &b| z[CLASS + a].total_cmp(&z[CLASS + b]));
        if let Some(k) = best {
            zones.push(Zone { colour, anchor: ANCHORS[k] });
        }
    }
    let agent = slot(AGENT_SLOT);
    Scene {
        view,
        floor: Friction::Rough,
        side_walls: true,
        objects,
        zones,
        agent_start: inside(to_world([agent[POS], agent[POS + 1]]), AGENT_RADIUS),
    }
}

/// `scene` before any move, drawn as the simulator's frames are (`FRAME_SIZE` square RGB).
pub fn first_frame(scene: &Scene) -> Vec<u8> {
    let side = world::render::FRAME_SIZE;
    let mut renderer = world::render::Renderer::new(side, side).expect("the frame size is valid");
    renderer.draw_rgb(scene, &world::sim::Simulator::new(scene).state())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reading that says exactly what `labels` say (logits of +-8).
    fn reading(labels: &PromptLabels) -> (f32, Vec<f32>) {
        let mut out = vec![-8.0; SLOTS * PROMPT_OUT];
        for (s, l) in labels.slots.iter().enumerate() {
            let o = &mut out[s * PROMPT_OUT..(s + 1) * PROMPT_OUT];
            o[PRESENCE] = if l.present { 8.0 } else { -8.0 };
            o[POS] = l.pos[0];
            o[POS + 1] = l.pos[1];
            o[CLASS + l.class] = 8.0;
            o[COUNT + l.count] = 8.0;
        }
        (if labels.side { 8.0 } else { -8.0 }, out)
    }

    #[test]
    fn a_reading_of_a_scenes_own_labels_gives_back_its_objects_zones_and_view() {
        for seed in 0..200 {
            let scene = Scene::generate(seed);
            let (said, order) = ScenePrompt::describe_in_order(&scene);
            let (side, out) = reading(&prompt_labels(&scene, (&said, &order)));
            let back = scene_from_reading(side, &out);
            assert_eq!(back.view, scene.view, "seed {seed}");
            // The scene's own places satisfy every relation its labels state.
            let labels = prompt_labels(&scene, (&said, &order));
            for r in &labels.relations {
                let (a, b) = (labels.slots[r.subject].pos, labels.slots[r.reference].pos);
                assert!((a[0] - b[0]) * r.axis[0] + (a[1] - b[1]) * r.axis[1] < 0.0, "seed {seed}: {r:?}");
            }
            let alone = |o: &Object| {
                scene.objects.iter().filter(|x| (x.colour, x.shape) == (o.colour, o.shape)).count() == 1
            };
            for o in scene.objects.iter().filter(|o| alone(o)) {
                let same = back.objects.iter().find(|b| (b.colour, b.shape) == (o.colour, o.shape));
                let same = same.unwrap_or_else(|| panic!("seed {seed}: {:?} {:?} missing", o.colour, o.shape));
                assert_eq!(same.size, o.size, "seed {seed}");
                assert!(world::scene::dist(same.position, o.position) < 1e-3, "seed {seed}");
            }
            assert_eq!(back.objects.len(), scene.objects.len(), "seed {seed}");
            assert_eq!(back.zones, scene.zones, "seed {seed}");
        }
    }
}
