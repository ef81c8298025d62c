//! How much of each question the model's state carries: the page's reader reads the slots off
//! every frame of a clip (pixels only), and a small classifier (an MLP trained here, in burn)
//! answers each question from the tracks of the things it names, the agent's and every
//! object's, against the most common answer of its template. A probe, not the page's answerer:
//! the question's words are parsed to say which slots it names (the goal reader learns that
//! mapping from words elsewhere), so what it measures is what the state itself carries.
//! `--truth` reads the simulator's slots instead (a bound for a perfect reader).
//! `--surprise` adds, per thing named, how its read motion differed from what the page's
//! dynamics ensemble imagines for it over three frames from each frame (pushed by the agent:
//! along the push; away from it: along its own motion): hidden properties show as the world
//! model's surprise, since the dynamics predicts the mean response over masses and frictions.
//!
//!     cargo run -p model --release --example qa_probe -- [--train 2000] [--test 300] [--truth] [--surprise]

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::store::ModuleRecord;
use burn::tensor::activation::{gelu, log_softmax, sigmoid};
use burn::tensor::{Bytes, Device, Int, Tensor, TensorData};
use rand::Rng;
use rand::SeedableRng;

use layout::slots::{labels, object_slot, zone_slot, AGENT_SLOT, FIRST_ZONE_SLOT, MOTION_SCALE, OBJECT_SLOTS, SLOTS};
use model::batches::frames_tensor;
use model::state_net::Reader;
use world::episode::{generate_episode, Episode, EpisodeConfig};
use world::language::question::{Question, Slot, Template, Thing};
use world::scene::{Shape, AGENT_RADIUS, ARENA};
use runtime::state::{dyn_agent, dyn_object, StateNets};
use layout::slots::Slot as LSlot;

/// Frames of a clip the classifier sees (every second one of 41).
const T: usize = 21;
/// Per slot and frame: present, u, v, du, dv (times `MOTION_SCALE`), size.
const PER: usize = 6;
/// Referents a question names, at most.
const REFS: usize = 3;
/// Referent kinds: none, colour, object, agent, wall, floor, zone.
const KINDS: usize = 7;
/// Frames over which [`surprise`] compares imagined and read motion.
const WINDOW: usize = 3;
/// Surprise features per thing named ([`surprise`]).
const SURPRISE: usize = 8;
const FEATURES: usize = Template::ALL.len() + T + REFS * (KINDS + 1 + T * PER + T + SURPRISE) + (1 + OBJECT_SLOTS) * T * PER + 2 * PER;

type Slots = Vec<[[f32; PER]; SLOTS]>;

/// Every frame's slots, read by the reader (or the simulator's with `truth`).
fn read(reader: &Reader, e: &Episode, truth: bool, device: &Device) -> Slots {
    let n = e.frame_count();
    let mut out = vec![[[0f32; PER]; SLOTS]; n];
    if truth {
        for (t, o) in out.iter_mut().enumerate() {
            let l = labels(&e.scene, &e.states[t], t.checked_sub(1).map(|p| &e.states[p]));
            for s in 0..SLOTS {
                let x = &l.slots[s];
                o[s] = [f32::from(u8::from(x.present)), x.pos[0], x.pos[1], x.ab[0] * MOTION_SCALE, x.ab[1] * MOTION_SCALE, x.size * 10.0];
            }
        }
        return out;
    }
    let prev: Vec<&[u8]> = (0..n).map(|t| e.frame(t.saturating_sub(1))).collect();
    let cur: Vec<&[u8]> = (0..n).map(|t| e.frame(t)).collect();
    let r = reader.forward(frames_tensor(&prev, device), frames_tensor(&cur, device));
    let v = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().expect("f32");
    let presence = v(sigmoid(r.presence));
    let pos = v(r.pos.reshape([n, 2 * SLOTS]));
    let size = v(r.size);
    for t in 0..n {
        for s in 0..SLOTS {
            let p = [pos[(t * SLOTS + s) * 2], pos[(t * SLOTS + s) * 2 + 1]];
            let before = t.checked_sub(1).map_or(p, |u| [pos[(u * SLOTS + s) * 2], pos[(u * SLOTS + s) * 2 + 1]]);
            out[t][s] = [presence[t * SLOTS + s], p[0], p[1], (p[0] - before[0]) * MOTION_SCALE, (p[1] - before[1]) * MOTION_SCALE, size[t * SLOTS + s]];
        }
    }
    out
}

/// How the read motion of object slot `s` (and the agent's, pushing it) differed from what
/// the dynamics ensemble imagines over [`WINDOW`] frames from each frame of the first `clip`:
/// pushed (the agent touching it, within a fiftieth of the arena, and closing in) the count,
/// the mean imagined and read displacement of the object along the push, and the mean read
/// minus imagined displacement of the object and of the agent along it; away from the agent,
/// with the object moving, the count and the mean read minus imagined displacement along its
/// motion; last, the object's summed surprise along the push.
fn surprise(nets: &StateNets, e: &Episode, slots: &Slots, s: usize, clip: usize) -> [f32; SURPRISE] {
    let side = runtime::track::side_view(e.frame(0));
    let slot = |t: usize, k: usize| -> LSlot {
        let x = &slots[t][k];
        LSlot { present: x[0] > 0.5, pos: [x[1], x[2]], ab: [x[3] / MOTION_SCALE, x[4] / MOTION_SCALE], size: x[5] / 10.0 }
    };
    let (mut contact, mut free) = ([0f32; 5], [0f32; 2]);
    for t in 1..clip.saturating_sub(WINDOW) {
        let (a, o, next) = (slot(t, AGENT_SLOT), slot(t, s), slot(t + WINDOW, s));
        if !(a.present && o.present && next.present) {
            continue;
        }
        let (before_a, before_o) = (slot(t - 1, AGENT_SLOT).ab, slot(t - 1, s).ab);
        let members = nets.ensemble.len().max(1) as f32;
        let (mut pred_o, mut pred_a) = ([0f32; 2], [0f32; 2]);
        for d in &nets.ensemble {
            let mut ad = dyn_agent(&a, before_a, e.actions[t - 1]);
            let mut od = dyn_object(&o, before_o, s);
            for k in 0..WINDOW {
                d.step(&mut ad, &mut od, side, e.actions[t + k]);
            }
            for i in 0..2 {
                pred_o[i] += (od[i] - o.pos[i]) / members;
                pred_a[i] += (ad[i] - a.pos[i]) / members;
            }
        }
        let read_o = [next.pos[0] - o.pos[0], next.pos[1] - o.pos[1]];
        let next_a = slot(t + WINDOW, AGENT_SLOT);
        let read_a = [next_a.pos[0] - a.pos[0], next_a.pos[1] - a.pos[1]];
        let rel = [o.pos[0] - a.pos[0], o.pos[1] - a.pos[1]];
        let d = (rel[0] * rel[0] + rel[1] * rel[1]).sqrt().max(1e-6);
        let along = |v: [f32; 2], u: [f32; 2]| v[0] * u[0] + v[1] * u[1];
        // Touching (within a fiftieth of the arena) and the agent closing in.
        let closing = along([a.ab[0] - o.ab[0], a.ab[1] - o.ab[1]], [rel[0] / d, rel[1] / d]);
        if d < o.size + AGENT_RADIUS / ARENA + 0.02 && closing > 0.0 {
            let n = [rel[0] / d, rel[1] / d];
            let m = MOTION_SCALE;
            contact[0] += 1.0;
            contact[1] += along(pred_o, n) * m;
            contact[2] += along(read_o, n) * m;
            contact[3] += (along(read_o, n) - along(pred_o, n)) * m;
            contact[4] += (along(read_a, n) - along(pred_a, n)) * m;
        } else {
            let speed = (o.ab[0] * o.ab[0] + o.ab[1] * o.ab[1]).sqrt();
            if speed > 0.002 {
                let u = [o.ab[0] / speed, o.ab[1] / speed];
                free[0] += 1.0;
                free[1] += (along(read_o, u) - along(pred_o, u)) * MOTION_SCALE;
            }
        }
    }
    let mean = |x: f32, n: f32| if n > 0.0 { x / n } else { 0.0 };
    [contact[0], mean(contact[1], contact[0]), mean(contact[2], contact[0]), mean(contact[3], contact[0]), mean(contact[4], contact[0]), free[0], mean(free[1], free[0]), contact[3]]
}

/// The classifier's input for a question about the first `clip` frames of `slots`.
fn features(q: &Question, clip: usize, slots: &Slots, nets: Option<(&StateNets, &Episode)>) -> Vec<f32> {
    let mut x = Vec::with_capacity(FEATURES);
    x.extend(Template::ALL.iter().map(|&t| f32::from(u8::from(t == q.template))));
    let frames: Vec<Option<usize>> = (0..T).map(|k| (2 * k < clip).then_some(2 * k)).collect();
    x.extend(frames.iter().map(|f| f32::from(u8::from(f.is_some()))));
    let track = |x: &mut Vec<f32>, s: Option<usize>| {
        for f in &frames {
            match (f, s) {
                (Some(t), Some(s)) => x.extend_from_slice(&slots[*t][s]),
                _ => x.extend([0.0; PER]),
            }
        }
    };
    let mean_presence = |s: usize| frames.iter().flatten().map(|&t| slots[t][s][0]).sum::<f32>();
    for r in 0..REFS {
        // A colour's thing is its ball or its box, whichever is read more surely: the
        // difference says which.
        let mut boxed_more = 0.0;
        let (kind, slot) = match q.slots.get(r) {
            None => (0, None),
            Some(Slot::Colour(c)) => {
                let [ball, boxed] = [object_slot(*c, Shape::Ball), object_slot(*c, Shape::Box)];
                boxed_more = (mean_presence(boxed) - mean_presence(ball)) / clip.max(1) as f32;
                (1, Some(if mean_presence(ball) >= mean_presence(boxed) { ball } else { boxed }))
            }
            Some(Slot::Obj(o)) | Some(Slot::Thing(Thing::Obj(o))) => (2, Some(object_slot(o.colour, o.shape))),
            Some(Slot::Thing(Thing::Agent)) => (3, Some(AGENT_SLOT)),
            Some(Slot::Thing(Thing::Wall)) => (4, None),
            Some(Slot::Thing(Thing::Floor)) => (5, None),
            Some(Slot::Zone(z)) => (6, Some(zone_slot(*z))),
        };
        x.extend((0..KINDS).map(|k| f32::from(u8::from(k == kind))));
        x.push(boxed_more);
        track(&mut x, slot);
        x.extend(match (nets, slot) {
            (Some((nets, e)), Some(s)) if s < OBJECT_SLOTS => surprise(nets, e, slots, s, clip),
            _ => [0.0; SURPRISE],
        });
        for f in &frames {
            x.push(match (f, slot) {
                (Some(t), Some(s)) => {
                    let (a, b) = (&slots[*t][AGENT_SLOT], &slots[*t][s]);
                    ((a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
                }
                _ => 0.0,
            });
        }
    }
    track(&mut x, Some(AGENT_SLOT));
    for s in 0..OBJECT_SLOTS {
        track(&mut x, Some(s));
    }
    for z in 0..2 {
        x.extend_from_slice(&slots[0][FIRST_ZONE_SLOT + z]);
    }
    debug_assert_eq!(x.len(), FEATURES);
    x
}

#[derive(Module, Debug)]
struct Probe {
    l1: Linear,
    l2: Linear,
    out: Linear,
}

impl Probe {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(gelu(self.l2.forward(gelu(self.l1.forward(x)))))
    }
}

/// (template, features, answer) of every question of `eps` that parses.
fn examples(reader: &Reader, eps: &[Episode], truth: bool, nets: Option<&StateNets>, device: &Device) -> Vec<(Template, Vec<f32>, String)> {
    let mut out = Vec::new();
    for (i, e) in eps.iter().enumerate() {
        let slots = read(reader, e, truth, device);
        for qa in &e.questions {
            let Ok(q) = Question::parse(&qa.question) else { continue };
            out.push((qa.template, features(&q, qa.clip_frames as usize, &slots, nets.map(|n| (n, e))), qa.answer.clone()));
        }
        if (i + 1) % 200 == 0 {
            eprintln!("read {} episodes", i + 1);
        }
    }
    out
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map_or(default, |s| s.parse().expect("a number"))
}

fn main() {
    let truth = std::env::args().any(|a| a == "--truth");
    let (n_train, n_test, steps) = (arg("--train", 2000), arg("--test", 300), arg("--steps", 3000));
    let plain = Device::flex();
    let bytes = std::fs::read("checkpoints/next/state/reader.bin").expect("checkpoints/next/state/reader.bin");
    let reader = Reader::new(32, &plain).load_record(ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).expect("record"));
    let started = std::time::Instant::now();
    let data = world::dataset::Dataset::open(Path::new("data/train")).expect("data/train (world gen)");
    let train_eps: Vec<Episode> = data.episodes().take(n_train).map(|e| e.expect("episode")).collect();
    let cfg = EpisodeConfig::default();
    let test_eps: Vec<Episode> = (0..n_test as u64).map(|i| generate_episode(1_000_000 + i, &cfg).expect("episode")).collect();
    let rt = std::env::args().any(|a| a == "--surprise").then(|| model::eval_nets::load_runtime(Path::new("public/weights")).expect("the page's nets"));
    let nets = rt.as_ref().map(|rt| rt.state.as_ref().expect("state nets"));
    let train = examples(&reader, &train_eps, truth, nets, &plain);
    let test = examples(&reader, &test_eps, truth, nets, &plain);
    eprintln!("{} training and {} held-out questions read in {:.0}s", train.len(), test.len(), started.elapsed().as_secs_f64());

    // Answers as classes; each template's own answers, and its most common one.
    let mut classes: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen: std::collections::HashMap<Template, BTreeMap<usize, usize>> = std::collections::HashMap::new();
    for (t, _, a) in &train {
        let n = classes.len();
        let c = *classes.entry(a.clone()).or_insert(n);
        *seen.entry(*t).or_default().entry(c).or_default() += 1;
    }
    let k = classes.len();
    // Standardised features.
    let mut mean = vec![0f64; FEATURES];
    let mut sq = vec![0f64; FEATURES];
    for (_, x, _) in &train {
        for (i, &v) in x.iter().enumerate() {
            mean[i] += v as f64;
            sq[i] += (v as f64).powi(2);
        }
    }
    let n = train.len().max(1) as f64;
    let scale: Vec<(f32, f32)> = mean.iter().zip(&sq).map(|(&m, &s)| ((m / n) as f32, (((s / n) - (m / n).powi(2)).max(0.0).sqrt() as f32).max(1e-3))).collect();
    let norm = |x: &[f32]| -> Vec<f32> { x.iter().zip(&scale).map(|(v, (m, s))| (v - m) / s).collect() };

    let device = plain.clone().autodiff();
    device.seed(0);
    let probe = Probe {
        l1: LinearConfig::new(FEATURES, 256).init(&device),
        l2: LinearConfig::new(256, 256).init(&device),
        out: LinearConfig::new(256, k).init(&device),
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let batch = 128;
    let probe = model::state_train::fit(
        probe,
        steps,
        1e-3,
        |p, _| {
            let picks: Vec<usize> = (0..batch).map(|_| rng.random_range(0..train.len())).collect();
            let x: Vec<f32> = picks.iter().flat_map(|&i| norm(&train[i].1)).collect();
            let y: Vec<i64> = picks.iter().map(|&i| classes[&train[i].2] as i64).collect();
            let logits = p.forward(Tensor::from_data(TensorData::new(x, [batch, FEATURES]), &device));
            let lp = log_softmax(logits, 1);
            let y = Tensor::<1, Int>::from_data(TensorData::new(y, [batch]), &device).reshape([batch, 1]);
            let loss = -lp.gather(1, y).mean();
            let v = model::train::scalar(loss.clone());
            (loss, format!("loss {v:.3}"))
        },
        500,
        "probe",
    );
    let probe = probe.valid();

    // Held out: argmax among the template's own answers, against its most common one.
    let mut by: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for chunk in test.chunks(256) {
        let x: Vec<f32> = chunk.iter().flat_map(|e| norm(&e.1)).collect();
        let logits = probe.forward(Tensor::from_data(TensorData::new(x, [chunk.len(), FEATURES]), &plain));
        let l = logits.into_data().try_to_vec::<f32>().expect("f32");
        for (j, (t, _, a)) in chunk.iter().enumerate() {
            let own = seen.get(t);
            let guess = own.and_then(|o| o.keys().max_by(|&&p, &&q| l[j * k + p].total_cmp(&l[j * k + q]))).copied();
            let majority = own.and_then(|o| o.iter().max_by_key(|(_, &n)| n).map(|(&c, _)| c));
            let truth = classes.get(a).copied();
            for key in [format!("{:?}", t.kind()).to_lowercase(), format!("{t:?}"), "overall".to_string()] {
                let cell = by.entry(key).or_default();
                cell[0] += 1;
                cell[1] += usize::from(guess.is_some() && guess == truth);
                cell[2] += usize::from(majority.is_some() && majority == truth);
            }
        }
    }
    println!("reading: {}{} | {} training episodes, {} held-out (seed 1000000), {} answers", if truth { "the simulator's slots" } else { "the page's reader" }, if nets.is_some() { ", with the dynamics' surprise" } else { "" }, n_train, n_test, k);
    println!("| question | probe | majority |\n|---|---:|---:|");
    for (key, [n, right, major]) in &by {
        let pct = |x: usize| 100.0 * x as f64 / (*n).max(1) as f64;
        println!("| {key} ({n}) | {:.1}% | {:.1}% |", pct(*right), pct(*major));
    }
    if nets.is_some() {
        surprise_alone(&train, &test);
    }
}

/// Yes/no property questions answered from the surprise of the thing they name alone
/// ([`surprise`]): a logistic regression per template, against the template's most common
/// training answer.
fn surprise_alone(train: &[(Template, Vec<f32>, String)], test: &[(Template, Vec<f32>, String)]) {
    let at = Template::ALL.len() + T + KINDS + 1 + T * PER;
    let rows = |set: &[(Template, Vec<f32>, String)], t: Template| -> Vec<(Vec<f64>, f64)> {
        set.iter()
            .filter(|e| e.0 == t && (e.2 == "yes" || e.2 == "no"))
            .map(|e| (e.1[at..at + SURPRISE].iter().map(|&v| v as f64).collect(), f64::from(u8::from(e.2 == "yes"))))
            .collect()
    };
    println!("\n| from the surprise alone | logistic regression | majority | pushed by the agent | read - predicted along the push, yes / no |\n|---|---:|---:|---:|---:|");
    for t in [Template::IsHeavy, Template::IsSlippery, Template::IsBouncy, Template::IsFloorSlippery] {
        let (tr, te) = (rows(train, t), rows(test, t));
        if tr.is_empty() || te.is_empty() {
            continue;
        }
        let n = tr.len() as f64;
        let mean: Vec<f64> = (0..SURPRISE).map(|i| tr.iter().map(|r| r.0[i]).sum::<f64>() / n).collect();
        let sd: Vec<f64> = (0..SURPRISE).map(|i| (tr.iter().map(|r| (r.0[i] - mean[i]).powi(2)).sum::<f64>() / n).sqrt().max(1e-6)).collect();
        let z = |x: &[f64]| -> Vec<f64> { (0..SURPRISE).map(|i| (x[i] - mean[i]) / sd[i]).collect() };
        let mut w = vec![0f64; SURPRISE + 1];
        let p = |w: &[f64], x: &[f64]| 1.0 / (1.0 + (-(w[SURPRISE] + x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>())).exp());
        for _ in 0..2000 {
            let mut g = vec![0f64; SURPRISE + 1];
            for (x, y) in &tr {
                let x = z(x);
                let e = p(&w, &x) - y;
                for i in 0..SURPRISE {
                    g[i] += e * x[i] / n;
                }
                g[SURPRISE] += e / n;
            }
            for i in 0..=SURPRISE {
                w[i] -= 0.5 * (g[i] + 1e-3 * w[i]);
            }
        }
        let right = te.iter().filter(|(x, y)| (p(&w, &z(x)) > 0.5) == (*y > 0.5)).count();
        let yes = tr.iter().filter(|r| r.1 > 0.5).count() as f64 / n;
        let major = te.iter().filter(|r| (r.1 > 0.5) == (yes >= 0.5)).count();
        let pct = |x: usize| 100.0 * x as f64 / te.len() as f64;
        let pushed: Vec<&(Vec<f64>, f64)> = tr.iter().filter(|r| r.0[0] > 0.0).collect();
        let mean_of = |yes: bool| {
            let v: Vec<f64> = pushed.iter().filter(|r| (r.1 > 0.5) == yes).map(|r| r.0[3]).collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        println!(
            "| {t:?} ({}) | {:.1}% | {:.1}% | {:.0}% | {:+.3} / {:+.3} |",
            te.len(),
            pct(right),
            pct(major),
            100.0 * pushed.len() as f64 / n,
            mean_of(true),
            mean_of(false)
        );
    }
}
