//! What can go wrong on the GPU path, as the API reports it. Defined outside [`crate::gpu`]
//! so that a build without the `gpu` feature (training, `eval`) speaks the same errors.

/// Why the GPU path cannot run.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum GpuError {
    #[error("no GPU adapter was granted (WebGPU unavailable or disabled): using the CPU path")]
    NoAdapter,
    #[error("the GPU refused a device: {0}")]
    Device(String),
    #[error("the GPU device was lost ({0}): rebuild the runtime to continue")]
    Lost(String),
    #[error("the GPU reported an error: {0}")]
    Validation(String),
    #[error("reading results back from the GPU failed: {0}")]
    Readback(String),
    #[error("{what} needs {bytes} bytes in one buffer, over this GPU's limit of {limit}: use a smaller batch")]
    TooLarge {
        what: String,
        bytes: u64,
        limit: u64,
    },
}
