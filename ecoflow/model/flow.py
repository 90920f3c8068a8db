"""Flow matching on the linear (optimal-transport, rectified) probability path.

The path joins noise ``x0 ~ N(0, I)`` at ``t = 0`` to a data point ``x1`` at ``t = 1`` on a
straight line, ``x_t = (1 - t) x0 + t x1``, whose velocity is ``x1 - x0``. Regressing a network
onto that conditional velocity with mean squared error (conditional flow matching, Lipman et
al. 2023; rectified flow, Liu et al. 2023) learns the marginal velocity field, and integrating it
from noise (:mod:`ecoflow.solver`) samples the data distribution.

Everything happens in a *normalized* space ``z = (x - mean) / std`` whose statistics are
buffers of the model, so they travel with every ``state_dict`` and checkpoint. The
Gaussian-process surrogate is fitted in the same space (see :mod:`ecoflow.guidance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from ecoflow import solver
from ecoflow.model.velocity import VelocityNetwork
from ecoflow.solver import Method, VelocityFn


@runtime_checkable
class Flow(Protocol):
    """What samplers and the BO loop need from a flow: a velocity in normalized space and the
    map between data space and that space."""

    dim: int
    mean: Tensor  # d, the data mean (also tells samplers the dtype and device to use)

    def __call__(self, z: Tensor, t: Tensor) -> Tensor: ...

    def normalize(self, x: Tensor) -> Tensor: ...

    def denormalize(self, z: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class PathSample:
    """A point on the linear path. All tensors are ``batch x d`` except ``t`` (``batch``)."""

    x0: Tensor
    x1: Tensor
    t: Tensor
    x_t: Tensor
    dx_t: Tensor


def linear_path(x0: Tensor, x1: Tensor, t: Tensor) -> PathSample:
    """``x_t = (1 - t) x0 + t x1`` and its velocity ``dx_t = x1 - x0``.

    Args:
        x0: ``batch x d`` noise.
        x1: ``batch x d`` data.
        t: ``batch`` times in ``[0, 1]``.
    """
    tt = t[:, None]
    return PathSample(x0=x0, x1=x1, t=t, x_t=(1 - tt) * x0 + tt * x1, dx_t=x1 - x0)


def flow_matching_loss(
    velocity: VelocityFn, x1: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Conditional flow-matching loss ``E ||v(x_t, t) - (x1 - x0)||^2 / d``.

    ``x0 ~ N(0, I)`` and ``t ~ U[0, 1]`` are drawn fresh for every row.

    Args:
        velocity: the network; pass a DDP-wrapped model here so its forward hooks
            synchronize gradients (calling ``model.loss`` on the inner module would not).
        x1: ``batch x d`` data, already normalized (:meth:`FlowMatchingModel.normalize`).
        generator: optional RNG for the noise and the times (on ``x1``'s device).

    Returns:
        0-dim mean squared error per coordinate.
    """
    x0 = torch.randn(x1.shape, generator=generator, dtype=x1.dtype, device=x1.device)
    t = torch.rand(x1.shape[0], generator=generator, dtype=x1.dtype, device=x1.device)
    p = linear_path(x0, x1, t)
    return torch.mean((velocity(p.x_t, p.t) - p.dx_t) ** 2)


class FlowMatchingModel(nn.Module):
    """A :class:`VelocityNetwork` plus the data's normalization statistics.

    ``forward(z, t)`` is the velocity in normalized space; :meth:`loss` and :meth:`sample`
    take and return data-space tensors.

    Args:
        dim: data dimension ``d``.
        width: hidden size of the velocity network.
        depth: number of AdaLN blocks.
        mlp_ratio: inner MLP size relative to ``width``.
    """

    def __init__(self, dim: int, width: int = 256, depth: int = 4, mlp_ratio: float = 4.0):
        super().__init__()
        self.dim = dim
        self.net = VelocityNetwork(dim, width=width, depth=depth, mlp_ratio=mlp_ratio)
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    @torch.no_grad()
    def set_normalization(self, data: Tensor, min_std: float = 1e-6) -> None:
        """Store the per-coordinate mean and std of ``data`` (``n x d``, data space).

        Coordinates whose std is below ``min_std`` are divided by ``min_std`` instead.
        """
        if data.dim() != 2 or data.shape[1] != self.dim or data.shape[0] < 2:
            raise ValueError(
                f"`data` must be n x {self.dim} with n >= 2, got shape {tuple(data.shape)}."
            )
        self.mean.copy_(data.mean(dim=0))
        self.std.copy_(data.std(dim=0).clamp_min(min_std))

    def normalize(self, x: Tensor) -> Tensor:
        """Data space → normalized space; ``... x d`` → ``... x d``."""
        return (x - self.mean) / self.std

    def denormalize(self, z: Tensor) -> Tensor:
        """Normalized space → data space; ``... x d`` → ``... x d``."""
        return z * self.std + self.mean

    def forward(self, z: Tensor, t: Tensor | float) -> Tensor:
        """Velocity ``batch x d`` at normalized states ``z`` (``batch x d``), times ``t``."""
        return self.net(z, t)

    def loss(self, x1: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Flow-matching loss on a data-space batch ``x1`` (``batch x d``); 0-dim."""
        return flow_matching_loss(self, self.normalize(x1), generator)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        steps: int = 50,
        method: Method = "heun",
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Draw ``n`` data-space samples (``n x d``) by integrating from noise.

        The noise is drawn on the CPU (``generator`` is a CPU generator), so a seed gives the
        same samples on any device, up to floating point.
        """
        p = next(self.parameters())
        x0 = torch.randn(n, self.dim, generator=generator, dtype=p.dtype).to(p.device)
        return self.denormalize(solver.sample(self, x0, steps=steps, method=method))

    def config(self) -> dict[str, Any]:
        """Constructor arguments, for rebuilding the model from a checkpoint."""
        n = self.net
        return {"dim": n.dim, "width": n.width, "depth": n.depth, "mlp_ratio": n.mlp_ratio}

    def to_checkpoint(self) -> dict[str, Any]:
        """``{"config": ..., "state_dict": ...}`` (normalization statistics included)."""
        return {"config": self.config(), "state_dict": self.state_dict()}

    @classmethod
    def from_checkpoint(cls, checkpoint: dict[str, Any]) -> FlowMatchingModel:
        """Inverse of :meth:`to_checkpoint`."""
        model = cls(**checkpoint["config"])
        model.load_state_dict(checkpoint["state_dict"])
        return model
