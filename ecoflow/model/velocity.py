"""The velocity network ``v_theta(x, t)``: DiT-style MLP blocks with AdaLN time conditioning.

Embeddings are plain vectors, so the DiT transformer block (Peebles & Xie, 2023) reduces to its
MLP half: each block is ``h + gate * MLP(LayerNorm(h) * (1 + scale) + shift)``, where ``shift``,
``scale`` and ``gate`` are produced from the time embedding ("adaLN-Zero"). The modulation
layers and the output layer start at zero, so every block starts as the identity and the
untrained network outputs exactly zero; that is what makes deep stacks train stably.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn


def sinusoidal_embedding(t: Tensor, dim: int, max_period: float = 10_000.0) -> Tensor:
    """Transformer-style sinusoidal features of a scalar time.

    Args:
        t: ``batch`` times (any real values; callers scale ``[0, 1]`` up first).
        dim: number of features.
        max_period: the longest period among the frequencies.

    Returns:
        ``batch x dim`` features ``[cos(t f_k), sin(t f_k)]`` with geometric frequencies
        ``f_k = max_period^(-k / half)`` (a zero column is appended when ``dim`` is odd).
    """
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(-math.log(max_period) * k / half)
    args = t.float()[:, None] * freqs[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb.to(t.dtype) if t.is_floating_point() else emb


def _zero_linear(n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class TimeEmbedding(nn.Module):
    """``t`` (``batch``) → ``batch x width``: sinusoidal features followed by a small MLP.

    Args:
        width: output size.
        frequency_dim: number of sinusoidal features.
        time_scale: ``t`` is multiplied by this first, so ``t in [0, 1]`` spans the same range
            of phases as DiT's integer timesteps ``0 .. 1000``.
    """

    def __init__(self, width: int, frequency_dim: int = 256, time_scale: float = 1000.0):
        super().__init__()
        self.frequency_dim = frequency_dim
        self.time_scale = time_scale
        self.mlp = nn.Sequential(
            nn.Linear(frequency_dim, width), nn.SiLU(), nn.Linear(width, width)
        )

    def forward(self, t: Tensor) -> Tensor:
        return self.mlp(sinusoidal_embedding(t * self.time_scale, self.frequency_dim))


class AdaLNBlock(nn.Module):
    """One residual MLP block modulated by the time embedding (adaLN-Zero).

    Args:
        width: hidden size of the residual stream.
        mlp_ratio: the MLP's inner size is ``mlp_ratio * width``.
    """

    def __init__(self, width: int, mlp_ratio: float = 4.0):
        super().__init__()
        hidden = int(width * mlp_ratio)
        self.norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(
            nn.Linear(width, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, width)
        )
        # zero-init: shift = scale = gate = 0 at the start, so the block is the identity
        self.modulation = nn.Sequential(nn.SiLU(), _zero_linear(width, 3 * width))

    def forward(self, h: Tensor, c: Tensor) -> Tensor:
        """``h``: ``batch x width`` stream; ``c``: ``batch x width`` time embedding."""
        shift, scale, gate = self.modulation(c).chunk(3, dim=-1)
        return h + gate * self.mlp(self.norm(h) * (1 + scale) + shift)


class VelocityNetwork(nn.Module):
    """``v_theta(x, t)`` for ``d``-dimensional data.

    Args:
        dim: data dimension ``d`` (input and output size).
        width: hidden size of every block.
        depth: number of :class:`AdaLNBlock` s.
        mlp_ratio: inner size of each block's MLP relative to ``width``.
        frequency_dim: number of sinusoidal time features.

    Example:
        >>> net = VelocityNetwork(dim=384, width=512, depth=6)
        >>> v = net(torch.randn(8, 384), torch.rand(8))  # 8 x 384
    """

    def __init__(
        self,
        dim: int,
        width: int = 256,
        depth: int = 4,
        mlp_ratio: float = 4.0,
        frequency_dim: int = 256,
    ):
        super().__init__()
        if dim < 1 or width < 1 or depth < 0:
            raise ValueError(
                f"`dim` and `width` must be positive and `depth` non-negative "
                f"(got dim={dim}, width={width}, depth={depth})."
            )
        self.dim, self.width, self.depth, self.mlp_ratio = dim, width, depth, mlp_ratio
        self.frequency_dim = frequency_dim
        self.input = nn.Linear(dim, width)
        self.time = TimeEmbedding(width, frequency_dim)
        self.blocks = nn.ModuleList(AdaLNBlock(width, mlp_ratio) for _ in range(depth))
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.final_modulation = nn.Sequential(nn.SiLU(), _zero_linear(width, 2 * width))
        self.output = _zero_linear(width, dim)

    def forward(self, x: Tensor, t: Tensor | float) -> Tensor:
        """Velocity at ``(x, t)``.

        Args:
            x: ``batch x d`` states.
            t: times in ``[0, 1]``: a float, a 0-dim tensor (one time for the batch) or a
                ``batch`` tensor.

        Returns:
            ``batch x d`` velocities.
        """
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.dim() == 0:
            t = t.expand(x.shape[0])
        c = self.time(t)
        h = self.input(x)
        for block in self.blocks:
            h = block(h, c)
        shift, scale = self.final_modulation(c).chunk(2, dim=-1)
        return self.output(self.final_norm(h) * (1 + scale) + shift)
