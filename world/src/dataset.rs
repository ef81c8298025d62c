//! The on-disk dataset: a folder with `manifest.json` and shards of checksummed chunks, one
//! episode per chunk. Compact (frames are XOR-delta coded and LZ4 compressed), deterministic
//! (the same seed gives the same bytes), and read back with a clear error naming the file and
//! byte offset of any truncated or corrupt chunk. The layout is documented in docs/DATASET.md.
//!
//! Chunk layout (little-endian):
//! ```text
//! offset  size  field
//! 0       4     magic "WMC1"
//! 4       4     payload length in bytes (at most MAX_PAYLOAD)
//! 8       4     CRC-32 (IEEE) of the payload
//! 12      n     payload: postcard-encoded EpisodeRecord
//! ```

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::episode::{Episode, EpisodeConfig};
use crate::events::Event;
use crate::language::qa::QuestionAnswer;
use crate::language::vocab::vocab_fingerprint;
use crate::scene::Scene;
use crate::sim::WorldState;

pub const CHUNK_MAGIC: [u8; 4] = *b"WMC1";
pub const CHUNK_HEADER: usize = 12;
/// Largest payload a chunk may claim; a larger length means a corrupt header.
pub const MAX_PAYLOAD: u32 = 256 << 20;
pub const FORMAT: &str = "world-model-dataset";
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";

/// One episode as stored: frames compressed, everything else as is.
#[derive(Serialize, Deserialize)]
struct EpisodeRecord {
    seed: u64,
    scene: Scene,
    actions: Vec<u8>,
    width: u32,
    height: u32,
    frame_count: u32,
    /// LZ4 block (size-prepended) of the frames, each XORed with the frame before it.
    frames_lz4: Vec<u8>,
    states: Vec<WorldState>,
    events: Vec<Event>,
    caption: String,
    prompt: String,
    questions: Vec<QuestionAnswer>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub file: String,
    pub episodes: u32,
    pub bytes: u64,
}

/// `manifest.json`: what the folder holds and how it was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    pub seed: u64,
    pub episodes: u64,
    pub config: EpisodeConfig,
    /// Fingerprint of the vocabulary the text was written with (as hex).
    pub vocab_fingerprint: String,
    pub shards: Vec<ShardInfo>,
}

/// Everything that can go wrong reading or writing a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: chunk at byte {offset} is truncated: it needs {needed} bytes but the file has {available} left")]
    Truncated {
        path: PathBuf,
        offset: u64,
        needed: u64,
        available: u64,
    },
    #[error("{path}: no chunk starts at byte {offset} (found bytes {found:02x?}, expected \"WMC1\"): the file is corrupt or not a dataset shard")]
    BadMagic {
        path: PathBuf,
        offset: u64,
        found: [u8; 4],
    },
    #[error("{path}: chunk at byte {offset} claims {length} bytes, more than the {MAX_PAYLOAD} a chunk may hold: the header is corrupt")]
    BadLength {
        path: PathBuf,
        offset: u64,
        length: u32,
    },
    #[error(
        "{path}: chunk at byte {offset} is corrupt: checksum {found:08x}, expected {expected:08x}"
    )]
    Checksum {
        path: PathBuf,
        offset: u64,
        expected: u32,
        found: u32,
    },
    #[error("{path}: chunk at byte {offset} does not decode: {reason}")]
    Decode {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("{0} already holds a dataset: choose another folder or pass --force to replace it")]
    Exists(PathBuf),
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn xor_delta(frames: &[u8], frame_len: usize) -> Vec<u8> {
    let mut out = frames.to_vec();
    for i in (frame_len..out.len()).rev() {
        out[i] ^= frames[i - frame_len];
    }
    out
}

fn undo_xor_delta(data: &mut [u8], frame_len: usize) {
    for i in frame_len..data.len() {
        data[i] ^= data[i - frame_len];
    }
}

/// Encodes an episode as one chunk (header + payload).
pub fn encode_chunk(e: &Episode) -> Vec<u8> {
    let frame_len = (e.width * e.height * 3) as usize;
    let record = EpisodeRecord {
        seed: e.seed,
        scene: e.scene.clone(),
        actions: e.actions.clone(),
        width: e.width,
        height: e.height,
        frame_count: e.frame_count() as u32,
        frames_lz4: lz4_flex::compress_prepend_size(&xor_delta(&e.frames, frame_len)),
        states: e.states.clone(),
        events: e.events.clone(),
        caption: e.caption.clone(),
        prompt: e.prompt.clone(),
        questions: e.questions.clone(),
    };
    // Serialising plain data to a Vec cannot fail.
    let payload = postcard::to_stdvec(&record).unwrap_or_default();
    let mut out = Vec::with_capacity(CHUNK_HEADER + payload.len());
    out.extend_from_slice(&CHUNK_MAGIC);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

fn decode_payload(payload: &[u8], path: &Path, offset: u64) -> Result<Episode, DatasetError> {
    let fail = |reason: String| DatasetError::Decode {
        path: path.to_path_buf(),
        offset,
        reason,
    };
    let r: EpisodeRecord = postcard::from_bytes(payload).map_err(|e| fail(e.to_string()))?;
    let frame_len = r.width as usize * r.height as usize * 3;
    let mut frames = lz4_flex::decompress_size_prepended(&r.frames_lz4)
        .map_err(|e| fail(format!("frames: {e}")))?;
    if frames.len() != frame_len * r.frame_count as usize
        || r.states.len() != r.frame_count as usize
    {
        return Err(fail(format!(
            "{} frame bytes and {} states for {} frames of {}x{}",
            frames.len(),
            r.states.len(),
            r.frame_count,
            r.width,
            r.height
        )));
    }
    if r.actions.len() + 1 != r.frame_count as usize {
        return Err(fail(format!(
            "{} actions for {} frames",
            r.actions.len(),
            r.frame_count
        )));
    }
    undo_xor_delta(&mut frames, frame_len);
    Ok(Episode {
        seed: r.seed,
        scene: r.scene,
        actions: r.actions,
        width: r.width,
        height: r.height,
        frames,
        states: r.states,
        events: r.events,
        caption: r.caption,
        prompt: r.prompt,
        questions: r.questions,
    })
}

/// Reads the episodes of one shard in order, checking every chunk.
pub struct ShardReader {
    path: PathBuf,
    file: BufReader<File>,
    offset: u64,
    len: u64,
}

impl ShardReader {
    pub fn open(path: &Path) -> Result<ShardReader, DatasetError> {
        let file = File::open(path).map_err(io(path))?;
        let len = file.metadata().map_err(io(path))?.len();
        // A shard is written whole, never empty: an empty file is a cut one.
        if len == 0 {
            return Err(DatasetError::Truncated {
                path: path.to_path_buf(),
                offset: 0,
                needed: CHUNK_HEADER as u64,
                available: 0,
            });
        }
        Ok(ShardReader {
            path: path.to_path_buf(),
            file: BufReader::new(file),
            offset: 0,
            len,
        })
    }

    /// The next episode, `None` at a clean end of file, or an error naming the byte offset.
    pub fn next_episode(&mut self) -> Option<Result<Episode, DatasetError>> {
        if self.offset == self.len {
            return None;
        }
        Some(self.read_chunk())
    }

    fn read_chunk(&mut self) -> Result<Episode, DatasetError> {
        let (path, offset) = (self.path.clone(), self.offset);
        let available = self.len - offset;
        let truncated = |needed: u64| DatasetError::Truncated {
            path: path.clone(),
            offset,
            needed,
            available,
        };
        if available < CHUNK_HEADER as u64 {
            self.offset = self.len;
            return Err(truncated(CHUNK_HEADER as u64));
        }
        let mut header = [0u8; CHUNK_HEADER];
        self.file.read_exact(&mut header).map_err(io(&path))?;
        let magic: [u8; 4] = [header[0], header[1], header[2], header[3]];
        let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let expected = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        // After a bad header nothing further can be trusted: stop reading this shard.
        self.offset = self.len;
        if magic != CHUNK_MAGIC {
            return Err(DatasetError::BadMagic {
                path,
                offset,
                found: magic,
            });
        }
        if length > MAX_PAYLOAD {
            return Err(DatasetError::BadLength {
                path,
                offset,
                length,
            });
        }
        let needed = CHUNK_HEADER as u64 + length as u64;
        if needed > available {
            return Err(truncated(needed));
        }
        let mut payload = vec![0u8; length as usize];
        self.file.read_exact(&mut payload).map_err(io(&path))?;
        let found = crc32fast::hash(&payload);
        if found != expected {
            return Err(DatasetError::Checksum {
                path,
                offset,
                expected,
                found,
            });
        }
        self.offset = offset + needed;
        decode_payload(&payload, &path, offset)
    }
}

impl Iterator for ShardReader {
    type Item = Result<Episode, DatasetError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_episode()
    }
}

/// Name of shard `index`.
pub fn shard_name(index: usize) -> String {
    format!("shard-{index:05}.wmds")
}

/// Writes the manifest atomically (temporary file, then rename).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = BufWriter::new(File::create(&tmp).map_err(io(&tmp))?);
        f.write_all(bytes).map_err(io(&tmp))?;
        f.into_inner()
            .map_err(|e| io(&tmp)(e.into_error()))?
            .sync_all()
            .map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))
}

/// Writes a dataset folder shard by shard. Each shard appears only once complete (written to
/// a temporary name, then renamed); the manifest is written last.
pub struct DatasetWriter {
    dir: PathBuf,
    manifest: Manifest,
    episodes_per_shard: u32,
    current: Vec<u8>,
    current_count: u32,
}

impl DatasetWriter {
    /// Starts a dataset in `dir`. Refuses a folder that already holds one unless `force`.
    pub fn create(
        dir: &Path,
        seed: u64,
        config: EpisodeConfig,
        episodes_per_shard: u32,
        force: bool,
    ) -> Result<DatasetWriter, DatasetError> {
        if dir.join(MANIFEST).exists() && !force {
            return Err(DatasetError::Exists(dir.to_path_buf()));
        }
        fs::create_dir_all(dir).map_err(io(dir))?;
        if force {
            // Remove the old dataset's files so no stale shard survives beside the new ones.
            for entry in fs::read_dir(dir).map_err(io(dir))?.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if name == MANIFEST || (name.starts_with("shard-") && name.contains(".wmds")) {
                    fs::remove_file(entry.path()).map_err(io(&entry.path()))?;
                }
            }
        }
        Ok(DatasetWriter {
            dir: dir.to_path_buf(),
            manifest: Manifest {
                format: FORMAT.into(),
                version: FORMAT_VERSION,
                seed,
                episodes: 0,
                config,
                vocab_fingerprint: format!("{:016x}", vocab_fingerprint()),
                shards: Vec::new(),
            },
            episodes_per_shard: episodes_per_shard.max(1),
            current: Vec::new(),
            current_count: 0,
        })
    }

    pub fn push(&mut self, e: &Episode) -> Result<(), DatasetError> {
        self.current.extend_from_slice(&encode_chunk(e));
        self.current_count += 1;
        self.manifest.episodes += 1;
        if self.current_count == self.episodes_per_shard {
            self.flush_shard()?;
        }
        Ok(())
    }

    fn flush_shard(&mut self) -> Result<(), DatasetError> {
        if self.current_count == 0 {
            return Ok(());
        }
        let name = shard_name(self.manifest.shards.len());
        write_atomic(&self.dir.join(&name), &self.current)?;
        self.manifest.shards.push(ShardInfo {
            file: name,
            episodes: self.current_count,
            bytes: self.current.len() as u64,
        });
        self.current.clear();
        self.current_count = 0;
        Ok(())
    }

    /// Writes the last shard and the manifest; returns the manifest.
    pub fn finish(mut self) -> Result<Manifest, DatasetError> {
        self.flush_shard()?;
        let json = serde_json::to_vec_pretty(&self.manifest).unwrap_or_default();
        write_atomic(&self.dir.join(MANIFEST), &json)?;
        Ok(self.manifest)
    }
}

/// A dataset folder opened for reading.
pub struct Dataset {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Dataset {
    /// Opens `dir`, checking the manifest's format, version, vocabulary and shard sizes.
    pub fn open(dir: &Path) -> Result<Dataset, DatasetError> {
        let path = dir.join(MANIFEST);
        let bad = |reason: String| DatasetError::Manifest {
            path: path.clone(),
            reason,
        };
        let bytes = fs::read(&path).map_err(io(&path))?;
        let manifest: Manifest = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("not a dataset manifest: {e}")))?;
        if manifest.format != FORMAT || manifest.version != FORMAT_VERSION {
            return Err(bad(format!(
                "format {} v{}; this build reads {FORMAT} v{FORMAT_VERSION}: regenerate the dataset",
                manifest.format, manifest.version
            )));
        }
        let vocab = format!("{:016x}", vocab_fingerprint());
        if manifest.vocab_fingerprint != vocab {
            return Err(bad(format!(
                "text was written with vocabulary {}, this build has {vocab}: regenerate the dataset",
                manifest.vocab_fingerprint
            )));
        }
        for s in &manifest.shards {
            let p = dir.join(&s.file);
            let len = fs::metadata(&p).map_err(io(&p))?.len();
            if len != s.bytes {
                return Err(DatasetError::Truncated {
                    path: p,
                    offset: 0,
                    needed: s.bytes,
                    available: len,
                });
            }
        }
        Ok(Dataset {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// Every episode in order, each checked; stops at the first error.
    pub fn episodes(&self) -> impl Iterator<Item = Result<Episode, DatasetError>> + '_ {
        let mut shards = self.manifest.shards.iter();
        let mut reader: Option<ShardReader> = None;
        let mut failed = false;
        std::iter::from_fn(move || loop {
            if failed {
                return None;
            }
            if let Some(r) = reader.as_mut() {
                match r.next_episode() {
                    Some(Err(e)) => {
                        failed = true;
                        return Some(Err(e));
                    }
                    Some(ok) => return Some(ok),
                    None => reader = None,
                }
            }
            let shard = shards.next()?;
            match ShardReader::open(&self.dir.join(&shard.file)) {
                Ok(r) => reader = Some(r),
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            }
        })
    }
}
