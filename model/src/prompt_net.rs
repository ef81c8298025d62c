//! Text -> first frame: [`PromptNet`] reads a scene sentence into the model's state (the slots
//! of [`layout::slots`]: which things the first frame holds, where, how big, how many), and
//! the renderer draws that state ([`layout::prompt::scene_from_reading`]), as the dream draws
//! tracked objects from the state.
//!
//! The words are embedded with their positions, mixed by a width-3 convolution (which binds
//! "big red ball"), one self-attention layer (which relates a clause to the rest: "... to the
//! left of the blue box") and a second convolution; then each slot pools the words with its
//! own attention and a shared two-layer head writes its [`PROMPT_OUT`] numbers. The scene's
//! view is read from the mean of the words. The runtime's forward pass
//! (`runtime::prompt::PromptNet`) is this one on the same weights (a test runs both).

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, log_sigmoid, log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};

use layout::prompt::{PromptLabels, CLASS, CLASSES, COUNT, COUNTS, POS, PRESENCE, PROMPT_OUT, PROMPT_WORDS, SPREAD};
use layout::slots::{AGENT_SLOT, OBJECT_SLOTS, SLOTS};

use crate::net::floats;
use crate::train::scalar;

#[derive(Module, Debug)]
pub struct PromptNet {
    pub words: Embedding,
    pub places: Embedding,
    pub mix1: Linear,
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub attend: Linear,
    pub mix2: Linear,
    pub pick: Linear,
    pub slots: Embedding,
    pub head: Linear,
    pub out: Linear,
    pub view: Linear,
}

impl PromptNet {
    pub fn new(vocab: usize, d: usize, device: &Device) -> PromptNet {
        let lin = |i: usize, o: usize| LinearConfig::new(i, o).init(device);
        PromptNet {
            words: EmbeddingConfig::new(vocab, d).init(device),
            places: EmbeddingConfig::new(PROMPT_WORDS, d).init(device),
            mix1: lin(3 * d, d),
            query: lin(d, d),
            key: lin(d, d),
            value: lin(d, d),
            attend: lin(d, d),
            mix2: lin(3 * d, d),
            pick: lin(d, SLOTS),
            slots: EmbeddingConfig::new(SLOTS, d).init(device),
            head: lin(d, d),
            out: lin(d, PROMPT_OUT),
            view: lin(d, 1),
        }
    }

    /// `words` `[B, L]` (padding 0 after the words) -> view logit `[B]` (side when positive)
    /// and the slots' numbers `[B, SLOTS, PROMPT_OUT]`.
    pub fn forward(&self, words: Tensor<2, Int>) -> (Tensor<1>, Tensor<3>) {
        let [b, l] = words.dims();
        let device = words.device();
        let mask = words.clone().not_equal_elem(0).float().reshape([b, l, 1]);
        let places: Tensor<2, Int> = Tensor::arange(0..l as i64, &device).reshape([1, l]);
        let x = (self.words.forward(words) + self.places.forward(places)) * mask.clone();
        let x = x.clone() + gelu(self.mix1.forward(neighbours(x))) * mask.clone();
        // Self-attention over the words (padding ignored as a key).
        let d = x.dims()[2];
        let (q, k, v) = (self.query.forward(x.clone()), self.key.forward(x.clone()), self.value.forward(x.clone()));
        let keys_off = (mask.clone().reshape([b, 1, l]) - 1.0) * 1e4;
        let att = softmax(q.matmul(k.swap_dims(1, 2)) / (d as f32).sqrt() + keys_off.clone(), 2);
        let x = x.clone() + self.attend.forward(att.matmul(v)) * mask.clone();
        let x = x.clone() + gelu(self.mix2.forward(neighbours(x))) * mask.clone();
        // Each slot's view of the words.
        let pick = softmax(self.pick.forward(x.clone()) + keys_off.reshape([b, l, 1]), 1); // [B, L, SLOTS]
        let pooled = pick.swap_dims(1, 2).matmul(x.clone()); // [B, SLOTS, d]
        let mean = x.sum_dim(1) / mask.sum_dim(1).clamp_min(1.0); // [B, 1, d]
        let ids: Tensor<2, Int> = Tensor::arange(0..SLOTS as i64, &device).reshape([1, SLOTS]);
        let h = gelu(self.head.forward(pooled + self.slots.forward(ids) + mean.clone()));
        (self.view.forward(mean).reshape([b]), self.out.forward(h))
    }
}

/// `[B, L, d]` -> `[B, L, 3d]`: each word beside the one before and the one after (zeros past
/// the ends).
fn neighbours(x: Tensor<3>) -> Tensor<3> {
    let [b, l, d] = x.dims();
    let zero = Tensor::zeros([b, 1, d], &x.device());
    let (before, after) = if l == 1 {
        (zero.clone(), zero)
    } else {
        (
            Tensor::cat(vec![zero.clone(), x.clone().narrow(1, 0, l - 1)], 1),
            Tensor::cat(vec![x.clone().narrow(1, 1, l - 1), zero], 1),
        )
    };
    Tensor::cat(vec![before, x, after], 2)
}

/// `sentences` as a padded `[B, L]` word tensor.
pub fn words_tensor(sentences: &[&[u16]], device: &Device) -> Tensor<2, Int> {
    let l = sentences.iter().map(|s| s.len()).max().unwrap_or(1).clamp(1, PROMPT_WORDS);
    let mut ids = vec![0i64; sentences.len() * l];
    for (i, s) in sentences.iter().enumerate() {
        for (j, &w) in s.iter().take(l).enumerate() {
            ids[i * l + j] = w as i64;
        }
    }
    Tensor::from_data(TensorData::new(ids, [sentences.len(), l]), device)
}

/// The loss of reading `batch` (sentence, labels): cross-entropy on which slots are present,
/// the view, each object's size and count and each zone's side; the Gaussian negative
/// log-likelihood of the places of the slots that hold one thing under the read place and
/// spread; and [`layout_loss`]. Returns the loss and its
/// parts `[presence, place (pixels, root mean square), classes, layout]`.
pub fn prompt_loss(net: &PromptNet, batch: &[(&[u16], &PromptLabels)], device: &Device) -> (Tensor<1>, [f64; 4]) {
    let b = batch.len();
    let sentences: Vec<&[u16]> = batch.iter().map(|x| x.0).collect();
    let (view, out) = net.forward(words_tensor(&sentences, device));
    let (mut present, mut placed, mut pos) = (vec![0f32; b * SLOTS], vec![0f32; b * SLOTS], vec![0f32; b * SLOTS * 2]);
    let (mut class, mut count, mut side) = (vec![0f32; b * SLOTS * CLASSES], vec![0f32; b * SLOTS * COUNTS], vec![0f32; b]);
    for (i, (_, l)) in batch.iter().enumerate() {
        side[i] = f32::from(u8::from(l.side));
        for (s, slot) in l.slots.iter().enumerate() {
            let at = i * SLOTS + s;
            present[at] = f32::from(u8::from(slot.present));
            if slot.placed {
                placed[at] = 1.0;
                pos[2 * at..2 * at + 2].copy_from_slice(&slot.pos);
            }
            if slot.present && s != AGENT_SLOT {
                class[at * CLASSES + slot.class] = 1.0;
                if s < OBJECT_SLOTS {
                    count[at * COUNTS + slot.count] = 1.0;
                }
            }
        }
    }
    let bce = |logit: Tensor<2>, target: Tensor<2>| {
        (target.clone() * log_sigmoid(logit.clone()) + (target.neg() + 1.0) * log_sigmoid(logit.neg())).neg()
    };
    let present = floats(present, [b, SLOTS], device);
    let presence = bce(out.clone().narrow(2, PRESENCE, 1).reshape([b, SLOTS]), present).mean();
    let view_loss = bce(view.reshape([b, 1]), floats(side, [b, 1], device)).mean();
    let placed = floats(placed, [b, SLOTS, 1], device);
    let n_placed = placed.clone().sum().clamp_min(1.0);
    let err = (out.clone().narrow(2, POS, 2) - floats(pos, [b, SLOTS, 2], device)) * placed.clone();
    let place = err.clone().powi_scalar(2).sum() / n_placed.clone();
    // Gaussian negative log-likelihood with the read spread: a place the sentence fixes (a
    // zone, a height from the side) is learned to the pixel, one it leaves open is not forced.
    let log_var = out.clone().narrow(2, SPREAD, 2).clamp_min(MIN_LOG_VAR);
    let nll = ((err.powi_scalar(2) / log_var.clone().exp() + log_var) * placed).sum() * 0.5 / n_placed;
    // Objects have three sizes: their fourth class logit is left out of the softmax.
    let mut fourth_off = vec![0f32; SLOTS * CLASSES];
    for s in 0..OBJECT_SLOTS {
        fourth_off[s * CLASSES + 3] = -1e4;
    }
    let class_logits = out.clone().narrow(2, CLASS, CLASSES) + floats(fourth_off, [1, SLOTS, CLASSES], device);
    let class_t = floats(class, [b, SLOTS, CLASSES], device);
    let n_class = class_t.clone().sum().clamp_min(1.0);
    let class_ce = (log_softmax(class_logits, 2) * class_t).sum().neg() / n_class;
    let count_t = floats(count, [b, SLOTS, COUNTS], device);
    let n_count = count_t.clone().sum().clamp_min(1.0);
    let count_ce = (log_softmax(out.clone().narrow(2, COUNT, COUNTS), 2) * count_t).sum().neg() / n_count;
    let classes = class_ce + count_ce + view_loss;
    let layout = layout_loss(&out.narrow(2, POS, 2), batch, device);
    let parts = [
        scalar(presence.clone()),
        scalar(place.clone()).sqrt() * 64.0,
        scalar(classes.clone()),
        scalar(layout.clone()),
    ];
    (presence + nll * PLACE_WEIGHT + classes + layout * RELATION_WEIGHT, parts)
}

/// Weight of the places' negative log-likelihood.
pub const PLACE_WEIGHT: f32 = 0.1;
/// Smallest log-variance of a read place: a standard deviation of a fifth of a pixel.
const MIN_LOG_VAR: f32 = -11.6;

/// Weight of [`layout_loss`].
pub const RELATION_WEIGHT: f32 = 10.0;
/// How far past the line a stated relation should hold, and the gap two things keep, in
/// arena sides (the simulator's tests use 0.05 and 0.015).
const RELATION_MARGIN: f32 = 0.08;
const GAP: f32 = 0.02;

/// What makes a picture of a sentence a valid scene, as hinges on the read places `pos`
/// `[B, SLOTS, 2]`: every relation the sentence states holds with a margin, and no two things
/// (objects, agent) that the sentence puts in the scene overlap. Squared error alone pulls
/// each place to its mean over the scenes a sentence can describe, and means of a chain of
/// relations sit too close to show them; these terms say what every such scene has in common.
/// The mean over the batch's relations plus the mean over its pairs of things.
fn layout_loss(pos: &Tensor<3>, batch: &[(&[u16], &PromptLabels)], device: &Device) -> Tensor<1> {
    let b = batch.len();
    let r = batch.iter().map(|x| x.1.relations.len()).max().unwrap_or(0).max(1);
    let (mut subject, mut reference) = (vec![0f32; b * r * SLOTS], vec![0f32; b * r * SLOTS]);
    let (mut axis, mut valid) = (vec![0f32; b * r * 2], vec![0f32; b * r]);
    let things = AGENT_SLOT + 1;
    let (mut min_sep, mut pairs) = (vec![0f32; b * things * things], vec![0f32; b * things * things]);
    for (i, (_, l)) in batch.iter().enumerate() {
        for (k, rel) in l.relations.iter().enumerate() {
            let at = i * r + k;
            subject[at * SLOTS + rel.subject] = 1.0;
            reference[at * SLOTS + rel.reference] = 1.0;
            axis[2 * at..2 * at + 2].copy_from_slice(&rel.axis);
            valid[at] = 1.0;
        }
        for p in 0..things {
            for q in p + 1..things {
                let (a, c) = (&l.slots[p], &l.slots[q]);
                if a.placed && c.placed {
                    let at = (i * things + p) * things + q;
                    min_sep[at] = a.reach + c.reach + GAP;
                    pairs[at] = 1.0;
                }
            }
        }
    }
    let pa = floats(subject, [b, r, SLOTS], device).matmul(pos.clone());
    let pb = floats(reference, [b, r, SLOTS], device).matmul(pos.clone());
    let along = ((pa - pb) * floats(axis, [b, r, 2], device)).sum_dim(2).reshape([b, r]);
    let valid = floats(valid, [b, r], device);
    let n_rel = valid.clone().sum().clamp_min(1.0);
    let relations = ((along + RELATION_MARGIN).clamp_min(0.0) * valid).sum() / n_rel;
    let p = pos.clone().narrow(1, 0, things);
    let diff = p.clone().reshape([b, things, 1, 2]) - p.reshape([b, 1, things, 2]);
    let dist = (diff.powi_scalar(2).sum_dim(3).reshape([b, things, things]) + 1e-8).sqrt();
    let pairs = floats(pairs, [b, things, things], device);
    let n_pairs = pairs.clone().sum().clamp_min(1.0);
    let overlap = ((floats(min_sep, [b, things, things], device) - dist).clamp_min(0.0) * pairs).sum() / n_pairs;
    relations + overlap
}

/// Reads `sentences` with `net` (no gradients): per sentence the view logit and the
/// `SLOTS * PROMPT_OUT` numbers that [`layout::prompt::scene_from_reading`] takes.
pub fn read_prompts(net: &PromptNet, sentences: &[&[u16]], device: &Device) -> Vec<(f32, Vec<f32>)> {
    let (view, out) = net.forward(words_tensor(sentences, device));
    let view: Vec<f32> = view.into_data().try_to_vec().expect("f32");
    let out: Vec<f32> = out.into_data().try_to_vec().expect("f32");
    view.into_iter()
        .enumerate()
        .map(|(i, v)| (v, out[i * SLOTS * PROMPT_OUT..(i + 1) * SLOTS * PROMPT_OUT].to_vec()))
        .collect()
}

/// A sentence about a scene: its prompt, the scene's index of each object it names, its text.
pub type Said = (world::language::prompt::ScenePrompt, Vec<usize>, String);

/// The held-out scenes text -> first frame is scored on: the first scenes of episodes
/// `seed..seed + n`, each with the sentence the dataset would write for it
/// ([`ScenePrompt::describe_in_order`]) and one drawn from the whole grammar
/// ([`ScenePrompt::paraphrase`], from a generator seeded with `seed`), as the `prompt` binary
/// and `eval` both score them.
///
/// [`ScenePrompt::describe_in_order`]: world::language::prompt::ScenePrompt::describe_in_order
/// [`ScenePrompt::paraphrase`]: world::language::prompt::ScenePrompt::paraphrase
pub fn held_out_sentences(seed: u64, n: u64) -> Vec<(world::scene::Scene, Said, Said)> {
    use rand::SeedableRng;
    use world::language::prompt::ScenePrompt;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (seed..seed + n)
        .map(|s| {
            let scene = world::scene::Scene::generate(world::scene::derive_seed(s, 0));
            let (described, order) = ScenePrompt::describe_in_order(&scene);
            let text = described.text();
            let free = ScenePrompt::paraphrase(&scene, &mut rng);
            (scene, (described, order, text), free)
        })
        .collect()
}
