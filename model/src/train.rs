//! Training: presets, the two phases (tokenizer, then the world model), distillation from a
//! teacher, atomic checkpoints with resume, metrics and a progress bar.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, Checkpoint};
use crate::config::ModelConfig;
use crate::data::{self, clip_indices, pad, qa_sequence, Sample};
use crate::metrics::{write_svg_plot, MetricsLog};
use crate::net::{floats, gaussian_nll, ints, WorldModel};

/// Everything that decides a run. Stored in the checkpoint; a resume with other settings is
/// refused.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    pub name: String,
    pub config: ModelConfig,
    /// Training episodes: seeds `seed .. seed + episodes` (all below data::EVAL_SEED_BASE).
    pub seed: u64,
    pub episodes: usize,
    pub tokenizer_steps: u64,
    pub tokenizer_batch: usize,
    pub world_steps: u64,
    /// Windows of `passes` consecutive frame-mode passes per step.
    pub batch: usize,
    pub passes: usize,
    /// Every `text_every` steps, one text batch from `text_episodes` episodes is added.
    pub text_every: u64,
    pub text_episodes: usize,
    pub lr: f64,
    /// Which device the preset is meant for: "flex" (CPU) or "wgpu".
    pub device: String,
}

impl Preset {
    pub fn named(name: &str) -> Result<Preset, String> {
        let base = |config: ModelConfig| Preset {
            name: name.to_string(),
            config,
            seed: 0,
            episodes: 24,
            tokenizer_steps: 60,
            tokenizer_batch: 256,
            world_steps: 30,
            batch: 4,
            passes: 3,
            text_every: 2,
            text_episodes: 2,
            lr: 2e-3,
            device: "flex".into(),
        };
        Ok(match name {
            "tiny" => base(ModelConfig::tiny()),
            "default" => Preset {
                episodes: 1200,
                tokenizer_steps: 6000,
                tokenizer_batch: 512,
                world_steps: 1000,
                batch: 12,
                text_every: 2,
                text_episodes: 2,
                lr: 1e-3,
                ..base(ModelConfig::teacher())
            },
            "full" => Preset {
                episodes: 20_000,
                tokenizer_steps: 4000,
                tokenizer_batch: 2048,
                world_steps: 40_000,
                batch: 64,
                text_every: 1,
                text_episodes: 8,
                lr: 5e-4,
                device: "wgpu".into(),
                ..base(ModelConfig::full())
            },
            "student" => Preset {
                episodes: 1200,
                tokenizer_steps: 0,
                world_steps: 900,
                batch: 12,
                text_every: 2,
                text_episodes: 2,
                lr: 2e-3,
                ..base(ModelConfig::student())
            },
            "tiny-student" => Preset {
                tokenizer_steps: 0,
                ..base(ModelConfig {
                    d_model: 16,
                    d_ff: 32,
                    ..ModelConfig::tiny()
                })
            },
            other => {
                return Err(format!(
                    "unknown preset \"{other}\": use tiny, default, full or student"
                ))
            }
        })
    }
}

/// Where a run stands. Saved with every checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunState {
    pub preset: Preset,
    pub step: u64,
    pub elapsed_s: f64,
    pub samples: u64,
    pub flops: f64,
    /// Path of the teacher's checkpoint, for a distillation run.
    pub teacher: Option<String>,
}

impl RunState {
    pub fn total_steps(&self) -> u64 {
        self.preset.tokenizer_steps + self.preset.world_steps
    }
}

/// The teacher a student learns from (already trained, never updated).
pub struct Teacher {
    pub model: WorldModel,
    pub config: ModelConfig,
}

/// The losses of one step, for the log.
#[derive(Default, Clone, Debug)]
pub struct StepLosses {
    pub total: f64,
    pub tokenizer: f64,
    pub frame_nll: f64,
    pub frame_mse: f64,
    pub latent: f64,
    pub cost: f64,
    pub text: f64,
    pub prompt: f64,
    pub distill: f64,
    pub samples: u64,
    pub flops: f64,
}

/// A one-element tensor's value.
pub fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

/// Encodes every frame of every sample with the (frozen) tokenizer into `sample.latents`.
pub fn encode_all(model: &WorldModel, c: &ModelConfig, samples: &mut [Sample], device: &Device) {
    let per_frame = c.patches() * c.patch_dim();
    let frozen = model.valid();
    for s in samples.iter_mut() {
        let n = s.frame_count();
        let mut patches = Vec::with_capacity(n * per_frame);
        for t in 0..n {
            data::patchify(s.frame(t), c.patch, &mut patches);
        }
        let x = floats(patches, [n * c.patches(), c.patch_dim()], device); // [frames * P, patch_dim]
        let z = frozen.tokenizer.encode(x);
        s.latents = z.into_data().try_into_vec::<f32>().expect("f32 latents");
    }
}

/// Frame-mode inputs for a list of (sample, t) pairs: prev, cur, target `[N, P, L]`, actions.
pub struct FrameBatch {
    pub prev: Tensor<3>,
    pub cur: Tensor<3>,
    pub target: Tensor<3>,
    pub actions: Tensor<1, Int>,
}

/// Builds frame-mode inputs; `t` is the current frame, prev is `t - 1` (or `t` at the start),
/// target is `t + 1` (or `t` at the end, where it is unused).
pub fn frame_batch(
    c: &ModelConfig,
    samples: &[Sample],
    picks: &[(usize, usize)],
    device: &Device,
) -> FrameBatch {
    let per = c.patches() * c.patch_latent;
    let (mut prev, mut cur, mut target, mut actions) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &(i, t) in picks {
        let s = &samples[i];
        let last = s.frame_count() - 1;
        prev.extend_from_slice(s.latents(t.saturating_sub(1), per));
        cur.extend_from_slice(s.latents(t, per));
        target.extend_from_slice(s.latents((t + 1).min(last), per));
        actions.push(*s.actions.get(t).unwrap_or(&0) as i64);
    }
    let n = picks.len();
    let shape = [n, c.patches(), c.patch_latent];
    FrameBatch {
        prev: floats(prev, shape, device),
        cur: floats(cur, shape, device),
        target: floats(target, shape, device),
        actions: ints(actions, [n], device),
    }
}

/// State latents `[frames, Z]` of every frame of a sample, with a frozen model.
pub fn sample_latents(
    model: &WorldModel,
    c: &ModelConfig,
    s: &Sample,
    device: &Device,
) -> Tensor<2> {
    let picks: Vec<(usize, usize)> = (0..s.frame_count()).map(|t| (0, t)).collect();
    let b = frame_batch(c, std::slice::from_ref(s), &picks, device);
    let (_, _, z) = model.frame_step(
        c,
        b.prev,
        b.cur,
        b.actions,
        WorldModel::frame_mask(c, device),
    );
    z
}

/// Text batch: clip latents, clip actions, words, targets and a loss mask.
pub struct TextBatch {
    pub z: Tensor<3>,
    pub actions: Tensor<2, Int>,
    pub words: Tensor<2, Int>,
    pub targets: Tensor<2, Int>,
    pub mask: Tensor<2>,
    pub count: usize,
}

/// Questions and captions of the chosen samples, given each sample's frame latents `[F, Z]`.
pub fn text_batch(
    c: &ModelConfig,
    samples: &[&Sample],
    latents: &[Vec<f32>],
    device: &Device,
) -> TextBatch {
    let z_dim = c.state_latent;
    // (sample index, clip frames, sequence, first index whose next word is scored)
    let mut items: Vec<(usize, usize, Vec<u16>, usize)> = Vec::new();
    for (k, s) in samples.iter().enumerate() {
        for qa in &s.questions {
            if let Ok((seq, ans)) = qa_sequence(qa) {
                items.push((k, qa.clip_frames as usize, seq, ans));
            }
        }
        items.push((k, s.frame_count(), s.caption.clone(), 0));
    }
    let s_len = items.iter().map(|it| it.2.len()).max().unwrap_or(1);
    let (mut z, mut acts, mut words, mut targets, mut mask) =
        (vec![], vec![], vec![], vec![], vec![]);
    for (k, frames, seq, from) in &items {
        for t in clip_indices(*frames, c.max_clip) {
            z.extend_from_slice(&latents[*k][t * z_dim..(t + 1) * z_dim]);
            acts.push(*samples[*k].actions.get(t).unwrap_or(&0) as i64);
        }
        words.extend(pad(seq, s_len));
        targets.extend(pad(&seq[1..], s_len));
        for i in 0..s_len {
            mask.push(if i >= *from && i + 1 < seq.len() {
                1.0
            } else {
                0.0
            });
        }
    }
    let n = items.len();
    TextBatch {
        z: floats(z, [n, c.max_clip, z_dim], device),
        actions: ints(acts, [n, c.max_clip], device),
        words: ints(words, [n, s_len], device),
        targets: ints(targets, [n, s_len], device),
        mask: floats(mask, [n, s_len], device),
        count: n,
    }
}

/// Mean cross-entropy of `logits [B, S, V]` against `targets [B, S]` where `mask [B, S]` is 1.
pub fn masked_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    mask: Tensor<2>,
) -> Tensor<1> {
    let [b, s, _] = logits.dims();
    let logp = log_softmax(logits, 2);
    let picked = logp.gather(2, targets.reshape([b, s, 1])).reshape([b, s]); // [B, S, 1] -> [B, S]
    let total = mask.clone().sum().clamp_min(1.0);
    (picked * mask).sum().neg() / total
}

/// Padded word ids `[B, S]` and lengths for goal or prompt sentences.
pub fn sentences(texts: &[&[u16]], device: &Device) -> (Tensor<2, Int>, Vec<usize>) {
    let s = texts.iter().map(|t| t.len()).max().unwrap_or(1).max(1);
    let ids = texts.iter().flat_map(|t| pad(t, s)).collect();
    (
        ints(ids, [texts.len(), s], device),
        texts.iter().map(|t| t.len()).collect(),
    )
}

/// One step of the tokenizer phase: reconstruct random patches.
fn tokenizer_step(
    model: &WorldModel,
    c: &ModelConfig,
    samples: &[Sample],
    rng: &mut ChaCha8Rng,
    batch: usize,
    device: &Device,
) -> (Tensor<1>, StepLosses) {
    let pd = c.patch_dim();
    let mut frame_patches = Vec::new();
    let mut x = Vec::with_capacity(batch * pd);
    // Patches from random frames; every patch of a drawn frame, so backgrounds and objects
    // appear in their natural proportion.
    while x.len() < batch * pd {
        let s = &samples[rng.random_range(0..samples.len())];
        frame_patches.clear();
        data::patchify(
            s.frame(rng.random_range(0..s.frame_count())),
            c.patch,
            &mut frame_patches,
        );
        let take = (batch * pd - x.len()).min(frame_patches.len());
        x.extend_from_slice(&frame_patches[..take]);
    }
    let x = floats(x, [batch, pd], device);
    let y = model.tokenizer.decode(model.tokenizer.encode(x.clone()));
    let loss = (y - x).powi_scalar(2).mean();
    let flops = 3.0
        * 2.0
        * batch as f64
        * 2.0
        * (pd * c.tokenizer_hidden + c.tokenizer_hidden * c.patch_latent) as f64;
    let v = scalar(loss.clone());
    (
        loss,
        StepLosses {
            total: v,
            tokenizer: v,
            samples: batch as u64,
            flops,
            ..Default::default()
        },
    )
}

fn mse(a: Tensor<2>, b: Tensor<2>) -> Tensor<1> {
    (a - b).powi_scalar(2).mean()
}

/// Weighted mean of squared errors, `weights` 0 or 1 per row.
fn weighted_mse(pred: Tensor<1>, target: Tensor<1>, weights: Tensor<1>) -> Tensor<1> {
    let total = weights.clone().sum().clamp_min(1.0);
    ((pred - target).powi_scalar(2) * weights).sum() / total
}

/// One step of the world phase: dynamics, planning heads, and (every `text_every` steps)
/// language. With a teacher, its outputs are extra soft targets.
#[allow(clippy::too_many_arguments)]
fn world_step(
    model: &WorldModel,
    p: &Preset,
    samples: &[Sample],
    step: u64,
    rng: &mut ChaCha8Rng,
    device: &Device,
    plain: &Device,
    teacher: Option<&Teacher>,
) -> (Tensor<1>, StepLosses) {
    let c = &p.config;
    let (b, k) = (p.batch, p.passes);
    let mut losses = StepLosses::default();
    // Windows: sample i, first current frame t0; pass j uses frames (t0+j-1, t0+j) -> t0+j+1.
    let windows: Vec<(usize, usize)> = (0..b)
        .map(|_| {
            let i = rng.random_range(0..samples.len());
            let last_start = samples[i].frame_count() - 1 - k;
            (i, rng.random_range(1..=last_start))
        })
        .collect();
    // Pass-major order: rows j*B .. (j+1)*B are pass j.
    let picks: Vec<(usize, usize)> = (0..k)
        .flat_map(|j| windows.iter().map(move |&(i, t)| (i, t + j)))
        .collect();
    let fb = frame_batch(c, samples, &picks, device);
    let mask = WorldModel::frame_mask(c, device);
    let (mean, logvar, z) =
        model.frame_step(c, fb.prev.clone(), fb.cur.clone(), fb.actions.clone(), mask);
    let frame_nll = gaussian_nll(mean.clone(), logvar, fb.target.clone());
    let frame_mse = (mean.clone() - fb.target.clone()).powi_scalar(2).mean();
    losses.frame_nll = scalar(frame_nll.clone());
    losses.frame_mse = scalar(frame_mse.clone());
    let mut total = frame_nll;

    // Planning path: roll z forward with the latent dynamics, matching later frames' z.
    let zs: Vec<Tensor<2>> = (0..k).map(|j| z.clone().narrow(0, j * b, b)).collect();
    let acts: Vec<Tensor<1, Int>> = (0..k)
        .map(|j| fb.actions.clone().narrow(0, j * b, b))
        .collect();
    let mut imagined = vec![zs[0].clone()];
    let mut latent = Tensor::<1>::zeros([1], device);
    for j in 1..k {
        let next = model.latent_step(imagined[j - 1].clone(), acts[j - 1].clone());
        latent = latent + mse(next.clone(), zs[j].clone().detach());
        imagined.push(next);
    }
    // Keep z spread out (a collapsed z would make the latent loss trivially zero).
    let spread = (z
        .clone()
        .var(0)
        .add_scalar(1e-4)
        .sqrt()
        .neg()
        .add_scalar(1.0))
    .clamp_min(0.0)
    .mean();
    losses.latent = scalar(latent.clone());
    total = total + latent + spread * 0.1;

    // Goal costs: a random goal per window; distance targets from the simulator state.
    let mut goal_words: Vec<&[u16]> = Vec::new();
    let (mut weights, mut targets) = (Vec::new(), vec![Vec::new(); k]);
    for &(i, t0) in &windows {
        let s = &samples[i];
        if s.goals.is_empty() {
            goal_words.push(&[world::language::vocab::EOS]);
            weights.push(0.0);
            for tj in targets.iter_mut() {
                tj.push(0.0);
            }
            continue;
        }
        let g = &s.goals[rng.random_range(0..s.goals.len())];
        goal_words.push(&g.words);
        weights.push(1.0);
        for (j, tj) in targets.iter_mut().enumerate() {
            tj.push(data::goal_cost(
                &s.scene,
                &s.states[t0 + j],
                g.object,
                g.zone,
            ));
        }
    }
    let (gw, glen) = sentences(&goal_words, device);
    let g = model.goal(c, gw.clone(), &glen);
    let w = floats(weights, [b], device);
    let mut cost = Tensor::<1>::zeros([1], device);
    for j in 0..k {
        let target = floats(targets[j].clone(), [b], device);
        cost = cost
            + weighted_mse(
                model.goal_cost(zs[j].clone(), g.clone()),
                target.clone(),
                w.clone(),
            );
        if j > 0 {
            cost = cost
                + weighted_mse(
                    model.goal_cost(imagined[j].clone(), g.clone()),
                    target,
                    w.clone(),
                );
        }
    }
    losses.cost = scalar(cost.clone());
    total = total + cost * 4.0;
    let frame_flops = c.flops_per_dream_frame() as f64;
    losses.samples = (b * k) as u64;
    losses.flops = 3.0 * frame_flops * (b * k) as f64;

    // Distillation: match the teacher's next-frame means on the same inputs. (Goal costs are
    // learned from the data: the student's cost head learns the planners' step cost.)
    if let Some(t) = teacher {
        let tm = t.model.valid();
        let fb_plain = frame_batch(&t.config, samples, &picks, plain);
        let (t_mean, _, _) = tm.frame_step(
            &t.config,
            fb_plain.prev,
            fb_plain.cur,
            fb_plain.actions,
            WorldModel::frame_mask(&t.config, plain),
        );
        let t_mean = Tensor::<3>::from_data(t_mean.into_data(), device);
        let d = (mean - t_mean).powi_scalar(2).mean();
        losses.distill += scalar(d.clone());
        total = total + d;
        losses.flops += frame_flops * (b * k) as f64;
    }

    if step % p.text_every == 0 {
        let (text, prompt, distill, n, flops) =
            text_losses(model, p, samples, rng, device, plain, teacher);
        losses.text = scalar(text.clone());
        losses.prompt = scalar(prompt.clone());
        losses.flops += flops;
        losses.samples += n as u64;
        total = total + text + prompt * 0.5;
        if let Some(d) = distill {
            losses.distill += scalar(d.clone());
            total = total + d;
        }
    }
    losses.total = scalar(total.clone());
    (total, losses)
}

/// Questions, captions and scene prompts of a few random samples.
#[allow(clippy::type_complexity)]
fn text_losses(
    model: &WorldModel,
    p: &Preset,
    samples: &[Sample],
    rng: &mut ChaCha8Rng,
    device: &Device,
    plain: &Device,
    teacher: Option<&Teacher>,
) -> (Tensor<1>, Tensor<1>, Option<Tensor<1>>, usize, f64) {
    let c = &p.config;
    let chosen: Vec<&Sample> = (0..p.text_episodes)
        .map(|_| &samples[rng.random_range(0..samples.len())])
        .collect();
    // The clip's state latents come from the current model without gradients: understanding
    // reads what the dynamics learned to summarise.
    let frozen = model.valid();
    let latents: Vec<Vec<f32>> = chosen
        .iter()
        .map(|s| {
            sample_latents(&frozen, c, s, plain)
                .into_data()
                .try_into_vec::<f32>()
                .expect("f32")
        })
        .collect();
    let tb = text_batch(c, &chosen, &latents, device);
    let logits = model.clip_words(c, tb.z.clone(), tb.actions.clone(), tb.words.clone());
    let text = masked_cross_entropy(logits.clone(), tb.targets.clone(), tb.mask.clone());
    let frames: usize = chosen.iter().map(|s| s.frame_count()).sum();
    let mut flops = c.flops_per_dream_frame() as f64 * frames as f64;

    // Prompt -> first frame.
    let with_prompt: Vec<&Sample> = chosen
        .iter()
        .copied()
        .filter(|s| !s.prompt.is_empty())
        .collect();
    let with_prompt = if with_prompt.is_empty() {
        vec![chosen[0]]
    } else {
        with_prompt
    };
    let prompts: Vec<&[u16]> = with_prompt.iter().map(|s| s.prompt.as_slice()).collect();
    let (pw, plen) = sentences(&prompts, device);
    let (mean, logvar) = model.prompt_frame(c, pw, &plen);
    let per = c.patches() * c.patch_latent;
    let first: Vec<f32> = with_prompt
        .iter()
        .flat_map(|s| s.latents(0, per).to_vec())
        .collect();
    let first = floats(
        first,
        [with_prompt.len(), c.patches(), c.patch_latent],
        device,
    );
    let prompt = gaussian_nll(mean, logvar, first);

    let distill = teacher.map(|t| {
        let tm = t.model.valid();
        let t_lat: Vec<Vec<f32>> = chosen
            .iter()
            .map(|s| {
                sample_latents(&tm, &t.config, s, plain)
                    .into_data()
                    .try_into_vec::<f32>()
                    .expect("f32")
            })
            .collect();
        let ttb = text_batch(&t.config, &chosen, &t_lat, plain);
        let t_logits = tm.clip_words(&t.config, ttb.z, ttb.actions, ttb.words);
        let t_prob = Tensor::<3>::from_data(softmax(t_logits, 2).into_data(), device);
        // Cross-entropy against the teacher's distribution at the scored positions.
        let [b, s, _] = logits.dims();
        let per_pos = (t_prob * log_softmax(logits.clone(), 2))
            .sum_dim(2)
            .reshape([b, s])
            .neg(); // [B, S, 1] -> [B, S]
        let total = tb.mask.clone().sum().clamp_min(1.0);
        flops += t.config.flops_per_dream_frame() as f64 * frames as f64;
        (per_pos * tb.mask.clone()).sum() / total
    });
    (text, prompt, distill, tb.count, flops)
}

/// Command-line facing options of a run.
pub struct RunOptions {
    pub out: PathBuf,
    pub resume: bool,
    pub threads: usize,
    pub quiet: bool,
    /// Checkpoint at least this often.
    pub checkpoint_every_s: f64,
    /// Stop (with a checkpoint) once this step is reached, as a kill would: for tests.
    pub stop_after: Option<u64>,
}

/// The result of a run: where it stands and its last logged losses.
pub struct RunSummary {
    pub state: RunState,
    pub first: StepLosses,
    pub last: StepLosses,
    pub model: WorldModel,
}

const COLUMNS: [&str; 13] = [
    "loss",
    "tokenizer_mse",
    "frame_nll",
    "frame_mse",
    "latent",
    "cost",
    "text",
    "prompt",
    "distill",
    "lr",
    "samples_per_s",
    "gflops_per_s",
    "elapsed_s",
];

/// Trains a preset to its end, resuming from `out/checkpoint.bin` when asked.
pub fn run(
    preset: Preset,
    opts: &RunOptions,
    teacher: Option<(Teacher, String)>,
) -> Result<RunSummary, String> {
    preset.config.validate()?;
    let plain = device_for(&preset)?;
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| format!("cannot create {}: {e}", opts.out.display()))?;
    let device = plain.clone().autodiff();
    let c = preset.config.clone();
    let ckpt_path = opts.out.join(checkpoint::FILE);

    let (mut model, mut optim, mut state) = if opts.resume && ckpt_path.exists() {
        let ck = Checkpoint::load(&ckpt_path)?;
        if ck.state.preset != preset {
            return Err(format!(
                "{} was written by a run with other settings (preset \"{}\"); resume it with the same preset or train into another --out",
                ckpt_path.display(),
                ck.state.preset.name
            ));
        }
        let model = WorldModel::new(&c, &device).load_record(ck.model);
        let optim = AdamConfig::new().init().load_record(ck.optimizer);
        eprintln!(
            "resuming {} at step {} of {}",
            ckpt_path.display(),
            ck.state.step,
            ck.state.total_steps()
        );
        (model, optim, ck.state)
    } else {
        if ckpt_path.exists() && !opts.resume {
            return Err(format!(
                "{} exists: pass --resume to continue it, or choose another --out",
                ckpt_path.display()
            ));
        }
        device.seed(preset.seed);
        let mut model = WorldModel::new(&c, &device);
        if let Some((t, _)) = &teacher {
            // The student shares the teacher's frame tokenizer (same patch codes), so it
            // learns the dynamics, not a new alphabet.
            model.tokenizer = t.model.tokenizer.clone().fork(&device);
        }
        let state = RunState {
            preset: preset.clone(),
            step: 0,
            elapsed_s: 0.0,
            samples: 0,
            flops: 0.0,
            teacher: teacher.as_ref().map(|(_, p)| p.clone()),
        };
        (model, AdamConfig::new().init(), state)
    };
    let teacher = teacher.map(|(t, _)| t);

    let t_gen = Instant::now();
    let mut samples = data::generate(&c, preset.seed, preset.episodes, opts.threads)?;
    if !opts.quiet {
        eprintln!(
            "{} training episodes in {:.1}s; {} parameters",
            samples.len(),
            t_gen.elapsed().as_secs_f64(),
            model.param_count()
        );
    }
    let total = state.total_steps();
    let mut log = MetricsLog::open(&opts.out, &COLUMNS, Some(state.step).filter(|s| *s > 0))
        .map_err(|e| format!("metrics log in {}: {e}", opts.out.display()))?;
    let bar = progress(total, state.step, opts.quiet);
    let mut encoded = false;
    let (mut first, mut last) = (None, StepLosses::default());
    let mut last_ckpt = Instant::now();
    let mut window = (Instant::now(), 0u64, 0.0f64);

    while state.step < total {
        let step = state.step;
        let mut rng = ChaCha8Rng::seed_from_u64(world::scene::derive_seed(preset.seed, step));
        let started = Instant::now();
        let in_tokenizer = step < preset.tokenizer_steps;
        let (loss, losses) = if in_tokenizer {
            tokenizer_step(
                &model,
                &c,
                &samples,
                &mut rng,
                preset.tokenizer_batch,
                &device,
            )
        } else {
            if !encoded {
                encode_all(&model, &c, &mut samples, &plain);
                encoded = true;
            }
            let ws = step - preset.tokenizer_steps;
            world_step(
                &model,
                &preset,
                &samples,
                ws,
                &mut rng,
                &device,
                &plain,
                teacher.as_ref(),
            )
        };
        if !losses.total.is_finite() {
            return Err(format!(
                "loss became {} at step {step}; the last checkpoint is intact in {}",
                losses.total,
                opts.out.display()
            ));
        }
        let lr = learning_rate(&preset, step);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(lr, model, grads);

        state.step += 1;
        state.elapsed_s += started.elapsed().as_secs_f64();
        state.samples += losses.samples;
        state.flops += losses.flops;
        window.1 += losses.samples;
        window.2 += losses.flops;
        let secs = window.0.elapsed().as_secs_f64().max(1e-9);
        let (sps, gflops) = (window.1 as f64 / secs, window.2 / secs / 1e9);
        if window.0.elapsed().as_secs_f64() > 20.0 {
            window = (Instant::now(), 0, 0.0);
        }
        log.log(
            state.step,
            &[
                ("loss", losses.total),
                (
                    "tokenizer_mse",
                    if in_tokenizer {
                        losses.tokenizer
                    } else {
                        f64::NAN
                    },
                ),
                ("frame_nll", nan_if(in_tokenizer, losses.frame_nll)),
                ("frame_mse", nan_if(in_tokenizer, losses.frame_mse)),
                ("latent", nan_if(in_tokenizer, losses.latent)),
                ("cost", nan_if(in_tokenizer, losses.cost)),
                (
                    "text",
                    nan_if(in_tokenizer || losses.text == 0.0, losses.text),
                ),
                (
                    "prompt",
                    nan_if(in_tokenizer || losses.prompt == 0.0, losses.prompt),
                ),
                (
                    "distill",
                    nan_if(teacher.is_none() || in_tokenizer, losses.distill),
                ),
                ("lr", lr),
                ("samples_per_s", sps),
                ("gflops_per_s", gflops),
                ("elapsed_s", state.elapsed_s),
            ],
        )
        .map_err(|e| format!("metrics log: {e}"))?;
        bar.set_position(state.step);
        bar.set_message(format!(
            "{} loss {:.4} · {:.0} samples/s · {:.1} GFLOP/s",
            if in_tokenizer { "tokenizer" } else { "world" },
            losses.total,
            sps,
            gflops
        ));
        if first.is_none() {
            first = Some(losses.clone());
        }
        last = losses;
        let phase_end = state.step == preset.tokenizer_steps;
        let stop = opts.stop_after == Some(state.step);
        if state.step == total
            || phase_end
            || stop
            || last_ckpt.elapsed().as_secs_f64() > opts.checkpoint_every_s
            || interrupted()
        {
            Checkpoint::save(&ckpt_path, &state, model.clone(), &optim)?;
            let _ = write_svg_plot(
                &opts.out.join("metrics.csv"),
                &opts.out.join("metrics.svg"),
                &format!("training: {}", preset.name),
            );
            last_ckpt = Instant::now();
            if interrupted() {
                bar.abandon_with_message(format!(
                    "interrupted: checkpoint at step {} in {}",
                    state.step,
                    ckpt_path.display()
                ));
                return Err(format!(
                    "interrupted at step {}; resume with --resume",
                    state.step
                ));
            }
            if stop {
                break;
            }
        }
    }
    bar.finish();
    Ok(RunSummary {
        state,
        first: first.unwrap_or_default(),
        last,
        model,
    })
}

/// The device a preset trains on: burn's `flex` CPU backend, or with the `gpu` feature its
/// wgpu backend (the default adapter) for `--preset full`.
pub fn device_for(preset: &Preset) -> Result<Device, String> {
    match preset.device.as_str() {
        "flex" => Ok(Device::flex()),
        #[cfg(feature = "gpu")]
        "wgpu" => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        other => Err(format!(
            "preset {} trains on the {other} device, which this build lacks: build with `--features gpu` on a GPU machine",
            preset.name
        )),
    }
}

fn nan_if(cond: bool, v: f64) -> f64 {
    if cond {
        f64::NAN
    } else {
        v
    }
}

/// Warm-up then cosine decay, per phase.
pub fn learning_rate(p: &Preset, step: u64) -> f64 {
    let (s, n) = if step < p.tokenizer_steps {
        (step, p.tokenizer_steps)
    } else {
        (step - p.tokenizer_steps, p.world_steps)
    };
    let warm = (n / 20).max(1);
    if s < warm {
        return p.lr * (s + 1) as f64 / warm as f64;
    }
    let progress = (s - warm) as f64 / (n - warm).max(1) as f64;
    p.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()))
}

fn progress(total: u64, at: u64, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} {msg} (eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_position(at);
    bar
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ctrl-C (or SIGTERM) asks the run to checkpoint and stop at the end of the current step.
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst));
}

fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}

/// Loads a finished (or partial) run's model and its preset.
pub fn load_run(dir: &Path, device: &Device) -> Result<(WorldModel, RunState), String> {
    let ck = Checkpoint::load(&dir.join(checkpoint::FILE))?;
    let model = WorldModel::new(&ck.state.preset.config, device).load_record(ck.model);
    Ok((model, ck.state))
}
