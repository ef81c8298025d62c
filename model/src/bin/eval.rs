//! `cargo run -p model --release --bin eval`: evaluates the teacher run and the exported
//! student on held-out seeds; prints and writes docs/EVAL.md and docs/eval.json.

use std::path::PathBuf;

use clap::Parser;
use model::eval::{self, EvalSize, Report};

#[derive(Parser)]
#[command(about = "Evaluate the world model on held-out seeds")]
struct Args {
    /// The teacher's run directory (skipped when absent).
    #[arg(long, default_value = "runs/default")]
    teacher: PathBuf,
    /// The exported student.
    #[arg(long, default_value = "public/weights")]
    weights: PathBuf,
    /// Markdown report.
    #[arg(long, default_value = "docs/EVAL.md")]
    out: PathBuf,
    /// Fewer episodes and tasks, for a quick look.
    #[arg(long)]
    quick: bool,
    /// Write the student's results and subset numbers into the weights manifest.
    #[arg(long)]
    update_manifest: bool,
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
    let mut size = EvalSize::full();
    if args.quick {
        size.episodes = 12;
        size.tasks = 6;
        size.baseline_episodes = 100;
    }
    let started = std::time::Instant::now();
    let (student, mut manifest) =
        model::export::load(&args.weights, &device).map_err(|e| e.to_string())?;
    let sc = manifest.config.clone();
    eprintln!(
        "generating {} training episodes for the baselines",
        size.baseline_episodes
    );
    let baseline = model::data::generate(&sc, 0, size.baseline_episodes, 2)?;
    let mut reports: Vec<Report> = Vec::new();
    if args.teacher.join(model::checkpoint::FILE).exists() {
        let (teacher, state) = model::train::load_run(&args.teacher, &device)?;
        eprintln!(
            "evaluating the teacher ({} parameters)",
            teacher.param_count()
        );
        reports.push(eval::evaluate(
            "teacher",
            &teacher,
            &state.preset.config,
            &size,
            &baseline,
            false,
            &device,
        )?);
    }
    eprintln!(
        "evaluating the student ({} parameters)",
        student.param_count()
    );
    reports.push(eval::evaluate(
        "student", &student, &sc, &size, &baseline, true, &device,
    )?);
    let subset = eval::evaluate(
        "student-subset",
        &student,
        &sc,
        &EvalSize::subset(),
        &[],
        false,
        &device,
    )?;
    let md = model::report::markdown(&reports, &size, &subset, started.elapsed().as_secs_f64());
    println!("{md}");
    model::metrics::write_atomic(&args.out, md.as_bytes()).map_err(|e| e.to_string())?;
    let json = serde_json::json!({"size": size, "reports": reports, "subset": subset});
    let json_path = args.out.with_extension("json");
    model::metrics::write_atomic(
        &json_path,
        serde_json::to_string_pretty(&json).unwrap().as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    if args.update_manifest {
        let student_report = reports.iter().find(|r| r.name == "student").cloned();
        manifest.eval = serde_json::json!({"full": student_report, "subset": subset, "size": size});
        model::export::write_manifest(&args.weights, &manifest)?;
    }
    eprintln!(
        "evaluation took {:.0}s; wrote {} and {}",
        started.elapsed().as_secs_f64(),
        args.out.display(),
        json_path.display()
    );
    Ok(())
}
