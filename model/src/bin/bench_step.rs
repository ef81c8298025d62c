//! `cargo run -p model --release --bin bench_step -- --preset teacher --batch 32`: times one
//! training step of frame mode (forward, Gaussian NLL, backward, Adam) with burn on the CPU,
//! the same step `scripts/bench_torch.py` times with PyTorch, and prints the same figures.

use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use clap::Parser;
use model::config::ModelConfig;
use model::net::{gaussian_nll, WorldModel};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "teacher")]
    preset: String,
    #[arg(long, default_value_t = 32)]
    batch: usize,
    #[arg(long, default_value_t = 20)]
    steps: usize,
    #[arg(long, default_value_t = 3)]
    warmup: usize,
}

fn main() {
    let args = Args::parse();
    let c = match args.preset.as_str() {
        "teacher" => ModelConfig::teacher(),
        "student" => ModelConfig::student(),
        "tiny" => ModelConfig::tiny(),
        other => {
            eprintln!("error: unknown preset \"{other}\": use teacher, student or tiny");
            std::process::exit(2);
        }
    };
    let device = Device::flex().autodiff();
    device.seed(0);
    let mut model = WorldModel::new(&c, &device);
    let mut optim = AdamConfig::new().init();
    let (b, p, l) = (args.batch, c.patches(), c.patch_latent);
    let normal = || Tensor::<3>::random([b, p, l], Distribution::Normal(0.0, 1.0), &device);
    let actions: Tensor<1, Int> = Tensor::from_data(
        TensorData::new((0..b as i64).map(|i| i % 9).collect::<Vec<_>>(), [b]),
        &device,
    );
    let mask = WorldModel::frame_mask(&c, &device);
    let (prev, cur, target) = (normal(), normal(), normal());
    let mut times = Vec::new();
    for i in 0..args.warmup + args.steps {
        let t = std::time::Instant::now();
        let (mean, logvar, z) =
            model.frame_step(&c, prev.clone(), cur.clone(), actions.clone(), mask.clone());
        let loss = gaussian_nll(mean, logvar, target.clone()) + z.sum() * 0.0;
        let _ = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-4, model, grads);
        // Force the update to finish before stopping the clock.
        let _ = model.frame_head.weight.val().sum().into_scalar::<f32>();
        if i >= args.warmup {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let min = times[0];
    // Same formula as scripts/bench_torch.py: forward FLOPs per sample, x3 for a training step.
    let (n, d, f) = (c.frame_tokens() as f64, c.d_model as f64, c.d_ff as f64);
    let forward = c.layers as f64 * (n * (4.0 * d * d + 2.0 * d * f) * 2.0 + 2.0 * 2.0 * n * n * d)
        + 2.0 * (2.0 * p as f64 * l as f64 * d)
        + 2.0 * (p as f64 * d * 2.0 * l as f64);
    let step_flops = 3.0 * forward * b as f64;
    println!(
        "burn 0.22 flex, preset {} (L={} d={} layers={} heads={} ff={}), batch {b}: median {:.2} ms, min {:.2} ms, {:.1} samples/s, {:.2} GFLOP/s (best {:.2}); forward FLOPs/sample {:.2} M",
        args.preset,
        l,
        c.d_model,
        c.layers,
        c.heads,
        c.d_ff,
        median * 1e3,
        min * 1e3,
        b as f64 / median,
        step_flops / median / 1e9,
        step_flops / min / 1e9,
        forward / 1e6
    );
}
