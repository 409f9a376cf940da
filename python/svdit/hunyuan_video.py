"""diffusers' HunyuanVideoTransformer3DModel: where svdit plugs in and how it attends.

HunyuanVideo has dual-stream blocks (``transformer_blocks``, text projected by the attention's added projections)
followed by single-stream blocks (``single_transformer_blocks``); every one attends jointly over ``[video][text]``
in its ``attn``, so the plan's layers are the dual-stream blocks then the single-stream ones, and its token layout
has T0 = 0 and T1 = the text length the transformer is called with (the pipeline pads the prompt to
``max_sequence_length``, 256 by default); F, H', W' are the latents' frames divided by ``patch_size_t`` and height
and width divided by ``patch_size``.

Padded text: diffusers masks the padded text tokens as keys (``encoder_attention_mask``). The op takes no mask, so
svdit runs each prompt's attention over ``[video][its valid text tokens]`` only, compiled for T1 = the valid count
(text rows and columns are kept by every pattern, docs/FORMATS.md); padded tokens are then no key, exactly as in
diffusers. Their own output rows are zero: no valid token ever attends to them, and the pipeline's result is the
video stream, so that changes nothing a pipeline returns. svdit.profile measures each prompt the same way: on
``[video][its valid text]``, every candidate compiled for that text length (the profile's layout keeps T1 = the
padded length, the layout a plan is checked against).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ._family import Family, argument
from ._run import SparseProcessor, sparse_attention
from .plan import TokenLayout


def forward_inputs(model, args: tuple, kwargs: dict) -> tuple[torch.Tensor, TokenLayout]:
    """(timestep, token layout) of one forward(hidden_states, timestep, encoder_hidden_states, ...) call."""
    hidden_states = argument(args, kwargs, "hidden_states", 0)
    timestep = argument(args, kwargs, "timestep", 1)
    text = argument(args, kwargs, "encoder_hidden_states", 2)
    _, _, frames, height, width = hidden_states.shape  # latents [B, C, F, H, W]
    p, p_t = model.config.patch_size, model.config.patch_size_t
    return timestep, TokenLayout(frames // p_t, height // p, width // p, 0, text.shape[1])


def joint_qkv(attn, hidden_states, encoder_hidden_states, image_rotary_emb) -> tuple[torch.Tensor, ...]:
    """q, k, v [B, video + text, H, D] of one HunyuanVideo joint attention, as diffusers'
    HunyuanVideoAttnProcessor2_0 computes them: q/k RMSNorm, RoPE on the video tokens only."""
    from diffusers.models.embeddings import apply_rotary_emb

    video = hidden_states.shape[1]
    single_stream = attn.add_q_proj is None
    tokens = torch.cat([hidden_states, encoder_hidden_states], dim=1) if single_stream else hidden_states
    query = attn.to_q(tokens).unflatten(2, (attn.heads, -1))
    key = attn.to_k(tokens).unflatten(2, (attn.heads, -1))
    value = attn.to_v(tokens).unflatten(2, (attn.heads, -1))
    if attn.norm_q is not None:
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    if image_rotary_emb is not None:
        rotated_q = apply_rotary_emb(query[:, :video], image_rotary_emb, sequence_dim=1)
        rotated_k = apply_rotary_emb(key[:, :video], image_rotary_emb, sequence_dim=1)
        query = torch.cat([rotated_q, query[:, video:]], dim=1)
        key = torch.cat([rotated_k, key[:, video:]], dim=1)
    if not single_stream:
        text_q = attn.add_q_proj(encoder_hidden_states).unflatten(2, (attn.heads, -1))
        text_k = attn.add_k_proj(encoder_hidden_states).unflatten(2, (attn.heads, -1))
        text_v = attn.add_v_proj(encoder_hidden_states).unflatten(2, (attn.heads, -1))
        if attn.norm_added_q is not None:
            text_q = attn.norm_added_q(text_q)
        if attn.norm_added_k is not None:
            text_k = attn.norm_added_k(text_k)
        query, key, value = (torch.cat(pair, dim=1) for pair in ((query, text_q), (key, text_k), (value, text_v)))
    return query, key, value


def valid_text_tokens(attention_mask, batch: int, video: int, text: int) -> list[int]:
    """Valid text tokens of each batch element from diffusers' key mask [B, 1, 1, video + text] (True: attended),
    which keeps every video token and a prefix of the text."""
    if attention_mask is None:
        return [text] * batch
    keep = attention_mask.reshape(attention_mask.shape[0], -1).bool().expand(batch, -1)
    counts = keep[:, video:].sum(dim=1)
    expected = torch.arange(text, device=keep.device)[None, :] < counts[:, None]
    if keep.shape[1] != video + text or not keep[:, :video].all() or not torch.equal(keep[:, video:], expected):
        raise ValueError("svdit: HunyuanVideo attention mask is not [every video token][a prefix of the text]: "
                         "the sparse plan cannot represent it")  # fmt: skip
    return [int(n) for n in counts]


class HunyuanVideoObservingAttnProcessor:
    """svdit.profile's processor for a HunyuanVideo attention: while ``state.observer`` is set (the profiled
    conditional forwards) it gets (layer, q, k, v, valid text tokens of each prompt), so that each prompt is
    measured on ``[video][its valid text]`` only, as the plan runs it; then the block's original processor runs, so
    the output is unchanged."""

    def __init__(self, original, layer: int, state):
        self.original, self.layer, self.state = original, layer, state

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, image_rotary_emb=None):
        observer = self.state.observer
        if observer is not None and encoder_hidden_states is not None:
            batch, video = hidden_states.shape[:2]
            valid = valid_text_tokens(attention_mask, batch, video, encoder_hidden_states.shape[1])
            observer(self.layer, *joint_qkv(attn, hidden_states, encoder_hidden_states, image_rotary_emb), valid)
        return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, image_rotary_emb)


def schedule(pipe, num_inference_steps: int, pipe_kwargs: dict) -> list[float]:
    """The timesteps HunyuanVideoPipeline sets: its sigmas (default 1 … 1/N, evenly spaced) through the scheduler."""
    sigmas = pipe_kwargs.get("sigmas")
    if sigmas is None:
        sigmas = np.linspace(1.0, 0.0, num_inference_steps + 1)[:-1]
    pipe.scheduler.set_timesteps(sigmas=sigmas, device="cpu")
    return [float(t) for t in pipe.scheduler.timesteps]


class HunyuanVideoSparseAttnProcessor(SparseProcessor):
    """The joint attention of one HunyuanVideo block by the plan: per prompt, q, k, v of ``[video][valid text]``
    (after the q/k RMSNorm, RoPE on the video tokens) in one torch.ops.svdit.sparse_attention call (one call for
    the whole layer when every prompt has the same valid text length); dense steps and all-dense layers run the
    block's original processor."""

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, image_rotary_emb=None):
        compiled = None
        if encoder_hidden_states is not None:
            compiled = self._run.layer_layouts(self.layer, hidden_states.device)
        if compiled is None:
            return self.original(attn, hidden_states, encoder_hidden_states, attention_mask, image_rotary_emb)

        batch, video = hidden_states.shape[:2]
        text = encoder_hidden_states.shape[1]
        layout = self._run.layout
        if video + text != layout.seq_len:
            raise ValueError(f"svdit: layer {self.layer}: attention has {video + text} tokens, the checked token "
                             f"layout {layout.seq_len}")  # fmt: skip
        query, key, value = joint_qkv(attn, hidden_states, encoder_hidden_states, image_rotary_emb)
        valid = valid_text_tokens(attention_mask, batch, video, text)
        out = query.new_zeros(batch, video + text, query.shape[2] * query.shape[3])
        for n in sorted(set(valid)):
            rows = [b for b in range(batch) if valid[b] == n]
            sub = self._run.layer_layouts(self.layer, hidden_states.device, dataclasses.replace(layout, text_suffix=n))
            length = video + n
            picked = [t[rows, :length] for t in (query, key, value)]
            out[rows, :length] = sparse_attention(*picked, sub)
        out = out.to(query.dtype)
        video_out, text_out = out[:, :video], out[:, video:]
        if getattr(attn, "to_out", None) is not None:
            video_out = attn.to_out[1](attn.to_out[0](video_out))
        if getattr(attn, "to_add_out", None) is not None:
            text_out = attn.to_add_out(text_out)
        return video_out, text_out


FAMILY = Family("HunyuanVideoTransformer3DModel", HunyuanVideoSparseAttnProcessor, forward_inputs,
                HunyuanVideoObservingAttnProcessor, blocks=("transformer_blocks", "single_transformer_blocks"),
                attention="attn", timesteps=schedule)  # fmt: skip
