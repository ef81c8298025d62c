//! Every way a weights file can be wrong is refused with its own error and a sentence on what
//! to do; and no bytes at all, however mangled, make the checks panic (a bounded fuzz run).

use std::collections::HashMap;

use layout::weights::{check_weights, parse_manifest, sha256_hex, LoadError, Manifest};
use proptest::prelude::*;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

const MANIFEST: &str = include_str!("../../public/weights/manifest.json");
const WEIGHTS: &[u8] = include_bytes!("../../public/weights/student.safetensors");

fn manifest() -> Manifest {
    parse_manifest(MANIFEST, "manifest.json").expect("the shipped manifest parses")
}

/// The shipped tensors as (name, dtype, shape, bytes), for rebuilding variants.
fn tensors() -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
    let st = SafeTensors::deserialize(WEIGHTS).unwrap();
    let mut out: Vec<_> = st
        .tensors()
        .into_iter()
        .map(|(name, v)| (name, v.dtype(), v.shape().to_vec(), v.data().to_vec()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn serialize(tensors: &[(String, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            (
                name.clone(),
                TensorView::new(*dtype, shape.clone(), data).unwrap(),
            )
        })
        .collect::<Vec<_>>();
    safetensors::tensor::serialize(views, None::<HashMap<String, String>>).unwrap()
}

/// Checks `bytes` against a manifest that vouches for them (right length and sha256), so the
/// check under test is the one past the checksum.
fn vouched(bytes: &[u8]) -> Result<layout::weights::Weights, LoadError> {
    let m = Manifest {
        bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
        ..manifest()
    };
    check_weights(&m, bytes)
}

fn refused(bytes: &[u8]) -> LoadError {
    let e = vouched(bytes).err().expect("these weights must be refused");
    assert!(!e.advice().is_empty());
    e
}

#[test]
fn the_shipped_weights_pass_every_check() {
    let w = check_weights(&manifest(), WEIGHTS).unwrap();
    assert_eq!(w.tensors.len(), tensors().len());
}

#[test]
fn a_file_that_is_not_safetensors_is_refused() {
    let html = b"<!doctype html><title>Not found</title>".to_vec();
    let e = refused(&html);
    assert!(matches!(e, LoadError::Safetensors { .. }), "{e}");
    assert!(
        e.to_string().contains("not a readable safetensors file"),
        "{e}"
    );
    // A header length that points past the end of the file.
    let mut magic = WEIGHTS.to_vec();
    magic[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(refused(&magic), LoadError::Safetensors { .. }));
}

#[test]
fn a_missing_tensor_is_named() {
    let mut t = tensors();
    let gone = t.remove(3).0;
    let e = refused(&serialize(&t));
    assert_eq!(e, LoadError::Missing { name: gone.clone() });
    assert!(e.to_string().contains(&gone), "{e}");
}

#[test]
fn a_mis_shaped_tensor_is_named_with_both_shapes() {
    let mut t = tensors();
    let i = t.iter().position(|x| x.2.len() == 2).unwrap();
    let (rows, cols) = (t[i].2[0], t[i].2[1]);
    t[i].2 = vec![cols, rows];
    match refused(&serialize(&t)) {
        LoadError::Shape {
            name,
            found,
            expected,
        } => {
            assert_eq!(name, t[i].0);
            assert_eq!((found, expected), (vec![cols, rows], vec![rows, cols]));
        }
        e => panic!("expected a shape error, got {e}"),
    }
}

#[test]
fn an_unexpected_dtype_is_named() {
    let mut t = tensors();
    let i = 0;
    let halves = t[i].3.len() / 2;
    t[i].1 = Dtype::F16;
    t[i].3.truncate(halves);
    let e = refused(&serialize(&t));
    assert!(
        matches!(&e, LoadError::Dtype { name, found } if *name == t[i].0 && found == "F16"),
        "{e}"
    );
}

#[test]
fn nan_or_infinity_anywhere_is_refused_with_where_it_is() {
    for (value, index) in [
        (f32::NAN, 5usize),
        (f32::INFINITY, 0),
        (f32::NEG_INFINITY, 7),
    ] {
        let mut t = tensors();
        let last = t.len() - 1;
        t[last].3[index * 4..index * 4 + 4].copy_from_slice(&value.to_le_bytes());
        match refused(&serialize(&t)) {
            LoadError::NonFinite {
                name, index: at, ..
            } => {
                assert_eq!((name, at), (t[last].0.clone(), index));
            }
            e => panic!("expected a non-finite error, got {e}"),
        }
    }
}

#[test]
fn an_extra_tensor_is_refused() {
    let mut t = tensors();
    t.push(("stray.weight".into(), Dtype::F32, vec![1], vec![0; 4]));
    assert_eq!(
        refused(&serialize(&t)),
        LoadError::Unexpected(vec!["stray.weight".into()])
    );
}

#[test]
fn a_manifest_for_another_model_or_format_is_refused() {
    let e = parse_manifest("not json", "m.json").unwrap_err();
    assert!(
        e.to_string().starts_with("manifest m.json is not valid"),
        "{e}"
    );
    let other = MANIFEST.replace("\"world-model-weights\"", "\"something-else\"");
    let e = parse_manifest(&other, "m.json").unwrap_err();
    assert!(e.to_string().contains("something-else"), "{e}");
    let newer = Manifest {
        model_version: manifest().model_version + 1,
        ..manifest()
    };
    let e = check_weights(&newer, WEIGHTS).unwrap_err();
    assert!(matches!(e, LoadError::Version { .. }), "{e}");
    assert!(e.advice().contains("Export"), "{}", e.advice());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes at all, vouched for by the manifest: refused with a reason, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert!(vouched(&bytes).is_err());
    }

    /// The real file with a few bytes changed (the header included): loads or is refused,
    /// never a panic, and a change in the header is never accepted silently as other tensors.
    #[test]
    fn mutated_weights_never_panic(
        edits in proptest::collection::vec((0usize..2048, any::<u8>()), 1..8),
        cut in proptest::option::of(0usize..WEIGHTS.len()),
    ) {
        let mut bytes = WEIGHTS.to_vec();
        for (at, value) in edits {
            bytes[at] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut);
        }
        if let Ok(w) = vouched(&bytes) {
            prop_assert_eq!(w.tensors.len(), tensors().len());
        }
    }

    /// Mangled manifest text: parsed or refused, never a panic.
    #[test]
    fn mutated_manifests_never_panic(
        at in 0usize..MANIFEST.len(),
        len in 0usize..64,
        insert in "\\PC{0,16}",
    ) {
        let mut text = MANIFEST.as_bytes()[..at].to_vec();
        text.extend(insert.as_bytes());
        text.extend(&MANIFEST.as_bytes()[(at + len).min(MANIFEST.len())..]);
        let text = String::from_utf8_lossy(&text);
        if let Ok(m) = parse_manifest(&text, "manifest.json") {
            let _ = check_weights(&m, WEIGHTS);
        }
    }
}
