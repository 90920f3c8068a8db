"""The DPO loss: hand-derived values, per-pair label smoothing, and TRL 1.16 agreement."""

from __future__ import annotations

import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from alignment.dpo_math import dpo_loss

# One pair: policy chosen -1, rejected -3; reference -2 for both; beta = 0.5.
PC, PR, RC, RR = (torch.tensor([x]) for x in (-1.0, -3.0, -2.0, -2.0))
L = math.log1p(math.exp(-1.0))  # -log σ(1) = 0.31326168751822286


def test_hand_derived_values():
    """Δ = (-1 - -2) - (-3 - -2) = 1 - (-1) = 2, so βΔ = 1. With L = -log σ(1) = log(1 + e⁻¹)
    and -log σ(-1) = log(1 + e) = 1 + L:

    - sigmoid, ε = 0:    L                                  = 0.313261687518...
    - sigmoid, ε = 0.25: 0.75 L + 0.25 (1 + L) = L + 0.25   = 0.563261687518...
    - ipo:               (Δ - 1/(2β))² = (2 - 1)²           = 1
    - robust, ε = 0.25:  (0.75 L - 0.25 (1 + L)) / 0.5 = L - 0.5 = -0.186738312481...
    - rewards: chosen β(-1 + 2) = 0.5, rejected β(-3 + 2) = -0.5.
    """
    out = dpo_loss(PC, PR, RC, RR, beta=0.5)
    assert out.loss.item() == pytest.approx(L, abs=1e-6)
    assert out.loss.item() == pytest.approx(0.31326168751822286, abs=1e-6)
    assert dpo_loss(PC, PR, RC, RR, beta=0.5, label_smoothing=0.25).loss.item() == \
        pytest.approx(L + 0.25, abs=1e-6)
    assert dpo_loss(PC, PR, RC, RR, beta=0.5, loss_type="ipo").loss.item() == pytest.approx(1.0)
    assert dpo_loss(PC, PR, RC, RR, beta=0.5, loss_type="robust", label_smoothing=0.25
                    ).loss.item() == pytest.approx(L - 0.5, abs=1e-6)
    assert out.chosen_rewards.tolist() == [0.5] and out.rejected_rewards.tolist() == [-0.5]
    assert out.reward_accuracy == 1.0 and out.reward_margin == pytest.approx(1.0)


def test_per_pair_label_smoothing_and_gradient():
    """Two copies of the pair with ε = 0 and 0.25: the mean is (L + (L + 0.25)) / 2."""
    policy_chosen = torch.tensor([-1.0, -1.0], requires_grad=True)
    out = dpo_loss(policy_chosen, PR.repeat(2), RC.repeat(2), RR.repeat(2), beta=0.5,
                   label_smoothing=torch.tensor([0.0, 0.25]))
    assert out.losses.tolist() == pytest.approx([L, L + 0.25], abs=1e-6)
    out.loss.backward()
    # d/dx of -(1-ε) log σ(βΔ) - ε log σ(-βΔ) at βΔ = 1, x = chosen log-prob, mean over 2:
    # β(-(1-ε)(1 - σ(1)) + ε σ(1)) / 2
    s = 1 / (1 + math.exp(-1.0))
    expected = [0.5 * (-(1 - e) * (1 - s) + e * s) / 2 for e in (0.0, 0.25)]
    assert policy_chosen.grad.tolist() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"loss_type": "robust", "label_smoothing": 0.5}, "[0, 0.5) for the `robust` loss"),
    ({"label_smoothing": -0.1}, "[0, 0.5] for the `sigmoid` loss"),
    ({"loss_type": "hinge"}, "unknown `loss_type`"),
    ({"beta": 0.0}, "`beta` must be > 0"),
])
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        dpo_loss(PC, PR, RC, RR, **kwargs)
    assert fragment in str(info.value)


def trl_loss(pc, pr, rc, rr, *, beta: float, loss_type: str, label_smoothing: float) -> float:
    """TRL 1.16's ``DPOTrainer._compute_loss`` on given sequence log-probs.

    TRL has no standalone loss function: the loss is inline in the method, after a model
    forward. We call the method on a minimal stand-in for the trainer (precomputed reference
    log-probs, so no reference model) with a fake model whose fused LM head returns one
    completion token per sequence carrying the whole sequence log-prob. Each row's
    completion mask is ``[0, 1]`` so TRL's IPO length normalization divides by 1.
    """
    from trl.trainer.dpo_trainer import DPOTrainer

    n = len(pc)
    log_probs = torch.tensor([*pc, *pr]).unsqueeze(1)  # (2n, 1): batch is [chosen, rejected]

    def fake_model(**_kwargs):
        zeros = torch.zeros(2 * n, 1)
        return SimpleNamespace(log_probs=log_probs, entropy=zeros, mean_logits=zeros,
                               is_top1=zeros.bool())

    fake_model.training = True

    def same(x):
        return x

    fake_trainer = SimpleNamespace(
        model=fake_model, accelerator=SimpleNamespace(
            device=torch.device("cpu"), gather_for_metrics=same, gather=same),
        aux_loss_enabled=False, ld_alpha=None, precompute_ref_logps=True,
        f_divergence_type="reverse_kl", loss_types=[loss_type], loss_weights=[1.0], beta=beta,
        label_smoothing=label_smoothing, use_weighting=False,
        _metrics=defaultdict(lambda: defaultdict(list)), _total_train_tokens=0, _tp_size=1)
    inputs = {
        "input_ids": torch.zeros(2 * n, 2, dtype=torch.long),
        "attention_mask": torch.ones(2 * n, 2, dtype=torch.long),
        "completion_mask": torch.tensor([[0, 1]] * (2 * n)),
        "ref_chosen_logps": torch.tensor(rc), "ref_rejected_logps": torch.tensor(rr),
    }
    return DPOTrainer._compute_loss(fake_trainer, fake_model, inputs, False).item()


@pytest.mark.parametrize("loss_type, eps", [("sigmoid", 0.0), ("ipo", 0.0), ("robust", 0.1)])
def test_matches_trl_dpo_trainer(loss_type, eps):
    pytest.importorskip("trl")
    pc, pr, rc, rr = [-1.0, -4.5, -2.0], [-3.0, -4.0, -2.5], [-2.0, -4.0, -1.0], [-2.0, -3.5, -3.0]
    ours = dpo_loss(*(torch.tensor(x) for x in (pc, pr, rc, rr)), beta=0.3,
                    loss_type=loss_type, label_smoothing=eps).loss.item()
    theirs = trl_loss(pc, pr, rc, rr, beta=0.3, loss_type=loss_type, label_smoothing=eps)
    assert ours == pytest.approx(theirs, abs=1e-6)
