"""svdit.apply_plan on a tiny random diffusers HunyuanVideo transformer (one dual-stream and one single-stream
block; text after the video, T1 = 16, padded text masked as keys), run through HunyuanVideoPipeline unchanged with
two prompts of different valid text lengths in one batch."""

import pytest
import svdit_testing
import torch
from diffusers import FlowMatchEulerDiscreteScheduler, HunyuanVideoPipeline, HunyuanVideoTransformer3DModel

import svdit

TEXT_TOKENS, TEXT_DIM, POOLED_DIM, HEADS, HEAD_DIM = 16, 32, 16, 2, 64
VALID = [12, 9]  # valid text tokens of the two prompts; the rest is padding
# 13 frames of 128 x 128 -> latents [B, 4, 4, 16, 16], patch 2 -> F = 4, H' = W' = 8: 256 video tokens, S = 272.
LAYOUT = {"frames": 4, "height": 8, "width": 8, "text_prefix": 0, "text_suffix": TEXT_TOKENS, "block_size": 64}
VIDEO = 256
LAYERS = 2  # transformer_blocks[0], single_transformer_blocks[0]
MODEL = {"name": "hunyuan-video-tiny-test", "layers": LAYERS, "heads": HEADS, "head_dim": HEAD_DIM}
STEPS = 3
PATTERNS = {
    0: [{"type": "dense"}],
    1: [{"type": "window", "w": 64}],
    2: [{"type": "temporal", "w_s": 8, "w_f": 1}],
    3: [{"type": "stripe", "rule": "first_frame", "columns": [[0, 64]]}, {"type": "window", "w": 32}],
}
SCHEDULE = [{"steps": [0, 1], "dense": True}, {"steps": [1, 3], "heads": [[1, 2], [3, 0]]}]


@pytest.fixture(scope="module")
def pipe():
    torch.manual_seed(0)
    transformer = HunyuanVideoTransformer3DModel(
        in_channels=4, out_channels=4, num_attention_heads=HEADS, attention_head_dim=HEAD_DIM, num_layers=1,
        num_single_layers=1, num_refiner_layers=1, patch_size=2, patch_size_t=1, text_embed_dim=TEXT_DIM,
        pooled_projection_dim=POOLED_DIM, rope_axes_dim=(16, 24, 24),
    ).eval()  # fmt: skip
    return HunyuanVideoPipeline(text_encoder=None, tokenizer=None, transformer=transformer, vae=None,
                                scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder_2=None,
                                tokenizer_2=None)  # fmt: skip


@pytest.fixture(scope="module")
def pipe_inputs():
    g = torch.Generator().manual_seed(1)
    mask = torch.zeros(len(VALID), TEXT_TOKENS, dtype=torch.long)
    for b, n in enumerate(VALID):
        mask[b, :n] = 1
    return dict(
        prompt_embeds=torch.randn(len(VALID), TEXT_TOKENS, TEXT_DIM, generator=g),
        pooled_prompt_embeds=torch.randn(len(VALID), POOLED_DIM, generator=g),
        prompt_attention_mask=mask,
        latents=torch.randn(len(VALID), 4, 4, 16, 16, generator=g),
        num_frames=13, height=128, width=128, num_inference_steps=STEPS, output_type="latent",
    )  # fmt: skip


def self_attention(transformer):
    return [b.attn for b in transformer.transformer_blocks] + [b.attn for b in transformer.single_transformer_blocks]


def write_plan(path, patterns, schedule, **kwargs):
    return svdit_testing.write_plan(path, patterns, schedule, model=kwargs.get("model", MODEL),
                                    layout=kwargs.get("layout", LAYOUT))  # fmt: skip


def reference_mask(pattern_ids, valid):
    """[H, S, S] bool for one prompt with `valid` text tokens: the plan's blocks compiled for [video][valid text]
    (svdit_testing.block_masks), padded text never a key; padded rows attend every valid key (their output is
    discarded by the pipeline, and a row must keep some key)."""
    layout = {**LAYOUT, "text_suffix": valid}
    blocks = svdit_testing.block_masks([PATTERNS[i] for i in pattern_ids], layout)
    length = VIDEO + valid
    mask = torch.zeros(len(pattern_ids), VIDEO + TEXT_TOKENS, VIDEO + TEXT_TOKENS, dtype=torch.bool)
    mask[:, :length, :length] = blocks
    mask[:, length:, :length] = True
    return mask


class MaskedReference:
    """diffusers' own HunyuanVideo processor with the plan's block mask (and the key padding) as its attention mask."""

    def __init__(self, original, layer, ids_at):
        self.original, self.layer, self.ids_at = original, layer, ids_at

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, image_rotary_emb=None):
        ids = self.ids_at(self.layer)
        if ids is not None:
            attention_mask = torch.stack([reference_mask(ids, n) for n in VALID])  # [B, H, S, S]
        return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, image_rotary_emb)


def test_token_masks_of_the_test_depend_on_the_valid_text():
    # compiled for another valid length, the video blocks stay (64-token blocks) and the text blocks follow
    a, b = reference_mask([1, 2], VALID[0]), reference_mask([1, 2], VALID[1])
    assert torch.equal(a[:, :VIDEO, :VIDEO], b[:, :VIDEO, :VIDEO])
    assert a[:, :VIDEO, :VIDEO].float().mean() < 0.9 and not a[:, :, VIDEO + VALID[0] :].any()


def test_all_dense_plan_gives_exactly_the_unmodified_output(pipe, pipe_inputs, tmp_path):
    plan = write_plan(tmp_path / "dense.json", {0: PATTERNS[0]}, [{"steps": [0, 9], "heads": [[0] * HEADS] * LAYERS}])
    expected = pipe(**pipe_inputs).frames
    with svdit.apply_plan(pipe.transformer, plan):
        got = pipe(**pipe_inputs).frames
    assert torch.equal(got, expected)


def test_sparse_plan_gives_the_masked_softmax_of_its_blocks_at_every_step(pipe, pipe_inputs, tmp_path):
    plan = svdit.read_plan(write_plan(tmp_path / "sparse.json", PATTERNS, SCHEDULE))
    transformer = pipe.transformer
    modules = self_attention(transformer)
    calls = []
    count = transformer.register_forward_pre_hook(lambda m, a: calls.append(None))
    originals = [m.processor for m in modules]
    for layer, m in enumerate(modules):
        m.set_processor(MaskedReference(originals[layer], layer, lambda l: plan.pattern_ids(len(calls) - 1, l)))
    expected_outputs, stop = svdit_testing.record_self_attention(modules)
    try:
        expected = pipe(**pipe_inputs).frames
    finally:
        stop()
        count.remove()
        for m, original in zip(modules, originals):
            m.set_processor(original)
    assert len(calls) == STEPS  # guidance-distilled: one transformer call per step

    got_outputs, stop = svdit_testing.record_self_attention(modules)
    try:
        with svdit.apply_plan(transformer, plan) as applied:
            got = pipe(**pipe_inputs).frames
            assert applied.step == STEPS - 1
            assert all(isinstance(m.processor, svdit.hunyuan_video.HunyuanVideoSparseAttnProcessor) for m in modules)
    finally:
        stop()
    svdit_testing.assert_same_calls(got_outputs, expected_outputs, LAYERS, calls=STEPS)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(got, pipe(**pipe_inputs).frames, rtol=1e-5, atol=1e-5)  # the plan changed the model


def test_plan_for_another_text_length_is_refused_before_the_first_step(pipe, pipe_inputs, tmp_path):
    plan = write_plan(tmp_path / "t1.json", PATTERNS, SCHEDULE, layout={**LAYOUT, "text_suffix": 8})
    with svdit.apply_plan(pipe.transformer, plan):
        with pytest.raises(svdit.PlanError, match=r"layout\.text_suffix: plan has 8, model has 16"):
            pipe(**pipe_inputs)
    model = {**MODEL, "layers": 1}
    with pytest.raises(svdit.PlanError, match=r"model\.layers: plan has 1, model has 2"):
        svdit.apply_plan(pipe.transformer, write_plan(tmp_path / "layers.json", PATTERNS, [], model=model))
