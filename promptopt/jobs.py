"""The jobs behind ``python -m promptopt opro | protegi | evaluate``.

A job deploys (or reuses) the shared ``llm`` app, optimizes against it through the client,
writes every event to ``results/promptopt/<name>/events.jsonl`` and finishes with the
held-out report (``summary.json``, ``progress.png``/``.html``). Started again with the same
command, a job replays its events from the response cache and the evaluation table, so it
repeats no evaluation and loses nothing already written.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from promptopt import build
from promptopt.config import PromptOptConfig
from promptopt.plots import write_progress
from promptopt.report import heldout_report, progress_points
from promptopt.resume import ReplaySink
from serving.ledger import BudgetLedger
from serving.runs import RunDir, attach_run_log

logger = logging.getLogger(__name__)
# Every new event in full (prompts never truncated) goes to the run's run.log only.
event_log = logging.getLogger("promptopt.events")


def endpoint(config: PromptOptConfig) -> str | None:
    """Deploy the ``llm`` app when asked (reusing a running one); its ``/v1`` URL or None."""
    if not config.deploy:
        return None
    from serving.deploy import ensure_running  # Ray wiring: only when deploying

    return f"{ensure_running(config.serving)}/v1"


def open_run(config: PromptOptConfig) -> RunDir:
    """The run folder with its config saved (a resumed run must use the same config), and a
    ``run.log`` that holds every new event in full (prompts never truncated)."""
    run = RunDir("promptopt", config.name)
    run.save_config(config)
    attach_run_log(run, event_log)
    return run


def saved_ledger(run: RunDir, max_calls: int | None, max_tokens: int | None) -> BudgetLedger:
    """A ledger with the caps, continuing the spend a killed run had recorded."""
    ledger = BudgetLedger(max_calls, max_tokens)
    path = run.path / "ledger.json"
    if path.is_file():
        ledger.load_state(json.loads(path.read_text()))
        logger.info("resuming %s: %s spent so far", run.path, ledger.state())
    return ledger


def run_optimizer(config: PromptOptConfig, method: str) -> dict[str, Any]:
    """Runs one optimizer (OPRO, ProTeGi, APE, random or few-shot search) with the held-out
    report; returns the summary."""
    t0 = time.perf_counter()
    run = open_run(config)
    base_url = endpoint(config)
    ledger = saved_ledger(run, config.budget.max_calls, config.budget.max_tokens)
    scorer_llm = build.client(config.scorer, base_url, ledger)
    optimizer_llm = build.client(config.optimizer, base_url, ledger)
    train, validation, test = build.samples(config)
    table = build.eval_table(config)
    evaluator = build.evaluator(config, scorer_llm, table)
    # Few-shot search scores on train, so its demonstrations come from the validation split
    # (disjoint from train and test; its size is `tune.val_size`).
    demos = validation if method == "fewshot" else None

    def log_event() -> None:
        run.write_json("ledger.json", ledger.state())

    sink = ReplaySink(run.events(), _logged(run.append), method, after_append=log_event)
    meter = build.LedgerMeter(ledger)
    edit_llm = build.editor(config, base_url, ledger) if method == "protegi" else None
    optimizer, steps = build.optimizer(method, config, optimizer_llm, evaluator, train, sink,
                                       meter, config.progress, edit_llm, demos)  # fmt: skip
    the_task = build.task(config)
    result = optimizer.optimize(build.initial(config, the_task), steps=steps)
    logger.info(
        "%s: replayed %d recorded events, wrote %d new", method, sink.replayed, sink.written
    )

    best = result.best.instruction if result.best else the_task.baseline
    report = final_report(config, run, base_url, table, test, best, method)
    summary = {
        "method": method,
        "name": config.name,
        "task": the_task.name,
        "model": report["model"],
        "stopped": result.stopped,
        "steps_completed": result.steps_completed,
        "best_train": None if result.best is None else {
            "instruction": result.best.instruction, "score": result.best.score,
            "n": result.best.n, "step": result.best.step},
        "heldout": report["heldout"],
        "usage": {"optimization": ledger.state(), "report": report["report_usage"]},
        "resume": {"replayed_events": sink.replayed, "new_events": sink.written},
        "wall_s": round(time.perf_counter() - t0, 1),
    }  # fmt: skip
    run.write_json("summary.json", summary)
    logger.info("summary: %s", json.dumps(_brief(summary)))
    return summary


def final_report(config: PromptOptConfig, run: RunDir, base_url: str | None, table: Any,
                 test: list, best: str, method: str) -> dict[str, Any]:
    """Held-out baseline vs ``best`` and the progress plot (OPRO, ProTeGi and ecoflow).

    The report's calls go through their own ledger, outside the optimization budget.
    Returns the summary's ``model``, ``heldout`` and ``report_usage`` (that ledger's).
    """
    report_ledger = BudgetLedger()
    scorer = build.client(config.scorer, base_url, report_ledger)
    evaluator = build.evaluator(config, scorer, table)
    the_task = build.task(config)
    logger.info("held-out report on %d %s test examples: baseline %r vs best %r",
                len(test), the_task.name, the_task.baseline, best)
    heldout = heldout_report(evaluator, test, {"baseline": the_task.baseline, "best": best},
                             n_resamples=config.evaluation.n_resamples, seed=config.seed,
                             majority=the_task.majority_accuracy(test))
    write_progress(progress_points(run.events()), run.path,
                   title=f"{method}: best-so-far train accuracy")
    return {"model": scorer.model, "heldout": heldout, "report_usage": report_ledger.state()}


def run_evaluate(config: PromptOptConfig) -> dict[str, Any]:
    """Scores ``task.baseline`` and ``evaluation.instructions`` on the held-out sample."""
    t0 = time.perf_counter()
    run = open_run(config)
    ledger = BudgetLedger(config.budget.max_calls, config.budget.max_tokens)
    llm = build.client(config.scorer, endpoint(config), ledger)
    _, _, test = build.samples(config)
    the_task = build.task(config)
    named = {"baseline": the_task.baseline}
    named.update({f"instruction_{i}": s for i, s in enumerate(config.evaluation.instructions)})
    heldout = heldout_report(
        build.evaluator(config, llm),
        test,
        named,
        n_resamples=config.evaluation.n_resamples,
        seed=config.seed,
        majority=the_task.majority_accuracy(test),
    )
    summary = {
        "method": "evaluate",
        "name": config.name,
        "model": llm.model,
        "heldout": heldout,
        "usage": ledger.state(),
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    run.append({"method": "evaluate", "event": "report", **_brief(summary)})
    run.write_json("summary.json", summary)
    logger.info("summary: %s", json.dumps(_brief(summary)))
    return summary


def _logged(append):
    def write(event: dict[str, Any]) -> None:
        append(event)
        event_log.info("event %s", json.dumps(event, ensure_ascii=False))

    return write


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary without per-example vectors (for logs and the console)."""
    held = summary["heldout"]
    results = {
        k: {kk: vv for kk, vv in v.items() if kk != "per_example"}
        for k, v in held["results"].items()
    }
    out = {k: v for k, v in summary.items() if k != "heldout"}
    out["heldout"] = {"n": held["n"], "results": results, "differences": held["differences"],
                      "majority_label_accuracy": held.get("majority_label_accuracy")}
    return out
