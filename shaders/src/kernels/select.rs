//! Records `select.wgsl`, as [`crate::cpu::select`].

use crate::gpu::{groups_1d, Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

pub fn record(
    g: &mut Gpu,
    x: &GpuMat,
    batch: usize,
    start: usize,
    len: usize,
) -> Result<GpuMat, GpuError> {
    let n = x.rows / batch;
    assert!(
        start + len <= n,
        "select: tokens {start}..{} of {n}",
        start + len
    );
    let out = g.output("select", batch * len, x.cols)?;
    let params = [
        batch as u32,
        n as u32,
        start as u32,
        len as u32,
        x.cols as u32,
    ];
    g.dispatch(
        Kernel::Select,
        &params,
        &[&x.buffer, &out.buffer],
        groups_1d(batch * len * x.cols),
    );
    Ok(out)
}
