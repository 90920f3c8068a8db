"""Surrogate-guided sampling: the flow's velocity nudged up the gradient of an acquisition.

The guided ODE, in the flow's normalized space ``z``, is::

    dz/dt = v(z, t) + lambda(t) * grad_z a(z),     lambda(t) = 0 for the first steps

where ``a`` is the acquisition to **increase**; with :class:`ecoflow.surrogate.GPSurrogate` it is
the upper confidence bound ``mu + sqrt(beta) sigma`` of the score we maximize (see that module
for the sign convention). ``a`` must take *normalized* states: fit the GP on
``flow.normalize(embeddings)``, exactly the space the ODE runs in, so no chain rule through the
normalization is needed (:class:`ecoflow.bo.FlowBO` does this).

Guidance is off for the first ``ceil(zero_fraction * steps)`` steps (CFG-Zero*, Fan et al.
2025): near ``t = 0`` the state is still noise, where the surrogate, fitted on data-like points,
says nothing useful and a push only derails the trajectory. With Heun, both velocity calls of
a step use the same guidance weight rule: a step is either wholly guided or wholly not.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ecoflow import solver
from ecoflow.model.flow import Flow
from ecoflow.solver import Method

Acquisition = Callable[[Tensor], Tensor]
"""``a(z) -> values``: ``b x d`` normalized states → ``b`` values to increase (differentiable)."""

Schedule = Callable[[float], float]
"""``lambda(t)``: the guidance weight at time ``t``."""


def acquisition_gradient(acquisition: Acquisition, z: Tensor) -> Tensor:
    """``grad_z a(z)`` row by row (``b x d`` → ``b x d``); ``a`` must treat rows independently."""
    with torch.enable_grad():
        zg = z.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(acquisition(zg).sum(), zg)
    return grad.to(z.dtype)


class GuidedFlowSampler:
    """Samples a :class:`~ecoflow.model.flow.Flow` with acquisition-gradient guidance.

    Args:
        flow: the flow (velocity in normalized space + normalization maps).
        scale: ``lambda``: a constant (the default, 1.0) or a schedule ``t -> lambda(t)``.
        zero_fraction: fraction of the first steps with no guidance (rounded up to whole
            steps; 0 guides from the first step).
        steps: number of solver steps.
        method: ``"euler"`` or ``"heun"``.
    """

    def __init__(
        self,
        flow: Flow,
        scale: float | Schedule = 1.0,
        zero_fraction: float = 0.04,
        steps: int = 50,
        method: Method = "heun",
    ):
        solver.check_steps(steps)
        solver.check_method(method)
        if not 0.0 <= zero_fraction <= 1.0:
            raise ValueError(f"`zero_fraction` must be in [0, 1], got {zero_fraction}.")
        self.flow, self.scale = flow, scale
        self.zero_fraction, self.steps, self.method = zero_fraction, steps, method

    @property
    def zero_steps(self) -> int:
        """How many initial steps run unguided: ``ceil(zero_fraction * steps)``."""
        # round first so that e.g. 0.04 * 50 = 2.0000000001 does not become 3
        return math.ceil(round(self.zero_fraction * self.steps, 9))

    def weight(self, t: float) -> float:
        """``lambda(t)`` (before the zero-guidance rule)."""
        return self.scale(t) if callable(self.scale) else float(self.scale)

    def guided_velocity(self, acquisition: Acquisition) -> solver.VelocityFn:
        """``v(z, t) + lambda(t) grad a(z)`` as a velocity callable."""

        def velocity(z: Tensor, t: Tensor) -> Tensor:
            v = self.flow(z, t)
            lam = self.weight(float(t))
            return v if lam == 0.0 else v + lam * acquisition_gradient(acquisition, z)

        return velocity

    @torch.no_grad()
    def sample(
        self,
        z0: Tensor,
        acquisition: Acquisition | None = None,
        return_path: bool = False,
    ) -> Tensor:
        """Integrate from noise ``z0`` to ``t = 1``, guided after the zero-guidance steps.

        Args:
            z0: ``b x d`` standard-normal noise (normalized space).
            acquisition: ``a(z)``; ``None`` samples the plain flow.
            return_path: return every state, not just the last.

        Returns:
            ``b x d`` samples in **normalized** space (``flow.denormalize`` maps them to
            embeddings), or the ``(steps + 1) x b x d`` path when ``return_path``.
        """
        grid = solver.time_grid(self.steps, z0)
        guided = self.guided_velocity(acquisition) if acquisition is not None else self.flow
        z, path = z0, [z0]
        for i in range(self.steps):
            velocity = guided if i >= self.zero_steps else self.flow
            z = solver.step(self.method, velocity, z, grid[i], grid[i + 1] - grid[i])
            if return_path:
                path.append(z)
        return torch.stack(path) if return_path else z

    def sample_embeddings(
        self,
        n: int,
        acquisition: Acquisition | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Draw ``n`` guided samples in **data** (embedding) space: ``n x d``.

        The noise comes from ``generator`` on the CPU, then moves to the flow's device.
        """
        like = self.flow.mean
        z0 = torch.randn(n, self.flow.dim, generator=generator, dtype=like.dtype)
        return self.flow.denormalize(self.sample(z0.to(like.device), acquisition))
