"""Every model family of the C++ runtime against diffusers on the same weights and inputs (issue 13): a tiny random
diffusers model with every parameter perturbed away from its initialisation (norm gains and biases, modulation
tables, biases) is saved with save_pretrained (config.json + safetensors, diffusers names); `svdit forward` and the
diffusers model each run one forward on the same latents, timestep and text, and must agree to fp32 rounding
(relative L2 <= 1e-5); for CogVideoX1.5 also a 3-step CFG run of `svdit generate` against CogVideoXPipeline with
its DPM scheduler and the same seed, for HunyuanVideo 3-step runs against its pipeline's denoising loop with the
flow-match Euler scheduler (embedded guidance, with and without true CFG). The figures are printed (pytest -s shows
them)."""

import json
import os
import subprocess

import numpy as np
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


# ---- HunyuanVideo ----------------------------------------------------------------------------------------------
# 1 dual-stream + 1 single-stream block, 1 refiner block, 2 heads x 16; latents [1, 4, T, H, W], patch 1 x 2 x 2.
# The text comes after the video; prompts are padded to TEXT_LEN rows with garbage in the padding, which diffusers
# masks and svdit drops (it runs on the valid tokens only).
HY = dict(text_len=10, text_dim=24, pooled=12)
HY_CONFIG = dict(in_channels=4, out_channels=4, num_attention_heads=2, attention_head_dim=16, num_layers=1,
                 num_single_layers=1, num_refiner_layers=1, mlp_ratio=4.0, patch_size=2, patch_size_t=1,
                 text_embed_dim=HY["text_dim"], pooled_projection_dim=HY["pooled"], rope_theta=256.0,
                 rope_axes_dim=(4, 6, 6), guidance_embeds=True)  # fmt: skip


@pytest.fixture(scope="module")
def hunyuan(tmp_path_factory):
    from diffusers import HunyuanVideoTransformer3DModel

    torch.manual_seed(0)
    transformer = perturb(HunyuanVideoTransformer3DModel(**HY_CONFIG), seed=6)
    folder = tmp_path_factory.mktemp("hunyuan-tiny")
    transformer.save_pretrained(folder, safe_serialization=True)
    config = json.loads((folder / "config.json").read_text())
    assert config["_class_name"] == "HunyuanVideoTransformer3DModel"
    config["text_len"] = HY["text_len"]  # svdit's field: the padded length plans are checked against
    (folder / "config.json").write_text(json.dumps(config))
    return transformer, folder


def save_hunyuan_prompt(path, generator, valid):
    """A conditioning file as HunyuanVideoPipeline's encode_prompt gives it: padded text with garbage after the
    `valid` tokens, its mask, and the pooled CLIP vector. Returns the batched tensors diffusers takes."""
    text = torch.randn(1, HY["text_len"], HY["text_dim"], generator=generator)
    mask = torch.zeros(1, HY["text_len"])
    mask[0, :valid] = 1
    pooled = torch.randn(1, HY["pooled"], generator=generator)
    save_file({"prompt_embeds": text[0], "prompt_attention_mask": mask[0], "pooled_prompt_embeds": pooled[0]}, path)
    return text, mask, pooled


def test_hunyuan_video_forward_agrees_with_diffusers_with_padded_text(hunyuan, tmp_path):
    transformer, folder = hunyuan
    g = torch.Generator().manual_seed(2)
    latents = torch.randn(1, 4, 3, 8, 12, generator=g)  # [B, C, T, H, W]: grid 3 x 4 x 6 = 72 video tokens
    text, mask, pooled = save_hunyuan_prompt(tmp_path / "prompt.safetensors", g, valid=7)
    save_file({"latents": latents}, tmp_path / "latents.safetensors")
    timestep, guidance = 937.5, 3.5  # a fractional flow timestep, as the scheduler gives them
    out = tmp_path / "prediction.safetensors"
    svdit_testing.svdit_tool("forward", "--weights", folder, "--latents", tmp_path / "latents.safetensors",
                             "--timestep", timestep, "--embeddings", tmp_path / "prompt.safetensors",
                             "--guidance", guidance, "--device", "cpu", "--out", out)  # fmt: skip
    ours = load_file(out)["prediction"]

    def reference(attention_mask, t):
        with torch.no_grad():
            return transformer(hidden_states=latents, timestep=torch.tensor([t]), encoder_hidden_states=text,
                               encoder_attention_mask=attention_mask, pooled_projections=pooled,
                               guidance=torch.tensor([guidance]) * 1000.0, return_dict=False)[0]  # fmt: skip

    theirs = reference(mask, timestep)
    assert ours.shape == theirs.shape == latents.shape
    error = relative_l2(ours, theirs)
    print(f"\nHunyuanVideo forward (padded text, fractional timestep): relative L2 {error:.3g} (bound {REL_L2:g})")
    assert error <= REL_L2
    # The agreement is the mask's and the fraction's, not luck: unmasked padding or a rounded timestep differ.
    assert relative_l2(ours, reference(torch.ones_like(mask), timestep)) > 1e-3
    assert relative_l2(ours, reference(mask, float(int(timestep)))) > 100 * REL_L2


def hunyuan_pipeline_sampling(transformer, noise, steps, shift, guidance, prompt, negative=None, true_cfg=1.0):
    """HunyuanVideoPipeline's denoising loop (pipeline_hunyuan_video.py) with the scheduler it uses."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    scheduler = FlowMatchEulerDiscreteScheduler(shift=shift)
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 0.0, steps + 1)[:-1], device="cpu")
    scheduler.set_begin_index(0)
    embedded = torch.tensor([guidance], dtype=torch.float32) * 1000.0
    latents = noise.clone()
    with torch.no_grad():
        for t in scheduler.timesteps:
            timestep = t.expand(1).to(latents.dtype)

            def velocity(text, mask, pooled):
                return transformer(hidden_states=latents, timestep=timestep, encoder_hidden_states=text,
                                   encoder_attention_mask=mask, pooled_projections=pooled, guidance=embedded,
                                   return_dict=False)[0]  # fmt: skip

            v = velocity(*prompt)
            if negative is not None and true_cfg > 1:
                v_negative = velocity(*negative)
                v = v_negative + true_cfg * (v - v_negative)
            latents = scheduler.step(v, t, latents, return_dict=False)[0]
    return latents


@pytest.mark.parametrize("true_cfg", [1.0, 3.0])
def test_hunyuan_video_sampling_agrees_with_the_pipeline(hunyuan, tmp_path, true_cfg):
    transformer, folder = hunyuan
    g = torch.Generator().manual_seed(4)
    prompt = save_hunyuan_prompt(tmp_path / "prompt.safetensors", g, valid=6)
    negative = save_hunyuan_prompt(tmp_path / "negative.safetensors", g, valid=3)
    steps, shift, guidance, seed = 3, 7.0, 6.0, 5
    out = tmp_path / "latents.safetensors"
    args = ["generate", "--weights", folder, "--embeddings", tmp_path / "prompt.safetensors", "--steps", steps,
            "--guidance", guidance, "--seed", seed, "--frames", 9, "--height", 64, "--width", 96, "--device", "cpu",
            "--out", out, "--quiet"]  # fmt: skip (--shift left at auto: HunyuanVideo's 7)
    if true_cfg > 1:
        args += ["--negative-embeddings", tmp_path / "negative.safetensors", "--true-cfg", true_cfg]
    svdit_testing.svdit_tool(*args)
    ours = load_file(out)["latents"]
    # svdit's noise: torch's CPU generator seeded with --seed, [1, C, T, H, W] fp32 (9 frames -> 3 latent frames,
    # 64 x 96 pixels -> 8 x 12 latents at the VAE's stride 8).
    noise = torch.randn(1, 4, 3, 8, 12, generator=torch.Generator().manual_seed(seed))
    theirs = hunyuan_pipeline_sampling(transformer, noise, steps, shift, guidance, prompt, negative, true_cfg)
    error = relative_l2(ours, theirs)
    print(f"\nHunyuanVideo {steps}-step sampling (true_cfg {true_cfg}): relative L2 {error:.3g} (bound {REL_L2:g})")
    assert error <= REL_L2
    assert relative_l2(ours, noise) > 0.1  # the run moved the sample
    if true_cfg > 1:  # the negative prompt made a difference
        alone = hunyuan_pipeline_sampling(transformer, noise, steps, shift, guidance, prompt)
        assert relative_l2(ours, alone) > 100 * REL_L2


def test_hunyuan_video_profile_search_generate_and_the_plan_carries_the_family(hunyuan, tmp_path):
    """svdit profile on the HunyuanVideo checkpoint (T1 = 10 text tokens after the video) -> svdit search -> a plan
    for hunyuan-video that svdit generate applies to a shorter prompt; the same plan is refused on Wan2.1."""
    _, folder = hunyuan
    g = torch.Generator().manual_seed(7)
    save_file({"prompt_embeds": torch.randn(HY["text_len"], HY["text_dim"], generator=g),
               "pooled_prompt_embeds": torch.randn(HY["pooled"], generator=g)}, tmp_path / "p.safetensors")
    short = tmp_path / "short.safetensors"
    save_hunyuan_prompt(short, g, valid=4)
    video = ["--frames", 9, "--height", 128, "--width", 192, "--device", "cpu"]  # grid 3 x 8 x 12 = 288 tokens
    profile_file, plan_path = tmp_path / "profile.h5", tmp_path / "plan.json"
    svdit_testing.svdit_tool("profile", "--weights", folder, "--prompt", tmp_path / "p.safetensors", "--steps", 2,
                             "--block-size", 64, "--out", profile_file, "--quiet", *video)  # fmt: skip
    svdit_testing.svdit_tool("search", profile_file, "--out", plan_path, "--objective", "paper", "--lambda", "0.1",
                             "--epsilon", "0.2", "--quiet")  # fmt: skip
    plan = json.loads(plan_path.read_text())
    assert plan["version"] == 2 and plan["model"]["family"] == "hunyuan-video"
    assert plan["layout"]["text_prefix"] == 0 and plan["layout"]["text_suffix"] == HY["text_len"]
    assert plan["model"]["layers"] == 2  # dual-stream, then single-stream
    dense, sparse = tmp_path / "dense.safetensors", tmp_path / "sparse.safetensors"
    for out, extra in ((dense, []), (sparse, ["--plan", plan_path])):
        svdit_testing.svdit_tool("generate", "--weights", folder, "--embeddings", short, "--steps", 2, "--quiet",
                                 "--out", out, *extra, *video)  # fmt: skip
    assert load_file(sparse)["latents"].shape == load_file(dense)["latents"].shape
    # A prompt with fewer valid tokens than text_len is refused by the profiler, naming why.
    svdit = os.path.join(os.environ["SVDIT_BIN_DIR"], "svdit")
    refused = subprocess.run([svdit, "profile", "--weights", str(folder), "--prompt", str(short), "--steps", "1",
                              "--out", str(tmp_path / "p2.h5"), "--quiet", *map(str, video)],
                             capture_output=True, text=True)  # fmt: skip
    assert refused.returncode != 0 and "4 valid text tokens" in refused.stderr, refused.stderr
    wan_config = tmp_path / "wan.json"  # a small Wan2.1 (original field names)
    wan_config.write_text(json.dumps({"model_type": "t2v", "dim": 128, "ffn_dim": 256, "num_heads": 2,
                                      "num_layers": 2, "text_dim": 64, "text_len": 16}))  # fmt: skip
    wan = subprocess.run([svdit, "generate", "--random-weights", str(wan_config), "--plan", str(plan_path),
                          "--steps", "1", "--frames", "5", "--height", "32", "--width", "32", "--device", "cpu",
                          "--out", str(tmp_path / "wan.safetensors"), "--quiet"], capture_output=True, text=True)  # fmt: skip
    assert wan.returncode == 1 and 'model.family: plan has "hunyuan-video", model has "wan2.1"' in wan.stderr, wan.stderr


def test_a_hunyuan_video_checkpoint_is_refused_as_another_family(hunyuan, tmp_path):
    _, folder = hunyuan
    other = tmp_path / "relabelled"
    other.mkdir()
    for f in folder.iterdir():
        (other / f.name).write_bytes(f.read_bytes())
    config = json.loads((other / "config.json").read_text())
    config["_class_name"] = "WanTransformer3DModel"
    (other / "config.json").write_text(json.dumps(config))
    svdit = os.path.join(os.environ["SVDIT_BIN_DIR"], "svdit")
    result = subprocess.run([svdit, "forward", "--weights", str(other), "--latents", "x", "--timestep", "1",
                             "--out", str(tmp_path / "y.safetensors")], capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 1
    print(result.stderr)
    assert "WanTransformer3DModel" in result.stderr, result.stderr
