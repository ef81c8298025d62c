//! What happens in an episode, as the simulator saw it: the ground truth behind captions and
//! answers.

use serde::{Deserialize, Serialize};

/// Something that can take part in a collision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Entity {
    Agent,
    /// Index into `Scene::objects`.
    Object(u8),
    Wall,
    Floor,
}

impl Entity {
    pub fn object(self) -> Option<usize> {
        match self {
            Entity::Object(i) => Some(i as usize),
            _ => None,
        }
    }

    /// Whether it can move (the agent or an object).
    pub fn is_movable(self) -> bool {
        matches!(self, Entity::Agent | Entity::Object(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// Two things start touching. `a` sorts before `b`.
    Collision { a: Entity, b: Entity },
    /// An object's centre enters a zone (index into `Scene::zones`).
    EnterZone { object: u8, zone: u8 },
    /// An object's centre leaves a zone.
    ExitZone { object: u8, zone: u8 },
    /// An object's centre leaves the arena (it is then removed from the simulation).
    LeaveArena { object: u8 },
    /// An object at rest starts moving.
    StartMoving { object: u8 },
    /// A moving object comes to rest.
    ComeToRest { object: u8 },
}

/// An event and the first frame that shows it: frame 0 is the start, frame `t + 1` follows
/// action `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Event {
    pub frame: u32,
    pub kind: EventKind,
}

impl EventKind {
    /// The objects this event is about.
    pub fn objects(&self) -> impl Iterator<Item = usize> {
        let (a, b) = match *self {
            EventKind::Collision { a, b } => (a.object(), b.object()),
            EventKind::EnterZone { object, .. }
            | EventKind::ExitZone { object, .. }
            | EventKind::LeaveArena { object }
            | EventKind::StartMoving { object }
            | EventKind::ComeToRest { object } => (Some(object as usize), None),
        };
        a.into_iter().chain(b)
    }

    /// Whether this is a collision between `x` and `y`, in either order.
    pub fn is_collision_between(&self, x: Entity, y: Entity) -> bool {
        matches!(*self, EventKind::Collision { a, b } if (a == x && b == y) || (a == y && b == x))
    }

    /// The other party if this is a collision involving `x`.
    pub fn collision_partner(&self, x: Entity) -> Option<Entity> {
        match *self {
            EventKind::Collision { a, b } if a == x => Some(b),
            EventKind::Collision { a, b } if b == x => Some(a),
            _ => None,
        }
    }
}
