"""svdit.apply_plan on a tiny random diffusers Wan2.1 transformer, run through WanPipeline unchanged."""

import pytest
import svdit_testing
import torch
from conftest import HEADS, LAYOUT, LAYERS, write_plan

import svdit

S = LAYOUT["frames"] * LAYOUT["height"] * LAYOUT["width"]
P = LAYOUT["height"] * LAYOUT["width"]
B = LAYOUT["block_size"]
STEPS = 4

DENSE = [{"type": "dense"}]
PATTERNS = {
    0: DENSE,
    1: [{"type": "window", "w": 64}],
    2: [{"type": "temporal", "w_s": 8, "w_f": 1}],  # permuted to position-major order
    3: [{"type": "stripe", "rule": "first_frame", "columns": [[0, 64]]}, {"type": "window", "w": 32}],
    4: [{"type": "skip"}],
}
# step 0 dense; steps 1-2 table A (layer 1 mixes a stripe head and a dense head); step 3 table B (layer 1 all dense:
# diffusers' own processor runs it).
SPARSE_SCHEDULE = [
    {"steps": [0, 1], "dense": True},
    {"steps": [1, 3], "heads": [[1, 2], [3, 0]]},
    {"steps": [3, 4], "heads": [[2, 3], [0, 0]]},
]


def token_mask(components):
    """[S, S] bool: the pairs a pattern keeps, from the semantics of docs/FORMATS.md §Patterns (video only)."""
    i = torch.arange(S)[:, None]
    j = torch.arange(S)[None, :]
    keep = torch.zeros(S, S, dtype=torch.bool)
    for c in components:
        if c["type"] == "dense":
            keep |= True
        elif c["type"] == "window":
            keep |= (i - j).abs() <= c["w"]
        elif c["type"] == "temporal":
            keep |= ((i % P - j % P).abs() <= c["w_s"]) & ((i // P - j // P).abs() <= c["w_f"])
        elif c["type"] == "stripe":
            for begin, end in c["columns"]:
                keep |= (j >= begin) & (j < end)
    return keep


def block_masks(pattern_ids):
    return svdit_testing.block_masks([PATTERNS[i] for i in pattern_ids], LAYOUT)


class MaskedReference:
    """diffusers' own Wan processor with the plan's block mask as its attention mask (torch's masked softmax)."""

    def __init__(self, original, layer, mask_at):
        self.original, self.layer, self.mask_at = original, layer, mask_at

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None, **kw):
        mask = self.mask_at(self.layer)
        mask = None if mask is None else mask[None]  # [1, H, S, S]
        return self.original(attn, hidden_states, encoder_hidden_states, mask, rotary_emb, **kw)


def record_self_attention(transformer):
    return svdit_testing.record_self_attention([block.attn1 for block in transformer.blocks])


def run(pipe, pipe_inputs, steps=STEPS):
    return pipe(**pipe_inputs, num_inference_steps=steps).frames


def test_token_masks_of_the_test_are_inside_the_compiled_blocks():
    # The reference masks come from the compiled layout; they must cover the pattern's own pairs and no more
    # than whole blocks (else the comparison below would test nothing).
    for pid in (1, 2, 3):
        blocks = block_masks([pid])[0]
        assert not (token_mask(PATTERNS[pid]) & ~blocks).any(), pid
        assert blocks.float().mean() < 1.0, pid


def test_all_dense_plan_gives_exactly_the_unmodified_output(pipe, pipe_inputs, tmp_path):
    plan = write_plan(tmp_path / "dense.json", {0: DENSE},
                      [{"steps": [0, 2], "dense": True}, {"steps": [2, 50], "heads": [[0] * HEADS] * LAYERS}])  # fmt: skip
    expected = run(pipe, pipe_inputs)
    with svdit.apply_plan(pipe.transformer, plan):
        got = run(pipe, pipe_inputs)
    assert torch.equal(got, expected)


def test_sparse_plan_gives_the_masked_softmax_of_its_blocks_at_every_step(pipe, pipe_inputs, tmp_path):
    plan_path = write_plan(tmp_path / "sparse.json", PATTERNS, SPARSE_SCHEDULE)
    plan = svdit.read_plan(plan_path)
    transformer = pipe.transformer

    # Reference: the step is the transformer call's index // 2 (two CFG branches per step), counted here
    # independently of svdit's step counter.
    calls = []
    count = transformer.register_forward_pre_hook(lambda m, a: calls.append(None))
    originals = [block.attn1.processor for block in transformer.blocks]

    def mask_at(layer):
        ids = plan.pattern_ids((len(calls) - 1) // 2, layer)
        return None if ids is None else block_masks(ids)

    for layer, block in enumerate(transformer.blocks):
        block.attn1.set_processor(MaskedReference(originals[layer], layer, mask_at))
    expected_outputs, stop = record_self_attention(transformer)
    try:
        expected = run(pipe, pipe_inputs)
    finally:
        stop()
        count.remove()
        for block, original in zip(transformer.blocks, originals):
            block.attn1.set_processor(original)
    assert len(calls) == 2 * STEPS

    got_outputs, stop = record_self_attention(transformer)
    try:
        with svdit.apply_plan(transformer, plan) as applied:
            got = run(pipe, pipe_inputs)
            assert applied.step == STEPS - 1
    finally:
        stop()

    svdit_testing.assert_same_calls(got_outputs, expected_outputs, LAYERS, calls=2 * STEPS)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # the plan did change the model: sparse steps differ from dense attention
    assert not torch.allclose(got, run(pipe, pipe_inputs), rtol=1e-5, atol=1e-5)


def test_skip_heads_contribute_nothing(pipe, pipe_inputs, tmp_path):
    plan = write_plan(tmp_path / "skip.json", {0: DENSE, 4: PATTERNS[4]},
                      [{"steps": [0, 1], "heads": [[4, 4], [0, 0]]}])  # fmt: skip
    outputs, stop = record_self_attention(pipe.transformer)
    try:
        with svdit.apply_plan(pipe.transformer, plan):
            run(pipe, pipe_inputs, steps=1)
    finally:
        stop()
    layer0 = [out for layer, out in outputs if layer == 0]
    assert len(layer0) == 2
    bias = pipe.transformer.blocks[0].attn1.to_out[0].bias  # to_out applied to all-zero heads
    for out in layer0:
        torch.testing.assert_close(out, bias.expand_as(out), rtol=0, atol=0)


def test_a_second_pipeline_call_starts_again_at_step_0(pipe, pipe_inputs, tmp_path):
    plan = write_plan(tmp_path / "sparse.json", PATTERNS, SPARSE_SCHEDULE)
    with svdit.apply_plan(pipe.transformer, plan):
        first = run(pipe, pipe_inputs)
        second = run(pipe, pipe_inputs)
    assert torch.equal(first, second)


def test_plan_for_another_model_is_refused_naming_the_field(pipe, tmp_path):
    model = {"name": "other", "layers": LAYERS, "heads": 3, "head_dim": 64}
    plan = write_plan(tmp_path / "other_model.json", {0: DENSE}, [], model=model)
    originals = [block.attn1.processor for block in pipe.transformer.blocks]
    with pytest.raises(svdit.PlanError, match=r"other_model\.json: model\.heads.*model\.heads: plan has 3, model has 2"):
        svdit.apply_plan(pipe.transformer, plan)
    assert [block.attn1.processor for block in pipe.transformer.blocks] == originals


def test_plan_for_another_video_layout_is_refused_before_the_first_step(pipe, pipe_inputs, tmp_path):
    plan = write_plan(tmp_path / "other_layout.json", PATTERNS, SPARSE_SCHEDULE, layout={**LAYOUT, "width": 12})
    ran = []
    hook = pipe.transformer.blocks[0].register_forward_pre_hook(lambda m, a: ran.append(None))
    try:
        with svdit.apply_plan(pipe.transformer, plan):
            with pytest.raises(svdit.PlanError, match=r"layout\.width: plan has 12, model has 8"):
                run(pipe, pipe_inputs)
    finally:
        hook.remove()
    assert not ran


def test_context_manager_restores_the_original_processors(pipe, pipe_inputs, tmp_path):
    plan = write_plan(tmp_path / "sparse.json", PATTERNS, SPARSE_SCHEDULE)
    blocks = pipe.transformer.blocks
    self_attention = [b.attn1.processor for b in blocks]
    cross_attention = [b.attn2.processor for b in blocks]
    before = run(pipe, pipe_inputs, steps=2)
    with pytest.raises(KeyboardInterrupt):
        with svdit.apply_plan(pipe.transformer, plan) as applied:
            assert all(isinstance(b.attn1.processor, svdit.wan.WanSparseAttnProcessor) for b in blocks)
            assert [b.attn2.processor for b in blocks] == cross_attention  # cross-attention never touched
            with pytest.raises(ValueError, match="already applied"):
                svdit.apply_plan(pipe.transformer, plan)
            raise KeyboardInterrupt  # leaving the block by an exception restores too
    assert [b.attn1.processor for b in blocks] == self_attention
    assert [b.attn2.processor for b in blocks] == cross_attention
    applied.remove()  # a second remove does nothing
    assert torch.equal(run(pipe, pipe_inputs, steps=2), before)  # and the hook is gone
