#!/usr/bin/env python3
"""Reads a profile with h5py using only docs/FORMATS.md "Profile (HDF5)", and checks what that section promises.

Usage: read_profile_h5py.py PROFILE.h5 [FORMATS.md]

Run by ctest on data/samples/sample_profile.h5 (whose exact contents are checked too) and by the profiler's tests
on a profile svdit-profile wrote. It also runs the section's own h5py example, so the example in the docs cannot
rot. Exits non-zero with a message naming the failed check.
"""
import json
import os
import re
import sys

import h5py
import numpy as np

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def main():
    path = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    docs = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "docs", "FORMATS.md")

    with h5py.File(path, "r") as f:
        # Root attributes.
        a = f.attrs
        text = lambda v: v.decode("utf-8")  # string attributes are fixed-length UTF-8: numpy.bytes_ in h5py
        check(text(a["format"]) == "svdit-profile", "format attribute")
        version = int(a["version"])
        check(version in (1, 2), "version attribute")
        check(a["complete"] == 1, "complete attribute")
        sample = text(a["model"]) == "svdit-sample"  # the bundled sample: its exact contents are known
        check(a["synthetic"] == (1 if sample else 0), "synthetic attribute")
        check(text(a["model"]) != "", "model attribute")
        check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text(a["created"])) is not None, "created is ISO-8601 UTC")
        check(text(a["tool_version"]) != "", "tool_version attribute")

        # /meta and the sizes derived from it.
        m = f["meta"].attrs
        layers, heads = int(m["layers"]), int(m["heads"])
        frames, height, width = int(m["frames"]), int(m["height"]), int(m["width"])
        t0, t1, b = int(m["text_prefix"]), int(m["text_suffix"]), int(m["block_size"])
        check(min(layers, heads, int(m["head_dim"]), frames, height, width) >= 1 and b in (64, 128), "meta sizes")
        if sample:
            check((layers, heads, int(m["head_dim"])) == (4, 6, 64), "layers, heads, head_dim")
            check((frames, height, width, t0, t1, b) == (6, 8, 12, 0, 0, 64), "token layout")
        check(text(m["dtype"]) in ("float32", "float16", "bfloat16"), "dtype attribute")
        s_len = t0 + frames * height * width + t1
        g = -(-s_len // b)
        check(g == 9 or not sample, "G = ceil(S/b) = 9 for the sample")
        steps = f["meta/steps"][:]
        check(f["meta/steps"].dtype == np.int64, "steps dtype")
        check(list(steps) == [0, 4, 9] or not sample, "profiled steps")
        check(bool(np.all(np.diff(steps) > 0)) and steps[0] >= 0 and steps[-1] < m["sampling_steps"], "steps range")
        check(f["meta/timesteps"].dtype == np.float64 and f["meta/timesteps"].shape == steps.shape, "timesteps")
        prompts = list(f["meta/prompts"].asstr()[:])
        check(len(prompts) >= 1, "prompts")
        check(prompts == ["red circle bouncing", "blue square panning"] or not sample, "the sample's prompts")
        n_prompts, n_steps = len(prompts), len(steps)

        # /candidates.
        ids = f["candidates/id"][:]
        check(f["candidates/id"].dtype == np.int32, "candidate id dtype")
        check(len(set(ids.tolist())) == len(ids) and ids.min() >= 0, "candidate ids unique and >= 0")
        components = [json.loads(s) for s in f["candidates/components"].asstr()[:]]
        n_cand = len(components)
        check((n_cand == 8 and list(ids) == list(range(8))) or not sample, "8 candidates, ids 0..7")
        block_density = f["candidates/block_density"][:]
        token_density = f["candidates/token_density"][:]
        for name, d in (("block", block_density), ("token", token_density)):
            check(d.dtype == np.float64 and d.shape == (n_cand,), name + "_density shape/dtype")
            check(bool(np.all((d >= 0) & (d <= 1))), name + "_density in [0, 1]")
        kinds = [[c["type"] for c in comp] for comp in components]
        dense = kinds.index(["dense"])
        skip = kinds.index(["skip"])
        check(block_density[dense] == 1.0 and block_density[skip] == 0.0, "dense/skip block density")
        windows = [i for i, k in enumerate(kinds) if k == ["window"]]
        widths = [components[i][0]["w"] for i in windows]
        check(widths == sorted(widths) and len(widths) >= 1, "window candidates, ascending")
        check(widths == [48, 96, 192] or not sample, "the sample's window candidates")

        # /error and /recall.
        shape = (n_prompts, n_steps, layers, heads, n_cand)
        for name in ("error", "recall"):
            d = f[name]
            check(d.dtype == np.float32, name + " dtype")
            check(d.shape == shape, name + " shape")
            check(d.chunks == (1, 1, layers, heads, n_cand), name + " chunked per (prompt, step)")
            check(d.compression == "gzip" and d.shuffle and d.fletcher32, name + " compressed and checksummed")
        error, recall = f["error"][:], f["recall"][:]
        check(not np.isnan(error).any() and not np.isnan(recall).any(), "no NaN in a complete profile")
        check(bool(np.all(error >= 0)), "error >= 0")
        check(bool(np.all((recall >= 0) & (recall <= 1 + 1e-4))), "recall in [0, 1]")
        check(bool(np.all(error[..., dense] == 0)) and bool(np.all(recall[..., dense] == 1)), "dense: error 0, recall 1")
        check(bool(np.all(error[..., skip] == 1)) and bool(np.all(recall[..., skip] == 0)), "skip: error 1, recall 0")
        w = recall[..., windows]
        check(bool(np.all(np.diff(w, axis=-1) >= 0)), "recall grows with the window width")

        # /maps.
        pooled, fr, written = f["maps/pooled"], f["maps/frames"], f["maps/written"]
        check(pooled.dtype == np.float16 and pooled.shape == (n_steps, layers, heads, g, g), "pooled dtype/shape")
        check(pooled.chunks == (1, 1, 1, g, g), "pooled chunked per head")
        check(fr.dtype == np.float32 and fr.shape == (n_steps, layers, heads, frames, frames), "frames dtype/shape")
        w = written[:]
        check(written.dtype == np.uint8 and bool(np.all((w == 1) | (w == 2))), "every map stored (1) or omitted (2)")
        check(bool(np.all(w == 1)) or not sample, "every map of the sample stored")
        check(bool(np.all(w == w[:, :1, :1])), "maps omitted by whole steps")
        stored = w == 1
        p = pooled[:].astype(np.float64)[stored]  # [stored heads, G, G]
        check(not np.isnan(p).any() and bool(np.all(p >= 0)), "pooled values")
        check(p.size == 0 or float(np.abs(p.sum(axis=-1) - 1).max()) <= 1e-2, "pooled rows sum to 1")
        check(bool(np.all(np.isnan(pooled[:][~stored].astype(np.float64)))), "omitted maps read as NaN")
        fm = fr[:][stored]
        check(not np.isnan(fm).any() and bool(np.all(fm >= 0)), "frame map values")
        check(fm.size == 0 or float(fm.sum(axis=-1).max()) <= 1 + 1e-2, "frame rows sum to <= 1")

        # /cost.
        c = f["cost"].attrs
        check(text(c["source"]) in (("cupti", "cpu-wallclock") if version == 1 else ("cupti", "cpu-aten")), "cost source")
        check(int(c["repetitions"]) >= 1 and text(c["device"]) != "", "cost repetitions/device")
        table = f["cost/table"][:]
        check(f["cost/table"].dtype == np.float64, "cost table dtype")
        check(table.shape[0] == n_cand and 1 <= table.shape[1] <= heads, "cost table shape")
        check(bool(np.all(np.isfinite(table) & (table >= 0))), "cost values")
        if version == 1:
            check(bool(np.all(table[skip] == 0)), "skip costs nothing (version 1: nothing launched)")
            sizes = np.arange(1, table.shape[1] + 1)
        else:
            sizes = f["cost/group_sizes"][:]
            check(sizes.dtype == np.int64 and len(sizes) == table.shape[1], "cost group sizes")
            check(bool(np.all(np.diff(sizes) > 0)) and sizes[0] >= 1 and sizes[-1] <= heads, "group sizes ascend")
            permute = f["cost/permute"][:]
            check(permute.shape == table.shape and bool(np.all((permute >= 0) & (permute <= table))), "pre-pass part")
            layers = f["cost/layer_us"][:]
            check(layers.shape == (2,) and layers[0] > 0 and layers[1] >= 0, "all-dense and all-skip layer times")
            check(bool(np.all(table[skip] < table[dense])), "skip's empty tiles cost less than dense")
        check(bool(np.all(table[dense] > table[windows[0]])) or not sample, "dense costs more than the narrowest window")
        kernels = f["cost/kernels"]
        fields = ["name", "start_ns", "end_ns", "grid_x", "grid_y", "grid_z", "block_x", "block_y", "block_z",
                  "registers", "shared_memory_bytes", "candidate", "group_size"]
        check(list(kernels.dtype.names) == fields, "kernel record fields")
        records = kernels[:]
        check(len(records) > 0 or not sample, "kernel records present")
        check(all(n.decode("utf-8") for n in records["name"]), "kernel names")
        check(bool(np.all(records["end_ns"] >= records["start_ns"])), "kernel records end after they start")
        check(bool(np.all((records["candidate"] >= -1) & (records["candidate"] < n_cand))), "record candidates")
        check(bool(np.all((records["group_size"] >= 0) & (records["group_size"] <= sizes[-1]))), "group sizes")

    # The docs' own example must run (from the repository root, where its relative path points).
    text = open(docs, encoding="utf-8").read()
    section = text[text.index("## Profile (HDF5)"):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    example = re.search(r"\*\*Reading with h5py\*\*.*?```python\n(.*?)```", section, re.S)
    check(example is not None, "docs example found")
    if example is not None:
        cwd = os.getcwd()
        os.chdir(root)
        try:
            exec(compile(example.group(1), "FORMATS.md example", "exec"), {})
        except Exception as e:  # report, do not hide, what broke
            check(False, "docs example raised %r" % (e,))
        finally:
            os.chdir(cwd)

    if failures:
        for what in failures:
            print("FAILED: " + what, file=sys.stderr)
        return 1
    print("ok: %s read with h5py from docs/FORMATS.md alone" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
