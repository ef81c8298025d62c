//! The frame predictor on the CPU: `model::frame_net::FrameNet`'s forward pass over
//! [`crate::maps`], on weights in the runtime's layout. It reads the last two frames, the move
//! that led to the last one and the agent's move now, and gives, per pixel of the next frame, logits over the renderer's palette with
//! the "keep the current colour" prior added; [`compose`] turns them into the next frame.
//!
//! Tensor names are burn's field paths (`stem.weight`, `r1.norm.gamma`, ...); shapes follow
//! from the width, which the loader reads off `stem.bias`.

use layout::weights::{read_tensors, LoadError, Weights};
use world::render::{palette_index, FRAME_SIZE, PALETTE, PALETTE_SIZE};

use crate::exec::Act;
use crate::state::StateNets;
use crate::track::Tracker;
use crate::maps::{add_per_item, concat, conv3, frame_input, group_norm, shuffle, upsample2, Map};

/// Palette classes per pixel.
pub const CLASSES: usize = PALETTE_SIZE;
/// The agent's discrete moves.
pub const MOVES: usize = world::action::DISCRETE_ACTIONS;
/// Frame side, pixels.
pub const SIDE: usize = FRAME_SIZE as usize;
/// Logit added to each pixel's current class (`model::frame_net::KEEP_PRIOR`).
pub const KEEP_PRIOR: f32 = 4.0;
/// Groups of every GroupNorm.
pub const NORM_GROUPS: usize = 8;
/// Input channels after the unshuffle: (current, previous, difference) x RGB x 4.
pub const INPUT_CHANNELS: usize = 36;

/// The residual blocks' names and their width as a multiple of the net's width.
const BLOCKS: [(&str, usize); 6] = [("r1", 1), ("r2", 2), ("r3a", 3), ("r3b", 3), ("r4", 2), ("r5", 1)];

/// The move tables, one learned bias per level.
const MOVE_TABLES: [&str; 3] = ["a1", "a2", "a3"];

/// Row of the move tables for the move `mv` after the move `last` (the one that led to the
/// current frame): tables of `MOVES * MOVES` rows are looked up by the pair (two frames give
/// the agent's mean speed over the last frame, the move that drove it how its motor was still
/// changing it), tables of `MOVES` rows by `mv` alone. Moves past the last are the last.
pub fn move_row(rows: usize, last: u8, mv: u8) -> usize {
    let (last, mv) = ((last as usize).min(MOVES - 1), (mv as usize).min(MOVES - 1));
    if rows == MOVES * MOVES {
        last * MOVES + mv
    } else {
        mv
    }
}

/// Every tensor of a frame net of this width with one or two residual blocks at 8x8
/// (`r3a`, and `r3b` when `bottleneck` is 2) and move tables of `move_rows` rows: name and
/// shape (runtime layout).
pub fn frame_net_specs(width: usize, bottleneck: usize, move_rows: usize) -> Vec<(String, Vec<usize>)> {
    let (c1, c2, c3) = (width, 2 * width, 3 * width);
    let mut s: Vec<(String, Vec<usize>)> = Vec::new();
    let mut conv3 = |name: &str, cin: usize, cout: usize| {
        s.push((format!("{name}.weight"), vec![9 * cin, cout]));
        s.push((format!("{name}.bias"), vec![cout]));
    };
    conv3("stem", INPUT_CHANNELS, c1);
    conv3("d1", c1, c2);
    conv3("d2", c2, c3);
    conv3("u2", c3 + c2, c2);
    conv3("u1", c2 + c1, c1);
    conv3("head", c1, 4 * CLASSES);
    let blocks = || BLOCKS.iter().filter(move |b| bottleneck == 2 || b.0 != "r3b");
    for (name, m) in blocks() {
        let c = m * width;
        conv3(&format!("{name}.c1"), c, c);
        conv3(&format!("{name}.c2"), c, c);
    }
    for (name, m) in blocks() {
        let c = m * width;
        s.push((format!("{name}.norm.gamma"), vec![c]));
        s.push((format!("{name}.norm.beta"), vec![c]));
    }
    for (name, c) in MOVE_TABLES.into_iter().zip([c1, c2, c3]) {
        s.push((format!("{name}.weight"), vec![move_rows, c]));
    }
    s
}

/// The operations the frame predictor is made of, on batches of feature maps: the CPU path
/// ([`CpuMaps`], over [`crate::maps`]) and the GPU path ([`crate::frame_gpu`], one WGSL
/// dispatch each) implement them, and [`body`] writes the network once over them.
pub trait MapOps {
    type M;
    /// `act(conv3x3(x) + bias + add)` with the 3x3 convolution `name`, stride 1 or 2.
    fn conv(&mut self, name: &str, x: &Self::M, stride: usize, act: Act, add: Option<&Self::M>) -> Self::M;
    /// GroupNorm `norm` ([`NORM_GROUPS`] groups; `{norm}.gamma`, `{norm}.beta`), then `act`.
    fn norm(&mut self, norm: &str, x: &Self::M, act: Act) -> Self::M;
    /// `x` plus row `mv` of the move table `{table}.weight` at every pixel.
    fn add_move(&mut self, x: &Self::M, table: &str, mv: usize) -> Self::M;
    /// The channels of `a` upsampled 2x (nearest), then those of `b`.
    fn up_concat(&mut self, a: &Self::M, b: &Self::M) -> Self::M;
}

/// [`MapOps`] on the CPU, over weights in the runtime's layout.
pub struct CpuMaps<'a>(pub &'a Weights);

impl MapOps for CpuMaps<'_> {
    type M = Map;
    fn conv(&mut self, name: &str, x: &Map, stride: usize, act: Act, add: Option<&Map>) -> Map {
        conv(self.0, name, x, stride, act, add)
    }
    fn norm(&mut self, norm: &str, x: &Map, act: Act) -> Map {
        let w = self.0;
        group_norm(x, w.get(&format!("{norm}.gamma")), w.get(&format!("{norm}.beta")), NORM_GROUPS, act)
    }
    fn add_move(&mut self, x: &Map, table: &str, mv: usize) -> Map {
        let t = self.0.get(&format!("{table}.weight"));
        let c = x.channels;
        let mut y = x.clone();
        add_per_item(&mut y, &t[mv * c..(mv + 1) * c].repeat(x.batch));
        y
    }
    fn up_concat(&mut self, a: &Map, b: &Map) -> Map {
        concat(&upsample2(a), b)
    }
}

/// A residual block's forward: `x + c2(gelu(c1(gelu(norm(x)))))`.
pub fn res_block<E: MapOps>(e: &mut E, name: &str, x: &E::M) -> E::M {
    let n = e.norm(&format!("{name}.norm"), x, Act::Gelu);
    let h = e.conv(&format!("{name}.c1"), &n, 1, Act::Gelu, None);
    e.conv(&format!("{name}.c2"), &h, 1, Act::None, Some(x))
}

/// The 3x3 convolution `name` on the CPU.
pub fn conv(w: &Weights, name: &str, x: &Map, stride: usize, act: Act, add: Option<&Map>) -> Map {
    conv3(
        x,
        w.get(&format!("{name}.weight")),
        w.get(&format!("{name}.bias")),
        stride,
        act,
        add,
    )
}

/// [`res_block`] on the CPU.
pub fn res(w: &Weights, name: &str, x: &Map) -> Map {
    res_block(&mut CpuMaps(w), name, x)
}

/// The frame predictor from its input map (`[SIDE / 2, INPUT_CHANNELS]`, [`frame_input`]) to
/// its head's output (`[SIDE / 2, 4 * CLASSES]`, before [`shuffle`]) for row `mv` of the move
/// tables ([`move_row`]), handing every stage's map to `inspect` (name, map): what the Explain
/// demo shows.
pub fn body<E: MapOps>(
    e: &mut E,
    bottleneck: usize,
    x: &E::M,
    mv: usize,
    inspect: &mut dyn FnMut(&str, &E::M),
) -> E::M {
    let h = e.conv("stem", x, 1, Act::Gelu, None);
    let h = e.add_move(&h, "a1", mv);
    let h1 = res_block(e, "r1", &h);
    inspect("32x32", &h1);
    let h = e.conv("d1", &h1, 2, Act::Gelu, None);
    let h = e.add_move(&h, "a2", mv);
    let h2 = res_block(e, "r2", &h);
    inspect("16x16", &h2);
    let h = e.conv("d2", &h2, 2, Act::Gelu, None);
    let h = e.add_move(&h, "a3", mv);
    let mut h3 = res_block(e, "r3a", &h);
    if bottleneck == 2 {
        h3 = res_block(e, "r3b", &h3);
    }
    inspect("8x8", &h3);
    let u = e.up_concat(&h3, &h2);
    let u = e.conv("u2", &u, 1, Act::Gelu, None);
    let u2 = res_block(e, "r4", &u);
    inspect("up 16x16", &u2);
    let u = e.up_concat(&u2, &h1);
    let u = e.conv("u1", &u, 1, Act::Gelu, None);
    let u1 = res_block(e, "r5", &u);
    inspect("up 32x32", &u1);
    e.conv("head", &u1, 1, Act::None, None)
}

/// The next frame's logits `[SIDE * SIDE, CLASSES]` from the head's output: unshuffled to
/// pixels, with the prior for each pixel's current class in `cur` added.
pub fn head_logits(head: &Map, cur: &[u8]) -> Vec<f32> {
    let mut logits = shuffle(head);
    for (px, l) in cur.chunks_exact(3).zip(logits.chunks_exact_mut(CLASSES)) {
        l[palette_index([px[0], px[1], px[2]]) as usize] += KEEP_PRIOR;
    }
    logits
}

/// The frame predictor's weights, checked.
#[derive(Clone, Debug)]
pub struct FrameNet {
    pub width: usize,
    /// Residual blocks at 8x8 (1 or 2).
    pub bottleneck: usize,
    /// Rows of the move tables: [`MOVES`], or `MOVES * MOVES` for (last move, move)
    /// ([`move_row`]).
    pub move_rows: usize,
    pub weights: Weights,
}

impl FrameNet {
    /// Reads and checks a safetensors file (`file` names it in errors).
    pub fn from_safetensors(bytes: &[u8], file: &str) -> Result<FrameNet, LoadError> {
        let width = stem_width(bytes, file, "stem.bias")?;
        if width == 0 || width % NORM_GROUPS != 0 {
            return Err(LoadError::Config(format!(
                "{file}: frame net width {width} is not a positive multiple of {NORM_GROUPS}"
            )));
        }
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| LoadError::Safetensors {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
        let bottleneck = if st.tensor("r3b.c1.bias").is_ok() { 2 } else { 1 };
        let move_rows = st.tensor("a1.weight").map_or(MOVES, |t| t.shape()[0]);
        if move_rows != MOVES && move_rows != MOVES * MOVES {
            return Err(LoadError::Config(format!(
                "{file}: the move table a1.weight has {move_rows} rows, not {MOVES} (one per move) or {} (one per pair of moves)",
                MOVES * MOVES
            )));
        }
        Ok(FrameNet {
            width,
            bottleneck,
            move_rows,
            weights: read_tensors(bytes, file, &frame_net_specs(width, bottleneck, move_rows))?,
        })
    }

    /// Parameters.
    pub fn parameters(&self) -> usize {
        self.weights.tensors.values().map(|(_, v)| v.len()).sum()
    }

    /// FLOPs of one forward pass (multiply-add = 2; convolutions only).
    pub fn flops(&self) -> f64 {
        let g = SIDE / 2;
        frame_net_specs(self.width, self.bottleneck, self.move_rows)
            .iter()
            .filter(|(n, _)| n.ends_with(".weight") && !MOVE_TABLES.iter().any(|t| n.starts_with(t)))
            .map(|(n, s)| {
                let side = match n.split('.').next().unwrap_or("") {
                    "d1" | "r2" | "u2" | "r4" => g / 2,
                    "d2" | "r3a" | "r3b" => g / 4,
                    _ => g,
                };
                2.0 * (s[0] * s[1] * side * side) as f64
            })
            .sum()
    }

    /// Dreams `actions.len()` frames after `context` (frames t-1 and t, reached by the move
    /// `last`): each step's logits,
    /// then the frame [`compose`] draws from them as `how` says (temperature 0: each pixel's
    /// most likely class; above: drawn from the tempered distribution with
    /// [`crate::rng::uniform`]`(seed, step, pixel)`), keeping the objects of `context[1]`.
    pub fn dream(&self, context: [&[u8]; 2], last: u8, actions: &[u8], how: Compose, temperature: f32, seed: u32) -> Vec<Vec<u8>> {
        self.dream_from(&mut Dreamer::new(context, last, how, temperature, seed, None), actions)
    }

    /// Dreams on from `d` with `actions`; returns the frames drawn.
    pub fn dream_from(&self, d: &mut Dreamer, actions: &[u8]) -> Vec<Vec<u8>> {
        for &a in actions {
            let logits = self.logits(&d.prev, &d.cur, d.last, a);
            d.draw(&logits, a);
        }
        std::mem::take(&mut d.frames)
    }

    /// Logits `[SIDE * SIDE, CLASSES]` of the next frame, row-major pixels, the prior for the
    /// current class included. `prev`, `cur`: `SIDE * SIDE * 3` bytes; `last` (the move that
    /// led to `cur`) and `mv` < [`MOVES`].
    pub fn logits(&self, prev: &[u8], cur: &[u8], last: u8, mv: u8) -> Vec<f32> {
        self.forward(prev, cur, last, mv, &mut |_, _| {})
    }

    /// [`FrameNet::logits`], handing every stage's map to `inspect` (name, map): what the
    /// Explain demo shows.
    pub fn forward(
        &self,
        prev: &[u8],
        cur: &[u8],
        last: u8,
        mv: u8,
        inspect: &mut dyn FnMut(&str, &Map),
    ) -> Vec<f32> {
        let row = move_row(self.move_rows, last, mv);
        let x = frame_input(prev, cur, SIDE);
        let head = body(&mut CpuMaps(&self.weights), self.bottleneck, &x, row, inspect);
        head_logits(&head, cur)
    }
}

/// A dream's state after its last frame, to go on from ([`Dreamer::resume`]).
#[derive(Clone, Debug)]
pub struct KeptDream {
    /// The last two frames the dream goes on from (crisp: [`Dreamer::shown`] may differ).
    last: [Vec<u8>; 2],
    /// The last two frames as shown, which a caller passes back to go on.
    shown: [Vec<u8>; 2],
    /// The move that led to `last[1]`.
    last_move: u8,
    objects: Objects,
    start_centroids: Vec<Option<[f32; 2]>>,
    tracker: Option<Tracker>,
    how: Compose,
}

/// A dream in progress, whichever path computes the logits: the last two frames, the objects
/// of the frame it started from and the frames drawn so far.
pub struct Dreamer<'a> {
    pub prev: Vec<u8>,
    pub cur: Vec<u8>,
    /// The move that led to `cur`.
    pub last: u8,
    pub frames: Vec<Vec<u8>>,
    /// The last two frames as shown (`frames` ends with them): the expected picture where
    /// tracked places are unsure, while the dream goes on from `prev` and `cur`.
    pub shown: [Vec<u8>; 2],
    objects: Objects,
    /// The dream's objects in the model's state, with the nets that move them
    /// ([`Compose::Track`]).
    tracker: Option<(Tracker, &'a StateNets)>,
    /// Per object, its [`whole_centroid`] in the frame the dream started from.
    start_centroids: Vec<Option<[f32; 2]>>,
    /// With a tracker, `[objects, agent]` the net draws whole are drawn again crisp where the
    /// net put them (as they looked at the start, moved by whole pixels; [`Object::whole`]).
    /// Off: the student trained on LibTorch draws a moving thing's anti-aliased edges better
    /// than a crisp copy moved by whole pixels, at every horizon on four sets of held-out
    /// episodes (+0.1 to +0.3 dB at h16; training/TRIES.md, "Leaving what the net draws whole").
    pub redraw_whole: [bool; 2],
    /// Shares of an object's pixels showing below which it is drawn whole where the tracker
    /// has it: `[untracked, tracked object, agent]` ([`keep_objects_from`]).
    pub below: [f32; 3],
    /// Imagined moves after which the agent is no longer redrawn where the tracker has it,
    /// however it fades: the net's own expected picture of it is drawn instead. Unlimited: a
    /// limit gained at h16 on some held-out sets and lost on others, with a dip just after it
    /// (training/TRIES.md, "Leaving what the net draws whole").
    pub agent_moves: usize,
    /// How unsure a tracked place is after some imagined moves, `[object, agent]`: a thing
    /// redrawn at its tracked place is shown as its expected picture under a Gaussian of that
    /// standard deviation ([`Object::spread`]; at temperature 0, crisp above it).
    pub spread: [Spread; 2],
    how: Compose,
    temperature: f32,
    seed: u32,
}

impl<'a> Dreamer<'a> {
    /// A dream from `context` (frames t-1 and t, reached by the move `last`); with
    /// [`Compose::Track`] and `state`, its objects are tracked in the model's state.
    pub fn new(context: [&[u8]; 2], last: u8, how: Compose, temperature: f32, seed: u32, state: Option<&'a StateNets>) -> Dreamer<'a> {
        let objects = Objects::of(context[1]);
        let start_centroids = objects.0.iter().map(|o| whole_centroid(o, context[1])).collect();
        let tracker = state.filter(|_| how == Compose::Track).map(|nets| (Tracker::new(nets, context, last), nets));
        Dreamer::from_parts(context, last, objects, start_centroids, tracker, how, temperature, seed)
    }

    /// A dream from `context` with these objects and tracker, drawn the page's way.
    #[allow(clippy::too_many_arguments)]
    fn from_parts(
        context: [&[u8]; 2],
        last: u8,
        objects: Objects,
        start_centroids: Vec<Option<[f32; 2]>>,
        tracker: Option<(Tracker, &'a StateNets)>,
        how: Compose,
        temperature: f32,
        seed: u32,
    ) -> Dreamer<'a> {
        Dreamer {
            prev: context[0].to_vec(),
            cur: context[1].to_vec(),
            last,
            frames: Vec::new(),
            shown: [context[0].to_vec(), context[1].to_vec()],
            objects,
            tracker,
            start_centroids,
            redraw_whole: [false; 2],
            below: [FADED, FADED_TRACKED, FADED_TRACKED],
            agent_moves: usize::MAX,
            spread: SPREAD,
            how,
            temperature,
            seed,
        }
    }

    /// Goes on with a dream that ended in `context` ([`Dreamer::into_kept`]): its objects and
    /// their tracked state carry on instead of being read again off its own dreamed frames.
    /// Otherwise (other frames, another drawing) a new dream, as [`Dreamer::new`].
    pub fn resume(
        kept: Option<KeptDream>,
        context: [&[u8]; 2],
        last: u8,
        how: Compose,
        temperature: f32,
        seed: u32,
        state: Option<&'a StateNets>,
    ) -> Dreamer<'a> {
        match kept {
            Some(k) if k.how == how && k.shown[0] == context[0] && k.shown[1] == context[1] && k.last_move == last => {
                let mut d = Dreamer::from_parts([&k.last[0], &k.last[1]], last, k.objects, k.start_centroids, k.tracker.zip(state), how, temperature, seed);
                d.shown = k.shown;
                d
            }
            _ => Dreamer::new(context, last, how, temperature, seed, state),
        }
    }

    /// Adds `frame` to the frames shown.
    fn show(&mut self, frame: Vec<u8>) {
        self.shown.swap(0, 1);
        self.shown[1] = frame.clone();
        self.frames.push(frame);
    }

    /// What [`Dreamer::resume`] needs to go on from the last two frames.
    pub fn into_kept(self) -> KeptDream {
        KeptDream {
            last: [self.prev, self.cur],
            shown: self.shown,
            last_move: self.last,
            objects: self.objects,
            start_centroids: self.start_centroids,
            tracker: self.tracker.map(|(t, _)| t),
            how: self.how,
        }
    }

    /// Where the dream's state puts each tracked thing now (none without a tracker): its palette
    /// class and its centre under each member of the dynamics ensemble, pixels.
    pub fn tracked(&self) -> Vec<Tracked> {
        let Some((tracker, _)) = &self.tracker else { return Vec::new() };
        self.objects
            .0
            .iter()
            .filter_map(|o| {
                let each = tracker.moved_by_member(o.class)?;
                let at = |d: &[f32; 2]| [o.centre[0] as f32 + d[0], o.centre[1] as f32 + d[1]];
                Some(Tracked { class: o.class, places: each.iter().map(at).collect() })
            })
            .collect()
    }

    /// Draws the next frame from its logits for move `mv` ([`compose`]; step `t` draws with
    /// [`crate::rng::uniform`]`(seed, t, pixel)`) and moves the dream on to it.
    pub fn draw(&mut self, logits: &[f32], mv: u8) {
        if let Some((tracker, nets)) = &mut self.tracker {
            tracker.step(nets, mv);
            let moves = tracker.moves();
            for o in self.objects.0.iter_mut() {
                o.at = tracker.moved(o.class).map(|d| [o.centre[0] + d[0].round() as i32, o.centre[1] + d[1].round() as i32]);
                let spread = self.spread[usize::from(o.class == AGENT_CLASS)];
                o.spread = if self.temperature > 0.0 { 0.0 } else { spread.after(moves) };
            }
        }
        let t = self.frames.len() as u32;
        let mut below = self.below;
        if self.tracker.as_ref().is_some_and(|(tracker, _)| tracker.moves() > self.agent_moves) {
            below[2] = 0.0;
        }
        let seed = self.seed;
        let tracking = self.tracker.is_some();
        // With a tracker the net's own drawing is measured before the objects are kept
        // (`compose` with Track is Soft, then `keep_objects`).
        let how = if tracking { Compose::Soft } else { self.how };
        let mut next = compose(&self.cur, logits, how, &self.objects, self.temperature, &mut |p| {
            crate::rng::uniform(seed, t, p as u32)
        });
        if tracking {
            for (o, start) in self.objects.0.iter_mut().zip(&self.start_centroids) {
                o.whole = false;
                let Some(start) = start.filter(|_| self.redraw_whole[usize::from(o.class == AGENT_CLASS)]) else { continue };
                if let Some(now) = whole_centroid(o, &next) {
                    let moved = [now[0] - start[0], now[1] - start[1]];
                    o.at = Some([o.centre[0] + moved[0].round() as i32, o.centre[1] + moved[1].round() as i32]);
                    o.whole = true;
                }
            }
            if self.objects.0.iter().any(|o| o.spread > 0.0) {
                // What is shown is the expected picture where the tracked places are unsure;
                // the dream goes on from the crisp frame (a spread-out agent fed back would
                // stay behind as a trail, its blended pixels kept as they are).
                let mut shown = next.clone();
                keep_objects_from(&self.objects, &self.cur, logits, &mut shown, below);
                let mut crisp = self.objects.clone();
                crisp.0.iter_mut().for_each(|o| o.spread = 0.0);
                keep_objects_from(&crisp, &self.cur, logits, &mut next, below);
                self.show(shown);
            } else {
                keep_objects_from(&self.objects, &self.cur, logits, &mut next, below);
                self.show(next.clone());
            }
        } else {
            self.show(next.clone());
        }
        self.prev = std::mem::replace(&mut self.cur, next);
        self.last = mv;
    }
}

/// A thing the dream's state tracks ([`Dreamer::tracked`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tracked {
    /// Its palette class ([`AGENT_CLASS`] for the agent).
    pub class: u8,
    /// Its centre under each member of the dynamics ensemble, pixels `[x, y]`.
    pub places: Vec<[f32; 2]>,
}

/// One stage of the frame predictor as the Explain demo shows it ([`FrameNet::forward`]'s
/// `inspect`): how active each place is and what its most varied channels say there.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StageView {
    /// "32x32", "16x16", "8x8", "up 16x16", "up 32x32".
    pub name: String,
    pub side: usize,
    pub channels: usize,
    /// Per place (row-major), the root mean square of its channels.
    pub activity: Vec<f32>,
    /// Per place, RGBA: the three channels that vary most over the places, each centred on its
    /// mean and scaled by its largest deviation (grey: the channel's mean).
    pub colours: Vec<u8>,
    /// Those three channels' indices.
    pub shown: [usize; 3],
}

impl StageView {
    /// The first map of `map`'s batch, named `name`.
    pub fn of(name: &str, map: &Map) -> StageView {
        let (side, c) = (map.side, map.channels);
        let places = side * side;
        let data = &map.data[..places * c];
        let activity = data
            .chunks_exact(c)
            .map(|v| (v.iter().map(|x| x * x).sum::<f32>() / c as f32).sqrt())
            .collect();
        let mean: Vec<f32> = (0..c).map(|k| data.iter().skip(k).step_by(c).sum::<f32>() / places as f32).collect();
        let var: Vec<f32> = (0..c).map(|k| data.iter().skip(k).step_by(c).map(|x| (x - mean[k]).powi(2)).sum()).collect();
        let mut order: Vec<usize> = (0..c).collect();
        order.sort_by(|&a, &b| var[b].total_cmp(&var[a]).then(a.cmp(&b)));
        let shown = [0, 1, 2].map(|i| order[i.min(c - 1)]);
        let scale = shown.map(|k| {
            data.iter().skip(k).step_by(c).fold(0.0f32, |m, x| m.max((x - mean[k]).abs())).max(1e-6)
        });
        let mut colours = Vec::with_capacity(places * 4);
        for v in data.chunks_exact(c) {
            for (k, s) in shown.iter().zip(scale) {
                colours.push((127.5 + 127.5 * ((v[*k] - mean[*k]) / s).clamp(-1.0, 1.0)).round() as u8);
            }
            colours.push(255);
        }
        StageView { name: name.to_string(), side, channels: c, activity, colours, shown }
    }
}

/// Per pixel of the next frame, from its logits (`[SIDE * SIDE, CLASSES]`) and the frame they
/// were computed from: the probability that it changes colour (1 minus its current class's
/// softmax) and its three likeliest classes with their probabilities, likeliest first.
pub fn change_and_likeliest(logits: &[f32], cur: &[u8]) -> (Vec<f32>, Vec<[(u8, f32); 3]>) {
    cur.chunks_exact(3)
        .zip(logits.chunks_exact(CLASSES))
        .map(|(px, l)| {
            let top = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let total: f32 = l.iter().map(|v| (v - top).exp()).sum();
            let p = |k: usize| (l[k] - top).exp() / total;
            let mut order: Vec<usize> = (0..CLASSES).collect();
            order.sort_by(|&a, &b| l[b].total_cmp(&l[a]).then(a.cmp(&b)));
            let now = palette_index([px[0], px[1], px[2]]) as usize;
            (1.0 - p(now), [0, 1, 2].map(|i| (order[i] as u8, p(order[i]))))
        })
        .unzip()
}

/// The width a net was exported at: the length of its `bias` tensor `name`.
pub fn stem_width(bytes: &[u8], file: &str, name: &str) -> Result<usize, LoadError> {
    let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| LoadError::Safetensors {
        file: file.to_string(),
        reason: e.to_string(),
    })?;
    let t = st.tensor(name).map_err(|_| LoadError::Missing {
        name: name.to_string(),
    })?;
    Ok(t.shape().iter().product())
}

/// How a dreamed pixel is drawn from its logits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Compose {
    /// Most likely class: its flat colour, or the exact current bytes when it is the current
    /// class.
    Hard,
    /// As `Hard`, except that a pixel whose class changes takes the expected colour under its
    /// distribution (the mean prediction): where the net is unsure where an object goes it
    /// draws a faint blend, which scores best on squared error but can fade the object out.
    Soft,
    /// As `Soft`, and an object that has all but faded out is drawn whole where the net finds
    /// it most likely ([`keep_objects`]): objects persist, at the price of a sharp guess where
    /// the net is unsure.
    Conserve,
    /// As `Conserve`, but an object (or the agent) that is fading is drawn whole where the
    /// model's state says it went: the reader reads them off the starting frames and the
    /// dynamics ensemble carries them through the moves ([`crate::track::Tracker`]; without the state nets, as
    /// `Conserve`). The page's default.
    #[default]
    Track,
}

impl std::str::FromStr for Compose {
    type Err = String;
    /// `hard`, `soft`, `conserve` or `track` (the command-line flags' spelling).
    fn from_str(s: &str) -> Result<Compose, String> {
        match s {
            "hard" => Ok(Compose::Hard),
            "soft" => Ok(Compose::Soft),
            "conserve" => Ok(Compose::Conserve),
            "track" => Ok(Compose::Track),
            o => Err(format!("\"{o}\" is no way to draw a dream: use hard, soft, conserve or track")),
        }
    }
}

/// The next frame from [`FrameNet::logits`]: at temperature 0 each pixel takes its most likely
/// class (kept bytes when that is its current class, else as `compose` says); above 0 each
/// pixel's class is drawn from `softmax(logits / temperature)` with `uniform` (a number in
/// 0..1 per pixel) and drawn as its flat colour unless it is the current class. With
/// [`Compose::Conserve`] the objects of `objects` are then kept ([`keep_objects`]).
pub fn compose(
    cur: &[u8],
    logits: &[f32],
    compose: Compose,
    objects: &Objects,
    temperature: f32,
    uniform: &mut dyn FnMut(usize) -> f32,
) -> Vec<u8> {
    let soft = compose != Compose::Hard && temperature <= 0.0;
    let mut out = Vec::with_capacity(cur.len());
    for (p, (px, l)) in cur.chunks_exact(3).zip(logits.chunks_exact(CLASSES)).enumerate() {
        let now = palette_index([px[0], px[1], px[2]]) as usize;
        let top = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let k = if temperature > 0.0 {
            let e: Vec<f32> = l.iter().map(|&v| ((v - top) / temperature).exp()).collect();
            let mut r = uniform(p) * e.iter().sum::<f32>();
            let mut k = CLASSES - 1;
            for (i, &ei) in e.iter().enumerate() {
                if r < ei {
                    k = i;
                    break;
                }
                r -= ei;
            }
            k
        } else {
            l.iter().position(|&v| v == top).unwrap_or(now)
        };
        if k == now {
            out.extend_from_slice(px);
        } else if soft {
            let e: Vec<f32> = l.iter().map(|&v| (v - top).exp()).collect();
            let z: f32 = e.iter().sum();
            for ch in 0..3 {
                let v: f32 = e.iter().zip(PALETTE.iter()).map(|(&ei, c)| ei * c[ch] as f32).sum::<f32>() / z;
                out.push(v.round().clamp(0.0, 255.0) as u8);
            }
        } else {
            out.extend_from_slice(&PALETTE[k]);
        }
    }
    if matches!(compose, Compose::Conserve | Compose::Track) {
        keep_objects(objects, cur, logits, &mut out);
    }
    out
}

/// Palette classes that make movable objects: the agent (with its dot, class 5) and the six
/// object colours.
pub const MOVABLE: std::ops::Range<usize> = 4..12;
/// Fewest pixels of a colour that make an object (fewer are anti-aliased edges that happen to
/// be nearest to an object colour).
pub const MIN_OBJECT_PIXELS: usize = 14;
/// Largest difference per channel at which a pixel still shows a colour (the evaluation's
/// colour tolerance, `world::scores::COLOUR_TOL`).
pub const VISIBLE: u8 = 40;

/// Whether a pixel shows colour `rgb` (within [`VISIBLE`] on every channel).
fn shows(px: &[u8], rgb: [u8; 3]) -> bool {
    (0..3).all(|i| px[i].abs_diff(rgb[i]) <= VISIBLE)
}
/// [`keep_objects`] redraws an object once fewer than this share of its pixels show its colour.
pub const FADED: f32 = 0.3;
/// As [`FADED`] for an object or the agent whose place the dream's state tracks
/// ([`Compose::Track`]): that place is the better guess, so it is taken sooner. With the
/// dynamics that see the walls and the last move, redrawing from 80% scored best (the agent
/// from 30% and the objects from 60%, as before them: 0.4 dB less at h2 and the same from h8
/// on; training/TRIES.md).
pub const FADED_TRACKED: f32 = 0.8;
/// How unsure a tracked place is after `h` imagined moves: a Gaussian's standard deviation of
/// `px * h^power` pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub px: f32,
    pub power: f32,
}

impl Spread {
    pub const NONE: Spread = Spread { px: 0.0, power: 1.0 };

    pub fn after(self, moves: usize) -> f32 {
        self.px * (moves as f32).powf(self.power)
    }
}

/// [`Dreamer::spread`]: `[object, agent]`. The agent's imagined place is off by about 0.7 px
/// after one move and 5.9 after sixteen (`dream_bounds --places`); `0.6 sqrt(h)` scored best of
/// the spreads tried on other held-out episodes than `eval`'s (`dream_bounds --seed 3000000
/// --spread ...`; training/TRIES.md). Objects stay crisp: a spread gained them nothing and
/// lost some (a pushed object is off along its push, by how heavy it is, not around its place).
pub const SPREAD: [Spread; 2] = [Spread::NONE, Spread { px: 0.6, power: 0.5 }];
/// The agent's palette class (its dot, class 5, goes with it).
pub const AGENT_CLASS: u8 = 4;
/// How far [`keep_objects`] slides an object from the centre of its probability, pixels.
const SEARCH: i32 = 3;

/// Least share of an object's pixels that must show its colour for [`whole_centroid`] to
/// measure where it is.
pub const WHOLE: f32 = 0.9;

/// Where `frame` shows `object` whole: the centroid (pixels) of the pixels within [`VISIBLE`] of
/// its colour, when at least [`WHOLE`] of its pixel count show it; `None` when it has faded or
/// spread out.
pub fn whole_centroid(object: &Object, frame: &[u8]) -> Option<[f32; 2]> {
    let rgb = PALETTE[object.class as usize];
    let (mut n, mut sx, mut sy) = (0usize, 0f32, 0f32);
    for (p, px) in frame.chunks_exact(3).enumerate() {
        if shows(px, rgb) {
            n += 1;
            sx += (p % SIDE) as f32;
            sy += (p / SIDE) as f32;
        }
    }
    (n as f32 >= WHOLE * object.pixels.len() as f32 && n > 0).then(|| [sx / n as f32, sy / n as f32])
}

/// The movable objects of the true frame a dream starts from: per colour with at least
/// [`MIN_OBJECT_PIXELS`] pixels, its pixels around their rounded centre (offsets and exact
/// bytes, anti-aliasing included; the agent's dot goes with the agent).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Objects(pub Vec<Object>);

#[derive(Clone, Debug, PartialEq)]
pub struct Object {
    pub class: u8,
    /// Its pixels around `centre`: offsets and exact bytes.
    pub pixels: Vec<(i32, i32, [u8; 3])>,
    /// Its rounded centre in the frame it was found in.
    pub centre: [i32; 2],
    /// Where the dream's state puts its centre now, when it is tracked ([`Compose::Track`]):
    /// [`keep_objects`] draws it there once it fades.
    pub at: Option<[i32; 2]>,
    /// The net drew it whole this step ([`whole_centroid`]) and `at` is where: [`keep_objects`]
    /// draws it there crisp, as it looked at the start, whatever share of it shows.
    pub whole: bool,
    /// How unsure its tracked place `at` is: the standard deviation, in pixels, of a Gaussian
    /// around it. Where it is redrawn at `at` (it faded, not drawn whole), [`keep_objects`]
    /// draws its expected picture under that Gaussian, crisp at 0.
    pub spread: f32,
}

impl Objects {
    pub fn of(frame: &[u8]) -> Objects {
        let classes: Vec<u8> = frame.chunks_exact(3).map(|px| palette_index([px[0], px[1], px[2]])).collect();
        let mut objects = Vec::new();
        for c in MOVABLE.filter(|&c| c != 5) {
            let of = |k: u8| k as usize == c || (c == 4 && k == 5);
            let at: Vec<usize> = (0..classes.len()).filter(|&p| of(classes[p])).collect();
            if at.len() < MIN_OBJECT_PIXELS {
                continue;
            }
            let centre = |coord: fn(usize) -> usize| {
                (at.iter().map(|&p| coord(p) as f32).sum::<f32>() / at.len() as f32).round() as i32
            };
            let (cx, cy) = (centre(|p| p % SIDE), centre(|p| p / SIDE));
            let pixels = at
                .iter()
                .map(|&p| ((p % SIDE) as i32 - cx, (p / SIDE) as i32 - cy, [frame[3 * p], frame[3 * p + 1], frame[3 * p + 2]]))
                .collect();
            objects.push(Object {
                class: c as u8,
                pixels,
                centre: [cx, cy],
                at: None,
                whole: false,
                spread: 0.0,
            });
        }
        Objects(objects)
    }
}

/// Objects in this world neither vanish nor change size, but where the net is unsure where one
/// goes it spreads it thin and, drawn soft, it fades out frame after frame. Once fewer than
/// [`FADED`] of an object's pixels in `drawn` show its colour ([`FADED_TRACKED`] when its place
/// is tracked), or when the net drew it whole ([`Object::whole`]), the object is drawn whole,
/// as it looked when the dream started: at its tracked or measured place ([`Object::at`]) when
/// it has one, else where the net finds it most likely ([`most_likely_place`]). Every other pixel is then drawn from its distribution
/// without the redrawn objects' classes, so the faint trace or the stale copy the net left of
/// them elsewhere goes (`cur`: the frame the logits were computed from, whose kept pixels keep
/// their bytes).
pub fn keep_objects(objects: &Objects, cur: &[u8], logits: &[f32], drawn: &mut [u8]) {
    keep_objects_from(objects, cur, logits, drawn, [FADED, FADED_TRACKED, FADED_TRACKED]);
}

/// [`keep_objects`] with the shares of showing pixels below which an object is redrawn:
/// `[untracked, tracked object, tracked agent]` (above 1: always). Which objects fade is judged
/// on the net's drawing alone, and all of them are placed before any is drawn, so no object's
/// clean-up takes out another's redrawn pixels.
pub fn keep_objects_from(objects: &Objects, cur: &[u8], logits: &[f32], drawn: &mut [u8], below: [f32; 3]) {
    let n = SIDE * SIDE;
    // The classes of an object: its colour, and the agent's dot with the agent.
    let of = |c: usize, k: usize| k == c || (c == AGENT_CLASS as usize && k == 5);
    let mut redrawn: Vec<(&Object, [i32; 2])> = Vec::new();
    for object in &objects.0 {
        let c = object.class as usize;
        let rgb = PALETTE[c];
        let showing = drawn.chunks_exact(3).filter(|px| shows(px, rgb)).count();
        let faded = match object.at {
            Some(_) if object.class == AGENT_CLASS => below[2],
            Some(_) => below[1],
            None => below[0],
        };
        if !object.whole && showing as f32 >= faded * object.pixels.len() as f32 {
            continue;
        }
        if let Some(place) = object.at.or_else(|| most_likely_place(object, logits, &|k| of(c, k))) {
            redrawn.push((object, place));
        }
    }
    if redrawn.is_empty() {
        return;
    }
    redrawn.sort_by_key(|(o, _)| o.class == AGENT_CLASS);
    // Each redrawn object where it goes: per pixel, how much of the object covers it and the
    // colour it brings (premultiplied), 1 and its bytes where it is drawn crisp.
    let placed: Vec<Vec<(usize, f32, [f32; 3])>> = redrawn
        .iter()
        .map(|&(o, at)| {
            cover(o, at, if o.whole { 0.0 } else { o.spread })
        })
        .collect();
    // Pixels a crisp object takes whole; the rest are drawn again below.
    let mut sprite = vec![false; n];
    for &(p, a, _) in placed.iter().flatten() {
        sprite[p] |= a >= 1.0;
    }
    let mut redrawn_class = [false; CLASSES];
    for (o, _) in &redrawn {
        for (k, r) in redrawn_class.iter_mut().enumerate() {
            *r |= of(o.class as usize, k);
        }
    }
    let mine = |k: usize| redrawn_class[k];
    // The objects are here, so not elsewhere: every other pixel is drawn from its distribution
    // without their classes.
    for p in (0..n).filter(|&p| !sprite[p]) {
        let l = &logits[p * CLASSES..(p + 1) * CLASSES];
        let now = palette_index([cur[3 * p], cur[3 * p + 1], cur[3 * p + 2]]) as usize;
        let others = (0..CLASSES).filter(|&k| !mine(k));
        let top = others.clone().map(|k| l[k]).fold(f32::NEG_INFINITY, f32::max);
        let best = others.clone().find(|&k| l[k] == top).unwrap_or(now);
        let whole_top = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        if top == whole_top && best != now {
            // The objects took no part in this pixel's most likely class: as drawn.
            continue;
        }
        if best == now {
            drawn[3 * p..3 * p + 3].copy_from_slice(&cur[3 * p..3 * p + 3]);
            continue;
        }
        let e: Vec<(usize, f32)> = others.map(|k| (k, (l[k] - top).exp())).collect();
        let z: f32 = e.iter().map(|(_, v)| v).sum();
        for ch in 0..3 {
            let v: f32 = e.iter().map(|&(k, ek)| ek * PALETTE[k][ch] as f32).sum::<f32>() / z;
            drawn[3 * p + ch] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    // Two things never overlap: a redrawn object is not drawn over pixels that show an object
    // the net drew or one redrawn before it, and the agent, whose imagined place is the least
    // sure, is drawn last.
    let mut taken = vec![false; n];
    for object in &placed {
        for &(p, a, c) in object {
            let k = palette_index([drawn[3 * p], drawn[3 * p + 1], drawn[3 * p + 2]]) as usize;
            if !taken[p] && !(MOVABLE.contains(&k) && !mine(k)) {
                for ch in 0..3 {
                    let v = drawn[3 * p + ch] as f32 * (1.0 - a) + c[ch];
                    drawn[3 * p + ch] = v.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        for &(p, a, _) in object {
            taken[p] |= a >= 0.5;
        }
    }
}

/// Where `object` placed at `at` covers the frame: per pixel, the share of it there and the
/// colour it brings (premultiplied by that share). Crisp at `spread` 0: its pixels, each
/// covered whole by its exact bytes; else its expected picture when its centre is off `at` by
/// a Gaussian of that standard deviation (pixels), over whole-pixel offsets within 2.5 of it.
fn cover(object: &Object, [x0, y0]: [i32; 2], spread: f32) -> Vec<(usize, f32, [f32; 3])> {
    let bytes = |b: [u8; 3]| b.map(f32::from);
    if spread < 0.35 {
        return object.pixels.iter().filter_map(|&(ox, oy, b)| Some((pixel_at(x0 + ox, y0 + oy)?, 1.0, bytes(b)))).collect();
    }
    let r = (2.5 * spread).ceil() as i32;
    let mut kernel = Vec::new();
    for dy in -r..=r {
        for dx in -r..=r {
            let d2 = (dx * dx + dy * dy) as f32 / (spread * spread);
            if d2 <= 2.5 * 2.5 {
                kernel.push((dx, dy, (-d2 / 2.0).exp()));
            }
        }
    }
    let z: f32 = kernel.iter().map(|k| k.2).sum();
    let mut share = std::collections::BTreeMap::<usize, (f32, [f32; 3])>::new();
    for &(dx, dy, w) in &kernel {
        for &(ox, oy, b) in &object.pixels {
            let Some(p) = pixel_at(x0 + dx + ox, y0 + dy + oy) else { continue };
            let cell = share.entry(p).or_insert((0.0, [0.0; 3]));
            cell.0 += w / z;
            for ch in 0..3 {
                cell.1[ch] += w / z * b[ch] as f32;
            }
        }
    }
    share.into_iter().map(|(p, (a, c))| (p, a.min(1.0), c)).collect()
}

/// The index of pixel `(x, y)`, `None` outside the frame.
fn pixel_at(x: i32, y: i32) -> Option<usize> {
    ((0..SIDE as i32).contains(&x) && (0..SIDE as i32).contains(&y)).then(|| y as usize * SIDE + x as usize)
}

/// Where `object` most likely is by the net: the centre of its classes' probability (above 2%
/// a pixel), moved by the shift within [`SEARCH`] pixels under which the object covers the most
/// probability; `None` when the net gives it nowhere.
fn most_likely_place(object: &Object, logits: &[f32], mine: &dyn Fn(usize) -> bool) -> Option<[i32; 2]> {
    let n = SIDE * SIDE;
    let prob: Vec<f32> = (0..n)
        .map(|p| {
            let l = &logits[p * CLASSES..(p + 1) * CLASSES];
            let top = l.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
            let z: f32 = l.iter().map(|&v| (v - top).exp()).sum();
            let m: f32 = (0..CLASSES).filter(|&k| mine(k)).map(|k| (l[k] - top).exp()).sum();
            m / z
        })
        .collect();
    let (mut w, mut sx, mut sy) = (0f32, 0f32, 0f32);
    for (p, &q) in prob.iter().enumerate() {
        let q = (q - 0.02).max(0.0);
        w += q;
        sx += q * (p % SIDE) as f32;
        sy += q * (p / SIDE) as f32;
    }
    if w < 1e-3 {
        return None;
    }
    let (cx, cy) = ((sx / w).round() as i32, (sy / w).round() as i32);
    let at = pixel_at;
    let mut best = (f32::NEG_INFINITY, cx, cy);
    for dy in -SEARCH..=SEARCH {
        for dx in -SEARCH..=SEARCH {
            let (x0, y0) = (cx + dx, cy + dy);
            let cover: f32 = object.pixels.iter().filter_map(|&(ox, oy, _)| at(x0 + ox, y0 + oy)).map(|p| prob[p]).sum();
            if cover > best.0 {
                best = (cover, x0, y0);
            }
        }
    }
    Some([best.1, best.2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_keeps_the_exact_bytes_of_pixels_that_keep_their_class() {
        // Two pixels: an anti-aliased one whose class stays, one that turns into class 3.
        let cur = [PALETTE[1][0].saturating_add(1), PALETTE[1][1], PALETTE[1][2], PALETTE[0][0], PALETTE[0][1], PALETTE[0][2]];
        let mut logits = vec![0f32; 2 * CLASSES];
        logits[palette_index([cur[0], cur[1], cur[2]]) as usize] = 9.0;
        logits[CLASSES + 3] = 30.0;
        for c in [Compose::Hard, Compose::Soft] {
            let out = compose(&cur, &logits, c, &Objects::default(), 0.0, &mut |_| 0.5);
            assert_eq!(&out[..3], &cur[..3], "{c:?}: the kept pixel changed");
            assert_eq!(&out[3..], &PALETTE[3], "{c:?}: a sure change is its class's colour");
        }
        // Sampling: a draw near 1 takes the last class with any weight.
        let out = compose(&cur, &logits, Compose::Soft, &Objects::default(), 1.0, &mut |_| 0.999_999);
        assert_eq!(&out[3..], &PALETTE[3]);
    }

    /// A table-coloured frame with a 5x5 red square at (20..25, 30..35).
    fn frame_with_square() -> Vec<u8> {
        let mut f: Vec<u8> = (0..SIDE * SIDE).flat_map(|_| PALETTE[0]).collect();
        for y in 30..35 {
            for x in 20..25 {
                f[3 * (y * SIDE + x)..3 * (y * SIDE + x) + 3].copy_from_slice(&PALETTE[6]);
            }
        }
        f
    }

    /// Logits that keep the table everywhere and give red `red` (a logit) on the square moved
    /// `dx` pixels right.
    fn logits_moving_square(dx: usize, red: f32) -> Vec<f32> {
        let mut l = vec![0f32; SIDE * SIDE * CLASSES];
        for p in 0..SIDE * SIDE {
            l[p * CLASSES] = 5.0;
        }
        for y in 30..35 {
            for x in 20 + dx..25 + dx {
                l[(y * SIDE + x) * CLASSES + 6] = red;
            }
        }
        l
    }

    fn red_pixels(f: &[u8]) -> Vec<usize> {
        f.chunks_exact(3).enumerate().filter(|(_, px)| *px == PALETTE[6]).map(|(p, _)| p).collect()
    }

    #[test]
    fn an_object_the_net_fades_out_is_drawn_whole_where_it_is_most_likely() {
        let cur = frame_with_square();
        let objects = Objects::of(&cur);
        assert_eq!(objects.0.len(), 1, "one object: the red square");
        assert_eq!(objects.0[0].pixels.len(), 25);
        // Red at 4.5 against the table's 5: everywhere the table wins, so drawn hard or soft
        // the square is gone (soft draws a blend nowhere near red).
        let logits = logits_moving_square(2, 4.5);
        for how in [Compose::Hard, Compose::Soft] {
            let out = compose(&cur, &logits, how, &objects, 0.0, &mut |_| 0.5);
            assert!(red_pixels(&out).is_empty(), "{how:?} keeps no red");
        }
        let out = compose(&cur, &logits, Compose::Conserve, &objects, 0.0, &mut |_| 0.5);
        let want: Vec<usize> = (30..35).flat_map(|y| (22..27).map(move |x| y * SIDE + x)).collect();
        assert_eq!(red_pixels(&out), want, "the whole square, 2 pixels right");
    }

    #[test]
    fn a_tracked_object_that_fades_is_drawn_where_the_state_puts_it() {
        let cur = frame_with_square();
        let mut objects = Objects::of(&cur);
        assert_eq!(objects.0[0].centre, [22, 32]);
        // The net's probability says 2 pixels right; the tracked state says 5 left, 1 up.
        objects.0[0].at = Some([17, 31]);
        let out = compose(&cur, &logits_moving_square(2, 4.5), Compose::Track, &objects, 0.0, &mut |_| 0.5);
        let want: Vec<usize> = (29..34).flat_map(|y| (15..20).map(move |x| y * SIDE + x)).collect();
        assert_eq!(red_pixels(&out), want, "the whole square where the state puts it");
    }

    #[test]
    fn an_unsure_tracked_place_draws_the_expected_picture() {
        let cur = frame_with_square();
        let mut objects = Objects::of(&cur);
        // The state puts it 10 pixels left, unsure by 1.5 pixels; the net's faint red and
        // the blend it leaves where the square was lie right of x = 20.
        objects.0[0].at = Some([12, 31]);
        objects.0[0].spread = 1.5;
        let out = compose(&cur, &logits_moving_square(2, 4.5), Compose::Track, &objects, 0.0, &mut |_| 0.5);
        // Per pixel left of x = 20, how far it has gone from the table toward red (in green,
        // where the two differ most).
        let (table, red) = (PALETTE[0][1] as f32, PALETTE[6][1] as f32);
        let share: Vec<(usize, f32)> = out
            .chunks_exact(3)
            .enumerate()
            .filter(|(p, _)| p % SIDE < 20)
            .map(|(p, px)| (p, (px[1] as f32 - table) / (red - table)))
            .collect();
        let mass: f32 = share.iter().map(|s| s.1).sum();
        assert!((mass - 25.0).abs() < 0.5, "the square's colour is spread, not lost or added: {mass}");
        let centre = |coord: fn(usize) -> usize| share.iter().map(|&(p, s)| s * coord(p) as f32).sum::<f32>() / mass;
        let (cx, cy) = (centre(|p| p % SIDE), centre(|p| p / SIDE));
        assert!((cx - 12.0).abs() < 0.05 && (cy - 31.0).abs() < 0.05, "centred where the state puts it: {cx}, {cy}");
        assert!(share.iter().filter(|s| s.1 > 0.02).count() > 49, "spread beyond the 5x5 square");
        assert!(red_pixels(&out).len() < 25, "no longer all crisp");
        // At spread 0 the same call draws it crisp.
        objects.0[0].spread = 0.0;
        let crisp = compose(&cur, &logits_moving_square(2, 4.5), Compose::Track, &objects, 0.0, &mut |_| 0.5);
        let want: Vec<usize> = (29..34).flat_map(|y| (10..15).map(move |x| y * SIDE + x)).collect();
        assert_eq!(red_pixels(&crisp), want);
    }

    #[test]
    fn an_object_still_showing_is_left_as_the_net_draws_it() {
        let cur = frame_with_square();
        let objects = Objects::of(&cur);
        let logits = logits_moving_square(1, 9.0);
        let soft = compose(&cur, &logits, Compose::Soft, &objects, 0.0, &mut |_| 0.5);
        assert_eq!(compose(&cur, &logits, Compose::Conserve, &objects, 0.0, &mut |_| 0.5), soft);
        let showing = soft.chunks_exact(3).filter(|px| shows(px, PALETTE[6])).count();
        assert_eq!(showing, 25, "the square moved one pixel, drawn by the net");
    }

    /// `f` with a 5x5 square of palette class `class` at (x0.., y0..).
    fn paint(f: &mut [u8], class: usize, x0: usize, y0: usize) {
        for y in y0..y0 + 5 {
            for x in x0..x0 + 5 {
                f[3 * (y * SIDE + x)..3 * (y * SIDE + x) + 3].copy_from_slice(&PALETTE[class]);
            }
        }
    }

    fn pixels_of(f: &[u8], class: usize) -> Vec<usize> {
        f.chunks_exact(3).enumerate().filter(|(_, px)| *px == PALETTE[class]).map(|(p, _)| p).collect()
    }

    fn square(x0: usize, y0: usize) -> Vec<usize> {
        (y0..y0 + 5).flat_map(|y| (x0..x0 + 5).map(move |x| y * SIDE + x)).collect()
    }

    #[test]
    fn an_object_the_net_draws_whole_is_measured_and_drawn_again_crisp_there() {
        let cur = frame_with_square();
        let mut objects = Objects::of(&cur);
        let start = whole_centroid(&objects.0[0], &cur).expect("the whole square");
        assert_eq!(start, [22.0, 32.0]);
        // The net moves the square 3 pixels right, one column of it only half sure (a blend).
        let mut logits = logits_moving_square(3, 20.0);
        for y in 30..35 {
            logits[(y * SIDE + 27) * CLASSES + 6] = 5.0;
        }
        let out = compose(&cur, &logits, Compose::Soft, &objects, 0.0, &mut |_| 0.5);
        assert_eq!(red_pixels(&out).len(), 20, "the blended column is not red");
        assert!(whole_centroid(&objects.0[0], &out).is_none(), "20 of 25 pixels show: not whole");
        for y in 30..35 {
            logits[(y * SIDE + 27) * CLASSES + 6] = 20.0;
        }
        let mut out = compose(&cur, &logits, Compose::Soft, &objects, 0.0, &mut |_| 0.5);
        let now = whole_centroid(&objects.0[0], &out).expect("whole again");
        assert_eq!([now[0] - start[0], now[1] - start[1]], [3.0, 0.0]);
        // Drawn whole there: every pixel of the square as it was, and nothing of it elsewhere.
        objects.0[0].at = Some([25, 32]);
        objects.0[0].whole = true;
        out[3 * (32 * SIDE + 25)..][..3].copy_from_slice(&[200, 60, 60]);
        keep_objects_from(&objects, &cur, &logits, &mut out, [FADED, FADED_TRACKED, FADED_TRACKED]);
        assert_eq!(red_pixels(&out), square(23, 30));
    }

    #[test]
    fn a_redrawn_object_leaves_no_stale_copy_where_the_net_kept_it() {
        let cur = frame_with_square();
        let mut objects = Objects::of(&cur);
        // The net keeps the square where it was (its current class wins) and the state puts
        // it 6 pixels right: always redrawn, it must not show twice.
        let mut logits = logits_moving_square(0, 20.0);
        for y in 30..35 {
            for x in 20..25 {
                logits[(y * SIDE + x) * CLASSES] = 16.0;
            }
        }
        objects.0[0].at = Some([28, 32]);
        let mut out = compose(&cur, &logits, Compose::Soft, &objects, 0.0, &mut |_| 0.5);
        keep_objects_from(&objects, &cur, &logits, &mut out, [FADED, 1.01, FADED]);
        assert_eq!(red_pixels(&out), square(26, 30), "one square, where the state puts it");
        assert!(pixels_of(&out, 0).len() >= SIDE * SIDE - 25, "the table where the square was");
    }

    #[test]
    fn redrawn_objects_keep_each_other_and_the_agent_never_covers_an_object() {
        // A red square at (20, 30), a blue one at (40, 30) and the agent at (40, 10); the net
        // fades all three out (the table wins everywhere).
        let mut cur: Vec<u8> = (0..SIDE * SIDE).flat_map(|_| PALETTE[0]).collect();
        paint(&mut cur, 6, 20, 30);
        paint(&mut cur, 7, 40, 30);
        paint(&mut cur, AGENT_CLASS as usize, 40, 10);
        let mut objects = Objects::of(&cur);
        assert_eq!(objects.0.iter().map(|o| o.class).collect::<Vec<_>>(), [AGENT_CLASS, 6, 7]);
        let mut logits = vec![0f32; SIDE * SIDE * CLASSES];
        for p in 0..SIDE * SIDE {
            logits[p * CLASSES] = 5.0;
        }
        // Both squares move 3 right; the agent is imagined onto the blue square.
        objects.0[0].at = Some([45, 32]);
        objects.0[1].at = Some([25, 32]);
        objects.0[2].at = Some([45, 32]);
        let out = compose(&cur, &logits, Compose::Track, &objects, 0.0, &mut |_| 0.5);
        assert_eq!(pixels_of(&out, 6), square(23, 30), "the red square, whole");
        assert_eq!(pixels_of(&out, 7), square(43, 30), "the blue square, whole, under the agent");
        assert!(pixels_of(&out, AGENT_CLASS as usize).iter().all(|p| !square(43, 30).contains(p)));
    }

    #[test]
    fn a_stage_shows_its_activity_and_its_most_varied_channels() {
        // Four places, three channels: channel 1 varies most, then 2; channel 0 is constant.
        let data = vec![1.0, -2.0, 0.5, 1.0, 2.0, 0.0, 1.0, 0.0, 0.25, 1.0, 0.0, 0.25];
        let v = StageView::of("tiny", &Map::new(data, 1, 2, 3));
        assert_eq!((v.side, v.channels, v.shown), (2, 3, [1, 2, 0]));
        assert!((v.activity[0] - ((1.0 + 4.0 + 0.25) / 3.0f32).sqrt()).abs() < 1e-6);
        // Channel 1 at its extremes is black and white; the constant channel is grey.
        assert_eq!(&v.colours[..4], &[0, 255, 128, 255]);
        assert_eq!(&v.colours[4..8], &[255, 0, 128, 255]);
    }

    #[test]
    fn each_pixel_tells_how_likely_it_changes_and_its_likeliest_class() {
        let cur = [PALETTE[1], PALETTE[1]].concat();
        let mut logits = vec![0.0; 2 * CLASSES];
        logits[1] = 10.0; // pixel 0 stays sky
        logits[CLASSES + 4] = 10.0; // pixel 1 becomes the agent
        logits[CLASSES + 1] = 8.0; // or stays sky, less likely
        let (change, likeliest) = change_and_likeliest(&logits, &cur);
        assert!(change[0] < 1e-3 && change[1] > 0.85, "{change:?}");
        assert_eq!([likeliest[0][0].0, likeliest[1][0].0, likeliest[1][1].0], [1, 4, 1]);
        let p = likeliest[1].iter().map(|(_, p)| p).sum::<f32>();
        assert!(likeliest[1][0].1 > 0.85 && p <= 1.0 + 1e-6, "{likeliest:?}");
    }

    #[test]
    fn drawings_are_named_as_the_flags_spell_them() {
        for (name, how) in [("hard", Compose::Hard), ("soft", Compose::Soft), ("conserve", Compose::Conserve), ("track", Compose::Track)] {
            assert_eq!(name.parse::<Compose>(), Ok(how));
        }
        let e = "blurry".parse::<Compose>().unwrap_err();
        assert!(e.contains("\"blurry\"") && e.contains("track"), "{e}");
    }

    #[test]
    fn bad_files_are_refused_with_what_is_wrong() {
        let e = FrameNet::from_safetensors(b"not a safetensors file", "frames.safetensors").unwrap_err();
        assert!(e.to_string().contains("frames.safetensors"), "{e}");
        let e = crate::state::StateNets::from_safetensors(b"", "state.safetensors").unwrap_err();
        assert!(e.to_string().contains("state.safetensors"), "{e}");
    }
}
