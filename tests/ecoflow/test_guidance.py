"""GuidedFlowSampler: the sign and size of the push, the zero-guidance steps, GP guidance."""

import pytest
import torch

from ecoflow.guidance import GuidedFlowSampler
from ecoflow.model import GaussianFlow
from ecoflow.surrogate import GPSurrogate

W = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)


class StillFlow:
    """A flow whose velocity is zero: only guidance moves the state."""

    dim = 3
    mean = torch.zeros(3, dtype=torch.float64)

    def __call__(self, z, t):
        return torch.zeros_like(z)

    def normalize(self, x):
        return x

    def denormalize(self, z):
        return z


def linear_acquisition(z):
    return z @ W  # gradient W everywhere


@pytest.mark.parametrize("method", ["euler", "heun"])
@pytest.mark.parametrize(
    ("steps", "zero_fraction", "zero_steps"),
    [(50, 0.04, 2), (10, 0.04, 1), (25, 0.0, 0), (8, 0.5, 4)],
)
def test_constant_push_closed_form(method, steps, zero_fraction, zero_steps):
    """Zero velocity + gradient W: z(1) = z0 + lambda W (steps - K) / steps, K unguided steps."""
    sampler = GuidedFlowSampler(
        StillFlow(), scale=0.7, zero_fraction=zero_fraction, steps=steps, method=method
    )
    assert sampler.zero_steps == zero_steps
    z0 = torch.randn(4, 3, dtype=torch.float64)
    out = sampler.sample(z0, linear_acquisition)
    torch.testing.assert_close(out, z0 + 0.7 * W * (steps - zero_steps) / steps)


def test_schedule_closed_form():
    """lambda(t) = t after K = 2 of 10 steps: Heun integrates it exactly, (1 - 0.2^2) / 2."""
    sampler = GuidedFlowSampler(StillFlow(), scale=lambda t: t, zero_fraction=0.2, steps=10)
    z0 = torch.zeros(1, 3, dtype=torch.float64)
    torch.testing.assert_close(sampler.sample(z0, linear_acquisition)[0], W * (1 - 0.04) / 2)


def test_no_guidance_during_zero_fraction():
    flow = GaussianFlow(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    guided = GuidedFlowSampler(flow, scale=1.0, zero_fraction=0.04, steps=50)
    plain = GuidedFlowSampler(flow, scale=0.0, zero_fraction=0.04, steps=50)
    z0 = torch.randn(16, 3, dtype=torch.float64)
    a = guided.sample(z0, linear_acquisition, return_path=True)
    b = plain.sample(z0, linear_acquisition, return_path=True)
    assert torch.equal(a[:3], b[:3])  # t = 0, 0.02, 0.04: the two unguided steps
    assert not torch.allclose(a[3], b[3])
    torch.testing.assert_close(b, plain.sample(z0, None, return_path=True))


def test_gp_guidance_moves_samples_up_the_surrogate():
    """GP fitted on y = <W, z> over data-like points; guidance raises the surrogate value of
    the samples and moves them along W, starting from the same noise."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, 3, generator=g, dtype=torch.float64)
    y = x @ W
    gp = GPSurrogate(beta=1.0).fit(x, y)
    flow = GaussianFlow(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    z0 = torch.randn(64, 3, generator=g, dtype=torch.float64)
    plain = GuidedFlowSampler(flow, steps=20).sample(z0)
    acquisition = lambda z: gp.confidence_bound(z, standardized=True)  # noqa: E731
    guided = GuidedFlowSampler(flow, scale=1.0, steps=20).sample(z0, acquisition)
    gain = gp.confidence_bound(guided) - gp.confidence_bound(plain)
    assert (gain > 0).all()
    assert gain.mean() > y.std()  # on average more than one std of the scores up (2.9 vs 2.1)
    shift = (guided - plain) @ (W / W.norm())
    assert (shift > 0).all()


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="`zero_fraction`"):
        GuidedFlowSampler(StillFlow(), zero_fraction=1.5)
    with pytest.raises(ValueError, match="`method`"):
        GuidedFlowSampler(StillFlow(), method="rk4")
