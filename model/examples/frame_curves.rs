//! The frame predictor's training curves from the logs `dream` writes (`scripts/train_frames.sh`:
//! the teacher, the distilled student, the student with the move pairs): per logged step the
//! pixel error, the palette cross-entropy, the distillation term, the rollout length and the
//! frame-steps a second, and the quick check's worst gain over copying (20 held-out episodes,
//! drawn `conserve`), one SVG per run.
//!
//!     cargo run -p model --release --example frame_curves -- checkpoints/next/frames/log.txt \
//!         docs/training/frames-teacher.svg "the frame teacher"
//!
//! (arguments: log, SVG, title; repeated for more runs.)

use std::path::Path;

/// The number after `key ` (or `key=`) in a log line.
fn field(line: &str, key: &str) -> Option<f64> {
    let at = line.find(&format!(" {key} ")).map(|i| i + key.len() + 2).or_else(|| line.find(&format!(" {key}=")).map(|i| i + key.len() + 2))?;
    line[at..].split([' ', 's', ':']).next()?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.len() % 3 != 0 {
        eprintln!("usage: frame_curves LOG SVG TITLE [LOG SVG TITLE ...]");
        std::process::exit(2);
    }
    let columns = ["step", "pixel mse", "palette ce", "distill", "rollout K", "frame-steps a second", "quick check: worst gain over copy (dB)"];
    for run in args.chunks(3) {
        let (log, svg, title) = (Path::new(&run[0]), Path::new(&run[1]), &run[2]);
        let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let mut csv = columns.join(",") + "\n";
        // Steps restart at each part of a log made of several runs: count on from the last.
        let (mut offset, mut last) = (0.0, 0.0);
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("step ") {
                let Some(step) = rest.split(' ').next().and_then(|s| s.parse::<f64>().ok()) else { continue };
                if step + offset < last {
                    offset = last;
                }
                last = step + offset;
                let l = format!(" {line}");
                let get = |k: &str| field(&l, k).map_or(String::new(), |v| v.to_string());
                csv += &format!("{last},{},{},{},{},{},\n", get("mse"), get("ce"), get("distill"), get("K"), get("frames/s"));
            } else if line.starts_with("eval20") {
                let step = field(line, "step").map(|s| s + offset);
                let gain = line.split("min gain ").nth(1).and_then(|s| s.split(' ').next()).and_then(|s| s.parse::<f64>().ok());
                if let (Some(step), Some(gain)) = (step, gain) {
                    csv += &format!("{step},,,,,,{gain}\n");
                }
            }
        }
        let tmp = std::env::temp_dir().join(format!("frame-curves-{}.csv", std::process::id()));
        std::fs::write(&tmp, csv).expect("a temporary CSV");
        model::metrics::write_svg_plot(&tmp, svg, title).unwrap_or_else(|e| panic!("{}: {e}", svg.display()));
        let _ = std::fs::remove_file(&tmp);
        println!("{} -> {}", log.display(), svg.display());
    }
}
