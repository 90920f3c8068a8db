"""VelocityNetwork: shapes, time conditioning, adaLN-Zero initialization and its training dynamics."""

import pytest
import torch

from ecoflow.model.velocity import VelocityNetwork, sinusoidal_embedding


def test_sinusoidal_embedding_values():
    """dim 5: half = 2 frequencies 1 and 10000^(-1/2) = 0.01, then a zero pad column."""
    emb = sinusoidal_embedding(torch.tensor([0.0, 1.0]), dim=5)
    torch.testing.assert_close(emb[0], torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0]))
    f = torch.tensor([1.0, 0.01])
    torch.testing.assert_close(emb[1], torch.cat([f.cos(), f.sin(), torch.zeros(1)]))


def test_shapes_and_zero_output_at_init():
    net = VelocityNetwork(dim=7, width=16, depth=3)
    x = torch.randn(4, 7)
    out = net(x, torch.rand(4))
    assert out.shape == (4, 7)
    assert torch.equal(out, torch.zeros(4, 7))  # adaLN-Zero: output layer starts at zero


def test_time_forms_agree_and_time_matters():
    torch.manual_seed(0)
    net = VelocityNetwork(dim=3, width=8, depth=2)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.5)
    x = torch.randn(5, 3)
    a = net(x, 0.3)
    torch.testing.assert_close(a, net(x, torch.tensor(0.3)))
    torch.testing.assert_close(a, net(x, torch.full((5,), 0.3)))
    assert not torch.allclose(a, net(x, 0.7))


def test_every_parameter_trains_within_three_steps():
    """adaLN-Zero dynamics: step 1 moves only the output layer (everything upstream is
    multiplied by its zero weights); step 2 reaches the modulations, the input layer and the
    time MLP; step 3 the block MLPs (their gates became non-zero in step 2)."""
    torch.manual_seed(0)
    net = VelocityNetwork(dim=4, width=8, depth=2, frequency_dim=16)
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    x, t, target = torch.randn(32, 4), torch.rand(32), torch.randn(32, 4)
    for _ in range(3):
        loss = ((net(x, t) - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    unchanged = [n for n, p in net.named_parameters() if torch.equal(p, before[n])]
    assert unchanged == []


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="`dim`"):
        VelocityNetwork(dim=0)
