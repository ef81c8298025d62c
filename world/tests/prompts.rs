//! Scene prompts: parse, print and lay out, round trip, and clear errors.
#![cfg(not(target_arch = "wasm32"))]

use world::language::prompt::{PromptError, ScenePrompt};
use world::scene::*;

#[test]
fn a_prompt_parses_to_objects_and_relations_and_prints_back() {
    let p = ScenePrompt::parse("a red ball to the left of a big blue box").expect("parses");
    assert_eq!(p.view, View::TopDown);
    assert_eq!(
        p.objects,
        vec![
            ObjectLooks {
                shape: Shape::Ball,
                colour: Colour::Red,
                size: Size::Medium
            },
            ObjectLooks {
                shape: Shape::Box,
                colour: Colour::Blue,
                size: Size::Large
            },
        ]
    );
    assert_eq!(p.relations, vec![(0, Relation::LeftOf, 1)]);
    assert_eq!(
        p.text(),
        "seen from above, a red ball to the left of a big blue box"
    );
    let two = ScenePrompt::parse("a red ball and a blue box").expect("parses");
    assert_eq!(two.text(), "seen from above, a red ball and a blue box");
    assert_eq!(ScenePrompt::parse(&p.text()), Ok(p));
}

#[test]
fn canonical_prompts_round_trip_word_for_word() {
    for text in [
        "seen from above, two red balls and a blue box",
        "seen from above, a small yellow box, an orange ball above the yellow box and a green zone on the left",
        "seen from the side, three cyan balls to the right of a big purple box and a pink zone on the right",
        "seen from above, a red ball below a small red ball and a blue box to the left of the small red ball",
    ] {
        let p = ScenePrompt::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(p.text(), text);
    }
}

#[test]
fn prompts_of_generated_scenes_round_trip_and_lay_out_as_described() {
    for seed in 0..300 {
        let scene = Scene::generate(seed);
        let described = ScenePrompt::describe(&scene);
        let text = described.text();
        let parsed =
            ScenePrompt::parse(&text).unwrap_or_else(|e| panic!("seed {seed}: {text:?}: {e}"));
        assert_eq!(parsed, described, "seed {seed}: {text}");
        // Laying the prompt out again gives a scene with the same looks that honours every
        // relation, and describing that scene names the same objects.
        let laid = parsed
            .realize(seed + 1000)
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let looks: Vec<ObjectLooks> = laid.objects.iter().map(ObjectLooks::from).collect();
        assert_eq!(looks, parsed.objects);
        for &(a, rel, b) in &parsed.relations {
            assert!(
                rel.holds(laid.objects[a].position, laid.objects[b].position),
                "seed {seed}: {text}"
            );
        }
        assert_eq!(laid.zones, scene.zones);
        laid.validate().expect("inside the arena");
    }
}

#[test]
fn bad_prompts_get_messages_that_name_the_problem() {
    let e = ScenePrompt::parse("a red dragon").unwrap_err().to_string();
    assert!(e.contains("\"dragon\""), "{e}");
    let e = ScenePrompt::parse("a red bal").unwrap_err().to_string();
    assert!(e.contains("did you mean \"ball\""), "{e}");
    assert_eq!(ScenePrompt::parse(""), Err(PromptError::Empty));
    assert_eq!(
        ScenePrompt::parse("three red balls, three blue boxes"),
        Err(PromptError::ObjectCount(6))
    );
    assert!(matches!(
        ScenePrompt::parse("a red ball to the left of the blue box"),
        Err(PromptError::UnknownReference(r)) if r == "the blue box"
    ));
    assert!(matches!(
        ScenePrompt::parse("two red balls, a box above the red ball"),
        Err(PromptError::Unexpected { found, .. }) if found == "box"
    ));
    assert!(matches!(
        ScenePrompt::parse("seen from the side, a red ball above a blue box"),
        Err(PromptError::SideRelation(_))
    ));
    assert!(matches!(
        ScenePrompt::parse("a red balls"),
        Err(PromptError::Unexpected { .. })
    ));
    assert!(matches!(
        ScenePrompt::parse("a red ball a blue box"),
        Err(PromptError::Unexpected { .. })
    ));
    assert!(matches!(
        ScenePrompt::parse(&"a red ball and ".repeat(25)),
        Err(PromptError::TooLong(..))
    ));
}

#[test]
fn impossible_layouts_are_refused_not_looped_on() {
    // Five big boxes each to the right of the one before cannot fit side by side.
    let p = ScenePrompt::parse(
        "seen from the side, a big red box, a big blue box to the right of the red box, a big cyan box to the right of the blue box, a big purple box to the right of the cyan box, a big orange box to the right of the purple box",
    )
    .expect("parses");
    assert!(matches!(
        p.realize(1),
        Err(PromptError::Layout(SceneError::NoRoom(..)))
    ));
}

#[test]
fn paraphrases_parse_back_to_what_they_say_and_say_only_what_holds() {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let (mut related, mut unsaid_view) = (0, 0);
    for seed in 0..300 {
        let scene = world::scene::Scene::generate(seed);
        let (prompt, order, text) = ScenePrompt::paraphrase(&scene, &mut rng);
        let parsed = ScenePrompt::parse(&text).unwrap_or_else(|e| panic!("seed {seed}: \"{text}\": {e}"));
        assert_eq!(parsed, prompt, "seed {seed}: \"{text}\"");
        for &(a, r, b) in &prompt.relations {
            let (pa, pb) = (scene.objects[order[a]].position, scene.objects[order[b]].position);
            assert!(r.holds(pa, pb), "seed {seed}: \"{text}\"");
        }
        related += prompt.relations.len();
        unsaid_view += usize::from(!text.starts_with("seen"));
    }
    assert!(related > 200 && unsaid_view > 50, "{related} relations, {unsaid_view} without the view");
}
