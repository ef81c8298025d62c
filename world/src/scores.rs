//! The frame scores, one definition for the evaluation (`model::frame_eval`, `eval`) and the
//! page's dream panel, so that their numbers mean the same: how close a predicted frame is to
//! the true one (PSNR, SSIM), and where each object is (colour blobs), so a prediction can be
//! scored on what matters (did the red ball move to the right place?) and not only on pixels.
//!
//! Frames are packed RGB bytes, row-major, 3 bytes a pixel, row 0 at the top, exactly as
//! `crate::render::Renderer::draw_rgb` returns them (64 x 64 by default).
//!
//! Pixel coordinates: pixel (column `c`, row `r`) covers `[c, c + 1) x [r, r + 1)`, so its
//! centre is `(c + 0.5, r + 0.5)`. The renderer maps a world point `(x, y)` to
//! `(x * width / ARENA, height - y * height / ARENA)` in these coordinates ([`world_to_pixel`]),
//! so blob centroids compare directly with simulator positions.

use crate::scene::ARENA;

/// Side of the frames the model reads and writes, pixels.
pub const DEFAULT_SIDE: usize = crate::render::FRAME_SIZE as usize;

/// What [`psnr`] returns for identical frames (and the most it ever returns): a finite cap, so
/// means over many frames stay finite.
pub const PSNR_CAP: f64 = 99.0;

/// Default colour tolerance of [`find_colour`]: a pixel belongs to a colour when each of its
/// three channels is within this many levels of the colour's.
///
/// The closest two colours the renderer draws are the yellow and orange objects (70 apart in
/// the green channel); every other pair of palette colours (objects, zones, table, sky, walls,
/// floor, agent) differs by at least 80 in some channel, so at 40 no drawn colour matches
/// another one's reference (checked by a test). Anti-aliased edge pixels that are at least
/// about 80% covered by the object still match it, so edges blend in symmetrically and do not
/// bias the centroid.
pub const COLOUR_TOL: u8 = 40;

/// Fewest pixels a colour blob must have to count as found. A small object (0.9 units across)
/// covers about 26 pixels of a 64 x 64 frame, so 4 is well below any object and above the
/// stray anti-aliased pixels where two other colours blend (a red edge against a yellow one
/// can blend to orange).
pub const MIN_BLOB_PIXELS: usize = 4;

/// [`looks_like_box`] says "box" when [`Blob::squareness`] is at least this. Measured on
/// 64 x 64 frames of generated scenes (both views, first frames and frames after 30 random
/// moves; see the test `balls_and_boxes_are_told_apart`): balls mostly measure below 0.25 and
/// boxes above 0.3, with a few small (6-pixel) objects in between; 0.26 was the best cut
/// (99.4% of 1752 objects right, the misses nearly all small boxes).
pub const BOX_SQUARENESS: f32 = 0.26;

/// Side of the square SSIM window, pixels.
pub const SSIM_WINDOW: usize = 8;
/// Step between SSIM windows, pixels.
pub const SSIM_STRIDE: usize = 4;
/// SSIM stabilisers for 8-bit data: `C1 = (0.01 * 255)^2`, `C2 = (0.03 * 255)^2`.
const SSIM_C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
const SSIM_C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);

/// Peak signal-to-noise ratio of two frames of the same size, in dB, with peak 255, over all
/// bytes (channels weigh equally). Identical frames, and frames so close that the ratio would
/// pass it, give [`PSNR_CAP`] (99 dB). Empty frames count as identical.
///
/// # Panics
/// If the frames differ in length.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(
        a.len(),
        b.len(),
        "psnr: frames of {} and {} bytes cannot be compared",
        a.len(),
        b.len()
    );
    if a.is_empty() {
        return PSNR_CAP;
    }
    let sse: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = x as i64 - y as i64;
            (d * d) as u64
        })
        .sum();
    if sse == 0 {
        return PSNR_CAP;
    }
    let mse = sse as f64 / a.len() as f64;
    (10.0 * (255.0 * 255.0 / mse).log10()).min(PSNR_CAP)
}

/// Luminance of each pixel, `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601), 0 to 255.
pub fn luminance(frame: &[u8], width: usize, height: usize) -> Vec<f64> {
    check_frame("luminance", frame, width, height);
    frame
        .chunks_exact(3)
        .map(|p| 0.299 * p[0] as f64 + 0.587 * p[1] as f64 + 0.114 * p[2] as f64)
        .collect()
}

/// Structural similarity (Wang, Bovik, Sheikh and Simoncelli, 2004) of two RGB frames, on
/// their luminance ([`luminance`]).
///
/// Windows: square, uniformly weighted, [`SSIM_WINDOW`] (8) pixels a side, placed every
/// [`SSIM_STRIDE`] (4) pixels from the top-left corner (15 x 15 = 225 windows on a 64 x 64
/// frame); frames narrower or shorter than 8 pixels use one window as wide or tall as the
/// frame. In each window, with means `mu`, variances `var` and covariance `cov` (unbiased,
/// divided by n - 1, as scikit-image does for uniform windows):
///
/// `SSIM = (2 mu_a mu_b + C1)(2 cov + C2) / ((mu_a^2 + mu_b^2 + C1)(var_a + var_b + C2))`
///
/// with `C1 = (0.01 * 255)^2` and `C2 = (0.03 * 255)^2`. The result is the mean over windows:
/// 1 for identical frames, lower (down to about -1) as structure differs.
///
/// # Panics
/// If either frame is not `width * height * 3` bytes, or a side is 0.
pub fn ssim(a: &[u8], b: &[u8], width: usize, height: usize) -> f64 {
    check_frame("ssim", a, width, height);
    check_frame("ssim", b, width, height);
    assert!(
        width > 0 && height > 0,
        "ssim: a frame needs at least one pixel, not {width} x {height}"
    );
    let (la, lb) = (luminance(a, width, height), luminance(b, width, height));
    let (ww, wh) = (SSIM_WINDOW.min(width), SSIM_WINDOW.min(height));
    let n = (ww * wh) as f64;
    let mut total = 0.0;
    let mut windows = 0usize;
    for y0 in (0..=height - wh).step_by(SSIM_STRIDE) {
        for x0 in (0..=width - ww).step_by(SSIM_STRIDE) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for y in y0..y0 + wh {
                for x in x0..x0 + ww {
                    let (p, q) = (la[y * width + x], lb[y * width + x]);
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            }
            let (mu_a, mu_b) = (sa / n, sb / n);
            // Unbiased (n - 1) moments; a one-pixel window has no spread.
            let dof = (n - 1.0).max(1.0);
            let var_a = ((saa - n * mu_a * mu_a) / dof).max(0.0);
            let var_b = ((sbb - n * mu_b * mu_b) / dof).max(0.0);
            let cov = (sab - n * mu_a * mu_b) / dof;
            let num = (2.0 * mu_a * mu_b + SSIM_C1) * (2.0 * cov + SSIM_C2);
            let den = (mu_a * mu_a + mu_b * mu_b + SSIM_C1) * (var_a + var_b + SSIM_C2);
            total += num / den;
            windows += 1;
        }
    }
    total / windows as f64
}

/// Where a world point `(x, y)` (world units, y up) falls in a `width` x `height` frame, in
/// pixel coordinates (x right, y down, pixel centres at `n + 0.5`): the renderer's mapping.
pub fn world_to_pixel(p: [f32; 2], width: usize, height: usize) -> [f32; 2] {
    [
        p[0] * width as f32 / ARENA,
        height as f32 - p[1] * height as f32 / ARENA,
    ]
}

/// The world point (world units, y up) at pixel coordinates `p` of a `width` x `height`
/// frame: the inverse of [`world_to_pixel`], to turn blob centroids into positions.
pub fn pixel_to_world(p: [f32; 2], width: usize, height: usize) -> [f32; 2] {
    [
        p[0] * ARENA / width as f32,
        (height as f32 - p[1]) * ARENA / height as f32,
    ]
}

/// A patch of one colour in a frame: the largest 8-connected group of pixels that match it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Blob {
    /// Number of pixels in the group.
    pub pixels: usize,
    /// Mean of the pixel centres, `[x, y]` in pixel coordinates (x right, y down; the centre
    /// of pixel (column c, row r) is `(c + 0.5, r + 0.5)`).
    pub centroid: [f32; 2],
    /// Smallest column and row of the group (inclusive), `[x, y]`.
    pub bbox_min: [u32; 2],
    /// Largest column and row of the group (inclusive), `[x, y]`.
    pub bbox_max: [u32; 2],
    /// `pixels` over the area of the axis-aligned bounding box, in (0, 1]: about 0.73 to 0.9
    /// for a ball, 1 for an axis-aligned box, as low as 0.5 for a box turned 45 degrees.
    pub fill: f32,
    /// How square the group is, whatever its angle: `|sum (z - c)^4| / sum |z - c|^4` over
    /// pixel centres `z = x + iy` and the centroid `c` (the fourth angular harmonic of the
    /// pixel distribution). 0 for a shape with round or eight-fold symmetry, about 0.43 for
    /// a perfect square; rendered balls mostly measure 0 to 0.25 and boxes 0.3 to 0.6.
    pub squareness: f32,
}

/// Whether every channel of `p` is within `tol` of `rgb`.
fn matches(p: &[u8], rgb: [u8; 3], tol: u8) -> bool {
    p.iter().zip(rgb).all(|(&c, r)| c.abs_diff(r) <= tol)
}

/// The blob of colour `rgb` in `frame`: the largest 8-connected group of pixels whose every
/// channel is within `tol` of `rgb` (use [`COLOUR_TOL`]). Keeping only the largest group means
/// stray anti-aliased pixels elsewhere (two other colours blending into this one) do not pull
/// the centroid. `None` when that group has fewer than [`MIN_BLOB_PIXELS`] pixels.
///
/// # Panics
/// If `frame` is not `width * height * 3` bytes.
pub fn find_colour(
    frame: &[u8],
    width: usize,
    height: usize,
    rgb: [u8; 3],
    tol: u8,
) -> Option<Blob> {
    check_frame("find_colour", frame, width, height);
    let mask: Vec<bool> = frame
        .chunks_exact(3)
        .map(|p| matches(p, rgb, tol))
        .collect();
    let mut seen = vec![false; mask.len()];
    let mut best: Vec<usize> = Vec::new();
    let mut group = Vec::new();
    let mut stack = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || seen[start] {
            continue;
        }
        group.clear();
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            group.push(i);
            let (x, y) = ((i % width) as isize, (i / width) as isize);
            for dy in -1..=1isize {
                for dx in -1..=1isize {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx >= width as isize || ny >= height as isize {
                        continue;
                    }
                    let j = ny as usize * width + nx as usize;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if group.len() > best.len() {
            std::mem::swap(&mut best, &mut group);
        }
    }
    if best.len() < MIN_BLOB_PIXELS {
        return None;
    }
    Some(describe(&best, width))
}

/// Centroid, bounding box, fill and squareness of a group of pixel indices.
fn describe(indices: &[usize], width: usize) -> Blob {
    let n = indices.len();
    let (mut sx, mut sy) = (0.0f64, 0.0f64);
    let (mut min, mut max) = ([u32::MAX; 2], [0u32; 2]);
    for &i in indices {
        let (x, y) = ((i % width) as u32, (i / width) as u32);
        sx += x as f64 + 0.5;
        sy += y as f64 + 0.5;
        min = [min[0].min(x), min[1].min(y)];
        max = [max[0].max(x), max[1].max(y)];
    }
    let (cx, cy) = (sx / n as f64, sy / n as f64);
    // Fourth angular harmonic: sum of (z - c)^4 over pixel centres z = x + iy, against the
    // sum of |z - c|^4.
    let (mut re, mut im, mut norm) = (0.0f64, 0.0f64, 0.0f64);
    for &i in indices {
        let x = (i % width) as f64 + 0.5 - cx;
        let y = (i / width) as f64 + 0.5 - cy;
        let (x2, y2) = (x * x, y * y);
        re += x2 * x2 - 6.0 * x2 * y2 + y2 * y2;
        im += 4.0 * x * y * (x2 - y2);
        norm += (x2 + y2) * (x2 + y2);
    }
    let squareness = if norm > 0.0 {
        ((re * re + im * im).sqrt() / norm) as f32
    } else {
        0.0
    };
    let bbox_area = ((max[0] - min[0] + 1) * (max[1] - min[1] + 1)) as f32;
    Blob {
        pixels: n,
        centroid: [cx as f32, cy as f32],
        bbox_min: min,
        bbox_max: max,
        fill: n as f32 / bbox_area,
        squareness,
    }
}

/// Whether a blob is shaped like a box rather than a ball: its [`Blob::squareness`] is at
/// least [`BOX_SQUARENESS`] (0.26). It works at any angle of the box, unlike [`Blob::fill`],
/// which cannot tell a ball (0.79) from a box turned more than about 8 degrees (a box turned
/// by `t` fills `1 / (1 + sin 2t)` of its bounding box). Objects partly hidden under the agent
/// can be misjudged.
pub fn looks_like_box(blob: &Blob) -> bool {
    blob.squareness >= BOX_SQUARENESS
}

/// Distance in pixels between the blobs of colour `rgb` (tolerance [`COLOUR_TOL`]) in the true
/// and the predicted frame. `None` when the colour is absent from the true frame (nothing to
/// compare). When it is present in the truth but absent from the prediction, the penalty is
/// the frame's diagonal (`sqrt(width^2 + height^2)`, 90.5 pixels at 64 x 64), at least as bad
/// as the worst misplacement, so missing objects count as errors in means.
///
/// # Panics
/// If either frame is not `width * height * 3` bytes.
pub fn centroid_error(
    truth: &[u8],
    predicted: &[u8],
    width: usize,
    height: usize,
    rgb: [u8; 3],
) -> Option<f32> {
    check_frame("centroid_error", predicted, width, height);
    let t = find_colour(truth, width, height, rgb, COLOUR_TOL)?;
    Some(
        match find_colour(predicted, width, height, rgb, COLOUR_TOL) {
            Some(p) => {
                let (dx, dy) = (p.centroid[0] - t.centroid[0], p.centroid[1] - t.centroid[1]);
                (dx * dx + dy * dy).sqrt()
            }
            None => missing_penalty(width, height),
        },
    )
}

/// What [`centroid_error`] charges for an object missing from the prediction: the diagonal of
/// the frame, in pixels.
pub fn missing_penalty(width: usize, height: usize) -> f32 {
    ((width * width + height * height) as f32).sqrt()
}

/// The objects' mean [`centroid_error`] over the colours in `colours` that the true frame
/// shows (a missing one costs [`missing_penalty`]); `None` when it shows none of them.
pub fn objects_error(
    truth: &[u8],
    predicted: &[u8],
    width: usize,
    height: usize,
    colours: &[[u8; 3]],
) -> Option<f32> {
    let errors: Vec<f32> = colours
        .iter()
        .filter_map(|&rgb| centroid_error(truth, predicted, width, height, rgb))
        .collect();
    (!errors.is_empty()).then(|| errors.iter().sum::<f32>() / errors.len() as f32)
}

/// How a frame drawn from a scene's sentence shows what the sentence says, over the objects
/// whose colour is unique in the scene and which the scene's own first frame shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PromptScore {
    /// Objects scored.
    pub objects: usize,
    /// Their colour is found in the drawn frame.
    pub colour: usize,
    /// ... and its blob is a box exactly when the object is ([`looks_like_box`]).
    pub shape: usize,
    /// ... and it is where the sentence puts it: [`place_right`].
    pub place: usize,
    /// Colour, shape and place all right.
    pub all: usize,
    /// The blob lies in the same third of the frame, across and down, as in the scene's own
    /// frame (the sentence does not say where a lone object is; this is for reference).
    pub same_third: usize,
}

impl PromptScore {
    /// Adds another frame's counts.
    pub fn add(&mut self, o: &PromptScore) {
        self.objects += o.objects;
        self.colour += o.colour;
        self.shape += o.shape;
        self.place += o.place;
        self.all += o.all;
        self.same_third += o.same_third;
    }

    /// `part` over the objects scored (0 when none were).
    pub fn share(&self, part: usize) -> f64 {
        part as f64 / self.objects.max(1) as f64
    }
}

/// Scores `drawn`, made from `said` (a sentence about `scene` and the scene's index of each
/// object it names: [`ScenePrompt::describe_in_order`] or [`ScenePrompt::paraphrase`]),
/// against `truth`, the scene's own first frame (both `side` x `side`).
///
/// An object's place is right when every relation the sentence states between it and another
/// scored object ("the red ball to the left of the blue box") holds between their blobs in the
/// drawn frame, by the simulator's own test ([`Relation::holds`], half a unit of margin), and,
/// seen from the side, when it rests where the scene's frame shows it resting (its centroid
/// within 1.5 pixels of the true one's height): the sentence says nothing else about where
/// things are, so a scene laid out anew from the same sentence has its objects elsewhere but
/// just as right.
///
/// [`ScenePrompt::describe_in_order`]: crate::language::prompt::ScenePrompt::describe_in_order
/// [`ScenePrompt::paraphrase`]: crate::language::prompt::ScenePrompt::paraphrase
/// [`Relation::holds`]: crate::scene::Relation::holds
pub fn prompt_score(
    scene: &crate::scene::Scene,
    said: (&crate::language::prompt::ScenePrompt, &[usize]),
    truth: &[u8],
    drawn: &[u8],
    side: usize,
) -> PromptScore {
    let (prompt, order) = said;
    let unique = |i: usize| {
        let c = scene.objects[i].colour;
        scene.objects.iter().filter(|o| o.colour == c).count() == 1
    };
    let blob = |frame: &[u8], i: usize| {
        let rgb = scene.objects[i].colour.rgb();
        find_colour(frame, side, side, rgb, COLOUR_TOL)
    };
    // Where each scored object's blob is in the drawn frame, in world units; by prompt index.
    let scored: Vec<Option<(Blob, Blob)>> = order
        .iter()
        .map(|&i| if unique(i) { blob(truth, i).zip(blob(drawn, i)) } else { None })
        .collect();
    let at = |k: usize| scored[k].map(|(_, d)| pixel_to_world(d.centroid, side, side));
    let mut score = PromptScore::default();
    for (k, &i) in order.iter().enumerate() {
        if !unique(i) || blob(truth, i).is_none() {
            continue;
        }
        score.objects += 1;
        let Some((t, d)) = scored[k] else { continue };
        score.colour += 1;
        let shape = looks_like_box(&d) == (scene.objects[i].shape == crate::scene::Shape::Box);
        let related = prompt.relations.iter().filter(|&&(a, _, b)| a == k || b == k);
        let mut place = related
            .into_iter()
            .all(|&(a, r, b)| at(a).zip(at(b)).is_some_and(|(pa, pb)| r.holds(pa, pb)));
        if scene.view == crate::scene::View::Side {
            place &= (d.centroid[1] - t.centroid[1]).abs() <= 1.5;
        }
        let third = |v: f32| (v / (side as f32 / 3.0)).floor() as i32;
        score.shape += usize::from(shape);
        score.place += usize::from(place);
        score.all += usize::from(shape && place);
        score.same_third += usize::from(
            third(d.centroid[0]) == third(t.centroid[0]) && third(d.centroid[1]) == third(t.centroid[1]),
        );
    }
    score
}

/// Panics with a clear message when `frame` is not a packed `width` x `height` RGB frame.
fn check_frame(what: &str, frame: &[u8], width: usize, height: usize) {
    assert_eq!(
        frame.len(),
        width * height * 3,
        "{what}: a {width} x {height} RGB frame is {} bytes, this one is {}",
        width * height * 3,
        frame.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use crate::render::Renderer;
    use crate::scene::{Colour, Scene, Shape, ZoneColour};
    use crate::sim::Simulator;

    const S: usize = DEFAULT_SIDE;

    /// Every colour the renderer draws besides objects (src/render.rs and the zone palette).
    fn non_object_palette() -> Vec<[u8; 3]> {
        let mut p = vec![
            [236, 230, 214], // table
            [222, 232, 242], // sky
            [90, 90, 100],   // walls
            [120, 100, 80],  // floor
            [35, 35, 45],    // agent
            [250, 250, 250], // agent's dot
        ];
        p.extend(ZoneColour::ALL.iter().map(|z| z.rgb()));
        p
    }

    /// The scene's first frame, 64 x 64.
    fn render_first_frame(scene: &Scene) -> Vec<u8> {
        let mut r = Renderer::new(S as u32, S as u32).unwrap();
        r.draw_rgb(scene, &Simulator::new(scene).state())
    }

    /// `frame` with uniform noise of +-`amplitude` levels added to every byte.
    fn noisy(frame: &[u8], amplitude: i32, seed: u64) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        frame
            .iter()
            .map(|&v| (v as i32 + rng.random_range(-amplitude..=amplitude)).clamp(0, 255) as u8)
            .collect()
    }

    #[test]
    fn the_tolerance_keeps_every_palette_colour_apart() {
        // Every object colour against every other colour drawn (the table and the sky never
        // share a frame and are never looked for, so they need not be apart from each other).
        let objects: Vec<[u8; 3]> = Colour::ALL.iter().map(|c| c.rgb()).collect();
        let mut closest = u8::MAX;
        for (i, a) in objects.iter().enumerate() {
            for b in objects[i + 1..].iter().chain(&non_object_palette()) {
                let gap = (0..3).map(|k| a[k].abs_diff(b[k])).max().unwrap();
                assert!(
                    gap > COLOUR_TOL,
                    "{a:?} and {b:?} are only {gap} apart: tolerance {COLOUR_TOL} confuses them"
                );
                closest = closest.min(gap);
            }
        }
        assert_eq!(closest, 70, "the palette changed: check COLOUR_TOL's doc");
    }

    #[test]
    fn psnr_and_ssim_are_highest_for_identical_frames_and_fall_with_noise() {
        let frame = render_first_frame(&Scene::generate(3));
        assert_eq!(psnr(&frame, &frame), PSNR_CAP);
        assert!((ssim(&frame, &frame, S, S) - 1.0).abs() < 1e-12);
        let mut last = (PSNR_CAP, 1.0);
        for amplitude in [4, 16, 48, 96] {
            let n = noisy(&frame, amplitude, 7);
            let (p, s) = (psnr(&frame, &n), ssim(&frame, &n, S, S));
            assert!(
                p < last.0 && s < last.1,
                "noise {amplitude}: psnr {p} ssim {s} did not fall from {last:?}"
            );
            last = (p, s);
        }
        assert!(
            last.0 < 20.0 && last.1 < 0.5,
            "heavy noise still scores {last:?}"
        );
        // Symmetric, and a known value: every byte off by 1 is 10 log10(255^2) = 48.13 dB.
        let n = noisy(&frame, 30, 1);
        assert_eq!(psnr(&frame, &n), psnr(&n, &frame));
        assert!((ssim(&frame, &n, S, S) - ssim(&n, &frame, S, S)).abs() < 1e-12);
        let off: Vec<u8> = frame
            .iter()
            .map(|&v| if v < 255 { v + 1 } else { v - 1 })
            .collect();
        assert!((psnr(&frame, &off) - 48.1308).abs() < 1e-3);
    }

    #[test]
    fn ssim_sees_structure_that_psnr_misses() {
        // A uniform brightness shift keeps structure (high SSIM); moving the objects does not.
        let scene = Scene::generate(11);
        let frame = render_first_frame(&scene);
        let shifted: Vec<u8> = frame.iter().map(|&v| v.saturating_sub(12)).collect();
        let mut moved_scene = scene.clone();
        for o in &mut moved_scene.objects {
            o.position[0] = 10.0 - o.position[0];
        }
        let moved = render_first_frame(&moved_scene);
        assert!(ssim(&frame, &shifted, S, S) > 0.95);
        assert!(ssim(&frame, &moved, S, S) < ssim(&frame, &shifted, S, S));
        // Tiny frames use a single window.
        let tiny = vec![128u8; 5 * 4 * 3];
        assert!((ssim(&tiny, &tiny, 5, 4) - 1.0).abs() < 1e-12);
    }

    #[test]
    #[should_panic(expected = "cannot be compared")]
    fn psnr_refuses_frames_of_different_sizes() {
        psnr(&[0; 12], &[0; 9]);
    }

    #[test]
    fn blobs_are_found_where_the_simulator_puts_objects() {
        let mut worst = 0.0f32;
        let mut objects = 0;
        for seed in 0..200 {
            let scene = Scene::generate(seed);
            let frame = render_first_frame(&scene);
            for o in &scene.objects {
                let blob = find_colour(&frame, S, S, o.colour.rgb(), COLOUR_TOL)
                    .unwrap_or_else(|| panic!("scene {seed}: no {:?} blob", o.colour));
                let truth = world_to_pixel(o.position, S, S);
                let err = ((blob.centroid[0] - truth[0]).powi(2)
                    + (blob.centroid[1] - truth[1]).powi(2))
                .sqrt();
                assert!(
                    err < 1.5,
                    "scene {seed}: {:?} {:?} centroid {:?}, truth {truth:?}",
                    o.colour,
                    o.shape,
                    blob.centroid
                );
                worst = worst.max(err);
                objects += 1;
            }
            // Colours not in the scene are not found.
            for c in Colour::ALL {
                if scene.objects.iter().all(|o| o.colour != c) {
                    assert_eq!(
                        find_colour(&frame, S, S, c.rgb(), COLOUR_TOL),
                        None,
                        "scene {seed}: phantom {c:?}"
                    );
                }
            }
        }
        println!("{objects} objects in 200 scenes: worst centroid error {worst:.2} px");
        let back = pixel_to_world(world_to_pixel([2.5, 7.25], S, S), S, S);
        assert!((back[0] - 2.5).abs() < 1e-5 && (back[1] - 7.25).abs() < 1e-5);
        assert_eq!(
            world_to_pixel([0.0, 0.0], S, S),
            [0.0, S as f32],
            "the origin is the bottom-left corner"
        );
    }

    /// Ball/box accuracy over the objects of scenes `seeds`, each seen after `steps` frames of
    /// random moves (0: the first frame), with the range of squareness seen for each shape.
    fn shape_accuracy(
        seeds: std::ops::Range<u64>,
        steps: usize,
    ) -> (usize, usize, [f32; 2], [f32; 2]) {
        let mut renderer = Renderer::new(S as u32, S as u32).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let (mut right, mut total) = (0, 0);
        let (mut balls, mut boxes) = ([f32::MAX, f32::MIN], [f32::MAX, f32::MIN]);
        for seed in seeds {
            let scene = Scene::generate(seed);
            let mut sim = Simulator::new(&scene);
            for _ in 0..steps {
                sim.step(crate::action::Action::from_discrete(rng.random_range(0..9)));
            }
            let state = sim.state();
            let frame = renderer.draw_rgb(&scene, &state);
            for (o, body) in scene.objects.iter().zip(&state.objects) {
                let Some(blob) = find_colour(&frame, S, S, o.colour.rgb(), COLOUR_TOL) else {
                    assert!(
                        !body.present || steps > 0,
                        "scene {seed}: no {:?} blob",
                        o.colour
                    );
                    continue;
                };
                let range = if o.shape == Shape::Box {
                    &mut boxes
                } else {
                    &mut balls
                };
                *range = [range[0].min(blob.squareness), range[1].max(blob.squareness)];
                right += usize::from(looks_like_box(&blob) == (o.shape == Shape::Box));
                total += 1;
            }
        }
        (right, total, balls, boxes)
    }

    #[test]
    fn balls_and_boxes_are_told_apart() {
        let (right, total, balls, boxes) = shape_accuracy(1000..1400, 0);
        let accuracy = right as f32 / total as f32;
        println!(
            "ball/box on first frames of 400 scenes: {right}/{total} = {:.1}% (squareness: balls {:.3}..{:.3}, boxes {:.3}..{:.3})",
            100.0 * accuracy, balls[0], balls[1], boxes[0], boxes[1]
        );
        assert!(accuracy >= 0.98, "ball/box accuracy {accuracy}");
        // Later in an episode the agent may cover part of an object, and boxes turn.
        let (right, total, balls, boxes) = shape_accuracy(2000..2200, 30);
        let accuracy = right as f32 / total as f32;
        println!(
            "ball/box after 30 random moves, 200 scenes: {right}/{total} = {:.1}% (squareness: balls {:.3}..{:.3}, boxes {:.3}..{:.3})",
            100.0 * accuracy, balls[0], balls[1], boxes[0], boxes[1]
        );
        assert!(accuracy >= 0.95, "ball/box accuracy mid-episode {accuracy}");
    }

    #[test]
    fn a_scene_laid_out_anew_from_its_sentence_scores_as_right_and_a_blank_frame_as_wrong() {
        use crate::language::prompt::ScenePrompt;
        let (mut own, mut anew, mut blank) = Default::default();
        for seed in 3000..3200 {
            let scene = Scene::generate(seed);
            let truth = render_first_frame(&scene);
            let (said, order) = ScenePrompt::describe_in_order(&scene);
            let said = (&said, &order[..]);
            PromptScore::add(&mut own, &prompt_score(&scene, said, &truth, &truth, S));
            let table = vec![236u8; S * S * 3];
            PromptScore::add(&mut blank, &prompt_score(&scene, said, &truth, &table, S));
            let again = said.0.realize(seed + 7).expect("its own sentence lays out");
            PromptScore::add(&mut anew, &prompt_score(&scene, said, &truth, &render_first_frame(&again), S));
        }
        let pct = |s: &PromptScore, n: usize| 100.0 * s.share(n);
        println!(
            "own frame: colour {:.1}% all {:.1}%; laid out anew: colour {:.1}% place {:.1}% all {:.1}% same third {:.1}%",
            pct(&own, own.colour), pct(&own, own.all), pct(&anew, anew.colour), pct(&anew, anew.place),
            pct(&anew, anew.all), pct(&anew, anew.same_third)
        );
        assert!(own.objects > 300, "{own:?}");
        assert_eq!((own.colour, own.place), (own.objects, own.objects), "{own:?}");
        assert!(own.share(own.all) >= 0.98, "{own:?}");
        assert!(anew.share(anew.all) >= 0.9, "{anew:?}");
        assert!(anew.same_third < anew.place, "{anew:?}");
        assert_eq!(blank.colour, 0, "{blank:?}");
    }

    #[test]
    fn squareness_of_drawn_shapes() {
        let red = [220, 40, 40];
        let draw = |inside: &dyn Fn(f32, f32) -> bool| {
            let mut frame = vec![0u8; 24 * 24 * 3];
            for y in 0..24 {
                for x in 0..24 {
                    if inside(x as f32 + 0.5 - 12.0, y as f32 + 0.5 - 12.0) {
                        frame[(y * 24 + x) * 3..][..3].copy_from_slice(&red);
                    }
                }
            }
            find_colour(&frame, 24, 24, red, COLOUR_TOL).unwrap()
        };
        let square = draw(&|x, y| x.abs() < 4.0 && y.abs() < 4.0);
        assert_eq!(
            (square.pixels, square.bbox_min, square.bbox_max),
            (64, [8, 8], [15, 15])
        );
        assert_eq!(square.centroid, [12.0, 12.0]);
        assert!((square.fill - 1.0).abs() < 1e-6);
        assert!(
            looks_like_box(&square) && square.squareness > 0.35,
            "{square:?}"
        );
        let diamond = draw(&|x, y| x.abs() + y.abs() < 6.0);
        assert!(
            looks_like_box(&diamond) && diamond.fill < 0.65,
            "{diamond:?}"
        );
        let disc = draw(&|x, y| x * x + y * y < 36.0);
        assert!(!looks_like_box(&disc) && disc.squareness < 0.1, "{disc:?}");
        assert!(
            (disc.fill - std::f32::consts::FRAC_PI_4).abs() < 0.05,
            "{disc:?}"
        );
    }

    #[test]
    fn only_the_largest_group_counts_and_tiny_groups_are_not_blobs() {
        let mut frame = vec![0u8; 16 * 16 * 3];
        let blue = [40, 80, 220];
        for (x, y) in [(1, 1), (2, 1), (1, 2)] {
            frame[(y * 16 + x) * 3..][..3].copy_from_slice(&blue);
        }
        assert_eq!(
            find_colour(&frame, 16, 16, blue, COLOUR_TOL),
            None,
            "3 pixels are not a blob"
        );
        for y in 10..14 {
            for x in 10..14 {
                frame[(y * 16 + x) * 3..][..3].copy_from_slice(&[50, 70, 230]); // within tolerance
            }
        }
        let b = find_colour(&frame, 16, 16, blue, COLOUR_TOL).unwrap();
        assert_eq!(b.pixels, 16);
        assert_eq!(b.centroid, [12.0, 12.0]);
    }

    #[test]
    fn centroid_error_measures_displacement_and_charges_missing_objects() {
        let scene = Scene::generate(5);
        let truth = render_first_frame(&scene);
        let rgb = scene.objects[0].colour.rgb();
        assert_eq!(centroid_error(&truth, &truth, S, S, rgb), Some(0.0));
        // Move the object 1 world unit (6.4 pixels) to the right, if there is room.
        let mut moved = scene.clone();
        let dx = if moved.objects[0].position[0] < 5.0 {
            1.0
        } else {
            -1.0
        };
        moved.objects[0].position[0] += dx;
        let predicted = render_first_frame(&moved);
        let err = centroid_error(&truth, &predicted, S, S, rgb).unwrap();
        assert!((err - 6.4).abs() < 1.0, "moved 6.4 px, measured {err}");
        // Absent from the prediction: the diagonal.
        let blank = vec![236u8; S * S * 3];
        assert_eq!(
            centroid_error(&truth, &blank, S, S, rgb),
            Some(missing_penalty(S, S))
        );
        assert!((missing_penalty(64, 64) - 90.51).abs() < 0.01);
        // Absent from the truth: nothing to say.
        assert_eq!(centroid_error(&blank, &truth, S, S, rgb), None);
    }
}
