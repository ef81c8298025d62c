//! Exploration policies that collect data: they steer the agent into objects often, so
//! interactions are well represented (uniform random actions rarely touch anything).
//!
//! Policies read the simulator's true state. That is fine: they are the data collector, not
//! the model, which only ever sees frames, actions and text.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::action::Action;
use crate::scene::{Scene, AGENT_RADIUS};
use crate::sim::WorldState;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Go behind `target` (giving up after `patience` frames) and push it along `dir` for
    /// `frames` frames.
    Seek {
        target: usize,
        dir: [f32; 2],
        pushing: bool,
        frames: u32,
        patience: u32,
    },
    /// Keep going one way, turning now and then.
    Wander { dir: [f32; 2] },
}

/// A seeded mixture of object-seeking pushes and smooth wandering.
pub struct ExplorationPolicy {
    rng: ChaCha8Rng,
    mode: Mode,
    /// Chance of choosing a push over a wander when picking what to do next.
    seek_bias: f64,
}

/// A random unit vector, by rejection (no trigonometry: the same bits on every platform).
fn random_direction(rng: &mut ChaCha8Rng) -> [f32; 2] {
    loop {
        let (x, y) = (
            rng.random_range(-1.0f32..1.0),
            rng.random_range(-1.0f32..1.0),
        );
        let len2 = x * x + y * y;
        if (0.04..=1.0).contains(&len2) {
            let len = len2.sqrt();
            return [x / len, y / len];
        }
    }
}

fn normalized(v: [f32; 2]) -> Option<[f32; 2]> {
    let len = (v[0] * v[0] + v[1] * v[1]).sqrt();
    (len > 1e-4).then(|| [v[0] / len, v[1] / len])
}

impl ExplorationPolicy {
    /// A policy with its own random stream. Episodes draw how eager it is to push things.
    pub fn new(mut rng: ChaCha8Rng) -> ExplorationPolicy {
        let seek_bias = rng.random_range(0.5..0.95);
        ExplorationPolicy {
            rng,
            mode: Mode::Wander { dir: [1.0, 0.0] },
            seek_bias,
        }
    }

    fn choose(&mut self, scene: &Scene, state: &WorldState) -> Mode {
        let present: Vec<usize> = (0..state.objects.len())
            .filter(|&i| state.objects[i].present)
            .collect();
        if present.is_empty() || !self.rng.random_bool(self.seek_bias) {
            return Mode::Wander {
                dir: random_direction(&mut self.rng),
            };
        }
        let target = present[self.rng.random_range(0..present.len())];
        // Half the pushes aim at a zone, when there is one, so objects enter zones often.
        let pos = state.objects[target].position;
        let dir = match scene.zones.first() {
            Some(_) if self.rng.random_bool(0.5) => {
                let z = scene.zones[self.rng.random_range(0..scene.zones.len())].rect(scene.view);
                let centre = [(z.min[0] + z.max[0]) / 2.0, (z.min[1] + z.max[1]) / 2.0];
                normalized([centre[0] - pos[0], centre[1] - pos[1]]).unwrap_or([1.0, 0.0])
            }
            _ => random_direction(&mut self.rng),
        };
        Mode::Seek {
            target,
            dir,
            pushing: false,
            frames: self.rng.random_range(4..14),
            patience: 25,
        }
    }

    /// The next discrete action (see [`Action::from_discrete`]) for the current state.
    pub fn act(&mut self, scene: &Scene, state: &WorldState) -> u8 {
        if self.rng.random_bool(0.04) {
            return 0;
        }
        loop {
            match self.mode {
                Mode::Wander { dir } => {
                    if self.rng.random_bool(0.12) {
                        self.mode = self.choose(scene, state);
                        continue;
                    }
                    return Action::new(dir[0], dir[1]).to_discrete();
                }
                Mode::Seek {
                    target,
                    dir,
                    pushing,
                    frames,
                    patience,
                } => {
                    let o = &state.objects[target];
                    if !o.present || frames == 0 || patience == 0 {
                        self.mode = self.choose(scene, state);
                        continue;
                    }
                    let reach = scene.objects[target].bounding_radius() + AGENT_RADIUS + 0.4;
                    let behind = [
                        o.position[0] - dir[0] * reach,
                        o.position[1] - dir[1] * reach,
                    ];
                    let a = state.agent.position;
                    let to_behind = [behind[0] - a[0], behind[1] - a[1]];
                    let close =
                        to_behind[0] * to_behind[0] + to_behind[1] * to_behind[1] < 0.6 * 0.6;
                    let heading = if pushing || close {
                        self.mode = Mode::Seek {
                            target,
                            dir,
                            pushing: true,
                            frames: frames - 1,
                            patience,
                        };
                        // Push through the object's centre.
                        normalized([o.position[0] - a[0], o.position[1] - a[1]]).unwrap_or(dir)
                    } else {
                        self.mode = Mode::Seek {
                            target,
                            dir,
                            pushing,
                            frames,
                            patience: patience - 1,
                        };
                        normalized(to_behind).unwrap_or(dir)
                    };
                    return Action::new(heading[0], heading[1]).to_discrete();
                }
            }
        }
    }
}
