//! Frames and patches: the pixel layout every path shares (training, export checks, the CPU
//! and WGSL runtimes).

use crate::config::FRAME;

/// RGB frame `[FRAME, FRAME, 3]` bytes -> patches `[P, patch*patch*3]` in 0..1; patch index is
/// `row * grid + column`, values inside a patch are `(y, x, channel)` row-major.
pub fn patchify(frame: &[u8], patch: usize, out: &mut Vec<f32>) {
    let grid = FRAME / patch;
    for gy in 0..grid {
        for gx in 0..grid {
            for y in 0..patch {
                let row = (gy * patch + y) * FRAME + gx * patch;
                for v in &frame[row * 3..(row + patch) * 3] {
                    out.push(*v as f32 / 255.0);
                }
            }
        }
    }
}

/// Inverse of [`patchify`]: `[P, patch*patch*3]` values in 0..1 -> RGB bytes.
pub fn unpatchify(patches: &[f32], patch: usize) -> Vec<u8> {
    let grid = FRAME / patch;
    let mut frame = vec![0u8; FRAME * FRAME * 3];
    let mut i = 0;
    for gy in 0..grid {
        for gx in 0..grid {
            for y in 0..patch {
                let row = (gy * patch + y) * FRAME + gx * patch;
                for px in &mut frame[row * 3..(row + patch) * 3] {
                    *px = (patches[i].clamp(0.0, 1.0) * 255.0).round() as u8;
                    i += 1;
                }
            }
        }
    }
    frame
}

/// `max_clip` frame indices spread evenly over `0..frames` (the frames a clip shows).
pub fn clip_indices(frames: usize, max_clip: usize) -> Vec<usize> {
    let last = frames.saturating_sub(1);
    (0..max_clip)
        .map(|i| {
            if max_clip == 1 {
                last
            } else {
                (i * last + (max_clip - 1) / 2) / (max_clip - 1)
            }
        })
        .collect()
}
