//! Records `layer_norm.wgsl`, as [`crate::cpu::layer_norm`].

use layout::config::LAYER_NORM_EPS;

use crate::gpu::{Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

/// Workgroups for one workgroup per row, spread over x and y (65535 each at most).
pub fn row_groups(rows: usize) -> [u32; 3] {
    let rows = rows.max(1);
    [rows.min(65535) as u32, rows.div_ceil(65535) as u32, 1]
}

pub fn record(g: &mut Gpu, x: &GpuMat, norm: &str) -> Result<GpuMat, GpuError> {
    let gamma = g.param(&format!("{norm}.gamma")).1.clone();
    let beta = g.param(&format!("{norm}.beta")).1.clone();
    let y = g.output(norm, x.rows, x.cols)?;
    let params = [x.rows as u32, x.cols as u32, LAYER_NORM_EPS.to_bits()];
    g.dispatch(
        Kernel::LayerNorm,
        &params,
        &[&x.buffer, &gamma, &beta, &y.buffer],
        row_groups(x.rows),
    );
    Ok(y)
}
