//! Push-to-goal tasks in the simulator: push one named object into one named zone, seen from
//! above. The evaluation scores planners on them (the world model's, an oracle that plans in
//! the simulator itself, a random baseline) and the playground's Plan demo sets them.
//!
//! A task is fully determined by its seed: the scene is `Scene::generate(seed)` and the choice
//! of object and zone comes from the same seed, so task lists are reproducible anywhere.

use rand::Rng;

use crate::action::Action;
use crate::events::Entity;
use crate::language::names;
use crate::scene::{derive_seed, dist, rng_from_seed, Rect, Scene, View, AGENT_RADIUS, ARENA};
use crate::sim::{Simulator, WorldState};

/// [`PushTask::distance`] of an object that is gone (left the arena, or not present): worse
/// than any place inside the arena, whose farthest point from a zone's centre is under 1.
pub const LOST_DISTANCE: f32 = 1.5;

/// Weight of the agent's distance to the push spot ([`PushTask::push_spot`]) in
/// [`PushTask::step_cost`]. Without it a planner whose horizon ends before the agent touches
/// the object sees every candidate cost the same; with it the agent heads for the side of the
/// object away from the zone. In one comparison on 10 tasks (40 steps, CEM 64 x 3, horizon
/// 10, replanning every step) the oracle succeeded 3 times on the object's distance alone,
/// 7 times with the agent-to-object distance added, 10 times with this term.
pub const APPROACH_WEIGHT: f32 = 0.2;

/// What [`oracle_cost`] subtracts from a candidate that gets the object into the zone: larger
/// than the distance term of any near miss, so reaching the zone beats almost reaching it.
pub const SUCCESS_BONUS: f32 = 1.0;

/// Mixed into a task's seed to pick its object and zone, so the choice is not correlated with
/// the draws that made the scene.
const CHOICE_STREAM: u64 = 0x7A5C_0B1E_C7A5_2024;

/// Push the object `object` of `scene` into its zone `zone`.
#[derive(Clone, Debug, PartialEq)]
pub struct PushTask {
    /// The seed the scene and the choice came from.
    pub seed: u64,
    /// `Scene::generate(seed)`: top-down, with at least one zone and one object.
    pub scene: Scene,
    /// Index into `scene.objects`; its colour and shape name it unambiguously.
    pub object: usize,
    /// Index into `scene.zones`; the object does not start inside it.
    pub zone: usize,
}

impl PushTask {
    /// The task of `seed`, or `None` when its scene does not make one: seen from the side,
    /// without zones or objects, or with no object that is named unambiguously
    /// (`names::is_unambiguous`) and starts outside some zone. Among the (object, zone) pairs
    /// that qualify, one is drawn from a stream derived from the seed.
    pub fn from_seed(seed: u64) -> Option<PushTask> {
        let scene = Scene::generate(seed);
        if scene.view != View::TopDown || scene.zones.is_empty() || scene.objects.is_empty() {
            return None;
        }
        let mut pairs = Vec::new();
        for (o, object) in scene.objects.iter().enumerate() {
            if !names::is_unambiguous(&scene, o) {
                continue;
            }
            for (z, zone) in scene.zones.iter().enumerate() {
                if !zone.rect(scene.view).contains(object.position) {
                    pairs.push((o, z));
                }
            }
        }
        if pairs.is_empty() {
            return None;
        }
        let mut rng = rng_from_seed(derive_seed(seed, CHOICE_STREAM));
        let (object, zone) = pairs[rng.random_range(0..pairs.len())];
        Some(PushTask {
            seed,
            scene,
            object,
            zone,
        })
    }

    /// The goal in the world's words, exactly `"the <object> enters the <zone> ."`, e.g.
    /// `"the red ball enters the green zone ."` (the object named as captions name it, which
    /// for an unambiguous object is its colour and shape). Every word is in the vocabulary.
    pub fn goal_text(&self) -> String {
        format!(
            "{} enters {} .",
            names::entity_phrase(&self.scene, Entity::Object(self.object as u8)),
            names::zone_phrase(&self.scene, self.zone)
        )
    }

    /// The goal zone's rectangle, world units.
    pub fn zone_rect(&self) -> Rect {
        self.scene.zones[self.zone].rect(self.scene.view)
    }

    /// How far the object is from the goal: the distance from its centre to the centre of the
    /// zone's rectangle, over `ARENA` (so 0 to about 0.9 inside the arena). An object that is
    /// not present (it left the arena and was removed) or whose centre is outside the arena
    /// counts as [`LOST_DISTANCE`] (1.5).
    pub fn distance(&self, state: &WorldState) -> f32 {
        match state
            .objects
            .get(self.object)
            .filter(|b| b.present && in_arena(b.position))
        {
            Some(body) => dist(body.position, self.zone_centre()) / ARENA,
            None => LOST_DISTANCE,
        }
    }

    /// The centre of the zone's rectangle, world units.
    pub fn zone_centre(&self) -> [f32; 2] {
        let r = self.zone_rect();
        [(r.min[0] + r.max[0]) / 2.0, (r.min[1] + r.max[1]) / 2.0]
    }

    /// Where the agent should be to push the object, when the object's centre is at
    /// `object`: on the line from the zone's centre through the object, just behind the object
    /// (the object's bounding radius plus the agent's radius from its centre). The zone's
    /// centre itself when the object is there.
    pub fn push_spot(&self, object: [f32; 2]) -> [f32; 2] {
        let c = self.zone_centre();
        let (dx, dy) = (object[0] - c[0], object[1] - c[1]);
        let len = (dx * dx + dy * dy).sqrt();
        if len < 1e-6 {
            return c;
        }
        let reach = self.scene.objects[self.object].bounding_radius() + AGENT_RADIUS;
        [object[0] + dx / len * reach, object[1] + dy / len * reach]
    }

    /// The per-step cost planners minimise, from positions (world units) so that it can be
    /// computed from a prediction as well as from the simulator: [`PushTask::distance`] of an
    /// object at `object` (`None` when it is gone) plus [`APPROACH_WEIGHT`] times the distance
    /// from the agent at `agent` to [`PushTask::push_spot`], over `ARENA` (no agent term when
    /// the object is gone).
    pub fn cost_at(&self, object: Option<[f32; 2]>, agent: [f32; 2]) -> f32 {
        let Some(o) = object.filter(|p| in_arena(*p)) else {
            return LOST_DISTANCE;
        };
        dist(o, self.zone_centre()) / ARENA
            + APPROACH_WEIGHT * dist(agent, self.push_spot(o)) / ARENA
    }

    /// [`PushTask::cost_at`] for a simulator state.
    pub fn step_cost(&self, state: &WorldState) -> f32 {
        let object = state
            .objects
            .get(self.object)
            .filter(|b| b.present)
            .map(|b| b.position);
        self.cost_at(object, state.agent.position)
    }

    /// Whether the object's centre is inside the zone's rectangle (edges included): the rule
    /// the simulator uses for its "enters the zone" events.
    pub fn success(&self, state: &WorldState) -> bool {
        state
            .objects
            .get(self.object)
            .is_some_and(|b| b.present && self.zone_rect().contains(b.position))
    }
}

/// Whether a point is finite and inside the arena `[0, ARENA]^2`.
fn in_arena(p: [f32; 2]) -> bool {
    p.iter().all(|v| v.is_finite() && (0.0..=ARENA).contains(v))
}

/// `count` tasks from the seeds `first_seed`, `first_seed + 1`, ..., skipping seeds that make
/// no task ([`PushTask::from_seed`]). About two seeds in five make one (60% of scenes are
/// seen from above, two thirds of those have a zone).
pub fn make_tasks(first_seed: u64, count: usize) -> Vec<PushTask> {
    let mut tasks = Vec::with_capacity(count);
    let mut seed = first_seed;
    while tasks.len() < count {
        tasks.extend(PushTask::from_seed(seed));
        seed = seed.wrapping_add(1);
    }
    tasks
}

/// How a run of a task went.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskOutcome {
    /// Whether the object's centre was inside the zone after some step.
    pub success: bool,
    /// [`PushTask::distance`] when the run ended (at the first success, or after all steps).
    pub final_distance: f32,
    /// Steps taken until the object was first inside the zone (1 = after the first action).
    pub steps_to_success: Option<usize>,
    /// The actions taken, in order (as many as steps run).
    pub actions: Vec<u8>,
}

/// Runs `task` in the real simulator for at most `steps` frames. Before each frame,
/// `policy(&sim, step)` (step 0, 1, ...) picks a discrete action (0 to 8, larger means stay;
/// `Action::from_discrete`), which is then stepped. The run counts as a success as soon as
/// the object's centre is inside the zone after a step, and stops there: the policy is not
/// asked again, `steps_to_success` says when, and `final_distance` is the distance at that
/// moment. Otherwise it runs all `steps` and `final_distance` is the distance at the end.
pub fn run_task(
    task: &PushTask,
    steps: usize,
    mut policy: impl FnMut(&Simulator, usize) -> u8,
) -> TaskOutcome {
    let mut sim = Simulator::new(&task.scene);
    let mut actions = Vec::with_capacity(steps);
    let mut steps_to_success = None;
    for step in 0..steps {
        let a = policy(&sim, step);
        sim.step(Action::from_discrete(a));
        actions.push(a);
        if task.success(&sim.state()) {
            steps_to_success = Some(step + 1);
            break;
        }
    }
    TaskOutcome {
        success: steps_to_success.is_some(),
        final_distance: task.distance(&sim.state()),
        steps_to_success,
        actions,
    }
}

/// The task's simulator after `actions` from the start: the same state as a live run that
/// took those actions, bit for bit (the simulator is deterministic).
pub fn replay(task: &PushTask, actions: &[u8]) -> Simulator {
    let mut sim = Simulator::new(&task.scene);
    for &a in actions {
        sim.step(Action::from_discrete(a));
    }
    sim
}

/// Cost of running `candidate` from `sim` (which it consumes): the sum over the candidate's
/// steps of [`PushTask::step_cost`] after each step (the object's distance to the zone plus a
/// small term for the agent's distance to the spot it should push from), so getting closer
/// sooner costs less. When the object's centre is inside the zone after a step, the rollout
/// stops, the remaining steps count 0 and [`SUCCESS_BONUS`] is subtracted, so reaching the
/// zone, and reaching it early, is strongly favoured.
pub fn rollout_cost(task: &PushTask, mut sim: Simulator, candidate: &[u8]) -> f32 {
    let mut cost = 0.0;
    for &a in candidate {
        sim.step(Action::from_discrete(a));
        let state = sim.state();
        if task.success(&state) {
            return cost - SUCCESS_BONUS;
        }
        cost += task.step_cost(&state);
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::DISCRETE_ACTIONS;
    use crate::language::vocab::tokenize;

    #[test]
    fn tasks_are_reproducible_and_well_formed() {
        let tasks = make_tasks(0, 500);
        assert_eq!(tasks.len(), 500);
        assert_eq!(tasks, make_tasks(0, 500));
        let mut seeds = std::collections::BTreeSet::new();
        let mut last_seed = None;
        for t in &tasks {
            assert!(last_seed.is_none_or(|s| t.seed > s), "seeds walk upward");
            last_seed = Some(t.seed);
            seeds.insert(t.seed);
            assert_eq!(t.scene, Scene::generate(t.seed));
            assert_eq!(t.scene.view, View::TopDown);
            assert!(names::is_unambiguous(&t.scene, t.object));
            let start = Simulator::new(&t.scene).state();
            assert!(
                !t.success(&start),
                "seed {}: the object starts in the zone",
                t.seed
            );
            let d = t.distance(&start);
            assert!(d > 0.0 && d < 1.0, "seed {}: distance {d}", t.seed);
            let text = t.goal_text();
            let ids = tokenize(&text).unwrap_or_else(|e| panic!("seed {}: {text:?}: {e}", t.seed));
            let o = &t.scene.objects[t.object];
            let expect = format!(
                "the {} {} enters the {} zone .",
                names::colour_word(o.colour),
                names::shape_word(o.shape),
                names::zone_colour_word(t.scene.zones[t.zone].colour)
            );
            assert_eq!(text, expect);
            assert_eq!(ids.len(), 8);
        }
        // Both zones and many objects are used.
        assert!(tasks.iter().any(|t| t.zone == 1) && tasks.iter().any(|t| t.object >= 3));
        // Seeds that make no task are skipped, and starting later gives the same tasks.
        let later = make_tasks(tasks[10].seed, 5);
        assert_eq!(&later[..], &tasks[10..15]);
        assert!(
            PushTask::from_seed(tasks[0].seed + 1).is_none() || tasks[1].seed == tasks[0].seed + 1
        );
    }

    #[test]
    fn distance_and_success_follow_the_object() {
        let task = make_tasks(100, 1).remove(0);
        let mut state = Simulator::new(&task.scene).state();
        let r = task.zone_rect();
        let centre = [(r.min[0] + r.max[0]) / 2.0, (r.min[1] + r.max[1]) / 2.0];
        state.objects[task.object].position = centre;
        assert!(task.success(&state) && task.distance(&state) == 0.0);
        state.objects[task.object].position = [r.max[0] + 0.01, centre[1]];
        assert!(!task.success(&state));
        state.objects[task.object].position = [r.max[0], centre[1]];
        assert!(task.success(&state), "the zone's edge counts as inside");
        state.objects[task.object].position = [centre[0] + 3.0, centre[1] + 4.0];
        assert!((task.distance(&state) - 0.5).abs() < 1e-6);
        state.objects[task.object].position = [-1.0, 5.0];
        assert_eq!(task.distance(&state), LOST_DISTANCE);
        state.objects[task.object].present = false;
        state.objects[task.object].position = centre;
        assert!(!task.success(&state));
        assert_eq!(task.distance(&state), LOST_DISTANCE);
    }

    #[test]
    fn the_step_cost_leads_the_agent_behind_the_object() {
        let task = make_tasks(100, 1).remove(0);
        let c = task.zone_centre();
        let object = [5.0, 5.0];
        let spot = task.push_spot(object);
        // The spot is on the far side of the object from the zone, just out of contact.
        let reach = task.scene.objects[task.object].bounding_radius() + AGENT_RADIUS;
        assert!((dist(spot, object) - reach).abs() < 1e-5);
        assert!(dist(spot, c) > dist(object, c));
        let at_spot = task.cost_at(Some(object), spot);
        assert!((at_spot - dist(object, c) / ARENA).abs() < 1e-6);
        let in_front = [2.0 * object[0] - spot[0], 2.0 * object[1] - spot[1]];
        assert!(task.cost_at(Some(object), in_front) > at_spot);
        assert_eq!(task.cost_at(None, spot), LOST_DISTANCE);
        assert_eq!(task.cost_at(Some([11.0, 5.0]), spot), LOST_DISTANCE);
        assert_eq!(task.push_spot(c), c);
        let state = Simulator::new(&task.scene).state();
        assert_eq!(
            task.step_cost(&state),
            task.cost_at(
                Some(state.objects[task.object].position),
                state.agent.position
            )
        );
    }

    #[test]
    fn run_task_stops_at_the_first_success() {
        // Find a task and a straight push that succeeds, by trying the eight directions.
        for task in make_tasks(0, 30) {
            for a in 1..DISCRETE_ACTIONS as u8 {
                let outcome = run_task(&task, 40, |_, _| a);
                if let Some(n) = outcome.steps_to_success {
                    assert!(outcome.success);
                    assert_eq!(outcome.actions.len(), n);
                    let sim = replay(&task, &outcome.actions);
                    assert!(task.success(&sim.state()));
                    assert!(!task.success(&replay(&task, &outcome.actions[..n - 1]).state()));
                    assert_eq!(outcome.final_distance, task.distance(&sim.state()));
                    // Its rollout cost: the step costs before success, less the bonus, and
                    // nothing for the steps after.
                    let mut longer = outcome.actions.clone();
                    longer.extend([5, 5, 5]);
                    let before: f32 = (1..n)
                        .map(|k| task.step_cost(&replay(&task, &outcome.actions[..k]).state()))
                        .sum();
                    let cost = rollout_cost(&task, Simulator::new(&task.scene), &longer);
                    assert!(
                        (cost - (before - SUCCESS_BONUS)).abs() < 1e-5,
                        "{cost} vs {before}"
                    );
                    return;
                }
                assert_eq!(outcome.actions.len(), 40);
            }
        }
        panic!("no straight push succeeded in 30 tasks");
    }
}
