"""The DPO loss as a pure function of sequence log-probabilities.

With ``Δ = (log π(y_w|x) - log π_ref(y_w|x)) - (log π(y_l|x) - log π_ref(y_l|x))``:

- ``sigmoid`` (Rafailov et al. 2023; with ε > 0 the conservative cDPO of Mitchell 2023):
  ``-(1 - ε) log σ(βΔ) - ε log σ(-βΔ)``;
- ``ipo`` (Azar et al. 2023, eq. 17): ``(Δ - 1 / (2β))²``;
- ``robust`` (Chowdhury et al. 2024, rDPO, unbiased under label noise ε < 0.5):
  ``((1 - ε)(-log σ(βΔ)) - ε(-log σ(-βΔ))) / (1 - 2ε)``.

ε is the label-smoothing, a float or one value per pair (``1 - confidence`` of the judge,
see :class:`alignment.pairs.PreferencePair`). The implicit rewards are
``β (log π - log π_ref)`` of each side. The same formulas as TRL 1.16's ``DPOTrainer``, with
two differences: TRL's ``sigmoid`` ignores label smoothing (ours applies cDPO), and TRL's
``ipo`` divides each side's log-ratio by its completion length first (pass per-token mean
log-probs here to get that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

LossType = Literal["sigmoid", "ipo", "robust"]


@dataclass(frozen=True)
class DPOLoss:
    """The loss and what DPO training logs (all shapes ``(batch,)`` except ``loss``).

    Attributes:
        loss: the mean of ``losses`` (a scalar tensor, differentiable).
        losses: per-pair losses.
        chosen_rewards: ``β (log π(y_w) - log π_ref(y_w))``, detached.
        rejected_rewards: ``β (log π(y_l) - log π_ref(y_l))``, detached.
    """

    loss: torch.Tensor
    losses: torch.Tensor
    chosen_rewards: torch.Tensor
    rejected_rewards: torch.Tensor

    @property
    def reward_accuracy(self) -> float:
        """Fraction of pairs whose chosen reward beats the rejected one."""
        return (self.chosen_rewards > self.rejected_rewards).float().mean().item()

    @property
    def reward_margin(self) -> float:
        """Mean of ``chosen_rewards - rejected_rewards``."""
        return (self.chosen_rewards - self.rejected_rewards).mean().item()


def _check_smoothing(eps: torch.Tensor, loss_type: LossType) -> None:
    high_ok = (eps < 0.5) if loss_type == "robust" else (eps <= 0.5)
    if not bool(((eps >= 0) & high_ok).all()):
        bound = "[0, 0.5)" if loss_type == "robust" else "[0, 0.5]"
        raise ValueError(f"`label_smoothing` must lie in {bound} for the `{loss_type}` loss; "
                         f"got {eps.tolist()}. Use 1 - confidence with confidence > 0.5.")


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    reference_chosen: torch.Tensor,
    reference_rejected: torch.Tensor,
    *,
    beta: float = 0.1,
    loss_type: LossType = "sigmoid",
    label_smoothing: float | torch.Tensor = 0.0,
) -> DPOLoss:
    """The DPO loss of a batch of pairs.

    Args:
        policy_chosen: ``(batch,)`` summed log-probs of the chosen responses under the policy.
        policy_rejected: ``(batch,)`` the same for the rejected responses.
        reference_chosen: ``(batch,)`` chosen log-probs under the frozen reference.
        reference_rejected: ``(batch,)`` rejected log-probs under the reference.
        beta: the KL strength β (for ``ipo``, the regularizer τ).
        loss_type: ``sigmoid``, ``ipo`` or ``robust``.
        label_smoothing: ε, a float or a ``(batch,)`` tensor (ignored by ``ipo``).

    Returns:
        A :class:`DPOLoss`.
    """
    if beta <= 0:
        raise ValueError(f"`beta` must be > 0, got {beta}.")
    chosen_ratio = policy_chosen - reference_chosen
    rejected_ratio = policy_rejected - reference_rejected
    delta = chosen_ratio - rejected_ratio
    eps = torch.as_tensor(label_smoothing, dtype=delta.dtype, device=delta.device)
    if loss_type == "ipo":
        losses = (delta - 1.0 / (2.0 * beta)) ** 2
    elif loss_type in ("sigmoid", "robust"):
        _check_smoothing(eps, loss_type)
        clean = -F.logsigmoid(beta * delta)  # the loss if the label is right
        flipped = -F.logsigmoid(-beta * delta)  # the loss if it is wrong
        if loss_type == "sigmoid":
            losses = (1 - eps) * clean + eps * flipped
        else:
            losses = ((1 - eps) * clean - eps * flipped) / (1 - 2 * eps)
    else:
        raise ValueError(f"unknown `loss_type` {loss_type!r}; use sigmoid, ipo or robust.")
    return DPOLoss(losses.mean(), losses, beta * chosen_ratio.detach(),
                   beta * rejected_ratio.detach())
