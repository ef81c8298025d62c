//! Picks questions for an episode and answers them from the simulator: a few of each kind,
//! with yes and no balanced where the template is a yes/no question.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::events::{Entity, EventKind};
use crate::language::names::is_unambiguous;
use crate::language::question::{
    answer, enters, falls_out, hits, moves, Answer, Clip, ObjRef, Question, QuestionKind, Slot,
    Template, Thing,
};
use crate::scene::{Scene, View};
use crate::sim::Rollout;

/// A question about a clip, its answer, and how many frames of the episode the clip shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    pub kind: QuestionKind,
    pub template: Template,
    pub question: String,
    pub answer: String,
    /// The clip is frames `0..clip_frames` (the whole episode except for predictive ones).
    pub clip_frames: u32,
}

/// How many questions of each kind an episode gets, at most.
pub const PER_KIND: usize = 2;

/// A question, its answer, and the frames its clip shows.
type Candidate = (Question, Answer, u32);

/// Picks up to `n` candidates: each from a template not used yet when possible, and with an
/// answer not given yet when possible, so yes and no alternate and answers vary.
fn pick_balanced(mut cands: Vec<Candidate>, n: usize, rng: &mut ChaCha8Rng) -> Vec<Candidate> {
    cands.shuffle(rng);
    let mut out: Vec<Candidate> = Vec::new();
    while out.len() < n && !cands.is_empty() {
        let score = |(q, a, _): &Candidate| {
            let new_template = !out.iter().any(|(p, _, _)| p.template == q.template);
            let new_answer = !out.iter().any(|(_, b, _)| b == a);
            (new_template as u8) * 2 + new_answer as u8
        };
        let best = (0..cands.len())
            .max_by_key(|&i| (score(&cands[i]), usize::MAX - i))
            .unwrap_or(0);
        out.push(cands.swap_remove(best));
    }
    out
}

fn ask(template: Template, slots: Vec<Slot>, clip: &Clip, into: &mut Vec<Candidate>) {
    let q = Question::new(template, slots);
    if let Ok(a) = answer(&q, clip) {
        into.push((q, a, clip.frames));
    }
}

/// Questions with answers for one episode (`factual` is the rollout of `actions`).
pub fn generate_questions(
    scene: &Scene,
    actions: &[Action],
    factual: &Rollout,
    rng: &mut ChaCha8Rng,
) -> Vec<QuestionAnswer> {
    let frames = factual.states.len() as u32;
    let full = Clip {
        scene,
        actions,
        frames,
        factual,
    };
    let objs: Vec<usize> = (0..scene.objects.len())
        .filter(|&i| is_unambiguous(scene, i))
        .collect();
    let oref = |i: usize| ObjRef::of(scene, i);
    let obj = |i: usize| Slot::Obj(oref(i));
    let thing = |i: usize| Slot::Thing(Thing::Obj(oref(i)));
    let zones: Vec<Slot> = scene.zones.iter().map(|z| Slot::Zone(z.colour)).collect();
    let mut fixed_things = vec![(Thing::Agent, Entity::Agent), (Thing::Wall, Entity::Wall)];
    if scene.view == View::Side {
        fixed_things.push((Thing::Floor, Entity::Floor));
    }
    let moved: Vec<usize> = objs
        .iter()
        .copied()
        .filter(|&i| moves(&factual.events, i as u8))
        .collect();

    let mut out = Vec::new();
    let mut emit = |picked: Vec<Candidate>| {
        for (q, a, clip_frames) in picked {
            out.push(QuestionAnswer {
                kind: q.kind(),
                template: q.template,
                question: q.text(),
                answer: a.text(),
                clip_frames,
            });
        }
    };

    // Descriptive.
    let mut c = Vec::new();
    ask(Template::FastestColour, vec![], &full, &mut c);
    ask(Template::CountMovingAtEnd, vec![], &full, &mut c);
    ask(Template::CountCollisions, vec![], &full, &mut c);
    for &i in &objs {
        ask(
            Template::ShapeOfColour,
            vec![Slot::Colour(scene.objects[i].colour)],
            &full,
            &mut c,
        );
        ask(
            Template::DoesTouch,
            vec![Slot::Thing(Thing::Agent), thing(i)],
            &full,
            &mut c,
        );
        for &j in objs.iter().filter(|&&j| j > i) {
            ask(Template::DoesTouch, vec![thing(i), thing(j)], &full, &mut c);
        }
    }
    for z in &zones {
        ask(Template::WhichEnters, vec![*z], &full, &mut c);
    }
    emit(pick_balanced(c, PER_KIND, rng));

    // Explanatory: only where there is a visible cause (answer() refuses otherwise).
    let mut c = Vec::new();
    for &i in &moved {
        ask(Template::WhatMadeMove, vec![obj(i)], &full, &mut c);
        for z in &zones {
            ask(Template::WhatMadeEnter, vec![obj(i), *z], &full, &mut c);
        }
    }
    emit(pick_balanced(c, PER_KIND, rng));

    // Predictive: cut the clip a few frames before something happens to an object, when
    // something does, so the question is about an event still to come. Up to three cuts are
    // tried until one has a "yes" to ask about.
    if frames >= 6 {
        let upcoming: Vec<u32> = factual
            .events
            .iter()
            .filter(|e| e.frame > frames / 4 && e.kind.objects().next().is_some())
            .filter(|e| {
                !matches!(
                    e.kind,
                    EventKind::StartMoving { .. } | EventKind::ComeToRest { .. }
                )
            })
            .map(|e| e.frame)
            .collect();
        let mut c = Vec::new();
        for _ in 0..3 {
            let cut = match upcoming.as_slice() {
                [] => rng.random_range(frames / 3..=2 * frames / 3),
                f => f[rng.random_range(0..f.len())].saturating_sub(rng.random_range(1..=3)),
            }
            .max(2);
            predictive_candidates(scene, actions, factual, cut, &objs, &zones, &mut c);
            if c.iter().any(|(_, a, _)| *a == Answer::Yes) {
                break;
            }
        }
        emit(pick_balanced(c, PER_KIND, rng));
    }

    // Counterfactual: remove an object that took part in an interaction, when there is one,
    // so the answer often differs from what happened.
    if objs.len() >= 2 {
        let involved: Vec<usize> = objs
            .iter()
            .copied()
            .filter(|&i| {
                factual.events.iter().any(|e| {
                    matches!(e.kind, EventKind::Collision { a, b } if a.is_movable() && b.is_movable()
                        && (a == Entity::Object(i as u8) || b == Entity::Object(i as u8)))
                })
            })
            .collect();
        let pool = if involved.is_empty() {
            &objs
        } else {
            &involved
        };
        let removed = pool[rng.random_range(0..pool.len())];
        let cf = full.without(removed);
        let mut c = Vec::new();
        for &i in objs.iter().filter(|&&i| i != removed) {
            let o = i as u8;
            c.push((
                Question::new(Template::WithoutMove, vec![obj(removed), obj(i)]),
                Answer::yes_no(moves(&cf, o)),
                frames,
            ));
            let others = objs
                .iter()
                .filter(|&&j| j != i && j != removed)
                .map(|&j| (Thing::Obj(oref(j)), Entity::Object(j as u8)));
            for (t, e) in fixed_things.iter().copied().chain(others) {
                c.push((
                    Question::new(
                        Template::WithoutHit,
                        vec![obj(removed), obj(i), Slot::Thing(t)],
                    ),
                    Answer::yes_no(hits(&cf, Entity::Object(o), e)),
                    frames,
                ));
            }
            for (zi, z) in zones.iter().enumerate() {
                c.push((
                    Question::new(Template::WithoutEnter, vec![obj(removed), obj(i), *z]),
                    Answer::yes_no(enters(&cf, o, zi as u8)),
                    frames,
                ));
            }
        }
        emit(pick_balanced(c, PER_KIND, rng));
    }

    // Properties: only of objects seen moving, so the motion shows them.
    let mut c = Vec::new();
    if !moved.is_empty() {
        ask(Template::IsFloorSlippery, vec![], &full, &mut c);
    }
    for &i in &moved {
        for t in [Template::IsBouncy, Template::IsHeavy, Template::IsSlippery] {
            ask(t, vec![obj(i)], &full, &mut c);
        }
        for &j in moved.iter().filter(|&&j| j > i) {
            ask(Template::WhichHeavier, vec![obj(i), obj(j)], &full, &mut c);
        }
    }
    emit(pick_balanced(c, PER_KIND, rng));
    out
}

/// Predictive questions about the clip cut at `cut` frames, answered from one look-ahead
/// rollout with the agent holding still.
fn predictive_candidates(
    scene: &Scene,
    actions: &[Action],
    factual: &Rollout,
    cut: u32,
    objs: &[usize],
    zones: &[Slot],
    c: &mut Vec<Candidate>,
) {
    let clip = Clip {
        scene,
        actions,
        frames: cut,
        factual,
    };
    let future = clip.future();
    let state = &factual.states[(cut - 1) as usize];
    let obj = |i: usize| Slot::Obj(ObjRef::of(scene, i));
    let mut push = |q: Question, yes: bool| c.push((q, Answer::yes_no(yes), cut));
    for &i in objs.iter().filter(|&&i| state.objects[i].present) {
        let o = Entity::Object(i as u8);
        for (zi, z) in zones.iter().enumerate() {
            if !scene.zones[zi]
                .rect(scene.view)
                .contains(state.objects[i].position)
            {
                push(
                    Question::new(Template::WillEnter, vec![obj(i), *z]),
                    enters(&future, i as u8, zi as u8),
                );
            }
        }
        for &j in objs.iter().filter(|&&j| j != i && state.objects[j].present) {
            let yes = hits(&future, o, Entity::Object(j as u8));
            push(
                Question::new(
                    Template::WillHit,
                    vec![obj(i), Slot::Thing(Thing::Obj(ObjRef::of(scene, j)))],
                ),
                yes,
            );
        }
        push(
            Question::new(Template::WillHit, vec![obj(i), Slot::Thing(Thing::Wall)]),
            hits(&future, o, Entity::Wall),
        );
        if scene.view == View::Side && !scene.side_walls {
            push(
                Question::new(Template::WillFallOut, vec![obj(i)]),
                falls_out(&future, i as u8),
            );
        }
    }
}
