"""The adapters inside a real ``ray.tune.Tuner`` run (the session's local Ray, one trial
at a time)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from ray import cloudpickle, tune

from moo.searchers import (
    AxMOOSearcher,
    Objective,
    Param,
    SearchProblem,
    make_optuna_searcher,
)
from moo.searchers.ray_llm import LLMCoordinatorSearcher
from serving.fakes import FakeScriptedLLM

PROBLEM = SearchProblem(
    (Param("x", 0.0, 1.0), Param("kind", choices=("a", "b"))),
    (Objective("f1", "max", 0.0), Objective("f2", "min", 2.0)),
)
BAD = {"x": 0.25, "kind": "b"}


def trainable(config: dict[str, Any]) -> None:
    if config == BAD:
        raise RuntimeError("simulated compression failure")
    tune.report({"f1": config["x"], "f2": (1.0 - config["x"]) ** 2})


# Ray workers need not be able to import this test module by name: ship the trainable by
# value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["ax", "nsga2", "llm"])
def test_tuner_runs_searcher_and_survives_a_failed_trial(
    backend: str, ray_session: Any, tmp_path: Path
) -> None:
    warm = [BAD, {"x": 0.5, "kind": "a"}]
    if backend == "ax":
        searcher = AxMOOSearcher(PROBLEM, points_to_evaluate=warm, seed=0)
    elif backend == "llm":
        llm = FakeScriptedLLM(['{"x": 0.9, "kind": "a"}', "no JSON here"])
        searcher = LLMCoordinatorSearcher(PROBLEM, llm, points_to_evaluate=warm, seed=0)
    else:
        searcher = make_optuna_searcher(PROBLEM, "nsga2", seed=0, points_to_evaluate=warm)
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, num_samples=4, max_concurrent_trials=1),
        run_config=tune.RunConfig(name=backend, storage_path=str(tmp_path), verbose=0),
    )
    grid = tuner.fit()
    assert len(grid) == 4 and grid.num_errors == 1
    assert [r.config for r in grid if r.error is not None] == [BAD]
    # Every other trial ran the config the searcher handed it and reported on it ...
    for r in grid:
        if r.error is None:
            assert r.metrics["f1"] == r.config["x"]
            assert r.metrics["f2"] == pytest.approx((1.0 - r.config["x"]) ** 2)
    # ... and after the two warm-start configs, the searcher suggested two of its own.
    assert sum(r.config not in warm for r in grid) == 2, [r.config for r in grid]

    # Tune checkpointed the searcher with our save(); a fresh one restores from the folder.
    if backend == "llm":
        fresh = LLMCoordinatorSearcher(PROBLEM, FakeScriptedLLM(['{"x": 0.1, "kind": "b"}']))
        fresh.restore_from_dir(str(tmp_path / backend))
        sources = [d["source"] for d in fresh.decisions]
        assert sources == ["warm_start", "warm_start", "llm", "ax_fallback"]
        statuses = fresh.fallback.client.summarize()["trial_status"].tolist()
        assert statuses == ["FAILED", "COMPLETED", "COMPLETED", "COMPLETED"]
    elif backend == "ax":
        fresh = AxMOOSearcher(PROBLEM, seed=0)
        fresh.restore_from_dir(str(tmp_path / backend))
        statuses = fresh.client.summarize()["trial_status"].tolist()
        assert statuses == ["FAILED", "COMPLETED", "COMPLETED", "COMPLETED"]
    else:
        fresh = make_optuna_searcher(PROBLEM, "nsga2", seed=0)
        fresh.restore_from_dir(str(tmp_path / backend))
        states = [t.state.name for t in fresh._ot_study.trials]
        assert states == ["FAIL", "COMPLETE", "COMPLETE", "COMPLETE"]
    assert fresh.suggest("next") is not None
