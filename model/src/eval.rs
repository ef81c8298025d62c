//! Evaluation on held-out seeds (data::EVAL_SEED_BASE and up, data::TASK_SEED_BASE for
//! planning): generation, understanding and operation, each against a baseline.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::tensor::Device;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use world::language::question::QuestionKind;
use world::language::vocab::{ANS, BOS};
use world::render::Renderer;
use world::scene::Shape;

use crate::config::{ModelConfig, FRAME};
use crate::data::{self, Sample, EVAL_SEED_BASE, TASK_SEED_BASE};
use world::scores::{centroid_error, find_colour, looks_like_box, psnr, ssim, COLOUR_TOL};
use crate::infer;
use crate::net::WorldModel;
use crate::planner::CemConfig;
use crate::tasks::{make_tasks, oracle_cost, run_task};

pub const HORIZON: usize = 16;
/// Horizons at which object centroids are compared.
pub const CENTROID_AT: [usize; 3] = [1, 4, 16];

/// How much of the held-out data an evaluation uses.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EvalSize {
    pub episodes: usize,
    /// Dream start frames per episode.
    pub starts: Vec<usize>,
    pub tasks: usize,
    pub task_steps: usize,
    pub replan_every: usize,
    pub cem: CemConfig,
    /// Training episodes read for the majority-answer baseline.
    pub baseline_episodes: usize,
    /// First seed of the held-out episodes (`EVAL_SEED_BASE` unless chosen).
    #[serde(default = "default_episode_seed")]
    pub episode_seed: u64,
    /// First seed of the push-to-goal tasks (`TASK_SEED_BASE` unless chosen).
    #[serde(default = "default_task_seed")]
    pub task_seed: u64,
}

fn default_episode_seed() -> u64 {
    EVAL_SEED_BASE
}

fn default_task_seed() -> u64 {
    TASK_SEED_BASE
}

impl EvalSize {
    pub fn full() -> EvalSize {
        EvalSize {
            episodes: 60,
            starts: vec![1, 12, 23],
            tasks: 50,
            task_steps: 40,
            replan_every: 4,
            cem: CemConfig {
                population: 128,
                elites: 16,
                iterations: 3,
                horizon: 12,
                ..CemConfig::default()
            },
            baseline_episodes: 400,
            episode_seed: EVAL_SEED_BASE,
            task_seed: TASK_SEED_BASE,
        }
    }
    /// The small fixed subset the tests recompute from the committed weights.
    pub fn subset() -> EvalSize {
        EvalSize {
            episodes: 4,
            starts: vec![1],
            tasks: 0,
            baseline_episodes: 0,
            ..EvalSize::full()
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Generation {
    /// Per horizon 1..=HORIZON, averaged over rollouts.
    pub psnr: Vec<f64>,
    pub ssim: Vec<f64>,
    pub copy_psnr: Vec<f64>,
    pub copy_ssim: Vec<f64>,
    /// The tokenizer's own reconstruction of the true frames: the ceiling of any prediction.
    pub tokenizer_psnr: f64,
    /// Pixels, at CENTROID_AT.
    pub centroid_px: Vec<f64>,
    pub copy_centroid_px: Vec<f64>,
    pub rollouts: usize,
    /// Text -> first frame: fraction of objects drawn with the right colour, shape and side.
    pub prompt_objects: usize,
    pub prompt_colour: f64,
    pub prompt_shape: f64,
    pub prompt_side: f64,
    pub prompt_all: f64,
    pub prompt_psnr: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Score {
    pub correct: usize,
    pub total: usize,
    pub majority: usize,
}

impl Score {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.total.max(1) as f64
    }
    pub fn majority_accuracy(&self) -> f64 {
        self.majority as f64 / self.total.max(1) as f64
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Understanding {
    pub overall: Score,
    pub by_kind: BTreeMap<String, Score>,
    pub by_template: BTreeMap<String, Score>,
    /// Unigram F1 of greedy captions against the true caption, and of the most common
    /// training caption (the baseline).
    pub caption_f1: f64,
    pub caption_exact: f64,
    pub caption_baseline_f1: f64,
    pub captions: usize,
    pub examples: Vec<(String, String, String)>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Operation {
    pub tasks: usize,
    pub model_success: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub oracle_success: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub random_success: f64,
    pub model_final_distance: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub oracle_final_distance: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub random_final_distance: f64,
    pub model_plan_ms: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub oracle_plan_ms: f64,
}

/// JSON writes a figure that was not measured (NaN: the teacher's run has no oracle or random
/// baseline of its own) as `null`; it reads back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    pub name: String,
    pub parameters: usize,
    pub generation: Generation,
    pub understanding: Understanding,
    pub operation: Operation,
    pub seconds: f64,
}

/// Mean of `v`, NaN when empty.
pub(crate) fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Held-out episodes with latents from this model's tokenizer.
pub fn eval_samples(
    model: &WorldModel,
    c: &ModelConfig,
    seed: u64,
    n: usize,
    device: &Device,
) -> Result<Vec<Sample>, String> {
    let mut samples = data::generate(c, seed, n, 2)?;
    crate::train::encode_all(model, c, &mut samples, device);
    Ok(samples)
}

/// Objects identifiable by colour alone (their colour is unique in the scene).
fn colour_unique(s: &Sample) -> Vec<usize> {
    (0..s.scene.objects.len())
        .filter(|&i| {
            s.scene
                .objects
                .iter()
                .filter(|o| o.colour == s.scene.objects[i].colour)
                .count()
                == 1
        })
        .collect()
}

pub fn generation(
    model: &WorldModel,
    c: &ModelConfig,
    samples: &[Sample],
    starts: &[usize],
    device: &Device,
) -> Generation {
    let per = c.patches() * c.patch_latent;
    let mut g = Generation::default();
    let picks: Vec<(usize, usize)> = samples
        .iter()
        .enumerate()
        .flat_map(|(i, _)| starts.iter().map(move |&t| (i, t)))
        .collect();
    let prev: Vec<f32> = picks
        .iter()
        .flat_map(|&(i, t)| samples[i].latents(t - 1, per).to_vec())
        .collect();
    let cur: Vec<f32> = picks
        .iter()
        .flat_map(|&(i, t)| samples[i].latents(t, per).to_vec())
        .collect();
    let actions: Vec<Vec<u8>> = (0..HORIZON)
        .map(|h| {
            picks
                .iter()
                .map(|&(i, t)| samples[i].actions[t + h])
                .collect()
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let dreamed = infer::dream(model, c, prev, cur, &actions, 0.0, &mut rng, device);
    let (mut cen, mut copy_cen) = (
        vec![Vec::new(); CENTROID_AT.len()],
        vec![Vec::new(); CENTROID_AT.len()],
    );
    for (h, lat) in dreamed.iter().enumerate() {
        let frames = infer::decode_frames(model, c, lat, device);
        let (mut p, mut s, mut cp, mut cs) = (vec![], vec![], vec![], vec![]);
        for (k, &(i, t)) in picks.iter().enumerate() {
            let truth = samples[i].frame(t + h + 1);
            let last = samples[i].frame(t);
            p.push(psnr(truth, &frames[k]));
            s.push(ssim(truth, &frames[k], FRAME, FRAME));
            cp.push(psnr(truth, last));
            cs.push(ssim(truth, last, FRAME, FRAME));
            if let Some(slot) = CENTROID_AT.iter().position(|&x| x == h + 1) {
                for o in colour_unique(&samples[i]) {
                    let rgb = samples[i].scene.objects[o].colour.rgb();
                    if let Some(e) = centroid_error(truth, &frames[k], FRAME, FRAME, rgb) {
                        cen[slot].push(e as f64);
                    }
                    if let Some(e) = centroid_error(truth, last, FRAME, FRAME, rgb) {
                        copy_cen[slot].push(e as f64);
                    }
                }
            }
        }
        g.psnr.push(mean(&p));
        g.ssim.push(mean(&s));
        g.copy_psnr.push(mean(&cp));
        g.copy_ssim.push(mean(&cs));
    }
    g.centroid_px = cen.iter().map(|v| mean(v)).collect();
    g.copy_centroid_px = copy_cen.iter().map(|v| mean(v)).collect();
    g.rollouts = picks.len();
    // Tokenizer ceiling on the frames the rollouts are compared with.
    let mut tok = Vec::new();
    for s in samples {
        let frames = infer::decode_frames(model, c, &s.latents, device);
        for (t, f) in frames.iter().enumerate() {
            tok.push(psnr(s.frame(t), f));
        }
    }
    g.tokenizer_psnr = mean(&tok);

    // Text -> first frame.
    let with_prompt: Vec<&Sample> = samples.iter().filter(|s| !s.prompt.is_empty()).collect();
    let prompts: Vec<Vec<u16>> = with_prompt.iter().map(|s| s.prompt.clone()).collect();
    if !prompts.is_empty() {
        let lat = infer::prompt_frames(model, c, &prompts, device);
        let frames = infer::decode_frames(model, c, &lat, device);
        let (mut colour, mut shape, mut side, mut all, mut n, mut ps) = (0, 0, 0, 0, 0, vec![]);
        for (s, f) in with_prompt.iter().zip(&frames) {
            ps.push(psnr(s.frame(0), f));
            for o in colour_unique(s) {
                let obj = &s.scene.objects[o];
                let Some(truth) =
                    find_colour(s.frame(0), FRAME, FRAME, obj.colour.rgb(), COLOUR_TOL)
                else {
                    continue;
                };
                n += 1;
                let Some(blob) = find_colour(f, FRAME, FRAME, obj.colour.rgb(), COLOUR_TOL) else {
                    continue;
                };
                colour += 1;
                let shape_ok = looks_like_box(&blob) == (obj.shape == Shape::Box);
                // Side: the same third of the frame horizontally and vertically as the truth.
                let third = |x: f32| (x / (FRAME as f32 / 3.0)).floor() as i32;
                let side_ok = third(blob.centroid[0]) == third(truth.centroid[0])
                    && third(blob.centroid[1]) == third(truth.centroid[1]);
                shape += shape_ok as usize;
                side += side_ok as usize;
                all += (shape_ok && side_ok) as usize;
            }
        }
        let d = n.max(1) as f64;
        g.prompt_objects = n;
        g.prompt_colour = colour as f64 / d;
        g.prompt_shape = shape as f64 / d;
        g.prompt_side = side as f64 / d;
        g.prompt_all = all as f64 / d;
        g.prompt_psnr = mean(&ps);
    }
    g
}

fn kind_name(k: QuestionKind) -> String {
    format!("{k:?}").to_lowercase()
}

/// The most common answer per template in `baseline` training episodes.
pub fn majority_answers(baseline: &[Sample]) -> BTreeMap<String, String> {
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for s in baseline {
        for q in &s.questions {
            *counts
                .entry(format!("{:?}", q.template))
                .or_default()
                .entry(q.answer.clone())
                .or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(t, m)| {
            (
                t,
                m.into_iter()
                    .max_by_key(|(a, n)| (*n, std::cmp::Reverse(a.clone())))
                    .map(|(a, _)| a)
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn unigram_f1(pred: &[u16], truth: &[u16]) -> f64 {
    if pred.is_empty() || truth.is_empty() {
        return 0.0;
    }
    let mut pool: BTreeMap<u16, usize> = BTreeMap::new();
    for t in truth {
        *pool.entry(*t).or_default() += 1;
    }
    let mut hit = 0;
    for p in pred {
        if let Some(n) = pool.get_mut(p).filter(|n| **n > 0) {
            *n -= 1;
            hit += 1;
        }
    }
    let (pr, rc) = (
        hit as f64 / pred.len() as f64,
        hit as f64 / truth.len() as f64,
    );
    if hit == 0 {
        0.0
    } else {
        2.0 * pr * rc / (pr + rc)
    }
}

pub fn understanding(
    model: &WorldModel,
    c: &ModelConfig,
    samples: &[Sample],
    majority: &BTreeMap<String, String>,
    baseline_caption: &[u16],
    device: &Device,
) -> Understanding {
    let mut u = Understanding::default();
    let (mut clips, mut prefixes, mut meta) = (vec![], vec![], vec![]);
    let (mut cap_clips, mut cap_truth) = (vec![], vec![]);
    for s in samples {
        let states = infer::clip_states(model, c, &s.latents, &s.actions, device);
        for q in &s.questions {
            let Ok(mut prefix) = data::words(&q.question) else {
                continue;
            };
            prefix.insert(0, BOS);
            prefix.push(ANS);
            clips.push(infer::clip_rows(
                c,
                &states,
                &s.actions,
                q.clip_frames as usize,
            ));
            prefixes.push(prefix);
            meta.push(q.clone());
        }
        cap_clips.push(infer::clip_rows(c, &states, &s.actions, s.frame_count()));
        cap_truth.push(s.caption[1..s.caption.len() - 1].to_vec());
    }
    let answers = infer::continue_text(model, c, &clips, &prefixes, 4, device);
    for (q, a) in meta.iter().zip(&answers) {
        let said = world::language::vocab::detokenize(a);
        let ok = said.trim() == q.answer.trim();
        let maj = majority
            .get(&format!("{:?}", q.template))
            .is_some_and(|m| m == &q.answer);
        for score in [
            &mut u.overall,
            u.by_kind.entry(kind_name(q.kind)).or_default(),
            u.by_template
                .entry(format!("{:?}", q.template))
                .or_default(),
        ] {
            score.total += 1;
            score.correct += ok as usize;
            score.majority += maj as usize;
        }
        if u.examples.len() < 12 {
            u.examples
                .push((q.question.clone(), q.answer.clone(), said));
        }
    }
    let bos = vec![vec![BOS]; cap_clips.len()];
    let caps = infer::continue_text(model, c, &cap_clips, &bos, c.max_text - 1, device);
    let f1: Vec<f64> = caps
        .iter()
        .zip(&cap_truth)
        .map(|(p, t)| unigram_f1(p, t))
        .collect();
    u.caption_f1 = mean(&f1);
    u.caption_exact = caps.iter().zip(&cap_truth).filter(|(p, t)| p == t).count() as f64
        / caps.len().max(1) as f64;
    u.caption_baseline_f1 = mean(
        &cap_truth
            .iter()
            .map(|t| unigram_f1(baseline_caption, t))
            .collect::<Vec<_>>(),
    );
    u.captions = caps.len();
    u
}

/// Model-predictive control: plan, carry out the first `every` actions, plan again (warm
/// started from the rest of the previous plan).
struct Mpc {
    every: usize,
    queue: Vec<u8>,
    last_plan: Vec<u8>,
}

impl Mpc {
    fn new(every: usize) -> Mpc {
        Mpc {
            every: every.max(1),
            queue: Vec::new(),
            last_plan: Vec::new(),
        }
    }

    /// The action for step `t`, planning with `plan(warm_start)` when due; planning time in
    /// milliseconds is appended to `times`.
    fn act(
        &mut self,
        t: usize,
        times: &mut Vec<f64>,
        plan: impl FnOnce(Option<&[u8]>) -> Vec<u8>,
    ) -> u8 {
        if t % self.every == 0 || self.queue.is_empty() {
            let started = Instant::now();
            let warm = (!self.last_plan.is_empty())
                .then(|| self.last_plan[(self.every - 1).min(self.last_plan.len())..].to_vec());
            let actions = plan(warm.as_deref());
            times.push(started.elapsed().as_secs_f64() * 1e3);
            self.queue = actions.iter().take(self.every).rev().copied().collect();
            self.last_plan = actions;
        }
        self.queue.pop().unwrap_or(0)
    }
}

/// Push-to-goal tasks: the model's latent planner, the same planner on the true simulator,
/// and a uniform random policy.
pub fn operation(
    model: &WorldModel,
    c: &ModelConfig,
    size: &EvalSize,
    baselines: bool,
    device: &Device,
) -> Operation {
    let tasks = make_tasks(size.task_seed, size.tasks);
    let mut op = Operation {
        tasks: tasks.len(),
        ..Default::default()
    };
    let (mut ms, mut os, mut rs) = (vec![], vec![], vec![]);
    let (mut md, mut od, mut rd) = (vec![], vec![], vec![]);
    let (mut model_ms, mut oracle_ms) = (vec![], vec![]);
    for task in &tasks {
        // Model: MPC with the latent planner, replanning every `replan_every` steps.
        let goal = data::words(&task.goal_text()).expect("goal sentences use the vocabulary");
        let g = infer::goal_vectors(model, c, &[goal], device);
        let mut renderer = Renderer::new(FRAME as u32, FRAME as u32).expect("renderer");
        let mut rng = ChaCha8Rng::seed_from_u64(task.seed);
        let mut prev_frame: Option<Vec<u8>> = None;
        let mut mpc = Mpc::new(size.replan_every);
        let out = run_task(task, size.task_steps, |sim, t| {
            let frame = renderer.draw_rgb(&task.scene, &sim.state());
            let prev = prev_frame
                .replace(frame.clone())
                .unwrap_or_else(|| frame.clone());
            mpc.act(t, &mut model_ms, |warm| {
                let lat = infer::encode_frames(model, c, &[&prev, &frame], device);
                let per = c.patches() * c.patch_latent;
                let (_, _, z) = infer::step(model, c, &lat[..per], &lat[per..], &[0], device);
                infer::plan(model, c, &z, &g, &size.cem, warm, &mut rng, device).actions
            })
        });
        ms.push(out.success as u8 as f64);
        md.push(out.final_distance as f64);

        if !baselines {
            continue;
        }
        // Oracle: the same planner scoring candidates in the true simulator.
        let mut rng = ChaCha8Rng::seed_from_u64(task.seed);
        let mut mpc = Mpc::new(size.replan_every);
        let mut history: Vec<u8> = Vec::new();
        let out = run_task(task, size.task_steps, |sim, t| {
            let a = mpc.act(t, &mut oracle_ms, |warm| {
                crate::planner::cem_plan(&size.cem, &mut rng, warm, |cands| {
                    oracle_cost(sim, task, &history, cands)
                })
                .actions
            });
            history.push(a);
            a
        });
        os.push(out.success as u8 as f64);
        od.push(out.final_distance as f64);

        let mut rng = ChaCha8Rng::seed_from_u64(task.seed ^ 0x5eed);
        let out = run_task(task, size.task_steps, |_, _| rng.random_range(0..9u8));
        rs.push(out.success as u8 as f64);
        rd.push(out.final_distance as f64);
    }
    op.model_success = mean(&ms);
    op.oracle_success = mean(&os);
    op.random_success = mean(&rs);
    op.model_final_distance = mean(&md);
    op.oracle_final_distance = mean(&od);
    op.random_final_distance = mean(&rd);
    op.model_plan_ms = mean(&model_ms);
    op.oracle_plan_ms = mean(&oracle_ms);
    op
}

/// The whole evaluation of one model; `baselines` adds the oracle and random planners.
pub fn evaluate(
    name: &str,
    model: &WorldModel,
    c: &ModelConfig,
    size: &EvalSize,
    baseline: &[Sample],
    baselines: bool,
    device: &Device,
) -> Result<Report, String> {
    let started = Instant::now();
    let samples = eval_samples(model, c, size.episode_seed, size.episodes, device)?;
    let majority = majority_answers(baseline);
    let baseline_caption = most_common_caption(baseline);
    let generation = generation(model, c, &samples, &size.starts, device);
    let understanding = understanding(model, c, &samples, &majority, &baseline_caption, device);
    let operation = if size.tasks > 0 {
        operation(model, c, size, baselines, device)
    } else {
        Operation::default()
    };
    Ok(Report {
        name: name.into(),
        parameters: model.param_count(),
        generation,
        understanding,
        operation,
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub fn most_common_caption(baseline: &[Sample]) -> Vec<u16> {
    let mut counts: BTreeMap<Vec<u16>, usize> = BTreeMap::new();
    for s in baseline {
        *counts
            .entry(s.caption[1..s.caption.len() - 1].to_vec())
            .or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::Operation;

    #[test]
    fn figures_not_measured_come_back_from_json_as_nan() {
        let op = Operation { tasks: 3, model_success: 0.5, oracle_success: f64::NAN, oracle_plan_ms: f64::NAN, ..Operation::default() };
        let text = serde_json::to_string(&op).unwrap();
        assert!(text.contains("\"oracle_success\":null"), "{text}");
        let back: Operation = serde_json::from_str(&text).unwrap();
        assert!(back.oracle_success.is_nan() && back.oracle_plan_ms.is_nan());
        assert_eq!((back.tasks, back.model_success, back.random_success), (3, 0.5, 0.0));
    }
}
