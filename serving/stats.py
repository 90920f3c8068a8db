"""Honest numbers for a final report: accuracy with a 95% interval and a paired bootstrap.

Both work on per-example 0/1 correctness vectors, the unit the evaluator records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z_95 = 1.959963984540054  # the 97.5% quantile of the standard normal
_CHUNK = 1_000


@dataclass(frozen=True)
class Accuracy:
    """An accuracy and its Wilson score interval.

    Attributes:
        correct: number of correct examples.
        n: number of examples.
        value: ``correct / n``.
        low: lower end of the interval.
        high: upper end of the interval.
    """

    correct: int
    n: int
    value: float
    low: float
    high: float


def wilson_interval(correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion ``correct / n``.

    Unlike the normal (Wald) interval it stays inside [0, 1] and is not empty at 0 or n.

    Raises:
        ValueError: when ``n < 1`` or ``correct`` is not in ``[0, n]``.
    """
    if n < 1:
        raise ValueError(f"`n` must be at least 1 to give an interval, got {n}.")
    if not 0 <= correct <= n:
        raise ValueError(f"`correct` must be between 0 and n={n}, got {correct}.")
    p = correct / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


def accuracy(outcomes: Sequence[int | bool], z: float = Z_95) -> Accuracy:
    """Accuracy of a 0/1 vector with its Wilson interval (95% by default)."""
    correct, n = int(sum(bool(x) for x in outcomes)), len(outcomes)
    low, high = wilson_interval(correct, n, z)
    return Accuracy(correct=correct, n=n, value=correct / n, low=low, high=high)


@dataclass(frozen=True)
class PairedBootstrap:
    """The paired bootstrap of ``mean(a) - mean(b)`` over the same examples.

    Attributes:
        mean_diff: observed ``mean(a) - mean(b)``.
        low: lower end of the percentile interval.
        high: upper end of the percentile interval.
        p_value: fraction of resamples where ``a`` does not beat ``b`` (difference <= 0): a
            one-sided, p-value-like measure of "a is better than b".
        n_resamples: how many resamples were drawn.
    """

    mean_diff: float
    low: float
    high: float
    p_value: float
    n_resamples: int


def paired_bootstrap(
    a: Sequence[int | bool],
    b: Sequence[int | bool],
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedBootstrap:
    """Bootstraps the accuracy difference of two systems scored on the same examples.

    Each resample draws ``len(a)`` example indices with replacement and takes the mean of
    ``a[i] - b[i]`` over them, so the pairing (same question for both systems) is kept.

    Args:
        a: per-example 0/1 correctness of the first system (e.g. the best instruction).
        b: the same for the second system (e.g. the baseline), in the same example order.
        n_resamples: number of bootstrap resamples.
        confidence: the two-sided level of the percentile interval.
        seed: seeds ``numpy.random.default_rng``.

    Raises:
        ValueError: for vectors of different or zero length, or a bad level or count.
    """
    if len(a) != len(b) or not a:
        raise ValueError(f"`a` and `b` must be non-empty and paired, got {len(a)} and {len(b)}.")
    if not 0 < confidence < 1 or n_resamples < 1:
        raise ValueError("`confidence` must be in (0, 1) and `n_resamples` at least 1.")
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, _CHUNK):  # chunks bound memory at n x _CHUNK indices
        rows = min(_CHUNK, n_resamples - start)
        idx = rng.integers(0, len(diffs), size=(rows, len(diffs)))
        means[start : start + rows] = diffs[idx].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return PairedBootstrap(
        mean_diff=float(diffs.mean()),
        low=float(low),
        high=float(high),
        p_value=float(np.mean(means <= 0)),
        n_resamples=n_resamples,
    )
