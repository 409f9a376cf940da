"""diffusers' WanTransformer3DModel (Wan2.1, Wan2.2): where svdit plugs in and how Wan computes self-attention.

Token layout: Wan's self-attention sequence is the video alone (T0 = T1 = 0), patches frame-major, so F, H', W'
are the latents' frames, height and width divided by the model's patch size.
"""

from __future__ import annotations

import torch

from ._family import Family, argument
from ._run import SparseProcessor, sparse_attention
from .plan import TokenLayout


def forward_inputs(model, args: tuple, kwargs: dict) -> tuple[torch.Tensor, TokenLayout]:
    """(timestep, token layout) of one WanTransformer3DModel.forward(hidden_states, timestep, ...) call."""
    hidden_states, timestep = argument(args, kwargs, "hidden_states", 0), argument(args, kwargs, "timestep", 1)
    _, _, frames, height, width = hidden_states.shape  # latents [B, C, F, H, W]
    p_t, p_h, p_w = model.config.patch_size
    return timestep, TokenLayout(frames // p_t, height // p_h, width // p_w, 0, 0)


def _rotate(x: torch.Tensor, freqs_cos: torch.Tensor, freqs_sin: torch.Tensor) -> torch.Tensor:
    # Wan's RoPE turns each channel pair (2i, 2i+1) by its angle; freqs_cos/freqs_sin hold every angle twice.
    even, odd = x[..., 0::2], x[..., 1::2]
    cos, sin = freqs_cos[..., 0::2], freqs_sin[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out.type_as(x)


def self_attention_qkv(attn, hidden_states: torch.Tensor, rotary_emb) -> tuple[torch.Tensor, ...]:
    """q, k, v [B, S, H, D] of one Wan self-attention as Wan computes them: after the q/k RMSNorm and RoPE (what
    the plan's kernels and svdit.profile's measurements see)."""
    if getattr(attn, "fused_projections", False):
        query, key, value = attn.to_qkv(hidden_states).chunk(3, dim=-1)
    else:
        query, key, value = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)
    query = attn.norm_q(query).unflatten(2, (attn.heads, -1))  # [B, S, H, D]
    key = attn.norm_k(key).unflatten(2, (attn.heads, -1))
    value = value.unflatten(2, (attn.heads, -1))
    if rotary_emb is not None:
        query = _rotate(query, *rotary_emb)
        key = _rotate(key, *rotary_emb)
    return query, key, value


class WanObservingAttnProcessor:
    """svdit.profile's processor for a Wan self-attention: while ``state.observer`` is set (the profiled conditional
    forwards) it gets (layer, q, k, v); then the block's original processor runs, so the output is unchanged."""

    def __init__(self, original, layer: int, state):
        self.original, self.layer, self.state = original, layer, state

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None,
                 **kwargs):  # fmt: skip
        observer = self.state.observer
        if encoder_hidden_states is None and observer is not None:  # attn1 (self-attention) only
            observer(self.layer, *self_attention_qkv(attn, hidden_states, rotary_emb))
        return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, rotary_emb, **kwargs)


class WanSparseAttnProcessor(SparseProcessor):
    """Self-attention of one Wan block by the plan: at sparse steps q, k, v (after the q/k RMSNorm and RoPE, as
    Wan computes them) go to one torch.ops.svdit.sparse_attention call for the whole layer; at dense steps, and
    for layers whose heads are all dense, the block's original processor runs unchanged."""

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, rotary_emb=None,
                 **kwargs):  # fmt: skip
        compiled = None
        if encoder_hidden_states is None:  # attn1 never has one; anything else is not self-attention
            compiled = self._layouts_now(hidden_states, hidden_states.shape[1], attention_mask)
        if compiled is None:
            return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, rotary_emb, **kwargs)

        query, key, value = self_attention_qkv(attn, hidden_states, rotary_emb)
        out = attn.to_out[0](sparse_attention(query, key, value, compiled))
        return attn.to_out[1](out)


FAMILY = Family("WanTransformer3DModel", WanSparseAttnProcessor, forward_inputs, WanObservingAttnProcessor)
