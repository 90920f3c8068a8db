"""Shared settings for ecoflow tests: one torch thread (the CI machine has 2 shared cores)."""

import torch

torch.set_num_threads(1)
