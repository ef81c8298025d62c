//! How people drive the agent: held keys become one of the nine discrete moves, a pointer held
//! on the world steers it continuously toward that point.

use world::action::Action;
use world::scene::ARENA;

/// A direction a key pushes the agent in (y up, as in the world).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Left,
    Right,
}

/// What a key does on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCommand {
    /// Held down, it pushes the agent this way.
    Move(Direction),
    TogglePlay,
    Step,
}

/// The command bound to a key, by its physical position (`KeyboardEvent.code`), so WASD sits
/// under the left hand on every keyboard layout.
pub fn key_command(code: &str) -> Option<KeyCommand> {
    use Direction::*;
    Some(match code {
        "ArrowUp" | "KeyW" => KeyCommand::Move(Up),
        "ArrowDown" | "KeyS" => KeyCommand::Move(Down),
        "ArrowLeft" | "KeyA" => KeyCommand::Move(Left),
        "ArrowRight" | "KeyD" => KeyCommand::Move(Right),
        "Space" => KeyCommand::TogglePlay,
        "Period" => KeyCommand::Step,
        _ => return None,
    })
}

/// Which direction keys are down. Opposite keys cancel; two perpendicular ones make a diagonal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeldKeys {
    up: bool,
    down: bool,
    left: bool,
    right: bool,
}

impl HeldKeys {
    fn slot(&mut self, direction: Direction) -> &mut bool {
        match direction {
            Direction::Up => &mut self.up,
            Direction::Down => &mut self.down,
            Direction::Left => &mut self.left,
            Direction::Right => &mut self.right,
        }
    }

    pub fn press(&mut self, direction: Direction) {
        *self.slot(direction) = true;
    }

    pub fn release(&mut self, direction: Direction) {
        *self.slot(direction) = false;
    }

    /// Forgets every key, for when the page loses focus and key-ups would go unseen.
    pub fn release_all(&mut self) {
        *self = HeldKeys::default();
    }

    /// The discrete move (index for [`Action::from_discrete`]): 0 stay, then E, NE, N, NW, W,
    /// SW, S, SE.
    pub fn discrete_move(&self) -> u8 {
        let x = self.right as i8 - self.left as i8;
        let y = self.up as i8 - self.down as i8;
        match (x, y) {
            (0, 0) => 0,
            (1, 0) => 1,
            (1, 1) => 2,
            (0, 1) => 3,
            (-1, 1) => 4,
            (-1, 0) => 5,
            (-1, -1) => 6,
            (0, -1) => 7,
            _ => 8, // (1, -1): south-east
        }
    }
}

/// Distance to the pointer, world units, under which the agent slows down in proportion, so it
/// settles on the point instead of circling it.
pub const ARRIVE_RADIUS: f32 = 1.0;

/// The continuous action that drives an agent at `agent` toward `target` (world units): full
/// speed when far, slowing linearly within [`ARRIVE_RADIUS`].
pub fn steer_toward(agent: [f32; 2], target: [f32; 2]) -> Action {
    let (dx, dy) = (target[0] - agent[0], target[1] - agent[1]);
    let distance = (dx * dx + dy * dy).sqrt();
    if distance < 1e-4 {
        return Action::STAY;
    }
    let speed = (distance / ARRIVE_RADIUS).min(1.0);
    Action::new(dx / distance * speed, dy / distance * speed)
}

/// A point on the canvas (CSS pixels from its top-left corner, of a canvas drawn `size` CSS
/// pixels wide and high) in world units: origin bottom-left, y up, clamped to the arena.
pub fn canvas_to_world(offset: [f32; 2], size: [f32; 2]) -> [f32; 2] {
    if !(size[0] > 0.0 && size[1] > 0.0) {
        return [ARENA / 2.0, ARENA / 2.0];
    }
    let x = offset[0] / size[0] * ARENA;
    let y = (1.0 - offset[1] / size[1]) * ARENA;
    [x.clamp(0.0, ARENA), y.clamp(0.0, ARENA)]
}

/// Everything a person is doing to the agent right now.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Steering {
    pub keys: HeldKeys,
    /// Where a pointer is held down on the world, world units; it wins over the keys.
    pub pointer: Option<[f32; 2]>,
}

impl Steering {
    /// The action for the next frame, given where the agent is.
    pub fn action(&self, agent: [f32; 2]) -> Action {
        match self.pointer {
            Some(target) => steer_toward(agent, target),
            None => Action::from_discrete(self.keys.discrete_move()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use world::action::DISCRETE_NAMES;

    fn held(directions: &[Direction]) -> HeldKeys {
        let mut keys = HeldKeys::default();
        for &d in directions {
            keys.press(d);
        }
        keys
    }

    #[test]
    fn single_keys_give_the_four_axis_moves() {
        use Direction::*;
        let name = |ds: &[Direction]| DISCRETE_NAMES[held(ds).discrete_move() as usize];
        assert_eq!(name(&[]), "stay");
        assert_eq!(name(&[Right]), "east");
        assert_eq!(name(&[Up]), "north");
        assert_eq!(name(&[Left]), "west");
        assert_eq!(name(&[Down]), "south");
    }

    #[test]
    fn two_perpendicular_keys_give_the_diagonal() {
        use Direction::*;
        let name = |ds: &[Direction]| DISCRETE_NAMES[held(ds).discrete_move() as usize];
        assert_eq!(name(&[Up, Right]), "north-east");
        assert_eq!(name(&[Up, Left]), "north-west");
        assert_eq!(name(&[Down, Left]), "south-west");
        assert_eq!(name(&[Down, Right]), "south-east");
    }

    #[test]
    fn opposite_keys_cancel() {
        use Direction::*;
        assert_eq!(held(&[Left, Right]).discrete_move(), 0);
        assert_eq!(held(&[Up, Down]).discrete_move(), 0);
        assert_eq!(
            DISCRETE_NAMES[held(&[Up, Down, Right]).discrete_move() as usize],
            "east"
        );
        assert_eq!(held(&[Up, Down, Left, Right]).discrete_move(), 0);
    }

    #[test]
    fn every_combination_agrees_with_the_world_action_it_names() {
        use Direction::*;
        let all = [Up, Down, Left, Right];
        for mask in 0..16u8 {
            let ds: Vec<Direction> = (0..4)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| all[i])
                .collect();
            let keys = held(&ds);
            let x = keys.right as i8 - keys.left as i8;
            let y = keys.up as i8 - keys.down as i8;
            let action = Action::from_discrete(keys.discrete_move());
            assert_eq!(
                (action.x.signum() as i8 * (action.x != 0.0) as i8),
                x,
                "{ds:?}"
            );
            assert_eq!(
                (action.y.signum() as i8 * (action.y != 0.0) as i8),
                y,
                "{ds:?}"
            );
        }
    }

    #[test]
    fn releasing_a_key_undoes_it() {
        let mut keys = held(&[Direction::Up, Direction::Right]);
        keys.release(Direction::Up);
        assert_eq!(keys.discrete_move(), 1);
        keys.release_all();
        assert_eq!(keys, HeldKeys::default());
    }

    #[test]
    fn arrows_and_wasd_map_to_the_same_directions() {
        for (arrow, letter) in [
            ("ArrowUp", "KeyW"),
            ("ArrowLeft", "KeyA"),
            ("ArrowDown", "KeyS"),
            ("ArrowRight", "KeyD"),
        ] {
            assert!(matches!(key_command(arrow), Some(KeyCommand::Move(_))));
            assert_eq!(key_command(arrow), key_command(letter));
        }
        assert_eq!(key_command("Space"), Some(KeyCommand::TogglePlay));
        assert_eq!(key_command("Period"), Some(KeyCommand::Step));
        assert_eq!(key_command("KeyQ"), None);
    }

    #[test]
    fn canvas_corners_map_to_arena_corners_with_y_up() {
        let size = [384.0, 384.0];
        assert_eq!(canvas_to_world([0.0, 0.0], size), [0.0, ARENA]);
        assert_eq!(canvas_to_world([384.0, 384.0], size), [ARENA, 0.0]);
        assert_eq!(
            canvas_to_world([192.0, 96.0], size),
            [ARENA / 2.0, ARENA * 0.75]
        );
        // A canvas shown smaller on a phone maps the same way.
        assert_eq!(
            canvas_to_world([100.0, 150.0], [200.0, 200.0]),
            [ARENA / 2.0, ARENA / 4.0]
        );
    }

    #[test]
    fn canvas_points_outside_or_on_an_empty_canvas_stay_in_the_arena() {
        assert_eq!(canvas_to_world([-50.0, 500.0], [384.0, 384.0]), [0.0, 0.0]);
        assert_eq!(
            canvas_to_world([10.0, 10.0], [0.0, 0.0]),
            [ARENA / 2.0, ARENA / 2.0]
        );
    }

    #[test]
    fn steering_is_full_speed_when_far_and_slows_near_the_target() {
        let far = steer_toward([1.0, 1.0], [9.0, 1.0]);
        assert_eq!((far.x, far.y), (1.0, 0.0));
        let near = steer_toward([1.0, 1.0], [1.0, 1.5]);
        assert!(
            (near.x).abs() < 1e-6 && (near.y - 0.5).abs() < 1e-6,
            "{near:?}"
        );
        assert_eq!(steer_toward([3.0, 3.0], [3.0, 3.0]), Action::STAY);
        let diagonal = steer_toward([0.0, 0.0], [5.0, 5.0]);
        assert!(((diagonal.x * diagonal.x + diagonal.y * diagonal.y) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_held_pointer_wins_over_keys() {
        let mut steering = Steering {
            keys: held(&[Direction::Left]),
            pointer: None,
        };
        assert_eq!(steering.action([5.0, 5.0]), Action::from_discrete(5));
        steering.pointer = Some([9.0, 5.0]);
        assert_eq!(steering.action([5.0, 5.0]), Action::new(1.0, 0.0));
    }
}
