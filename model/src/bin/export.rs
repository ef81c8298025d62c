//! `cargo run -p model --release --bin export -- --run runs/student`: writes the run's model
//! to `public/weights/` as safetensors plus manifest.json.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Parser;
use serde_json::json;

#[derive(Parser)]
#[command(about = "Export a trained run's model for the playground")]
struct Args {
    /// The run to export (its checkpoint.bin).
    #[arg(long, default_value = "runs/student")]
    run: PathBuf,
    /// Where the playground loads weights from.
    #[arg(long, default_value = "public/weights")]
    to: PathBuf,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let device = burn::tensor::Device::flex();
    let (model, state) = model::train::load_run(&args.run, &device)?;
    if state.step < state.total_steps() {
        return Err(format!(
            "{} stopped at step {} of {}: finish it with --resume first",
            args.run.display(),
            state.step,
            state.total_steps()
        ));
    }
    let p = &state.preset;
    let mut provenance = BTreeMap::new();
    provenance.insert("preset".into(), json!(p.name));
    provenance.insert("training".into(), json!(p));
    provenance.insert(
        "train_seeds".into(),
        json!([p.seed, p.seed + p.episodes as u64]),
    );
    provenance.insert("eval_seed_base".into(), json!(model::data::EVAL_SEED_BASE));
    provenance.insert("task_seed_base".into(), json!(model::data::TASK_SEED_BASE));
    provenance.insert("steps".into(), json!(state.step));
    provenance.insert("train_seconds".into(), json!(state.elapsed_s));
    provenance.insert("teacher".into(), json!(state.teacher));
    if let Some(t) = &state.teacher {
        if let Ok((teacher, ts)) = model::train::load_run(std::path::Path::new(t), &device) {
            provenance.insert("teacher_preset".into(), json!(ts.preset.name));
            provenance.insert("teacher_parameters".into(), json!(teacher.param_count()));
            provenance.insert("teacher_config".into(), json!(ts.preset.config));
        }
    }
    provenance.insert("git_revision".into(), json!(model::export::git_revision()));
    let m = model::export::export(&model, &p.config, &args.to, provenance)?;
    println!(
        "exported {} parameters, {} bytes (sha256 {}) to {}",
        m.parameters,
        m.bytes,
        m.sha256,
        args.to.display()
    );
    Ok(())
}
