"""Every model family of the C++ runtime against diffusers on the same weights and inputs (issue 13): a tiny random
diffusers model with every parameter perturbed away from its initialisation (norm gains and biases, modulation
tables, biases) is saved with save_pretrained (config.json + safetensors, diffusers names); `svdit forward` and the
diffusers model each run one forward on the same latents, timestep and text, and must agree to fp32 rounding
(relative L2 <= 1e-5); for CogVideoX1.5 also a 3-step CFG run of `svdit generate` against CogVideoXPipeline with
its DPM scheduler and the same seed. The figures are printed (pytest -s shows them)."""

import json
import os
import subprocess

import pytest
import svdit_testing
import torch
from safetensors.torch import load_file, save_file

REL_L2 = 1e-5  # fp32 against fp32: the same operations in another order


def relative_l2(ours, reference):
    return float((ours - reference).norm() / reference.norm())


def perturb(model, seed):
    """Moves every parameter away from its initialisation (LayerNorm gains off 1, biases off 0), so that a
    parameter the runtime ignores or misplaces changes the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=g))
    return model.eval()


def forward_with_runtime(folder, latents, timestep, text, tmp_path):
    save_file({"latents": latents.contiguous()}, tmp_path / "latents.safetensors")
    save_file({"context": text[0].contiguous()}, tmp_path / "text.safetensors")
    out = tmp_path / "prediction.safetensors"
    svdit_testing.svdit_tool("forward", "--weights", folder, "--latents", tmp_path / "latents.safetensors",
                             "--timestep", timestep, "--embeddings", f"{tmp_path / 'text.safetensors'}:context",
                             "--device", "cpu", "--out", out)  # fmt: skip
    return load_file(out)["prediction"]


# ---- CogVideoX1.5 ----------------------------------------------------------------------------------------------
# Latents [1, T=4, C=4, 8, 12] (13 frames of 64 x 96 pixels), patch 2 in time and space -> F' = 2, H' = 4, W' = 6:
# 48 video tokens after T0 = 12 text tokens.
COG = dict(heads=2, head_dim=32, text_tokens=12, text_dim=20, frames=13, height=64, width=96)


def cogvideox_scheduler():
    """CogVideoXDPMScheduler with the released CogVideoX1.5 scheduler config (what the runtime's sampler hard-codes)."""
    from diffusers import CogVideoXDPMScheduler

    return CogVideoXDPMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                                 prediction_type="v_prediction", rescale_betas_zero_snr=True, set_alpha_to_one=True,
                                 snr_shift_scale=1.0, timestep_spacing="trailing")  # fmt: skip


@pytest.fixture(scope="module")
def cogvideox(tmp_path_factory):
    from diffusers import CogVideoXPipeline, CogVideoXTransformer3DModel

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=COG["heads"], attention_head_dim=COG["head_dim"], in_channels=4, out_channels=4,
        time_embed_dim=24, text_embed_dim=COG["text_dim"], num_layers=2, sample_width=32, sample_height=32,
        sample_frames=13, patch_size=2, patch_size_t=2, max_text_seq_length=COG["text_tokens"],
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=False,
    )  # fmt: skip
    perturb(transformer, seed=1)
    folder = tmp_path_factory.mktemp("cogvideox-tiny")
    transformer.save_pretrained(folder, safe_serialization=True)
    assert json.loads((folder / "config.json").read_text())["_class_name"] == "CogVideoXTransformer3DModel"
    pipe = CogVideoXPipeline(tokenizer=None, text_encoder=None, vae=None, transformer=transformer,
                             scheduler=cogvideox_scheduler())  # fmt: skip
    return pipe, folder


def test_cogvideox_forward_agrees_with_diffusers(cogvideox, tmp_path):
    pipe, folder = cogvideox
    g = torch.Generator().manual_seed(2)
    latents = torch.randn(1, 4, 4, COG["height"] // 8, COG["width"] // 8, generator=g)  # [B, T, C, H, W]
    text = torch.randn(1, COG["text_tokens"], COG["text_dim"], generator=g)
    timestep = 637
    ours = forward_with_runtime(folder, latents, timestep, text, tmp_path)
    with torch.no_grad():
        rope = pipe._prepare_rotary_positional_embeddings(COG["height"], COG["width"], latents.shape[1], "cpu")
        reference = pipe.transformer(hidden_states=latents, encoder_hidden_states=text,
                                     timestep=torch.tensor([timestep]), image_rotary_emb=rope, return_dict=False)[0]
    assert ours.shape == reference.shape
    error = relative_l2(ours, reference)
    print(f"\nCogVideoX1.5 forward: relative L2 {error:.3g} (bound {REL_L2:g})")
    assert error <= REL_L2


def test_cogvideox_sampling_with_guidance_agrees_with_the_pipeline(cogvideox, tmp_path):
    pipe, folder = cogvideox
    g = torch.Generator().manual_seed(3)
    positive = torch.randn(1, COG["text_tokens"], COG["text_dim"], generator=g)
    negative = torch.randn(1, COG["text_tokens"], COG["text_dim"], generator=g)
    save_file({"context": positive[0].contiguous()}, tmp_path / "positive.safetensors")
    save_file({"context": negative[0].contiguous()}, tmp_path / "negative.safetensors")
    out = tmp_path / "latents.safetensors"
    seed, steps, guidance = 5, 3, 6.0
    svdit_testing.svdit_tool(
        "generate", "--weights", folder, "--embeddings", f"{tmp_path / 'positive.safetensors'}:context",
        "--negative-embeddings", f"{tmp_path / 'negative.safetensors'}:context", "--steps", steps,
        "--guidance", guidance, "--seed", seed, "--frames", COG["frames"], "--height", COG["height"],
        "--width", COG["width"], "--device", "cpu", "--out", out, "--quiet",
    )  # fmt: skip
    ours = load_file(out)["latents"]
    with torch.no_grad():
        # One generator for the initial noise and every scheduler step, as the runtime draws them.
        reference = pipe(prompt_embeds=positive, negative_prompt_embeds=negative, num_frames=COG["frames"],
                         height=COG["height"], width=COG["width"], num_inference_steps=steps,
                         guidance_scale=guidance, generator=torch.Generator().manual_seed(seed),
                         output_type="latent").frames  # fmt: skip
    assert ours.shape == reference.shape
    error = relative_l2(ours, reference)
    print(f"\nCogVideoX1.5 {steps}-step CFG sampling: relative L2 {error:.3g} (bound {REL_L2:g})")
    assert error <= REL_L2
    # The guidance made a difference (the check above would not notice a runtime that ignores the negative prompt
    # only if both branches agreed).
    unguided = pipe(prompt_embeds=positive, negative_prompt_embeds=negative, num_frames=COG["frames"],
                    height=COG["height"], width=COG["width"], num_inference_steps=steps, guidance_scale=1.0,
                    generator=torch.Generator().manual_seed(seed), output_type="latent").frames  # fmt: skip
    assert relative_l2(ours, unguided) > 100 * REL_L2


def test_cogvideox_profile_search_generate_and_the_plan_carries_the_family(cogvideox, tmp_path):
    """svdit profile on the CogVideoX checkpoint (T0 = 12 text tokens before the video) -> svdit search -> a plan
    for cogvideox1.5 that svdit generate applies; the same plan is refused on a Wan2.1 model."""
    _, folder = cogvideox
    g = torch.Generator().manual_seed(7)
    save_file({"context": torch.randn(COG["text_tokens"], COG["text_dim"], generator=g)}, tmp_path / "p.safetensors")
    video = ["--frames", COG["frames"], "--height", 128, "--width", 192, "--device", "cpu"]
    profile_file, plan_path = tmp_path / "profile.h5", tmp_path / "plan.json"
    svdit_testing.svdit_tool("profile", "--weights", folder, "--prompt", f"{tmp_path / 'p.safetensors'}:context",
                             "--steps", 2, "--block-size", 64, "--out", profile_file, "--quiet", *video)  # fmt: skip
    svdit_testing.svdit_tool("search", profile_file, "--out", plan_path, "--objective", "paper", "--lambda", "0.1",
                             "--epsilon", "0.2", "--quiet")  # fmt: skip
    plan = json.loads(plan_path.read_text())
    assert plan["version"] == 2 and plan["model"]["family"] == "cogvideox1.5"
    assert plan["layout"]["text_prefix"] == COG["text_tokens"]
    svdit_testing.svdit_tool("generate", "--weights", folder, "--plan", plan_path, "--steps", 2, "--quiet",
                             "--out", tmp_path / "sparse.safetensors", *video)  # fmt: skip
    wan_config = tmp_path / "wan.json"  # a small Wan2.1 (original field names)
    wan_config.write_text(json.dumps({"model_type": "t2v", "dim": 128, "ffn_dim": 256, "num_heads": 2,
                                      "num_layers": 2, "text_dim": 64, "text_len": 16}))  # fmt: skip
    svdit = os.path.join(os.environ["SVDIT_BIN_DIR"], "svdit")
    wan = subprocess.run([svdit, "generate", "--random-weights", str(wan_config), "--plan", str(plan_path),
                          "--steps", "1", "--frames", "5", "--height", "32", "--width", "32", "--device", "cpu", "--out", str(tmp_path / "wan.safetensors"), "--quiet"],
                         capture_output=True, text=True)  # fmt: skip
    assert wan.returncode == 1 and 'model.family: plan has "cogvideox1.5", model has "wan2.1"' in wan.stderr, wan.stderr


# ---- Wan2.1 ----------------------------------------------------------------------------------------------------
def test_wan_forward_agrees_with_diffusers(tmp_path):
    from diffusers import WanTransformer3DModel

    torch.manual_seed(0)
    text_tokens, text_dim = 8, 32
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=64, in_channels=4, out_channels=4,
        text_dim=text_dim, freq_dim=32, ffn_dim=64, num_layers=2, rope_max_seq_len=32,
    )  # fmt: skip
    perturb(transformer, seed=4)
    folder = tmp_path / "wan-tiny"
    transformer.save_pretrained(folder, safe_serialization=True)
    config = json.loads((folder / "config.json").read_text())
    config["text_len"] = text_tokens  # svdit's field: the runtime pads the text to text_len rows (diffusers does not)
    (folder / "config.json").write_text(json.dumps(config))
    g = torch.Generator().manual_seed(5)
    latents = torch.randn(1, 4, 4, 16, 16, generator=g)  # [B, C, T, H, W]
    text = torch.randn(1, text_tokens, text_dim, generator=g)
    ours = forward_with_runtime(folder, latents, 731, text, tmp_path)
    with torch.no_grad():
        reference = transformer(latents, torch.tensor([731.0]), text, return_dict=False)[0]
    error = relative_l2(ours, reference)
    print(f"\nWan2.1 forward: relative L2 {error:.3g} (bound {REL_L2:g})")
    assert error <= REL_L2
