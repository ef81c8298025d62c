//! The simulator: a [`Scene`] turned into a rapier2d world, stepped by agent actions, with an
//! event log.
//!
//! Time: physics runs at 60 Hz; one frame is [`SUBSTEPS`] physics steps (10 frames per second).
//! The same scene and actions give the same trajectory bit for bit on every platform
//! (rapier's `enhanced-determinism`, no platform maths in this file).

use std::collections::BTreeMap;

use rapier2d::prelude::*;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::events::{Entity, Event, EventKind};
use crate::scene::{Scene, Shape, View, AGENT_RADIUS, ARENA, WALL};

/// Physics steps per frame.
pub const SUBSTEPS: u32 = 6;
/// Physics time step, seconds.
pub const DT: f32 = 1.0 / 60.0;
/// Frames per second of the episode.
pub const FPS: f32 = 1.0 / (DT * SUBSTEPS as f32);
/// Downward acceleration in the side view, units/s^2.
pub const GRAVITY: f32 = 9.81;
/// Agent mass, kg: between a light (1) and a heavy (4) object, so heavy ones slow it visibly.
pub const AGENT_MASS: f32 = 2.0;
/// Most velocity change the agent's motor can make per second, units/s^2.
pub const AGENT_MAX_ACCEL: f32 = 25.0;
/// A pair must have been apart this many physics steps before touching again counts as a new
/// collision (contacts flicker while things slide along each other).
const REARM_STEPS: u32 = 4;
/// Speeds (units/s) above which an object counts as moving, and below which it may be at rest.
const MOVING_SPEED: f32 = 0.3;
const REST_SPEED: f32 = 0.1;
/// Frames an object must stay slow before it is "at rest".
const REST_FRAMES: u8 = 3;
/// How far past the arena's edge an object's centre must go to have left it.
const LEAVE_MARGIN: f32 = 0.5;

/// Pose and velocity of one body, world units, radians, per second.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BodyState {
    pub position: [f32; 2],
    /// cos and sin of the angle (what rapier stores), so no trigonometry is needed to draw.
    pub rotation: [f32; 2],
    pub velocity: [f32; 2],
    /// False once the object has been removed (counterfactual) or has left the arena.
    pub present: bool,
}

impl BodyState {
    pub fn speed(&self) -> f32 {
        (self.velocity[0] * self.velocity[0] + self.velocity[1] * self.velocity[1]).sqrt()
    }
}

/// Everything that changes over time: what the renderer draws and the evaluation compares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldState {
    pub agent: BodyState,
    pub objects: Vec<BodyState>,
}

#[derive(Clone, Copy, Default)]
struct Motion {
    moving: bool,
    slow_frames: u8,
}

/// A running simulation of one scene.
pub struct Simulator {
    scene: Scene,
    world: PhysicsWorld,
    agent: RigidBodyHandle,
    /// `None` when the object was removed or has left the arena.
    objects: Vec<Option<RigidBodyHandle>>,
    frame: u32,
    physics_step: u32,
    events: Vec<Event>,
    /// Last physics step each touching pair was in contact.
    contacts: BTreeMap<(Entity, Entity), u32>,
    in_zone: Vec<Vec<bool>>,
    motion: Vec<Motion>,
}

fn entity_data(e: Entity) -> u128 {
    match e {
        Entity::Agent => 1,
        Entity::Wall => 2,
        Entity::Floor => 3,
        Entity::Object(i) => 16 + i as u128,
    }
}

fn data_entity(d: u128) -> Entity {
    match d {
        1 => Entity::Agent,
        2 => Entity::Wall,
        3 => Entity::Floor,
        i => Entity::Object((i - 16) as u8),
    }
}

impl Simulator {
    /// Builds the simulation of `scene`.
    pub fn new(scene: &Scene) -> Simulator {
        Simulator::with_removed(scene, &[])
    }

    /// Builds the simulation of `scene` with some objects taken out (for counterfactuals).
    /// Object indices stay those of the scene.
    pub fn with_removed(scene: &Scene, removed: &[usize]) -> Simulator {
        let gravity = match scene.view {
            View::TopDown => Vector::ZERO,
            View::Side => Vector::new(0.0, -GRAVITY),
        };
        let mut world = PhysicsWorld {
            gravity,
            ..PhysicsWorld::default()
        };
        world.integration_parameters.dt = DT;

        // Walls: a frame of fixed boxes; from the side the bottom one is the floor and the
        // side walls are optional. No ceiling from the side: things may fly up and fall back.
        let half = ARENA / 2.0;
        let t = WALL / 2.0;
        let wall_friction = scene.floor.coefficient();
        let mut add_wall = |center: [f32; 2], half_size: [f32; 2], entity: Entity| {
            world.insert(
                RigidBodyBuilder::fixed().translation(Vector::new(center[0], center[1])),
                ColliderBuilder::cuboid(half_size[0], half_size[1])
                    .friction(wall_friction)
                    .user_data(entity_data(entity)),
            );
        };
        let bottom = if scene.view == View::Side {
            Entity::Floor
        } else {
            Entity::Wall
        };
        add_wall([half, t], [half, t], bottom);
        if scene.view == View::TopDown {
            add_wall([half, ARENA - t], [half, t], Entity::Wall);
        }
        if scene.view == View::TopDown || scene.side_walls {
            add_wall([t, half], [t, half], Entity::Wall);
            add_wall([ARENA - t, half], [t, half], Entity::Wall);
        }

        let table = scene.view == View::TopDown;
        let mut objects = Vec::with_capacity(scene.objects.len());
        for (i, o) in scene.objects.iter().enumerate() {
            if removed.contains(&i) {
                objects.push(None);
                continue;
            }
            let damping = if table {
                scene.floor.table_damping() * damping_factor(o)
            } else {
                0.0
            };
            let body = RigidBodyBuilder::dynamic()
                .translation(Vector::new(o.position[0], o.position[1]))
                .rotation(o.angle)
                .linear_damping(damping)
                .angular_damping(if table { 2.0 * damping + 0.5 } else { 0.1 })
                .ccd_enabled(true)
                .can_sleep(false);
            let h = o.size.half_extent();
            let shape = match o.shape {
                Shape::Ball => ColliderBuilder::ball(h),
                Shape::Box => ColliderBuilder::cuboid(h, h),
            };
            let collider = shape
                .mass(o.mass.kg())
                .friction(o.friction.coefficient())
                .restitution(o.bounce.restitution())
                .restitution_combine_rule(CoefficientCombineRule::Max)
                .user_data(entity_data(Entity::Object(i as u8)));
            let (handle, _) = world.insert(body, collider);
            objects.push(Some(handle));
        }

        let (agent, _) = world.insert(
            RigidBodyBuilder::dynamic()
                .translation(Vector::new(scene.agent_start[0], scene.agent_start[1]))
                .gravity_scale(0.0)
                .lock_rotations()
                .ccd_enabled(true)
                .can_sleep(false),
            ColliderBuilder::ball(AGENT_RADIUS)
                .mass(AGENT_MASS)
                .friction(0.3)
                .user_data(entity_data(Entity::Agent)),
        );

        let in_zone = scene
            .objects
            .iter()
            .map(|o| {
                scene
                    .zones
                    .iter()
                    .map(|z| z.rect(scene.view).contains(o.position))
                    .collect()
            })
            .collect();
        Simulator {
            scene: scene.clone(),
            world,
            agent,
            objects,
            frame: 0,
            physics_step: 0,
            events: Vec::new(),
            contacts: BTreeMap::new(),
            in_zone,
            motion: vec![Motion::default(); scene.objects.len()],
        }
    }

    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// Number of frames stepped so far.
    pub fn frame(&self) -> u32 {
        self.frame
    }

    /// Every event so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Advances one frame ([`SUBSTEPS`] physics steps) with the agent driven by `action`.
    /// Returns the events of this frame.
    pub fn step(&mut self, action: Action) -> &[Event] {
        let first_new = self.events.len();
        let target = action.velocity();
        let max_dv = AGENT_MAX_ACCEL * DT;
        for _ in 0..SUBSTEPS {
            // A force-limited motor: move the agent's velocity toward the target by at most
            // `max_dv` per step, so pushing a heavy object takes visibly longer.
            let body = &mut self.world.bodies[self.agent];
            let v = body.linvel();
            let mut dv = [target[0] - v.x, target[1] - v.y];
            let len = (dv[0] * dv[0] + dv[1] * dv[1]).sqrt();
            if len > max_dv {
                dv = [dv[0] * max_dv / len, dv[1] * max_dv / len];
            }
            body.set_linvel(Vector::new(v.x + dv[0], v.y + dv[1]), true);
            self.world.step();
            self.physics_step += 1;
            self.record_collisions();
        }
        self.record_zones_and_arena();
        self.record_motion();
        self.frame += 1;
        &self.events[first_new..]
    }

    fn touching_pairs(&self) -> Vec<(Entity, Entity)> {
        let colliders = &self.world.colliders;
        let mut pairs: Vec<(Entity, Entity)> = self
            .world
            .narrow_phase
            .contact_pairs()
            .filter(|p| p.has_any_active_contact())
            .filter_map(|p| {
                let a = data_entity(colliders.get(p.collider1)?.user_data);
                let b = data_entity(colliders.get(p.collider2)?.user_data);
                Some(if a <= b { (a, b) } else { (b, a) })
            })
            .collect();
        pairs.sort();
        pairs
    }

    fn record_collisions(&mut self) {
        let now = self.physics_step;
        for pair in self.touching_pairs() {
            let last = self.contacts.insert(pair, now);
            let rearmed = match last {
                // Contacts present from the very first step (objects resting on the floor,
                // placed with clearance from everything else) are not collisions.
                None => now > 1,
                Some(t) => now - t > REARM_STEPS,
            };
            if rearmed {
                self.events.push(Event {
                    frame: self.frame + 1,
                    kind: EventKind::Collision {
                        a: pair.0,
                        b: pair.1,
                    },
                });
            }
        }
    }

    fn record_zones_and_arena(&mut self) {
        let view = self.scene.view;
        for i in 0..self.objects.len() {
            let Some(handle) = self.objects[i] else {
                continue;
            };
            let p = self.world.bodies[handle].translation();
            let p = [p.x, p.y];
            let outside = p[0] < -LEAVE_MARGIN
                || p[0] > ARENA + LEAVE_MARGIN
                || p[1] < -LEAVE_MARGIN
                || p[1] > ARENA * 3.0;
            for (z, zone) in self.scene.zones.iter().enumerate() {
                let inside = !outside && zone.rect(view).contains(p);
                if inside != self.in_zone[i][z] {
                    self.in_zone[i][z] = inside;
                    let (object, zone) = (i as u8, z as u8);
                    let kind = if inside {
                        EventKind::EnterZone { object, zone }
                    } else {
                        EventKind::ExitZone { object, zone }
                    };
                    self.events.push(Event {
                        frame: self.frame + 1,
                        kind,
                    });
                }
            }
            if outside {
                self.events.push(Event {
                    frame: self.frame + 1,
                    kind: EventKind::LeaveArena { object: i as u8 },
                });
                self.world.remove_body_with_colliders(handle, true);
                self.objects[i] = None;
            }
        }
    }

    fn record_motion(&mut self) {
        for i in 0..self.objects.len() {
            let Some(handle) = self.objects[i] else {
                continue;
            };
            let v = self.world.bodies[handle].linvel();
            let speed = (v.x * v.x + v.y * v.y).sqrt();
            let m = &mut self.motion[i];
            let object = i as u8;
            if !m.moving && speed > MOVING_SPEED {
                m.moving = true;
                m.slow_frames = 0;
                self.events.push(Event {
                    frame: self.frame + 1,
                    kind: EventKind::StartMoving { object },
                });
            } else if m.moving {
                m.slow_frames = if speed < REST_SPEED {
                    m.slow_frames + 1
                } else {
                    0
                };
                if m.slow_frames >= REST_FRAMES {
                    m.moving = false;
                    self.events.push(Event {
                        frame: self.frame + 1,
                        kind: EventKind::ComeToRest { object },
                    });
                }
            }
        }
    }

    fn body_state(&self, handle: Option<RigidBodyHandle>) -> BodyState {
        match handle.and_then(|h| self.world.bodies.get(h)) {
            Some(b) => {
                let (p, r, v) = (b.translation(), b.rotation(), b.linvel());
                BodyState {
                    position: [p.x, p.y],
                    rotation: [r.re, r.im],
                    velocity: [v.x, v.y],
                    present: true,
                }
            }
            None => BodyState {
                position: [0.0, 0.0],
                rotation: [1.0, 0.0],
                velocity: [0.0, 0.0],
                present: false,
            },
        }
    }

    /// Poses and velocities of the agent and every object now.
    pub fn state(&self) -> WorldState {
        WorldState {
            agent: self.body_state(Some(self.agent)),
            objects: self.objects.iter().map(|&h| self.body_state(h)).collect(),
        }
    }
}

/// Rough objects slide less far on the table than slippery ones.
fn damping_factor(o: &crate::scene::Object) -> f32 {
    match o.friction {
        crate::scene::Friction::Slippery => 0.5,
        crate::scene::Friction::Rough => 1.5,
    }
}

/// The record of running a scene under a sequence of actions.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollout {
    /// `actions.len() + 1` states: the start, then one after each action.
    pub states: Vec<WorldState>,
    pub events: Vec<Event>,
}

/// Runs `scene` (without the objects in `removed`) under `actions` from the start.
pub fn rollout(scene: &Scene, removed: &[usize], actions: &[Action]) -> Rollout {
    let mut sim = Simulator::with_removed(scene, removed);
    let mut states = Vec::with_capacity(actions.len() + 1);
    states.push(sim.state());
    for &a in actions {
        sim.step(a);
        states.push(sim.state());
    }
    Rollout {
        states,
        events: sim.events,
    }
}
