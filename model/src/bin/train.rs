//! `cargo run -p model --release --bin train -- --preset default`: trains a preset, writing
//! `checkpoint.bin`, `metrics.csv` and `metrics.svg` into `--out` (default `runs/<preset>`).
//! With `--teacher runs/default` it distils that teacher into the preset's (smaller) model.

use std::path::PathBuf;

use clap::Parser;
use model::train::{self, Preset, RunOptions, Teacher};

#[derive(Parser)]
#[command(about = "Train the world model (or distil a teacher into a student)")]
struct Args {
    /// tiny (seconds, for CI), default (the CPU teacher), full (a GPU teacher), student.
    #[arg(long, default_value = "default")]
    preset: String,
    /// Run directory; defaults to runs/<preset>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// Distil from this finished run (its checkpoint.bin).
    #[arg(long)]
    teacher: Option<PathBuf>,
    /// Threads for episode generation.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Override the preset's world-phase steps (for quick experiments).
    #[arg(long)]
    world_steps: Option<u64>,
    /// Override the tokenizer-phase steps.
    #[arg(long)]
    tokenizer_steps: Option<u64>,
    /// Override the number of training episodes.
    #[arg(long)]
    episodes: Option<usize>,
    /// Checkpoint at least every this many seconds.
    #[arg(long, default_value_t = 120.0)]
    checkpoint_every: f64,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), String> {
    let mut preset = Preset::named(&args.preset)?;
    if let Some(s) = args.world_steps {
        preset.world_steps = s;
    }
    if let Some(s) = args.tokenizer_steps {
        preset.tokenizer_steps = s;
    }
    if let Some(e) = args.episodes {
        preset.episodes = e;
    }
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(&preset.name));
    let teacher = match &args.teacher {
        Some(dir) => {
            let device = burn::tensor::Device::flex();
            let (model, state) = train::load_run(dir, &device)?;
            Some((
                Teacher {
                    model,
                    config: state.preset.config,
                },
                dir.display().to_string(),
            ))
        }
        None => None,
    };
    train::install_interrupt_handler();
    let opts = RunOptions {
        out: out.clone(),
        resume: args.resume,
        threads: args.threads,
        quiet: false,
        checkpoint_every_s: args.checkpoint_every,
        stop_after: None,
    };
    let summary = train::run(preset, &opts, teacher)?;
    let s = &summary.state;
    println!(
        "done: {} steps in {:.0}s, {:.1} samples/s, {:.2} GFLOP/s; loss {:.4} -> {:.4}; {} parameters; run in {}",
        s.step,
        s.elapsed_s,
        s.samples as f64 / s.elapsed_s.max(1e-9),
        s.flops / s.elapsed_s.max(1e-9) / 1e9,
        summary.first.total,
        summary.last.total,
        summary.model.param_count(),
        out.display()
    );
    Ok(())
}
