//! docs/EVAL.md: the evaluation's tables, each target marked met or missed.

use std::fmt::Write;

use std::collections::BTreeMap;

use crate::eval::{EvalSize, Report, Score};

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

/// The transformer's part of docs/EVAL.md: it answers the page's questions and writes its
/// captions; the page's dreams, plans and first frames come from the nets evaluated in
/// "The model the page runs" (`eval_nets`), so its own dream and planning figures, kept in the
/// JSON twin, are not shown.
pub fn markdown(reports: &[Report], size: &EvalSize, subset: &Report, seconds: Option<f64>) -> String {
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
        "## Questions and captions: the transformer\n\n\
         The page's questions and captions still come from the transformer it first shipped, a teacher and its distilled \
         student (docs/MODEL.md, \"The transformer: questions and captions\"); dreams, plans and first frames come from the nets above. \
         Written by `cargo run -p model --release --bin eval -- {flags}`{}: \
         questions about {} held-out episodes from seed {} (training used seeds below {}), against the majority baselines \
         of {} training episodes.\n",
        seconds.map_or(String::new(), |t| format!(" in {t:.0} s on this machine's CPU (2 cores)")),
        size.episodes,
        size.episode_seed,
        crate::data::EVAL_SEED_BASE,
        size.baseline_episodes
    );
    let _ = writeln!(w, "| model | parameters | eval seconds |\n|---|---:|---:|");
    for r in reports {
        let _ = writeln!(w, "| {} | {} | {:.0} |", r.name, r.parameters, r.seconds);
    }
    let row = |w: &mut String, label: &str, f: &dyn Fn(&Report) -> String| {
        let _ = writeln!(
            w,
            "| {label} | {} |",
            reports.iter().map(f).collect::<Vec<_>>().join(" | ")
        );
    };

    let _ = writeln!(w, "\n### Understanding\n\nGreedy answers, exact match, against answering every question of a template with its most common training answer.\n");
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

    if let Some(st) = reports.iter().find(|r| r.name == "student") {
        let _ = writeln!(
            w,
            "\n### Its targets, set for the first design (the shipped student; answering moves onto the new state next)\n\n| target | value | |\n|---|---|---|"
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
        if let Some(t) = reports.iter().find(|r| r.name == "teacher") {
            let r = st.understanding.overall.accuracy() / t.understanding.overall.accuracy().max(1e-9);
            let _ = writeln!(
                w,
                "| student >= 90% of teacher: QA overall | {:.0}% | {} |",
                100.0 * r,
                mark(r >= 0.9)
            );
        }
    }
    let _ = writeln!(
        w,
        "\n### Fixed subset\n\nRecomputed by the tests from the committed weights (first {} held-out episodes, start frame {:?}): the transformer's next-frame PSNR at h=1 {:.4}, QA {} of {}.",
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
