//! The Dream demo's bookkeeping, apart from the model: which frames the model dreams from, the
//! actions it still owes, when it resyncs with reality, and how far its frames are from the
//! simulator's. Plain Rust, tested natively; the page feeds it true frames and dreamed ones.

use std::collections::VecDeque;

use world::render::FRAME_SIZE;
use world::scores;

/// Bytes of one RGB frame the model reads and writes.
pub const RGB_BYTES: usize = (FRAME_SIZE * FRAME_SIZE * 3) as usize;
/// Steps of history the error plot keeps.
pub const MAX_HISTORY: usize = 240;
/// Most steps the dream may fall behind the simulator before the oldest are dropped (and the
/// dream resyncs), so a slow device never builds an unbounded queue.
pub const MAX_BEHIND: usize = 30;
/// Steps asked of the model in one call when it has fallen behind.
pub const MAX_BATCH: usize = 8;

/// RGBA pixels (as the renderer draws them) to the RGB frames the model reads.
pub fn rgba_to_rgb(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

/// RGB frames back to opaque RGBA for a canvas.
pub fn rgb_to_rgba(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect()
}

/// PSNR of a dreamed frame against the true one, dB, as the evaluation scores it
/// ([`world::scores::psnr`]: identical frames give [`PSNR_CAP`]).
pub fn psnr(dream: &[u8], truth: &[u8]) -> f32 {
    scores::psnr(truth, dream) as f32
}

/// What an object the dream has lost costs in [`object_error`]: the frame's diagonal, as in
/// the evaluation ([`world::scores::missing_penalty`]).
pub fn lost_object_px() -> f32 {
    scores::missing_penalty(FRAME_SIZE as usize, FRAME_SIZE as usize)
}

/// How far the dream has the objects from where they are, as the evaluation measures it
/// ([`world::scores::objects_error`]): for each object colour seen in `truth`, the distance in
/// pixels between its centroid there and in `dream` ([`lost_object_px`] for one the dream
/// lost), averaged. `None` when no object is in view.
pub fn object_error(dream: &[u8], truth: &[u8], colours: &[[u8; 3]]) -> Option<f32> {
    let side = FRAME_SIZE as usize;
    scores::objects_error(truth, dream, side, side, colours)
}

/// How the dream follows reality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Follow {
    /// The model dreams from its own frames only, from the start.
    Free,
    /// Every `k` dreamed steps, the dream starts again from the simulator's latest frames.
    Resync(u32),
}

/// One dreamed step beside the truth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Simulator frame the dreamed frame stands for.
    pub frame: u32,
    /// PSNR of the dreamed frame against the true one, dB.
    pub psnr: f32,
    /// Mean distance of the objects from where they truly are, pixels of the 64x64 frame
    /// ([`object_error`]); NaN when no object is in view.
    pub object_px: f32,
    /// Whether the dream was resynced with reality just before this step.
    pub resynced: bool,
}

/// What to ask the model next: from `context` (two RGB frames, older first), the `actions`
/// in order, one dreamed frame each.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub context: [Vec<u8>; 2],
    /// The move that led to `context[1]` (stay where nothing did).
    pub last: u8,
    pub actions: Vec<u8>,
    /// The sampling seed of the first step; step `i` of the request uses `seed + i`.
    pub seed: u32,
}

/// The dream of one scene.
#[derive(Clone, Debug)]
pub struct Dream {
    pub follow: Follow,
    /// The simulator's latest frames (RGB) with their numbers and the moves that led to them,
    /// oldest first: enough to resync at any owed step.
    truth: VecDeque<(u32, u8, Vec<u8>)>,
    /// The dream's two latest frames, older first.
    context: Option<[Vec<u8>; 2]>,
    /// The move that led to the dream's latest frame.
    last: u8,
    /// Steps the dream has not reached yet: (frame number, action that led to it).
    owed: VecDeque<(u32, u8)>,
    /// The request in flight: how many of `owed` it covers.
    in_flight: Option<usize>,
    /// Dreamed steps since the last resync.
    since_sync: u32,
    resync_next: bool,
    /// Steps skipped because the model fell too far behind the simulator.
    skipped: u32,
    steps: u32,
    seed: u32,
    history: VecDeque<Score>,
    latest: Option<Vec<u8>>,
    /// The scene's object colours, for [`object_error`].
    colours: Vec<[u8; 3]>,
}

impl Dream {
    /// A dream of a scene about to start; `seed` makes its sampling repeatable.
    pub fn new(follow: Follow, seed: u32) -> Dream {
        Dream {
            follow,
            truth: VecDeque::new(),
            context: None,
            last: 0,
            owed: VecDeque::new(),
            in_flight: None,
            since_sync: 0,
            resync_next: false,
            skipped: 0,
            steps: 0,
            seed,
            history: VecDeque::new(),
            latest: None,
            colours: Vec::new(),
        }
    }

    /// The colours of the scene's objects, so each step's object error can be measured.
    pub fn with_colours(mut self, colours: Vec<[u8; 3]>) -> Dream {
        self.colours = colours;
        self
    }

    /// The simulator shows `frame` (RGB) as frame number `number`, reached by `action` from the
    /// frame before (ignored for the first frame observed, where the dream starts).
    pub fn observe(&mut self, number: u32, action: u8, frame: Vec<u8>) {
        assert_eq!(frame.len(), RGB_BYTES, "observe: not a 64x64 RGB frame");
        let first = self.truth.is_empty();
        if first {
            self.context = Some([frame.clone(), frame.clone()]);
            self.last = 0;
            self.latest = Some(frame.clone());
        } else {
            self.owed.push_back((number, action));
        }
        self.truth.push_back((number, if first { 0 } else { action }, frame));
        // The newest frames are kept (enough to resync at any owed step), and so are the true
        // frames of the steps a call in flight will bring back: a call slower than the
        // simulator (a software GPU, a device starting again) still has every step scored.
        let in_flight = self.in_flight.unwrap_or(0);
        let pending = |number: u32| self.owed.iter().take(in_flight).any(|o| o.0 == number);
        let mut excess = (self.truth.iter().filter(|t| !pending(t.0)).count())
            .saturating_sub(MAX_BEHIND + 2);
        self.truth.retain(|t| {
            let drop = excess > 0 && !pending(t.0);
            excess -= usize::from(drop);
            !drop
        });
        self.skip_ahead();
    }

    /// Too far behind (a call took longer than the simulator's steps): the oldest owed steps
    /// are skipped, and the dream starts again from reality.
    fn skip_ahead(&mut self) {
        while self.owed.len() > MAX_BEHIND && self.in_flight.is_none() {
            self.owed.pop_front();
            self.resync_next = true;
            self.skipped += 1;
        }
    }

    /// The simulator's frame number `number`, with the move that led to it.
    fn truth_at(&self, number: u32) -> Option<&(u32, u8, Vec<u8>)> {
        self.truth.iter().find(|t| t.0 == number)
    }

    fn true_frame(&self, number: u32) -> Option<&Vec<u8>> {
        self.truth_at(number).map(|t| &t.2)
    }

    /// The next call to make, when none is in flight and steps are owed.
    pub fn request(&mut self) -> Option<Request> {
        if self.in_flight.is_some() || self.owed.is_empty() {
            return None;
        }
        self.skip_ahead();
        let resync_due = matches!(self.follow, Follow::Resync(k) if self.since_sync >= k.max(1));
        if self.resync_next || resync_due {
            self.resync();
        }
        let n = self.owed.len().min(MAX_BATCH);
        let context = self.context.clone()?;
        self.in_flight = Some(n);
        Some(Request {
            context,
            last: self.last,
            actions: self.owed.iter().take(n).map(|o| o.1).collect(),
            seed: self.seed.wrapping_add(self.steps),
        })
    }

    /// Restarts the dream from the two true frames before the oldest owed step.
    fn resync(&mut self) {
        let Some(&(number, _)) = self.owed.front() else {
            return;
        };
        let before = self.truth_at(number.wrapping_sub(1)).cloned();
        let two_before = self.true_frame(number.wrapping_sub(2)).cloned();
        if let Some((_, last, before)) = before {
            self.context = Some([two_before.unwrap_or_else(|| before.clone()), before]);
            self.last = last;
        }
        self.since_sync = 0;
        self.resync_next = false;
    }

    /// The frames of the request in flight came back (RGB, one per action).
    pub fn dreamed(&mut self, frames: Vec<Vec<u8>>) {
        let Some(n) = self.in_flight else {
            return;
        };
        if frames.len() != n || frames.iter().any(|f| f.len() != RGB_BYTES) {
            // Not what was asked for: skip the steps rather than show a wrong frame.
            self.failed();
            return;
        }
        self.in_flight = None;
        for frame in frames {
            let Some((number, action)) = self.owed.pop_front() else {
                break;
            };
            self.last = action;
            let (psnr, object_px) = self.true_frame(number).map_or((f32::NAN, f32::NAN), |t| {
                (
                    psnr(&frame, t),
                    object_error(&frame, t, &self.colours).unwrap_or(f32::NAN),
                )
            });
            self.history.push_back(Score {
                frame: number,
                psnr,
                object_px,
                resynced: self.since_sync == 0,
            });
            if self.history.len() > MAX_HISTORY {
                self.history.pop_front();
            }
            let context = self
                .context
                .get_or_insert_with(|| [frame.clone(), frame.clone()]);
            context.swap(0, 1);
            context[1] = frame.clone();
            self.latest = Some(frame);
            self.since_sync += 1;
            self.steps += 1;
        }
    }

    /// Continues the dream from `frame` (RGB) as if it were the current one: the model's own
    /// picture of a sentence, say. Steps already owed are dreamed from it.
    pub fn start_from(&mut self, frame: Vec<u8>) {
        assert_eq!(frame.len(), RGB_BYTES, "start_from: not a 64x64 RGB frame");
        self.context = Some([frame.clone(), frame.clone()]);
        self.last = 0;
        self.latest = Some(frame);
        self.since_sync = 0;
        self.resync_next = false;
    }

    /// The request in flight failed for a reason that is gone (the GPU device was lost and the
    /// model started again): the same steps are requested again.
    pub fn retry(&mut self) {
        self.in_flight = None;
    }

    /// The request in flight failed: its steps are skipped and the dream resyncs.
    pub fn failed(&mut self) {
        if let Some(n) = self.in_flight.take() {
            for _ in 0..n {
                self.owed.pop_front();
            }
            self.resync_next = true;
        }
    }

    /// The latest dreamed frame (RGB); the first true frame before any step is dreamed.
    pub fn latest(&self) -> Option<&[u8]> {
        self.latest.as_deref()
    }

    /// Scores of the dreamed steps, oldest first.
    pub fn history(&self) -> impl Iterator<Item = &Score> {
        self.history.iter()
    }

    /// Steps the dream is behind the simulator.
    pub fn behind(&self) -> usize {
        self.owed.len()
    }

    /// Steps skipped since the scene started because the model ran slower than the simulator.
    pub fn skipped(&self) -> u32 {
        self.skipped
    }

    /// Whether a request is in flight.
    pub fn busy(&self) -> bool {
        self.in_flight.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use world::scores::PSNR_CAP;

    fn frame(v: u8) -> Vec<u8> {
        vec![v; RGB_BYTES]
    }

    #[test]
    fn psnr_is_capped_for_equal_frames_and_falls_with_error() {
        assert_eq!(psnr(&frame(7), &frame(7)), PSNR_CAP as f32);
        let near = psnr(&frame(10), &frame(11));
        let far = psnr(&frame(10), &frame(60));
        assert!((near - 48.13).abs() < 0.01, "{near}");
        assert!(far < near);
    }

    #[test]
    fn object_error_measures_how_far_each_colour_moved_and_counts_lost_ones() {
        let red = [220, 40, 40];
        let blue = [40, 80, 220];
        let mut truth = frame(0);
        let mut dream = frame(0);
        let square = |f: &mut Vec<u8>, x0: u32, y0: u32, rgb: [u8; 3]| {
            for y in y0..y0 + 3 {
                for x in x0..x0 + 3 {
                    let i = ((y * FRAME_SIZE + x) * 3) as usize;
                    f[i..i + 3].copy_from_slice(&rgb);
                }
            }
        };
        square(&mut truth, 10, 10, red);
        square(&mut dream, 13, 14, red);
        assert_eq!(object_error(&dream, &truth, &[red]), Some(5.0));
        square(&mut truth, 40, 40, blue);
        assert_eq!(
            object_error(&dream, &truth, &[red, blue]),
            Some((5.0 + lost_object_px()) / 2.0)
        );
        assert_eq!(
            object_error(&dream, &frame(0), &[red]),
            None,
            "nothing in view"
        );
    }

    #[test]
    fn pixels_convert_both_ways() {
        let rgba = [1u8, 2, 3, 255, 4, 5, 6, 255];
        let rgb = rgba_to_rgb(&rgba);
        assert_eq!(rgb, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(rgb_to_rgba(&rgb), rgba.to_vec());
    }

    #[test]
    fn a_free_dream_follows_its_own_frames_and_scores_each_step() {
        let mut d = Dream::new(Follow::Free, 9);
        d.observe(0, 0, frame(0));
        assert!(
            d.request().is_none(),
            "nothing is owed before the first step"
        );
        d.observe(1, 3, frame(10));
        d.observe(2, 4, frame(20));
        let r = d.request().unwrap();
        assert_eq!(r.context, [frame(0), frame(0)]);
        assert_eq!(r.last, 0, "nothing led to the first frame");
        assert_eq!(r.actions, vec![3, 4]);
        assert_eq!(r.seed, 9);
        assert!(d.request().is_none(), "one request at a time");
        d.observe(3, 5, frame(30));
        d.dreamed(vec![frame(10), frame(25)]);
        let scores: Vec<Score> = d.history().copied().collect();
        assert_eq!(scores.len(), 2);
        assert_eq!(scores[0].psnr, PSNR_CAP as f32, "an exact frame scores the cap");
        assert!(scores[0].resynced && !scores[1].resynced);
        let r = d.request().unwrap();
        assert_eq!(
            r.context,
            [frame(10), frame(25)],
            "dreams from its own frames"
        );
        assert_eq!(r.last, 4, "the move that led to its latest frame");
        assert_eq!(r.actions, vec![5]);
        assert_eq!(r.seed, 11);
        assert_eq!(d.latest(), Some(&frame(25)[..]));
    }

    #[test]
    fn a_resyncing_dream_starts_again_from_the_true_frames() {
        let mut d = Dream::new(Follow::Resync(2), 0);
        for n in 0..=4u32 {
            d.observe(n, n as u8, frame(n as u8 * 10));
        }
        let r = d.request().unwrap();
        assert_eq!(r.actions.len(), 4);
        d.dreamed(vec![frame(1), frame(2), frame(3), frame(4)]);
        d.observe(5, 2, frame(50));
        let r = d.request().unwrap();
        assert_eq!(
            r.context,
            [frame(30), frame(40)],
            "the two true frames before step 5"
        );
        assert_eq!(r.last, 4, "and the true move that led to the later one");
        d.dreamed(vec![frame(50)]);
        assert!(d.history().last().unwrap().resynced);
    }

    #[test]
    fn a_dream_that_falls_far_behind_skips_ahead_and_resyncs() {
        let mut d = Dream::new(Follow::Free, 0);
        for n in 0..=(MAX_BEHIND as u32 + 10) {
            d.observe(n, 0, frame(n as u8));
        }
        assert_eq!(d.behind(), MAX_BEHIND);
        assert_eq!(d.skipped(), 10, "the ten oldest steps are skipped");
        let r = d.request().unwrap();
        let first = MAX_BEHIND as u8 + 10 - MAX_BEHIND as u8 + 1;
        assert_eq!(r.context, [frame(first - 2), frame(first - 1)]);
        assert_eq!(r.actions.len(), MAX_BATCH);
    }

    #[test]
    fn a_call_slower_than_the_simulator_still_has_its_steps_scored() {
        let mut d = Dream::new(Follow::Free, 0);
        for n in 0..=3u32 {
            d.observe(n, 0, frame(n as u8));
        }
        let r = d.request().unwrap();
        assert_eq!(r.actions.len(), 3);
        // The simulator runs far ahead while the call is out.
        for n in 4..=(3 * MAX_BEHIND as u32) {
            d.observe(n, 0, frame(n as u8));
        }
        assert!(
            d.truth.len() <= MAX_BEHIND + 2 + 3,
            "only the steps in flight are kept beyond the newest frames"
        );
        d.dreamed(vec![frame(1), frame(2), frame(3)]);
        let scores: Vec<f32> = d.history().map(|s| s.psnr).collect();
        assert_eq!(scores, vec![PSNR_CAP as f32; 3], "every step scored against its true frame");
        // Far behind now: the next call skips ahead and resyncs from the newest true frames,
        // and its steps are scored too.
        let r = d.request().unwrap();
        let first = 3 * MAX_BEHIND as u8 - MAX_BEHIND as u8 + 1;
        assert_eq!([r.context[0][0], r.context[1][0]], [first - 2, first - 1]);
        let frames = (0..r.actions.len() as u8).map(|i| frame(first + i)).collect();
        d.dreamed(frames);
        assert!(d.history().all(|s| s.psnr == PSNR_CAP as f32));
        assert_eq!(d.history().count(), 3 + MAX_BATCH);
    }

    #[test]
    fn frames_that_do_not_match_the_request_are_skipped_not_shown() {
        let mut d = Dream::new(Follow::Free, 0);
        for n in 0..=2u32 {
            d.observe(n, 0, frame(n as u8));
        }
        d.request().unwrap();
        d.dreamed(vec![frame(9)]);
        assert_eq!(d.history().count(), 0);
        assert_eq!(d.latest(), Some(&frame(0)[..]));
        assert!(!d.busy());
    }

    #[test]
    fn a_dream_can_start_from_a_drawn_frame() {
        let mut d = Dream::new(Follow::Free, 0);
        d.observe(0, 0, frame(0));
        d.start_from(frame(77));
        assert_eq!(d.latest(), Some(&frame(77)[..]));
        d.observe(1, 2, frame(1));
        assert_eq!(d.request().unwrap().context, [frame(77), frame(77)]);
    }

    #[test]
    fn a_failed_request_is_skipped_and_the_dream_resyncs() {
        let mut d = Dream::new(Follow::Free, 0);
        for n in 0..=3u32 {
            d.observe(n, 0, frame(n as u8));
        }
        d.request().unwrap();
        d.failed();
        assert_eq!(d.behind(), 0);
        d.observe(4, 0, frame(4));
        let r = d.request().unwrap();
        assert_eq!(r.context, [frame(2), frame(3)]);
    }
}
