"""svdit: per-head sparse attention plans for video diffusion transformers, run inside diffusers pipelines.

    import svdit
    with svdit.apply_plan(pipe.transformer, "plan.json"):
        video = pipe(prompt, num_inference_steps=50).frames[0]
    svdit.profile(pipe, prompts, out="profile.h5", profile_steps="every:10")  # then `svdit search`

Importing svdit registers ``torch.ops.svdit.*`` (compile_layer, sparse_attention, read_plan, check_plan) and
``torch.classes.svdit.ProfileSession`` from the op libraries built by ``pip install --no-build-isolation ./python``.
"""

from importlib.metadata import PackageNotFoundError, version as _version

from ._library import load_ops as _load_ops

library_path = _load_ops()

from .apply import AppliedPlan, apply_plan  # noqa: E402  (needs the ops registered)
from .errors import PlanError, ProfileError  # noqa: E402
from .plan import ModelShape, Plan, TokenLayout, read_plan  # noqa: E402
from .profile import profile  # noqa: E402

try:
    __version__ = _version("svdit")
except PackageNotFoundError:  # imported from a folder that was not installed by pip
    __version__ = "unknown"

__all__ = ["AppliedPlan", "ModelShape", "Plan", "PlanError", "ProfileError", "TokenLayout", "apply_plan",
           "profile", "read_plan",
           "library_path", "__version__"]
