//! The planning oracle for the push-to-goal tasks of [`world::task`] (re-exported here): CEM
//! that scores candidates in the true simulator. The evaluation runs it beside the world
//! model's latent planner and random moves on the same tasks.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use world::sim::Simulator;
pub use world::task::*;

use crate::planner::{cem_plan, CemConfig};

/// The true cost ([`rollout_cost`]) of each candidate continuation of a running task, found
/// by simulating it: a planning oracle.
///
/// `sim` is the live simulator and `history` the actions it has taken since the start (so
/// `history.len() == sim.frame()`). The simulator cannot be cloned (rapier's `PhysicsWorld`
/// is not `Clone`), so each candidate runs in a fresh simulator rebuilt from the task's
/// scene with `history` replayed, which reproduces the live state exactly; the cost of a
/// plan therefore grows with the history (`candidates.len() * (history.len() + horizon)`
/// frames).
///
/// # Panics
/// If `history` does not match `sim`: a different length than the frames it has run, or a
/// replay that ends in another state (a simulator of another scene, or other actions).
pub fn oracle_cost(
    sim: &Simulator,
    task: &PushTask,
    history: &[u8],
    candidates: &[Vec<u8>],
) -> Vec<f32> {
    assert_eq!(
        history.len(),
        sim.frame() as usize,
        "oracle_cost: the history has {} actions but the simulator has run {} frames",
        history.len(),
        sim.frame()
    );
    let live = sim.state();
    candidates
        .iter()
        .enumerate()
        .map(|(i, candidate)| {
            let start = replay(task, history);
            if i == 0 {
                assert!(
                    start.state() == live,
                    "oracle_cost: replaying the history does not reproduce the simulator's state \
                     (is it a simulator of this task's scene, driven by these actions?)"
                );
            }
            rollout_cost(task, start, candidate)
        })
        .collect()
}

/// A policy for [`run_task`] that plans with CEM against the real simulator ([`oracle_cost`])
/// before every step, warm-started from its previous plan, and takes the plan's first action.
/// It keeps the actions it returned as the history, so it must drive the run it is asked
/// about: one fresh policy per [`run_task`] call. Draws come from `ChaCha8Rng` seeded with
/// `seed`.
///
/// # Panics
/// When called with a step other than the number of actions it has returned so far, or with
/// an invalid `cfg`.
pub fn oracle_policy(
    task: &PushTask,
    cfg: CemConfig,
    seed: u64,
) -> impl FnMut(&Simulator, usize) -> u8 + '_ {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut history: Vec<u8> = Vec::new();
    let mut previous: Option<Vec<u8>> = None;
    move |sim, step| {
        assert_eq!(
            step,
            history.len(),
            "oracle_policy: asked about step {step} after {} actions",
            history.len()
        );
        let plan = cem_plan(&cfg, &mut rng, previous.as_deref(), |pop| {
            oracle_cost(sim, task, &history, pop)
        });
        let action = plan.actions[0];
        history.push(action);
        previous = Some(plan.actions);
        action
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use std::time::Instant;
    use world::action::DISCRETE_ACTIONS;

    #[test]
    fn replay_reproduces_a_run_and_the_oracle_scores_candidates_from_there() {
        let task = make_tasks(7, 1).remove(0);
        let actions: Vec<u8> = (0..25).map(|i| (i % 9) as u8).collect();
        let outcome = run_task(&task, 25, |_, step| actions[step]);
        let sim = replay(&task, &outcome.actions);
        assert_eq!(sim.frame() as usize, outcome.actions.len());
        assert_eq!(task.distance(&sim.state()), outcome.final_distance);
        // The oracle's costs are those of rollouts from the replayed state, in order.
        let stay = vec![0u8; 5];
        let east = vec![1u8; 5];
        let costs = oracle_cost(
            &sim,
            &task,
            &outcome.actions,
            &[stay.clone(), east.clone(), stay.clone()],
        );
        assert_eq!(costs.len(), 3);
        assert_eq!(costs[0], costs[2]);
        assert_eq!(
            costs[1],
            rollout_cost(&task, replay(&task, &outcome.actions), &east)
        );
        assert!(costs[0] > 0.0);
    }

    #[test]
    #[should_panic(expected = "does not reproduce")]
    fn oracle_cost_refuses_a_history_that_is_not_the_simulators() {
        let task = make_tasks(7, 1).remove(0);
        let sim = replay(&task, &[1, 1, 1]);
        oracle_cost(&sim, &task, &[5, 5, 5], &[vec![0]]);
    }

    #[test]
    #[should_panic(expected = "the history has 2 actions but the simulator has run 3 frames")]
    fn oracle_cost_refuses_a_history_of_the_wrong_length() {
        let task = make_tasks(7, 1).remove(0);
        let sim = replay(&task, &[1, 1, 1]);
        oracle_cost(&sim, &task, &[1, 1], &[vec![0]]);
    }

    #[test]
    fn the_oracle_planner_beats_random_moves() {
        let tasks = make_tasks(1_000_000, 10);
        let cfg = CemConfig {
            population: 64,
            elites: 8,
            iterations: 3,
            horizon: 10,
            ..CemConfig::default()
        };
        let steps = 40;
        let (mut oracle_wins, mut random_wins) = (0, 0);
        let (mut oracle_dist, mut random_dist) = (0.0, 0.0);
        // Seconds per plan, all of them and the first of each task (nothing to replay yet).
        let (mut all, mut first) = (Vec::new(), Vec::new());
        for (i, task) in tasks.iter().enumerate() {
            let mut policy = oracle_policy(task, cfg.clone(), i as u64);
            let outcome = run_task(task, steps, |sim, step| {
                let started = Instant::now();
                let a = policy(sim, step);
                all.push(started.elapsed().as_secs_f64());
                if step == 0 {
                    first.push(started.elapsed().as_secs_f64());
                }
                a
            });
            oracle_wins += usize::from(outcome.success);
            oracle_dist += outcome.final_distance;
        }
        let mean_ms = |v: &[f64]| 1e3 * v.iter().sum::<f64>() / v.len() as f64;
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        for task in &tasks {
            let outcome = run_task(task, steps, |_, _| {
                rng.random_range(0..DISCRETE_ACTIONS as u8)
            });
            random_wins += usize::from(outcome.success);
            random_dist += outcome.final_distance;
        }
        println!(
            "push tasks, {steps} steps: oracle CEM {oracle_wins}/10 (mean final distance {:.3}), random {random_wins}/10 ({:.3}); \
             {} oracle plans of {} candidates: {:.1} ms each on average, {:.1} ms at step 0 (no history to replay)",
            oracle_dist / 10.0,
            random_dist / 10.0,
            all.len(),
            cfg.population * cfg.iterations,
            mean_ms(&all),
            mean_ms(&first)
        );
        assert!(
            oracle_wins >= random_wins + 3,
            "oracle {oracle_wins}/10 vs random {random_wins}/10"
        );
        assert!(oracle_dist < random_dist);
    }
}
