"""Shared setup for moo tests, as for compress's: one torch thread (the machine is shared),
and BoTorch's fused kernel off (no test compiles it, except the one that tests its build)."""

import os

import torch

torch.set_num_threads(1)
os.environ.setdefault("RAYOPT_FUSED_KERNEL", "off")
