//! Text -> first frame on the CPU: the forward pass of `model::prompt_net::PromptNet` on
//! weights in the runtime's layout (a test runs both on the same weights). It reads a scene
//! sentence into the slots of [`layout::slots`]; [`layout::prompt::scene_from_reading`] turns
//! them into a scene and [`layout::prompt::first_frame`] draws it. A few tens of thousands of
//! multiply-adds a word: no GPU pass is worth its dispatch.

use layout::prompt::{PROMPT_OUT, PROMPT_WORDS};
use layout::slots::SLOTS;
use layout::weights::Weights;

use crate::exec::Act;
use crate::state::Dense;

/// The sentence reader's weights, checked.
#[derive(Clone, Debug)]
pub struct PromptNet {
    pub d: usize,
    pub words: Vec<f32>,
    pub places: Vec<f32>,
    pub slots: Vec<f32>,
    pub mix1: Dense,
    pub query: Dense,
    pub key: Dense,
    pub value: Dense,
    pub attend: Dense,
    pub mix2: Dense,
    pub pick: Dense,
    pub head: Dense,
    pub out: Dense,
    pub view: Dense,
}

/// Every tensor of a reader of `vocab` words and width `d`, stored under `prompt.`.
pub fn prompt_specs(vocab: usize, d: usize) -> Vec<(String, Vec<usize>)> {
    let mut s: Vec<(String, Vec<usize>)> = vec![
        ("prompt.words.weight".into(), vec![vocab, d]),
        ("prompt.places.weight".into(), vec![PROMPT_WORDS, d]),
        ("prompt.slots.weight".into(), vec![SLOTS, d]),
    ];
    for (name, i, o) in [
        ("mix1", 3 * d, d),
        ("query", d, d),
        ("key", d, d),
        ("value", d, d),
        ("attend", d, d),
        ("mix2", 3 * d, d),
        ("pick", d, SLOTS),
        ("head", d, d),
        ("out", d, PROMPT_OUT),
        ("view", d, 1),
    ] {
        s.push((format!("prompt.{name}.weight"), vec![i, o]));
        s.push((format!("prompt.{name}.bias"), vec![o]));
    }
    s
}

/// Rows `[n, d]` through `layer`, each followed by `act`.
fn rows(layer: &Dense, x: &[f32], n: usize, act: Act) -> Vec<f32> {
    let mut y = vec![0f32; n * layer.out];
    for (xi, yi) in x.chunks_exact(layer.inp).zip(y.chunks_exact_mut(layer.out)) {
        layer.apply(xi, yi, act);
    }
    y
}

/// `[n, d]` -> `[n, 3d]`: each word beside the one before and the one after (zeros past the
/// ends).
fn neighbours(x: &[f32], n: usize, d: usize) -> Vec<f32> {
    let mut y = vec![0f32; n * 3 * d];
    for i in 0..n {
        let row = &mut y[i * 3 * d..(i + 1) * 3 * d];
        if i > 0 {
            row[..d].copy_from_slice(&x[(i - 1) * d..i * d]);
        }
        row[d..2 * d].copy_from_slice(&x[i * d..(i + 1) * d]);
        if i + 1 < n {
            row[2 * d..].copy_from_slice(&x[(i + 1) * d..(i + 2) * d]);
        }
    }
    y
}

fn softmax_in_place(v: &mut [f32]) {
    let top = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut z = 0.0;
    for x in v.iter_mut() {
        *x = (*x - top).exp();
        z += *x;
    }
    for x in v.iter_mut() {
        *x /= z;
    }
}

impl PromptNet {
    /// The reader stored in `w` under `prompt.` (width `d`).
    pub fn of(w: &Weights, d: usize) -> PromptNet {
        let dense = |name: &str| Dense::of(w, &format!("prompt.{name}"));
        PromptNet {
            d,
            words: w.get("prompt.words.weight").to_vec(),
            places: w.get("prompt.places.weight").to_vec(),
            slots: w.get("prompt.slots.weight").to_vec(),
            mix1: dense("mix1"),
            query: dense("query"),
            key: dense("key"),
            value: dense("value"),
            attend: dense("attend"),
            mix2: dense("mix2"),
            pick: dense("pick"),
            head: dense("head"),
            out: dense("out"),
            view: dense("view"),
        }
    }

    /// Reads a sentence (word ids, no padding; at most [`PROMPT_WORDS`] are read): the view
    /// logit (side when positive) and `SLOTS * PROMPT_OUT` numbers for
    /// [`layout::prompt::scene_from_reading`].
    pub fn read(&self, words: &[u16]) -> (f32, Vec<f32>) {
        let d = self.d;
        let vocab = self.words.len() / d;
        let words: Vec<usize> = words
            .iter()
            .map(|&w| w as usize)
            .filter(|&w| w != 0 && w < vocab)
            .take(PROMPT_WORDS)
            .collect();
        let n = words.len().max(1);
        let mut x = vec![0f32; n * d];
        for (i, &w) in words.iter().enumerate() {
            for k in 0..d {
                x[i * d + k] = self.words[w * d + k] + self.places[i * d + k];
            }
        }
        let add = |x: &mut [f32], y: &[f32]| x.iter_mut().zip(y).for_each(|(a, b)| *a += b);
        let mixed = rows(&self.mix1, &neighbours(&x, n, d), n, Act::Gelu);
        add(&mut x, &mixed);
        // Self-attention.
        let (q, k, v) = (rows(&self.query, &x, n, Act::None), rows(&self.key, &x, n, Act::None), rows(&self.value, &x, n, Act::None));
        let scale = 1.0 / (d as f32).sqrt();
        let mut attended = vec![0f32; n * d];
        let mut att = vec![0f32; n];
        for i in 0..n {
            for (j, a) in att.iter_mut().enumerate() {
                *a = q[i * d..(i + 1) * d].iter().zip(&k[j * d..(j + 1) * d]).map(|(a, b)| a * b).sum::<f32>() * scale;
            }
            softmax_in_place(&mut att);
            for (j, &a) in att.iter().enumerate() {
                for c in 0..d {
                    attended[i * d + c] += a * v[j * d + c];
                }
            }
        }
        let attended = rows(&self.attend, &attended, n, Act::None);
        add(&mut x, &attended);
        let mixed = rows(&self.mix2, &neighbours(&x, n, d), n, Act::Gelu);
        add(&mut x, &mixed);
        // Each slot's view of the words, plus the mean of the words.
        let pick = rows(&self.pick, &x, n, Act::None);
        let mut mean = vec![0f32; d];
        for row in x.chunks_exact(d) {
            add(&mut mean, row);
        }
        mean.iter_mut().for_each(|m| *m /= n as f32);
        let mut out = vec![0f32; SLOTS * PROMPT_OUT];
        let (mut h, mut hidden) = (vec![0f32; d], vec![0f32; d]);
        for s in 0..SLOTS {
            let mut w: Vec<f32> = (0..n).map(|i| pick[i * SLOTS + s]).collect();
            softmax_in_place(&mut w);
            h.copy_from_slice(&self.slots[s * d..(s + 1) * d]);
            add(&mut h, &mean);
            for (i, &wi) in w.iter().enumerate() {
                for c in 0..d {
                    h[c] += wi * x[i * d + c];
                }
            }
            self.head.apply(&h, &mut hidden, Act::Gelu);
            self.out.apply(&hidden, &mut out[s * PROMPT_OUT..(s + 1) * PROMPT_OUT], Act::None);
        }
        let mut view = [0f32];
        self.view.apply(&mean, &mut view, Act::None);
        (view[0], out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_put_each_word_between_its_neighbours() {
        let x = [1.0, 2.0, 3.0];
        assert_eq!(neighbours(&x, 3, 1), vec![0.0, 1.0, 2.0, 1.0, 2.0, 3.0, 2.0, 3.0, 0.0]);
        assert_eq!(neighbours(&[5.0], 1, 1), vec![0.0, 5.0, 0.0]);
    }
}
