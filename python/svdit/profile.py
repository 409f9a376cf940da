"""svdit.profile: profiles a diffusers pipeline run with the measurement code and writer of ``svdit profile``.

The pipeline runs once, unchanged, with the prompts as one batch (side by side, step by step, as ``svdit profile``
samples them). At each profiled step the conditional forward (the first transformer call of the step: diffusers'
Wan and HunyuanVideo pipelines call the conditional branch first; CogVideoX's runs both branches in one call, the
conditional rows second) hands every self-attention layer's q, k, v, after the q/k norm and
RoPE, to ``torch.classes.svdit.ProfileSession`` — the C++ ProfileSession of ``svdit profile``
(profiler/include/svdit/profiler/profile_session.h) — which measures every candidate's error and recall and the
attention maps, writes them slice by slice to ``<out>.partial`` (resumable), times the candidates' kernels (CUPTI on
a GPU, CPU wall clock otherwise) and renames the finished profile over ``out``. ``svdit search`` and ``svdit
analyze`` take the file as they take one from ``svdit profile``. Steps after the last profiled one are not run.
"""

from __future__ import annotations

import json
import os
from typing import Optional, Sequence, Union

import torch

from ._family import argument
from ._run import StepCounter
from .errors import ProfileError, profile_errors

_DTYPES = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}


class _Observation:
    """What the observing processors share: the function that takes (layer, q, k, v, valid=None) during a profiled
    conditional forward, None otherwise. q, k, v are [batch, S, H, D] of the whole call; `valid`, when given, the
    valid text suffix tokens of each batch row (HunyuanVideo's padded text: a row attends its first S - (T1 - valid)
    tokens only)."""

    observer = None


def _batched(value, prompts: int, name: str):
    """`value` with batch `prompts`: a batch of 1 is repeated (every prompt starts from the same noise, as in
    ``svdit profile``), a batch of `prompts` is kept."""
    if value is None or value.shape[0] == prompts:
        return value
    if value.shape[0] == 1:
        return value.expand(prompts, *value.shape[1:]).contiguous()
    raise ValueError(f"svdit.profile: {name} has batch {value.shape[0]}, expected 1 or one per prompt ({prompts})")


def profile(
    pipe,
    prompts: Sequence[str],
    out: Union[str, "os.PathLike[str]"] = "profile.h5",
    *,
    num_inference_steps: int = 50,
    profile_steps: str = "all",
    map_steps: str = "all",
    block_size: int = 128,
    candidates: Optional[Union[str, "os.PathLike[str]"]] = None,
    top_k_blocks: int = 0,
    cost: str = "auto",
    cost_repetitions: Optional[int] = None,
    max_group: Optional[int] = None,
    chunk_mb: Optional[int] = None,
    error_path: str = "auto",
    resume: bool = False,
    quiet: bool = False,
    seed: int = 0,
    model_name: Optional[str] = None,
    **pipe_kwargs,
) -> dict:
    """Runs ``pipe(..., num_inference_steps=...)`` once over `prompts` and writes the profile `out`.

    `prompts` are the prompt texts, passed to the pipeline as one batch; with ``prompt_embeds=`` (and
    ``negative_prompt_embeds=``) in `pipe_kwargs` they are only the labels /meta/prompts records, one per row of
    the embeddings. ``latents=`` of batch 1 are given to every prompt. Other `pipe_kwargs` go to the pipeline.

    The options are ``svdit profile``'s (docs/PROFILER.md): `profile_steps` / `map_steps` "all", "none", "0,5,10",
    "every:K[+O]"; `candidates` a candidates file (default: the family derived from the token layout, its top_k
    stripes calibrated by an extra conditional forward at the first profiled step); `cost` "auto", "cupti" or
    "cpu" (the runtime's CPU path; "cpu-wallclock" is its old name); `cost_repetitions`, `max_group` and
    `chunk_mb` default as there (10, every head, 256 MiB on CUDA; 2, 1, 16 MiB on the CPU); `resume` continues
    ``<out>.partial`` of an interrupted run with the same settings. `model_name` is /meta/model (default: the
    transformer's ``_name_or_path``, else its class name).

    Returns the run's report (slices measured and skipped, maps written, cost source, seconds). Raises
    :class:`ProfileError` with the C++ message for a bad option, a resume mismatch or a file problem.
    """
    from . import apply  # the families (not imported at module level: apply imports the ops too)

    transformer = pipe.transformer
    family = next((f for f in apply._FAMILIES if f.matches(transformer)), None)
    if family is None or family.observing_processor is None:
        supported = ", ".join(f.class_name for f in apply._FAMILIES if f.observing_processor is not None)
        raise TypeError(f"svdit.profile: {type(transformer).__name__} is not supported (supported: diffusers "
                        f"{supported})")  # fmt: skip
    if "callback_on_step_end" in pipe_kwargs:
        raise ValueError("svdit.profile: callback_on_step_end is svdit.profile's own (it stops after the last "
                         "profiled step)")  # fmt: skip
    prompts = [str(p) for p in prompts]
    if not prompts:
        raise ValueError("svdit.profile: no prompt")
    if "prompt_embeds" in pipe_kwargs:
        embeds = pipe_kwargs["prompt_embeds"]
        if embeds.shape[0] != len(prompts):
            raise ValueError(f"svdit.profile: prompt_embeds has batch {embeds.shape[0]}, expected one row per "
                             f"prompt label ({len(prompts)})")  # fmt: skip
        pipe_kwargs["negative_prompt_embeds"] = _batched(pipe_kwargs.get("negative_prompt_embeds"), len(prompts),
                                                         "negative_prompt_embeds")  # fmt: skip
    else:
        pipe_kwargs["prompt"] = prompts
    pipe_kwargs["latents"] = _batched(pipe_kwargs.get("latents"), len(prompts), "latents")

    device = transformer.device
    dtype = _DTYPES.get(transformer.dtype)
    if dtype is None:
        raise ValueError(f"svdit.profile: the transformer computes in {transformer.dtype}; expected float32, "
                         "float16 or bfloat16")  # fmt: skip
    on_gpu = device.type == "cuda" and cost not in ("cpu", "cpu-wallclock")  # the session times "cpu" on the CPU
    shape = family.model_shape(transformer)
    name = model_name or transformer.config.get("_name_or_path") or type(transformer).__name__
    # The pipeline sets the same schedule again; the meta records the profiled steps' timesteps before the run.
    timesteps = family.schedule(pipe, num_inference_steps, pipe_kwargs)

    observation = _Observation()
    counter = StepCounter()
    state = {"session": None, "calls": 0, "step": -1, "observing": None}

    def open_session(layout):
        with profile_errors():
            return torch.classes.svdit.ProfileSession(
                os.fspath(out), name, shape.layers, shape.heads, shape.head_dim,
                layout.frames, layout.height, layout.width, layout.text_prefix, layout.text_suffix, block_size,
                dtype, str(device), num_inference_steps, timesteps, profile_steps, map_steps, prompts,
                os.fspath(candidates) if candidates else "", top_k_blocks, cost,
                cost_repetitions or (10 if on_gpu else 2), 2 if on_gpu else 1,
                (0 if on_gpu else 1) if max_group is None else max_group,
                chunk_mb or (256 if device.type == "cuda" else 16), error_path, resume, quiet, seed,
            )  # fmt: skip

    def conditional_rows(batch: int) -> slice:
        """The batch rows of the conditional branch in a transformer call of `batch` rows."""
        p = len(prompts)
        if batch == p:
            return slice(0, p)
        if family.batched_cfg and batch == 2 * p:
            return slice(p, 2 * p)  # [unconditional; conditional]
        raise ProfileError(f"svdit.profile: the transformer was called with batch {batch}, expected one row per "
                           f"prompt ({p})" + (f" or two with CFG ({2 * p})" if family.batched_cfg else ""))

    def before_forward(module, args, kwargs):
        timestep, layout = family.forward_inputs(module, args, kwargs)
        rows = conditional_rows(argument(args, kwargs, "hidden_states", 0).shape[0])
        if state["session"] is None:
            state["session"] = open_session(layout)
        session = state["session"]
        step = counter.observe(timestep)
        state["calls"] = state["calls"] + 1 if step == state["step"] else 1
        state["step"] = step
        state["observing"] = None
        if state["calls"] != 1 or step not in session.steps() or not session.wants(step):
            return  # the unconditional branch, or a step with nothing left to measure
        t = float(timestep.max()) if isinstance(timestep, torch.Tensor) else float(timestep)
        if abs(t - timesteps[step]) > 1e-3 * max(1.0, abs(timesteps[step])):
            raise ProfileError(f"svdit.profile: step {step} ran at timestep {t}, the schedule set before the run "
                               f"has {timesteps[step]} (does the pipeline call the transformer once or twice "
                               "per step?)")  # fmt: skip
        def conditional(q, k, v, valid):
            """The conditional rows as (prompt or None for all, q, k, v): the whole batch when every row attends
            all S tokens, otherwise one prompt at a time cut to its valid tokens."""
            q, k, v = q[rows], k[rows], v[rows]
            if valid is None or all(n == layout.text_suffix for n in valid[rows]):
                return [(None, q, k, v)]
            lengths = [layout.seq_len - layout.text_suffix + n for n in valid[rows]]
            return [(p, q[p : p + 1, :n], k[p : p + 1, :n], v[p : p + 1, :n]) for p, n in enumerate(lengths)]

        def calibrate(layer, q, k, v, valid=None):
            for p, q, k, _ in conditional(q, k, v, valid):
                session.calibrate(q, k) if p is None else session.calibrate_prompt(q, k)

        def observe(layer, q, k, v, valid=None):
            for p, q, k, v in conditional(q, k, v, valid):
                if p is None:
                    session.observe(step, layer, q, k, v)
                else:
                    session.observe_prompt(p, step, layer, q, k, v)

        with profile_errors(), torch.no_grad():
            if session.calibrating():  # an extra conditional forward whose column mass picks the top_k stripes
                observation.observer = calibrate
                try:
                    module.forward(*args, **kwargs)
                finally:
                    observation.observer = None
                session.end_calibration()
        observation.observer = observe
        state["observing"] = step

    def after_forward(module, args, kwargs, output):
        observation.observer = None
        if state["observing"] is not None:
            with profile_errors():
                state["session"].end_step(state["observing"])
            state["observing"] = None

    def stop_after_last_step(pipeline, i, t, callback_kwargs):
        session = state["session"]
        if session is not None and i >= session.last_step():
            pipeline._interrupt = True  # diffusers' pipelines skip the remaining steps
        return {}

    modules = family.self_attention_modules(transformer)
    originals = [m.processor for m in modules]
    hooks = [
        transformer.register_forward_pre_hook(before_forward, with_kwargs=True),
        transformer.register_forward_hook(after_forward, with_kwargs=True),
    ]
    try:
        for layer, (m, original) in enumerate(zip(modules, originals)):
            m.set_processor(family.observing_processor(original, layer, observation))
        with torch.no_grad():
            pipe(**pipe_kwargs, num_inference_steps=num_inference_steps, callback_on_step_end=stop_after_last_step)
        if state["session"] is None:
            raise ProfileError("svdit.profile: the pipeline never called the transformer")
        with profile_errors():
            report = json.loads(state["session"].finish())
        state["session"] = None
    finally:
        for h in hooks:
            h.remove()
        for m, original in zip(modules, originals):
            m.set_processor(original)
        observation.observer = None
        if state["session"] is not None:
            state["session"].close()  # unfinished: the lock goes now, what was written stays for resume=True
            state["session"] = None
    return report
