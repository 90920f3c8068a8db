"""Searching a recorded table instead of measuring: the core of ``benchmarks/compress_replay.py``.

A table is a ``grid.json`` written by ``python -m compress grid`` (or a synthetic one with
the same keys): ``problem`` (:meth:`SearchProblem.to_dict`), ``rows`` (each ``params`` and
``metrics``, ``status`` "ok"), optional ``baseline`` and ``standard`` configs. A proposal is
answered by the row with the same active config, else by the nearest row under the space's
distance (:func:`moo.searchers.encoding.config_distance`); such answers are counted.
Hypervolume is measured against the problem's reference point over feasible answered rows
(the baseline, which every search measures first, included), as a fraction of the table's
own maximum (every feasible row). No ``ray`` here.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compress.experiment import violated
from moo.pareto import hypervolume
from moo.searchers.encoding import config_key, nearest
from moo.searchers.problem import SearchProblem


@dataclass
class Answer:
    """How a proposal was answered: the row, and whether it was an exact match."""

    row: int
    exact: bool
    distance: float


@dataclass
class ReplayTable:
    """Recorded measurements of a fixed design.

    Attributes:
        problem: Parameters, objectives (with reference values) and constraints.
        rows: ``{"params": active config, "metrics": {...}}`` of each measured config.
        baseline: The uncompressed model's row (counted in every hypervolume), if recorded.
        standard: The standard configs (the searches' warm start).
        source: Where the table came from (for reports).
    """

    problem: SearchProblem
    rows: list[dict[str, Any]]
    baseline: dict[str, Any] | None = None
    standard: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        if not self.rows:
            raise ValueError(f"replay table {self.source or ''} has no measured rows.")
        self._keys = {config_key(self.problem.active(r["params"])): i
                      for i, r in enumerate(self.rows)}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], source: str = "") -> ReplayTable:
        """From a ``grid.json`` document (rows whose ``status`` is not "ok" are skipped).

        Raises:
            ValueError: If the document lacks ``problem`` or ``rows``.
        """
        for key in ("problem", "rows"):
            if key not in doc:
                raise ValueError(f"replay table {source}: no `{key}` (write one with "
                                 "`python -m compress grid`).")
        problem = SearchProblem.from_dict(doc["problem"])
        rows = [{"params": problem.active(r["params"]), "metrics": dict(r["metrics"])}
                for r in doc["rows"] if r.get("status", "ok") == "ok"]
        baseline = doc.get("baseline")
        return cls(problem, rows, dict(baseline) if baseline else None,
                   [dict(c) for c in doc.get("standard", ())], source)

    @classmethod
    def load(cls, path: str | Path) -> ReplayTable:
        """Read a ``grid.json`` (FileNotFoundError names the command that writes one)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no replay table at {path}: run `python -m compress grid "
                                    "--preset grid --copy-to benchmarks/data/` first.")
        return cls.from_dict(json.loads(path.read_text()), str(path))

    def lookup(self, config: Mapping[str, Any]) -> Answer:
        """The row answering ``config``: the same active config, else the nearest one."""
        active = self.problem.active(config)
        i = self._keys.get(config_key(active))
        if i is not None:
            return Answer(i, True, 0.0)
        i, d = nearest(self.problem.params, active, [r["params"] for r in self.rows])
        return Answer(i, False, d)

    def result(self, answer: Answer) -> dict[str, Any]:
        """What a trial reports: the row's metrics plus ``replay_row/exact/distance``."""
        return {**self.rows[answer.row]["metrics"], "replay_row": answer.row,
                "replay_exact": int(answer.exact), "replay_distance": answer.distance}

    def point(self, metrics: Mapping[str, Any]) -> list[float] | None:
        """Objective values of a feasible, complete measurement, else None."""
        values = self.problem.metric_values(metrics)
        if values is None or violated(values, self.problem.constraints):
            return None
        return [values[n] for n in self.problem.metric_names]

    def hypervolume(self, rows: Sequence[int]) -> float:
        """Hypervolume of the baseline plus the given rows (feasible ones)."""
        metrics = [self.rows[i]["metrics"] for i in rows]
        if self.baseline is not None:
            metrics.append(self.baseline.get("metrics", {}))
        points = [p for p in map(self.point, metrics) if p is not None]
        return hypervolume(points, self.problem.modes, self.problem.ref_point)

    def max_hypervolume(self) -> float:
        """The hypervolume of the whole table: every search's ceiling."""
        return self.hypervolume(range(len(self.rows)))


def hv_fractions(table: ReplayTable, answered: Sequence[int], max_hv: float) -> list[float]:
    """Fraction of the table's maximum hypervolume after each trial (``n`` = 1, 2, ...)."""
    return [table.hypervolume(answered[:n]) / max_hv if max_hv > 0 else 0.0
            for n in range(1, len(answered) + 1)]


def distinct_counts(problem: SearchProblem, proposals: Sequence[Mapping[str, Any]]) -> list[int]:
    """Distinct active configs among the first ``n`` proposals, for each ``n``."""
    seen: set[str] = set()
    out = []
    for config in proposals:
        seen.add(config_key(problem.active(config)))
        out.append(len(seen))
    return out


def at_budget(curve: Sequence[float], budget: int) -> float:
    """The curve's value after ``budget`` trials (its last one when the search stopped early:
    a finished search keeps what it found)."""
    return curve[min(budget, len(curve)) - 1] if curve else 0.0


def spread(values: Sequence[float]) -> dict[str, float]:
    """``{mean, min, max}`` of ``values``."""
    return {"mean": statistics.fmean(values), "min": min(values), "max": max(values)}
