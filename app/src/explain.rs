//! The Explain demo's plain part: turns one opened-up step of the frame predictor
//! (`runtime::DreamInside`) into pictures and words: what moved, how sure each pixel is, the
//! likeliest colours and where the model's state puts each thing.

use runtime::frame_net::Tracked;
use world::language::names::{colour_word, zone_colour_word};
use world::render::{palette_index, PALETTE, PALETTE_SIZE};
use world::scene::{Colour, ZoneColour};

/// The palette's colours in words, in [`PALETTE`]'s order.
pub fn class_name(class: u8) -> String {
    match class as usize {
        0 => "table".into(),
        1 => "sky".into(),
        2 => "wall".into(),
        3 => "floor".into(),
        4 => "agent".into(),
        5 => "agent's dot".into(),
        c if (6..12).contains(&c) => colour_word(Colour::ALL[c - 6]).into(),
        c if (12..PALETTE_SIZE).contains(&c) => {
            format!("{} zone", zone_colour_word(ZoneColour::ALL[c - 12]))
        }
        c => format!("colour {c}"),
    }
}

/// Values from 0 up as RGBA heat (dark blue to yellow), `top` and above brightest (the largest
/// value when `top` is `None`).
pub fn heat(values: &[f32], top: Option<f32>) -> Vec<u8> {
    let top = top
        .unwrap_or_else(|| values.iter().fold(0.0f32, |m, &v| m.max(v)))
        .max(1e-12);
    values
        .iter()
        .flat_map(|&v| {
            let x = (v / top).clamp(0.0, 1.0);
            [
                (20.0 + 235.0 * x) as u8,
                (24.0 + 200.0 * x.powf(0.7)) as u8,
                (80.0 * (1.0 - x) + 40.0 * x) as u8,
                255,
            ]
        })
        .collect()
}

/// How much each pixel changed between two RGB frames: the sum of its three differences over
/// the largest it can be (0 to 1).
pub fn motion(prev: &[u8], cur: &[u8]) -> Vec<f32> {
    prev.chunks_exact(3)
        .zip(cur.chunks_exact(3))
        .map(|(a, b)| {
            a.iter()
                .zip(b)
                .map(|(x, y)| x.abs_diff(*y) as f32)
                .sum::<f32>()
                / 765.0
        })
        .collect()
}

/// Each pixel painted in its likeliest palette colour, RGBA.
pub fn likeliest_picture(likeliest: &[[(u8, f32); 3]]) -> Vec<u8> {
    likeliest
        .iter()
        .flat_map(|top| {
            let [r, g, b] = PALETTE[(top[0].0 as usize).min(PALETTE_SIZE - 1)];
            [r, g, b, 255]
        })
        .collect()
}

/// The frame (RGB, `side` pixels a side) faded towards white, with a small cross at each
/// place the state gives each tracked thing (one per member of the dynamics ensemble) in the
/// thing's own colour, its centre black: RGBA.
pub fn state_picture(frame: &[u8], side: usize, tracked: &[Tracked]) -> Vec<u8> {
    let mut out: Vec<u8> = frame
        .chunks_exact(3)
        .flat_map(|p| {
            let fade = |v: u8| (255.0 - 0.45 * (255.0 - v as f32)) as u8;
            [fade(p[0]), fade(p[1]), fade(p[2]), 255]
        })
        .collect();
    let mut put = |x: i32, y: i32, rgb: [u8; 3]| {
        if (0..side as i32).contains(&x) && (0..side as i32).contains(&y) {
            let i = 4 * (y as usize * side + x as usize);
            out[i..i + 3].copy_from_slice(&rgb);
        }
    };
    for t in tracked {
        let colour = PALETTE[(t.class as usize).min(PALETTE_SIZE - 1)];
        for [x, y] in &t.places {
            let (x, y) = (x.round() as i32, y.round() as i32);
            for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                put(x + dx, y + dy, colour);
            }
            put(x, y, [0, 0, 0]);
        }
    }
    out
}

/// Where the state puts a tracked thing, in words: its mean place and how far its members
/// lie from it at most ("agent at (31.2, 40.0), the 3 members within 0.4 px").
pub fn describe_tracked(t: &Tracked) -> String {
    let n = t.places.len().max(1) as f32;
    let mean = [0, 1].map(|i| t.places.iter().map(|p| p[i]).sum::<f32>() / n);
    let spread = t
        .places
        .iter()
        .map(|p| ((p[0] - mean[0]).powi(2) + (p[1] - mean[1]).powi(2)).sqrt())
        .fold(0.0f32, f32::max);
    format!(
        "{} at ({:.1}, {:.1}), the {} members within {:.1} px",
        class_name(t.class),
        mean[0],
        mean[1],
        t.places.len(),
        spread
    )
}

/// What the net says of pixel `p` of a frame `side` pixels wide, in words.
pub fn describe_pixel(p: usize, side: usize, now: &[u8], change: f32, top: &[(u8, f32); 3]) -> String {
    let class = palette_index([now[3 * p], now[3 * p + 1], now[3 * p + 2]]);
    let likely = top
        .iter()
        .map(|(c, prob)| format!("{} {:.0}%", class_name(*c), prob * 100.0))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "pixel ({}, {}), {} now: changes with probability {:.0}%; likeliest next: {likely}",
        p % side,
        p / side,
        class_name(class),
        change * 100.0
    )
}

/// The cell of a `grid` x `grid` map under a point of a square picture of `size` pixels.
pub fn cell_at(x: f64, y: f64, size: f64, grid: usize) -> Option<usize> {
    if !(0.0..size).contains(&x) || !(0.0..size).contains(&y) {
        return None;
    }
    let cell = size / grid as f64;
    Some((y / cell) as usize * grid + (x / cell) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_palette_colour_has_a_name() {
        let names: Vec<String> = (0..PALETTE_SIZE as u8).map(class_name).collect();
        assert_eq!(names[4], "agent");
        assert_eq!(names[6], "red");
        assert_eq!(names[11], "orange");
        assert_eq!(names[13], "pink zone");
        assert!(names.iter().all(|n| !n.starts_with("colour")));
    }

    #[test]
    fn heat_and_motion_scale_as_documented() {
        let h = heat(&[0.0, 0.5, 1.0], None);
        assert_eq!(h.len(), 12);
        assert!(h[8] > h[4] && h[4] > h[0], "brighter for more");
        assert_eq!(heat(&[0.0, 0.0], None)[0], 20, "all zero stays dark");
        assert_eq!(heat(&[0.5], Some(0.5))[0], 255, "at the top: brightest");
        assert_eq!(motion(&[0, 0, 0, 9, 9, 9], &[255, 255, 255, 9, 9, 9]), vec![1.0, 0.0]);
    }

    #[test]
    fn the_state_is_drawn_as_crosses_over_the_faded_frame() {
        let frame = vec![0u8; 3 * 16];
        let t = Tracked {
            class: 6,
            places: vec![[1.0, 1.0], [2.4, 2.0]],
        };
        let rgba = state_picture(&frame, 4, &[t.clone()]);
        let at = |x: usize, y: usize| &rgba[4 * (y * 4 + x)..4 * (y * 4 + x) + 3];
        assert_eq!(at(1, 1), &[0, 0, 0], "a member's place: black centre");
        assert_eq!(at(2, 2), &[0, 0, 0]);
        assert_eq!(at(0, 1), &PALETTE[6], "its arms: the thing's colour");
        assert_eq!(at(3, 3)[0], 140, "the frame is faded");
        assert_eq!(
            describe_tracked(&t),
            "red at (1.7, 1.5), the 2 members within 0.9 px"
        );
        let now = [PALETTE[1], PALETTE[4]].concat();
        assert_eq!(
            describe_pixel(1, 2, &now, 0.25, &[(4, 0.75), (1, 0.2), (5, 0.05)]),
            "pixel (1, 0), agent now: changes with probability 25%; likeliest next: agent 75%, sky 20%, agent's dot 5%"
        );
        assert_eq!(cell_at(0.0, 0.0, 64.0, 8), Some(0));
        assert_eq!(cell_at(63.0, 9.0, 64.0, 8), Some(15));
        assert_eq!(cell_at(64.0, 0.0, 64.0, 8), None);
    }
}
