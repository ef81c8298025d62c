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
use model::prompt_net::{held_out_sentences, prompt_loss, read_prompts, PromptNet, Said};
use model::state_train::fit;
use world::dataset::Dataset;
use world::language::prompt::ScenePrompt;
use world::language::vocab::{tokenize, vocab_size};
use world::scene::Scene;
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
    /// Sentences drawn from the whole grammar per episode, besides the dataset's own.
    #[arg(long, default_value_t = 3)]
    paraphrases: usize,
    /// Read this sentence and print the scene the reader makes of it, and whether that scene
    /// satisfies the sentence (then stop).
    #[arg(long)]
    sentence: Option<String>,
}

/// Scores `net` on the first scenes of the evaluation's episodes `seed..seed + n`, described
/// as the dataset does or, with `free`, in sentences drawn from the whole grammar
/// ([`ScenePrompt::paraphrase`]); prints the first `misses` scenes with an object wrong.
pub fn score(net: &PromptNet, seed: u64, n: u64, free: bool, mut misses: usize, device: &Device) -> PromptScore {
    let held = held_out_sentences(seed, n);
    let scenes: Vec<Scene> = held.iter().map(|h| h.0.clone()).collect();
    let said: Vec<Said> = held.into_iter().map(|(_, described, other)| if free { other } else { described }).collect();
    let sentences: Vec<Vec<u16>> = said.iter().map(|s| tokenize(&s.2).expect("the world's own words")).collect();
    let mut total = PromptScore::default();
    for ((chunk, words), told) in scenes.chunks(100).zip(sentences.chunks(100)).zip(said.chunks(100)) {
        let refs: Vec<&[u16]> = words.iter().map(Vec::as_slice).collect();
        for ((scene, (side, out)), (prompt, order, text)) in chunk.iter().zip(read_prompts(net, &refs, device)).zip(told) {
            let read = scene_from_reading(side, &out);
            let one = prompt_score(scene, (prompt, order), &first_frame(scene), &first_frame(&read), DEFAULT_SIDE);
            if misses > 0 && one.all < one.objects {
                misses -= 1;
                println!("\"{text}\": {one:?}");
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
        // Each episode's own sentence, and `paraphrases` more drawn from the whole grammar.
        let mut p_rng = ChaCha8Rng::seed_from_u64(6);
        let examples: Vec<(Vec<u16>, PromptLabels)> = ds
            .episodes()
            .take(a.limit.unwrap_or(usize::MAX))
            .flat_map(|e| {
                let e = e.unwrap();
                let (said, order) = ScenePrompt::describe_in_order(&e.scene);
                assert_eq!(said.text(), e.prompt, "the dataset's sentence is the scene's description");
                let mut out = vec![(tokenize(&e.prompt).expect("the world's own words"), prompt_labels(&e.scene, (&said, &order)))];
                for _ in 0..a.paraphrases {
                    let (p, order, text) = ScenePrompt::paraphrase(&e.scene, &mut p_rng);
                    out.push((tokenize(&text).expect("the world's own words"), prompt_labels(&e.scene, (&p, &order))));
                }
                out
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
    if let Some(text) = &a.sentence {
        let words = tokenize(text).unwrap_or_else(|e| panic!("{e}"));
        let (side, out) = read_prompts(&net, &[&words], &plain).remove(0);
        let read = scene_from_reading(side, &out);
        println!("{:?} view", read.view);
        for o in &read.objects {
            println!("  {:?} {:?} {:?} at {:.2?}", o.size, o.colour, o.shape, o.position);
        }
        for z in &read.zones {
            println!("  {:?} zone {:?}", z.colour, z.anchor);
        }
        let prompt = ScenePrompt::parse(text).unwrap_or_else(|e| panic!("{e}"));
        let holds = prompt.relations.iter().all(|&(x, r, y)| {
            let find = |k: usize| {
                let l = prompt.objects[k];
                read.objects.iter().find(|o| (o.colour, o.shape) == (l.colour, l.shape)).map(|o| o.position)
            };
            find(x).zip(find(y)).is_some_and(|(p, q)| r.holds(p, q))
        });
        println!("every relation holds: {holds}");
        return;
    }
    for (free, how) in [(false, "described as the dataset does"), (true, "in sentences drawn from the whole grammar")] {
        let s = score(&net, 1_000_000, a.scenes, free, a.misses, &plain);
        let pct = |n: usize| 100.0 * s.share(n);
        println!(
            "text -> first frame, {} objects of {} held-out scenes {how}: colour {:.1}%, shape {:.1}%, place {:.1}%, all three {:.1}% (same third as the scene's own frame {:.1}%); {} parameters",
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
}
