"""Summaries of repeated measurements: median, spread and standard error. No ``ray`` here."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def repeat_stats(name: str, values: Sequence[float]) -> dict[str, float | int | None]:
    """``name`` (the median of the finite values) with ``_min``, ``_max``, ``_sem`` and ``_n``.

    The SEM is the sample standard deviation over ``sqrt(n)``; None with fewer than two
    finite values (one repeat has no spread). With no finite value every field is NaN
    (``_sem`` None): the measurement failed, and says so.

    Example: ``repeat_stats("x", [1.0, 2.0, 4.0])`` gives ``x`` 2.0, ``x_min`` 1.0,
    ``x_max`` 4.0, ``x_sem`` sqrt(7/3)/sqrt(3) = 0.882 and ``x_n`` 3.
    """
    ok = [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]
    if not ok:
        return {name: math.nan, f"{name}_min": math.nan, f"{name}_max": math.nan,
                f"{name}_sem": None, f"{name}_n": 0}
    sem = statistics.stdev(ok) / math.sqrt(len(ok)) if len(ok) > 1 else None
    return {name: statistics.median(ok), f"{name}_min": min(ok), f"{name}_max": max(ok),
            f"{name}_sem": sem, f"{name}_n": len(ok)}
