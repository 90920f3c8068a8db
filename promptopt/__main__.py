"""``python -m promptopt opro | protegi | ape | random | fewshot | evaluate | tune | tasks
[--config F] [--preset P] [k=v ...]``.

- ``opro`` / ``protegi`` / ``ape`` / ``random`` / ``fewshot``: optimize a prompt on a task
  (``task.name``: ``gsm8k``, ``sentiment``, ... ``python -m promptopt tasks`` lists them)
  through the shared ``llm`` app, then report the best and the baseline on the held-out test
  split.
- ``tasks``: list the tasks with their data folder, splits, baseline and references.
- ``evaluate``: score ``task.baseline`` and ``evaluation.instructions`` on the held-out sample.
- ``tune``: Ray Tune trials over optimizer choice and hyperparameters; a Pareto front of
  accuracy against LLM tokens.

Configs: ``configs/promptopt/`` (``--preset demo`` is ``<command>_demo.yaml``); ``key=value``
overrides come last. The run folder is ``results/promptopt/<name>/``; the same command
resumes it.
"""

from __future__ import annotations

import argparse
import json
import sys

from promptopt.config import COMMANDS, OPTIMIZERS, load
from serving.cli import (
    add_debug_argument,
    add_run_arguments,
    parse_with_overrides,
    run_guarded,
    setup_logging,
)
from serving.client import EndpointUnavailable
from serving.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m promptopt",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=(*COMMANDS, "tasks"))
    add_run_arguments(parser, "configs/promptopt/", "opro.steps=3")
    add_debug_argument(parser)
    args = parse_with_overrides(parser, argv)
    if args.command == "tasks":
        return list_tasks()
    setup_logging()
    return run_guarded(lambda: _main(args), "python -m promptopt", debug=args.debug)


def _main(args) -> int:
    """Exit codes: 2 bad config, 3 endpoint down, 4 missing task data, 5 budget spent."""
    try:
        config = load(args.command, args.config, args.preset, args.overrides)
    except ConfigError as exc:  # before any work starts
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    try:
        summary = _run(args.command, config)
    except EndpointUnavailable as exc:  # retried already; everything done so far is on disk
        print(f"endpoint unavailable: {exc}\nThe run folder keeps every finished evaluation; "
              "run the same command again to resume once the endpoint is back.", file=sys.stderr)  # fmt: skip
        return 3
    print(json.dumps(_headline(summary)))
    return 0


def list_tasks() -> int:
    """One line per task: its data (or why it cannot be loaded), pool sizes, baseline."""
    import os

    from promptopt.tasks import TASK_NAMES, load_task

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # listing never downloads
    for name in TASK_NAMES:
        if name == "jsonl":
            print("jsonl: your own {input, target} lines: task.name=jsonl task.data_dir=FILE_OR_DIR "
                  "task.scorer=exact|label|number|contains|f1 [task.labels=[..]]")
            continue
        try:
            t = load_task(name)
        except (OSError, ValueError, RuntimeError) as exc:
            print(f"{name}: not available here ({exc})")
            continue
        print(json.dumps({"task": name, "pool": len(t.pool), "test_pool": len(t.test_pool),
                          "labels": t.labels, "baseline": t.baseline,
                          "references": len(t.references), "max_tokens": t.max_tokens,
                          "source": t.source}))  # fmt: skip
    return 0


def _run(command: str, config) -> dict:
    if command in OPTIMIZERS:
        from promptopt.jobs import run_optimizer

        return run_optimizer(config, command)
    if command == "evaluate":
        from promptopt.jobs import run_evaluate

        return run_evaluate(config)
    from promptopt.ray_tune import run_tune

    return run_tune(config)


def _headline(summary: dict) -> dict:
    """The last line: what a reader needs (accuracies, intervals, spend)."""
    out = {k: summary[k] for k in ("method", "name", "stopped", "wall_s") if k in summary}
    held = summary.get("heldout")
    if held:
        out["heldout_n"] = held["n"]
        for name, r in held["results"].items():
            out[name] = {"accuracy": r["accuracy"], "ci95": r["ci95"]}
        out["differences"] = held["differences"]
    if "usage" in summary:
        out["usage"] = summary["usage"]
    if "pareto" in summary:
        out["pareto"] = summary["pareto"]
    return out


if __name__ == "__main__":
    sys.exit(main())
