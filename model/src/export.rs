//! Exported weights: a safetensors file plus a JSON manifest, the only thing the playground
//! loads. Tensor names are the model's field paths (`blocks.0.q.weight`); linear weights are
//! `[in, out]` (y = x W + b), embeddings `[rows, d]`, all f32 little-endian.
//!
//! Loading checks, in order: the manifest parses, its format and model version are this
//! build's, the config is valid, the vocabulary fingerprint matches, the weights file's length
//! and sha256 match the manifest, and every tensor the architecture needs is present with its
//! shape and nothing else is. Each failure names what is wrong.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ModelConfig, MODEL_VERSION};
use crate::metrics::write_atomic;
use crate::net::WorldModel;

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
}

/// Every parameter of a model as (name, shape, values), in visiting order.
pub fn named_tensors(model: &WorldModel) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    struct Collect {
        path: Vec<String>,
        out: Vec<(String, Vec<usize>, Vec<f32>)>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let data = param.val().to_data();
            let shape = data.shape().to_vec();
            let values = data.try_into_vec_as::<f32>().expect("f32 parameters");
            self.out.push((self.path.join("."), shape, values));
        }
    }
    let mut c = Collect {
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut c);
    c.out
}

/// Replaces every parameter of `model` with the tensor of the same name.
fn set_tensors(
    model: WorldModel,
    tensors: &BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    device: &Device,
) -> WorldModel {
    struct Load<'a> {
        path: Vec<String>,
        tensors: &'a BTreeMap<String, (Vec<usize>, Vec<f32>)>,
        device: Device,
    }
    impl ModuleMapper for Load<'_> {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let name = self.path.join(".");
            let (shape, values) = self
                .tensors
                .get(&name)
                .unwrap_or_else(|| panic!("checked before: {name}"));
            let t = Tensor::<D>::from_data(
                TensorData::new(values.clone(), shape.clone()),
                &self.device,
            );
            param.map(|_| t)
        }
    }
    model.map(&mut Load {
        path: Vec::new(),
        tensors,
        device: device.clone(),
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn vocabulary() -> Vocabulary {
    use world::language::vocab::{vocab_fingerprint, word};
    let words = (0..world::language::vocab::vocab_size() as u16)
        .map(|i| word(i).expect("in range").to_string())
        .collect();
    Vocabulary {
        words,
        fingerprint: format!("{:016x}", vocab_fingerprint()),
    }
}

/// The safetensors bytes of a model.
pub fn to_safetensors(model: &WorldModel) -> Vec<u8> {
    let named = named_tensors(model);
    let views: Vec<(String, TensorView<'_>)> = named
        .iter()
        .map(|(name, shape, values)| {
            let bytes: &[u8] = bytemuck_f32(values);
            (
                name.clone(),
                TensorView::new(Dtype::F32, shape.clone(), bytes).expect("consistent shape"),
            )
        })
        .collect();
    safetensors::tensor::serialize(views, None).expect("serialisable")
}

fn bytemuck_f32(values: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding or invalid bit patterns; the slice covers exactly the values.
    // Safetensors stores little-endian, which is every target this project builds for.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr() as *const u8, std::mem::size_of_val(values))
    }
}

/// Writes `dir/student.safetensors` and `dir/manifest.json` (each atomically).
pub fn export(
    model: &WorldModel,
    config: &ModelConfig,
    dir: &Path,
    provenance: BTreeMap<String, serde_json::Value>,
) -> Result<Manifest, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let bytes = to_safetensors(model);
    let tensors = named_tensors(model)
        .into_iter()
        .map(|(name, shape, _)| TensorEntry {
            name,
            shape,
            dtype: "F32".into(),
        })
        .collect();
    let manifest = Manifest {
        format: FORMAT.into(),
        model_version: MODEL_VERSION,
        config: config.clone(),
        vocabulary: vocabulary(),
        weights_file: WEIGHTS_FILE.into(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
        parameters: model.param_count(),
        tensors,
        flops_per_transition: config.flops_per_transition(),
        flops_per_dream_frame: config.flops_per_dream_frame(),
        provenance,
        eval: serde_json::Value::Null,
    };
    write_atomic(&dir.join(WEIGHTS_FILE), &bytes)
        .map_err(|e| format!("cannot write weights: {e}"))?;
    write_manifest(dir, &manifest)?;
    Ok(manifest)
}

pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| e.to_string())?;
    write_atomic(&dir.join(MANIFEST_FILE), &json).map_err(|e| format!("cannot write manifest: {e}"))
}

pub fn read_manifest(dir: &Path) -> Result<Manifest, LoadError> {
    let path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| LoadError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| LoadError::Manifest {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    if manifest.format != FORMAT {
        return Err(LoadError::Manifest {
            path: path.display().to_string(),
            reason: format!("format is \"{}\", not \"{FORMAT}\"", manifest.format),
        });
    }
    Ok(manifest)
}

/// Checks a manifest and weights bytes against this build's architecture; returns the tensors.
pub fn check_weights(
    manifest: &Manifest,
    bytes: &[u8],
) -> Result<BTreeMap<String, (Vec<usize>, Vec<f32>)>, LoadError> {
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
    let st = SafeTensors::deserialize(bytes).map_err(|e| LoadError::Safetensors {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    // The architecture's own list, from a freshly built model of the manifest's config.
    let reference = WorldModel::new(&manifest.config, &Device::flex());
    let mut out = BTreeMap::new();
    for (name, shape, _) in named_tensors(&reference) {
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
                expected: shape,
            });
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        out.insert(name, (shape, values));
    }
    let extra: Vec<String> = st
        .names()
        .into_iter()
        .filter(|n| !out.contains_key(*n))
        .map(String::from)
        .collect();
    if !extra.is_empty() {
        return Err(LoadError::Unexpected(extra));
    }
    Ok(out)
}

/// Loads exported weights from `dir` onto `device`, checking everything first.
pub fn load(dir: &Path, device: &Device) -> Result<(WorldModel, Manifest), LoadError> {
    let manifest = read_manifest(dir)?;
    let path = dir.join(&manifest.weights_file);
    let bytes = std::fs::read(&path).map_err(|e| LoadError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let tensors = check_weights(&manifest, &bytes)?;
    let model = set_tensors(WorldModel::new(&manifest.config, device), &tensors, device);
    Ok((model, manifest))
}

/// `git rev-parse HEAD`, with `-dirty` when the tree has changes; "unknown" outside git.
pub fn git_revision() -> String {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(o) => {
            let rev = String::from_utf8_lossy(&o.stdout).trim().to_string();
            let dirty = run(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|o| !o.stdout.is_empty());
            if dirty {
                format!("{rev}-dirty")
            } else {
                rev
            }
        }
        None => "unknown".into(),
    }
}

/// Parameters of a model built from `config`, without training it.
pub fn parameter_count(config: &ModelConfig) -> usize {
    WorldModel::new(config, &Device::flex()).num_params()
}
