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
    /// Add this frame predictor (a `dream` run's frames.bin) to the manifest at `--to` as
    /// the net that dreams, leaving the student transformer as it is.
    #[arg(long)]
    frames: Option<PathBuf>,
    #[arg(long, default_value_t = 16)]
    frames_width: usize,
    #[arg(long, default_value_t = 1)]
    frames_bottleneck: usize,
    /// The frame predictor looks its move biases up by (last move, move).
    #[arg(long)]
    frames_move_pairs: bool,
    /// Add the state nets of this `state` run (reader.bin, dynamics*.bin, goal.bin) to the
    /// manifest at `--to` as the nets that plan.
    #[arg(long)]
    state: Option<PathBuf>,
    #[arg(long, default_value_t = 32)]
    reader_width: usize,
    #[arg(long, default_value_t = 64)]
    hidden: usize,
    #[arg(long, default_value_t = 3)]
    ensemble: usize,
    /// Width of the sentence reader (`prompt.bin` in the `--state` folder, from the `prompt`
    /// binary), added to the state nets when the folder has one.
    #[arg(long, default_value_t = 48)]
    prompt_width: usize,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn load<M: burn::module::Module>(m: M, path: &std::path::Path) -> Result<M, String> {
    use burn::store::ModuleRecord;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let rec = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
        .map_err(|e| format!("{} is not a model record: {e:?}", path.display()))?;
    Ok(m.load_record(rec))
}

/// Adds the frame predictor and/or the state nets to the manifest at `args.to`.
fn add_nets(args: &Args) -> Result<(), String> {
    use model::frame_net::{FrameNet, FrameNetConfig, Output};
    use model::state_net::{Dynamics, GoalNet, Reader};
    use burn::module::Module;
    let device = burn::tensor::Device::flex();
    let mut manifest = model::export::read_manifest(&args.to).map_err(|e| e.to_string())?;
    let mut files: Vec<(&str, &str, Vec<u8>, usize, serde_json::Value)> = Vec::new();
    if let Some(path) = &args.frames {
        let c = FrameNetConfig {
            bottleneck: args.frames_bottleneck,
            move_pairs: args.frames_move_pairs,
            ..FrameNetConfig::new(args.frames_width, Output::Palette)
        };
        c.validate()?;
        let net = load(FrameNet::new(&c, &device), path)?;
        let scores = path
            .parent()
            .map(|d| d.join("scores.json"))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        let provenance = json!({
            "from": path.display().to_string(),
            "config": c,
            "flops_per_frame": c.flops_per_frame(),
            "scores": scores,
            "git_revision": model::export::git_revision(),
        });
        let bytes = model::export::frame_net_safetensors(&net);
        files.push((layout::weights::FRAMES_NET, "frames.safetensors", bytes, net.num_params(), provenance));
    }
    if let Some(dir) = &args.state {
        let reader = load(Reader::new(args.reader_width, &device), &dir.join("reader.bin"))?;
        let ensemble = (0..args.ensemble)
            .map(|k| {
                let f = if k == 0 { "dynamics.bin".to_string() } else { format!("dynamics-{k}.bin") };
                load(Dynamics::new(args.hidden, &device), &dir.join(f))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let vocab = world::language::vocab::vocab_size();
        let goal = load(GoalNet::new(vocab, 32, &device), &dir.join("goal.bin"))?;
        let prompt_file = dir.join("prompt.bin");
        let prompt = if prompt_file.exists() {
            Some(load(model::prompt_net::PromptNet::new(vocab, args.prompt_width, &device), &prompt_file)?)
        } else {
            None
        };
        let params = reader.num_params()
            + ensemble.iter().map(|d| d.num_params()).sum::<usize>()
            + goal.num_params()
            + prompt.as_ref().map_or(0, |p| p.num_params());
        let provenance = json!({
            "from": dir.display().to_string(),
            "reader_width": args.reader_width,
            "hidden": args.hidden,
            "ensemble": args.ensemble,
            "prompt_width": prompt.as_ref().map(|_| args.prompt_width),
            "git_revision": model::export::git_revision(),
        });
        let bytes = model::export::state_safetensors(&reader, &ensemble, &goal, prompt.as_ref());
        files.push((layout::weights::STATE_NET, "state.safetensors", bytes, params, provenance));
    }
    for (role, file, bytes, parameters, provenance) in files {
        model::metrics::write_atomic(&args.to.join(file), &bytes)
            .map_err(|e| format!("cannot write {file}: {e}"))?;
        let entry = layout::weights::NetFile {
            file: file.into(),
            bytes: bytes.len() as u64,
            sha256: layout::weights::sha256_hex(&bytes),
            parameters,
            provenance,
        };
        println!("{role}: {parameters} parameters, {} bytes (sha256 {}) to {}", entry.bytes, entry.sha256, args.to.join(file).display());
        manifest.nets.insert(role.into(), entry);
    }
    model::export::write_manifest(&args.to, &manifest)
}

fn run(args: &Args) -> Result<(), String> {
    if args.frames.is_some() || args.state.is_some() {
        return add_nets(args);
    }
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
