"""Plans (docs/FORMATS.md "Plan (JSON)"), read and checked by svdit's own C++ reader through torch.ops.svdit."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Optional, Sequence

import torch

from .errors import plan_errors

_DENSE = [{"type": "dense"}]


@dataclasses.dataclass(frozen=True)
class TokenLayout:
    """The self-attention sequence ``[text prefix T0][video F x H' x W', frame-major][text suffix T1]``."""

    frames: int
    height: int
    width: int
    text_prefix: int = 0
    text_suffix: int = 0

    @property
    def seq_len(self) -> int:
        return self.text_prefix + self.frames * self.height * self.width + self.text_suffix


@dataclasses.dataclass(frozen=True)
class ModelShape:
    """What a plan must agree with in the model: transformer blocks, heads per block, channels per head."""

    layers: int
    heads: int
    head_dim: int


class Plan:
    """A plan validated by ``svdit::data::read_plan`` (every rule of docs/FORMATS.md), in its canonical JSON form.

    ``pattern_ids(step, layer)`` says what one layer runs at one denoising step; ``check(...)`` refuses a plan
    made for another model or token layout with the C++ message naming each field and both values.
    """

    def __init__(self, canonical_json: str, source: str):
        self.source = source
        self._json = canonical_json
        document = json.loads(canonical_json)
        self.model_name: str = document["model"]["name"]
        self.model = ModelShape(**{k: document["model"][k] for k in ("layers", "heads", "head_dim")})
        layout = document["layout"]
        self.layout = TokenLayout(
            layout["frames"], layout["height"], layout["width"], layout["text_prefix"], layout["text_suffix"]
        )
        self.block_size: int = layout["block_size"]
        self.patterns: dict[int, list] = {p["id"]: p["components"] for p in document["patterns"]}
        self.schedule: list[dict] = document["schedule"]
        self.provenance: dict = document["provenance"]

    @classmethod
    def read(cls, path: "str | os.PathLike[str]") -> "Plan":
        """Reads and validates the plan file; raises PlanError naming the file, the field and the problem."""
        path = os.fspath(path)
        with plan_errors():
            return cls(torch.ops.svdit.read_plan(path), path)

    def check(self, model: ModelShape, layout: Optional[TokenLayout] = None) -> None:
        """Raises PlanError unless the plan was made for this model shape (and, when given, token layout)."""
        layout = layout or self.layout  # before the first step only the model is known
        with plan_errors():
            torch.ops.svdit.check_plan(
                self._json, self.source, model.layers, model.heads, model.head_dim,
                layout.frames, layout.height, layout.width, layout.text_prefix, layout.text_suffix,
            )  # fmt: skip

    def pattern_ids(self, step: int, layer: int) -> Optional[tuple[int, ...]]:
        """The pattern id of each head of `layer` at denoising `step`, or None when that step runs dense."""
        for entry in self.schedule:
            begin, end = entry["steps"]
            if begin <= step < end:
                return None if entry.get("dense", False) else tuple(entry["heads"][layer])
        return None  # steps no entry covers run dense

    def is_dense(self, pattern_ids: Sequence[int]) -> bool:
        """True when every head of the row runs the dense pattern."""
        return all(self.patterns[i] == _DENSE for i in pattern_ids)

    def patterns_json(self, pattern_ids: Sequence[int]) -> str:
        """One pattern per head as torch.ops.svdit.compile_layer takes them."""
        return json.dumps([self.patterns[i] for i in pattern_ids])


def read_plan(path: "str | os.PathLike[str]") -> Plan:
    """Reads and validates a plan file with svdit's C++ reader (see :class:`Plan`)."""
    return Plan.read(path)
