//! Records `assemble.wgsl` once per part, as [`crate::cpu::assemble`].

use crate::gpu::{groups_1d, Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

pub fn record(g: &mut Gpu, batch: usize, parts: &[(&GpuMat, bool)]) -> Result<GpuMat, GpuError> {
    let d = parts[0].0.cols;
    let sizes: Vec<usize> = parts
        .iter()
        .map(|(m, shared)| {
            assert_eq!(m.cols, d, "assemble: parts of {} and {d} columns", m.cols);
            if *shared {
                m.rows
            } else {
                m.rows / batch
            }
        })
        .collect();
    let total: usize = sizes.iter().sum();
    let out = g.output("assemble", batch * total, d)?;
    let mut offset = 0;
    for ((m, shared), n) in parts.iter().zip(sizes) {
        let params = [
            batch as u32,
            n as u32,
            total as u32,
            offset as u32,
            d as u32,
            *shared as u32,
        ];
        g.dispatch(
            Kernel::Assemble,
            &params,
            &[&m.buffer, &out.buffer],
            groups_1d(batch * n * d),
        );
        offset += n;
    }
    Ok(out)
}
