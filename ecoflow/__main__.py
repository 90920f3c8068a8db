"""``python -m ecoflow embed | train | validate | optimize | demo [--config F] [--preset P] [k=v ...]``.

- ``embed``: texts (a seed bank, instructions induced from the task's examples, GSM8K
  sentences on gsm8k, user files; :mod:`ecoflow.sources`) → ``corpus.pt`` via ``embed``.
- ``train``: the flow model under Ray Train (DDP); the same command resumes a killed run.
- ``validate``: samples of the best model against the held-out split (``validation.json``).
- ``optimize``: the guided-flow BO loop against the shared ``llm``/``embed`` apps, scored by
  promptopt's evaluator, then the held-out report (``summary.json``, ``progress.png``).
- ``demo``: the whole chain (``--preset demo`` unless a config is given): each of embed,
  train and validate whose output is missing, then optimize. The same command resumes.

Configs: ``configs/ecoflow/`` (``--preset demo``); ``key=value`` overrides come last. The run
folder is ``results/ecoflow/<name>/``. Exit codes: 2 bad config, 1 bad input (a missing
corpus or model, an empty corpus, a mismatched embedding space), 3 the ``llm``/``embed``
endpoint is down, 5 the LLM budget is spent (:mod:`serving.cli`), each with one line saying
why; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from ecoflow.config import COMMANDS, load
from serving.cli import (
    add_debug_argument,
    add_run_arguments,
    parse_with_overrides,
    run_guarded,
    setup_logging,
)
from serving.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ecoflow", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=COMMANDS)
    add_run_arguments(parser, "configs/ecoflow/", "train.epochs=3")
    add_debug_argument(parser)
    args = parse_with_overrides(parser, argv)
    setup_logging()
    return run_guarded(lambda: _main(args), "python -m ecoflow", debug=args.debug)


def _main(args: argparse.Namespace) -> int:
    preset = args.preset or ("demo" if args.command == "demo" and not args.config else None)
    try:
        config = load(args.config, preset, args.overrides)
    except ConfigError as exc:  # before any work starts
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    from ecoflow import jobs
    from ecoflow.demo import run_demo
    from ecoflow.optimize import run_optimize

    run = {"embed": jobs.run_embed, "train": jobs.run_train, "validate": jobs.run_validate,
           "optimize": run_optimize, "demo": run_demo}
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
