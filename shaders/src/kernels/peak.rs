//! Records `peak.wgsl` and turns its time into GFLOP/s: the adapter's arithmetic ceiling.

use crate::gpu::{Gpu, GpuError};
use crate::kernels::Kernel;

/// Invocations and rounds per measurement: 65536 x 512 x 64 FLOP = 2.1 GFLOP.
const INVOCATIONS: usize = 65536;
const ROUNDS: u32 = 512;

/// Measured peak in GFLOP/s (median of `reps` timed runs after a warm-up). `now` reads a
/// clock in seconds (`std::time::Instant` natively, `performance.now()` on the web).
pub async fn measure(g: &mut Gpu, reps: usize, now: impl Fn() -> f64) -> Result<f64, GpuError> {
    let out = g.output("peak", INVOCATIONS, 1)?;
    let flop = INVOCATIONS as f64 * ROUNDS as f64 * 64.0;
    let mut times = Vec::new();
    for rep in 0..=reps {
        let started = now();
        g.dispatch(
            Kernel::Peak,
            &[ROUNDS],
            &[&out.buffer],
            [(INVOCATIONS / 64) as u32, 1, 1],
        );
        g.read_bytes(&out.buffer, 4).await?;
        if rep > 0 {
            times.push(now() - started);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(flop / times[times.len() / 2] / 1e9)
}
