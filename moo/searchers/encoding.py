"""A search space's own encoding: unit-cube points → configs, scrambled Sobol designs, and a
distance between configs. No ``ray`` here.

Encoding: one unit coordinate per parameter, in declaration order. A choice parameter with
``k`` values maps ``u`` to value ``floor(u * k)``; a range maps ``u`` linearly (or on a log
scale) onto ``[low, high]``, rounded for integers and, optionally, to a ``step``. A
coordinate whose parameter is inactive (its ``when`` parent took another value) is ignored,
so every decoded point is a valid config of the conditional space.

Distance (:func:`config_distance`), summed over parameters:

- active in both configs: a categorical mismatch (strings, booleans) counts 1; a numeric
  parameter (a range, or choices that are all numbers) counts ``|a - b| / (high - low)``
  over its range (its smallest to largest choice);
- active in one only: 1 (a parameter that exists is a different compression);
- inactive in both: 0.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from moo.searchers.problem import Param


def config_key(config: Mapping[str, Any]) -> str:
    """A canonical key of an (active) config: equal keys are the same compression."""
    return json.dumps(dict(config), sort_keys=True, default=str)


def is_numeric(p: Param) -> bool:
    """A range, or a choice parameter whose values are all numbers (not booleans)."""
    if p.choices is None:
        return True
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in p.choices)


def _span(p: Param) -> tuple[float, float]:
    if p.choices is None:
        return float(p.low), float(p.high)
    return float(min(p.choices)), float(max(p.choices))  # type: ignore[type-var]


def param_distance(p: Param, a: Any, b: Any) -> float:
    """Distance of two values of one active parameter (see the module doc)."""
    if not is_numeric(p):
        return 0.0 if a == b else 1.0
    lo, hi = _span(p)
    return abs(float(a) - float(b)) / (hi - lo)


def config_distance(params: Sequence[Param], a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Distance between two active configs (see the module doc); 0 only for the same one."""
    total = 0.0
    for p in params:
        if p.name in a and p.name in b:
            total += param_distance(p, a[p.name], b[p.name])
        elif p.name in a or p.name in b:
            total += 1.0
    return total


def decode(params: Sequence[Param], u: Sequence[float],
           steps: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The active config at unit point ``u`` (one coordinate per parameter).

    Args:
        params: The parameters, parents before children.
        u: ``len(params)`` values in ``[0, 1)``.
        steps: Optional grid steps of range parameters (``{"sparsity": 0.05}``).

    Raises:
        ValueError: If ``u`` has the wrong length.
    """
    if len(u) != len(params):
        raise ValueError(f"a unit point needs {len(params)} coordinates, got {len(u)}.")
    steps = steps or {}
    out: dict[str, Any] = {}
    for p, x in zip(params, u, strict=True):
        if not p.is_active(out):
            continue
        x = min(max(float(x), 0.0), math.nextafter(1.0, 0.0))
        if p.choices is not None:
            out[p.name] = p.choices[int(x * len(p.choices))]
            continue
        lo, hi = float(p.low), float(p.high)
        value = lo * (hi / lo) ** x if p.log else lo + x * (hi - lo)
        if p.name in steps:
            step = float(steps[p.name])
            value = min(max(round(value / step) * step, lo), hi)
            value = round(value, 10)  # 0.30000000000000004 → 0.3: one key per grid level
        out[p.name] = int(round(value)) if p.integer else value
    return out


def sobol_points(dim: int, n: int, seed: int, skip: int = 0) -> list[list[float]]:
    """``n`` points of a scrambled Sobol sequence in ``[0, 1)^dim`` (after ``skip``)."""
    import torch
    from torch.quasirandom import SobolEngine

    engine = SobolEngine(dimension=dim, scramble=True, seed=seed)
    if skip:
        engine.fast_forward(skip)
    return engine.draw(n, dtype=torch.double).tolist()


def sobol_configs(params: Sequence[Param], n: int, seed: int,
                  steps: Mapping[str, float] | None = None, skip: int = 0) -> list[dict[str, Any]]:
    """``n`` decoded scrambled-Sobol configs (duplicates kept: callers decide)."""
    return [decode(params, u, steps) for u in sobol_points(len(params), n, seed, skip)]


def iter_sobol_configs(params: Sequence[Param], seed: int, batch: int = 64,
                       steps: Mapping[str, float] | None = None,
                       limit: int = 1 << 14) -> Iterator[dict[str, Any]]:
    """Decoded configs of one Sobol sequence, drawn in batches, at most ``limit``."""
    done = 0
    while done < limit:
        yield from sobol_configs(params, min(batch, limit - done), seed, steps, skip=done)
        done += batch


def nearest(params: Sequence[Param], target: Mapping[str, Any],
            candidates: Sequence[Mapping[str, Any]]) -> tuple[int, float]:
    """Index and distance of the candidate nearest ``target`` (the first one on ties).

    Raises:
        ValueError: If there are no candidates.
    """
    if not candidates:
        raise ValueError("no candidates to choose the nearest config from.")
    best, best_d = 0, math.inf
    for i, c in enumerate(candidates):
        d = config_distance(params, target, c)
        if d < best_d:
            best, best_d = i, d
    return best, best_d
