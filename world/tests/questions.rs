//! Every question type answered on hand-built scenes whose answers are known, parse errors,
//! and counterfactual re-simulation that departs from the factual run exactly where it should.
#![cfg(not(target_arch = "wasm32"))]

use world::action::Action;
use world::language::question::*;
use world::scene::*;
use world::sim::{rollout, Rollout};

fn object(shape: Shape, colour: Colour, mass: Mass, bounce: Bounce, position: [f32; 2]) -> Object {
    Object {
        shape,
        colour,
        size: Size::Medium,
        mass,
        friction: Friction::Slippery,
        bounce,
        position,
        angle: 0.0,
    }
}

/// The agent drives east into a light bouncy red ball, which hits a heavy blue box and shoves
/// it into the green zone on the right; a yellow box sits far away, untouched.
fn chain_scene() -> (Scene, Vec<Action>) {
    let scene = Scene {
        view: View::TopDown,
        floor: Friction::Slippery,
        side_walls: true,
        objects: vec![
            object(
                Shape::Ball,
                Colour::Red,
                Mass::Light,
                Bounce::Bouncy,
                [4.0, 5.0],
            ),
            object(
                Shape::Box,
                Colour::Blue,
                Mass::Heavy,
                Bounce::Dull,
                [6.0, 5.0],
            ),
            object(
                Shape::Box,
                Colour::Yellow,
                Mass::Light,
                Bounce::Dull,
                [5.0, 8.5],
            ),
        ],
        zones: vec![Zone {
            colour: ZoneColour::Green,
            anchor: Anchor::Right,
        }],
        agent_start: [2.0, 5.0],
    };
    let mut actions = vec![Action::from_discrete(1); 8];
    actions.extend(vec![Action::STAY; 32]);
    (scene, actions)
}

fn ask(
    text: &str,
    scene: &Scene,
    actions: &[Action],
    factual: &Rollout,
    frames: u32,
) -> Result<String, AnswerError> {
    let q = Question::parse(text).unwrap_or_else(|e| panic!("{text:?} does not parse: {e}"));
    assert_eq!(
        Question::parse(&q.text()).as_ref(),
        Ok(&q),
        "{text:?} does not round-trip"
    );
    answer(
        &q,
        &Clip {
            scene,
            actions,
            frames,
            factual,
        },
    )
    .map(|a| a.text())
}

#[test]
fn descriptive_explanatory_and_property_questions_on_a_push_chain() {
    let (scene, actions) = chain_scene();
    let factual = rollout(&scene, &[], &actions);
    let all = factual.states.len() as u32;
    let a = |t: &str| ask(t, &scene, &actions, &factual, all);
    let cases = [
        ("what colour is the object that moves fastest?", "red"),
        ("what shape is the blue object?", "box"),
        ("does the agent touch the red ball?", "yes"),
        ("does the agent touch the blue box?", "no"),
        ("does the red ball touch the blue box?", "yes"),
        ("does the yellow box touch the agent?", "no"),
        ("which object enters the green zone?", "the blue box"),
        ("what made the red ball move?", "the agent"),
        ("what made the blue box move?", "the red ball"),
        (
            "what made the blue box enter the green zone?",
            "the red ball",
        ),
        (
            "which is heavier, the red ball or the blue box?",
            "the blue box",
        ),
        (
            "which is heavier, the red ball or the yellow box?",
            "neither",
        ),
        ("is the blue box heavy?", "yes"),
        ("is the red ball heavy?", "no"),
        ("is the red ball bouncy?", "yes"),
        ("is the blue box bouncy?", "no"),
        ("is the red ball slippery?", "yes"),
        ("is the floor slippery?", "yes"),
    ];
    for (q, expected) in cases {
        assert_eq!(a(q).as_deref(), Ok(expected), "{q}");
    }
    let n = a("how many collisions are there?").expect("counting");
    assert!(
        !["zero", "one"].contains(&n.as_str()),
        "at least two collisions happen, got {n}"
    );
    assert!(matches!(
        a("what made the yellow box move?"),
        Err(AnswerError::Premise(_))
    ));
}

#[test]
fn counterfactual_answers_differ_from_what_happened() {
    let (scene, actions) = chain_scene();
    let factual = rollout(&scene, &[], &actions);
    let all = factual.states.len() as u32;
    let a = |t: &str| ask(t, &scene, &actions, &factual, all);
    // Factually the ball is in the way, so the agent never reaches the box...
    assert_eq!(a("does the blue box touch the agent?").as_deref(), Ok("no"));
    // ...without the ball it does.
    assert_eq!(
        a("if the red ball were removed, would the blue box hit the agent?").as_deref(),
        Ok("yes")
    );
    assert_eq!(
        a("if the red ball were removed, would the blue box move?").as_deref(),
        Ok("yes")
    );
    assert_eq!(
        a("if the blue box were removed, would the red ball enter the green zone?").as_deref(),
        Ok("yes")
    );
    assert_eq!(
        a("if the blue box were removed, would the yellow box move?").as_deref(),
        Ok("no")
    );
    assert_eq!(
        a("if the red ball were removed, would the yellow box hit the wall?").as_deref(),
        Ok("no")
    );
    assert!(matches!(
        a("if the red ball were removed, would the red ball move?"),
        Err(AnswerError::SameObject)
    ));
}

#[test]
fn counterfactual_rollout_departs_exactly_when_the_removed_object_would_have_acted() {
    let (scene, actions) = chain_scene();
    let factual = rollout(&scene, &[], &actions);
    let without_ball = rollout(&scene, &[0], &actions);
    // The first frame showing anything happen to the ball is the agent hitting it.
    let first = factual
        .events
        .iter()
        .find(|e| e.kind.objects().any(|o| o == 0))
        .expect("ball event")
        .frame as usize;
    assert!(first > 1);
    for t in 0..first {
        assert_eq!(
            factual.states[t].agent, without_ball.states[t].agent,
            "agent differs at frame {t}"
        );
        assert_eq!(
            factual.states[t].objects[1], without_ball.states[t].objects[1],
            "box differs at frame {t}"
        );
    }
    assert_ne!(
        factual.states[first].agent, without_ball.states[first].agent,
        "agent unaffected at frame {first}"
    );
    assert!(!without_ball.states[first].objects[0].present);
    // The yellow box never interacts with anything: identical in both worlds throughout.
    for t in 0..factual.states.len() {
        assert_eq!(
            factual.states[t].objects[2], without_ball.states[t].objects[2],
            "yellow box differs at {t}"
        );
    }
    // Events of the removed ball vanish; the box's motion now comes from the agent.
    assert!(without_ball
        .events
        .iter()
        .all(|e| e.kind.objects().all(|o| o != 0)));
}

#[test]
fn predictive_questions_look_past_the_cut_with_the_agent_still() {
    let scene = Scene {
        view: View::TopDown,
        floor: Friction::Slippery,
        side_walls: true,
        objects: vec![
            object(
                Shape::Ball,
                Colour::Red,
                Mass::Light,
                Bounce::Dull,
                [4.0, 5.0],
            ),
            object(
                Shape::Box,
                Colour::Yellow,
                Mass::Light,
                Bounce::Dull,
                [5.0, 8.5],
            ),
        ],
        zones: vec![Zone {
            colour: ZoneColour::Green,
            anchor: Anchor::Right,
        }],
        agent_start: [2.0, 5.0],
    };
    let actions = vec![Action::from_discrete(1); 20];
    let factual = rollout(&scene, &[], &actions);
    let hit = factual
        .events
        .iter()
        .find(|e| e.kind.objects().any(|o| o == 0))
        .expect("agent hits ball")
        .frame;
    // Cut two frames after the hit: the ball is rolling east toward the zone.
    let after = |t: &str| ask(t, &scene, &actions, &factual, hit + 2);
    assert_eq!(
        after("will the red ball enter the green zone?").as_deref(),
        Ok("yes")
    );
    assert_eq!(
        after("will the red ball hit the wall?").as_deref(),
        Ok("yes")
    );
    assert_eq!(
        after("will the yellow box enter the green zone?").as_deref(),
        Ok("no")
    );
    assert_eq!(
        after("will the yellow box hit the red ball?").as_deref(),
        Ok("no")
    );
    // Cut before the agent reaches the ball: if the agent stops there, nothing reaches the zone.
    let before = |t: &str| ask(t, &scene, &actions, &factual, 2);
    assert_eq!(
        before("will the red ball enter the green zone?").as_deref(),
        Ok("no")
    );
    // Counting what moves at the end of a clip: nothing before the hit, the ball just after.
    assert_eq!(
        before("how many objects are moving at the end?").as_deref(),
        Ok("zero")
    );
    assert_eq!(
        after("how many objects are moving at the end?").as_deref(),
        Ok("one")
    );
}

#[test]
fn a_ball_pushed_toward_an_open_side_will_fall_out() {
    let mut scene = Scene {
        view: View::Side,
        floor: Friction::Slippery,
        side_walls: false,
        objects: vec![
            object(
                Shape::Ball,
                Colour::Red,
                Mass::Light,
                Bounce::Dull,
                [8.0, FLOOR_TOP + 0.65],
            ),
            object(
                Shape::Box,
                Colour::Blue,
                Mass::Heavy,
                Bounce::Dull,
                [2.0, FLOOR_TOP + 0.65],
            ),
        ],
        zones: vec![],
        agent_start: [6.0, FLOOR_TOP + 0.6],
    };
    let actions = vec![Action::from_discrete(1); 30];
    let factual = rollout(&scene, &[], &actions);
    let hit = factual
        .events
        .iter()
        .find(|e| e.kind.objects().any(|o| o == 0))
        .expect("agent hits ball")
        .frame;
    let q = |t: &str, s: &Scene, r: &Rollout| ask(t, s, &actions, r, hit + 3);
    assert_eq!(
        q("will the red ball fall out of the arena?", &scene, &factual).as_deref(),
        Ok("yes")
    );
    assert_eq!(
        q("will the blue box fall out of the arena?", &scene, &factual).as_deref(),
        Ok("no")
    );
    // With side walls the same push keeps the ball in.
    scene.side_walls = true;
    let walled = rollout(&scene, &[], &actions);
    assert_eq!(
        q("will the red ball fall out of the arena?", &scene, &walled).as_deref(),
        Ok("no")
    );
}

#[test]
fn typed_questions_get_specific_messages() {
    let unknown = Question::parse("what made the red bal move to mars?")
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("\"bal\" (did you mean \"ball\"?)") && unknown.contains("\"mars\""),
        "{unknown}"
    );
    assert_eq!(Question::parse("   "), Err(ParseError::Empty));
    assert!(matches!(
        Question::parse(&"red ".repeat(50)),
        Err(ParseError::TooLong(50, _))
    ));
    let no_template = Question::parse("the red ball is blue")
        .unwrap_err()
        .to_string();
    assert!(no_template.contains("closest form"), "{no_template}");
    // Case and a missing question mark are forgiven.
    assert!(Question::parse("What made the Red Ball move").is_ok());

    let (scene, actions) = chain_scene();
    let factual = rollout(&scene, &[], &actions);
    let a = |t: &str| ask(t, &scene, &actions, &factual, 41);
    assert_eq!(
        a("is the purple ball heavy?"),
        Err(AnswerError::NoSuchObject("the purple ball".into()))
    );
    assert_eq!(
        a("which object enters the pink zone?"),
        Err(AnswerError::NoSuchZone("pink"))
    );
}

#[test]
fn every_template_renders_words_from_the_vocabulary_and_parses_back() {
    let o = |c| ObjRef {
        size: None,
        colour: c,
        shape: Shape::Ball,
    };
    for t in Template::ALL {
        let slots = t
            .pattern()
            .split(' ')
            .filter(|w| w.starts_with('{'))
            .enumerate()
            .map(|(i, w)| match w {
                "{colour}" => Slot::Colour(Colour::Red),
                "{obj}" => Slot::Obj(o(Colour::ALL[i])),
                "{thing}" => Slot::Thing(Thing::Obj(ObjRef {
                    size: Some(Size::Large),
                    ..o(Colour::ALL[i])
                })),
                _ => Slot::Zone(ZoneColour::Pink),
            })
            .collect();
        let q = Question::new(t, slots);
        let text = q.text();
        assert!(
            !text.is_empty() && text.ends_with('?'),
            "{t:?} renders {text:?}"
        );
        assert_eq!(Question::parse(&text), Ok(q), "{text}");
    }
}
