"""Searcher adapters called directly (no Tune run), as Ray's own test_searchers.py does.

Toy problem: x in [0, 1], kind in {a, b}, y in [0, 1] only when kind == b;
maximize f1 = x, minimize f2 = (1 - x)^2 + y. Reference point (0, 2).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from moo.searchers import (
    AxMOOSearcher,
    Constraint,
    Objective,
    Param,
    SearchProblem,
    ax_client_for,
    make_optuna_searcher,
    make_random_searcher,
)

PARAMS = (
    Param("x", low=0.0, high=1.0),
    Param("kind", choices=("a", "b")),
    Param("y", low=0.0, high=1.0, when={"kind": ("b",)}),
)
OBJECTIVES = (Objective("f1", "max", ref=0.0), Objective("f2", "min", ref=2.0))
PROBLEM = SearchProblem(PARAMS, OBJECTIVES)
WARM = {"x": 0.5, "kind": "a"}


def toy(cfg: dict[str, Any]) -> dict[str, float]:
    return {"f1": cfg["x"], "f2": (1.0 - cfg["x"]) ** 2 + cfg.get("y", 0.0)}


# ---------------------------------------------------------------- SearchProblem


def test_problem_conditional_parameters() -> None:
    assert PROBLEM.active({"x": 0.1, "kind": "a", "y": 0.3}) == {"x": 0.1, "kind": "a"}
    assert PROBLEM.active({"x": 0.1, "kind": "b", "y": 0.3}) == {"x": 0.1, "kind": "b", "y": 0.3}
    assert PROBLEM.complete({"x": 0.1, "kind": "a"}) == {"x": 0.1, "kind": "a", "y": 0.0}
    with pytest.raises(ValueError, match="`y` is set but inactive"):
        PROBLEM.validate({"x": 0.1, "kind": "a", "y": 0.3})
    with pytest.raises(ValueError, match="missing the active parameter `y`"):
        PROBLEM.validate({"x": 0.1, "kind": "b"})
    with pytest.raises(ValueError, match="outside"):
        PROBLEM.validate({"x": 1.5, "kind": "a"})
    with pytest.raises(ValueError, match="unknown parameters"):
        PROBLEM.validate({"x": 0.1, "kind": "a", "z": 1})


def test_problem_rejects_bad_definitions() -> None:
    with pytest.raises(ValueError, match="earlier choice parameter"):
        SearchProblem((Param("y", 0.0, 1.0, when={"kind": ("b",)}),), OBJECTIVES)
    with pytest.raises(ValueError, match="`low` < `high`"):
        Param("x", 1.0, 1.0)
    with pytest.raises(ValueError, match="`log=True`"):
        Param("lr", 0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="'max' or 'min'"):
        Objective("f", "up")


def test_problem_from_dict_and_metric_values() -> None:
    spec = {
        "params": {
            "kind": {"choices": ["a", "b"]},
            "bits": {"low": 2, "high": 8, "integer": True, "when": {"kind": ["b"]}},
        },
        "objectives": {"acc": {"mode": "max", "ref": 0.1}, "mem": {"mode": "min", "ref": 9.0}},
        "constraints": ["drop <= 0.05"],
    }
    problem = SearchProblem.from_dict(spec)
    assert problem.metric_names == ["acc", "mem"] and problem.modes == ["max", "min"]
    assert problem.ref_point == [0.1, 9.0]
    assert problem.constraints == (Constraint("drop", "<=", 0.05),)
    assert problem.constraints[0].violation(0.25) == 0.2
    assert problem.metric_values({"acc": 0.5, "mem": 3, "drop": 0.0}) == {
        "acc": 0.5,
        "mem": 3.0,
        "drop": 0.0,
    }
    assert problem.metric_values({"acc": 0.5, "mem": 3}) is None
    assert problem.metric_values({"acc": math.nan, "mem": 3, "drop": 0.0}) is None
    assert problem.metric_values(None) is None


# ---------------------------------------------------------------- Ax


def test_ax_rejects_more_than_four_objectives() -> None:
    objectives = tuple(Objective(f"f{i}", "max", 0.0) for i in range(5))
    with pytest.raises(ValueError, match="at most 4 objectives"):
        AxMOOSearcher(SearchProblem(PARAMS, objectives))


def test_ax_reference_point_becomes_objective_thresholds() -> None:
    client = ax_client_for(PROBLEM)
    thresholds = client._experiment.optimization_config.objective_thresholds
    assert sorted(str(t) for t in thresholds) == sorted(
        ["OutcomeConstraint(f1 >= 0.0)", "OutcomeConstraint(f2 <= 2.0)"]
    )
    constrained = SearchProblem(PARAMS, OBJECTIVES, (Constraint("drop", "<=", 0.05),))
    config = ax_client_for(constrained, use_thresholds=False)._experiment.optimization_config
    assert config.objective_thresholds == []
    assert [str(c) for c in config.outcome_constraints] == ["OutcomeConstraint(drop <= 0.05)"]


def test_ax_waits_for_data_instead_of_crashing() -> None:
    """More concurrent trials than Sobol's budget: Ax needs data, Tune must wait (None)."""
    searcher = AxMOOSearcher(PROBLEM, seed=0, initialization_budget=2)
    first, second = searcher.suggest("t0"), searcher.suggest("t1")
    assert first is not None and second is not None
    assert searcher.suggest("t2") is None
    searcher.on_trial_complete("t0", toy(first))
    searcher.on_trial_complete("t1", {"f1": 0.0}, error=True)
    # A failed trial does not use up the initialization budget: Ax replaces it.
    assert searcher.suggest("t3") is not None
    assert searcher.client.summarize()["generation_node"].tolist()[-1] == "Sobol"


@pytest.mark.filterwarnings("ignore:Very small noise values")
def test_ax_suggest_fail_save_restore(tmp_path: Path) -> None:
    """8 suggestions: warm start, 2 failures, Sobol to the budget, then twin BO steps."""
    searcher = AxMOOSearcher(
        PROBLEM, points_to_evaluate=[WARM], seed=0, initialization_budget=4, sem=0.0
    )
    assert searcher.metric == ["f1", "f2"] and searcher.mode == ["max", "min"]
    assert searcher.suggest("t0") == WARM
    searcher.on_trial_complete("t0", toy(WARM))
    cfg = searcher.suggest("t1")
    searcher.on_trial_complete("t1", toy(cfg), error=True)
    searcher.suggest("t2")
    searcher.on_trial_complete("t2", {"f1": 0.3})  # f2 missing
    for tid in ("t3", "t4", "t5"):
        cfg = searcher.suggest(tid)
        assert ("y" in cfg) == (cfg["kind"] == "b")
        searcher.on_trial_complete(tid, toy(cfg))

    path = str(tmp_path / "ax.json")
    searcher.save(path)
    restored = AxMOOSearcher(PROBLEM, seed=0)
    restored.restore(path)
    statuses = restored.client.summarize()["trial_status"].tolist()
    assert statuses == ["COMPLETED", "FAILED", "FAILED", "COMPLETED", "COMPLETED", "COMPLETED"]

    a, b = searcher.suggest("t6"), restored.suggest("t6")
    assert a == pytest.approx(b)
    nodes = restored.client.summarize()["generation_node"].tolist()
    assert nodes[-1] == "MBM"
    restored.on_trial_complete("t6", toy(b))
    assert restored.client.summarize()["trial_status"].tolist()[-1] == "COMPLETED"


STALE_LOCK_SEARCH = textwrap.dedent(
    """
    import os
    from torch.utils.cpp_extension import _get_build_directory
    from moo.searchers import AxMOOSearcher
    from tests.moo.test_searchers import PROBLEM, toy

    build = _get_build_directory("logei_fused_ext", verbose=False)
    open(os.path.join(build, "lock"), "w").close()  # left by a killed compile
    searcher = AxMOOSearcher(PROBLEM, seed=0, initialization_budget=2, sem=0.0)
    for tid in ("t0", "t1", "t2"):
        cfg = searcher.suggest(tid)
        searcher.on_trial_complete(tid, toy(cfg))
    assert searcher.suggest("t3") is not None
    print(searcher.client.summarize()["generation_node"].tolist()[-1])
    """
)


@pytest.mark.filterwarnings("ignore:Very small noise values")
def test_ax_model_step_ignores_a_stale_kernel_build_lock(tmp_path: Path) -> None:
    """BoTorch's run-time kernel build waits forever on a lock a killed compile left: it is
    never attempted (the safe build is tested in test_fused_kernel.py)."""
    env = {**os.environ, "TORCH_EXTENSIONS_DIR": str(tmp_path), "RAYOPT_FUSED_KERNEL": "off"}
    done = subprocess.run(
        [sys.executable, "-c", STALE_LOCK_SEARCH],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "MBM"


# ---------------------------------------------------------------- Optuna / random


@pytest.mark.parametrize("sampler", ["nsga2", "tpe", "gp", "random"])
def test_optuna_suggest_fail_save_restore(sampler: str, tmp_path: Path) -> None:
    searcher = make_optuna_searcher(PROBLEM, sampler, seed=0, points_to_evaluate=[WARM])
    assert searcher.suggest("t0") == WARM
    searcher.on_trial_complete("t0", toy(WARM))
    searcher.suggest("t1")
    searcher.on_trial_complete("t1", {"f1": 1.0, "f2": 0.0}, error=True)
    searcher.suggest("t2")
    searcher.on_trial_complete("t2", {"f1": 1.0})  # f2 missing
    searcher.suggest("t3")
    searcher.on_trial_complete("t3", {"f1": 1.0, "f2": math.nan})
    cfg = searcher.suggest("t4")
    assert ("y" in cfg) == (cfg["kind"] == "b")
    searcher.on_trial_complete("t4", toy(cfg))
    states = [t.state.name for t in searcher._ot_study.trials]
    assert states == ["COMPLETE", "FAIL", "FAIL", "FAIL", "COMPLETE"]

    path = str(tmp_path / "optuna.pkl")
    searcher.save(path)
    restored = make_optuna_searcher(PROBLEM, sampler, seed=0)
    restored.restore(path)
    assert restored.suggest("t5") == searcher.suggest("t5")
    assert len(restored._ot_study.trials) == 6


def test_optuna_records_outcome_constraints() -> None:
    problem = SearchProblem(PARAMS, OBJECTIVES, (Constraint("f2", "<=", 0.5),))
    searcher = make_optuna_searcher(problem, "tpe", seed=0, points_to_evaluate=[WARM])
    searcher.suggest("t0")
    searcher.on_trial_complete("t0", toy(WARM))  # f2 = 0.25: satisfied by 0.25
    assert searcher._ot_study.trials[0].constraints == {"f2 <= 0.5": -0.25}


def test_random_searcher_is_seeded_and_unknown_sampler_rejected() -> None:
    a, b = make_random_searcher(PROBLEM, seed=3), make_random_searcher(PROBLEM, seed=3)
    assert [a.suggest(f"t{i}") for i in range(3)] == [b.suggest(f"t{i}") for i in range(3)]
    with pytest.raises(ValueError, match="nsga2, tpe, gp, random"):
        make_optuna_searcher(PROBLEM, "cmaes")  # type: ignore[arg-type]
