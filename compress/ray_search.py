"""Ray Tune wiring of ``python -m compress search``: one Tune trial per compression config.

The uncompressed baseline is measured first (a Ray task with a trial's resources; its
accuracy gives every trial's ``accuracy_drop``), then a ``Tuner`` runs the searcher named
by ``search.searcher`` (:func:`moo.searchers.make_searcher`), warm-started with standard
configs, behind :class:`~moo.searchers.ray_dedup.DedupSearcher` (a config measured before,
the baseline included, is never measured again unless ``search.repeats`` allows it: the
searcher is told the measurement and the nearest new config runs instead). A driver-side
callback appends each finished trial to ``events.jsonl`` and rewrites ``results.csv`` and
the Pareto artifacts, so the dashboard follows a running search. An interrupted search
started again with the same command resumes with ``Tuner.restore``. :func:`prepare` and
:func:`make_tuner` are shared with ``python -m compress grid`` (:mod:`compress.ray_grid`).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ray import tune

from compress.config import CompressConfig
from compress.experiment import parse_constraint, refresh, trial_event, trial_events, violated
from compress.space import CompressionSpace
from compress.trial import BASELINE, run_trial, space_for
from moo.report import front_table
from moo.searchers import Objective, SearchProblem, make_searcher
from moo.searchers.ray_dedup import DedupSearcher, config_key
from serving.config import to_dict
from serving.runs import RunDir, append_jsonl

logger = logging.getLogger(__name__)

TrialFn = Callable[..., dict[str, Any]]
#: Tune's own bookkeeping keys, left out of events.jsonl.
TUNE_KEYS = {"timestamp", "checkpoint_dir_name", "done", "training_iteration", "trial_id",
             "date", "time_this_iter_s", "time_total_s", "pid", "hostname", "node_ip",
             "config", "time_since_restore", "iterations_since_restore", "experiment_tag"}


def search_problem(cfg: CompressConfig, space: CompressionSpace) -> SearchProblem:
    """Space + objectives (``ref`` = reference point) + outcome constraints."""
    objectives = [Objective(o.name, o.mode, o.ref) for o in cfg.search.objectives]
    constraints = [parse_constraint(c) for c in cfg.search.constraints]
    return space.problem(objectives, constraints)


def plan_resources(cfg: CompressConfig, cluster: dict[str, float],
                   cores: int | None = None) -> tuple[dict[str, float], int, int]:
    """Per-trial resources, concurrent trials and torch threads per trial.

    On a local Ray the logical CPU count exceeds the cores (see ARCHITECTURE), so local
    planning uses the cores: trials never share a core. Default: one trial per GPU when the
    trials use GPUs, else one trial using all cores.

    Returns:
        ``({"cpu": c, "gpu": g}, max_concurrent, threads)``.
    """
    cores = cores or os.cpu_count() or 1
    s = cfg.search
    cpus = cluster.get("CPU", 1.0)
    if not os.environ.get("RAY_ADDRESS"):
        cpus = min(cpus, float(cores))
    gpus = s.trial_gpus
    if gpus == 0 and cluster.get("GPU", 0) >= 1 and cfg.device != "cpu":
        gpus = 1.0
    by_gpu = math.floor(cluster.get("GPU", 0) / gpus) if gpus else None
    trial_cpus = s.trial_cpus or (max(1.0, math.floor(cpus / by_gpu)) if by_gpu else cpus)
    limits = [math.floor(cpus / trial_cpus)] + ([by_gpu] if by_gpu is not None else [])
    if s.max_concurrent:
        limits.append(s.max_concurrent)
    concurrent = max(1, min(limits))
    threads = max(1, min(int(trial_cpus), cores))
    return {"cpu": float(trial_cpus), "gpu": float(gpus)}, concurrent, threads


def trainable(params: dict[str, Any], cfg: CompressConfig, run_path: str,
              baseline_accuracy: float | None, threads: int, trial_fn: TrialFn) -> None:
    """One Tune trial: pin threads, compress + measure, report everything."""
    from serving.cluster import pin_threads

    pin_threads(threads)
    trial_id = tune.get_context().get_trial_id()
    result = trial_fn(params, cfg, Path(run_path) / "trials" / trial_id, threads=threads,
                      baseline_accuracy=baseline_accuracy)
    tune.report({**result, **feasibility(result, cfg)})


def feasibility(result: dict[str, Any], cfg: CompressConfig) -> dict[str, Any]:
    """``feasible`` (1/0) and ``violated`` (the broken constraints, comma-joined)."""
    broken = violated(result, [parse_constraint(c) for c in cfg.search.constraints])
    return {"feasible": int(not broken), "violated": ", ".join(broken)}


class EventLog(tune.Callback):
    """Driver-side: each finished trial → ``events.jsonl``, ``results.csv``, Pareto files.

    Picklable (Tune stores callbacks with the experiment for ``Tuner.restore``). A trial
    already in ``events.jsonl`` (a resumed run) is not logged twice.
    """

    def __init__(self, run_path: str, problem: SearchProblem,
                 objectives: list[dict[str, Any]]) -> None:
        self.run_path = run_path
        self.problem = problem
        self.objectives = objectives

    def _log(self, trial: Any, status: str, error: str | None) -> None:
        path = Path(self.run_path)
        if any(e["trial_id"] == trial.trial_id and e.get("status") == status
               for e in trial_events(path)):
            return
        metrics = {k: v for k, v in (trial.last_result or {}).items() if k not in TUNE_KEYS}
        append_jsonl(path / "events.jsonl",
                     trial_event(trial.trial_id, status, self.problem.active(trial.config),
                                 metrics, error))
        refresh(path, self.objectives)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._log(trial, "ok", None)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        err = trial.get_error()
        self._log(trial, "error", str(err).strip().splitlines()[-1] if err else "trial failed")


def measure_baseline(cfg: CompressConfig, run: RunDir, params: dict[str, Any],
                     resources: dict[str, float], threads: int, trial_fn: TrialFn) -> dict[str, Any]:
    """The uncompressed model's result (``params``): from ``events.jsonl`` or measured now
    (Ray task)."""
    import ray

    for ev in trial_events(run.path):
        if ev["trial_id"] == "baseline" and ev.get("status") == "ok":
            return ev["metrics"]
    logger.info("measuring the uncompressed baseline %s", params)
    workdir = run.path / "trials" / "baseline"  # the task captures paths, not the RunDir

    @ray.remote(num_cpus=resources["cpu"], num_gpus=resources["gpu"])
    def task() -> dict[str, Any]:
        from serving.cluster import pin_threads

        pin_threads(threads)
        return trial_fn(dict(params), cfg, workdir, threads=threads)

    result = ray.get(task.remote())
    result["accuracy_drop"] = 0.0
    result.update(feasibility(result, cfg))
    run.append(trial_event("baseline", "ok", params, result))
    return result


@dataclass
class Prepared:
    """What a search or a grid needs before its Tuner: the run folder, the problem, the
    measured baseline and the Tune trainable with its resources."""

    cfg: CompressConfig
    space: CompressionSpace
    problem: SearchProblem
    run: RunDir
    warm: list[dict[str, Any]]
    baseline_params: dict[str, Any]
    baseline_result: dict[str, Any]
    objectives: list[dict[str, Any]]
    fn: Any
    concurrent: int
    start: float


def prepare(cfg: CompressConfig, trial_fn: TrialFn = run_trial) -> Prepared:
    """Run folder, space files, Ray, resources, the baseline (measured once) and the
    trainable."""
    from serving.cluster import connect

    start = time.time()
    space = space_for(cfg)
    problem = search_problem(cfg, space)
    warm = [space.check(w).params() for w in cfg.search.warm_start]  # fail before any work
    baseline_params = problem.active(space.check(BASELINE).params())
    run = RunDir("compress", cfg.name)
    run.save_config(cfg)
    run.write_json("space.json", {"params": [p.name for p in space.params],
                                  "methods": list(space.methods), "excluded": space.excluded})
    connect()
    import ray

    resources, concurrent, threads = plan_resources(cfg, ray.cluster_resources())
    logger.info("trials: %s each, %d at a time, %d torch threads", resources, concurrent, threads)
    baseline_result = measure_baseline(cfg, run, baseline_params, resources, threads, trial_fn)
    objectives = [to_dict(o) for o in cfg.search.objectives]
    refresh(run.path, objectives)
    fn = tune.with_resources(
        tune.with_parameters(trainable, cfg=cfg, run_path=str(run.path.resolve()),
                             baseline_accuracy=float(baseline_result["accuracy"]),
                             threads=threads, trial_fn=trial_fn),
        resources)
    return Prepared(cfg, space, problem, run, warm, baseline_params, baseline_result, objectives,
                    fn, concurrent, start)


def make_tuner(p: Prepared, searcher: Any, num_samples: int, name: str,
               callbacks: list[Any] | None = None) -> tune.Tuner:
    """A Tuner over ``p``'s trainable with the event log (results under ``run/<name>``)."""
    return tune.Tuner(
        p.fn,
        tune_config=tune.TuneConfig(search_alg=searcher, num_samples=num_samples,
                                    max_concurrent_trials=p.concurrent),
        run_config=tune.RunConfig(
            name=name, storage_path=str(p.run.path.resolve()), verbose=1,
            callbacks=[EventLog(str(p.run.path.resolve()), p.problem, p.objectives),
                       *(callbacks or [])]),
    )


def run_search(cfg: CompressConfig, trial_fn: TrialFn = run_trial,
               callbacks: list[Any] | None = None) -> dict[str, Any]:
    """The whole search; returns the summary (also written to ``summary.json``).

    Args:
        cfg: The experiment config.
        trial_fn: ``(params, cfg, workdir, threads=, baseline_accuracy=) -> result``; tests
            pass a cheap ``Fake*`` objective.
        callbacks: Extra Tune callbacks (first run only; a restore reuses the stored ones).
    """
    p = prepare(cfg, trial_fn)
    storage = str(p.run.path.resolve())
    if tune.Tuner.can_restore(f"{storage}/tune"):
        logger.info("resuming the interrupted search in %s/tune", storage)
        tuner = tune.Tuner.restore(f"{storage}/tune", trainable=p.fn, resume_errored=False)
    else:
        inner = make_searcher(cfg.search.searcher, p.problem, cfg.search.seed, p.warm,
                              **_searcher_options(cfg))
        searcher = DedupSearcher(inner, p.problem,
                                 known={config_key(p.baseline_params): p.baseline_result},
                                 repeats=cfg.search.repeats, seed=cfg.search.seed)
        tuner = make_tuner(p, searcher, cfg.search.num_samples, "tune", callbacks)
    grid = tuner.fit()
    doc = refresh(p.run.path, p.objectives)
    summary = _summary(cfg, doc, p.space, time.time() - p.start, grid.num_errors)
    p.run.write_json("summary.json", summary)
    return summary


def _searcher_options(cfg: CompressConfig) -> dict[str, Any]:
    options = dict(cfg.search.searcher_options)
    if cfg.search.searcher in ("ax", "llm") and cfg.search.initialization_budget is not None:
        options.setdefault("initialization_budget", cfg.search.initialization_budget)
    if cfg.search.searcher in ("ax", "llm"):
        options.setdefault("repeats", cfg.search.repeats)
    return options


def _summary(cfg: CompressConfig, doc: dict[str, Any], space: CompressionSpace,
             wall_s: float, errors: int) -> dict[str, Any]:
    trials = doc.get("trials", [])
    front = front_table(doc, [o.name for o in cfg.search.objectives])
    searched = sum(t["trial_id"] != "baseline" for t in trials)
    distinct = len({config_key(t["params"]) for t in trials if t["trial_id"] != "baseline"})
    return {"name": cfg.name, "searcher": cfg.search.searcher, "trials": len(trials),
            "complete": searched >= cfg.search.num_samples, "distinct_configs": distinct, "errors": errors, "hypervolume": doc.get("hypervolume"),
            "ref_point": doc.get("ref_point"), "front": front,
            "excluded": space.excluded, "wall_s": wall_s}
