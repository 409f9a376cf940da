"""svdit.profile on the tiny random diffusers Wan2.1 pipeline: what it writes equals an independent computation on
the q, k, v diffusers' own attention sees; an interrupted run resumes to the same file; and the profile goes
through `svdit search` (the C++ tool) into svdit.apply_plan."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from conftest import HEADS, LAYERS, LAYOUT
from diffusers.models.transformers import transformer_wan

import svdit
import svdit_testing

S = LAYOUT["frames"] * LAYOUT["height"] * LAYOUT["width"]
STEPS = 4
PROFILE_STEPS = [0, 2]
LABELS = ["first prompt", "second prompt"]


def profile_inputs(pipe_inputs):
    """Two prompts as one batch: the fixture's embeddings and a second random one; both start from the fixture's
    latents and share its negative prompt."""
    g = torch.Generator().manual_seed(7)
    embeds = pipe_inputs["prompt_embeds"]
    inputs = dict(pipe_inputs)
    inputs["prompt_embeds"] = torch.cat([embeds, torch.randn(embeds.shape, generator=g)])
    for name in ("negative_prompt_embeds", "latents"):
        inputs[name] = pipe_inputs[name].expand(len(LABELS), *pipe_inputs[name].shape[1:]).contiguous()
    return inputs


def run_profile(pipe, pipe_inputs, out, **options):
    settings = dict(num_inference_steps=STEPS, profile_steps="0,2", map_steps="0", block_size=LAYOUT["block_size"],
                    cost="cpu-wallclock", cost_repetitions=1, max_group=1, quiet=True, model_name="wan-tiny-test")
    return svdit.profile(pipe, LABELS, out, **{**settings, **options}, **profile_inputs(pipe_inputs))


@pytest.fixture(scope="module")
def profile_file(pipe, pipe_inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("profile") / "profile.h5"
    report = run_profile(pipe, pipe_inputs, out)
    assert report["slices_measured"] == len(LABELS) * len(PROFILE_STEPS) * LAYERS
    assert report["maps_written"] == LAYERS * HEADS and report["cost_source"] == "cpu-aten"
    return out


def recorded_self_attention(pipe, pipe_inputs):
    """q, k, v [B, S, H, D] of every self-attention call of a plain pipeline run, captured where diffusers' own Wan
    processor hands them to its attention function (nothing of svdit computes them): a list per call."""
    calls = []
    original = transformer_wan.dispatch_attention_fn

    def recording(query, key, value, *args, **kwargs):
        if key.shape[1] == S:  # self-attention (cross-attention has the text's length)
            calls.append((query.clone(), key.clone(), value.clone()))
        return original(query, key, value, *args, **kwargs)

    transformer_wan.dispatch_attention_fn = recording
    try:
        pipe(**profile_inputs(pipe_inputs), num_inference_steps=STEPS)
    finally:
        transformer_wan.dispatch_attention_fn = original
    assert len(calls) == 2 * STEPS * LAYERS  # conditional then unconditional forward per step
    return calls


def test_profile_holds_what_an_independent_computation_gives(pipe, pipe_inputs, profile_file):
    calls = recorded_self_attention(pipe, pipe_inputs)
    with h5py.File(profile_file, "r") as f:
        assert f.attrs["complete"] == 1
        meta = f["meta"].attrs
        assert (meta["layers"], meta["heads"], meta["head_dim"]) == (LAYERS, HEADS, 64)
        assert [meta[k] for k in ("frames", "height", "width", "text_prefix", "text_suffix", "block_size")] == [
            LAYOUT[k] for k in ("frames", "height", "width", "text_prefix", "text_suffix", "block_size")
        ]
        assert list(f["meta/steps"][:]) == PROFILE_STEPS
        pipe.scheduler.set_timesteps(STEPS)
        np.testing.assert_allclose(f["meta/timesteps"][:], pipe.scheduler.timesteps.numpy()[PROFILE_STEPS])
        assert list(f["meta/prompts"].asstr()[:]) == LABELS
        patterns = [json.loads(s) for s in f["candidates/components"].asstr()[:]]
        error, recall = f["error"][:], f["recall"][:]
        pooled, written = f["maps/pooled"][:].astype(np.float32), f["maps/written"][:]
    assert any(c["type"] == "stripe" and c["rule"] == "top_k" for p in patterns for c in p)  # calibrated
    masks = [svdit_testing.block_masks([p], LAYOUT)[0] for p in patterns]
    b, blocks = LAYOUT["block_size"], S // LAYOUT["block_size"]
    for s, step in enumerate(PROFILE_STEPS):
        for layer in range(LAYERS):
            q, k, v = calls[(2 * step) * LAYERS + layer]  # the conditional forward of `step`
            pooled_sum = torch.zeros(HEADS, blocks, blocks)
            for prompt in range(len(LABELS)):
                for h in range(HEADS):
                    qh, kh, vh = (t[prompt, :, h].float() for t in (q, k, v))
                    for c, mask in enumerate(masks):
                        e, r, p = svdit_testing.reference_error_recall(qh, kh, vh, mask.float())
                        where = f"prompt {prompt}, step {step}, layer {layer}, head {h}, candidate {c}"
                        assert error[prompt, s, layer, h, c] == pytest.approx(e, rel=1e-3, abs=1e-5), where
                        assert recall[prompt, s, layer, h, c] == pytest.approx(r, abs=1e-4), where
                    pooled_sum[h] += p.reshape(blocks, b, blocks, b).sum(dim=3).mean(dim=1)
            if s == 0:  # map step: the block-pooled map averaged over the prompts (float16 in the file)
                np.testing.assert_allclose(pooled[s, layer], pooled_sum / len(LABELS), atol=2e-3)
    assert (written[0] == 1).all() and (written[1] == 2).all()  # step 2's maps omitted (map_steps="0")


def test_an_interrupted_profile_resumes_to_the_same_measurements(pipe, pipe_inputs, profile_file, tmp_path):
    out = tmp_path / "resumed.h5"
    calls = []

    def interrupt(module, args):  # layer 1 of step 1's unconditional forward: step 0 is written, step 2 not yet
        calls.append(None)
        if len(calls) == 5:
            raise KeyboardInterrupt

    hook = pipe.transformer.blocks[1].register_forward_pre_hook(interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_profile(pipe, pipe_inputs, out)
    finally:
        hook.remove()
    assert not out.exists() and Path(str(out) + ".partial").exists()
    report = run_profile(pipe, pipe_inputs, out, resume=True)
    assert report["slices_skipped"] > 0 and report["slices_measured"] > 0
    with h5py.File(out, "r") as a, h5py.File(profile_file, "r") as b:
        assert list(a["candidates/components"].asstr()[:]) == list(b["candidates/components"].asstr()[:])
        for name in ("error", "recall", "maps/written"):
            np.testing.assert_array_equal(a[name][:], b[name][:], err_msg=name)
        np.testing.assert_array_equal(a["maps/pooled"][0], b["maps/pooled"][0])


def test_bad_options_are_refused_with_the_profilers_message(pipe, pipe_inputs, tmp_path):
    with pytest.raises(svdit.ProfileError, match="profile_steps"):
        run_profile(pipe, pipe_inputs, tmp_path / "p.h5", profile_steps="9")
    with pytest.raises(svdit.ProfileError, match="cost: expected auto, cupti or cpu"):
        run_profile(pipe, pipe_inputs, tmp_path / "p.h5", cost="stopwatch")
    assert not (tmp_path / "p.h5").exists()
    processors = [type(b.attn1.processor) for b in pipe.transformer.blocks]
    assert svdit.wan.WanObservingAttnProcessor not in processors  # the pipeline is restored after a failure


def test_profile_then_svdit_search_then_apply_plan(pipe, pipe_inputs, profile_file, tmp_path):
    plan_path = tmp_path / "plan.json"
    # The paper's rule (error + lambda x density): on this tiny model the measured CPU cost table makes the all-dense
    # layer the cheapest, which error-bound would rightly choose, leaving no sparse head to apply.
    svdit_testing.svdit_tool("search", profile_file, "--out", plan_path, "--objective", "paper", "--lambda", "0.1",
                             "--epsilon", "0.2", "--quiet")
    plan = svdit.read_plan(plan_path)
    assert plan.layout == svdit.TokenLayout(**{k: v for k, v in LAYOUT.items() if k != "block_size"})
    sparse_heads = [i for e in plan.schedule if not e.get("dense") for row in e["heads"] for i in row
                    if plan.patterns[i] != [{"type": "dense"}]]  # fmt: skip
    assert sparse_heads, "the search chose no sparse head at epsilon 0.2"
    dense = pipe(**pipe_inputs, num_inference_steps=STEPS).frames
    with svdit.apply_plan(pipe.transformer, plan):
        sparse = pipe(**pipe_inputs, num_inference_steps=STEPS).frames
    assert torch.isfinite(sparse).all()
    assert not torch.allclose(sparse, dense, rtol=1e-5, atol=1e-5)  # the plan ran
