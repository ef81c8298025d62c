//! The dataset format: round trip, deterministic bytes, and clear errors for truncated or
//! corrupt chunks, naming the file and byte offset.
#![cfg(not(target_arch = "wasm32"))]

use std::fs;

use world::dataset::{encode_chunk, Dataset, DatasetError, DatasetWriter, ShardReader, MANIFEST};
use world::episode::{generate_episode, Episode, EpisodeConfig};
use world::scene::derive_seed;

fn small_config() -> EpisodeConfig {
    EpisodeConfig {
        steps: 12,
        ..EpisodeConfig::default()
    }
}

fn write(dir: &std::path::Path, seed: u64, episodes: u64, per_shard: u32) -> Vec<Episode> {
    let config = small_config();
    let mut w = DatasetWriter::create(dir, seed, config, per_shard, false).expect("create");
    let eps: Vec<Episode> = (0..episodes)
        .map(|i| generate_episode(derive_seed(seed, i), &config).expect("episode"))
        .collect();
    for e in &eps {
        w.push(e).expect("push");
    }
    w.finish().expect("finish");
    eps
}

#[test]
fn episodes_read_back_exactly_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = write(dir.path(), 7, 5, 2);
    let ds = Dataset::open(dir.path()).expect("open");
    assert_eq!(ds.manifest.episodes, 5);
    assert_eq!(ds.manifest.shards.len(), 3);
    let read: Vec<Episode> = ds.episodes().map(|e| e.expect("episode")).collect();
    assert_eq!(read, written);
    // Frames are stored compressed: far smaller than raw RGB.
    let bytes: u64 = ds.manifest.shards.iter().map(|s| s.bytes).sum();
    let raw: usize = written.iter().map(|e| e.frames.len()).sum();
    assert!(
        (bytes as usize) < raw / 5,
        "{bytes} bytes on disk for {raw} bytes of frames"
    );
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let (a, b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    write(a.path(), 3, 4, 3);
    write(b.path(), 3, 4, 3);
    for name in [MANIFEST, "shard-00000.wmds", "shard-00001.wmds"] {
        assert_eq!(
            fs::read(a.path().join(name)).ok(),
            fs::read(b.path().join(name)).ok(),
            "{name} differs"
        );
    }
    let c = tempfile::tempdir().expect("c");
    write(c.path(), 4, 4, 3);
    assert_ne!(
        fs::read(a.path().join("shard-00000.wmds")).ok(),
        fs::read(c.path().join("shard-00000.wmds")).ok()
    );
}

fn shard_with_two_chunks() -> (tempfile::TempDir, std::path::PathBuf, usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = small_config();
    let (e0, e1) = (
        generate_episode(1, &config).expect("e0"),
        generate_episode(2, &config).expect("e1"),
    );
    let first = encode_chunk(&e0);
    let mut bytes = first.clone();
    bytes.extend(encode_chunk(&e1));
    let path = dir.path().join("shard-00000.wmds");
    fs::write(&path, &bytes).expect("write");
    (dir, path, first.len())
}

#[test]
fn a_truncated_chunk_is_rejected_with_its_offset() {
    let (_dir, path, first_len) = shard_with_two_chunks();
    let len = fs::metadata(&path).expect("meta").len();
    let f = fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    f.set_len(len - 100).expect("truncate");
    let mut r = ShardReader::open(&path).expect("open");
    assert!(
        r.next().expect("first").is_ok(),
        "the intact first chunk still reads"
    );
    match r.next() {
        Some(Err(DatasetError::Truncated {
            offset, available, ..
        })) => {
            assert_eq!(offset, first_len as u64);
            assert_eq!(available, len - 100 - first_len as u64);
        }
        other => panic!("expected a truncation error, got {other:?}"),
    }
    assert!(r.next().is_none(), "nothing is read past a bad chunk");
    let msg = {
        let mut r = ShardReader::open(&path).expect("open");
        r.next();
        r.next().expect("err").unwrap_err().to_string()
    };
    assert!(
        msg.contains("shard-00000.wmds")
            && msg.contains(&format!("byte {first_len}"))
            && msg.contains("truncated"),
        "{msg}"
    );
}

#[test]
fn a_flipped_byte_fails_the_checksum() {
    let (_dir, path, first_len) = shard_with_two_chunks();
    let mut bytes = fs::read(&path).expect("read");
    bytes[first_len + 40] ^= 0x10;
    fs::write(&path, &bytes).expect("write");
    let mut r = ShardReader::open(&path).expect("open");
    assert!(r.next().expect("first").is_ok());
    assert!(
        matches!(r.next(), Some(Err(DatasetError::Checksum { offset, .. })) if offset == first_len as u64)
    );
}

#[test]
fn garbage_and_bad_headers_are_named() {
    let (_dir, path, first_len) = shard_with_two_chunks();
    let mut bytes = fs::read(&path).expect("read");
    bytes[first_len] = b'X';
    fs::write(&path, &bytes).expect("write");
    let mut r = ShardReader::open(&path).expect("open");
    r.next();
    assert!(
        matches!(r.next(), Some(Err(DatasetError::BadMagic { offset, .. })) if offset == first_len as u64)
    );

    bytes[first_len] = b'W';
    bytes[first_len + 4..first_len + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&path, &bytes).expect("write");
    let mut r = ShardReader::open(&path).expect("open");
    r.next();
    assert!(matches!(
        r.next(),
        Some(Err(DatasetError::BadLength { .. }))
    ));

    fs::write(&path, b"WMC").expect("write");
    let mut r = ShardReader::open(&path).expect("open");
    assert!(matches!(
        r.next(),
        Some(Err(DatasetError::Truncated {
            offset: 0,
            needed: 12,
            available: 3,
            ..
        }))
    ));
}

#[test]
fn a_shard_shorter_than_the_manifest_says_is_caught_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), 5, 3, 2);
    let shard = dir.path().join("shard-00001.wmds");
    let len = fs::metadata(&shard).expect("meta").len();
    fs::OpenOptions::new()
        .write(true)
        .open(&shard)
        .expect("open")
        .set_len(len / 2)
        .expect("cut");
    let err = Dataset::open(dir.path())
        .err()
        .expect("must fail")
        .to_string();
    assert!(
        err.contains("shard-00001.wmds") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn an_existing_dataset_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), 5, 3, 2);
    let before = fs::read(dir.path().join("shard-00000.wmds")).expect("read");
    assert!(matches!(
        DatasetWriter::create(dir.path(), 6, small_config(), 2, false),
        Err(DatasetError::Exists(_))
    ));
    assert_eq!(
        fs::read(dir.path().join("shard-00000.wmds")).expect("read"),
        before,
        "nothing was touched"
    );
    // With force, old shards go: a 1-episode dataset leaves no stale second shard behind.
    let mut w = DatasetWriter::create(dir.path(), 6, small_config(), 2, true).expect("force");
    w.push(&generate_episode(9, &small_config()).expect("e"))
        .expect("push");
    w.finish().expect("finish");
    assert!(!dir.path().join("shard-00001.wmds").exists());
    assert_eq!(
        Dataset::open(dir.path()).expect("open").episodes().count(),
        1
    );
}

#[test]
fn a_manifest_from_another_format_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), 5, 1, 2);
    let path = dir.path().join(MANIFEST);
    let text = fs::read_to_string(&path)
        .expect("read")
        .replace("\"version\": 1", "\"version\": 99");
    fs::write(&path, text).expect("write");
    let err = Dataset::open(dir.path())
        .err()
        .expect("must fail")
        .to_string();
    assert!(err.contains("v99") && err.contains("regenerate"), "{err}");
    fs::write(&path, "{ not json").expect("write");
    assert!(Dataset::open(dir.path())
        .err()
        .expect("must fail")
        .to_string()
        .contains("not a dataset manifest"));
}
