//! Trains the text -> first frame reader ([`model::prompt_net::PromptNet`]) on the sentences
//! of a `world gen` dataset (each episode's prompt and the scene it describes) and scores the
//! frames it draws on held-out scenes: colour, shape and place of every object whose colour
//! is unique ([`world::scores::prompt_score`]).
//!
//!     cargo run -p model --release --bin prompt -- --data data/train --out runs/prompt

use std::path::PathBuf;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use layout::prompt::{first_frame, prompt_labels, scene_from_reading, PromptLabels};
use model::prompt_net::{prompt_loss, read_prompts, PromptNet};
use model::state_train::fit;
use world::dataset::Dataset;
use world::language::prompt::ScenePrompt;
use world::language::vocab::{tokenize, vocab_size};
use world::scene::{derive_seed, Scene};
use world::scores::{prompt_score, PromptScore, DEFAULT_SIDE};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "data/train")]
    data: PathBuf,
    #[arg(long)]
    limit: Option<usize>,
    /// Width of the word features.
    #[arg(long, default_value_t = 48)]
    width: usize,
    #[arg(long, default_value_t = 3000)]
    steps: usize,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Held-out scenes scored (from the evaluation's episode seed, 1000000).
    #[arg(long, default_value_t = 1000)]
    scenes: u64,
    #[arg(long, default_value = "runs/prompt")]
    out: PathBuf,
    /// Load `--out`/prompt.bin instead of training.
    #[arg(long)]
    eval_only: bool,
    /// Print the sentence, the score and the drawn scene of this many held-out scenes that
    /// have an object wrong.
    #[arg(long, default_value_t = 0)]
    misses: usize,
}

/// Scores `net` on the first scenes of the evaluation's episodes `seed..seed + n`, printing
/// the first `misses` scenes with an object wrong.
pub fn score(net: &PromptNet, seed: u64, n: u64, mut misses: usize, device: &Device) -> PromptScore {
    let scenes: Vec<Scene> = (seed..seed + n).map(|s| Scene::generate(derive_seed(s, 0))).collect();
    let sentences: Vec<Vec<u16>> = scenes
        .iter()
        .map(|s| tokenize(&ScenePrompt::describe(s).text()).expect("the world's own words"))
        .collect();
    let mut total = PromptScore::default();
    for (chunk, words) in scenes.chunks(100).zip(sentences.chunks(100)) {
        let refs: Vec<&[u16]> = words.iter().map(Vec::as_slice).collect();
        for (scene, (side, out)) in chunk.iter().zip(read_prompts(net, &refs, device)) {
            let read = scene_from_reading(side, &out);
            let one = prompt_score(scene, &first_frame(scene), &first_frame(&read), DEFAULT_SIDE);
            if misses > 0 && one.all < one.objects {
                misses -= 1;
                println!("\"{}\": {one:?}", ScenePrompt::describe(scene).text());
                for o in &read.objects {
                    println!("    drawn {:?} {:?} {:?} at {:.2?}", o.size, o.colour, o.shape, o.position);
                }
                println!("    agent at {:.2?}", read.agent_start);
            }
            total.add(&one);
        }
    }
    total
}

fn main() {
    let a = Args::parse();
    let plain = Device::flex();
    let device = plain.clone().autodiff();
    device.seed(0);
    std::fs::create_dir_all(&a.out).unwrap();
    let file = a.out.join("prompt.bin");
    let net = if a.eval_only {
        let bytes = std::fs::read(&file).expect("prompt.bin");
        PromptNet::new(vocab_size(), a.width, &plain)
            .load_record(ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).expect("record"))
    } else {
        let ds = Dataset::open(&a.data).unwrap();
        let examples: Vec<(Vec<u16>, PromptLabels)> = ds
            .episodes()
            .take(a.limit.unwrap_or(usize::MAX))
            .map(|e| {
                let e = e.unwrap();
                (tokenize(&e.prompt).expect("the world's own words"), prompt_labels(&e.scene))
            })
            .collect();
        eprintln!("{} sentences", examples.len());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let net = fit(
            PromptNet::new(vocab_size(), a.width, &device),
            a.steps,
            a.lr,
            |m, _| {
                let batch: Vec<(&[u16], &PromptLabels)> = (0..a.batch)
                    .map(|_| {
                        let (w, l) = &examples[rng.random_range(0..examples.len())];
                        (w.as_slice(), l)
                    })
                    .collect();
                let (l, [presence, place, classes, layout]) = prompt_loss(m, &batch, &device);
                (l, format!("presence {presence:.4} place {place:.2} px classes {classes:.4} layout {layout:.4}"))
            },
            250,
            "prompt",
        );
        let bytes = net.clone().into_record().into_bytes().expect("record");
        std::fs::write(&file, &bytes[..]).expect("write prompt.bin");
        net.valid()
    };
    let s = score(&net, 1_000_000, a.scenes, a.misses, &plain);
    let pct = |n: usize| 100.0 * s.share(n);
    println!(
        "text -> first frame, {} objects of {} held-out scenes: colour {:.1}%, shape {:.1}%, place {:.1}%, all three {:.1}% (same third as the scene's own frame {:.1}%); {} parameters",
        s.objects,
        a.scenes,
        pct(s.colour),
        pct(s.shape),
        pct(s.place),
        pct(s.all),
        pct(s.same_third),
        net.num_params()
    );
}
