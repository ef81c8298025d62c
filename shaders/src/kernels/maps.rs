//! Records the feature-map kernels of the convolutional nets (`conv3.wgsl`, `group_norm.wgsl`,
//! `add_move.wgsl`, `up_concat.wgsl`), as the functions of the same names in [`crate::maps`].
//! A map on the GPU is a [`GpuMat`] of `batch * side * side` rows of `channels` columns
//! ([`GpuMap`]).

use crate::exec::{Act, Exec};
use crate::frame_net::{INPUT_CHANNELS, SIDE};
use crate::gpu::{groups_1d, padded_cols, Gpu, GpuError, GpuMat};
use crate::kernels::Kernel;
use crate::maps::{Map, GROUP_NORM_EPS};

/// A batch of square channel-last feature maps in a storage buffer.
#[derive(Clone, Debug)]
pub struct GpuMap {
    pub mat: GpuMat,
    pub batch: usize,
    pub side: usize,
}

impl GpuMap {
    pub fn channels(&self) -> usize {
        self.mat.cols
    }

    /// The input map of the frame nets for frame `cur` after `prev`
    /// ([`crate::maps::frame_input`], made on the CPU), uploaded.
    pub fn frame_input(g: &mut Gpu, prev: &[u8], cur: &[u8]) -> GpuMap {
        let x = crate::maps::frame_input(prev, cur, SIDE);
        let half = SIDE / 2;
        GpuMap {
            mat: g.input(&x.data, half * half, INPUT_CHANNELS),
            batch: 1,
            side: half,
        }
    }

    /// Its values read back into a map on the CPU.
    pub async fn read(&self, g: &mut Gpu) -> Result<Map, GpuError> {
        let values = g.read(&self.mat).await?;
        Ok(Map::new(values, self.batch, self.side, self.channels()))
    }
}

/// `act(conv3x3 layer(x) + bias + add)`, stride 1 or 2, with `{layer}.weight [9 cin, cout]`.
pub fn conv3(
    g: &mut Gpu,
    x: &GpuMap,
    layer: &str,
    stride: usize,
    act: Act,
    add: Option<&GpuMap>,
) -> Result<GpuMap, GpuError> {
    let (shape, w) = g.param(&format!("{layer}.weight"));
    let (k, cout) = (shape[0], shape[1]);
    let cin = x.channels();
    assert_eq!(k, 9 * cin, "{layer}: input has {cin} channels, weight is [{k}, {cout}]");
    assert!(
        stride == 1 || (stride == 2 && x.side % 2 == 0),
        "{layer}: stride {stride} on side {}",
        x.side
    );
    let w = w.clone();
    let b = g.param(&format!("{layer}.bias")).1.clone();
    let oside = x.side / stride;
    let pixels = x.batch * oside * oside;
    let y = g.output(layer, pixels, cout)?;
    if let Some(a) = add {
        assert_eq!((a.mat.rows, a.mat.cols), (pixels, cout), "{layer}: addend shape");
    }
    // Without an addend, x stands in for it (bound, never read).
    let addend = add.map_or(&x.mat.buffer, |a| &a.mat.buffer).clone();
    let params = [
        x.batch as u32,
        x.side as u32,
        cin as u32,
        cout as u32,
        stride as u32,
        act.code(),
        add.is_some() as u32,
        oside as u32,
    ];
    // 4 x 64 invocations: four quads of output channels for 64 output pixels.
    let rows = pixels.div_ceil(64);
    let groups = [
        cout.div_ceil(4).div_ceil(4) as u32,
        rows.min(65535) as u32,
        rows.div_ceil(65535) as u32,
    ];
    g.dispatch(Kernel::Conv3, &params, &[&x.mat.buffer, &w, &b, &addend, &y.buffer], groups);
    Ok(GpuMap { mat: y, batch: x.batch, side: oside })
}

/// GroupNorm `{norm}.gamma`, `{norm}.beta` over `groups` groups, then `act`.
pub fn group_norm(g: &mut Gpu, x: &GpuMap, norm: &str, groups: usize, act: Act) -> Result<GpuMap, GpuError> {
    let c = x.channels();
    assert!(groups > 0 && c % groups == 0, "{norm}: {c} channels in {groups} groups");
    let gamma = g.param(&format!("{norm}.gamma")).1.clone();
    let beta = g.param(&format!("{norm}.beta")).1.clone();
    let y = g.output(norm, x.mat.rows, c)?;
    let params = [
        x.batch as u32,
        (x.side * x.side) as u32,
        c as u32,
        groups as u32,
        act.code(),
        GROUP_NORM_EPS.to_bits(),
    ];
    let wgs = x.batch * groups;
    g.dispatch(
        Kernel::GroupNorm,
        &params,
        &[&x.mat.buffer, &gamma, &beta, &y.buffer],
        [wgs as u32, 1, 1],
    );
    Ok(GpuMap { mat: y, batch: x.batch, side: x.side })
}

/// `x` plus row `mv` of the move table `{table}.weight [moves, channels]` at every pixel.
pub fn add_move(g: &mut Gpu, x: &GpuMap, table: &str, mv: usize) -> Result<GpuMap, GpuError> {
    let (shape, t) = g.param(&format!("{table}.weight"));
    let c = x.channels();
    assert_eq!(shape[1], c, "{table}: rows of {} for {c} channels", shape[1]);
    assert!(mv < shape[0], "{table}: move {mv} of {}", shape[0]);
    let t = t.clone();
    let y = g.output(table, x.mat.rows, c)?;
    let len = x.mat.rows * c;
    g.dispatch(
        Kernel::AddMove,
        &[len as u32, c as u32, padded_cols(c) as u32, mv as u32],
        &[&x.mat.buffer, &t, &y.buffer],
        groups_1d(len),
    );
    Ok(GpuMap { mat: y, batch: x.batch, side: x.side })
}

/// The channels of `a` upsampled 2x (nearest), then those of `b` (twice `a`'s side).
pub fn up_concat(g: &mut Gpu, a: &GpuMap, b: &GpuMap) -> Result<GpuMap, GpuError> {
    assert_eq!((a.batch, 2 * a.side), (b.batch, b.side), "up_concat: maps of different sizes");
    let (ca, cb) = (a.channels(), b.channels());
    let y = g.output("up_concat", b.mat.rows, ca + cb)?;
    let len = b.mat.rows * (ca + cb);
    g.dispatch(
        Kernel::UpConcat,
        &[len as u32, a.side as u32, ca as u32, cb as u32],
        &[&a.mat.buffer, &b.mat.buffer, &y.buffer],
        groups_1d(len),
    );
    Ok(GpuMap { mat: y, batch: b.batch, side: b.side })
}
