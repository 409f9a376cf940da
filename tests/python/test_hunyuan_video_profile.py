"""svdit.profile on a tiny random diffusers HunyuanVideo pipeline (text after the video, T1 = 16, padded: two
prompts with 12 and 9 valid text tokens in one batch). Each prompt is measured on [video][its valid text] only, the
candidates compiled for that text length, as apply_plan runs a plan for it: what the profile holds equals an
independent masked-softmax computation on the q, k, v diffusers' own processor attends with (cut to the keys its
mask keeps), and the profile goes through `svdit search` into svdit.apply_plan."""

import json

import h5py
import numpy as np
import pytest
import svdit_testing
import torch
from diffusers.models.transformers import transformer_hunyuan_video
from test_hunyuan_video_apply import HEAD_DIM, HEADS, LAYERS, LAYOUT, TEXT_TOKENS, VALID, VIDEO, pipe, pipe_inputs  # noqa: F401

import svdit

S = VIDEO + TEXT_TOKENS
BLOCKS = (S + LAYOUT["block_size"] - 1) // LAYOUT["block_size"]
STEPS = 4
PROFILE_STEPS = [0, 2]
LABELS = ["first prompt", "second prompt"]


@pytest.fixture(scope="module")
def profile_file(pipe, pipe_inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("profile") / "profile.h5"
    inputs = {**pipe_inputs, "num_inference_steps": STEPS}
    report = svdit.profile(pipe, LABELS, out, profile_steps="0,2", map_steps="0", block_size=LAYOUT["block_size"],
                           cost="cpu-wallclock", cost_repetitions=1, max_group=1, quiet=True,
                           model_name="hunyuan-video-tiny-test", **inputs)  # fmt: skip
    assert report["slices_measured"] == len(LABELS) * len(PROFILE_STEPS) * LAYERS
    assert report["maps_written"] == LAYERS * HEADS
    modules = [b.attn for b in pipe.transformer.transformer_blocks + pipe.transformer.single_transformer_blocks]
    assert not any(isinstance(m.processor, svdit.hunyuan_video.HunyuanVideoObservingAttnProcessor) for m in modules)
    return out


def recorded_attention(pipe, pipe_inputs):
    """q, k, v [B, S, H, D] and the key mask of every joint attention of a plain pipeline run, captured where
    diffusers' own HunyuanVideo processor hands them to its attention function: one per call."""
    calls = []
    original = transformer_hunyuan_video.dispatch_attention_fn

    def recording(query, key, value, *args, attn_mask=None, **kwargs):
        if key.shape[1] == S:  # the blocks' joint attention (the token refiner attends the text alone)
            calls.append((query.clone(), key.clone(), value.clone(), attn_mask))
        return original(query, key, value, *args, attn_mask=attn_mask, **kwargs)

    transformer_hunyuan_video.dispatch_attention_fn = recording
    try:
        pipe(**{**pipe_inputs, "num_inference_steps": STEPS})
    finally:
        transformer_hunyuan_video.dispatch_attention_fn = original
    assert len(calls) == STEPS * LAYERS  # guidance-distilled: one transformer call per step
    return calls


def test_profile_measures_each_prompt_on_its_valid_tokens(pipe, pipe_inputs, profile_file):
    calls = recorded_attention(pipe, pipe_inputs)
    with h5py.File(profile_file, "r") as f:
        assert f.attrs["complete"] == 1
        meta = f["meta"].attrs
        assert (meta["layers"], meta["heads"], meta["head_dim"]) == (LAYERS, HEADS, HEAD_DIM)
        assert [meta[k] for k in ("frames", "height", "width", "text_prefix", "text_suffix", "block_size")] == [
            LAYOUT[k] for k in ("frames", "height", "width", "text_prefix", "text_suffix", "block_size")
        ]  # the padded text length: the layout apply_plan checks a plan against
        assert list(f["meta/steps"][:]) == PROFILE_STEPS
        sigmas = np.linspace(1.0, 0.0, STEPS + 1)[:-1]
        pipe.scheduler.set_timesteps(sigmas=sigmas)
        np.testing.assert_allclose(f["meta/timesteps"][:], pipe.scheduler.timesteps.numpy()[PROFILE_STEPS])
        patterns = [json.loads(s) for s in f["candidates/components"].asstr()[:]]
        error, recall = f["error"][:], f["recall"][:]
        pooled = f["maps/pooled"][:].astype(np.float32)
    assert any(c["type"] == "stripe" and c["rule"] == "top_k" for p in patterns for c in p)  # calibrated
    for s, step in enumerate(PROFILE_STEPS):
        for layer in range(LAYERS):
            q, k, v, key_mask = calls[step * LAYERS + layer]
            pooled_sum = torch.zeros(HEADS, BLOCKS, BLOCKS)
            for prompt, n in enumerate(VALID):
                length = VIDEO + n
                # diffusers attends exactly these keys: every video token, then the valid text
                assert key_mask[prompt].reshape(-1).bool().tolist() == [True] * length + [False] * (S - length)
                masks = [svdit_testing.block_masks([p], {**LAYOUT, "text_suffix": n})[0] for p in patterns]
                for h in range(HEADS):
                    qh, kh, vh = (t[prompt, :length, h].float() for t in (q, k, v))
                    for c, mask in enumerate(masks):
                        e, r, p = svdit_testing.reference_error_recall(qh, kh, vh, mask.float())
                        where = f"prompt {prompt}, step {step}, layer {layer}, head {h}, candidate {c}"
                        assert error[prompt, s, layer, h, c] == pytest.approx(e, rel=1e-3, abs=1e-5), where
                        assert recall[prompt, s, layer, h, c] == pytest.approx(r, abs=1e-4), where
                    pooled_sum[h] += svdit_testing.pooled_map(p, LAYOUT["block_size"], BLOCKS)
            if s == 0:  # map step: the block-pooled maps averaged over the prompts (float16 in the file)
                np.testing.assert_allclose(pooled[s, layer], pooled_sum / len(VALID), atol=2e-3)


def test_profile_then_svdit_search_then_apply_plan(pipe, pipe_inputs, profile_file, tmp_path):
    plan_path = tmp_path / "plan.json"
    # The paper's rule (error + lambda x density): on this tiny model the measured CPU cost table makes the all-dense
    # layer the cheapest, which error-bound would rightly choose, leaving no sparse head to apply.
    svdit_testing.svdit_tool("search", profile_file, "--out", plan_path, "--objective", "paper", "--lambda", "0.1",
                             "--epsilon", "0.2", "--quiet")
    plan = svdit.read_plan(plan_path)
    assert plan.layout == svdit.TokenLayout(4, 8, 8, 0, TEXT_TOKENS)
    sparse_heads = [i for e in plan.schedule if not e.get("dense") for row in e["heads"] for i in row
                    if plan.patterns[i] != [{"type": "dense"}]]  # fmt: skip
    assert sparse_heads, "the search chose no sparse head at epsilon 0.2"
    inputs = {**pipe_inputs, "num_inference_steps": STEPS}
    dense = pipe(**inputs).frames
    with svdit.apply_plan(pipe.transformer, plan):
        sparse = pipe(**inputs).frames
    assert torch.isfinite(sparse).all()
    assert not torch.allclose(sparse, dense, rtol=1e-5, atol=1e-5)  # the plan ran
