//! Planning by the cross-entropy method (CEM) over sequences of discrete actions.
//!
//! The planner knows nothing of the world: it proposes action sequences and a caller-supplied
//! `score` says how bad each one is (the world model's predicted cost, or the real simulator's
//! for an oracle). The search distribution is one independent categorical distribution over
//! the nine actions (`world::action::DISCRETE_ACTIONS`) per time step. Each iteration samples a
//! population, scores it in one call (so the scorer can batch), and moves the distribution
//! toward the lowest-cost candidates (the elites).

use rand::Rng;

pub use layout::cem::{apply_floor, initial, shift_plan, CemConfig, Dist, K, WARM_START_WEIGHT};

/// One action drawn from `p`.
fn sample<R: Rng + ?Sized>(rng: &mut R, p: &[f32; K]) -> u8 {
    layout::cem::draw(p, rng.random())
}

/// Refits `dist` to the elites, step by step ([`layout::cem::refit_step`]).
fn refit(dist: &mut Dist, elites: &[&Vec<u8>], cfg: &CemConfig) {
    for (t, p) in dist.iter_mut().enumerate() {
        let mut counts = [0u32; K];
        for e in elites {
            counts[(e[t] as usize).min(K - 1)] += 1;
        }
        layout::cem::refit_step(p, &counts, elites.len(), cfg);
    }
}

/// The result of [`cem_plan`].
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The lowest-cost sequence seen in any iteration, `horizon` actions (indices 0 to 8).
    pub actions: Vec<u8>,
    /// Its cost, as the scorer gave it (infinite when every cost was NaN or infinite).
    pub cost: f32,
    /// Candidates scored in all (`population * iterations`).
    pub evaluated: usize,
}

/// Plans a sequence of `cfg.horizon` discrete actions that makes `score` low.
///
/// `score` receives a whole population (each candidate `horizon` action indices, 0 to 8) and
/// returns one cost per candidate, in order; LOWER is better. NaN costs count as +infinity.
///
/// The search starts from a uniform distribution at every step or, with `warm_start` (the
/// previous plan, usually), from one that leans toward [`shift_plan`]`(warm_start, horizon)`
/// (weight [`WARM_START_WEIGHT`]); the shifted plan itself is then the first candidate of the
/// first population, so a plan is never worse than the previous one carried on. Each of
/// `cfg.iterations` rounds samples `cfg.population` sequences, scores them, and refits the
/// distribution to the `cfg.elites` cheapest (ties keep the earlier candidate). The result
/// is the cheapest sequence seen in any round, not a sample of the last distribution.
///
/// # Panics
/// If `cfg` is not valid ([`CemConfig::validate`]'s message) or `score` returns a number of
/// costs other than the population.
pub fn cem_plan<R: Rng + ?Sized>(
    cfg: &CemConfig,
    rng: &mut R,
    warm_start: Option<&[u8]>,
    mut score: impl FnMut(&[Vec<u8>]) -> Vec<f32>,
) -> Plan {
    if let Err(e) = cfg.validate() {
        panic!("cem_plan: {e}");
    }
    let warm = warm_start
        .map(|w| shift_plan(w, cfg.horizon))
        .unwrap_or_default();
    let mut dist = initial(cfg, &warm);
    let mut best = Plan {
        actions: Vec::new(),
        cost: f32::INFINITY,
        evaluated: 0,
    };
    let mut population: Vec<Vec<u8>> = Vec::with_capacity(cfg.population);
    for iteration in 0..cfg.iterations {
        population.clear();
        if iteration == 0 && !warm.is_empty() {
            population.push(warm.iter().map(|&a| a.min(K as u8 - 1)).collect());
        }
        while population.len() < cfg.population {
            population.push(dist.iter().map(|p| sample(rng, p)).collect());
        }
        let costs = score(&population);
        assert_eq!(
            costs.len(),
            population.len(),
            "cem_plan: the scorer returned {} costs for {} candidates",
            costs.len(),
            population.len()
        );
        let costs: Vec<f32> = costs
            .into_iter()
            .map(|c| if c.is_nan() { f32::INFINITY } else { c })
            .collect();
        best.evaluated += population.len();
        let mut order: Vec<usize> = (0..population.len()).collect();
        order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]));
        let top = order[0];
        if best.actions.is_empty() || costs[top] < best.cost {
            best.actions = population[top].clone();
            best.cost = costs[top];
        }
        let elites: Vec<&Vec<u8>> = order[..cfg.elites]
            .iter()
            .map(|&i| &population[i])
            .collect();
        refit(&mut dist, &elites, cfg);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use world::action::Action;

    const TARGET: [f32; 2] = [4.0, -2.5];

    /// Where a point starting at the origin ends after moving one unit along each action's
    /// direction (stay does not move), and its distance from `TARGET`.
    fn toy_cost(actions: &[u8]) -> f32 {
        let mut p = [0.0f32; 2];
        for &a in actions {
            let d = Action::from_discrete(a);
            p[0] += d.x;
            p[1] += d.y;
        }
        ((p[0] - TARGET[0]).powi(2) + (p[1] - TARGET[1]).powi(2)).sqrt()
    }

    fn toy_score(pop: &[Vec<u8>]) -> Vec<f32> {
        pop.iter().map(|c| toy_cost(c)).collect()
    }

    /// The exact optimum of the toy problem: only how many times each move is used matters,
    /// so try every way to use at most `steps` moves among the eight directions.
    fn toy_optimum(steps: usize) -> f32 {
        fn go(dir: u8, left: usize, p: [f32; 2], best: &mut f32) {
            if dir == K as u8 {
                *best = best.min(((p[0] - TARGET[0]).powi(2) + (p[1] - TARGET[1]).powi(2)).sqrt());
                return;
            }
            let d = Action::from_discrete(dir);
            for n in 0..=left {
                go(
                    dir + 1,
                    left - n,
                    [p[0] + n as f32 * d.x, p[1] + n as f32 * d.y],
                    best,
                );
            }
        }
        let mut best = f32::INFINITY;
        go(1, steps, [0.0, 0.0], &mut best);
        best
    }

    #[test]
    fn cem_finds_a_near_optimal_sequence_and_beats_random_search() {
        let cfg = CemConfig::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let plan = cem_plan(&cfg, &mut rng, None, toy_score);
        assert_eq!(plan.actions.len(), cfg.horizon);
        assert_eq!(plan.evaluated, cfg.population * cfg.iterations);
        assert_eq!(plan.cost, toy_cost(&plan.actions));
        // Random sequences, as many as CEM scored.
        let random: Vec<f32> = (0..plan.evaluated)
            .map(|_| {
                toy_cost(
                    &(0..cfg.horizon)
                        .map(|_| rng.random_range(0..K as u8))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let mean = random.iter().sum::<f32>() / random.len() as f32;
        let best_random = random.iter().copied().fold(f32::INFINITY, f32::min);
        let optimum = toy_optimum(cfg.horizon);
        println!(
            "toy CEM: cost {:.3} after {} candidates (optimum {optimum:.3}); random sequences: mean {mean:.3}, best of {} {best_random:.3}",
            plan.cost, plan.evaluated, plan.evaluated
        );
        assert!(
            plan.cost < optimum + 0.25,
            "CEM cost {} is far from the optimum {optimum}",
            plan.cost
        );
        assert!(
            plan.cost < 0.1 * mean,
            "CEM {} vs random mean {mean}",
            plan.cost
        );
        assert!(
            plan.cost <= best_random,
            "CEM {} lost to random search {best_random}",
            plan.cost
        );
    }

    #[test]
    fn more_iterations_never_do_worse_and_the_best_is_kept() {
        // The same seed gives the same first population, so the cost can only fall.
        let mut last = f32::INFINITY;
        for iterations in 1..=4 {
            let cfg = CemConfig {
                iterations,
                population: 64,
                elites: 8,
                ..CemConfig::default()
            };
            let plan = cem_plan(&cfg, &mut ChaCha8Rng::seed_from_u64(5), None, toy_score);
            assert!(
                plan.cost <= last,
                "{iterations} iterations: {} after {last}",
                plan.cost
            );
            last = plan.cost;
        }
    }

    #[test]
    fn same_seed_same_plan() {
        let cfg = CemConfig {
            population: 32,
            elites: 4,
            ..CemConfig::default()
        };
        let a = cem_plan(&cfg, &mut ChaCha8Rng::seed_from_u64(9), None, toy_score);
        let b = cem_plan(&cfg, &mut ChaCha8Rng::seed_from_u64(9), None, toy_score);
        assert_eq!(a, b);
    }

    #[test]
    fn warm_start_is_shifted_and_tried_first() {
        assert_eq!(shift_plan(&[1, 2, 3], 5), vec![2, 3, 3, 3, 3]);
        assert_eq!(shift_plan(&[1, 2, 3, 4, 5, 6], 3), vec![2, 3, 4]);
        assert_eq!(shift_plan(&[7], 2), vec![7, 7]);
        assert!(shift_plan(&[], 4).is_empty());
        // With every cost equal, the first candidate is the best: the shifted warm start.
        let cfg = CemConfig {
            population: 16,
            elites: 4,
            horizon: 4,
            ..CemConfig::default()
        };
        let plan = cem_plan(
            &cfg,
            &mut ChaCha8Rng::seed_from_u64(0),
            Some(&[5, 1, 2, 3]),
            |pop| vec![1.0; pop.len()],
        );
        assert_eq!(plan.actions, vec![1, 2, 3, 3]);
        // And a good warm start is never lost: the optimum found before survives.
        let cfg = CemConfig::default();
        let first = cem_plan(&cfg, &mut ChaCha8Rng::seed_from_u64(2), None, toy_score);
        let mut prev = vec![0u8];
        prev.extend(&first.actions);
        let cfg_short = CemConfig {
            population: 8,
            elites: 2,
            iterations: 1,
            ..cfg
        };
        let again = cem_plan(
            &cfg_short,
            &mut ChaCha8Rng::seed_from_u64(3),
            Some(&prev[..cfg.horizon]),
            toy_score,
        );
        assert!(again.cost <= toy_cost(&shift_plan(&prev[..cfg.horizon], cfg.horizon)));
    }

    #[test]
    fn refit_moves_toward_elites_with_smoothing_and_keeps_the_floor() {
        let cfg = CemConfig {
            horizon: 2,
            smoothing: 0.5,
            min_prob: 0.01,
            ..CemConfig::default()
        };
        let mut dist = initial(&cfg, &[]);
        let elite = vec![4u8, 4];
        refit(&mut dist, &[&elite, &elite], &cfg);
        for p in &dist {
            let sum: f32 = p.iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "sums to {sum}");
            // Half the uniform 1/9, half the elites' 1; nothing is below the floor yet.
            assert!((p[4] - (0.5 / 9.0 + 0.5)).abs() < 1e-5, "{p:?}");
            assert!((p[0] - 0.5 / 9.0).abs() < 1e-5, "{p:?}");
        }
        // However often the same elite wins, every action keeps at least min_prob.
        for _ in 0..100 {
            refit(&mut dist, &[&elite], &cfg);
        }
        for p in &dist {
            assert!(p.iter().all(|&v| v >= cfg.min_prob - 1e-6), "{p:?}");
            assert!((p[4] - (1.0 - 8.0 * cfg.min_prob)).abs() < 1e-4, "{p:?}");
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        // The warm start leans toward its actions and ignores invalid ones.
        let warm = initial(&cfg, &[3, 200]);
        assert!((warm[0][3] - (0.5 / 9.0 + 0.5)).abs() < 1e-5);
        assert!((warm[1][0] - 1.0 / 9.0).abs() < 1e-6);
    }

    #[test]
    fn nan_costs_are_never_chosen() {
        let cfg = CemConfig {
            population: 32,
            elites: 4,
            iterations: 2,
            ..CemConfig::default()
        };
        let plan = cem_plan(&cfg, &mut ChaCha8Rng::seed_from_u64(4), None, |pop| {
            pop.iter()
                .map(|c| if c[0] == 0 { 0.5 } else { f32::NAN })
                .collect()
        });
        assert_eq!(plan.actions[0], 0);
        assert_eq!(plan.cost, 0.5);
    }

    #[test]
    #[should_panic(expected = "returned 3 costs for 16 candidates")]
    fn a_scorer_that_miscounts_is_caught() {
        let cfg = CemConfig {
            population: 16,
            elites: 4,
            ..CemConfig::default()
        };
        cem_plan(&cfg, &mut ChaCha8Rng::seed_from_u64(0), None, |_| {
            vec![0.0; 3]
        });
    }

    #[test]
    fn validate_names_the_bad_setting() {
        assert_eq!(CemConfig::default().validate(), Ok(()));
        let bad = |f: fn(&mut CemConfig)| {
            let mut c = CemConfig::default();
            f(&mut c);
            c.validate().unwrap_err()
        };
        assert!(bad(|c| c.population = 0).contains("population"));
        assert!(bad(|c| c.elites = 0).contains("elites"));
        assert!(bad(|c| c.elites = 300).contains("between 1 and the population (256), got 300"));
        assert!(bad(|c| c.iterations = 0).contains("iterations"));
        assert!(bad(|c| c.horizon = 0).contains("horizon"));
        assert!(bad(|c| c.smoothing = 1.0).contains("smoothing"));
        assert!(bad(|c| c.smoothing = f32::NAN).contains("smoothing"));
        assert!(bad(|c| c.min_prob = 0.2).contains("min_prob"));
        assert!(bad(|c| c.min_prob = -0.01).contains("min_prob"));
        // A config travels as JSON unchanged.
        let c = CemConfig {
            population: 64,
            elites: 6,
            ..CemConfig::default()
        };
        let back: CemConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    #[should_panic(expected = "cem_plan: CEM elites")]
    fn planning_with_a_bad_config_panics_with_its_reason() {
        let cfg = CemConfig {
            elites: 0,
            ..CemConfig::default()
        };
        cem_plan(&cfg, &mut ChaCha8Rng::seed_from_u64(0), None, toy_score);
    }
}
