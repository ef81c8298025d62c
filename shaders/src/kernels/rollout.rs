//! Records `rollout.wgsl`, the planner's fused rollouts, and builds what it reads: the planning
//! weights re-laid as uniform buffers (uploaded once per [`Gpu`]) and the generated
//! matrix-vector functions for this model's sizes.

use layout::weights::Weights;
use wgpu::util::DeviceExt;

use crate::gpu::{pad_columns, Gpu, GpuError, GpuIds, GpuMat};
use crate::kernels::{vec4_element, Kernel};

/// The planning tensors both fused rollout kernels read, rows padded to whole vec4s: the
/// sizes `z` (state latent), `h` (dynamics hidden), `c` (cost hidden), the biases and small
/// tables named by their offset constants, and the six matrices dyn_z, dyn_hidden, dyn_out and
/// cost_in's three row blocks (for z, for the goal, for z * goal).
pub(crate) struct PlanningTensors {
    pub z: usize,
    pub h: usize,
    pub c: usize,
    pub small: [(&'static str, Vec<f32>); 7],
    pub matrices: [Vec<f32>; 6],
}

impl PlanningTensors {
    /// `None` when a planning tensor is missing.
    pub fn of(w: &Weights) -> Option<PlanningTensors> {
        let t = |name: &str| w.tensors.get(name).map(|(shape, v)| (shape.clone(), v));
        let (dz_shape, dz) = t("dyn_z.weight")?;
        let (z, h) = (dz_shape[0], dz_shape[1]);
        let (ci_shape, ci) = t("cost_in.weight")?;
        let c = ci_shape[1];
        Some(PlanningTensors {
            z,
            h,
            c,
            small: [
                ("O_DZB", pad_columns(&[1, h], t("dyn_z.bias")?.1)),
                ("O_DAW", pad_columns(&[9, h], t("dyn_a.weight")?.1)),
                ("O_DHB", pad_columns(&[1, h], t("dyn_hidden.bias")?.1)),
                ("O_DOB", pad_columns(&[1, z], t("dyn_out.bias")?.1)),
                ("O_CIB", pad_columns(&[1, c], t("cost_in.bias")?.1)),
                ("O_COW", pad_columns(&[1, c], t("cost_out.weight")?.1)),
                ("O_COB", pad_columns(&[1, 1], t("cost_out.bias")?.1)),
            ],
            matrices: [
                pad_columns(&[z, h], dz),
                pad_columns(&[h, h], t("dyn_hidden.weight")?.1),
                pad_columns(&[h, z], t("dyn_out.weight")?.1),
                pad_columns(&[z, c], &ci[..z * c]),
                pad_columns(&[z, c], &ci[z * c..2 * z * c]),
                pad_columns(&[z, c], &ci[2 * z * c..3 * z * c]),
            ],
        })
    }
}

/// WGSL constants for the sizes and their vec4 counts.
pub(crate) fn size_constants(z: usize, h: usize, c: usize) -> String {
    let (z4, h4, c4) = (z.div_ceil(4), h.div_ceil(4), c.div_ceil(4));
    format!(
        "const Z: u32 = {z}u;\nconst Z4: u32 = {z4}u;\nconst H: u32 = {h}u;\nconst H4: u32 = {h4}u;\nconst C: u32 = {c}u;\nconst C4: u32 = {c4}u;\n"
    )
}

/// The planning weights as the fused kernel binds them (bindings 5 to 11), and the WGSL that
/// describes them.
pub struct RolloutWeights {
    buffers: Vec<wgpu::Buffer>,
    header: String,
}

/// `fn name(x: array<vec4<f32>, K4>, j: u32) -> vec4<f32>`: output vec4 `j` of `x W` for
/// `W = buffer [k, stride]` (vec4s), the `k` inputs unrolled.
fn matvec(name: &str, buffer: &str, k: usize, stride: &str) -> String {
    let mut s = format!(
        "fn {name}(x: array<vec4<f32>, {}>, j: u32) -> vec4<f32> {{\n    var s = vec4<f32>(0.0);\n",
        k.div_ceil(4)
    );
    for r in 0..k {
        s += &format!(
            "    s += x{} * {buffer}[{r}u * {stride} + j];\n",
            vec4_element(r)
        );
    }
    s + "    return s;\n}\n"
}

impl RolloutWeights {
    /// Builds the buffers from the loaded weights, or `None` when one of them is larger than a
    /// uniform binding may be on this device (the caller then composes layer kernels).
    pub fn new(device: &wgpu::Device, limits: &wgpu::Limits, w: &Weights) -> Option<Self> {
        let PlanningTensors {
            z,
            h,
            c,
            small: small_parts,
            matrices,
        } = PlanningTensors::of(w)?;
        let mut small = Vec::new();
        let mut header = size_constants(z, h, c);
        for (constant, values) in small_parts {
            header += &format!("const {constant}: u32 = {}u;\n", small.len() / 4);
            small.extend(values);
        }
        header += &format!("const SMALL: u32 = {}u;\n", small.len() / 4);
        header += &matvec("mv_dz", "w_dz", z, "H4");
        header += &matvec("mv_dh", "w_dh", h, "H4");
        header += &matvec("mv_do", "w_do", h, "Z4");
        header += &matvec("mv_cz", "w_cz", z, "C4");
        header += &matvec("mv_cg", "w_cg", z, "C4");
        header += &matvec("mv_czg", "w_czg", z, "C4");
        let limit = limits.max_uniform_buffer_binding_size;
        let mut buffers = Vec::new();
        for values in std::iter::once(&small).chain(&matrices) {
            if (values.len() * 4) as u64 > limit {
                return None;
            }
            buffers.push(
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("planning weights"),
                    contents: bytemuck::cast_slice(values),
                    usage: wgpu::BufferUsages::UNIFORM,
                }),
            );
        }
        Some(RolloutWeights { buffers, header })
    }
}

/// The fused rollouts of `rollout.wgsl` for [`crate::Exec::rollout_cost`] on the GPU.
pub fn record(
    g: &mut Gpu,
    weights: &RolloutWeights,
    z0: &GpuMat,
    goal: &GpuMat,
    actions: &GpuIds,
    n: usize,
    horizon: usize,
) -> Result<GpuMat, GpuError> {
    let cost = cost_output(g, actions, n, horizon)?;
    let mut bound: Vec<&wgpu::Buffer> =
        vec![&z0.buffer, &goal.buffer, &actions.buffer, &cost.buffer];
    bound.extend(weights.buffers.iter());
    let groups = n.div_ceil(64);
    g.dispatch_with(
        Kernel::Rollout,
        &weights.header,
        &[n as u32, horizon as u32],
        &bound,
        [groups.min(65535) as u32, groups.div_ceil(65535) as u32, 1],
    );
    Ok(cost)
}

/// The `[n]` cost output of a fused rollout, after checking there is one action per candidate
/// and step.
pub(crate) fn cost_output(
    g: &mut Gpu,
    actions: &GpuIds,
    n: usize,
    horizon: usize,
) -> Result<GpuMat, GpuError> {
    assert_eq!(
        actions.len,
        n * horizon,
        "rollout_cost: {} actions for {n} x {horizon}",
        actions.len
    );
    g.output("rollout cost", n, 1)
}
