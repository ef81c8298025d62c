//! The model's evaluation numbers as the page shows them: read from the `eval` section of the
//! weights' manifest (written by `eval --update-manifest`), each beside its baseline, so the
//! page reports what the shipped model measured, good or bad. Dreams and plans come from the
//! report on the nets that dream and plan (`eval.nets`, `model::eval_nets::NetsReport`) when
//! the manifest has one; answers from the student's report (`eval.full`).

use serde_json::Value;

/// The oracle's success on the evaluation's tasks (`model::eval_nets::ORACLE_SUCCESS`), for a
/// manifest whose student report lacks it.
const ORACLE_SUCCESS: f64 = 0.98;

/// One figure beside its baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub what: String,
    pub model: String,
    pub baseline: String,
}

/// Rows of generation, understanding and operation results; empty when the manifest has no
/// evaluation.
pub fn rows(eval: &Value) -> Vec<Row> {
    let full = &eval["full"];
    let nets = &eval["nets"];
    let mut rows = Vec::new();
    let (psnr, copy) = match nets["dreams"].is_object() {
        true => (&nets["dreams"]["psnr"], &nets["dreams"]["psnr_copy"]),
        false => (&full["generation"]["psnr"], &full["generation"]["copy_psnr"]),
    };
    for (h, i) in [(1, 0), (4, 3), (16, 15)] {
        if let (Some(m), Some(c)) = (psnr[i].as_f64(), copy[i].as_f64()) {
            rows.push(Row {
                what: format!(
                    "Dream PSNR, {h} step{} ahead",
                    if h == 1 { "" } else { "s" }
                ),
                model: format!("{m:.1} dB"),
                baseline: format!("{c:.1} dB (copy the last frame)"),
            });
        }
    }
    let d = &nets["dreams"];
    for (h, i) in [(4, 1), (16, 2)] {
        if let (Some(m), Some(c)) = (d["centroid_px"][i].as_f64(), d["centroid_px_copy"][i].as_f64()) {
            rows.push(Row {
                what: format!("Objects' place in dreams, {h} steps ahead"),
                model: format!("{m:.2} px off"),
                baseline: format!("{c:.2} px (copy the last frame)"),
            });
        }
    }
    if let Some(w) = d["whole"].as_f64() {
        rows.push(Row {
            what: "Dreams that lose no object in 16 steps".into(),
            model: format!("{:.0}%", 100.0 * w),
            baseline: "100% (copy the last frame)".into(),
        });
    }
    let p = &nets["prompt"];
    if let (Some(all), Some(n)) = (p["all"].as_f64(), p["objects"].as_f64()) {
        if n > 0.0 {
            rows.push(Row {
                what: format!("First frames from sentences: objects with colour, shape and place right ({n} objects)"),
                model: format!("{:.0}%", 100.0 * all / n),
                baseline: format!("{:.0}% (the transformer that drew them before)", 100.0 * full["generation"]["prompt_all"].as_f64().unwrap_or(0.0)),
            });
        }
    }
    if let Some(kinds) = full["understanding"]["by_kind"].as_object() {
        for (kind, k) in kinds {
            let (Some(correct), Some(majority), Some(total)) = (
                k["correct"].as_f64(),
                k["majority"].as_f64(),
                k["total"].as_f64(),
            ) else {
                continue;
            };
            if total > 0.0 {
                rows.push(Row {
                    what: format!("Answers, {kind} questions ({total} asked)"),
                    model: format!("{:.0}% right", 100.0 * correct / total),
                    baseline: format!("{:.0}% (most common answer)", 100.0 * majority / total),
                });
            }
        }
    }
    let o = &full["operation"];
    if let (Some(m), Some(r)) = (nets["planning_success"].as_f64(), nets["random_success"].as_f64()) {
        rows.push(Row {
            what: format!("Planning: tasks reached ({} tasks)", nets["size"]["tasks"].as_u64().unwrap_or(0)),
            model: format!("{:.0}%", 100.0 * m),
            baseline: format!(
                "{:.0}% random actions, {:.0}% planning with the true simulator",
                100.0 * r,
                100.0 * o["oracle_success"].as_f64().unwrap_or(ORACLE_SUCCESS)
            ),
        });
    } else if let (Some(m), Some(r), Some(or)) = (
        o["model_success"].as_f64(),
        o["random_success"].as_f64(),
        o["oracle_success"].as_f64(),
    ) {
        rows.push(Row {
            what: format!(
                "Planning: tasks reached ({} tasks)",
                o["tasks"].as_u64().unwrap_or(0)
            ),
            model: format!("{:.0}%", 100.0 * m),
            baseline: format!(
                "{:.0}% random actions, {:.0}% planning with the true simulator",
                100.0 * r,
                100.0 * or
            ),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_manifest_gives_every_kind_of_result() {
        let manifest: Value =
            serde_json::from_str(include_str!("../../public/weights/manifest.json")).unwrap();
        let rows = rows(&manifest["eval"]);
        let count = |prefix: &str| rows.iter().filter(|r| r.what.starts_with(prefix)).count();
        assert_eq!(count("Dream PSNR"), 3, "{rows:#?}");
        assert_eq!(count("Objects' place"), 2, "{rows:#?}");
        assert_eq!(count("Dreams that lose"), 1, "{rows:#?}");
        assert_eq!(count("Answers"), 5, "{rows:#?}");
        assert_eq!(count("Planning"), 1, "{rows:#?}");
        assert_eq!(count("First frames from sentences"), 1, "{rows:#?}");
        // Dreams and plans are the nets' (the ones that dream and plan on the page).
        let nets = &manifest["eval"]["nets"];
        let psnr = nets["dreams"]["psnr"][0].as_f64().unwrap();
        assert_eq!(rows[0].model, format!("{psnr:.1} dB"));
        let plan = rows.iter().find(|r| r.what.starts_with("Planning")).unwrap();
        let success = nets["planning_success"].as_f64().unwrap();
        assert_eq!(plan.model, format!("{:.0}%", 100.0 * success));
    }

    #[test]
    fn a_manifest_without_an_evaluation_gives_no_rows() {
        assert!(rows(&Value::Null).is_empty());
    }
}
