"""The C++ runtime (`svdit generate`) and the diffusers path (svdit.apply_plan) agree on the same weights and plan:
the tiny random Wan2.1 transformer of conftest saved by diffusers (config.json + safetensors, diffusers names), one
Euler step from the same noise, conditional branch only."""

import json

import pytest
import svdit_testing
import torch
from conftest import HEADS, LAYERS, MODEL, TEXT_DIM, TEXT_TOKENS, write_plan
from safetensors.torch import load_file, save_file

import svdit

PATTERNS = {
    0: [{"type": "dense"}],
    1: [{"type": "window", "w": 64}],
    2: [{"type": "temporal", "w_s": 8, "w_f": 1}],
    3: [{"type": "stripe", "rule": "first_frame", "columns": [[0, 64]]}, {"type": "window", "w": 32}],
}
SEED, SHIFT = 3, 3.0
SIGMA_MAX = 0.999  # runtime/include/svdit/runtime/flow_schedule.h: the schedule starts at σ_max, Wan's value


@pytest.fixture(scope="module")
def saved_model(transformer, tmp_path_factory):
    folder = tmp_path_factory.mktemp("wan-tiny")
    transformer.save_pretrained(folder, safe_serialization=True)
    config = json.loads((folder / "config.json").read_text())
    config["text_len"] = TEXT_TOKENS  # svdit's field: the prompt rows the runtime pads to (diffusers has none)
    config["name"] = MODEL["name"]  # svdit's field: the model name plans are checked against (conftest's plans)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def one_step_both_ways(transformer, saved_model, tmp_path, plan=None):
    """(svdit generate's latents, the same Euler step through diffusers with the plan applied); files in tmp_path."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    context = torch.randn(1, TEXT_TOKENS, TEXT_DIM, generator=torch.Generator().manual_seed(11))
    save_file({"context": context[0].contiguous()}, tmp_path / "context.safetensors")
    out = tmp_path / "latents.safetensors"
    args = ["generate", "--weights", saved_model, "--embeddings", f"{tmp_path / 'context.safetensors'}:context",
            "--steps", 1, "--sampler", "euler", "--shift", SHIFT, "--guidance", 1, "--seed", SEED,
            "--frames", 13, "--height", 128, "--width", 128, "--device", "cpu", "--out", out, "--quiet"]  # fmt: skip
    if plan is not None:
        args += ["--plan", plan]
    svdit_testing.svdit_tool(*args)
    runtime = load_file(out)["latents"]

    # The runtime's noise: torch's CPU generator seeded with --seed, [1, C, T, H, W] fp32; its one Euler step
    # x1 = x0 + (0 − σ0)·v at σ0 = shift·σ_max / (1 + (shift − 1)·σ_max), timestep ⌊1000·σ0⌋.
    noise = torch.randn(1, 4, 4, 16, 16, generator=torch.Generator().manual_seed(SEED))
    sigma = SHIFT * SIGMA_MAX / (1 + (SHIFT - 1) * SIGMA_MAX)
    timestep = torch.tensor([float(int(sigma * 1000))])
    with torch.no_grad():
        if plan is None:
            velocity = transformer(noise, timestep, context, return_dict=False)[0]
        else:
            with svdit.apply_plan(transformer, plan):
                velocity = transformer(noise, timestep, context, return_dict=False)[0]
    return runtime, noise - sigma * velocity


def test_dense_runtime_and_diffusers_agree(transformer, saved_model, tmp_path):
    runtime, diffusers_path = one_step_both_ways(transformer, saved_model, tmp_path)
    torch.testing.assert_close(runtime, diffusers_path, rtol=1e-4, atol=1e-4)


def test_the_same_plan_gives_the_same_step_in_the_runtime_and_in_diffusers(transformer, saved_model, tmp_path):
    plan = write_plan(tmp_path / "plan.json", PATTERNS, [{"steps": [0, 1], "heads": [[1, 2], [3, 0]]}])
    runtime, diffusers_path = one_step_both_ways(transformer, saved_model, tmp_path, plan)
    torch.testing.assert_close(runtime, diffusers_path, rtol=1e-4, atol=1e-4)
    dense, _ = one_step_both_ways(transformer, saved_model, tmp_path / "dense")
    assert not torch.allclose(runtime, dense, rtol=1e-4, atol=1e-4)  # the plan made a difference
    assert LAYERS == 2 and HEADS == 2  # the plan's heads table above is written for this model
