"""Every compress searcher on the real problem, replayed: a recorded grid answers each trial.

    python benchmarks/compress_replay.py                                # benchmarks/data/grid.json
    python benchmarks/compress_replay.py --seeds 2 --budgets 5,10 --methods random,tpe  # smoke
    python benchmarks/compress_replay.py --methods ax,tpe,nsga2,gp,random,llm  # llm: a served model

Each searcher is built exactly as ``python -m compress search`` builds it
(:func:`moo.searchers.make_searcher` behind :class:`DedupSearcher`, warm-started with the
table's standard configs, the baseline known) and driven by ``ray.tune.Tuner`` one trial at a
time, like ``benchmarks/moo_hypervolume.py``; the trainable looks the config up in the table
(:class:`compress.replay.ReplayTable`) instead of compressing and measuring. A proposal the
table lacks is answered by the nearest recorded config under the space's distance, and
counted. Reported, mean/min/max over seeds: the fraction of the table's own maximum
hypervolume after 5/10/15/20/30 trials, distinct configs proposed, nearest-config answers and
seconds per trial; a PNG of hypervolume against trials; the last line is JSON. ``llm`` needs a
served model (``python -m serving up``) and is skipped, with the reason, when none answers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
import urllib.request
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from compress.replay import (  # noqa: E402
    ReplayTable,
    at_budget,
    distinct_counts,
    hv_fractions,
    spread,
)
from moo.searchers.encoding import config_key  # noqa: E402

logger = logging.getLogger("compress_replay")
METHODS = ("ax", "tpe", "nsga2", "gp", "random")
DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "grid.json"


def make_search_alg(table: ReplayTable, method: str, seed: int, warm: bool) -> Any:
    """The searcher ``python -m compress search`` would use (``search.searcher=method``)."""
    from moo.searchers import make_searcher
    from moo.searchers.ray_dedup import DedupSearcher

    starts = table.standard if warm else []
    inner = make_searcher(method, table.problem, seed, starts)
    known = {}
    if table.baseline is not None:
        known[config_key(table.problem.active(table.baseline["params"]))] = {
            **table.baseline["metrics"], "accuracy_drop": 0.0}
    return DedupSearcher(inner, table.problem, known=known, seed=seed)


def lookup_trial(config: dict[str, Any], table_doc: dict[str, Any]) -> None:
    """Tune trainable: the recorded measurement of ``config`` (or of its nearest row)."""
    from ray import tune

    table = ReplayTable.from_dict(table_doc)
    tune.report(table.result(table.lookup(config)))


def run_tune(table: ReplayTable, doc: dict[str, Any], method: str, seed: int, trials: int,
             storage: str, warm: bool) -> list[dict[str, Any]]:
    """One Tune experiment; returns ``{"config", "row", "exact"}`` per trial, in order."""
    from ray import tune

    tuner = tune.Tuner(
        tune.with_parameters(lookup_trial, table_doc=doc),
        tune_config=tune.TuneConfig(search_alg=make_search_alg(table, method, seed, warm),
                                    num_samples=trials, max_concurrent_trials=1,
                                    reuse_actors=True),
        run_config=tune.RunConfig(name=f"{method}-{seed}", storage_path=storage, verbose=0),
    )
    grid = tuner.fit()
    # Trial folders are named <trainable>_<trial id>_..., trial ids end in a zero-padded
    # creation counter: with one trial at a time, that is evaluation order.
    results = sorted(grid, key=lambda r: os.path.basename(r.path))
    return [{"config": table.problem.active(r.config),
             "row": None if r.error else int(r.metrics["replay_row"]),
             "exact": None if r.error else bool(r.metrics["replay_exact"])} for r in results]


def run_direct(table: ReplayTable, method: str, seed: int, trials: int,
               warm: bool) -> list[dict[str, Any]]:
    """The same searcher driven by hand (``suggest``/``on_trial_complete``), no Ray: for
    tests and quick looks."""
    searcher = make_search_alg(table, method, seed, warm)
    out = []
    for n in range(trials):
        config = searcher.suggest(f"t{n:05d}")
        if not isinstance(config, dict):
            break  # FINISHED (nothing new to propose), or waiting: one trial at a time
        answer = table.lookup(config)
        searcher.on_trial_complete(f"t{n:05d}", table.result(answer))
        out.append({"config": table.problem.active(config), "row": answer.row,
                    "exact": answer.exact})
    return out


def score(table: ReplayTable, trials: list[dict[str, Any]], max_hv: float) -> dict[str, Any]:
    """HV-fraction and distinct-config curves (index n-1: after n trials) and the count of
    nearest-config answers."""
    answered = [t["row"] for t in trials if t["row"] is not None]
    return {"hv": hv_fractions(table, answered, max_hv),
            "distinct": distinct_counts(table.problem, [t["config"] for t in trials]),
            "nearest": sum(t["exact"] is False for t in trials), "trials": len(trials)}


def summarize(runs: list[dict[str, Any]], budgets: list[int]) -> dict[str, Any]:
    """Mean/min/max over seeds at each budget."""
    return {
        "hv_frac": {str(b): spread([at_budget(r["hv"], b) for r in runs]) for b in budgets},
        "distinct": {str(b): spread([float(at_budget(r["distinct"], b)) for r in runs])
                     for b in budgets},
        "nearest_answers": spread([float(r["nearest"]) for r in runs]),
        "trials": spread([float(r["trials"]) for r in runs]),
        "seconds_per_trial": sum(r["seconds"] for r in runs) / max(1, sum(r["trials"]
                                                                         for r in runs)),
    }


def llm_unavailable() -> str | None:
    """Why the ``llm`` searcher cannot run here (None when a served model answers)."""
    from serving.client import default_base_url

    url = default_base_url() + "/models"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local endpoint)
            response.read()
    except OSError as exc:
        return f"no served model answers at {url} ({exc}); start one with `python -m serving up`"
    return None


def plot(curves: dict[str, list[list[float]]], path: Path, title: str) -> None:
    """Mean HV fraction against trials per searcher, min-max band over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, runs in curves.items():
        n = max(len(r) for r in runs)
        padded = [r + [r[-1] if r else 0.0] * (n - len(r)) for r in runs]
        x = list(range(1, n + 1))
        ax.plot(x, [sum(c) / len(c) for c in zip(*padded, strict=True)], label=method)
        ax.fill_between(x, [min(c) for c in zip(*padded, strict=True)],
                        [max(c) for c in zip(*padded, strict=True)], alpha=0.15)
    ax.set(xlabel="trials", ylabel="fraction of the table's max hypervolume", title=title,
           ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--table", default=str(DEFAULT_TABLE), help="a grid.json")
    p.add_argument("--methods", default=",".join(METHODS), help="ax,tpe,nsga2,gp,random,llm")
    p.add_argument("--seeds", type=int, default=20, help="seeds per method")
    p.add_argument("--budgets", default="5,10,15,20,30", help="trial counts to report")
    p.add_argument("--no-warm-start", action="store_true", help="skip the standard configs")
    p.add_argument("--driver", choices=("tune", "direct"), default="tune",
                   help="tune: ray.tune.Tuner (the real wiring); direct: suggest/complete by hand")
    p.add_argument("--out", default="results/compress_replay", help="folder for JSON and PNG")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for name in ("ax", "moo.searchers", "optuna"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="Very small noise values detected")
    torch.set_num_threads(1)  # Ax and Optuna's GP fit in this (driver) process
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    table = ReplayTable.load(args.table)  # FileNotFoundError says how to make one
    doc = json.loads(Path(args.table).read_text())
    budgets = sorted(int(b) for b in args.budgets.split(","))
    trials, max_hv = budgets[-1], table.max_hypervolume()
    methods, skipped = args.methods.split(","), {}
    if "llm" in methods and (reason := llm_unavailable()):
        logger.warning("skipping llm: %s", reason)
        skipped["llm"] = reason
        methods.remove("llm")
    own_ray = False
    if args.driver == "tune":
        import ray

        from serving.cluster import connect

        # A private local Ray (never someone else's cluster), 1 thread per worker; one that
        # is already up (a test session's) is used and left running.
        own_ray = not ray.is_initialized()
        connect(num_cpus=4, runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
                log_to_driver=False)
    report: dict[str, Any] = {"table": args.table, "rows": len(table.rows), "max_hv": max_hv,
                              "seeds": args.seeds, "budgets": budgets, "driver": args.driver,
                              "warm_start": not args.no_warm_start, "skipped": skipped,
                              "methods": {}}
    curves: dict[str, list[list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="compress_replay_") as storage:
        for method in methods:
            runs = []
            for seed in range(args.seeds):
                start = time.perf_counter()
                if args.driver == "tune":
                    done = run_tune(table, doc, method, seed, trials, storage,
                                    not args.no_warm_start)
                else:
                    done = run_direct(table, method, seed, trials, not args.no_warm_start)
                runs.append({**score(table, done, max_hv), "seconds": time.perf_counter() - start})
                r = runs[-1]
                logger.info("%s seed %d: %s distinct %d/%d, %d nearest answers (%.0f s)", method,
                            seed, " ".join(f"@{b}={at_budget(r['hv'], b):.3f}" for b in budgets),
                            r["distinct"][-1] if r["distinct"] else 0, r["trials"], r["nearest"],
                            r["seconds"])
            report["methods"][method] = summarize(runs, budgets)
            curves[method] = [r["hv"] for r in runs]
    if own_ray:
        import ray

        ray.shutdown()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot(curves, out / "replay_hv.png", f"replay of {Path(args.table).name} "
         f"({len(table.rows)} configs, {args.seeds} seeds)")
    report["plot"] = str(out / "replay_hv.png")
    (out / "replay.json").write_text(json.dumps(report, indent=1))
    print_table(report)
    print(json.dumps(report))
    return report


def print_table(report: dict[str, Any]) -> None:
    print(f"\nfraction of the table's max hypervolume ({report['max_hv']:.4g}), mean (min..max) "
          f"over {report['seeds']} seeds; distinct configs at the last budget")
    for method, row in report["methods"].items():
        cells = "  ".join(f"@{b}: {c['mean']:.3f} ({c['min']:.3f}..{c['max']:.3f})"
                          for b, c in row["hv_frac"].items())
        last = list(row["distinct"].values())[-1]
        print(f"  {method:>7}  {cells}  distinct {last['mean']:.1f}  nearest "
              f"{row['nearest_answers']['mean']:.1f}  [{row['seconds_per_trial']:.2f} s/trial]")


if __name__ == "__main__":
    main()
