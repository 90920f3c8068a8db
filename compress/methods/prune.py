"""Unstructured and 2:4 pruning of a causal LM's ``Linear`` layers (not the output head).

- Magnitude: zero the smallest ``|W|`` of each layer.
- Wanda (Sun et al., 2023, "A Simple and Effective Pruning Approach for LLMs"): score
  ``|W_ij| * ||X_j||_2`` with ``X`` the layer's calibration inputs and zero the lowest scores
  of each output row. One-shot: all input norms come from one pass of the dense model.
- 2:4: in every 4 consecutive input weights of a row keep the 2 best scores (magnitude, or
  Wanda scores when given) — the pattern sparse tensor cores run.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from compress.methods.layers import quantizable_linears


def _zero_lowest(w: torch.Tensor, scores: torch.Tensor, sparsity: float, per_row: bool) -> None:
    if sparsity <= 0.0:
        return
    if per_row:
        k = int(w.shape[1] * sparsity)
        if k:
            idx = torch.topk(scores, k, dim=1, largest=False).indices
            w.scatter_(1, idx, 0.0)
        return
    k = int(w.numel() * sparsity)
    if k:
        idx = torch.topk(scores.flatten(), k, largest=False).indices
        w.view(-1)[idx] = 0.0


def _check_sparsity(sparsity: float) -> None:
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"`sparsity` must be in [0, 1), got {sparsity}.")


@torch.no_grad()
def magnitude_prune_(model: nn.Module, sparsity: float) -> None:
    """Zero the fraction ``sparsity`` of smallest-magnitude weights of each layer."""
    _check_sparsity(sparsity)
    for layer in quantizable_linears(model).values():
        w = layer.weight
        _zero_lowest(w, w.abs(), sparsity, per_row=False)


@torch.no_grad()
def input_norms(model: nn.Module, batches: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """``||X_j||_2`` over all calibration tokens, per input feature of each layer.

    Args:
        model: The dense model.
        batches: ``batch x seq`` token-id tensors.
    """
    layers = quantizable_linears(model)
    sq: dict[str, torch.Tensor] = {n: torch.zeros(m.in_features) for n, m in layers.items()}

    def hook(name: str):
        def fn(_module: nn.Module, args: tuple[torch.Tensor, ...], _out: torch.Tensor) -> None:
            x = args[0].detach().float().reshape(-1, args[0].shape[-1])
            sq[name] += (x * x).sum(dim=0).cpu()
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    try:
        device = next(model.parameters()).device
        for ids in batches:
            model(input_ids=ids.to(device))
    finally:
        for h in handles:
            h.remove()
    return {n: v.sqrt() for n, v in sq.items()}


def wanda_scores(model: nn.Module, norms: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``|W| * ||X||`` for each layer (norms broadcast along the input dimension)."""
    out = {}
    for name, layer in quantizable_linears(model).items():
        if name not in norms:
            raise ValueError(f"no calibration norms for layer `{name}`; run input_norms first.")
        w = layer.weight
        out[name] = w.abs().float() * norms[name].to(w.device).reshape(1, -1)
    return out


@torch.no_grad()
def wanda_prune_(model: nn.Module, sparsity: float, norms: Mapping[str, torch.Tensor]) -> None:
    """Wanda: zero the lowest ``|W| * ||X||`` scores in each output row."""
    _check_sparsity(sparsity)
    scores = wanda_scores(model, norms)
    for name, layer in quantizable_linears(model).items():
        _zero_lowest(layer.weight, scores[name], sparsity, per_row=True)


@torch.no_grad()
def nm_prune_(model: nn.Module, n: int = 2, m: int = 4,
              scores: Mapping[str, torch.Tensor] | None = None) -> None:
    """Keep ``n`` of every ``m`` consecutive input weights per row (default 2:4).

    Raises:
        ValueError: If a layer's input width is not a multiple of ``m``.
    """
    if not 0 < n < m:
        raise ValueError(f"N:M pruning needs 0 < n < m, got {n}:{m}.")
    for name, layer in quantizable_linears(model).items():
        w = layer.weight
        rows, cols = w.shape
        if cols % m:
            raise ValueError(f"layer `{name}` has {cols} inputs, not a multiple of {m}: "
                             f"{n}:{m} pruning does not apply.")
        s = (scores[name] if scores is not None else w.abs()).reshape(rows, cols // m, m)
        drop = torch.topk(s, m - n, dim=-1, largest=False).indices
        w.view(rows, cols // m, m).scatter_(-1, drop, 0.0)


def sparsity_of(model: nn.Module) -> float:
    """Fraction of exact zeros over the prunable layers' weights."""
    zeros = total = 0
    for layer in quantizable_linears(model).values():
        zeros += int((layer.weight == 0).sum())
        total += layer.weight.numel()
    return zeros / max(total, 1)
