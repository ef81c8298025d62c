//! Records `gather.wgsl`, as [`crate::cpu::gather`].

use crate::gpu::{groups_1d, Gpu, GpuError, GpuIds, GpuMat};
use crate::kernels::Kernel;

pub fn record(g: &mut Gpu, table: &str, ids: &GpuIds) -> Result<GpuMat, GpuError> {
    let (shape, t) = g.param(&format!("{table}.weight"));
    let (rows, d) = (shape[0], shape[1]);
    let t = t.clone();
    let out = g.output(table, ids.len, d)?;
    g.dispatch(
        Kernel::Gather,
        &[
            ids.len as u32,
            d as u32,
            rows as u32,
            crate::gpu::padded_cols(d) as u32,
        ],
        &[&t, &ids.buffer, &out.buffer],
        groups_1d(ids.len * d),
    );
    Ok(out)
}
