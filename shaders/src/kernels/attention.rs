//! Records `attention.wgsl`, as [`crate::cpu::attention`], and generates the head-width
//! functions it calls.

use crate::gpu::{Gpu, GpuError, GpuMat};
use crate::kernels::{vec4_element, Kernel};

/// The widest head the kernel is built for.
pub const MAX_HEAD: usize = 64;

/// The constants and unrolled helpers of `attention.wgsl` for heads of `dh` values:
/// `load_q(row)`, `score(q, krow)` (q . k in order of e, as the CPU path), `accumulate(acc,
/// old, w, vrow)` (acc * old + w * v) and `store(acc, inv, row)`.
pub fn header(dh: usize) -> String {
    let dh4 = dh.div_ceil(4);
    let mut s = format!("const DH: u32 = {dh}u;\nconst DH4: u32 = {dh4}u;\n");
    s += &format!(
        "fn load_q(row: u32) -> array<vec4<f32>, {dh4}> {{\n    var r: array<vec4<f32>, {dh4}>;\n"
    );
    for e in 0..dh {
        s += &format!("    r{} = q[row + {e}u];\n", vec4_element(e));
    }
    s += "    return r;\n}\n";
    s += &format!("fn score(qv: array<vec4<f32>, {dh4}>, row: u32) -> f32 {{\n    var s = 0.0;\n");
    for e in 0..dh {
        s += &format!("    s = fma(qv{}, k[row + {e}u], s);\n", vec4_element(e));
    }
    s += "    return s;\n}\n";
    s += &format!(
        "fn accumulate(acc: array<vec4<f32>, {dh4}>, old: f32, w: f32, row: u32) -> array<vec4<f32>, {dh4}> {{\n    var r = acc;\n"
    );
    for e in 0..dh {
        let r = vec4_element(e);
        s += &format!("    r{r} = r{r} * old + w * v[row + {e}u];\n");
    }
    s += "    return r;\n}\n";
    s += &format!("fn store(acc: array<vec4<f32>, {dh4}>, inv: f32, row: u32) {{\n");
    for e in 0..dh {
        s += &format!("    out[row + {e}u] = acc{} * inv;\n", vec4_element(e));
    }
    s + "}\n"
}

pub fn record(
    g: &mut Gpu,
    q: &GpuMat,
    k: &GpuMat,
    v: &GpuMat,
    batch: usize,
    heads: usize,
    mask: &GpuMat,
) -> Result<GpuMat, GpuError> {
    let (rows, d) = (q.rows, q.cols);
    let n = rows / batch;
    let dh = d / heads;
    assert!(
        dh <= MAX_HEAD,
        "attention: head width {dh} is over the kernel's {MAX_HEAD}"
    );
    assert!(
        heads <= 65535 && batch <= 65535,
        "attention: {heads} heads x {batch} sequences is over one dispatch"
    );
    assert_eq!(mask.cols, n, "attention: mask is not [.., {n}]");
    let mb = mask.rows / n;
    assert!(
        mb == 1 || mb == batch,
        "attention: mask covers {mb} sequences, not 1 or {batch}"
    );
    let out = g.output("attention", rows, d)?;
    let params = [
        n as u32,
        d as u32,
        mb as u32,
        (1.0 / (dh as f32).sqrt()).to_bits(),
    ];
    g.dispatch_with(
        Kernel::Attention,
        &header(dh),
        &params,
        &[&q.buffer, &k.buffer, &v.buffer, &mask.buffer, &out.buffer],
        [n.div_ceil(64) as u32, heads as u32, batch as u32],
    );
    Ok(out)
}
