//! Training and evaluation data, generated from seeds by the world crate: frames as patches,
//! actions, texts as token ids, and goal distances for the planning heads.
//!
//! The model only ever reads pixels, actions and words. Simulator state is used for targets
//! (answers, goal distances), never as an input.

use world::episode::{generate_episode, EpisodeConfig};
use world::events::Entity;
use world::language::names::{entity_phrase, is_unambiguous, zone_phrase};
use world::language::qa::QuestionAnswer;
use world::language::vocab::{tokenize, ANS, BOS, EOS, PAD};
use world::scene::Scene;
use world::sim::WorldState;

use crate::config::{ModelConfig, FRAME};
use crate::tasks::PushTask;

/// Seeds at or above this are never used for training: evaluation draws from here.
pub const EVAL_SEED_BASE: u64 = 1_000_000;
/// Push-to-goal tasks for the planning evaluation start here.
pub const TASK_SEED_BASE: u64 = 2_000_000;

/// A goal the planning heads learn to score: push `object` into `zone`.
#[derive(Clone, Debug)]
pub struct Goal {
    pub object: usize,
    pub zone: usize,
    pub words: Vec<u16>,
}

/// One episode, ready for the model.
pub struct Sample {
    pub seed: u64,
    pub scene: Scene,
    /// `frames x FRAME x FRAME x 3` RGB bytes.
    pub frames: Vec<u8>,
    pub actions: Vec<u8>,
    pub states: Vec<WorldState>,
    pub questions: Vec<QuestionAnswer>,
    /// `[BOS, caption, EOS]`.
    pub caption: Vec<u16>,
    /// Scene sentence, no BOS/EOS; empty when longer than `max_text`.
    pub prompt: Vec<u16>,
    pub goals: Vec<Goal>,
    /// Patch latents `[frames, P, L]` once the tokenizer is trained.
    pub latents: Vec<f32>,
}

impl Sample {
    pub fn frame_count(&self) -> usize {
        self.states.len()
    }
    pub fn frame(&self, t: usize) -> &[u8] {
        let n = FRAME * FRAME * 3;
        &self.frames[t * n..(t + 1) * n]
    }
    pub fn latents(&self, t: usize, per_frame: usize) -> &[f32] {
        &self.latents[t * per_frame..(t + 1) * per_frame]
    }
}

/// "the red ball enters the green zone ." in the world's words.
pub fn goal_text(scene: &Scene, object: usize, zone: usize) -> String {
    format!(
        "{} enters {} .",
        entity_phrase(scene, Entity::Object(object as u8)),
        zone_phrase(scene, zone)
    )
}

/// The cost the planning heads learn for a goal in a state: the planners' per-step cost
/// (object-to-zone distance plus a pull toward the spot behind the object; see
/// tasks::PushTask::step_cost), so the model's planner and the simulator oracle minimise the
/// same thing.
pub fn goal_cost(scene: &Scene, state: &WorldState, object: usize, zone: usize) -> f32 {
    PushTask {
        seed: 0,
        scene: scene.clone(),
        object,
        zone,
    }
    .step_cost(state)
}

/// Token ids of a text in the world's vocabulary; an unknown word is an error naming it.
pub fn words(text: &str) -> Result<Vec<u16>, String> {
    tokenize(text).map_err(|e| format!("{e} (in \"{text}\")"))
}

/// `[BOS, question, ANS, answer, EOS]` and the index of ANS.
pub fn qa_sequence(qa: &QuestionAnswer) -> Result<(Vec<u16>, usize), String> {
    let mut seq = vec![BOS];
    seq.extend(words(&qa.question)?);
    let ans = seq.len();
    seq.push(ANS);
    seq.extend(words(&qa.answer)?);
    seq.push(EOS);
    Ok((seq, ans))
}

pub use layout::frames::{clip_indices, patchify, unpatchify};

/// Generates `count` episodes from `first_seed` on `threads` threads, in seed order.
pub fn generate(
    c: &ModelConfig,
    first_seed: u64,
    count: usize,
    threads: usize,
) -> Result<Vec<Sample>, String> {
    let threads = threads.max(1);
    let config = EpisodeConfig {
        steps: 40,
        width: FRAME as u32,
        height: FRAME as u32,
        questions: true,
    };
    let results: Vec<Vec<Result<Sample, String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let config = &config;
                s.spawn(move || {
                    (k..count)
                        .step_by(threads)
                        .map(|i| sample(c, first_seed + i as u64, config))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("episode generation panicked"))
            .collect()
    });
    // Re-interleave into seed order.
    let mut out = Vec::with_capacity(count);
    let mut iters: Vec<_> = results.into_iter().map(|v| v.into_iter()).collect();
    for i in 0..count {
        out.push(iters[i % threads].next().expect("one result per seed")?);
    }
    Ok(out)
}

fn sample(c: &ModelConfig, seed: u64, config: &EpisodeConfig) -> Result<Sample, String> {
    let ep = generate_episode(seed, config).map_err(|e| format!("episode {seed}: {e}"))?;
    let mut caption = vec![BOS];
    caption.extend(words(&ep.caption)?);
    caption.push(EOS);
    let mut prompt = words(&ep.prompt)?;
    if prompt.len() > c.max_text {
        // Rare five-object scenes: too long to learn from; the episode is kept for the rest.
        prompt.clear();
    }
    let mut goals = Vec::new();
    for object in 0..ep.scene.objects.len() {
        if !is_unambiguous(&ep.scene, object) {
            continue;
        }
        for zone in 0..ep.scene.zones.len() {
            goals.push(Goal {
                object,
                zone,
                words: words(&goal_text(&ep.scene, object, zone))?,
            });
        }
    }
    for qa in &ep.questions {
        let (seq, _) = qa_sequence(qa)?;
        if seq.len() > c.max_text {
            return Err(format!(
                "episode {seed}: question of {} tokens exceeds max_text {}",
                seq.len(),
                c.max_text
            ));
        }
    }
    if caption.len() > c.max_text {
        return Err(format!(
            "episode {seed}: caption of {} tokens exceeds max_text {}",
            caption.len(),
            c.max_text
        ));
    }
    Ok(Sample {
        seed,
        scene: ep.scene,
        frames: ep.frames,
        actions: ep.actions,
        states: ep.states,
        questions: ep.questions,
        caption,
        prompt,
        goals,
        latents: Vec::new(),
    })
}

/// Pads token ids to `len` with PAD.
pub fn pad(ids: &[u16], len: usize) -> Vec<i64> {
    ids.iter()
        .map(|&t| t as i64)
        .chain(std::iter::repeat(PAD as i64))
        .take(len)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patchify_round_trips() {
        let frame: Vec<u8> = (0..FRAME * FRAME * 3)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut p = Vec::new();
        patchify(&frame, 8, &mut p);
        assert_eq!(p.len(), FRAME * FRAME * 3);
        assert_eq!(unpatchify(&p, 8), frame);
        // Patch 1 starts at pixel (0, 8).
        assert_eq!(p[192], frame[8 * 3] as f32 / 255.0);
    }

    #[test]
    fn clip_indices_cover_the_clip() {
        assert_eq!(clip_indices(41, 5), vec![0, 10, 20, 30, 40]);
        let i = clip_indices(30, 20);
        assert_eq!((i[0], i[19]), (0, 29));
        assert!(i.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn generated_texts_fit_and_goals_tokenize() {
        let c = ModelConfig::tiny();
        let samples = generate(&c, 0, 40, 2).unwrap();
        assert_eq!(
            samples.iter().map(|s| s.seed).collect::<Vec<_>>(),
            (0..40).collect::<Vec<_>>()
        );
        assert!(samples.iter().any(|s| !s.goals.is_empty()));
        for s in &samples {
            assert_eq!(s.frame_count(), 41);
            for g in &s.goals {
                let d = goal_cost(&s.scene, &s.states[0], g.object, g.zone);
                assert!((0.0..=2.0).contains(&d), "{d}");
            }
        }
    }
}
