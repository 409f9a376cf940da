"""The diffusers video DiTs svdit runs, at their released configs (and a tiny config of each family for CPU smoke
tests): the config, the latent and token shapes of a video, a fast random-weight construction on a device, one
forward's inputs as the family's pipeline passes them, and the timing helpers. Shared by the scripts beside it
(diffusers_forward.py, wan_diffusers_step.py); importing it needs torch only (diffusers is imported when a model is
built).

The released configs match svdit's C++ presets (runtime/src/{wan,hunyuan_video,cogvideox}_config.cpp), so both
sides run the same model:
  1.3B             Wan-AI/Wan2.1-T2V-1.3B-Diffusers transformer: 30 layers, 12 heads x 128, FFN 8960
  14B              Wan-AI/Wan2.1-T2V-14B-Diffusers transformer: 40 layers, 40 heads x 128, FFN 13824
  hunyuan-video    hunyuanvideo-community/HunyuanVideo transformer: 20 dual + 40 single blocks, 2 refiner blocks,
                   24 heads x 128, text 4096, pooled 768, RoPE 16/56/56 theta 256, embedded guidance
  cogvideox1.5-5b  THUDM/CogVideoX1.5-5B transformer: 42 layers, 48 heads x 64, time 512, T5 4096 x 226, patch
                   2 x 2 (and 2 in time, no patch bias), 3D RoPE, sample 81 frames of 300 x 300 latents
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
from dataclasses import dataclass, field

import torch

WAN_1_3B = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16, out_channels=16,
                text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
                qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)  # fmt: skip
WAN_14B = {**WAN_1_3B, "num_attention_heads": 40, "ffn_dim": 13824, "num_layers": 40}
HUNYUAN_VIDEO = dict(in_channels=16, out_channels=16, num_attention_heads=24, attention_head_dim=128, num_layers=20,
                     num_single_layers=40, num_refiner_layers=2, mlp_ratio=4.0, patch_size=2, patch_size_t=1,
                     qk_norm="rms_norm", guidance_embeds=True, text_embed_dim=4096, pooled_projection_dim=768,
                     rope_theta=256.0, rope_axes_dim=(16, 56, 56), image_condition_type=None)  # fmt: skip
COGVIDEOX_1_5_5B = dict(activation_fn="gelu-approximate", attention_bias=True, attention_head_dim=64, dropout=0.0,
                        flip_sin_to_cos=True, freq_shift=0, in_channels=16, max_text_seq_length=226,
                        norm_elementwise_affine=True, norm_eps=1e-5, num_attention_heads=48, num_layers=42,
                        ofs_embed_dim=None, out_channels=16, patch_bias=False, patch_size=2, patch_size_t=2,
                        sample_frames=81, sample_height=300, sample_width=300, spatial_interpolation_scale=1.875,
                        temporal_compression_ratio=4, temporal_interpolation_scale=1.0, text_embed_dim=4096,
                        time_embed_dim=512, timestep_activation_fn="silu", use_learned_positional_embeddings=False,
                        use_rotary_positional_embeddings=True)  # fmt: skip

# Tiny configs of the same families (CPU smoke tests): a few layers, 2 heads, small widths.
WAN_TINY = {**WAN_1_3B, "num_attention_heads": 2, "attention_head_dim": 16, "text_dim": 32, "freq_dim": 32,
            "ffn_dim": 64, "num_layers": 2, "rope_max_seq_len": 32}  # fmt: skip
HUNYUAN_TINY = {**HUNYUAN_VIDEO, "num_attention_heads": 2, "attention_head_dim": 16, "num_layers": 1,
                "num_single_layers": 1, "num_refiner_layers": 1, "text_embed_dim": 24, "pooled_projection_dim": 12,
                "rope_axes_dim": (4, 6, 6)}  # fmt: skip
COGVIDEOX_TINY = {**COGVIDEOX_1_5_5B, "num_attention_heads": 2, "attention_head_dim": 32, "num_layers": 2,
                  "time_embed_dim": 24, "text_embed_dim": 20, "max_text_seq_length": 12, "sample_frames": 13,
                  "sample_height": 32, "sample_width": 32}  # fmt: skip


@dataclass(frozen=True)
class ModelSpec:
    """One model: its diffusers class and config, the video size svdit bench e2e uses for it, and the text."""

    name: str  # the preset name, as `svdit bench e2e --model` takes it
    label: str  # the released model's name
    family: str  # "wan2.1", "hunyuan-video", "cogvideox1.5" (svdit's family ids)
    diffusers_class: str
    config: dict
    size: tuple[int, int, int]  # default (frames, height, width) in pixels
    text_len: int  # text tokens: Wan cross-attention (512), HunyuanVideo after the video (256), CogVideoX before (226)
    text_dim: int
    vae_stride: tuple[int, int, int] = (4, 8, 8)
    extra: dict = field(default_factory=dict)


SPECS = {
    "1.3B": ModelSpec("1.3B", "Wan2.1-T2V-1.3B", "wan2.1", "WanTransformer3DModel", WAN_1_3B, (81, 480, 832), 512,
                      4096),
    "14B": ModelSpec("14B", "Wan2.1-T2V-14B", "wan2.1", "WanTransformer3DModel", WAN_14B, (81, 720, 1280), 512,
                     4096),
    "hunyuan-video": ModelSpec("hunyuan-video", "HunyuanVideo", "hunyuan-video", "HunyuanVideoTransformer3DModel",
                               HUNYUAN_VIDEO, (129, 720, 1280), 256, 4096),
    "cogvideox1.5-5b": ModelSpec("cogvideox1.5-5b", "CogVideoX1.5-5B", "cogvideox1.5", "CogVideoXTransformer3DModel",
                                 COGVIDEOX_1_5_5B, (81, 768, 1360), 226, 4096),
}  # fmt: skip
TINY = {
    "1.3B": ModelSpec("1.3B", "Wan2.1-tiny", "wan2.1", "WanTransformer3DModel", WAN_TINY, (13, 64, 64), 8, 32),
    "14B": ModelSpec("14B", "Wan2.1-tiny", "wan2.1", "WanTransformer3DModel", WAN_TINY, (13, 64, 64), 8, 32),
    "hunyuan-video": ModelSpec("hunyuan-video", "HunyuanVideo-tiny", "hunyuan-video",
                               "HunyuanVideoTransformer3DModel", HUNYUAN_TINY, (13, 64, 64), 10, 24),
    "cogvideox1.5-5b": ModelSpec("cogvideox1.5-5b", "CogVideoX1.5-tiny", "cogvideox1.5", "CogVideoXTransformer3DModel",
                                 COGVIDEOX_TINY, (13, 64, 96), 12, 20),
}  # fmt: skip


def spec_of(name: str, tiny: bool = False) -> ModelSpec:
    table = TINY if tiny else SPECS
    if name not in table:
        raise ValueError(f"unknown model {name!r}: expected one of {', '.join(SPECS)}")
    return table[name]


# ---- shapes ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shapes:
    latents: tuple[int, ...]  # the transformer's hidden_states: [B, C, T, H, W] (Wan, HunyuanVideo), [B, T, C, H, W]
    latent_thw: tuple[int, int, int]  # latent frames (CogVideoX: padded to the temporal patch), height, width
    grid: tuple[int, int, int]  # F', H', W': the token grid after patching
    video_tokens: int
    text_tokens: int
    self_attention_tokens: int  # the sequence self-attention runs over (Wan: video only; the others: video + text)
    text_in_self_attention: str  # "none" (cross-attention), "after" (HunyuanVideo), "before" (CogVideoX)

    @property
    def tokens(self) -> int:
        """Video tokens + text tokens."""
        return self.video_tokens + self.text_tokens


def _patch(spec: ModelSpec) -> tuple[int, int, int]:
    c = spec.config
    if spec.family == "wan2.1":
        return tuple(c["patch_size"])
    if spec.family == "hunyuan-video":
        return (c["patch_size_t"], c["patch_size"], c["patch_size"])
    return (c["patch_size_t"], c["patch_size"], c["patch_size"])


def shapes(spec: ModelSpec, frames: int, height: int, width: int, batch: int = 1) -> Shapes:
    """The latents and token counts of a video of frames x height x width pixels, as the family's pipeline makes
    them (svdit's *_video_geometry): T = (frames - 1)/4 + 1, H = height/8, W = width/8; CogVideoX pads T up to a
    multiple of its temporal patch (CogVideoXPipeline's additional frames). ValueError naming the size that does
    not divide."""
    st, sh, sw = spec.vae_stride
    pt, ph, pw = _patch(spec)
    if frames <= 0 or (frames - 1) % st:
        raise ValueError(f"--frames: expected 1 + {st}k frames (the VAE's temporal stride), found {frames}")
    if height <= 0 or height % (sh * ph):
        raise ValueError(f"--height: expected a positive multiple of {sh * ph} (VAE stride x patch), found {height}")
    if width <= 0 or width % (sw * pw):
        raise ValueError(f"--width: expected a positive multiple of {sw * pw} (VAE stride x patch), found {width}")
    t, h, w = (frames - 1) // st + 1, height // sh, width // sw
    if spec.family == "cogvideox1.5":
        t = (t + pt - 1) // pt * pt
    elif t % pt:
        raise ValueError(f"--frames: {t} latent frames are not a multiple of the temporal patch {pt}")
    grid = (t // pt, h // ph, w // pw)
    video = grid[0] * grid[1] * grid[2]
    channels = spec.config["in_channels"]
    if spec.family == "cogvideox1.5":
        latents = (batch, t, channels, h, w)
        where, self_tokens = "before", video + spec.text_len
    elif spec.family == "hunyuan-video":
        latents = (batch, channels, t, h, w)
        where, self_tokens = "after", video + spec.text_len
    else:
        latents = (batch, channels, t, h, w)
        where, self_tokens = "none", video
    return Shapes(latents, (t, h, w), grid, video, spec.text_len, self_tokens, where)


# ---- construction ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def parameters_on_meta():
    """Every nn.Parameter registered inside goes to the meta device (its values dropped at once), buffers stay where
    they were made: built inside `torch.device(device)`, a model's buffers (RoPE tables) are computed on the device
    as usual and its parameters cost no memory and no init until `materialize` gives them values."""
    register = torch.nn.Module.register_parameter

    def on_meta(module, name, param):
        register(module, name, param)
        if param is not None and param.device.type != "meta":
            module._parameters[name] = torch.nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    torch.nn.Module.register_parameter = on_meta
    try:
        yield
    finally:
        torch.nn.Module.register_parameter = register


def keeps_fp32(model, name: str) -> bool:
    """diffusers' from_pretrained(torch_dtype=...) keeps the parameters of `_keep_in_fp32_modules` in fp32 (Wan:
    time_embedder, scale_shift_table, norm1/2/3): a component of the parameter's name matches."""
    keep = getattr(type(model), "_keep_in_fp32_modules", None) or []
    return any(m in name.split(".") for m in keep)


def materialize(model, device, dtype, std: float, seed: int) -> dict:
    """Gives every meta parameter random values on `device`: tensors of 2+ dims N(0, std^2), 1-dim norm gains 1 and
    biases 0 (a 1-dim other parameter N(0, std^2)); in `dtype`, or fp32 where diffusers keeps it (keeps_fp32).
    Buffers go to `device` in their own dtype (from_pretrained leaves them as constructed). Returns counts."""
    g = torch.Generator(device=device).manual_seed(seed)
    params = fp32 = 0
    for module_name, module in model.named_modules():
        for name, p in list(module._parameters.items()):
            if p is None:
                continue
            full = f"{module_name}.{name}" if module_name else name
            target = torch.float32 if (keeps_fp32(model, full) and dtype != torch.float32) else dtype
            value = torch.empty(p.shape, device=device, dtype=target)
            if p.dim() >= 2:
                value.normal_(0.0, std, generator=g)
            elif name == "bias":
                value.zero_()
            elif name == "weight" and "norm" in full.lower():
                value.fill_(1.0)
            else:
                value.normal_(0.0, std, generator=g)
            module._parameters[name] = torch.nn.Parameter(value, requires_grad=False)
            params += p.numel()
            fp32 += p.numel() if target == torch.float32 and dtype != torch.float32 else 0
        for name, b in list(module._buffers.items()):
            if b is not None:
                module._buffers[name] = b.to(device)
    return {"parameters": params, "fp32_parameters": fp32}


def build_model(spec: ModelSpec, device: str, dtype: torch.dtype, std: float = 0.02, seed: int = 0):
    """The diffusers transformer of `spec` with random weights on `device`: parameters made on meta and given values
    there (no CPU init of billions of parameters), buffers computed on the device. Returns (model, counts)."""
    import diffusers

    cls = getattr(diffusers, spec.diffusers_class)
    with torch.device(device), parameters_on_meta():
        model = cls(**spec.config)
    counts = materialize(model, device, dtype, std, seed)
    return model.eval().requires_grad_(False), counts


# ---- inputs ------------------------------------------------------------------------------------------------------


def forward_inputs(spec: ModelSpec, model, sh: Shapes, device: str, dtype: torch.dtype, height: int, width: int,
                   timestep: float = 500.0, guidance: float = 6.0, seed: int = 1) -> dict:
    """Keyword arguments of one transformer call as the family's diffusers pipeline passes them (random latents and
    text, every text token valid; timestep 500 as svdit bench e2e): Wan hidden_states / timestep /
    encoder_hidden_states; HunyuanVideo also encoder_attention_mask (all ones), pooled_projections and the embedded
    guidance (scale x 1000, as HunyuanVideoPipeline); CogVideoX also image_rotary_emb from
    CogVideoXPipeline._prepare_rotary_positional_embeddings (made once per generation there, so not timed here)."""
    g = torch.Generator(device=device).manual_seed(seed)
    B = sh.latents[0]

    def randn(*size, scale=1.0):
        return (scale * torch.randn(size, generator=g, device=device, dtype=torch.float32)).to(dtype)

    inputs = dict(hidden_states=randn(*sh.latents), encoder_hidden_states=randn(B, spec.text_len, spec.text_dim,
                                                                                 scale=0.1))  # fmt: skip
    if spec.family == "wan2.1":
        inputs["timestep"] = torch.full((B,), timestep, device=device)
    elif spec.family == "hunyuan-video":
        inputs["timestep"] = torch.full((B,), timestep, device=device)  # the latents' dtype (fp32) in the pipeline
        inputs["encoder_attention_mask"] = torch.ones(B, spec.text_len, device=device, dtype=dtype)
        inputs["pooled_projections"] = randn(B, spec.config["pooled_projection_dim"], scale=0.1)
        inputs["guidance"] = torch.full((B,), guidance * 1000.0, device=device, dtype=dtype)
    else:
        from diffusers import CogVideoXDPMScheduler, CogVideoXPipeline

        inputs["timestep"] = torch.full((B,), int(timestep), device=device, dtype=torch.long)
        pipe = CogVideoXPipeline(tokenizer=None, text_encoder=None, vae=None, transformer=model,
                                 scheduler=CogVideoXDPMScheduler())  # fmt: skip
        inputs["image_rotary_emb"] = pipe._prepare_rotary_positional_embeddings(height, width, sh.latent_thw[0],
                                                                                torch.device(device))  # fmt: skip
    return inputs


# ---- timing ------------------------------------------------------------------------------------------------------


def synchronize(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_forward(model, inputs: dict, warmup: int, reps: int, device="cuda") -> tuple[float, torch.Tensor, list]:
    """Median ms of `reps` forwards after `warmup` (CUDA events on a GPU, time.perf_counter elsewhere); returns
    (median, the last output, every time)."""
    cuda = torch.device(device).type == "cuda"
    out = None
    for _ in range(warmup):
        out = model(**inputs, return_dict=False)[0]
    synchronize(device)
    times = []
    for _ in range(max(reps, 1)):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            out = model(**inputs, return_dict=False)[0]
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
        else:
            t0 = time.perf_counter()
            out = model(**inputs, return_dict=False)[0]
            times.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(times), out, times


class SdpaTimer:
    """Inside `with SdpaTimer(device) as t:`, every torch.nn.functional.scaled_dot_product_attention call (which
    diffusers' attention processors and its native attention backend look up at call time) is timed: CUDA events
    around it on a GPU, time.perf_counter elsewhere. `calls()` lists (query_len, key_len, masked, ms) per call once
    the work is done (it synchronizes)."""

    def __init__(self, device):
        self.cuda = torch.device(device).type == "cuda"
        self.records = []

    def __enter__(self):
        self.original = torch.nn.functional.scaled_dot_product_attention
        original, records, cuda = self.original, self.records, self.cuda

        def timed(*args, **kwargs):
            q = kwargs["query"] if "query" in kwargs else args[0]
            k = kwargs["key"] if "key" in kwargs else args[1]
            mask = kwargs.get("attn_mask", args[3] if len(args) > 3 else None)
            if cuda:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                out = original(*args, **kwargs)
                end.record()
                records.append((q.shape[-2], k.shape[-2], mask is not None, (start, end)))
            else:
                t0 = time.perf_counter()
                out = original(*args, **kwargs)
                records.append((q.shape[-2], k.shape[-2], mask is not None, 1e3 * (time.perf_counter() - t0)))
            return out

        torch.nn.functional.scaled_dot_product_attention = timed
        return self

    def __exit__(self, *exc):
        torch.nn.functional.scaled_dot_product_attention = self.original
        return False

    def calls(self) -> list[tuple[int, int, bool, float]]:
        if self.cuda:
            torch.cuda.synchronize()
        return [(q, k, m, t if isinstance(t, float) else t[0].elapsed_time(t[1])) for q, k, m, t in self.records]


def write_json_atomically(path: str, data: dict) -> None:
    """Writes `data` to `path` through a temporary file in the same folder and a rename: a reader (or a killed run)
    never sees half a file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
