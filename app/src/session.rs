//! One scene running on the page: the simulator, the two renderers (the large view people
//! watch and the small frame the model sees) and the log of what happened, in words.
//! Plain Rust, so it is tested natively; the components only call it and paint its pixels.

use std::collections::VecDeque;

use world::action::Action;
use world::language::caption::{caption, narrate};
use world::render::{RenderError, Renderer, FRAME_SIZE};
use world::scene::{Scene, View};
use world::sim::{Simulator, FPS};

use crate::prompt::{scene_from_prompt, PromptProblem};

/// Side of the large view, pixels.
pub const WORLD_VIEW_SIZE: u32 = 384;
/// Side of the model's view, pixels: the frames the model is trained on.
pub const MODEL_VIEW_SIZE: u32 = FRAME_SIZE;
/// Lines the event log keeps; older ones drop off.
pub const MAX_LOG_LINES: usize = 60;

/// Why a session could not start.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SessionError {
    #[error("the {view} cannot be drawn: {source}")]
    Renderer {
        view: &'static str,
        #[source]
        source: RenderError,
    },
    #[error(transparent)]
    Prompt(#[from] PromptProblem),
}

/// One sentence of the event log. A sentence said again straight away (a ball bouncing on the
/// floor) is counted on the line before instead of filling the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Frame of the latest occurrence.
    pub frame: u32,
    pub text: String,
    /// How many times in a row it happened, at least 1.
    pub count: u32,
}

/// A scene being simulated and drawn.
pub struct Session {
    seed: u64,
    scene: Scene,
    sim: Simulator,
    world_view: Renderer,
    model_view: Renderer,
    /// Oldest first.
    log: VecDeque<LogLine>,
}

impl Session {
    /// The scene of `seed`, at frame 0.
    pub fn new(seed: u64) -> Result<Session, SessionError> {
        Session::with_scene(seed, Scene::generate(seed))
    }

    /// The scene `prompt` describes, laid out by `seed`, at frame 0.
    pub fn from_prompt(seed: u64, prompt: &str) -> Result<Session, SessionError> {
        Session::with_scene(seed, scene_from_prompt(prompt, seed)?)
    }

    fn with_scene(seed: u64, scene: Scene) -> Result<Session, SessionError> {
        let renderer = |size, view| {
            Renderer::new(size, size).map_err(|source| SessionError::Renderer { view, source })
        };
        Ok(Session {
            seed,
            sim: Simulator::new(&scene),
            scene,
            world_view: renderer(WORLD_VIEW_SIZE, "world view")?,
            model_view: renderer(MODEL_VIEW_SIZE, "model's view")?,
            log: VecDeque::new(),
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// Frames stepped since the start.
    pub fn frame(&self) -> u32 {
        self.sim.frame()
    }

    /// Simulated time since the start, seconds.
    pub fn seconds(&self) -> f32 {
        self.sim.frame() as f32 / FPS
    }

    /// Where the agent is, world units.
    pub fn agent_position(&self) -> [f32; 2] {
        self.sim.state().agent.position
    }

    /// Advances one frame with the agent driven by `action`; returns whether the log changed.
    pub fn step(&mut self, action: Action) -> bool {
        let scene = &self.scene;
        let sentences: Vec<(u32, String)> = self
            .sim
            .step(action)
            .iter()
            .filter_map(|event| Some((event.frame, narrate(scene, event)?)))
            .collect();
        let changed = !sentences.is_empty();
        for (frame, text) in sentences {
            self.remember(frame, text);
        }
        changed
    }

    fn remember(&mut self, frame: u32, text: String) {
        if let Some(last) = self.log.back_mut().filter(|last| last.text == text) {
            last.count += 1;
            last.frame = frame;
            return;
        }
        if self.log.len() == MAX_LOG_LINES {
            self.log.pop_front();
        }
        self.log.push_back(LogLine {
            frame,
            text,
            count: 1,
        });
    }

    /// Back to frame 0 of the same scene, with an empty log.
    pub fn restart(&mut self) {
        self.sim = Simulator::new(&self.scene);
        self.log.clear();
    }

    /// The event log, newest first.
    pub fn log(&self) -> impl Iterator<Item = &LogLine> {
        self.log.iter().rev()
    }

    /// The caption of the episode so far, as the dataset would write it.
    pub fn caption(&self) -> String {
        if self.sim.events().is_empty() {
            return "Nothing has happened yet.".into();
        }
        let text = caption(&self.scene, self.sim.events());
        capitalise(&text)
    }

    /// RGBA pixels of the large view, `WORLD_VIEW_SIZE`² * 4 bytes.
    pub fn draw_world_view(&mut self) -> &[u8] {
        let state = self.sim.state();
        self.world_view.draw(&self.scene, &state)
    }

    /// RGBA pixels of what the model sees, `MODEL_VIEW_SIZE`² * 4 bytes.
    pub fn draw_model_view(&mut self) -> &[u8] {
        let state = self.sim.state();
        self.model_view.draw(&self.scene, &state)
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A one-line description of a scene for the page, e.g. "Top-down table · 3 objects · 1 goal
/// zone". Hidden properties (mass, friction, bounce) are left for the motion to reveal.
pub fn describe_scene(scene: &Scene) -> String {
    let view = match (scene.view, scene.side_walls) {
        (View::TopDown, _) => "Top-down table",
        (View::Side, true) => "Side view, walled",
        (View::Side, false) => "Side view, open ends",
    };
    let plural = |n: usize, one: &str, many: &str| match n {
        0 => format!("no {many}"),
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    };
    format!(
        "{view} · {} · {}",
        plural(scene.objects.len(), "object", "objects"),
        plural(scene.zones.len(), "goal zone", "goal zones")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use world::scene::{Anchor, Colour, Shape, ZoneColour};

    #[test]
    fn a_new_session_starts_at_frame_zero_of_its_seed() {
        let session = Session::new(7).expect("session");
        assert_eq!(session.frame(), 0);
        assert_eq!(session.seed(), 7);
        assert_eq!(session.scene(), &Scene::generate(7));
        assert_eq!(session.log().count(), 0);
        assert_eq!(session.caption(), "Nothing has happened yet.");
    }

    #[test]
    fn stepping_advances_the_frame_and_the_clock() {
        let mut session = Session::new(3).expect("session");
        for _ in 0..5 {
            session.step(Action::STAY);
        }
        assert_eq!(session.frame(), 5);
        assert!((session.seconds() - 0.5).abs() < 1e-4);
    }

    #[test]
    fn driving_east_moves_the_agent_east_and_changes_the_picture() {
        let mut session = Session::new(7).expect("session");
        let start = session.agent_position();
        let before = session.draw_world_view().to_vec();
        let model_before = session.draw_model_view().to_vec();
        for _ in 0..5 {
            session.step(Action::from_discrete(1));
        }
        let end = session.agent_position();
        assert!(
            end[0] > start[0] + 0.5,
            "agent went from {start:?} to {end:?}"
        );
        assert!(
            (end[1] - start[1]).abs() < 0.2,
            "agent drifted vertically: {start:?} -> {end:?}"
        );
        assert_ne!(session.draw_world_view(), &before[..]);
        assert_ne!(session.draw_model_view(), &model_before[..]);
    }

    #[test]
    fn views_have_the_advertised_sizes() {
        let mut session = Session::new(1).expect("session");
        assert_eq!(
            session.draw_world_view().len(),
            (WORLD_VIEW_SIZE * WORLD_VIEW_SIZE * 4) as usize
        );
        assert_eq!(
            session.draw_model_view().len(),
            (MODEL_VIEW_SIZE * MODEL_VIEW_SIZE * 4) as usize
        );
    }

    #[test]
    fn restart_returns_to_the_first_frame_and_the_same_picture() {
        let mut session = Session::new(5).expect("session");
        let first = session.draw_world_view().to_vec();
        for _ in 0..20 {
            session.step(Action::new(-0.7, 0.7));
        }
        session.restart();
        assert_eq!(session.frame(), 0);
        assert_eq!(session.log().count(), 0);
        assert_eq!(session.draw_world_view(), &first[..]);
    }

    /// Drives the agent back and forth across the arena so it hits things, for `frames`.
    fn sweep(session: &mut Session, frames: u32) {
        for f in 0..frames {
            let east = (f / 30) % 2 == 0;
            session.step(Action::from_discrete(if east { 1 } else { 5 }));
        }
    }

    #[test]
    fn events_are_logged_in_words_newest_first() {
        let mut session = Session::new(2).expect("session");
        sweep(&mut session, 120);
        let lines: Vec<&LogLine> = session.log().collect();
        assert!(
            !lines.is_empty(),
            "sweeping the arena for 12 s must hit at least a wall"
        );
        assert!(
            lines.windows(2).all(|w| w[0].frame >= w[1].frame),
            "newest first"
        );
        assert!(lines
            .iter()
            .all(|l| l.text.starts_with("the ") && l.count >= 1));
        assert_ne!(session.caption(), "Nothing has happened yet.");
        assert!(session
            .caption()
            .chars()
            .next()
            .is_some_and(char::is_uppercase));
    }

    #[test]
    fn the_log_keeps_only_the_newest_lines_and_folds_repeats() {
        let mut session = Session::new(2).expect("session");
        for i in 0..(MAX_LOG_LINES as u32 + 10) {
            session.remember(i, format!("line {i}"));
        }
        session.remember(100, format!("line {}", MAX_LOG_LINES + 9));
        let lines: Vec<&LogLine> = session.log().collect();
        assert_eq!(lines.len(), MAX_LOG_LINES);
        assert_eq!(lines[0].text, format!("line {}", MAX_LOG_LINES + 9));
        assert_eq!((lines[0].count, lines[0].frame), (2, 100));
        assert_eq!(lines[MAX_LOG_LINES - 1].text, "line 10");
    }

    #[test]
    fn a_session_from_a_prompt_runs_the_objects_it_names() {
        let prompt = "seen from the side, two yellow boxes and a green zone on the right";
        let mut session = Session::from_prompt(9, prompt).expect("session");
        let scene = session.scene();
        assert_eq!(session.seed(), 9);
        assert_eq!(scene.view, View::Side);
        assert_eq!(scene.objects.len(), 2);
        for object in &scene.objects {
            assert_eq!((object.shape, object.colour), (Shape::Box, Colour::Yellow));
        }
        assert_eq!(scene.zones.len(), 1);
        assert_eq!(scene.zones[0].colour, ZoneColour::Green);
        assert_eq!(scene.zones[0].anchor, Anchor::Right);
        assert_ne!(scene, &Scene::generate(9));

        let first = session.draw_world_view().to_vec();
        sweep(&mut session, 30);
        assert_eq!(session.frame(), 30);
        session.restart();
        assert_eq!(
            session.draw_world_view(),
            &first[..],
            "restart keeps the prompt's scene"
        );
    }

    #[test]
    fn a_prompt_that_cannot_be_read_gives_no_session() {
        match Session::from_prompt(1, "a red dragon") {
            Err(SessionError::Prompt(problem)) => {
                assert!(problem.to_string().contains("\"dragon\""), "{problem}")
            }
            Err(other) => panic!("expected a prompt problem, got {other}"),
            Ok(_) => panic!("a red dragon made a scene"),
        }
    }

    #[test]
    fn scene_descriptions_count_objects_and_zones() {
        let mut scene = Scene::generate(1);
        scene.view = View::TopDown;
        scene.objects.truncate(1);
        scene.zones.clear();
        assert_eq!(
            describe_scene(&scene),
            "Top-down table · 1 object · no goal zones"
        );
        scene.view = View::Side;
        scene.side_walls = false;
        assert!(describe_scene(&scene).starts_with("Side view, open ends · "));
    }
}
