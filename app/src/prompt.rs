//! Scenes made from a sentence ("a red ball to the left of a big blue box"), typed into the page
//! or carried in a link, and any scene told back in the same words. The grammar is the world's
//! (`world::language::prompt`); this module adds the page's limits and messages.

use world::language::prompt::{PromptError, ScenePrompt};
use world::scene::Scene;

/// Longest sentence the page accepts, in characters. The grammar allows 80 words; this keeps
/// a link readable and a pasted essay out of the parser.
pub const MAX_PROMPT_CHARS: usize = 300;

/// Why a sentence did not become a scene, in words that say what to change.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PromptProblem {
    #[error(
        "the description is {0} characters long; descriptions have at most {MAX_PROMPT_CHARS}"
    )]
    TooLong(usize),
    #[error(transparent)]
    Unreadable(#[from] PromptError),
}

/// The scene `text` describes, laid out (positions, hidden properties, the agent's start) by
/// `seed`: the same sentence and seed always give the same scene.
pub fn scene_from_prompt(text: &str, seed: u64) -> Result<Scene, PromptProblem> {
    let length = text.chars().count();
    if length > MAX_PROMPT_CHARS {
        return Err(PromptProblem::TooLong(length));
    }
    Ok(ScenePrompt::parse(text)?.realize(seed)?)
}

/// `scene` in the world's language, as the model reads it: "seen from above, two red balls".
pub fn scene_in_words(scene: &Scene) -> String {
    ScenePrompt::describe(scene).text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use world::scene::{Colour, Shape, Size, View};

    #[test]
    fn a_sentence_gives_the_objects_it_names_laid_out_by_the_seed() {
        let text = "a red ball to the left of a big blue box";
        let scene = scene_from_prompt(text, 3).expect("scene");
        assert_eq!(scene.view, View::TopDown);
        let looks: Vec<_> = scene
            .objects
            .iter()
            .map(|o| (o.shape, o.colour, o.size))
            .collect();
        assert_eq!(looks.len(), 2);
        assert!(
            looks.contains(&(Shape::Box, Colour::Blue, Size::Large)),
            "{looks:?}"
        );
        assert!(
            looks
                .iter()
                .any(|&(shape, colour, _)| (shape, colour) == (Shape::Ball, Colour::Red)),
            "{looks:?}"
        );
        let ball = scene
            .objects
            .iter()
            .find(|o| o.shape == Shape::Ball)
            .expect("ball");
        let bx = scene
            .objects
            .iter()
            .find(|o| o.shape == Shape::Box)
            .expect("box");
        assert!(
            ball.position[0] < bx.position[0],
            "the ball must be left of the box"
        );

        assert_eq!(
            scene_from_prompt(text, 3),
            Ok(scene.clone()),
            "same seed, same scene"
        );
        assert_ne!(
            scene_from_prompt(text, 4),
            Ok(scene),
            "another seed, another layout"
        );
    }

    #[test]
    fn a_scene_from_a_sentence_is_told_back_in_the_same_words() {
        let scene = scene_from_prompt("two red balls", 5).expect("scene");
        assert_eq!(scene_in_words(&scene), "seen from above, two red balls");
        let side = scene_from_prompt("seen from the side, a yellow box", 5).expect("scene");
        assert_eq!(scene_in_words(&side), "seen from the side, a yellow box");
        // Relations are told left to right, each from the object before.
        let pair = scene_from_prompt(
            "seen from the side, a yellow box to the left of a blue ball",
            3,
        )
        .expect("scene");
        assert_eq!(
            scene_in_words(&pair),
            "seen from the side, a yellow box and a blue ball to the right of the yellow box"
        );
    }

    #[test]
    fn unknown_words_are_named() {
        let problem = scene_from_prompt("a red dragon", 1).expect_err("dragon");
        assert!(problem.to_string().contains("\"dragon\""), "{problem}");
    }

    #[test]
    fn sentences_longer_than_the_limit_are_refused_before_parsing() {
        let long = "a red ball and ".repeat(30);
        assert_eq!(
            scene_from_prompt(&long, 1),
            Err(PromptProblem::TooLong(long.chars().count()))
        );
        let message = PromptProblem::TooLong(450).to_string();
        assert!(
            message.contains("450") && message.contains("300"),
            "{message}"
        );
    }
}
