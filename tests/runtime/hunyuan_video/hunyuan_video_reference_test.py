"""svdit's C++ HunyuanVideo against diffusers' HunyuanVideoTransformer3DModel (CPU, fp32).

A tiny random diffusers model (1 dual-stream + 1 single-stream block, 1 refiner block, 2 heads x 16) with every
parameter perturbed away from its initial value (norm gains and biases included), so that a weight the C++ model
ignored or misplaced would show; saved with save_pretrained and loaded by svdit from that folder. The text has
padded tokens (with nonzero garbage in them) and two prompts of different valid lengths in one batch: diffusers
masks the padding, svdit runs on the valid tokens only, and the velocities must agree.
"""

import json
import os
import subprocess

import diffusers  # a missing diffusers fails the test: scripts/setup.sh installs it
import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file


TOOL = os.environ.get("SVDIT_HUNYUAN_TOOL", "svdit-test-hunyuan-video")
TOLERANCE = 1e-5  # relative L2, fp32 against fp32 (issue #13)
CONFIG = dict(in_channels=4, out_channels=4, num_attention_heads=2, attention_head_dim=16, num_layers=1,
              num_single_layers=1, num_refiner_layers=1, mlp_ratio=4.0, patch_size=2, patch_size_t=1,
              text_embed_dim=24, pooled_projection_dim=12, rope_theta=256.0, rope_axes_dim=(4, 6, 6),
              guidance_embeds=True)  # fmt: skip
TEXT_LEN, TEXT_DIM, POOLED = 10, 24, 12


def relative_l2(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm())


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    torch.manual_seed(0)
    transformer = diffusers.HunyuanVideoTransformer3DModel(**CONFIG).eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in transformer.named_parameters():
            noise = torch.randn(p.shape, generator=generator)
            if p.dim() == 1 and "norm" in name and name.endswith("weight") and ".linear." not in name:
                p.copy_(1.0 + 0.2 * noise)  # every RMSNorm / LayerNorm gain away from 1
            elif name.endswith("bias"):
                p.copy_(0.1 * noise)  # every bias away from 0 (modulation biases included)
            else:
                p.add_(0.3 * noise / max(1, p[0].numel()) ** 0.5)
    folder = tmp_path_factory.mktemp("hunyuan-tiny")
    transformer.save_pretrained(folder, safe_serialization=True)
    return transformer, folder


def run_tool(*args):
    result = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


def padded_text(generator, valid):
    """[B, TEXT_LEN, TEXT_DIM] with garbage in the padded rows, and the mask [B, TEXT_LEN] (valid prefix)."""
    text = torch.randn(len(valid), TEXT_LEN, TEXT_DIM, generator=generator)
    mask = torch.zeros(len(valid), TEXT_LEN)
    for b, n in enumerate(valid):
        mask[b, :n] = 1
    return text, mask


def test_forward_matches_diffusers_with_padded_text(model, tmp_path):
    transformer, folder = model
    g = torch.Generator().manual_seed(2)
    latents = torch.randn(3, 4, 3, 8, 12, generator=g)  # grid 3 x 4 x 6 = 72 video tokens
    text, mask = padded_text(g, [7, 4, 7])  # two groups of valid length, one of them twice
    inputs = {
        "latents": latents,
        "timestep": torch.tensor([937.5, 412.25, 20.0]),  # fractional, as the flow scheduler gives them
        "prompt_embeds": text,
        "prompt_attention_mask": mask,
        "pooled_prompt_embeds": torch.randn(3, POOLED, generator=g),
        "guidance": torch.tensor([6000.0, 3500.0, 1000.0]),
    }
    save_file(inputs, tmp_path / "inputs.safetensors")
    run_tool("forward", "--weights", folder, "--inputs", tmp_path / "inputs.safetensors",
             "--out", tmp_path / "out.safetensors")  # fmt: skip
    ours = load_file(tmp_path / "out.safetensors")["velocity"]

    def reference(attention_mask):
        with torch.no_grad():
            return transformer(hidden_states=latents, timestep=inputs["timestep"], encoder_hidden_states=text,
                               encoder_attention_mask=attention_mask, pooled_projections=inputs["pooled_prompt_embeds"],
                               guidance=inputs["guidance"], return_dict=False)[0]  # fmt: skip

    theirs = reference(mask)
    error = relative_l2(ours, theirs)
    print(f"HunyuanVideo forward, svdit vs diffusers (fp32, CPU): relative L2 {error:.3e}")
    assert ours.shape == theirs.shape == latents.shape
    assert error <= TOLERANCE
    # The padding matters to diffusers when it is not masked: the agreement above is the mask's, not luck.
    assert relative_l2(ours, reference(torch.ones_like(mask))) > 1e-3


def save_prompt(path, generator, valid):
    text, mask = padded_text(generator, [valid])
    pooled = torch.randn(1, POOLED, generator=generator)
    save_file({"prompt_embeds": text[0], "prompt_attention_mask": mask[0], "pooled_prompt_embeds": pooled[0]}, path)
    return text, mask, pooled


def diffusers_sampling(transformer, noise, steps, shift, guidance, prompt, negative=None, true_cfg=1.0):
    """HunyuanVideoPipeline's denoising loop (pipeline_hunyuan_video.py) with the scheduler it uses."""
    scheduler = diffusers.FlowMatchEulerDiscreteScheduler(shift=shift)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 0.0, steps + 1)[:-1], device="cpu")
    scheduler.set_begin_index(0)
    embedded = torch.tensor([guidance], dtype=torch.float32) * 1000.0
    latents = noise.clone()
    with torch.no_grad():
        for t in scheduler.timesteps:
            timestep = t.expand(1).to(latents.dtype)

            def velocity(text, mask, pooled):
                return transformer(hidden_states=latents, timestep=timestep, encoder_hidden_states=text,
                                   encoder_attention_mask=mask, pooled_projections=pooled, guidance=embedded,
                                   return_dict=False)[0]  # fmt: skip

            v = velocity(*prompt)
            if negative is not None and true_cfg > 1:
                v_neg = velocity(*negative)
                v = v_neg + true_cfg * (v - v_neg)
            latents = scheduler.step(v, t, latents, return_dict=False)[0]
    return latents


@pytest.mark.parametrize("true_cfg", [1.0, 3.0])
def test_sampling_matches_the_diffusers_scheduler(model, tmp_path, true_cfg):
    transformer, folder = model
    g = torch.Generator().manual_seed(4)
    prompt = save_prompt(tmp_path / "prompt.safetensors", g, 6)
    negative = save_prompt(tmp_path / "negative.safetensors", g, 3)
    steps, shift, guidance, seed = 3, 7.0, 6.0, 5
    args = ["sample", "--weights", folder, "--prompt", tmp_path / "prompt.safetensors", "--steps", steps,
            "--shift", shift, "--guidance", guidance, "--seed", seed, "--frames", 9, "--height", 64, "--width", 96,
            "--out", tmp_path / "latents.safetensors"]  # fmt: skip
    if true_cfg > 1:
        args += ["--negative-prompt", tmp_path / "negative.safetensors", "--true-cfg", true_cfg]
    run_tool(*args)
    ours = load_file(tmp_path / "latents.safetensors")["latents"]

    # svdit's noise: torch's CPU generator seeded with --seed, [1, C, T, H, W] fp32 (9 frames → 3 latent frames,
    # 64 x 96 pixels → 8 x 12 latents at the VAE's stride 8).
    noise = torch.randn(1, 4, 3, 8, 12, generator=torch.Generator().manual_seed(seed))
    theirs = diffusers_sampling(transformer, noise, steps, shift, guidance, prompt, negative, true_cfg)
    error = relative_l2(ours, theirs)
    print(f"HunyuanVideo {steps}-step sampling (true_cfg {true_cfg}), svdit vs diffusers: relative L2 {error:.3e}")
    assert error <= TOLERANCE
    assert relative_l2(ours, noise) > 0.1  # the run moved the sample


def test_a_wan_config_is_refused_naming_the_field(model, tmp_path):
    _, folder = model
    other = tmp_path / "wan"
    other.mkdir()
    for f in folder.iterdir():
        (other / f.name).write_bytes(f.read_bytes())
    config = json.loads((other / "config.json").read_text())
    config["_class_name"] = "WanTransformer3DModel"
    (other / "config.json").write_text(json.dumps(config))
    result = subprocess.run([TOOL, "forward", "--weights", other, "--inputs", "x", "--out", "y"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 1
    assert "_class_name" in result.stderr and "WanTransformer3DModel" in result.stderr
