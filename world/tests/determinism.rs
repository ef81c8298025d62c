//! Same seed, same episode, bit for bit, on every platform: this test runs natively and in
//! headless Chromium (wasm32) against the same recorded fingerprints. A difference in the
//! `states` column means the physics diverged; in `frames`, the renderer; in `record`, the
//! actions, events or text. The `chunk` column (the encoded bytes) is checked on 64-bit
//! targets only: LZ4's match finder hashes differently where pointers are 32 bits wide, so
//! wasm32 compresses the same frames to other (equally valid) bytes.
//!
//! To re-record after an intended change: `RECORD_GOLDEN=1 cargo test -p world --test determinism`.

use world::dataset::encode_chunk;
use world::episode::{generate_episode, Episode, EpisodeConfig};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const GOLDEN: &str = include_str!("golden/determinism.txt");
const SEEDS: [u64; 4] = [0, 1, 2, 12345];

/// 64-bit FNV-1a.
fn fnv(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn state_bits(e: &Episode) -> Vec<u8> {
    let mut out = Vec::new();
    for s in &e.states {
        for b in std::iter::once(&s.agent).chain(&s.objects) {
            for v in b.position.iter().chain(&b.rotation).chain(&b.velocity) {
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
    }
    out
}

fn fingerprints() -> String {
    let config = EpisodeConfig::default();
    SEEDS
        .iter()
        .map(|&seed| {
            let e = generate_episode(seed, &config).expect("episode");
            let record = format!(
                "{:?} {:?} {:?} {} {} {:?}",
                e.scene, e.actions, e.events, e.caption, e.prompt, e.questions
            );
            let chunk = if cfg!(target_pointer_width = "64") {
                format!("{:016x}", fnv(encode_chunk(&e)))
            } else {
                "(64-bit only)".to_string()
            };
            format!(
                "seed {seed} states {:016x} frames {:016x} record {:016x} chunk {chunk}\n",
                fnv(state_bits(&e)),
                fnv(e.frames.iter().copied()),
                fnv(record.bytes()),
            )
        })
        .collect()
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn episodes_match_the_recorded_fingerprints() {
    let now = fingerprints();
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("RECORD_GOLDEN").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/determinism.txt");
        std::fs::write(path, &now).expect("write golden");
        return;
    }
    let comparable = |text: &str| -> String {
        if cfg!(target_pointer_width = "64") {
            text.to_string()
        } else {
            text.lines()
                .map(|l| l.split(" chunk ").next().unwrap_or(l).to_string() + "\n")
                .collect()
        }
    };
    assert_eq!(
        comparable(&now),
        comparable(GOLDEN),
        "episodes differ from the recorded ones (platform: {})",
        std::env::consts::ARCH
    );
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn the_same_seed_twice_in_one_process_is_identical() {
    let config = EpisodeConfig::default();
    let (a, b) = (
        generate_episode(77, &config).expect("a"),
        generate_episode(77, &config).expect("b"),
    );
    assert_eq!(encode_chunk(&a), encode_chunk(&b));
    assert_ne!(
        encode_chunk(&a),
        encode_chunk(&generate_episode(78, &config).expect("c"))
    );
}
