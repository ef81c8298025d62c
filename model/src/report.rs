//! docs/EVAL.md: the evaluation's tables, each target marked met or missed.

use std::fmt::Write;

use std::collections::BTreeMap;

use crate::eval::{EvalSize, Report, Score, CENTROID_AT, HORIZON};

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

pub fn markdown(reports: &[Report], size: &EvalSize, subset: &Report, seconds: f64) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "# Evaluation\n");
    let standard = size.episode_seed == crate::data::EVAL_SEED_BASE
        && size.task_seed == crate::data::TASK_SEED_BASE;
    let flags = if standard {
        "--update-manifest".to_string()
    } else {
        format!("--episode-seed {} --task-seed {}", size.episode_seed, size.task_seed)
    };
    let _ = writeln!(
        w,
        "Written by `cargo run -p model --release --bin eval -- {flags}` in {seconds:.0} s on this machine's CPU (2 cores). \
         Every number comes from held-out seeds: episodes from seed {}, planning tasks from seed {}; training used seeds below {}.\n",
        size.episode_seed,
        size.task_seed,
        crate::data::EVAL_SEED_BASE
    );
    let _ = writeln!(
        w,
        "Settings: {} episodes, dream starts {:?}, horizons 1..{HORIZON} (open loop with the true actions, temperature 0), {} push-to-goal tasks of {} steps, \
         CEM population {}, elites {}, iterations {}, horizon {}, replanning every {} steps; majority baselines from {} training episodes.\n",
        size.episodes,
        size.starts,
        size.tasks,
        size.task_steps,
        size.cem.population,
        size.cem.elites,
        size.cem.iterations,
        size.cem.horizon,
        size.replan_every,
        size.baseline_episodes
    );
    let _ = writeln!(w, "| model | parameters | eval seconds |\n|---|---:|---:|");
    for r in reports {
        let _ = writeln!(w, "| {} | {} | {:.0} |", r.name, r.parameters, r.seconds);
    }

    let _ = writeln!(w, "\n## Generation\n\nPSNR (dB) and SSIM of the dreamed frame at each horizon, against copying the last true frame.\n");
    let _ = write!(w, "| h |");
    for r in reports {
        let _ = write!(w, " {0} PSNR | {0} SSIM |", r.name);
    }
    let _ = writeln!(w, " copy-last PSNR | copy-last SSIM |");
    let _ = writeln!(w, "|---:|{}---:|---:|", "---:|---:|".repeat(reports.len()));
    if let Some(first) = reports.first() {
        for h in 0..first.generation.psnr.len() {
            let _ = write!(w, "| {} |", h + 1);
            for r in reports {
                let _ = write!(
                    w,
                    " {:.2} | {:.3} |",
                    r.generation.psnr[h], r.generation.ssim[h]
                );
            }
            let _ = writeln!(
                w,
                " {:.2} | {:.3} |",
                first.generation.copy_psnr[h], first.generation.copy_ssim[h]
            );
        }
    }
    let _ = writeln!(
        w,
        "\n| | {} |\n|---|{}",
        reports
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(reports.len())
    );
    let row = |w: &mut String, label: &str, f: &dyn Fn(&Report) -> String| {
        let _ = writeln!(
            w,
            "| {label} | {} |",
            reports.iter().map(f).collect::<Vec<_>>().join(" | ")
        );
    };
    row(w, "tokenizer reconstruction PSNR (ceiling)", &|r| {
        format!("{:.2}", r.generation.tokenizer_psnr)
    });
    for (k, h) in CENTROID_AT.iter().enumerate() {
        row(
            w,
            &format!("centroid error h={h} (px; copy-last in brackets)"),
            &|r| {
                format!(
                    "{:.2} ({:.2})",
                    r.generation.centroid_px[k], r.generation.copy_centroid_px[k]
                )
            },
        );
    }
    row(
        w,
        "text -> first frame: objects drawn (colour found)",
        &|r| pct(r.generation.prompt_colour),
    );
    row(w, "text -> first frame: right shape", &|r| {
        pct(r.generation.prompt_shape)
    });
    row(w, "text -> first frame: right place (same third)", &|r| {
        pct(r.generation.prompt_side)
    });
    row(
        w,
        "text -> first frame: colour, shape and place all right",
        &|r| pct(r.generation.prompt_all),
    );
    row(
        w,
        "text -> first frame: PSNR vs the true first frame",
        &|r| format!("{:.2}", r.generation.prompt_psnr),
    );

    let _ = writeln!(w, "\n## Understanding\n\nGreedy answers, exact match, against answering every question of a template with its most common training answer.\n");
    let _ = writeln!(
        w,
        "| question | {} | majority |\n|---|{}---:|",
        reports
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(reports.len())
    );
    if let Some(first) = reports.first() {
        let _ = writeln!(
            w,
            "| **overall** ({} questions) | {} | {} |",
            first.understanding.overall.total,
            reports
                .iter()
                .map(|r| pct(r.understanding.overall.accuracy()))
                .collect::<Vec<_>>()
                .join(" | "),
            pct(first.understanding.overall.majority_accuracy())
        );
        fn kinds(r: &Report) -> &BTreeMap<String, Score> {
            &r.understanding.by_kind
        }
        fn templates(r: &Report) -> &BTreeMap<String, Score> {
            &r.understanding.by_template
        }
        for table in [kinds as fn(&Report) -> &BTreeMap<String, Score>, templates] {
            for (k, score) in table(first) {
                let _ = writeln!(
                    w,
                    "| {k} ({}) | {} | {} |",
                    score.total,
                    reports
                        .iter()
                        .map(|r| pct(table(r).get(k).map(|s| s.accuracy()).unwrap_or(f64::NAN)))
                        .collect::<Vec<_>>()
                        .join(" | "),
                    pct(score.majority_accuracy())
                );
            }
        }
    }
    row(
        w,
        "caption unigram F1 (most common training caption in brackets)",
        &|r| {
            format!(
                "{:.3} ({:.3})",
                r.understanding.caption_f1, r.understanding.caption_baseline_f1
            )
        },
    );
    row(w, "caption exact match", &|r| {
        pct(r.understanding.caption_exact)
    });
    if let Some(r) = reports.last() {
        let _ = writeln!(w, "\nSample answers ({}):\n", r.name);
        for (q, a, said) in &r.understanding.examples {
            let _ = writeln!(w, "- {q} truth: *{a}*, model: *{said}*");
        }
    }

    let _ = writeln!(w, "\n## Operation\n\nPush the named object into the named zone within {} steps (success: its centre inside the zone at any step).\n", size.task_steps);
    let _ = writeln!(
        w,
        "| | success | final distance (arena widths) | ms per plan |\n|---|---:|---:|---:|"
    );
    for r in reports {
        let o = &r.operation;
        let _ = writeln!(
            w,
            "| {} latent planner | {} | {:.3} | {:.1} |",
            r.name,
            pct(o.model_success),
            o.model_final_distance,
            o.model_plan_ms
        );
    }
    if let Some(r) = reports
        .iter()
        .find(|r| r.operation.oracle_success > 0.0 || r.operation.oracle_plan_ms > 0.0)
    {
        let o = &r.operation;
        let _ = writeln!(
            w,
            "| oracle (same CEM in the true simulator) | {} | {:.3} | {:.1} |",
            pct(o.oracle_success),
            o.oracle_final_distance,
            o.oracle_plan_ms
        );
        let _ = writeln!(
            w,
            "| random policy | {} | {:.3} | |",
            pct(o.random_success),
            o.random_final_distance
        );
    }

    if let Some(st) = reports.iter().find(|r| r.name == "student") {
        let _ = writeln!(
            w,
            "\n## Targets (shipped student)\n\n| target | value | |\n|---|---|---|"
        );
        let g = &st.generation;
        let min_psnr = g.psnr.iter().cloned().fold(f64::INFINITY, f64::min);
        let min_gain = g
            .psnr
            .iter()
            .zip(&g.copy_psnr)
            .map(|(a, b)| a - b)
            .fold(f64::INFINITY, f64::min);
        let _ = writeln!(
            w,
            "| next-frame PSNR >= 30 dB at every horizon | min {min_psnr:.2} dB | {} |",
            mark(min_psnr >= 30.0)
        );
        let _ = writeln!(
            w,
            "| >= 3 dB above copy-last at every horizon | min gain {min_gain:.2} dB | {} |",
            mark(min_gain >= 3.0)
        );
        let _ = writeln!(
            w,
            "| centroid error <= 1.5 px at h=1 | {:.2} px | {} |",
            g.centroid_px[0],
            mark(g.centroid_px[0] <= 1.5)
        );
        let _ = writeln!(
            w,
            "| centroid error <= 4 px at h=16 | {:.2} px | {} |",
            g.centroid_px[2],
            mark(g.centroid_px[2] <= 4.0)
        );
        let u = &st.understanding;
        let _ = writeln!(
            w,
            "| QA >= 85% overall | {} | {} |",
            pct(u.overall.accuracy()),
            mark(u.overall.accuracy() >= 0.85)
        );
        let worst = u
            .by_kind
            .iter()
            .map(|(k, s)| (k.clone(), s.accuracy() - s.majority_accuracy()))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or_default();
        let _ = writeln!(
            w,
            "| every question type >= majority + 20 points | worst: {} at {:+.1} points | {} |",
            worst.0,
            100.0 * worst.1,
            mark(worst.1 >= 0.2)
        );
        let cf = u
            .by_kind
            .get("counterfactual")
            .map(|s| s.accuracy())
            .unwrap_or(0.0);
        let _ = writeln!(
            w,
            "| counterfactual >= 70% | {} | {} |",
            pct(cf),
            mark(cf >= 0.7)
        );
        let o = &st.operation;
        let of_oracle = o.model_success / o.oracle_success.max(1e-9);
        let of_random = o.model_success / o.random_success.max(1e-9);
        let _ = writeln!(
            w,
            "| planning success >= 80% of the oracle's | {} of {} ({:.0}%) | {} |",
            pct(o.model_success),
            pct(o.oracle_success),
            100.0 * of_oracle,
            mark(of_oracle >= 0.8)
        );
        let _ = writeln!(
            w,
            "| planning success >= 3x random | {} vs {} ({:.1}x) | {} |",
            pct(o.model_success),
            pct(o.random_success),
            of_random,
            mark(of_random >= 3.0)
        );
        if let Some(t) = reports.iter().find(|r| r.name == "teacher") {
            let ret = |a: f64, b: f64| a / b.max(1e-9);
            let pairs = [
                ("PSNR h=1", ret(st.generation.psnr[0], t.generation.psnr[0])),
                (
                    "PSNR h=16",
                    ret(
                        *st.generation.psnr.last().unwrap_or(&0.0),
                        *t.generation.psnr.last().unwrap_or(&1.0),
                    ),
                ),
                (
                    "QA overall",
                    ret(
                        st.understanding.overall.accuracy(),
                        t.understanding.overall.accuracy(),
                    ),
                ),
                (
                    "planning success",
                    ret(st.operation.model_success, t.operation.model_success),
                ),
                (
                    "text -> frame",
                    ret(st.generation.prompt_all, t.generation.prompt_all),
                ),
            ];
            for (name, r) in pairs {
                let _ = writeln!(
                    w,
                    "| student >= 90% of teacher: {name} | {:.0}% | {} |",
                    100.0 * r,
                    mark(r >= 0.9)
                );
            }
        }
    }
    let _ = writeln!(
        w,
        "\n## Fixed subset\n\nRecomputed by the tests from the committed weights (first {} held-out episodes, start frame {:?}): PSNR h=1 {:.4}, QA {} of {}.",
        size_subset_episodes(),
        crate::eval::EvalSize::subset().starts,
        subset.generation.psnr.first().copied().unwrap_or(f64::NAN),
        subset.understanding.overall.correct,
        subset.understanding.overall.total
    );
    s
}

fn size_subset_episodes() -> usize {
    crate::eval::EvalSize::subset().episodes
}
