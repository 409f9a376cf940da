#!/usr/bin/env python3
"""Block-sparse attention benchmark: svdit's kernel against the best dense attention and FlexAttention.

For every shape and pattern (one compiled layout per head, built by torch.ops.svdit.compile_layer, i.e. the exact
layouts the C++ side uses) it reports, in one run on one GPU:
  block density, our time, cuDNN SDPA dense time, FlashAttention-backend dense time,
  eta = cuDNN dense time * density / our time (docs/BENCHMARKS.md), TFLOP/s on the computed blocks,
  FlexAttention (torch.compile'd flex_attention, BlockMask from the IDENTICAL layout) time and its speed-up,
  and the relative difference between our output and FlexAttention's (an agreement check, not a timing).
Permuted heads (temporal) are handed to FlexAttention already permuted (the permutation is not timed for Flex).

  python3 kernels/bench/bench_sparse_attention.py --lib build-gpu/lib/libsvdit_torch_ops.so [--shapes wan13b]
"""
import argparse
import datetime
import json
import math
import statistics
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

SHAPES = {
    # name: batch, heads, head_dim, latent frames F, H', W', text prefix T0, text suffix T1
    "wan13b": dict(B=1, H=12, D=128, F=21, Hp=30, Wp=52, T0=0, T1=0),      # Wan2.1-1.3B 480p, S = 32760
    "wan14b": dict(B=1, H=40, D=128, F=21, Hp=45, Wp=80, T0=0, T1=0),      # Wan2.1-14B 720p,  S = 75600
    "hunyuan": dict(B=1, H=24, D=128, F=33, Hp=45, Wp=80, T0=0, T1=256),   # HunyuanVideo 720p, S = 119056
    "cogvideox": dict(B=2, H=48, D=64, F=11, Hp=48, Wp=85, T0=226, T1=0),  # CogVideoX1.5, S = 45106
}


def window(w):
    return [{"type": "window", "w": int(w)}]


def temporal(ws, wf):
    return [{"type": "temporal", "w_s": int(ws), "w_f": int(wf)}]


def stripe_window(w, P, T0):
    return [{"type": "window", "w": int(w)},
            {"type": "stripe", "rule": "first_frame", "columns": [[T0, T0 + P]]}]


def pattern_sets(s):
    """name -> list of per-head patterns (JSON objects)."""
    P, Fr, H = s["Hp"] * s["Wp"], s["F"], s["H"]
    base = {
        "dense": [{"type": "dense"}],
        "skip": [{"type": "skip"}],
        "window w=P": window(P),
        "window w=2P": window(2 * P),
        "window w=4P": window(4 * P),
        "temporal w_s=P/8": temporal(P // 8, Fr - 1),
        "temporal w_s=P/4": temporal(P // 4, Fr - 1),
        "stripe+window w=P": stripe_window(P, P, s["T0"]),
        "stripe+window w=2P": stripe_window(2 * P, P, s["T0"]),
    }
    sets = {name: [pat] * H for name, pat in base.items()}
    # A layer as a plan would produce it: different patterns per head, one launch.
    cycle = ["window w=2P", "temporal w_s=P/4", "stripe+window w=P", "window w=P", "temporal w_s=P/8",
             "dense", "window w=4P", "skip", "stripe+window w=2P", "window w=2P", "temporal w_s=P/4", "window w=P"]
    sets["mixed"] = [base[cycle[h % len(cycle)]] for h in range(H)]
    return sets


def bench(fn, warmup, reps):
    """Median time in ms of fn() with CUDA events (each rep timed on its own)."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def computed_pairs(row_begin, key_blocks, S, b):
    """Exact (query, key) pairs inside the computed blocks, summed over heads (last blocks may be partial)."""
    nb = row_begin.shape[1] - 1
    rows = torch.full((nb,), b, dtype=torch.int64)
    rows[-1] = S - (nb - 1) * b
    total = 0
    for h in range(row_begin.shape[0]):
        rb = row_begin[h].long()
        counts = rb[1:] - rb[:-1]
        kb = key_blocks[rb[0]:rb[-1]].long()
        q_rows = torch.repeat_interleave(rows, counts)
        total += int((q_rows * rows[kb]).sum())
    return total


def flex_block_mask(row_begin, key_blocks, B, S, b, device):
    """FlexAttention BlockMask holding exactly our computed blocks, all as full (unmasked) blocks."""
    from torch.nn.attention.flex_attention import BlockMask
    H, nb1 = row_begin.shape
    nb = nb1 - 1
    counts = (row_begin[:, 1:] - row_begin[:, :-1]).to(torch.int32)  # [H, nb]
    indices = torch.zeros((H, nb, nb), dtype=torch.int32)
    for h in range(H):
        rb = row_begin[h].long()
        kb = key_blocks[rb[0]:rb[-1]]
        q_of = torch.repeat_interleave(torch.arange(nb), counts[h].long())
        slot = torch.arange(kb.numel()) - (rb[q_of] - rb[0])
        indices[h, q_of, slot] = kb
    zeros = torch.zeros_like(counts)
    expand = lambda t: t.unsqueeze(0).expand(B, *t.shape).contiguous().to(device)
    return BlockMask.from_kv_blocks(expand(zeros), expand(indices), expand(counts), expand(indices),
                                    BLOCK_SIZE=b, mask_mod=None, seq_lengths=(S, S))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", required=True, help="path to libsvdit_torch_ops.so")
    ap.add_argument("--shapes", default="wan13b", help="comma list of " + ",".join(SHAPES))
    ap.add_argument("--patterns", default="", help="semicolon list of pattern-set names (default: all)")
    ap.add_argument("--block", type=int, default=128)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--portable", action="store_true", help="also time the portable (mma.sync) backend")
    ap.add_argument("--variants", default="", help="comma list of Hopper kernel variants to time as well "
                    "(8: diagnostic without any K/V/Q load, wrong output; isolates the load path; 16: no TMA, every tile "
                    "gathered with cp.async, i.e. the previous producer; 64: TMA, but permuted rows gathered in the kernel instead "
                    "of the permute pre-pass)")
    ap.add_argument("--json", default="")
    ap.add_argument("--markdown", default="")
    args = ap.parse_args()

    torch.ops.load_library(args.lib)
    dev = torch.device("cuda")
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float16
    flex = None
    if not args.no_flex:
        from torch.nn.attention.flex_attention import flex_attention
        flex = torch.compile(flex_attention, dynamic=False)

    gpu = torch.cuda.get_device_name()
    header = (f"GPU {gpu}; torch {torch.__version__}; cuDNN {torch.backends.cudnn.version()}; "
              f"{datetime.date.today().isoformat()}; dtype {args.dtype}; b={args.block}; "
              f"median of {args.reps} reps after {args.warmup} warm-ups; command: {' '.join(sys.argv)}")
    print(header)
    results = []
    for shape_name in args.shapes.split(","):
        s = SHAPES[shape_name]
        B, H, D = s["B"], s["H"], s["D"]
        S = s["T0"] + s["F"] * s["Hp"] * s["Wp"] + s["T1"]
        torch.manual_seed(0)
        q, k, v = (torch.randn(B, H, S, D, device=dev, dtype=dtype) for _ in range(3))  # [B, H, S, D]
        qt, kt, vt = (t.transpose(1, 2) for t in (q, k, v))  # [B, S, H, D] views of the same memory

        def sdpa(backend):
            with sdpa_kernel([backend]):
                return F.scaled_dot_product_attention(q, k, v)

        dense_flops = 4.0 * B * H * S * S * D
        t_cudnn = bench(lambda: sdpa(SDPBackend.CUDNN_ATTENTION), args.warmup, args.reps)
        t_flash = bench(lambda: sdpa(SDPBackend.FLASH_ATTENTION), args.warmup, args.reps)
        ref_dense = sdpa(SDPBackend.CUDNN_ATTENTION)
        print(f"\n[{shape_name}] B={B} H={H} S={S} D={D}: cuDNN SDPA {t_cudnn:.3f} ms "
              f"({dense_flops / t_cudnn / 1e9:.0f} TFLOP/s), FlashAttention backend {t_flash:.3f} ms")
        print(f"{'pattern':22s} {'density':>7s} {'ours ms':>8s} {'eta':>6s} {'TFLOP/s':>7s} "
              f"{'flex ms':>8s} {'vs flex':>7s} {'|ours-flex|/|flex|':>18s}" + (" portable ms" if args.portable else ""))
        names = list(pattern_sets(s).items())
        if args.patterns:
            wanted = args.patterns.split(";")
            names = [(n, p) for n, p in names if n in wanted]
        for name, pats in names:
            rb, kb, order, dens = torch.ops.svdit.compile_layer(json.dumps(pats), s["F"], s["Hp"], s["Wp"],
                                                                 s["T0"], s["T1"], args.block)
            nb = rb.shape[1] - 1
            density = kb.numel() / (H * nb * nb)
            pairs = computed_pairs(rb, kb, S, args.block)
            rb_d, kb_d = rb.to(dev), kb.to(dev)
            order_d = order.to(dev) if order.numel() else None
            run = lambda backend="automatic": torch.ops.svdit.sparse_attention(qt, kt, vt, rb_d, kb_d, order_d,
                                                                               args.block, backend)
            t_ours = bench(run, args.warmup, args.reps)
            out, _ = run()  # [B, S, H, D]
            out = out.transpose(1, 2)  # [B, H, S, D]
            row = dict(shape=shape_name, B=B, H=H, S=S, D=D, pattern=name, block_density=density,
                       ours_ms=t_ours, cudnn_ms=t_cudnn, flash_ms=t_flash,
                       eta=t_cudnn * density / t_ours if t_ours > 0 else float("nan"),
                       tflops=4.0 * B * pairs * D / t_ours / 1e9 if pairs else 0.0)
            if name == "dense":
                row["dense_vs_cudnn"] = t_cudnn / t_ours
                row["dense_rel_diff_vs_cudnn"] = float((out.float() - ref_dense.float()).norm() /
                                                       ref_dense.float().norm())
            for var in [int(x) for x in args.variants.split(",") if x]:
                row[f"variant{var}_ms"] = bench(
                    lambda: torch.ops.svdit.sparse_attention(qt, kt, vt, rb_d, kb_d, order_d, args.block, "hopper", var),
                    args.warmup, args.reps)
            if args.variants:
                print("    variants: " + ", ".join(f"{k[7:-3]}: {v:.3f} ms" for k, v in row.items()
                                                   if k.startswith("variant")))
            if args.portable:
                row["portable_ms"] = bench(lambda: run("portable"), args.warmup, args.reps)
            if order_d is not None:
                # Cost of gathering in the kernel vs a separate permute: the same CSR on pre-permuted inputs.
                idx = order_d.long().view(1, H, S, 1).expand(B, H, S, D)
                qp, kp, vp = (torch.gather(t, 2, idx) for t in (q, k, v))  # [B, H, S, D] in layout order
                row["ours_prepermuted_ms"] = bench(
                    lambda: torch.ops.svdit.sparse_attention(qp.transpose(1, 2), kp.transpose(1, 2),
                                                             vp.transpose(1, 2), rb_d, kb_d, None, args.block,
                                                             "automatic"), args.warmup, args.reps)

                def permute_pass():
                    g = [torch.gather(t, 2, idx) for t in (q, k, v)]
                    return torch.empty_like(q).scatter_(2, idx, g[0])
                row["permute_pass_ms"] = bench(permute_pass, args.warmup, args.reps)
            if flex is not None:
                bm = flex_block_mask(rb, kb, B, S, args.block, dev)
                if order_d is not None:
                    fq, fk, fv = qp, kp, vp
                else:
                    fq, fk, fv = q, k, v
                t_flex = bench(lambda: flex(fq, fk, fv, block_mask=bm), args.warmup, args.reps)
                fo = flex(fq, fk, fv, block_mask=bm)
                if order_d is not None:
                    fo = torch.empty_like(fo).scatter_(2, idx, fo)
                row["flex_ms"] = t_flex
                row["speedup_vs_flex"] = t_flex / t_ours
                row["rel_diff_vs_flex"] = float((out.float() - fo.float()).norm() / fo.float().norm().clamp_min(1e-30))
            results.append(row)
            print(f"{name:22s} {density:7.3f} {t_ours:8.3f} {row['eta']:6.3f} {row['tflops']:7.0f} "
                  f"{row.get('flex_ms', float('nan')):8.3f} {row.get('speedup_vs_flex', float('nan')):7.2f} "
                  f"{row.get('rel_diff_vs_flex', float('nan')):18.2e}"
                  + (f" {row['portable_ms']:11.3f}" if args.portable else "")
                  + (f"   [pre-permuted {row['ours_prepermuted_ms']:.3f} ms, permute pass "
                     f"{row['permute_pass_ms']:.3f} ms]" if "ours_prepermuted_ms" in row else "")
                  + (f"   [dense: {row['dense_vs_cudnn']:.3f}x cuDNN, diff {row['dense_rel_diff_vs_cudnn']:.1e}]"
                     if "dense_vs_cudnn" in row else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(header=header, gpu=gpu, results=results), f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(header + "\n\n| shape | pattern | block density | ours ms | cuDNN dense ms | FA dense ms | eta | "
                    "TFLOP/s | Flex ms | vs Flex | rel. diff vs Flex |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
            for r in results:
                f.write(f"| {r['shape']} | {r['pattern']} | {r['block_density']:.3f} | {r['ours_ms']:.3f} | "
                        f"{r['cudnn_ms']:.3f} | {r['flash_ms']:.3f} | {r['eta']:.3f} | {r['tflops']:.0f} | "
                        f"{r.get('flex_ms', float('nan')):.3f} | {r.get('speedup_vs_flex', float('nan')):.2f} | "
                        f"{r.get('rel_diff_vs_flex', float('nan')):.1e} |\n")


if __name__ == "__main__":
    main()
