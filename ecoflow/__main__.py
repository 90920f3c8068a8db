"""``python -m ecoflow embed | train | validate | optimize [--config F] [--preset P] [k=v ...]``.

- ``embed``: texts (seed bank, GSM8K sentences, user files) → ``corpus.pt`` via ``embed``.
- ``train``: the flow model under Ray Train (DDP); the same command resumes a killed run.
- ``validate``: samples of the best model against the held-out split (``validation.json``).
- ``optimize``: the guided-flow BO loop (not wired into the CLI yet; see ``ecoflow.bo``).

Configs: ``configs/ecoflow/`` (``--preset tiny``); ``key=value`` overrides come last. The run
folder is ``results/ecoflow/<name>/``.
"""

from __future__ import annotations

import argparse
import json
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
    try:
        config = load(args.config, args.preset, args.overrides)
    except ConfigError as exc:  # before any work starts
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    from ecoflow import jobs

    if args.command == "optimize":
        print("`optimize` is not wired into the CLI yet: use ecoflow.bo.FlowBO directly.",
              file=sys.stderr)
        return 3
    run = {"embed": jobs.run_embed, "train": jobs.run_train, "validate": jobs.run_validate}
    summary = run[args.command](config)
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
