"""``python -m compress grid``: measure a fixed design with the search's own machinery.

The design (:func:`compress.design.grid_design`: the standard configs, a scrambled Sobol
sample over the space's encoding, topped up for coverage) runs as Tune trials exactly like a
search (:func:`compress.ray_search.prepare`: the same baseline, trial function, resources and
``events.jsonl``), in ``results/compress/<name>/``. Started again, it skips every config
already measured there (failed ones run again). At the end it writes ``grid.csv`` (one row
per measured config) and ``grid.json`` (the rows plus the problem, the design, the commit
and the machine: the table ``benchmarks/compress_replay.py`` searches) and, with
``grid.copy_to`` / ``--copy-to``, copies both there.
"""

from __future__ import annotations

import csv
import datetime
import logging
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from compress.config import CompressConfig
from compress.design import Design, grid_design
from compress.experiment import refresh, trial_events
from compress.ray_search import Prepared, TrialFn, make_tuner, prepare
from compress.trial import run_trial
from moo.searchers.encoding import config_key
from moo.searchers.ray_searcher import JSONStateSearcher
from serving.config import to_dict
from serving.runs import write_json_atomic

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]


class DesignSearcher(JSONStateSearcher):
    """Hands Tune the given configs in order, then ``FINISHED``."""

    def __init__(self, configs: Sequence[Mapping[str, Any]], metric: list[str],
                 mode: list[str]) -> None:
        super().__init__(metric=metric, mode=mode)
        self.todo = [dict(c) for c in configs]

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        return self.todo.pop(0) if self.todo else self.FINISHED

    def on_trial_complete(self, trial_id: str, result: dict | None = None,
                          error: bool = False) -> None:
        """Nothing to learn: the design is fixed."""

    def get_state(self) -> dict[str, Any]:
        return {"todo": self.todo}

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.todo = list(state["todo"])


def remaining(design: Design, run_path: Path, p: Prepared) -> list[dict[str, Any]]:
    """The design's configs not measured (status ok) in ``run_path`` yet."""
    done = {config_key(p.problem.active(e["params"])) for e in trial_events(run_path)
            if e.get("status") == "ok"}
    return [c for c in design.configs if config_key(p.problem.active(c)) not in done]


def run_grid(cfg: CompressConfig, trial_fn: TrialFn = run_trial,
             callbacks: list[Any] | None = None) -> dict[str, Any]:
    """Measure the design; write ``grid.csv``/``grid.json`` (and copies); return a summary."""
    p = prepare(cfg, trial_fn)
    g = cfg.grid
    design = grid_design(p.space, cfg.search.warm_start, g.samples, g.seed, g.steps, g.cover,
                         baseline=p.baseline_params)
    p.run.write_json("design.json", design.to_dict())
    todo = remaining(design, p.run.path, p)
    logger.info("grid: %d configs, %d measured already, %d to measure", len(design.configs),
                len(design.configs) - len(todo), len(todo))
    errors = 0
    if todo:
        searcher = DesignSearcher(todo, p.problem.metric_names, p.problem.modes)
        name = time.strftime("grid-%Y%m%d-%H%M%S")  # a fresh Tune experiment per invocation
        errors = make_tuner(p, searcher, len(todo), name, callbacks).fit().num_errors
    refresh(p.run.path, p.objectives)
    doc = grid_document(cfg, p, design)
    paths = write_grid_files(p.run.path, doc)
    if g.copy_to:
        paths += copy_files(paths, Path(g.copy_to))
    return {"name": cfg.name, "configs": len(design.configs), "measured": len(doc["rows"]),
            "errors": errors, "dropped": len(design.dropped),
            "missing_coverage": design.missing, "files": [str(x) for x in paths],
            "wall_s": time.time() - p.start}


def grid_document(cfg: CompressConfig, p: Prepared, design: Design) -> dict[str, Any]:
    """``grid.json``: provenance, problem, design and one row per measured design config."""
    sources = {config_key(p.problem.active(c)): s
               for c, s in zip(design.configs, design.sources, strict=True)}
    rows, baseline = [], None
    for e in trial_events(p.run.path):
        params = p.problem.active(e["params"])
        if e["trial_id"] == "baseline":
            baseline = {"params": params, "metrics": e.get("metrics") or {}}
            continue
        key = config_key(params)
        if key in sources and e.get("status") == "ok":
            rows.append({"trial_id": e["trial_id"], "status": "ok", "source": sources[key],
                         "params": params, "metrics": e.get("metrics") or {}})
    return {"format": "rayopt-compress-grid/1", "name": cfg.name, **provenance(),
            "problem": p.problem.to_dict(), "baseline": baseline,
            "standard": [p.problem.active(c) for c, s in
                         zip(design.configs, design.sources, strict=True) if s == "standard"],
            "design": design.to_dict(), "config": to_dict(cfg), "rows": rows}


def write_grid_files(run_path: Path, doc: Mapping[str, Any]) -> list[Path]:
    """``grid.json`` and ``grid.csv`` (params then metrics as columns) in ``run_path``."""
    json_path = write_json_atomic(run_path / "grid.json", doc)
    rows = [{"trial_id": r["trial_id"], "source": r["source"], **r["params"], **r["metrics"]}
            for r in doc["rows"]]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    csv_path = run_path / "grid.csv"
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return [json_path, csv_path]


def copy_files(paths: Sequence[Path], folder: Path) -> list[Path]:
    """Copy ``paths`` into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in paths:
        out.append(Path(shutil.copy2(path, folder / path.name)))
        logger.info("copied %s to %s", path, out[-1])
    return out


def provenance() -> dict[str, Any]:
    """Commit (``dirty`` when the tree has changes), date and machine of the measurements."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False,
                              cwd=REPO)
        return done.stdout.strip()

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain")),
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "machine": {"host": platform.node(), "arch": platform.machine(),
                        "cpu": _cpu_model(), "cores": os.cpu_count(), "gpu": gpu,
                        "torch": torch.__version__, "python": platform.python_version()}}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()
