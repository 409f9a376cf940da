"""svdit.apply_plan: runs a plan inside a diffusers transformer through its attention-processor hook."""

from __future__ import annotations

import os
from typing import Union

import torch

from . import cogvideox, hunyuan_video, wan
from ._run import PlanRun
from .plan import Plan


class AppliedPlan:
    """A plan installed on a transformer: each self-attention module's processor replaced by svdit's, and a
    forward pre-hook on the transformer that checks the token layout and follows the denoising step.

    ``remove()`` (or leaving a ``with`` block) puts the original processors back and removes the hook.
    """

    def __init__(self, model: torch.nn.Module, plan: Plan, family):
        self.model = model
        self.plan = plan
        self.run = PlanRun(plan)
        shape = family.model_shape(model)
        plan.check(shape)  # model fields now; the token layout at the first forward, before any layer runs
        self._modules = family.self_attention_modules(model)
        for module in self._modules:
            if isinstance(module.processor, family.processor):
                raise ValueError("svdit: a plan is already applied to this model; remove() it first")
        self._originals = [module.processor for module in self._modules]

        def before_forward(module, args, kwargs):
            timestep, layout = family.forward_inputs(module, args, kwargs)
            self.run.begin_forward(timestep, layout, shape)

        self._hook = model.register_forward_pre_hook(before_forward, with_kwargs=True)
        for layer, (module, original) in enumerate(zip(self._modules, self._originals)):
            module.set_processor(family.processor(original, self.run, layer))
        self._removed = False

    @property
    def step(self) -> int:
        """The denoising step the last transformer call ran (counted from 0, as the plan's step ranges are)."""
        return self.run.steps.step

    def reset_steps(self) -> None:
        """Makes the next transformer call step 0 (a new run is otherwise detected from its timesteps)."""
        self.run.steps.reset()

    def remove(self) -> None:
        """Restores the original processors and removes the hook; calling it again does nothing."""
        if self._removed:
            return
        self._hook.remove()
        for module, original in zip(self._modules, self._originals):
            module.set_processor(original)
        self._removed = True

    def __enter__(self) -> "AppliedPlan":
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


_FAMILIES = (wan.FAMILY, hunyuan_video.FAMILY, cogvideox.FAMILY)


def apply_plan(transformer: torch.nn.Module, plan: Union[str, "os.PathLike[str]", Plan]) -> AppliedPlan:
    """Runs `plan` in `transformer`'s self-attention from now on (the pipeline around it is used unchanged).

    `transformer` is a diffusers ``WanTransformer3DModel``, ``HunyuanVideoTransformer3DModel`` or
    ``CogVideoXTransformer3DModel`` (``pipe.transformer``); `plan` a plan file or a
    :class:`Plan`. The plan is validated by svdit's C++ reader and checked against the model's layers, heads and
    head_dim now, and against the video's token layout (from the latents' shape and the patch size) before the
    first step; a mismatch raises :class:`PlanError` naming each field with the plan's and the model's values.

    Returns an :class:`AppliedPlan`; use it as a context manager, or call ``remove()``, to restore the model::

        with svdit.apply_plan(pipe.transformer, "plan.json"):
            video = pipe(prompt, num_inference_steps=50).frames[0]
    """
    if not isinstance(plan, Plan):
        plan = Plan.read(plan)
    for family in _FAMILIES:
        if family.matches(transformer):
            return AppliedPlan(transformer, plan, family)
    raise TypeError(f"svdit.apply_plan: {type(transformer).__name__} is not supported "
                    "(supported: diffusers WanTransformer3DModel, HunyuanVideoTransformer3DModel, "
                    "CogVideoXTransformer3DModel)")  # fmt: skip
