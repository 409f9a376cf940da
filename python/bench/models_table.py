"""Issue #13's GPU table from a gpu-bench-models.sh results folder: per model svdit's runtime dense and with the
synthetic plan (svdit-M.log, the text `svdit bench e2e` prints) against diffusers' dense forward
(diffusers-M.json, python/bench/diffusers_forward.py), and the issue's bars: our dense no slower than diffusers',
the plan's step >= 2.5x faster than diffusers dense on HunyuanVideo and >= 2x on CogVideoX1.5.

    python3 python/bench/models_table.py --results build-gpu-models/results [--models "hunyuan-video ..."]

Prints Markdown; a model with a missing file is listed as not measured. Needs no torch.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

MODELS = ["hunyuan-video", "cogvideox1.5-5b", "1.3B", "14B"]
LABELS = {"hunyuan-video": "HunyuanVideo", "cogvideox1.5-5b": "CogVideoX1.5-5B", "1.3B": "Wan2.1-1.3B",
          "14B": "Wan2.1-14B"}  # fmt: skip
TARGET = {"hunyuan-video": 2.5, "cogvideox1.5-5b": 2.0}  # plan step vs diffusers dense (issue #13)
# Measured in the issue (H200, diffusers 0.42.1): forward ms, attention share, peak GiB, B.
REFERENCE = {"hunyuan-video": (31850.0, 0.859, 47.8, 1), "cogvideox1.5-5b": (7140.0, 0.718, None, 2)}

_ROW = re.compile(r"^(dense|plan)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)%\s+([0-9.]+)\s*$")


def parse_svdit(text: str) -> dict:
    """The figures of one `svdit bench e2e` output: dense and plan rows (forward ms, self-attention ms, share %),
    the plan's mean block density, tokens, video, device and B."""
    out = {}
    for line in text.splitlines():
        m = _ROW.match(line.strip())
        if m:
            out[m.group(1)] = {"forward_ms": float(m.group(2)), "attention_ms": float(m.group(3)),
                               "share": float(m.group(4)) / 100}  # fmt: skip
        if line.startswith("plan ") and "mean block density" in line:
            out["density"] = float(line.rsplit("mean block density", 1)[1].strip())
            out["plan_label"] = line[len("plan"):].strip()
        if line.startswith("video ") and "tokens" in line:
            m = re.search(r"([0-9]+) tokens", line)
            out["tokens"] = int(m.group(1)) if m else None
            out["video"] = line[len("video"):].strip()
        if line.startswith("device "):
            out["device"] = line[len("device"):].strip()
            m = re.search(r"B = ([0-9]+)", line)
            out["batch"] = int(m.group(1)) if m else None
        if line.startswith("model ") and "model" not in out:
            out["model"] = line[len("model"):].strip()
    return out


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def fmt_ms(ms):
    return "—" if ms is None else (f"{ms / 1e3:.2f} s" if ms >= 10000 else f"{ms:.1f} ms")


def table(results: str, models: list[str]) -> tuple[str, list[str]]:
    lines = [
        "| model, video | tokens | diffusers dense (B = 1) | attention share (SDPA self / all) | peak GiB | svdit dense "
        "| svdit self-attention share | svdit plan (block density) | svdit dense vs diffusers | plan step vs diffusers dense "
        "| bar |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes = []
    for model in models:
        text = read(os.path.join(results, f"svdit-{model}.log"))
        sv = parse_svdit(text) if text else {}
        djs = read(os.path.join(results, f"diffusers-{model}.json"))
        df = json.loads(djs) if djs else {}
        d_ms = df.get("forward_ms")
        att = df.get("attention", {})
        share = (f"{100 * att['self_attention_share']:.1f} % / {100 * att['sdpa_share']:.1f} %"
                 if att else "—")  # fmt: skip
        peak = f"{df['peak_gib']:.1f}" if "peak_gib" in df else "—"
        dense, plan = sv.get("dense", {}), sv.get("plan", {})
        s_dense, s_plan = dense.get("forward_ms"), plan.get("forward_ms")
        ratio = f"{d_ms / s_dense:.2f}× {'(faster)' if s_dense <= d_ms else '(SLOWER)'}" if d_ms and s_dense else "—"
        speed = d_ms / s_plan if d_ms and s_plan else None
        bar = "—"
        if speed is not None and model in TARGET:
            bar = f"≥ {TARGET[model]}×: {'met' if speed >= TARGET[model] else 'NOT met'}"
        elif speed is not None:
            bar = "(no bar)"
        video = df.get("video")
        video_text = f"{video['width']}×{video['height']}×{video['frames']}" if video else sv.get("video", "—")
        tokens = df.get("tokens") or sv.get("tokens") or "—"
        s_share = f"{100 * dense['share']:.1f} %" if dense else "—"
        plan_text = f"{fmt_ms(s_plan)} ({sv['density']:.3f})" if s_plan is not None and "density" in sv else "—"
        speed_text = f"{speed:.2f}×" if speed else "—"
        lines.append(f"| {LABELS.get(model, model)}, {video_text} | {tokens} | {fmt_ms(d_ms)} | {share} | {peak} "
                     f"| {fmt_ms(s_dense)} | {s_share} | {plan_text} | {ratio} | {speed_text} | {bar} |")
        if not text:
            notes.append(f"{model}: svdit not measured (no svdit-{model}.log)")
        if not djs:
            notes.append(f"{model}: diffusers not measured (no diffusers-{model}.json)")
        if df and not df.get("ok", True):
            notes.append(f"{model}: diffusers output NOT finite")
        if sv and df and sv.get("tokens") and df.get("self_attention_tokens") != sv.get("tokens"):
            notes.append(f"{model}: token counts differ: svdit {sv.get('tokens')}, diffusers "
                         f"{df.get('self_attention_tokens')} (self-attention sequence)")  # fmt: skip
        if sv.get("batch") and df.get("batch") and sv["batch"] != df["batch"]:
            notes.append(f"{model}: B differs: svdit {sv['batch']}, diffusers {df['batch']}")
        if df.get("versions"):
            v = df["versions"]
            notes.append(f"{model}: diffusers {v.get('diffusers')}, torch {v.get('torch')}, {v.get('gpu')}; "
                         f"median of {df.get('reps')} after {df.get('warmup')} warm-up")  # fmt: skip
        if sv.get("device"):
            notes.append(f"{model}: svdit {sv['device']}; plan {sv.get('plan_label', '?')}")
        if model in REFERENCE and df:
            ref_ms, ref_share, ref_peak, ref_b = REFERENCE[model]
            b2 = read(os.path.join(results, f"diffusers-b2-{model}.json"))
            got = json.loads(b2) if (ref_b == 2 and b2) else (df if ref_b == 1 else None)
            if got:
                a = got.get("attention", {})
                peak_text = f", peak {got['peak_gib']:.1f} GiB" if "peak_gib" in got else ""
                notes.append(f"{model}: diffusers B = {ref_b} {fmt_ms(got['forward_ms'])}, attention (all SDPA) "
                             f"{100 * a.get('sdpa_share', float('nan')):.1f} %{peak_text}; the issue's H200 figure "
                             f"{fmt_ms(ref_ms)}, {100 * ref_share:.1f} %" + (f", {ref_peak} GiB" if ref_peak else ""))
        b2 = read(os.path.join(results, f"diffusers-b2-{model}.json"))
        if b2 and s_dense and s_plan:
            # One CFG step: svdit runs two forwards of B = 1 (bench e2e's "step ms"), CogVideoXPipeline one of B = 2.
            step = json.loads(b2)["forward_ms"]
            notes.append(f"{model}: per CFG step, diffusers one B = 2 forward {fmt_ms(step)} vs svdit 2 × B = 1: "
                         f"dense {fmt_ms(2 * s_dense)} ({step / (2 * s_dense):.2f}×), plan {fmt_ms(2 * s_plan)} "
                         f"({step / (2 * s_plan):.2f}×)")  # fmt: skip
    return "\n".join(lines), notes


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", required=True)
    p.add_argument("--models", default=" ".join(MODELS))
    args = p.parse_args(argv)
    text, notes = table(args.results, args.models.split())
    print(text)
    print()
    for n in notes:
        print(f"- {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
