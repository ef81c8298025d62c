//! Records `linear.wgsl`: `act(x W + b + add)`, as [`crate::cpu::linear`]. Weights are on the
//! device with rows padded to a multiple of 4 columns ([`crate::gpu::padded_cols`]).

use crate::exec::Act;
use crate::gpu::{Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

/// Declares binding 2 of `linear.wgsl` for a weight buffer of `bytes`: uniform when it fits the
/// device's uniform bindings, storage otherwise.
pub fn header(bytes: u64, uniform_limit: u64) -> String {
    if bytes <= uniform_limit {
        format!(
            "@group(0) @binding(2) var<uniform> w: array<vec4<f32>, {}>;\n",
            bytes / 16
        )
    } else {
        "@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;\n".to_string()
    }
}

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
    let header = header(w.size(), g.ctx.limits.max_uniform_buffer_binding_size);
    g.dispatch_with(
        Kernel::Linear,
        &header,
        &params,
        &[&x.buffer, &w, &b, &addend, &y.buffer],
        {
            // 8 x 8 invocations of 4 x 4 outputs: 32 rows by 32 columns per workgroup (small
            // enough that a single frame's layers spread over several workgroups).
            let ry = x.rows.div_ceil(32);
            [
                n.div_ceil(32) as u32,
                ry.min(65535) as u32,
                ry.div_ceil(65535) as u32,
            ]
        },
    );
    Ok(y)
}
