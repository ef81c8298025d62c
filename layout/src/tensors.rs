//! The name and shape of every parameter, in the order the model declares them. Names are the
//! model's field paths (`blocks.0.q.weight`). Linear weights are `[in, out]` (y = x W + b),
//! embeddings `[rows, d]`, layer norms `gamma` and `beta` `[d]`; all f32.
//!
//! The burn model in `model` is checked against this list by a test, so the runtime never
//! restates the architecture.

use crate::config::{ModelConfig, ACTIONS};

/// One parameter: its name and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

impl TensorSpec {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

struct Specs(Vec<TensorSpec>);

impl Specs {
    fn linear(&mut self, name: &str, inputs: usize, outputs: usize) {
        self.push(format!("{name}.weight"), vec![inputs, outputs]);
        self.push(format!("{name}.bias"), vec![outputs]);
    }
    fn embedding(&mut self, name: &str, rows: usize, d: usize) {
        self.push(format!("{name}.weight"), vec![rows, d]);
    }
    fn norm(&mut self, name: &str, d: usize) {
        self.push(format!("{name}.gamma"), vec![d]);
        self.push(format!("{name}.beta"), vec![d]);
    }
    fn push(&mut self, name: String, shape: Vec<usize>) {
        self.0.push(TensorSpec { name, shape });
    }
}

/// Every parameter of a model of config `c`, in declaration order.
pub fn tensor_specs(c: &ModelConfig) -> Vec<TensorSpec> {
    let (d, z, h) = (c.d_model, c.state_latent, c.plan_hidden);
    let mut s = Specs(Vec::new());
    s.linear("tokenizer.enc1", c.patch_dim(), c.tokenizer_hidden);
    s.linear("tokenizer.enc2", c.tokenizer_hidden, c.patch_latent);
    s.linear("tokenizer.dec1", c.patch_latent, c.tokenizer_hidden);
    s.linear("tokenizer.dec2", c.tokenizer_hidden, c.patch_dim());
    s.linear("patch_in", c.patch_latent, d);
    s.embedding("patch_pos", c.patches(), d);
    s.embedding("slot", 3, d);
    s.embedding("action", ACTIONS, d);
    s.embedding("special", 2, d);
    s.embedding("word", c.vocab, d);
    s.embedding("word_pos", c.max_text, d);
    s.linear("z_in", z, d);
    s.embedding("clip_pos", c.max_clip, d);
    for i in 0..c.layers {
        let b = format!("blocks.{i}");
        s.norm(&format!("{b}.ln1"), d);
        for proj in ["q", "k", "v", "o"] {
            s.linear(&format!("{b}.{proj}"), d, d);
        }
        s.norm(&format!("{b}.ln2"), d);
        s.linear(&format!("{b}.ff1"), d, c.d_ff);
        s.linear(&format!("{b}.ff2"), c.d_ff, d);
    }
    s.norm("ln_f", d);
    s.linear("frame_head", d, 2 * c.patch_latent);
    s.linear("z_head", d, z);
    s.linear("word_head", d, c.vocab);
    s.linear("dyn_z", z, h);
    s.embedding("dyn_a", ACTIONS, h);
    s.linear("dyn_hidden", h, h);
    s.linear("dyn_out", h, z);
    s.linear("cost_in", 3 * z, h);
    s.linear("cost_out", h, 1);
    s.0
}

/// Total parameters of a model of config `c`.
pub fn parameter_count(c: &ModelConfig) -> usize {
    tensor_specs(c).iter().map(TensorSpec::len).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_sizes_add_up() {
        let c = ModelConfig::student();
        let specs = tensor_specs(&c);
        let mut names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), specs.len());
        // 2 layers x 16 tensors each, plus the rest.
        assert_eq!(
            specs
                .iter()
                .filter(|s| s.name.starts_with("blocks."))
                .count(),
            32
        );
        assert!(parameter_count(&c) < parameter_count(&ModelConfig::teacher()) / 4);
    }
}
