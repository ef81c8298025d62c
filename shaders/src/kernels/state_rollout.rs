//! Records `state_rollout.wgsl`, the planner's rollouts in the model's state, and builds what
//! it reads: the dynamics ensemble in one storage buffer (uploaded once, when the state nets
//! are attached) and the header that gives the kernel its sizes, offsets and the world's
//! constants.

use wgpu::util::DeviceExt;

use crate::frame_net::MOVES;
use crate::gpu::{groups_1d, pad_columns, Gpu, GpuError, GpuIds, GpuMat};
use crate::kernels::{vec4_element, Kernel};
use crate::state::{
    move_direction, Dynamics, CONTACT_BIAS, DYN_IN, DYN_OUT, GATE_AT, GATE_WIDTH, POS_SCALE,
    TARGET_VALUES,
};

/// The dynamics ensemble on the device, and the WGSL header that describes it.
pub struct EnsembleWeights {
    buffer: wgpu::Buffer,
    header: String,
    members: usize,
}

/// A WGSL `f32` constant.
fn constant(name: &str, v: f32) -> String {
    format!("const {name}: f32 = {v:?};\n")
}

/// `fn name(x: array<vec4<f32>, K4>, base: u32, j: u32) -> vec4<f32>`: output vec4 `j` of
/// `b + x W` for the member at `base`, `W` at `weights` (`[k, stride]` vec4s) and `b` at
/// `bias`, the `k` inputs unrolled and summed in order ([`crate::state::Dense::apply`]).
fn matvec(name: &str, k: usize, weights: &str, bias: &str, stride: &str) -> String {
    let mut s = format!(
        "fn {name}(x: array<vec4<f32>, {}>, base: u32, j: u32) -> vec4<f32> {{\n    var s = w[base + {bias} + j];\n",
        k.div_ceil(4)
    );
    for r in 0..k {
        s += &format!("    s += x{} * w[base + {weights} + {r}u * {stride} + j];\n", vec4_element(r));
    }
    s + "    return s;\n}\n"
}

impl EnsembleWeights {
    /// Lays every member out in vec4s, rows padded to whole vec4s: `l1.w, l1.b, l2.w, l2.b,
    /// l3.w, l3.b, free.w, free.b` (each weight `[inputs, outputs]` row-major, as
    /// [`crate::state::Dense`]), members one after another, then the moves' target velocities.
    pub fn new(device: &wgpu::Device, ensemble: &[Dynamics]) -> EnsembleWeights {
        let hidden = ensemble.first().map_or(4, |d| d.layers[0].out);
        assert!(hidden % 4 == 0, "the dynamics' hidden width {hidden} is not a multiple of 4");
        let mut values: Vec<f32> = Vec::new();
        let mut offsets = vec![0; 8];
        for (k, d) in ensemble.iter().enumerate() {
            assert!(
                d.layers[0].inp == DYN_IN
                    && d.layers[0].out == hidden
                    && (d.layers[1].inp, d.layers[1].out) == (hidden, hidden)
                    && (d.layers[2].inp, d.layers[2].out) == (hidden, DYN_OUT)
                    && (d.free.inp, d.free.out) == (4, 2),
                "dynamics member {k} has other sizes than member 0 ({DYN_IN} -> {hidden} -> {DYN_OUT})"
            );
            let start = values.len();
            for (l, layer) in d.layers.iter().chain([&d.free]).enumerate() {
                offsets[2 * l] = (values.len() - start) / 4;
                values.extend(pad_columns(&[layer.inp, layer.out], &layer.w));
                offsets[2 * l + 1] = (values.len() - start) / 4;
                values.extend(pad_columns(&[layer.out], &layer.b));
            }
        }
        let stride = values.len() / 4 / ensemble.len().max(1);
        let dirs = values.len() / 4;
        for mv in 0..MOVES {
            let [x, y] = move_direction(mv as u8);
            values.extend([x, y, 0.0, 0.0]);
        }
        let mut header = String::new();
        for (name, v) in [
            ("H4", hidden / 4),
            ("MEMBERS", ensemble.len()),
            ("MSTRIDE", stride),
            ("O_DIRS", dirs),
            ("MOVES", MOVES),
        ] {
            header += &format!("const {name}: u32 = {v}u;\n");
        }
        for (name, o) in ["O_L1W", "O_L1B", "O_L2W", "O_L2B", "O_L3W", "O_L3B", "O_FW", "O_FB"]
            .iter()
            .zip(&offsets)
        {
            header += &format!("const {name}: u32 = {o}u;\n");
        }
        for (name, v) in [
            ("ARENA", world::scene::ARENA),
            ("WALL", world::scene::WALL),
            ("AGENT_RADIUS", world::scene::AGENT_RADIUS),
            ("MOTION_SCALE", layout::slots::MOTION_SCALE),
            ("POS_SCALE", POS_SCALE),
            ("GATE_AT", GATE_AT),
            ("GATE_WIDTH", GATE_WIDTH),
            ("CONTACT_BIAS", CONTACT_BIAS),
            ("LOST_DISTANCE", world::task::LOST_DISTANCE),
            ("SUCCESS_BONUS", world::task::SUCCESS_BONUS),
            ("APPROACH_WEIGHT", world::task::APPROACH_WEIGHT),
        ] {
            header += &constant(name, v);
        }
        header += &matvec("mv_l1", DYN_IN, "O_L1W", "O_L1B", "H4");
        header += &matvec("mv_l2", hidden, "O_L2W", "O_L2B", "H4");
        header += &matvec("mv_l3", hidden, "O_L3W", "O_L3B", &format!("{}u", DYN_OUT.div_ceil(4)));
        let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dynamics ensemble"),
            contents: bytemuck::cast_slice(&values),
            usage: wgpu::BufferUsages::STORAGE,
        });
        EnsembleWeights {
            buffer,
            header,
            members: ensemble.len(),
        }
    }
}

/// The ensemble's mean cost `[n, 1]` of each of `n` candidates (`actions`, step-major
/// `[horizon * n]`) toward `task` (`[1, TARGET_VALUES]`, [`crate::state::Target::values`]).
pub fn record(
    g: &mut Gpu,
    weights: &EnsembleWeights,
    task: &GpuMat,
    actions: &GpuIds,
    n: usize,
    horizon: usize,
) -> Result<GpuMat, GpuError> {
    assert_eq!(task.rows * task.cols, TARGET_VALUES, "state rollout: the task has {} values", task.rows * task.cols);
    let cost = crate::kernels::rollout::cost_output(g, actions, n, horizon)?;
    let members = weights.members.max(1);
    let per_member = g.output("state rollout member costs", members, n)?;
    let groups = (n * members).div_ceil(64);
    g.dispatch_with(
        Kernel::StateRollout,
        &weights.header,
        &[n as u32, horizon as u32],
        &[&task.buffer, &actions.buffer, &per_member.buffer, &weights.buffer],
        [groups.min(65535) as u32, groups.div_ceil(65535) as u32, 1],
    );
    g.dispatch(
        Kernel::StateMean,
        &[n as u32, weights.members as u32],
        &[&per_member.buffer, &cost.buffer],
        groups_1d(n),
    );
    Ok(cost)
}
