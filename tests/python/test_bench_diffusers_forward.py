"""python/bench/diffusers_forward.py and its helpers (diffusers_models.py, models_table.py), on the CPU: the real
sizes' latents and token counts (issue #13's 119,056 and 45,106), the released configs against svdit's C++
presets (both sides of the GPU table must run the same model), the random construction on a device (no parameter
left on meta, diffusers' fp32 modules kept fp32), the SDPA timer (every call seen, the output unchanged), a tiny
forward of each family through the script's main(), and the table's parsing of `svdit bench e2e` output."""

import json
import pathlib
import re
import sys

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python" / "bench"))

import diffusers_forward  # noqa: E402
import diffusers_models as dm  # noqa: E402
import models_table  # noqa: E402


@pytest.mark.parametrize(
    "model, latents, video_tokens, self_tokens",
    [
        ("1.3B", (1, 16, 21, 60, 104), 32760, 32760),
        ("14B", (1, 16, 21, 90, 160), 75600, 75600),
        ("hunyuan-video", (1, 16, 33, 90, 160), 118800, 119056),
        ("cogvideox1.5-5b", (1, 22, 16, 96, 170), 44880, 45106),  # 21 latent frames padded to 22 (patch_size_t 2)
    ],
)
def test_real_sizes_latents_and_tokens(model, latents, video_tokens, self_tokens):
    spec = dm.spec_of(model)
    sh = dm.shapes(spec, *spec.size)
    assert sh.latents == latents
    assert sh.video_tokens == video_tokens
    assert sh.self_attention_tokens == self_tokens
    assert sh.tokens == video_tokens + {"1.3B": 512, "14B": 512, "hunyuan-video": 256, "cogvideox1.5-5b": 226}[model]


def test_shapes_refuse_sizes_that_do_not_divide():
    spec = dm.spec_of("hunyuan-video")
    with pytest.raises(ValueError, match="--frames"):
        dm.shapes(spec, 128, 720, 1280)
    with pytest.raises(ValueError, match="--height"):
        dm.shapes(spec, 129, 724, 1280)
    assert diffusers_forward.main(["--model", "1.3B", "--width", "830", "--shapes-only"]) == 2


def _struct_defaults(header: str, struct: str) -> dict:
    text = (ROOT / "runtime" / "include" / "svdit" / "runtime" / header).read_text()
    body = text[text.index(f"struct {struct} {{"):]
    body = body[: body.index("\n};")]
    values = dict(re.findall(r"\b(\w+) = (-?[0-9][0-9.e+-]*)", body))
    arrays = {k: [int(x) for x in v.split(",")] for k, v in re.findall(r"\b(\w+) = \{([0-9, ]+)\}", body)}
    return {**{k: float(v) for k, v in values.items()}, **arrays}


def test_released_configs_match_the_cpp_presets():
    cog = _struct_defaults("cogvideox_config.h", "CogVideoXConfig")
    c = dm.COGVIDEOX_1_5_5B
    pairs = {"num_heads": "num_attention_heads", "head_dim": "attention_head_dim", "in_channels": "in_channels",
             "out_channels": "out_channels", "time_embed_dim": "time_embed_dim", "text_embed_dim": "text_embed_dim",
             "text_len": "max_text_seq_length", "num_layers": "num_layers", "patch_size": "patch_size",
             "patch_size_t": "patch_size_t", "temporal_compression_ratio": "temporal_compression_ratio",
             "freq_shift": "freq_shift", "norm_eps": "norm_eps"}  # fmt: skip
    for ours, theirs in pairs.items():
        assert cog[ours] == c[theirs], f"CogVideoX1.5 {theirs}: C++ {cog[ours]}, diffusers_models {c[theirs]}"
    assert dm.SPECS["cogvideox1.5-5b"].text_len == cog["text_len"]

    hy = _struct_defaults("hunyuan_video_config.h", "HunyuanVideoConfig")
    h = dm.HUNYUAN_VIDEO
    pairs = {"in_channels": "in_channels", "out_channels": "out_channels", "num_heads": "num_attention_heads",
             "head_dim": "attention_head_dim", "num_layers": "num_layers", "num_single_layers": "num_single_layers",
             "num_refiner_layers": "num_refiner_layers", "mlp_ratio": "mlp_ratio", "patch_size": "patch_size",
             "patch_size_t": "patch_size_t", "text_embed_dim": "text_embed_dim",
             "pooled_projection_dim": "pooled_projection_dim", "rope_theta": "rope_theta"}  # fmt: skip
    for ours, theirs in pairs.items():
        assert hy[ours] == h[theirs], f"HunyuanVideo {theirs}: C++ {hy[ours]}, diffusers_models {h[theirs]}"
    assert hy["rope_axes_dim"] == list(h["rope_axes_dim"])
    assert dm.SPECS["hunyuan-video"].text_len == hy["text_len"]

    wan = (ROOT / "runtime" / "src" / "wan_config.cpp").read_text()
    for preset, config in (("1.3b", dm.WAN_1_3B), ("14b", dm.WAN_14B)):
        block = wan[wan.index(f'if (n == "{preset}"'):]
        block = block[: block.index("return c;")]
        got = {k: int(v) for k, v in re.findall(r"c\.(\w+) = ([0-9]+);", block)}
        assert got["dim"] == config["num_attention_heads"] * config["attention_head_dim"], preset
        assert got["ffn_dim"] == config["ffn_dim"] and got["num_heads"] == config["num_attention_heads"], preset
        assert got["num_layers"] == config["num_layers"], preset


def test_build_on_a_device_leaves_no_meta_parameter_and_keeps_the_fp32_modules():
    spec = dm.spec_of("1.3B", tiny=True)
    model, counts = dm.build_model(spec, "cpu", torch.bfloat16, std=0.02, seed=0)
    assert counts["parameters"] == sum(p.numel() for p in model.parameters()) > 0
    assert not any(p.is_meta for p in model.parameters()) and not any(b.is_meta for b in model.buffers())
    dtypes = {name: p.dtype for name, p in model.named_parameters()}
    assert dtypes["scale_shift_table"] == torch.float32  # Wan's _keep_in_fp32_modules
    assert any(n.startswith("condition_embedder.time_embedder.") and d == torch.float32 for n, d in dtypes.items())
    assert dtypes["blocks.0.attn1.to_q.weight"] == torch.bfloat16
    assert counts["fp32_parameters"] > 0
    # Norm gains 1, biases 0, matrices N(0, std^2).
    params = dict(model.named_parameters())
    assert torch.all(params["blocks.0.attn1.norm_q.weight"] == 1)
    assert torch.all(params["blocks.0.attn1.to_q.bias"] == 0)
    std = params["blocks.0.ffn.net.0.proj.weight"].float().std().item()
    assert 0.015 < std < 0.025


def test_sdpa_timer_sees_every_call_and_changes_nothing():
    spec = dm.spec_of("cogvideox1.5-5b", tiny=True)
    model, _ = dm.build_model(spec, "cpu", torch.float32, std=0.05, seed=3)
    sh = dm.shapes(spec, *spec.size)
    inputs = dm.forward_inputs(spec, model, sh, "cpu", torch.float32, spec.size[1], spec.size[2])
    with torch.no_grad():
        plain = model(**inputs, return_dict=False)[0]
        with dm.SdpaTimer("cpu") as timer:
            timed = model(**inputs, return_dict=False)[0]
        calls = timer.calls()
        after = model(**inputs, return_dict=False)[0]
    assert torch.equal(plain, timed) and torch.equal(plain, after)
    assert len(calls) == spec.config["num_layers"]
    assert all(q == k == sh.self_attention_tokens for q, k, _, _ in calls)
    assert torch.nn.functional.scaled_dot_product_attention is timer.original  # restored


@pytest.mark.parametrize("model", ["1.3B", "hunyuan-video", "cogvideox1.5-5b"])
def test_tiny_forward_through_main(model, tmp_path):
    out = tmp_path / "result.json"
    rc = diffusers_forward.main(["--model", model, "--tiny", "--device", "cpu", "--dtype", "fp32", "--warmup", "0",
                                 "--reps", "1", "--json", str(out)])  # fmt: skip
    assert rc == 0
    result = json.loads(out.read_text())
    spec = dm.spec_of(model, tiny=True)
    c = spec.config
    assert result["ok"] and result["output"]["finite"] and result["forward_ms"] > 0
    assert result["output"]["shape"] == result["latents"]
    att = result["attention"]
    if model == "1.3B":
        layers, others = c["num_layers"], c["num_layers"]  # one self- and one cross-attention call per block
    elif model == "hunyuan-video":
        layers, others = c["num_layers"] + c["num_single_layers"], c["num_refiner_layers"]
    else:
        layers, others = c["num_layers"], 0
    assert att["self_attention_calls"] == layers
    assert att["sdpa_calls"] == layers + others
    assert 0 < att["self_attention_ms"] <= att["sdpa_ms"] <= att["timed_forward_ms"]
    assert not list(tmp_path.glob(".*.tmp"))  # written through a renamed temporary file


BENCH_OUTPUT = """svdit bench e2e
model      CogVideoX1.5-5B: 42 layers, 48 heads × 64, time 512, text 4096×226 (before the video), patch 2×2×2
video      81 frames 768×1360 → latents 22×96×170, 45106 tokens
device     cuda, compute BFloat16, B = 1, random weights (seed 0)
plan       synthetic mix window=5,temporal=4,stripe=3,skip=1,dense=2.04, step 0: mean block density 0.250
setup      10.2 s (random weights on the device)

           forward ms   self-attn ms attn share    step ms (2 fwd)
dense          3000.0         2000.0      66.7%             6000.0
plan           1500.0          500.0      33.3%             3000.0

speed-up   forward (= per step) 2.00×, self-attention 4.00×
"""


def test_table_parses_bench_output_and_checks_the_bars(tmp_path):
    parsed = models_table.parse_svdit(BENCH_OUTPUT)
    assert parsed["dense"] == {"forward_ms": 3000.0, "attention_ms": 2000.0, "share": pytest.approx(0.667)}
    assert parsed["plan"]["forward_ms"] == 1500.0 and parsed["density"] == 0.25
    assert parsed["tokens"] == 45106 and parsed["batch"] == 1
    (tmp_path / "svdit-cogvideox1.5-5b.log").write_text(BENCH_OUTPUT)
    diffusers = {"forward_ms": 3500.0, "tokens": 45106, "self_attention_tokens": 45106, "batch": 1,
                 "video": {"frames": 81, "height": 768, "width": 1360}, "ok": True,
                 "attention": {"self_attention_share": 0.7, "sdpa_share": 0.7}}  # fmt: skip
    (tmp_path / "diffusers-cogvideox1.5-5b.json").write_text(json.dumps(diffusers))
    text, notes = models_table.table(str(tmp_path), ["cogvideox1.5-5b"])
    row = text.splitlines()[-1]
    assert "1.17× (faster)" in row and "2.33×" in row and "≥ 2.0×: met" in row
    diffusers["forward_ms"] = 2900.0  # diffusers faster than our dense, and the plan short of the bar
    (tmp_path / "diffusers-cogvideox1.5-5b.json").write_text(json.dumps(diffusers))
    row = models_table.table(str(tmp_path), ["cogvideox1.5-5b"])[0].splitlines()[-1]
    assert "(SLOWER)" in row and "NOT met" in row
