"""Does an alignment stage measurably change the model? Base vs stage on held-out IFEval,
and model-judged vs verifiable-rule vs both kinds of preference pairs at one pair budget.

One alignment run per pair source (``generate.pair_source`` = ``judge``, ``rules``, ``both``),
otherwise identical (the ``--preset``, first curriculum stage only), each trained on at most
``--budget`` pairs (``generate.pair_budget``; ``both`` takes them in turns from the two
sources). Every run scores the base and its stage model on the same seeded IFEval subset
(``eval.ifeval_n``, ``eval.ifeval_seed``) with lm-eval's checker, so all the score vectors
are paired: stage minus base per source, and source minus source, each get a 95% paired
bootstrap interval; each accuracy gets a 95% Wilson interval.

Self-Instruct must yield enough judged pairs for the budget, so the ``judge`` and ``both``
runs ask for ``1.5 x budget`` instructions (``generate.instructions``, ``max_calls`` twice
that); ``key=value`` overrides come last and apply to every run. A source with fewer pairs
than the budget is trained on what it has and flagged ``under_budget``; one with fewer than
``dpo.min_pairs`` is reported as an error and the others go on. Finished steps are reused:
rerunning the same command resumes (runs are ``results/alignment/gain_<source>_b<budget>``).

    IFEVAL_DIR=../shared/data/ifeval python benchmarks/alignment_gain.py \\
        [--budget 100] [--sources judge,rules,both] [--preset demo] [key=value ...]

Needs the shared ``llm`` app serving the preset's model, as ``python -m alignment run`` does.
Prints one JSON object (also written to ``results/alignment/gain_b<budget>.json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from alignment.config import load
from alignment.ifeval.score import IFEvalScore, paired_difference
from alignment.pipeline import Pipeline
from serving.cli import setup_logging
from serving.runs import results_root, write_json_atomic

log = logging.getLogger("alignment_gain")
SOURCES = ("judge", "rules", "both")


def run_source(source: str, args: argparse.Namespace) -> tuple[dict[str, Any], IFEvalScore | None]:
    """Generate, train and evaluate stage 1 with one pair source; its summary and score."""
    wanted = int(args.budget * 1.5)
    overrides = [f"run_name=gain_{source}_b{args.budget}", f"generate.pair_source={source}",
                 f"generate.pair_budget={args.budget}", f"generate.instructions={wanted + 8}",
                 "generate.heldout=8", f"generate.max_calls={2 * wanted}", *args.overrides]
    config = load(None, args.preset, overrides)
    config.stages = config.stages[:1]
    pipeline = Pipeline(config)
    start = time.perf_counter()
    out: dict[str, Any] = {"run": str(pipeline.run.path), "stage": config.stages[0]}
    try:
        pipeline.baseline()
        pipeline.generate(0)
        available = len(pipeline.store(0).records("pairs"))
        out.update(pairs_available=available, under_budget=available < args.budget)
        trained = pipeline.train(0)
        result = pipeline.evaluate(0)
        pipeline.report()
    except RuntimeError as exc:  # too few pairs / no SFT target: reported, the others go on
        log.error("source %s stopped: %s", source, exc)
        return {**out, "error": str(exc)}, None
    out.update(pairs_used=result["pairs"], pairs_by_source=result["pairs_by_source"],
               train_pairs=trained["train_pairs"], sft_rows=trained["sft_rows"],
               ifeval=result["ifeval"], vs_base=result["vs_base"],
               reward_accuracy=result["reward_accuracy"], wall_s=round(time.perf_counter() - start, 1))
    return out, IFEvalScore.from_dict(result["ifeval_vectors"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=100, help="pairs each source trains on")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--preset", default="demo", help="configs/alignment/<preset>.yaml")
    parser.add_argument("overrides", nargs="*", help="key=value config overrides (every run)")
    args = parser.parse_args()
    setup_logging()
    sources = [s for s in args.sources.split(",") if s]
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown or args.budget < 1:
        parser.error(f"`--sources` takes {list(SOURCES)} (got {unknown}); `--budget` must be >= 1.")
    start = time.perf_counter()
    summary: dict[str, Any] = {"budget": args.budget, "preset": args.preset, "sources": {}}
    scores: dict[str, IFEvalScore] = {}
    for source in sources:
        log.info("pair source %s: generate, train, evaluate", source)
        summary["sources"][source], score = run_source(source, args)
        if score is not None:
            scores[source] = score
    first = next((s for s in summary["sources"].values() if "ifeval" in s), None)
    if first is not None:
        base = json.loads((Path(first["run"]) / "baseline.json").read_text())
        summary.update(ifeval_n=base["ifeval"]["prompt_strict"]["n"], base=base["ifeval"])
    names = [s for s in SOURCES if s in scores]
    summary["between"] = {f"{a}_minus_{b}": paired_difference(scores[a], scores[b])
                          for i, b in enumerate(names) for a in names[i + 1:]}
    summary["wall_s"] = round(time.perf_counter() - start, 1)
    out = results_root() / "alignment" / f"gain_b{args.budget}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, summary)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
