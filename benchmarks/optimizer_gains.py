"""Equal-budget benchmark: do the optimizers beat the baselines on tasks with room?

For each task and seed, every method spends at most the same number of LLM calls
(optimizer + scorer calls, from a ledger that also charges cache hits, so a method never
rides on another's cached answers) and selects on the same validation split:

- ``baseline``: the task's baseline instruction (no search);
- ``reference``: the best instruction people wrote, chosen on validation (its cost is
  references x validation size, reported);
- ``random``, ``ape``, ``opro``, ``protegi``: :mod:`promptopt.sampling`, :mod:`promptopt.opro`,
  :mod:`promptopt.protegi` through the shared ``llm`` app, settings from
  ``configs/promptopt/gains.yaml``, stopped by the budget;
- ``fewshot``: :class:`promptopt.sampling.FewShotSearch`, the baseline instruction plus
  seeded draws of labeled train demonstrations (no model writes anything), same budget;
- ``ecoflow``: :mod:`ecoflow.bench` (flow matching + GP-guided sampling, same budget).

The instruction a method would return at budget ``b`` is its best-scored one among the
evaluations finished within ``b`` calls; it is scored on the held-out test split (outside
the budget, shared evaluation table): accuracy (the task's extractor) with a Wilson 95% CI,
APE's strict score, the majority-label accuracy, and paired-bootstrap differences against
the baseline and against the best reference. Reruns are free: the response cache answers
every seeded call again.

    INSTRUCTION_INDUCTION_DIR=../shared/data/instruction-induction \\
        python benchmarks/optimizer_gains.py --spread          # pick tasks: the references' spread
    INSTRUCTION_INDUCTION_DIR=... python benchmarks/optimizer_gains.py \\
        --tasks first_word_letter,singular_to_plural,sentiment,larger_animal --budgets 100,200,400 --seeds 0,1

Writes ``--out`` (JSON, every number), ``.md`` (the table) and ``.png`` (best-so-far
validation accuracy against LLM calls, one panel per task); prints the headline JSON last.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from promptopt import build
from promptopt.config import PRESET_DIR, PromptOptConfig
from promptopt.report import heldout_report
from promptopt.tasks import Task
from serving.cli import setup_logging
from serving.config import load_config
from serving.ledger import BudgetLedger
from serving.stats import accuracy, paired_bootstrap

log = logging.getLogger("optimizer_gains")
SEARCHERS = ("random", "ape", "opro", "protegi", "fewshot", "ecoflow")


def base_config(task: str, args: argparse.Namespace) -> PromptOptConfig:
    overrides = [f"task.name={task}", f"task.train_size={args.train_size}",
                 f"task.test_size={args.test_size}", f"tune.val_size={args.val_size}",
                 f"serving.llm.engine={args.engine}"]
    if args.engine == "llamacpp":
        # llama.cpp runs a batch's requests one after another in prompt order, reusing the KV
        # cache of a shared prefix (one instruction over many inputs): a 1 s batch window
        # gathers each run's examples into one batch instead of many batches of 1-2.
        overrides += ["serving.llm.batch_wait_timeout_s=1.0", "serving.llm.max_batch_size=64"]
    return load_config(PromptOptConfig, str(PRESET_DIR / "gains.yaml"), overrides)


def run_search(config: PromptOptConfig, method: str, seed: int, budget: int, base_url: str,
               val: list, train: list) -> list[dict[str, Any]]:
    """One method's run under a charging ledger; its events (with ``llm_calls``)."""
    config = replace(config, seed=seed)
    ledger = BudgetLedger(max_calls=budget, charge_cached=True)
    if method == "ecoflow":  # ecoflow/bench.py: induction, decoding and scoring on this ledger
        from ecoflow.bench import run_ecoflow

        embed_url = f"{base_url.removesuffix('/v1')}/embed/v1"  # ensure_running's embed app
        return run_ecoflow(config, base_url, embed_url, val, train, seed, budget, ledger)
    llm = build.client(config.scorer, base_url, ledger)
    scorer = build.evaluator(config, llm, table={}, fan_out=False)  # private table: all charged
    events: list[dict[str, Any]] = []
    meter = build.LedgerMeter(ledger)
    opt, steps = build.optimizer(method, config, llm, scorer, val, events.append, meter, False,
                                 demos=train)  # APE's and few-shot search's pool
    task = build.task(config)
    result = opt.optimize(build.initial(config, task), steps=steps)
    log.info("%s/%s seed %d: %d calls, stopped: %s", task.name, method, seed, ledger.usage.calls,
             result.stopped)
    return events


def best_within(events: list[dict[str, Any]], budget: int) -> tuple[str, float] | None:
    """The best-scored instruction among evaluations finished within ``budget`` calls."""
    best = None
    for e in events:
        if e.get("llm_calls", 0) > budget:
            break
        if e.get("event") == "evaluated":
            cand = (e["instruction"], e["score"])
        elif e.get("event") == "beam" and e.get("beam"):
            cand = (e["beam"][0]["instruction"], e["beam"][0]["score"])
        else:
            continue
        if best is None or cand[1] > best[1]:
            best = cand
    return best


def curve(events: list[dict[str, Any]], val_score) -> list[list[float]]:
    """``[[calls, validation accuracy of the best so far], ...]`` at each scoring event."""
    points = []
    for e in events:
        if e.get("event") in ("evaluated", "beam"):
            best = best_within(events, e.get("llm_calls", 0))
            if best:
                points.append([e.get("llm_calls", 0), val_score(best[0])])
    return points


def task_block(task: Task, config: PromptOptConfig, args, base_url: str) -> dict[str, Any]:
    """Every method and seed on one task: validation curves and held-out reports."""
    t0 = time.perf_counter()
    train, val, test = build.samples(config)
    report_ledger = BudgetLedger()
    evaluator = build.evaluator(config, build.client(config.scorer, base_url, report_ledger),
                                fan_out=False)

    def val_score(instruction: str) -> float:
        return accuracy([int(o.correct) for o in evaluator.score(instruction, val)]).value

    refs = {r: val_score(r) for r in task.references} if task.references else {}
    best_ref = max(refs, key=refs.get) if refs else task.baseline
    budgets = sorted(args.budgets)
    jobs = [(m, s) for m in args.methods if m in SEARCHERS for s in args.seeds]
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = {pool.submit(run_search, config, job[0], job[1], budgets[-1], base_url,
                               val, train): job for job in jobs}  # fmt: skip
        done = {futures[f]: f.result() for f in tqdm(as_completed(futures), total=len(jobs),
                                                     desc=f"{task.name} searches")}
        runs = {job: done[job] for job in jobs}
    rows: list[dict[str, Any]] = []
    named = {"baseline": task.baseline, "reference": best_ref}
    picks: dict[tuple[str, int, int], str] = {}
    for (method, seed), events in runs.items():
        for b in budgets:
            best = best_within(events, b)
            picks[(method, seed, b)] = best[0] if best else task.baseline
    distinct = dict.fromkeys([*named.values(), *picks.values()])
    held = heldout_report(evaluator, test, {f"i{i}": s for i, s in enumerate(distinct)},
                          baseline="i0", n_resamples=args.resamples,
                          majority=task.majority_accuracy(test))
    by_text = {s: held["results"][f"i{i}"] for i, s in enumerate(distinct)}
    vec = {s: r["per_example"] for s, r in by_text.items()}

    def row(method: str, seed: int | None, budget: int | None, text: str, calls: int) -> dict:
        r = by_text[text]
        vs_base = paired_bootstrap(vec[text], vec[task.baseline], n_resamples=args.resamples)
        vs_ref = paired_bootstrap(vec[text], vec[best_ref], n_resamples=args.resamples)
        return {"task": task.name, "method": method, "seed": seed, "budget": budget,
                "llm_calls": calls, "instruction": text, "validation": val_score(text),
                "heldout": r["accuracy"], "ci95": r["ci95"], "strict": r["strict_accuracy"],
                "unparsed": r["unparsed"],
                "vs_baseline": {"diff": vs_base.mean_diff, "ci95": [vs_base.low, vs_base.high]},
                "vs_reference": {"diff": vs_ref.mean_diff, "ci95": [vs_ref.low, vs_ref.high]}}

    rows.append(row("baseline", None, None, task.baseline, len(val)))
    rows.append(row("reference", None, None, best_ref, len(val) * max(1, len(refs))))
    for (method, seed, b), text in picks.items():
        spent = max((e.get("llm_calls", 0) for e in runs[(method, seed)]
                     if e.get("llm_calls", 0) <= b), default=0)
        rows.append(row(method, seed, b, text, spent))
    curves = {f"{m}/s{s}": curve(ev, val_score) for (m, s), ev in runs.items()}
    return {"task": task.name, "n_test": len(test), "n_val": len(val), "n_train": len(train),
            "majority_label_accuracy": held["majority_label_accuracy"],
            "references_validation": refs, "best_reference": best_ref, "rows": rows,
            "curves": curves, "report_calls": report_ledger.usage.calls,
            "wall_s": round(time.perf_counter() - t0, 1)}


def spread(tasks: list[str], args, base_url: str) -> list[dict[str, Any]]:
    """Each task's baseline and references on validation: where instructions matter."""
    out = []
    for name in tasks:
        config = base_config(name, args)
        task = build.task(config)
        _, val, _ = build.samples(config)
        ev = build.evaluator(config, build.client(config.scorer, base_url, BudgetLedger()),
                             fan_out=False)
        scores = {s: sum(o.correct for o in ev.score(s, val)) / len(val)
                  for s in dict.fromkeys([task.baseline, *task.references])}
        strict = {s: sum(o.strict for o in ev.score(s, val)) / len(val) for s in scores}
        line = {"task": name, "n_val": len(val), "baseline": scores[task.baseline],
                "worst_reference": min(scores.values()), "best_reference": max(scores.values()),
                "spread": max(scores.values()) - min(scores.values()),
                "strict_best": max(strict.values()), "scores": scores}
        print(json.dumps(line), flush=True)
        out.append(line)
    return out


def provenance() -> dict[str, Any]:
    """Commit, date and machine of the run (for benchmarks/README.md)."""
    import datetime
    import os
    import platform
    import subprocess

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    return {"commit": commit, "date": datetime.date.today().isoformat(),
            "machine": f"{platform.machine()} {os.cpu_count()} cores"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", default="first_word_letter,singular_to_plural,sentiment,larger_animal")
    p.add_argument("--methods", default="baseline,reference,random,ape,opro,protegi,fewshot,ecoflow")
    p.add_argument("--budgets", default="100,200,400")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--val-size", type=int, default=20)
    p.add_argument("--train-size", type=int, default=100,
                   help="APE's and few-shot search's demonstration pool")
    p.add_argument("--test-size", type=int, default=300)
    p.add_argument("--parallel", type=int, default=4, help="method runs at once (one server)")
    p.add_argument("--engine", default="llamacpp", choices=("hf", "llamacpp", "vllm"),
                   help="the llm app's engine (the same model either way)")
    p.add_argument("--resamples", type=int, default=10_000)
    p.add_argument("--spread", action="store_true", help="only measure the references' spread")
    p.add_argument("--out", default="benchmarks/data/optimizer_gains.json")
    args = p.parse_args()
    args.tasks = [t for t in args.tasks.split(",") if t]
    args.methods = [m for m in args.methods.split(",") if m]
    args.budgets = [int(b) for b in args.budgets.split(",")]
    args.seeds = [int(s) for s in args.seeds.split(",")]
    setup_logging()
    from serving.deploy import ensure_running

    t0 = time.perf_counter()
    serving = base_config(args.tasks[0], args).serving
    if "ecoflow" in args.methods:  # ecoflow encodes through the `embed` app
        serving = replace(serving, enable_embed=True)
    base_url = f"{ensure_running(serving)}/v1"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.spread:
        result = {"spread": spread(args.tasks, args, base_url),
                  "wall_s": round(time.perf_counter() - t0, 1)}
        out.with_name(out.stem + "_spread.json").write_text(json.dumps(result, indent=1))
        print(json.dumps({"wall_s": result["wall_s"]}))
        return
    from gains_report import headline, markdown, plot  # beside this file

    blocks = []
    for name in args.tasks:
        blocks.append(task_block(build.task(base_config(name, args)), base_config(name, args),
                                 args, base_url))
        log.info("%s done in %.0f s", name, blocks[-1]["wall_s"])
        out.write_text(json.dumps({"args": vars(args), "tasks": blocks}, indent=1))
    result = {"args": vars(args), "tasks": blocks, "wall_s": round(time.perf_counter() - t0, 1),
              "provenance": provenance()}
    result["headline"] = headline(result)
    out.write_text(json.dumps(result, indent=1))
    out.with_suffix(".md").write_text(markdown(result))
    plot(result, out.with_suffix(".png"))
    print(json.dumps(result["headline"]))


if __name__ == "__main__":
    main()
