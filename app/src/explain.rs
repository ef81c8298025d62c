//! The Explain demo's plain part: turns one opened-up model pass (`runtime::Inside`, here as
//! plain vectors) into pictures: tokens as colours, attention as heat, and the sequence's
//! labels.

/// What a token of the frame-mode sequence is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    /// Patch `i` of the previous frame.
    Prev(usize),
    /// Patch `i` of the current frame.
    Cur(usize),
    Action,
    Summary,
}

/// Token `t` of a sequence over frames of `patches` patches each: `prev`, `cur`, action,
/// summary.
pub fn token(t: usize, patches: usize) -> Token {
    match t {
        t if t < patches => Token::Prev(t),
        t if t < 2 * patches => Token::Cur(t - patches),
        t if t == 2 * patches => Token::Action,
        _ => Token::Summary,
    }
}

impl Token {
    /// In words, for labels and tooltips.
    pub fn describe(self, grid: usize) -> String {
        let at = |i: usize| format!("row {}, column {}", i / grid + 1, i % grid + 1);
        match self {
            Token::Prev(i) => format!("previous frame, patch at {}", at(i)),
            Token::Cur(i) => format!("current frame, patch at {}", at(i)),
            Token::Action => "the action".into(),
            Token::Summary => "the summary (the world's state)".into(),
        }
    }
}

/// Each of `rows` latents (`width` numbers each) as one RGBA pixel: its first three numbers
/// as red, green and blue, scaled by the largest magnitude among them over all rows (so the
/// colours of one frame compare), 0 in the middle grey.
pub fn latent_colours(latents: &[f32], rows: usize, width: usize) -> Vec<u8> {
    let take = width.min(3);
    let scale = (0..rows)
        .flat_map(|r| latents[r * width..r * width + take].iter())
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    let mut out = Vec::with_capacity(rows * 4);
    for r in 0..rows {
        for c in 0..3 {
            let v = if c < take {
                latents[r * width + c] / scale
            } else {
                0.0
            };
            out.push((127.5 + 127.5 * v.clamp(-1.0, 1.0)).round() as u8);
        }
        out.push(255);
    }
    out
}

/// Values from 0 up as RGBA heat (dark blue to yellow), the largest value brightest.
pub fn heat(values: &[f32]) -> Vec<u8> {
    let top = values.iter().fold(0.0f32, |m, &v| m.max(v)).max(1e-12);
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

/// Where query token `query` looks in layer `layer`: its attention weights over the `n` tokens,
/// for head `head`, or averaged over the heads when `None`. `attention` holds each layer's
/// `[heads, n, n]` weights.
pub fn looks(
    attention: &[Vec<f32>],
    heads: usize,
    n: usize,
    layer: usize,
    head: Option<usize>,
    query: usize,
) -> Vec<f32> {
    let Some(weights) = attention.get(layer) else {
        return vec![0.0; n];
    };
    let row = |h: usize| &weights[(h * n + query) * n..(h * n + query + 1) * n];
    match head {
        Some(h) if h < heads => row(h).to_vec(),
        _ => {
            let mut out = vec![0.0; n];
            for h in 0..heads {
                for (o, v) in out.iter_mut().zip(row(h)) {
                    *o += v / heads as f32;
                }
            }
            out
        }
    }
}

/// The token that asks until the visitor picks one: the current frame's patch at the middle
/// of a `grid` x `grid` frame (row and column `grid / 2`, counted from 0).
pub fn default_query(grid: usize) -> usize {
    let p = grid * grid;
    p + p / 2 + grid / 2
}

/// The patch of a `grid` x `grid` frame under a point of a square picture of `size` pixels.
pub fn patch_at(x: f64, y: f64, size: f64, grid: usize) -> Option<usize> {
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
    fn tokens_are_laid_out_prev_cur_action_summary() {
        let p = 4;
        let kinds: Vec<Token> = (0..2 * p + 2).map(|t| token(t, p)).collect();
        assert_eq!(kinds[0], Token::Prev(0));
        assert_eq!(kinds[5], Token::Cur(1));
        assert_eq!(kinds[8], Token::Action);
        assert_eq!(kinds[9], Token::Summary);
        assert_eq!(
            Token::Cur(5).describe(2),
            "current frame, patch at row 3, column 2"
        );
    }

    #[test]
    fn colours_and_heat_scale_to_the_largest_value() {
        let rgba = latent_colours(&[1.0, -1.0, 0.0, 9.0, 0.5, 0.0, 0.0, 0.0], 2, 4);
        assert_eq!(rgba, vec![255, 0, 128, 255, 191, 128, 128, 255]);
        let h = heat(&[0.0, 0.5, 1.0]);
        assert_eq!(h.len(), 12);
        assert!(h[8] > h[4] && h[4] > h[0], "brighter for more");
        assert_eq!(heat(&[0.0, 0.0])[0], 20, "all zero stays dark");
    }

    #[test]
    fn looks_picks_one_head_or_averages_them() {
        // Two heads over three tokens; query 1 of head 0 looks at token 0, of head 1 at token 2.
        let n = 3;
        let mut layer = vec![0.0; 2 * n * n];
        layer[n] = 1.0;
        layer[(n + 1) * n + 2] = 1.0;
        let attention = vec![layer];
        assert_eq!(looks(&attention, 2, n, 0, Some(0), 1), vec![1.0, 0.0, 0.0]);
        assert_eq!(looks(&attention, 2, n, 0, Some(1), 1), vec![0.0, 0.0, 1.0]);
        assert_eq!(looks(&attention, 2, n, 0, None, 1), vec![0.5, 0.0, 0.5]);
        assert_eq!(looks(&attention, 2, n, 5, None, 1), vec![0.0; 3]);
        assert_eq!(token(default_query(8), 64), Token::Cur(36));
        assert_eq!(patch_at(0.0, 0.0, 64.0, 8), Some(0));
        assert_eq!(patch_at(63.0, 9.0, 64.0, 8), Some(15));
        assert_eq!(patch_at(64.0, 0.0, 64.0, 8), None);
    }
}
