"""``python -m alignment baseline | generate | train | evaluate | run [--stage N] [--preset P] [k=v ...]``.

- ``baseline``: the base model on the held-out IFEval subset (``$IFEVAL_DIR`` or
  ``eval.ifeval_dir``), scored by lm-eval's IFEval checker.
- ``generate``: a stage's data, made by the previous stage's model through the ``llm`` app:
  judged pairs (Self-Instruct → responses → critiques → revisions → A/B pairs) and/or
  verifiable-rule pairs (constrained instructions → samples → checked → pairs), per
  ``generate.pair_source``.
- ``train``: SFT on the revisions and passing samples, then DPO on the pairs, under Ray Train.
- ``evaluate``: serve the stage's model, score it on IFEval, stage minus base with intervals,
  compare it with the base; the report.
- ``run``: all of the above, for every stage (or only ``--stage N``, 1-based).

Configs: ``configs/alignment/`` (``--preset demo`` is ``demo.yaml``); ``key=value``
overrides come last. The run folder is ``results/alignment/<run_name>/``; the same command
resumes it (finished items, shards, checkpoints and steps are skipped).

Exit codes (:mod:`serving.cli`): 2 bad config, 3 the ``llm`` endpoint is down, 4 missing
data or model, 5 the LLM budget is spent, each with one line on stderr (``--debug`` adds the
traceback); 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from serving.cli import (
    add_debug_argument,
    add_run_arguments,
    parse_with_overrides,
    run_guarded,
    setup_logging,
)
from serving.config import ConfigError

COMMANDS = ("baseline", "generate", "train", "evaluate", "run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alignment", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--stage", type=int, help="one stage, 1-based (default: every stage)")
    add_run_arguments(parser, "configs/alignment/", "dpo.loss_type=ipo dpo.smoothing=none")
    add_debug_argument(parser)
    args = parse_with_overrides(parser, argv)
    setup_logging()
    return run_guarded(lambda: _main(args), "python -m alignment", debug=args.debug)


def _main(args: argparse.Namespace) -> int:
    from alignment.config import load
    from alignment.pipeline import Pipeline
    from alignment.report import slim

    start = time.perf_counter()
    try:  # everything that can be checked is checked before any work starts
        pipeline = Pipeline(load(args.config, args.preset, args.overrides))
        indices = pipeline.stages(args.stage)
    except (ConfigError, KeyError) as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        out = pipeline.run_all(args.stage)
    elif args.command == "baseline":
        out = slim(pipeline.baseline())
    else:
        step = getattr(pipeline, args.command)
        out = {pipeline.config.stages[i]: step(i) for i in indices}
        if args.command == "evaluate":
            out = pipeline.report()
    summary = {"command": args.command, "run": str(pipeline.run.path),
               "wall_s": round(time.perf_counter() - start, 1), **_headline(out)}
    pipeline.run.write_json(f"summary_{args.command}.json", summary)
    print(json.dumps(summary, default=str))
    return 0


def _headline(out: dict) -> dict:
    from alignment.report import slim

    if "rows" in out:
        return {"rows": out["rows"]}
    return {"result": {k: slim(v) if isinstance(v, dict) else v for k, v in slim(out).items()}}


if __name__ == "__main__":
    sys.exit(main())
