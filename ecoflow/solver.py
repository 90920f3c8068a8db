"""Fixed-step ODE solvers that carry noise at ``t = 0`` to data at ``t = 1``.

A flow-matching model defines an ODE ``dx/dt = v(x, t)``; sampling integrates it on the uniform
grid ``t_i = i / steps``. Two methods:

- ``"euler"``: ``x_{i+1} = x_i + h v(x_i, t_i)`` (first order, one velocity call per step).
- ``"heun"``: the explicit trapezoid rule (second order, two calls per step)::

      k1 = v(x_i, t_i);  k2 = v(x_i + h k1, t_{i+1});  x_{i+1} = x_i + h (k1 + k2) / 2

The velocity is any callable ``v(x, t)``: ``x`` is ``batch x d`` and ``t`` a 0-dim tensor of
the same dtype and device (one time for the whole batch). Nothing here knows about networks
or guidance; :mod:`ecoflow.guidance` builds on :func:`step`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

VelocityFn = Callable[[Tensor, Tensor], Tensor]
"""``v(x, t) -> dx/dt``: ``x`` is ``batch x d``, ``t`` a 0-dim tensor; returns ``batch x d``."""

Method = Literal["euler", "heun"]
METHODS: tuple[str, ...] = ("euler", "heun")


def check_method(method: str) -> None:
    """Raise a ``ValueError`` naming the choices when ``method`` is not a known solver."""
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}.")


def check_steps(steps: int) -> None:
    """Raise a ``ValueError`` when ``steps`` is not a positive integer."""
    if int(steps) != steps or steps < 1:
        raise ValueError(f"`steps` must be a positive integer, got {steps!r}.")


def time_grid(steps: int, like: Tensor) -> Tensor:
    """The uniform grid ``0, 1/steps, ..., 1``.

    Args:
        steps: number of solver steps.
        like: a tensor whose dtype and device the grid takes.

    Returns:
        A ``(steps + 1)`` tensor.
    """
    check_steps(steps)
    return torch.linspace(0.0, 1.0, steps + 1, dtype=like.dtype, device=like.device)


def euler_step(velocity: VelocityFn, x: Tensor, t: Tensor, h: Tensor) -> Tensor:
    """One explicit Euler step.

    Args:
        velocity: ``v(x, t)``.
        x: ``batch x d`` state at time ``t``.
        t: 0-dim current time.
        h: 0-dim step size.

    Returns:
        ``batch x d`` state at ``t + h``.
    """
    return x + h * velocity(x, t)


def heun_step(velocity: VelocityFn, x: Tensor, t: Tensor, h: Tensor) -> Tensor:
    """One Heun (explicit trapezoid) step; arguments as in :func:`euler_step`."""
    k1 = velocity(x, t)
    k2 = velocity(x + h * k1, t + h)
    return x + 0.5 * h * (k1 + k2)


def step(method: str, velocity: VelocityFn, x: Tensor, t: Tensor, h: Tensor) -> Tensor:
    """Dispatch one step of ``method`` (``"euler"`` or ``"heun"``)."""
    check_method(method)
    if method == "euler":
        return euler_step(velocity, x, t, h)
    return heun_step(velocity, x, t, h)


@torch.no_grad()
def sample(
    velocity: VelocityFn,
    x0: Tensor,
    steps: int = 50,
    method: Method = "heun",
    return_path: bool = False,
) -> Tensor:
    """Integrate ``dx/dt = v(x, t)`` from ``t = 0`` to ``t = 1``.

    Runs under ``torch.no_grad``: sampling never needs the graph of the velocity network
    (guidance takes its own gradients, see :class:`ecoflow.guidance.GuidedFlowSampler`).

    Args:
        velocity: ``v(x, t)``.
        x0: ``batch x d`` initial state (noise).
        steps: number of uniform steps.
        method: ``"euler"`` or ``"heun"``.
        return_path: also return every intermediate state.

    Returns:
        ``batch x d`` state at ``t = 1``, or the ``(steps + 1) x batch x d`` path when
        ``return_path`` (``path[0]`` is ``x0``, ``path[-1]`` the final state).
    """
    check_method(method)
    grid = time_grid(steps, x0)
    x, path = x0, [x0]
    for i in range(steps):
        x = step(method, velocity, x, grid[i], grid[i + 1] - grid[i])
        if return_path:
            path.append(x)
    return torch.stack(path) if return_path else x
