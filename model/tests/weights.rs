//! Exported weights: exact round trip, clear refusals of damaged or foreign files, and the
//! committed student still loads and reproduces its committed numbers.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::Device;
use model::config::{ModelConfig, MODEL_VERSION};
use model::export::{self, LoadError, Manifest};
use model::net::WorldModel;

fn exported(dir: &Path) -> (WorldModel, Manifest) {
    let device = Device::flex();
    let c = ModelConfig::tiny();
    let model = WorldModel::new(&c, &device);
    let manifest = export::export(&model, &c, dir, BTreeMap::new()).unwrap();
    (model, manifest)
}

#[test]
fn export_then_load_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (model, manifest) = exported(dir.path());
    let (loaded, m2) = export::load(dir.path(), &Device::flex()).unwrap();
    assert_eq!(manifest, m2);
    let a = export::named_tensors(&model);
    let b = export::named_tensors(&loaded);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.0, y.0);
        assert_eq!(x.1, y.1);
        assert!(
            x.2.iter()
                .zip(&y.2)
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{} changed",
            x.0
        );
    }
    assert_eq!(manifest.tensors.len(), a.len());
    assert!(
        manifest
            .tensors
            .iter()
            .any(|t| t.name == "blocks.0.q.weight"),
        "{:?}",
        manifest.tensors.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
}

fn load_err(dir: &Path) -> LoadError {
    export::load(dir, &Device::flex())
        .err()
        .expect("load must fail")
}

#[test]
fn damaged_or_foreign_weights_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (_, manifest) = exported(dir.path());
    let weights = dir.path().join(export::WEIGHTS_FILE);
    let bytes = std::fs::read(&weights).unwrap();

    // Truncated.
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let e = load_err(dir.path());
    assert!(matches!(e, LoadError::Length { .. }), "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");

    // Same length, one byte changed.
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x40;
    std::fs::write(&weights, &flipped).unwrap();
    assert!(matches!(load_err(dir.path()), LoadError::Checksum { .. }));
    std::fs::write(&weights, &bytes).unwrap();

    // Mis-shaped: the manifest describes a wider model than the file holds.
    let wider = Manifest {
        config: ModelConfig {
            d_model: 64,
            ..manifest.config.clone()
        },
        ..manifest.clone()
    };
    export::write_manifest(dir.path(), &wider).unwrap();
    let e = load_err(dir.path());
    assert!(matches!(e, LoadError::Shape { .. }), "{e}");
    assert!(e.to_string().contains("shape"), "{e}");

    // Wrong version.
    let old = Manifest {
        model_version: MODEL_VERSION + 1,
        ..manifest.clone()
    };
    export::write_manifest(dir.path(), &old).unwrap();
    let e = load_err(dir.path());
    assert!(matches!(e, LoadError::Version { .. }), "{e}");
    assert!(e.to_string().contains("re-export"), "{e}");

    // Another vocabulary.
    let mut vocab = manifest.clone();
    vocab.vocabulary.fingerprint = "0000000000000000".into();
    export::write_manifest(dir.path(), &vocab).unwrap();
    assert!(matches!(load_err(dir.path()), LoadError::Vocabulary { .. }));

    // Not a manifest at all.
    std::fs::write(dir.path().join(export::MANIFEST_FILE), "{\"format\": 3}").unwrap();
    let e = load_err(dir.path());
    assert!(matches!(e, LoadError::Manifest { .. }), "{e}");

    // Nothing there.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(load_err(empty.path()), LoadError::Io { .. }));
}

fn committed() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/weights")
}

#[test]
fn committed_student_fits_the_browser_budget() {
    let (model, m) = export::load(&committed(), &Device::flex())
        .unwrap_or_else(|e| panic!("committed weights: {e}"));
    assert!(
        m.bytes <= 4 * 1024 * 1024,
        "student weights are {} bytes",
        m.bytes
    );
    assert_eq!(m.parameters, model.param_count());
    let teacher = m
        .provenance
        .get("teacher_parameters")
        .and_then(|v| v.as_u64())
        .expect("teacher size recorded");
    assert!(
        m.parameters as u64 * 4 <= teacher,
        "student {} is more than a quarter of teacher {teacher}",
        m.parameters
    );
    assert!(m.flops_per_transition <= 1_500_000);
}

#[test]
fn committed_student_reproduces_its_committed_subset_numbers() {
    let device = Device::flex();
    let (model, m) = export::load(&committed(), &device).unwrap();
    let expected: model::eval::Report = serde_json::from_value(m.eval["subset"].clone())
        .expect("manifest holds the subset evaluation");
    let got = model::eval::evaluate(
        "student-subset",
        &model,
        &m.config,
        &model::eval::EvalSize::subset(),
        &[],
        false,
        &device,
    )
    .unwrap();
    for (h, (a, b)) in got
        .generation
        .psnr
        .iter()
        .zip(&expected.generation.psnr)
        .enumerate()
    {
        assert!(
            (a - b).abs() < 0.05,
            "PSNR at h={} is {a:.3}, committed {b:.3}",
            h + 1
        );
    }
    assert!((got.generation.tokenizer_psnr - expected.generation.tokenizer_psnr).abs() < 0.05);
    let (a, b) = (
        got.understanding.overall.correct as i64,
        expected.understanding.overall.correct as i64,
    );
    assert!((a - b).abs() <= 1, "QA correct {a}, committed {b}");
    assert_eq!(
        got.understanding.overall.total,
        expected.understanding.overall.total
    );
    // The tokenizer's round trip is bounded: the decoded frames stay close to the truth.
    assert!(
        got.generation.tokenizer_psnr > 24.0,
        "tokenizer round trip PSNR {:.2}",
        got.generation.tokenizer_psnr
    );
}
