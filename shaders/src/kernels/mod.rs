//! The WGSL kernels, one file each, with the Rust that records each one beside it. Every
//! kernel computes what the function of the same name in [`crate::cpu`] computes; the tests in
//! `tests/kernels.rs` hold them to it on random, awkwardly sized inputs.
//!
//! 1-D kernels run 256 invocations per workgroup and rebuild their index as
//! `gid.x + gid.y * 16776960` (65535 groups of 256 per row of the dispatch grid), see
//! [`crate::gpu::groups_1d`].

pub mod add_rows;
pub mod assemble;
pub mod attention;
pub mod cem;
pub mod gather;
pub mod gaussian;
pub mod goal_features;
pub mod layer_norm;
pub mod linear;
pub mod maps;
pub mod peak;
pub mod rollout;
pub mod rollout_coop;
pub mod select;
pub mod state_rollout;

/// Element `e` of an array of `vec4<f32>` in generated WGSL: `[e / 4].x`, `.y`, `.z` or `.w`.
pub(crate) fn vec4_element(e: usize) -> String {
    format!("[{}].{}", e / 4, ["x", "y", "z", "w"][e % 4])
}

/// A compiled-once compute kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    Linear,
    LayerNorm,
    Attention,
    Gather,
    AddRows,
    Assemble,
    Select,
    Gaussian,
    GoalFeatures,
    Sample,
    CemSample,
    CemElites,
    CemRefit,
    Rollout,
    RolloutCoop,
    Peak,
    Conv3,
    GroupNorm,
    AddMove,
    UpConcat,
    StateRollout,
    StateMean,
}

impl Kernel {
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Linear => "linear",
            Kernel::LayerNorm => "layer_norm",
            Kernel::Attention => "attention",
            Kernel::Gather => "gather",
            Kernel::AddRows => "add_rows",
            Kernel::Assemble => "assemble",
            Kernel::Select => "select",
            Kernel::Gaussian => "gaussian",
            Kernel::GoalFeatures => "goal_features",
            Kernel::Sample => "sample",
            Kernel::CemSample => "cem_sample",
            Kernel::CemElites => "cem_elites",
            Kernel::CemRefit => "cem_refit",
            Kernel::Rollout => "rollout",
            Kernel::RolloutCoop => "rollout_coop",
            Kernel::Peak => "peak",
            Kernel::Conv3 => "conv3",
            Kernel::GroupNorm => "group_norm",
            Kernel::AddMove => "add_move",
            Kernel::UpConcat => "up_concat",
            Kernel::StateRollout => "state_rollout",
            Kernel::StateMean => "state_mean",
        }
    }

    /// The WGSL source, with the shared helpers prepended.
    pub fn source(self) -> String {
        let body = match self {
            Kernel::Linear => include_str!("linear.wgsl"),
            Kernel::LayerNorm => include_str!("layer_norm.wgsl"),
            Kernel::Attention => include_str!("attention.wgsl"),
            Kernel::Gather => include_str!("gather.wgsl"),
            Kernel::AddRows => include_str!("add_rows.wgsl"),
            Kernel::Assemble => include_str!("assemble.wgsl"),
            Kernel::Select => include_str!("select.wgsl"),
            Kernel::Gaussian => include_str!("gaussian.wgsl"),
            Kernel::GoalFeatures => include_str!("goal_features.wgsl"),
            Kernel::Sample => include_str!("sample.wgsl"),
            Kernel::CemSample => include_str!("cem_sample.wgsl"),
            Kernel::CemElites => include_str!("cem_elites.wgsl"),
            Kernel::CemRefit => include_str!("cem_refit.wgsl"),
            Kernel::Rollout => include_str!("rollout.wgsl"),
            Kernel::RolloutCoop => include_str!("rollout_coop.wgsl"),
            Kernel::Peak => include_str!("peak.wgsl"),
            Kernel::Conv3 => include_str!("conv3.wgsl"),
            Kernel::GroupNorm => include_str!("group_norm.wgsl"),
            Kernel::AddMove => include_str!("add_move.wgsl"),
            Kernel::UpConcat => include_str!("up_concat.wgsl"),
            Kernel::StateRollout => include_str!("state_rollout.wgsl"),
            Kernel::StateMean => include_str!("state_mean.wgsl"),
        };
        let reduce = match self {
            Kernel::LayerNorm | Kernel::GroupNorm => include_str!("reduce.wgsl"),
            _ => "",
        };
        format!("{}\n{reduce}\n{}", include_str!("common.wgsl"), body)
    }

    pub const ALL: [Kernel; 22] = [
        Kernel::Linear,
        Kernel::LayerNorm,
        Kernel::Attention,
        Kernel::Gather,
        Kernel::AddRows,
        Kernel::Assemble,
        Kernel::Select,
        Kernel::Gaussian,
        Kernel::GoalFeatures,
        Kernel::Sample,
        Kernel::CemSample,
        Kernel::CemElites,
        Kernel::CemRefit,
        Kernel::Rollout,
        Kernel::RolloutCoop,
        Kernel::Peak,
        Kernel::Conv3,
        Kernel::GroupNorm,
        Kernel::AddMove,
        Kernel::UpConcat,
        Kernel::StateRollout,
        Kernel::StateMean,
    ];
}
