"""An experiment's tables, rebuilt from its append-only ``events.jsonl``.

``results/compress/<experiment>/``:

- ``config.yaml``: the resolved config.
- ``events.jsonl``: one line per finished trial: ``{"event": "trial", "trial_id", "status":
  "ok"|"error", "params", "metrics", "error"}`` (the uncompressed reference has
  ``trial_id`` "baseline"). ``metrics`` holds every measurement plus ``feasible`` (1/0:
  the outcome constraints hold) and ``violated`` (which ones do not).
- ``results.csv``: one row per trial, every parameter and measurement as a column.
- ``pareto.json``, ``pareto.html``, ``pareto.png``: :func:`moo.report.write_pareto_artifacts`.

No ``ray`` here.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from moo.searchers.problem import Constraint
from serving.runs import read_jsonl

logger = logging.getLogger(__name__)


def trial_events(run_path: Path) -> list[dict[str, Any]]:
    """Trial events of ``events.jsonl`` in order, the last one per ``trial_id`` kept."""
    latest: dict[str, dict[str, Any]] = {}
    for event in read_jsonl(Path(run_path) / "events.jsonl"):
        if event.get("event") == "trial":
            latest.pop(event["trial_id"], None)
            latest[event["trial_id"]] = event
    return list(latest.values())


def trial_event(trial_id: str, status: str, params: Mapping[str, Any], metrics: Mapping[str, Any],
                error: str | None = None) -> dict[str, Any]:
    """One ``events.jsonl`` trial line (the format above)."""
    return {"event": "trial", "trial_id": trial_id, "status": status, "params": dict(params),
            "metrics": dict(metrics), "error": error, "time": time.time()}


def parse_constraint(text: str) -> Constraint:
    """``"accuracy_drop <= 0.1"`` → :class:`Constraint` (ValueError names the format)."""
    parts = text.split()
    if len(parts) != 3 or parts[1] not in ("<=", ">="):
        raise ValueError(f"constraint `{text}` must read `metric <= bound` or `metric >= bound`.")
    return Constraint(parts[0], parts[1], float(parts[2]))  # type: ignore[arg-type]


def violated(metrics: Mapping[str, Any], constraints: Sequence[Constraint]) -> list[str]:
    """The constraints ``metrics`` break; a missing or non-finite metric breaks its one."""
    out = []
    for c in constraints:
        value = metrics.get(c.metric)
        ok = isinstance(value, int | float) and math.isfinite(value) and c.violation(value) <= 0
        if not ok:
            out.append(str(c))
    return out


def write_results_csv(run_path: Path) -> Path:
    """``results.csv``: trial id, status, error, then every parameter and metric column."""
    rows, columns = [], ["trial_id", "status", "error"]
    for ev in trial_events(run_path):
        row = {"trial_id": ev["trial_id"], "status": ev.get("status"), "error": ev.get("error")}
        for k, v in {**ev.get("params", {}), **(ev.get("metrics") or {})}.items():
            row[k] = v
            if k not in columns:
                columns.append(k)
        rows.append(row)
    path = Path(run_path) / "results.csv"
    tmp = path.with_name(".results.csv.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def refresh(run_path: Path, objectives: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Rewrite ``results.csv`` and the Pareto artifacts from ``events.jsonl``.

    Returns:
        The ``pareto.json`` document.
    """
    from moo.report import write_pareto_artifacts

    write_results_csv(run_path)
    return write_pareto_artifacts(Path(run_path), [dict(o) for o in objectives])
