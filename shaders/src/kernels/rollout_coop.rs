//! Records `rollout_coop.wgsl`, the planner's rollouts with one workgroup per candidate (for
//! GPUs; [`crate::kernels::rollout`] is the variant for CPU-emulated adapters), and builds
//! what it reads: every planning weight in one storage buffer, and the generated
//! matrix-vector products for this model's sizes.

use layout::weights::Weights;
use wgpu::util::DeviceExt;

use crate::gpu::{Gpu, GpuError, GpuIds, GpuMat};
use crate::kernels::rollout::{size_constants, PlanningTensors};
use crate::kernels::Kernel;

/// The planning weights as the cooperative kernel binds them (binding 5), and the WGSL that
/// describes them.
pub struct CoopWeights {
    buffer: wgpu::Buffer,
    header: String,
}

/// `fn name(j: u32) -> vec4<f32>`: output vec4 `j` of `x W`, `x` a workgroup array of `k`
/// floats, `W` at vec4 offset `offset` of `w` with `stride` vec4s a row.
fn matvec(name: &str, x: &str, k: usize, offset: &str, stride: &str) -> String {
    format!(
        "fn {name}(j: u32) -> vec4<f32> {{\n    var s = vec4<f32>(0.0);\n    for (var k = 0u; k < {k}u; k++) {{\n        s += {x}[k] * w[{offset} + k * {stride} + j];\n    }}\n    return s;\n}}\n"
    )
}

impl CoopWeights {
    /// Builds the buffer from the loaded weights, or `None` when a planning tensor is missing
    /// or the buffer is larger than a storage binding may be on this device.
    pub fn new(device: &wgpu::Device, limits: &wgpu::Limits, w: &Weights) -> Option<Self> {
        let PlanningTensors {
            z,
            h,
            c,
            small,
            matrices,
        } = PlanningTensors::of(w)?;
        if [z, h, c].iter().any(|n| n.div_ceil(4) > 64) {
            return None; // one output vec4 per invocation of a 64-wide workgroup
        }
        let names = ["O_DZ", "O_DH", "O_DO", "O_CZ", "O_CG", "O_CZG"];
        let mut all = Vec::new();
        let mut header = size_constants(z, h, c);
        for (constant, values) in small.into_iter().chain(names.into_iter().zip(matrices)) {
            header += &format!("const {constant}: u32 = {}u;\n", all.len() / 4);
            all.extend(values);
        }
        if (all.len() * 4) as u64 > limits.max_storage_buffer_binding_size as u64 {
            return None;
        }
        header += &matvec("mv_dz", "z", z, "O_DZ", "H4");
        header += &matvec("mv_dh", "h1", h, "O_DH", "H4");
        header += &matvec("mv_do", "h2", h, "O_DO", "Z4");
        header += &matvec("mv_cz", "z", z, "O_CZ", "C4");
        header += &matvec("mv_cg", "g", z, "O_CG", "C4");
        header += &matvec("mv_czg", "zg", z, "O_CZG", "C4");
        let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("planning weights, one buffer"),
            contents: bytemuck::cast_slice(&all),
            usage: wgpu::BufferUsages::STORAGE,
        });
        Some(CoopWeights { buffer, header })
    }
}

/// The rollouts of `rollout_coop.wgsl` for [`crate::Exec::rollout_cost`] on the GPU.
pub fn record(
    g: &mut Gpu,
    weights: &CoopWeights,
    z0: &GpuMat,
    goal: &GpuMat,
    actions: &GpuIds,
    n: usize,
    horizon: usize,
) -> Result<GpuMat, GpuError> {
    let cost = super::rollout::cost_output(g, actions, n, horizon)?;
    let bound: Vec<&wgpu::Buffer> = vec![
        &z0.buffer,
        &goal.buffer,
        &actions.buffer,
        &cost.buffer,
        &weights.buffer,
    ];
    g.dispatch_with(
        Kernel::RolloutCoop,
        &weights.header,
        &[n as u32, horizon as u32],
        &bound,
        [n.min(65535) as u32, n.div_ceil(65535) as u32, 1],
    );
    Ok(cost)
}
