"""Helpers of the Python package's tests: plans written for a test model, the block masks a plan's layers compute
(rebuilt from compile_layer's packed layout), and a recorder of self-attention outputs."""

import json
import os
import subprocess

import torch

import svdit  # noqa: F401  (registers torch.ops.svdit)


def pattern_density(components, layout):
    """Block density of a pattern at `layout`, as compile_layer (svdit's compile_pattern) computes it."""
    *_, density = torch.ops.svdit.compile_layer(json.dumps([components]), *layout_arguments(layout))
    return float(density[0])


def layout_arguments(layout):
    keys = ("frames", "height", "width", "text_prefix", "text_suffix", "block_size")
    return [layout[k] for k in keys]


def write_plan(path, patterns, schedule, *, model, layout):
    """Writes a plan file; `patterns` maps id -> components."""
    plan = {
        "format": "svdit-plan",
        "version": 1,
        "model": model,
        "layout": layout,
        "patterns": [{"id": i, "density": pattern_density(c, layout), "components": c} for i, c in patterns.items()],
        "schedule": schedule,
        "provenance": {"note": "tests/python"},
    }
    path.write_text(json.dumps(plan))
    return path


def block_masks(components_per_head, layout):
    """[H, S, S] bool in original token order: the (query, key) pairs the kernels compute for one layer — whole
    b x b blocks of each head's layout order, from compile_layer's packed CSR and order."""
    row_begin, key_blocks, order, _ = torch.ops.svdit.compile_layer(
        json.dumps(components_per_head), *layout_arguments(layout)
    )
    b = layout["block_size"]
    seq_len = layout["text_prefix"] + layout["frames"] * layout["height"] * layout["width"] + layout["text_suffix"]
    blocks = (seq_len + b - 1) // b
    masks = []
    for h in range(len(components_per_head)):
        token_at = order[h].long() if order.numel() else torch.arange(seq_len)
        position = torch.empty(seq_len, dtype=torch.long)
        position[token_at] = torch.arange(seq_len)  # layout position of each token
        selected = torch.zeros(blocks, blocks, dtype=torch.bool)
        for q in range(blocks):
            selected[q, key_blocks[row_begin[h, q] : row_begin[h, q + 1]].long()] = True
        block_of = position // b
        masks.append(selected[block_of[:, None], block_of[None, :]])
    return torch.stack(masks)


def record_self_attention(modules):
    """Collects the output of every module in `modules` (layer order), per call; returns (outputs, remove)."""
    outputs = []

    def keep(layer):
        def hook(module, args, out):
            first = out[0] if isinstance(out, tuple) else out
            outputs.append((layer, first.detach().clone()))

        return hook

    handles = [m.register_forward_hook(keep(layer)) for layer, m in enumerate(modules)]
    return outputs, lambda: [h.remove() for h in handles]


def assert_same_calls(got, expected, layers, calls):
    """Every recorded (layer, output) of two runs agrees, within float32 rounding of a different summation."""
    assert len(got) == len(expected) == calls * layers
    for n, ((layer, g), (_, e)) in enumerate(zip(got, expected)):
        torch.testing.assert_close(g, e, rtol=1e-5, atol=1e-5, msg=lambda m: f"call {n // layers}, layer {layer}: {m}")


def pipeline_inputs(text_tokens, text_dim, latents_shape, **video):
    """Keyword arguments of one CFG run of a tiny pipeline: fixed prompt embeddings and starting latents (no text
    encoder, no VAE: output_type="latent")."""
    g = torch.Generator().manual_seed(1)
    return dict(
        prompt_embeds=torch.randn(1, text_tokens, text_dim, generator=g),
        negative_prompt_embeds=torch.randn(1, text_tokens, text_dim, generator=g),
        latents=torch.randn(*latents_shape, generator=g),
        guidance_scale=5.0, output_type="latent", **video,
    )  # fmt: skip


def reference_error_recall(q, k, v, mask):
    """A candidate's relative MSE and recall for one head (docs/FORMATS.md /error, /recall), from the masked
    softmax in float32: q, k, v [S, D], mask [S, S] the pairs its blocks compute. Also returns the dense softmax."""
    p = torch.softmax((q @ k.T) / q.shape[1] ** 0.5, dim=-1)
    dense = p @ v
    kept = p * mask
    mass = kept.sum(dim=1, keepdim=True)
    sparse = torch.where(mass > 0, kept / mass.clamp_min(1e-30), torch.zeros_like(kept)) @ v
    error = ((sparse - dense) ** 2).sum() / (dense**2).sum()
    return float(error), float(mass.sum() / q.shape[0]), p


def pooled_map(p, block_size, blocks=None):
    """The block-pooled map of one head's softmax p [S, S] (docs/FORMATS.md /maps/pooled): the probability mass of
    each (query block, key block) divided by the query block's rows (a last partial block has fewer), as a
    [blocks, blocks] tensor (default ceil(S / b); more: the extra blocks are 0)."""
    seq_len = p.shape[0]
    blocks = blocks or (seq_len + block_size - 1) // block_size
    block_of = torch.arange(seq_len) // block_size
    mass = torch.zeros(blocks, blocks).index_put_((block_of[:, None].expand(-1, seq_len),
                                                   block_of[None, :].expand(seq_len, -1)), p, accumulate=True)
    rows = torch.bincount(block_of, minlength=blocks).clamp_min(1).to(p.dtype)
    return mass / rows[:, None]


def cogvideox_pipeline(heads, head_dim, layers, text_tokens, text_dim):
    """A tiny random CogVideoXPipeline (no text encoder, no VAE) for 13 frames of 128 x 128: latents [B, 4 frames,
    4 channels, 16, 16], patch 2 -> F = 4, H' = W' = 8."""
    from diffusers import CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=heads, attention_head_dim=head_dim, in_channels=4, out_channels=4, time_embed_dim=32,
        text_embed_dim=text_dim, num_layers=layers, sample_width=16, sample_height=16, sample_frames=13,
        patch_size=2, max_text_seq_length=text_tokens, use_rotary_positional_embeddings=True,
    ).eval()  # fmt: skip
    return CogVideoXPipeline(tokenizer=None, text_encoder=None, vae=None, transformer=transformer,
                             scheduler=CogVideoXDDIMScheduler())  # fmt: skip


def svdit_tool(*args):
    """Runs the C++ `svdit` launcher of the build these tests belong to (SVDIT_BIN_DIR, which ctest sets) and
    fails with its stderr unless it exits 0."""
    bin_dir = os.environ.get("SVDIT_BIN_DIR")
    assert bin_dir, "SVDIT_BIN_DIR (the build's bin/ folder with svdit and svdit-<verb>) is not set; run via ctest"
    result = subprocess.run([os.path.join(bin_dir, "svdit"), *map(str, args)], capture_output=True, text=True)
    assert result.returncode == 0, f"svdit {' '.join(map(str, args))}: exit {result.returncode}\n{result.stderr}"
    return result
