//! The model's evaluation numbers as the page shows them: read from the `eval` section of the
//! weights' manifest (written by `eval --update-manifest`), each beside its baseline, so the
//! page reports what the shipped model measured, good or bad.

use serde_json::Value;

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
    let mut rows = Vec::new();
    let g = &full["generation"];
    for (h, i) in [(1, 0), (4, 3), (16, 15)] {
        if let (Some(m), Some(c)) = (g["psnr"][i].as_f64(), g["copy_psnr"][i].as_f64()) {
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
    if let (Some(m), Some(r), Some(or)) = (
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
        assert_eq!(count("Answers"), 5, "{rows:#?}");
        assert_eq!(count("Planning"), 1, "{rows:#?}");
        let h1 = &rows[0];
        let psnr = manifest["eval"]["full"]["generation"]["psnr"][0]
            .as_f64()
            .unwrap();
        assert_eq!(h1.model, format!("{psnr:.1} dB"));
    }

    #[test]
    fn a_manifest_without_an_evaluation_gives_no_rows() {
        assert!(rows(&Value::Null).is_empty());
    }
}
