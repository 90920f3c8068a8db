"""Pareto reports of one experiment folder: ``pareto.json``, ``pareto.html``, ``pareto.png``.

An experiment folder (``results/compress/<name>/`` or a promptopt sweep's
``results/promptopt/<name>/``) holds an append-only ``events.jsonl`` with one line per
finished trial. This module replays it, finds the non-dominated trials, their crowding
distance and the hypervolume against the fixed reference point (after every trial, for the
hypervolume-against-trials curve), and writes the artifacts. The dashboard reuses
:func:`experiment_summary` so that a running search is shown the same way. No ``ray`` here.

Accepted trial lines (extra keys are kept for display)::

    {"trial_id": "a1", "config": {...}, "metrics": {"accuracy": 0.41, "latency_s": 0.8}}
    {"event": "trial", "params": {...}, "accuracy": 0.41, "llm_tokens": 7411.0}
    {"trial_id": "a2", "config": {...}, "error": "CUDA out of memory"}       # failed

A trial whose metrics say ``"feasible": 0`` (an outcome constraint broke) is shown but
is neither on the front nor in the hypervolume. Each objective's standard error is read from
``<name>_sem`` (latency and energy repeats) or ``<name>_stderr`` (lm-eval); a front trial
that another trial dominates within noise (:func:`moo.pareto.noise_dominators`: its
advantages all within 2 SEM of the difference, the other's not) is listed in
``front_within_noise`` and drawn hollow; error bars are +-2 SEM. Lines with another
``event`` (e.g. ``"start"``) are not trials. A trial id seen twice
(a resumed run re-logging a trial) counts once, at its last line.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from moo.pareto import crowding_distance, hypervolume, noise_dominators, pareto_indices
from moo.searchers.problem import Objective
from serving.runs import read_jsonl

TRIAL_EVENTS = {"trial", "trial_complete", "trial_error", "trial_failed", "result"}
NOISE_Z = 2.0
NOISE_RULE = ("j dominates i within noise if j is nowhere worse than i by more than 2 SEM of "
              "the difference and better by more than that in one objective")
ObjectivesSpec = Sequence[Objective] | Mapping[str, Any]


def parse_objectives(spec: ObjectivesSpec) -> tuple[Objective, ...]:
    """Objectives from :class:`Objective` objects, ``{name: "max"}``, ``{name: {mode, ref}}``
    or ``[{name, mode, ref}]``.

    Raises:
        ValueError: If the spec is empty or an entry has no valid mode.
    """
    if isinstance(spec, Mapping):
        items = [
            {"name": k, "mode": v} if isinstance(v, str) else {"name": k, **dict(v)}
            for k, v in spec.items()
        ]
    else:
        items = [o if isinstance(o, Objective) else dict(o) for o in spec]
    out = tuple(o if isinstance(o, Objective) else Objective(**o) for o in items)
    if not out:
        raise ValueError("no objectives given; list at least one (name, mode, ref).")
    return out


def _find_objectives(data: Any, depth: int = 0) -> Any:
    """The first ``objectives`` entry in a config mapping (top level or one section down)."""
    if not isinstance(data, Mapping) or depth > 2:
        return None
    if data.get("objectives"):
        return data["objectives"]
    for value in data.values():
        found = _find_objectives(value, depth + 1)
        if found:
            return found
    return None


def objectives_of(run_dir: Path) -> tuple[Objective, ...]:
    """The objectives of an experiment: ``config.yaml`` first, else ``pareto.json``'s.

    ``pareto.json`` written by this module stores ``objectives`` as ``{name: mode}`` and the
    reference point separately under ``ref_point``.

    Raises:
        ValueError: If neither file names the objectives.
    """
    config_path, pareto_path = run_dir / "config.yaml", run_dir / "pareto.json"
    if config_path.exists():
        found = _find_objectives(yaml.safe_load(config_path.read_text()))
        if found:
            return parse_objectives(found)
    if pareto_path.exists():
        data = yaml.safe_load(pareto_path.read_text())  # JSON is YAML; also reads NaN/Infinity
        if isinstance(data, Mapping) and data.get("objectives"):
            objectives = parse_objectives(data["objectives"])
            refs = data.get("ref_point_configured") or {}
            return tuple(Objective(o.name, o.mode, refs.get(o.name, o.ref)) for o in objectives)
    raise ValueError(
        f"{run_dir}: no `objectives` in config.yaml or pareto.json; pass `objectives=` "
        "(e.g. {'accuracy': {'mode': 'max', 'ref': 0.0}})."
    )


def _finite(value: Any) -> float | None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def trial_rows(events: Sequence[Mapping[str, Any]], names: Sequence[str]) -> list[dict[str, Any]]:
    """One row per trial in completion order: ``trial_id``, ``params``, ``values`` (None when
    the trial failed or misses an objective), ``sems`` (each objective's standard error, None
    when unknown), ``metrics`` (every numeric result) and ``error``.
    """
    rows: dict[str, dict[str, Any]] = {}
    for i, event in enumerate(events):
        if "event" in event and event["event"] not in TRIAL_EVENTS:
            continue
        metrics = {**event, **(event.get("result") or {}), **(event.get("metrics") or {})}
        numeric = {k: v for k, v in metrics.items() if _finite(v) is not None}
        values = [_finite(metrics.get(n)) for n in names]
        error = event.get("error") or (
            f"status {event['status']}" if event.get("status") in ("error", "failed") else None
        )
        if error is None and None in values:
            missing = [n for n, v in zip(names, values, strict=True) if v is None]
            error = f"missing or non-finite objectives {missing}"
        trial_id = str(event.get("trial_id", event.get("trial", f"line{i + 1}")))
        rows.pop(trial_id, None)  # a re-logged trial moves to its latest position
        rows[trial_id] = {
            "trial_id": trial_id,
            "params": dict(event.get("config") or event.get("params") or {}),
            "values": None if error else values,
            "sems": [_sem(metrics, n) for n in names],
            "metrics": numeric,
            "error": str(error) if error else None,
            # Outcome constraints: compress trials carry ``feasible`` (1/0) and ``violated``.
            "feasible": bool(metrics.get("feasible", True)),
            "violated": _violated(metrics.get("violated")),
        }
    return list(rows.values())


def _sem(metrics: Mapping[str, Any], name: str) -> float | None:
    """``<name>_sem``, else ``<name>_stderr``, else None."""
    for key in (f"{name}_sem", f"{name}_stderr"):
        value = _finite(metrics.get(key))
        if value is not None and value >= 0:
            return value
    return None


def _violated(value: Any) -> list[str]:
    """Violated constraints as a list (Tune results carry them as one comma-joined string)."""
    if not value:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _reference_point(
    objectives: Sequence[Objective], rows: Sequence[Mapping[str, Any]]
) -> tuple[list[float] | None, dict[str, str]]:
    """The configured reference point; a missing coordinate becomes the worst observed value
    (labelled ``"worst observed"`` in the returned sources), None if nothing is observed."""
    ref, sources = [], {}
    points = [r["values"] for r in rows if r["values"] is not None and r.get("feasible", True)]
    for k, o in enumerate(objectives):
        if o.ref is not None:
            ref.append(float(o.ref))
            sources[o.name] = "configured"
        elif points:
            column = [p[k] for p in points]
            ref.append(min(column) if o.mode == "max" else max(column))
            sources[o.name] = "worst observed (no ref configured)"
        else:
            return None, {}
    return ref, sources


def experiment_summary(
    rows: Sequence[Mapping[str, Any]], objectives: Sequence[Objective]
) -> dict[str, Any]:
    """Everything ``pareto.json`` holds, from trial rows (see :func:`trial_rows`).

    ``front`` indexes ``trials``; ``crowding_distance`` is aligned with ``front`` (None
    stands for infinity: a boundary point); ``hypervolume_curve[n-1]`` is the hypervolume of
    the feasible trials among the first ``n`` (failed ones count as spent evaluations).
    """
    names = [o.name for o in objectives]
    modes = [o.mode for o in objectives]
    measured = [i for i, r in enumerate(rows) if r["values"] is not None]
    ok = [i for i in measured if rows[i].get("feasible", True)]
    points = [rows[i]["values"] for i in ok]
    front = [ok[j] for j in pareto_indices(points, modes)] if points else []
    crowd = crowding_distance([rows[i]["values"] for i in front])
    sems = [rows[i].get("sems") or [None] * len(names) for i in ok]
    by = noise_dominators(points, sems, modes, NOISE_Z) if points else []
    within = {ok[j]: [rows[ok[d]]["trial_id"] for d in by[j]] for j in range(len(ok))
              if ok[j] in front and by[j]}
    ref, sources = _reference_point(objectives, rows)
    curve: list[float] = []
    if ref is not None:
        seen: list[list[float]] = []
        for r in rows:
            if r["values"] is not None and r.get("feasible", True):
                seen.append(r["values"])
            curve.append(hypervolume(seen, modes, ref) if seen else 0.0)
    return {
        "objectives": dict(zip(names, modes, strict=True)),
        "ref_point": dict(zip(names, ref, strict=True)) if ref else None,
        "ref_point_source": sources,
        "ref_point_configured": {o.name: o.ref for o in objectives if o.ref is not None},
        "n_trials": len(rows),
        "n_failed": len(rows) - len(measured),
        "n_infeasible": len(measured) - len(ok),
        "trials": [{**r, "within_noise_of": within.get(i, [])} for i, r in enumerate(rows)],
        "front": front,
        "front_within_noise": [i for i in front if i in within],
        "noise_rule": NOISE_RULE,
        "crowding_distance": [None if math.isinf(d) else d for d in crowd],
        "hypervolume": curve[-1] if curve else None,
        "hypervolume_curve": curve,
    }


def load_experiment(
    run_dir: str | Path, objectives: ObjectivesSpec | None = None
) -> dict[str, Any]:
    """Replay ``run_dir/events.jsonl`` into :func:`experiment_summary`'s dict.

    Raises:
        ValueError: If the objectives are unknown or a line other than the last is not
            JSON (a torn last line is dropped with a warning: the run was killed mid-write).
    """
    run_dir = Path(run_dir)
    parsed = parse_objectives(objectives) if objectives is not None else objectives_of(run_dir)
    events = list(read_jsonl(run_dir / "events.jsonl"))
    return experiment_summary(trial_rows(events, [o.name for o in parsed]), parsed)


def front_trials(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The trials on the front of a :func:`pareto_summary`, in front order."""
    return [summary["trials"][i] for i in summary.get("front", [])]


def front_table(summary: Mapping[str, Any], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """The front as rows of ``trial_id``, ``params`` and the named metrics."""
    return [{"trial_id": t["trial_id"], "params": t["params"],
             **{m: t["metrics"].get(m) for m in metrics}} for t in front_trials(summary)]


def write_pareto_artifacts(
    run_dir: str | Path, objectives: ObjectivesSpec | None = None
) -> dict[str, Any]:
    """Write ``pareto.json``, ``pareto.html`` and ``pareto.png`` into ``run_dir``.

    Args:
        run_dir: The experiment folder (with ``events.jsonl``).
        objectives: Default: from ``config.yaml`` (an ``objectives`` mapping at the top
            level or one section down, in :meth:`SearchProblem.from_dict` form), else from
            an earlier ``pareto.json``.

    Returns:
        The summary written to ``pareto.json``.
    """
    from moo.figures import write_figures  # plotly/matplotlib only when writing

    run_dir = Path(run_dir)
    summary = load_experiment(run_dir, objectives)
    tmp = run_dir / ".pareto.json.tmp"
    tmp.write_text(json_dumps(summary))
    tmp.replace(run_dir / "pareto.json")
    write_figures(summary, run_dir, title=run_dir.name)
    return summary


def json_dumps(data: Any) -> str:
    """Strict JSON (browsers reject NaN/Infinity): non-finite floats become null."""
    import json

    def clean(x: Any) -> Any:
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, Mapping):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(data), indent=1, ensure_ascii=False, default=str)
