"""What apply_plan needs to know about one diffusers transformer class."""

from __future__ import annotations

import dataclasses
from typing import Callable

import torch

from .plan import ModelShape, TokenLayout


@dataclasses.dataclass(frozen=True)
class Family:
    class_name: str  # the diffusers transformer class
    blocks: str      # its attribute holding the transformer blocks, each with its self-attention as `attn1`
    processor: type  # svdit's processor for that attention (a _run.SparseProcessor)
    # (transformer, forward args, forward kwargs) -> (timestep, token layout of the video)
    forward_inputs: Callable[[torch.nn.Module, tuple, dict], tuple[torch.Tensor, TokenLayout]]

    def matches(self, model: torch.nn.Module) -> bool:
        try:
            import diffusers
        except ImportError:
            return False
        return isinstance(model, getattr(diffusers, self.class_name))

    def model_shape(self, model) -> ModelShape:
        config = model.config
        return ModelShape(len(getattr(model, self.blocks)), config.num_attention_heads, config.attention_head_dim)

    def self_attention_modules(self, model) -> list:
        """attn1 of every block, in layer order (cross-attention, where a block has one, is never touched)."""
        return [block.attn1 for block in getattr(model, self.blocks)]


def argument(args: tuple, kwargs: dict, name: str, position: int):
    """A forward argument given by keyword or by position."""
    return kwargs[name] if name in kwargs else args[position]
