"""svdit.apply_plan on a tiny random diffusers CogVideoX transformer (text tokens before the video: T0 > 0, and
S = 272 is not a multiple of the block size), run through CogVideoXPipeline unchanged (CFG batched: one call per
step)."""

import pytest
import svdit_testing
import torch
import torch.nn.functional as F
from diffusers.models.embeddings import apply_rotary_emb

import svdit

TEXT_TOKENS, TEXT_DIM, LAYERS, HEADS, HEAD_DIM = 16, 32, 2, 2, 64
# 13 frames of 128 x 128 -> latents [1, 4 frames, 4 channels, 16, 16], patch 2 -> F = 4, H' = W' = 8; S = 16 + 256.
LAYOUT = {"frames": 4, "height": 8, "width": 8, "text_prefix": TEXT_TOKENS, "text_suffix": 0, "block_size": 64}
MODEL = {"name": "cogvideox-tiny-test", "layers": LAYERS, "heads": HEADS, "head_dim": HEAD_DIM}
STEPS = 3
PATTERNS = {
    0: [{"type": "dense"}],
    1: [{"type": "window", "w": 64}],
    2: [{"type": "temporal", "w_s": 8, "w_f": 1}],
    3: [{"type": "stripe", "rule": "first_frame", "columns": [[16, 80]]}, {"type": "window", "w": 32}],
}
SCHEDULE = [{"steps": [0, 1], "dense": True}, {"steps": [1, 3], "heads": [[1, 2], [3, 0]]}]


@pytest.fixture(scope="module")
def pipe():
    return svdit_testing.cogvideox_pipeline(HEADS, HEAD_DIM, LAYERS, TEXT_TOKENS, TEXT_DIM)


@pytest.fixture(scope="module")
def pipe_inputs():
    return svdit_testing.pipeline_inputs(TEXT_TOKENS, TEXT_DIM, (1, 4, 4, 16, 16), num_frames=13, height=128,
                                         width=128, num_inference_steps=STEPS)  # fmt: skip


class MaskedReference:
    """CogVideoX's joint attention written out as diffusers computes it ([B, H, S, D], RoPE on the video part),
    with torch's masked softmax over the plan's blocks; the masks of the current step come from `mask_at`."""

    def __init__(self, layer, mask_at):
        self.layer, self.mask_at = layer, mask_at

    def __call__(self, attn, hidden_states, encoder_hidden_states, attention_mask=None, image_rotary_emb=None):
        text = encoder_hidden_states.shape[1]
        tokens = torch.cat([encoder_hidden_states, hidden_states], dim=1)
        q, k, v = (proj(tokens).unflatten(2, (attn.heads, -1)).transpose(1, 2) for proj in (attn.to_q, attn.to_k, attn.to_v))
        q, k = attn.norm_q(q), attn.norm_k(k)
        q[:, :, text:] = apply_rotary_emb(q[:, :, text:], image_rotary_emb)
        k[:, :, text:] = apply_rotary_emb(k[:, :, text:], image_rotary_emb)
        mask = self.mask_at(self.layer)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else mask[None])
        out = attn.to_out[1](attn.to_out[0](out.transpose(1, 2).flatten(2, 3)))
        return out[:, text:], out[:, :text]


def test_all_dense_plan_gives_exactly_the_unmodified_output(pipe, pipe_inputs, tmp_path):
    plan = svdit_testing.write_plan(tmp_path / "dense.json", {0: PATTERNS[0]},
                                    [{"steps": [0, 9], "heads": [[0] * HEADS] * LAYERS}], model=MODEL, layout=LAYOUT)  # fmt: skip
    expected = pipe(**pipe_inputs).frames
    with svdit.apply_plan(pipe.transformer, plan):
        assert torch.equal(pipe(**pipe_inputs).frames, expected)


def test_sparse_plan_gives_the_masked_softmax_of_its_blocks_at_every_step(pipe, pipe_inputs, tmp_path):
    plan = svdit.read_plan(svdit_testing.write_plan(tmp_path / "sparse.json", PATTERNS, SCHEDULE, model=MODEL,
                                                    layout=LAYOUT))  # fmt: skip
    transformer = pipe.transformer
    modules = [block.attn1 for block in transformer.transformer_blocks]
    calls = []  # CFG is batched here: the step is the transformer call's index
    count = transformer.register_forward_pre_hook(lambda m, a, kw: calls.append(None), with_kwargs=True)

    def mask_at(layer):
        ids = plan.pattern_ids(len(calls) - 1, layer)
        return None if ids is None else svdit_testing.block_masks([PATTERNS[i] for i in ids], LAYOUT)

    originals = [m.processor for m in modules]
    for layer, m in enumerate(modules):
        m.set_processor(MaskedReference(layer, mask_at))
    expected_outputs, stop = svdit_testing.record_self_attention(modules)
    try:
        expected = pipe(**pipe_inputs).frames
    finally:
        stop()
        count.remove()
        for m, original in zip(modules, originals):
            m.set_processor(original)
    assert len(calls) == STEPS

    got_outputs, stop = svdit_testing.record_self_attention(modules)
    try:
        with svdit.apply_plan(transformer, plan):
            got = pipe(**pipe_inputs).frames
    finally:
        stop()
    svdit_testing.assert_same_calls(got_outputs, expected_outputs, LAYERS, calls=STEPS)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_plan_for_another_text_length_is_refused(pipe, pipe_inputs, tmp_path):
    plan = svdit_testing.write_plan(tmp_path / "t226.json", PATTERNS, SCHEDULE, model=MODEL,
                                    layout={**LAYOUT, "text_prefix": 226})  # fmt: skip
    with svdit.apply_plan(pipe.transformer, plan):
        with pytest.raises(svdit.PlanError, match=r"layout\.text_prefix: plan has 226, model has 16"):
            pipe(**pipe_inputs)
