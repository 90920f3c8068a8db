"""Euler and Heun against closed forms.

Fields and the exact results of ``N`` uniform steps ``h = 1/N`` from ``x0``:

- constant ``v = c``: both give ``x0 + c`` (any ``N``).
- time-linear ``v = a + b t``: Heun is the trapezoid rule, exact: ``x0 + a + b/2``; Euler is
  the left Riemann sum: ``x0 + a + b h^2 (0 + 1 + ... + N-1) = x0 + a + b (N-1) / (2N)``.
- state-linear ``v = k x``: Euler multiplies by ``1 + kh`` per step, Heun by
  ``1 + kh + (kh)^2 / 2``: ``x_N = x0 * factor^N`` exactly.
- the exact Gaussian flow ``v = (2t-1) / ((1-t)^2 + t^2) * x`` with solution
  ``x(t) = x0 sqrt((1-t)^2 + t^2)``: Euler converges at order 1, Heun at order 2.
"""

import pytest
import torch

from ecoflow import solver
from ecoflow.model.gaussian import gaussian_trajectory, gaussian_velocity

X0 = torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]], dtype=torch.float64)


@pytest.mark.parametrize("method", ["euler", "heun"])
@pytest.mark.parametrize("steps", [1, 3, 10])
def test_constant_field_is_exact(method, steps):
    c = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    out = solver.sample(lambda x, t: c.expand_as(x), X0, steps=steps, method=method)
    torch.testing.assert_close(out, X0 + c, rtol=0, atol=1e-12)


@pytest.mark.parametrize("steps", [1, 4, 25])
def test_time_linear_field_closed_form(steps):
    a, b = 0.7, -3.0

    def v(x, t):
        return (a + b * t) * torch.ones_like(x)

    heun = solver.sample(v, X0, steps=steps, method="heun")
    euler = solver.sample(v, X0, steps=steps, method="euler")
    torch.testing.assert_close(heun, X0 + a + b / 2, rtol=0, atol=1e-12)
    torch.testing.assert_close(euler, X0 + a + b * (steps - 1) / (2 * steps), rtol=0, atol=1e-12)


@pytest.mark.parametrize("steps", [1, 5, 20])
def test_state_linear_field_closed_form(steps):
    k, h = -1.3, 1.0 / steps
    euler = solver.sample(lambda x, t: k * x, X0, steps=steps, method="euler")
    heun = solver.sample(lambda x, t: k * x, X0, steps=steps, method="heun")
    torch.testing.assert_close(euler, X0 * (1 + k * h) ** steps, rtol=1e-12, atol=1e-12)
    heun_factor = (1 + k * h + (k * h) ** 2 / 2) ** steps
    torch.testing.assert_close(heun, X0 * heun_factor, rtol=1e-12, atol=1e-12)


def test_gaussian_flow_convergence_orders():
    def error(method, steps):
        path = solver.sample(gaussian_velocity, X0, steps=steps, method=method, return_path=True)
        t = torch.linspace(0, 1, steps + 1, dtype=torch.float64)[:, None, None]
        return (path - gaussian_trajectory(X0, t)).abs().max().item()

    assert error("heun", 200) < 5e-5
    euler_ratio = error("euler", 50) / error("euler", 100)
    heun_ratio = error("heun", 50) / error("heun", 100)
    assert 1.8 < euler_ratio < 2.2  # first order
    assert 3.6 < heun_ratio < 4.4  # second order


def test_path_shape_and_ends():
    path = solver.sample(lambda x, t: -x, X0, steps=7, method="heun", return_path=True)
    assert path.shape == (8, *X0.shape)
    assert torch.equal(path[0], X0)
    torch.testing.assert_close(path[-1], solver.sample(lambda x, t: -x, X0, steps=7))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="`method`"):
        solver.sample(lambda x, t: x, X0, method="rk4")
    with pytest.raises(ValueError, match="`steps`"):
        solver.sample(lambda x, t: x, X0, steps=0)
