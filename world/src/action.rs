//! The agent's action: a bounded target velocity, continuous or one of nine discrete moves.

use serde::{Deserialize, Serialize};

/// Top speed of the agent, world units per second.
pub const AGENT_MAX_SPEED: f32 = 6.0;

/// Continuous action: the agent's target velocity as a fraction of [`AGENT_MAX_SPEED`],
/// each component in [-1, 1] (longer vectors are scaled back to length 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub x: f32,
    pub y: f32,
}

/// 1/sqrt(2), written out so every platform uses the same bits.
const DIAG: f32 = 0.707_106_77;

/// The nine discrete moves used as action tokens: stay, then the eight compass directions
/// counter-clockwise from east.
pub const DISCRETE_ACTIONS: usize = 9;
const DIRECTIONS: [[f32; 2]; DISCRETE_ACTIONS] = [
    [0.0, 0.0],
    [1.0, 0.0],
    [DIAG, DIAG],
    [0.0, 1.0],
    [-DIAG, DIAG],
    [-1.0, 0.0],
    [-DIAG, -DIAG],
    [0.0, -1.0],
    [DIAG, -DIAG],
];

/// Names of the discrete moves, for display.
pub const DISCRETE_NAMES: [&str; DISCRETE_ACTIONS] = [
    "stay",
    "east",
    "north-east",
    "north",
    "north-west",
    "west",
    "south-west",
    "south",
    "south-east",
];

impl Action {
    pub const STAY: Action = Action { x: 0.0, y: 0.0 };

    /// A continuous action, clamped to the unit disc; NaN or infinite parts become 0.
    pub fn new(x: f32, y: f32) -> Action {
        let x = if x.is_finite() { x } else { 0.0 };
        let y = if y.is_finite() { y } else { 0.0 };
        let len2 = x * x + y * y;
        if len2 > 1.0 {
            let len = len2.sqrt();
            Action {
                x: x / len,
                y: y / len,
            }
        } else {
            Action { x, y }
        }
    }

    /// The discrete move with this index (0 = stay); indices past 8 mean stay.
    pub fn from_discrete(index: u8) -> Action {
        let [x, y] = DIRECTIONS
            .get(index as usize)
            .copied()
            .unwrap_or([0.0, 0.0]);
        Action { x, y }
    }

    /// The nearest discrete move: stay when the action is shorter than 0.3.
    pub fn to_discrete(self) -> u8 {
        let a = Action::new(self.x, self.y);
        if a.x * a.x + a.y * a.y < 0.09 {
            return 0;
        }
        let mut best = 1;
        let mut best_dot = f32::NEG_INFINITY;
        for (i, d) in DIRECTIONS.iter().enumerate().skip(1) {
            let dot = d[0] * a.x + d[1] * a.y;
            if dot > best_dot {
                best_dot = dot;
                best = i as u8;
            }
        }
        best
    }

    /// Target velocity in world units per second.
    pub fn velocity(self) -> [f32; 2] {
        let a = Action::new(self.x, self.y);
        [a.x * AGENT_MAX_SPEED, a.y * AGENT_MAX_SPEED]
    }
}
