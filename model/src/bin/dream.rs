//! Trains the frame predictor on a `world gen` dataset with open-loop rollouts and scores its
//! dreams on held-out episodes against copying the last frame.
//!
//!     cargo run -p model --release --bin dream -- --data data/train --minutes 20 --out runs/frames

use std::path::PathBuf;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Tensor};
use clap::Parser;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use model::batches::Clips;
use model::frame_eval::{held_out, score_dreams};
use model::frame_net::{rolled, Compose, FrameNet, FrameNetConfig, Output};
use model::losses::{step_loss, LossWeights, StepTerms};
use model::train::scalar;

#[derive(Parser)]
struct Args {
    /// Dataset folder written by `world gen`.
    #[arg(long, default_value = "data/train")]
    data: PathBuf,
    /// Use at most this many episodes of it.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, default_value_t = 32)]
    width: usize,
    /// Residual blocks at 8x8: 2 (teacher) or 1 (student).
    #[arg(long, default_value_t = 2)]
    bottleneck: usize,
    /// palette or shift.
    #[arg(long, default_value = "palette")]
    output: String,
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Longest rollout trained through (reached after 40% of the budget).
    #[arg(long, default_value_t = 6)]
    rollout: usize,
    /// Shortest rollout trained through (the curriculum starts here).
    #[arg(long, default_value_t = 1)]
    kmin: usize,
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Wall-clock budget of the training, minutes.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    #[arg(long, default_value_t = 100.0)]
    w_pixels: f32,
    #[arg(long, default_value_t = 1.0)]
    w_classes: f32,
    #[arg(long, default_value_t = 1.0)]
    w_counts: f32,
    #[arg(long, default_value_t = 4.0)]
    w_centroids: f32,
    /// Score on this many held-out episodes every `eval_every` seconds.
    #[arg(long, default_value_t = 20)]
    eval_episodes: u64,
    #[arg(long, default_value_t = 300.0)]
    eval_every: f64,
    /// Also write the weights every this many seconds (a student distilling from this run
    /// while it trains reads them).
    #[arg(long)]
    save_every: Option<f64>,
    /// Held-out episodes for the final score.
    #[arg(long, default_value_t = 60)]
    final_episodes: u64,
    #[arg(long, default_value_t = 1_000_000)]
    episode_seed: u64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Start from this model file.
    #[arg(long)]
    init: Option<PathBuf>,
    /// Look the move biases up by (last move, move) (`FrameNetConfig::move_pairs`).
    #[arg(long)]
    move_pairs: bool,
    /// `--init` has one row per move: start every pair from its move's row
    /// (`FrameNet::with_move_pairs`; with `--move-pairs` and `--init`).
    #[arg(long, requires_all = ["move_pairs", "init"])]
    expand_moves: bool,
    #[arg(long, default_value = "runs/frames")]
    out: PathBuf,
    /// Distil from this frame net (its width in `--teacher-width`).
    #[arg(long)]
    teacher: Option<PathBuf>,
    #[arg(long, default_value_t = 32)]
    teacher_width: usize,
    /// The teacher is still training beside this run (`scripts/train_frames.sh` runs both
    /// at once, one core each): look at its file every this many seconds and distil from
    /// each new version; until the file exists, train on the data alone.
    #[arg(long, requires = "teacher")]
    teacher_reload: Option<f64>,
    /// Weight of the cross-entropy against the teacher's per-pixel distribution.
    #[arg(long, default_value_t = 1.0)]
    w_distill: f32,
    /// How dreams are drawn when scoring (training is the same whichever): hard (flat palette
    /// colour), soft (expected colour) or conserve (soft, keeping every object whole: the
    /// page's rule, `runtime::frame_net::Compose`).
    #[arg(long, default_value = "conserve")]
    compose: Compose,
    /// Divide each rollout step's pixel loss by copy-last's squared error at that step (times
    /// 1e-3): the loss then weighs a step by how much it costs in decibels, which is what the
    /// horizons are scored in, instead of letting the far steps' larger errors dominate.
    #[arg(long)]
    pixel_norm: bool,
    /// Where the training runs: `flex` (burn's pure-Rust CPU backend) or `libtorch` (burn's
    /// LibTorch backend on the CPU, several times faster on these convolutions; needs a build
    /// with `--features tch`, see docs/MODEL.md). Threads: `RAYON_NUM_THREADS` for flex,
    /// `OMP_NUM_THREADS` for libtorch.
    #[arg(long, default_value = "flex")]
    backend: String,
    /// Only score `--init` (drawn hard, soft and conserving); writes `--out`/scores.json for
    /// the `--compose` drawing.
    #[arg(long)]
    eval_only: bool,
}

fn load(path: &PathBuf, c: &FrameNetConfig, device: &Device) -> FrameNet {
    model::frame_net::load(path, c, device).unwrap_or_else(|e| panic!("{e}"))
}

fn main() {
    let a = Args::parse();
    let output = match a.output.as_str() {
        "palette" => Output::Palette,
        "shift" => Output::Shift,
        o => panic!("--output {o}: use palette or shift"),
    };
    let c = FrameNetConfig {
        bottleneck: a.bottleneck,
        move_pairs: a.move_pairs,
        ..FrameNetConfig::new(a.width, output)
    };
    c.validate().unwrap();
    let plain = cpu_device(&a.backend).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let device = plain.clone().autodiff();
    device.seed(a.seed);
    let mut net = match &a.init {
        Some(p) if a.expand_moves => {
            load(p, &FrameNetConfig { move_pairs: false, ..c }, &device).with_move_pairs()
        }
        Some(p) => load(p, &c, &device),
        None => FrameNet::new(&c, &device),
    };
    eprintln!(
        "frame net width {}: {} parameters, {:.1} MFLOP per frame",
        a.width,
        net.param_count(),
        c.flops_per_frame() / 1e6
    );
    let teacher_config = FrameNetConfig::new(a.teacher_width, output);
    let mut teacher = Teacher::new(a.teacher.clone(), a.teacher_reload, teacher_config);
    teacher.refresh(&plain, 0.0);
    let starts = [1usize, 12, 23];
    if a.eval_only {
        let eps = held_out(a.episode_seed, a.final_episodes);
        for compose in [Compose::Hard, Compose::Soft, Compose::Conserve] {
            let s = score_dreams(&net.valid(), &eps, &starts, 16, 36, compose, &plain);
            println!("{compose:?} pixels: {}", s.summary());
            if compose == a.compose {
                // The scores `eval` compares a student with, drawn as `--compose` says.
                std::fs::create_dir_all(&a.out).unwrap();
                std::fs::write(a.out.join("scores.json"), serde_json::to_string_pretty(&s).unwrap()).unwrap();
            }
        }
        return;
    }
    let t0 = Instant::now();
    let clips = Clips::load(&a.data, a.limit).unwrap();
    eprintln!("{} training episodes in {:.1}s", clips.episodes(), t0.elapsed().as_secs_f64());
    let quick = held_out(a.episode_seed, a.eval_episodes);
    std::fs::create_dir_all(&a.out).unwrap();
    let w = LossWeights {
        pixels: a.w_pixels,
        classes: a.w_classes,
        counts: a.w_counts,
        centroids: a.w_centroids,
    };
    let mut optim = AdamWConfig::new()
        .with_weight_decay(1e-4)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let budget = a.minutes * 60.0;
    let t0 = Instant::now();
    let started = unix_seconds();
    let (mut step, mut frames, mut next_eval) = (0u64, 0u64, a.eval_every);
    let mut next_save = a.save_every.unwrap_or(f64::INFINITY);
    let mut ema: Option<StepTerms> = None;
    let mut distill_ema = 0.0f64;
    loop {
        let el = t0.elapsed().as_secs_f64();
        if el > budget {
            break;
        }
        teacher.poll(&plain, el);
        let frac = el / budget;
        let k = (1 + (frac / 0.4 * a.rollout as f64) as usize).clamp(a.kmin, a.rollout);
        let lr = a.lr * (step as f64 / 100.0).min(1.0)
            * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * frac).cos()));
        let win = clips.draw(&mut rng, a.batch, k);
        let mut prev = clips.frames_at(&win, -1, &device);
        let mut cur = clips.frames_at(&win, 0, &device);
        let mut loss: Option<Tensor<1>> = None;
        let mut terms = StepTerms::default();
        let mut distill = 0.0f64;
        let prev_plain = |t: &Tensor<4>| t.clone().detach().to_device(&plain);
        let start = cur.clone().detach();
        for s in 0..k {
            let out = net.forward(
                prev.clone(),
                cur.clone(),
                clips.last_moves_at(&win, s, &device),
                clips.moves_at(&win, s, &device),
            );
            let rolled = rolled(&out, cur.clone());
            let truth = clips.frames_at(&win, s as isize + 1, &device);
            let mut ws = w;
            if a.pixel_norm {
                let copy = scalar((truth.clone() - start.clone()).powi_scalar(2).mean());
                ws.pixels *= (1e-3 / copy.max(1e-5)) as f32;
            }
            let (mut l, t) = step_loss(&out, cur.clone(), rolled.clone(), truth, &ws);
            terms.add(&t, 1.0 / k as f64);
            if let Some(teacher) = &teacher.net {
                // The teacher sees what the student rolled (without gradients).
                let tl = teacher
                    .forward(
                        prev_plain(&prev),
                        prev_plain(&cur),
                        clips.last_moves_at(&win, s, &plain),
                        clips.moves_at(&win, s, &plain),
                    )
                    .logits;
                let target = softmax(tl, 1).to_device(&device).detach();
                let kd = (log_softmax(out.logits, 1) * target).sum_dim(1).mean().neg();
                distill += kd.clone().into_scalar::<f32>() as f64 / k as f64;
                l = l + kd * a.w_distill;
            }
            let l = l / k as f32;
            loss = Some(match loss {
                Some(x) => x + l,
                None => l,
            });
            prev = cur;
            cur = rolled;
        }
        let grads = GradientsParams::from_grads(loss.unwrap().backward(), &net);
        net = optim.step(lr, net, grads);
        step += 1;
        frames += (a.batch * k) as u64;
        distill_ema = 0.95 * distill_ema + 0.05 * distill;
        ema = Some(match ema {
            None => terms,
            Some(mut e) => {
                let mut n = StepTerms::default();
                n.add(&e, 0.95);
                n.add(&terms, 0.05);
                e = n;
                e
            }
        });
        if step % 25 == 0 {
            let e = ema.unwrap();
            eprintln!(
                "step {step} t={el:.0}s K={k} lr={lr:.2e} mse {:.5} ce {:.4} counts {:.4} centroids {:.4} distill {:.4} frames/s {:.1}",
                e.pixels, e.classes, e.counts, e.centroids, distill_ema,
                frames as f64 / el.max(1e-9)
            );
        }
        if el > next_save {
            next_save += a.save_every.unwrap_or(f64::INFINITY);
            save(&net, &a.out);
        }
        if el > next_eval {
            next_eval += a.eval_every;
            let s = score_dreams(&net.valid(), &quick, &starts, 16, 30, a.compose, &plain);
            eprintln!("eval{} t={el:.0}s step {step}: {}", a.eval_episodes, s.summary());
            save(&net, &a.out);
        }
    }
    save(&net, &a.out);
    let eps = held_out(a.episode_seed, a.final_episodes);
    let other = match a.compose {
        Compose::Conserve => Compose::Soft,
        _ => Compose::Conserve,
    };
    let o = score_dreams(&net.valid(), &eps, &starts, 16, 36, other, &plain);
    println!("FINAL ({other:?} pixels): {}", o.summary());
    let s = score_dreams(&net.valid(), &eps, &starts, 16, 36, a.compose, &plain);
    println!(
        "FINAL width {} params {} steps {step} frames {frames} train_s {:.0}: {}",
        a.width,
        net.param_count(),
        t0.elapsed().as_secs_f64(),
        s.summary()
    );
    // When it trained, so that runs side by side count once in the training budget
    // (`model::eval_nets::training_seconds`).
    println!("WALL from {started:.0} to {:.0}", unix_seconds());
    std::fs::write(
        a.out.join("scores.json"),
        serde_json::to_string_pretty(&s).unwrap(),
    )
    .unwrap();
}

/// The CPU device `--backend` names.
fn cpu_device(name: &str) -> Result<Device, String> {
    match name {
        "flex" => Ok(Device::flex()),
        // burn 0.22 marks its LibTorch backend deprecated (its CubeCL CPU backend is meant to
        // replace it, and needs an LLVM download); it is still the fastest here.
        #[cfg(feature = "tch")]
        #[allow(deprecated)]
        "libtorch" => Ok(Device::libtorch()),
        #[cfg(not(feature = "tch"))]
        "libtorch" => Err("--backend libtorch: this build has no LibTorch; build with \
            `--features tch` (docs/MODEL.md says how)"
            .into()),
        b => Err(format!("--backend {b}: use flex or libtorch")),
    }
}

fn unix_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Writes the model to `out`/frames.bin whole (a run reading it meanwhile, a student
/// distilling from this teacher, never sees half a file).
fn save(net: &FrameNet, out: &std::path::Path) {
    let bytes = net.clone().into_record().into_bytes().expect("record");
    let part = out.join("frames.bin.part");
    std::fs::write(&part, &bytes[..]).expect("write model");
    std::fs::rename(&part, out.join("frames.bin")).expect("write model");
}

/// The teacher distilled from: a file read once, or (`--teacher-reload`) the latest version
/// of a teacher that trains beside this run.
struct Teacher {
    path: Option<PathBuf>,
    /// Seconds between looks at a file that may not exist yet and may change; `None`: read once.
    reload: Option<f64>,
    config: FrameNetConfig,
    net: Option<FrameNet>,
    /// The version read (the file's modification time).
    version: Option<std::time::SystemTime>,
    /// Seconds into training when the file was last looked at.
    checked: f64,
}

impl Teacher {
    fn new(path: Option<PathBuf>, reload: Option<f64>, config: FrameNetConfig) -> Teacher {
        Teacher { path, reload, config, net: None, version: None, checked: 0.0 }
    }

    /// Looks at the teacher's file again once `reload` seconds have passed since the last look.
    fn poll(&mut self, device: &Device, el: f64) {
        if self.reload.is_some_and(|every| el >= self.checked + every) {
            self.refresh(device, el);
        }
    }

    /// Reads the teacher's file again if it changed since it was read.
    fn refresh(&mut self, device: &Device, el: f64) {
        self.checked = el;
        let Some(path) = &self.path else {
            return;
        };
        let version = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if version.is_none() && self.reload.is_some() {
            return; // not written yet: the data alone for now
        }
        if version.is_some() && version == self.version {
            return;
        }
        self.net = Some(load(path, &self.config, device));
        self.version = version;
        eprintln!("t={el:.0}s: distilling from {}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::cpu_device;

    #[test]
    fn an_unknown_backend_is_refused_with_the_names_to_use() {
        let e = cpu_device("cuda").unwrap_err();
        assert!(e.contains("--backend cuda") && e.contains("flex or libtorch"), "{e}");
        assert!(cpu_device("flex").is_ok());
    }

    #[cfg(not(feature = "tch"))]
    #[test]
    fn libtorch_without_the_feature_says_how_to_build_it() {
        let e = cpu_device("libtorch").unwrap_err();
        assert!(e.contains("--features tch"), "{e}");
    }
}
