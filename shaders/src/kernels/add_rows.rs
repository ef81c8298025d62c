//! Records `add_rows.wgsl`, as [`crate::cpu::add_rows`].

use crate::gpu::{groups_1d, Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

pub fn record(g: &mut Gpu, x: &GpuMat, y: &GpuMat) -> Result<GpuMat, GpuError> {
    assert_eq!(
        x.cols, y.cols,
        "add_rows: {} and {} columns",
        x.cols, y.cols
    );
    assert!(
        y.rows > 0 && x.rows % y.rows == 0,
        "add_rows: {} rows do not repeat into {}",
        y.rows,
        x.rows
    );
    let out = g.output("add_rows", x.rows, x.cols)?;
    let len = x.rows * x.cols;
    g.dispatch(
        Kernel::AddRows,
        &[len as u32, (y.rows * y.cols) as u32],
        &[&x.buffer, &y.buffer, &out.buffer],
        groups_1d(len),
    );
    Ok(out)
}
