//! Physics sanity: nothing tunnels through walls at the agent's top speed, objects at rest
//! stay at rest, and events are logged where they happen.
#![cfg(not(target_arch = "wasm32"))]

use world::action::Action;
use world::events::{Entity, EventKind};
use world::scene::*;
use world::sim::Simulator;

fn object(shape: Shape, colour: Colour, size: Size, position: [f32; 2]) -> Object {
    Object {
        shape,
        colour,
        size,
        mass: Mass::Light,
        friction: Friction::Slippery,
        bounce: Bounce::Bouncy,
        position,
        angle: 0.0,
    }
}

fn scene(view: View, objects: Vec<Object>, agent: [f32; 2]) -> Scene {
    Scene {
        view,
        floor: Friction::Slippery,
        side_walls: true,
        objects,
        zones: vec![],
        agent_start: agent,
    }
}

/// Whether a body of radius `r` at `p` is inside the walls. Contacts may overlap a little
/// (the solver's allowed penetration, more when the agent squeezes a ball into a wall), so
/// 0.1 units (under a pixel at 64x64) is tolerated; tunnelling would put it a full body away.
fn inside(p: [f32; 2], r: f32) -> bool {
    const SLOP: f32 = 0.1;
    p[0] - r >= WALL - SLOP
        && p[0] + r <= ARENA - WALL + SLOP
        && p[1] - r >= WALL - SLOP
        && p[1] + r <= ARENA - WALL + SLOP
}

#[test]
fn agent_at_top_speed_never_leaves_the_walled_arena() {
    // Drive the agent flat out in each of the 8 directions for 5 simulated seconds.
    for dir in 1..=8u8 {
        let s = scene(View::TopDown, vec![], [5.0, 5.0]);
        let mut sim = Simulator::new(&s);
        for _ in 0..50 {
            sim.step(Action::from_discrete(dir));
            let p = sim.state().agent.position;
            assert!(
                inside(p, AGENT_RADIUS),
                "direction {dir}: agent at {p:?} is through a wall"
            );
        }
        assert!(sim.events().iter().any(|e| e.kind
            == EventKind::Collision {
                a: Entity::Agent,
                b: Entity::Wall
            }));
    }
}

#[test]
fn small_bouncy_ball_hit_at_top_speed_stays_inside() {
    // The agent slams a small, light, bouncy, slippery ball into each wall repeatedly.
    for dir in [1u8, 3, 5, 7, 2, 6] {
        let s = scene(
            View::TopDown,
            vec![object(Shape::Ball, Colour::Red, Size::Small, [5.0, 5.0])],
            [5.0, 5.0 - 1.5],
        );
        let mut s = s;
        let d = Action::from_discrete(dir);
        s.agent_start = [5.0 - d.x * 1.5, 5.0 - d.y * 1.5];
        let mut sim = Simulator::new(&s);
        for _ in 0..60 {
            sim.step(d);
            let st = sim.state();
            assert!(
                inside(st.objects[0].position, 0.45),
                "direction {dir}: ball at {:?}",
                st.objects[0].position
            );
            assert!(inside(st.agent.position, AGENT_RADIUS));
        }
        assert!(sim
            .events()
            .iter()
            .any(|e| e.kind.is_collision_between(Entity::Object(0), Entity::Wall)));
    }
}

#[test]
fn objects_at_rest_stay_at_rest() {
    for view in [View::TopDown, View::Side] {
        let y = |r: f32| {
            if view == View::Side {
                FLOOR_TOP + r
            } else {
                5.0
            }
        };
        let objects = vec![
            object(Shape::Box, Colour::Blue, Size::Large, [2.5, y(0.9)]),
            object(Shape::Ball, Colour::Red, Size::Medium, [5.0, y(0.65)]),
            object(Shape::Box, Colour::Yellow, Size::Small, [7.5, y(0.45)]),
        ];
        let s = scene(view, objects, [5.0, 8.0]);
        let mut sim = Simulator::new(&s);
        let start = sim.state();
        for _ in 0..100 {
            sim.step(Action::STAY);
        }
        let end = sim.state();
        for (a, b) in start.objects.iter().zip(&end.objects) {
            let moved = ((a.position[0] - b.position[0]).powi(2)
                + (a.position[1] - b.position[1]).powi(2))
            .sqrt();
            assert!(moved < 0.01, "{view:?}: object at rest moved {moved} units");
        }
        let unexpected: Vec<_> = sim
            .events()
            .iter()
            .filter(|e| {
                !matches!(
                    e.kind,
                    EventKind::Collision {
                        a: Entity::Agent,
                        ..
                    }
                )
            })
            .collect();
        assert!(
            unexpected.is_empty(),
            "{view:?}: resting objects produced events {unexpected:?}"
        );
    }
}

#[test]
fn pushing_logs_collision_motion_and_zone_entry() {
    let mut s = scene(
        View::TopDown,
        vec![object(Shape::Box, Colour::Red, Size::Medium, [5.0, 5.0])],
        [2.5, 5.0],
    );
    s.zones.push(Zone {
        colour: ZoneColour::Green,
        anchor: Anchor::Right,
    });
    let mut sim = Simulator::new(&s);
    for _ in 0..30 {
        sim.step(Action::from_discrete(1)); // east
    }
    let kinds: Vec<EventKind> = sim.events().iter().map(|e| e.kind).collect();
    let hit = kinds.iter().position(|k| {
        *k == EventKind::Collision {
            a: Entity::Agent,
            b: Entity::Object(0),
        }
    });
    let moved = kinds
        .iter()
        .position(|k| *k == EventKind::StartMoving { object: 0 });
    let entered = kinds
        .iter()
        .position(|k| *k == EventKind::EnterZone { object: 0, zone: 0 });
    assert!(
        hit.is_some() && moved.is_some() && entered.is_some(),
        "events: {kinds:?}"
    );
    assert!(
        hit < entered,
        "the hit comes before the zone entry: {kinds:?}"
    );
}

#[test]
fn object_pushed_off_an_open_side_leaves_the_arena() {
    let mut s = scene(
        View::Side,
        vec![object(
            Shape::Ball,
            Colour::Red,
            Size::Small,
            [8.5, FLOOR_TOP + 0.45],
        )],
        [6.5, FLOOR_TOP + 0.6],
    );
    s.side_walls = false;
    let mut sim = Simulator::new(&s);
    for _ in 0..40 {
        sim.step(Action::from_discrete(1));
    }
    assert!(
        sim.events()
            .iter()
            .any(|e| e.kind == EventKind::LeaveArena { object: 0 }),
        "{:?}",
        sim.events()
    );
    assert!(!sim.state().objects[0].present);
}

#[test]
fn heavy_objects_slow_the_agent_more_than_light_ones() {
    let run = |mass: Mass| {
        let mut o = object(Shape::Box, Colour::Red, Size::Medium, [4.0, 5.0]);
        o.mass = mass;
        let mut sim = Simulator::new(&scene(View::TopDown, vec![o], [2.5, 5.0]));
        for _ in 0..7 {
            sim.step(Action::from_discrete(1));
        }
        sim.state().objects[0].position[0]
    };
    let (light, heavy) = (run(Mass::Light), run(Mass::Heavy));
    assert!(
        light > heavy + 0.3,
        "light box got to x={light}, heavy to x={heavy}"
    );
}

#[test]
fn discrete_actions_round_trip_and_bad_values_are_clamped() {
    for i in 0..9u8 {
        assert_eq!(Action::from_discrete(i).to_discrete(), i);
    }
    assert_eq!(Action::from_discrete(200), Action::STAY);
    let a = Action::new(f32::NAN, 5.0);
    assert_eq!((a.x, a.y), (0.0, 1.0));
    assert_eq!(Action::new(0.1, 0.1).to_discrete(), 0);
    assert_eq!(Action::new(0.9, 0.2).to_discrete(), 1);
}
