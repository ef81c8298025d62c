//! The evaluation of what the page runs: the frame predictor and the state nets the manifest
//! lists, loaded and called through the runtime's own API ([`runtime::Runtime`] on its CPU
//! path: `imagine` for dreams, `plan_in` for planning), on held-out seeds, against copying the
//! last frame, random moves and the oracle, and against the targets.

use std::path::Path;
use std::time::Instant;

use layout::cem::CemConfig;
use runtime::frame_net::Compose;
use runtime::{Prefer, Runtime};
use serde::{Deserialize, Serialize};
use world::episode::Episode;
use world::language::vocab::tokenize;

use crate::frame_eval::{held_out, score_dreams_with, DreamScores};

/// The oracle's success on the same tasks (CEM in the true simulator, docs/EVAL.md's
/// planning table): the targets are stated against it.
pub const ORACLE_SUCCESS: f64 = 0.98;

/// Settings of [`evaluate_nets`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NetsSize {
    pub episodes: u64,
    pub starts: Vec<usize>,
    pub horizon: usize,
    pub tasks: usize,
    pub task_steps: usize,
    pub cem: CemConfig,
    pub episode_seed: u64,
    pub task_seed: u64,
    /// Scene sentences read into first frames: the first scenes of this many episodes from
    /// `episode_seed` (0: none).
    #[serde(default)]
    pub prompts: u64,
}

impl NetsSize {
    pub fn full(episode_seed: u64, task_seed: u64) -> NetsSize {
        NetsSize {
            episodes: 60,
            starts: vec![1, 12, 23],
            horizon: 16,
            tasks: 100,
            task_steps: 40,
            cem: CemConfig {
                population: 256,
                elites: 32,
                iterations: 3,
                ..CemConfig::default()
            },
            episode_seed,
            task_seed,
            prompts: 1000,
        }
    }
}

/// What [`evaluate_nets`] measured.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NetsReport {
    pub size: Option<NetsSize>,
    pub frames_parameters: usize,
    pub frames_bytes: u64,
    /// How [`NetsReport::dreams`] were drawn (the page's drawing, unless `eval --compose` said
    /// otherwise).
    #[serde(default)]
    pub compose: Option<Compose>,
    /// As the page draws dreams ([`NetsReport::compose`]).
    pub dreams: Option<DreamScores>,
    /// The same dreams drawn [`Compose::Soft`] (objects not kept), for comparison.
    #[serde(default)]
    pub dreams_soft: Option<DreamScores>,
    pub dream_seconds: f64,
    /// The frame teacher's scores on the same dreams, drawn the same way, for the
    /// distillation ratios; its parameters.
    pub teacher: Option<DreamScores>,
    pub teacher_parameters: usize,
    pub state_parameters: usize,
    pub planning_success: Option<f64>,
    pub random_success: f64,
    pub plan_ms: f64,
    pub plan_seconds: f64,
    /// Text -> first frame (`Runtime::prompt_to_frame`) on [`NetsSize::prompts`] scenes.
    #[serde(default)]
    pub prompt: Option<world::scores::PromptScore>,
    /// The same scenes in sentences drawn from the whole grammar (`ScenePrompt::paraphrase`).
    #[serde(default)]
    pub prompt_free: Option<world::scores::PromptScore>,
    /// Seconds the frame teacher and student trained, by their logs ([`training_seconds`]).
    #[serde(default)]
    pub training_seconds: Option<f64>,
}

/// Seconds of training in `dream` run logs, as wall clock: runs that trained side by side
/// (their `WALL from A to B` lines overlap) count once, runs one after another add up. A log
/// from before those lines were written counts the `train_s` of its final lines
/// (`FINAL width ... train_s N`), run after run. `None` when a log is missing or has no final
/// line.
pub fn training_seconds(logs: &[&Path]) -> Option<f64> {
    let mut total = 0.0;
    let mut spans: Vec<(f64, f64)> = Vec::new();
    for log in logs {
        let text = std::fs::read_to_string(log).ok()?;
        let runs: Vec<f64> = text
            .lines()
            .filter(|l| l.starts_with("FINAL width"))
            .filter_map(|l| l.split_whitespace().skip_while(|w| *w != "train_s").nth(1)?.trim_end_matches(':').parse().ok())
            .collect();
        if runs.is_empty() {
            return None;
        }
        let walls: Vec<(f64, f64)> = text
            .lines()
            .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
                ["WALL", "from", a, "to", b] => Some((a.parse().ok()?, b.parse().ok()?)),
                _ => None,
            })
            .collect();
        if walls.len() == runs.len() {
            spans.extend(walls);
        } else {
            total += runs.iter().sum::<f64>();
        }
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut covered: Option<(f64, f64)> = None;
    for (from, to) in spans {
        covered = match covered {
            Some((a, b)) if from <= b => Some((a, b.max(to))),
            Some((a, b)) => {
                total += b - a;
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    Some(total + covered.map_or(0.0, |(a, b)| b - a))
}

/// The runtime on its CPU path with every net the manifest at `weights` lists attached.
pub fn load_runtime(weights: &Path) -> Result<Runtime, String> {
    let read = |f: &str| std::fs::read(weights.join(f)).map_err(|e| format!("{}: {e}", weights.join(f).display()));
    let manifest = String::from_utf8(read(layout::weights::MANIFEST_FILE)?).map_err(|e| e.to_string())?;
    let m = layout::weights::parse_manifest(&manifest, "manifest.json").map_err(|e| e.explained())?;
    let mut rt = pollster::block_on(Runtime::load(&manifest, &read(&m.weights_file)?, Prefer::Cpu))
        .map_err(|e| e.explained())?;
    for (role, net) in rt.nets() {
        rt.attach(&role, &read(&net.file)?).map_err(|e| e.explained())?;
    }
    Ok(rt)
}

/// Scores the manifest's nets at `weights`, and the frame teacher ([`teacher_net`]) on the
/// same dreams in its stead.
pub fn evaluate_nets(weights: &Path, size: &NetsSize, teacher: Option<runtime::frame_net::FrameNet>, compose: Compose) -> Result<NetsReport, String> {
    let mut rt = load_runtime(weights)?;
    rt.compose = compose;
    let mut report = NetsReport {
        size: Some(size.clone()),
        compose: Some(compose),
        ..NetsReport::default()
    };
    if let Some(net) = rt.frames.clone() {
        let m = &rt.manifest.nets[layout::weights::FRAMES_NET];
        report.frames_parameters = net.parameters();
        report.frames_bytes = m.bytes;
        let t0 = Instant::now();
        let eps: Vec<Episode> = held_out(size.episode_seed, size.episodes);
        let score = |rt: &mut Runtime| {
            score_dreams_with(&eps, &size.starts, size.horizon, 1, |prev, cur, last, moves| {
                let actions: Vec<u8> = moves.iter().map(|m| m[0]).collect();
                pollster::block_on(rt.imagine([&prev[0], &cur[0]], last[0], &actions, 0.0, 0))
                    .expect("checked frames and moves")
                    .into_iter()
                    .map(|f| vec![f])
                    .collect()
            })
        };
        report.dreams = Some(score(&mut rt));
        report.dream_seconds = t0.elapsed().as_secs_f64();
        let page = rt.compose;
        rt.compose = Compose::Soft;
        report.dreams_soft = Some(score(&mut rt));
        rt.compose = page;
        if let Some(t) = teacher {
            report.teacher_parameters = t.parameters();
            let student = rt.frames.replace(t);
            report.teacher = Some(score(&mut rt));
            rt.frames = student;
        }
    }
    if rt.state.as_ref().is_some_and(|s| s.prompt.is_some()) && size.prompts > 0 {
        let (mut total, mut free) = (world::scores::PromptScore::default(), world::scores::PromptScore::default());
        for (scene, described, other) in crate::prompt_net::held_out_sentences(size.episode_seed, size.prompts) {
            let truth = layout::prompt::first_frame(&scene);
            for ((prompt, order, text), into) in [(described, &mut total), (other, &mut free)] {
                let words = tokenize(&text).map_err(|e| e.to_string())?;
                let drawn = pollster::block_on(rt.prompt_to_frame(&words)).map_err(|e| e.to_string())?;
                into.add(&world::scores::prompt_score(&scene, (&prompt, &order), &truth, &drawn, world::scores::DEFAULT_SIDE));
            }
        }
        report.prompt = Some(total);
        report.prompt_free = Some(free);
    }
    if let Some(nets) = &rt.state {
        report.state_parameters = nets.weights.tensors.values().map(|(_, v)| v.len()).sum();
        let tasks = world::task::make_tasks(size.task_seed, size.tasks);
        let t0 = Instant::now();
        let (mut wins, mut moves) = (0usize, 0usize);
        let mut renderer = world::render::Renderer::new(64, 64).map_err(|e| e.to_string())?;
        for task in &tasks {
            let goal = tokenize(&task.goal_text()).map_err(|e| e.to_string())?;
            let mut last: Option<Vec<u8>> = None;
            let mut warm: Vec<u8> = Vec::new();
            let out = world::task::run_task(task, size.task_steps, |sim, step| {
                let frame = renderer.draw_rgb(&task.scene, &sim.state());
                let before = last.replace(frame.clone()).unwrap_or_else(|| frame.clone());
                // The move that led to this frame: the last plan's first (stay at the start).
                let last_move = warm.first().copied().unwrap_or(0);
                let plan = pollster::block_on(rt.plan_in(
                    task.scene.view,
                    [&before, &frame],
                    last_move,
                    &goal,
                    &size.cem,
                    &warm,
                    step as u32,
                ))
                .expect("checked frames, goal and settings");
                moves += 1;
                warm = plan.actions.clone();
                plan.actions[0]
            });
            wins += usize::from(out.success);
        }
        report.plan_seconds = t0.elapsed().as_secs_f64();
        report.plan_ms = 1000.0 * report.plan_seconds / moves.max(1) as f64;
        report.planning_success = Some(wins as f64 / tasks.len().max(1) as f64);
        report.random_success = crate::state_plan::random_success(&tasks, size.task_steps, 7);
    }
    Ok(report)
}

/// One row of the targets table: the measure, the target, the value and whether it is met.
fn row(out: &mut String, measure: &str, target: &str, value: String, met: bool) {
    out.push_str(&format!(
        "| {measure} | {target} | {value} | {} |\n",
        if met { "met" } else { "**missed**" }
    ));
}

/// The report's Markdown: what was measured and each target of the issue, met or missed.
pub fn markdown(r: &NetsReport, command: &str) -> String {
    let mut o = String::new();
    o.push_str("## The model the page runs\n\n");
    o.push_str(&format!(
        "Written by `{command}`: the frame predictor and the state nets that `public/weights/manifest.json` lists, loaded and called through the runtime's API on its CPU path (`Runtime::imagine`, `Runtime::plan_in`), exactly as the page calls them.\n\n"
    ));
    if let Some(size) = &r.size {
        o.push_str(&format!(
            "Dreams: {} held-out episodes from seed {}, starts {:?}, open loop with the true moves for {} steps, temperature 0. Planning: {} push-to-goal tasks from seed {}, {} moves each, replanning every move from the rendered frame; CEM population {}, elites {}, iterations {}, horizon {} ({} imagined futures a move).\n\n",
            size.episodes, size.episode_seed, size.starts, size.horizon, size.tasks, size.task_seed, size.task_steps,
            size.cem.population, size.cem.elites, size.cem.iterations, size.cem.horizon,
            size.cem.population * size.cem.iterations
        ));
    }
    o.push_str("| target | required | measured | |\n|---|---|---|---|\n");
    if let Some(d) = &r.dreams {
        let at = |v: &[f64], h: usize| v[h - 1];
        let gains: Vec<f64> = d.psnr.iter().zip(&d.psnr_copy).map(|(a, b)| a - b).collect();
        let (worst_h, worst) = gains
            .iter()
            .enumerate()
            .fold((0, f64::INFINITY), |b, (i, &g)| if g < b.1 { (i + 1, g) } else { b });
        row(&mut o, "PSNR gain over copy-last, every horizon 1..16", ">= +3 dB", format!("{worst:+.2} dB (smallest, at h={worst_h})"), worst >= 3.0);
        row(&mut o, "PSNR at h=1", ">= 36 dB", format!("{:.2} dB (copy {:.2})", at(&d.psnr, 1), at(&d.psnr_copy, 1)), at(&d.psnr, 1) >= 36.0);
        row(&mut o, "centroid error at h=1", "<= 1.0 px", format!("{:.2} px", d.centroid_px[0]), d.centroid_px[0] <= 1.0);
        for (i, h) in [(1usize, 4usize), (2, 16)] {
            row(
                &mut o,
                &format!("centroid error at h={h}"),
                "below copy-last",
                format!("{:.2} px (copy {:.2})", d.centroid_px[i], d.centroid_px_copy[i]),
                d.centroid_px[i] < d.centroid_px_copy[i],
            );
        }
        row(&mut o, "dreams with no object lost over 16 steps", ">= 95%", format!("{:.1}%", 100.0 * d.whole), d.whole >= 0.95);
        if let Some(t) = &r.teacher {
            let ratio = r.frames_parameters as f64 / r.teacher_parameters.max(1) as f64;
            row(&mut o, "student parameters / teacher's", "<= 1/4", format!("{} / {} = {:.3}", r.frames_parameters, r.teacher_parameters, ratio), ratio <= 0.25);
            let kept = d.min_gain() / t.min_gain();
            row(&mut o, "student's smallest PSNR gain / teacher's", ">= 90%", format!("{:+.2} / {:+.2} dB = {:.0}%", d.min_gain(), t.min_gain(), 100.0 * kept), kept >= 0.9);
            let whole = d.whole / t.whole.max(1e-9);
            row(&mut o, "student's whole dreams / teacher's", ">= 90%", format!("{:.1}% / {:.1}% = {:.0}%", 100.0 * d.whole, 100.0 * t.whole, 100.0 * whole), whole >= 0.9);
        }
        row(&mut o, "frame predictor weights", "<= 4 MB", format!("{:.2} MB", r.frames_bytes as f64 / 1e6), r.frames_bytes <= 4_000_000);
        if let Some(s) = r.training_seconds {
            let minutes = s / 60.0;
            row(&mut o, "frame teacher and student training, wall clock on 2 cores (their logs: runs side by side count once)", "<= 120 min", format!("{minutes:.0} min"), minutes <= 120.0);
        }
    }
    if let Some(s) = r.planning_success {
        row(&mut o, "push-to-goal success / oracle's", ">= 80%", format!("{:.0}% / {:.0}% = {:.0}%", 100.0 * s, 100.0 * ORACLE_SUCCESS, 100.0 * s / ORACLE_SUCCESS), s / ORACLE_SUCCESS >= 0.8);
        row(&mut o, "push-to-goal success / random moves'", ">= 3x", format!("{:.0}% / {:.0}%", 100.0 * s, 100.0 * r.random_success), s >= 3.0 * r.random_success);
    }
    if let Some(p) = &r.prompt {
        row(&mut o, "text -> first frame: colour, shape and place all right", ">= 80% of objects", format!("{:.1}% of {}", 100.0 * p.share(p.all), p.objects), p.share(p.all) >= 0.8);
    }
    if let Some(p) = &r.prompt_free {
        row(&mut o, "the same, the scenes in sentences drawn from the whole grammar", ">= 80% of objects", format!("{:.1}% of {}", 100.0 * p.share(p.all), p.objects), p.share(p.all) >= 0.8);
    }
    o.push('\n');
    if let Some(p) = &r.prompt {
        o.push_str(&format!(
            "Text -> first frame (`Runtime::prompt_to_frame`: the sentence read into the model's state, the state drawn): the sentences of the first scenes of {} episodes from seed {}, {} objects whose colour is unique in their scene: colour found {:.1}%, shape right {:.1}%, place right {:.1}% (every relation the sentence states holds between the drawn objects; seen from the side, resting where the scene's own frame shows it), all three {:.1}%. In the same third of the frame as in the scene's own frame: {:.1}% (for reference only: the sentence does not say where a lone object is, and a scene laid out anew from the same sentence by the simulator's own placement lands there only about half the time).\n\n",
            r.size.as_ref().map_or(0, |s| s.prompts),
            r.size.as_ref().map_or(0, |s| s.episode_seed),
            p.objects,
            100.0 * p.share(p.colour),
            100.0 * p.share(p.shape),
            100.0 * p.share(p.place),
            100.0 * p.share(p.all),
            100.0 * p.share(p.same_third)
        ));
        if let Some(f) = &r.prompt_free {
            o.push_str(&format!(
                "The same scenes in sentences drawn from the whole grammar (`ScenePrompt::paraphrase`: any order, relations to earlier or new objects, the view often unsaid, as visitors type them): colour {:.1}%, shape {:.1}%, place {:.1}%, all three {:.1}% of {} objects.\n\n",
                100.0 * f.share(f.colour),
                100.0 * f.share(f.shape),
                100.0 * f.share(f.place),
                100.0 * f.share(f.all),
                f.objects
            ));
        }
    }
    if let Some(d) = &r.dreams {
        o.push_str(&format!(
            "Frame predictor: {} parameters ({:.2} MB), {} dreams scored in {:.0} s.\n\n| h | PSNR | copy-last |\n|---:|---:|---:|\n",
            r.frames_parameters, r.frames_bytes as f64 / 1e6, d.dreams, r.dream_seconds
        ));
        for h in 0..d.psnr.len() {
            o.push_str(&format!("| {} | {:.2} | {:.2} |\n", h + 1, d.psnr[h], d.psnr_copy[h]));
        }
        o.push_str(&format!(
            "\nCentroid error (px; copy-last in brackets) at h=1 / 4 / 16: {:.2} ({:.2}) / {:.2} ({:.2}) / {:.2} ({:.2}).\n\n",
            d.centroid_px[0], d.centroid_px_copy[0], d.centroid_px[1], d.centroid_px_copy[1], d.centroid_px[2], d.centroid_px_copy[2]
        ));
        if let Some(soft) = &r.dreams_soft {
            o.push_str(&format!(
                "Dreams drawn `Compose::{:?}` ({}). The same dreams drawn soft, letting unsure objects fade (`Compose::Soft`): {}.\n\n",
                r.compose.unwrap_or_default(),
                match r.compose.unwrap_or_default() {
                    Compose::Track => "the page's rule: what the net draws whole is left as it drew it, and an object or the agent that fades is drawn whole where the model's state, read off the first frames and carried by the dynamics ensemble, says it went, the agent there shown as its expected picture, spread by how unsure its imagined place is after that many moves",
                    Compose::Conserve => "an object that has all but faded out is drawn whole where the net finds it most likely",
                    _ => "objects not kept",
                },
                soft.summary()
            ));
        }
    }
    if let Some(s) = r.planning_success {
        o.push_str(&format!(
            "State nets: {} parameters. Planning reached {:.0}% of the tasks (random moves {:.0}%, the oracle {:.0}%), {:.0} ms a move on one native core ({:.0} s in all).\n\n",
            r.state_parameters, 100.0 * s, 100.0 * r.random_success, 100.0 * ORACLE_SUCCESS, r.plan_ms, r.plan_seconds
        ));
    }
    o
}

/// The frame teacher of a `dream` run's folder (its `frames.bin`, width 32), on the runtime's
/// CPU path like the student, so that both are scored on the same dreams drawn the same way.
pub fn teacher_net(dir: &Path) -> Option<runtime::frame_net::FrameNet> {
    let c = crate::frame_net::FrameNetConfig::new(32, crate::frame_net::Output::Palette);
    let net = crate::frame_net::load(&dir.join("frames.bin"), &c, &burn::tensor::Device::flex()).ok()?;
    let bytes = crate::export::frame_net_safetensors(&net);
    runtime::frame_net::FrameNet::from_safetensors(&bytes, "the teacher's frames.bin").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_seconds_count_runs_side_by_side_once_and_runs_in_turn_each() {
        let dir = std::env::temp_dir().join(format!("training-seconds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b, empty) = (dir.join("a.txt"), dir.join("b.txt"), dir.join("c.txt"));
        std::fs::write(&a, "step 25 t=12s\nFINAL (Soft pixels): psnr h1 37\nFINAL width 32 params 9 steps 927 frames 5 train_s 3677: psnr h1 36\n").unwrap();
        std::fs::write(&b, "FINAL width 16 params 9 steps 1 frames 5 train_s 3168: psnr\n==> more\nFINAL width 16 params 9 steps 1 frames 5 train_s 2492: psnr\n").unwrap();
        std::fs::write(&empty, "step 25 t=12s\n").unwrap();
        assert_eq!(training_seconds(&[&a, &b]), Some(3677.0 + 3168.0 + 2492.0));
        assert_eq!(training_seconds(&[&a, &empty]), None, "a run that never finished");
        assert_eq!(training_seconds(&[&a, &dir.join("missing.txt")]), None);
        // Side by side (the teacher from 1000 to 8000, the student from 1010 to 8100), then
        // one more run after them: the wall clock, not the sum.
        let (t, s) = (dir.join("t.txt"), dir.join("s.txt"));
        std::fs::write(&t, "FINAL width 32 params 9 steps 1 frames 5 train_s 7000: psnr\nWALL from 1000 to 8000\n").unwrap();
        std::fs::write(&s, "FINAL width 16 params 9 steps 1 frames 5 train_s 7090: psnr\nWALL from 1010 to 8100\nFINAL width 16 params 9 steps 1 frames 5 train_s 500: psnr\nWALL from 9000 to 9500\n").unwrap();
        assert_eq!(training_seconds(&[&t, &s]), Some(7100.0 + 500.0));
        assert_eq!(training_seconds(&[&t, &a]), Some(7000.0 + 3677.0), "an old log adds its train_s");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
