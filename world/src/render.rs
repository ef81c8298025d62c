//! Draws a world state to an anti-aliased RGB frame with tiny-skia. Frames are all the model
//! ever sees of the world: colours, shapes, sizes and positions, never mass or friction.

use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Rect as SkRect, Transform};

use crate::scene::{Scene, Shape, View, AGENT_RADIUS, ARENA, WALL};
use crate::sim::WorldState;

/// Default frame side, pixels: what the model is trained on.
pub const FRAME_SIZE: u32 = 64;

const TABLE: [u8; 3] = [236, 230, 214];
const SKY: [u8; 3] = [222, 232, 242];
const WALL_RGB: [u8; 3] = [90, 90, 100];
const FLOOR_RGB: [u8; 3] = [120, 100, 80];
const AGENT_RGB: [u8; 3] = [35, 35, 45];
const AGENT_DOT: [u8; 3] = [250, 250, 250];

/// Every flat colour the renderer paints, in a fixed order: the table, the sky, walls, floor,
/// the agent and its dot, the six object colours ([`Colour::ALL`]) and the two zone colours
/// ([`ZoneColour::ALL`]). Anti-aliased edges blend two of them; every other pixel is one of
/// these exactly. The world model predicts frames as choices among them.
pub const PALETTE: [[u8; 3]; 14] = [
    TABLE, SKY, WALL_RGB, FLOOR_RGB, AGENT_RGB, AGENT_DOT,
    [220, 40, 40], [40, 80, 220], [235, 200, 30], [140, 50, 180], [30, 190, 200], [240, 130, 20],
    [150, 225, 150], [245, 175, 215],
];

/// Number of [`PALETTE`] colours.
pub const PALETTE_SIZE: usize = PALETTE.len();

/// Index in [`PALETTE`] of the palette colour nearest to `rgb` (squared distance over the three
/// channels; the first of equals wins): what an anti-aliased pixel mostly is.
pub fn palette_index(rgb: [u8; 3]) -> u8 {
    let mut best = (u32::MAX, 0u8);
    for (i, p) in PALETTE.iter().enumerate() {
        let d: u32 = (0..3)
            .map(|c| {
                let e = rgb[c] as i32 - p[c] as i32;
                (e * e) as u32
            })
            .sum();
        if d < best.0 {
            best = (d, i as u8);
        }
    }
    best.1
}

/// Renders frames of one size, reusing its pixel buffer.
pub struct Renderer {
    pixmap: Pixmap,
    /// Pixels per world unit.
    scale: f32,
}

/// Errors making a renderer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RenderError {
    #[error("frame size {0}x{1} is not allowed: use 8 to 2048 pixels a side")]
    BadSize(u32, u32),
}

fn paint(rgb: [u8; 3]) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(rgb[0], rgb[1], rgb[2], 255);
    p.anti_alias = true;
    p
}

impl Renderer {
    /// A renderer for `width` x `height` frames (the arena is stretched to fill them).
    pub fn new(width: u32, height: u32) -> Result<Renderer, RenderError> {
        if !(8..=2048).contains(&width) || !(8..=2048).contains(&height) {
            return Err(RenderError::BadSize(width, height));
        }
        let pixmap = Pixmap::new(width, height).ok_or(RenderError::BadSize(width, height))?;
        Ok(Renderer {
            pixmap,
            scale: width as f32 / ARENA,
        })
    }

    pub fn width(&self) -> u32 {
        self.pixmap.width()
    }

    pub fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// World to pixel transform for a body at `pos` with rotation (cos, sin); y flips.
    fn body_transform(&self, pos: [f32; 2], rot: [f32; 2]) -> Transform {
        let sx = self.scale;
        let sy = self.pixmap.height() as f32 / ARENA;
        let (c, s) = (rot[0], rot[1]);
        Transform::from_row(
            sx * c,
            -sy * s,
            -sx * s,
            -sy * c,
            sx * pos[0],
            self.pixmap.height() as f32 - sy * pos[1],
        )
    }

    fn fill_world_rect(&mut self, min: [f32; 2], max: [f32; 2], rgb: [u8; 3]) {
        if let Some(r) = SkRect::from_ltrb(min[0], min[1], max[0], max[1]) {
            let t = self.body_transform([0.0, 0.0], [1.0, 0.0]);
            self.pixmap.fill_rect(r, &paint(rgb), t, None);
        }
    }

    /// Draws `state` of `scene`; returns premultiplied RGBA bytes (every pixel is opaque, so
    /// they are plain RGBA), `width * height * 4` long.
    pub fn draw(&mut self, scene: &Scene, state: &WorldState) -> &[u8] {
        let bg = if scene.view == View::TopDown {
            TABLE
        } else {
            SKY
        };
        self.pixmap
            .fill(Color::from_rgba8(bg[0], bg[1], bg[2], 255));

        for zone in &scene.zones {
            let r = zone.rect(scene.view);
            self.fill_world_rect(r.min, r.max, zone.colour.rgb());
        }

        // Walls and floor, as the simulator builds them.
        let t = WALL;
        match scene.view {
            View::TopDown => {
                self.fill_world_rect([0.0, 0.0], [ARENA, t], WALL_RGB);
                self.fill_world_rect([0.0, ARENA - t], [ARENA, ARENA], WALL_RGB);
                self.fill_world_rect([0.0, 0.0], [t, ARENA], WALL_RGB);
                self.fill_world_rect([ARENA - t, 0.0], [ARENA, ARENA], WALL_RGB);
            }
            View::Side => {
                self.fill_world_rect([0.0, 0.0], [ARENA, t], FLOOR_RGB);
                if scene.side_walls {
                    self.fill_world_rect([0.0, 0.0], [t, ARENA], WALL_RGB);
                    self.fill_world_rect([ARENA - t, 0.0], [ARENA, ARENA], WALL_RGB);
                }
            }
        }

        for (object, body) in scene.objects.iter().zip(&state.objects) {
            if !body.present {
                continue;
            }
            let h = object.size.half_extent();
            let transform = self.body_transform(body.position, body.rotation);
            let path = match object.shape {
                Shape::Ball => PathBuilder::from_circle(0.0, 0.0, h),
                Shape::Box => SkRect::from_ltrb(-h, -h, h, h).map(PathBuilder::from_rect),
            };
            if let Some(path) = path {
                self.pixmap.fill_path(
                    &path,
                    &paint(object.colour.rgb()),
                    FillRule::Winding,
                    transform,
                    None,
                );
            }
        }

        let transform = self.body_transform(state.agent.position, [1.0, 0.0]);
        for (r, rgb) in [(AGENT_RADIUS, AGENT_RGB), (AGENT_RADIUS * 0.35, AGENT_DOT)] {
            if let Some(path) = PathBuilder::from_circle(0.0, 0.0, r) {
                self.pixmap
                    .fill_path(&path, &paint(rgb), FillRule::Winding, transform, None);
            }
        }
        self.pixmap.data()
    }

    /// Draws `state` and returns packed RGB bytes, `width * height * 3` long (what the model
    /// sees and the dataset stores).
    pub fn draw_rgb(&mut self, scene: &Scene, state: &WorldState) -> Vec<u8> {
        let rgba = self.draw(scene, state);
        let mut rgb = Vec::with_capacity(rgba.len() / 4 * 3);
        for px in rgba.chunks_exact(4) {
            rgb.extend_from_slice(&px[..3]);
        }
        rgb
    }
}

#[cfg(test)]
mod palette_tests {
    use super::*;
    use crate::scene::{Colour, ZoneColour};

    #[test]
    fn palette_lists_every_object_and_zone_colour_in_order() {
        for (i, c) in Colour::ALL.iter().enumerate() {
            assert_eq!(PALETTE[6 + i], c.rgb());
        }
        for (i, z) in ZoneColour::ALL.iter().enumerate() {
            assert_eq!(PALETTE[12 + i], z.rgb());
        }
        for (i, p) in PALETTE.iter().enumerate() {
            assert_eq!(palette_index(*p) as usize, i);
        }
    }
}
