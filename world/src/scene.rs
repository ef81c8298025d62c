//! What a scene is made of, and seeded procedural generation of scenes.
//!
//! Units: the arena is `ARENA` x `ARENA` world units (metres), y points up, the origin is the
//! bottom-left corner. Everything the model may learn about lives here; the hidden properties
//! (mass, friction, bounce) are never drawn, so they show only through motion.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Side of the square arena, in world units.
pub const ARENA: f32 = 10.0;
/// Thickness of walls and floor, in world units (drawn, and thick enough that nothing tunnels).
pub const WALL: f32 = 0.3;
/// Radius of the agent (the pusher), in world units.
pub const AGENT_RADIUS: f32 = 0.5;
/// Most objects a scene holds.
pub const MAX_OBJECTS: usize = 5;

/// How the world is seen: from above (a table, no gravity) or from the side (gravity, a floor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum View {
    TopDown,
    Side,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shape {
    Ball,
    Box,
}

/// Object colours. Zones use their own palette ([`ZoneColour`]) so "the green zone" is never
/// confused with an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Colour {
    Red,
    Blue,
    Yellow,
    Purple,
    Cyan,
    Orange,
}

impl Colour {
    pub const ALL: [Colour; 6] = [
        Colour::Red,
        Colour::Blue,
        Colour::Yellow,
        Colour::Purple,
        Colour::Cyan,
        Colour::Orange,
    ];

    /// sRGB of the object's fill.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Colour::Red => [220, 40, 40],
            Colour::Blue => [40, 80, 220],
            Colour::Yellow => [235, 200, 30],
            Colour::Purple => [140, 50, 180],
            Colour::Cyan => [30, 190, 200],
            Colour::Orange => [240, 130, 20],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ZoneColour {
    Green,
    Pink,
}

impl ZoneColour {
    pub const ALL: [ZoneColour; 2] = [ZoneColour::Green, ZoneColour::Pink];

    /// sRGB of the zone's pale fill.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            ZoneColour::Green => [150, 225, 150],
            ZoneColour::Pink => [245, 175, 215],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Size {
    Small,
    Medium,
    Large,
}

impl Size {
    pub const ALL: [Size; 3] = [Size::Small, Size::Medium, Size::Large];

    /// Ball radius, or half the side of a box, in world units.
    pub fn half_extent(self) -> f32 {
        match self {
            Size::Small => 0.45,
            Size::Medium => 0.65,
            Size::Large => 0.9,
        }
    }
}

/// Total mass of an object. It does not depend on size, so only motion reveals it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mass {
    Light,
    Heavy,
}

impl Mass {
    /// Kilograms.
    pub fn kg(self) -> f32 {
        match self {
            Mass::Light => 1.0,
            Mass::Heavy => 4.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Friction {
    Slippery,
    Rough,
}

impl Friction {
    /// Coulomb coefficient for contacts (object-object, object-wall, and the side view's floor).
    pub fn coefficient(self) -> f32 {
        match self {
            Friction::Slippery => 0.05,
            Friction::Rough => 0.9,
        }
    }

    /// Linear damping (1/s) that stands in for sliding on the table in the top-down view,
    /// where 2D physics has no surface underneath.
    pub fn table_damping(self) -> f32 {
        match self {
            Friction::Slippery => 0.25,
            Friction::Rough => 1.6,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Bounce {
    Dull,
    Bouncy,
}

impl Bounce {
    /// Coefficient of restitution.
    pub fn restitution(self) -> f32 {
        match self {
            Bounce::Dull => 0.05,
            Bounce::Bouncy => 0.85,
        }
    }
}

/// Where a goal zone sits. Zones take a few fixed places so that text can name them exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Anchor {
    Left,
    Right,
    Top,
    Bottom,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Zone {
    pub colour: ZoneColour,
    pub anchor: Anchor,
}

/// Axis-aligned rectangle in world units.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub min: [f32; 2],
    pub max: [f32; 2],
}

impl Rect {
    pub fn contains(&self, p: [f32; 2]) -> bool {
        p[0] >= self.min[0] && p[0] <= self.max[0] && p[1] >= self.min[1] && p[1] <= self.max[1]
    }
}

impl Zone {
    /// The zone's rectangle. From the side, zones lie on the floor (top and bottom are not used).
    pub fn rect(&self, view: View) -> Rect {
        let (lo, hi) = (WALL, ARENA - WALL);
        let depth = 2.6;
        match (view, self.anchor) {
            (View::TopDown, Anchor::Left) => Rect {
                min: [lo, 3.0],
                max: [lo + depth, 7.0],
            },
            (View::TopDown, Anchor::Right) => Rect {
                min: [hi - depth, 3.0],
                max: [hi, 7.0],
            },
            (View::TopDown, Anchor::Top) => Rect {
                min: [3.0, hi - depth],
                max: [7.0, hi],
            },
            (View::TopDown, Anchor::Bottom) => Rect {
                min: [3.0, lo],
                max: [7.0, lo + depth],
            },
            (View::Side, Anchor::Left | Anchor::Top) => Rect {
                min: [lo, lo],
                max: [lo + depth, lo + 2.0],
            },
            (View::Side, Anchor::Right | Anchor::Bottom) => Rect {
                min: [hi - depth, lo],
                max: [hi, lo + 2.0],
            },
        }
    }
}

/// One movable object with its visible looks and hidden physics.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Object {
    pub shape: Shape,
    pub colour: Colour,
    pub size: Size,
    pub mass: Mass,
    pub friction: Friction,
    pub bounce: Bounce,
    /// Centre, world units.
    pub position: [f32; 2],
    /// Radians, counter-clockwise.
    pub angle: f32,
}

impl Object {
    /// Radius of the circle that bounds the object, for placement.
    pub fn bounding_radius(&self) -> f32 {
        match self.shape {
            Shape::Ball => self.size.half_extent(),
            Shape::Box => self.size.half_extent() * std::f32::consts::SQRT_2,
        }
    }
}

/// Everything needed to build the simulator: same scene, same trajectory, bit for bit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    pub view: View,
    /// Friction of the table (top-down) or floor (side view).
    pub floor: Friction,
    /// Side view only: without side walls, objects pushed off the ends leave the arena.
    pub side_walls: bool,
    pub objects: Vec<Object>,
    pub zones: Vec<Zone>,
    pub agent_start: [f32; 2],
}

/// Errors when a scene cannot be laid out or is not valid.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum SceneError {
    #[error("a scene holds at most {MAX_OBJECTS} objects; this one asks for {0}")]
    TooManyObjects(usize),
    #[error(
        "could not place {0} without overlap after {1} tries: ask for fewer or smaller objects"
    )]
    NoRoom(String, u32),
    #[error("the layout cannot be satisfied: {0}")]
    Contradiction(String),
    #[error("object {index} is at ({x}, {y}), outside the arena 0..{ARENA}")]
    OutOfArena { index: usize, x: f32, y: f32 },
}

/// Turns a seed into a reproducible random stream (ChaCha8: same numbers on every platform).
pub fn rng_from_seed(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Derives the seed of item `index` of a run seeded with `seed` (SplitMix64 finaliser), so any
/// episode can be regenerated on its own.
pub fn derive_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Height of the floor's top surface in the side view.
pub const FLOOR_TOP: f32 = WALL;

impl Scene {
    /// A random scene: 1 to 5 objects of distinct colours, random sizes and hidden properties,
    /// 0 to 2 goal zones, top-down (60%) or side view (40%).
    pub fn generate(seed: u64) -> Scene {
        let mut rng = rng_from_seed(seed);
        let view = if rng.random_bool(0.6) {
            View::TopDown
        } else {
            View::Side
        };
        let count = rng.random_range(1..=MAX_OBJECTS);
        let mut colours = Colour::ALL.to_vec();
        let mut looks = Vec::with_capacity(count);
        for _ in 0..count {
            let colour = colours.remove(rng.random_range(0..colours.len()));
            let shape = if rng.random_bool(0.5) {
                Shape::Ball
            } else {
                Shape::Box
            };
            looks.push(ObjectLooks {
                shape,
                colour,
                size: pick(&mut rng, &Size::ALL),
            });
        }
        let zone_count = rng.random_range(0..=2usize);
        let anchors: &[Anchor] = match view {
            View::TopDown => &[Anchor::Left, Anchor::Right, Anchor::Top, Anchor::Bottom],
            View::Side => &[Anchor::Left, Anchor::Right],
        };
        let mut free_anchors = anchors.to_vec();
        let zones = (0..zone_count.min(anchors.len()))
            .enumerate()
            .map(|(i, _)| Zone {
                colour: ZoneColour::ALL[i],
                anchor: free_anchors.remove(rng.random_range(0..free_anchors.len())),
            })
            .collect();
        let floor = if rng.random_bool(0.5) {
            Friction::Slippery
        } else {
            Friction::Rough
        };
        let side_walls = view == View::TopDown || rng.random_bool(0.5);
        let mut scene = Scene {
            view,
            floor,
            side_walls,
            objects: Vec::new(),
            zones,
            agent_start: [0.0, 0.0],
        };
        // Layout cannot fail for <= 5 objects of these sizes in this arena; fall back to fewer
        // objects rather than panic if it ever did.
        loop {
            match scene.place(&looks, &[], &mut rng) {
                Ok(()) => break,
                Err(_) => {
                    looks.pop();
                }
            }
        }
        scene
    }

    /// Places objects with the given looks at random non-overlapping spots that satisfy
    /// `relations` (subject index, relation, reference index), then places the agent.
    /// Hidden properties are drawn at random.
    pub fn place(
        &mut self,
        looks: &[ObjectLooks],
        relations: &[(usize, Relation, usize)],
        rng: &mut ChaCha8Rng,
    ) -> Result<(), SceneError> {
        if looks.len() > MAX_OBJECTS {
            return Err(SceneError::TooManyObjects(looks.len()));
        }
        if self.view == View::Side {
            return self.place_in_a_row(looks, relations, rng);
        }
        // Objects are placed one at a time, each at a spot that is clear of those already
        // placed and honours the relations between placed objects; a dead end restarts.
        const RESTARTS: u32 = 200;
        const SPOTS: u32 = 100;
        for _ in 0..RESTARTS {
            let mut objects: Vec<Object> = Vec::with_capacity(looks.len());
            for (i, look) in looks.iter().enumerate() {
                let hidden = random_hidden(rng);
                for _ in 0..SPOTS {
                    let candidate = self.random_spot(look, hidden, rng);
                    // From the side, objects rest flat on the floor, so only their half-widths
                    // need to clear each other.
                    let reach = |o: &Object| match self.view {
                        View::TopDown => o.bounding_radius(),
                        View::Side => o.size.half_extent(),
                    };
                    let clear = objects.iter().all(|b| {
                        dist(candidate.position, b.position) > reach(&candidate) + reach(b) + 0.15
                    });
                    let related =
                        relations
                            .iter()
                            .filter(|&&(a, _, b)| a.max(b) == i)
                            .all(|&(a, rel, b)| {
                                let pos = |k: usize| {
                                    if k == i {
                                        candidate.position
                                    } else {
                                        objects[k].position
                                    }
                                };
                                rel.holds(pos(a), pos(b))
                            });
                    if clear && related {
                        objects.push(candidate);
                        break;
                    }
                }
                if objects.len() == i {
                    break; // no spot for this one: start again
                }
            }
            if objects.len() < looks.len() {
                continue;
            }
            // The agent starts clear of every object: above them in the side view.
            for _ in 0..200 {
                let agent = match self.view {
                    View::TopDown => [
                        rng.random_range(WALL + 1.0..ARENA - WALL - 1.0),
                        rng.random_range(WALL + 1.0..ARENA - WALL - 1.0),
                    ],
                    View::Side => [rng.random_range(WALL + 1.0..ARENA - WALL - 1.0), 6.5],
                };
                if objects
                    .iter()
                    .all(|o| dist(agent, o.position) > o.bounding_radius() + AGENT_RADIUS + 0.4)
                {
                    self.objects = objects;
                    self.agent_start = agent;
                    return Ok(());
                }
            }
        }
        let names: Vec<String> = looks
            .iter()
            .map(|l| format!("{:?} {:?}", l.colour, l.shape))
            .collect();
        Err(SceneError::NoRoom(
            names.join(", ").to_lowercase(),
            RESTARTS * SPOTS,
        ))
    }

    /// Side view: objects stand in a row on the floor. Orders them left to right at random
    /// among the orders the relations allow, then spreads the free floor randomly between
    /// them, so any prompt whose objects fit is laid out at the first try.
    fn place_in_a_row(
        &mut self,
        looks: &[ObjectLooks],
        relations: &[(usize, Relation, usize)],
        rng: &mut ChaCha8Rng,
    ) -> Result<(), SceneError> {
        let n = looks.len();
        // Edges "left before right".
        let edges: Vec<(usize, usize)> = relations
            .iter()
            .filter_map(|&(a, rel, b)| match rel {
                Relation::LeftOf => Some((a, b)),
                Relation::RightOf => Some((b, a)),
                Relation::Above | Relation::Below => None,
            })
            .collect();
        if relations
            .iter()
            .any(|r| matches!(r.1, Relation::Above | Relation::Below))
        {
            return Err(SceneError::Contradiction(
                "objects seen from the side rest on the floor: nothing is above or below".into(),
            ));
        }
        let mut order = Vec::with_capacity(n);
        let mut placed = vec![false; n];
        while order.len() < n {
            let ready: Vec<usize> = (0..n)
                .filter(|&i| !placed[i] && edges.iter().all(|&(l, r)| r != i || placed[l]))
                .collect();
            if ready.is_empty() {
                return Err(SceneError::Contradiction(
                    "the left/right relations form a circle".into(),
                ));
            }
            let next = ready[rng.random_range(0..ready.len())];
            placed[next] = true;
            order.push(next);
        }
        let (lo, hi) = (WALL + 1.2, ARENA - WALL - 1.2);
        const GAP: f32 = 0.15;
        let widths: f32 = looks.iter().map(|l| 2.0 * l.size.half_extent()).sum();
        let free = (hi - lo) - widths - GAP * (n.saturating_sub(1)) as f32;
        if free < 0.0 {
            let names: Vec<String> = looks
                .iter()
                .map(|l| format!("{:?} {:?}", l.colour, l.shape))
                .collect();
            return Err(SceneError::NoRoom(names.join(", ").to_lowercase(), 1));
        }
        let shares: Vec<f32> = (0..=n).map(|_| rng.random_range(0.0f32..1.0)).collect();
        let total: f32 = shares.iter().sum::<f32>().max(1e-6);
        let mut objects: Vec<Option<Object>> = vec![None; n];
        let mut x = lo;
        for (k, &i) in order.iter().enumerate() {
            let h = looks[i].size.half_extent();
            x += free * shares[k] / total + h;
            let hidden = random_hidden(rng);
            let mut o = self.random_spot(&looks[i], hidden, rng);
            o.position = [x, FLOOR_TOP + h];
            objects[i] = Some(o);
            x += h + GAP;
        }
        self.objects = objects.into_iter().flatten().collect();
        self.agent_start = [rng.random_range(WALL + 1.0..ARENA - WALL - 1.0), 6.5];
        Ok(())
    }

    /// A random spot for an object with these looks: anywhere on the table seen from above,
    /// resting on the floor (boxes flat) seen from the side.
    fn random_spot(
        &self,
        look: &ObjectLooks,
        hidden: (Mass, Friction, Bounce),
        rng: &mut ChaCha8Rng,
    ) -> Object {
        let r = look.size.half_extent();
        let (x, y, angle) = match self.view {
            View::TopDown => (
                rng.random_range(WALL + r + 0.9..ARENA - WALL - r - 0.9),
                rng.random_range(WALL + r + 0.9..ARENA - WALL - r - 0.9),
                if look.shape == Shape::Box {
                    rng.random_range(0.0..std::f32::consts::FRAC_PI_2)
                } else {
                    0.0
                },
            ),
            View::Side => (
                rng.random_range(WALL + r + 1.2..ARENA - WALL - r - 1.2),
                FLOOR_TOP + r,
                0.0,
            ),
        };
        Object {
            shape: look.shape,
            colour: look.colour,
            size: look.size,
            mass: hidden.0,
            friction: hidden.1,
            bounce: hidden.2,
            position: [x, y],
            angle,
        }
    }

    /// Checks that every object lies inside the arena.
    pub fn validate(&self) -> Result<(), SceneError> {
        if self.objects.len() > MAX_OBJECTS {
            return Err(SceneError::TooManyObjects(self.objects.len()));
        }
        for (index, o) in self.objects.iter().enumerate() {
            let [x, y] = o.position;
            if !(x.is_finite()
                && y.is_finite()
                && (0.0..=ARENA).contains(&x)
                && (0.0..=ARENA).contains(&y))
            {
                return Err(SceneError::OutOfArena { index, x, y });
            }
        }
        Ok(())
    }

    /// The zone of a colour, if the scene has one.
    pub fn zone(&self, colour: ZoneColour) -> Option<(usize, &Zone)> {
        self.zones
            .iter()
            .enumerate()
            .find(|(_, z)| z.colour == colour)
    }
}

/// Hidden properties drawn at random, each value equally likely.
fn random_hidden(rng: &mut ChaCha8Rng) -> (Mass, Friction, Bounce) {
    (
        if rng.random_bool(0.5) {
            Mass::Light
        } else {
            Mass::Heavy
        },
        if rng.random_bool(0.5) {
            Friction::Slippery
        } else {
            Friction::Rough
        },
        if rng.random_bool(0.5) {
            Bounce::Dull
        } else {
            Bounce::Bouncy
        },
    )
}

/// The visible part of an object: what a prompt can say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectLooks {
    pub shape: Shape,
    pub colour: Colour,
    pub size: Size,
}

impl From<&Object> for ObjectLooks {
    fn from(o: &Object) -> Self {
        ObjectLooks {
            shape: o.shape,
            colour: o.colour,
            size: o.size,
        }
    }
}

/// Spatial relation between two objects, as prompts say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Relation {
    LeftOf,
    RightOf,
    Above,
    Below,
}

impl Relation {
    /// Whether `a` stands in this relation to `b` (by at least half a unit).
    pub fn holds(self, a: [f32; 2], b: [f32; 2]) -> bool {
        let margin = 0.5;
        match self {
            Relation::LeftOf => a[0] + margin < b[0],
            Relation::RightOf => a[0] > b[0] + margin,
            Relation::Above => a[1] > b[1] + margin,
            Relation::Below => a[1] + margin < b[1],
        }
    }
}

pub fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}
