"""svdit.profile on a tiny random diffusers CogVideoX pipeline (text before the video: the profile's layout has
T0 = the text tokens, as apply_plan's; CFG batched [unconditional; conditional] in one call per step; S = 272 is not
a multiple of the block size): what it writes equals an independent masked-softmax computation on the q, k, v
diffusers' own processor attends with, and the profile goes through `svdit search` into svdit.apply_plan."""

import json

import h5py
import numpy as np
import pytest
import svdit_testing
import torch
from diffusers.models import attention_processor

import svdit

TEXT_TOKENS, TEXT_DIM, LAYERS, HEADS, HEAD_DIM = 16, 32, 2, 2, 64
LAYOUT = {"frames": 4, "height": 8, "width": 8, "text_prefix": TEXT_TOKENS, "text_suffix": 0, "block_size": 64}
S = TEXT_TOKENS + 4 * 8 * 8
BLOCKS = (S + LAYOUT["block_size"] - 1) // LAYOUT["block_size"]  # 5, the last of 16 tokens
STEPS = 4
PROFILE_STEPS = [0, 2]
LABELS = ["first prompt", "second prompt"]


@pytest.fixture(scope="module")
def pipe():
    return svdit_testing.cogvideox_pipeline(HEADS, HEAD_DIM, LAYERS, TEXT_TOKENS, TEXT_DIM)


@pytest.fixture(scope="module")
def pipe_inputs():
    return svdit_testing.pipeline_inputs(TEXT_TOKENS, TEXT_DIM, (1, 4, 4, 16, 16), num_frames=13, height=128,
                                         width=128)  # fmt: skip


def profile_inputs(pipe_inputs):
    """Two prompts as one batch: the fixture's embeddings and a second random one, the same latents and negative
    prompt for both."""
    g = torch.Generator().manual_seed(7)
    embeds = pipe_inputs["prompt_embeds"]
    inputs = dict(pipe_inputs)
    inputs["prompt_embeds"] = torch.cat([embeds, torch.randn(embeds.shape, generator=g)])
    for name in ("negative_prompt_embeds", "latents"):
        inputs[name] = pipe_inputs[name].expand(len(LABELS), *pipe_inputs[name].shape[1:]).contiguous()
    return inputs


@pytest.fixture(scope="module")
def profile_file(pipe, pipe_inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("profile") / "profile.h5"
    report = svdit.profile(pipe, LABELS, out, num_inference_steps=STEPS, profile_steps="0,2", map_steps="0",
                           block_size=LAYOUT["block_size"], cost="cpu-wallclock", cost_repetitions=1, max_group=1,
                           quiet=True, model_name="cogvideox-tiny-test", **profile_inputs(pipe_inputs))  # fmt: skip
    assert report["slices_measured"] == len(LABELS) * len(PROFILE_STEPS) * LAYERS
    assert report["maps_written"] == LAYERS * HEADS
    modules = [b.attn1 for b in pipe.transformer.transformer_blocks]
    assert not any(isinstance(m.processor, svdit.cogvideox.CogVideoXObservingAttnProcessor) for m in modules)
    return out


def recorded_attention(pipe, pipe_inputs):
    """q, k, v [B, H, S, D] of every joint attention of a plain pipeline run, captured where diffusers' own
    CogVideoX processor hands them to torch's attention (nothing of svdit computes them): one per call."""
    calls = []
    functional = attention_processor.F
    original = functional.scaled_dot_product_attention

    def recording(query, key, value, *args, **kwargs):
        if key.shape[2] == S:
            calls.append((query.clone(), key.clone(), value.clone()))
        return original(query, key, value, *args, **kwargs)

    functional.scaled_dot_product_attention = recording
    try:
        pipe(**profile_inputs(pipe_inputs), num_inference_steps=STEPS)
    finally:
        functional.scaled_dot_product_attention = original
    assert len(calls) == STEPS * LAYERS  # one call per step: batch [unconditional x 2; conditional x 2]
    assert calls[0][0].shape[0] == 2 * len(LABELS)
    return calls


def test_profile_holds_what_an_independent_computation_gives(pipe, pipe_inputs, profile_file):
    calls = recorded_attention(pipe, pipe_inputs)
    with h5py.File(profile_file, "r") as f:
        assert f.attrs["complete"] == 1
        meta = f["meta"].attrs
        assert (meta["layers"], meta["heads"], meta["head_dim"]) == (LAYERS, HEADS, HEAD_DIM)
        assert [meta[k] for k in ("frames", "height", "width", "text_prefix", "text_suffix", "block_size")] == [
            LAYOUT[k] for k in ("frames", "height", "width", "text_prefix", "text_suffix", "block_size")
        ]
        assert list(f["meta/steps"][:]) == PROFILE_STEPS
        pipe.scheduler.set_timesteps(STEPS)
        np.testing.assert_allclose(f["meta/timesteps"][:], pipe.scheduler.timesteps.numpy()[PROFILE_STEPS])
        patterns = [json.loads(s) for s in f["candidates/components"].asstr()[:]]
        error, recall = f["error"][:], f["recall"][:]
        pooled = f["maps/pooled"][:].astype(np.float32)
    masks = [svdit_testing.block_masks([p], LAYOUT)[0] for p in patterns]
    assert len(masks) > 2 and any(m.float().mean() < 0.9 for m in masks)  # sparse candidates were measured
    for s, step in enumerate(PROFILE_STEPS):
        for layer in range(LAYERS):
            q, k, v = calls[step * LAYERS + layer]
            pooled_sum = torch.zeros(HEADS, BLOCKS, BLOCKS)
            for prompt in range(len(LABELS)):
                row = len(LABELS) + prompt  # the conditional half of the batch
                for h in range(HEADS):
                    qh, kh, vh = (t[row, h].float() for t in (q, k, v))
                    for c, mask in enumerate(masks):
                        e, r, p = svdit_testing.reference_error_recall(qh, kh, vh, mask.float())
                        where = f"prompt {prompt}, step {step}, layer {layer}, head {h}, candidate {c}"
                        assert error[prompt, s, layer, h, c] == pytest.approx(e, rel=1e-3, abs=1e-5), where
                        assert recall[prompt, s, layer, h, c] == pytest.approx(r, abs=1e-4), where
                    pooled_sum[h] += svdit_testing.pooled_map(p, LAYOUT["block_size"])
            if s == 0:  # map step: the block-pooled map averaged over the prompts (float16 in the file)
                np.testing.assert_allclose(pooled[s, layer], pooled_sum / len(LABELS), atol=2e-3)


def test_profile_then_svdit_search_then_apply_plan(pipe, pipe_inputs, profile_file, tmp_path):
    plan_path = tmp_path / "plan.json"
    # The paper's rule (error + lambda x density): on this tiny model the measured CPU cost table makes the all-dense
    # layer the cheapest, which error-bound would rightly choose, leaving no sparse head to apply.
    svdit_testing.svdit_tool("search", profile_file, "--out", plan_path, "--objective", "paper", "--lambda", "0.1",
                             "--epsilon", "0.2", "--quiet")
    plan = svdit.read_plan(plan_path)
    assert plan.layout == svdit.TokenLayout(4, 8, 8, TEXT_TOKENS, 0)
    sparse_heads = [i for e in plan.schedule if not e.get("dense") for row in e["heads"] for i in row
                    if plan.patterns[i] != [{"type": "dense"}]]  # fmt: skip
    assert sparse_heads, "the search chose no sparse head at epsilon 0.2"
    dense = pipe(**pipe_inputs, num_inference_steps=STEPS).frames
    with svdit.apply_plan(pipe.transformer, plan):
        sparse = pipe(**pipe_inputs, num_inference_steps=STEPS).frames
    assert torch.isfinite(sparse).all()
    assert not torch.allclose(sparse, dense, rtol=1e-5, atol=1e-5)  # the plan ran
