"""svdit follows the denoising step from the timesteps the transformer is called with."""

import torch

from svdit._run import StepCounter


def test_cfg_branches_share_a_step_and_a_new_run_starts_at_0():
    counter = StepCounter()
    timesteps = [999.0, 999.0, 750.0, 750.0, 500.0, 500.0]  # two calls per step (conditional, unconditional)
    assert [counter.observe(torch.tensor([t])) for t in timesteps] == [0, 0, 1, 1, 2, 2]
    assert counter.observe(torch.tensor([999.0])) == 0  # the next pipe(...) call: noise goes up again
    assert counter.observe(torch.tensor([800.0])) == 1


def test_per_token_timesteps_count_by_their_noise_level():
    # Wan2.2 TI2V: one timestep per token, 0 on the conditioning frame; the step's level is the largest.
    counter = StepCounter()
    assert counter.observe(torch.tensor([[0.0, 900.0, 900.0]])) == 0
    assert counter.observe(torch.tensor([[0.0, 600.0, 600.0]])) == 1


def test_reset_makes_the_next_call_step_0():
    counter = StepCounter()
    counter.observe(999.0)
    counter.observe(500.0)
    counter.reset()
    assert counter.observe(400.0) == 0
