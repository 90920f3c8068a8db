"""Pareto fronts over mixed max/min objectives: non-dominated set, hypervolume, crowding.

BoTorch does the work (``is_non_dominated`` and the ``Hypervolume`` dimension sweep, both
of which assume maximization); this module only flips minimized objectives so that callers
can say ``("max", "min")`` and pass plain lists. No ``ray`` here.

Points are ``n x m``: ``n`` trials, ``m`` objectives, in the order of ``directions``.

Noise (:func:`noise_dominators`): with standard errors ``s`` per point and objective, point
``j`` dominates point ``i`` *within noise* when, writing every objective as maximized and
``sigma_k = sqrt(s_ik^2 + s_jk^2)`` (the standard error of the difference),

- ``j`` is nowhere worse than ``i`` by more than ``z * sigma_k`` (``z`` = 2), and
- ``j`` is better than ``i`` by more than ``z * sigma_k`` in at least one objective.

So ``i``'s advantages over ``j`` are all within the noise while ``j`` has a real one. A front
point with such a ``j`` is on the front only through noise ("within noise"); with all SEMs
zero the rule is plain dominance, so no front point is marked. Unknown SEMs count as 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from botorch.utils.multi_objective.hypervolume import Hypervolume
from botorch.utils.multi_objective.pareto import is_non_dominated

Direction = Literal["max", "min"]
Points = Sequence[Sequence[float]]

__all__ = [
    "Direction",
    "crowding_distance",
    "hypervolume",
    "noise_dominators",
    "non_dominated_mask",
    "pareto_indices",
]


def _as_maximization(points: Points, directions: Sequence[Direction]) -> torch.Tensor:
    """Return an ``n x m`` double tensor in which every objective is maximized.

    Raises:
        ValueError: If a direction is not "max"/"min", the widths disagree, or a value is
            not finite (filter failed trials out before building a front).
    """
    for d in directions:
        if d not in ("max", "min"):
            raise ValueError(f"`directions` entries must be 'max' or 'min', got {d!r}.")
    m = len(directions)
    if any(len(p) != m for p in points):
        raise ValueError(f"every point needs {m} values (one per direction), got {points!r}.")
    y = torch.tensor([list(p) for p in points], dtype=torch.double).reshape(-1, m)
    if not torch.isfinite(y).all():
        raise ValueError("`points` must be finite; drop failed or unmeasured trials first.")
    signs = torch.tensor([1.0 if d == "max" else -1.0 for d in directions], dtype=y.dtype)
    return y * signs


def non_dominated_mask(points: Points, directions: Sequence[Direction]) -> list[bool]:
    """Mark the points that no other point dominates.

    ``a`` dominates ``b`` when ``a`` is at least as good in every objective and strictly
    better in one. Exact duplicates do not dominate each other, so both stay on the front.

    Args:
        points: ``n x m`` objective values.
        directions: ``m`` entries, "max" or "min".

    Returns:
        ``n`` booleans, True for non-dominated points.
    """
    if len(points) == 0:
        return []
    y = _as_maximization(points, directions)
    return is_non_dominated(y, maximize=True, deduplicate=False).tolist()


def pareto_indices(points: Points, directions: Sequence[Direction]) -> list[int]:
    """Indices (ascending) of the non-dominated points; see :func:`non_dominated_mask`."""
    return [i for i, keep in enumerate(non_dominated_mask(points, directions)) if keep]


def hypervolume(
    points: Points, directions: Sequence[Direction], ref_point: Sequence[float]
) -> float:
    """Volume dominated by ``points`` and bounded by ``ref_point``.

    Points that do not strictly beat the reference point in every objective add nothing.
    Dominated points are dropped before BoTorch's sweep.

    Args:
        points: ``n x m`` objective values (may be empty).
        directions: ``m`` entries, "max" or "min".
        ref_point: ``m`` values in the objectives' own units and signs (e.g. the worst
            acceptable accuracy and the slowest acceptable latency).

    Returns:
        The hypervolume, 0.0 when no point beats the reference point.
    """
    if len(ref_point) != len(directions):
        raise ValueError(
            f"`ref_point` has {len(ref_point)} values but there are {len(directions)} "
            "objectives; give one reference value per objective."
        )
    if len(points) == 0:
        return 0.0
    y = _as_maximization(points, directions)
    ref = _as_maximization([ref_point], directions)[0]
    y = y[(y > ref).all(dim=-1)]
    if y.shape[0] == 0:
        return 0.0
    y = y[is_non_dominated(y, maximize=True, deduplicate=True)]
    return float(Hypervolume(ref_point=ref).compute(y))


def noise_dominators(
    points: Points,
    sems: Sequence[Sequence[float | None]],
    directions: Sequence[Direction],
    z: float = 2.0,
) -> list[list[int]]:
    """For each point, the indices of the points that dominate it within noise (module doc).

    Args:
        points: ``n x m`` objective values.
        sems: ``n x m`` standard errors (None or non-finite: unknown, counted as 0).
        directions: ``m`` entries, "max" or "min".
        z: How many standard errors of the difference make it real.

    Returns:
        ``n`` lists of indices (ascending).
    """
    if len(sems) != len(points):
        raise ValueError(f"`sems` needs one row per point ({len(points)}), got {len(sems)}.")
    if len(points) == 0:
        return []
    y = _as_maximization(points, directions)
    s = torch.tensor([[float(v) if v is not None and math.isfinite(v) else 0.0 for v in row]
                      for row in sems], dtype=torch.double).reshape(y.shape)
    diff = y.unsqueeze(0) - y.unsqueeze(1)  # [i, j, k] = y_j - y_i
    margin = z * (s.unsqueeze(0) ** 2 + s.unsqueeze(1) ** 2).sqrt()
    dominated = (diff >= -margin).all(dim=-1) & (diff > margin).any(dim=-1)
    return [torch.nonzero(row).flatten().tolist() for row in dominated]


def crowding_distance(points: Points) -> list[float]:
    """NSGA-II crowding distance of each point within one front.

    For each objective the points are sorted by value; the two boundary points get
    ``inf`` and each interior point adds ``(next - previous) / (max - min)``. An objective
    whose values are all equal adds nothing. Direction does not matter.

    Args:
        points: ``n x m`` objective values of the points of one front.

    Returns:
        ``n`` distances; all ``inf`` when ``n <= 2``.
    """
    n = len(points)
    if n == 0:
        return []
    m = len(points[0])
    dist = [0.0] * n
    for k in range(m):
        order = sorted(range(n), key=lambda i: points[i][k])
        lo, hi = points[order[0]][k], points[order[-1]][k]
        dist[order[0]] = dist[order[-1]] = math.inf
        if hi == lo:
            continue
        for j in range(1, n - 1):
            i = order[j]
            dist[i] += (points[order[j + 1]][k] - points[order[j - 1]][k]) / (hi - lo)
    return dist
