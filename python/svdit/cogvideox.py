"""diffusers' CogVideoXTransformer3DModel (CogVideoX, CogVideoX1.5): where svdit plugs in and how it attends.

CogVideoX has one attention per block (``attn1``), over the text tokens followed by the video tokens, so its token
layout has T0 = the prompt's token count (226 in the released pipelines) and T1 = 0; F, H', W' are the latents'
frames divided by patch_size_t (CogVideoX1.5; 1 otherwise) and height and width divided by patch_size.
"""

from __future__ import annotations

import torch

from ._family import Family, argument
from ._run import SparseProcessor, sparse_attention
from .plan import TokenLayout


def forward_inputs(model, args: tuple, kwargs: dict) -> tuple[torch.Tensor, TokenLayout]:
    """(timestep, token layout) of one forward(hidden_states, encoder_hidden_states, timestep, ...) call."""
    hidden_states = argument(args, kwargs, "hidden_states", 0)
    text = argument(args, kwargs, "encoder_hidden_states", 1)
    timestep = argument(args, kwargs, "timestep", 2)
    _, frames, _, height, width = hidden_states.shape  # latents [B, F, C, H, W]
    p, p_t = model.config.patch_size, model.config.patch_size_t or 1
    return timestep, TokenLayout(frames // p_t, height // p, width // p, text.shape[1], 0)


def joint_qkv(attn, hidden_states, encoder_hidden_states, image_rotary_emb) -> tuple[torch.Tensor, ...]:
    """q, k, v [B, text + video, H, D] of one CogVideoX joint attention, as diffusers' CogVideoXAttnProcessor2_0
    computes them: ``[text][video]``, q/k LayerNorm, RoPE on the video part (what the plan's kernels and
    svdit.profile's measurements see)."""
    from diffusers.models.embeddings import apply_rotary_emb

    text_tokens = encoder_hidden_states.shape[1]
    tokens = torch.cat([encoder_hidden_states, hidden_states], dim=1)
    query = attn.to_q(tokens).unflatten(2, (attn.heads, -1))  # [B, S, H, D]
    key = attn.to_k(tokens).unflatten(2, (attn.heads, -1))
    value = attn.to_v(tokens).unflatten(2, (attn.heads, -1))
    if attn.norm_q is not None:  # per-head LayerNorm over D: the same on [B, S, H, D] as on [B, H, S, D]
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    if image_rotary_emb is not None:
        query[:, text_tokens:] = apply_rotary_emb(query[:, text_tokens:], image_rotary_emb, sequence_dim=1)
        key[:, text_tokens:] = apply_rotary_emb(key[:, text_tokens:], image_rotary_emb, sequence_dim=1)
    return query, key, value


class CogVideoXObservingAttnProcessor:
    """svdit.profile's processor for a CogVideoX attention: while ``state.observer`` is set (the profiled forwards)
    it gets (layer, q, k, v) of the whole batch (profile.py picks the conditional rows); then the block's original
    processor runs, so the output is unchanged."""

    def __init__(self, original, layer: int, state):
        self.original, self.layer, self.state = original, layer, state

    def __call__(self, attn, hidden_states, encoder_hidden_states, attention_mask=None, image_rotary_emb=None):
        observer = self.state.observer
        if observer is not None:
            observer(self.layer, *joint_qkv(attn, hidden_states, encoder_hidden_states, image_rotary_emb))
        return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, image_rotary_emb)


class CogVideoXSparseAttnProcessor(SparseProcessor):
    """The joint text+video attention of one CogVideoX block by the plan: q, k, v of ``[text][video]`` (after the
    q/k LayerNorm, RoPE on the video part as CogVideoX applies it) in one torch.ops.svdit.sparse_attention call;
    dense steps and all-dense layers run the block's original processor."""

    def __call__(self, attn, hidden_states, encoder_hidden_states, attention_mask=None, image_rotary_emb=None):
        text_tokens = encoder_hidden_states.shape[1]
        seq_len = text_tokens + hidden_states.shape[1]
        compiled = self._layouts_now(hidden_states, seq_len, attention_mask)
        if compiled is None:
            return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, image_rotary_emb)

        query, key, value = joint_qkv(attn, hidden_states, encoder_hidden_states, image_rotary_emb)
        out = attn.to_out[1](attn.to_out[0](sparse_attention(query, key, value, compiled)))
        return out[:, text_tokens:], out[:, :text_tokens]  # (video, text), as diffusers' processor returns them


# CogVideoXPipeline runs both CFG branches in one call, the batch [unconditional; conditional].
FAMILY = Family("CogVideoXTransformer3DModel", CogVideoXSparseAttnProcessor, forward_inputs,
                CogVideoXObservingAttnProcessor, blocks=("transformer_blocks",), batched_cfg=True)  # fmt: skip
