//! Turns display frames (about 60 a second, at irregular times) into whole simulator frames at
//! [`world::sim::FPS`] times the chosen speed.

use world::sim::FPS;

/// Most simulator frames one display frame may run. After the tab was hidden or the machine
/// stalled, the simulation resumes where it was instead of racing to catch up.
pub const MAX_FRAMES_PER_TICK: u32 = 4;

/// Counts wall-clock time into simulator frames, carrying the remainder between ticks.
#[derive(Clone, Debug, Default)]
pub struct Pacer {
    /// Timestamp of the previous tick, milliseconds; `None` right after a start or a pause.
    last_ms: Option<f64>,
    /// Simulated time owed but not yet stepped, milliseconds of simulation.
    owed_ms: f64,
}

impl Pacer {
    /// Milliseconds of simulated time per simulator frame.
    pub fn frame_ms() -> f64 {
        1000.0 / FPS as f64
    }

    /// How many frames to step at a display frame stamped `now_ms` (a monotonic clock such as
    /// `requestAnimationFrame`'s), running at `speed` times real time.
    pub fn frames_due(&mut self, now_ms: f64, speed: f32) -> u32 {
        let Some(last) = self.last_ms.replace(now_ms) else {
            return 0;
        };
        let elapsed = (now_ms - last).max(0.0);
        if !elapsed.is_finite() || !speed.is_finite() || speed <= 0.0 {
            return 0;
        }
        self.owed_ms += elapsed * speed as f64;
        let frame_ms = Pacer::frame_ms();
        // The epsilon absorbs rounding in FPS (an f32) and in summed display intervals, so
        // exactly one frame's worth of time is one frame.
        let due = (self.owed_ms / frame_ms + 1e-6).floor();
        if due >= MAX_FRAMES_PER_TICK as f64 {
            self.owed_ms = 0.0;
            return MAX_FRAMES_PER_TICK;
        }
        self.owed_ms = (self.owed_ms - due * frame_ms).max(0.0);
        due as u32
    }

    /// Forgets the clock, so time spent paused is not owed when play resumes.
    pub fn pause(&mut self) {
        *self = Pacer::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames stepped over `seconds` of display frames at `hz`.
    fn run(pacer: &mut Pacer, seconds: f64, hz: f64, speed: f32) -> u32 {
        let ticks = (seconds * hz).round() as u32;
        (0..=ticks)
            .map(|i| pacer.frames_due(i as f64 * 1000.0 / hz, speed))
            .sum()
    }

    #[test]
    fn one_second_at_normal_speed_runs_fps_frames() {
        assert_eq!(
            FPS.round(),
            10.0,
            "these numbers assume 10 frames per second"
        );
        assert_eq!(run(&mut Pacer::default(), 1.0, 60.0, 1.0), 10);
        assert_eq!(run(&mut Pacer::default(), 1.0, 144.0, 1.0), 10);
    }

    #[test]
    fn speed_scales_the_frame_rate() {
        assert_eq!(run(&mut Pacer::default(), 2.0, 60.0, 4.0), 80);
        assert_eq!(run(&mut Pacer::default(), 2.0, 60.0, 0.25), 5);
        assert_eq!(run(&mut Pacer::default(), 3.0, 60.0, 2.0), 60);
    }

    #[test]
    fn the_first_tick_only_starts_the_clock() {
        let mut pacer = Pacer::default();
        assert_eq!(pacer.frames_due(5_000.0, 1.0), 0);
        assert_eq!(pacer.frames_due(5_100.0, 1.0), 1);
    }

    #[test]
    fn a_long_stall_runs_a_bounded_number_of_frames_and_forgets_the_rest() {
        let mut pacer = Pacer::default();
        pacer.frames_due(0.0, 1.0);
        assert_eq!(pacer.frames_due(60_000.0, 1.0), MAX_FRAMES_PER_TICK);
        assert_eq!(
            pacer.frames_due(60_050.0, 1.0),
            0,
            "nothing more is owed after the stall"
        );
        assert_eq!(pacer.frames_due(60_100.0, 1.0), 1);
    }

    #[test]
    fn time_spent_paused_is_not_owed() {
        let mut pacer = Pacer::default();
        pacer.frames_due(0.0, 1.0);
        pacer.frames_due(50.0, 1.0);
        pacer.pause();
        assert_eq!(pacer.frames_due(10_000.0, 1.0), 0);
        assert_eq!(pacer.frames_due(10_099.0, 1.0), 0);
        assert_eq!(pacer.frames_due(10_100.0, 1.0), 1);
    }

    #[test]
    fn a_clock_going_backwards_steps_nothing() {
        let mut pacer = Pacer::default();
        pacer.frames_due(1_000.0, 1.0);
        assert_eq!(pacer.frames_due(500.0, 1.0), 0);
        assert_eq!(pacer.frames_due(600.0, 1.0), 1);
    }
}
