//! How objects, zones and entities are named in text ("the big red ball", "the green zone").

use crate::events::Entity;
use crate::scene::{Colour, ObjectLooks, Scene, Shape, Size, ZoneColour};

pub fn colour_word(c: Colour) -> &'static str {
    match c {
        Colour::Red => "red",
        Colour::Blue => "blue",
        Colour::Yellow => "yellow",
        Colour::Purple => "purple",
        Colour::Cyan => "cyan",
        Colour::Orange => "orange",
    }
}

pub fn zone_colour_word(c: ZoneColour) -> &'static str {
    match c {
        ZoneColour::Green => "green",
        ZoneColour::Pink => "pink",
    }
}

pub fn shape_word(s: Shape) -> &'static str {
    match s {
        Shape::Ball => "ball",
        Shape::Box => "box",
    }
}

pub fn shape_plural(s: Shape) -> &'static str {
    match s {
        Shape::Ball => "balls",
        Shape::Box => "boxes",
    }
}

/// Size adjective; medium is the unmarked size and says nothing.
pub fn size_word(s: Size) -> Option<&'static str> {
    match s {
        Size::Small => Some("small"),
        Size::Medium => None,
        Size::Large => Some("big"),
    }
}

/// "red ball" or, with `with_size`, "big red ball".
pub fn looks_phrase(l: ObjectLooks, with_size: bool) -> String {
    let mut words = Vec::with_capacity(3);
    if with_size {
        words.extend(size_word(l.size));
    }
    words.push(colour_word(l.colour));
    words.push(shape_word(l.shape));
    words.join(" ")
}

/// Whether "the <colour> <shape>" picks out exactly one object of the scene.
pub fn is_unambiguous(scene: &Scene, index: usize) -> bool {
    let o = &scene.objects[index];
    scene
        .objects
        .iter()
        .filter(|p| p.colour == o.colour && p.shape == o.shape)
        .count()
        == 1
}

/// "the red ball" for an object, "the agent", "the wall", "the floor".
pub fn entity_phrase(scene: &Scene, e: Entity) -> String {
    match e {
        Entity::Agent => "the agent".into(),
        Entity::Wall => "the wall".into(),
        Entity::Floor => "the floor".into(),
        Entity::Object(i) => match scene.objects.get(i as usize) {
            Some(o) => format!(
                "the {}",
                looks_phrase(o.into(), !is_unambiguous(scene, i as usize))
            ),
            None => "an unknown object".into(),
        },
    }
}

pub fn zone_phrase(scene: &Scene, zone: usize) -> String {
    match scene.zones.get(zone) {
        Some(z) => format!("the {} zone", zone_colour_word(z.colour)),
        None => "an unknown zone".into(),
    }
}
