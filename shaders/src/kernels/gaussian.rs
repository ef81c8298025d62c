//! Records `gaussian.wgsl`, as [`crate::cpu::gaussian`].

use layout::config::{LOGVAR_MAX, LOGVAR_MIN};

use crate::gpu::{groups_1d, Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

pub fn record(
    g: &mut Gpu,
    out: &GpuMat,
    base: Option<&GpuMat>,
) -> Result<(GpuMat, GpuMat), GpuError> {
    let l = out.cols / 2;
    if let Some(b) = base {
        assert_eq!((b.rows, b.cols), (out.rows, l), "gaussian: base shape");
    }
    let mean = g.output("mean", out.rows, l)?;
    let logvar = g.output("logvar", out.rows, l)?;
    let base_buffer = base.map_or(&out.buffer, |b| &b.buffer).clone();
    let params = [
        out.rows as u32,
        l as u32,
        base.is_some() as u32,
        LOGVAR_MIN.to_bits(),
        LOGVAR_MAX.to_bits(),
    ];
    g.dispatch(
        Kernel::Gaussian,
        &params,
        &[&out.buffer, &base_buffer, &mean.buffer, &logvar.buffer],
        groups_1d(out.rows * l),
    );
    Ok((mean, logvar))
}
