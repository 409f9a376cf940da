"""Fixtures for the Python package's tests: a tiny random diffusers Wan2.1 transformer and pipeline (no text
encoder or VAE weights: the pipeline runs on precomputed prompt embeddings with output_type="latent"), and plans
written for it."""

import pytest
import torch
from diffusers import FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

import svdit_testing

# The video: 13 frames of 128 x 128 pixels -> latents [1, 4, 4, 16, 16] (Wan's VAE factors 4 and 8), patches of
# (1, 2, 2) -> F = 4, H' = W' = 8: P = 64 tokens per frame, S = 256 tokens, 4 blocks of b = 64.
NUM_FRAMES, HEIGHT, WIDTH = 13, 128, 128
LAYOUT = {"frames": 4, "height": 8, "width": 8, "text_prefix": 0, "text_suffix": 0, "block_size": 64}
LAYERS, HEADS, HEAD_DIM = 2, 2, 64
TEXT_TOKENS, TEXT_DIM = 8, 32


@pytest.fixture(scope="session")
def transformer():
    torch.manual_seed(0)
    model = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=HEADS, attention_head_dim=HEAD_DIM, in_channels=4,
        out_channels=4, text_dim=TEXT_DIM, freq_dim=32, ffn_dim=64, num_layers=LAYERS, rope_max_seq_len=32,
    )  # fmt: skip
    return model.eval()


@pytest.fixture(scope="session")
def pipe(transformer):
    return WanPipeline(tokenizer=None, text_encoder=None, vae=None, transformer=transformer,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0))  # fmt: skip


@pytest.fixture(scope="session")
def pipe_inputs():
    """Keyword arguments of one CFG run of the tiny pipeline: fixed embeddings and starting latents."""
    return svdit_testing.pipeline_inputs(TEXT_TOKENS, TEXT_DIM, (1, 4, 4, 16, 16), num_frames=NUM_FRAMES,
                                         height=HEIGHT, width=WIDTH)  # fmt: skip


MODEL = {"name": "wan-tiny-test", "layers": LAYERS, "heads": HEADS, "head_dim": HEAD_DIM}


def write_plan(path, patterns, schedule, *, model=None, layout=None):
    """A plan for the tiny Wan model (or for `model` / `layout` instead)."""
    return svdit_testing.write_plan(path, patterns, schedule, model=model or MODEL, layout=layout or LAYOUT)
