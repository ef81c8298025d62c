//! One episode of data: a seeded scene driven by the exploration policy, rendered to frames,
//! with its event log, caption, scene prompt and questions.

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::events::Event;
use crate::language::caption::caption;
use crate::language::prompt::ScenePrompt;
use crate::language::qa::{generate_questions, QuestionAnswer};
use crate::policy::ExplorationPolicy;
use crate::render::{RenderError, Renderer, FRAME_SIZE};
use crate::scene::{derive_seed, rng_from_seed, Scene};
use crate::sim::{Simulator, WorldState};

/// Shape of the episodes a dataset holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpisodeConfig {
    /// Actions per episode; an episode has `steps + 1` frames.
    pub steps: u32,
    pub width: u32,
    pub height: u32,
    /// Whether to generate questions (they re-simulate, so they cost time).
    pub questions: bool,
}

impl Default for EpisodeConfig {
    fn default() -> Self {
        EpisodeConfig {
            steps: 40,
            width: FRAME_SIZE,
            height: FRAME_SIZE,
            questions: true,
        }
    }
}

/// Everything recorded about one episode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    pub seed: u64,
    pub scene: Scene,
    /// Discrete action per step (see [`Action::from_discrete`]).
    pub actions: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// `(steps + 1) * height * width * 3` bytes: frame-major, row-major RGB.
    pub frames: Vec<u8>,
    /// True poses after each step (`steps + 1`), for evaluation only; never a model input.
    pub states: Vec<WorldState>,
    pub events: Vec<Event>,
    pub caption: String,
    /// A prompt that describes the first frame.
    pub prompt: String,
    pub questions: Vec<QuestionAnswer>,
}

impl Episode {
    pub fn frame_count(&self) -> usize {
        self.states.len()
    }

    /// Bytes of frame `t`.
    pub fn frame(&self, t: usize) -> &[u8] {
        let n = (self.width * self.height * 3) as usize;
        &self.frames[t * n..(t + 1) * n]
    }

    pub fn continuous_actions(&self) -> Vec<Action> {
        self.actions
            .iter()
            .map(|&a| Action::from_discrete(a))
            .collect()
    }
}

/// Simulates and renders episode `seed` (its scene, policy and questions all derive from it).
pub fn generate_episode(seed: u64, config: &EpisodeConfig) -> Result<Episode, RenderError> {
    let scene = Scene::generate(derive_seed(seed, 0));
    let mut policy = ExplorationPolicy::new(rng_from_seed(derive_seed(seed, 1)));
    let mut renderer = Renderer::new(config.width, config.height)?;
    let mut sim = Simulator::new(&scene);

    let steps = config.steps as usize;
    let mut actions = Vec::with_capacity(steps);
    let mut states = Vec::with_capacity(steps + 1);
    let mut frames = Vec::with_capacity((steps + 1) * (config.width * config.height * 3) as usize);
    let mut state = sim.state();
    for t in 0..=steps {
        frames.extend_from_slice(&renderer.draw_rgb(&scene, &state));
        if t == steps {
            states.push(state);
            break;
        }
        let a = policy.act(&scene, &state);
        actions.push(a);
        sim.step(Action::from_discrete(a));
        states.push(std::mem::replace(&mut state, sim.state()));
    }
    let factual = crate::sim::Rollout {
        states,
        events: sim.events().to_vec(),
    };
    let caption = caption(&scene, &factual.events);
    let prompt = ScenePrompt::describe(&scene).text();
    let questions = if config.questions {
        let continuous: Vec<Action> = actions.iter().map(|&a| Action::from_discrete(a)).collect();
        generate_questions(
            &scene,
            &continuous,
            &factual,
            &mut rng_from_seed(derive_seed(seed, 2)),
        )
    } else {
        Vec::new()
    };
    let crate::sim::Rollout { states, events } = factual;
    Ok(Episode {
        seed,
        scene,
        actions,
        width: config.width,
        height: config.height,
        frames,
        states,
        events,
        caption,
        prompt,
        questions,
    })
}
