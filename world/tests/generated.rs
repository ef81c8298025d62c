//! Properties of generated episodes: every text uses the vocabulary, every generated question
//! parses back and the ground-truth answerer agrees with the stored answer, and the
//! exploration policy makes the agent touch objects often.
#![cfg(not(target_arch = "wasm32"))]

use world::action::Action;
use world::episode::{generate_episode, EpisodeConfig};
use world::events::{Entity, EventKind};
use world::language::question::{answer, Clip, Question, QuestionKind};
use world::language::vocab::{detokenize, tokenize};
use world::sim::Rollout;

#[test]
fn generated_text_tokenizes_and_questions_agree_with_the_answerer() {
    let config = EpisodeConfig::default();
    let mut kinds = std::collections::BTreeSet::new();
    for seed in 0..60 {
        let e = generate_episode(seed, &config).expect("episode");
        for text in [&e.caption, &e.prompt] {
            let ids = tokenize(text).unwrap_or_else(|err| panic!("seed {seed}: {text:?}: {err}"));
            assert_eq!(
                detokenize(&ids),
                *text,
                "seed {seed}: text does not survive tokenization"
            );
        }
        let actions: Vec<Action> = e.continuous_actions();
        let factual = Rollout {
            states: e.states.clone(),
            events: e.events.clone(),
        };
        for qa in &e.questions {
            kinds.insert(qa.kind);
            tokenize(&qa.answer).unwrap_or_else(|err| panic!("answer {:?}: {err}", qa.answer));
            let q = Question::parse(&qa.question)
                .unwrap_or_else(|err| panic!("{:?}: {err}", qa.question));
            assert_eq!(q.text(), qa.question);
            assert_eq!(q.kind(), qa.kind);
            let clip = Clip {
                scene: &e.scene,
                actions: &actions,
                frames: qa.clip_frames,
                factual: &factual,
            };
            let a = answer(&q, &clip)
                .unwrap_or_else(|err| panic!("seed {seed}: {:?}: {err}", qa.question));
            assert_eq!(a.text(), qa.answer, "seed {seed}: {:?}", qa.question);
        }
    }
    assert_eq!(
        kinds.len(),
        QuestionKind::ALL.len(),
        "every kind appears: {kinds:?}"
    );
}

#[test]
fn the_exploration_policy_touches_objects_in_most_episodes() {
    let config = EpisodeConfig {
        questions: false,
        ..EpisodeConfig::default()
    };
    let n = 100;
    let touched = (0..n)
        .filter(|&seed| {
            let e = generate_episode(seed, &config).expect("episode");
            e.events.iter().any(|ev| {
                matches!(
                    ev.kind,
                    EventKind::Collision {
                        a: Entity::Agent,
                        b: Entity::Object(_)
                    }
                )
            })
        })
        .count();
    assert!(
        touched >= 80,
        "agent touched an object in only {touched} of {n} episodes"
    );

    // Uniformly random moves, one per frame, on the same scenes, touch far less often.
    let random_touched = (0..n)
        .filter(|&seed| {
            let scene = world::scene::Scene::generate(world::scene::derive_seed(seed, 0));
            let mut rng = world::scene::rng_from_seed(seed);
            let actions: Vec<Action> = (0..config.steps)
                .map(|_| Action::from_discrete(rand::Rng::random_range(&mut rng, 0..9u8)))
                .collect();
            let r = world::sim::rollout(&scene, &[], &actions);
            r.events.iter().any(|ev| {
                matches!(
                    ev.kind,
                    EventKind::Collision {
                        a: Entity::Agent,
                        b: Entity::Object(_)
                    }
                )
            })
        })
        .count();
    eprintln!("agent touched an object: exploration policy {touched}/{n}, uniform random {random_touched}/{n}");
    assert!(
        touched >= random_touched * 3 / 2,
        "policy {touched} vs random {random_touched}"
    );
}
