"""What apply_plan needs to know about one diffusers transformer class."""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import torch

from .plan import ModelShape, TokenLayout


@dataclasses.dataclass(frozen=True)
class Family:
    class_name: str  # the diffusers transformer class
    processor: type  # svdit's processor for its self-attention (a _run.SparseProcessor)
    # (transformer, forward args, forward kwargs) -> (timestep, token layout of the video)
    forward_inputs: Callable[[torch.nn.Module, tuple, dict], tuple[torch.Tensor, TokenLayout]]
    # svdit.profile's processor (original, layer, state) for that attention; None: profiling not supported yet
    observing_processor: Optional[type] = None
    # the attributes holding the transformer blocks, in layer order, and each block's self-attention attribute
    blocks: tuple[str, ...] = ("blocks",)
    attention: str = "attn1"
    # True: with CFG the pipeline runs both branches in one transformer call, the batch [unconditional;
    # conditional] (CogVideoX); False: the conditional branch is a call of its own, the step's first (Wan,
    # HunyuanVideo's true CFG)
    batched_cfg: bool = False
    # (pipe, num_inference_steps, the pipeline call's kwargs) -> the timestep of every step, as that call sets them
    timesteps: Optional[Callable[[object, int, dict], list]] = None

    def schedule(self, pipe, num_inference_steps: int, pipe_kwargs: dict) -> list[float]:
        return (self.timesteps or schedule)(pipe, num_inference_steps, pipe_kwargs)

    def matches(self, model: torch.nn.Module) -> bool:
        try:
            import diffusers
        except ImportError:
            return False
        return isinstance(model, getattr(diffusers, self.class_name))

    def model_shape(self, model) -> ModelShape:
        config = model.config
        return ModelShape(len(self.self_attention_modules(model)), config.num_attention_heads,
                          config.attention_head_dim)  # fmt: skip

    def self_attention_modules(self, model) -> list:
        """The self-attention of every block, in layer order (cross-attention, where a block has one, is never
        touched)."""
        return [getattr(block, self.attention) for name in self.blocks for block in getattr(model, name)]


def schedule(pipe, num_inference_steps: int, pipe_kwargs: dict) -> list[float]:
    """The timesteps of `num_inference_steps` steps as ``pipe.scheduler.set_timesteps(num_inference_steps)`` sets
    them (the pipelines whose call does just that: Wan, CogVideoX)."""
    pipe.scheduler.set_timesteps(num_inference_steps, device="cpu")
    return [float(t) for t in pipe.scheduler.timesteps]


def argument(args: tuple, kwargs: dict, name: str, position: int):
    """A forward argument given by keyword or by position."""
    return kwargs[name] if name in kwargs else args[position]
