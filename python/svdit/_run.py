"""The state the self-attention processors of one applied plan share: the denoising step, the token layout the
plan was checked against, and each layer's compiled block layouts."""

from __future__ import annotations

import dataclasses
from typing import Optional

import torch

from .plan import Plan, TokenLayout


class StepCounter:
    """Follows the denoising step from the timesteps the transformer is called with.

    A sampler calls the transformer once per step, or twice with classifier-free guidance (the conditional and the
    unconditional branch), always with the same timestep within a step and strictly decreasing timesteps from one
    step to the next. So: the same timestep as the previous call is the same step; a smaller one is the next
    step; a larger one (or the first call) starts a new run at step 0 — a second ``pipe(...)`` call needs no reset.
    """

    def __init__(self):
        self.step = 0
        self._last_timestep: Optional[float] = None

    def observe(self, timestep: "torch.Tensor | float") -> int:
        # Wan2.2 TI2V passes one timestep per token (0 on the conditioning frame): the step's noise level is the max.
        t = float(timestep.max()) if isinstance(timestep, torch.Tensor) else float(timestep)
        if self._last_timestep is None or t > self._last_timestep:
            self.step = 0
        elif t < self._last_timestep:
            self.step += 1
        self._last_timestep = t
        return self.step

    def reset(self) -> None:
        """Makes the next call step 0 whatever its timestep."""
        self._last_timestep = None
        self.step = 0


@dataclasses.dataclass(frozen=True)
class CompiledLayer:
    """One layer's block layouts packed for torch.ops.svdit.sparse_attention, on the device of q, k, v."""

    row_begin: torch.Tensor   # int32 [H, num_blocks + 1]
    key_blocks: torch.Tensor  # int32 [computed blocks]
    order: torch.Tensor       # int32 [H, S], or [0] when no head is permuted
    block_size: int


class PlanRun:
    """Shared by the processors of one applied plan; the transformer's forward pre-hook calls begin_forward."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.steps = StepCounter()
        self.layout: Optional[TokenLayout] = None  # set once checked against the plan
        self._checked_layout: Optional[TokenLayout] = None
        self._compiled: dict[tuple[tuple[int, ...], torch.device, TokenLayout], CompiledLayer] = {}

    def begin_forward(self, timestep, layout: TokenLayout, model_shape) -> None:
        """Called before each transformer forward: checks the video's token layout, then advances the step."""
        if layout != self._checked_layout:
            self.plan.check(model_shape, layout)  # raises PlanError before any layer runs
            self._checked_layout = layout
        self.layout = layout
        self.steps.observe(timestep)

    def layer_layouts(self, layer: int, device: torch.device,
                      layout: Optional[TokenLayout] = None) -> Optional[CompiledLayer]:  # fmt: skip
        """The compiled layouts `layer` runs at the current step, or None when it runs dense attention. `layout`
        replaces the checked token layout (HunyuanVideo: the valid text tokens of one prompt)."""
        if self.layout is None:
            raise RuntimeError("svdit: the transformer's forward pre-hook has not run (was the plan removed?)")
        ids = self.plan.pattern_ids(self.steps.step, layer)
        if ids is None or self.plan.is_dense(ids):
            return None
        layout = layout or self.layout
        key = (ids, device, layout)
        compiled = self._compiled.get(key)
        if compiled is None:  # each distinct row of pattern ids is compiled once per device and layout
            b = self.plan.block_size
            row_begin, key_blocks, order, _ = torch.ops.svdit.compile_layer(
                self.plan.patterns_json(ids), layout.frames, layout.height, layout.width,
                layout.text_prefix, layout.text_suffix, b,
            )  # fmt: skip
            compiled = CompiledLayer(row_begin.to(device), key_blocks.to(device), order.to(device), b)
            self._compiled[key] = compiled
        return compiled


def sparse_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, compiled: CompiledLayer):
    """One torch.ops.svdit.sparse_attention call for a whole layer: q, k, v [B, S, H, D] -> [B, S, H*D]."""
    out, _ = torch.ops.svdit.sparse_attention(
        query, key, value, compiled.row_begin, compiled.key_blocks, compiled.order, compiled.block_size
    )
    return out.flatten(2, 3).type_as(query)


class SparseProcessor:
    """What every family's processor shares: its layer index, the plan run, and the model's own processor, which
    runs dense steps and layers whose heads are all dense unchanged."""

    def __init__(self, original, run: PlanRun, layer: int):
        self.original = original
        self.layer = layer
        self._run = run

    def _layouts_now(self, hidden_states: torch.Tensor, seq_len: int, attention_mask) -> Optional[CompiledLayer]:
        """The layer's compiled layouts at this step (None: run the original processor). `seq_len` is the length of
        the self-attention sequence this call builds, checked against the plan's token layout."""
        compiled = self._run.layer_layouts(self.layer, hidden_states.device)
        if compiled is None:
            return None
        if attention_mask is not None:
            raise ValueError(f"svdit: layer {self.layer}: an attention mask with a sparse plan is not supported")
        if seq_len != self._run.layout.seq_len:
            raise ValueError(f"svdit: layer {self.layer}: self-attention has {seq_len} tokens, the checked token "
                             f"layout {self._run.layout.seq_len}")  # fmt: skip
        return compiled
