#!/usr/bin/env python3
"""CPU block-sparse attention: svdit.sparse_attention (CPU kernel) against dense SDPA, at the demo model's shape.

For block densities from 0.1 to 0.5 (windows of growing width; plus a temporal band and a stripe+window layer at
about 0.3, i.e. the permuted and the gathered paths) it times one attention call of the demo's size — batch 2 (the
guidance pair), 3 heads × 64, 20 frames × 12 × 16 tokens = 3840, b = 64 — with the exact layouts the C++ side
compiles (torch.ops.svdit.compile_layer), and prints per layout: block density, dense SDPA time, sparse time, the
measured speed-up, the ideal one (1 / density) and the relative difference of the outputs against SDPA with the
layout as a mask (an agreement check). Times are the median of --reps calls after one warm-up; the machine's load
is printed with them, since this runs on shared machines.

  python3 kernels/bench/bench_cpu_sparse_attention.py --lib build-nocuda/lib/libsvdit_torch_ops.so [--threads 2]
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import time

import torch
import torch.nn.functional as F


def layouts(frames, hp, wp, block):
    P = hp * wp
    S = frames * P
    out = []
    for w in (0.1, 0.2, 0.3, 0.4, 0.5):  # window half-width so that the band covers about that fraction of S
        out.append((f"window w={w * S / P:.1f}P", [{"type": "window", "w": int(w * S / 2)}]))
    out.append(("temporal w_s=P/2", [{"type": "temporal", "w_s": P // 2, "w_f": frames - 1}]))
    out.append(("stripe+window w=2P", [{"type": "window", "w": 2 * P},
                                       {"type": "stripe", "rule": "first_frame", "columns": [[0, P]]}]))
    out.append(("dense (as a layout)", [{"type": "dense"}]))
    return out


def timed(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), min(ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", required=True, help="libsvdit_torch_ops.so")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--height", type=int, default=12, help="token rows per frame")
    ap.add_argument("--width", type=int, default=16, help="token columns per frame")
    ap.add_argument("--block", type=int, default=64)
    ap.add_argument("--json", help="also write the rows here")
    a = ap.parse_args()
    torch.ops.load_library(a.lib)
    torch.set_num_threads(a.threads)
    B, H, D = 2, 3, 64
    S = a.frames * a.height * a.width
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(B, S, H, D, generator=g) for _ in range(3))
    # Peaked rows, as a trained model's are (random rows are flat): scale q up.
    q = q * 3
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
          f"{a.threads} threads, load {os.getloadavg()[0]:.2f}; B {B}, H {H}, D {D}, S {S}, b {a.block}; median of {a.reps}")
    dense_t = timed(lambda: F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)), a.reps)
    print(f"{'layout':22} {'density':>7} {'dense ms':>9} {'sparse ms':>9} {'speed-up':>8} {'ideal':>6} {'rel diff':>9}")
    rows = []
    for name, pattern in layouts(a.frames, a.height, a.width, a.block):
        rb, kb, order, dens = torch.ops.svdit.compile_layer(json.dumps([pattern] * H), a.frames, a.height, a.width,
                                                           0, 0, a.block)
        density = float(dens.mean())
        o = order if order.numel() else None  # empty: no head is permuted
        call = lambda: torch.ops.svdit.sparse_attention(q, k, v, rb, kb, o, a.block)
        sparse_t = timed(call, a.reps)
        out, _ = call()
        # The reference: SDPA with the layout as a token mask (per head), in token order.
        mask = torch.zeros(H, S, S, dtype=torch.bool)
        nb = (S + a.block - 1) // a.block
        for h in range(H):
            ordh = order[h].long() if o is not None else torch.arange(S)
            for qb in range(nb):
                qs = ordh[qb * a.block:(qb + 1) * a.block]
                for i in range(int(rb[h, qb]), int(rb[h, qb + 1])):
                    ks = ordh[int(kb[i]) * a.block:(int(kb[i]) + 1) * a.block]
                    mask[h, qs.unsqueeze(1), ks.unsqueeze(0)] = True
        ref = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                             attn_mask=mask).transpose(1, 2)
        diff = float((out - ref).norm() / ref.norm())
        row = dict(layout=name, density=density, dense_ms=dense_t[0] * 1e3, sparse_ms=sparse_t[0] * 1e3,
                   speedup=dense_t[0] / sparse_t[0], ideal=1 / density, rel_diff=diff)
        rows.append(row)
        print(f"{name:22} {density:7.3f} {row['dense_ms']:9.1f} {row['sparse_ms']:9.1f} {row['speedup']:7.2f}x "
              f"{row['ideal']:5.2f}x {diff:9.1e}")
    print(f"# load after: {os.getloadavg()[0]:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
