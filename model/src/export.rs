//! Writing and reading the exported weights (safetensors + manifest) for a burn model. The
//! format, its names and shapes and every check a loader runs live in `layout::weights`, shared
//! with the browser runtime; this module only moves tensors between it and burn.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::tensor::{Dtype, TensorView};

use crate::config::{ModelConfig, MODEL_VERSION};
use crate::metrics::write_atomic;
use crate::net::WorldModel;

pub use layout::weights::{
    check_weights, sha256_hex, vocabulary, LoadError, Manifest, TensorEntry, Vocabulary, Weights,
    FORMAT, MANIFEST_FILE, WEIGHTS_FILE,
};

/// Every parameter of a model as (name, shape, values), in visiting order.
pub fn named_tensors(model: &WorldModel) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    module_tensors(model)
}

/// Every parameter of any module as (name, shape, values), named by field path, in visiting
/// order.
pub fn module_tensors<M: Module>(model: &M) -> Vec<(String, Vec<usize>, Vec<f32>)> {
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

/// The safetensors bytes of a model.
pub fn to_safetensors(model: &WorldModel) -> Vec<u8> {
    serialize(&named_tensors(model))
}

/// Safetensors bytes of named tensors.
pub fn serialize(named: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
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

/// A parameter in the runtime's layout ([`runtime::maps`]): a convolution's weight `[cout, cin,
/// kh, kw]` becomes `[kh * kw * cin, cout]` (row `(ky * kw + kx) * cin + ci`); anything else
/// is unchanged.
pub fn runtime_layout(shape: &[usize], values: &[f32]) -> (Vec<usize>, Vec<f32>) {
    if shape.len() != 4 {
        return (shape.to_vec(), values.to_vec());
    }
    let (cout, cin, taps) = (shape[0], shape[1], shape[2] * shape[3]);
    let mut out = vec![0f32; values.len()];
    for co in 0..cout {
        for ci in 0..cin {
            for t in 0..taps {
                out[(t * cin + ci) * cout + co] = values[(co * cin + ci) * taps + t];
            }
        }
    }
    (vec![taps * cin, cout], out)
}

/// A module's parameters in the runtime's layout, each name prefixed with `prefix.` (none when
/// empty).
pub fn runtime_tensors<M: Module>(model: &M, prefix: &str) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    module_tensors(model)
        .into_iter()
        .map(|(name, shape, values)| {
            let (shape, values) = runtime_layout(&shape, &values);
            let name = if prefix.is_empty() { name } else { format!("{prefix}.{name}") };
            (name, shape, values)
        })
        .collect()
}

/// The frame predictor as the runtime loads it ([`runtime::frame_net::FrameNet`]).
pub fn frame_net_safetensors(net: &crate::frame_net::FrameNet) -> Vec<u8> {
    serialize(&runtime_tensors(net, ""))
}

/// The reader, the dynamics ensemble, the goal net and the sentence reader (when given) as
/// the runtime loads them ([`runtime::state::StateNets`]).
pub fn state_safetensors(
    reader: &crate::state_net::Reader,
    ensemble: &[crate::state_net::Dynamics],
    goal: &crate::state_net::GoalNet,
    prompt: Option<&crate::prompt_net::PromptNet>,
) -> Vec<u8> {
    let mut all = runtime_tensors(reader, "reader");
    for (k, d) in ensemble.iter().enumerate() {
        all.extend(runtime_tensors(d, &format!("dynamics.{k}")));
    }
    all.extend(runtime_tensors(goal, "goal"));
    if let Some(p) = prompt {
        all.extend(runtime_tensors(p, "prompt"));
    }
    serialize(&all)
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
        nets: BTreeMap::new(),
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
    layout::weights::parse_manifest(&text, &path.display().to_string())
}

/// Loads exported weights from `dir` onto `device`, checking everything first.
pub fn load(dir: &Path, device: &Device) -> Result<(WorldModel, Manifest), LoadError> {
    let manifest = read_manifest(dir)?;
    let path = dir.join(&manifest.weights_file);
    let bytes = std::fs::read(&path).map_err(|e| LoadError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let weights = check_weights(&manifest, &bytes)?;
    let model = set_tensors(
        WorldModel::new(&manifest.config, device),
        &weights.tensors,
        device,
    );
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

/// Parameters of a model of `config`.
pub fn parameter_count(config: &ModelConfig) -> usize {
    layout::tensors::parameter_count(config)
}
