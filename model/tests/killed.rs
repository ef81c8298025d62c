//! The `train` binary killed with SIGKILL at random moments, again and again: each time the
//! checkpoint on disk is whole (it is written to a temporary file and renamed), the run
//! resumes from it, and the finished run equals one that was never interrupted. The moments
//! come from a seed that is printed (set KILL_SEED to replay one).
#![cfg(unix)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use model::checkpoint::{Checkpoint, FILE};

const KILLS: usize = 5;

fn train(out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_train"));
    c.args([
        "--preset",
        "tiny",
        "--threads",
        "1",
        "--checkpoint-every",
        "0",
        "--resume",
    ])
    .arg("--out")
    .arg(out)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

/// splitmix64: the kill moments from the printed seed.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The number of metrics rows and the last row's losses (the columns before the timings).
fn last_row(dir: &Path) -> (u64, Vec<(String, Option<f64>)>) {
    let (header, rows) = model::metrics::read_csv(&dir.join("metrics.csv")).unwrap();
    let row = rows.last().expect("metrics rows");
    let losses = header
        .into_iter()
        .zip(row.iter().copied())
        .take_while(|(name, _)| name != "samples_per_s")
        .collect();
    (rows.len() as u64, losses)
}

#[test]
fn training_killed_at_random_moments_resumes_to_the_same_result() {
    // The uninterrupted run, timed, to place the kills inside it.
    let whole = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    assert!(train(whole.path()).status().unwrap().success());
    let span = t0.elapsed();

    let seed = std::env::var("KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("KILL_SEED={seed} (an uninterrupted run takes {span:.1?})");
    let mut rng = seed;
    let tiny = model::train::Preset::named("tiny").unwrap();
    let total = tiny.tokenizer_steps + tiny.world_steps;
    let killed = tempfile::tempdir().unwrap();
    let metrics = killed.path().join("metrics.csv");
    let rows = || {
        std::fs::read_to_string(&metrics)
            .map(|t| t.lines().count().saturating_sub(1) as u64)
            .unwrap_or(0)
    };
    // Random steps before the last, in order, each followed by a random moment (a checkpoint
    // is written after every step, so some kills land inside checkpoint writes).
    let mut targets: Vec<u64> = (0..KILLS)
        .map(|_| 1 + next(&mut rng) % (total - 1))
        .collect();
    targets.sort();
    let mut steps_at_kills = Vec::new();
    for (kill, &target) in targets.iter().enumerate() {
        let extra = Duration::from_micros(next(&mut rng) % 20_000);
        let mut child = train(killed.path()).spawn().unwrap();
        let deadline = Instant::now() + span * 3;
        while rows() < target && Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(extra);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL: no handler runs, no checkpoint is written on the way out
        child.wait().unwrap();
        // Whatever the moment, the checkpoint on disk (if one was written yet) is whole.
        let path = killed.path().join(FILE);
        let step = if path.exists() {
            Checkpoint::load(&path)
                .unwrap_or_else(|e| {
                    panic!("kill {kill} at step {target} left a damaged checkpoint: {e}")
                })
                .state
                .step
        } else {
            0
        };
        eprintln!(
            "kill {kill}: at step {target} + {extra:.1?}, checkpoint at step {step}{}",
            if finished { " (the run had ended)" } else { "" }
        );
        assert!(!finished, "the run ended before kill {kill}");
        steps_at_kills.push(step);
    }
    assert!(
        steps_at_kills.windows(2).all(|w| w[0] <= w[1]),
        "a resume went backwards: {steps_at_kills:?}"
    );
    // Resumed to the end.
    assert!(train(killed.path()).status().unwrap().success());

    let device = burn::tensor::Device::flex();
    let (a, sa) = model::train::load_run(whole.path(), &device).unwrap();
    let (b, sb) = model::train::load_run(killed.path(), &device).unwrap();
    assert_eq!(sa.step, sb.step);
    let max_diff = model::export::named_tensors(&a)
        .iter()
        .zip(&model::export::named_tensors(&b))
        .flat_map(|(x, y)| x.2.iter().zip(&y.2).map(|(p, q)| (p - q).abs()))
        .fold(0.0f32, f32::max);
    assert!(
        max_diff < 1e-4,
        "the killed run's weights differ by {max_diff}"
    );
    // One metrics row per step, and the same final losses.
    let ((na, ra), (nb, rb)) = (last_row(whole.path()), last_row(killed.path()));
    assert_eq!((na, nb), (sa.step, sa.step));
    assert!(ra.len() > 5, "{ra:?}");
    for ((name, x), (_, y)) in ra.iter().zip(&rb) {
        match (x, y) {
            (Some(x), Some(y)) if x.is_finite() => assert!(
                (x - y).abs() <= 1e-3 * x.abs().max(1.0),
                "final {name} differs: {x} uninterrupted, {y} killed and resumed"
            ),
            _ => assert_eq!(x.is_some(), y.is_some(), "{name}: {x:?} vs {y:?}"),
        }
    }
}
