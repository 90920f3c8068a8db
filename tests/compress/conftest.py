"""Shared setup for compress tests: one torch thread (the machine is shared; see ARCHITECTURE)."""

import torch

torch.set_num_threads(1)
