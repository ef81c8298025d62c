//! `cargo run -p parity --release --bin bench_runtime [--features gpu]`: the browser runtime
//! (WGSL kernels on wgpu, and its CPU path) against burn running the same student weights on
//! the same inputs, side by side in one run. With `--features gpu`, burn's wgpu backend is
//! measured too. Prints a markdown table and, with `--write`, puts it into docs/BENCHMARKS.md
//! between the `runtime` markers.
//!
//! Measured: imagined transitions per second on the planning path (latent step + goal cost) at
//! batch 1, 64, 1024 and 4096 over a 12-step rollout; milliseconds per dreamed frame at batch 1
//! (frame step + decode, read back); milliseconds per planning step at PlaNet scale (1000
//! candidates x 10 iterations x horizon 12). Then the page's planner, the state nets: member-steps
//! of the dynamics ensemble per second at 256, 1024 and 4096 candidates, and a whole plan at the
//! page's settings.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use clap::Parser;
use model::config::ModelConfig;
use model::infer::to_vec;
use model::net::{floats, ints, WorldModel};
use model::planner::CemConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use runtime::cpu::Cpu;
use runtime::gpu::{Gpu, GpuContext};
use runtime::state::{StateNets, Target};
use runtime::state_gpu::StateGpu;
use runtime::{graph, plan, Exec};
use layout::slots::OBJECT_SLOTS;
use world::episode::{generate_episode, EpisodeConfig};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "public/weights")]
    weights: PathBuf,
    /// Timed repetitions per case (the median is reported).
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Write the tables into docs/BENCHMARKS.md.
    #[arg(long)]
    write: bool,
    /// The state nets' burn checkpoints (the same weights as `--weights`' state.safetensors).
    #[arg(long, default_value = "checkpoints/next/state")]
    state_checkpoints: PathBuf,
}

const HORIZON: usize = 12;
const BATCHES: [usize; 4] = [1, 64, 1024, 4096];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up: pipelines, allocations
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// One runner of the three workloads.
trait Runner {
    fn name(&self) -> String;
    fn rollout(&mut self, z: &[f32], g: &[f32], actions: &[Vec<u32>]);
    fn dream(&mut self, prev: &[f32], cur: &[f32]);
    fn plan(&mut self, z: &[f32], g: &[f32], cfg: &CemConfig);
}

struct Ours<E: Exec> {
    e: E,
    c: ModelConfig,
    label: String,
    read: fn(&mut E, &E::T) -> Vec<f32>,
    read_ids: fn(&mut E, &E::I) -> Vec<u32>,
}

impl<E: Exec> Runner for Ours<E> {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn rollout(&mut self, z: &[f32], g: &[f32], actions: &[Vec<u32>]) {
        // Every candidate starts from the same state, as in planning.
        let n = actions[0].len();
        let zd = self.c.state_latent;
        let z0 = self.e.input(&z[..zd], 1, zd);
        let goal = self.e.input(g, 1, zd);
        let flat: Vec<u32> = actions.iter().flatten().copied().collect();
        let ids = self.e.ids(&flat);
        let cost = self.e.rollout_cost(&z0, &goal, &ids, n, actions.len());
        (self.read)(&mut self.e, &cost);
    }
    fn dream(&mut self, prev: &[f32], cur: &[f32]) {
        let (p, l) = (self.c.patches(), self.c.patch_latent);
        let tp = self.e.input(prev, p, l);
        let tc = self.e.input(cur, p, l);
        let a = self.e.ids(&[3]);
        let mask = graph::frame_mask(&self.c);
        let m = self
            .e
            .input(&mask, self.c.frame_tokens(), self.c.frame_tokens());
        let (mean, logvar, _) = graph::frame_step(&mut self.e, &self.c, &tp, &tc, &a, &m);
        let next = self.e.sample(&mean, &logvar, 1.0, 1, 0);
        let pixels = graph::decode(&mut self.e, &next);
        (self.read)(&mut self.e, &pixels);
    }
    fn plan(&mut self, z: &[f32], g: &[f32], cfg: &CemConfig) {
        let zd = self.c.state_latent;
        let zt = self.e.input(z, 1, zd);
        let gt = self.e.input(g, 1, zd);
        let rec = plan::record(&mut self.e, &self.c, &zt, &gt, cfg, &[], 1);
        for (s, k) in &rec.elites {
            (self.read_ids)(&mut self.e, s);
            (self.read)(&mut self.e, k);
        }
    }
}

struct Burn {
    model: WorldModel,
    c: ModelConfig,
    device: Device,
    label: String,
}

impl Runner for Burn {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn rollout(&mut self, z: &[f32], g: &[f32], actions: &[Vec<u32>]) {
        let n = actions[0].len();
        let zd = self.c.state_latent;
        let mut state = floats(
            z[..zd].iter().copied().cycle().take(n * zd).collect(),
            [n, zd],
            &self.device,
        );
        let goal = floats(
            g.iter().copied().cycle().take(n * zd).collect(),
            [n, zd],
            &self.device,
        );
        let mut cost = Tensor::<1>::zeros([n], &self.device);
        for a in actions {
            let ids = ints(a.iter().map(|&x| x as i64).collect(), [n], &self.device);
            state = self.model.latent_step(state, ids);
            cost = cost + self.model.goal_cost(state.clone(), goal.clone());
        }
        to_vec(cost);
    }
    fn dream(&mut self, prev: &[f32], cur: &[f32]) {
        let (mean, logvar, _) =
            model::infer::step(&self.model, &self.c, prev, cur, &[3], &self.device);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let next = model::infer::sample(&mean, &logvar, 1.0, &mut rng);
        model::infer::decode_frames(&self.model, &self.c, &next, &self.device);
    }
    fn plan(&mut self, z: &[f32], g: &[f32], cfg: &CemConfig) {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        model::infer::plan(
            &self.model,
            &self.c,
            z,
            g,
            cfg,
            None,
            &mut rng,
            &self.device,
        );
    }
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let flex = Device::flex();
    let (model, manifest) = model::export::load(&args.weights, &flex).map_err(|e| e.to_string())?;
    let c = manifest.config.clone();
    let bytes =
        std::fs::read(args.weights.join(&manifest.weights_file)).map_err(|e| e.to_string())?;
    let weights = layout::weights::check_weights(&manifest, &bytes).map_err(|e| e.to_string())?;
    let ctx = Arc::new(pollster::block_on(GpuContext::new()).map_err(|e| e.to_string())?);
    let started = Instant::now();
    let peak = {
        let mut g = Gpu::new(ctx.clone(), &weights);
        pollster::block_on(runtime::kernels::peak::measure(&mut g, 5, || {
            started.elapsed().as_secs_f64()
        }))
        .map_err(|e| e.to_string())?
    };
    let adapter = format!(
        "{} (measured peak {peak:.1} GFLOP/s of vec4 multiply-adds)",
        ctx.describe()
    );
    eprintln!("adapter: {adapter}");

    let ctx_for_state = ctx.clone();
    let mut runners: Vec<Box<dyn Runner>> = vec![
        Box::new(Ours {
            e: Gpu::new(ctx, &weights),
            c: c.clone(),
            label: "ours, WGSL".into(),
            read: |g, m| pollster::block_on(g.read(m)).expect("read-back"),
            read_ids: |g, m| pollster::block_on(g.read_ids(m)).expect("read-back"),
        }),
        Box::new(Ours {
            e: Cpu::new(weights.clone()),
            c: c.clone(),
            label: "ours, CPU path".into(),
            read: |_, m| m.data.to_vec(),
            read_ids: |_, m| m.to_vec(),
        }),
        Box::new(Burn {
            model,
            c: c.clone(),
            device: flex,
            label: "burn flex (CPU)".into(),
        }),
    ];
    #[cfg(feature = "gpu")]
    {
        let wgpu = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
        let (m, _) = model::export::load(&args.weights, &wgpu).map_err(|e| e.to_string())?;
        runners.push(Box::new(Burn {
            model: m,
            c: c.clone(),
            device: wgpu,
            label: "burn wgpu".into(),
        }));
    }

    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let zd = c.state_latent;
    let g: Vec<f32> = (0..zd).map(|_| rng.random_range(-1.0..1.0)).collect();
    let per = c.patches() * c.patch_latent;
    let prev: Vec<f32> = (0..per).map(|_| rng.random_range(-1.0..1.0)).collect();
    let cur: Vec<f32> = (0..per).map(|_| rng.random_range(-1.0..1.0)).collect();
    let planet = CemConfig {
        population: 1000,
        elites: 100,
        iterations: 10,
        horizon: HORIZON,
        smoothing: 0.5,
        min_prob: 0.01,
    };

    let mut rows: Vec<(String, Vec<f64>, f64, f64)> = Vec::new();
    for r in runners.iter_mut() {
        let mut per_batch = Vec::new();
        for &n in &BATCHES {
            let z: Vec<f32> = (0..n * zd).map(|_| rng.random_range(-1.0..1.0)).collect();
            let actions: Vec<Vec<u32>> = (0..HORIZON)
                .map(|_| (0..n).map(|_| rng.random_range(0..9)).collect())
                .collect();
            let s = time(args.reps, || r.rollout(&z, &g, &actions));
            per_batch.push((n * HORIZON) as f64 / s);
            eprintln!(
                "{}: batch {n}: {:.0} transitions/s",
                r.name(),
                (n * HORIZON) as f64 / s
            );
        }
        let dream = time(args.reps, || r.dream(&prev, &cur)) * 1e3;
        eprintln!("{}: dream frame {dream:.2} ms", r.name());
        let z1: Vec<f32> = (0..zd).map(|_| rng.random_range(-1.0..1.0)).collect();
        let plan_ms = time(args.reps.min(3), || r.plan(&z1, &g, &planet)) * 1e3;
        eprintln!("{}: PlaNet-scale plan {plan_ms:.1} ms", r.name());
        rows.push((r.name(), per_batch, dream, plan_ms));
    }

    let md = table(&c, &adapter, &rows);
    println!("{md}");
    let state = state_planner(args, ctx_for_state, &weights, &adapter)?;
    println!("{state}");
    if args.write {
        let path = Path::new("docs/BENCHMARKS.md");
        write_section(path, "runtime", "Runtime (WGSL) against burn and the CPU path", &md)?;
        write_section(path, "state-planner", "The page's planner (state nets): WGSL against burn and the CPU path", &state)?;
        eprintln!("wrote docs/BENCHMARKS.md");
    }
    Ok(())
}

/// Candidate batches of the state planner's benchmark (the page plans 256 a CEM iteration).
const STATE_BATCHES: [usize; 3] = [256, 1024, 4096];

/// The burn dynamics checkpoints of the ensemble, in order.
const DYNAMICS_FILES: [&str; 3] = ["dynamics.bin", "dynamics-1.bin", "dynamics-2.bin"];

/// The page's planner: every candidate's 12 moves imagined under each member of the dynamics
/// ensemble toward a target read off a real frame, as member-steps per second, and a whole
/// plan at the page's settings. burn runs the same dynamics batched (the cost left out, so
/// its figure is an upper bound on its speed).
fn state_planner(args: &Args, ctx: Arc<GpuContext>, weights: &layout::weights::Weights, adapter: &str) -> Result<String, String> {
    let bytes = std::fs::read(args.weights.join("state.safetensors")).map_err(|e| e.to_string())?;
    let nets = StateNets::from_safetensors(&bytes, "state.safetensors").map_err(|e| e.to_string())?;
    let ep = generate_episode(5, &EpisodeConfig { questions: false, ..Default::default() }).map_err(|e| e.to_string())?;
    let (before, now) = (nets.read(ep.frame(2), ep.frame(3)), nets.read(ep.frame(3), ep.frame(4)));
    let target = Target::of(&now, Some(&before), ep.actions[3], 0, OBJECT_SLOTS + 1, ep.scene.view);
    let members = nets.ensemble.len();
    let hidden = nets.ensemble.first().map_or(0, |d| d.layers[0].out);
    let mut gpu = Gpu::new(ctx, weights);
    let on_gpu = StateGpu::new(&gpu, &nets);
    let load = |device: &Device| -> Result<Vec<model::state_net::Dynamics>, String> {
        DYNAMICS_FILES[..members]
            .iter()
            .map(|f| {
                let path = args.state_checkpoints.join(f);
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| format!("{}: {e}", path.display()))?;
                Ok(model::state_net::Dynamics::new(hidden, device).load_record(record))
            })
            .collect()
    };
    #[allow(unused_mut)] // burn's wgpu backend joins with the `gpu` feature
    let mut burns = vec![("burn flex (CPU)", Device::flex())];
    #[cfg(feature = "gpu")]
    burns.push(("burn wgpu", Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut rows: Vec<(String, Vec<f64>)> = vec![("ours, WGSL".into(), vec![]), ("ours, CPU path".into(), vec![])];
    rows.extend(burns.iter().map(|(name, _)| (name.to_string(), vec![])));
    let ensembles = burns.iter().map(|(_, d)| load(d)).collect::<Result<Vec<_>, _>>()?;
    for &n in &STATE_BATCHES {
        let actions: Vec<u32> = (0..n * HORIZON).map(|_| rng.random_range(0..9)).collect();
        let steps = (n * HORIZON * members) as f64;
        let s = time(args.reps, || {
            pollster::block_on(on_gpu.costs(&mut gpu, &target, &actions, n, HORIZON)).expect("read-back");
        });
        rows[0].1.push(steps / s);
        let s = time(args.reps, || {
            std::hint::black_box(target.costs(&nets.ensemble, &actions, n, HORIZON));
        });
        rows[1].1.push(steps / s);
        for (k, ((_, device), ensemble)) in burns.iter().zip(&ensembles).enumerate() {
            let s = time(args.reps, || burn_rollouts(ensemble, &target, &actions, n, device));
            rows[2 + k].1.push(steps / s);
        }
        eprintln!("state planner, batch {n}: {:?}", rows.iter().map(|r| r.1[r.1.len() - 1].round()).collect::<Vec<_>>());
    }
    let page = CemConfig { population: 256, elites: 32, iterations: 3, horizon: HORIZON, smoothing: 0.5, min_prob: 0.01 };
    let wgsl_ms = time(args.reps, || {
        pollster::block_on(on_gpu.plan(&mut gpu, &nets.ensemble, &target, &page, &[], 1)).expect("plan");
    }) * 1e3;
    let cpu_ms = time(args.reps, || {
        std::hint::black_box(runtime::state::plan(&nets.ensemble, &target, &page, &[], 1));
    }) * 1e3;
    let mut s = format!(
        "Adapter for the WGSL row: {adapter}. Ensemble: {members} members of hidden width {hidden}, {} FLOP per member-step; horizon {HORIZON}.\n\n",
        nets.ensemble.first().map_or(0, |d| d.flops_per_step())
    );
    s += "| runner | member-steps/s @256 | @1024 | @4096 |\n|---|---:|---:|---:|\n";
    for (name, per) in &rows {
        s += &format!("| {name} | {:.0} | {:.0} | {:.0} |\n", per[0], per[1], per[2]);
    }
    s += &format!(
        "\nA plan at the page's settings (256 candidates, 32 elites, 3 iterations, horizon 12): WGSL {wgsl_ms:.1} ms, CPU path {cpu_ms:.1} ms.\n"
    );
    for (name, per) in &rows[2..] {
        s += &format!(
            "WGSL vs {name}: {:.2}x at 256 candidates, {:.2}x at 4096.\n",
            rows[0].1[0] / per[0],
            rows[0].1[2] / per[2]
        );
    }
    Ok(s)
}

/// The ensemble's rollouts of `n` candidates (`actions` step-major) batched in burn, the
/// dynamics only, read back at the end.
fn burn_rollouts(ensemble: &[model::state_net::Dynamics], target: &Target, actions: &[u32], n: usize, device: &Device) {
    let rows = |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.repeat(n), [n, v.len()]), device);
    let side = rows(&[target.side]);
    let moves: Vec<Tensor<2>> = (0..HORIZON)
        .map(|t| {
            let mut hot = vec![0f32; n * 9];
            for i in 0..n {
                hot[i * 9 + actions[t * n + i].min(8) as usize] = 1.0;
            }
            Tensor::<2>::from_data(TensorData::new(hot, [n, 9]), device)
        })
        .collect();
    for d in ensemble {
        let (mut agent, mut object) = (rows(&target.agent), rows(&target.object));
        for mv in &moves {
            (agent, object) = d.step(agent, object, side.clone(), mv.clone());
        }
        std::hint::black_box(to_vec(object));
    }
}

fn table(c: &ModelConfig, adapter: &str, rows: &[(String, Vec<f64>, f64, f64)]) -> String {
    let flop = c.flops_per_transition() as f64;
    let mut s = format!(
        "Adapter for the WGSL rows: {adapter}. Student: {} FLOP per imagined transition, {:.1} MFLOP per dreamed frame.\n\n",
        c.flops_per_transition(),
        c.flops_per_dream_frame() as f64 / 1e6
    );
    s += "| runner | transitions/s @1 | @64 | @1024 | @4096 | GFLOP/s @4096 | dream frame (ms, batch 1) | plan 1000x10x12 (ms) |\n";
    s += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
    for (name, per, dream, plan) in rows {
        s += &format!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {dream:.2} | {plan:.0} |\n",
            per[0],
            per[1],
            per[2],
            per[3],
            per[3] * flop / 1e9
        );
    }
    let find = |n: &str| rows.iter().find(|r| r.0 == n);
    if let (Some(ours), Some(cpu)) = (find("ours, WGSL"), find("ours, CPU path")) {
        s += &format!(
            "\nRatios in this run: WGSL / CPU path at batch 64: {:.2}x, at 4096: {:.2}x; planning {:.2}x.\n",
            ours.1[1] / cpu.1[1],
            ours.1[3] / cpu.1[3],
            cpu.3 / ours.3
        );
        for other in ["burn flex (CPU)", "burn wgpu"] {
            if let Some(b) = find(other) {
                s += &format!(
                    "WGSL vs {other}: planning {:.2}x, transitions at 4096 {:.2}x, dream frame {:.2}x.\n",
                    b.3 / ours.3,
                    ours.1[3] / b.1[3],
                    b.2 / ours.2
                );
            }
        }
    }
    s
}

/// Replaces the text between `<!-- {marker}:start -->` and `<!-- {marker}:end -->` (appending
/// the markers under `heading` when absent).
fn write_section(path: &Path, marker: &str, heading: &str, body: &str) -> Result<(), String> {
    let (start, end) = (format!("<!-- {marker}:start -->"), format!("<!-- {marker}:end -->"));
    let (start, end) = (start.as_str(), end.as_str());
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let block = format!("{start}\n{body}\n{end}");
    let out = match (text.find(start), text.find(end)) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &text[..a], block, &text[b + end.len()..]),
        _ => format!(
            "{}\n\n## {heading}\n\n{block}\n",
            text.trim_end()
        ),
    };
    model::metrics::write_atomic(path, out.as_bytes()).map_err(|e| e.to_string())
}
