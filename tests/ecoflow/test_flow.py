"""Flow matching: the path, the loss's closed-form minimum, normalization, learning a mixture."""

import math

import torch

from ecoflow.model import FlowMatchingModel, flow_matching_loss, gaussian_velocity, linear_path


def test_linear_path_ends_and_velocity():
    x0, x1 = torch.randn(5, 3), torch.randn(5, 3)
    t = torch.tensor([0.0, 1.0, 0.5, 0.25, 0.75])
    p = linear_path(x0, x1, t)
    torch.testing.assert_close(p.x_t[0], x0[0])
    torch.testing.assert_close(p.x_t[1], x1[1])
    torch.testing.assert_close(p.x_t[2], (x0[2] + x1[2]) / 2)
    torch.testing.assert_close(p.dx_t, x1 - x0)


def test_loss_of_exact_velocity_is_pi_over_two():
    """Minimum of the conditional FM loss when the data are N(0, I).

    Per coordinate, u = x1 - x0 and x_t = (1-t) x0 + t x1 are jointly Gaussian with
    Var u = 2, Var x_t = (1-t)^2 + t^2 and Cov = 2t - 1, so the exact velocity leaves
    Var(u | x_t) = 2 - (2t-1)^2 / ((1-t)^2 + t^2). With s = 2t - 1 that is
    2 - 2 s^2 / (1 + s^2); averaged over t ~ U[0, 1] (s ~ U[-1, 1]):
    2 - (2 - pi/2) = pi/2.
    """
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(200_000, 2, generator=g, dtype=torch.float64)
    loss = flow_matching_loss(gaussian_velocity, x1, generator=g)
    assert abs(loss.item() - math.pi / 2) < 0.01


def test_normalization_round_trip_and_checkpoint():
    data = torch.randn(100, 4) * torch.tensor([1.0, 2.0, 0.1, 5.0]) + 3.0
    model = FlowMatchingModel(dim=4, width=16, depth=1)
    model.set_normalization(data)
    z = model.normalize(data)
    torch.testing.assert_close(z.mean(0), torch.zeros(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(0), torch.ones(4), atol=1e-5, rtol=0)
    torch.testing.assert_close(model.denormalize(z), data)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()  # so the comparison below is not between two zero outputs
    clone = FlowMatchingModel.from_checkpoint(model.to_checkpoint())
    torch.testing.assert_close(clone.mean, model.mean)
    torch.testing.assert_close(clone.std, model.std)
    t = torch.rand(100)
    torch.testing.assert_close(clone(z, t), model(z, t))


def _mixture(n: int, g: torch.Generator) -> torch.Tensor:
    """Two equally likely components N((-2, -1), 0.25 I) and N((2, 1), 0.25 I).

    Mean 0; covariance 0.25 I + E[m m^T] = [[4.25, 2], [2, 1.25]].
    """
    means = torch.tensor([[-2.0, -1.0], [2.0, 1.0]])
    return means[torch.randint(0, 2, (n,), generator=g)] + 0.5 * torch.randn(n, 2, generator=g)


def test_learns_two_dimensional_gaussian_mixture():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    data = _mixture(20_000, g)
    model = FlowMatchingModel(dim=2, width=32, depth=2)
    model.set_normalization(data)
    steps = 600
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps)
    for _ in range(steps):
        batch = data[torch.randint(0, len(data), (256,), generator=g)]
        loss = model.loss(batch, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()

    samples = model.sample(2000, steps=20, method="heun", generator=g)
    true_cov = torch.tensor([[4.25, 2.0], [2.0, 1.25]])
    assert samples.mean(0).abs().max() < 0.15
    assert torch.linalg.norm(torch.cov(samples.T) - true_cov) / torch.linalg.norm(true_cov) < 0.1
    right = samples[:, 0] > 0  # the two modes are separated by the line x = 0
    assert 0.45 < right.float().mean() < 0.55
    spread = (samples[right] - torch.tensor([2.0, 1.0])).std(0)
    assert ((spread - 0.5).abs() < 0.08).all()  # each mode has the right width, not a blur
