"""``python -m ecoflow embed | train | validate | optimize | demo [--config F] [--preset P] [k=v ...]``.

- ``embed``: texts (seed bank, GSM8K sentences, user files) → ``corpus.pt`` via ``embed``.
- ``train``: the flow model under Ray Train (DDP); the same command resumes a killed run.
- ``validate``: samples of the best model against the held-out split (``validation.json``).
- ``optimize``: the guided-flow BO loop against the shared ``llm``/``embed`` apps, scored by
  promptopt's evaluator, then the held-out report (``summary.json``, ``progress.png``).
- ``demo``: the whole chain (``--preset demo`` unless a config is given): each of embed,
  train and validate whose output is missing, then optimize. The same command resumes.

Configs: ``configs/ecoflow/`` (``--preset demo``); ``key=value`` overrides come last. The run
folder is ``results/ecoflow/<name>/``. Exit codes: 2 bad config, 1 bad input (a missing
corpus or model, an empty corpus, a mismatched embedding space), with a message saying why.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from ecoflow.config import COMMANDS, load
from serving.cli import add_run_arguments, parse_with_overrides, setup_logging
from serving.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecoflow", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=COMMANDS)
    add_run_arguments(parser, "configs/ecoflow/", "train.epochs=3")
    args = parse_with_overrides(parser, argv)
    setup_logging()
    preset = args.preset or ("demo" if args.command == "demo" and not args.config else None)
    try:
        config = load(args.config, preset, args.overrides)
    except ConfigError as exc:  # before any work starts
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    from ecoflow import jobs
    from ecoflow.optimize import run_optimize

    run = {"embed": jobs.run_embed, "train": jobs.run_train, "validate": jobs.run_validate,
           "optimize": run_optimize, "demo": jobs.run_demo}
    try:
        summary = run[args.command](config)
    except (FileNotFoundError, ValueError) as exc:  # bad input: say what to fix, no traceback
        logging.getLogger("ecoflow").debug("bad input", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(brief(summary), default=str))
    return 0


def brief(summary: dict) -> dict:
    """The summary without per-example vectors and per-prompt lists (for the console)."""
    if not isinstance(summary, dict):
        return summary
    skip = {"per_example", "values", "example_ids"}
    return {k: brief(v) for k, v in summary.items() if k not in skip}


if __name__ == "__main__":
    sys.exit(main())
