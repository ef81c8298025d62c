//! The exported weights: a safetensors file plus a JSON manifest, the only thing the playground
//! loads. All tensors are f32 little-endian, named and shaped as [`crate::tensors`] says.
//!
//! [`check_weights`] runs, in order: the format and model version are this build's, the config
//! is valid, the vocabulary fingerprint matches, the file's length and sha256 match the
//! manifest, and every tensor the architecture needs is present with its dtype and shape and
//! nothing else is, and every value is finite. Each failure is its own [`LoadError`] and says what is wrong.

use std::collections::BTreeMap;

use safetensors::tensor::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ModelConfig, MODEL_VERSION};
use crate::tensors::tensor_specs;

pub const FORMAT: &str = "world-model-weights";
pub const WEIGHTS_FILE: &str = "student.safetensors";
pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorEntry {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vocabulary {
    pub words: Vec<String>,
    /// world::language::vocab_fingerprint() as 16 hex digits.
    pub fingerprint: String,
}

/// Everything needed to know what a weights file is and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub model_version: u32,
    pub config: ModelConfig,
    pub vocabulary: Vocabulary,
    pub weights_file: String,
    pub bytes: u64,
    pub sha256: String,
    pub parameters: usize,
    pub tensors: Vec<TensorEntry>,
    pub flops_per_transition: u64,
    pub flops_per_dream_frame: u64,
    /// How it was made: presets, data seeds, teacher size, git revision.
    pub provenance: BTreeMap<String, serde_json::Value>,
    /// Filled in by the evaluation (`eval --update-manifest`).
    #[serde(default)]
    pub eval: serde_json::Value,
    /// Further weights files the page loads beside the student, by role: [`FRAMES_NET`] (the
    /// frame predictor that dreams) and [`STATE_NET`] (the reader, dynamics and goal net that
    /// plan). Each is checked like the main file (length, sha256, names, shapes, values).
    #[serde(default)]
    pub nets: BTreeMap<String, NetFile>,
}

/// The role of the frame predictor's file in [`Manifest::nets`].
pub const FRAMES_NET: &str = "frames";
/// The role of the state nets' file in [`Manifest::nets`].
pub const STATE_NET: &str = "state";

/// One further weights file of [`Manifest::nets`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetFile {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub parameters: usize,
    /// How it was made and what it scored.
    #[serde(default)]
    pub provenance: serde_json::Value,
}

impl NetFile {
    /// Checks `bytes` are this file: its length, then its sha256.
    pub fn check(&self, bytes: &[u8]) -> Result<(), LoadError> {
        if bytes.len() as u64 != self.bytes {
            return Err(LoadError::Length {
                file: self.file.clone(),
                found: bytes.len() as u64,
                expected: self.bytes,
            });
        }
        let found = sha256_hex(bytes);
        if found != self.sha256 {
            return Err(LoadError::Checksum {
                file: self.file.clone(),
                found,
            });
        }
        Ok(())
    }
}

/// Why weights could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LoadError {
    #[error("cannot read {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("manifest {path} is not valid: {reason}")]
    Manifest { path: String, reason: String },
    #[error("weights are model version {found}, this build runs version {expected}: re-export them with this build")]
    Version { found: u32, expected: u32 },
    #[error("the manifest's config is invalid: {0}")]
    Config(String),
    #[error("the weights were trained with another vocabulary (fingerprint {found}, this build {expected})")]
    Vocabulary { found: String, expected: String },
    #[error("{file} is {found} bytes but the manifest says {expected}: the file is truncated or was replaced")]
    Length {
        file: String,
        found: u64,
        expected: u64,
    },
    #[error("{file} does not match the manifest's sha256 (found {found}): the file was changed or damaged")]
    Checksum { file: String, found: String },
    #[error("{file} is not a readable safetensors file: {reason}")]
    Safetensors { file: String, reason: String },
    #[error("tensor {name} is missing from the weights")]
    Missing { name: String },
    #[error("tensor {name} has shape {found:?}, the architecture needs {expected:?}")]
    Shape {
        name: String,
        found: Vec<usize>,
        expected: Vec<usize>,
    },
    #[error("tensor {name} has dtype {found}, expected F32")]
    Dtype { name: String, found: String },
    #[error("the weights hold tensors this architecture does not have: {0:?}")]
    Unexpected(Vec<String>),
    #[error("tensor {name} holds {value} at index {index}: the weights are not usable (training diverged, or the file was made by another tool)")]
    NonFinite {
        name: String,
        index: usize,
        value: f32,
    },
}

impl LoadError {
    /// The problem and what to do about it, for people.
    pub fn explained(&self) -> String {
        format!("{self}. {}", self.advice())
    }

    /// What the person holding these weights can do about it, in one sentence.
    pub fn advice(&self) -> &'static str {
        match self {
            LoadError::Io { .. } => {
                "Check that the weights folder is served next to the page (or export the model into it)."
            }
            LoadError::Length { .. } | LoadError::Checksum { .. } => {
                "Reload the page to download the weights again; if it persists, the server holds a damaged copy: export the model again."
            }
            LoadError::Version { .. } | LoadError::Vocabulary { .. } => {
                "Export the weights again with this build (cargo run -p model --release --bin export)."
            }
            LoadError::Manifest { .. }
            | LoadError::Config(_)
            | LoadError::Safetensors { .. }
            | LoadError::Missing { .. }
            | LoadError::Shape { .. }
            | LoadError::Dtype { .. }
            | LoadError::Unexpected(_) => {
                "These files were not made by this build's export: export the model again (cargo run -p model --release --bin export)."
            }
            LoadError::NonFinite { .. } => {
                "Train again from the last good checkpoint, then export; weights with NaN or infinity cannot dream."
            }
        }
    }
}

/// Checked parameters by name: shape and row-major values.
#[derive(Clone, Debug, Default)]
pub struct Weights {
    pub tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Weights {
    /// The values of a tensor the architecture has. Loading checked every name, so a missing
    /// one here is a bug in the caller.
    pub fn get(&self, name: &str) -> &[f32] {
        match self.tensors.get(name) {
            Some((_, v)) => v,
            None => panic!("no tensor {name}: the architecture has no such parameter"),
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// This build's vocabulary and its fingerprint.
pub fn vocabulary() -> Vocabulary {
    use world::language::vocab::{vocab_fingerprint, vocab_size, word};
    let words = (0..vocab_size() as u16)
        .map(|i| word(i).expect("in range").to_string())
        .collect();
    Vocabulary {
        words,
        fingerprint: format!("{:016x}", vocab_fingerprint()),
    }
}

/// Parses a manifest's JSON text; `path` only names it in errors.
pub fn parse_manifest(text: &str, path: &str) -> Result<Manifest, LoadError> {
    let manifest: Manifest = serde_json::from_str(text).map_err(|e| LoadError::Manifest {
        path: path.to_string(),
        reason: e.to_string(),
    })?;
    if manifest.format != FORMAT {
        return Err(LoadError::Manifest {
            path: path.to_string(),
            reason: format!("format is \"{}\", not \"{FORMAT}\"", manifest.format),
        });
    }
    Ok(manifest)
}

/// Checks a manifest and the weights file's bytes against this build's architecture.
pub fn check_weights(manifest: &Manifest, bytes: &[u8]) -> Result<Weights, LoadError> {
    if manifest.model_version != MODEL_VERSION {
        return Err(LoadError::Version {
            found: manifest.model_version,
            expected: MODEL_VERSION,
        });
    }
    manifest.config.validate().map_err(LoadError::Config)?;
    let expected_vocab = vocabulary();
    if manifest.vocabulary.fingerprint != expected_vocab.fingerprint {
        return Err(LoadError::Vocabulary {
            found: manifest.vocabulary.fingerprint.clone(),
            expected: expected_vocab.fingerprint,
        });
    }
    let file = manifest.weights_file.clone();
    if bytes.len() as u64 != manifest.bytes {
        return Err(LoadError::Length {
            file,
            found: bytes.len() as u64,
            expected: manifest.bytes,
        });
    }
    let found = sha256_hex(bytes);
    if found != manifest.sha256 {
        return Err(LoadError::Checksum { file, found });
    }
    let specs = tensor_specs(&manifest.config)
        .into_iter()
        .map(|s| (s.name, s.shape))
        .collect::<Vec<_>>();
    read_tensors(bytes, &file, &specs)
}

/// Reads a safetensors file that must hold exactly the tensors `specs` names, each f32 of its
/// shape with every value finite; `file` only names it in errors.
pub fn read_tensors(
    bytes: &[u8],
    file: &str,
    specs: &[(String, Vec<usize>)],
) -> Result<Weights, LoadError> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| LoadError::Safetensors {
        file: file.to_string(),
        reason: e.to_string(),
    })?;
    let mut out = Weights::default();
    for (name, shape) in specs {
        let name = name.clone();
        let view = st
            .tensor(&name)
            .map_err(|_| LoadError::Missing { name: name.clone() })?;
        if view.dtype() != Dtype::F32 {
            return Err(LoadError::Dtype {
                name,
                found: format!("{:?}", view.dtype()),
            });
        }
        if view.shape() != shape.as_slice() {
            return Err(LoadError::Shape {
                name,
                found: view.shape().to_vec(),
                expected: shape.clone(),
            });
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(LoadError::NonFinite { name, index, value });
        }
        out.tensors.insert(name, (shape.clone(), values));
    }
    let extra: Vec<String> = st
        .names()
        .into_iter()
        .filter(|n| !out.tensors.contains_key(*n))
        .map(String::from)
        .collect();
    if !extra.is_empty() {
        return Err(LoadError::Unexpected(extra));
    }
    Ok(out)
}
