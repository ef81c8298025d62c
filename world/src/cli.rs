//! The dataset command line: thin wrappers over [`world::dataset`] and [`world::episode`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use world::dataset::{Dataset, DatasetError, DatasetWriter};
use world::episode::{generate_episode, Episode, EpisodeConfig};
use world::events::{Entity, EventKind};
use world::scene::derive_seed;

#[derive(Parser)]
#[command(
    name = "world",
    about = "Generate and check datasets of the 2D physics world"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate episodes (frames, actions, events, captions, prompts, questions) into a folder.
    Gen {
        /// Seed of the whole dataset: the same seed gives the same bytes.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Number of episodes.
        #[arg(long, default_value_t = 1000)]
        episodes: u64,
        /// Output folder (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Actions per episode (an episode has one more frame than actions).
        #[arg(long, default_value_t = 40)]
        steps: u32,
        /// Frame side in pixels.
        #[arg(long, default_value_t = 64)]
        size: u32,
        /// Episodes per shard file.
        #[arg(long, default_value_t = 256)]
        shard_episodes: u32,
        /// Skip questions (they re-simulate the episode, so they cost time).
        #[arg(long)]
        no_questions: bool,
        /// Worker threads (output does not depend on it).
        #[arg(long)]
        jobs: Option<usize>,
        /// Replace a dataset already in the folder.
        #[arg(long)]
        force: bool,
    },
    /// Read every chunk of a dataset, verify it and print statistics.
    Check {
        /// Dataset folder.
        dir: PathBuf,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Gen {
            seed,
            episodes,
            out,
            steps,
            size,
            shard_episodes,
            no_questions,
            jobs,
            force,
        } => {
            let config = EpisodeConfig {
                steps,
                width: size,
                height: size,
                questions: !no_questions,
            };
            generate(seed, episodes, &out, config, shard_episodes, jobs, force)
        }
        Command::Check { dir } => check(&dir),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn progress(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} episodes  {per_sec}  eta {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn generate(
    seed: u64,
    episodes: u64,
    out: &std::path::Path,
    config: EpisodeConfig,
    shard_episodes: u32,
    jobs: Option<usize>,
    force: bool,
) -> Result<(), DatasetError> {
    // Check the frame size before creating anything.
    world::render::Renderer::new(config.width, config.height)?;
    let mut writer = DatasetWriter::create(out, seed, config, shard_episodes, force)?;
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let bar = progress(episodes);
    let start = Instant::now();
    // Episodes are generated in parallel batches and written in order, so the bytes do not
    // depend on the number of threads.
    let batch = (jobs as u64 * 8).max(1);
    let mut next = 0u64;
    while next < episodes {
        let end = (next + batch).min(episodes);
        let results: Vec<Result<Episode, DatasetError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..jobs as u64)
                .map(|j| {
                    s.spawn(move || {
                        (next + j..end)
                            .step_by(jobs)
                            .map(|i| (i, generate_episode(derive_seed(seed, i), &config)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut all: Vec<(u64, Result<Episode, _>)> = handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect();
            all.sort_by_key(|(i, _)| *i);
            all.into_iter()
                .map(|(_, r)| r.map_err(DatasetError::from))
                .collect()
        });
        if results.len() as u64 != end - next {
            return Err(DatasetError::Decode {
                path: out.to_path_buf(),
                offset: next,
                reason: "a worker thread stopped early".into(),
            });
        }
        for r in results {
            writer.push(&r?)?;
            bar.inc(1);
        }
        next = end;
    }
    let manifest = writer.finish()?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let frames = episodes * (config.steps as u64 + 1);
    let bytes: u64 = manifest.shards.iter().map(|s| s.bytes).sum();
    println!(
        "wrote {episodes} episodes ({frames} frames) to {} in {secs:.1}s: {:.0} frames/s on {jobs} threads, {:.1} MB ({:.0} bytes/frame)",
        out.display(),
        frames as f64 / secs,
        bytes as f64 / 1e6,
        bytes as f64 / frames.max(1) as f64
    );
    Ok(())
}

fn check(dir: &std::path::Path) -> Result<(), DatasetError> {
    let dataset = Dataset::open(dir)?;
    let bar = progress(dataset.manifest.episodes);
    let (mut count, mut frames, mut touched, mut questions) = (0u64, 0u64, 0u64, 0u64);
    let mut answers: BTreeMap<(String, String), u64> = BTreeMap::new();
    for e in dataset.episodes() {
        let e = e?;
        count += 1;
        frames += e.frame_count() as u64;
        let hit = e.events.iter().any(|ev| {
            matches!(
                ev.kind,
                EventKind::Collision {
                    a: Entity::Agent,
                    b: Entity::Object(_)
                }
            )
        });
        touched += hit as u64;
        for q in &e.questions {
            questions += 1;
            let yes_no = if q.answer == "yes" || q.answer == "no" {
                q.answer.clone()
            } else {
                "other".into()
            };
            *answers
                .entry((q.kind.name().to_string(), yes_no))
                .or_default() += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if count != dataset.manifest.episodes {
        return Err(DatasetError::Manifest {
            path: dir.join(world::dataset::MANIFEST),
            reason: format!(
                "manifest lists {} episodes, the shards hold {count}",
                dataset.manifest.episodes
            ),
        });
    }
    println!(
        "{}: {count} episodes, {frames} frames, all chunks verified",
        dir.display()
    );
    println!(
        "agent touched an object in {touched} of {count} episodes ({:.0}%)",
        100.0 * touched as f64 / count.max(1) as f64
    );
    println!("{questions} questions:");
    for ((kind, answer), n) in answers {
        println!("  {kind:<15} {answer:<6} {n}");
    }
    Ok(())
}
