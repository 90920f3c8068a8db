"""Shared setup for compress tests: one torch thread (the machine is shared; see ARCHITECTURE),
and BoTorch's fused kernel off (no test compiles it, except the one that tests its build)."""

import os

import torch

torch.set_num_threads(1)
os.environ.setdefault("RAYOPT_FUSED_KERNEL", "off")
