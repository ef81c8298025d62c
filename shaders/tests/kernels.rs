#![cfg(not(target_arch = "wasm32"))]
//! Every WGSL kernel against its CPU reference on random inputs with awkward sizes (not
//! multiples of the workgroup or tile sizes), natively on whatever adapter wgpu finds: Mesa's
//! lavapipe on a machine without a GPU. Tolerance: `max |gpu - cpu| / max |cpu| <= 1e-5` (sums of up to
//! 192 products in another order).

use std::collections::BTreeMap;
use std::sync::Arc;

use layout::weights::Weights;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use runtime::cpu::{Cpu, Mat};
use runtime::gpu::{Gpu, GpuContext, GpuMat};
use runtime::{Act, Exec};

const TOL: f32 = 1e-5;

fn context() -> Arc<GpuContext> {
    match pollster::block_on(GpuContext::new()) {
        Ok(ctx) => {
            eprintln!("adapter: {}", ctx.describe());
            Arc::new(ctx)
        }
        Err(e) => panic!(
            "{e}. The native kernel tests need a Vulkan driver; on Debian a CPU one comes with \
             `apt-get install mesa-vulkan-drivers libvulkan1` (scripts/setup.sh installs it)"
        ),
    }
}

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-2.0..2.0)).collect()
}

/// Synthetic parameters: `lin.weight [k, n]`, `lin.bias [n]`, `ln.gamma/beta [d]`,
/// `table.weight [rows, d]`.
fn weights(rng: &mut ChaCha8Rng, k: usize, n: usize, rows: usize) -> Weights {
    let mut t = BTreeMap::new();
    t.insert("lin.weight".into(), (vec![k, n], random(rng, k * n)));
    t.insert("lin.bias".into(), (vec![n], random(rng, n)));
    t.insert("ln.gamma".into(), (vec![k], random(rng, k)));
    t.insert("ln.beta".into(), (vec![k], random(rng, k)));
    t.insert(
        "table.weight".into(),
        (vec![rows, k], random(rng, rows * k)),
    );
    Weights { tensors: t }
}

struct Pair {
    cpu: Cpu,
    gpu: Gpu,
}

impl Pair {
    fn new(ctx: &Arc<GpuContext>, w: Weights) -> Pair {
        Pair {
            gpu: Gpu::new(ctx.clone(), &w),
            cpu: Cpu::new(w),
        }
    }
    fn input(&mut self, v: &[f32], rows: usize, cols: usize) -> (Mat, GpuMat) {
        (self.cpu.input(v, rows, cols), self.gpu.input(v, rows, cols))
    }
    fn check(&mut self, what: &str, cpu: &Mat, gpu: &GpuMat) {
        assert_eq!(
            (cpu.rows, cpu.cols),
            (gpu.rows, gpu.cols),
            "{what}: shapes differ"
        );
        let got = pollster::block_on(self.gpu.read(gpu)).unwrap();
        let scale = cpu
            .data
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()))
            .max(1e-6);
        let err = got
            .iter()
            .zip(cpu.data.iter())
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
            / scale;
        assert!(
            err <= TOL,
            "{what}: GPU differs from CPU by {err:.2e} (> {TOL:.0e})"
        );
    }
}

#[test]
fn every_kernel_matches_its_cpu_reference() {
    let ctx = context();
    let mut rng = ChaCha8Rng::seed_from_u64(11);

    // linear (+ addend, every activation) and layer_norm, gather, add_rows.
    for &(m, k, n) in &[
        (1, 1, 1),
        (3, 5, 7),
        (65, 17, 130),
        (130, 64, 64),
        (257, 192, 33),
        (1000, 96, 96),
    ] {
        let rows = 13;
        let mut p = Pair::new(&ctx, weights(&mut rng, k, n, rows));
        let xv = random(&mut rng, m * k);
        let (xc, xg) = p.input(&xv, m, k);
        let av = random(&mut rng, m * n);
        let (ac, ag) = p.input(&av, m, n);
        for act in [Act::None, Act::Gelu, Act::Sigmoid] {
            let c = p.cpu.linear(&xc, "lin", act, None);
            let g = p.gpu.linear(&xg, "lin", act, None);
            p.check(&format!("linear {m}x{k}x{n} {act:?}"), &c, &g);
            let c = p.cpu.linear(&xc, "lin", act, Some(&ac));
            let g = p.gpu.linear(&xg, "lin", act, Some(&ag));
            p.check(&format!("linear+add {m}x{k}x{n} {act:?}"), &c, &g);
        }
        let c = p.cpu.layer_norm(&xc, "ln");
        let g = p.gpu.layer_norm(&xg, "ln");
        p.check(&format!("layer_norm {m}x{k}"), &c, &g);
        let ids: Vec<u32> = (0..m).map(|_| rng.random_range(0..rows as u32)).collect();
        let (ic, ig) = (p.cpu.ids(&ids), p.gpu.ids(&ids));
        let c = p.cpu.gather("table", &ic);
        let g = p.gpu.gather("table", &ig);
        p.check(&format!("gather {m} of {rows}x{k}"), &c, &g);
        let yv = random(&mut rng, k);
        let (yc, yg) = p.input(&yv, 1, k);
        let c = p.cpu.add_rows(&xc, &yc);
        let g = p.gpu.add_rows(&xg, &yg);
        p.check(&format!("add_rows {m}x{k}"), &c, &g);
    }

    // attention: shared and per-sequence masks, head widths 5, 32 and 64.
    let mut p = Pair::new(&ctx, weights(&mut rng, 1, 1, 1));
    for &(batch, n, heads, dh, per_batch) in &[
        (1, 1, 1, 5, false),
        (3, 13, 3, 5, true),
        (2, 130, 2, 32, false),
        (5, 21, 1, 64, true),
    ] {
        let d = heads * dh;
        let (qv, kv, vv) = (
            random(&mut rng, batch * n * d),
            random(&mut rng, batch * n * d),
            random(&mut rng, batch * n * d),
        );
        let mb = if per_batch { batch } else { 1 };
        // Mask out about a third of the keys, never a query's own.
        let mask: Vec<f32> = (0..mb * n * n)
            .map(|i| {
                if (i / n) % n != i % n && rng.random_range(0..3) == 0 {
                    layout::config::MASKED
                } else {
                    0.0
                }
            })
            .collect();
        let (qc, qg) = p.input(&qv, batch * n, d);
        let (kc, kg) = p.input(&kv, batch * n, d);
        let (vc, vg) = p.input(&vv, batch * n, d);
        let (mc, mg) = p.input(&mask, mb * n, n);
        let c = p.cpu.attention(&qc, &kc, &vc, batch, heads, &mc);
        let g = p.gpu.attention(&qg, &kg, &vg, batch, heads, &mg);
        p.check(&format!("attention b{batch} n{n} h{heads} dh{dh}"), &c, &g);
    }

    // assemble / select / gaussian / goal_features.
    let (batch, d) = (3, 7);
    let a = random(&mut rng, batch * 5 * d);
    let s = random(&mut rng, 2 * d);
    let b = random(&mut rng, batch * d);
    let (ac, ag) = p.input(&a, batch * 5, d);
    let (sc, sg) = p.input(&s, 2, d);
    let (bc, bg) = p.input(&b, batch, d);
    let c = p
        .cpu
        .assemble(batch, &[(&ac, false), (&sc, true), (&bc, false)]);
    let g = p
        .gpu
        .assemble(batch, &[(&ag, false), (&sg, true), (&bg, false)]);
    p.check("assemble", &c, &g);
    let c2 = p.cpu.select(&c, batch, 4, 3);
    let g2 = p.gpu.select(&g, batch, 4, 3);
    p.check("select", &c2, &g2);
    let head = random(&mut rng, 37 * 2 * 11);
    let base = random(&mut rng, 37 * 11);
    let (hc, hg) = p.input(&head.iter().map(|v| v * 6.0).collect::<Vec<_>>(), 37, 22);
    let (bc, bg) = p.input(&base, 37, 11);
    for with_base in [false, true] {
        let (cm, cl) = p.cpu.gaussian(&hc, with_base.then_some(&bc));
        let (gm, gl) = p.gpu.gaussian(&hg, with_base.then_some(&bg));
        p.check("gaussian mean", &cm, &gm);
        p.check("gaussian logvar", &cl, &gl);
    }
    let z = random(&mut rng, 37 * 9);
    let (zc, zg) = p.input(&z, 37, 9);
    for grows in [1, 37] {
        let gv = random(&mut rng, grows * 9);
        let (gc, gg) = p.input(&gv, grows, 9);
        let c = p.cpu.goal_features(&zc, &gc);
        let g = p.gpu.goal_features(&zg, &gg);
        p.check(&format!("goal_features g{grows}"), &c, &g);
    }
}

#[test]
fn sampling_and_planner_kernels_match_the_cpu() {
    let ctx = context();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut p = Pair::new(&ctx, weights(&mut rng, 1, 1, 1));

    // Latent sampling: same seed, same temperature, same draws (to float rounding of exp/log/cos).
    let mean = random(&mut rng, 1037);
    let logvar = random(&mut rng, 1037);
    let (mc, mg) = p.input(&mean, 61, 17);
    let (lc, lg) = p.input(&logvar, 61, 17);
    for t in [0.0, 0.5, 1.0] {
        let c = p.cpu.sample(&mc, &lc, t, 42, 3);
        let g = p.gpu.sample(&mg, &lg, t, 42, 3);
        p.check(&format!("sample t={t}"), &c, &g);
    }

    // Proposals: identical integers.
    let horizon = 7;
    let mut probs: Vec<f32> = Vec::new();
    for _ in 0..horizon {
        let raw: Vec<f32> = (0..9).map(|_| rng.random_range(0.0..1.0f32)).collect();
        let s: f32 = raw.iter().sum();
        probs.extend(raw.iter().map(|v| v / s));
    }
    let (pc, pg) = p.input(&probs, horizon, 9);
    let n = 1003;
    let ac = p.cpu.cem_sample(&pc, n, 9, 2);
    let ag = p.gpu.cem_sample(&pg, n, 9, 2);
    let got = pollster::block_on(p.gpu.read_ids(&ag)).unwrap();
    assert_eq!(got, *ac, "proposals differ between GPU and CPU");

    // Elites: costs with ties, a NaN and an infinity.
    let mut cost = random(&mut rng, n);
    cost[5] = f32::NAN;
    cost[6] = f32::INFINITY;
    cost[7] = cost[8];
    cost[100] = -50.0;
    let (cc, cg) = p.input(&cost, n, 1);
    for k in [1, 16, 100] {
        let (sc, ec) = p.cpu.cem_elites(&cc, &ac, horizon, k);
        let (sg, eg) = p.gpu.cem_elites(&cg, &ag, horizon, k);
        assert_eq!(
            pollster::block_on(p.gpu.read_ids(&sg)).unwrap(),
            *sc,
            "elite sequences, k={k}"
        );
        p.check(&format!("elite costs k={k}"), &ec, &eg);
        let rc = p.cpu.cem_refit(&pc, &sc, k, 0.5, 0.01);
        let rg = p.gpu.cem_refit(&pg, &sg, k, 0.5, 0.01);
        p.check(&format!("refit k={k}"), &rc, &rg);
    }
}

/// Synthetic parameters of the feature-map kernels: `conv.weight [9 cin, cout]`,
/// `conv.bias [cout]`, `gn.gamma/beta [c]`, `mv.weight [9, c]`.
fn map_weights(rng: &mut ChaCha8Rng, cin: usize, cout: usize, c: usize) -> Weights {
    let mut t = BTreeMap::new();
    t.insert("conv.weight".into(), (vec![9 * cin, cout], random(rng, 9 * cin * cout)));
    t.insert("conv.bias".into(), (vec![cout], random(rng, cout)));
    t.insert("gn.gamma".into(), (vec![c], random(rng, c)));
    t.insert("gn.beta".into(), (vec![c], random(rng, c)));
    t.insert("mv.weight".into(), (vec![9, c], random(rng, 9 * c)));
    Weights { tensors: t }
}

#[test]
fn feature_map_kernels_match_their_cpu_reference() {
    use runtime::frame_net::{CpuMaps, MapOps};
    use runtime::kernels::maps::GpuMap;
    use runtime::maps::Map;

    let ctx = context();
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    // (batch, side, cin, cout, channels for the norm and the move table): output channels
    // that are not a multiple of 4 exercise the padded weight rows.
    for &(batch, side, cin, cout, c) in &[(1, 2, 1, 1, 8), (2, 6, 5, 7, 16), (1, 32, 36, 16, 48), (3, 8, 48, 56, 24)] {
        let w = map_weights(&mut rng, cin, cout, c);
        let mut gpu = Gpu::new(ctx.clone(), &w);
        let mut cpu = CpuMaps(&w);
        let upload = |gpu: &mut Gpu, m: &Map| GpuMap {
            mat: gpu.input(&m.data, m.batch * m.pixels(), m.channels),
            batch: m.batch,
            side: m.side,
        };
        let check = |gpu: &mut Gpu, what: &str, c: &Map, g: &GpuMap| {
            assert_eq!((c.batch, c.side, c.channels), (g.batch, g.side, g.channels()), "{what}: shapes differ");
            let got = pollster::block_on(gpu.read(&g.mat)).unwrap();
            let scale = c.data.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
            let err = got.iter().zip(&c.data).fold(0.0f32, |m, (a, b)| m.max((a - b).abs())) / scale;
            assert!(err <= TOL, "{what}: GPU differs from CPU by {err:.2e} (> {TOL:.0e})");
        };
        let x = Map::new(random(&mut rng, batch * side * side * cin), batch, side, cin);
        let xg = upload(&mut gpu, &x);
        for stride in [1, 2] {
            let out = side / stride;
            let add = Map::new(random(&mut rng, batch * out * out * cout), batch, out, cout);
            let addg = upload(&mut gpu, &add);
            for act in [Act::None, Act::Gelu] {
                let what = format!("conv3 b{batch} {side}x{side}x{cin}->{cout} stride {stride} {act:?}");
                let (c, g) = (cpu.conv("conv", &x, stride, act, None), gpu.conv("conv", &xg, stride, act, None));
                check(&mut gpu, &what, &c, &g);
                let (c, g) = (cpu.conv("conv", &x, stride, act, Some(&add)), gpu.conv("conv", &xg, stride, act, Some(&addg)));
                check(&mut gpu, &format!("{what} + add"), &c, &g);
            }
        }
        // Values with a large common offset: a one-pass variance would lose them.
        let m = Map::new(random(&mut rng, batch * side * side * c).iter().map(|v| v + 30.0).collect(), batch, side, c);
        let mg = upload(&mut gpu, &m);
        for act in [Act::None, Act::Gelu] {
            let (cn, gn) = (cpu.norm("gn", &m, act), gpu.norm("gn", &mg, act));
            check(&mut gpu, &format!("group_norm b{batch} {side}x{side}x{c} {act:?}"), &cn, &gn);
        }
        for mv in [0, 8] {
            let (ca, ga) = (cpu.add_move(&m, "mv", mv), gpu.add_move(&mg, "mv", mv));
            check(&mut gpu, &format!("add_move {mv} b{batch} {side}x{side}x{c}"), &ca, &ga);
        }
        let b = Map::new(random(&mut rng, batch * 4 * side * side * cout), batch, 2 * side, cout);
        let bg = upload(&mut gpu, &b);
        let (cu, gu) = (cpu.up_concat(&x, &b), gpu.up_concat(&xg, &bg));
        check(&mut gpu, &format!("up_concat b{batch} {side}x{side}x{cin} + {cout}"), &cu, &gu);
    }
}
