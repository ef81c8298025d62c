//! The Ask demo's plain part: a clip of the world (an episode like those the model learned
//! from, driven by the exploration policy), its questions of every type with the simulator's
//! answers, typed questions answered the same way, and the model's replies read against them.

use world::action::Action;
use world::episode::{generate_episode, Episode, EpisodeConfig};
use world::events::Event;
use world::language::caption::caption;
use world::language::names::{entity_phrase, is_unambiguous};
use world::language::qa::QuestionAnswer;
use world::language::question::{answer, Clip, Question, QuestionKind};
use world::language::vocab;
use world::sim::Rollout;

/// The hidden properties read off the motion, as the questions that ask about them.
pub const PROPERTIES: [(&str, &str); 3] = [
    ("mass", "is {obj} heavy ?"),
    ("friction", "is {obj} slippery ?"),
    ("bounciness", "is {obj} bouncy ?"),
];

/// Objects whose properties the page reads, at most.
pub const MAX_PROPERTY_OBJECTS: usize = 3;

/// One clip and everything the simulator knows about it.
pub struct AskClip {
    pub episode: Episode,
    continuous: Vec<Action>,
    factual: Rollout,
}

/// A question about the clip with the simulator's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Asked {
    pub kind: QuestionKind,
    pub question: String,
    /// The simulator's answer, in words.
    pub truth: String,
    /// Frames of the clip the question is about (fewer than the clip for predictions, which
    /// ask what happens next).
    pub frames: usize,
}

impl From<&QuestionAnswer> for Asked {
    fn from(qa: &QuestionAnswer) -> Asked {
        Asked {
            kind: qa.kind,
            question: qa.question.clone(),
            truth: qa.answer.clone(),
            frames: qa.clip_frames as usize,
        }
    }
}

impl AskClip {
    /// The clip of episode `seed`: 41 frames at 64x64, with its questions.
    pub fn new(seed: u64) -> Result<AskClip, String> {
        let episode = generate_episode(seed, &EpisodeConfig::default())
            .map_err(|e| format!("the clip could not be drawn: {e}"))?;
        let continuous = episode.continuous_actions();
        let factual = Rollout {
            states: episode.states.clone(),
            events: episode.events.clone(),
        };
        Ok(AskClip {
            episode,
            continuous,
            factual,
        })
    }

    pub fn len(&self) -> usize {
        self.episode.frame_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first `n` frames (RGB, 64x64) and the action taken at each.
    pub fn clip(&self, n: usize) -> (Vec<&[u8]>, &[u8]) {
        let n = n.clamp(1, self.len());
        let frames = (0..n).map(|t| self.episode.frame(t)).collect();
        (
            frames,
            &self.episode.actions[..n.min(self.episode.actions.len())],
        )
    }

    /// The episode's questions, the first of each type first, then the rest.
    pub fn questions(&self) -> Vec<Asked> {
        let qs = &self.episode.questions;
        let mut out: Vec<Asked> = Vec::with_capacity(qs.len());
        for kind in QuestionKind::ALL {
            out.extend(qs.iter().find(|q| q.kind == kind).map(Asked::from));
        }
        for q in qs {
            let asked = Asked::from(q);
            if !out.contains(&asked) {
                out.push(asked);
            }
        }
        out
    }

    /// A question typed by a visitor, answered by the simulator over the whole clip. The
    /// error names what is wrong: an unknown word, no matching question, an object the scene
    /// does not have.
    pub fn typed(&self, text: &str) -> Result<Asked, String> {
        let q = Question::parse(text).map_err(|e| e.to_string())?;
        let frames = self.len();
        let clip = self.world_clip(frames);
        let a = answer(&q, &clip).map_err(|e| e.to_string())?;
        Ok(Asked {
            kind: q.kind(),
            question: q.text(),
            truth: a.text(),
            frames,
        })
    }

    fn world_clip(&self, frames: usize) -> Clip<'_> {
        Clip {
            scene: &self.episode.scene,
            actions: &self.continuous,
            frames: frames as u32,
            factual: &self.factual,
        }
    }

    /// What happened in the first `frames` frames, in the world's words.
    pub fn caption_until(&self, frames: usize) -> String {
        let events: Vec<Event> = self
            .episode
            .events
            .iter()
            .filter(|e| (e.frame as usize) < frames)
            .cloned()
            .collect();
        caption(&self.episode.scene, &events)
    }

    /// For up to [`MAX_PROPERTY_OBJECTS`] objects named unambiguously: the object's phrase, and
    /// per property of [`PROPERTIES`] the question and the simulator's answer ("yes"/"no"), or
    /// `None` when the clip cannot tell.
    pub fn property_questions(&self) -> Vec<(String, Vec<(String, Option<String>)>)> {
        let scene = &self.episode.scene;
        let clip = self.world_clip(self.len());
        (0..scene.objects.len())
            .filter(|&i| is_unambiguous(scene, i))
            .take(MAX_PROPERTY_OBJECTS)
            .map(|i| {
                let phrase = entity_phrase(scene, world::events::Entity::Object(i as u8));
                let rows = PROPERTIES
                    .iter()
                    .map(|(_, pattern)| {
                        let text = pattern.replace("{obj}", &phrase);
                        let truth = Question::parse(&text)
                            .ok()
                            .and_then(|q| answer(&q, &clip).ok())
                            .map(|a| a.text());
                        (text, truth)
                    })
                    .collect();
                (phrase, rows)
            })
            .collect()
    }
}

/// Word ids of a question for the model (no BOS or ANS), or what is wrong with it.
pub fn question_words(text: &str) -> Result<Vec<u16>, String> {
    let words = vocab::tokenize(text).map_err(|e| e.to_string())?;
    if words.is_empty() {
        return Err("the question is empty".into());
    }
    Ok(words)
}

/// Words of a reply as text.
pub fn reply_text(words: &[(u16, f32)]) -> String {
    let ids: Vec<u16> = words.iter().map(|w| w.0).collect();
    vocab::detokenize(&ids)
}

/// The probability that the answer is "yes" among "yes" and "no", from the model's
/// probabilities of the two as the first word (0.5 when it gives neither any weight).
pub fn yes_share(p_yes: f32, p_no: f32) -> f32 {
    let total = p_yes + p_no;
    if total > 0.0 && total.is_finite() {
        p_yes / total
    } else {
        0.5
    }
}

/// The word id of "yes" and of "no".
pub fn yes_no_ids() -> (u16, u16) {
    (
        vocab::id("yes").expect("yes is in the vocabulary"),
        vocab::id("no").expect("no is in the vocabulary"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_has_a_question_of_every_type_first() {
        // Not every episode has every type; find one that does among the first seeds.
        let clip = (0..40)
            .map(|s| AskClip::new(s).unwrap())
            .find(|c| {
                QuestionKind::ALL
                    .iter()
                    .all(|k| c.episode.questions.iter().any(|q| q.kind == *k))
            })
            .expect("an episode with all five question types");
        let qs = clip.questions();
        let first: Vec<QuestionKind> = qs.iter().take(5).map(|q| q.kind).collect();
        assert_eq!(first, QuestionKind::ALL);
        assert_eq!(qs.len(), clip.episode.questions.len());
        for q in &qs {
            assert!(q.frames >= 1 && q.frames <= clip.len());
            assert!(question_words(&q.question).is_ok(), "{}", q.question);
            // The typed path gives the same answer for the whole-clip questions.
            if q.frames == clip.len() {
                assert_eq!(clip.typed(&q.question).unwrap().truth, q.truth);
            }
        }
    }

    #[test]
    fn typed_questions_are_answered_or_refused_with_the_reason() {
        let clip = AskClip::new(3).unwrap();
        let count = clip.typed("how many collisions are there").unwrap();
        assert_eq!(count.kind, QuestionKind::Descriptive);
        assert!(
            vocab::NUMBERS.contains(&count.truth.as_str()),
            "{}",
            count.truth
        );
        let e = clip.typed("how many zebras are there ?").unwrap_err();
        assert!(e.contains("zebras"), "{e}");
        assert!(clip.typed("").is_err());
        assert!(clip.typed("is the floor heavy ?").is_err());
        assert_eq!(question_words("").unwrap_err(), "the question is empty");
    }

    #[test]
    fn captions_grow_with_the_clip_and_properties_have_truths() {
        let clip = AskClip::new(5).unwrap();
        assert_eq!(clip.caption_until(clip.len()), clip.episode.caption);
        let props = clip.property_questions();
        assert!(!props.is_empty() && props.len() <= MAX_PROPERTY_OBJECTS);
        for (phrase, rows) in &props {
            assert!(phrase.starts_with("the "));
            assert_eq!(rows.len(), 3);
            for (q, truth) in rows {
                assert!(question_words(q).is_ok(), "{q}");
                assert!(truth.as_deref().is_none_or(|t| t == "yes" || t == "no"));
            }
        }
        let (frames, actions) = clip.clip(10);
        assert_eq!((frames.len(), actions.len()), (10, 10));
        assert_eq!(yes_share(0.3, 0.1), 0.75);
        assert_eq!(yes_share(0.0, 0.0), 0.5);
        let (y, n) = yes_no_ids();
        assert_ne!(y, n);
    }
}
