//! The `world` command line: generate a small dataset, check it, refuse to overwrite it, and
//! report a corrupt shard with its file and offset.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

fn world(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_world"))
        .args(args)
        .output()
        .expect("run world");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn gen_then_check_then_refuse_to_overwrite_then_catch_corruption() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("data");
    let out_s = out.to_str().expect("utf-8 path");
    let (ok, text) = world(&[
        "gen",
        "--seed",
        "3",
        "--episodes",
        "6",
        "--steps",
        "10",
        "--shard-episodes",
        "4",
        "--out",
        out_s,
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("wrote 6 episodes (66 frames)"), "{text}");

    let (ok, text) = world(&["check", out_s]);
    assert!(ok, "{text}");
    assert!(
        text.contains("6 episodes, 66 frames, all chunks verified"),
        "{text}"
    );

    let (ok, text) = world(&["gen", "--seed", "4", "--episodes", "2", "--out", out_s]);
    assert!(!ok && text.contains("already holds a dataset"), "{text}");

    // Same seed, other thread count: same bytes.
    let again = dir.path().join("again");
    let (ok, text) = world(&[
        "gen",
        "--seed",
        "3",
        "--episodes",
        "6",
        "--steps",
        "10",
        "--shard-episodes",
        "4",
        "--jobs",
        "1",
        "--out",
        again.to_str().expect("utf-8"),
    ]);
    assert!(ok, "{text}");
    for f in ["manifest.json", "shard-00000.wmds", "shard-00001.wmds"] {
        assert_eq!(
            std::fs::read(out.join(f)).ok(),
            std::fs::read(again.join(f)).ok(),
            "{f}"
        );
    }

    let shard = out.join("shard-00001.wmds");
    let mut bytes = std::fs::read(&shard).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&shard, bytes).expect("write");
    let (ok, text) = world(&["check", out_s]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("shard-00001.wmds") && text.contains("checksum"),
        "{text}"
    );
}

#[test]
fn a_bad_frame_size_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("data");
    let (ok, text) = world(&[
        "gen",
        "--episodes",
        "1",
        "--size",
        "4",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        !ok && text.contains("frame size 4x4 is not allowed"),
        "{text}"
    );
    assert!(!out.exists());
}
