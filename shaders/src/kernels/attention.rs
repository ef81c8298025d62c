//! Records `attention.wgsl`, as [`crate::cpu::attention`].

use crate::gpu::{groups_1d, Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

/// The widest head the kernel's accumulator holds.
pub const MAX_HEAD: usize = 64;

pub fn record(
    g: &mut Gpu,
    q: &GpuMat,
    k: &GpuMat,
    v: &GpuMat,
    batch: usize,
    heads: usize,
    mask: &GpuMat,
) -> Result<GpuMat, GpuError> {
    let (rows, d) = (q.rows, q.cols);
    let n = rows / batch;
    let dh = d / heads;
    assert!(
        dh <= MAX_HEAD,
        "attention: head width {dh} is over the kernel's {MAX_HEAD}"
    );
    assert_eq!(mask.cols, n, "attention: mask is not [.., {n}]");
    let mb = mask.rows / n;
    assert!(
        mb == 1 || mb == batch,
        "attention: mask covers {mb} sequences, not 1 or {batch}"
    );
    let out = g.output("attention", rows, d)?;
    let params = [
        batch as u32,
        n as u32,
        d as u32,
        heads as u32,
        mb as u32,
        (1.0 / (dh as f32).sqrt()).to_bits(),
    ];
    g.dispatch(
        Kernel::Attention,
        &params,
        &[&q.buffer, &k.buffer, &v.buffer, &mask.buffer, &out.buffer],
        groups_1d(batch * heads * n),
    );
    Ok(out)
}
