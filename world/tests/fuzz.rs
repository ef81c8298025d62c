//! Bounded fuzzing (proptest) of everything in the world crate that reads outside input: the
//! dataset chunk reader, the scene-prompt parser and the question parser. Whatever the bytes
//! or the text, each returns a value or an error that names the problem (and, for a shard,
//! the file and byte offset); none panics, loops, or answers slowly. proptest keeps any
//! failing case in `tests/fuzz.proptest-regressions`, which is committed, so it is re-run first.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use world::dataset::{encode_chunk, DatasetError, ShardReader};
use world::episode::{generate_episode, Episode, EpisodeConfig};
use world::language::prompt::ScenePrompt;
use world::language::question::Question;
use world::language::vocab::WORDS;

/// Two real chunks, the first a short episode.
fn shard() -> &'static [u8] {
    static SHARD: OnceLock<Vec<u8>> = OnceLock::new();
    SHARD.get_or_init(|| originals().iter().flat_map(encode_chunk).collect())
}

/// The two episodes of [`shard`], as generated.
fn originals() -> &'static [Episode] {
    static EPISODES: OnceLock<Vec<Episode>> = OnceLock::new();
    EPISODES.get_or_init(|| {
        let config = EpisodeConfig {
            steps: 6,
            ..EpisodeConfig::default()
        };
        (1..=2)
            .map(|seed| generate_episode(seed, &config).unwrap())
            .collect()
    })
}

/// Reads every chunk of `bytes` as a shard file; the episodes read, or the error.
fn read_all(bytes: &[u8]) -> Result<Vec<Episode>, DatasetError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shard-00000.wmds");
    fs::write(&path, bytes).unwrap();
    ShardReader::open(&path)?.collect()
}

/// A shard error names the file and, but for I/O, the byte offset.
fn names_file_and_offset(e: &DatasetError) -> bool {
    let text = e.to_string();
    text.contains("shard-00000.wmds")
        && (text.contains("at byte") || matches!(e, DatasetError::Io { .. }))
}

/// Sentences of the world's own words, in any order (most are not grammatical), with some
/// other text mixed in.
fn near_sentences() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        4 => proptest::sample::select(WORDS.to_vec()).prop_map(String::from),
        1 => "\\PC{1,12}",
    ];
    proptest::collection::vec(word, 0..30).prop_map(|w| w.join(" "))
}

/// Parses `text` with both parsers, checking each error message is short and specific.
fn parse_both(text: &str) -> Result<(), TestCaseError> {
    let started = Instant::now();
    if let Err(e) = Question::parse(text) {
        let m = e.to_string();
        prop_assert!(
            !m.is_empty() && m.len() < 700,
            "question message of {} bytes: {m}",
            m.len()
        );
    }
    if let Err(e) = ScenePrompt::parse(text) {
        let m = e.to_string();
        prop_assert!(
            !m.is_empty() && m.len() < 700,
            "prompt message of {} bytes: {m}",
            m.len()
        );
    }
    prop_assert!(
        started.elapsed() < Duration::from_secs(2),
        "parsing took {:?}",
        started.elapsed()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_a_shard_are_read_or_refused_with_the_offset(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        if let Err(e) = read_all(&bytes) {
            prop_assert!(names_file_and_offset(&e), "{e}");
        }
    }

    #[test]
    fn a_damaged_shard_is_refused_with_the_offset_never_read_wrong(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut bytes = shard().to_vec();
        let mut changed = false;
        for (at, value) in edits {
            let at = at.index(bytes.len());
            changed |= bytes[at] != value;
            bytes[at] = value;
        }
        if let Some(cut) = cut {
            let cut = cut.index(bytes.len());
            changed |= cut < bytes.len();
            bytes.truncate(cut);
        }
        match read_all(&bytes) {
            // The checksum lets no damaged episode through: what reads is the episodes written,
            // all of them when nothing changed. (A cut exactly between two chunks leaves a
            // shorter shard that is whole; the manifest's byte count is what catches that.)
            Ok(episodes) => {
                prop_assert!(episodes.len() == 2 || changed, "an unchanged shard lost episodes");
                prop_assert!(
                    episodes.iter().zip(originals()).all(|(read, written)| read == written),
                    "an episode read differs from the one written"
                );
            }
            Err(e) => prop_assert!(names_file_and_offset(&e), "{e}"),
        }
    }

    #[test]
    fn any_text_is_parsed_or_explained(text in "\\PC{0,200}") {
        parse_both(&text)?;
    }

    #[test]
    fn word_salad_is_parsed_or_explained(text in near_sentences()) {
        parse_both(&text)?;
    }
}

#[test]
fn empty_and_very_long_input_get_messages_naming_the_problem() {
    for empty in ["", "   ", "\n\t"] {
        assert!(Question::parse(empty)
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(ScenePrompt::parse(empty)
            .unwrap_err()
            .to_string()
            .contains("empty"));
    }
    let long = "the red ball ".repeat(20_000);
    let e = Question::parse(&long).unwrap_err().to_string();
    assert!(e.contains("60000 words") && e.contains("at most"), "{e}");
    let e = ScenePrompt::parse(&long).unwrap_err().to_string();
    assert!(e.contains("60000 words") && e.contains("at most"), "{e}");
    // A pasted essay of unknown words: a few are named, the rest counted.
    let essay: String = (0..50_000).map(|i| format!("zq{i} ")).collect();
    let e = Question::parse(&essay).unwrap_err().to_string();
    assert!(e.contains("\"zq0\"") && e.contains("and 49995 more"), "{e}");
    assert!(e.len() < 400, "{} bytes", e.len());
    // One enormous word is quoted in part.
    let e = ScenePrompt::parse(&"x".repeat(1_000_000))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("xxxxxxxx…\"") && e.len() < 400,
        "{} bytes",
        e.len()
    );
}
