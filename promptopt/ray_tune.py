"""Ray Tune wiring of ``python -m promptopt tune``: optimizer choice and hyperparameters,
two objectives (validation accuracy, max; LLM tokens, min), Optuna's multi-objective
searcher from :mod:`moo.searchers`, every trial calling the one shared ``llm`` app.

A trial's tokens count every completion it consumed, whether the endpoint computed it or the
shared response cache returned it (:class:`~promptopt.evaluator.CountingLLM`, with a private
evaluation table), so the cost objective does not depend on which trial ran first; the
machine still computes each distinct request once.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from ray import tune
from ray.tune.search import Searcher

from moo.report import front_table, write_pareto_artifacts
from moo.searchers import (
    AxMOOSearcher,
    Objective,
    Param,
    SearchProblem,
    make_optuna_searcher,
)
from promptopt import build
from promptopt.config import PromptOptConfig, TuneConfig
from promptopt.evaluator import CountingLLM
from promptopt.jobs import endpoint, open_run
from promptopt.protocols import mean_correct
from serving.ledger import BudgetLedger
from serving.runs import RunDir

logger = logging.getLogger(__name__)
OBJECTIVES = (Objective("accuracy", "max", 0.0), Objective("llm_tokens", "min"))


def search_problem(cfg: TuneConfig) -> SearchProblem:
    """Method (when there is a choice), then each method's hyperparameters (conditional)."""
    params: list[Param] = []
    if len(cfg.methods) > 1:
        params.append(Param("method", choices=tuple(cfg.methods)))

    def when(method: str) -> dict[str, tuple[str, ...]]:
        return {"method": (method,)} if len(cfg.methods) > 1 else {}

    if "opro" in cfg.methods:
        params += [
            Param("candidates_per_step", *cfg.opro_candidates_per_step, integer=True,
                  when=when("opro")),
            Param("num_buckets", choices=tuple(cfg.opro_num_buckets), when=when("opro")),
            Param("temperature", *cfg.opro_temperature, when=when("opro")),
        ]  # fmt: skip
    if "protegi" in cfg.methods:
        params += [
            Param("beam_width", *cfg.protegi_beam_width, integer=True, when=when("protegi")),
            Param("c", *cfg.protegi_c, when=when("protegi")),
            Param("n_gradients", *cfg.protegi_n_gradients, integer=True, when=when("protegi")),
        ]
    return SearchProblem(tuple(params), OBJECTIVES)


def make_searcher(problem: SearchProblem, sampler: str, seed: int) -> Searcher:
    """The multi-objective Tune searcher shared with compress: Ax (qLogNEHVI) or Optuna."""
    if sampler == "ax":
        return AxMOOSearcher(problem, seed=seed)
    return make_optuna_searcher(problem, sampler, seed=seed)


def trial_config(config: PromptOptConfig, params: dict[str, Any]) -> tuple[str, PromptOptConfig]:
    """The method and the run config of one trial's parameters."""
    method = params.get("method", config.tune.methods[0])
    if method == "opro":
        section = dataclasses.replace(
            config.opro,
            steps=config.tune.opro_steps,
            candidates_per_step=int(params["candidates_per_step"]),
            num_buckets=int(params["num_buckets"]),
            temperature=float(params["temperature"]),
        )
        return method, dataclasses.replace(config, opro=section)
    section = dataclasses.replace(
        config.protegi,
        steps=config.tune.protegi_steps,
        beam_width=int(params["beam_width"]),
        c=float(params["c"]),
        n_gradients=int(params["n_gradients"]),
    )
    return method, dataclasses.replace(config, protegi=section)  # fmt: skip


def trainable(
    params: dict[str, Any], config: PromptOptConfig, base_url: str | None, run_path: str
) -> None:
    """One trial: optimize on the train set, score the best on validation, report both."""
    method, config = trial_config(config, params)
    ledger = BudgetLedger(config.budget.max_calls, config.budget.max_tokens)
    scorer_client = build.client(config.scorer, base_url, ledger)
    scorer_llm = CountingLLM(scorer_client)
    optimizer_llm = CountingLLM(build.client(config.optimizer, base_url, ledger))
    scorer = build.evaluator(config, scorer_llm, table={}, fan_out=False, model=scorer_client.model)
    train, val, _ = build.samples(config)
    trial = RunDir("trials", tune.get_context().get_trial_name(), root=run_path)
    meter = build.LedgerMeter(ledger)
    edit = build.editor(config, base_url, ledger) if method == "protegi" else None
    edit_llm = CountingLLM(edit) if edit is not None else None
    optimizer, steps = build.optimizer(method, config, optimizer_llm, scorer, train,
                                       trial.append, meter, False, edit_llm)  # fmt: skip
    start = build.initial(config, build.task(config))
    result = optimizer.optimize(start, steps=steps)
    best = result.best.instruction if result.best else start[0]
    accuracy = mean_correct(scorer.score(best, val))
    tokens = sum(c.usage.total_tokens for c in (scorer_llm, optimizer_llm, edit_llm) if c)
    tune.report({"accuracy": accuracy, "llm_tokens": float(tokens), "method": method,
                 "instruction": best, "stopped": result.stopped or "",
                 "llm_calls_made": ledger.usage.calls})  # fmt: skip


def run_tune(config: PromptOptConfig) -> dict[str, Any]:
    """The sweep; writes ``pareto.json``, ``pareto.html``/``.png`` and ``summary.json``."""
    run = open_run(config)
    base_url = endpoint(config)
    from serving.cluster import connect

    connect()
    problem = search_problem(config.tune)
    fn = tune.with_resources(
        tune.with_parameters(trainable, config=config, base_url=base_url,
                             run_path=str(run.path.resolve())),
        {"cpu": config.tune.trial_cpus})  # fmt: skip
    storage = str(run.path.resolve())
    if tune.Tuner.can_restore(f"{storage}/tune"):  # a killed sweep: finish it, redo nothing
        tuner = tune.Tuner.restore(f"{storage}/tune", trainable=fn, resume_errored=True)
    else:
        searcher = make_searcher(problem, config.tune.sampler, config.seed)
        tuner = tune.Tuner(
            fn,
            tune_config=tune.TuneConfig(search_alg=searcher, num_samples=config.tune.num_samples,
                                        max_concurrent_trials=config.tune.max_concurrent),
            run_config=tune.RunConfig(name="tune", storage_path=storage, verbose=1),
        )  # fmt: skip
    grid = tuner.fit()
    for r in grid:
        m = r.metrics or {}
        if r.error is not None or "accuracy" not in m:
            logger.warning("trial %s failed: %s", r.path, r.error)
            continue
        active = problem.active(r.config)
        run.append({"event": "trial", "trial_id": Path(r.path).name, "params": active,
                    "method": m["method"], "accuracy": m["accuracy"],
                    "llm_tokens": m["llm_tokens"], "instruction": m["instruction"]})  # fmt: skip
    # One Pareto report for every package (a restored sweep re-logs its trials: counted once).
    report = write_pareto_artifacts(run.path, {o.name: {"mode": o.mode, "ref": o.ref}
                                               for o in OBJECTIVES})  # fmt: skip
    summary = {
        "method": "tune",
        "name": config.name,
        "trials": report["n_trials"] - report["n_failed"],
        "errors": grid.num_errors,
        "hypervolume": report["hypervolume"],
        "pareto": front_table(report, [o.name for o in OBJECTIVES]),
    }  # fmt: skip
    run.write_json("summary.json", summary)
    return summary
