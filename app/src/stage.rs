//! The running scene wired to the page: the [`Session`], who steers it, the clock, and the
//! signals and canvases that show it. Components call its methods; it holds no markup.
//!
//! The session lives in an `Rc<RefCell>` rather than a Leptos `StoredValue`: stepping it
//! updates signals, and a local `StoredValue` holds the reactive arena locked while its
//! closure runs.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use world::action::{Action, DISCRETE_NAMES};

use crate::browser::{paint, BrowserError};
use crate::controls::{Direction, Steering};
use crate::dreamer::Dreamer;
use crate::pacing::Pacer;
use crate::prompt::{scene_in_words, PromptProblem};
use crate::session::{
    describe_scene, LogLine, Session, SessionError, MODEL_VIEW_SIZE, WORLD_VIEW_SIZE,
};
use crate::url_state::PageState;

/// What the page shows, as signals the components read.
#[derive(Clone, Copy)]
pub struct StageView {
    pub page: RwSignal<PageState>,
    /// Frames stepped since the scene started.
    pub frame: RwSignal<u32>,
    /// Newest first.
    pub log: RwSignal<Vec<LogLine>>,
    /// Caption of the episode so far.
    pub caption: RwSignal<String>,
    /// One line about the scene ("Top-down table · 3 objects · 1 goal zone").
    pub scene: RwSignal<String>,
    /// The scene in the world's language ("seen from above, two red balls").
    pub scene_words: RwSignal<String>,
    /// Why the last sentence typed did not become a scene, for people.
    pub prompt_problem: RwSignal<Option<String>>,
    /// The move the agent is being asked for ("east", "toward the pointer").
    pub steering: RwSignal<&'static str>,
    /// A problem that stops the scene from running or showing, for people.
    pub error: RwSignal<Option<String>>,
}

/// The large and the small canvas.
#[derive(Clone, Copy)]
pub struct Canvases {
    pub world: NodeRef<Canvas>,
    pub model: NodeRef<Canvas>,
}

#[derive(Clone)]
pub struct Stage {
    /// `None` when the scene could not be set up; `view.error` says why.
    session: Rc<RefCell<Option<Session>>>,
    steering: Rc<RefCell<Steering>>,
    pacer: Rc<RefCell<Pacer>>,
    pub view: StageView,
    canvases: Canvases,
    on_change: Option<Callback<PageState>>,
    /// The model dreaming the same steps, once it is wired in.
    dreamer: Option<Dreamer>,
}

impl Stage {
    /// A stage showing `initial`, painting into `canvases` once they are mounted and telling
    /// `on_change` about every change of seed, prompt, speed or pause state.
    pub fn new(
        initial: PageState,
        canvases: Canvases,
        on_change: Option<Callback<PageState>>,
        dreamer: Option<Dreamer>,
    ) -> Stage {
        let stage = Stage {
            session: Rc::new(RefCell::new(None)),
            steering: Rc::default(),
            pacer: Rc::default(),
            view: StageView {
                page: RwSignal::new(initial),
                frame: RwSignal::new(0),
                log: RwSignal::new(Vec::new()),
                caption: RwSignal::new(String::new()),
                scene: RwSignal::new(String::new()),
                scene_words: RwSignal::new(String::new()),
                prompt_problem: RwSignal::new(None),
                steering: RwSignal::new(DISCRETE_NAMES[0]),
                error: RwSignal::new(None),
            },
            canvases,
            on_change,
            dreamer,
        };
        stage.load_page_scene();
        stage
    }

    /// Builds the page's scene (its prompt laid out by its seed, or the seed's own scene) at
    /// frame 0 and shows it. A prompt that cannot be laid out is dropped, with the reason
    /// shown by the prompt box, and the seed's own scene is shown instead.
    fn load_page_scene(&self) {
        let page = self.view.page.get_untracked();
        if let Err(problem) = self.load(page.seed, page.prompt.as_deref()) {
            self.view.prompt_problem.set(Some(problem.to_string()));
            self.change_page(|page| page.prompt = None);
            // Without a prompt there is nothing left that could be refused.
            let _ = self.load(page.seed, None);
        }
    }

    /// Builds the scene of `prompt` laid out by `seed`, or of `seed` alone, at frame 0 and
    /// shows it. A prompt that cannot be made into a scene leaves the scene on show running.
    fn load(&self, seed: u64, prompt: Option<&str>) -> Result<(), PromptProblem> {
        let session = match prompt {
            Some(prompt) => Session::from_prompt(seed, prompt),
            None => Session::new(seed),
        };
        let session = match session {
            Err(SessionError::Prompt(problem)) => return Err(problem),
            Err(error) => {
                self.view.error.set(Some(error.to_string()));
                None
            }
            Ok(session) => {
                self.view.error.set(None);
                self.view.scene.set(describe_scene(session.scene()));
                self.view.scene_words.set(scene_in_words(session.scene()));
                Some(session)
            }
        };
        *self.session.borrow_mut() = session;
        self.pacer.borrow_mut().pause();
        self.restart_dream();
        self.show(true);
        Ok(())
    }

    /// Copies the session's frame, log and caption into the signals and repaints the canvases.
    /// The log and caption are only rebuilt when `log_changed`.
    fn show(&self, log_changed: bool) {
        {
            let session = self.session.borrow();
            let Some(session) = session.as_ref() else {
                return;
            };
            self.view.frame.set(session.frame());
            if log_changed {
                self.view.log.set(session.log().cloned().collect());
                self.view.caption.set(session.caption());
            }
        }
        self.paint();
    }

    /// Draws the current state onto both canvases, if they are mounted.
    pub fn paint(&self) {
        let mut session = self.session.borrow_mut();
        let Some(session) = session.as_mut() else {
            return;
        };
        let (Some(world), Some(model)) = (
            self.canvases.world.get_untracked(),
            self.canvases.model.get_untracked(),
        ) else {
            return;
        };
        let painted = paint(&world, session.draw_world_view(), WORLD_VIEW_SIZE)
            .and_then(|()| paint(&model, session.draw_model_view(), MODEL_VIEW_SIZE));
        if let Err(error) = painted {
            self.report(error);
        }
    }

    /// Starts the dream again from the session's current frame.
    fn restart_dream(&self) {
        let mut session = self.session.borrow_mut();
        let (Some(dreamer), Some(session)) = (&self.dreamer, session.as_mut()) else {
            return;
        };
        let colours = session
            .scene()
            .objects
            .iter()
            .map(|o| o.colour.rgb())
            .collect();
        dreamer.reset(session.frame(), session.draw_model_view(), colours);
    }

    fn report(&self, error: BrowserError) {
        self.view.error.set(Some(error.to_string()));
    }

    fn advance(&self, frames: u32) {
        if frames == 0 {
            return;
        }
        let mut log_changed = false;
        {
            let mut session = self.session.borrow_mut();
            let Some(session) = session.as_mut() else {
                return;
            };
            let steering = *self.steering.borrow();
            for _ in 0..frames {
                // The model knows nine moves: the world is driven by the nearest one, so the
                // simulator and the dream take the same actions.
                let discrete = steering.action(session.agent_position()).to_discrete();
                log_changed |= session.step(Action::from_discrete(discrete));
                if let Some(dreamer) = &self.dreamer {
                    dreamer.observe(session.frame(), discrete, session.draw_model_view());
                }
            }
        }
        self.show(log_changed);
        if let Some(dreamer) = &self.dreamer {
            dreamer.pump();
        }
    }

    fn change_page(&self, change: impl FnOnce(&mut PageState)) {
        let before = self.view.page.get_untracked();
        let mut after = before.clone();
        change(&mut after);
        if after == before {
            return;
        }
        self.view.page.set(after.clone());
        if let Some(on_change) = self.on_change {
            on_change.run(after);
        }
    }

    /// Runs the frames due at an animation frame stamped `now_ms`.
    pub fn on_animation_frame(&self, now_ms: f64) {
        // Gone once the page is unmounted; the loop stops with it.
        let Some((paused, speed)) = self
            .view
            .page
            .try_with_untracked(|page| (page.paused, page.speed))
        else {
            return;
        };
        if paused {
            self.pacer.borrow_mut().pause();
            return;
        }
        let frames = self.pacer.borrow_mut().frames_due(now_ms, speed);
        self.advance(frames);
    }

    pub fn toggle_play(&self) {
        self.change_page(|page| page.paused = !page.paused);
    }

    /// Pauses (if running) and advances exactly one frame.
    pub fn step(&self) {
        self.change_page(|page| page.paused = true);
        self.advance(1);
    }

    /// Back to frame 0 of the same scene.
    pub fn restart(&self) {
        if let Some(session) = self.session.borrow_mut().as_mut() {
            session.restart();
        }
        self.pacer.borrow_mut().pause();
        self.restart_dream();
        self.show(true);
    }

    /// Shows the scene of `seed` (the prompt's, laid out anew, when there is one) from its
    /// start; nothing happens if it is already shown.
    pub fn set_seed(&self, seed: u64) {
        if seed == self.view.page.with_untracked(|page| page.seed) {
            return;
        }
        self.change_page(|page| page.seed = seed);
        self.load_page_scene();
    }

    /// Makes the scene `text` describes, laid out by the current seed, and shows it from its
    /// start; empty text goes back to the seed's own scene. A sentence that cannot be made into
    /// a scene is explained in `view.prompt_problem` and the scene on show keeps running.
    pub fn set_prompt(&self, text: &str) {
        let text = text.trim();
        let prompt = (!text.is_empty()).then(|| text.to_string());
        let seed = self.view.page.with_untracked(|page| page.seed);
        match self.load(seed, prompt.as_deref()) {
            Ok(()) => {
                self.view.prompt_problem.set(None);
                self.change_page(|page| page.prompt = prompt);
            }
            Err(problem) => self.view.prompt_problem.set(Some(problem.to_string())),
        }
    }

    /// The dream's temperature and resync interval, kept in the page state (and so the URL).
    pub fn set_dream_settings(&self, temperature: f32, resync: u32) {
        self.change_page(|page| {
            page.temperature = temperature;
            page.resync = resync;
        });
    }

    pub fn set_speed(&self, speed: f32) {
        self.change_page(|page| page.speed = speed);
    }

    /// A direction key went down (`held`) or up.
    pub fn steer_key(&self, direction: Direction, held: bool) {
        let mut steering = self.steering.borrow_mut();
        if held {
            steering.keys.press(direction);
        } else {
            steering.keys.release(direction);
        }
        drop(steering);
        self.show_steering();
    }

    /// Forgets held keys and pointer, for when the page loses focus.
    pub fn release_all(&self) {
        *self.steering.borrow_mut() = Steering::default();
        self.show_steering();
    }

    /// A pointer is held on the world at `target` (world units), or was let go (`None`).
    pub fn steer_pointer(&self, target: Option<[f32; 2]>) {
        self.steering.borrow_mut().pointer = target;
        self.show_steering();
    }

    fn show_steering(&self) {
        let steering = *self.steering.borrow();
        let name = match steering.pointer {
            Some(_) => "toward the pointer",
            None => DISCRETE_NAMES[steering.keys.discrete_move() as usize],
        };
        self.view.steering.set(name);
    }
}
