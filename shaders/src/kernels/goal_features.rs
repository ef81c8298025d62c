//! Records `goal_features.wgsl`, as [`crate::cpu::goal_features`].

use crate::gpu::{groups_1d, Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;

pub fn record(g: &mut Gpu, z: &GpuMat, goal: &GpuMat) -> Result<GpuMat, GpuError> {
    assert_eq!(z.cols, goal.cols, "goal_features: z and g widths differ");
    let out = g.output("goal_features", z.rows, 3 * z.cols)?;
    let params = [z.rows as u32, z.cols as u32, goal.rows as u32];
    g.dispatch(
        Kernel::GoalFeatures,
        &params,
        &[&z.buffer, &goal.buffer, &out.buffer],
        groups_1d(z.rows * z.cols),
    );
    Ok(out)
}
