"""Times one Wan2.1 transformer forward in diffusers, dense and with an svdit plan applied, in one process.

    python3 python/bench/wan_diffusers_step.py make-plan --density 0.25 --out plan.json
    python3 python/bench/wan_diffusers_step.py time --plan plan.json [--warmup 2 --reps 5]

Full-size Wan2.1-T2V-1.3B (diffusers WanTransformer3DModel, random weights, bf16, CUDA) at 832x480, 81 frames:
latents [1, 16, 21, 60, 104], 32760 tokens. One forward is one classifier-free-guidance branch of one denoising
step; the dense forward runs diffusers' own attention (torch SDPA), the plan's forward svdit's processors
(torch.ops.svdit.sparse_attention, one call per layer). Times are CUDA-event medians. `make-plan` writes a plan
for that model and layout whose mean block density is about --density (the same file `svdit bench e2e --plan`
takes); `svdit` must be importable (the package, or python/svdit beside the op libraries).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import diffusers_models  # noqa: E402
import svdit  # noqa: E402

CONFIG = diffusers_models.WAN_1_3B  # Wan2.1-T2V-1.3B, as diffusers_forward.py --model 1.3B builds it
LATENTS = (1, 16, 21, 60, 104)  # 81 frames of 832 x 480 through Wan's VAE (4x temporal, 8x spatial)
LAYOUT = {"frames": 21, "height": 30, "width": 52, "text_prefix": 0, "text_suffix": 0, "block_size": 128}
LAYERS, HEADS = CONFIG["num_layers"], CONFIG["num_attention_heads"]


def density(components):
    keys = ("frames", "height", "width", "text_prefix", "text_suffix", "block_size")
    *_, d = torch.ops.svdit.compile_layer(json.dumps([components]), *[LAYOUT[k] for k in keys])
    return float(d[0])


def make_plan(target: float, out: str) -> None:
    p = LAYOUT["height"] * LAYOUT["width"]
    patterns = {
        0: [{"type": "dense"}],
        1: [{"type": "window", "w": p}],
        2: [{"type": "temporal", "w_s": LAYOUT["width"], "w_f": 5}],
        3: [{"type": "stripe", "rule": "first_frame", "columns": [[0, p]]}, {"type": "window", "w": p // 2}],
    }
    densities = {i: density(c) for i, c in patterns.items()}
    sparse = [1, 2, 3]
    # Heads cycle through the sparse patterns; the first `dense` heads of each layer stay dense, `dense` chosen
    # (over every layer alike, then layer by layer for the remainder) so the mean block density is nearest target.
    best = None
    for dense_heads in range(HEADS + 1):
        for extra_layers in range(LAYERS + 1):
            table = []
            for layer in range(LAYERS):
                k = dense_heads + (1 if layer < extra_layers else 0)
                row = [0 if h < k else sparse[(layer + h) % len(sparse)] for h in range(HEADS)]
                table.append(row)
            mean = sum(densities[i] for row in table for i in row) / (LAYERS * HEADS)
            if best is None or abs(mean - target) < abs(best[0] - target):
                best = (mean, table)
    mean, table = best
    plan = {
        "format": "svdit-plan", "version": 1,
        "model": {"name": "Wan2.1-T2V-1.3B", "layers": LAYERS, "heads": HEADS, "head_dim": 128},
        "layout": LAYOUT,
        "patterns": [{"id": i, "density": densities[i], "components": c} for i, c in patterns.items()],
        "schedule": [{"steps": [0, 50], "heads": table}],
        "provenance": {"note": f"python/bench/wan_diffusers_step.py make-plan --density {target}: mean block "
                               f"density {mean:.4f}; pattern densities {densities}"},
    }  # fmt: skip
    with open(out, "w") as f:
        json.dump(plan, f)
    print(f"plan {out}: mean block density {mean:.4f} (patterns {densities})")


def time_forward(model, inputs, warmup: int, reps: int) -> tuple[float, torch.Tensor]:
    median, out, _ = diffusers_models.time_forward(model, inputs, warmup, reps, "cuda")
    return median, out


def time_plan(plan_path: str, warmup: int, reps: int) -> None:
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    with torch.device("cuda"):
        model = WanTransformer3DModel(**CONFIG).to(torch.bfloat16).eval()
    g = torch.Generator(device="cuda").manual_seed(1)
    inputs = dict(
        hidden_states=torch.randn(LATENTS, generator=g, device="cuda", dtype=torch.bfloat16),
        timestep=torch.tensor([999.0], device="cuda"),
        encoder_hidden_states=torch.randn(1, 512, 4096, generator=g, device="cuda", dtype=torch.bfloat16),
    )
    plan = svdit.read_plan(plan_path)
    with torch.no_grad():
        dense_ms, dense_out = time_forward(model, inputs, warmup, reps)
        with svdit.apply_plan(model, plan):
            plan_ms, plan_out = time_forward(model, inputs, warmup, reps)
    diff = float((plan_out.float() - dense_out.float()).norm() / dense_out.float().norm())
    print(f"device     {torch.cuda.get_device_name()}, torch {torch.__version__}, bf16, B = 1, random weights")
    print(f"model      diffusers WanTransformer3DModel (Wan2.1-T2V-1.3B config), latents {list(LATENTS)}, "
          f"32760 tokens")  # fmt: skip
    print(f"plan       {plan_path}: {plan.provenance.get('note', '')}")
    print(f"dense      {dense_ms:8.1f} ms per forward (median of {reps} after {warmup} warm-up)")
    print(f"apply_plan {plan_ms:8.1f} ms per forward, speed-up {dense_ms / plan_ms:.2f}x, relative L2 difference "
          f"of the output {diff:.3f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("make-plan", help="write a plan of about --density mean block density")
    mk.add_argument("--density", type=float, default=0.25)
    mk.add_argument("--out", required=True)
    tm = sub.add_parser("time", help="time one forward dense and with --plan")
    tm.add_argument("--plan", required=True)
    tm.add_argument("--warmup", type=int, default=2)
    tm.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    if args.command == "make-plan":
        make_plan(args.density, args.out)
    else:
        time_plan(args.plan, args.warmup, args.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
