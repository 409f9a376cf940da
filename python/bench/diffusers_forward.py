"""One dense forward of a diffusers video DiT at its released config with random weights: the diffusers side of
issue #13's GPU table (svdit bench e2e is the other side; python/bench/gpu-bench-models.sh runs both).

    python3 python/bench/diffusers_forward.py --model hunyuan-video [--warmup 1 --reps 2] [--json FILE]
    python3 python/bench/diffusers_forward.py --model cogvideox1.5-5b --batch 2     # the issue's B = 2 figure
    python3 python/bench/diffusers_forward.py --model 1.3B --shapes-only            # latents and tokens, no model
    python3 python/bench/diffusers_forward.py --model 14B --tiny --device cpu --dtype fp32 --reps 1 --warmup 0

Models (diffusers classes, configs as released; the same sizes as svdit's presets): 1.3B and 14B
(WanTransformer3DModel, Wan2.1-T2V), hunyuan-video (HunyuanVideoTransformer3DModel), cogvideox1.5-5b
(CogVideoXTransformer3DModel, CogVideoX1.5-5B). The video defaults to what `svdit bench e2e` runs: 1.3B 832x480,
14B 1280x720, HunyuanVideo 1280x720 x 129 frames, CogVideoX1.5 1360x768; 81 frames otherwise. B defaults to 1 as
in svdit bench e2e (a CFG step is two such forwards, or one of B = 2: --batch 2). The text: Wan 512 tokens
(cross-attention), HunyuanVideo 256 after the video (all valid; diffusers still passes its mask to SDPA),
CogVideoX 226 before the video.

The model is built on the device in the target dtype (parameters made on meta, then random N(0, std^2) values on
the device; norm gains 1, biases 0; diffusers' _keep_in_fp32_modules kept in fp32 as from_pretrained does), so a
13 B-parameter model is ready in seconds. Forward time: median of --reps after --warmup (CUDA events; on the CPU
time.perf_counter). Attention: one more forward with every torch.nn.functional.scaled_dot_product_attention call
timed (CUDA events around each), grouped by (query length, key length): self-attention is the calls whose keys
are the video (Wan: key length = video tokens; HunyuanVideo and CogVideoX: the joint video + text sequence); the
rest (Wan's cross-attention to the text, HunyuanVideo's token refiner) is reported apart. Its share is of that
timed forward. Peak GPU memory: torch.cuda.max_memory_allocated from after the build to the end.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

import diffusers_models as dm  # noqa: E402

DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32, "fp16": torch.float16}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=list(dm.SPECS), help="the released model")
    p.add_argument("--frames", type=int, help="video frames (default: the model's, see above)")
    p.add_argument("--height", type=int, help="video height in pixels")
    p.add_argument("--width", type=int, help="video width in pixels")
    p.add_argument("--batch", type=int, default=1, help="B (default 1, as svdit bench e2e)")
    p.add_argument("--dtype", choices=list(DTYPES), default="bf16")
    p.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu (default cuda)")
    p.add_argument("--warmup", type=int, default=1, help="untimed forwards first (default 1)")
    p.add_argument("--reps", type=int, default=3, help="timed forwards, median reported (default 3)")
    p.add_argument("--text-len", type=int, help="text tokens (default: Wan 512, HunyuanVideo 256, CogVideoX 226)")
    p.add_argument("--std", type=float, default=0.02, help="std of the random weights (default 0.02)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights (inputs: seed + 1)")
    p.add_argument("--timestep", type=float, default=500.0, help="the timestep (default 500, as svdit bench e2e)")
    p.add_argument("--no-attention", action="store_true", help="skip the extra forward with SDPA timers")
    p.add_argument("--json", metavar="FILE", help="write the results to FILE (atomically: a temporary file, renamed)")
    p.add_argument("--tiny", action="store_true", help="a tiny config of the same family (CPU smoke tests)")
    p.add_argument("--shapes-only", action="store_true", help="print the latents and token counts, build nothing")
    p.add_argument("--write-config", metavar="FILE", help="write the model's diffusers config.json to FILE (the same "
                   "model for `svdit bench e2e --model FILE`, e.g. a --tiny one), then go on")  # fmt: skip
    args = p.parse_args(argv)
    if args.batch < 1 or args.reps < 1 or args.warmup < 0:
        p.error("--batch and --reps must be >= 1, --warmup >= 0")
    return args


def resolve(args):
    spec = dm.spec_of(args.model, args.tiny)
    if args.text_len is not None:
        if args.text_len < 1:
            raise ValueError("--text-len: expected a positive number")
        config = dict(spec.config)
        if spec.family == "cogvideox1.5":
            config["max_text_seq_length"] = args.text_len  # CogVideoX's text length is part of its config
        spec = dm.ModelSpec(**{**spec.__dict__, "config": config, "text_len": args.text_len})
    frames = args.frames or spec.size[0]
    height = args.height or spec.size[1]
    width = args.width or spec.size[2]
    return spec, frames, height, width


def gib(n: float) -> float:
    return n / 2**30


def attention_summary(calls, sh: dm.Shapes) -> dict:
    """Per (query length, key length, masked) group: calls and ms; self-attention = keys over the video."""
    groups = {}
    for q, k, masked, ms in calls:
        g = groups.setdefault((q, k, masked), {"query_len": q, "key_len": k, "masked": masked, "calls": 0, "ms": 0.0})
        g["calls"] += 1
        g["ms"] += ms
    self_min = sh.video_tokens
    self_ms = sum(g["ms"] for g in groups.values() if g["key_len"] >= self_min)
    self_calls = sum(g["calls"] for g in groups.values() if g["key_len"] >= self_min)
    total = sum(g["ms"] for g in groups.values())
    return {
        "sdpa_calls": len(calls),
        "sdpa_ms": total,
        "self_attention_calls": self_calls,
        "self_attention_ms": self_ms,
        "other_sdpa_ms": total - self_ms,
        "groups": sorted(groups.values(), key=lambda g: -g["ms"]),
    }


def describe_group(g: dict, sh: dm.Shapes, spec: dm.ModelSpec) -> str:
    if g["key_len"] >= sh.video_tokens:
        kind = "self-attention" if spec.family == "wan2.1" else "joint self-attention (video + text)"
    elif spec.family == "wan2.1" and g["key_len"] == spec.text_len:
        kind = "cross-attention to the text"
    elif spec.family == "hunyuan-video" and g["query_len"] == spec.text_len:
        kind = "token refiner (text only)"
    else:
        kind = "other"
    return kind


def versions(device: str) -> dict:
    v = {"torch": torch.__version__, "cuda": torch.version.cuda, "python": sys.version.split()[0]}
    try:
        import diffusers

        v["diffusers"] = diffusers.__version__
    except ImportError:
        v["diffusers"] = None
    dev = torch.device(device)
    if dev.type == "cuda":
        v["gpu"] = torch.cuda.get_device_name(dev)
        v["cudnn"] = torch.backends.cudnn.version()
    else:
        v["gpu"] = None
        v["cpu_threads"] = torch.get_num_threads()
    return v


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        spec, frames, height, width = resolve(args)
        sh = dm.shapes(spec, frames, height, width, args.batch)
    except ValueError as e:
        print(f"diffusers_forward: {e}", file=sys.stderr)
        return 2
    result = {
        "tool": "python/bench/diffusers_forward.py",
        "argv": sys.argv[1:] if argv is None else list(argv),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": spec.name, "label": spec.label, "family": spec.family, "tiny": args.tiny,
        "diffusers_class": spec.diffusers_class,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.config.items()},
        "video": {"frames": frames, "height": height, "width": width},
        "batch": args.batch,
        "latents": list(sh.latents), "latent_thw": list(sh.latent_thw), "grid": list(sh.grid),
        "video_tokens": sh.video_tokens, "text_tokens": sh.text_tokens, "tokens": sh.tokens,
        "self_attention_tokens": sh.self_attention_tokens, "text_in_self_attention": sh.text_in_self_attention,
    }  # fmt: skip
    text_where = {"none": "in cross-attention", "after": "after the video", "before": "before the video"}
    print(f"model      {spec.label} (diffusers {spec.diffusers_class}{', tiny config' if args.tiny else ''})")
    print(f"video      {frames} frames {width}x{height} -> latents {list(sh.latents)}, grid {sh.grid[0]}x{sh.grid[1]}x"
          f"{sh.grid[2]}")  # fmt: skip
    print(f"tokens     {sh.tokens} = {sh.video_tokens} video + {sh.text_tokens} text ({text_where[sh.text_in_self_attention]}"
          f"); self-attention over {sh.self_attention_tokens}")  # fmt: skip
    if args.write_config:
        config = {"_class_name": spec.diffusers_class, **result["config"]}
        if spec.family == "hunyuan-video":
            config["text_len"] = spec.text_len  # svdit's field for the padded text length (T1 of a plan's layout)
        dm.write_json_atomically(args.write_config, config)
        print(f"config     {args.write_config}")
    if args.shapes_only:
        if args.json:
            dm.write_json_atomically(args.json, result)
        return 0

    device, dtype = args.device, DTYPES[args.dtype]
    cuda = torch.device(device).type == "cuda"
    if cuda and not torch.cuda.is_available():
        print("diffusers_forward: --device cuda but torch sees no GPU", file=sys.stderr)
        return 1
    result["versions"] = versions(device)
    result["dtype"] = args.dtype
    result["device"] = device
    v = result["versions"]
    print(f"device     {v['gpu'] or 'cpu'}, torch {v['torch']}, diffusers {v['diffusers']}, {args.dtype}, "
          f"B = {args.batch}, random weights N(0, {args.std}^2) (seed {args.seed})")  # fmt: skip
    sys.stdout.flush()

    t0 = time.perf_counter()
    torch.manual_seed(args.seed)
    model, counts = dm.build_model(spec, device, dtype, std=args.std, seed=args.seed)
    inputs = dm.forward_inputs(spec, model, sh, device, dtype, height, width, timestep=args.timestep, seed=args.seed + 1)
    dm.synchronize(device)
    build_s = time.perf_counter() - t0
    result["parameters"] = counts["parameters"]
    result["fp32_parameters"] = counts["fp32_parameters"]
    result["build_s"] = build_s
    print(f"setup      {build_s:.1f} s: {counts['parameters'] / 1e6:.1f} M parameters"
          + (f" ({counts['fp32_parameters'] / 1e6:.1f} M kept in fp32)" if counts["fp32_parameters"] else ""))
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        result["model_gib"] = gib(torch.cuda.memory_allocated(device))
    sys.stdout.flush()

    with torch.no_grad():
        forward_ms, out, times = dm.time_forward(model, inputs, args.warmup, args.reps, device)
        result["forward_ms"] = forward_ms
        result["forward_ms_all"] = times
        result["warmup"], result["reps"] = args.warmup, args.reps
        finite = bool(torch.isfinite(out).all())
        result["output"] = {"shape": list(out.shape), "finite": finite, "std": float(out.float().std()),
                            "abs_max": float(out.float().abs().max())}  # fmt: skip
        print(f"forward    {forward_ms:10.1f} ms (median of {args.reps} after {args.warmup} warm-up: "
              f"{', '.join(f'{t:.1f}' for t in times)}); output {list(out.shape)}, "
              f"{'finite' if finite else 'NOT FINITE'}, std {result['output']['std']:.3g}")  # fmt: skip
        sys.stdout.flush()
        if not args.no_attention:
            with dm.SdpaTimer(device) as timer:
                dm.synchronize(device)
                t_start = time.perf_counter()
                if cuda:
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    start.record()
                model(**inputs, return_dict=False)
                if cuda:
                    end.record()
                    torch.cuda.synchronize()
                    timed_ms = start.elapsed_time(end)
                else:
                    timed_ms = 1e3 * (time.perf_counter() - t_start)
                calls = timer.calls()
            att = attention_summary(calls, sh)
            att["timed_forward_ms"] = timed_ms
            att["self_attention_share"] = att["self_attention_ms"] / timed_ms
            att["sdpa_share"] = att["sdpa_ms"] / timed_ms
            result["attention"] = att
            print(f"attention  self-attention {att['self_attention_ms']:.1f} ms = {100 * att['self_attention_share']:.1f} %"
                  f" of a {timed_ms:.1f} ms forward with timers ({att['self_attention_calls']} calls); every SDPA "
                  f"call {att['sdpa_ms']:.1f} ms = {100 * att['sdpa_share']:.1f} % ({att['sdpa_calls']} calls)")  # fmt: skip
            for g in att["groups"]:
                print(f"           {g['calls']:4d} x SDPA q {g['query_len']:>7d} k {g['key_len']:>7d}"
                      f"{' masked' if g['masked'] else '       '} {g['ms']:10.1f} ms  {describe_group(g, sh, spec)}")
            print("           (every torch SDPA call of the forward is counted; self-attention = keys over the video)")
    if cuda:
        result["peak_gib"] = gib(torch.cuda.max_memory_allocated(device))
        print(f"memory     peak {result['peak_gib']:.1f} GiB allocated (model {result['model_gib']:.1f} GiB)")
    # A sampling step: HunyuanVideo is guidance-distilled (embedded guidance, one forward); the others run
    # classifier-free guidance, two forwards of B = 1 or one of B = 2 (CogVideoXPipeline batches cond + uncond).
    per_step = 1 if spec.family == "hunyuan-video" or args.batch >= 2 else 2
    result["forwards_per_step"] = per_step
    result["step_ms"] = per_step * forward_ms
    why = "embedded guidance, no CFG" if spec.family == "hunyuan-video" else "classifier-free guidance"
    print(f"step       {per_step * forward_ms / 1e3:.2f} s per sampling step ({per_step} forward{'s' * (per_step > 1)} "
          f"of B = {args.batch}: {why})")  # fmt: skip
    result["ok"] = bool(result["output"]["finite"])
    if args.json:
        dm.write_json_atomically(args.json, result)
        print(f"json       {args.json}")
    if not result["ok"]:
        print("diffusers_forward: the output has NaN or inf values", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
