//! The `tiny` preset on real generated data: the loss falls, a killed run resumes to the same
//! place, and a checkpoint from other settings is refused.

use model::train::{run, Preset, RunOptions};

fn opts(dir: &std::path::Path, resume: bool, stop_after: Option<u64>) -> RunOptions {
    RunOptions {
        out: dir.to_path_buf(),
        resume,
        threads: 2,
        quiet: true,
        checkpoint_every_s: 1e9,
        stop_after,
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn tiny_preset_learns_and_resumes_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let preset = Preset::named("tiny").unwrap();
    let total = preset.tokenizer_steps + preset.world_steps;

    // Uninterrupted run.
    let full = run(preset.clone(), &opts(dir.path(), false, None), None).unwrap();
    assert_eq!(full.state.step, total);
    let (header, rows) = model::metrics::read_csv(&dir.path().join("metrics.csv")).unwrap();
    assert_eq!(rows.len() as u64, total, "one metrics row per step");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let series = |name: &str| -> Vec<f64> {
        rows.iter()
            .filter_map(|r| r[col(name)])
            .filter(|v| v.is_finite())
            .collect()
    };
    let tok = series("tokenizer_mse");
    let frame = series("frame_mse");
    assert!(
        mean(&tok[tok.len() - 10..]) < 0.6 * mean(&tok[..10]),
        "tokenizer loss did not fall: {:?}",
        &tok[..10]
    );
    assert!(
        mean(&frame[frame.len() - 5..]) < mean(&frame[..5]),
        "frame loss did not fall: {frame:?}"
    );
    assert!(dir.path().join("metrics.svg").exists());

    // Killed half way through the world phase, then resumed.
    let dir2 = tempfile::tempdir().unwrap();
    let stop = preset.tokenizer_steps + preset.world_steps / 2;
    let first = run(preset.clone(), &opts(dir2.path(), false, Some(stop)), None).unwrap();
    assert_eq!(first.state.step, stop);
    let err = run(preset.clone(), &opts(dir2.path(), false, None), None)
        .err()
        .unwrap();
    assert!(err.contains("--resume"), "{err}");
    let resumed = run(preset.clone(), &opts(dir2.path(), true, None), None).unwrap();
    assert_eq!(resumed.state.step, total);
    let (_, rows2) = model::metrics::read_csv(&dir2.path().join("metrics.csv")).unwrap();
    assert_eq!(rows2.len() as u64, total);
    let a = model::export::named_tensors(&full.model);
    let b = model::export::named_tensors(&resumed.model);
    let max_diff = a
        .iter()
        .zip(&b)
        .flat_map(|(x, y)| x.2.iter().zip(&y.2).map(|(p, q)| (p - q).abs()))
        .fold(0.0f32, f32::max);
    assert!(
        max_diff < 1e-4,
        "resumed weights differ from the uninterrupted run by {max_diff}"
    );

    // Another preset cannot resume this run.
    let other = Preset { lr: 1.0, ..preset };
    let err = run(other, &opts(dir2.path(), true, None), None)
        .err()
        .unwrap();
    assert!(err.contains("other settings"), "{err}");
}
