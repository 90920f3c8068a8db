"""The exact flow of a diagonal Gaussian: a closed-form stand-in for a trained model.

If the data are ``N(mean, diag(std^2))``, then in the normalized space ``z = (x - mean) / std``
both ends of the linear path are standard normal and the marginal velocity is known exactly::

    v(z, t) = E[x1 - x0 | x_t = z] = (2t - 1) / ((1 - t)^2 + t^2) * z

Its ODE solution is ``z(t) = z(0) * sqrt((1 - t)^2 + t^2)``, so the transport map from noise to
data is the identity in normalized space. That makes it a closed form for solver tests and a
training-free :class:`~ecoflow.model.flow.Flow` for guidance and BO-loop tests (the way
``serving.fakes`` stands in for models); it is also the "no learned structure" baseline.
"""

from __future__ import annotations

import torch
from torch import Tensor


def gaussian_velocity(z: Tensor, t: Tensor | float) -> Tensor:
    """Exact marginal velocity of the linear path between two standard normals.

    Args:
        z: ``batch x d`` states.
        t: time in ``[0, 1]`` (float, 0-dim, or ``batch``).

    Returns:
        ``batch x d`` velocities.
    """
    t = torch.as_tensor(t, dtype=z.dtype, device=z.device)
    if t.dim() == 1:
        t = t[:, None]
    return (2 * t - 1) / ((1 - t) ** 2 + t**2) * z


def gaussian_trajectory(z0: Tensor, t: Tensor | float) -> Tensor:
    """Closed-form solution ``z(t) = z0 * sqrt((1 - t)^2 + t^2)`` of :func:`gaussian_velocity`."""
    t = torch.as_tensor(t, dtype=z0.dtype, device=z0.device)
    return z0 * torch.sqrt((1 - t) ** 2 + t**2)


class GaussianFlow:
    """The exact flow of ``N(mean, diag(std^2))``; satisfies :class:`~ecoflow.model.flow.Flow`.

    Args:
        mean: ``d`` data mean.
        std: ``d`` data standard deviation (positive).
    """

    def __init__(self, mean: Tensor, std: Tensor):
        if mean.shape != std.shape or mean.dim() != 1:
            raise ValueError(
                f"`mean` and `std` must be 1-D of equal length, got {tuple(mean.shape)} "
                f"and {tuple(std.shape)}."
            )
        if bool((std <= 0).any()):
            raise ValueError("`std` must be positive in every coordinate.")
        self.mean, self.std = mean, std
        self.dim = mean.shape[0]

    @classmethod
    def from_data(cls, data: Tensor, min_std: float = 1e-6) -> GaussianFlow:
        """Fit to ``data`` (``n x d``, ``n >= 2``) by per-coordinate mean and std."""
        return cls(data.mean(dim=0), data.std(dim=0).clamp_min(min_std))

    def __call__(self, z: Tensor, t: Tensor | float) -> Tensor:
        return gaussian_velocity(z, t)

    def normalize(self, x: Tensor) -> Tensor:
        """Data space → normalized space; ``... x d`` → ``... x d``."""
        return (x - self.mean) / self.std

    def denormalize(self, z: Tensor) -> Tensor:
        """Normalized space → data space; ``... x d`` → ``... x d``."""
        return z * self.std + self.mean
