//! The Plan demo's plain part: a push-to-goal task in the true simulator, goals set by a
//! sentence or by dragging an object onto a zone, the planner's settings, and one episode's
//! bookkeeping (plan, carry out the first action, plan again) for the model and for random
//! moves alike.

use layout::cem::{shift_plan, CemConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use world::action::{Action, DISCRETE_ACTIONS};
use world::language::question::{Question, Slot, Template};
use world::language::vocab;
use world::render::{Renderer, FRAME_SIZE};
use world::scene::{Scene, View, ARENA};
use world::sim::{Simulator, WorldState};
use world::task::PushTask;

/// Actions an episode may take before it counts as a miss.
pub const MAX_STEPS: usize = 60;
/// CEM iterations per plan (as in the evaluation).
pub const ITERATIONS: usize = 3;

/// The planner's settings for `rollouts` candidates per iteration looking `horizon` actions
/// ahead: one candidate in eight is an elite (at least 4), as in the evaluation.
pub fn settings(rollouts: u32, horizon: u32) -> CemConfig {
    let population = rollouts.max(1) as usize;
    CemConfig {
        population,
        elites: (population / 8).clamp(1, population).max(4.min(population)),
        iterations: ITERATIONS,
        horizon: horizon.max(1) as usize,
        ..CemConfig::default()
    }
}

/// The first task at or after `seed` (scenes seen from above with a zone make one).
pub fn task_from(seed: u64) -> PushTask {
    let mut s = seed;
    loop {
        if let Some(task) = PushTask::from_seed(s) {
            return task;
        }
        s = s.wrapping_add(1);
    }
}

/// The task of `base`'s scene with another goal: push object `object` into zone `zone`.
pub fn with_goal(base: &PushTask, object: usize, zone: usize) -> Result<PushTask, String> {
    let scene = &base.scene;
    if object >= scene.objects.len() || zone >= scene.zones.len() {
        return Err("that object or zone is not in this scene".into());
    }
    if !world::language::names::is_unambiguous(scene, object) {
        return Err(
            "the model names objects by colour and shape, and two objects here look alike: pick another".into(),
        );
    }
    let task = PushTask {
        object,
        zone,
        ..base.clone()
    };
    if task.success(&Simulator::new(scene).state()) {
        return Err("that object is already in that zone: pick another zone".into());
    }
    Ok(task)
}

/// Reads a goal sentence, "push the red box into the green zone" or the model's own form
/// "the red box enters the green zone .", into an object and a zone of `scene`. The error says
/// what is wrong (an unknown word, an object or zone the scene does not have).
pub fn goal_from_sentence(scene: &Scene, text: &str) -> Result<(usize, usize), String> {
    let words = vocab::split_words(text);
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| *w != ".")
        .collect();
    let words = match words.first() {
        Some(&"push") | Some(&"move") => &words[1..],
        _ => &words[..],
    };
    let split = words
        .iter()
        .position(|w| matches!(*w, "into" | "to" | "enters" | "in"))
        .ok_or_else(|| {
            "say which object goes where, as in \"push the red box into the green zone\""
                .to_string()
        })?;
    // The words other than the verb and "into" must be the world's; its question grammar
    // then reads the object and the zone.
    let (object, zone) = (words[..split].join(" "), words[split + 1..].join(" "));
    for part in [&object, &zone] {
        vocab::tokenize(part).map_err(|e| e.to_string())?;
    }
    let question = format!("will {object} enter {zone} ?");
    let q = Question::parse(&question).map_err(|_| {
        format!(
            "\"{}\" does not name an object and a zone, as in \"push the red box into the green zone\"",
            text.trim()
        )
    })?;
    if q.template != Template::WillEnter {
        return Err(
            "say which object goes where, as in \"push the red box into the green zone\"".into(),
        );
    }
    let (Some(Slot::Obj(o)), Some(Slot::Zone(z))) = (q.slots.first(), q.slots.get(1)) else {
        return Err(
            "say which object goes where, as in \"push the red box into the green zone\"".into(),
        );
    };
    let object = o.resolve(scene).map_err(|e| e.to_string())?;
    let zone = scene.zone(*z).map(|(i, _)| i).ok_or_else(|| {
        format!(
            "this scene has no {} zone",
            world::language::names::zone_colour_word(*z)
        )
    })?;
    Ok((object, zone))
}

/// The object under a point of the arena (world units), if any: the nearest whose bounding
/// circle holds the point.
pub fn object_at(scene: &Scene, state: &WorldState, p: [f32; 2]) -> Option<usize> {
    state
        .objects
        .iter()
        .enumerate()
        .filter(|(_, b)| b.present)
        .map(|(i, b)| (i, world::scene::dist(b.position, p)))
        .filter(|&(i, d)| d <= scene.objects[i].bounding_radius() * 1.3)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The zone holding a point of the arena, if any.
pub fn zone_at(scene: &Scene, p: [f32; 2]) -> Option<usize> {
    scene
        .zones
        .iter()
        .position(|z| z.rect(scene.view).contains(p))
}

/// A point of a square canvas of `size` pixels (y down) in arena units (y up).
pub fn canvas_to_arena(x: f32, y: f32, size: f32) -> [f32; 2] {
    [x / size * ARENA, (1.0 - y / size) * ARENA]
}

/// An arena point on a square canvas of `size` pixels.
pub fn arena_to_canvas(p: [f32; 2], size: f32) -> [f32; 2] {
    [p[0] / ARENA * size, (1.0 - p[1] / ARENA) * size]
}

/// Where a sequence of moves steers the agent from `start`, as a polyline: each move a step
/// of `step` arena units in its direction (a drawing of the candidate, not a simulation).
pub fn steer_path(start: [f32; 2], actions: &[u8], step: f32) -> Vec<[f32; 2]> {
    let mut p = start;
    let mut out = vec![p];
    for &a in actions {
        let d = Action::from_discrete(a);
        p = [
            (p[0] + d.x * step).clamp(0.0, ARENA),
            (p[1] + d.y * step).clamp(0.0, ARENA),
        ];
        out.push(p);
    }
    out
}

/// Who drives an episode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    Model,
    Random,
}

/// One episode of a task: the simulator, the model's two latest frames, what was done.
pub struct Run {
    pub task: PushTask,
    pub driver: Driver,
    sim: Simulator,
    renderer: Renderer,
    prev: Vec<u8>,
    cur: Vec<u8>,
    pub actions: Vec<u8>,
    /// The latest plan, warm-starting the next one.
    pub plan: Vec<u8>,
    /// `Some(true)` once the object is in the zone, `Some(false)` after [`MAX_STEPS`] without.
    pub outcome: Option<bool>,
    rng: ChaCha8Rng,
}

impl Run {
    pub fn new(task: PushTask, driver: Driver) -> Result<Run, String> {
        if task.scene.view != View::TopDown {
            return Err("planning tasks are seen from above".into());
        }
        let sim = Simulator::new(&task.scene);
        let mut renderer = Renderer::new(FRAME_SIZE, FRAME_SIZE).map_err(|e| e.to_string())?;
        let frame = renderer.draw_rgb(&task.scene, &sim.state());
        let rng = ChaCha8Rng::seed_from_u64(task.seed ^ 0x5eed);
        Ok(Run {
            task,
            driver,
            sim,
            renderer,
            prev: frame.clone(),
            cur: frame,
            actions: Vec::new(),
            plan: Vec::new(),
            outcome: None,
            rng,
        })
    }

    pub fn state(&self) -> WorldState {
        self.sim.state()
    }

    /// The two latest frames the model plans from (the first frame twice at the start).
    pub fn context(&self) -> [&[u8]; 2] {
        [&self.prev, &self.cur]
    }

    /// The move that led to the latest frame (stay at the start).
    pub fn last_move(&self) -> u8 {
        self.actions.last().copied().unwrap_or(0)
    }

    /// The goal in the model's words.
    pub fn goal_words(&self) -> Vec<u16> {
        vocab::tokenize(&self.task.goal_text()).expect("goal sentences use the vocabulary")
    }

    /// The previous plan moved on by one action, to start the next plan from.
    pub fn warm_start(&self, horizon: usize) -> Vec<u8> {
        if self.plan.len() <= 1 {
            return Vec::new();
        }
        shift_plan(&self.plan[1..], horizon)
    }

    /// A random move, for the random driver.
    pub fn random_action(&mut self) -> u8 {
        self.rng.random_range(0..DISCRETE_ACTIONS as u8)
    }

    /// Carries out `action` in the simulator; returns the outcome once the episode is over.
    pub fn act(&mut self, action: u8, plan: Vec<u8>) -> Option<bool> {
        if self.outcome.is_some() {
            return self.outcome;
        }
        self.sim.step(Action::from_discrete(action));
        self.actions.push(action);
        self.plan = plan;
        let frame = self.renderer.draw_rgb(&self.task.scene, &self.sim.state());
        self.prev = std::mem::replace(&mut self.cur, frame);
        let state = self.sim.state();
        if self.task.success(&state) {
            self.outcome = Some(true);
        } else if self.actions.len() >= MAX_STEPS {
            self.outcome = Some(false);
        }
        self.outcome
    }

    /// How far the object is from the zone (0 inside; see `PushTask::distance`).
    pub fn distance(&self) -> f32 {
        self.task.distance(&self.sim.state())
    }
}

/// Successes over episodes, for one driver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub episodes: u32,
    pub successes: u32,
}

impl Tally {
    pub fn add(&mut self, success: bool) {
        self.episodes += 1;
        self.successes += success as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_follow_the_sliders_and_are_valid() {
        for n in [16, 256, 4096] {
            for h in [4, 12, 24] {
                let s = settings(n, h);
                assert!(s.validate().is_ok(), "{s:?}");
                assert_eq!((s.population, s.horizon), (n as usize, h as usize));
            }
        }
        assert_eq!(settings(16, 12).elites, 4);
        assert_eq!(settings(4096, 12).elites, 512);
    }

    #[test]
    fn goals_are_read_from_sentences_or_refused_with_the_reason() {
        let task = task_from(100);
        let scene = &task.scene;
        let own = task.goal_text();
        assert_eq!(
            goal_from_sentence(scene, &own).unwrap(),
            (task.object, task.zone)
        );
        let push = own.replace(" enters ", " into ").replace(" .", "");
        assert_eq!(
            goal_from_sentence(scene, &format!("push {push}")).unwrap(),
            (task.object, task.zone)
        );
        assert!(
            goal_from_sentence(scene, "push the zebra into the green zone")
                .unwrap_err()
                .contains("zebra")
        );
        assert!(goal_from_sentence(scene, "push everything")
            .unwrap_err()
            .contains("push the red box into the green zone"));
        let colours = ["red", "green", "blue", "yellow", "purple", "orange", "grey"];
        let missing = colours
            .iter()
            .find(|c| {
                !scene
                    .zones
                    .iter()
                    .any(|z| world::language::names::zone_colour_word(z.colour) == **c)
            })
            .unwrap();
        let text = own.replace(
            &format!(
                "the {} zone",
                world::language::names::zone_colour_word(scene.zones[task.zone].colour)
            ),
            &format!("the {missing} zone"),
        );
        let e = goal_from_sentence(scene, &text).unwrap_err();
        assert!(e.contains("zone"), "{e}");
    }

    #[test]
    fn a_goal_by_drag_names_the_object_and_zone_under_the_pointer() {
        let task = task_from(100);
        let state = Simulator::new(&task.scene).state();
        let at = state.objects[task.object].position;
        assert_eq!(object_at(&task.scene, &state, at), Some(task.object));
        let c = task.zone_centre();
        assert_eq!(zone_at(&task.scene, c), Some(task.zone));
        let px = arena_to_canvas(c, 320.0);
        let back = canvas_to_arena(px[0], px[1], 320.0);
        assert!(world::scene::dist(back, c) < 1e-4);
        assert_eq!(with_goal(&task, task.object, task.zone).unwrap(), task);
        assert!(with_goal(&task, 99, 0).is_err());
    }

    #[test]
    fn an_episode_ends_on_success_or_after_the_step_limit() {
        let task = task_from(7);
        let mut run = Run::new(task.clone(), Driver::Random).unwrap();
        assert_eq!(run.context()[0], run.context()[1]);
        assert_eq!(run.goal_words().len(), 8, "{}", task.goal_text());
        let mut n = 0;
        while run.outcome.is_none() {
            let a = run.random_action();
            run.act(a, vec![a, 0, 0]);
            n += 1;
        }
        assert!(n <= MAX_STEPS);
        assert_eq!(run.outcome, Some(task.success(&run.state())));
        assert_ne!(run.context()[0], run.context()[1]);
        assert_eq!(run.warm_start(4), vec![0, 0, 0, 0]);
        let path = steer_path([5.0, 5.0], &[1, 1, 3], 0.5);
        assert_eq!(path, vec![[5.0, 5.0], [5.5, 5.0], [6.0, 5.0], [6.0, 5.5]]);
        let mut t = Tally::default();
        t.add(true);
        t.add(false);
        assert_eq!((t.episodes, t.successes), (2, 1));
    }
}
