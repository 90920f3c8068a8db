"""Hypervolume reached by each multi-objective searcher through Ray Tune, on BoTorch problems.

    python benchmarks/moo_hypervolume.py                      # 50 evals, 5 seeds, all methods
    python benchmarks/moo_hypervolume.py --evals 6 --seeds 1  # smoke run

Every method is the Tune searcher adapter from ``moo.searchers`` driven by
``ray.tune.Tuner`` with one trial at a time. Reported: the fraction of the problem's maximum
hypervolume (BoTorch's ``max_hv``, against its ``ref_point``) after 20/30/50 evaluations,
mean/min/max over seeds. Failed trials count as spent evaluations. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import tempfile
import time
import warnings
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import optuna  # noqa: E402
import ray  # noqa: E402
import torch  # noqa: E402
from ax.utils.common.logger import set_ax_logger_levels  # noqa: E402
from botorch.test_functions.multi_objective import DTLZ2, BraninCurrin  # noqa: E402
from ray import tune  # noqa: E402
from ray.tune.search import Searcher  # noqa: E402

from moo.pareto import hypervolume  # noqa: E402
from moo.searchers import (  # noqa: E402
    AxMOOSearcher,
    Objective,
    Param,
    SearchProblem,
    make_optuna_searcher,
)
from serving.cluster import connect  # noqa: E402

METHODS = ("ax", "nsga2", "tpe", "random")
OPTUNA_SAMPLERS = {"nsga2": "nsga2", "tpe": "tpe", "gp": "gp", "random": "random"}


def make_test_problem(name: str) -> Any:
    """The BoTorch problem (minimization form: its ``ref_point`` is an upper bound)."""
    if name == "branincurrin":
        return BraninCurrin()
    if name == "dtlz2":
        return DTLZ2(dim=6, num_objectives=2)
    raise ValueError(f"unknown problem {name!r}; use branincurrin or dtlz2.")


def search_problem(test_problem: Any) -> SearchProblem:
    """x0..x{d-1} on the problem's bounds; minimize f0..f{m-1} below its reference point."""
    bounds = test_problem.bounds.tolist()
    params = tuple(Param(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(zip(*bounds, strict=True)))
    refs = test_problem.ref_point.tolist()
    objectives = tuple(Objective(f"f{i}", "min", ref) for i, ref in enumerate(refs))
    return SearchProblem(params, objectives)


def make_searcher(method: str, problem: SearchProblem, seed: int) -> Searcher:
    """The adapter under test; Ax is told the problems are noise-free (``sem=0``)."""
    if method == "ax":
        return AxMOOSearcher(problem, seed=seed, sem=0.0)
    if method in OPTUNA_SAMPLERS:
        return make_optuna_searcher(problem, OPTUNA_SAMPLERS[method], seed=seed)
    raise ValueError(f"unknown method {method!r}; choose from {METHODS + ('gp',)}.")


def evaluate(config: dict[str, float], problem_name: str) -> None:
    """Tune trainable: one evaluation of the test problem, one thread."""
    torch.set_num_threads(1)
    test_problem = make_test_problem(problem_name)
    x = torch.tensor([[config[f"x{i}"] for i in range(test_problem.dim)]], dtype=torch.double)
    y = test_problem(x)[0].tolist()
    tune.report({f"f{i}": v for i, v in enumerate(y)})


def run_search(
    problem_name: str, method: str, seed: int, evals: int, storage: str
) -> tuple[list[list[float] | None], float]:
    """One Tune experiment; returns objective vectors in evaluation order and seconds."""
    test_problem = make_test_problem(problem_name)
    problem = search_problem(test_problem)
    tuner = tune.Tuner(
        tune.with_parameters(evaluate, problem_name=problem_name),
        tune_config=tune.TuneConfig(
            search_alg=make_searcher(method, problem, seed),
            num_samples=evals,
            max_concurrent_trials=1,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=f"{problem_name}-{method}-{seed}", storage_path=storage, verbose=0
        ),
    )
    start = time.perf_counter()
    grid = tuner.fit()
    seconds = time.perf_counter() - start
    # Trial folders are named <trainable>_<trial id>_..., and trial ids end in a
    # zero-padded creation counter: with one trial at a time, that is evaluation order.
    results = sorted(grid, key=lambda r: os.path.basename(r.path))
    values = [None if r.error else problem.metric_values(r.metrics) for r in results]
    return [None if v is None else list(v.values()) for v in values], seconds


def hv_fractions(
    values: list[list[float] | None], test_problem: Any, checkpoints: list[int]
) -> dict[int, float]:
    """Fraction of ``max_hv`` dominated by the first n evaluations, for each checkpoint."""
    ref = test_problem.ref_point.tolist()
    dirs = ["min"] * len(ref)
    out = {}
    for n in checkpoints:
        seen = [v for v in values[:n] if v is not None]
        out[n] = hypervolume(seen, dirs, ref) / test_problem.max_hv
    return out


def summarize(per_seed: list[dict[int, float]]) -> dict[str, dict[str, float]]:
    """``{checkpoint: {mean, min, max}}`` over seeds."""
    return {
        str(n): {
            "mean": statistics.fmean(s[n] for s in per_seed),
            "min": min(s[n] for s in per_seed),
            "max": max(s[n] for s in per_seed),
        }
        for n in per_seed[0]
    }


def print_table(problem_name: str, table: dict[str, dict[str, Any]]) -> None:
    print(f"\n{problem_name}: fraction of max hypervolume, mean (min..max) over seeds")
    for method, row in table.items():
        cells = "  ".join(
            f"@{n}: {c['mean']:.3f} ({c['min']:.3f}..{c['max']:.3f})"
            for n, c in row["hv_frac"].items()
        )
        print(f"  {method:>7}  {cells}  [{row['seconds_per_eval']:.2f} s/eval]")


def targets(table: dict[str, dict[str, Any]]) -> dict[str, bool | None]:
    """The issue's targets on BraninCurrin (None where a method or checkpoint did not run)."""
    if "ax" not in table:
        return {}
    ax = table["ax"]["hv_frac"]
    out: dict[str, bool | None] = {
        "ax_mean_ge_0.97_at_50": ax["50"]["mean"] >= 0.97 if "50" in ax else None,
        "ax_min_ge_0.95_at_50": ax["50"]["min"] >= 0.95 if "50" in ax else None,
    }
    rnd = table.get("random", {}).get("hv_frac", {})
    for n in ("20", "30", "50"):
        both = n in ax and n in rnd
        out[f"ax_above_random_at_{n}"] = ax[n]["mean"] > rnd[n]["mean"] if both else None
    return out


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--evals", type=int, default=50, help="evaluations per search")
    p.add_argument("--seeds", type=int, default=5, help="seeds per method")
    p.add_argument("--methods", default=",".join(METHODS), help="ax,nsga2,tpe,gp,random")
    p.add_argument("--problems", default="branincurrin,dtlz2", help="branincurrin,dtlz2")
    p.add_argument("--checkpoints", default="20,30,50", help="evaluation counts to report")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)  # Ax fits its models in this (driver) process
    set_ax_logger_levels(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", message="Very small noise values detected")
    methods = args.methods.split(",")
    checkpoints = sorted({n for n in map(int, args.checkpoints.split(",")) if n <= args.evals})
    checkpoints = sorted(set(checkpoints) | {args.evals})
    # A private local Ray (never someone else's cluster on a shared machine), 1 thread/worker.
    connect(num_cpus=4, runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}}, log_to_driver=False)
    report: dict[str, Any] = {"evals": args.evals, "seeds": args.seeds, "problems": {}}
    with tempfile.TemporaryDirectory(prefix="moo_hv_") as storage:
        for problem_name in args.problems.split(","):
            test_problem = make_test_problem(problem_name)
            table: dict[str, dict[str, Any]] = {}
            for method in methods:
                per_seed, seconds = [], 0.0
                for seed in range(args.seeds):
                    values, secs = run_search(problem_name, method, seed, args.evals, storage)
                    per_seed.append(hv_fractions(values, test_problem, checkpoints))
                    seconds += secs
                    fracs = " ".join(f"@{n}={f:.3f}" for n, f in per_seed[-1].items())
                    print(
                        f"{problem_name} {method} seed {seed}: {fracs} ({secs:.0f} s)", flush=True
                    )
                table[method] = {
                    "hv_frac": summarize(per_seed),
                    "seconds_per_eval": seconds / (args.seeds * args.evals),
                }
            report["problems"][problem_name] = table
            print_table(problem_name, table)
    ray.shutdown()

    head = report["problems"].get("branincurrin", {})

    def at50(method: str, stat: str) -> float | None:
        return head.get(method, {}).get("hv_frac", {}).get("50", {}).get(stat)

    report["ax_hv_frac_at_50"] = at50("ax", "mean")
    report["ax_hv_frac_at_50_min"] = at50("ax", "min")
    report["random_hv_frac_at_50"] = at50("random", "mean")
    report["targets"] = targets(head)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
