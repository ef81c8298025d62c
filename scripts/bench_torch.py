#!/usr/bin/env python3
"""PyTorch CPU benchmark of one training step of the world model's frame mode.

A reference point for the burn implementation: the same architecture, the same
loss, the same optimizer, and the same FLOP count, timed on the CPU.

Usage:
    python3 scripts/bench_torch.py [--preset teacher|student|tiny] [--batch 32]
                                   [--steps 20] [--warmup 3] [--threads N]
                                   [--sdpa] [--json out.json]

On first use the script creates a virtual environment at
    $HOME/.cache/world-model-playground/torch-venv
installs `torch` and `numpy` there from PyPI if torch is missing, and re-runs
itself with that interpreter. The download is large (a few GB).

One step = zero_grad, forward, loss, backward, optimizer.step (Adam, lr 3e-4).
Reported: median and minimum step time (ms), samples/s at the median, and
achieved GFLOP/s, where FLOPs = 3 x forward FLOPs (forward + backward) and the
forward FLOPs per sample (n = 130 tokens, a multiply-add counted as 2) are
    layers * (n*(4*d*d + 2*d*ff)*2 + 2*2*n*n*d) + 2*(128*L*d) + 2*(64*d*2L).
--sdpa also times a variant using F.scaled_dot_product_attention and reports both.

Architecture (tokens: 64 previous-frame patches, 64 current-frame patches,
one action token, one summary token):
    patch_in = Linear(L, d) on prev and cur; + pos_emb [64, d] (shared by both
    frames) + slot_emb Embedding(2, d) (0 = prev, 1 = cur); action token =
    Embedding(9, d); summary token = Parameter [d].
    Pre-LN blocks: x += Attn(LN(x)); x += Linear(ff, d)(GELU(Linear(d, ff)(LN(x)))).
    Attn: q, k, v, o Linear(d, d) with bias; softmax(q k^T / sqrt(d/heads) + mask) v,
    mask = -1e9 at [query 129 (summary), key 128 (action)].
    Final LayerNorm; frame head Linear(d, 2L) on positions 64..128:
    mean = cur + out[..., :L], logvar = clamp(out[..., L:], -8, 4);
    summary head Linear(d, Z) at position 129.
    loss = mean(0.5 * (logvar + (target - mean)^2 * exp(-logvar))) + 0 * z.sum().
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

VENV = os.path.join(os.path.expanduser("~"), ".cache", "world-model-playground", "torch-venv")

PRESETS = {
    # L = patch latent, d = model width, Z = state latent
    "teacher": dict(L=32, d=128, layers=4, heads=4, ff=512, Z=64),
    "student": dict(L=32, d=64, layers=2, heads=2, ff=128, Z=64),
    "tiny": dict(L=32, d=32, layers=1, heads=2, ff=64, Z=16),
}
P = 64  # patches per frame
N_ACTIONS = 9
N_TOKENS = 2 * P + 2  # prev, cur, action, summary
ACTION_IDX = 2 * P
SUMMARY_IDX = 2 * P + 1


def ensure_torch():
    """Import torch, or set up the venv and re-exec this script inside it."""
    try:
        import torch  # noqa: F401
        return
    except ImportError:
        pass
    venv_python = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        # Already inside the venv and torch still missing: install it here.
        print(f"installing torch and numpy into {VENV} (PyPI; this can take minutes)", flush=True)
        subprocess.check_call([sys.executable, "-m", "pip", "install", "torch", "numpy"])
        return
    if not os.path.exists(venv_python):
        print(f"creating venv at {VENV}", flush=True)
        os.makedirs(os.path.dirname(VENV), exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
    has_torch = subprocess.call(
        [venv_python, "-c", "import torch, numpy"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) == 0
    if not has_torch:
        print(f"installing torch and numpy into {VENV} (PyPI; this can take minutes)", flush=True)
        subprocess.check_call([venv_python, "-m", "pip", "install", "torch", "numpy"])
    os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + sys.argv[1:])


def forward_flops_per_sample(cfg):
    L, d, layers, ff = cfg["L"], cfg["d"], cfg["layers"], cfg["ff"]
    n = N_TOKENS
    return (
        layers * (n * (4 * d * d + 2 * d * ff) * 2 + 2 * 2 * n * n * d)
        + 2 * (2 * P * L * d)
        + 2 * (P * d * 2 * L)
    )


def build(cfg, use_sdpa):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    L, d, layers, heads, ff, Z = (cfg[k] for k in ("L", "d", "layers", "heads", "ff", "Z"))
    head_dim = d // heads
    assert head_dim * heads == d

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.q = nn.Linear(d, d)
            self.k = nn.Linear(d, d)
            self.v = nn.Linear(d, d)
            self.o = nn.Linear(d, d)

        def forward(self, x, mask):
            b, n, _ = x.shape

            def split(t):
                return t.view(b, n, heads, head_dim).transpose(1, 2)  # [B, h, n, hd]

            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            if use_sdpa:
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            else:
                scores = q @ k.transpose(-2, -1) / math.sqrt(head_dim) + mask
                y = torch.softmax(scores, dim=-1) @ v
            y = y.transpose(1, 2).reshape(b, n, d)
            return self.o(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d)
            self.attn = Attn()
            self.ln2 = nn.LayerNorm(d)
            self.ff1 = nn.Linear(d, ff)
            self.ff2 = nn.Linear(ff, d)

        def forward(self, x, mask):
            x = x + self.attn(self.ln1(x), mask)
            x = x + self.ff2(F.gelu(self.ff1(self.ln2(x))))
            return x

    class FrameModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_in = nn.Linear(L, d)
            self.pos_emb = nn.Parameter(torch.randn(P, d) * 0.02)
            self.slot_emb = nn.Embedding(2, d)
            self.action_emb = nn.Embedding(N_ACTIONS, d)
            self.summary = nn.Parameter(torch.randn(d) * 0.02)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(d)
            self.frame_head = nn.Linear(d, 2 * L)
            self.summary_head = nn.Linear(d, Z)
            mask = torch.zeros(N_TOKENS, N_TOKENS)
            mask[SUMMARY_IDX, ACTION_IDX] = -1e9
            self.register_buffer("mask", mask)
            self.register_buffer("slot_ids", torch.tensor([0, 1]))

        def forward(self, prev, cur, action):
            b = prev.shape[0]
            slots = self.slot_emb(self.slot_ids)  # [2, d]
            prev_t = self.patch_in(prev) + self.pos_emb + slots[0]
            cur_t = self.patch_in(cur) + self.pos_emb + slots[1]
            act_t = self.action_emb(action).unsqueeze(1)  # [B, 1, d]
            sum_t = self.summary.expand(b, 1, d)
            x = torch.cat([prev_t, cur_t, act_t, sum_t], dim=1)  # [B, 130, d]
            for blk in self.blocks:
                x = blk(x, self.mask)
            x = self.ln_f(x)
            out = self.frame_head(x[:, P : 2 * P])  # [B, 64, 2L]
            mean = cur + out[..., :L]
            logvar = out[..., L:].clamp(-8.0, 4.0)
            z = self.summary_head(x[:, SUMMARY_IDX])  # [B, Z]
            return mean, logvar, z

    return FrameModel()


def bench(cfg, args, use_sdpa):
    import torch

    torch.manual_seed(0)
    model = build(cfg, use_sdpa)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    B, L = args.batch, cfg["L"]
    prev = torch.randn(B, P, L)
    cur = torch.randn(B, P, L)
    action = torch.randint(0, N_ACTIONS, (B,))
    target = torch.randn(B, P, L)

    def step():
        opt.zero_grad(set_to_none=True)
        mean, logvar, z = model(prev, cur, action)
        loss = (0.5 * (logvar + (target - mean) ** 2 * torch.exp(-logvar))).mean() + 0.0 * z.sum()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    loss = float("nan")
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)

    n_params = sum(p.numel() for p in model.parameters())
    flops_step = 3 * forward_flops_per_sample(cfg) * B
    med = statistics.median(times)
    mn = min(times)
    return {
        "attention": "sdpa" if use_sdpa else "explicit",
        "params": n_params,
        "median_ms": med * 1e3,
        "min_ms": mn * 1e3,
        "samples_per_s": B / med,
        "gflops_median": flops_step / med / 1e9,
        "gflops_best": flops_step / mn / 1e9,
        "flops_per_step": flops_step,
        "final_loss": loss,
        "times_ms": [t * 1e3 for t in times],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="teacher")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--sdpa", action="store_true",
                    help="also time F.scaled_dot_product_attention and report both")
    ap.add_argument("--json", metavar="PATH", help="write results as JSON")
    args = ap.parse_args()
    if args.steps < 1 or args.batch < 1 or args.threads < 1 or args.warmup < 0:
        ap.error("--steps, --batch and --threads must be >= 1, --warmup >= 0")

    ensure_torch()
    import torch

    torch.set_num_threads(args.threads)
    cfg = PRESETS[args.preset]
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, preset {args.preset} "
        f"(L={cfg['L']} d={cfg['d']} layers={cfg['layers']} heads={cfg['heads']} "
        f"ff={cfg['ff']} Z={cfg['Z']}), batch {args.batch}, steps {args.steps}, warmup {args.warmup}"
    )
    fwd = forward_flops_per_sample(cfg)
    print(f"forward FLOPs/sample {fwd / 1e6:.2f} M, train FLOPs/step {3 * fwd * args.batch / 1e9:.3f} G")

    results = []
    variants = [False, True] if args.sdpa else [False]
    for use_sdpa in variants:
        r = bench(cfg, args, use_sdpa)
        results.append(r)
        print(
            f"[{r['attention']}] params {r['params']}: median {r['median_ms']:.2f} ms, "
            f"min {r['min_ms']:.2f} ms, {r['samples_per_s']:.1f} samples/s, "
            f"{r['gflops_median']:.2f} GFLOP/s (best {r['gflops_best']:.2f}), "
            f"loss {r['final_loss']:.4f}"
        )

    if args.json:
        out = {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "preset": args.preset,
            "config": cfg,
            "batch": args.batch,
            "steps": args.steps,
            "warmup": args.warmup,
            "forward_flops_per_sample": fwd,
            "results": results,
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
