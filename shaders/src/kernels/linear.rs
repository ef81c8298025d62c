//! Records `linear.wgsl`: `act(x W + b + add)`, as [`crate::cpu::linear`]. Weights are on the
//! device with rows padded to a multiple of 4 columns ([`crate::gpu::padded_cols`]).

use crate::exec::Act;
use crate::gpu::{Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

pub fn record(
    g: &mut Gpu,
    x: &GpuMat,
    layer: &str,
    act: Act,
    add: Option<&GpuMat>,
) -> Result<GpuMat, GpuError> {
    let (shape, w) = g.param(&format!("{layer}.weight"));
    let (k, n) = (shape[0], shape[1]);
    assert_eq!(
        x.cols, k,
        "{layer}: input has {} columns, weight is [{k}, {n}]",
        x.cols
    );
    let w = w.clone();
    let b = g.param(&format!("{layer}.bias")).1.clone();
    let y = g.output(layer, x.rows, n)?;
    if let Some(a) = add {
        assert_eq!((a.rows, a.cols), (x.rows, n), "{layer}: addend shape");
    }
    // Without an addend, x stands in for it (bound, never read).
    let addend = add.map_or(&x.buffer, |a| &a.buffer).clone();
    let params = [
        x.rows as u32,
        k as u32,
        n as u32,
        act.code(),
        add.is_some() as u32,
    ];
    g.dispatch(
        Kernel::Linear,
        &params,
        &[&x.buffer, &w, &b, &addend, &y.buffer],
        {
            // 16 x 16 invocations of 4 x 4 outputs: 64 rows by 64 columns per workgroup.
            let ry = x.rows.div_ceil(64);
            [
                n.div_ceil(64) as u32,
                ry.min(65535) as u32,
                ry.div_ceil(65535) as u32,
            ]
        },
    );
    Ok(y)
}
