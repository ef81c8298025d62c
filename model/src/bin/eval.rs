//! `cargo run -p model --release --bin eval`: evaluates the teacher run and the exported
//! student on held-out seeds (`--episode-seed`, `--task-seed` choose others); prints and writes
//! docs/EVAL.md and its JSON twin.

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
    /// Markdown report (a JSON twin is written beside it). Default: docs/EVAL.md for the
    /// standard held-out seeds, runs/eval-<episode seed>-<task seed>.md for others.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Fewer episodes and tasks, for a quick look.
    #[arg(long)]
    quick: bool,
    /// Write the student's results and subset numbers (with `--nets-only`: the page nets'
    /// report) into the weights manifest, where the page's results panel reads them.
    #[arg(long)]
    update_manifest: bool,
    /// First seed of the held-out episodes (training uses seeds below 1000000).
    #[arg(long, default_value_t = model::data::EVAL_SEED_BASE)]
    episode_seed: u64,
    /// First seed of the push-to-goal tasks.
    #[arg(long, default_value_t = model::data::TASK_SEED_BASE)]
    task_seed: u64,
    /// Only evaluate the nets the page dreams and plans with (the manifest's `nets`), and
    /// replace their section of the report.
    #[arg(long)]
    nets_only: bool,
    /// How the page's dreams are drawn (with `--nets-only`): track (the page's), conserve or
    /// soft.
    #[arg(long, default_value = "track")]
    compose: runtime::frame_net::Compose,
    /// Push-to-goal tasks for the page's nets (with `--nets-only`; 0 scores dreams only).
    #[arg(long)]
    tasks: Option<usize>,
    /// The frame teacher's run folder (its frames.bin, width 32), scored on the same dreams
    /// drawn the same way for the distillation ratios.
    #[arg(long, default_value = "checkpoints/next/frames")]
    frames_teacher: PathBuf,
    /// The page's frame student's training logs (with `--frames-teacher`'s log.txt, the
    /// training budget row): every `dream` run that made it.
    #[arg(long, default_value = "checkpoints/next/student/log.txt")]
    frames_student_log: PathBuf,
    /// Evaluate nothing: write the report again from its JSON twin (the transformer's part)
    /// and the section on the page's nets it already has, as this revision lays it out.
    #[arg(long)]
    render: bool,
}

/// `report` with its "The model the page runs" section replaced by `section` (put right
/// after the title when it has none).
fn splice(report: &str, section: &str) -> String {
    let mut rest = report.to_string();
    if let Some(old) = section_of(report) {
        rest = rest.replacen(old, "", 1);
    }
    match rest.find('\n') {
        Some(i) if rest.starts_with("# ") => format!("{}\n\n{section}{}", &rest[..i], rest[i..].trim_start_matches('\n')),
        _ => format!("# Evaluation\n\n{section}{rest}"),
    }
}

/// The report's "The model the page runs" section, `None` when it has none.
fn section_of(report: &str) -> Option<&str> {
    const HEAD: &str = "## The model the page runs";
    let a = report.find(HEAD)?;
    let after = &report[a + HEAD.len()..];
    Some(&report[a..after.find("\n## ").map_or(report.len(), |i| a + HEAD.len() + i + 1)])
}

/// `--render`: the report at `out` written again from its JSON twin, keeping its section on
/// the page's nets.
fn render(out: &std::path::Path) -> Result<(), String> {
    let json_path = out.with_extension("json");
    let read = |p: &std::path::Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let json: serde_json::Value = serde_json::from_str(&read(&json_path)?).map_err(|e| format!("{}: {e}", json_path.display()))?;
    let field = |k: &str| json.get(k).cloned().ok_or_else(|| format!("{}: no \"{k}\"", json_path.display()));
    let reports: Vec<Report> = serde_json::from_value(field("reports")?).map_err(|e| e.to_string())?;
    let size: EvalSize = serde_json::from_value(field("size")?).map_err(|e| e.to_string())?;
    let subset: Report = serde_json::from_value(field("subset")?).map_err(|e| e.to_string())?;
    let old = read(out).unwrap_or_default();
    let mut md = model::report::markdown(&reports, &size, &subset, None);
    if let Some(section) = section_of(&old) {
        md = splice(&md, section);
    }
    model::metrics::write_atomic(out, md.as_bytes()).map_err(|e| e.to_string())?;
    eprintln!("wrote {} from {}", out.display(), json_path.display());
    Ok(())
}

/// Evaluates the page's nets; returns their report section and the report.
fn nets_section(args: &Args) -> Result<Option<(String, model::eval_nets::NetsReport)>, String> {
    let manifest = model::export::read_manifest(&args.weights).map_err(|e| e.to_string())?;
    if manifest.nets.is_empty() {
        return Ok(None);
    }
    let mut size = model::eval_nets::NetsSize::full(args.episode_seed, args.task_seed);
    if args.quick {
        size.episodes = 6;
        size.tasks = 10;
        size.prompts = 100;
    }
    let teacher = model::eval_nets::teacher_net(&args.frames_teacher);
    eprintln!("evaluating the page's nets: {:?}", manifest.nets.keys().collect::<Vec<_>>());
    if let Some(t) = args.tasks {
        size.tasks = t;
    }
    let mut r = model::eval_nets::evaluate_nets(&args.weights, &size, teacher, args.compose)?;
    r.training_seconds = model::eval_nets::training_seconds(&[&args.frames_teacher.join("log.txt"), &args.frames_student_log]);
    let mut command = "cargo run -p model --release --bin eval --".to_string();
    for (flag, on) in [(" --nets-only", args.nets_only), (" --quick", args.quick), (" --update-manifest", args.update_manifest)] {
        if on {
            command.push_str(flag);
        }
    }
    if args.episode_seed != model::data::EVAL_SEED_BASE || args.task_seed != model::data::TASK_SEED_BASE {
        command.push_str(&format!(" --episode-seed {} --task-seed {}", args.episode_seed, args.task_seed));
    }
    let command = command.trim_end_matches(" --").to_string();
    Ok(Some((model::eval_nets::markdown(&r, &command), r)))
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
    let standard = args.episode_seed == model::data::EVAL_SEED_BASE
        && args.task_seed == model::data::TASK_SEED_BASE;
    let out = args.out.clone().unwrap_or_else(|| {
        if standard {
            PathBuf::from("docs/EVAL.md")
        } else {
            PathBuf::from(format!("runs/eval-{}-{}.md", args.episode_seed, args.task_seed))
        }
    });
    if args.episode_seed < model::data::EVAL_SEED_BASE {
        eprintln!(
            "warning: episode seeds below {} are the ones training draws from; these numbers are not held out",
            model::data::EVAL_SEED_BASE
        );
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    if args.render {
        return render(&out);
    }
    if args.nets_only {
        let (section, report) = nets_section(args)?.ok_or("the manifest lists no nets to evaluate")?;
        println!("{section}");
        if args.update_manifest && !standard {
            return Err("--update-manifest records the standard held-out seeds; drop --episode-seed and --task-seed to use it".into());
        }
        if args.update_manifest {
            // The page's results panel reads it (`app::results`).
            let mut manifest = model::export::read_manifest(&args.weights).map_err(|e| e.to_string())?;
            if !manifest.eval.is_object() {
                manifest.eval = serde_json::json!({});
            }
            manifest.eval["nets"] = serde_json::to_value(&report).map_err(|e| e.to_string())?;
            model::export::write_manifest(&args.weights, &manifest)?;
        }
        let old = std::fs::read_to_string(&out).unwrap_or_default();
        model::metrics::write_atomic(&out, splice(&old, &section).as_bytes()).map_err(|e| e.to_string())?;
        eprintln!("wrote {}", out.display());
        return Ok(());
    }
    let mut size = EvalSize::full();
    size.episode_seed = args.episode_seed;
    size.task_seed = args.task_seed;
    if args.update_manifest && !standard {
        return Err("--update-manifest records the standard held-out seeds; drop --episode-seed and --task-seed to use it".into());
    }
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
    let mut md = model::report::markdown(&reports, &size, &subset, Some(started.elapsed().as_secs_f64()));
    let nets = nets_section(args)?;
    if let Some((section, _)) = &nets {
        md = splice(&md, section);
    }
    println!("{md}");
    model::metrics::write_atomic(&out, md.as_bytes()).map_err(|e| e.to_string())?;
    let json = serde_json::json!({"size": size, "reports": reports, "subset": subset});
    let json_path = out.with_extension("json");
    model::metrics::write_atomic(
        &json_path,
        serde_json::to_string_pretty(&json).unwrap().as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    if args.update_manifest {
        let student_report = reports.iter().find(|r| r.name == "student").cloned();
        manifest.eval = serde_json::json!({"full": student_report, "subset": subset, "size": size});
        if let Some((_, report)) = &nets {
            manifest.eval["nets"] = serde_json::to_value(report).map_err(|e| e.to_string())?;
        }
        model::export::write_manifest(&args.weights, &manifest)?;
    }
    eprintln!(
        "evaluation took {:.0}s; wrote {} and {}",
        started.elapsed().as_secs_f64(),
        out.display(),
        json_path.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{section_of, splice};

    const NETS: &str = "## The model the page runs\n\nnew numbers\n\n";

    #[test]
    fn splicing_replaces_only_the_nets_section() {
        let report = "# Evaluation\n\n## The model the page runs\n\nold numbers\n\n## Questions and captions: the transformer\n\nits intro\n";
        assert_eq!(section_of(report), Some("## The model the page runs\n\nold numbers\n\n"));
        assert_eq!(
            splice(report, NETS),
            "# Evaluation\n\n## The model the page runs\n\nnew numbers\n\n## Questions and captions: the transformer\n\nits intro\n"
        );
    }

    #[test]
    fn a_report_without_the_nets_section_gets_it_after_its_title() {
        let report = "# Evaluation\n\n## Questions and captions: the transformer\n\nits intro\n";
        assert_eq!(section_of(report), None);
        assert_eq!(
            splice(report, NETS),
            "# Evaluation\n\n## The model the page runs\n\nnew numbers\n\n## Questions and captions: the transformer\n\nits intro\n"
        );
    }
}
