"""``python -m compress search | grid | evaluate | report | dashboard``.

- ``search [--config F | --preset P] [k=v ...]``: the multi-objective Tune search; the run
  folder is ``results/compress/<name>/`` and the same command resumes it.
- ``grid [--preset grid] [--copy-to benchmarks/data/] [k=v ...]``: measure a fixed design
  (standard configs + a Sobol sample) with the search's trials and events; writes
  ``grid.csv`` and ``grid.json`` (the replay benchmark's table); the same command resumes.
- ``evaluate [--config F | --preset P] [k=v ...]``: compress and measure the one config in
  ``evaluate`` (e.g. ``'evaluate={method: rtn, bits: 4, group_size: 64}'``).
- ``report NAME_OR_FOLDER``: rewrite ``results.csv``, ``pareto.json/html/png`` of an
  experiment.
- ``dashboard [--results-dir D] [--port P]``: the web page of every experiment's front.

Configs: ``configs/compress/`` (``--preset demo`` is ``demo.yaml``).

Exit codes (:mod:`serving.cli`): 2 bad config, 3 an endpoint is down, 4 missing data or
model, 5 the LLM budget is spent, each with one line on stderr (``--debug`` adds the
traceback); 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from serving.cli import (
    add_debug_argument,
    add_run_arguments,
    parse_with_overrides,
    run_guarded,
    setup_logging,
)
from serving.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["dashboard"]:
        from moo.dashboard import main as dashboard

        dashboard(argv[1:])
        return 0
    if argv[:1] == ["report"]:
        return report(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m compress", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("search", "grid", "evaluate"))
    add_run_arguments(parser, "configs/compress/", "search.num_samples=8")
    parser.add_argument("--copy-to", help="grid: also copy grid.json/grid.csv into this folder "
                        "(sets grid.copy_to), e.g. benchmarks/data/")
    add_debug_argument(parser)
    args = parse_with_overrides(parser, argv)
    setup_logging()
    return run_guarded(lambda: _main(args), "python -m compress", debug=args.debug)


def _main(args: argparse.Namespace) -> int:
    from compress.config import load
    from compress.space import InvalidConfigError

    try:
        config = load(args.config, args.preset, args.overrides)
        config.eval.resolved_gsm8k_dir()  # fail before any work when GSM8K is missing
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if args.copy_to:
        config.grid.copy_to = args.copy_to
    if args.command == "search":
        from compress.ray_search import run_search

        summary = run_search(config)
    elif args.command == "grid":
        from compress.ray_grid import run_grid

        summary = run_grid(config)
    else:
        from compress.evaluate import run_evaluate

        try:
            summary = run_evaluate(config)
        except InvalidConfigError as exc:  # the space rejects the config
            print(f"config error: {exc}", file=sys.stderr)
            return 2
    print(json.dumps(summary, default=str))
    return 0


def report(argv: list[str]) -> int:
    """``report NAME_OR_FOLDER``: rewrite the experiment's tables and Pareto artifacts."""
    parser = argparse.ArgumentParser(prog="python -m compress report")
    parser.add_argument("experiment", help="a name under results/compress/ or a folder")
    args = parser.parse_args(argv)
    setup_logging()
    from compress.experiment import write_results_csv
    from moo.report import write_pareto_artifacts
    from serving.runs import results_root

    path = Path(args.experiment)
    if not path.is_dir():
        path = results_root() / "compress" / args.experiment
    if not (path / "events.jsonl").is_file():
        print(f"report: {path} has no events.jsonl (run `python -m compress search` first).",
              file=sys.stderr)
        return 2
    write_results_csv(path)
    doc = write_pareto_artifacts(path)
    print(json.dumps({"experiment": str(path), "trials": doc.get("n_trials"),
                      "hypervolume": doc.get("hypervolume"), "front": doc.get("front")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
