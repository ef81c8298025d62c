//! Training checkpoints: one file holding the run state, the model and the optimizer, written
//! atomically (temporary file, fsync, rename), so a crash or kill at any moment leaves either
//! the previous checkpoint or the new one, never a torn file.
//!
//! Layout: `WMCK`, u32 format version, u32 json length, run-state JSON, u64 model length,
//! burnpack model record, u64 optimizer length, optimizer record, CRC-32 of all before it.
//! Integers are little-endian.

use std::path::Path;

use burn::module::Module;
use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::store::ModuleRecord;
use burn::tensor::Bytes;

use crate::metrics::write_atomic;
use crate::train::RunState;

pub const FILE: &str = "checkpoint.bin";
const MAGIC: &[u8; 4] = b"WMCK";
const FORMAT: u32 = 1;

pub struct Checkpoint {
    pub state: RunState,
    pub model: ModuleRecord,
    pub optimizer: OptimizerRecord,
}

impl Checkpoint {
    pub fn save<M: Module>(
        path: &Path,
        state: &RunState,
        model: M,
        optim: &ModuleOptimizer,
    ) -> Result<(), String> {
        let json = serde_json::to_vec(state).map_err(|e| format!("run state: {e}"))?;
        let model = model
            .into_record()
            .into_bytes()
            .map_err(|e| format!("model record: {e:?}"))?;
        let optim = optim
            .to_record()
            .into_bytes()
            .map_err(|e| format!("optimizer record: {e:?}"))?;
        let mut out = Vec::with_capacity(json.len() + model.len() + optim.len() + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        out.extend_from_slice(&(model.len() as u64).to_le_bytes());
        out.extend_from_slice(&model);
        out.extend_from_slice(&(optim.len() as u64).to_le_bytes());
        out.extend_from_slice(&optim);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        write_atomic(path, &out)
            .map_err(|e| format!("cannot write checkpoint {}: {e}", path.display()))
    }

    pub fn load(path: &Path) -> Result<Checkpoint, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read checkpoint {}: {e}", path.display()))?;
        let bad = |what: &str| format!("checkpoint {} is damaged: {what}", path.display());
        if bytes.len() < 12 + 4 || &bytes[..4] != MAGIC {
            return Err(bad("it does not start with WMCK"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(bad("checksum mismatch (truncated or overwritten)"));
        }
        let format = u32::from_le_bytes(body[4..8].try_into().expect("4 bytes"));
        if format != FORMAT {
            return Err(format!(
                "checkpoint {} has format {format}; this build reads {FORMAT}",
                path.display()
            ));
        }
        let mut at = 8;
        let mut take = |len: usize| -> Result<&[u8], String> {
            let part = body
                .get(at..at + len)
                .ok_or_else(|| bad("a section runs past the end"))?;
            at += len;
            Ok(part)
        };
        let json_len = u32::from_le_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let state: RunState =
            serde_json::from_slice(take(json_len)?).map_err(|e| bad(&format!("run state: {e}")))?;
        let model_len = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes")) as usize;
        let model = ModuleRecord::from_bytes(Bytes::from_bytes_vec(take(model_len)?.to_vec()))
            .map_err(|e| bad(&format!("model: {e:?}")))?;
        let optim_len = u64::from_le_bytes(take(8)?.try_into().expect("8 bytes")) as usize;
        let optimizer =
            OptimizerRecord::from_bytes(Bytes::from_bytes_vec(take(optim_len)?.to_vec()))
                .map_err(|e| bad(&format!("optimizer: {e:?}")))?;
        Ok(Checkpoint {
            state,
            model,
            optimizer,
        })
    }
}
